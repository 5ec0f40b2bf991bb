//! `application/x-www-form-urlencoded`, written straight into bytes: the same bytes as
//! `url::form_urlencoded::Serializer`, without its byte-by-byte iterator (a batch of 50 is a
//! few kilobytes of JSON to encode, and that iterator was the largest single cost of sending
//! one).

/// Bytes kept as they are: ASCII letters and digits, `*`, `-`, `.`, `_`.
const fn safe_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'*' | b'-' | b'.' | b'_');
        b += 1;
    }
    table
}

/// Each byte's encoding, padded to three bytes, then its length: itself (1), `+` for a space
/// (1), or `%XX` (3). Four bytes, so one load and one store move a byte's encoding.
const fn encodings() -> [[u8; 4]; 256] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let safe = safe_table();
    let mut out = [[0u8; 4]; 256];
    let mut b = 0;
    while b < 256 {
        out[b] = if safe[b] {
            [b as u8, 0, 0, 1]
        } else if b == b' ' as usize {
            [b'+', 0, 0, 1]
        } else {
            [b'%', HEX[b >> 4], HEX[b & 0xF], 3]
        };
        b += 1;
    }
    out
}

static ENCODINGS: [[u8; 4]; 256] = encodings();

/// Bytes a JSON string must escape: `"`, `\\` and the control characters.
const fn json_special_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b < 0x20 || b == b'"' as usize || b == b'\\' as usize;
        b += 1;
    }
    table
}

static JSON_SPECIAL: [bool; 256] = json_special_table();

/// Appends `value` form-encoded: safe bytes as they are, a space as `+`, every other byte as
/// `%XX`. Each byte writes its three-byte encoding into a buffer on the stack and moves on by
/// its length; the buffer goes out in blocks. No branch and no `Vec` push per byte: that
/// bookkeeping was most of the cost of encoding a batch.
pub(crate) fn encode_bytes(out: &mut Vec<u8>, value: &[u8]) {
    encode(out, value);
}

/// [`encode_bytes`] for text that goes in a JSON string: `false`, with `out` as it was, when
/// the text holds a byte JSON escapes (the caller escapes it first).
pub(crate) fn encode_json_plain(out: &mut Vec<u8>, value: &[u8]) -> bool {
    let start = out.len();
    if encode(out, value) {
        out.truncate(start);
        return false;
    }
    true
}

/// The encoder; whether `value` held a byte JSON escapes comes out of the same pass.
fn encode(out: &mut Vec<u8>, value: &[u8]) -> bool {
    let mut buf = [0u8; 256];
    let mut n = 0;
    let mut special = false;
    out.reserve(value.len());
    for &b in value {
        if n > buf.len() - 4 {
            out.extend_from_slice(&buf[..n]);
            n = 0;
        }
        let encoding = &ENCODINGS[usize::from(b)];
        // The fourth byte lands past the encoding; the next one overwrites it.
        buf[n..n + 4].copy_from_slice(encoding);
        n += usize::from(encoding[3]);
        special |= JSON_SPECIAL[usize::from(b)];
    }
    out.extend_from_slice(&buf[..n]);
    special
}

/// Appends `key=value`, after a `&` when `out` already holds a pair.
pub(crate) fn append_pair_bytes(out: &mut Vec<u8>, key: &str, value: &str) {
    if !out.is_empty() {
        out.push(b'&');
    }
    encode_bytes(out, key.as_bytes());
    out.push(b'=');
    encode_bytes(out, value.as_bytes());
}

/// Form-encoded bytes as text. They are ASCII by construction, so the check always passes.
pub(crate) fn into_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn reference(pairs: &[(String, String)]) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            s.append_pair(k, v);
        }
        s.finish()
    }

    #[test]
    fn the_same_bytes_as_the_url_crate() {
        let pairs = [
            ("batch".to_owned(), r#"[{"method":"POST","relative_url":"act_1/assigned_users","body":"user=1&tasks=%5B%22ANALYZE%22%5D"}]"#.to_owned()),
            ("name".to_owned(), "a b+c*d-e.f_g~h é 😀 %".to_owned()),
            (String::new(), String::new()),
        ];
        let mut ours = Vec::new();
        for (k, v) in &pairs {
            append_pair_bytes(&mut ours, k, v);
        }
        assert_eq!(into_text(ours), reference(&pairs));
    }

    proptest! {
        #[test]
        fn any_text_encodes_as_the_url_crate_does(pairs in proptest::collection::vec((".*", ".*"), 0..4)) {
            let mut ours = Vec::new();
            for (k, v) in &pairs {
                append_pair_bytes(&mut ours, k, v);
            }
            prop_assert_eq!(into_text(ours), reference(&pairs));
        }
    }
}

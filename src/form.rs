//! `application/x-www-form-urlencoded`, written straight into a string: the same bytes as
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

static SAFE: [bool; 256] = safe_table();
const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `value` form-encoded: safe runs copied whole, a space as `+`, every other byte as
/// `%XX`.
pub(crate) fn encode_into(out: &mut String, value: &str) {
    let bytes = value.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if SAFE[usize::from(b)] {
            continue;
        }
        // A non-empty `start..i` holds only safe ASCII bytes: char boundaries on both sides.
        if start < i {
            out.push_str(&value[start..i]);
        }
        if b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
        start = i + 1;
    }
    if start < bytes.len() {
        out.push_str(&value[start..]);
    }
}

/// Appends `key=value`, after a `&` when `out` already holds a pair.
pub(crate) fn append_pair(out: &mut String, key: &str, value: &str) {
    if !out.is_empty() {
        out.push('&');
    }
    encode_into(out, key);
    out.push('=');
    encode_into(out, value);
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
        let mut ours = String::new();
        for (k, v) in &pairs {
            append_pair(&mut ours, k, v);
        }
        assert_eq!(ours, reference(&pairs));
    }

    proptest! {
        #[test]
        fn any_text_encodes_as_the_url_crate_does(pairs in proptest::collection::vec((".*", ".*"), 0..4)) {
            let mut ours = String::new();
            for (k, v) in &pairs {
                append_pair(&mut ours, k, v);
            }
            prop_assert_eq!(ours, reference(&pairs));
        }
    }
}

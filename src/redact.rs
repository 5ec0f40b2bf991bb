//! Removing a request's secrets from everything the crate shows: error fields, kept headers,
//! log lines and span fields.
//!
//! A hostile server can echo a secret back in any encoding the request used, so each secret is
//! looked for raw, percent-encoded (upper- and lower-case hex, `+` or `%20` for a space, and
//! encoded twice), and JSON-escaped (`\/`). Text is scrubbed **before** it is cut to an
//! excerpt, so a secret crossing the cut cannot escape as a prefix.
//!
//! A scrubber also holds the client's [`Registry`]: every secret the client was given or saw
//! before this request, which a server may echo as well.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::registry::{Matcher, Registry};

/// What replaces a secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// Shorter values would redact ordinary words; tokens, secrets and proofs are far longer.
pub(crate) const MIN_SECRET_LEN: usize = 8;

/// Response headers an error keeps: diagnostics and rate-limit state, nothing that can carry a
/// credential by design (no `Set-Cookie`, `Location`, `Authorization`, …). Their values are
/// scrubbed as well, since a hostile server can put anything anywhere.
pub(crate) const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "date",
    "retry-after",
    "www-authenticate",
    "x-app-usage",
    "x-ad-account-usage",
    "x-business-use-case-usage",
    "x-fb-trace-id",
    "x-fb-rev",
    "x-fb-debug",
    "x-fb-request-id",
];

/// The secrets of one request, and the text forms they can come back in (built on first use:
/// successful responses never need them).
pub(crate) struct Scrubber<'a> {
    /// A request's secrets: a handful, so kept inline (no allocation per request).
    secrets: smallvec::SmallVec<[&'a str; 8]>,
    /// Secrets that cost something to derive, derived only when text is scrubbed (borrowed: a
    /// batch builds a scrubber per item, and boxing it was an allocation each).
    derived: Option<&'a (dyn Fn() -> Vec<String> + Send + Sync + 'a)>,
    needles: OnceCell<Vec<String>>,
    /// The client's secrets of earlier requests.
    registry: Option<&'a Registry>,
    /// Its automaton, taken on first use.
    matcher: OnceCell<Arc<Matcher>>,
}

impl<'a> Scrubber<'a> {
    pub(crate) fn new(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        Scrubber {
            secrets: secrets.into_iter().collect(),
            derived: None,
            needles: OnceCell::new(),
            registry: None,
            matcher: OnceCell::new(),
        }
    }

    /// Scrubs the secrets of this registry as well (the client's, of earlier requests).
    pub(crate) fn with_registry(mut self, registry: &'a Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    fn matcher(&self) -> Option<(&Registry, &Matcher)> {
        let registry = self.registry?;
        Some((registry, self.matcher.get_or_init(|| registry.matcher())))
    }

    /// Adds secrets computed on first use (a success never computes them).
    pub(crate) fn with_derived(
        mut self,
        derive: &'a (dyn Fn() -> Vec<String> + Send + Sync + 'a),
    ) -> Self {
        self.derived = Some(derive);
        self
    }

    fn needles(&self) -> &[String] {
        self.needles.get_or_init(|| {
            let derived = self.derived.as_ref().map(|f| f()).unwrap_or_default();
            let mut out: Vec<String> = Vec::new();
            for secret in self
                .secrets
                .iter()
                .copied()
                .chain(derived.iter().map(String::as_str))
            {
                if secret.len() < MIN_SECRET_LEN {
                    continue;
                }
                for form in forms(secret) {
                    if !out.contains(&form) {
                        out.push(form);
                    }
                }
            }
            // Longest first: a form that contains another is replaced whole.
            out.sort_by_key(|n| std::cmp::Reverse(n.len()));
            out
        })
    }

    /// The longest form of any secret, in bytes.
    fn longest(&self) -> usize {
        let own = self.needles().first().map_or(0, String::len);
        self.matcher().map_or(own, |(_, m)| own.max(m.longest()))
    }

    /// `s` with every form of every secret replaced.
    pub(crate) fn text<'s>(&self, s: &'s str) -> Cow<'s, str> {
        let mut out = Cow::Borrowed(s);
        for needle in self.needles() {
            if out.contains(needle.as_str()) {
                out = Cow::Owned(out.replace(needle.as_str(), REDACTED));
            }
        }
        if let Some((registry, matcher)) = self.matcher()
            && let Cow::Owned(clean) = registry.text(matcher, &out)
        {
            out = Cow::Owned(clean);
        }
        out
    }

    pub(crate) fn string(&self, s: &mut String) {
        if let Cow::Owned(clean) = self.text(s) {
            *s = clean;
        }
    }

    pub(crate) fn opt(&self, s: &mut Option<String>) {
        if let Some(v) = s {
            self.string(v);
        }
    }

    /// Scrubs every string (and every object key) of a JSON value.
    pub(crate) fn value(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => self.string(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| self.value(i)),
            serde_json::Value::Object(map) => {
                let dirty = map.keys().any(|k| matches!(self.text(k), Cow::Owned(_)));
                if dirty {
                    let old = std::mem::take(map);
                    for (k, val) in old {
                        map.insert(self.text(&k).into_owned(), val);
                    }
                }
                map.values_mut().for_each(|i| self.value(i));
            }
            _ => {}
        }
    }

    /// The start of a body, at most `max_chars` characters, scrubbed before it is cut.
    pub(crate) fn excerpt(&self, body: &[u8], max_chars: usize) -> String {
        // Enough to hold `max_chars` characters of any UTF-8 plus any secret crossing the cut.
        let window = max_chars
            .saturating_mul(4)
            .saturating_add(self.longest().saturating_mul(2));
        let cut_input = body.len() > window;
        let head = &body[..body.len().min(window)];
        let text = String::from_utf8_lossy(head);
        let mut clean = self.text(text.trim()).into_owned();
        if cut_input {
            // A secret that began near the end of the window is in it only in part, and no
            // replacement matched it: drop the tail where such a part can be.
            let keep = clean.len().saturating_sub(self.longest());
            let mut end = keep;
            while !clean.is_char_boundary(end) {
                end -= 1;
            }
            clean.truncate(end);
        }
        crate::error::clip(&clean, max_chars).into_owned()
    }

    /// The headers an error may keep: the allow-listed ones, values scrubbed.
    pub(crate) fn headers(&self, headers: &HeaderMap) -> HeaderMap {
        let mut kept = HeaderMap::new();
        for name in KEPT_HEADERS {
            for value in headers.get_all(*name) {
                let clean = match value.to_str() {
                    Ok(text) => match self.text(text) {
                        Cow::Borrowed(_) => value.clone(),
                        Cow::Owned(clean) => match HeaderValue::try_from(clean) {
                            Ok(v) => v,
                            Err(_) => continue,
                        },
                    },
                    // Bytes that are not text cannot be checked: keep nothing.
                    Err(_) => continue,
                };
                kept.append(HeaderName::from_static(name), clean);
            }
        }
        kept
    }
}

/// The text forms a secret can come back in.
pub(crate) fn forms(secret: &str) -> Vec<String> {
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let pct = form.replace('+', "%20");
    let mut out = vec![
        secret.to_owned(),
        form.clone(),
        lower_hex(&form),
        pct.clone(),
        lower_hex(&pct),
        // Encoded twice: a URL quoted inside a parameter.
        form.replace('%', "%25"),
        lower_hex(&form).replace('%', "%25"),
    ];
    if let Ok(json) = serde_json::to_string(secret) {
        let inner = &json[1..json.len() - 1];
        out.push(inner.to_owned());
        out.push(inner.replace('/', "\\/"));
    }
    out
}

/// Percent escapes in lower-case hex (`%2f`), the rest unchanged.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let esc = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        out.push_str(&esc.to_ascii_lowercase());
        rest = &rest[at + esc.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "EAAB/CANARY+tok=en/42";

    fn scrub() -> Scrubber<'static> {
        Scrubber::new([CANARY])
    }

    #[test]
    fn every_encoding_is_removed() {
        let s = scrub();
        let form: String = url::form_urlencoded::byte_serialize(CANARY.as_bytes()).collect();
        for shown in [
            CANARY.to_owned(),
            form.clone(),
            lower_hex(&form),
            form.replace('%', "%25"),
            CANARY.replace('/', "\\/"),
        ] {
            let text = format!("x={shown}&y=1");
            let out = s.text(&text);
            assert!(!out.contains(&shown), "{out}");
            assert!(out.contains(REDACTED), "{out}");
        }
    }

    #[test]
    fn a_secret_crossing_the_cut_leaves_no_prefix() {
        let s = scrub();
        for pad in 0..60 {
            let body = format!("{}{CANARY}{}", "a".repeat(pad), "b".repeat(500));
            let out = s.excerpt(body.as_bytes(), 40);
            for n in 6..CANARY.len() {
                assert!(!out.contains(&CANARY[..n]), "{pad} {n}: {out}");
            }
        }
        // A secret only partly inside the read window.
        let body = format!("{}{CANARY}", "a".repeat(200 * 4 + 3));
        let out = s.excerpt(body.as_bytes(), 200);
        assert!(!out.contains("EAAB/C"), "{out}");
    }

    #[test]
    fn keys_and_nested_values_are_scrubbed() {
        let mut v = serde_json::json!({CANARY: [CANARY, {"k": CANARY}]});
        scrub().value(&mut v);
        assert!(!v.to_string().contains("CANARY"), "{v}");
    }

    #[test]
    fn headers_keep_an_allow_list_scrubbed() {
        let mut h = HeaderMap::new();
        h.insert("set-cookie", HeaderValue::from_static("s=1"));
        h.insert("x-fb-trace-id", HeaderValue::try_from(CANARY).unwrap());
        h.insert(
            "x-app-usage",
            HeaderValue::from_static("{\"call_count\":1}"),
        );
        let kept = scrub().headers(&h);
        assert!(kept.get("set-cookie").is_none());
        assert_eq!(kept["x-fb-trace-id"], REDACTED);
        assert_eq!(kept["x-app-usage"], "{\"call_count\":1}");
    }

    #[test]
    fn short_values_are_not_treated_as_secrets() {
        assert_eq!(Scrubber::new(["abc"]).text("abc abc"), "abc abc");
    }
}

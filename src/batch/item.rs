//! One call inside a batch, and the `batch` parameter written from the items.

use std::fmt;

use reqwest::Method;

use crate::error::Result;
use crate::request::Request;
use crate::retry::Effect;

/// One call inside a batch.
///
/// ```
/// use meta_business::bulk::BatchItem;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let items = vec![
///     BatchItem::get(&format!("{}/owned_ad_accounts", demo.business_id), &[("fields", "id")])?,
///     BatchItem::get(&format!("{}/owned_pages", demo.business_id), &[("fields", "id")])?,
/// ];
/// let answers = client.batch(items).send().await;
/// assert!(answers.iter().all(Result::is_ok));
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BatchItem {
    pub(super) method: Method,
    relative_url: String,
    body: Option<String>,
    /// Whether the call may go again ([`crate::retry::batch_item_goes_again`]).
    pub(super) effect: Effect,
}

impl fmt::Debug for BatchItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchItem")
            .field("method", &self.method)
            .field("relative_url", &self.relative_url)
            .finish()
    }
}

impl BatchItem {
    /// A GET of `path` (relative to the version, e.g. `"1234/system_users"`) with parameters.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) for a bad path or a reserved parameter (`access_token`, …).
    pub fn get(path: &str, params: &[(&str, &str)]) -> Result<Self> {
        Ok(Self::from_request(&Request::raw(
            Method::GET,
            path,
            params,
        )?))
    }

    /// A POST of form parameters; not re-sent on failure (see [`BatchItem::idempotent`]).
    ///
    /// # Errors
    /// As [`BatchItem::get`].
    pub fn post(path: &str, params: &[(&str, &str)]) -> Result<Self> {
        Ok(Self::from_request(&Request::raw(
            Method::POST,
            path,
            params,
        )?))
    }

    /// A DELETE with parameters.
    ///
    /// # Errors
    /// As [`BatchItem::get`].
    pub fn delete(path: &str, params: &[(&str, &str)]) -> Result<Self> {
        Ok(Self::from_request(&Request::raw(
            Method::DELETE,
            path,
            params,
        )?))
    }

    /// Marks a POST as safe to send again (it sets a state rather than creating something).
    pub fn idempotent(mut self) -> Self {
        self.effect = Effect::Sets;
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path and (for GET/DELETE) query, relative to the version.
    pub fn relative_url(&self) -> &str {
        &self.relative_url
    }

    /// The form-encoded body of a POST item.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }

    pub(crate) fn from_request(req: &Request) -> Self {
        let mut path = Vec::with_capacity(req.segments.iter().map(|s| s.len() + 1).sum());
        for (i, seg) in req.segments.iter().enumerate() {
            if i > 0 {
                path.push(b'/');
            }
            crate::form::encode_bytes(&mut path, seg.as_bytes());
        }
        // Room for the pairs with a few escapes; most bodies need no second allocation.
        let mut encoded = Vec::with_capacity(
            req.params
                .iter()
                .map(|(k, v)| k.len() + v.len() * 2 + 2)
                .sum(),
        );
        for (k, v) in &req.params {
            crate::form::append_pair_bytes(&mut encoded, k, v);
        }
        let (relative_url, body) = if req.method == Method::POST {
            let body = (!encoded.is_empty()).then(|| crate::form::into_text(encoded));
            (crate::form::into_text(path), body)
        } else if encoded.is_empty() {
            (crate::form::into_text(path), None)
        } else {
            path.push(b'?');
            path.extend_from_slice(&encoded);
            (crate::form::into_text(path), None)
        };
        BatchItem {
            method: req.method.clone(),
            relative_url,
            body,
            effect: req.effect,
        }
    }

    pub(super) fn path(&self) -> &str {
        self.relative_url.split('?').next().unwrap_or_default()
    }
}

/// The `batch` parameter's value, form-encoded: the items' JSON array written encoded in one
/// pass. The JSON punctuation is encoded once, as constants; an item's strings are encoded as
/// they are (after JSON escaping, in the rare string that needs it). The same bytes as
/// form-encoding `serde_json`'s text, without building that text first.
pub(super) fn encoded_batch<'a>(items: impl ExactSizeIterator<Item = &'a BatchItem>) -> Vec<u8> {
    // `[`, `{"method":`, `,"relative_url":`, `,"body":`, `}`, `,`, `]`, form-encoded.
    const OPEN: &[u8] = b"%5B";
    const METHOD: &[u8] = b"%7B%22method%22%3A";
    const URL: &[u8] = b"%2C%22relative_url%22%3A";
    const BODY: &[u8] = b"%2C%22body%22%3A";
    const CLOSE_ITEM: &[u8] = b"%7D";
    const COMMA: &[u8] = b"%2C";
    const CLOSE: &[u8] = b"%5D";
    let mut out = Vec::with_capacity(items.len() * 256);
    out.extend_from_slice(OPEN);
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.extend_from_slice(COMMA);
        }
        out.extend_from_slice(METHOD);
        json_string(&mut out, item.method.as_str());
        out.extend_from_slice(URL);
        json_string(&mut out, &item.relative_url);
        if let Some(body) = &item.body {
            out.extend_from_slice(BODY);
            json_string(&mut out, body);
        }
        out.extend_from_slice(CLOSE_ITEM);
    }
    out.extend_from_slice(CLOSE);
    out
}

/// A JSON string, form-encoded: quoted, and escaped as `serde_json` escapes it when it holds a
/// quote, a backslash or a control character.
fn json_string(out: &mut Vec<u8>, s: &str) {
    const QUOTE: &[u8] = b"%22";
    out.extend_from_slice(QUOTE);
    if crate::form::encode_json_plain(out, s.as_bytes()) {
        out.extend_from_slice(QUOTE);
    } else {
        out.truncate(out.len() - QUOTE.len());
        // A `&str` always serializes.
        let json = serde_json::to_string(s).unwrap_or_default();
        crate::form::encode_bytes(out, json.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// One item of the `batch` parameter, as `serde_json` wrote it before.
    #[derive(serde::Serialize)]
    struct WireItem<'a> {
        method: &'a str,
        relative_url: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<&'a str>,
    }

    /// The `batch` value as it was sent before: `serde_json`'s text, form-encoded by `url`.
    fn reference(items: &[BatchItem]) -> String {
        let wire: Vec<WireItem<'_>> = items
            .iter()
            .map(|i| WireItem {
                method: i.method.as_str(),
                relative_url: &i.relative_url,
                body: i.body.as_deref(),
            })
            .collect();
        let json = serde_json::to_string(&wire).unwrap();
        url::form_urlencoded::byte_serialize(json.as_bytes()).collect()
    }

    fn item(method: Method, relative_url: &str, body: Option<&str>) -> BatchItem {
        BatchItem {
            method,
            relative_url: relative_url.to_owned(),
            body: body.map(str::to_owned),
            effect: Effect::Creates,
        }
    }

    #[test]
    fn the_batch_is_encoded_as_its_json_text_would_be() {
        let items = [
            item(
                Method::POST,
                "act_1/assigned_users",
                Some("user=1&tasks=%5B%22ANALYZE%22%5D"),
            ),
            item(Method::GET, "me?fields=id,name", None),
            item(Method::DELETE, "a\"b\\c\u{1}d é 😀/+ %", Some("")),
        ];
        let ours = encoded_batch(items.iter());
        assert_eq!(String::from_utf8(ours).unwrap(), reference(&items));
        assert_eq!(
            String::from_utf8(encoded_batch([].iter())).unwrap(),
            "%5B%5D"
        );
    }

    proptest! {
        #[test]
        fn any_batch_is_encoded_as_its_json_text_would_be(
            raw in proptest::collection::vec((".*", proptest::option::of(".*")), 0..4)
        ) {
            let items: Vec<BatchItem> = raw
                .iter()
                .map(|(url, body)| item(Method::POST, url, body.as_deref()))
                .collect();
            let ours = String::from_utf8(encoded_batch(items.iter())).unwrap();
            prop_assert_eq!(ours, reference(&items));
        }
    }
}

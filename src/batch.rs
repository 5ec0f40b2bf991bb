//! Batch requests: many calls in `POST /` requests of at most 50, one typed result per call.
//!
//! Items keep the caller's order. An item's Graph error is that item's error; a chunk that
//! fails as a whole gives each of its items [`Error::BatchFailed`]; items the server did not
//! execute (`null` in the answer) are sent again in a later round.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::adaptive::{Concurrency, Controller};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::request::Request;

/// The Graph API's limit of calls in one batch request.
pub const MAX_BATCH: usize = 50;

/// Throttles one batch job waits out before its throttled items fail.
const MAX_THROTTLES: u32 = 8;

/// One call inside a batch.
///
/// ```
/// use meta_business::BatchItem;
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
    method: Method,
    relative_url: String,
    body: Option<String>,
    idempotent: bool,
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
    /// [`Error::InvalidInput`] for a bad path or a reserved parameter (`access_token`, …).
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
        self.idempotent = true;
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
            idempotent: req.idempotent,
        }
    }

    fn path(&self) -> &str {
        self.relative_url.split('?').next().unwrap_or_default()
    }
}

/// The `batch` parameter's value, form-encoded: the items' JSON array written encoded in one
/// pass. The JSON punctuation is encoded once, as constants; an item's strings are encoded as
/// they are (after JSON escaping, in the rare string that needs it). The same bytes as
/// form-encoding `serde_json`'s text, without building that text first.
fn encoded_batch<'a>(items: impl ExactSizeIterator<Item = &'a BatchItem>) -> Vec<u8> {
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

/// The answer to one batch item.
///
/// ```
/// use meta_business::{BatchItem, ListPage, NodeRef};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let item = BatchItem::get(&format!("{}/owned_pages", demo.business_id), &[("fields", "id,name")])?;
/// let answer = client.batch([item]).send().await.remove(0)?;
/// let pages: ListPage<NodeRef> = answer.json()?;
/// assert_eq!(pages.data.len(), 2);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BatchResponse {
    /// The item's HTTP status.
    pub status: u16,
    /// The item's headers (when the batch asked for them).
    pub headers: HeaderMap,
    /// The item's body, decoded from the JSON string the batch carries.
    pub body: serde_json::Value,
    path: String,
    method: Method,
}

impl BatchResponse {
    /// The item's method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The item's path, with the version and without the query.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Decodes the body into a type.
    ///
    /// # Errors
    /// [`Error::Decode`] when the body does not match.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.body).map_err(|source| Error::Decode {
            method: self.method.clone(),
            path: self.path.clone(),
            status: self.status,
            json_path: ".".into(),
            snippet: crate::error::clip(&self.body.to_string(), 200).into_owned(),
            source,
        })
    }
}

/// A batch of calls; see [`Client::batch`].
///
/// ```
/// use meta_business::BatchItem;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let items = (0..120).map(|_| BatchItem::get(demo.business_id, &[("fields", "id")]));
/// let items = items.collect::<meta_business::Result<Vec<_>>>()?;
/// // 120 items go as three batch requests of at most 50, two in flight.
/// let answers = client.batch(items).concurrency(2).send().await;
/// assert_eq!(answers.len(), 120);
/// assert_eq!(emulator.requests().len(), 3);
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until `.send().await`"]
pub struct BatchRequest {
    pub(crate) client: Client,
    pub(crate) items: Vec<BatchItem>,
    pub(crate) concurrency: Concurrency,
    pub(crate) include_headers: bool,
    pub(crate) timeout: Option<Duration>,
}

impl fmt::Debug for BatchRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchRequest")
            .field("items", &self.items.len())
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// Reads one item's answer into what the caller of the batch gets.
pub(crate) type ItemDecoder<T> = fn(&Client, &BatchItem, &RawItem) -> Result<T>;

/// Batch's strategy for the retry loop: an attempt is a round over the items not run yet.
struct NullItems<'a, T> {
    batch: &'a BatchRequest,
    decode: ItemDecoder<T>,
    results: Vec<Option<Result<T>>>,
    pending: Vec<usize>,
    control: Controller,
}

impl<T: Send> crate::retry::Attempts for NullItems<'_, T> {
    type Output = ();

    /// An item the server did not run has not happened: sending it again is safe.
    fn idempotent(&self) -> bool {
        true
    }

    async fn attempt(&mut self) -> crate::retry::Step<()> {
        self.batch
            .round(
                self.decode,
                &mut self.results,
                &mut self.pending,
                &mut self.control,
            )
            .await;
        if self.pending.is_empty() {
            return crate::retry::Step::Done(Ok(()));
        }
        tracing::debug!(
            not_executed = self.pending.len(),
            "batch items not executed; sending them again"
        );
        crate::retry::Step::Again(Error::BatchFailed {
            message: format!("{} item(s) not executed", self.pending.len()),
            transient: true,
            source: None,
        })
    }
}

/// One item of a batch's answer, as the server sent it.
#[derive(Deserialize)]
pub(crate) struct RawItem {
    code: u16,
    #[serde(default)]
    headers: Vec<RawHeader>,
    #[serde(default)]
    body: Option<RawBody>,
}

/// An item's body: a JSON string holding the answer, as Meta sends it (read as a string, with
/// no JSON tree built), or, from a server that sends the answer itself, any JSON value.
enum RawBody {
    Text(String),
    /// Meta's answer to a successful write, trimmed (`{"success":true}` or `true`): kept as a
    /// constant, with no copy, since a healthy bulk job has one per item.
    Success(&'static str),
    Value(serde_json::Value),
}

/// The plain success answers, as [`RawBody::Success`] keeps them.
const PLAIN_SUCCESS: [&str; 2] = [r#"{"success":true}"#, "true"];

impl<'de> Deserialize<'de> for RawBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
        use serde_json::Value;

        struct Body;
        impl<'de> serde::de::Visitor<'de> for Body {
            type Value = RawBody;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a batch item's body")
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<RawBody, E> {
                let trimmed = v.trim_ascii();
                Ok(match PLAIN_SUCCESS.iter().find(|s| **s == trimmed) {
                    Some(success) => RawBody::Success(success),
                    None => RawBody::Text(v.to_owned()),
                })
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<RawBody, E> {
                Ok(RawBody::Text(v))
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<RawBody, E> {
                Ok(RawBody::Value(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<RawBody, E> {
                Ok(RawBody::Value(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<RawBody, E> {
                Ok(RawBody::Value(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<RawBody, E> {
                Ok(RawBody::Value(Value::from(v)))
            }
            fn visit_unit<E>(self) -> std::result::Result<RawBody, E> {
                Ok(RawBody::Value(Value::Null))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<RawBody, A::Error> {
                Value::deserialize(MapAccessDeserializer::new(map)).map(RawBody::Value)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> std::result::Result<RawBody, A::Error> {
                Value::deserialize(SeqAccessDeserializer::new(seq)).map(RawBody::Value)
            }
        }
        d.deserialize_any(Body)
    }
}

#[derive(Deserialize)]
struct RawHeader {
    name: String,
    value: String,
}

crate::adaptive::concurrency_setters!(
    BatchRequest,
    fixed: "Exactly this many batch requests of 50 in flight at once (at least 1), whatever the \
            usage headers say. The default is [`Concurrency::Adaptive`].",
    adaptive: "As many batch requests in flight as the usage headers allow, up to `max` (the \
               default, with 16): see [`Concurrency::Adaptive`].",
);

impl BatchRequest {
    crate::macros::setters! {
        /// Asks for each item's headers (`include_headers=true`); off by default, as they are
        /// rarely needed and make the answer larger.
        include_headers = bool;

        /// Per-request timeout for each batch request.
        timeout: Duration;
    }

    /// Sends every item and returns one result per item, in the order given.
    pub async fn send(self) -> Vec<Result<BatchResponse>> {
        self.send_decoded(item_response).await
    }

    /// [`BatchRequest::send`], each answer read by `decode` (bulk reads acknowledgements
    /// straight from the item's text, with no [`BatchResponse`] built).
    pub(crate) async fn send_decoded<T: Send>(self, decode: ItemDecoder<T>) -> Vec<Result<T>> {
        let total = self.items.len();
        // The server answers `null` for an item it did not run: those are sent again, as
        // the client's retry policy allows (at least twice), through the one retry loop.
        let rounds = self.client.retry_policy().attempts().max(2);
        let policy = self.client.retry_policy().max_attempts(rounds);
        let mut unrun = NullItems {
            batch: &self,
            decode,
            results: (0..total).map(|_| None).collect(),
            pending: (0..total).collect(),
            control: Controller::new(self.concurrency),
        };
        let (_, made) = crate::retry::retry(policy, &mut unrun).await;
        let NullItems {
            mut results,
            pending,
            ..
        } = unrun;
        for i in pending {
            results[i] = Some(Err(Error::BatchFailed {
                message: format!("the server did not execute this item in {made} rounds"),
                transient: true,
                source: None,
            }));
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Error::BatchFailed {
                        message: "no answer".into(),
                        transient: true,
                        source: None,
                    })
                })
            })
            .collect()
    }

    /// Sends every pending item once, in batch requests of up to 50 as the controller allows
    /// (a fixed number in flight, or as many as the usage headers allow); keeps as pending those
    /// the server did not run. A throttled request is sent again after the throttle lifts,
    /// when the concurrency is adaptive; with a fixed one its items fail, as before.
    async fn round<T: Send>(
        &self,
        decode: ItemDecoder<T>,
        results: &mut [Option<Result<T>>],
        pending: &mut Vec<usize>,
        control: &mut Controller,
    ) {
        let mut queue: VecDeque<usize> = pending.drain(..).collect();
        let mut in_flight = FuturesUnordered::new();
        let mut calls_in_flight = 0;
        let mut throttles = 0u32;
        loop {
            while !queue.is_empty() {
                let room = control.room(in_flight.len(), calls_in_flight);
                if room == 0 {
                    break;
                }
                let chunk: Vec<usize> = queue.drain(..room.min(queue.len())).collect();
                calls_in_flight += chunk.len();
                in_flight.push(async move {
                    let answer = self.send_chunk(&chunk).await;
                    (chunk, answer)
                });
            }
            let Some((chunk, answer)) = in_flight.next().await else {
                if queue.is_empty() {
                    break;
                }
                let wait = control.saturated();
                tracing::debug!(?wait, "usage at the ceiling; pausing the batch");
                tokio::time::sleep(wait).await;
                continue;
            };
            calls_in_flight -= chunk.len();
            match answer {
                Err(err)
                    if err.is_rate_limited()
                        && control.is_adaptive()
                        && throttles < MAX_THROTTLES =>
                {
                    throttles += 1;
                    let wait = control.throttled(crate::retry::server_hint(&err));
                    tracing::warn!(
                        ?wait,
                        items = chunk.len(),
                        "batch throttled; waiting, then sending it again"
                    );
                    for i in chunk.into_iter().rev() {
                        queue.push_front(i);
                    }
                    tokio::time::sleep(wait).await;
                }
                Err(err) => {
                    control.answered(chunk.len(), self.client.usage_pressure());
                    let transient = err.is_transient();
                    let message = err.to_string();
                    let source = std::sync::Arc::new(err);
                    for i in chunk {
                        results[i] = Some(Err(Error::BatchFailed {
                            message: message.clone(),
                            transient,
                            source: Some(std::sync::Arc::clone(&source)),
                        }));
                    }
                }
                Ok(items) => {
                    control.answered(chunk.len(), self.client.usage_pressure());
                    for (slot, i) in chunk.iter().enumerate() {
                        match items.get(slot) {
                            Some(Some(raw)) => {
                                results[*i] = Some(decode(&self.client, &self.items[*i], raw));
                            }
                            // `null`, or missing: the server did not execute it.
                            _ => pending.push(*i),
                        }
                    }
                }
            }
        }
    }

    async fn send_chunk(&self, chunk: &[usize]) -> Result<Vec<Option<RawItem>>> {
        let batch = encoded_batch(chunk.iter().map(|i| &self.items[*i]));
        let mut req = Request::post([""])
            .param(
                "include_headers",
                if self.include_headers {
                    "true"
                } else {
                    "false"
                },
            )
            .with_timeout(self.timeout);
        req.encoded_param = Some(("batch", batch));
        req.idempotent = chunk.iter().all(|i| self.items[*i].idempotent);
        self.client.execute(req).await
    }
}

impl RawItem {
    /// The item's status.
    pub(crate) fn status(&self) -> u16 {
        self.code
    }

    /// The item's headers (when the batch asked for them), those that are valid HTTP.
    pub(crate) fn header_map(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for h in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(h.name.as_str()),
                HeaderValue::try_from(h.value.as_str()),
            ) {
                headers.append(name, value);
            }
        }
        headers
    }

    /// The answer Meta gives a successful write (`{"success":true}`, or `true`), with a 2xx
    /// status and no headers: an acknowledgement with nothing to decode. Each item of a healthy
    /// bulk job is one of these.
    pub(crate) fn is_plain_success(&self) -> bool {
        (200..300).contains(&self.code)
            && self.headers.is_empty()
            && matches!(&self.body, Some(RawBody::Success(_)))
    }

    /// The item's body as text.
    pub(crate) fn text(&self) -> Cow<'_, str> {
        match &self.body {
            Some(RawBody::Text(s)) => Cow::Borrowed(s),
            Some(RawBody::Success(s)) => Cow::Borrowed(s),
            Some(RawBody::Value(other)) => Cow::Owned(other.to_string()),
            None => Cow::Borrowed(""),
        }
    }
}

/// A batch item's versioned path (`/v26.0/act_1/assigned_users`), written out only when shown.
pub(crate) struct ItemPath<'a>(pub(crate) &'a Client, pub(crate) &'a BatchItem);

impl fmt::Display for ItemPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/{}", self.0.api_version(), self.1.path())
    }
}

/// An item's answer as a [`BatchResponse`]: its body decoded (a Graph error in it is the item's
/// error), its headers, its path.
fn item_response(client: &Client, item: &BatchItem, raw: &RawItem) -> Result<BatchResponse> {
    let headers = raw.header_map();
    let path = ItemPath(client, item).to_string();
    let value: serde_json::Value = client.decode_detached(
        &item.method,
        &path,
        raw.code,
        &headers,
        raw.text().as_bytes(),
    )?;
    Ok(BatchResponse {
        status: raw.code,
        headers,
        body: value,
        path,
        method: item.method.clone(),
    })
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
            idempotent: false,
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

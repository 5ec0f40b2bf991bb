//! A batch's answer: each item as the server sent it, and as the caller gets it.

use std::borrow::Cow;
use std::fmt;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::BatchItem;
use crate::client::Client;
use crate::error::{Error, Result};

/// The answer to one batch item.
///
/// ```
/// use meta_business::NodeRef;
/// use meta_business::bulk::BatchItem;
/// use meta_business::pagination::ListPage;
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
pub(super) fn item_response(
    client: &Client,
    item: &BatchItem,
    raw: &RawItem,
) -> Result<BatchResponse> {
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

//! The Graph error envelope and the two response errors built from what a server sent.

use std::fmt;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Deserializer, Serialize};

use super::Error;

/// A response that was not a Graph API answer; see [`Error::UnexpectedResponse`].
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "unexpected response to {method} {path} (HTTP {status}): {reason}; body starts {snippet:?}"
)]
#[non_exhaustive]
pub struct UnexpectedResponse {
    /// HTTP method.
    pub method: Method,
    /// Request path without the query.
    pub path: String,
    /// HTTP status.
    pub status: u16,
    /// What was wrong with it.
    pub reason: String,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The start of the body, capped and scrubbed of secrets.
    pub snippet: String,
    /// The response headers.
    pub headers: HeaderMap,
}

impl UnexpectedResponse {
    /// A write the server answered with `success: false` (or `false`).
    pub(crate) fn not_acknowledged(
        method: Method,
        path: String,
        status: u16,
        headers: HeaderMap,
    ) -> Error {
        Error::UnexpectedResponse(Box::new(UnexpectedResponse {
            method,
            path,
            status,
            reason: "the server answered success: false".into(),
            content_type: None,
            snippet: String::new(),
            headers,
        }))
    }
}

impl UnexpectedResponse {
    /// A success whose answer is about another object than the one the request named (a
    /// proxy or a bug answering for someone else). Nothing may be done with it, and a write
    /// that got it may or may not have happened ([`Error::outcome_unknown`]).
    pub(crate) fn wrong_object(method: Method, path: String, reason: String) -> Error {
        Error::UnexpectedResponse(Box::new(UnexpectedResponse {
            method,
            path,
            status: 200,
            reason,
            content_type: None,
            snippet: String::new(),
            headers: HeaderMap::new(),
        }))
    }
}

/// A Graph API error: the envelope the server sent, with the HTTP context.
///
/// ```
/// use meta_business::Error;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let err = client.with_token("EAAE-unknown").business(demo.business_id).get().send().await.unwrap_err();
/// if let Error::Api(api) = &err {
///     assert_eq!(api.status, 400);
///     assert_eq!(api.graph.code, Some(190));
///     println!("fbtrace_id for Meta's support: {:?}", api.graph.fbtrace_id);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The `error` object of the response.
    pub graph: GraphError,
    /// HTTP status (often 400, sometimes 200; classify by [`GraphError::code`], not by status).
    pub status: u16,
    /// HTTP method of the request.
    pub method: Method,
    /// Request path, without the query.
    pub path: String,
    /// Response headers (usage headers such as `X-Business-Use-Case-Usage` among them).
    pub headers: HeaderMap,
}

impl ApiError {
    /// The usage headers of the response.
    pub fn usage(&self) -> crate::usage::Usage {
        crate::usage::Usage::from_headers(&self.headers)
    }

    /// What kind of failure this is, read from Meta's error reference (the table in
    /// `src/error/classify.rs`).
    pub fn class(&self) -> super::ErrorClass {
        super::classify::classify(self).0
    }

    /// See [`Error::is_transient`].
    pub fn is_transient(&self) -> bool {
        super::classify::transient(self, self.class())
    }

    /// See [`Error::is_rate_limited`].
    pub fn is_rate_limited(&self) -> bool {
        super::classify::rate_limited(self, self.class())
    }

    /// See [`Error::is_auth`].
    pub fn is_auth(&self) -> bool {
        self.class() == super::ErrorClass::Auth
    }

    /// See [`Error::is_permission`].
    pub fn is_permission(&self) -> bool {
        self.class() == super::ErrorClass::Permission
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = &self.graph;
        f.write_str("Graph API error")?;
        match (g.code, g.error_subcode) {
            (Some(code), Some(sub)) => write!(f, " #{code}/{sub}")?,
            (Some(code), None) => write!(f, " #{code}")?,
            _ => {}
        }
        if let Some(kind) = &g.error_type {
            write!(f, " ({kind})")?;
        }
        write!(f, ": {}", g.message)?;
        if let Some(title) = &g.error_user_title {
            write!(f, " [{title}")?;
            if let Some(msg) = &g.error_user_msg {
                write!(f, ": {msg}")?;
            }
            f.write_str("]")?;
        }
        write!(f, " on {} {} (HTTP {}", self.method, self.path, self.status)?;
        if let Some(trace) = &g.fbtrace_id {
            write!(f, ", fbtrace_id {trace}")?;
        }
        f.write_str(")")?;
        if let Some(hint) = self.hint() {
            write!(f, "; hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The `error` object of a Graph API response, every documented key kept.
///
/// ```
/// use meta_business::Error;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let err = client.with_token("EAAE-unknown").business(demo.business_id).get().send().await.unwrap_err();
/// let graph = &err.api_error().expect("a Graph error").graph;
/// assert_eq!(graph.code, Some(190));
/// assert!(!graph.message.contains("EAAE-unknown")); // scrubbed of the token
/// # let _: Option<&Error> = None;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GraphError {
    /// Developer-facing message.
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: String,
    /// Error type, e.g. `OAuthException`.
    #[serde(rename = "type", default, deserialize_with = "lenient_opt_string")]
    pub error_type: Option<String>,
    /// Error code (see Meta's error-handling guide).
    #[serde(default, deserialize_with = "lenient_opt_i64")]
    pub code: Option<i64>,
    /// Error subcode.
    #[serde(default, deserialize_with = "lenient_opt_i64")]
    pub error_subcode: Option<i64>,
    /// Localized title meant for end users.
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub error_user_title: Option<String>,
    /// Localized message meant for end users.
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub error_user_msg: Option<String>,
    /// Meta's trace id; quote it when asking Meta for support.
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub fbtrace_id: Option<String>,
    /// Whether Meta says retrying may succeed.
    #[serde(default, deserialize_with = "crate::models::lenient_opt_bool")]
    pub is_transient: Option<bool>,
    /// Extra detail such as `blame_field_specs`. Meta sends it either as an object or as a
    /// JSON-encoded string; a string that holds JSON is decoded, any other string is kept as
    /// a JSON string.
    #[serde(default, deserialize_with = "error_data")]
    pub error_data: Option<serde_json::Value>,
}

impl GraphError {
    /// Removes the request's secrets from every string the server sent.
    pub(crate) fn scrub(&mut self, scrub: &crate::redact::Scrubber<'_>) {
        scrub.string(&mut self.message);
        scrub.opt(&mut self.error_type);
        scrub.opt(&mut self.error_user_title);
        scrub.opt(&mut self.error_user_msg);
        scrub.opt(&mut self.fbtrace_id);
        if let Some(data) = self.error_data.as_mut() {
            scrub.value(data);
        }
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(lenient_opt_string(d)?.unwrap_or_default())
}

fn lenient_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    })
}

fn lenient_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn error_data<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => match serde_json::from_str::<serde_json::Value>(&s) {
            Ok(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => Some(v),
            _ => Some(serde_json::Value::String(s)),
        },
        other => Some(other),
    })
}

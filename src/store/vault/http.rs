//! The one way to Vault: a URL under `/v1/`, the Vault token in `X-Vault-Token`, no redirect
//! followed, the answer read within its cap, and every refusal turned into a [`StoreError`]
//! scrubbed of the secrets the request carried.

use std::fmt;

use bytes::Bytes;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::redact::Scrubber;
use crate::response::{ReadError, read_capped};
use crate::store::StoreError;

/// Longest part of Vault's own words kept in an error.
const REASON_CHARS: usize = 200;

/// How the store reaches its Vault.
pub(super) struct Http {
    pub(super) client: reqwest::Client,
    /// The server's address, without `/v1`.
    pub(super) addr: Url,
    pub(super) namespace: Option<String>,
    pub(super) max_response_bytes: usize,
}

/// What Vault answered: its status and its body, read whole.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) body: Bytes,
    /// The Vault token the request carried, to keep out of an error built from the answer.
    pub(super) sent_token: Option<SecretString>,
}

/// Vault's error envelope: `{"errors": ["…"]}`.
#[derive(Deserialize)]
struct Errors {
    #[serde(default)]
    errors: Vec<String>,
}

impl Answer {
    /// Vault's reasons, joined (empty when the body is not Vault's envelope).
    pub(super) fn reasons(&self) -> String {
        serde_json::from_slice::<Errors>(&self.body)
            .map(|e| e.errors.join("; "))
            .unwrap_or_default()
    }

    /// Whether this is Vault refusing a write whose `cas` did not match the key's version.
    pub(super) fn is_cas_mismatch(&self) -> bool {
        self.status == StatusCode::BAD_REQUEST && self.reasons().contains("check-and-set")
    }
}

/// A URL under `/v1/` from path segments, each percent-encoded as one segment.
pub(super) fn url<'s>(addr: &Url, segments: impl IntoIterator<Item = &'s str>) -> Url {
    let mut url = addr.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().push("v1").extend(segments);
    }
    url
}

impl Http {
    /// Sends one request. `secrets` are every secret the request or its answer can hold (the
    /// Vault token is added): none of them is ever in the error.
    pub(super) async fn send(
        &self,
        method: Method,
        url: Url,
        token: Option<&SecretString>,
        body: Option<&serde_json::Value>,
        what: &(dyn fmt::Display + Sync),
        secrets: &[&str],
    ) -> Result<Answer, StoreError> {
        let all = || -> Vec<&str> {
            let mut all = secrets.to_vec();
            all.extend(token.map(|t| t.expose_secret()));
            all
        };
        let mut request = self.client.request(method, url);
        if let Some(token) = token {
            let mut value = reqwest::header::HeaderValue::from_str(token.expose_secret())
                .map_err(|_| StoreError::new("the Vault token is not a valid header value"))?;
            value.set_sensitive(true);
            request = request.header("X-Vault-Token", value);
        }
        if let Some(namespace) = &self.namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body)
                .map_err(|_| StoreError::new(format!("encoding the request for {what}")))?;
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        let mut response = request.send().await.map_err(|e| {
            StoreError::with_source(
                format!("Vault at {} unreachable for {what}", self.host()),
                scrubbed(&all(), e),
            )
        })?;
        let status = response.status();
        if status.is_redirection() {
            return Err(StoreError::new(format!(
                "Vault answered {what} with a redirect (HTTP {}); redirects are not followed \
                 (is this a standby node? give the store the active node's address)",
                status.as_u16()
            )));
        }
        let body = read_capped(&mut response, self.max_response_bytes)
            .await
            .map_err(|e| match e {
                ReadError::TooLarge(limit) => StoreError::new(format!(
                    "Vault's answer to {what} passed {limit} bytes; not read"
                )),
                ReadError::Transport(e) => StoreError::with_source(
                    format!("reading Vault's answer to {what}"),
                    scrubbed(&all(), e),
                ),
            })?;
        Ok(Answer {
            status,
            body,
            sent_token: token.cloned(),
        })
    }

    fn host(&self) -> String {
        match (self.addr.host_str(), self.addr.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            _ => self.addr.to_string(),
        }
    }
}

/// Vault refused `what`: its status and its reasons, scrubbed of `secrets` and cut short.
pub(super) fn refused(
    answer: &Answer,
    what: &(dyn fmt::Display + Sync),
    secrets: &[&str],
) -> StoreError {
    let sent = answer.sent_token.as_ref().map(|t| t.expose_secret());
    let scrub = Scrubber::new(secrets.iter().copied().chain(sent));
    let reasons = answer.reasons();
    let reasons = if reasons.is_empty() {
        scrub.excerpt(&answer.body, REASON_CHARS)
    } else {
        crate::error::clip(&scrub.text(&reasons), REASON_CHARS).into_owned()
    };
    let hint = match answer.status {
        StatusCode::FORBIDDEN => " (the Vault token lacks a capability on this path, or expired)",
        StatusCode::SERVICE_UNAVAILABLE => " (sealed or in standby?)",
        _ => "",
    };
    let mut message = format!(
        "Vault refused {what}: HTTP {}{hint}",
        answer.status.as_u16()
    );
    if !reasons.is_empty() {
        message.push_str(": ");
        message.push_str(&reasons);
    }
    StoreError::new(message)
}

/// A transport error as text, scrubbed: reqwest's errors name the URL, and a hostile proxy
/// can put anything in an error.
fn scrubbed(secrets: &[&str], e: reqwest::Error) -> TransportError {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    let scrub = Scrubber::new(secrets.iter().copied());
    TransportError(scrub.text(&text).into_owned())
}

/// Why a request did not reach Vault or its answer did not come back.
#[derive(Debug)]
struct TransportError(String);

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TransportError {}

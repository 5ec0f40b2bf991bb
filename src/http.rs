//! The one private send path: URL, auth, proof, timeouts, decoding and error mapping.
//!
//! Every request of the crate goes through [`Client::execute`]. The token travels only in
//! `Authorization: Bearer`; `appsecret_proof` is attached here to every request, derived from the
//! token that request carries (the classic form cached per token, the time-stamped one fresh); and every error built here is scrubbed of the token, the app secret
//! and the proof.

use std::borrow::Cow;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::client::{Client, SeenUsage, lock};
use crate::config::ProofMode;
use crate::error::{ApiError, Error, GraphError, Result, UnexpectedResponse};
use crate::redact::Scrubber;
use crate::retry::RetryDecision;
use crate::usage::Usage;

/// Longest body excerpt kept in an error.
const SNIPPET_CHARS: usize = 200;

/// Parameters the client owns; callers may not set them.
const RESERVED_PARAMS: &[&str] = &[
    "access_token",
    "appsecret_proof",
    "appsecret_time",
    "input_token",
    "client_secret",
    "fb_exchange_token",
    "revoke_token",
];

/// One Graph API call, before auth is added.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) segments: Vec<String>,
    pub(crate) params: Vec<(Cow<'static, str>, String)>,
    /// Parameters that are credentials (`input_token`, `client_secret`, …): never in `Debug`,
    /// scrubbed from errors.
    pub(crate) secret_params: Vec<(&'static str, SecretString)>,
    pub(crate) timeout: Option<Duration>,
    /// The response carries a credential: keep no body excerpt in errors.
    pub(crate) sensitive_response: bool,
    /// Re-sending it is safe (GET, DELETE, and POSTs that set a state rather than create).
    pub(crate) idempotent: bool,
}

impl Request {
    pub(crate) fn new(
        method: Method,
        segments: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Request {
            idempotent: method != Method::POST,
            method,
            segments: segments.into_iter().map(Into::into).collect(),
            params: Vec::new(),
            secret_params: Vec::new(),
            timeout: None,
            sensitive_response: false,
        }
    }

    pub(crate) fn get(segments: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self::new(Method::GET, segments)
    }

    pub(crate) fn post(segments: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self::new(Method::POST, segments)
    }

    /// Adds a parameter: in the query for GET and DELETE, in the form body for POST.
    pub(crate) fn param(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.params.push((Cow::Borrowed(key), value.into()));
        self
    }

    /// Adds a parameter that is a credential.
    pub(crate) fn secret_param(mut self, key: &'static str, value: SecretString) -> Self {
        self.secret_params.push((key, value));
        self
    }

    pub(crate) fn delete(segments: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self::new(Method::DELETE, segments)
    }

    /// Marks a POST safe to re-send (it sets a state; it does not create anything).
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    pub(crate) fn sensitive(mut self) -> Self {
        self.sensitive_response = true;
        self
    }

    pub(crate) fn set_param(&mut self, key: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self.params.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.params.push((Cow::Borrowed(key), value)),
        }
    }

    pub(crate) fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// A request from the raw escape hatch, its path and parameter names checked.
    pub(crate) fn raw(method: Method, path: &str, params: &[(&str, &str)]) -> Result<Self> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if segments.is_empty() {
            return Err(Error::invalid_input("path", "must name a node or edge"));
        }
        for seg in &segments {
            let ok = seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                && *seg != "."
                && *seg != "..";
            if !ok {
                return Err(Error::invalid_input(
                    "path",
                    format!(
                        "segment {:?} may hold only letters, digits, `_`, `-` and `.`; pass parameters separately",
                        crate::error::clip(seg, 40)
                    ),
                ));
            }
        }
        let mut req = Request::new(method, segments);
        for (key, value) in params {
            if key.is_empty() {
                return Err(Error::invalid_input("params", "a parameter name is empty"));
            }
            if let Some(reserved) = reserved_param(key) {
                return Err(Error::invalid_input(
                    "params",
                    format!(
                        "`{reserved}` is a credential the client sets itself (the token travels in the Authorization header; use the typed token calls)"
                    ),
                ));
            }
            if !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']'))
            {
                return Err(Error::invalid_input(
                    "params",
                    format!(
                        "parameter name {:?} may hold only letters, digits, `_`, `-`, `.` and brackets",
                        crate::error::clip(key, 40)
                    ),
                ));
            }
            req.params
                .push((Cow::Owned((*key).to_owned()), (*value).to_owned()));
        }
        Ok(req)
    }
}

/// The reserved parameter a caller-supplied name stands for, if any: compared without case,
/// surrounding space or a bracket suffix (`ACCESS_TOKEN`, `access_token `, `access_token[]`
/// all reach a server as `access_token` somewhere).
fn reserved_param(key: &str) -> Option<&'static str> {
    let base = key.trim();
    let base = base.split('[').next().unwrap_or(base).trim();
    RESERVED_PARAMS
        .iter()
        .copied()
        .find(|r| r.eq_ignore_ascii_case(base))
}

/// Rejects a token that cannot travel in an HTTP header.
pub(crate) fn check_token(token: &SecretString) -> Result<()> {
    let raw = token.expose_secret();
    if raw.trim().is_empty() {
        return Err(Error::invalid_input("access_token", "must not be empty"));
    }
    if !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid_input(
            "access_token",
            "must be printable ASCII without spaces (check for a stray newline)",
        ));
    }
    Ok(())
}

/// Rejects an empty app secret, which would yield a proof Meta rejects.
pub(crate) fn check_app_secret(secret: &SecretString) -> Result<()> {
    if secret.expose_secret().trim().is_empty() {
        return Err(Error::invalid_input(
            "app_secret",
            "must not be empty when set",
        ));
    }
    Ok(())
}

/// Scrubs a decoded success value of the request's secrets.
pub(crate) type PostProcess<T> = fn(&mut T, &Scrubber<'_>);

/// What a response was, for the error built from it.
struct ResponseContext<'a> {
    method: &'a Method,
    path: &'a str,
    status: u16,
    headers: &'a HeaderMap,
    sensitive: bool,
}

impl Client {
    /// Sends a request and decodes its JSON answer, retrying as the client's policy allows.
    pub(crate) async fn execute<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        self.execute_with(req, None).await
    }

    /// [`Client::execute`] for an answer that can echo the request's secrets in a success
    /// (`debug_token` about a bad token): `post` scrubs the decoded value.
    pub(crate) async fn execute_scrubbed<T: DeserializeOwned>(
        &self,
        req: Request,
        post: PostProcess<T>,
    ) -> Result<T> {
        self.execute_with(req, Some(post)).await
    }

    async fn execute_with<T: DeserializeOwned>(
        &self,
        req: Request,
        post: Option<PostProcess<T>>,
    ) -> Result<T> {
        let path = self.path_for(&req);
        let span = tracing::debug_span!(
            "graph_request",
            http.request.method = %req.method,
            url.path = %path,
            http.response.status_code = tracing::field::Empty,
            fbtrace_id = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        self.execute_with_retries(&req, &path, post)
            .instrument(span)
            .await
    }

    async fn execute_with_retries<T: DeserializeOwned>(
        &self,
        req: &Request,
        path: &str,
        post: Option<PostProcess<T>>,
    ) -> Result<T> {
        let started = Instant::now();
        let policy = self.shared.retry;
        let mut attempt = 1u32;
        loop {
            self.pace(req).await;
            let result = self.execute_once(req, path, post).await;
            let decision = match &result {
                Ok(_) => RetryDecision::GiveUp,
                Err(err) => policy.decide(
                    attempt,
                    err,
                    req.idempotent,
                    started.elapsed(),
                    fastrand::f64(),
                ),
            };
            match (result, decision) {
                (Err(err), RetryDecision::RetryAfter(wait)) => {
                    tracing::debug!(attempt, ?wait, error = %err, "transient failure; retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                (result, _) => {
                    tracing::Span::current().record("attempts", attempt);
                    if let Err(err) = &result {
                        tracing::debug!(error = %err, "graph request failed");
                    }
                    return result;
                }
            }
        }
    }

    /// Waits before a call when the last usage reported for its business object (or the app)
    /// passed the pacing threshold.
    async fn pace(&self, req: &Request) {
        let Some(pacing) = self.shared.pacing else {
            return;
        };
        let object = req
            .segments
            .first()
            .map(|s| s.strip_prefix("act_").unwrap_or(s).to_owned());
        let wait = {
            let usage = lock(&self.shared.usage);
            let mut wait = usage.app.map_or(Duration::ZERO, |u| pacing.wait_for(u));
            if let Some(seen) = object.as_deref().and_then(|o| usage.objects.get(o)) {
                wait = wait.max(pacing.wait_for(*seen));
            }
            wait
        };
        if !wait.is_zero() {
            tracing::debug!(
                ?wait,
                object = object.as_deref().unwrap_or(""),
                "usage above the pacing threshold; waiting"
            );
            tokio::time::sleep(wait).await;
        }
    }

    fn record_usage(&self, headers: &HeaderMap) {
        if !headers.contains_key("x-app-usage")
            && !headers.contains_key("x-business-use-case-usage")
        {
            return;
        }
        let usage = Usage::from_headers(headers);
        let mut seen = lock(&self.shared.usage);
        let now = Instant::now();
        if let Some(app) = &usage.app {
            seen.app = Some(SeenUsage {
                pct: app.max_pct(),
                regain: Duration::ZERO,
                at: now,
            });
        }
        for (object, entries) in &usage.business_use_case {
            let pct = entries.iter().map(|e| e.max_pct()).fold(0.0, f64::max);
            let regain = entries
                .iter()
                .map(|e| e.regain_access_in())
                .max()
                .unwrap_or_default();
            seen.objects.insert(
                object.clone(),
                SeenUsage {
                    pct,
                    regain,
                    at: now,
                },
            );
        }
        seen.last = Some(usage);
    }

    pub(crate) fn path_for(&self, req: &Request) -> String {
        let mut path = String::with_capacity(64);
        path.push('/');
        path.push_str(self.shared.version.as_str());
        for seg in &req.segments {
            path.push('/');
            path.push_str(seg);
        }
        path
    }

    async fn execute_once<T: DeserializeOwned>(
        &self,
        req: &Request,
        path: &str,
        post: Option<PostProcess<T>>,
    ) -> Result<T> {
        check_token(&self.token)?;
        let mut url = self.shared.base_url.clone();
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|()| Error::invalid_input("base_url", "cannot be a base"))?;
            segs.pop_if_empty().push(self.shared.version.as_str());
            for seg in &req.segments {
                segs.push(seg);
            }
        }

        let proof = self.proof();
        let mut auth = HeaderValue::try_from(format!("Bearer {}", self.token.expose_secret()))
            .map_err(|_| Error::invalid_input("access_token", "cannot travel in an HTTP header"))?;
        auth.set_sensitive(true);

        let is_form = req.method == Method::POST;
        // The serializer is not `Send`; keep it out of the awaits below.
        let encoded = {
            let mut pairs = url::form_urlencoded::Serializer::new(String::new());
            for (key, value) in &req.params {
                pairs.append_pair(key, value);
            }
            for (key, value) in &req.secret_params {
                pairs.append_pair(key, value.expose_secret());
            }
            if let Some((proof, time)) = &proof {
                pairs.append_pair("appsecret_proof", proof.expose_secret());
                if let Some(time) = time {
                    pairs.append_pair("appsecret_time", &time.to_string());
                }
            }
            pairs.finish()
        };

        let mut builder;
        if is_form {
            builder = self
                .shared
                .http
                .request(req.method.clone(), url)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(encoded);
        } else {
            if !encoded.is_empty() {
                url.set_query(Some(&encoded));
            }
            builder = self.shared.http.request(req.method.clone(), url);
        }
        builder = builder
            .header(AUTHORIZATION, auth)
            .header(USER_AGENT, crate::client::USER_AGENT)
            .timeout(req.timeout.unwrap_or(self.shared.timeout));

        let transport = |e: reqwest::Error| Error::Transport {
            method: req.method.clone(),
            path: path.to_owned(),
            source: e.without_url(),
        };
        self.shared
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut response = builder.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());

        let mut secrets = vec![self.token.expose_secret()];
        secrets.extend(self.shared.app_secret.as_ref().map(|s| s.expose_secret()));
        secrets.extend(proof.as_ref().map(|(p, _)| p.expose_secret()));
        secrets.extend(req.secret_params.iter().map(|(_, v)| v.expose_secret()));
        let scrubber = Scrubber::new(secrets);

        self.record_usage(&headers);
        let span = tracing::Span::current();
        span.record("http.response.status_code", status);
        if let Some(trace) = headers.get("x-fb-trace-id").and_then(|v| v.to_str().ok()) {
            span.record("fbtrace_id", scrubber.text(trace).as_ref());
        }
        if (300..400).contains(&status) {
            return Err(redirect_error(
                &req.method,
                path,
                status,
                &headers,
                &scrubber,
            ));
        }
        let body = read_capped(&mut response, self.shared.limits.max_response_bytes)
            .await
            .map_err(|e| match e {
                ReadError::Transport(e) => transport(e),
                ReadError::TooLarge(limit) => Error::ResponseTooLarge {
                    method: req.method.clone(),
                    path: path.to_owned(),
                    status,
                    limit,
                },
            })?;

        let ctx = ResponseContext {
            method: &req.method,
            path,
            status,
            headers: &headers,
            sensitive: req.sensitive_response,
        };
        let result = decode(&ctx, &body, &scrubber);
        match result {
            Ok(mut value) => {
                if let Some(post) = post {
                    post(&mut value, &scrubber);
                }
                Ok(value)
            }
            Err(err) => {
                if let Some(trace) = err.api_error().and_then(|a| a.graph.fbtrace_id.as_deref()) {
                    span.record("fbtrace_id", trace);
                }
                Err(err)
            }
        }
    }

    /// Decodes a response that did not come through [`Client::execute`] (a batch item), with
    /// the same error mapping and scrubbing: the token, the app secret and the proofs the
    /// batch request could have carried.
    pub(crate) fn decode_detached<T: DeserializeOwned>(
        &self,
        method: &Method,
        path: &str,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<T> {
        let proofs = self.recent_proofs();
        let mut secrets = vec![self.token.expose_secret()];
        secrets.extend(self.shared.app_secret.as_ref().map(|s| s.expose_secret()));
        secrets.extend(proofs.iter().map(|p| p.expose_secret()));
        let scrubber = Scrubber::new(secrets);
        let ctx = ResponseContext {
            method,
            path,
            status,
            headers,
            sensitive: false,
        };
        decode(&ctx, body, &scrubber)
    }

    /// Every proof a request of the last few minutes may have carried: the classic one, and in
    /// time-stamped mode one per second of the client's timeout and then some.
    fn recent_proofs(&self) -> Vec<SecretString> {
        let Some(secret) = self.shared.app_secret.as_ref() else {
            return Vec::new();
        };
        let mut out = vec![crate::auth::appsecret_proof(secret, &self.token)];
        if self.shared.proof_mode == ProofMode::TimeStamped {
            let now = unix_now();
            let window = self.shared.timeout.as_secs().saturating_add(10).min(600);
            for t in now.saturating_sub(window)..=now {
                out.push(crate::auth::appsecret_proof_at(secret, &self.token, t));
            }
        }
        out
    }

    fn proof(&self) -> Option<(SecretString, Option<u64>)> {
        let secret = self.shared.app_secret.as_ref()?;
        Some(match self.shared.proof_mode {
            ProofMode::Classic => {
                let proof = self
                    .classic_proof
                    .get_or_init(|| crate::auth::appsecret_proof(secret, &self.token));
                (proof.clone(), None)
            }
            ProofMode::TimeStamped => {
                let now = unix_now();
                (
                    crate::auth::appsecret_proof_at(secret, &self.token, now),
                    Some(now),
                )
            }
        })
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A 3xx answer as an error naming the target's host, never its path or query.
fn redirect_error(
    method: &Method,
    path: &str,
    status: u16,
    headers: &HeaderMap,
    scrub: &Scrubber<'_>,
) -> Error {
    let target_host = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|loc| url::Url::parse(loc.trim()).ok())
        .and_then(|url| url.host_str().map(|h| scrub.text(h).into_owned()));
    tracing::debug!(status, "redirect not followed");
    Error::Redirect {
        method: method.clone(),
        path: path.to_owned(),
        status,
        target_host,
    }
}

enum ReadError {
    Transport(reqwest::Error),
    TooLarge(usize),
}

/// Reads the body, failing as soon as it passes `limit` bytes (the rest is not read).
async fn read_capped(
    response: &mut reqwest::Response,
    limit: usize,
) -> std::result::Result<bytes::Bytes, ReadError> {
    if response
        .content_length()
        .is_some_and(|len| usize::try_from(len).map_or(true, |len| len > limit))
    {
        return Err(ReadError::TooLarge(limit));
    }
    // Most bodies come in one chunk: keep it without copying.
    let Some(first) = response.chunk().await.map_err(ReadError::Transport)? else {
        return Ok(bytes::Bytes::new());
    };
    if first.len() > limit {
        return Err(ReadError::TooLarge(limit));
    }
    let Some(second) = response.chunk().await.map_err(ReadError::Transport)? else {
        return Ok(first);
    };
    let mut body = Vec::with_capacity(first.len().saturating_add(second.len()));
    for chunk in [first, second] {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(ReadError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(ReadError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.into())
}

/// The top-level `error` member, when the body is a JSON object that has one.
#[derive(Deserialize)]
struct ErrorProbe {
    error: Option<serde_json::Value>,
}

fn decode<T: DeserializeOwned>(
    ctx: &ResponseContext<'_>,
    body: &[u8],
    scrub: &Scrubber<'_>,
) -> Result<T> {
    let trimmed = body.trim_ascii();
    let unexpected = |reason: String| {
        Error::UnexpectedResponse(Box::new(UnexpectedResponse {
            method: ctx.method.clone(),
            path: ctx.path.to_owned(),
            status: ctx.status,
            reason,
            content_type: ctx
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|ct| scrub.text(ct).into_owned()),
            snippet: if ctx.sensitive {
                String::new()
            } else {
                scrub.excerpt(trimmed, SNIPPET_CHARS)
            },
            headers: scrub.headers(ctx.headers),
        }))
    };
    if trimmed.is_empty() {
        return Err(unexpected("the body is empty".into()));
    }

    // The envelope can come with any status, 200 included; only look when the key is there.
    if memchr::memmem::find(trimmed, b"\"error\"").is_some()
        && let Ok(ErrorProbe { error: Some(raw) }) = serde_json::from_slice::<ErrorProbe>(trimmed)
    {
        let mut graph = match raw {
            serde_json::Value::Object(_) => {
                serde_json::from_value::<GraphError>(raw).unwrap_or_default()
            }
            serde_json::Value::String(message) => GraphError {
                message,
                ..Default::default()
            },
            other => GraphError {
                message: other.to_string(),
                ..Default::default()
            },
        };
        graph.scrub(scrub);
        return Err(Error::Api(Box::new(ApiError {
            graph,
            status: ctx.status,
            method: ctx.method.clone(),
            path: ctx.path.to_owned(),
            headers: scrub.headers(ctx.headers),
        })));
    }

    let looks_like_html = trimmed.first() == Some(&b'<')
        || ctx
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("html"));
    if looks_like_html {
        return Err(unexpected(
            "an HTML page instead of a Graph API response".into(),
        ));
    }
    if !(200..300).contains(&ctx.status) {
        return Err(unexpected(format!(
            "HTTP {} without a Graph error envelope",
            ctx.status
        )));
    }
    let starts_like_json = matches!(
        trimmed.first(),
        Some(b'{' | b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9')
    );
    if !starts_like_json {
        return Err(unexpected("a body that is not JSON".into()));
    }

    // The fast path; path tracking only runs again when decoding failed, for the message.
    if let Ok(value) = serde_json::from_slice::<T>(trimmed) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(trimmed);
    let decoded = serde_path_to_error::deserialize::<_, T>(&mut de)
        .map_err(|err| (err.path().to_string(), err.into_inner()))
        .and_then(|v| de.end().map(|()| v).map_err(|e| (".".to_owned(), e)));
    decoded.map_err(|(json_path, inner)| {
        // serde's message quotes the offending value, which may be a credential.
        let source = if ctx.sensitive {
            <serde_json::Error as serde::de::Error>::custom(format!(
                "{:?} error at line {} column {}",
                inner.classify(),
                inner.line(),
                inner.column()
            ))
        } else {
            let message = inner.to_string();
            match scrub.text(&message) {
                Cow::Borrowed(_) => inner,
                Cow::Owned(scrubbed) => <serde_json::Error as serde::de::Error>::custom(scrubbed),
            }
        };
        Error::Decode {
            method: ctx.method.clone(),
            path: ctx.path.to_owned(),
            status: ctx.status,
            // Object keys come from the server too.
            json_path: scrub.text(&json_path).into_owned(),
            snippet: if ctx.sensitive {
                String::new()
            } else {
                scrub.excerpt(trimmed, SNIPPET_CHARS)
            },
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(status: u16, headers: &'a HeaderMap) -> ResponseContext<'a> {
        ResponseContext {
            method: &Method::GET,
            path: "/v26.0/x",
            status,
            headers,
            sensitive: false,
        }
    }

    fn no_secrets() -> Scrubber<'static> {
        Scrubber::new([])
    }

    #[derive(Debug, Deserialize)]
    struct Thing {
        #[allow(dead_code)]
        id: String,
    }

    #[test]
    fn error_in_200_is_an_error() {
        let h = HeaderMap::new();
        let err = decode::<Thing>(
            &ctx(200, &h),
            br#"{"error":{"message":"m","code":100}}"#,
            &no_secrets(),
        )
        .unwrap_err();
        assert_eq!(err.code(), Some(100));
    }

    #[test]
    fn non_json_bodies_are_typed() {
        let h = HeaderMap::new();
        for (status, body, needle) in [
            (502, &b"<html><body>Bad Gateway</body></html>"[..], "HTML"),
            (200, &b"   "[..], "empty"),
            (200, &b"Service Unavailable"[..], "not JSON"),
            (503, &b"{}"[..], "without a Graph error"),
        ] {
            let err = decode::<Thing>(&ctx(status, &h), body, &no_secrets()).unwrap_err();
            assert!(matches!(err, Error::UnexpectedResponse(_)), "{err}");
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[test]
    fn truncated_json_is_a_decode_error_with_path() {
        let h = HeaderMap::new();
        let err = decode::<Vec<Thing>>(&ctx(200, &h), br#"[{"id":"1"},{"id":2"#, &no_secrets())
            .unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        let err = decode::<Vec<Thing>>(&ctx(200, &h), br#"[{"id":"1"},{"id":2}]"#, &no_secrets())
            .unwrap_err();
        match err {
            Error::Decode { json_path, .. } => assert_eq!(json_path, "[1].id"),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn secrets_are_scrubbed_from_errors() {
        let h = HeaderMap::new();
        let scrub = Scrubber::new(["CANARYTOKEN123"]);
        let err = decode::<Thing>(
            &ctx(400, &h),
            br#"{"error":{"message":"bad token CANARYTOKEN123","error_data":{"t":"CANARYTOKEN123"}}}"#,
            &scrub,
        )
        .unwrap_err();
        assert!(!format!("{err} {err:?}").contains("CANARYTOKEN123"));
        let err = decode::<Thing>(&ctx(500, &h), b"<p>CANARYTOKEN123</p>", &scrub).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("CANARYTOKEN123"));
    }

    proptest::proptest! {
        #[test]
        fn decoding_any_bytes_never_panics(
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
            status in 100u16..600,
            html in proptest::bool::ANY,
        ) {
            let mut h = HeaderMap::new();
            if html {
                h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
            }
            let scrub = Scrubber::new(["secret-token-123"]);
            let _ = decode::<serde_json::Value>(&ctx(status, &h), &body, &scrub);
            let _ = decode::<crate::pagination::Page<crate::models::system_user::SystemUser>>(&ctx(status, &h), &body, &scrub);
            let _ = decode::<crate::models::token::TokenInfo>(&ctx(status, &h), &body, &scrub);
        }

        #[test]
        fn a_secret_anywhere_in_a_body_is_never_shown(
            prefix in "\\PC{0,400}",
            suffix in "\\PC{0,100}",
            status in 100u16..600,
            envelope in proptest::bool::ANY,
        ) {
            const SECRET: &str = "EAAB/Prop+Secret=Token/7";
            let form: String = url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
            for shown in [SECRET.to_owned(), form, SECRET.replace('/', "\\/")] {
                let body = if envelope {
                    format!(r#"{{"error":{{"message":"{prefix}{shown}{suffix}","type":"{shown}","fbtrace_id":"{shown}"}}}}"#)
                } else {
                    format!("{prefix}{shown}{suffix}")
                };
                let mut h = HeaderMap::new();
                if let Ok(v) = HeaderValue::from_str(&shown) {
                    h.insert(CONTENT_TYPE, v.clone());
                    h.insert("x-fb-debug", v);
                }
                let scrub = Scrubber::new([SECRET]);
                for err in [
                    decode::<serde_json::Value>(&ctx(status, &h), body.as_bytes(), &scrub).err(),
                    decode::<crate::pagination::Page<crate::models::system_user::SystemUser>>(&ctx(status, &h), body.as_bytes(), &scrub).err(),
                ].into_iter().flatten() {
                    let mut text = format!("{err} {err:?}");
                    let mut source = std::error::Error::source(&err);
                    while let Some(s) = source {
                        text.push_str(&format!("{s} {s:?}"));
                        source = s.source();
                    }
                    for needle in [&shown[..10], SECRET] {
                        proptest::prop_assert!(!text.contains(needle), "{} in {}", needle, text);
                    }
                }
            }
        }

        #[test]
        fn decoding_json_shaped_noise_never_panics(body in r#"\{("(error|data|paging|id|code)":(\{|\[|"x"|1|null|true),?){0,6}"#) {
            let h = HeaderMap::new();
            let scrub = Scrubber::new([]);
            let _ = decode::<crate::pagination::Page<crate::models::business::Business>>(&ctx(200, &h), body.as_bytes(), &scrub);
            let _ = decode::<serde_json::Value>(&ctx(400, &h), body.as_bytes(), &scrub);
        }
    }

    #[test]
    fn raw_paths_are_checked() {
        assert!(Request::raw(Method::GET, "me/businesses", &[]).is_ok());
        assert!(Request::raw(Method::GET, "/act_1/assigned_users/", &[("business", "1")]).is_ok());
        for bad in ["", "/", "me?access_token=x", "a/../b", "a b", "me#x", "%2e"] {
            assert!(Request::raw(Method::GET, bad, &[]).is_err(), "{bad}");
        }
        let err = Request::raw(Method::GET, "me", &[("access_token", "x")]).unwrap_err();
        assert!(err.to_string().contains("access_token"));
    }
}

/// Entry points for `cargo fuzz` (built only with `--cfg fuzzing`, which cargo-fuzz sets).
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// A secret the fuzzed body may quote; no error may show it.
    pub const SECRET: &str = "EAAB/Fuzz+Secret=Token/42";

    /// Decodes `body` as every shape the crate reads, and checks that no error shows the
    /// secret in any form the scrubber knows.
    pub fn decode_response(status: u16, content_type: Option<&str>, body: &[u8]) {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(c).ok()) {
            headers.insert(CONTENT_TYPE, ct);
        }
        if let Ok(v) = HeaderValue::from_bytes(body) {
            headers.insert("x-fb-trace-id", v);
        }
        let ctx = ResponseContext {
            method: &Method::GET,
            path: "/v26.0/fuzz",
            status,
            headers: &headers,
            sensitive: false,
        };
        let scrub = Scrubber::new([SECRET]);
        let check = |err: Error| {
            let mut text = format!("{err} {err:?}");
            let mut source = std::error::Error::source(&err);
            while let Some(s) = source {
                text.push_str(&format!("{s} {s:?}"));
                source = s.source();
            }
            assert!(!text.contains(SECRET), "secret shown: {text}");
        };
        if let Err(e) = decode::<serde_json::Value>(&ctx, body, &scrub) {
            check(e);
        }
        type Users = crate::pagination::Page<crate::models::system_user::SystemUser>;
        if let Err(e) = decode::<Users>(&ctx, body, &scrub) {
            check(e);
        }
        if let Err(e) = decode::<crate::models::token::TokenInfo>(&ctx, body, &scrub) {
            check(e);
        }
        if let Err(e) = decode::<std::collections::HashMap<String, u64>>(&ctx, body, &scrub) {
            check(e);
        }
    }
}

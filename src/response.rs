//! From a response to a typed value or a typed error: redirects refused, the body read within
//! its cap, the Graph error envelope recognized whatever the status, and everything shown
//! scrubbed of the request's secrets.

use std::borrow::Cow;

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error, GraphError, Result, UnexpectedResponse};
use crate::redact::Scrubber;

/// Longest body excerpt kept in an error.
const SNIPPET_CHARS: usize = 200;

/// What a response was, for the error built from it.
pub(crate) struct ResponseContext<'a> {
    pub(crate) method: &'a Method,
    /// The versioned path, written out only when an error needs it.
    pub(crate) path: &'a dyn std::fmt::Display,
    pub(crate) status: u16,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) sensitive: bool,
}

/// A 3xx answer as an error naming the target's host, never its path or query.
pub(crate) fn redirect_error(
    method: &Method,
    path: &dyn std::fmt::Display,
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
        path: path.to_string(),
        status,
        target_host,
    }
}

/// Why a body could not be read.
pub(crate) enum ReadError {
    /// The connection failed while reading.
    Transport(reqwest::Error),
    /// The body passed this many bytes.
    TooLarge(usize),
}

/// Reads the body, failing as soon as it passes `limit` bytes (the rest is not read).
pub(crate) async fn read_capped(
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
    body.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(ReadError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
        next = response.chunk().await.map_err(ReadError::Transport)?;
    }
    Ok(body.into())
}

/// The Graph error envelope, every string the server sent scrubbed.
fn graph_error(ctx: &ResponseContext<'_>, raw: serde_json::Value, scrub: &Scrubber<'_>) -> Error {
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
    Error::Api(Box::new(ApiError {
        graph,
        status: ctx.status,
        method: ctx.method.clone(),
        path: ctx.path.to_string(),
        headers: scrub.headers(ctx.headers),
    }))
}

/// A body that is JSON-like but not the expected shape: where decoding failed, and the
/// decoder's message scrubbed (serde quotes the offending value, which may be a credential).
fn decode_failure(
    ctx: &ResponseContext<'_>,
    trimmed: &[u8],
    scrub: &Scrubber<'_>,
    json_path: String,
    inner: serde_json::Error,
) -> Error {
    // An id refused for its form may be a credential no scrubber knows: no body excerpt then.
    let id_refused = crate::ids::is_id_refusal(&inner.to_string());
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
        path: ctx.path.to_string(),
        status: ctx.status,
        // Object keys come from the server too.
        json_path: scrub.text(&json_path).into_owned(),
        snippet: if ctx.sensitive || id_refused {
            String::new()
        } else {
            scrub.excerpt(trimmed, SNIPPET_CHARS)
        },
        source,
    }
}

/// A searcher for `"error"`, built once: building one per response is measurable.
fn error_key() -> &'static memchr::memmem::Finder<'static> {
    static FINDER: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    FINDER.get_or_init(|| memchr::memmem::Finder::new(b"\"error\""))
}

/// The top-level `error` member, when the body is a JSON object that has one.
#[derive(Deserialize)]
struct ErrorProbe {
    error: Option<serde_json::Value>,
}

pub(crate) fn decode<T: DeserializeOwned>(
    ctx: &ResponseContext<'_>,
    body: &[u8],
    scrub: &Scrubber<'_>,
) -> Result<T> {
    let trimmed = body.trim_ascii();
    let unexpected = |reason: String| {
        Error::UnexpectedResponse(Box::new(UnexpectedResponse {
            method: ctx.method.clone(),
            path: ctx.path.to_string(),
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
    if error_key().find(trimmed).is_some()
        && let Ok(ErrorProbe { error: Some(raw) }) = serde_json::from_slice::<ErrorProbe>(trimmed)
    {
        return Err(graph_error(ctx, raw, scrub));
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
    decoded.map_err(|(json_path, inner)| decode_failure(ctx, trimmed, scrub, json_path, inner))
}

/// Decodes an answer that carries credentials (a minted or refreshed token, Page tokens):
/// each `access_token` in it is registered as handed out; every other string is scrubbed of
/// the registry's secrets, those tokens included. The tokens themselves are never scrubbed.
///
/// A token that is (or holds) a secret the client was given (its token, an app secret, a
/// proof, a token passed to it) is an echo, not a token: taken, the echoed secret would be
/// stored as a new token. That answer is an error whose outcome is unknown (the server may
/// have minted a token). A token the server handed out before may come back as it is
/// (`fetch_only` answers the existing token).
pub(crate) fn decode_sensitive<T: DeserializeOwned>(
    ctx: &ResponseContext<'_>,
    body: &[u8],
    scrub: &Scrubber<'_>,
    registry: &crate::registry::Registry,
) -> Result<T> {
    let mut value: serde_json::Value = decode(ctx, body, scrub)?;
    let mut tokens = Vec::new();
    collect_tokens(&value, &mut tokens);
    let echo = |t: &String| matches!(scrub.text(t), Cow::Owned(_)) && !registry.was_handed_out(t);
    if tokens.iter().any(echo) {
        return Err(Error::UnexpectedResponse(Box::new(UnexpectedResponse {
            method: ctx.method.clone(),
            path: ctx.path.to_string(),
            status: ctx.status,
            reason: "its access_token is, or holds, a secret this client was given (its token, an app secret, a proof, a token passed to it): a server echoing what it saw; it was not taken, and a token may have been minted, so the outcome is unknown".into(),
            content_type: None,
            snippet: String::new(),
            headers: scrub.headers(ctx.headers),
        })));
    }
    for token in &tokens {
        registry.handed_out(token);
    }
    let matcher = registry.matcher();
    scrub_but_tokens(&mut value, &|s: &str| {
        let own = scrub.text(s);
        match registry.text(&matcher, &own) {
            Cow::Borrowed(_) => (matches!(own, Cow::Owned(_))).then(|| own.into_owned()),
            Cow::Owned(clean) => Some(clean),
        }
    });
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
        let json_path = err.path().to_string();
        decode_failure(ctx, b"", scrub, json_path, err.into_inner())
    })
}

/// Every `access_token` string of `v`, at any depth.
fn collect_tokens(v: &serde_json::Value, tokens: &mut Vec<String>) {
    use serde_json::Value;
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect_tokens(i, tokens)),
        Value::Object(map) => {
            for (k, val) in map {
                match val {
                    Value::String(token) if k == "access_token" => tokens.push(token.clone()),
                    other => collect_tokens(other, tokens),
                }
            }
        }
        _ => {}
    }
}

/// Scrubs every string and key of `v` but the `access_token` values; `clean` answers the
/// scrubbed text, `None` when there was nothing to remove.
fn scrub_but_tokens(v: &mut serde_json::Value, clean: &dyn Fn(&str) -> Option<String>) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            if let Some(c) = clean(s) {
                *s = c;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| scrub_but_tokens(i, clean)),
        Value::Object(map) => {
            if map.keys().any(|k| clean(k).is_some()) {
                let old = std::mem::take(map);
                for (k, val) in old {
                    map.insert(clean(&k).unwrap_or(k), val);
                }
            }
            for (k, val) in map.iter_mut() {
                if !(k == "access_token" && val.is_string()) {
                    scrub_but_tokens(val, clean);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn ctx<'a>(status: u16, headers: &'a HeaderMap) -> ResponseContext<'a> {
        ResponseContext {
            method: &Method::GET,
            path: &"/v26.0/x",
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
            let _ = decode::<crate::pagination::ListPage<crate::models::system_user::SystemUser>>(&ctx(status, &h), &body, &scrub);
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
                    decode::<crate::pagination::ListPage<crate::models::system_user::SystemUser>>(&ctx(status, &h), body.as_bytes(), &scrub).err(),
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
            let _ = decode::<crate::pagination::ListPage<crate::models::business::Business>>(&ctx(200, &h), body.as_bytes(), &scrub);
            let _ = decode::<serde_json::Value>(&ctx(400, &h), body.as_bytes(), &scrub);
        }
    }
}

/// Entry points for `cargo fuzz` (built only with `--cfg fuzzing`, which cargo-fuzz sets).
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use reqwest::header::HeaderValue;

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
            path: &"/v26.0/fuzz",
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
        type Users = crate::pagination::ListPage<crate::models::system_user::SystemUser>;
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

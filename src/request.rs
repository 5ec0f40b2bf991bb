//! One Graph API call before auth is added, and the checks on what a caller may put in it.

use std::borrow::Cow;
use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::retry::Effect;

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

/// A path: a node and an edge at most, in almost every call (kept inline; a constant edge name
/// is borrowed).
pub(crate) type Segments = smallvec::SmallVec<[Cow<'static, str>; 2]>;

/// Parameters: a few in almost every call (kept inline).
pub(crate) type Params = smallvec::SmallVec<[(Cow<'static, str>, Cow<'static, str>); 4]>;

/// One Graph API call, before auth is added.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) segments: Segments,
    pub(crate) params: Params,
    /// Parameters that are credentials (`input_token`, `client_secret`, …): never in `Debug`,
    /// scrubbed from errors.
    pub(crate) secret_params: Vec<(&'static str, SecretString)>,
    pub(crate) timeout: Option<Duration>,
    /// The response carries a credential: keep no body excerpt in errors.
    pub(crate) sensitive_response: bool,
    /// What the request does to the server's state, which decides whether it may be sent
    /// again ([`crate::retry`]): reads and writes that set a state may, creates and mints
    /// may not.
    pub(crate) effect: Effect,
    /// A POST parameter whose value is form-encoded already (a batch's items, written encoded
    /// in one pass): it goes first in the body, as it is.
    pub(crate) encoded_param: Option<(&'static str, Vec<u8>)>,
}

impl Request {
    pub(crate) fn new(
        method: Method,
        segments: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Request {
            effect: Effect::of_method(&method),
            method,
            segments: segments.into_iter().map(|s| Cow::Owned(s.into())).collect(),
            params: Params::new(),
            secret_params: Vec::new(),
            encoded_param: None,
            timeout: None,
            sensitive_response: false,
        }
    }

    /// The `Debug` of a builder that wraps this request: what it would call (method, path,
    /// parameters), not its credentials or its client.
    pub(crate) fn debug_as(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(name)
            .field("method", &self.method)
            .field("segments", &self.segments)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }

    pub(crate) fn get(segments: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self::new(Method::GET, segments)
    }

    pub(crate) fn post(segments: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self::new(Method::POST, segments)
    }

    /// `{node}/{edge}`, the edge a constant (no copy of its name).
    pub(crate) fn edge(method: Method, node: impl Into<String>, edge: &'static str) -> Self {
        let mut req = Self::new(method, [node]);
        req.segments.push(Cow::Borrowed(edge));
        req
    }

    /// Adds a parameter: in the query for GET and DELETE, in the form body for POST.
    pub(crate) fn param(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.params
            .push((Cow::Borrowed(key), Cow::Owned(value.into())));
        self
    }

    /// Adds a parameter whose value is a constant (a field list): nothing to allocate.
    pub(crate) fn static_param(mut self, key: &'static str, value: &'static str) -> Self {
        self.params.push((Cow::Borrowed(key), Cow::Borrowed(value)));
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

    /// Marks a POST that sets a state (it creates nothing): safe to re-send.
    pub(crate) fn idempotent(self) -> Self {
        self.with_effect(Effect::Sets)
    }

    /// Marks a request that creates something (a GET that mints a token, say): never re-sent
    /// once it may have reached the server.
    pub(crate) fn creates(self) -> Self {
        self.with_effect(Effect::Creates)
    }

    pub(crate) fn with_effect(mut self, effect: Effect) -> Self {
        self.effect = effect;
        self
    }

    pub(crate) fn sensitive(mut self) -> Self {
        self.sensitive_response = true;
        self
    }

    pub(crate) fn set_param(&mut self, key: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self.params.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = Cow::Owned(value),
            None => self.params.push((Cow::Borrowed(key), Cow::Owned(value))),
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
            req.params.push((
                Cow::Owned((*key).to_owned()),
                Cow::Owned((*value).to_owned()),
            ));
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

#[cfg(test)]
mod tests {
    use super::*;

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

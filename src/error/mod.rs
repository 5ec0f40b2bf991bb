//! The crate's one error type, the Graph error envelope, and the classification predicates.

use std::borrow::Cow;

use reqwest::Method;

use crate::config::{AccessTier, SystemUserKind};
use crate::ids::BusinessId;

mod classify;
mod graph;
mod hint;

pub use classify::ErrorClass;
pub use graph::{ApiError, GraphError, UnexpectedResponse};
pub use hint::ErrorHint;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, from bad input to a Graph error.
///
/// No variant's `Display` or `Debug` contains the access token, the app secret or an
/// `appsecret_proof`: messages and body snippets are scrubbed of them before the error is
/// built, and URLs (which may carry a proof) are never kept.
///
/// ```
/// use meta_business::{Error, ErrorHint};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let users = client.business(demo.business_id).system_users();
/// users.create("ads-reporting").send().await?;
/// match users.create("crm-sync-eu").send().await {
///     Ok(su) => println!("created {}", su.id),
///     // Checked before the call: the demo business is on the Limited tier.
///     Err(Error::QuotaExceeded { limit, existing, .. }) => {
///         assert_eq!((limit, existing), (1, 1));
///     }
///     Err(err) if err.hint() == Some(ErrorHint::RateLimited) => println!("later: {err}"),
///     Err(err) if err.outcome_unknown() => println!("may have been created; list to see: {err}"),
///     Err(err) => return Err(err),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Graph API answered with an error envelope (`{"error": {...}}`), whatever the HTTP
    /// status, including a 200.
    #[error(transparent)]
    Api(Box<ApiError>),

    /// The request could not be sent or its response could not be read: DNS, connect, TLS,
    /// timeout, reset connection.
    #[error(
        "{method} {path} to {base_url} failed after {attempts} attempt{}: {}",
        if *attempts == 1 { "" } else { "s" },
        transport_cause(source)
    )]
    Transport {
        /// HTTP method.
        method: Method,
        /// Request path without the query.
        path: String,
        /// The server's host and port (`graph.facebook.com:443`).
        host: String,
        /// The client's base URL: no secret, as the builder refuses credentials or a query.
        base_url: String,
        /// How many attempts were made before giving up.
        attempts: u32,
        /// The underlying error, with its URL removed.
        #[source]
        source: reqwest::Error,
    },

    /// The body was JSON-like but did not match the expected shape.
    #[error(
        "could not decode the response to {method} {path} (HTTP {status}) at `{json_path}`: {source}; body starts {snippet:?}"
    )]
    Decode {
        /// HTTP method.
        method: Method,
        /// Request path without the query.
        path: String,
        /// HTTP status.
        status: u16,
        /// Where in the JSON document decoding failed (`data[3].id`, or `.` for the root).
        json_path: String,
        /// The start of the body, capped and scrubbed of secrets (empty when the response
        /// carries a credential).
        snippet: String,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },

    /// The response was not a Graph API answer at all: an HTML error page, an empty body, a
    /// non-JSON body, or a non-2xx status without an error envelope.
    #[error(transparent)]
    UnexpectedResponse(Box<UnexpectedResponse>),

    /// An argument was rejected before any request was sent.
    #[error("invalid input `{field}`: {reason}")]
    InvalidInput {
        /// The argument or field at fault.
        field: Cow<'static, str>,
        /// Why it was rejected.
        reason: String,
    },

    /// Creating the system user would exceed the business's system-user quota; nothing was
    /// sent.
    #[error(
        "system-user quota exceeded for business {business}: {existing} {role} system user(s) exist and the limit is {limit}{}; nothing was sent. {}",
        tier.map(|t| format!(" for the {t} access tier")).unwrap_or_else(|| " (custom quota)".to_owned()),
        quota_remedy(*tier)
    )]
    QuotaExceeded {
        /// The business.
        business: BusinessId,
        /// The configured access tier, or `None` when a custom quota is set.
        tier: Option<AccessTier>,
        /// The kind of system user that did not fit.
        role: SystemUserKind,
        /// The limit for that kind.
        limit: u32,
        /// How many of that kind exist already.
        existing: u32,
    },

    /// Paging stopped because the server's cursors made no progress.
    #[error("paging {path} stopped: {reason}")]
    Pagination {
        /// The list's path.
        path: String,
        /// What went wrong (a repeated cursor, a missing one).
        reason: String,
    },

    /// The Graph API has no such operation for this kind of asset (e.g. removing a pixel
    /// assignment); nothing was sent.
    #[error("{operation} is not supported: {reason}")]
    Unsupported {
        /// What was asked.
        operation: &'static str,
        /// Why it cannot be done, and what to do instead.
        reason: &'static str,
    },

    /// A token store could not read or write a token (its message names the key or the
    /// place, never the token).
    #[error("token store: {0}")]
    Store(#[from] crate::store::StoreError),

    /// A [`CreateLock`](crate::CreateLock) could not take its lock (the message names the lock,
    /// never a secret); the create was not sent.
    #[error("create lock: {message}")]
    Lock {
        /// What could not be done, and where.
        message: String,
        /// The cause (an OS error, a database error).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The batch request that carried this item failed as a whole, the server did not run it
    /// (`null`), it was never sent, or no answer item can be matched to it (too few or too
    /// many); [`Error::outcome_unknown`] is `may_have_run`.
    #[error("the batch request carrying this item failed: {message}")]
    BatchFailed {
        /// What happened, in words.
        message: String,
        /// Whether trying again later may succeed.
        transient: bool,
        /// Whether it may have run: sent with its answer lost or unmatched (in any round), or
        /// its request failed with an unknown outcome (not `null`, unsent, or refused).
        may_have_run: bool,
        /// The batch request's own error, shared by every item it carried (`None` when the
        /// server answered but did not run the item). As `source()` it downcasts to
        /// `Arc<Error>`.
        #[source]
        source: Option<std::sync::Arc<Error>>,
    },

    /// The HTTP client could not be built (the TLS backend failed to initialize).
    #[error("could not set up the HTTP client: {0}")]
    Setup(#[source] reqwest::Error),

    /// The server answered with a redirect. The client never follows one: the request's
    /// parameters (`appsecret_proof`, credential parameters) would go to wherever it points.
    #[error(
        "the server answered {method} {path} with a redirect (HTTP {status}){}; redirects are not followed",
        target_host.as_deref().map(|h| format!(" to host {h}")).unwrap_or_default()
    )]
    Redirect {
        /// HTTP method.
        method: Method,
        /// Request path without the query.
        path: String,
        /// The 3xx status.
        status: u16,
        /// The host of the `Location` header, when it names one (never its path or query).
        target_host: Option<String>,
    },

    /// The response body was larger than the client's cap
    /// ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)); the
    /// rest was not read.
    #[error(
        "the response to {method} {path} (HTTP {status}) is larger than the {limit}-byte cap; the rest was not read"
    )]
    ResponseTooLarge {
        /// HTTP method.
        method: Method,
        /// Request path without the query.
        path: String,
        /// HTTP status.
        status: u16,
        /// The cap, in bytes.
        limit: usize,
    },

    /// A write was sent and failed in a way that leaves its outcome unknown, and reading the
    /// state back to find out failed too. Check before trying again: it may have happened.
    #[error(
        "{operation}: the outcome is unknown ({source}); re-reading to find out failed: {reread}"
    )]
    OutcomeUnknown {
        /// What was attempted, e.g. `creating system user "reporting"`.
        operation: String,
        /// The error of the write.
        #[source]
        source: Box<Error>,
        /// The error of the read that should have settled it.
        reread: Box<Error>,
    },

    /// A token the crate minted, refreshed or found stored is not what its key says:
    /// `debug_token` does not show it valid, of the key's app and system user, and a
    /// system-user token, or a rotation could not be finished. It was not stored under the key
    /// (or the one it replaced was put back); the message says what happened to it and what to
    /// do.
    #[error("token check: {reason}")]
    TokenCheck {
        /// What was found and done (names ids, never a token).
        reason: String,
    },

    /// A bounded collect found more items than its bound.
    #[error("{path} has more than {max} items; raise the bound or read it page by page")]
    TooManyItems {
        /// The list's path.
        path: String,
        /// The bound that was passed.
        max: usize,
    },
}

/// What to do when a system user does not fit the quota: a create's refusal and a plan's.
pub(crate) fn quota_remedy(tier: Option<AccessTier>) -> &'static str {
    match tier {
        Some(AccessTier::Limited) => {
            "Reuse an existing system user (get_or_create), offboard an unused one, or reach the Full access tier (10 + 1)"
        }
        _ => "Reuse an existing system user (get_or_create) or offboard an unused one",
    }
}

/// The root cause of a transport failure in a few words: what a person needs to act on, which
/// reqwest's own message ("error sending request") does not say. The details stay in
/// `source()`.
fn transport_cause(err: &reqwest::Error) -> String {
    use std::io::ErrorKind as K;
    let mut deepest: &dyn std::error::Error = err;
    let mut io_kind = None;
    let mut chain = String::new();
    let mut next: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        chain.push_str(&e.to_string().to_ascii_lowercase());
        chain.push('\n');
        deepest = e;
        next = e.source();
    }
    let what = if err.is_timeout() {
        "timed out"
    } else if io_kind == Some(K::ConnectionRefused) {
        "connection refused (nothing listens there)"
    } else if chain.contains("dns error") || chain.contains("resolve") {
        "the host name could not be resolved (DNS)"
    } else if chain.contains("certificate") || chain.contains("tls") || chain.contains("ssl") {
        "the TLS handshake failed"
    } else if matches!(
        io_kind,
        Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe)
    ) || chain.contains("connection closed")
        || chain.contains("incomplete message")
    {
        "the connection was closed before the answer was complete"
    } else {
        return deepest.to_string();
    };
    what.to_owned()
}

impl Error {
    pub(crate) fn invalid_input(
        field: impl Into<Cow<'static, str>>,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error with the attempt count the retry loop knows (for a transport failure).
    pub(crate) fn with_attempts(mut self, made: u32) -> Self {
        if let Error::Transport { attempts, .. } = &mut self {
            *attempts = made;
        }
        self
    }

    /// The same error naming another field, for a check reused on several inputs.
    pub(crate) fn relabel(self, field: &'static str) -> Self {
        match self {
            Error::InvalidInput { reason, .. } => Error::invalid_input(field, reason),
            other => other,
        }
    }

    /// The Graph error, when the server sent one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The Graph error `code`, when the server sent one.
    pub fn code(&self) -> Option<i64> {
        self.api_error().and_then(|e| e.graph.code)
    }

    /// The HTTP status of the response, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::Decode { status, .. } => Some(*status),
            Error::UnexpectedResponse(r) => Some(r.status),
            Error::Redirect { status, .. } | Error::ResponseTooLarge { status, .. } => {
                Some(*status)
            }
            Error::Transport { source, .. } => source.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Whether trying again later may succeed: Graph codes 1, 2, 4, 17, 32, 341, 613 and
    /// 80000–80014, HTTP 5xx, a timeout or a connection failure. Meta's own `is_transient`
    /// flag wins over the code, both ways: `false` makes any Graph error final, `true` makes
    /// any retryable. A policy block (368, 4/2207051) is not transient.
    ///
    /// Whether a retry is *safe* is another question: a create that failed this way may have
    /// happened.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Api(api) => api.is_transient(),
            Error::UnexpectedResponse(r) => r.status >= 500 || r.status == 429,
            Error::BatchFailed { transient, .. } => *transient,
            Error::Transport { source, .. } => {
                source.is_timeout()
                    || source.is_connect()
                    || source.is_request()
                    || source.is_body()
                    // The crate reads raw bytes; reqwest reports a body cut mid-stream as Decode.
                    || source.is_decode()
                    || source.status().is_some_and(|s| s.is_server_error())
            }
            _ => false,
        }
    }

    /// Whether this is a rate limit: Graph codes 4, 17, 32, 341, 613 or 80000–80014, or HTTP
    /// 429; not a block Meta documents under one of those codes (4/2207051).
    pub fn is_rate_limited(&self) -> bool {
        match self {
            Error::Api(api) => api.is_rate_limited(),
            Error::UnexpectedResponse(r) => r.status == 429,
            _ => false,
        }
    }

    /// Whether the access token (or its proof) was rejected: code 190 (with any subcode), 102,
    /// 104, 2500, a token subcode (458, 459, 460, 463, 464, 467, 492), or a code 100 about
    /// `appsecret_proof`. Get a new token or fix the proof; retrying will not help.
    pub fn is_auth(&self) -> bool {
        self.api_error().is_some_and(ApiError::is_auth)
    }

    /// The class of a Graph error, read from Meta's error reference; `None` for errors that
    /// are not a Graph error envelope.
    pub fn class(&self) -> Option<ErrorClass> {
        self.api_error().map(ApiError::class)
    }

    /// Whether the token lacks a permission, role or capability: code 3, 10, 200–299, or a
    /// code 100 "Missing Permission".
    pub fn is_permission(&self) -> bool {
        self.api_error().is_some_and(ApiError::is_permission)
    }

    /// A typed diagnosis of a known failure, with its remedy.
    ///
    /// ```no_run
    /// use meta_business::ErrorHint;
    /// # async fn run(client: meta_business::Client) {
    /// match client.business("1234567890").system_users().list().send().await {
    ///     Ok(page) => println!("{} system users", page.data.len()),
    ///     Err(err) => match err.hint() {
    ///         Some(ErrorHint::BadSignature) => eprintln!("wrong app secret: {err}"),
    ///         Some(hint) => eprintln!("{err}\nto fix: {}", hint.remedy()),
    ///         None if err.is_transient() => eprintln!("try again later: {err}"),
    ///         None => eprintln!("{err}"),
    ///     },
    /// }
    /// # }
    /// ```
    pub fn hint(&self) -> Option<ErrorHint> {
        self.api_error().and_then(ApiError::hint)
    }

    /// Whether a write that failed this way may still have happened on the server: sent, and
    /// no definite refusal came back (a timeout or reset after sending, a 5xx or transient
    /// Graph error, an undecodable success, a non-Graph answer, a lost batch item). A
    /// connection that never opened, bad input, a Graph refusal, a batch `null` are definite.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Error::Transport { source, .. } => !source.is_connect(),
            Error::Api(api) => api.is_transient() || api.status >= 500,
            Error::Decode { .. }
            | Error::UnexpectedResponse(_)
            | Error::Redirect { .. }
            | Error::ResponseTooLarge { .. }
            | Error::OutcomeUnknown { .. } => true,
            Error::BatchFailed { may_have_run, .. } => *may_have_run,
            _ => false,
        }
    }

    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport { source, .. } if source.is_timeout())
    }

    /// Whether the connection could not be established.
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Transport { source, .. } if source.is_connect())
    }
}

/// Cuts `s` to at most `max` characters, marking the cut.
pub(crate) fn clip(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((end, _)) => Cow::Owned(format!("{}…", &s[..end])),
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderMap;

    use super::*;

    fn api(code: i64, sub: Option<i64>, status: u16) -> ApiError {
        ApiError {
            graph: GraphError {
                code: Some(code),
                error_subcode: sub,
                ..Default::default()
            },
            status,
            method: Method::GET,
            path: "/v26.0/me".into(),
            headers: HeaderMap::new(),
        }
    }

    #[test]
    fn classification() {
        let e = api(190, Some(463), 400);
        assert!(e.is_auth() && !e.is_transient() && !e.is_permission() && !e.is_rate_limited());
        let e = api(200, None, 403);
        assert!(e.is_permission() && !e.is_auth() && !e.is_transient());
        let e = api(100, None, 400);
        assert!(!e.is_permission() && !e.is_auth() && !e.is_transient() && !e.is_rate_limited());
        for code in [4, 17, 32, 341, 613, 80000, 80004, 80014] {
            let e = api(code, None, 400);
            assert!(e.is_rate_limited() && e.is_transient(), "{code}");
        }
        for code in [1, 2] {
            let e = api(code, None, 500);
            assert!(e.is_transient() && !e.is_rate_limited(), "{code}");
        }
        assert!(!api(80015, None, 400).is_rate_limited());
        let mut flagged = api(999, None, 400);
        flagged.graph.is_transient = Some(true);
        assert!(flagged.is_transient());
    }

    #[test]
    fn envelope_decodes_every_key_and_both_error_data_forms() {
        let raw = r#"{"message":"m","type":"OAuthException","code":"3979","error_subcode":1752140,
            "is_transient":"false","error_user_title":"t","error_user_msg":"u","fbtrace_id":"F",
            "error_data":"{\"blame_field_specs\":[[\"name\"]]}"}"#;
        let g: GraphError = serde_json::from_str(raw).unwrap();
        assert_eq!(g.code, Some(3979));
        assert_eq!(g.error_subcode, Some(1752140));
        assert_eq!(g.is_transient, Some(false));
        assert_eq!(g.error_data.unwrap()["blame_field_specs"][0][0], "name");
        let g: GraphError =
            serde_json::from_str(r#"{"error_data":{"a":1},"message":"x"}"#).unwrap();
        assert_eq!(g.error_data.unwrap()["a"], 1);
        let g: GraphError = serde_json::from_str(r#"{"error_data":"plain words"}"#).unwrap();
        assert_eq!(g.error_data.unwrap(), "plain words");
    }

    #[test]
    fn display_has_code_message_and_trace() {
        let mut e = api(190, Some(463), 400);
        e.graph.message = "Session has expired".into();
        e.graph.fbtrace_id = Some("AbC".into());
        let s = Error::Api(Box::new(e)).to_string();
        assert!(
            s.contains("#190/463") && s.contains("Session has expired") && s.contains("AbC"),
            "{s}"
        );
    }

    #[test]
    fn hints() {
        assert_eq!(
            api(415, Some(2859009), 400).hint(),
            Some(ErrorHint::TwoFactorRequired)
        );
        assert_eq!(
            api(190, Some(463), 400).hint(),
            Some(ErrorHint::TokenExpired)
        );
        assert_eq!(
            api(190, Some(458), 400).hint(),
            Some(ErrorHint::AppNotInstalled)
        );
        assert_eq!(api(190, None, 400).hint(), Some(ErrorHint::InvalidToken));
        assert_eq!(
            api(200, None, 400).hint(),
            Some(ErrorHint::PermissionDenied)
        );
        assert_eq!(api(80004, None, 400).hint(), Some(ErrorHint::RateLimited));
        assert_eq!(api(104, None, 400).hint(), Some(ErrorHint::TokenRequired));
        let mut proof = api(100, None, 400);
        proof.graph.message = "Invalid appsecret_proof provided in the API argument".into();
        assert_eq!(proof.hint(), Some(ErrorHint::BadSignature));
        proof.graph.message =
            "API calls from the server require an appsecret_proof argument".into();
        assert_eq!(proof.hint(), Some(ErrorHint::BadSignature));
        let mut legacy = api(3, None, 400);
        assert_eq!(
            legacy.hint(),
            None,
            "code 3 elsewhere is not about the token edge"
        );
        legacy.method = Method::POST;
        legacy.path = "/v26.0/61000000000001/access_tokens".into();
        assert_eq!(legacy.hint(), Some(ErrorHint::LegacyTokenEdgeClosed));
        assert!(
            Error::Api(Box::new(legacy))
                .to_string()
                .contains("system_user_access_tokens")
        );
        assert_eq!(api(100, None, 400).hint(), None);
        assert!(
            Error::Api(Box::new(api(415, Some(2859009), 400)))
                .to_string()
                .contains("two-factor")
        );
    }

    #[test]
    fn clip_respects_char_boundaries() {
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("ab", 5), "ab");
    }
}

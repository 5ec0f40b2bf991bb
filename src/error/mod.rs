//! The crate's one error type, the Graph error envelope, and the classification predicates.

use std::borrow::Cow;

use reqwest::Method;

use crate::config::{AccessTier, SystemUserKind};
use crate::ids::BusinessId;

mod classify;
mod graph;
mod hint;
mod phase;
mod predicates;
mod refused;
mod transport;

pub use classify::ErrorClass;
pub use graph::{ApiError, GraphError, UnexpectedResponse};
pub use hint::ErrorHint;
pub use phase::Phase;
pub(crate) use refused::quota_remedy;

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
    // ---- Refused: checked and refused by the crate before anything was sent.
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

    /// The Graph API has no such operation for this kind of asset (e.g. removing a pixel
    /// assignment); nothing was sent.
    #[error("{operation} is not supported: {reason}")]
    Unsupported {
        /// What was asked.
        operation: &'static str,
        /// Why it cannot be done, and what to do instead.
        reason: &'static str,
    },

    // ---- Local: a part of the program around the call failed (the HTTP client, a create lock, a token store).
    /// The HTTP client could not be built (the TLS backend failed to initialize).
    #[error("could not set up the HTTP client: {0}")]
    Setup(#[source] reqwest::Error),

    /// A [`CreateLock`](crate::lock::CreateLock) could not take its lock (the message names the lock,
    /// never a secret); the create was not sent.
    #[error("create lock: {message}")]
    Lock {
        /// What could not be done, and where.
        message: String,
        /// The cause (an OS error, a database error).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A token store could not read or write a token (its message names the key or the
    /// place, never the token).
    #[error("token store: {0}")]
    Store(#[from] crate::store::StoreError),

    // ---- Transport: no complete answer came back.
    /// The request could not be sent or its response could not be read: DNS, connect, TLS,
    /// timeout, reset connection.
    #[error(
        "{method} {path} to {base_url} failed after {attempts} attempt{}: {}",
        if *attempts == 1 { "" } else { "s" },
        transport::cause(source)
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

    // ---- Graph: the Graph API answered with an error.
    /// The Graph API answered with an error envelope (`{"error": {...}}`), whatever the HTTP
    /// status, including a 200.
    #[error(transparent)]
    Api(Box<ApiError>),

    // ---- Decode: an answer came and could not be used as the answer asked for.
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

    /// Paging stopped because the server's cursors made no progress.
    #[error("paging {path} stopped: {reason}")]
    Pagination {
        /// The list's path.
        path: String,
        /// What went wrong (a repeated cursor, a missing one).
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

    // ---- Across phases: the phase is that of the cause.
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
}

/// Cuts `s` to at most `max` characters, marking the cut.
pub(crate) fn clip(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((end, _)) => Cow::Owned(format!("{}…", &s[..end])),
    }
}

#[cfg(test)]
mod tests;

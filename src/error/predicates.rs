//! What a program asks of any error, whatever its phase: is it worth trying again, is it the
//! token, what does it mean and what to do.

use super::{ApiError, Error, ErrorClass, ErrorHint};

impl Error {
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
}

//! The transport phase: a request whose answer did not come back whole.

use super::Error;

impl Error {
    /// The same error with the attempt count the retry loop knows (for a transport failure).
    pub(crate) fn with_attempts(mut self, made: u32) -> Self {
        if let Error::Transport { attempts, .. } = &mut self {
            *attempts = made;
        }
        self
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

/// The root cause of a transport failure in a few words: what a person needs to act on, which
/// reqwest's own message ("error sending request") does not say. The details stay in
/// `source()`.
pub(super) fn cause(err: &reqwest::Error) -> String {
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

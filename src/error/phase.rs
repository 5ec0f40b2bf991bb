//! Where along a call an error arose: the grouping of [`Error`]'s variants.

use super::Error;

/// Where along a call an [`Error`] arose, from [`Error::phase`]. [`Error`]'s variants are
/// declared in this order, each group under its phase.
///
/// The phase says what is known of the server's side: nothing was sent (`Refused`, and `Local`
/// for the HTTP client and create locks); something may have been sent (`Transport`, `Decode`:
/// see [`Error::outcome_unknown`]); or the Graph API answered with its own error (`Graph`).
///
/// ```
/// use meta_business::{Error, Phase};
/// let err = Error::InvalidInput { field: "name".into(), reason: "empty".into() };
/// assert_eq!(err.phase(), Phase::Refused);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// The crate checked the request and refused it before sending anything: bad input
    /// ([`Error::InvalidInput`]), a system user the quota has no room for
    /// ([`Error::QuotaExceeded`]), an operation Meta does not offer ([`Error::Unsupported`]).
    Refused,
    /// A part of the program around the call failed: the HTTP client could not be built
    /// ([`Error::Setup`]), a create lock could not be taken ([`Error::Lock`]), a token store
    /// could not read or write ([`Error::Store`]).
    Local,
    /// No complete answer came back: DNS, connect, TLS, timeout, a reset connection
    /// ([`Error::Transport`]).
    Transport,
    /// The Graph API answered with its error envelope ([`Error::Api`]); [`Error::hint`],
    /// [`Error::class`] and [`Error::code`] read it.
    Graph,
    /// An answer came and could not be used as the answer asked for: not the expected JSON
    /// ([`Error::Decode`]), not a Graph answer ([`Error::UnexpectedResponse`]), a redirect
    /// ([`Error::Redirect`]), too large ([`Error::ResponseTooLarge`]), cursors that go nowhere
    /// ([`Error::Pagination`]), more items than the bound ([`Error::TooManyItems`]), a token
    /// that is not what was asked for ([`Error::TokenCheck`]).
    Decode,
}

impl Error {
    /// Where along the call this error arose. [`Error::OutcomeUnknown`] has the phase of the
    /// write that failed, [`Error::BatchFailed`] that of the batch request's own error, or
    /// [`Phase::Graph`] when the server answered the batch but did not run the item.
    pub fn phase(&self) -> Phase {
        match self {
            Error::InvalidInput { .. }
            | Error::QuotaExceeded { .. }
            | Error::Unsupported { .. } => Phase::Refused,
            Error::Setup(_) | Error::Lock { .. } | Error::Store(_) => Phase::Local,
            Error::Transport { .. } => Phase::Transport,
            Error::Api(_) => Phase::Graph,
            Error::Decode { .. }
            | Error::UnexpectedResponse(_)
            | Error::Redirect { .. }
            | Error::ResponseTooLarge { .. }
            | Error::Pagination { .. }
            | Error::TooManyItems { .. }
            | Error::TokenCheck { .. } => Phase::Decode,
            Error::OutcomeUnknown { source, .. } => source.phase(),
            Error::BatchFailed { source, .. } => {
                source.as_ref().map_or(Phase::Graph, |e| e.phase())
            }
        }
    }
}

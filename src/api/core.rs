//! The request-builder core: what every builder holds besides its own options (it sends
//! through [`crate::api::exchange::send`]).

use std::time::Duration;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::request::Request;

/// The client, a per-call timeout, and the first bad input found while the builder was built:
/// `send` reports it before anything is sent (deferred validation, so that setters stay
/// infallible and chainable).
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) client: Client,
    pub(crate) timeout: Option<Duration>,
    pub(crate) invalid: Option<Error>,
}

impl Core {
    pub(crate) fn new(client: Client) -> Self {
        Core {
            client,
            timeout: None,
            invalid: None,
        }
    }

    /// Keeps an error found while building, if any.
    pub(crate) fn refusing(mut self, invalid: Option<Error>) -> Self {
        if let Some(err) = invalid {
            self.refuse(err);
        }
        self
    }

    /// Records a bad input (the first one wins).
    pub(crate) fn refuse(&mut self, err: Error) {
        self.invalid.get_or_insert(err);
    }

    /// The deferred input error, if any: call first in `send`.
    pub(crate) fn ready(&mut self) -> Result<()> {
        match self.invalid.take() {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// The deferred input error, if any, left in place (for a builder read by reference, as
    /// `batch_item` reads it): a copy of a refused input, or the error's text.
    pub(crate) fn check(&self) -> Result<()> {
        match &self.invalid {
            None => Ok(()),
            Some(Error::InvalidInput { field, reason }) => Err(Error::InvalidInput {
                field: field.clone(),
                reason: reason.clone(),
            }),
            Some(Error::Unsupported { operation, reason }) => {
                Err(Error::Unsupported { operation, reason })
            }
            Some(other) => Err(Error::invalid_input("request", other.to_string())),
        }
    }

    /// `request` with this builder's timeout, when one was set.
    pub(crate) fn timed(&self, request: Request) -> Request {
        match self.timeout {
            Some(timeout) => request.with_timeout(Some(timeout)),
            None => request,
        }
    }
}

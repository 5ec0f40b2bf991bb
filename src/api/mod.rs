//! One handler per resource. Handlers are cheap (a client clone and an id); their methods
//! return builders that own their data and end in `.send()`.

pub mod assignments;
pub mod business;
pub mod businesses;
pub(crate) mod core;
pub(crate) mod exchange;
pub(crate) mod fields;
mod partners;
pub mod system_user;
pub mod system_users;
pub mod tokens;

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use self::core::Core;
use self::exchange::{Exchange, Refusal};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::request::Request;
use crate::retry::Effect;

/// Where a node's answer keeps its own id.
type IdOf<T> = fn(&T) -> &str;

/// A single Graph API call with no options of its own beyond a timeout (and `fields` where
/// the answer is a node). Ends in [`Call::send`].
#[must_use = "a request does nothing until `.send().await`"]
pub struct Call<T> {
    pub(crate) core: Core,
    pub(crate) request: Request,
    /// For a read of one node: the id asked for, and where the answer keeps its own. An answer
    /// about another node is refused, never acted on.
    expect: Option<(String, IdOf<T>)>,
    _out: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.request.debug_as("Call", f)
    }
}

impl<T: DeserializeOwned> Call<T> {
    pub(crate) fn new(client: Client, request: Request, invalid: Option<Error>) -> Self {
        Call {
            core: Core::new(client).refusing(invalid),
            request,
            expect: None,
            _out: PhantomData,
        }
    }

    /// A read of the node `id`: an answer whose `id_of` differs is an error.
    pub(crate) fn about(mut self, id: &str, id_of: IdOf<T>) -> Self {
        self.expect = Some((id.to_owned(), id_of));
        self
    }

    /// Sends the request.
    ///
    /// ```
    /// use meta_business::Error;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let err = client.business("not-an-id").get().send().await.unwrap_err();
    /// assert!(matches!(err, Error::InvalidInput { .. })); // refused before sending
    /// assert!(emulator.requests().is_empty());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (and no request) when an argument was bad; otherwise any
    /// request error.
    pub async fn send(self) -> Result<T> {
        exchange::send(self).await
    }

    /// Replaces the default `fields` with a raw Graph field list.
    pub(crate) fn set_fields(mut self, fields: String) -> Self {
        match crate::models::check_fields(&fields) {
            Ok(()) => self.request.set_param("fields", fields),
            Err(e) => self.core.refuse(e),
        }
        self
    }
}

impl<T> Call<T> {
    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }
}

impl<T: DeserializeOwned> Exchange for Call<T> {
    type Answer = T;
    type Output = T;

    fn core(&self) -> &Core {
        &self.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    /// Built by the handler method, its inputs checked there (the deferred error).
    fn request(&self) -> Result<Request> {
        Ok(self.request.clone())
    }

    fn take_request(&mut self) -> Result<Request> {
        Ok(exchange::taken(&mut self.request))
    }

    /// As the handler method built it: a read, or a claim (which creates).
    fn effect(&self) -> Effect {
        self.request.effect
    }

    fn finish(self, node: T) -> std::result::Result<T, Refusal> {
        let Some((asked, id_of)) = self.expect else {
            return Ok(node);
        };
        let got = id_of(&node);
        if got == asked {
            Ok(node)
        } else {
            Err(Refusal::WrongObject(format!(
                "the answer is about node {got}, not {asked}, the node asked for"
            )))
        }
    }
}

/// The first validation error among several checks.
pub(crate) fn first_error(checks: impl IntoIterator<Item = Result<()>>) -> Option<Error> {
    checks.into_iter().find_map(Result::err)
}

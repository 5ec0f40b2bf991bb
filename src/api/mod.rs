//! One handler per resource. Handlers are cheap (a client clone and an id); their methods
//! return builders that own their data and end in `.send()`.

pub mod assignments;
pub mod business;
pub mod businesses;
pub(crate) mod core;
pub(crate) mod fields;
mod partners;
pub mod system_user;
pub mod system_users;
pub mod tokens;

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use self::core::Core;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::request::Request;

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
    pub async fn send(mut self) -> Result<T> {
        self.core.ready()?;
        let Some((asked, id_of)) = self.expect.take() else {
            return self.core.send(self.request).await;
        };
        let (method, path) = (
            self.request.method.clone(),
            self.core.client.path_for(&self.request),
        );
        let node = self.core.send(self.request).await?;
        let got = id_of(&node);
        if got == asked {
            Ok(node)
        } else {
            Err(crate::error::UnexpectedResponse::wrong_object(
                method,
                path,
                format!("the answer is about node {got}, not {asked}, the node asked for"),
            ))
        }
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

/// Sends a write whose answer is only a success flag; `false` is an error.
pub(crate) async fn send_ack(client: &Client, request: Request) -> Result<()> {
    let path = client.path_for(&request);
    let method = request.method.clone();
    let crate::models::Ack(ok) = client.execute(request).await?;
    if ok {
        return Ok(());
    }
    Err(crate::error::UnexpectedResponse::not_acknowledged(
        method,
        path,
        200,
        Default::default(),
    ))
}

/// The first validation error among several checks.
pub(crate) fn first_error(checks: impl IntoIterator<Item = Result<()>>) -> Option<Error> {
    checks.into_iter().find_map(Result::err)
}

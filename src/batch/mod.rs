//! Batch requests: many calls in `POST /` requests of at most 50, one typed result per call.
//!
//! Items keep the caller's order. An item's Graph error is that item's error; a chunk that
//! fails as a whole gives each of its items [`Error::BatchFailed`](crate::Error::BatchFailed); items the server did not
//! execute (`null` in the answer) are sent again in a later round. An answer with fewer items
//! than calls leaves the unanswered calls' outcome unknown (sent again only when idempotent);
//! one with more fails every call it carried. Every extra round is a retry of the client's
//! [`RetryPolicy`](crate::retry::RetryPolicy): attempts, backoff, deadline (see `rounds`).

mod answer;
mod item;
mod rounds;

use std::fmt;

pub use self::answer::BatchResponse;
use self::answer::item_response;
pub(crate) use self::answer::{ItemPath, RawItem};
pub use self::item::BatchItem;
use self::item::encoded_batch;
use crate::adaptive::Concurrency;
use crate::api::core::Core;
use crate::client::Client;
use crate::error::Result;
use crate::request::Request;

/// The Graph API's limit of calls in one batch request.
pub const MAX_BATCH: usize = 50;

/// A batch of calls; see [`Client::batch`].
///
/// ```
/// use meta_business::bulk::BatchItem;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let items = (0..120).map(|_| BatchItem::get(demo.business_id, &[("fields", "id")]));
/// let items = items.collect::<meta_business::Result<Vec<_>>>()?;
/// // 120 items go as three batch requests of at most 50, two in flight.
/// let answers = client.batch(items).concurrency(2).send().await;
/// assert_eq!(answers.len(), 120);
/// assert_eq!(emulator.requests().len(), 3);
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until `.send().await`"]
pub struct BatchRequest {
    pub(crate) core: Core,
    pub(crate) items: Vec<BatchItem>,
    pub(crate) concurrency: Concurrency,
    pub(crate) include_headers: bool,
}

impl fmt::Debug for BatchRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchRequest")
            .field("items", &self.items.len())
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// Reads one item's answer into what the caller of the batch gets.
pub(crate) type ItemDecoder<T> = fn(&Client, &BatchItem, &RawItem) -> Result<T>;

impl BatchRequest {
    /// Per-request timeout for each batch request, overriding the client's.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }
}

impl BatchRequest {
    /// Exactly this many batch requests of 50 in flight at once (at least 1), whatever the usage
    /// headers say. The default is [`Concurrency::Adaptive`].
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Concurrency::Fixed(n.max(1));
        self
    }

    /// As many batch requests in flight as the usage headers allow, up to `max` (the default, with
    /// 16): see [`Concurrency::Adaptive`].
    pub fn adaptive(mut self, max: usize) -> Self {
        self.concurrency = Concurrency::Adaptive { max: max.max(1) };
        self
    }
}

impl BatchRequest {
    /// Asks for each item's headers (`include_headers=true`); off by default, as they are
    /// rarely needed and make the answer larger.
    pub fn include_headers(mut self, include_headers: bool) -> Self {
        self.include_headers = include_headers;
        self
    }

    /// Sends every item and returns one result per item, in the order given.
    ///
    /// Each answer item is matched to its call by position, and only when the counts agree:
    /// - `null` (the server did not run the call): sent again in a later round;
    /// - no item for a call (the answer is short): [`Error::BatchFailed`](crate::Error::BatchFailed),
    ///   whose [`outcome_unknown`](crate::Error::outcome_unknown) is true; sent again only if
    ///   idempotent (a GET, a DELETE, a POST marked [`BatchItem::idempotent`]), never a create
    ///   or a token mint;
    /// - more items than calls, or an answer that is not a list of items: every call of that
    ///   request fails the same way, and none is reported done.
    ///
    /// Whatever the reason a call goes again (`null`, a short answer, a throttled or failed
    /// batch request), that is a retry of the client's
    /// [`RetryPolicy`](crate::retry::RetryPolicy): a call is sent at most
    /// [`attempts`](crate::retry::RetryPolicy::attempts) times, with its backoff, and no wait (a
    /// server's `Retry-After` or `estimated_time_to_regain_access`, a pause while the usage
    /// headers are at the ceiling) runs past its deadline: the batch stops and reports.
    pub async fn send(self) -> Vec<Result<BatchResponse>> {
        self.send_decoded(item_response).await
    }

    /// [`BatchRequest::send`], each answer read by `decode` (bulk reads acknowledgements
    /// straight from the item's text, with no [`BatchResponse`] built).
    pub(crate) async fn send_decoded<T: Send>(self, decode: ItemDecoder<T>) -> Vec<Result<T>> {
        rounds::Job::new(&self, decode).run().await
    }

    /// One batch request carrying the items of `chunk`, sent once: the job decides, item by
    /// item, what goes again.
    async fn send_chunk(&self, chunk: &[usize]) -> Result<Vec<Option<RawItem>>> {
        let batch = encoded_batch(chunk.iter().map(|i| &self.items[*i]));
        let mut req = Request::post([""]).param(
            "include_headers",
            if self.include_headers {
                "true"
            } else {
                "false"
            },
        );
        req.encoded_param = Some(("batch", batch));
        // The items may create anything: the send path re-sends the request only when its
        // connection never opened, and the rounds strategy decides, item by item, the rest.
        let req = self
            .core
            .timed(req.with_effect(crate::retry::Effect::Creates));
        crate::api::exchange::send(crate::api::exchange::Prepared::new(
            Core::new(self.core.client.clone()),
            req,
        ))
        .await
    }
}

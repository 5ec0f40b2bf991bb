//! Batch requests: many calls in `POST /` requests of at most 50, one typed result per call.
//!
//! Items keep the caller's order. An item's Graph error is that item's error; a chunk that
//! fails as a whole gives each of its items [`Error::BatchFailed`]; items the server did not
//! execute (`null` in the answer) are sent again in a later round.

mod answer;
mod item;

use std::collections::VecDeque;
use std::fmt;

use futures_util::stream::{FuturesUnordered, StreamExt};

pub use self::answer::BatchResponse;
use self::answer::item_response;
pub(crate) use self::answer::{ItemPath, RawItem};
pub use self::item::BatchItem;
use self::item::encoded_batch;
use crate::adaptive::{Concurrency, Controller};
use crate::api::core::{Core, timeout_setter};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::request::Request;

/// The Graph API's limit of calls in one batch request.
pub const MAX_BATCH: usize = 50;

/// Throttles one batch job waits out before its throttled items fail.
const MAX_THROTTLES: u32 = 8;

/// A batch of calls; see [`Client::batch`].
///
/// ```
/// use meta_business::BatchItem;
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

/// Batch's strategy for the retry loop: an attempt is a round over the items not run yet.
struct NullItems<'a, T> {
    batch: &'a BatchRequest,
    decode: ItemDecoder<T>,
    results: Vec<Option<Result<T>>>,
    pending: Vec<usize>,
    control: Controller,
}

impl<T: Send> crate::retry::Attempts for NullItems<'_, T> {
    type Output = ();

    /// An item the server did not run has not happened: sending it again is safe.
    fn idempotent(&self) -> bool {
        true
    }

    async fn attempt(&mut self) -> crate::retry::Step<()> {
        self.batch
            .round(
                self.decode,
                &mut self.results,
                &mut self.pending,
                &mut self.control,
            )
            .await;
        if self.pending.is_empty() {
            return crate::retry::Step::Done(Ok(()));
        }
        tracing::debug!(
            not_executed = self.pending.len(),
            "batch items not executed; sending them again"
        );
        crate::retry::Step::Again(Error::BatchFailed {
            message: format!("{} item(s) not executed", self.pending.len()),
            transient: true,
            source: None,
        })
    }
}

timeout_setter!(
    /// Per-request timeout for each batch request, overriding the client's.
    [] BatchRequest
);

crate::adaptive::concurrency_setters!(
    BatchRequest,
    fixed: "Exactly this many batch requests of 50 in flight at once (at least 1), whatever the \
            usage headers say. The default is [`Concurrency::Adaptive`].",
    adaptive: "As many batch requests in flight as the usage headers allow, up to `max` (the \
               default, with 16): see [`Concurrency::Adaptive`].",
);

impl BatchRequest {
    crate::macros::setters! {
        /// Asks for each item's headers (`include_headers=true`); off by default, as they are
        /// rarely needed and make the answer larger.
        include_headers = bool;
    }

    /// Sends every item and returns one result per item, in the order given.
    pub async fn send(self) -> Vec<Result<BatchResponse>> {
        self.send_decoded(item_response).await
    }

    /// [`BatchRequest::send`], each answer read by `decode` (bulk reads acknowledgements
    /// straight from the item's text, with no [`BatchResponse`] built).
    pub(crate) async fn send_decoded<T: Send>(self, decode: ItemDecoder<T>) -> Vec<Result<T>> {
        let total = self.items.len();
        // The server answers `null` for an item it did not run: those are sent again, as
        // the client's retry policy allows (at least twice), through the one retry loop.
        let rounds = self.core.client.retry_policy().attempts().max(2);
        let policy = self.core.client.retry_policy().max_attempts(rounds);
        let mut unrun = NullItems {
            batch: &self,
            decode,
            results: (0..total).map(|_| None).collect(),
            pending: (0..total).collect(),
            control: Controller::new(self.concurrency),
        };
        let (_, made) = crate::retry::retry(policy, &mut unrun).await;
        let NullItems {
            mut results,
            pending,
            ..
        } = unrun;
        for i in pending {
            results[i] = Some(Err(Error::BatchFailed {
                message: format!("the server did not execute this item in {made} rounds"),
                transient: true,
                source: None,
            }));
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Error::BatchFailed {
                        message: "no answer".into(),
                        transient: true,
                        source: None,
                    })
                })
            })
            .collect()
    }

    /// Sends every pending item once, in batch requests of up to 50 as the controller allows
    /// (a fixed number in flight, or as many as the usage headers allow); keeps as pending those
    /// the server did not run. A throttled request is sent again after the throttle lifts,
    /// when the concurrency is adaptive; with a fixed one its items fail, as before.
    async fn round<T: Send>(
        &self,
        decode: ItemDecoder<T>,
        results: &mut [Option<Result<T>>],
        pending: &mut Vec<usize>,
        control: &mut Controller,
    ) {
        let mut queue: VecDeque<usize> = pending.drain(..).collect();
        let mut in_flight = FuturesUnordered::new();
        let mut calls_in_flight = 0;
        let mut throttles = 0u32;
        loop {
            while !queue.is_empty() {
                let room = control.room(in_flight.len(), calls_in_flight);
                if room == 0 {
                    break;
                }
                let chunk: Vec<usize> = queue.drain(..room.min(queue.len())).collect();
                calls_in_flight += chunk.len();
                in_flight.push(async move {
                    let answer = self.send_chunk(&chunk).await;
                    (chunk, answer)
                });
            }
            let Some((chunk, answer)) = in_flight.next().await else {
                if queue.is_empty() {
                    break;
                }
                let wait = control.saturated();
                tracing::debug!(?wait, "usage at the ceiling; pausing the batch");
                tokio::time::sleep(wait).await;
                continue;
            };
            calls_in_flight -= chunk.len();
            match answer {
                Err(err)
                    if err.is_rate_limited()
                        && control.is_adaptive()
                        && throttles < MAX_THROTTLES =>
                {
                    throttles += 1;
                    let wait = control.throttled(crate::retry::server_hint(&err));
                    tracing::warn!(
                        ?wait,
                        items = chunk.len(),
                        "batch throttled; waiting, then sending it again"
                    );
                    for i in chunk.into_iter().rev() {
                        queue.push_front(i);
                    }
                    tokio::time::sleep(wait).await;
                }
                Err(err) => {
                    control.answered(chunk.len(), self.core.client.usage_pressure());
                    let transient = err.is_transient();
                    let message = err.to_string();
                    let source = std::sync::Arc::new(err);
                    for i in chunk {
                        results[i] = Some(Err(Error::BatchFailed {
                            message: message.clone(),
                            transient,
                            source: Some(std::sync::Arc::clone(&source)),
                        }));
                    }
                }
                Ok(items) => {
                    control.answered(chunk.len(), self.core.client.usage_pressure());
                    for (slot, i) in chunk.iter().enumerate() {
                        match items.get(slot) {
                            Some(Some(raw)) => {
                                results[*i] = Some(decode(&self.core.client, &self.items[*i], raw));
                            }
                            // `null`, or missing: the server did not execute it.
                            _ => pending.push(*i),
                        }
                    }
                }
            }
        }
    }

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
        req.idempotent = chunk.iter().all(|i| self.items[*i].idempotent);
        self.core.send(req).await
    }
}

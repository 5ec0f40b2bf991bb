//! Bulk assignment: many assign / unassign calls in one, over the transport you choose; and the
//! Graph batch request ([`BatchRequest`]) it can ride on, for any calls.
//!
//! Every operation is checked before anything is sent; results come back one per operation, in
//! the order given.

use std::fmt;

use futures_util::stream::{self, StreamExt};

pub use crate::adaptive::Concurrency;
use crate::api::assignments::{Assign, Unassign};
use crate::api::core::Core;
use crate::api::exchange::{self, Exchange, Prepared};
pub use crate::batch::{BatchItem, BatchRequest, BatchResponse, MAX_BATCH};
use crate::batch::{ItemPath, RawItem};
use crate::client::Client;
use crate::error::{Error, Result, UnexpectedResponse};
use crate::kinds::AssetKind;
use crate::models::Ack;
use crate::progress::{ProgressSink, Reporter, Workflow};
use crate::request::Request;

/// How bulk operations travel.
///
/// ```
/// use meta_business::AdAccountTask;
/// use meta_business::bulk::BulkMode;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// let ops = demo.ad_accounts.iter().map(|a| client.ad_account(*a).assign(&su.id, [AdAccountTask::Analyze]));
/// let results = client.bulk(ops).mode(BulkMode::Sequential).send().await?;
/// assert!(results.iter().all(Result::is_ok));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BulkMode {
    /// One request at a time.
    Sequential,
    /// One request per operation, several in flight (up to the concurrency limit).
    Concurrent,
    /// Batch requests of 50, several in flight (up to the concurrency limit): the fewest
    /// round trips. The default.
    #[default]
    Batch,
}

impl std::str::FromStr for BulkMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "sequential" => Ok(BulkMode::Sequential),
            "concurrent" => Ok(BulkMode::Concurrent),
            "batch" => Ok(BulkMode::Batch),
            _ => Err(Error::invalid_input(
                "mode",
                format!("{s:?}: expected sequential, concurrent or batch"),
            )),
        }
    }
}

/// One operation of a bulk call: an [`Assign`] or an [`Unassign`], converted with `into()`.
///
/// ```
/// use meta_business::{AdAccountTask, PageTask};
/// use meta_business::bulk::BulkOp;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// // Assignments of different kinds in one bulk.
/// let ops: Vec<BulkOp> = vec![
///     client.ad_account(demo.ad_accounts[0]).assign(&su.id, [AdAccountTask::Analyze]).into(),
///     client.page(demo.pages[0]).assign(&su.id, [PageTask::Analyze]).into(),
/// ];
/// assert_eq!(ops[1].label(), format!("Page {}", demo.pages[0])); // names it in errors
/// let results = client.bulk(ops).send().await?;
/// assert_eq!(results.len(), 2);
/// # Ok(()) }
/// ```
pub struct BulkOp {
    label: String,
    request: Result<Request>,
}

impl fmt::Debug for BulkOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkOp")
            .field("label", &self.label)
            .field("valid", &self.request.is_ok())
            .finish()
    }
}

impl BulkOp {
    /// What the operation is about (`ad account act_42`).
    pub fn label(&self) -> &str {
        &self.label
    }
}

impl<K: AssetKind> From<Assign<K>> for BulkOp {
    fn from(op: Assign<K>) -> Self {
        BulkOp::of(op)
    }
}

impl<K: AssetKind> From<Unassign<K>> for BulkOp {
    fn from(op: Unassign<K>) -> Self {
        BulkOp::of(op)
    }
}

impl BulkOp {
    /// An operation's label and request, both from its [`Exchange`], checked as its `send`
    /// would check it.
    fn of(op: impl Exchange) -> Self {
        BulkOp {
            label: op.label(),
            request: exchange::checked(op),
        }
    }
}

/// A bulk call; see [`Client::bulk`].
///
/// ```
/// use meta_business::AdAccountTask;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// emulator.clear_requests();
/// let ops = demo.ad_accounts.iter().map(|a| client.ad_account(*a).assign(&su.id, [AdAccountTask::Analyze]));
/// let results = client.bulk(ops).concurrency(4).send().await?;
/// // One result per operation, in order; both went in one batch request.
/// assert_eq!(results.len(), 2);
/// assert_eq!(emulator.requests().len(), 1);
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until `.send().await`"]
pub struct BulkRequest {
    pub(crate) core: Core,
    pub(crate) ops: Vec<BulkOp>,
    pub(crate) mode: BulkMode,
    pub(crate) concurrency: Concurrency,
    pub(crate) progress: Option<ProgressSink>,
}

impl fmt::Debug for BulkRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkRequest")
            .field("ops", &self.ops.len())
            .field("mode", &self.mode)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// A batch item's answer as an acknowledgement, read straight from its text.
fn acknowledged(client: &Client, item: &BatchItem, raw: &RawItem) -> Result<()> {
    if raw.is_plain_success() {
        return Ok(());
    }
    decoded_acknowledgement(client, item, raw)
}

/// An answer other than the plain success: decoded, a Graph error in it the item's error.
fn decoded_acknowledgement(client: &Client, item: &BatchItem, raw: &RawItem) -> Result<()> {
    let headers = raw.header_map();
    let path = ItemPath(client, item);
    let Ack(ok) = client.decode_detached(
        item.method(),
        &path,
        raw.status(),
        &headers,
        raw.text().as_bytes(),
    )?;
    if ok {
        return Ok(());
    }
    Err(UnexpectedResponse::not_acknowledged(
        item.method().clone(),
        path.to_string(),
        raw.status(),
        headers,
    ))
}

impl BulkRequest {
    /// Exactly this many requests in flight (at least 1), whatever the usage headers say. Without
    /// it, batch mode follows the usage headers ([`Concurrency::Adaptive`], up to 16) and
    /// concurrent mode keeps [`DEFAULT_CONCURRENCY`] in flight.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Concurrency::Fixed(n.max(1));
        self
    }

    /// In batch mode, as many batch requests in flight as the usage headers allow, up to `max`
    /// ([`Concurrency::Adaptive`]); the default has 16.
    pub fn adaptive(mut self, max: usize) -> Self {
        self.concurrency = Concurrency::Adaptive { max: max.max(1) };
        self
    }
}

/// Requests in flight in concurrent mode unless [`BulkRequest::concurrency`] says otherwise;
/// batch mode starts with as many before the usage headers say more may go.
pub const DEFAULT_CONCURRENCY: usize = 4;

impl BulkRequest {
    /// Per-request timeout for each batch request, and for each operation sent alone that has
    /// no timeout of its own (one set on the operation wins), overriding the client's.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }
}

impl BulkRequest {
    /// The transport (default [`BulkMode::Batch`]).
    pub fn mode(mut self, mode: BulkMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sends the run's progress to this sink: one step per operation (labelled as
    /// [`BulkOp::label`]), reported as its result arrives (in batch mode, when the batch
    /// answers).
    pub fn progress(mut self, sink: ProgressSink) -> Self {
        self.progress = Some(sink);
        self
    }

    /// Checks every operation, then sends them all; one result per operation, in order. An
    /// operation keeps its own timeout, if it was given one; [`BulkRequest::timeout`] applies
    /// to the others, and to each batch request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first invalid operation (`ops[3].tasks`, …): nothing
    /// is sent then. Otherwise the outer result is `Ok` and each operation has its own result.
    pub async fn send(self) -> Result<Vec<Result<()>>> {
        let BulkRequest {
            mut core,
            ops,
            mode,
            concurrency,
            progress: sink,
        } = self;
        core.ready()?;
        let labels: Vec<String> = ops.iter().map(|op| op.label.clone()).collect();
        let mut requests = Vec::with_capacity(ops.len());
        for (i, op) in ops.into_iter().enumerate() {
            match op.request {
                Ok(req) if req.timeout.is_some() => requests.push(req),
                Ok(req) => requests.push(core.timed(req)),
                Err(Error::InvalidInput { field, reason }) => {
                    return Err(Error::invalid_input(
                        format!("ops[{i}].{field}"),
                        format!("{} ({})", reason, op.label),
                    ));
                }
                Err(other) => return Err(other),
            }
        }
        let client = &core.client;
        let mut progress = Reporter::start(sink.as_ref(), Workflow::Bulk, Some(labels.len()));
        let mut labels = labels.into_iter();
        let mut settle = |result: &Result<()>| {
            progress.step(labels.next().unwrap_or_default());
            match result {
                Ok(()) => progress.done(),
                Err(err) => progress.failed(err),
            }
        };
        let out = match mode {
            BulkMode::Sequential => {
                let mut out = Vec::with_capacity(requests.len());
                for req in requests {
                    let result =
                        exchange::send(Prepared::ack(Core::new(client.clone()), req)).await;
                    settle(&result);
                    out.push(result);
                }
                out
            }
            BulkMode::Concurrent => {
                let n = match concurrency {
                    Concurrency::Fixed(n) => n,
                    _ => DEFAULT_CONCURRENCY,
                };
                stream::iter(
                    requests
                        .into_iter()
                        .map(|req| exchange::send(Prepared::ack(Core::new(client.clone()), req))),
                )
                .buffered(n)
                .inspect(&mut settle)
                .collect()
                .await
            }
            BulkMode::Batch => {
                let items: Vec<BatchItem> = requests.iter().map(BatchItem::from_request).collect();
                let mut batch = client.batch(items);
                batch.concurrency = concurrency;
                batch.core.timeout = core.timeout;
                let out = batch.send_decoded(acknowledged).await;
                out.iter().for_each(&mut settle);
                out
            }
        };
        progress.finish(None);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut for Meta's plain success answers exactly what decoding would, and takes
    /// nothing else.
    #[test]
    fn the_plain_success_shortcut_agrees_with_decoding() {
        let client = Client::builder()
            .access_token("EAAB-unit-test-token-0123")
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        let item = BatchItem::post("act_1/assigned_users", &[("user", "1")]).unwrap();
        let cases = [
            (r#"{"code":200,"body":"{\"success\":true}"}"#, true),
            (r#"{"code":200,"body":" true "}"#, true),
            (r#"{"code":201,"body":"true"}"#, true),
            (r#"{"code":200,"body":"{\"success\":false}"}"#, false),
            (r#"{"code":200,"body":"false"}"#, false),
            (r#"{"code":200,"body":"{\"success\": true}"}"#, false),
            (r#"{"code":400,"body":"{\"success\":true}"}"#, false),
            (r#"{"code":200,"body":{"success":true}}"#, false),
            (
                r#"{"code":200,"headers":[{"name":"Content-Type","value":"text/html"}],"body":"true"}"#,
                false,
            ),
            (
                r#"{"code":400,"body":"{\"error\":{\"message\":\"x\",\"code\":100}}"}"#,
                false,
            ),
        ];
        for (json, plain) in cases {
            let raw: RawItem = serde_json::from_str(json).unwrap();
            assert_eq!(raw.is_plain_success(), plain, "{json}");
            if plain {
                assert!(
                    decoded_acknowledgement(&client, &item, &raw).is_ok(),
                    "{json}"
                );
            }
        }
    }
}

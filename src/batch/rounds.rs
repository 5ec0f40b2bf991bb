//! A batch job's rounds: each answer matched to its call exactly, and every extra round (items
//! not executed, a throttled or failed batch request) held to the caller's retry policy.
//!
//! The rules, each from a way a server can answer:
//! - an item answered: that call's result;
//! - `null`: the server did not run the call, so it may go again (any call);
//! - no item for a call (fewer items than calls): the call may have run. It is never sent
//!   again unless idempotent; otherwise its error says the outcome is unknown;
//! - more items than calls: no item can be matched to its call, so every call of that request
//!   fails (outcome unknown) and none is reported done on the strength of a stray item;
//! - the batch request failed as a whole: the policy decides, as for any request (transient
//!   and idempotent calls only, the server's wait hint within the deadline).
//!
//! A call is sent at most [`RetryPolicy::attempts`] times in all, whatever the reason it went
//! again, and no wait (backoff, throttle, a pause for the usage headers) runs past the
//! policy's deadline: the job stops and reports instead.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};

use super::{BatchRequest, ItemDecoder, RawItem};
use crate::adaptive::Controller;
use crate::error::{Error, Result};
use crate::retry::{
    Attempt, ItemOutcome, RetryDecision, RetryPolicy, Strategy, batch_item_goes_again,
    batch_request_decision,
};

/// One batch job: the items' outcomes so far and what may still go.
pub(super) struct Job<'a, T> {
    batch: &'a BatchRequest,
    decode: ItemDecoder<T>,
    policy: RetryPolicy,
    started: Instant,
    /// Each item's latest outcome. For an item still pending, the error it ends with if it is
    /// not sent again.
    results: Vec<Option<Result<T>>>,
    /// How many times each item was sent.
    sent: Vec<u32>,
    /// Whether an item may have run: sent once with its answer lost or unmatched (a later
    /// `null` does not undo that).
    may_have_run: Vec<bool>,
    /// Items the next round sends: not executed, or idempotent and unanswered.
    pending: Vec<usize>,
    control: Controller,
}

impl<T: Send> crate::retry::Attempts for Job<'_, T> {
    type Output = ();

    fn strategy(&self) -> Strategy {
        Strategy::BatchRounds
    }

    async fn attempt(&mut self) -> Attempt<()> {
        self.round().await;
        let most = self.policy.attempts();
        let sent = &self.sent;
        self.pending.retain(|&i| sent[i] < most);
        if self.pending.is_empty() {
            return Attempt::Done(Ok(()));
        }
        tracing::debug!(
            again = self.pending.len(),
            "batch items not executed or not answered; sending them again"
        );
        Attempt::Again(Error::BatchFailed {
            message: format!(
                "{} item(s) not executed or not answered",
                self.pending.len()
            ),
            transient: true,
            may_have_run: false,
            source: None,
        })
    }
}

impl<'a, T: Send> Job<'a, T> {
    pub(super) fn new(batch: &'a BatchRequest, decode: ItemDecoder<T>) -> Self {
        let total = batch.items.len();
        Job {
            batch,
            decode,
            policy: batch.core.client.retry_policy(),
            started: Instant::now(),
            results: (0..total).map(|_| None).collect(),
            sent: vec![0; total],
            may_have_run: vec![false; total],
            pending: (0..total).collect(),
            control: Controller::new(batch.concurrency),
        }
    }

    /// Runs the rounds the caller's policy allows; one result per item, in order.
    pub(super) async fn run(mut self) -> Vec<Result<T>> {
        let policy = self.policy;
        let (_, rounds) = crate::retry::retry(policy, &mut self).await;
        tracing::debug!(rounds, "batch finished");
        self.results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Error::BatchFailed {
                        message: "no answer".into(),
                        transient: true,
                        may_have_run: false,
                        source: None,
                    })
                })
            })
            .collect()
    }

    /// Sends every pending item once, in batch requests of up to 50 as the controller allows;
    /// a request that failed as a whole goes again within the round when the policy allows
    /// (nothing new is sent before a throttle's wait is over), and items the server did not
    /// run are left pending for the next round.
    async fn round(&mut self) {
        let batch = self.batch;
        let mut queue: VecDeque<usize> = self.pending.drain(..).collect();
        let mut in_flight = FuturesUnordered::new();
        let mut calls_in_flight = 0;
        // Nothing new goes before this instant (a throttle, or a failed request's backoff).
        let mut hold: Option<Instant> = None;
        loop {
            while !queue.is_empty() && hold.is_none_or(|h| h <= Instant::now()) {
                let room = self.control.room(in_flight.len(), calls_in_flight);
                if room == 0 {
                    break;
                }
                // No retry starts after the deadline (one waiting behind slow requests may
                // reach it); such an item keeps the error of its last attempt.
                let late = !self.policy.fits(self.started.elapsed(), Duration::ZERO);
                let sent = &self.sent;
                let chunk: Vec<usize> = queue
                    .drain(..room.min(queue.len()))
                    .filter(|&i| !(late && sent[i] > 0))
                    .collect();
                if chunk.is_empty() {
                    continue;
                }
                for &i in &chunk {
                    self.sent[i] = self.sent[i].saturating_add(1);
                }
                calls_in_flight += chunk.len();
                in_flight.push(async move {
                    let answer = batch.send_chunk(&chunk).await;
                    (chunk, answer)
                });
            }
            let Some((chunk, answer)) = in_flight.next().await else {
                if queue.is_empty() {
                    break;
                }
                let wait = match hold.take() {
                    Some(until) => until.saturating_duration_since(Instant::now()),
                    None => self.control.saturated(),
                };
                if !self.policy.fits(self.started.elapsed(), wait) {
                    tracing::warn!(?wait, "the wait would pass the retry policy's deadline");
                    self.not_sent(queue);
                    break;
                }
                tracing::debug!(?wait, "pausing the batch");
                tokio::time::sleep(wait).await;
                continue;
            };
            calls_in_flight -= chunk.len();
            match answer {
                Err(err) => {
                    if let Some(wait) = self.failed(chunk, err, &mut queue) {
                        let until = Instant::now() + wait;
                        hold = Some(hold.map_or(until, |h| h.max(until)));
                    }
                }
                Ok(items) => {
                    self.control
                        .answered(chunk.len(), batch.core.client.usage_pressure());
                    self.answered(&chunk, items);
                }
            }
        }
    }

    /// A batch request answered: each item to its call, when they can be matched.
    fn answered(&mut self, chunk: &[usize], items: Vec<Option<RawItem>>) {
        let (calls, answers) = (chunk.len(), items.len());
        if answers > calls {
            // Which item answers which call cannot be known: trust none of them.
            let message = format!(
                "the server answered {answers} item(s) for {calls} calls, so no item can be \
                 matched to its call; this call may have run"
            );
            for &i in chunk {
                self.may_have_run[i] = true;
                self.results[i] = Some(Err(unknown(message.clone())));
            }
            return;
        }
        let client = &self.batch.core.client;
        let most = self.policy.attempts();
        let mut items = items.into_iter();
        for &i in chunk {
            let item = &self.batch.items[i];
            match items.next() {
                Some(Some(raw)) => self.results[i] = Some((self.decode)(client, item, &raw)),
                // `null`: the server did not run it; sending it again is safe.
                Some(None) => {
                    self.results[i] = Some(Err(Error::BatchFailed {
                        message: format!(
                            "the server did not execute this item (sent {} of at most {most} \
                             times)",
                            self.sent[i]
                        ),
                        transient: true,
                        // Not this time; an earlier send whose answer was lost still counts.
                        may_have_run: self.may_have_run[i],
                        source: None,
                    }));
                    if batch_item_goes_again(ItemOutcome::NotRun, item.effect) {
                        self.pending.push(i);
                    }
                }
                None => {
                    self.may_have_run[i] = true;
                    self.results[i] = Some(Err(unknown(format!(
                        "the server answered {answers} item(s) for {calls} calls and none for \
                         this one; it may have run: check before sending it again"
                    ))));
                    if batch_item_goes_again(ItemOutcome::Unanswered, item.effect) {
                        self.pending.push(i);
                    }
                }
            }
        }
    }

    /// A batch request failed as a whole: each of its calls gets the error, and those the
    /// policy allows (idempotent, transient, attempts and deadline left) go again after the
    /// wait returned.
    fn failed(
        &mut self,
        chunk: Vec<usize>,
        err: Error,
        queue: &mut VecDeque<usize>,
    ) -> Option<Duration> {
        if err.is_rate_limited() {
            self.control.throttled();
        } else {
            self.control
                .answered(chunk.len(), self.batch.core.client.usage_pressure());
        }
        let attempt = chunk.iter().map(|&i| self.sent[i]).max().unwrap_or(1);
        let decision = batch_request_decision(&self.policy, attempt, &err, self.started.elapsed());
        let outcome = match decision {
            RetryDecision::RetryAfter(_) => ItemOutcome::RequestRetried,
            RetryDecision::GiveUp => ItemOutcome::RequestGivenUp,
        };
        let transient = err.is_transient();
        let unknown = err.outcome_unknown();
        let message = err.to_string();
        let source = Arc::new(err);
        let mut again = Vec::new();
        for i in chunk {
            self.may_have_run[i] |= unknown;
            self.results[i] = Some(Err(Error::BatchFailed {
                message: message.clone(),
                transient,
                may_have_run: self.may_have_run[i],
                source: Some(Arc::clone(&source)),
            }));
            if batch_item_goes_again(outcome, self.batch.items[i].effect) {
                again.push(i);
            }
        }
        let RetryDecision::RetryAfter(wait) = decision else {
            return None;
        };
        if again.is_empty() {
            return None;
        }
        tracing::warn!(
            ?wait,
            items = again.len(),
            error = %message,
            "batch request failed; sending it again"
        );
        for i in again.into_iter().rev() {
            queue.push_front(i);
        }
        Some(wait)
    }

    /// Items left unsent because the next wait would pass the deadline: each keeps the error
    /// of its last attempt, or says it was not sent.
    fn not_sent(&mut self, queue: VecDeque<usize>) {
        for i in queue {
            self.results[i].get_or_insert_with(|| {
                Err(Error::BatchFailed {
                    message: "not sent: the usage headers asked for a wait past the retry \
                              policy's deadline"
                        .into(),
                    transient: true,
                    may_have_run: false,
                    source: None,
                })
            });
        }
    }
}

/// A call whose answer is missing or cannot be told apart: it may have run.
fn unknown(message: String) -> Error {
    Error::BatchFailed {
        message,
        transient: false,
        may_have_run: true,
        source: None,
    }
}

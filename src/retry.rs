//! When to try a failed request again: the policy (a pure function, unit-tested without HTTP),
//! the one retry loop, and its named strategies. Nothing outside this module decides whether a
//! request goes again; what a program sets is the [`RetryPolicy`].
//!
//! A request is retried only when the failure is transient ([`Error::is_transient`]) **and**
//! retrying is safe, as the request's effect says: reads, DELETEs and POSTs that set a state
//! (assigning tasks, installing an app, renaming) may go again; creates and mints never, once
//! they may have reached the server (a connection that never opened was not sent, so it may).
//! The strategies (the crate's `Strategy`): a plain request; the system-user create, which
//! looks before it tries again (see
//! [`CreateSystemUser::send`](crate::calls::CreateSystemUser::send)); and a batch, whose items
//! the server did not run go again in later rounds.

use std::time::Duration;

use crate::error::Error;

/// How many times, how fast and for how long to retry.
///
/// The default: 3 attempts in all, full-jitter exponential backoff from 500 ms capped at 30 s,
/// an overall deadline of 2 minutes, and server hints (`Retry-After`,
/// `estimated_time_to_regain_access`) honoured when they fit in the deadline.
///
/// ```
/// use std::time::Duration;
/// use meta_business::retry::RetryPolicy;
/// let policy = RetryPolicy::default().max_attempts(5).base_delay(Duration::from_millis(200));
/// assert_eq!(RetryPolicy::none().attempts(), 1);
/// # let _ = policy;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base: Duration,
    cap: Duration,
    deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            deadline: Some(Duration::from_secs(120)),
        }
    }
}

/// What to do after a failed attempt.
///
/// ```
/// use std::time::Duration;
/// use meta_business::Client;
/// use meta_business::retry::RetryPolicy;
/// // Reads are retried on transient failures; creates never blindly.
/// let patient = RetryPolicy::default().max_attempts(8).base_delay(Duration::from_millis(500));
/// let client = Client::builder().access_token("EAAB...").retry_policy(patient).build()?;
/// assert_eq!(client.retry_policy().attempts(), 8);
/// # Ok::<(), meta_business::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Give up and return the error.
    GiveUp,
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first backoff ceiling; each retry doubles it, up to the cap.
    pub fn base_delay(mut self, base: Duration) -> Self {
        self.base = base;
        self
    }

    /// The longest backoff between two attempts.
    pub fn max_delay(mut self, cap: Duration) -> Self {
        self.cap = cap;
        self
    }

    /// The longest time from the first attempt after which no retry starts (`None`: no limit).
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Attempts in all.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether a wait of `wait`, starting `elapsed` after the first attempt, ends within the
    /// deadline: a caller that waits for other reasons than a failure (a batch paused by the
    /// usage headers) holds itself to the deadline as a retry does.
    pub(crate) fn fits(&self, elapsed: Duration, wait: Duration) -> bool {
        self.deadline
            .is_none_or(|deadline| elapsed.saturating_add(wait) <= deadline)
    }

    /// Decides after attempt number `attempt` (1 for the first) failed with `error`.
    ///
    /// `idempotent` says whether re-sending is safe; `elapsed` is the time since the first
    /// attempt; `jitter` is a uniform random number in `[0, 1)` (full jitter: the wait is
    /// `jitter × min(cap, base × 2^(attempt-1))`). A server hint (`Retry-After`, or
    /// `estimated_time_to_regain_access` on a rate limit) replaces the backoff; if it does not
    /// fit before the deadline the policy gives up at once rather than sleep for minutes.
    pub fn decide(
        &self,
        attempt: u32,
        error: &Error,
        idempotent: bool,
        elapsed: Duration,
        jitter: f64,
    ) -> RetryDecision {
        if attempt >= self.max_attempts || !error.is_transient() {
            return RetryDecision::GiveUp;
        }
        // A request whose connection never opened was not sent: always safe to repeat.
        if !idempotent && !error.is_connect() {
            return RetryDecision::GiveUp;
        }
        let wait = match server_hint(error) {
            Some(hint) => hint,
            None => {
                let exp = self.base.saturating_mul(
                    1u32.checked_shl(attempt.saturating_sub(1))
                        .unwrap_or(u32::MAX),
                );
                let jitter = if jitter.is_finite() {
                    jitter.clamp(0.0, 1.0)
                } else {
                    1.0
                };
                exp.min(self.cap).mul_f64(jitter)
            }
        };
        if self.fits(elapsed, wait) {
            RetryDecision::RetryAfter(wait)
        } else {
            RetryDecision::GiveUp
        }
    }
}

/// What a request does to the server's state: whether sending it again is safe, and whether
/// it may mint or create something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Reads (a GET, a list, a `debug_token`): safe to repeat.
    Reads,
    /// Sets a state the same way each time (an assignment, an install, a rename, a DELETE):
    /// safe to repeat.
    Sets,
    /// Creates or mints (a system user, a business, a token, a claim, a batch that may carry
    /// any of these): never sent again once it may have reached the server.
    Creates,
}

impl Effect {
    /// What a request of this method does unless its builder says otherwise: a GET reads, a
    /// DELETE sets, a POST creates (the safe guess for a write nobody has described).
    pub(crate) fn of_method(method: &reqwest::Method) -> Effect {
        match *method {
            reqwest::Method::GET => Effect::Reads,
            reqwest::Method::POST => Effect::Creates,
            _ => Effect::Sets,
        }
    }

    /// Whether sending it again after a transient failure is safe.
    pub(crate) fn repeatable(self) -> bool {
        !matches!(self, Effect::Creates)
    }
}

/// How a retrying caller's attempts may be repeated: the crate's three strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// One request, sent again after a transient failure when its [`Effect`] is repeatable,
    /// or when its connection never opened.
    Plain(Effect),
    /// A create, never repeated blindly: after a failure whose outcome is unknown the attempt
    /// looks (lists what exists) and answers [`Attempt::Again`] only once the look shows nothing
    /// was created; what it found is the answer otherwise. A create is not idempotent: what
    /// makes this repetition safe is the look, not the request.
    LookBeforeRetry,
    /// A batch job: every round sends again only the items the server did not run (`null`
    /// answers) and the repeatable items left unanswered ([`batch_item_goes_again`]); a batch
    /// request that failed as a whole is decided by [`batch_request_decision`].
    BatchRounds,
}

impl Strategy {
    /// Whether the failed attempt may be repeated at all (the policy then decides when).
    fn may_repeat(self, error: &Error) -> bool {
        match self {
            Strategy::Plain(effect) => effect.repeatable() || error.is_connect(),
            // The attempt said `Again` only after the look showed the create did not happen.
            Strategy::LookBeforeRetry => true,
            // Only items that may go again stay pending for the next round.
            Strategy::BatchRounds => true,
        }
    }
}

/// How one answer of a batch left its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemOutcome {
    /// `null`: the server did not run the call.
    NotRun,
    /// No item answered the call (a short answer): it may have run.
    Unanswered,
    /// The batch request failed as a whole, and the policy allows another attempt.
    RequestRetried,
    /// The batch request failed as a whole, and the policy gives up.
    RequestGivenUp,
}

/// Whether a call of a batch goes again in a later round: a call the server did not run may,
/// whatever it does; one that may have run only when repeating it is safe.
pub(crate) fn batch_item_goes_again(outcome: ItemOutcome, effect: Effect) -> bool {
    match outcome {
        ItemOutcome::NotRun => true,
        ItemOutcome::Unanswered | ItemOutcome::RequestRetried => effect.repeatable(),
        ItemOutcome::RequestGivenUp => false,
    }
}

/// The decision for a batch request that failed as a whole after attempt `attempt` (the most
/// any of its calls was sent). A connection that never opened was retried by the send path
/// already, within the same policy; otherwise the policy decides as for a repeatable request,
/// and [`batch_item_goes_again`] keeps the calls that may not go.
pub(crate) fn batch_request_decision(
    policy: &RetryPolicy,
    attempt: u32,
    error: &Error,
    elapsed: Duration,
) -> RetryDecision {
    if error.is_connect() {
        return RetryDecision::GiveUp;
    }
    policy.decide(attempt, error, true, elapsed, fastrand::f64())
}

/// The outcome of one attempt, for [`retry`].
pub(crate) enum Attempt<T> {
    /// Finished: a success, or a failure that trying again cannot change.
    Done(crate::Result<T>),
    /// Failed; the strategy and the policy decide whether to try again.
    Again(Error),
}

/// What differs between the crate's retrying callers: what one attempt is, and which
/// [`Strategy`] repeats it. [`retry`] is the one loop they share.
pub(crate) trait Attempts {
    /// What a successful attempt gives.
    type Output;
    /// How a failed attempt may be repeated.
    fn strategy(&self) -> Strategy;
    /// How long pacing asks to wait before the next attempt; the loop holds it to the
    /// policy's deadline as it does a server hint.
    fn pace(&self) -> Duration {
        Duration::ZERO
    }
    /// One attempt.
    fn attempt(&mut self) -> impl std::future::Future<Output = Attempt<Self::Output>> + Send;
}

/// The crate's one retry loop: attempts until one is done or the policy gives up, sleeping the
/// policy's backoff (or the server's hint) in between. Returns the result and the number of
/// attempts made.
pub(crate) async fn retry<A: Attempts>(
    policy: RetryPolicy,
    attempts: &mut A,
) -> (crate::Result<A::Output>, u32) {
    let started = std::time::Instant::now();
    let mut attempt = 1u32;
    // The error of the attempt before, for when pacing's wait would pass the deadline.
    let mut last: Option<Error> = None;
    loop {
        let pace = attempts.pace();
        if !pace.is_zero() {
            if policy.fits(started.elapsed(), pace) {
                tracing::debug!(?pace, "usage above the pacing threshold; waiting");
                tokio::time::sleep(pace).await;
            } else if let Some(err) = last.take() {
                // As with a server hint past the deadline: the error comes back at once.
                tracing::debug!(
                    ?pace,
                    "pacing's wait would pass the retry deadline; giving up"
                );
                let made = attempt.saturating_sub(1);
                return (Err(err.with_attempts(made)), made);
            } else {
                // The first attempt is sent without the wait: the server's answer, not a
                // guess from an old reading, decides whether the call fails.
                tracing::debug!(
                    ?pace,
                    "pacing's wait would pass the retry deadline; not waiting"
                );
            }
        }
        let err = match attempts.attempt().await {
            Attempt::Done(result) => {
                return (result.map_err(|e| e.with_attempts(attempt)), attempt);
            }
            Attempt::Again(err) => err,
        };
        match policy.decide(
            attempt,
            &err,
            attempts.strategy().may_repeat(&err),
            started.elapsed(),
            fastrand::f64(),
        ) {
            RetryDecision::RetryAfter(wait) => {
                tracing::debug!(attempt, ?wait, error = %err, "transient failure; trying again");
                tokio::time::sleep(wait).await;
                last = Some(err);
                attempt += 1;
            }
            RetryDecision::GiveUp => return (Err(err.with_attempts(attempt)), attempt),
        }
    }
}

/// The longest wait a server hint can ask for; a policy without a deadline would otherwise
/// sleep for as long as a hostile header says.
const MAX_SERVER_WAIT: Duration = Duration::from_secs(3600);

/// The wait the server asked for: `Retry-After` (seconds), or on a rate limit the longest
/// `estimated_time_to_regain_access`; at most an hour.
pub(crate) fn server_hint(error: &Error) -> Option<Duration> {
    raw_server_hint(error).map(|d| d.min(MAX_SERVER_WAIT))
}

fn raw_server_hint(error: &Error) -> Option<Duration> {
    let api = error.api_error()?;
    if let Some(secs) = api
        .headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(secs));
    }
    if api.is_rate_limited() {
        return api.usage().regain_access_in();
    }
    None
}

#[cfg(test)]
mod tests {
    use reqwest::Method;
    use reqwest::header::HeaderMap;

    use super::*;
    use crate::error::{ApiError, GraphError};

    fn api(code: i64, headers: HeaderMap) -> Error {
        Error::Api(Box::new(ApiError {
            graph: GraphError {
                code: Some(code),
                ..Default::default()
            },
            status: 400,
            method: Method::GET,
            path: "/v26.0/x".into(),
            headers,
        }))
    }

    const NOW: Duration = Duration::ZERO;

    #[test]
    fn transient_and_idempotent_is_retried_with_capped_full_jitter() {
        let p = RetryPolicy::default().max_attempts(10);
        let e = api(2, HeaderMap::new());
        // (attempt, jitter draw) → wait: 0.5 s doubling, capped at 30 s, times the draw.
        for (attempt, draw, wait) in [
            (1, 1.0, Duration::from_millis(500)),
            (2, 1.0, Duration::from_secs(1)),
            (3, 0.5, Duration::from_secs(1)),
            (9, 1.0, Duration::from_secs(30)),
            (1, 0.0, Duration::ZERO),
        ] {
            assert_eq!(
                p.decide(attempt, &e, true, NOW, draw),
                RetryDecision::RetryAfter(wait),
                "attempt {attempt}, draw {draw}"
            );
        }
        assert_eq!(p.decide(40, &e, true, NOW, 1.0), RetryDecision::GiveUp);
    }

    #[test]
    fn attempts_deadline_and_classification_stop_it() {
        let p = RetryPolicy::default();
        let e = api(613, HeaderMap::new());
        assert!(matches!(
            p.decide(2, &e, true, NOW, 0.5),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(p.decide(3, &e, true, NOW, 0.5), RetryDecision::GiveUp);
        assert_eq!(
            p.decide(1, &e, true, Duration::from_secs(200), 0.5),
            RetryDecision::GiveUp
        );
        for code in [100, 190, 200, 10] {
            assert_eq!(
                p.decide(1, &api(code, HeaderMap::new()), true, NOW, 0.5),
                RetryDecision::GiveUp,
                "{code}"
            );
        }
        assert_eq!(
            RetryPolicy::none().decide(1, &e, true, NOW, 0.5),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn non_idempotent_posts_are_never_retried() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.decide(1, &api(2, HeaderMap::new()), false, NOW, 0.5),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn server_hints_replace_the_backoff_and_respect_the_deadline() {
        let p = RetryPolicy::default();
        let mut h = HeaderMap::new();
        h.insert("x-business-use-case-usage", r#"{"1":[{"type":"ads_management","call_count":100,"estimated_time_to_regain_access":1}]}"#.parse().unwrap());
        assert_eq!(
            p.decide(1, &api(80004, h.clone()), true, NOW, 0.1),
            RetryDecision::RetryAfter(Duration::from_secs(60))
        );
        assert_eq!(
            p.decide(
                1,
                &api(80004, h.clone()),
                true,
                Duration::from_secs(100),
                0.1
            ),
            RetryDecision::GiveUp
        );
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(
            p.decide(1, &api(4, h), true, NOW, 0.9),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
    }

    #[test]
    fn a_create_is_never_said_repeatable_and_each_strategy_decides_here() {
        let transient = api(2, HeaderMap::new());
        assert!(!Effect::Creates.repeatable());
        assert!(Effect::Reads.repeatable() && Effect::Sets.repeatable());
        // A POST nobody described is taken to create.
        assert_eq!(Effect::of_method(&Method::POST), Effect::Creates);
        assert_eq!(Effect::of_method(&Method::GET), Effect::Reads);
        assert_eq!(Effect::of_method(&Method::DELETE), Effect::Sets);
        assert!(!Strategy::Plain(Effect::Creates).may_repeat(&transient));
        assert!(Strategy::Plain(Effect::Sets).may_repeat(&transient));
        // The create goes again only because its attempt looked first.
        assert!(Strategy::LookBeforeRetry.may_repeat(&transient));
        // A batch: a call not run may go again whatever it does; one that may have run only
        // when repeating it is safe; none once the policy gave up.
        for (outcome, effect, again) in [
            (ItemOutcome::NotRun, Effect::Creates, true),
            (ItemOutcome::Unanswered, Effect::Creates, false),
            (ItemOutcome::Unanswered, Effect::Sets, true),
            (ItemOutcome::RequestRetried, Effect::Creates, false),
            (ItemOutcome::RequestRetried, Effect::Reads, true),
            (ItemOutcome::RequestGivenUp, Effect::Reads, false),
        ] {
            assert_eq!(
                batch_item_goes_again(outcome, effect),
                again,
                "{outcome:?} {effect:?}"
            );
        }
        let p = RetryPolicy::default();
        assert!(matches!(
            batch_request_decision(&p, 1, &transient, NOW),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(
            batch_request_decision(&p, 3, &transient, NOW),
            RetryDecision::GiveUp
        );
    }
}

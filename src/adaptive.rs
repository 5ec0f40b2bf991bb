//! How many batch requests of a bulk job are in flight: a fixed number, or (the default) as many
//! as the usage headers allow. Meta reports, on every answer, the share of the business's and
//! the app's call budget used (`X-Business-Use-Case-Usage`, `X-App-Usage`); the controller
//! sends more while that share is low, fewer as it climbs, keeps the calls in flight under a
//! ceiling by the cost of a call it has measured, pauses when the ceiling is reached, and waits
//! out a throttle (`estimated_time_to_regain_access`) rather than sending into it. Every wait is
//! held to the client's retry policy by the batch job: none runs past its deadline.

use std::time::Duration;

use crate::batch::MAX_BATCH;

/// How many requests of a bulk job may be in flight at once.
///
/// ```
/// use meta_business::AdAccountTask;
/// use meta_business::bulk::Concurrency;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// let ops = || demo.ad_accounts.iter().map(|a| client.ad_account(*a).assign(&su.id, [AdAccountTask::Analyze]));
/// // The default follows the usage headers, up to 16 batch requests in flight.
/// assert_eq!(Concurrency::default(), Concurrency::Adaptive { max: 16 });
/// client.bulk(ops()).send().await?;
/// // A fixed number, whatever the headers say.
/// client.bulk(ops()).concurrency(4).send().await?;
/// // Adaptive, with another ceiling.
/// client.bulk(ops()).adaptive(64).send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Concurrency {
    /// Exactly this many in flight (at least 1), whatever the usage headers say.
    Fixed(usize),
    /// From 4, up to `max`, as the usage headers allow: more while they are low, fewer as they
    /// climb, a pause near the budget and after a throttle.
    Adaptive {
        /// The most in flight.
        max: usize,
    },
}

impl Default for Concurrency {
    fn default() -> Self {
        Concurrency::Adaptive { max: 16 }
    }
}

/// Requests in flight before the first answer says what a call costs.
const START: usize = 4;
/// Below this share of the budget, one more request may be in flight after each answer.
const LOW: f64 = 50.0;
/// Above it, half as many.
const HIGH: f64 = 75.0;
/// The share the calls in flight are kept under, by the measured cost of a call.
const CEILING: f64 = 85.0;
/// The first pause when the ceiling is reached with nothing in flight; it doubles while the
/// share stays there.
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// The state of one bulk job's concurrency.
#[derive(Debug)]
pub(crate) struct Controller {
    mode: Concurrency,
    limit: usize,
    /// The latest share of the budget used, in percent.
    pct: f64,
    /// What one call adds to the share (measured: the most seen, per call sent).
    per_call: f64,
    sent: u64,
    pause: Duration,
    /// After a pause, one small request may go to learn the share again.
    probe: bool,
}

impl Controller {
    pub(crate) fn new(mode: Concurrency) -> Self {
        let limit = match mode {
            Concurrency::Fixed(n) => n.max(1),
            Concurrency::Adaptive { max } => START.min(max.max(1)),
        };
        Controller {
            mode,
            limit,
            pct: 0.0,
            per_call: 0.0,
            sent: 0,
            pause: FIRST_PAUSE,
            probe: false,
        }
    }

    pub(crate) fn is_adaptive(&self) -> bool {
        matches!(self.mode, Concurrency::Adaptive { .. })
    }

    /// How many calls the next request may carry now (0: none may go), given the requests
    /// and calls in flight.
    pub(crate) fn room(&mut self, requests: usize, calls: usize) -> usize {
        if requests >= self.limit {
            return 0;
        }
        if !self.is_adaptive() || self.per_call <= 0.0 {
            return MAX_BATCH;
        }
        let headroom = CEILING - self.pct - calls as f64 * self.per_call;
        let fits = if headroom > 0.0 {
            (headroom / self.per_call).floor()
        } else {
            0.0
        };
        if fits >= 1.0 {
            return (fits as usize).min(MAX_BATCH);
        }
        if requests == 0 && std::mem::take(&mut self.probe) {
            return 1;
        }
        0
    }

    /// A request of `calls` calls was answered; `usage` is the share the answer reported.
    pub(crate) fn answered(&mut self, calls: usize, usage: Option<f64>) {
        self.sent = self.sent.saturating_add(calls as u64);
        let Concurrency::Adaptive { max } = self.mode else {
            return;
        };
        if let Some(pct) = usage.filter(|p| p.is_finite()) {
            self.pct = pct.clamp(0.0, 100.0);
            if self.pct > 0.0 && self.sent > 0 {
                // The most a call was seen to cost: calls leaving the window only lower the
                // ratio later, so the first readings make the estimate cautious.
                self.per_call = self.per_call.max(self.pct / self.sent as f64);
            }
        }
        if self.pct < LOW {
            self.limit = (self.limit + 1).min(max.max(1));
        } else if self.pct > HIGH {
            self.limit = (self.limit / 2).max(1);
        }
        if self.pct < HIGH {
            self.pause = FIRST_PAUSE;
        }
    }

    /// Nothing may go and nothing is in flight: how long to wait before one small request
    /// learns the share again (the wait doubles while the share stays at the ceiling).
    pub(crate) fn saturated(&mut self) -> Duration {
        let wait = self.pause;
        self.pause = (self.pause * 2).min(MAX_PAUSE);
        self.probe = true;
        wait
    }

    /// A request was refused for throttling: one at a time from now (a fixed concurrency stays
    /// as it was set). How long to wait is the retry policy's call (the server's hint, within
    /// the caller's deadline), not this one's.
    pub(crate) fn throttled(&mut self) {
        if !self.is_adaptive() {
            return;
        }
        self.limit = 1;
        self.pct = 100.0;
        self.probe = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_while_low_fewer_as_it_climbs_and_never_over_the_ceiling() {
        let mut c = Controller::new(Concurrency::Adaptive { max: 8 });
        assert_eq!(c.room(0, 0), MAX_BATCH);
        assert_eq!(c.room(4, 200), 0, "4 in flight before any answer");
        c.answered(50, Some(5.0)); // 0.1 % per call
        assert_eq!(c.limit, 5);
        // 150 calls in flight at 0.1 %: 5 + 15 = 20 % used, room for 50 more.
        assert_eq!(c.room(3, 150), MAX_BATCH);
        c.answered(50, Some(84.5)); // now 0.845 % per call: the most seen
        assert_eq!(c.limit, 2, "halved above 75 %");
        assert_eq!(c.room(1, 50), 0, "84.5 % + 50 calls would pass the ceiling");
        assert_eq!(c.room(0, 0), 0, "no room yet");
        assert_eq!(c.saturated(), FIRST_PAUSE);
        assert_eq!(c.room(0, 0), 1, "a probe after the pause");
        assert_eq!(c.room(0, 0), 0, "one probe");
        assert_eq!(c.saturated(), FIRST_PAUSE * 2);
        c.answered(1, Some(10.0));
        assert!(c.room(0, 0) > 0);
        c.throttled();
        assert_eq!(c.limit, 1);
    }

    /// A hostile usage header (not a number, infinite, far past 100 %) never makes a pause
    /// longer than the cap, nor a share outside 0–100, nor a room past one batch.
    #[test]
    fn nonsense_usage_keeps_every_pause_bounded() {
        for usage in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e308,
            -1e308,
            1e-308,
        ] {
            let mut c = Controller::new(Concurrency::default());
            c.answered(1, Some(usage));
            c.answered(usize::MAX, Some(usage));
            assert!((0.0..=100.0).contains(&c.pct), "{usage}: {}", c.pct);
            assert!(c.per_call.is_finite(), "{usage}");
            assert!(c.room(0, usize::MAX) <= MAX_BATCH, "{usage}");
            for _ in 0..64 {
                assert!(c.saturated() <= MAX_PAUSE, "{usage}");
            }
            assert!(c.limit >= 1);
        }
    }

    #[test]
    fn fixed_ignores_the_headers() {
        let mut c = Controller::new(Concurrency::Fixed(3));
        c.answered(50, Some(99.0));
        c.throttled();
        assert_eq!(c.room(2, 100), MAX_BATCH);
        assert_eq!(c.room(3, 150), 0);
    }
}

//! Slowing down before the rate limit instead of running into it.

use std::time::Duration;

use crate::client::SeenUsage;

/// Slowing down before the limit instead of running into it.
///
/// When the last usage reported for a business object (`X-Business-Use-Case-Usage`) or for the
/// app (`X-App-Usage`) is at or above `threshold` percent, the next call to that object (or any
/// call, for the app) first waits: the server's `estimated_time_to_regain_access` when it gave
/// one, otherwise a share of `max_wait` growing from 0 at the threshold to all of it at 100 %,
/// less the time already passed since the reading.
///
/// The wait counts against the [`RetryPolicy`](crate::retry::RetryPolicy) deadline: when it would
/// pass it, a call's first attempt goes without waiting, and a retry is not made (the last
/// attempt's error comes back at once, as with a `Retry-After` past the deadline).
///
/// ```
/// use std::time::Duration;
/// use meta_business::usage::Pacing;
/// let pacing = Pacing::new(80.0).max_wait(Duration::from_secs(10));
/// # let _ = pacing;
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    threshold: f64,
    max_wait: Duration,
}

impl Pacing {
    /// Paces above `threshold` percent (clamped to 1–99), waiting at most 60 s by default.
    pub fn new(threshold: f64) -> Self {
        let threshold = if threshold.is_finite() {
            threshold
        } else {
            80.0
        };
        Pacing {
            threshold: threshold.clamp(1.0, 99.0),
            max_wait: Duration::from_secs(60),
        }
    }

    /// The longest wait before one call.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    pub(crate) fn wait_for(&self, seen: SeenUsage) -> Duration {
        // A reading that is not a number says nothing: no wait (and no NaN in the arithmetic).
        if !seen.pct.is_finite() || seen.pct < self.threshold {
            return Duration::ZERO;
        }
        let wanted = if seen.regain.is_zero() {
            let share = ((seen.pct - self.threshold) / (100.0 - self.threshold)).clamp(0.0, 1.0);
            if share.is_finite() {
                self.max_wait.mul_f64(share)
            } else {
                self.max_wait
            }
        } else {
            seen.regain
        };
        wanted.min(self.max_wait).saturating_sub(seen.at.elapsed())
    }
}

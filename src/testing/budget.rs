//! A per-business call budget over a sliding window, as Meta's Business Use Case rate limits
//! work: each call (each item of a batch) counts; the usage header reports the share used;
//! past the budget, calls are refused with error 80004 until enough of them leave the window.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct CallBudget {
    calls: u32,
    window: Duration,
    seen: HashMap<String, VecDeque<Instant>>,
}

impl CallBudget {
    pub(crate) fn new(calls: u32, window: Duration) -> Self {
        CallBudget {
            calls: calls.max(1),
            window,
            seen: HashMap::new(),
        }
    }

    fn recent(&mut self, business: &str, now: Instant) -> &mut VecDeque<Instant> {
        let window = self.window;
        let seen = self.seen.entry(business.to_owned()).or_default();
        while seen
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            seen.pop_front();
        }
        seen
    }

    /// Counts `n` calls of `business` if they fit; otherwise the minutes until they would
    /// (what `estimated_time_to_regain_access` says, at least 1), and nothing is counted.
    pub(crate) fn admit(&mut self, business: &str, n: u32, now: Instant) -> Result<(), u64> {
        let (budget, window) = (self.calls as usize, self.window);
        let seen = self.recent(business, now);
        let n = n as usize;
        if seen.len() + n <= budget {
            seen.extend(std::iter::repeat_n(now, n));
            return Ok(());
        }
        // The call that must leave the window before these fit.
        let leaving = (seen.len() + n).saturating_sub(budget).saturating_sub(1);
        let wait = seen
            .get(leaving)
            .map_or(window, |t| window.saturating_sub(now.duration_since(*t)));
        Err(wait.as_secs().div_ceil(60).max(1))
    }

    /// The share of the budget used in the window, in percent.
    pub(crate) fn pct(&mut self, business: &str, now: Instant) -> u64 {
        let budget = u64::from(self.calls);
        let used = self.recent(business, now).len() as u64;
        (used * 100 / budget).min(100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_leave_the_window_and_the_refusal_says_when() {
        let start = Instant::now();
        let mut budget = CallBudget::new(10, Duration::from_secs(90));
        assert_eq!(budget.admit("b", 8, start), Ok(()));
        assert_eq!(budget.pct("b", start), 80);
        assert_eq!(budget.admit("b", 3, start), Err(2), "90 s left: 2 minutes");
        assert_eq!(budget.admit("b", 2, start), Ok(()));
        assert_eq!(budget.pct("other", start), 0);
        let later = start + Duration::from_secs(90);
        assert_eq!(budget.pct("b", later), 0);
        assert_eq!(budget.admit("b", 10, later), Ok(()));
    }
}

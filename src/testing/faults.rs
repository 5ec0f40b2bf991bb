//! Faults the emulator can inject, to test retries, timeouts and error handling.

use std::time::Duration;

/// What goes wrong.
///
/// ```
/// use meta_business::testing::{Fault, FaultRule};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// // The server creates the system user, then the answer is lost (a 502 from a proxy): the
/// // create is never re-sent blindly; the client reads the list again and finds it.
/// emulator.inject(
///     FaultRule::new(Fault::after_work(Fault::Http { status: 502 })).on("POST", "/system_users").times(1),
/// );
/// let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// assert_eq!(emulator.system_users(demo.business_id).len(), 1);
/// # let _ = su;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// A Graph error envelope with this code (HTTP 500 for codes 1 and 2, 400 otherwise),
    /// `is_transient` set for codes 1 and 2.
    Graph {
        /// Error code.
        code: i64,
        /// Error subcode.
        subcode: Option<i64>,
    },
    /// A rate limit (codes 4, 17, 32, 613, 80000–80014): usage headers at 100 % with
    /// `estimated_time_to_regain_access`.
    Throttle {
        /// Error code.
        code: i64,
        /// Minutes until access returns, as the usage header says.
        regain_minutes: u64,
    },
    /// A bare HTTP error with an HTML body, as a proxy in front of the Graph API sends it.
    Http {
        /// HTTP status (502, 503…).
        status: u16,
    },
    /// The normal answer, after this delay (to test timeouts).
    Delay(Duration),
    /// A truncated JSON body with status 200.
    Malformed,
    /// This status and body, as sent (`application/json`): a 400 without a Graph envelope, a
    /// 200 of HTML…
    Raw {
        /// HTTP status.
        status: u16,
        /// The body.
        body: String,
    },
    /// The request is carried out (the system user is created, the task assigned), then the
    /// answer is this fault instead: a server that fails after doing the work. With
    /// [`Fault::Delay`] inside, the normal answer comes late (a timeout after the write).
    AfterWork(Box<Fault>),
}

impl Fault {
    /// A Graph error with this code.
    pub fn graph(code: i64) -> Self {
        Fault::Graph {
            code,
            subcode: None,
        }
    }

    /// The request is carried out, then answered with `fault`.
    pub fn after_work(fault: Fault) -> Self {
        Fault::AfterWork(Box::new(fault))
    }

    /// A rate limit with this code, access back in 5 minutes.
    pub fn throttle(code: i64) -> Self {
        Fault::Throttle {
            code,
            regain_minutes: 5,
        }
    }
}

/// When a fault applies: which requests, after how many, how many times.
///
/// ```
/// use meta_business::testing::{Fault, FaultRule};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// // Two transient errors on reads, then the normal answer: the client's retries absorb them.
/// emulator.inject(FaultRule::new(Fault::graph(2)).on("GET", "/system_users").times(2));
/// let users = client.business(demo.business_id).system_users().list().collect(10).await?;
/// assert!(users.is_empty());
/// assert_eq!(emulator.requests().len(), 3);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FaultRule {
    pub(crate) method: Option<String>,
    pub(crate) path_contains: Option<String>,
    pub(crate) skip: u64,
    pub(crate) times: Option<u64>,
    pub(crate) fault: Fault,
}

impl FaultRule {
    /// The fault on every request.
    pub fn new(fault: Fault) -> Self {
        FaultRule {
            method: None,
            path_contains: None,
            skip: 0,
            times: None,
            fault,
        }
    }

    /// Only on requests with this method whose path contains this fragment (e.g.
    /// `("POST", "/system_users")`).
    pub fn on(mut self, method: &str, path_contains: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self.path_contains = Some(path_contains.to_owned());
        self
    }

    /// Lets the first `n` matching requests through ("throttle after N calls").
    ///
    /// ```
    /// use meta_business::testing::{Fault, FaultRule};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// // Throttle after two calls.
    /// emulator.inject(FaultRule::new(Fault::throttle(4)).after(2));
    /// let business = client.business(demo.business_id);
    /// business.get().send().await?;
    /// business.get().send().await?;
    /// assert!(business.get().send().await.unwrap_err().is_rate_limited());
    /// # Ok(()) }
    /// ```
    pub fn after(mut self, n: u64) -> Self {
        self.skip = n;
        self
    }

    /// Applies at most `times` times, then stops.
    pub fn times(mut self, times: u64) -> Self {
        self.times = Some(times);
        self
    }

    /// Whether the rule matches this request; counts it if so. Returns the fault to apply.
    pub(crate) fn hit(&mut self, method: &str, path: &str) -> Option<Fault> {
        if self.method.as_deref().is_some_and(|m| m != method) {
            return None;
        }
        if self
            .path_contains
            .as_deref()
            .is_some_and(|p| !path.contains(p))
        {
            return None;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return None;
        }
        match &mut self.times {
            Some(0) => None,
            Some(n) => {
                *n -= 1;
                Some(self.fault.clone())
            }
            None => Some(self.fault.clone()),
        }
    }
}

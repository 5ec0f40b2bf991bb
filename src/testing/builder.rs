//! Configuring and starting an emulator.

use std::sync::{Arc, Mutex};

use wiremock::{Mock, MockServer};

use super::state::State;
use super::{BusinessSeed, GraphEmulator, Responder, Shared};

/// Configures an emulator.
///
/// ```
/// use std::time::Duration;
/// use meta_business::testing::{BusinessSeed, GraphEmulator};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // 20 ms per request, like a real round trip, and appsecret_proof required.
/// let emulator = GraphEmulator::builder()
///     .latency(Duration::from_millis(20))
///     .require_app_secret(true)
///     .business(BusinessSeed::new("1000000000042", "Shop").admin("EAAE-shop-admin"))
///     .start()
///     .await;
/// # let _ = emulator;
/// # }
/// ```
#[derive(Debug)]
pub struct EmulatorBuilder {
    require_app_secret: bool,
    legacy_token_edge: bool,
    latency: std::time::Duration,
    budget: Option<(u32, std::time::Duration)>,
    businesses: Vec<BusinessSeed>,
}

impl EmulatorBuilder {
    pub(crate) fn new() -> Self {
        EmulatorBuilder {
            require_app_secret: false,
            legacy_token_edge: false,
            latency: std::time::Duration::ZERO,
            budget: None,
            businesses: Vec::new(),
        }
    }

    /// Makes `appsecret_proof` mandatory on every call (the "Require App Secret" app setting).
    /// Token generation always requires it.
    ///
    /// ```
    /// use meta_business::testing::{BusinessSeed, GraphEmulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// let emulator = GraphEmulator::builder()
    ///     .require_app_secret(true)
    ///     .business(BusinessSeed::new("1000000000042", "Shop").admin("EAAE-shop-admin"))
    ///     .start()
    ///     .await;
    /// // Without a secret there is no appsecret_proof, and the emulator refuses, as Meta does for
    /// // apps that require it.
    /// let bare = emulator.client_builder("EAAE-shop-admin").build()?;
    /// assert!(bare.business("1000000000042").get().send().await.is_err());
    /// # Ok(()) }
    /// ```
    pub fn require_app_secret(mut self, require_app_secret: bool) -> Self {
        self.require_app_secret = require_app_secret;
        self
    }

    /// Opens `POST /{system_user}/access_tokens` (closed by default). Meta has closed that edge
    /// to apps that have not called it within the last 90 days, so a fresh app cannot mint
    /// through it; open it to model an app that still can.
    pub fn legacy_token_edge(mut self, legacy_token_edge: bool) -> Self {
        self.legacy_token_edge = legacy_token_edge;
        self
    }

    /// Adds this delay to every answer, to simulate the round trip to Meta.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use meta_business::testing::{BusinessSeed, GraphEmulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// let emulator = GraphEmulator::builder()
    ///     .latency(Duration::from_millis(20))
    ///     .business(BusinessSeed::new("1000000000042", "Shop").admin("EAAE-shop-admin"))
    ///     .start()
    ///     .await;
    /// let client = emulator.client("EAAE-shop-admin")?;
    /// let started = Instant::now();
    /// client.business("1000000000042").get().send().await?;
    /// assert!(started.elapsed() >= Duration::from_millis(20));
    /// # Ok(()) }
    /// ```
    pub fn latency(mut self, latency: std::time::Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Gives every business a budget of `calls` calls per sliding `window`, as Meta's Business
    /// Use Case rate limits do: each call counts (each item of a batch too), the
    /// `X-Business-Use-Case-Usage` header reports the share used (it climbs as calls are made
    /// and falls as they leave the window), and a call past the budget is refused with error
    /// 80004 and `estimated_time_to_regain_access`, without being carried out.
    ///
    /// ```
    /// use std::time::Duration;
    /// use meta_business::testing::{BusinessSeed, GraphEmulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// let emulator = GraphEmulator::builder()
    ///     .call_budget(2, Duration::from_secs(60))
    ///     .business(BusinessSeed::new("1000000000042", "Shop").admin("EAAE-shop-admin"))
    ///     .start()
    ///     .await;
    /// let client = emulator.client_builder("EAAE-shop-admin").retry_policy(meta_business::retry::RetryPolicy::none()).build()?;
    /// let shop = client.business("1000000000042");
    /// shop.get().send().await?;
    /// assert_eq!(client.last_usage().unwrap().object_pct("1000000000042"), Some(50.0));
    /// shop.get().send().await?;
    /// let err = shop.get().send().await.unwrap_err();
    /// assert!(err.is_rate_limited());
    /// # Ok(()) }
    /// ```
    pub fn call_budget(mut self, calls: u32, window: std::time::Duration) -> Self {
        self.budget = Some((calls, window));
        self
    }

    /// Adds a business.
    pub fn business(mut self, seed: BusinessSeed) -> Self {
        self.businesses.push(seed);
        self
    }

    /// Starts the emulator on 127.0.0.1 on a free port.
    pub async fn start(self) -> GraphEmulator {
        let mut state = State::new(self.require_app_secret);
        state.legacy_token_edge = self.legacy_token_edge;
        state.budget = self
            .budget
            .map(|(calls, window)| super::budget::CallBudget::new(calls, window));
        for seed in self.businesses {
            seed.plant(&mut state);
        }
        let server = MockServer::start().await;
        state.base_url = server.uri();
        let shared = Arc::new(Shared {
            started: std::time::Instant::now(),
            latency: self.latency,
            state: Mutex::new(state),
            journal: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
        });
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder(Arc::clone(&shared)))
            .mount(&server)
            .await;
        GraphEmulator { server, shared }
    }
}

//! An in-process emulator of the Graph API's Business Manager surface (feature `testing`).
//!
//! It listens on 127.0.0.1 on a free port and answers every call this crate makes the way the
//! Graph API does: versioned paths, Bearer or `access_token` auth (unknown tokens → 190),
//! `appsecret_proof` checked (both forms), app-scoped system-user ids, the system-user quota
//! enforced server-side, tasks validated per asset kind, `business` required when listing
//! assigned users, apps installed only for system users of the owning business, tokens
//! generated only for installed apps with a valid proof and usable afterwards, `debug_token`,
//! refresh and revoke, cursor paging with `paging.next`, usage headers on every response, the
//! batch endpoint, and Graph errors naming unknown routes. Faults can be injected, and every
//! request is journaled.
//!
//! ```
//! use meta_business::testing::GraphEmulator;
//! use meta_business::SystemUserRole;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> meta_business::Result<()> {
//! let (emulator, demo) = GraphEmulator::demo().await;
//! let client = emulator.client(demo.admin_token)?;
//! let su = client
//!     .business(demo.business_id)
//!     .system_users()
//!     .create("reporting-server")
//!     .role(SystemUserRole::Employee)
//!     .send()
//!     .await?;
//! assert_eq!(emulator.system_users(demo.business_id).len(), 1);
//! assert!(emulator.requests().iter().all(|r| r.bearer && !r.access_token_in_url));
//! # let _ = su; Ok(()) }
//! ```

mod budget;
mod builder;
mod conformance;
pub mod contract;
mod faults;
mod inspect;
mod journal;
mod kinds;
mod partners;
mod routes;
mod seed;
mod state;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use wiremock::{MockServer, Request, Respond, ResponseTemplate};

pub use builder::EmulatorBuilder;
pub use conformance::store_conformance;
pub use faults::{Fault, FaultRule};
pub use journal::{EmulatedSystemUser, Recorded};
pub use seed::{BusinessSeed, DEFAULT_APP_PERMISSIONS, DEMO, Demo, OBO_DEMO, OboDemo};

use crate::builder::ClientBuilder;
use crate::client::Client;
use crate::config::AccessTier;
use crate::error::Result;
use state::State;

pub(crate) struct Shared {
    pub(crate) started: std::time::Instant,
    pub(crate) latency: std::time::Duration,
    pub(crate) state: Mutex<State>,
    pub(crate) journal: Mutex<Vec<Recorded>>,
    pub(crate) faults: Mutex<Vec<FaultRule>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not take the emulator down with it.
    match m.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

struct Responder(Arc<Shared>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        routes::handle(&self.0, request)
    }
}

/// The running emulator. Dropping it stops the server.
///
/// ```
/// use meta_business::testing::GraphEmulator;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// // Your service's code, tested offline against a stateful Graph API.
/// let (emulator, demo) = GraphEmulator::demo().await;
/// let client = emulator.client(demo.admin_token)?;
/// let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// assert_eq!(emulator.system_users(demo.business_id)[0].id, su.id.as_str());
/// # Ok(()) }
/// ```
pub struct GraphEmulator {
    server: MockServer,
    shared: Arc<Shared>,
}

impl fmt::Debug for GraphEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphEmulator")
            .field("uri", &self.server.uri())
            .finish_non_exhaustive()
    }
}

impl GraphEmulator {
    /// An emulator with two businesses for Business On Behalf Of ([`OBO_DEMO`]): a partner
    /// with its app and admin system user, and a client with a person admin and a Page.
    ///
    /// ```
    /// use meta_business::testing::GraphEmulator;
    /// use meta_business::obo::{ClientAdminToken, PartnerAdminToken};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// let (emulator, d) = GraphEmulator::obo_demo().await;
    /// let client = emulator.client(d.partner_admin_token)?;
    /// let obo = client.on_behalf_of(d.partner, d.client);
    /// let linked = obo.link(&ClientAdminToken::new(d.client_admin_token)).await?;
    /// assert_eq!(linked.id.as_ref().map(|id| id.as_str()), Some(d.client));
    /// # let _ = PartnerAdminToken::new(d.partner_admin_token);
    /// # Ok(()) }
    /// ```
    pub async fn obo_demo() -> (GraphEmulator, OboDemo) {
        let d = OBO_DEMO;
        let emulator = GraphEmulator::builder()
            .business(
                BusinessSeed::new(d.partner, "Agency Partner")
                    .tier(AccessTier::Full)
                    .app(d.app_id, "Agency Platform", d.app_secret)
                    .system_user("6100000000009", "agency-admin", "ADMIN")
                    .system_user_token(
                        "6100000000009",
                        d.partner_admin_token,
                        &[
                            "business_management",
                            "ads_management",
                            "pages_read_engagement",
                            "pages_show_list",
                        ],
                    ),
            )
            .business(
                BusinessSeed::new(d.client, d.client_name)
                    .admin_via_app(d.client_admin_token, d.app_id)
                    .page(d.client_page, "Client Shop Page")
                    .catalog("5200000000001", "Client products"),
            )
            .start()
            .await;
        (emulator, d)
    }

    /// Starts configuring an emulator.
    ///
    /// ```
    /// use meta_business::AccessTier;
    /// use meta_business::testing::{BusinessSeed, GraphEmulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// let emulator = GraphEmulator::builder()
    ///     .business(
    ///         BusinessSeed::new("1000000000042", "Shop")
    ///             .tier(AccessTier::Full)
    ///             .app("2000000000042", "Shop Sync", "shop-app-secret")
    ///             .ad_accounts(3_000_000_000_100, 50)
    ///             .admin("EAAE-shop-admin"),
    ///     )
    ///     .start()
    ///     .await;
    /// let client = emulator.client("EAAE-shop-admin")?;
    /// let accounts = client.business("1000000000042").owned_ad_accounts().collect(100).await?;
    /// assert_eq!(accounts.len(), 50);
    /// # Ok(()) }
    /// ```
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::new()
    }

    /// An emulator seeded with the demo business of [`DEMO`]: an app, two ad accounts, two
    /// Pages, a catalog, a pixel, an Instagram and a WhatsApp account, a human admin's token,
    /// the Limited tier.
    ///
    /// ```
    /// use meta_business::testing::GraphEmulator;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// let (emulator, demo) = GraphEmulator::demo().await;
    /// let client = emulator.client(demo.admin_token)?;
    /// let business = client.business(demo.business_id).get().send().await?;
    /// assert_eq!(business.name.as_deref(), Some("Acme Demo Retail"));
    /// # Ok(()) }
    /// ```
    pub async fn demo() -> (GraphEmulator, Demo) {
        let d = DEMO;
        let emulator = GraphEmulator::builder()
            .business(
                BusinessSeed::new(d.business_id, "Acme Demo Retail")
                    .app(d.app_id, "Acme Reporting", d.app_secret)
                    .ad_account(d.ad_accounts[0], "Acme EU ads")
                    .ad_account(d.ad_accounts[1], "Acme US ads")
                    .page(d.pages[0], "Acme")
                    .page(d.pages[1], "Acme Outlet")
                    .catalog(d.catalog, "Acme products")
                    .pixel(d.pixel, "Acme web pixel")
                    .instagram(d.instagram, "acme")
                    .whatsapp(d.whatsapp, "Acme support")
                    .business_asset_group(d.business_asset_group, "Acme EU team assets")
                    .admin(d.admin_token),
            )
            .start()
            .await;
        (emulator, d)
    }

    /// The base URL to give [`ClientBuilder::base_url`].
    ///
    /// ```
    /// use meta_business::Client;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// // Point code that builds its own client (say, from configuration) at the emulator.
    /// let client = Client::builder().access_token(demo.admin_token).base_url(emulator.uri()).build()?;
    /// client.business(demo.business_id).get().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A client builder pointed at the emulator, with this token.
    ///
    /// ```
    /// use meta_business::AccessTier;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// let client = emulator
    ///     .client_builder(demo.admin_token)
    ///     .app_secret(demo.app_secret)
    ///     .access_tier(AccessTier::Limited)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    pub fn client_builder(&self, token: &str) -> ClientBuilder {
        Client::builder().access_token(token).base_url(self.uri())
    }

    /// A client for this token, with the id and secret of the token's app (so `appsecret_proof`
    /// is sent and tokens are minted for that app through the business-level edge) and the
    /// tier of the token's business.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// assert!(client.has_app_secret()); // the demo app's secret, so appsecret_proof goes along
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`ClientBuilder::build`].
    pub fn client(&self, token: &str) -> Result<Client> {
        let (app, secret, tier) = {
            let state = self.shared.state();
            let principal = state.token(token).map(|t| t.principal.clone());
            let app = principal
                .as_ref()
                .filter(|p| state.apps.contains_key(p.app()))
                .map(|p| p.app().to_owned());
            let secret = principal
                .as_ref()
                .and_then(|p| state.apps.get(p.app()))
                .map(|a| a.secret.clone());
            let tier = principal
                .as_ref()
                .and_then(|p| state.admin_businesses(p).first().cloned())
                .and_then(|b| state.businesses.get(&b).map(|b| b.tier));
            (app, secret, tier)
        };
        let mut builder = self.client_builder(token);
        if let Some(secret) = secret {
            builder = builder.app_secret(secret);
        }
        if let Some(app) = app {
            builder = builder.app_id(app);
        }
        if let Some(tier) = tier {
            builder = builder.access_tier(tier);
        }
        builder.build()
    }

    /// Adds a fault rule; rules are checked in the order added.
    ///
    /// ```
    /// use meta_business::testing::{Fault, FaultRule};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// // The first create is throttled (code 80004): nothing is created, the error says so.
    /// emulator.inject(FaultRule::new(Fault::throttle(80004)).on("POST", "/system_users").times(1));
    /// let users = client.business(demo.business_id).system_users();
    /// let err = users.create("ads-reporting").send().await.unwrap_err();
    /// assert!(err.is_rate_limited());
    /// assert!(emulator.system_users(demo.business_id).is_empty());
    /// # Ok(()) }
    /// ```
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.shared.faults).push(rule);
    }

    /// Removes every fault rule.
    ///
    /// ```
    /// use meta_business::testing::{Fault, FaultRule};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// emulator.inject(FaultRule::new(Fault::graph(190)));
    /// assert!(client.business(demo.business_id).get().send().await.is_err());
    /// emulator.clear_faults();
    /// assert!(client.business(demo.business_id).get().send().await.is_ok());
    /// # Ok(()) }
    /// ```
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Opens or closes `POST /{system_user}/access_tokens` (see
    /// [`EmulatorBuilder::legacy_token_edge`]).
    ///
    /// ```
    /// use meta_business::Permission;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// let legacy = || client.system_user(&su.id).generate_token(demo.app_id).scopes([Permission::AdsRead]);
    /// // Closed by default, as Meta closes it to apps that have not used it lately.
    /// assert!(legacy().send().await.is_err());
    /// emulator.set_legacy_token_edge(true);
    /// assert!(legacy().send().await.is_ok());
    /// # Ok(()) }
    /// ```
    pub fn set_legacy_token_edge(&self, open: bool) {
        self.shared.state().legacy_token_edge = open;
    }

    /// Moves the emulator's clock ahead: tokens expire, 60-day tokens come within a refresh
    /// window, and `debug_token` answers as it would then, without waiting. The time-stamped
    /// `appsecret_proof` is still checked against the real clock (the client's).
    ///
    /// ```
    /// use std::time::Duration;
    /// use meta_business::ExposeSecret;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// # client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// # let token = client.system_user(&su.id).generate_token(demo.app_id).business(demo.business_id)
    /// #     .scopes([meta_business::Permission::AdsRead]).expires_in_60_days(true).send().await?;
    /// let as_app = client.as_app(demo.app_id)?;
    /// emulator.advance_clock(Duration::from_secs(50 * 86_400));
    /// let info = as_app.debug_token(token.secret().clone()).send().await?;
    /// // Ten days left, by the emulator's clock.
    /// assert!(info.expires_within_at(Duration::from_secs(14 * 86_400), emulator.clock()));
    /// emulator.advance_clock(Duration::from_secs(11 * 86_400));
    /// assert!(!emulator.token_is_valid(token.secret().expose_secret()));
    /// # Ok(()) }
    /// ```
    pub fn advance_clock(&self, by: std::time::Duration) {
        let mut state = self.shared.state();
        state.clock_offset = state.clock_offset.saturating_add(by.as_secs());
    }

    /// The emulator's clock as a function, for code that takes one
    /// ([`TokenKeeper::clock`](crate::keeper::TokenKeeper::clock)).
    pub fn clock_source(&self) -> impl Fn() -> std::time::SystemTime + Send + Sync + 'static {
        let shared = std::sync::Arc::clone(&self.shared);
        move || std::time::UNIX_EPOCH + std::time::Duration::from_secs(shared.state().now())
    }

    /// The emulator's time: the real time plus every [`GraphEmulator::advance_clock`].
    pub fn clock(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.shared.state().now())
    }

    /// Changes a business's access tier.
    ///
    /// ```
    /// use meta_business::AccessTier;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// emulator.set_access_tier(demo.business_id, AccessTier::Full);
    /// // A client built now learns the tier from the emulator: 10 regular system users fit.
    /// let client = emulator.client(demo.admin_token)?;
    /// let users = client.business(demo.business_id).system_users();
    /// users.create("ads-reporting").send().await?;
    /// users.create("crm-sync-eu").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn set_access_tier(&self, business: &str, tier: AccessTier) {
        if let Some(b) = self.shared.state().businesses.get_mut(business) {
            b.tier = tier;
        }
    }
}

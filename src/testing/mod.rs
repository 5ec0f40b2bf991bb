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

pub mod contract;
mod faults;
mod kinds;
mod routes;
mod seed;
mod state;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub use faults::{Fault, FaultRule};
pub use seed::{BusinessSeed, DEFAULT_APP_PERMISSIONS, DEMO, Demo, OBO_DEMO, OboDemo};

use crate::builder::ClientBuilder;
use crate::client::Client;
use crate::config::AccessTier;
use crate::error::Result;
use state::State;

/// One request the emulator received.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// client.business(demo.business_id).system_users().list().send().await?;
/// let sent = &emulator.requests()[0];
/// assert_eq!((sent.method.as_str(), sent.path.as_str()), ("GET", "/v26.0/1000000000001/system_users"));
/// assert!(sent.bearer && !sent.access_token_in_url && sent.proof);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Path, with the version.
    pub path: String,
    /// Query and form parameters, without `access_token`, `appsecret_proof` and
    /// `appsecret_time` (see the flags).
    pub params: BTreeMap<String, String>,
    /// Whether the token came in `Authorization: Bearer`.
    pub bearer: bool,
    /// Whether an `access_token` parameter was in the URL.
    pub access_token_in_url: bool,
    /// Whether an `appsecret_proof` came.
    pub proof: bool,
    /// Whether it came with `appsecret_time` (time-stamped form).
    pub proof_timed: bool,
    /// HTTP status answered.
    pub status: u16,
    /// When it arrived, counted from the emulator's start.
    pub at: std::time::Duration,
    /// The last 6 characters of the token it carried: enough to tell which token a step used,
    /// too little to use it.
    pub token_suffix: Option<String>,
    /// The node type of the path's object as Meta's description names it (`Business`,
    /// `SystemUser`, `AdAccount`…), when the emulator knows the object.
    pub node_type: Option<String>,
    /// Whether this was an item of a batch request (journaled after the batch itself).
    pub in_batch: bool,
}

impl Recorded {
    /// An entry built by hand (a request that was not sent), for checking a request shape the
    /// way the journal's entries are checked. Flags are false, status 0.
    ///
    /// ```
    /// use meta_business::testing::Recorded;
    /// // An entry built by hand, for a test double of your own that keeps the same journal shape.
    /// let entry = Recorded::new("GET", "/v26.0/me", &[("fields", "id")], Some("User"));
    /// assert_eq!(entry.params["fields"], "id");
    /// ```
    pub fn new(method: &str, path: &str, params: &[(&str, &str)], node_type: Option<&str>) -> Self {
        Recorded {
            method: method.to_owned(),
            path: path.to_owned(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            bearer: false,
            access_token_in_url: false,
            proof: false,
            proof_timed: false,
            status: 0,
            at: std::time::Duration::ZERO,
            token_suffix: None,
            node_type: node_type.map(str::to_owned),
            in_batch: false,
        }
    }
}

/// A system user as the emulator holds it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// let held = emulator.system_users(demo.business_id);
/// assert_eq!((held[0].name.as_str(), held[0].role.as_str()), ("ads-reporting", "EMPLOYEE"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmulatedSystemUser {
    /// Its app-scoped id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its role (`ADMIN`, `EMPLOYEE`…).
    pub role: String,
    /// Apps installed for it.
    pub installed_apps: Vec<String>,
}

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
    /// use meta_business::{ClientAdminToken, PartnerAdminToken};
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
        EmulatorBuilder {
            require_app_secret: false,
            legacy_token_edge: false,
            latency: std::time::Duration::ZERO,
            businesses: Vec::new(),
        }
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

    /// Every HTTP request received so far, in order (a batch request counts once).
    ///
    /// Assert on what your own code sent:
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// use meta_business::testing::GraphEmulator;
    ///
    /// let (emulator, demo) = GraphEmulator::demo().await;
    /// let client = emulator.client(demo.admin_token)?;
    /// client.business(demo.business_id).system_users().create("svc").send().await?;
    ///
    /// let journal = emulator.requests();
    /// let create = journal
    ///     .iter()
    ///     .find(|r| r.method == "POST" && r.path.ends_with("/system_users"))
    ///     .expect("the create was sent");
    /// assert_eq!(create.params["name"], "svc");
    /// assert!(create.bearer && create.proof, "token in the header, proof attached");
    /// assert!(journal.iter().all(|r| !r.access_token_in_url));
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.journal)
            .iter()
            .filter(|r| !r.in_batch)
            .cloned()
            .collect()
    }

    /// Every call received so far, in order, batch items included (each right after its
    /// batch request, with [`Recorded::in_batch`] set).
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
    /// client.bulk(ops).send().await?;
    /// assert_eq!(emulator.requests().len(), 1); // one batch request
    /// assert_eq!(emulator.calls().iter().filter(|c| c.in_batch).count(), 2); // carrying two calls
    /// # Ok(()) }
    /// ```
    pub fn calls(&self) -> Vec<Recorded> {
        lock(&self.shared.journal).clone()
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

    /// Forgets the requests received so far.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// client.business(demo.business_id).get().send().await?;
    /// emulator.clear_requests();
    /// assert!(emulator.requests().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn clear_requests(&self) {
        lock(&self.shared.journal).clear();
    }

    /// The most requests that were being answered at the same time, given the configured
    /// latency (each answer takes at least that long).
    ///
    /// ```
    /// use meta_business::{AdAccountTask, BulkMode};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// let ops = demo.ad_accounts.iter().map(|a| client.ad_account(*a).assign(&su.id, [AdAccountTask::Analyze]));
    /// client.bulk(ops).mode(BulkMode::Concurrent).concurrency(2).send().await?;
    /// assert!(emulator.max_in_flight() <= 2);
    /// # Ok(()) }
    /// ```
    pub fn max_in_flight(&self) -> usize {
        let latency = self.shared.latency;
        let mut starts: Vec<std::time::Duration> = self.requests().iter().map(|r| r.at).collect();
        starts.sort();
        let mut max = 0;
        for (i, start) in starts.iter().enumerate() {
            let overlapping = starts[i..]
                .iter()
                .take_while(|s| **s < *start + latency)
                .count();
            max = max.max(overlapping);
        }
        max
    }

    /// The system users of a business.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// assert_eq!(emulator.system_users(demo.business_id).len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn system_users(&self, business: &str) -> Vec<EmulatedSystemUser> {
        let state = self.shared.state();
        let Some(biz) = state.businesses.get(business) else {
            return Vec::new();
        };
        biz.system_users
            .iter()
            .filter_map(|id| {
                state.system_users.get(id).map(|su| EmulatedSystemUser {
                    id: id.clone(),
                    name: su.name.clone(),
                    role: su.role.clone(),
                    installed_apps: su.installed_apps.iter().cloned().collect(),
                })
            })
            .collect()
    }

    /// Who is assigned to an asset, with which tasks.
    ///
    /// ```
    /// use meta_business::PageTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.page(demo.pages[0]).assign(&su.id, [PageTask::Analyze]).send().await?;
    /// assert_eq!(emulator.assignments(demo.pages[0])[su.id.as_str()], ["ANALYZE"]);
    /// # Ok(()) }
    /// ```
    pub fn assignments(&self, asset: &str) -> BTreeMap<String, Vec<String>> {
        self.shared
            .state()
            .assignments
            .get(asset)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether a token is known, valid and unexpired.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// assert!(emulator.token_is_valid(demo.admin_token));
    /// assert!(!emulator.token_is_valid("EAAE-never-issued"));
    /// # Ok(()) }
    /// ```
    pub fn token_is_valid(&self, token: &str) -> bool {
        self.shared
            .state()
            .token(token)
            .is_some_and(|t| t.valid && !state::expired(&t.principal))
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
    businesses: Vec<BusinessSeed>,
}

impl EmulatorBuilder {
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
    pub fn require_app_secret(mut self, required: bool) -> Self {
        self.require_app_secret = required;
        self
    }

    /// Opens `POST /{system_user}/access_tokens` (closed by default). Meta has closed that edge
    /// to apps that have not called it within the last 90 days, so a fresh app cannot mint
    /// through it; open it to model an app that still can.
    pub fn legacy_token_edge(mut self, open: bool) -> Self {
        self.legacy_token_edge = open;
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

    /// Adds a business.
    pub fn business(mut self, seed: BusinessSeed) -> Self {
        self.businesses.push(seed);
        self
    }

    /// Starts the emulator on 127.0.0.1 on a free port.
    pub async fn start(self) -> GraphEmulator {
        let mut state = State::new(self.require_app_secret);
        state.legacy_token_edge = self.legacy_token_edge;
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

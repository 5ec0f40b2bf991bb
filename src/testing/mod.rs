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
mod routes;
mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub use faults::{Fault, FaultRule};

use crate::builder::ClientBuilder;
use crate::client::Client;
use crate::config::AccessTier;
use crate::error::Result;
use state::{Asset, Kind, Principal, State};

/// One request the emulator received.
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

/// The ids and credentials of the demo world seeded by [`GraphEmulator::demo`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Demo {
    /// The demo business.
    pub business_id: &'static str,
    /// The business's app.
    pub app_id: &'static str,
    /// The app's secret (the emulator requires `appsecret_proof` for token generation).
    pub app_secret: &'static str,
    /// A token of a human admin of the business.
    pub admin_token: &'static str,
    /// Ad accounts of the business.
    pub ad_accounts: [&'static str; 2],
    /// Pages of the business.
    pub pages: [&'static str; 2],
    /// A product catalog.
    pub catalog: &'static str,
    /// A pixel.
    pub pixel: &'static str,
    /// An Instagram business asset.
    pub instagram: &'static str,
    /// A WhatsApp Business Account.
    pub whatsapp: &'static str,
}

/// The permissions a seeded app may grant unless
/// [`BusinessSeed::app_permissions`] says otherwise.
pub const DEFAULT_APP_PERMISSIONS: &[&str] = &[
    "ads_management",
    "ads_read",
    "business_management",
    "catalog_management",
    "leads_retrieval",
    "pages_manage_ads",
    "pages_read_engagement",
    "pages_show_list",
    "read_insights",
    "whatsapp_business_management",
];

/// The demo world's ids and credentials.
pub const DEMO: Demo = Demo {
    business_id: "1000000000001",
    app_id: "2000000000001",
    app_secret: "demo-app-secret-5f1c0e2a9b7d",
    admin_token: "EAAEdemoAdminToken0a1b2c3d4e5f6a7b8c9d0e1f",
    ad_accounts: ["act_3000000000001", "act_3000000000002"],
    pages: ["4000000000001", "4000000000002"],
    catalog: "5000000000001",
    pixel: "6000000000001",
    instagram: "7000000000001",
    whatsapp: "8000000000001",
};

/// The ids and credentials of the Business On Behalf Of demo ([`GraphEmulator::obo_demo`]).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct OboDemo {
    /// The partner business, which owns the app.
    pub partner: &'static str,
    /// The partner's app.
    pub app_id: &'static str,
    /// The app's secret.
    pub app_secret: &'static str,
    /// The token of the partner's admin system user (with `business_management`,
    /// `ads_management`, `pages_read_engagement`, `pages_show_list`).
    pub partner_admin_token: &'static str,
    /// The client business.
    pub client: &'static str,
    /// The client business's name.
    pub client_name: &'static str,
    /// A token of a person who administers the client business.
    pub client_admin_token: &'static str,
    /// A Page of the client business.
    pub client_page: &'static str,
}

/// The Business On Behalf Of demo's ids and credentials.
pub const OBO_DEMO: OboDemo = OboDemo {
    partner: "1100000000001",
    app_id: "2100000000001",
    app_secret: "partner-app-secret-7c2e9a",
    partner_admin_token: "EAAEpartnerAdminSystemUser0f1e2d3c4b5a69788",
    client: "1200000000001",
    client_name: "Client Shop",
    client_admin_token: "EAAEclientAdminPerson9a8b7c6d5e4f30211",
    client_page: "4200000000001",
};

impl GraphEmulator {
    /// An emulator with two businesses for Business On Behalf Of ([`OBO_DEMO`]): a partner
    /// with its app and admin system user, and a client with a person admin and a Page.
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
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A client builder pointed at the emulator, with this token.
    pub fn client_builder(&self, token: &str) -> ClientBuilder {
        Client::builder().access_token(token).base_url(self.uri())
    }

    /// A client for this token, with the id and secret of the token's app (so `appsecret_proof`
    /// is sent and tokens are minted for that app through the business-level edge) and the
    /// tier of the token's business.
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
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.shared.faults).push(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Every HTTP request received so far, in order (a batch request counts once).
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.journal)
            .iter()
            .filter(|r| !r.in_batch)
            .cloned()
            .collect()
    }

    /// Every call received so far, in order, batch items included (each right after its
    /// batch request, with [`Recorded::in_batch`] set).
    pub fn calls(&self) -> Vec<Recorded> {
        lock(&self.shared.journal).clone()
    }

    /// Opens or closes `POST /{system_user}/access_tokens` (see
    /// [`EmulatorBuilder::legacy_token_edge`]).
    pub fn set_legacy_token_edge(&self, open: bool) {
        self.shared.state().legacy_token_edge = open;
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.journal).clear();
    }

    /// The most requests that were being answered at the same time, given the configured
    /// latency (each answer takes at least that long).
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
    pub fn assignments(&self, asset: &str) -> BTreeMap<String, Vec<String>> {
        self.shared
            .state()
            .assignments
            .get(asset)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether a token is known, valid and unexpired.
    pub fn token_is_valid(&self, token: &str) -> bool {
        self.shared
            .state()
            .token(token)
            .is_some_and(|t| t.valid && !state::expired(&t.principal))
    }

    /// Changes a business's access tier.
    pub fn set_access_tier(&self, business: &str, tier: AccessTier) {
        if let Some(b) = self.shared.state().businesses.get_mut(business) {
            b.tier = tier;
        }
    }
}

/// Configures an emulator.
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

/// A business to seed: its apps, assets, admins and existing system users.
#[derive(Debug, Clone)]
pub struct BusinessSeed {
    id: String,
    name: String,
    tier: AccessTier,
    apps: Vec<(String, String, String)>,
    assets: Vec<(String, Kind, String)>,
    admins: Vec<(String, Option<String>)>,
    system_users: Vec<(String, String, String)>,
    system_user_tokens: Vec<(String, String, Vec<String>)>,
    tos_refused: Vec<String>,
    app_permissions: Vec<(String, Vec<String>)>,
    employees: usize,
}

impl BusinessSeed {
    /// A business with this id and name, on the Limited tier.
    pub fn new(id: &str, name: &str) -> Self {
        BusinessSeed {
            id: id.to_owned(),
            name: name.to_owned(),
            tier: AccessTier::Limited,
            apps: Vec::new(),
            assets: Vec::new(),
            admins: Vec::new(),
            system_users: Vec::new(),
            system_user_tokens: Vec::new(),
            tos_refused: Vec::new(),
            app_permissions: Vec::new(),
            employees: 0,
        }
    }

    /// Its Marketing API access tier (server-side quota).
    pub fn tier(mut self, tier: AccessTier) -> Self {
        self.tier = tier;
        self
    }

    /// An app the business owns, with its secret.
    pub fn app(mut self, id: &str, name: &str, secret: &str) -> Self {
        self.apps
            .push((id.to_owned(), name.to_owned(), secret.to_owned()));
        self
    }

    fn asset(mut self, id: &str, kind: Kind, name: &str) -> Self {
        self.assets.push((id.to_owned(), kind, name.to_owned()));
        self
    }

    /// `n` ad accounts with ids `first`, `first + 1`, … (for bulk tests).
    pub fn ad_accounts(mut self, first: u64, n: u64) -> Self {
        for i in 0..n {
            let id = format!("act_{}", first + i);
            self = self.asset(&id, Kind::AdAccount, &format!("Ad account {}", i + 1));
        }
        self
    }

    /// An ad account (`act_<digits>` or digits).
    pub fn ad_account(self, id: &str, name: &str) -> Self {
        let id = crate::ids::AdAccountId::new(id);
        self.asset(id.as_str(), Kind::AdAccount, name)
    }

    /// A Page.
    pub fn page(self, id: &str, name: &str) -> Self {
        self.asset(id, Kind::Page, name)
    }

    /// A product catalog.
    pub fn catalog(self, id: &str, name: &str) -> Self {
        self.asset(id, Kind::Catalog, name)
    }

    /// A pixel.
    pub fn pixel(self, id: &str, name: &str) -> Self {
        self.asset(id, Kind::Pixel, name)
    }

    /// An Instagram business asset, by username.
    pub fn instagram(self, id: &str, username: &str) -> Self {
        self.asset(id, Kind::Instagram, username)
    }

    /// A WhatsApp Business Account.
    pub fn whatsapp(self, id: &str, name: &str) -> Self {
        self.asset(id, Kind::WhatsApp, name)
    }

    /// The token of a human admin of the business, issued through the business's first app.
    pub fn admin(mut self, token: &str) -> Self {
        self.admins.push((token.to_owned(), None));
        self
    }

    /// `n` people of the business without the ADMIN role (they have no token); they come first
    /// in `business_users`, so with more than a page of them an admin is on a later page.
    pub fn employees(mut self, n: usize) -> Self {
        self.employees = n;
        self
    }

    /// The token of a human admin of the business, issued through another business's app (as
    /// when a client's admin logs in to a partner's app for Business On Behalf Of).
    pub fn admin_via_app(mut self, token: &str, app: &str) -> Self {
        self.admins.push((token.to_owned(), Some(app.to_owned())));
        self
    }

    /// The permissions an app may grant (`GET /{app}/permissions`, status `live`). Without
    /// this an app has [`DEFAULT_APP_PERMISSIONS`].
    pub fn app_permissions(mut self, app: &str, permissions: &[&str]) -> Self {
        self.app_permissions.push((
            app.to_owned(),
            permissions.iter().map(|p| (*p).to_owned()).collect(),
        ));
        self
    }

    /// A token of a seeded system user, through the business's first app, with these scopes.
    pub fn system_user_token(mut self, system_user: &str, token: &str, scopes: &[&str]) -> Self {
        let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self.system_user_tokens
            .push((system_user.to_owned(), token.to_owned(), scopes));
        self
    }

    /// Marks an ad account whose Custom Audience terms were not accepted (all are by default).
    pub fn custom_audience_tos_not_accepted(mut self, ad_account: &str) -> Self {
        self.tos_refused
            .push(crate::ids::AdAccountId::new(ad_account).as_str().to_owned());
        self
    }

    /// A system user that already exists (`role`: `ADMIN`, `EMPLOYEE`…).
    pub fn system_user(mut self, id: &str, name: &str, role: &str) -> Self {
        self.system_users
            .push((id.to_owned(), name.to_owned(), role.to_owned()));
        self
    }

    fn plant(self, state: &mut State) {
        let created = state::graph_time(state::now());
        let first_app = self.apps.first().map(|a| a.0.clone()).unwrap_or_default();
        let mut business = state::Business {
            name: self.name,
            vertical: "RETAIL".to_owned(),
            verification_status: "verified".to_owned(),
            created_time: created.clone(),
            tier: self.tier,
            apps: Vec::new(),
            assets: Vec::new(),
            system_users: Vec::new(),
            admins: Vec::new(),
            shared_apps: Vec::new(),
            employees: (0..self.employees)
                .map(|i| format!("7{}{i:04}", self.id))
                .collect(),
        };
        for (id, name, secret) in self.apps {
            // The app access token, `{app_id}|{app_secret}`, as `debug_token` callers use it.
            let app_token = state::TokenRec {
                principal: Principal::App { app: id.clone() },
                valid: true,
            };
            state.tokens.insert(format!("{id}|{secret}"), app_token);
            let permissions = self
                .app_permissions
                .iter()
                .find(|(app, _)| *app == id)
                .map(|(_, p)| p.clone())
                .unwrap_or_else(|| {
                    DEFAULT_APP_PERMISSIONS
                        .iter()
                        .map(|p| (*p).to_owned())
                        .collect()
                });
            state.apps.insert(
                id.clone(),
                state::App {
                    name,
                    secret,
                    business: Some(self.id.clone()),
                    permissions,
                },
            );
            business.apps.push(id);
        }
        for (id, kind, name) in self.assets {
            let tos_accepted = !self.tos_refused.contains(&id);
            state.assets.insert(
                id.clone(),
                Asset {
                    kind,
                    name,
                    business: self.id.clone(),
                    tos_accepted,
                },
            );
            business.assets.push(id);
        }
        for (i, (token, via)) in self.admins.into_iter().enumerate() {
            let user_id = format!("90000000{:05}", state.businesses.len() * 100 + i + 1);
            business.admins.push(user_id.clone());
            let principal = Principal::Admin {
                user_id,
                name: format!("Admin {}", i + 1),
                app: via.unwrap_or_else(|| first_app.clone()),
            };
            state.tokens.insert(
                token,
                state::TokenRec {
                    principal,
                    valid: true,
                },
            );
        }
        for (id, name, role) in self.system_users {
            state.system_users.insert(
                id.clone(),
                state::SystemUser {
                    name,
                    role,
                    business: self.id.clone(),
                    installed_apps: BTreeSet::new(),
                    created_time: created.clone(),
                },
            );
            business.system_users.push(id);
        }
        for (su, token, scopes) in self.system_user_tokens {
            let principal = Principal::SystemUser {
                id: su,
                app: first_app.clone(),
                scopes,
                expires_at: 0,
                issued_at: state::now(),
            };
            state.tokens.insert(
                token,
                state::TokenRec {
                    principal,
                    valid: true,
                },
            );
        }
        state.businesses.insert(self.id, business);
    }
}

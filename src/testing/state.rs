//! What the emulator remembers: businesses, apps, assets, system users, assignments, tokens.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};

pub(crate) use super::kinds::Kind;
use crate::config::AccessTier;

/// Seconds in the 60 days an expiring token lives.
pub(crate) const SIXTY_DAYS: u64 = 60 * 86_400;

/// The kinds of asset the emulator knows.
#[derive(Debug, Clone)]
pub(crate) struct Asset {
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub(crate) business: String,
    /// Ad accounts: whether the Custom Audience terms were accepted.
    pub(crate) tos_accepted: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) name: String,
    pub(crate) secret: String,
    pub(crate) business: Option<String>,
    /// What the app may grant (`GET /{app}/permissions`).
    pub(crate) permissions: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Business {
    pub(crate) name: String,
    pub(crate) vertical: String,
    pub(crate) verification_status: String,
    pub(crate) created_time: String,
    pub(crate) tier: AccessTier,
    pub(crate) apps: Vec<String>,
    pub(crate) assets: Vec<String>,
    pub(crate) system_users: Vec<String>,
    pub(crate) admins: Vec<String>,
    /// Apps of partner businesses shared with this one (Business On Behalf Of).
    pub(crate) shared_apps: Vec<String>,
    /// People of the business without the ADMIN role (listed by `business_users`).
    pub(crate) employees: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct SystemUser {
    pub(crate) name: String,
    pub(crate) role: String,
    pub(crate) business: String,
    pub(crate) installed_apps: BTreeSet<String>,
    pub(crate) created_time: String,
}

/// Who a token acts as.
#[derive(Debug, Clone)]
pub(crate) enum Principal {
    /// A person who administers businesses, through an app.
    Admin {
        user_id: String,
        name: String,
        app: String,
    },
    /// A system user, through an installed app.
    SystemUser {
        id: String,
        app: String,
        scopes: Vec<String>,
        expires_at: u64,
        issued_at: u64,
    },
    /// The app itself (`{app_id}|{app_secret}`).
    App { app: String },
    /// A Page, through a system user (from `/me/accounts`).
    Page {
        page: String,
        user: String,
        app: String,
    },
}

impl Principal {
    pub(crate) fn app(&self) -> &str {
        match self {
            Principal::Admin { app, .. }
            | Principal::SystemUser { app, .. }
            | Principal::App { app }
            | Principal::Page { app, .. } => app,
        }
    }

    pub(crate) fn user_id(&self) -> Option<&str> {
        match self {
            Principal::Admin { user_id, .. } => Some(user_id),
            Principal::SystemUser { id, .. } => Some(id),
            Principal::Page { page, .. } => Some(page),
            Principal::App { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TokenRec {
    pub(crate) principal: Principal,
    pub(crate) valid: bool,
}

/// The emulator's world.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) base_url: String,
    pub(crate) require_proof: bool,
    pub(crate) businesses: BTreeMap<String, Business>,
    pub(crate) apps: BTreeMap<String, App>,
    pub(crate) assets: BTreeMap<String, Asset>,
    pub(crate) system_users: BTreeMap<String, SystemUser>,
    /// asset id → user id → tasks.
    pub(crate) assignments: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    pub(crate) tokens: HashMap<String, TokenRec>,
    /// Business On Behalf Of relationships: (partner, client) → the client system user.
    pub(crate) managed: BTreeMap<(String, String), Option<String>>,
    pub(crate) next_id: u64,
    pub(crate) calls: u64,
    /// The per-business call budget, when one is set ([`EmulatorBuilder::call_budget`]).
    ///
    /// [`EmulatorBuilder::call_budget`]: super::EmulatorBuilder::call_budget
    pub(crate) budget: Option<super::budget::CallBudget>,
    /// Whether `POST /{system_user}/access_tokens` is open to apps. Meta closed it to apps that
    /// have not called it within 90 days: closed by default, as for a fresh app.
    pub(crate) legacy_token_edge: bool,
    /// The node type of the last request dispatched, for the journal.
    pub(crate) last_node_type: Option<&'static str>,
    /// Batch items dispatched during the current request, for the journal.
    pub(crate) batch_journal: Vec<super::Recorded>,
    /// How far the test moved the emulator's clock ahead of the real one, in seconds.
    pub(crate) clock_offset: u64,
    /// Drawn at start: two emulators never mint the same token, as two Meta apps never do.
    pub(crate) token_salt: u64,
    /// Partner businesses of businesses and assets.
    pub(crate) partners: super::partners::Partners,
}

/// The real time, for what the client's own clock takes part in (a time-stamped proof).
pub(crate) fn real_now() -> u64 {
    crate::time::unix_now()
}

/// The Graph API's time format, `2026-11-22T06:08:00+0000`.
pub(crate) fn graph_time(unix: u64) -> String {
    let secs = unix % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}+0000",
        crate::time::date(unix),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

impl State {
    pub(crate) fn new(require_proof: bool) -> Self {
        State {
            base_url: String::new(),
            require_proof,
            businesses: BTreeMap::new(),
            apps: BTreeMap::new(),
            assets: BTreeMap::new(),
            system_users: BTreeMap::new(),
            assignments: BTreeMap::new(),
            tokens: HashMap::new(),
            managed: BTreeMap::new(),
            next_id: 1,
            calls: 0,
            budget: None,
            legacy_token_edge: false,
            last_node_type: None,
            batch_journal: Vec::new(),
            clock_offset: 0,
            token_salt: fastrand::u64(..),
            partners: Default::default(),
        }
    }

    /// A fresh numeric id in the style of Graph ids.
    pub(crate) fn new_id(&mut self, prefix: u64) -> String {
        self.next_id += 1;
        format!("{prefix}{:013}", self.next_id)
    }

    /// A fresh token that looks like a Graph token and cannot be guessed from another.
    pub(crate) fn new_token(&mut self, principal: Principal) -> String {
        self.next_id += 1;
        let digest = Sha256::digest(format!(
            "emulator-token-{}-{}-{:?}-{}",
            self.token_salt,
            self.next_id,
            principal,
            self.now()
        ));
        let token = format!("EAAE{}", hex::encode(&digest[..24]));
        self.tokens.insert(
            token.clone(),
            TokenRec {
                principal,
                valid: true,
            },
        );
        token
    }

    /// Whether this principal may administer the business.
    pub(crate) fn is_admin(&self, principal: &Principal, business: &str) -> bool {
        match principal {
            Principal::Admin { user_id, .. } => self
                .businesses
                .get(business)
                .is_some_and(|b| b.admins.contains(user_id)),
            Principal::SystemUser { id, .. } => self
                .system_users
                .get(id)
                .is_some_and(|su| su.business == business && su.role == "ADMIN"),
            Principal::App { .. } | Principal::Page { .. } => false,
        }
    }

    /// The businesses a principal administers.
    pub(crate) fn admin_businesses(&self, principal: &Principal) -> Vec<String> {
        self.businesses
            .keys()
            .filter(|b| self.is_admin(principal, b))
            .cloned()
            .collect()
    }

    /// Whether this id is a person (a human admin) of some business.
    pub(crate) fn is_person(&self, id: &str) -> bool {
        self.businesses
            .values()
            .any(|b| b.admins.iter().any(|a| a == id))
    }

    /// A token's state, after expiry.
    pub(crate) fn token(&self, token: &str) -> Option<&TokenRec> {
        self.tokens.get(token)
    }
}

/// A field of a record, cloned; its default when there is no such record.
pub(crate) fn field_of<V, T: Clone + Default>(
    records: &BTreeMap<String, V>,
    id: &str,
    field: impl Fn(&V) -> &T,
) -> T {
    records
        .get(id)
        .map(|r| field(r).clone())
        .unwrap_or_default()
}

impl State {
    /// The emulator's time (Unix seconds): the real time plus what the test advanced it by.
    pub(crate) fn now(&self) -> u64 {
        real_now().saturating_add(self.clock_offset)
    }

    /// Whether a system-user token has expired, by the emulator's clock.
    pub(crate) fn expired(&self, principal: &Principal) -> bool {
        matches!(principal, Principal::SystemUser { expires_at, .. } if *expires_at != 0 && *expires_at <= self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_time_format() {
        assert_eq!(graph_time(0), "1970-01-01T00:00:00+0000");
        assert_eq!(graph_time(1_763_791_680), "2025-11-22T06:08:00+0000");
    }
}

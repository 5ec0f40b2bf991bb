//! Seeding the emulator's world: businesses with their apps, assets, people and system users,
//! and the two demo worlds.

use std::collections::BTreeSet;

use crate::config::AccessTier;

use super::state::{self, Asset, Kind, Principal, State};

/// The ids and credentials of the demo world seeded by [`GraphEmulator::demo`](super::GraphEmulator::demo).
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
    /// A business asset group.
    pub business_asset_group: &'static str,
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
    business_asset_group: "9000000000001",
};

/// The ids and credentials of the Business On Behalf Of demo ([`GraphEmulator::obo_demo`](super::GraphEmulator::obo_demo)).
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

/// A business to seed: its apps, assets, admins and existing system users.
///
/// ```
/// use meta_business::testing::{BusinessSeed, GraphEmulator};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// let emulator = GraphEmulator::builder()
///     .business(
///         BusinessSeed::new("1000000000042", "Shop")
///             .app("2000000000042", "Shop Sync", "shop-app-secret")
///             .page("4000000000042", "Shop")
///             .system_user("6100000000042", "shop-admin-automation", "ADMIN")
///             .system_user_token("6100000000042", "EAAE-shop-su", &["business_management"]),
///     )
///     .start()
///     .await;
/// let client = emulator.client("EAAE-shop-su")?;
/// let users = client.business("1000000000042").system_users().list().collect(10).await?;
/// assert_eq!(users[0].name.as_deref(), Some("shop-admin-automation"));
/// # Ok(()) }
/// ```
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
    pub(super) partners: super::partners::PartnerSeed,
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
            partners: Default::default(),
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
            self = self.asset(
                &id,
                Kind::of("ad_account"),
                &format!("Ad account {}", i + 1),
            );
        }
        self
    }

    /// An ad account (`act_<digits>` or digits).
    pub fn ad_account(self, id: &str, name: &str) -> Self {
        let id = crate::kinds::ad_account::AdAccountId::new(id);
        self.asset(id.as_str(), Kind::of("ad_account"), name)
    }

    /// A Page.
    pub fn page(self, id: &str, name: &str) -> Self {
        self.asset(id, Kind::of("page"), name)
    }

    /// A product catalog.
    pub fn catalog(self, id: &str, name: &str) -> Self {
        self.asset(id, Kind::of("catalog"), name)
    }

    /// A pixel.
    pub fn pixel(self, id: &str, name: &str) -> Self {
        self.asset(id, Kind::of("pixel"), name)
    }

    /// An Instagram business asset, by username.
    pub fn instagram(self, id: &str, username: &str) -> Self {
        self.asset(id, Kind::of("instagram"), username)
    }

    /// A WhatsApp Business Account.
    pub fn whatsapp(self, id: &str, name: &str) -> Self {
        self.asset(id, Kind::of("whatsapp"), name)
    }

    /// A business asset group.
    pub fn business_asset_group(self, id: &str, name: &str) -> Self {
        self.asset(id, Kind::of("business_asset_group"), name)
    }

    /// The token of a human admin of the business, issued through the business's first app.
    pub fn admin(mut self, token: &str) -> Self {
        self.admins.push((token.to_owned(), None));
        self
    }

    /// `employees` people of the business without the ADMIN role (they have no token); they come first
    /// in `business_users`, so with more than a page of them an admin is on a later page.
    pub fn employees(mut self, employees: usize) -> Self {
        self.employees = employees;
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
        self.tos_refused.push(
            crate::kinds::ad_account::AdAccountId::new(ad_account)
                .as_str()
                .to_owned(),
        );
        self
    }

    /// A system user that already exists (`role`: `ADMIN`, `EMPLOYEE`…).
    pub fn system_user(mut self, id: &str, name: &str, role: &str) -> Self {
        self.system_users
            .push((id.to_owned(), name.to_owned(), role.to_owned()));
        self
    }

    pub(super) fn plant(self, state: &mut State) {
        let created = state::graph_time(state.now());
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
            let permissions = self
                .app_permissions
                .iter()
                .find(|(app, _)| *app == id)
                .map(|(_, p)| p.clone());
            plant_app(state, &self.id, &id, name, secret, permissions);
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
                issued_at: state.now(),
            };
            state.tokens.insert(
                token,
                state::TokenRec {
                    principal,
                    valid: true,
                },
            );
        }
        state.businesses.insert(self.id.clone(), business);
        self.partners.plant(state, &self.id);
    }
}

/// An app of a business, with its app access token (`{app_id}|{app_secret}`, as `debug_token`
/// callers use it) and what it may grant.
fn plant_app(
    state: &mut State,
    business: &str,
    id: &str,
    name: String,
    secret: String,
    permissions: Option<Vec<String>>,
) {
    let app_token = state::TokenRec {
        principal: Principal::App { app: id.to_owned() },
        valid: true,
    };
    state.tokens.insert(format!("{id}|{secret}"), app_token);
    let permissions = permissions.unwrap_or_else(|| {
        DEFAULT_APP_PERMISSIONS
            .iter()
            .map(|p| (*p).to_owned())
            .collect()
    });
    state.apps.insert(
        id.to_owned(),
        state::App {
            name,
            secret,
            business: Some(business.to_owned()),
            permissions,
        },
    );
}

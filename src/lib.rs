//! # meta-business
//!
//! A typed, async client for the part of Meta's Graph API that manages Business Manager
//! **system users**: businesses, system users and their quota, the assets assigned to them with
//! per-asset tasks, and their access tokens.
//!
//! ```
//! use meta_business::{AccessTier, AdAccountTask, Client, PageTask, Permission, SystemUserRole};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> meta_business::Result<()> {
//! # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
//! # let (admin_token, app_secret) = (demo.admin_token, demo.app_secret);
//! let client = Client::builder()
//!     .access_token(admin_token)        // an admin system user's token
//!     .app_secret(app_secret)           // signs every call (appsecret_proof)
//!     .app_id("2000000000001")          // your app: tokens are minted for it
//!     .access_tier(AccessTier::Limited) // quota: 1 system user + 1 admin
//! #   .base_url(emulator.uri())
//!     .build()?;
//!
//! let business = client.business("1000000000001");
//! println!("{}", business.system_user_quota().send().await?);
//! let su = business
//!     .system_users()
//!     .create("ads-reporting-server")
//!     .role(SystemUserRole::Employee)
//!     .send()
//!     .await?;
//!
//! // Least privilege, per asset: each asset kind has its own task enum.
//! client.ad_account("act_3000000000001").assign(&su.id, [AdAccountTask::Analyze]).send().await?;
//! client.page("4000000000001").assign(&su.id, [PageTask::Analyze]).send().await?;
//!
//! // Install the app, then mint a token on the business-level edge, for the client's app.
//! client.system_user(&su.id).install_app("2000000000001").send().await?;
//! let token = client
//!     .system_user(&su.id)
//!     .generate_token("2000000000001")
//!     .business("1000000000001")
//!     .scopes([Permission::AdsRead])
//!     .expires_in_60_days(true)
//!     .send()
//!     .await?;
//! println!("token {}", token.masked()); // never the token itself
//! # Ok(()) }
//! ```
//!
//! The lines starting with `#` above (hidden in the rendered page) run it against the crate's
//! emulator; against Meta, pass your own token and leave the base URL alone.
//!
//! ## Where to go next
//!
//! - **Provisioning from a desired state**, the audit and offboarding: [`provision`], and the
//!   guide page [`guide::provisioning`].
//! - **Keeping tokens alive**: [`keeper::TokenKeeper`] over a [`store::TokenStore`]
//!   ([`store::FileStore`], [`store::MemoryStore`], `store::VaultStore` with the `vault` feature, `PostgresStore` in the companion
//!   crate `meta-business-postgres`): [`guide::keeper`].
//! - **Several replicas**: stores written by compare-and-set and shared create locks
//!   ([`lock::FileLock`], `PgCreateLock`): [`guide::replicas`].
//! - **Testing against the emulator**: [`testing`] and [`guide::emulator`].
//! - Every call by resource, preflight and Business On Behalf Of: [`guide::calls`];
//!   [`guide::security`], [`guide::fidelity`], [`guide::reliability`],
//!   [`guide::performance`].

//! ## Where things are
//!
//! The root holds what most programs name: the [`Client`] and its [`ClientBuilder`] settings,
//! the handlers ([`BusinessHandler`], [`SystemUserHandler`], [`AssetHandler`], …), the ids, the
//! [`Error`] (grouped by [`Phase`]) and the models. The rest is in one module each:
//!
//! | module | what |
//! |---|---|
//! | [`prelude`] | the names almost every program uses, for a glob import |
//! | [`calls`] | the request builders the handlers return (create, assign, rename, …) |
//! | [`asset`] | the asset-kind markers and what describes an asset beyond its model |
//! | [`tokens`] | token builders (generate, refresh, debug, revoke), token info, `appsecret_proof` |
//! | [`store`] | where tokens are kept: [`store::TokenStore`] and its stores |
//! | [`keeper`] | keeping stored tokens alive: [`keeper::TokenKeeper`] and its reports |
//! | [`lock`] | serializing system-user creates across tasks, processes, replicas |
//! | [`pagination`] | lists: one page, a bounded collect, a stream |
//! | [`usage`] | rate-limit usage headers, pacing, the system-user quota's use |
//! | [`retry`] | the retry policy |
//! | [`bulk`] | many assignments in one, and the Graph batch request |
//! | [`obo`] | Business On Behalf Of and its typed tokens |
//! | [`preflight`] | read-only checks with remedies |
//! | [`provision`] | desired state: plan, apply, audit, offboard |
//! | [`progress`] | progress events of the long workflows |
//! | [`testing`] | the Graph API emulator (feature `testing`) |

//! ## What it guarantees
//!
//! - **The quota is enforced before the call.** Creating a system user reads the business's
//!   system users first and answers [`Error::QuotaExceeded`] without sending anything when the
//!   new one would not fit (Limited tier: 1 + 1 admin; Full: 10 + 1). Creates for one business
//!   are serialized within a [`Client`].
//! - **Bad input never reaches the network.** Ids, names and enum escapes are checked first and
//!   fail with [`Error::InvalidInput`] naming the field.
//! - **Secrets stay secret.** The token travels only in `Authorization: Bearer`;
//!   `appsecret_proof` goes with every request, derived from that request's own token; no `Debug`, `Display`, error or log line holds
//!   the token, the app secret or the proof.
//! - **Lists are paged safely.** Every list is a [`pagination::ListRequest`]: one
//!   [`pagination::ListPage`], a bounded
//!   collect, or a stream, rebuilt from the `after` cursor (never from `paging.next`).
//!
//! System users cannot be deleted through the Graph API; see [`SystemUserHandler`].
//!
//! ## Features
//!
//! - `rustls` (default): TLS through rustls.
//! - `native-tls`: TLS through the platform library.
//! - `testing`: [`testing::GraphEmulator`], an in-process Graph API emulator for tests and
//!   demos (`cargo run --example quickstart` runs on it).

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod macros;

mod adaptive;
mod api;
mod auth;
mod batch;
mod builder;
pub mod bulk;
pub mod calls;
mod client;
mod config;
mod entry;
mod error;
mod form;
pub mod guide;
mod http;
mod ids;
pub mod keeper;
mod kinds;
pub mod lock;
mod models;
pub mod obo;
mod pacing;
pub mod pagination;
pub mod preflight;
pub mod prelude;
pub mod progress;
pub mod provision;
mod quota;
mod redact;
mod registry;
mod request;
mod response;
pub mod retry;
pub mod store;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod time;
pub mod tokens;
pub mod usage;

/// The asset kinds: their markers, the type parameter of [`AssetHandler`] (`asset::AdAccount`,
/// `asset::Page`, …), and what describes an asset beyond its model. Each marker fixes the id
/// type, the task enum and the rules of its kind (see [`AssetKind`]); they live here because
/// their names are those of the asset models ([`AdAccount`], [`Pixel`]).
///
/// ```
/// use meta_business::{AssetKind, asset};
/// assert!(asset::Catalog::TASKS_REQUIRED);
/// assert!(!asset::Pixel::CAN_UNASSIGN);
/// assert_eq!(asset::Page::SYSTEM_USER_EDGE, Some("assigned_pages"));
/// ```
pub mod asset {
    pub use crate::kinds::{
        AdAccount, BusinessAssetGroup, Catalog, Instagram, Page, Pixel, WhatsApp,
    };
    pub use crate::kinds::{AssetRef, KindVisitor};
    pub use crate::models::assets::{AccessStatus, ClaimResult};
}

// The root holds the client and its configuration, the handlers' entry types, the ids, the
// errors and the main models; each of the other public types is exported by one named module
// (`tokens`, `store`, `keeper`, …) and only there.
pub use api::assignments::AssetHandler;
pub use api::business::BusinessHandler;
pub use api::businesses::BusinessesHandler;
pub use api::system_user::SystemUserHandler;
pub use api::system_users::SystemUsersHandler;
pub use builder::ClientBuilder;
pub use client::{Client, DEFAULT_GRAPH_URL, QuotaPolicy, USER_AGENT};
pub use config::{
    AccessTier, ApiVersion, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_EMPTY_PAGES, DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, ProofMode, SystemUserKind, SystemUserQuota,
};
pub use error::{
    ApiError, Error, ErrorClass, ErrorHint, GraphError, Phase, Result, UnexpectedResponse,
};
pub use ids::{AppId, BusinessId, SystemUserId, UserId};
pub use kinds::ad_account::{AdAccountId, AdAccountTask};
pub use kinds::business_asset_group::{BusinessAssetGroupId, BusinessAssetGroupTask};
pub use kinds::catalog::{CatalogId, CatalogTask};
pub use kinds::instagram::{InstagramAssetId, InstagramTask};
pub use kinds::page::{PageId, PageTask};
pub use kinds::pixel::{PixelId, PixelTask};
pub use kinds::whatsapp::{WhatsAppBusinessAccountId, WhatsAppTask};
pub use kinds::{AssetKind, Task};
pub use models::assets::{
    AdAccount, App, BusinessAssetGroup, FacebookPage, InstagramAsset, Pixel, ProductCatalog,
    WhatsAppBusinessAccount,
};
pub use models::assignment::{AssignedAsset, AssignedUser, UserType};
pub use models::business::{
    Business, BusinessField, BusinessVertical, TwoFactorType, VerificationStatus,
};
pub use models::permissions::Permission;
pub use models::system_user::{SystemUser, SystemUserRole};
pub use models::token::SystemUserToken;
pub use models::{MAX_NAME_CHARS, NodeRef, validate_name};
#[cfg(fuzzing)]
#[doc(hidden)]
pub use response::fuzzing;
pub use secrecy::{ExposeSecret, SecretString};

/// Compiles the README's examples as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

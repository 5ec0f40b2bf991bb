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
//! - **Keeping tokens alive**: [`TokenKeeper`] over a [`TokenStore`] ([`FileStore`],
//!   [`MemoryStore`], `VaultStore` with the `vault` feature, `PostgresStore` in the companion
//!   crate `meta-business-postgres`): [`guide::keeper`].
//! - **Several replicas**: stores written by compare-and-set and shared create locks
//!   ([`FileLock`], `PgCreateLock`): [`guide::replicas`].
//! - **Testing against the emulator**: [`testing`] and [`guide::emulator`].
//! - Every call by resource, preflight and Business On Behalf Of: [`guide::calls`];
//!   [`guide::security`], [`guide::fidelity`], [`guide::reliability`],
//!   [`guide::performance`].

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
//! - **Lists are paged safely.** Every list is a [`ListRequest`]: one [`ListPage`], a bounded
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
mod bulk;
mod client;
mod config;
mod entry;
mod error;
mod form;
pub mod guide;
mod http;
mod ids;
mod keeper;
mod kinds;
mod lock;
mod models;
mod obo;
mod pacing;
mod pagination;
mod preflight;
mod progress;
pub mod provision;
mod quota;
mod redact;
mod registry;
mod request;
mod response;
mod retry;
mod store;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod time;
mod usage;

/// The asset-kind markers, the type parameter of [`AssetHandler`]: `asset::AdAccount`,
/// `asset::Page`, … Each fixes the id type, the task enum and the rules of its kind (see
/// [`AssetKind`]); they live here because their names are those of the asset models
/// ([`AdAccount`], [`Pixel`]).
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
}

// Every other public type is exported here, at the root, and only here.
pub use adaptive::Concurrency;
pub use api::Call;
pub use api::assignments::{AssetHandler, Assign, Unassign};
pub use api::business::BusinessHandler;
pub use api::businesses::{BusinessesHandler, CreateBusiness};
pub use api::system_user::SystemUserHandler;
pub use api::system_users::{
    CreateSystemUser, GetOrCreateSystemUser, GetOrCreated, QuotaRequest, RenameSystemUser,
    SystemUsersHandler,
};
pub use api::tokens::{
    Acknowledged, BusinessSystemUserToken, DebugToken, GenerateToken, RefreshToken, RevokeToken,
    TokenEdge,
};
pub use auth::{appsecret_proof, appsecret_proof_at};
pub use batch::{BatchItem, BatchRequest, BatchResponse, MAX_BATCH};
pub use builder::ClientBuilder;
pub use bulk::{BulkMode, BulkOp, BulkRequest, DEFAULT_CONCURRENCY};
pub use client::{Client, DEFAULT_GRAPH_URL, QuotaPolicy, USER_AGENT};
pub use config::{
    AccessTier, ApiVersion, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_EMPTY_PAGES, DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, ProofMode, SystemUserKind, SystemUserQuota,
};
pub use error::{ApiError, Error, ErrorClass, ErrorHint, GraphError, Result, UnexpectedResponse};
pub use ids::{AppId, BusinessId, SystemUserId, UserId};
pub use keeper::{
    DEFAULT_REFRESH_WINDOW, KeeperHandle, KeeperReport, RotateError, Step, TokenKeeper,
    TokenReport, TokenState, TokensNeedAttention,
};
pub use kinds::ad_account::{AdAccountId, AdAccountTask};
pub use kinds::business_asset_group::{BusinessAssetGroupId, BusinessAssetGroupTask};
pub use kinds::catalog::{CatalogId, CatalogTask};
pub use kinds::instagram::{InstagramAssetId, InstagramTask};
pub use kinds::page::{PageId, PageTask};
pub use kinds::pixel::{PixelId, PixelTask};
pub use kinds::whatsapp::{WhatsAppBusinessAccountId, WhatsAppTask};
pub use kinds::{AssetKind, AssetRef, KindVisitor, Task};
pub use lock::{CreateGuard, CreateLock, FileLock, InProcessLock, LockFuture};
pub use models::assets::{
    AccessStatus, AdAccount, App, BusinessAssetGroup, ClaimResult, FacebookPage, InstagramAsset,
    Pixel, ProductCatalog, WhatsAppBusinessAccount,
};
pub use models::assignment::{AssignedAsset, AssignedUser, UserType};
pub use models::business::{
    Business, BusinessField, BusinessVertical, TwoFactorType, VerificationStatus,
};
pub use models::permissions::Permission;
pub use models::system_user::{SystemUser, SystemUserRole};
pub use models::token::{
    Expiry, GranularScope, RefreshedToken, SystemUserToken, TokenError, TokenInfo, TokenType,
};
pub use models::{MAX_NAME_CHARS, NodeRef, validate_name};
pub use obo::{
    ClientAdminToken, ClientPage, ClientSystemUserToken, ClientTokenRequest, ManagedBusiness,
    OnBehalfOf, PageAccessToken, PartnerAdminToken,
};
pub use pacing::Pacing;
pub use pagination::{
    Cursors, DEFAULT_WORKFLOW_MAX_PAGES, ListPage, ListRequest, ListSummary, Paging,
};
pub use preflight::{
    Check, CheckKind, CheckStatus, PreflightFailed, PreflightReport, PreflightRequest,
};
pub use progress::{Progress, ProgressSink, Workflow};
pub use quota::QuotaUsage;
#[cfg(fuzzing)]
#[doc(hidden)]
pub use response::fuzzing;
pub use retry::{RetryDecision, RetryPolicy};
pub use secrecy::{ExposeSecret, SecretString};
pub use store::{
    Conflict, Expect, FileStore, MemoryStore, Minted, Put, Removed, StoreError, StoreFuture,
    StoredToken, TokenKey, TokenMeta, TokenStore, Version, Versioned,
};
#[cfg(feature = "vault")]
pub use store::{
    DEFAULT_VAULT_LOCK_LEASE, DEFAULT_VAULT_MAX_RESPONSE_BYTES, VaultLock, VaultStore,
    VaultStoreBuilder,
};
pub use usage::{AdAccountUsage, AppUsage, BusinessUseCaseUsage, Usage};

/// Compiles the README's examples as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

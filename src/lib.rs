//! # meta-business
//!
//! A typed, async client for the part of Meta's Graph API that manages Business Manager
//! **system users**: businesses, system users, their quota, and (in later releases) the assets
//! assigned to them and their tokens.
//!
//! ```no_run
//! use meta_business::{AccessTier, Client, SystemUserRole};
//!
//! # async fn run() -> meta_business::Result<()> {
//! let client = Client::builder()
//!     .access_token(std::env::var("META_ACCESS_TOKEN").unwrap_or_default())
//!     .access_tier(AccessTier::Full)
//!     .build()?;
//!
//! let biz = client.business("1234567890");
//! println!("{}", biz.system_user_quota().send().await?);
//! let su = biz
//!     .system_users()
//!     .create("reporting-server")
//!     .role(SystemUserRole::Employee)
//!     .send()
//!     .await?;
//! println!("created system user {}", su.id);
//! # Ok(()) }
//! ```
//!
//! ## What it guarantees
//!
//! - **The quota is enforced before the call.** Creating a system user reads the business's
//!   system users first and answers [`Error::QuotaExceeded`] without sending anything when the
//!   new one would not fit (Limited tier: 1 + 1 admin; Full: 10 + 1). Creates for one business
//!   are serialized within a [`Client`].
//! - **Bad input never reaches the network.** Ids, names and enum escapes are checked first and
//!   fail with [`Error::InvalidInput`] naming the field.
//! - **Secrets stay secret.** The token travels only in `Authorization: Bearer`;
//!   `appsecret_proof` is computed per request; no `Debug`, `Display`, error or log line holds
//!   the token, the app secret or the proof.
//! - **Lists are paged safely.** Every list is a [`ListRequest`]: one [`Page`], a bounded
//!   collect, or a stream, rebuilt from the `after` cursor (never from `paging.next`).
//!
//! System users cannot be deleted through the Graph API; see [`SystemUserHandler`].
//!
//! ## Features
//!
//! - `rustls` (default): TLS through rustls.
//! - `native-tls`: TLS through the platform library.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod macros;

pub mod api;
mod auth;
mod client;
mod config;
mod error;
mod http;
mod ids;
pub mod models;
mod pagination;
mod quota;

pub use api::Call;
pub use api::business::BusinessHandler;
pub use api::businesses::{BusinessesHandler, CreateBusiness};
pub use api::system_users::{
    CreateSystemUser, QuotaRequest, RenameSystemUser, SystemUserHandler, SystemUsersHandler,
};
pub use auth::{appsecret_proof, appsecret_proof_at};
pub use client::{Client, ClientBuilder, DEFAULT_GRAPH_URL, QuotaPolicy, USER_AGENT};
pub use config::{
    AccessTier, ApiVersion, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, ProofMode, SystemUserKind,
    SystemUserQuota,
};
pub use error::{ApiError, Error, GraphError, Result, UnexpectedResponse};
pub use ids::{
    AdAccountId, AppId, BusinessId, CatalogId, InstagramAssetId, PageId, PixelId, SystemUserId,
    UserId, WhatsAppBusinessAccountId,
};
pub use models::NodeRef;
pub use models::assets::{
    AccessStatus, AdAccount, App, ClaimResult, FacebookPage, InstagramAsset, Pixel, ProductCatalog,
    WhatsAppBusinessAccount,
};
pub use models::business::{
    Business, BusinessField, BusinessVertical, TwoFactorType, VerificationStatus,
};
pub use models::system_user::{SystemUser, SystemUserRole};
pub use pagination::{Cursors, ListRequest, Page, Paging, Summary};
pub use quota::QuotaUsage;
pub use secrecy::{ExposeSecret, SecretString};

/// Compiles the README's examples as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

//! Where system-user tokens live: the [`TokenStore`] trait, keyed by business, system user and
//! app, holding each token as a secret with what is known about it (scopes, expiry, when and how
//! it was minted). [`MemoryStore`] and [`FileStore`] come with the crate; a secrets manager is
//! a few lines (see [`TokenStore`]).

mod file;
mod memory;
#[cfg(feature = "vault")]
mod vault;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::ids::{AppId, BusinessId, SystemUserId};
use crate::models::permissions::Permission;

pub use file::FileStore;
pub use memory::MemoryStore;
#[cfg(feature = "vault")]
pub use vault::{DEFAULT_VAULT_MAX_RESPONSE_BYTES, VaultStore, VaultStoreBuilder};

/// The future every [`TokenStore`] method returns.
pub type StoreFuture<'a, T> =
    Pin<Box<dyn Future<Output = std::result::Result<T, StoreError>> + Send + 'a>>;

/// Which token: one per business, system user and app.
///
/// ```
/// use meta_business::TokenKey;
/// let key = TokenKey::new("1000000000001", "610000000000002", "2000000000001");
/// assert_eq!(key.to_string(), "business 1000000000001, system user 610000000000002, app 2000000000001");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenKey {
    /// The system user's business.
    pub business: BusinessId,
    /// The system user.
    pub system_user: SystemUserId,
    /// The app the token was minted for.
    pub app: AppId,
}

impl TokenKey {
    /// The key of the token of this system user of this business, for this app.
    pub fn new(
        business: impl Into<BusinessId>,
        system_user: impl Into<SystemUserId>,
        app: impl Into<AppId>,
    ) -> Self {
        TokenKey {
            business: business.into(),
            system_user: system_user.into(),
            app: app.into(),
        }
    }

    /// Checks the three ids.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] naming the bad id.
    pub fn validate(&self) -> crate::Result<()> {
        self.business.validate()?;
        self.system_user.validate()?;
        self.app.validate()
    }
}

impl fmt::Display for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "business {}, system user {}, app {}",
            self.business, self.system_user, self.app
        )
    }
}

/// How a stored token came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Minted {
    /// Generated for the system user (`access_tokens` / `system_user_access_tokens`).
    Generated,
    /// Exchanged for a fresher one (`fb_exchange_token`).
    Refreshed,
    /// Put in the store from elsewhere (a file, a console).
    Imported,
}

/// What is known about a stored token besides the token itself. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenMeta {
    /// The permissions it was minted with.
    pub scopes: Vec<Permission>,
    /// When it expires (Unix seconds); `None` for a token that does not expire.
    pub expires_at: Option<u64>,
    /// When it was minted or stored (Unix seconds).
    pub minted_at: u64,
    /// How.
    pub minted: Minted,
    /// The name the system user had in the desired state that minted the token: how a plan
    /// finds a managed system user again after someone renamed it by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_user_name: Option<String>,
}

impl TokenMeta {
    /// Metadata of a token minted now.
    pub fn new(
        scopes: impl IntoIterator<Item = Permission>,
        expires_at: Option<u64>,
        minted: Minted,
    ) -> Self {
        TokenMeta {
            scopes: scopes.into_iter().collect(),
            expires_at,
            minted_at: crate::time::unix_now(),
            minted,
            system_user_name: None,
        }
    }

    /// The same metadata, recording the system user's name in the desired state.
    pub fn named(mut self, system_user: impl Into<String>) -> Self {
        self.system_user_name = Some(system_user.into());
        self
    }
}

/// A token with its key and metadata. `Debug` and `Display` never show the token.
///
/// ```
/// use meta_business::{Minted, Permission, StoredToken, TokenKey, TokenMeta};
/// let stored = StoredToken::new(
///     TokenKey::new("1000000000001", "610000000000002", "2000000000001"),
///     "EAAB-very-secret-token-0123456789",
///     TokenMeta::new([Permission::AdsRead], None, Minted::Generated),
/// );
/// assert!(!format!("{stored:?}").contains("very-secret"));
/// assert_eq!(stored.masked(), "EAAB…6789");
/// ```
#[derive(Clone)]
pub struct StoredToken {
    /// Which token.
    pub key: TokenKey,
    token: SecretString,
    /// What is known about it.
    pub meta: TokenMeta,
    /// The token this one replaced, while a rotation is in progress.
    previous: Option<SecretString>,
}

impl StoredToken {
    /// A token to store.
    pub fn new(key: TokenKey, token: impl Into<SecretString>, meta: TokenMeta) -> Self {
        StoredToken {
            key,
            token: token.into(),
            meta,
            previous: None,
        }
    }

    /// The same token, holding `previous` (the token it replaces) until that one is revoked.
    ///
    /// A rotation stores the new token *with* the old one before it revokes the old: a crash
    /// between the two then leaves both in the store, never a valid token that nobody holds,
    /// and the next pass (keeper or `apply`) finishes the rotation. A store keeps both secrets
    /// together, written as one (see [`TokenStore`]).
    pub fn with_previous(mut self, previous: impl Into<SecretString>) -> Self {
        self.previous = Some(previous.into());
        self
    }

    /// The token this one replaced, while it is not yet revoked.
    pub fn previous(&self) -> Option<&SecretString> {
        self.previous.as_ref()
    }

    /// The same token, without the one it replaced (once that one is revoked).
    pub fn without_previous(mut self) -> Self {
        self.previous = None;
        self
    }
}

crate::auth::token_accessors!(StoredToken, token);

impl fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredToken")
            .field("key", &self.key)
            .field("token", &"[redacted]")
            .field("meta", &self.meta)
            .field("previous", &self.previous.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// A store that could not do what was asked. Its message names the key or the place, never a
/// token.
#[derive(Debug)]
pub struct StoreError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// An error with this message (say what and where; never include a token).
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            source: None,
        }
    }

    /// An error with this message, caused by `source`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Where system-user tokens live, keyed by business, system user and app.
///
/// Implementations keep the token secret (a secrets manager, an encrypted column, files only
/// their owner reads) and keep the metadata beside it. `put` replaces the token of its key as
/// a whole: a reader sees the old token or the new one, never a mix.
///
/// An implementation over HashiCorp Vault's KV version 2 API, with the crate's own reqwest:
///
/// ```no_run
/// use meta_business::{
///     ExposeSecret, StoreError, StoreFuture, StoredToken, TokenKey, TokenMeta, TokenStore,
/// };
///
/// struct Vault { http: reqwest::Client, addr: String, vault_token: String }
///
/// impl Vault {
///     fn url(&self, kind: &str, key: &TokenKey) -> String {
///         format!("{}/v1/secret/{kind}/meta-business/{}/{}/{}", self.addr, key.business, key.system_user, key.app)
///     }
///     async fn call(&self, method: reqwest::Method, url: String, body: Option<Vec<u8>>) -> Result<reqwest::Response, StoreError> {
///         let mut request = self.http.request(method, url).header("X-Vault-Token", &self.vault_token);
///         if let Some(body) = body {
///             request = request.header("Content-Type", "application/json").body(body);
///         }
///         request.send().await.map_err(|e| StoreError::with_source("Vault unreachable", e))
///     }
/// }
///
/// impl TokenStore for Vault {
///     fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<StoredToken>> {
///         Box::pin(async move {
///             let response = self.call(reqwest::Method::GET, self.url("data", key), None).await?;
///             if response.status() == 404 {
///                 return Ok(None);
///             }
///             let body = response.bytes().await.map_err(|e| StoreError::with_source("reading Vault", e))?;
///             let value: serde_json::Value = serde_json::from_slice(&body)
///                 .map_err(|e| StoreError::with_source(format!("Vault's answer for {key}"), e))?;
///             let data = &value["data"]["data"];
///             let token = data["token"].as_str().ok_or_else(|| StoreError::new(format!("no token for {key}")))?;
///             let meta: TokenMeta = serde_json::from_value(data["meta"].clone())
///                 .map_err(|e| StoreError::with_source(format!("metadata of {key}"), e))?;
///             Ok(Some(StoredToken::new(key.clone(), token.to_owned(), meta)))
///         })
///     }
///
///     fn put(&self, stored: StoredToken) -> StoreFuture<'_, ()> {
///         Box::pin(async move {
///             let body = serde_json::json!({"data": {
///                 "token": stored.secret().expose_secret(),
///                 "meta": stored.meta,
///             }});
///             let response = self.call(reqwest::Method::POST, self.url("data", &stored.key), Some(body.to_string().into_bytes())).await?;
///             if !response.status().is_success() {
///                 return Err(StoreError::new(format!("Vault refused {}: {}", stored.key, response.status())));
///             }
///             Ok(())
///         })
///     }
///
///     fn remove<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, bool> {
///         Box::pin(async move {
///             let response = self.call(reqwest::Method::DELETE, self.url("metadata", key), None).await?;
///             Ok(response.status().is_success())
///         })
///     }
///
///     fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
///         // Vault's LIST walks one level at a time; left out of this sketch.
///         Box::pin(async { Err(StoreError::new("listing is not implemented for this store")) })
///     }
/// }
/// ```
pub trait TokenStore: Send + Sync {
    /// The token of this key, if one is stored.
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<StoredToken>>;
    /// Stores a token, replacing the one of its key as a whole.
    fn put(&self, token: StoredToken) -> StoreFuture<'_, ()>;
    /// Removes the token of this key; whether there was one.
    fn remove<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, bool>;
    /// The keys of every stored token, in order.
    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>>;
}

/// Shown by name only: a store's contents are secrets, and options that hold one derive their
/// `Debug`.
impl fmt::Debug for dyn TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenStore")
    }
}

impl<S: TokenStore + ?Sized> TokenStore for std::sync::Arc<S> {
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<StoredToken>> {
        (**self).get(key)
    }
    fn put(&self, token: StoredToken) -> StoreFuture<'_, ()> {
        (**self).put(token)
    }
    fn remove<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, bool> {
        (**self).remove(key)
    }
    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        (**self).keys()
    }
}

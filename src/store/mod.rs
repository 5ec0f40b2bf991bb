//! Where system-user tokens live: the [`TokenStore`] trait, keyed by business, system user and
//! app, holding each token as a secret with what is known about it (scopes, expiry, when and how
//! it was minted), with a version for compare-and-set. [`MemoryStore`] and [`FileStore`] come
//! with the crate; the contract every store keeps is on [`TokenStore`].

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
pub use vault::{
    DEFAULT_VAULT_LOCK_LEASE, DEFAULT_VAULT_MAX_RESPONSE_BYTES, VaultLock, VaultStore,
    VaultStoreBuilder,
};

/// The future every [`TokenStore`] method returns.
pub type StoreFuture<'a, T> =
    Pin<Box<dyn Future<Output = std::result::Result<T, StoreError>> + Send + 'a>>;

/// Which token: one per business, system user and app.
///
/// ```
/// use meta_business::store::TokenKey;
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
    /// When the `previous` token held with this one is due for revoking (Unix seconds): set by
    /// a keeper with a grace period ([`TokenKeeper::keep_old_tokens_for`]). Until then the
    /// record is a finished rotation whose old token is still in use, not one left half-done;
    /// from then on, any run that reads it (any replica, a keeper run from cron, a plan)
    /// revokes the old token.
    ///
    /// [`TokenKeeper::keep_old_tokens_for`]: crate::keeper::TokenKeeper::keep_old_tokens_for
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_until: Option<u64>,
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
            previous_until: None,
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
/// use meta_business::Permission;
/// use meta_business::store::{Minted, StoredToken, TokenKey, TokenMeta};
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
        self.meta.previous_until = None;
        self
    }

    /// Whether the record holds the token it replaced in a grace period still running at
    /// `now` (Unix seconds): a finished rotation, not one left half-done.
    pub fn in_grace_at(&self, now: u64) -> bool {
        self.previous.is_some() && self.meta.previous_until.is_some_and(|until| now < until)
    }
}

impl StoredToken {
    /// The token itself.
    pub fn secret(&self) -> &SecretString {
        &self.token
    }

    /// Consumes this value, returning the token.
    pub fn into_secret(self) -> SecretString {
        self.token
    }

    /// A form safe to print: the first and last four characters, e.g. `EAAB…9xYz`.
    pub fn masked(&self) -> String {
        crate::auth::mask(&self.token)
    }
}

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

/// A token's version in its store. It changes with every write of its key and is never
/// reused for that key (not even after a remove): a stale expectation can never match.
///
/// Versions of one key grow with each write in the stores this crate ships, but the contract
/// is only that they differ: compare them for equality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(u64);

impl Version {
    /// The version numbered `n` (as a store keeps it).
    pub const fn new(n: u64) -> Self {
        Version(n)
    }

    /// Its number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "version {}", self.0)
    }
}

/// What a write or a remove expects the store to hold for the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expect {
    /// No token: the write creates the key.
    Absent,
    /// The token of this version: the write replaces (or the remove removes) what was read.
    Version(Version),
    /// Whatever is there (nothing included).
    Any,
}

impl Expect {
    /// Whether a key holding `current` meets this expectation.
    pub fn matches(self, current: Option<Version>) -> bool {
        match self {
            Expect::Any => true,
            Expect::Absent => current.is_none(),
            Expect::Version(v) => current == Some(v),
        }
    }
}

/// A stored token with its version.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Versioned {
    /// The token (with its previous token and metadata, read as one).
    pub token: StoredToken,
    /// Its version: what a write or remove that replaces this token expects.
    pub version: Version,
}

impl Versioned {
    /// A token read at this version (for implementations of [`TokenStore`]).
    pub fn new(token: StoredToken, version: Version) -> Self {
        Versioned { token, version }
    }
}

/// Another writer got there first: what the key holds now (`None`: nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Conflict {
    /// The key's version when the write or remove was refused.
    pub current: Option<Version>,
}

impl Conflict {
    /// The key held `current` (for implementations of [`TokenStore`]).
    pub fn new(current: Option<Version>) -> Self {
        Conflict { current }
    }
}

/// What a conditional write did.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Put {
    /// Written; the token's new version.
    Written(Version),
    /// Not written: the key did not hold what was expected.
    Conflict(Conflict),
}

/// What a conditional remove did.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Removed {
    /// The token was removed.
    Removed,
    /// Nothing was stored (and nothing else was expected).
    Absent,
    /// Not removed: the key did not hold what was expected.
    Conflict(Conflict),
}

/// Where system-user tokens live, keyed by business, system user and app.
///
/// Implementations keep the token secret (a secrets manager, an encrypted column, files only
/// their owner reads) and keep the metadata beside it. The crate ships [`MemoryStore`] and
/// [`FileStore`]; a Vault / OpenBao KV v2 store, `VaultStore`, comes under the `vault` feature.
///
/// # The contract
///
/// Every store, whatever it keeps tokens in, promises this (and
/// `meta_business::testing::store_conformance` checks it):
///
/// - **Linearizable per key.** Every `get`, `put` and `remove` of one key appears to take effect
///   at one instant between its call and its return, for every handle and every process
///   sharing the store.
/// - **Versions.** A token is read with its [`Version`]; a write changes it, and a key never
///   holds a version it held before, not even after a remove.
/// - **Compare-and-set.** `put` and `remove` act only when the key holds what their [`Expect`]
///   says: [`Expect::Absent`] when no token is stored, [`Expect::Version`] when the current
///   version is that one, [`Expect::Any`] always. A `put` that wrote returns the new version,
///   and a `get` right after returns it.
/// - **Removes.** A missing key with [`Expect::Any`] or [`Expect::Absent`] is
///   [`Removed::Absent`]; with [`Expect::Version`] it is a conflict with `current: None`; a
///   present key with [`Expect::Absent`] is a conflict.
/// - **A conflict is an outcome** (`Ok(Put::Conflict(..))`, `Ok(Removed::Conflict(..))`),
///   never a [`StoreError`]; a `StoreError` says the store could not answer (unreachable,
///   refused, a corrupt entry).
/// - **One write, one whole.** The token, its previous token and its metadata are written and
///   read as one: never a mix of two writers.
///
/// # Implementing it
///
/// A store over a map, honouring every expectation under one lock:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use meta_business::store::{Conflict, Expect, Put, Removed, StoreError, StoreFuture, StoredToken, TokenKey, TokenStore, Version, Versioned};
///
/// #[derive(Default)]
/// struct MapStore {
///     // The last version handed out, for every key: versions never repeat.
///     state: Mutex<(u64, HashMap<TokenKey, (StoredToken, Version)>)>,
/// }
///
/// impl MapStore {
///     fn locked(&self) -> Result<std::sync::MutexGuard<'_, (u64, HashMap<TokenKey, (StoredToken, Version)>)>, StoreError> {
///         self.state.lock().map_err(|_| StoreError::new("store poisoned"))
///     }
/// }
///
/// impl TokenStore for MapStore {
///     fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<Versioned>> {
///         Box::pin(async move {
///             let state = self.locked()?;
///             Ok(state.1.get(key).map(|(t, v)| Versioned::new(t.clone(), *v)))
///         })
///     }
///
///     fn put(&self, token: StoredToken, expect: Expect) -> StoreFuture<'_, Put> {
///         Box::pin(async move {
///             let mut state = self.locked()?;
///             let current = state.1.get(&token.key).map(|(_, v)| *v);
///             if !expect.matches(current) {
///                 return Ok(Put::Conflict(Conflict::new(current)));
///             }
///             state.0 += 1;
///             let version = Version::new(state.0);
///             state.1.insert(token.key.clone(), (token, version));
///             Ok(Put::Written(version))
///         })
///     }
///
///     fn remove<'a>(&'a self, key: &'a TokenKey, expect: Expect) -> StoreFuture<'a, Removed> {
///         Box::pin(async move {
///             let mut state = self.locked()?;
///             let current = state.1.get(key).map(|(_, v)| *v);
///             if !expect.matches(current) {
///                 return Ok(Removed::Conflict(Conflict::new(current)));
///             }
///             Ok(match state.1.remove(key) {
///                 Some(_) => Removed::Removed,
///                 None => Removed::Absent,
///             })
///         })
///     }
///
///     fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
///         Box::pin(async move {
///             let mut keys: Vec<TokenKey> = self.locked()?.1.keys().cloned().collect();
///             keys.sort();
///             Ok(keys)
///         })
///     }
/// }
/// ```
pub trait TokenStore: Send + Sync {
    /// The token of this key and its version, if one is stored.
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<Versioned>>;
    /// Writes the token (with its `previous`, if any) as one, if the key holds what `expect`
    /// says.
    fn put(&self, token: StoredToken, expect: Expect) -> StoreFuture<'_, Put>;
    /// Removes the token of this key, if the key holds what `expect` says.
    fn remove<'a>(&'a self, key: &'a TokenKey, expect: Expect) -> StoreFuture<'a, Removed>;
    /// The keys of every stored token, in order (an entry that cannot be read is still listed;
    /// its `get` fails).
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
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<Versioned>> {
        (**self).get(key)
    }
    fn put(&self, token: StoredToken, expect: Expect) -> StoreFuture<'_, Put> {
        (**self).put(token, expect)
    }
    fn remove<'a>(&'a self, key: &'a TokenKey, expect: Expect) -> StoreFuture<'a, Removed> {
        (**self).remove(key, expect)
    }
    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        (**self).keys()
    }
}

//! A store in memory: for tests, and for a process that mints and uses its tokens itself.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{StoreFuture, StoredToken, TokenKey, TokenStore};

/// Tokens in memory, shared by its clones; gone when the last clone is.
///
/// ```
/// use meta_business::{MemoryStore, Minted, StoredToken, TokenKey, TokenMeta, TokenStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), meta_business::StoreError> {
/// let store = MemoryStore::new();
/// let key = TokenKey::new("1000000000001", "610000000000002", "2000000000001");
/// store.put(StoredToken::new(key.clone(), "EAAB-token", TokenMeta::new([], None, Minted::Imported))).await?;
/// assert!(store.get(&key).await?.is_some());
/// assert_eq!(store.keys().await?, [key.clone()]);
/// assert!(store.remove(&key).await?);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    tokens: Arc<Mutex<BTreeMap<TokenKey, StoredToken>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn tokens(&self) -> MutexGuard<'_, BTreeMap<TokenKey, StoredToken>> {
        // A panic elsewhere while holding the lock leaves the map whole: every change is one
        // insert or remove.
        match self.tokens.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl TokenStore for MemoryStore {
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<StoredToken>> {
        let found = self.tokens().get(key).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn put(&self, token: StoredToken) -> StoreFuture<'_, ()> {
        self.tokens().insert(token.key.clone(), token);
        Box::pin(async { Ok(()) })
    }

    fn remove<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, bool> {
        let removed = self.tokens().remove(key).is_some();
        Box::pin(async move { Ok(removed) })
    }

    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        let keys = self.tokens().keys().cloned().collect();
        Box::pin(async move { Ok(keys) })
    }
}

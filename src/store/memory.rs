//! A store in memory: for tests, and for a process that mints and uses its tokens itself.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{
    Conflict, Expect, Put, Removed, StoreFuture, StoredToken, TokenKey, TokenStore, Version,
    Versioned,
};

/// Tokens in memory, shared by its clones; gone when the last clone is.
///
/// Every write takes the next number of one counter shared by the clones, so a version is
/// never handed out twice, whatever the key.
///
/// ```
/// use meta_business::store::{Expect, MemoryStore, Minted, Put, Removed, StoredToken, TokenKey, TokenMeta, TokenStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), meta_business::store::StoreError> {
/// let store = MemoryStore::new();
/// let key = TokenKey::new("1000000000001", "610000000000002", "2000000000001");
/// let token = StoredToken::new(key.clone(), "EAAB-token", TokenMeta::new([], None, Minted::Imported));
/// let Put::Written(version) = store.put(token.clone(), Expect::Absent).await? else { unreachable!() };
/// assert_eq!(store.get(&key).await?.map(|v| v.version), Some(version));
/// // A second create loses: the key is taken.
/// assert!(matches!(store.put(token, Expect::Absent).await?, Put::Conflict(_)));
/// assert_eq!(store.keys().await?, [key.clone()]);
/// assert_eq!(store.remove(&key, Expect::Version(version)).await?, Removed::Removed);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// The last version handed out.
    last: u64,
    tokens: BTreeMap<TokenKey, (StoredToken, Version)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the map whole: every change is one
        // insert or remove.
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl TokenStore for MemoryStore {
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<Versioned>> {
        let found = self
            .state()
            .tokens
            .get(key)
            .map(|(token, version)| Versioned::new(token.clone(), *version));
        Box::pin(async move { Ok(found) })
    }

    fn put(&self, token: StoredToken, expect: Expect) -> StoreFuture<'_, Put> {
        let outcome = {
            let mut state = self.state();
            let current = state.tokens.get(&token.key).map(|(_, v)| *v);
            if expect.matches(current) {
                state.last += 1;
                let version = Version::new(state.last);
                state.tokens.insert(token.key.clone(), (token, version));
                Put::Written(version)
            } else {
                Put::Conflict(Conflict::new(current))
            }
        };
        Box::pin(async move { Ok(outcome) })
    }

    fn remove<'a>(&'a self, key: &'a TokenKey, expect: Expect) -> StoreFuture<'a, Removed> {
        let outcome = {
            let mut state = self.state();
            let current = state.tokens.get(key).map(|(_, v)| *v);
            if !expect.matches(current) {
                Removed::Conflict(Conflict::new(current))
            } else if state.tokens.remove(key).is_some() {
                Removed::Removed
            } else {
                Removed::Absent
            }
        };
        Box::pin(async move { Ok(outcome) })
    }

    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        let keys = self.state().tokens.keys().cloned().collect();
        Box::pin(async move { Ok(keys) })
    }
}

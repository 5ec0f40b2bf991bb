//! The store contract (`meta_business::testing::store_conformance`) run against every store
//! the crate ships, and shown to catch a store that breaks it.

use std::sync::Arc;

use meta_business::store::{
    Expect, FileStore, MemoryStore, Put, Removed, StoreFuture, StoredToken, TokenKey, TokenStore,
    Versioned,
};
use meta_business::testing::store_conformance;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_memory_store_keeps_the_contract() {
    let store = MemoryStore::new();
    store_conformance(|| store.clone()).await;
    assert!(
        store.keys().await.unwrap().is_empty(),
        "the suite cleans up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_file_store_keeps_the_contract_across_handles() {
    let dir = std::env::temp_dir().join(format!(
        "meta-business-conformance-{}-{:x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    // Every handle opens the directory anew, as another process would.
    store_conformance(|| FileStore::open(&dir).unwrap()).await;
    assert!(
        FileStore::open(&dir)
            .unwrap()
            .keys()
            .await
            .unwrap()
            .is_empty()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A store that ignores what a write expects: the suite must refuse it.
struct Unconditional(MemoryStore);

impl TokenStore for Unconditional {
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<Versioned>> {
        self.0.get(key)
    }
    fn put(&self, token: StoredToken, _: Expect) -> StoreFuture<'_, Put> {
        self.0.put(token, Expect::Any)
    }
    fn remove<'a>(&'a self, key: &'a TokenKey, expect: Expect) -> StoreFuture<'a, Removed> {
        self.0.remove(key, expect)
    }
    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        self.0.keys()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_ignores_expectations_fails_the_suite() {
    let store = Arc::new(MemoryStore::new());
    let run = tokio::spawn(async move {
        store_conformance(|| Unconditional(MemoryStore::clone(&store))).await;
    });
    let panic = run.await.unwrap_err().into_panic();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.starts_with("store conformance, "), "{message}");
    assert!(message.contains("expected Conflict"), "{message}");
}

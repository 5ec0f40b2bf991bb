//! `TokenKeeper::rotate`: a fresh token rotated now through the keeper's rotation, reported
//! as a rotation; a key the store does not hold is a typed error with nothing sent; a rotation
//! killed at any of its requests converges on one valid token, the one stored.

use meta_business::testing::GraphEmulator;
use meta_business::{
    Client, ExposeSecret, Permission, SystemUserId,
    keeper::{RotateError, TokenKeeper, TokenState},
    store::{Expect, MemoryStore, Minted, Put, StoredToken, TokenKey, TokenMeta, TokenStore},
};

struct World {
    emulator: GraphEmulator,
    client: Client,
    store: MemoryStore,
    key: TokenKey,
    su: SystemUserId,
    old: String,
}

/// The demo business with one system user holding a fresh 60-day token, stored.
async fn world() -> World {
    world_with(true).await
}

async fn world_with(retries: bool) -> World {
    let (emulator, _) = GraphEmulator::demo().await;
    let client = crate::rotation::client(&emulator, retries);
    let store = MemoryStore::new();
    let (key, old) = crate::common::stored_60_day_token(&client, &store, "rotate-on-demand").await;
    let su = key.system_user.clone();
    World {
        emulator,
        client,
        store,
        key,
        su,
        old,
    }
}

#[tokio::test]
async fn rotate_replaces_a_fresh_token_and_revokes_the_old_one() {
    let w = world().await;
    let keeper =
        TokenKeeper::new(w.client.clone(), w.store.clone()).clock(w.emulator.clock_source());
    // A regular pass leaves the fresh token alone.
    let pass = keeper.run_once().await;
    assert_eq!(pass.tokens[0].state, TokenState::Valid);
    assert!(!pass.tokens[0].refreshed);

    let report = keeper.rotate(&w.key).await.unwrap();
    assert!(report.refreshed && report.on_demand, "{report}");
    assert_eq!(report.state, TokenState::Valid);
    assert!(
        report.failed.is_none() && report.orphan_risk.is_none(),
        "{report}"
    );

    // The state: one valid token, the one stored (without a previous), the old one revoked.
    let stored = w.store.get(&w.key).await.unwrap().unwrap().token;
    let new = stored.secret().expose_secret().to_owned();
    assert_ne!(new, w.old);
    assert!(stored.previous().is_none());
    assert_eq!(stored.meta.minted, Minted::Refreshed);
    assert!(w.emulator.token_is_valid(&new));
    assert!(!w.emulator.token_is_valid(&w.old));
    assert_eq!(w.emulator.valid_tokens_of(w.su.as_str()), 1);

    // The wording: a rotation, not "expires soon", and no token in it.
    let line = report.to_string();
    assert!(
        line.starts_with(&format!("{}: rotated on demand", w.key)),
        "{line}"
    );
    assert!(!line.contains("expires soon"), "{line}");
    assert!(!line.contains("refreshed"), "{line}");
    for secret in [&w.old, &new] {
        assert!(!line.contains(secret.as_str()));
        assert!(!format!("{report:?}").contains(secret.as_str()));
    }
}

#[tokio::test]
async fn rotate_of_a_key_not_stored_is_a_typed_error_and_sends_nothing() {
    let w = world().await;
    let keeper =
        TokenKeeper::new(w.client.clone(), w.store.clone()).clock(w.emulator.clock_source());
    let other = TokenKey::new(w.key.business.clone(), "100000000000999", w.key.app.clone());
    w.emulator.clear_requests();
    match keeper.rotate(&other).await {
        Err(RotateError::NotStored(key)) => assert_eq!(key, other),
        other => panic!("expected NotStored, got {other:?}"),
    }
    assert!(
        w.emulator.requests().is_empty(),
        "{:?}",
        w.emulator.requests()
    );
    // What was stored is untouched.
    let stored = w.store.get(&w.key).await.unwrap().unwrap().token;
    assert_eq!(stored.secret().expose_secret(), w.old.as_str());
    assert!(w.emulator.token_is_valid(&w.old));
}

impl World {
    fn keeper(&self) -> TokenKeeper<MemoryStore> {
        TokenKeeper::new(self.client.clone(), self.store.clone())
            .clock(self.emulator.clock_source())
    }

    async fn stored(&self) -> StoredToken {
        self.store.get(&self.key).await.unwrap().unwrap().token
    }
}

/// Kills each request of a rotation on demand in turn (the server does the work, the answer
/// is lost), then lets the keeper run: every run ends with one valid token, the one stored,
/// and no record left half-done. Only a lost exchange answer leaves a token nobody holds, and
/// the report names it.
async fn kill_every_request_of_a_rotation_on_demand(retries: bool) {
    let clean = world_with(retries).await;
    clean.emulator.clear_requests();
    let report = clean.keeper().rotate(&clean.key).await.unwrap();
    assert!(report.refreshed, "{report}");
    let requests: Vec<String> = clean
        .emulator
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(requests.len() >= 3, "{requests:?}");
    let mut orphans = 0;
    for (i, request) in requests.iter().enumerate() {
        let context = format!("retries {retries}, killed at request {i} ({request})");
        let w = world_with(retries).await;
        crate::rotation::kill_at(&w.emulator, i);
        let first = w.keeper().rotate(&w.key).await.unwrap();
        w.emulator.clear_faults();
        let now = w.stored().await;
        assert!(
            w.emulator.token_is_valid(now.secret().expose_secret()),
            "no working token stored after the kill ({context})\n{first}"
        );
        if first.refreshed {
            assert_ne!(now.secret().expose_secret(), w.old, "{context}\n{first}");
        }
        if first.orphan_risk.is_some() {
            orphans += 1;
            assert!(request.ends_with("/oauth/access_token"), "{context}");
            assert!(!first.to_string().contains(&w.old), "{context}");
            // The remedy the report names: invalidate the user's tokens, mint one, store it.
            w.client
                .system_user(&w.su)
                .invalidate_tokens()
                .send()
                .await
                .unwrap();
            let minted = w
                .client
                .system_user(&w.su)
                .generate_token(w.key.app.clone())
                .business(w.key.business.clone())
                .scopes([Permission::AdsRead])
                .expires_in_60_days(true)
                .send()
                .await
                .unwrap();
            let version = w.store.get(&w.key).await.unwrap().unwrap().version;
            let meta = TokenMeta::new([Permission::AdsRead], None, Minted::Generated);
            let put = w
                .store
                .put(
                    StoredToken::new(w.key.clone(), minted.secret().expose_secret(), meta),
                    Expect::Version(version),
                )
                .await
                .unwrap();
            assert!(matches!(put, Put::Written(_)), "{context}");
        }
        for _ in 0..2 {
            let next = w.keeper().run_once().await;
            assert!(next.tokens[0].orphan_risk.is_none(), "{context}\n{next}");
        }
        let stored = w.stored().await;
        assert!(stored.previous().is_none(), "half-done ({context})");
        assert!(
            w.emulator.token_is_valid(stored.secret().expose_secret()),
            "{context}"
        );
        assert_eq!(
            w.emulator.valid_tokens_of(w.su.as_str()),
            1,
            "valid tokens of the user ({context})\n{first}"
        );
        eprintln!("  kill {i} ({request}): {first}; converged");
    }
    assert_eq!(orphans, 1, "only the lost exchange answer leaves an orphan");
}

#[tokio::test]
async fn a_kill_at_every_request_of_a_rotation_on_demand_converges_without_retries() {
    kill_every_request_of_a_rotation_on_demand(false).await;
}

#[tokio::test]
async fn a_kill_at_every_request_of_a_rotation_on_demand_converges_with_retries() {
    kill_every_request_of_a_rotation_on_demand(true).await;
}

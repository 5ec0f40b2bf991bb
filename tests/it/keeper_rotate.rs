//! `TokenKeeper::rotate`: a fresh token rotated now through the keeper's rotation, reported
//! as a rotation; a key the store does not hold is a typed error with nothing sent.

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
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let su = client
        .business(demo.business_id)
        .system_users()
        .create("rotate-on-demand")
        .send()
        .await
        .unwrap();
    client
        .system_user(&su.id)
        .install_app(demo.app_id)
        .send()
        .await
        .unwrap();
    let minted = client
        .system_user(&su.id)
        .generate_token(demo.app_id)
        .business(demo.business_id)
        .scopes([Permission::AdsRead])
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    let old = minted.secret().expose_secret().to_owned();
    let store = MemoryStore::new();
    let key = TokenKey::new(demo.business_id, su.id.clone(), demo.app_id);
    let put = store
        .put(
            StoredToken::new(
                key.clone(),
                old.clone(),
                TokenMeta::new([Permission::AdsRead], None, Minted::Generated),
            ),
            Expect::Absent,
        )
        .await
        .unwrap();
    assert!(matches!(put, Put::Written(_)));
    World {
        emulator,
        client,
        store,
        key,
        su: su.id,
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

//! The token keeper: a full rotation, a failure injected at each step leaving a working token
//! stored, two keepers on one store, the background task, and no token in any report or log.

use std::sync::Arc;
use std::time::Duration;

use crate::common::StoreOutcome;
use meta_business::store::{Expect, Put, Removed, Versioned};
use meta_business::testing::{DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{
    Client, ExposeSecret, Permission, SystemUserId,
    keeper::{Step, TokenKeeper, TokenState},
    store::{
        MemoryStore, Minted, StoreError, StoreFuture, StoredToken, TokenKey, TokenMeta, TokenStore,
    },
};

use crate::common::{captured_logs, logs_text};

const DAY: u64 = 86_400;

struct World {
    emulator: GraphEmulator,
    client: Client,
    key: TokenKey,
    token: String,
}

/// The demo business with one system user holding a fresh 60-day token, stored in `store`.
async fn world(store: &dyn TokenStore) -> World {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let su = client
        .business(demo.business_id)
        .system_users()
        .create("keeper-reporting")
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
    let token = minted.secret().expose_secret().to_owned();
    let key = TokenKey::new(demo.business_id, su.id.clone(), demo.app_id);
    store
        .put(
            StoredToken::new(
                key.clone(),
                token.clone(),
                TokenMeta::new([Permission::AdsRead], None, Minted::Generated),
            ),
            Expect::Any,
        )
        .await
        .done();
    World {
        emulator,
        client,
        key,
        token,
    }
}

async fn stored_token(store: &dyn TokenStore, key: &TokenKey) -> String {
    store
        .get(key)
        .await
        .unwrap()
        .unwrap()
        .token
        .secret()
        .expose_secret()
        .to_owned()
}

fn refreshes(emulator: &GraphEmulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/oauth/access_token"))
        .count()
}

#[tokio::test]
async fn a_full_rotation_refreshes_stores_verifies_and_revokes() {
    captured_logs();
    let store = MemoryStore::new();
    let w = world(&store).await;
    w.emulator.advance_clock(Duration::from_secs(50 * DAY));
    let keeper = TokenKeeper::new(w.client.clone(), store.clone()).clock(w.emulator.clock_source());
    let report = keeper.run_once().await;

    let t = &report.tokens[0];
    assert_eq!(t.state, TokenState::ExpiresSoon);
    assert!(
        t.refreshed && t.failed.is_none() && t.warning.is_none(),
        "{report}"
    );
    let new = stored_token(&store, &w.key).await;
    assert_ne!(new, w.token);
    assert!(w.emulator.token_is_valid(&new));
    assert!(
        !w.emulator.token_is_valid(&w.token),
        "the old token is revoked"
    );
    let stored = store.get(&w.key).await.unwrap().unwrap().token;
    assert_eq!(stored.meta.minted, Minted::Refreshed);
    assert_eq!(stored.meta.scopes, [Permission::AdsRead]);
    let clock = w
        .emulator
        .clock()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires = stored.meta.expires_at.unwrap();
    assert!(
        (clock + 59 * DAY..=clock + 60 * DAY).contains(&expires),
        "{expires} vs {clock}"
    );
    assert!(report.is_healthy());
    assert!(report.clone().into_result().is_ok());

    // The report, as text and JSON, and the logs hold neither token.
    let text = report.to_string();
    let json = serde_json::to_string(&report).unwrap();
    for shown in [&text, &json, &logs_text()] {
        assert!(!shown.contains(&w.token) && !shown.contains(&new));
    }
    assert!(text.contains("1 refreshed"), "{text}");

    // Right after, there is nothing to do.
    let again = keeper.run_once().await;
    assert_eq!(again.tokens[0].state, TokenState::Valid);
    assert!(!again.tokens[0].refreshed);
}

#[tokio::test]
async fn tokens_outside_the_window_are_only_inspected() {
    let store = MemoryStore::new();
    let w = world(&store).await;
    let report = TokenKeeper::new(w.client.clone(), store.clone())
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    assert_eq!(report.tokens[0].state, TokenState::Valid);
    assert_eq!(refreshes(&w.emulator), 0);
    assert_eq!(stored_token(&store, &w.key).await, w.token);
}

#[tokio::test]
async fn a_failed_refresh_leaves_the_old_token() {
    let store = MemoryStore::new();
    let w = world(&store).await;
    w.emulator.advance_clock(Duration::from_secs(50 * DAY));
    w.emulator
        .inject(FaultRule::new(Fault::graph(100)).on("GET", "/oauth/access_token"));
    let report = TokenKeeper::new(w.client.clone(), store.clone())
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    assert_eq!(
        report.tokens[0].failed.as_ref().map(|f| f.0),
        Some(Step::Refresh)
    );
    assert_eq!(stored_token(&store, &w.key).await, w.token);
    assert!(w.emulator.token_is_valid(&w.token));
    assert!(!report.is_healthy());
    let attention = report.into_result().unwrap_err();
    assert!(attention.to_string().contains("1 failed"), "{attention}");
}

/// A store whose writes fail.
struct ReadOnly(MemoryStore);

impl TokenStore for ReadOnly {
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<Versioned>> {
        self.0.get(key)
    }
    fn put(&self, _token: StoredToken, _expect: Expect) -> StoreFuture<'_, Put> {
        Box::pin(async { Err(StoreError::new("the disk is full")) })
    }
    fn remove<'a>(&'a self, key: &'a TokenKey, expect: Expect) -> StoreFuture<'a, Removed> {
        self.0.remove(key, expect)
    }
    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        self.0.keys()
    }
}

#[tokio::test]
async fn a_failed_store_write_keeps_the_old_token_and_revokes_the_orphan() {
    let inner = MemoryStore::new();
    let w = world(&inner).await;
    w.emulator.advance_clock(Duration::from_secs(50 * DAY));
    let report = TokenKeeper::new(w.client.clone(), ReadOnly(inner.clone()))
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    let failed = report.tokens[0].failed.clone().unwrap();
    assert_eq!(failed.0, Step::Store);
    assert!(failed.1.contains("disk is full"));
    assert_eq!(stored_token(&inner, &w.key).await, w.token);
    assert!(w.emulator.token_is_valid(&w.token));
    // The fresh token, which nothing holds, was revoked.
    assert_eq!(refreshes(&w.emulator), 1);
    assert!(
        w.emulator
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/oauth/revoke"))
    );
}

#[tokio::test]
async fn a_failed_check_of_the_new_token_puts_the_old_one_back() {
    let store = MemoryStore::new();
    let w = world(&store).await;
    w.emulator.advance_clock(Duration::from_secs(50 * DAY));
    // The first debug_token (the stored token) answers; the second (the new one) fails.
    w.emulator.inject(
        FaultRule::new(Fault::graph(100))
            .on("GET", "/debug_token")
            .after(1),
    );
    let report = TokenKeeper::new(w.client.clone(), store.clone())
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    assert_eq!(
        report.tokens[0].failed.as_ref().map(|f| f.0),
        Some(Step::Verify)
    );
    assert_eq!(stored_token(&store, &w.key).await, w.token);
    assert!(
        store
            .get(&w.key)
            .await
            .unwrap()
            .unwrap()
            .token
            .previous()
            .is_none()
    );
    assert!(w.emulator.token_is_valid(&w.token));
    // The new token, which nobody may use unchecked, was revoked, and the report says so.
    assert_eq!(refreshes(&w.emulator), 1);
    assert_eq!(w.emulator.valid_tokens_of(w.key.system_user.as_str()), 1);
    let why = &report.tokens[0].failed.as_ref().unwrap().1;
    assert!(why.contains("the new token was revoked"), "{why}");
    assert!(report.tokens[0].orphan_risk.is_none());
}

/// A second system user of the demo business holding a valid token (another service's).
async fn other_service(w: &World) -> (SystemUserId, String) {
    let users = w.client.business(DEMO.business_id).system_users();
    let su = users
        .create("other-service")
        .role(meta_business::SystemUserRole::Admin)
        .send()
        .await
        .unwrap();
    w.client
        .system_user(&su.id)
        .install_app(DEMO.app_id)
        .send()
        .await
        .unwrap();
    let token = w
        .client
        .system_user(&su.id)
        .generate_token(DEMO.app_id)
        .business(DEMO.business_id)
        .scopes([Permission::AdsRead])
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    (su.id, token.secret().expose_secret().to_owned())
}

#[tokio::test]
async fn a_refresh_answered_with_another_users_token_is_neither_stored_nor_reported_refreshed() {
    let store = MemoryStore::new();
    let w = world(&store).await;
    let (other, foreign) = other_service(&w).await;
    w.emulator.advance_clock(Duration::from_secs(50 * DAY));
    let body = serde_json::json!({"access_token": foreign, "token_type": "bearer", "expires_in": 5_184_000});
    w.emulator.inject(
        FaultRule::new(Fault::Raw {
            status: 200,
            body: body.to_string(),
        })
        .on("GET", "/oauth/access_token")
        .times(1),
    );
    let report = TokenKeeper::new(w.client.clone(), store.clone())
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    let t = &report.tokens[0];
    assert!(!t.refreshed, "{report}");
    let (step, why) = t.failed.clone().unwrap();
    assert_eq!(step, Step::Verify);
    assert!(why.contains(&format!("user {other}")), "{why}");
    // The first user's token is still the stored one, and works; the other's is left alone
    // (it may be another service's), and the token asked for may exist: named.
    assert_eq!(stored_token(&store, &w.key).await, w.token);
    assert!(
        store
            .get(&w.key)
            .await
            .unwrap()
            .unwrap()
            .token
            .previous()
            .is_none()
    );
    assert!(w.emulator.token_is_valid(&w.token));
    assert!(w.emulator.token_is_valid(&foreign));
    assert!(t.orphan_risk.is_some(), "{report}");
    let text = report.to_string();
    assert!(
        text.contains("0 refreshed") && !text.contains(&foreign),
        "{text}"
    );
    assert_eq!(store.keys().await.unwrap(), std::slice::from_ref(&w.key));
}

#[tokio::test]
async fn a_stored_token_of_another_user_is_flagged_and_never_refreshed() {
    let store = MemoryStore::new();
    let w = world(&store).await;
    let (_, foreign) = other_service(&w).await;
    store
        .put(
            StoredToken::new(
                w.key.clone(),
                foreign.clone(),
                TokenMeta::new([Permission::AdsRead], None, Minted::Imported),
            ),
            Expect::Any,
        )
        .await
        .done();
    w.emulator.advance_clock(Duration::from_secs(50 * DAY));
    let report = TokenKeeper::new(w.client.clone(), store.clone())
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    let t = &report.tokens[0];
    assert_eq!(t.state, TokenState::Mismatch, "{report}");
    assert!(!t.refreshed && !report.is_healthy());
    assert_eq!(refreshes(&w.emulator), 0);
    assert!(
        report.to_string().contains("NOT THIS KEY'S TOKEN"),
        "{report}"
    );
    assert!(w.emulator.token_is_valid(&foreign));
}

#[tokio::test]
async fn a_refused_refresh_of_a_token_that_expired_meanwhile_does_not_say_it_still_works() {
    let store = MemoryStore::new();
    let w = world(&store).await;
    // The token expires; the keeper's first look (a stale answer) still shows it valid and due.
    w.emulator.advance_clock(Duration::from_secs(61 * DAY));
    let now = w
        .emulator
        .clock()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let stale = serde_json::json!({"data": {
        "app_id": DEMO.app_id, "type": "SYSTEM_USER", "is_valid": true, "scopes": ["ads_read"],
        "expires_at": now + DAY, "user_id": w.key.system_user.as_str(),
    }});
    w.emulator.inject(
        FaultRule::new(Fault::Raw {
            status: 200,
            body: stale.to_string(),
        })
        .on("GET", "/debug_token")
        .times(1),
    );
    let report = TokenKeeper::new(w.client.clone(), store.clone())
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    let t = &report.tokens[0];
    assert_eq!(
        t.failed.as_ref().map(|f| f.0),
        Some(Step::Refresh),
        "{report}"
    );
    assert_eq!(t.state, TokenState::Expired, "{report}");
    let text = report.to_string();
    assert!(!text.contains("still works"), "{text}");
    assert!(text.contains("does not work: generate a new one"), "{text}");
    assert!(t.orphan_risk.is_none(), "a definite refusal minted nothing");
}

#[tokio::test]
async fn a_failed_revoke_keeps_the_new_token_and_says_so() {
    let store = MemoryStore::new();
    let w = world(&store).await;
    w.emulator.advance_clock(Duration::from_secs(50 * DAY));
    w.emulator
        .inject(FaultRule::new(Fault::graph(100)).on("GET", "/oauth/revoke"));
    let report = TokenKeeper::new(w.client.clone(), store.clone())
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    let t = &report.tokens[0];
    assert!(t.refreshed && t.failed.is_none());
    assert!(
        t.warning
            .as_deref()
            .unwrap()
            .contains("revoking the old one failed")
    );
    let new = stored_token(&store, &w.key).await;
    assert_ne!(new, w.token);
    assert!(w.emulator.token_is_valid(&new));
    // The old token is not dropped on the floor: the store still holds it as the previous
    // token, and the next pass (the revocation working again) revokes it and clears it.
    let held = store.get(&w.key).await.unwrap().unwrap().token;
    assert_eq!(held.previous().unwrap().expose_secret(), w.token);
    assert!(w.emulator.token_is_valid(&w.token));
    w.emulator.clear_faults();
    let next = TokenKeeper::new(w.client.clone(), store.clone())
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    assert!(next.tokens[0].failed.is_none(), "{next}");
    assert!(!w.emulator.token_is_valid(&w.token));
    assert_eq!(stored_token(&store, &w.key).await, new);
    assert!(
        store
            .get(&w.key)
            .await
            .unwrap()
            .unwrap()
            .token
            .previous()
            .is_none()
    );
    assert_eq!(w.emulator.valid_tokens_of(w.key.system_user.as_str()), 1);
}

#[tokio::test]
async fn an_old_token_kept_for_a_grace_period_is_revoked_after_it() {
    let store = MemoryStore::new();
    let w = world(&store).await;
    w.emulator.advance_clock(Duration::from_secs(50 * DAY));
    let keeper = TokenKeeper::new(w.client.clone(), store.clone())
        .keep_old_tokens_for(Duration::from_secs(7 * DAY))
        .clock(w.emulator.clock_source());
    let first = keeper.run_once().await;
    assert!(first.tokens[0].refreshed);
    assert!(
        w.emulator.token_is_valid(&w.token),
        "kept during the grace period"
    );
    assert!(
        first.tokens[0]
            .warning
            .as_deref()
            .unwrap()
            .contains("grace period")
    );

    // Three days on: still within the grace period.
    w.emulator.advance_clock(Duration::from_secs(3 * DAY));
    assert!(keeper.run_once().await.retired.is_empty());
    assert!(w.emulator.token_is_valid(&w.token));

    // Five more: over; the next pass revokes it.
    w.emulator.advance_clock(Duration::from_secs(5 * DAY));
    let later = keeper.run_once().await;
    assert_eq!(later.retired, std::slice::from_ref(&w.key));
    assert!(!w.emulator.token_is_valid(&w.token));
    assert!(
        w.emulator
            .token_is_valid(&stored_token(&store, &w.key).await)
    );
}

#[tokio::test]
async fn two_keepers_on_one_store_store_one_token_and_the_loser_revokes_its_own() {
    let store = Arc::new(MemoryStore::new());
    let w = world(&*store).await;
    w.emulator.advance_clock(Duration::from_secs(50 * DAY));
    let a = TokenKeeper::new(w.client.clone(), Arc::clone(&store)).clock(w.emulator.clock_source());
    let b = TokenKeeper::new(w.client.clone(), Arc::clone(&store)).clock(w.emulator.clock_source());
    let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
    // No process-local guard: both may refresh; the store's compare-and-set picks one.
    let calls = refreshes(&w.emulator);
    assert!((1..=2).contains(&calls), "{ra}\n{rb}");
    let refreshed = [&ra, &rb].iter().filter(|r| r.tokens[0].refreshed).count();
    assert_eq!(refreshed, 1, "{ra}\n{rb}");
    let lost = [&ra, &rb]
        .iter()
        .filter(|r| r.tokens[0].lost_race.is_some())
        .count();
    assert_eq!(lost, calls - 1, "{ra}\n{rb}");
    assert!(
        w.emulator
            .token_is_valid(&stored_token(&*store, &w.key).await)
    );
    assert_eq!(w.emulator.valid_tokens_of(w.key.system_user.as_str()), 1);
}

#[tokio::test]
async fn the_background_keeper_runs_and_stops_cleanly() {
    let store = MemoryStore::new();
    let w = world(&store).await;
    w.emulator.advance_clock(Duration::from_secs(50 * DAY));
    let handle = TokenKeeper::new(w.client.clone(), store.clone())
        .clock(w.emulator.clock_source())
        .spawn(Duration::from_millis(50));
    for _ in 0..100 {
        if handle.last_report().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let last = handle.stop().await.expect("a pass ran");
    assert!(last.is_healthy(), "{last}");
    assert_ne!(stored_token(&store, &w.key).await, w.token);
    // Stopped: no more passes.
    let before = w.emulator.requests().len();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(w.emulator.requests().len(), before);
    let _ = SystemUserId::from(DEMO.business_id);
}

mod the_crate_uses_the_store {
    use std::sync::Arc;

    use crate::common::StoreOutcome;
    use meta_business::provision::{
        self, AuditOptions, FindingKind, OffboardOptions, PlanOptions, Spec, SystemUserBuilder,
    };
    use meta_business::store::Expect;
    use meta_business::testing::{DEMO, GraphEmulator};
    use meta_business::{
        AdAccountTask, ExposeSecret, Permission,
        store::{MemoryStore, TokenKey, TokenStore},
    };

    use super::ReadOnly;

    fn spec(expiring: bool) -> Spec {
        let mut user = SystemUserBuilder::new("ads-reporting-server")
            .app(DEMO.app_id)
            .ad_account(DEMO.ad_accounts[0], [AdAccountTask::Analyze])
            .token(DEMO.app_id, [Permission::AdsRead]);
        if !expiring {
            user = user.token_never_expires();
        }
        Spec::builder(DEMO.business_id)
            .system_user(user)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn provisioning_writes_each_minted_token_to_the_store() {
        let (emulator, demo) = GraphEmulator::demo().await;
        let client = emulator.client(demo.admin_token).unwrap();
        let store = Arc::new(MemoryStore::new());
        let options = PlanOptions::default().store(store.clone());
        let plan = provision::plan(&client, &spec(true), &options)
            .await
            .unwrap();
        let report = plan.apply(&client).await;
        assert!(report.is_complete(), "{report}");
        let su = &emulator.system_users(demo.business_id)[0].id;
        let key = TokenKey::new(demo.business_id, su.as_str(), demo.app_id);
        let stored = store
            .get(&key)
            .await
            .unwrap()
            .map(|v| v.token)
            .expect("stored under its key");
        assert_eq!(
            stored.secret().expose_secret(),
            report.tokens[0].1.secret().expose_secret()
        );
        assert_eq!(stored.meta.scopes, [Permission::AdsRead]);
        assert!(stored.meta.expires_at.is_some());
        assert!(emulator.token_is_valid(stored.secret().expose_secret()));
    }

    #[tokio::test]
    async fn a_store_that_refuses_stops_the_apply_and_the_refused_token_is_revoked_not_reported() {
        let (emulator, demo) = GraphEmulator::demo().await;
        let client = emulator.client(demo.admin_token).unwrap();
        let options = PlanOptions::default().store(Arc::new(ReadOnly(MemoryStore::new())));
        let plan = provision::plan(&client, &spec(true), &options)
            .await
            .unwrap();
        let report = plan.apply(&client).await;
        let (_, err) = report.failed.as_ref().expect("stopped");
        assert!(err.to_string().contains("disk is full"), "{err}");
        // Minted, refused by the store, revoked: held by nobody, so listed nowhere.
        assert!(report.tokens.is_empty(), "{report}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["tokens_generated_for"], serde_json::json!([]));
        let id = &report.identities["ads-reporting-server"];
        assert_eq!(emulator.valid_tokens_of(id.as_str()), 0);
        assert!(report.orphan_risk.is_empty());
    }

    #[tokio::test]
    async fn audit_inspects_the_stored_tokens_of_the_business() {
        let (emulator, demo) = GraphEmulator::demo().await;
        let client = emulator.client(demo.admin_token).unwrap();
        let store = Arc::new(MemoryStore::new());
        let options = PlanOptions::default().store(store.clone());
        let plan = provision::plan(&client, &spec(false), &options)
            .await
            .unwrap();
        assert!(plan.apply(&client).await.is_complete());
        let key = store.keys().await.unwrap().remove(0);
        let report = provision::audit(
            &client,
            demo.business_id,
            &AuditOptions::default()
                .app(demo.app_id)
                .store(store.clone()),
        )
        .await
        .unwrap();
        let never = report
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::TokenNeverExpires)
            .expect("the stored never-expiring token is reported");
        assert_eq!(never.subject, key.to_string());
    }

    #[tokio::test]
    async fn audit_flags_a_stored_token_of_another_user_and_a_rotation_left_half_done() {
        let (emulator, demo) = GraphEmulator::demo().await;
        let client = emulator.client(demo.admin_token).unwrap();
        let store = Arc::new(MemoryStore::new());
        let options = PlanOptions::default().store(store.clone());
        let plan = provision::plan(&client, &spec(true), &options)
            .await
            .unwrap();
        let report = plan.apply(&client).await.into_result().unwrap();
        let key = store.keys().await.unwrap().remove(0);
        let own = store.get(&key).await.unwrap().unwrap().token;
        // Another system user's token, stored under this user's key (a copy-paste, a bad
        // import), the user's own kept as the record's previous token.
        let users = client.business(demo.business_id).system_users();
        let other = users
            .create("other-service")
            .role(meta_business::SystemUserRole::Admin)
            .send()
            .await
            .unwrap();
        client
            .system_user(&other.id)
            .install_app(demo.app_id)
            .send()
            .await
            .unwrap();
        let foreign = client
            .system_user(&other.id)
            .generate_token(demo.app_id)
            .business(demo.business_id)
            .scopes([Permission::AdsRead])
            .send()
            .await
            .unwrap();
        store
            .put(
                meta_business::store::StoredToken::new(
                    key.clone(),
                    foreign.secret().clone(),
                    own.meta.clone(),
                )
                .with_previous(own.secret().clone()),
                Expect::Any,
            )
            .await
            .done();
        let audit = provision::audit(
            &client,
            demo.business_id,
            &AuditOptions::default()
                .app(demo.app_id)
                .store(store.clone()),
        )
        .await
        .unwrap();
        let mismatch = audit
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::TokenMismatch)
            .unwrap_or_else(|| panic!("{audit}"));
        assert_eq!(mismatch.subject, key.to_string());
        assert!(
            mismatch.message.contains(&format!("user {}", other.id)),
            "{audit}"
        );
        assert!(
            audit
                .findings
                .iter()
                .any(|f| f.kind == FindingKind::RotationUnfinished),
            "{audit}"
        );
        let _ = report;
    }

    #[tokio::test]
    async fn offboarding_removes_the_users_tokens_from_the_store_after_invalidating_them() {
        let (emulator, demo) = GraphEmulator::demo().await;
        let client = emulator.client(demo.admin_token).unwrap();
        let store = Arc::new(MemoryStore::new());
        let options = PlanOptions::default().store(store.clone());
        let plan = provision::plan(&client, &spec(true), &options)
            .await
            .unwrap();
        assert!(plan.apply(&client).await.is_complete());
        let key = store.keys().await.unwrap().remove(0);
        let token = store.get(&key).await.unwrap().unwrap().token;
        // A token of another system user in the same store stays.
        let other = TokenKey::new(demo.business_id, "610000000000099", demo.app_id);
        store
            .put(
                meta_business::store::StoredToken::new(
                    other.clone(),
                    "EAAB-other".to_owned(),
                    token.meta.clone(),
                ),
                Expect::Any,
            )
            .await
            .done();
        let report = provision::offboard(
            &client,
            demo.business_id,
            key.system_user.clone(),
            &OffboardOptions::default().store(store.clone()),
        )
        .await
        .unwrap()
        .into_result()
        .unwrap();
        assert_eq!(report.tokens_removed, [key]);
        assert!(!emulator.token_is_valid(token.secret().expose_secret()));
        assert_eq!(store.keys().await.unwrap(), [other]);
        assert!(report.to_string().contains("token removed from the store"));
    }
}

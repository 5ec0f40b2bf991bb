//! A keeper's grace period for old tokens lives in the store (`TokenMeta::previous_until`,
//! with the old token as `previous`): another keeper (another process: a new store handle, no
//! grace configured) ends it when it is over, never before; the audit and the plan leave a
//! record in its grace period alone; a rotation asked for, or an apply that replaces the
//! token, ends it early by revoking the old token, so no token is left valid and unheld; a
//! rotation with a grace period, and the end of one, killed at each request converge on one
//! valid token, the stored one.

use std::sync::Arc;
use std::time::Duration;

use meta_business::provision::{
    self, AuditOptions, FindingKind, PlanOptions, Spec, SystemUserBuilder,
};
use meta_business::testing::{DEMO, GraphEmulator};
use meta_business::{
    ExposeSecret, Permission,
    keeper::TokenKeeper,
    store::{FileStore, TokenKey, TokenStore},
};

use crate::common::stored_60_day_token;

const DAY: u64 = 86_400;

fn temp_dir(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "meta-business-grace-{name}-{}-{:x}",
        std::process::id(),
        fastrand::u64(..)
    ))
}

async fn current(store: &dyn TokenStore, key: &TokenKey) -> meta_business::store::StoredToken {
    store.get(key).await.unwrap().expect("stored").token
}

fn secret(token: &meta_business::store::StoredToken) -> String {
    token.secret().expose_secret().to_owned()
}

#[tokio::test]
async fn a_grace_period_is_kept_in_the_store_and_ended_by_another_keeper_when_over() {
    let dir = temp_dir("keepers");
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let store = FileStore::open(&dir).unwrap();
    let (key, old) = stored_60_day_token(&client, &store, "grace-reporting").await;
    emulator.advance_clock(Duration::from_secs(50 * DAY));

    // This keeper rotates with a 7-day grace period, and then is gone (a process that ended).
    let first = TokenKeeper::new(client.clone(), store.clone())
        .keep_old_tokens_for(Duration::from_secs(7 * DAY))
        .clock(emulator.clock_source())
        .run_once()
        .await;
    assert!(first.tokens[0].refreshed, "{first}");
    let record = current(&store, &key).await;
    let new = secret(&record);
    assert_eq!(
        record.previous().map(|p| p.expose_secret().to_owned()),
        Some(old.clone()),
        "the old token is held in the store during its grace period"
    );
    let until = record
        .meta
        .previous_until
        .expect("the grace period is in the store");
    let now = emulator.clock_source()()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        (now + 7 * DAY - 5..=now + 7 * DAY).contains(&until),
        "{until} vs {now}"
    );
    assert!(emulator.token_is_valid(&old) && emulator.token_is_valid(&new));
    drop(store);

    // Another process: its own store handle on the same directory, no grace configured.
    let other = FileStore::open(&dir).unwrap();
    let keeper = TokenKeeper::new(client.clone(), other.clone()).clock(emulator.clock_source());
    emulator.advance_clock(Duration::from_secs(3 * DAY));
    let during = keeper.run_once().await;
    assert!(during.retired.is_empty() && during.is_healthy(), "{during}");
    assert!(!during.tokens[0].refreshed, "{during}");
    assert!(
        emulator.token_is_valid(&old),
        "kept during its grace period"
    );
    let left = current(&other, &key).await;
    assert_eq!(secret(&left), new, "the record is left alone");
    assert_eq!(left.meta.previous_until, Some(until));
    assert!(left.previous().is_some());

    // Neither the audit nor the plan takes it for a rotation left half-done.
    let audit = provision::audit(
        &client,
        demo.business_id,
        &AuditOptions::default()
            .app(demo.app_id)
            .store(Arc::new(other.clone())),
    )
    .await
    .unwrap();
    assert!(
        !audit
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::RotationUnfinished),
        "{audit}"
    );

    // Over: this other keeper revokes the old token and clears the record.
    emulator.advance_clock(Duration::from_secs(5 * DAY));
    let after = keeper.run_once().await;
    assert_eq!(after.retired, vec![key.clone()], "{after}");
    assert!(
        after.to_string().contains("grace period is over; revoked"),
        "{after}"
    );
    assert!(!emulator.token_is_valid(&old));
    let record = current(&other, &key).await;
    assert_eq!(secret(&record), new);
    assert!(record.previous().is_none() && record.meta.previous_until.is_none());
    assert_eq!(emulator.valid_tokens_of(key.system_user.as_str()), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_rotation_asked_for_during_a_grace_period_revokes_the_kept_token_first() {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let store = meta_business::store::MemoryStore::new();
    let (key, oldest) = stored_60_day_token(&client, &store, "grace-rotate").await;
    let keeper = TokenKeeper::new(client.clone(), store.clone())
        .keep_old_tokens_for(Duration::from_secs(7 * DAY))
        .clock(emulator.clock_source());
    let first = keeper.rotate(&key).await.unwrap();
    assert!(first.refreshed, "{first}");
    let middle = secret(&current(&store, &key).await);
    assert!(emulator.token_is_valid(&oldest), "in its grace period");

    let second = keeper.rotate(&key).await.unwrap();
    assert!(second.refreshed, "{second}");
    let record = current(&store, &key).await;
    // The first grace period ended early: its token is revoked, not dropped from the record
    // while still valid; the second one keeps the middle token.
    assert!(!emulator.token_is_valid(&oldest));
    assert_eq!(
        record.previous().map(|p| p.expose_secret().to_owned()),
        Some(middle.clone())
    );
    assert!(emulator.token_is_valid(&middle) && emulator.token_is_valid(&secret(&record)));
    assert_eq!(emulator.valid_tokens_of(key.system_user.as_str()), 2);
}

#[tokio::test]
async fn an_apply_replacing_a_token_in_its_grace_period_revokes_the_kept_one() {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let store = Arc::new(meta_business::store::MemoryStore::new());
    let (key, oldest) = stored_60_day_token(&client, &*store, "grace-apply").await;
    TokenKeeper::new(client.clone(), Arc::clone(&store))
        .keep_old_tokens_for(Duration::from_secs(7 * DAY))
        .clock(emulator.clock_source())
        .rotate(&key)
        .await
        .unwrap();
    let kept = current(&*store, &key).await;
    assert!(kept.previous().is_some());

    // A desired state with one more scope: the plan replaces the token; it does not finish
    // the rotation (it is finished, its old token in a grace period).
    let spec = Spec::builder(DEMO.business_id)
        .system_user(
            SystemUserBuilder::new("grace-apply")
                .app(DEMO.app_id)
                .token(
                    DEMO.app_id,
                    [Permission::AdsRead, Permission::BusinessManagement],
                ),
        )
        .build()
        .unwrap();
    let options = PlanOptions::default().store(store.clone());
    let plan = provision::plan(&client, &spec, &options).await.unwrap();
    let text = plan.to_string();
    assert!(!text.to_lowercase().contains("finish"), "{plan}");
    let report = plan.apply(&client).await;
    assert!(report.is_complete(), "{report}");

    let now = current(&*store, &key).await;
    assert!(now.previous().is_none(), "{report}");
    assert!(
        !emulator.token_is_valid(&oldest),
        "the kept token is revoked"
    );
    assert!(
        !emulator.token_is_valid(&secret(&kept)),
        "the replaced token is revoked"
    );
    assert!(emulator.token_is_valid(&secret(&now)));
    assert_eq!(
        emulator.valid_tokens_of(key.system_user.as_str()),
        1,
        "{report}"
    );
}

/// A system user whose stored 60-day token is 50 days old, and a keeper with a 7-day grace.
async fn due_for_refresh(
    retries: bool,
) -> (
    GraphEmulator,
    meta_business::Client,
    meta_business::store::MemoryStore,
    TokenKey,
    String,
) {
    let (emulator, _) = GraphEmulator::demo().await;
    let client = crate::rotation::client(&emulator, retries);
    let store = meta_business::store::MemoryStore::new();
    let (key, old) = stored_60_day_token(&client, &store, "grace-kill").await;
    emulator.advance_clock(Duration::from_secs(50 * DAY));
    (emulator, client, store, key, old)
}

fn graceful(
    client: &meta_business::Client,
    store: &meta_business::store::MemoryStore,
    emulator: &GraphEmulator,
) -> TokenKeeper<meta_business::store::MemoryStore> {
    TokenKeeper::new(client.clone(), store.clone())
        .keep_old_tokens_for(Duration::from_secs(7 * DAY))
        .clock(emulator.clock_source())
}

/// Each request of a rotation with a grace period killed in turn (the work done, the answer
/// lost), then the keeper run on past the grace period: every run ends with one valid token,
/// the stored one, the record holding no other. Only a lost exchange answer leaves a token
/// nobody holds, and the report names it.
async fn kill_every_request_of_a_graceful_rotation(retries: bool) {
    let (emulator, client, store, _, _) = due_for_refresh(retries).await;
    emulator.clear_requests();
    let clean = graceful(&client, &store, &emulator).run_once().await;
    assert!(clean.tokens[0].refreshed, "{clean}");
    let requests: Vec<String> = emulator
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(requests.len() >= 3, "{requests:?}");
    let mut orphans = 0;
    for (i, request) in requests.iter().enumerate() {
        let context = format!("retries {retries}, killed at request {i} ({request})");
        let (emulator, client, store, key, old) = due_for_refresh(retries).await;
        crate::rotation::kill_at(&emulator, i);
        let first = graceful(&client, &store, &emulator).run_once().await;
        emulator.clear_faults();
        let now = current(&store, &key).await;
        assert!(
            emulator.token_is_valid(&secret(&now)),
            "no working token stored ({context})\n{first}"
        );
        if let Some(kept) = now.previous() {
            // A finished rotation keeps the old token for its grace period, nothing else.
            assert_eq!(kept.expose_secret(), old, "{context}");
            assert!(
                now.meta.previous_until.is_some() || !first.is_healthy(),
                "{context}"
            );
        }
        if first.tokens[0].orphan_risk.is_some() {
            orphans += 1;
            assert!(request.ends_with("/oauth/access_token"), "{context}");
            client
                .system_user(&key.system_user)
                .invalidate_tokens()
                .send()
                .await
                .unwrap();
            let removed = store
                .remove(&key, meta_business::store::Expect::Any)
                .await
                .unwrap();
            assert_eq!(removed, meta_business::store::Removed::Removed);
            stored_60_day_token_again(&client, &store, &key).await;
        }
        // Past the grace period: any keeper (no grace configured) ends it.
        emulator.advance_clock(Duration::from_secs(8 * DAY));
        for _ in 0..2 {
            let next = TokenKeeper::new(client.clone(), store.clone())
                .clock(emulator.clock_source())
                .run_once()
                .await;
            assert!(next.tokens[0].orphan_risk.is_none(), "{context}\n{next}");
        }
        let stored = current(&store, &key).await;
        assert!(stored.previous().is_none(), "{context}");
        assert!(emulator.token_is_valid(&secret(&stored)), "{context}");
        assert_eq!(
            emulator.valid_tokens_of(key.system_user.as_str()),
            1,
            "valid tokens of the user ({context})\n{first}"
        );
    }
    assert_eq!(orphans, 1, "only the lost exchange answer leaves an orphan");
}

/// After invalidating, a fresh token of the key stored again (the remedy a report names).
async fn stored_60_day_token_again(
    client: &meta_business::Client,
    store: &meta_business::store::MemoryStore,
    key: &TokenKey,
) {
    use meta_business::store::{Expect, Minted, StoredToken, TokenMeta};
    let minted = client
        .system_user(&key.system_user)
        .generate_token(key.app.clone())
        .business(key.business.clone())
        .scopes([Permission::AdsRead])
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    let meta = TokenMeta::new([Permission::AdsRead], None, Minted::Generated);
    let put = store
        .put(
            StoredToken::new(key.clone(), minted.secret().expose_secret(), meta),
            Expect::Absent,
        )
        .await
        .unwrap();
    assert!(matches!(put, meta_business::store::Put::Written(_)));
}

#[tokio::test]
async fn a_graceful_rotation_killed_at_each_request_converges_without_retries() {
    kill_every_request_of_a_graceful_rotation(false).await;
}

#[tokio::test]
async fn a_graceful_rotation_killed_at_each_request_converges_with_retries() {
    kill_every_request_of_a_graceful_rotation(true).await;
}

/// The end of a grace period with its revocation killed (the token revoked, the answer lost):
/// the old token is dead either way, and the record is cleared this pass or the next.
#[tokio::test]
async fn the_end_of_a_grace_period_killed_at_its_revocation_still_ends_it() {
    let (emulator, client, store, key, old) = due_for_refresh(false).await;
    let first = graceful(&client, &store, &emulator).run_once().await;
    assert!(first.tokens[0].refreshed, "{first}");
    emulator.advance_clock(Duration::from_secs(8 * DAY));
    emulator.inject(
        meta_business::testing::FaultRule::new(meta_business::testing::Fault::after_work(
            meta_business::testing::Fault::Http { status: 502 },
        ))
        .on("GET", "/oauth/revoke")
        .times(1),
    );
    let keeper = TokenKeeper::new(client.clone(), store.clone()).clock(emulator.clock_source());
    let ended = keeper.run_once().await;
    emulator.clear_faults();
    assert!(!emulator.token_is_valid(&old), "{ended}");
    if current(&store, &key).await.previous().is_some() {
        let again = keeper.run_once().await;
        assert_eq!(again.retired, vec![key.clone()], "{again}");
    } else {
        assert_eq!(ended.retired, vec![key.clone()], "{ended}");
    }
    let stored = current(&store, &key).await;
    assert!(stored.previous().is_none() && stored.meta.previous_until.is_none());
    assert!(emulator.token_is_valid(&secret(&stored)));
    assert_eq!(emulator.valid_tokens_of(key.system_user.as_str()), 1);
}

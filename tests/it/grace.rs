//! A keeper's grace period for old tokens lives in the store (`TokenMeta::previous_until`,
//! with the old token as `previous`): another keeper (another process: a new store handle, no
//! grace configured) ends it when it is over, never before; the audit and the plan leave a
//! record in its grace period alone; a rotation asked for, or an apply that replaces the
//! token, ends it early by revoking the old token, so no token is left valid and unheld.

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

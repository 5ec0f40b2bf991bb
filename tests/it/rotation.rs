//! Token rotation is crash-consistent: the server is killed (the work done, the answer lost) at
//! every request of a rotation, in `plan`+`apply` and in the keeper, with and without retries;
//! the next pass finishes the rotation, or names the token nobody holds and the remedy, which
//! then converges. Asserted on the emulator's state: exactly one valid token per key, and it is
//! the stored one; a report never lists a token that is not in the store.

use std::sync::Arc;
use std::time::Duration;

use crate::common::StoreOutcome;
use meta_business::provision::{self, ApplyReport, Change, PlanOptions, Spec, SystemUserBuilder};
use meta_business::store::Expect;
use meta_business::testing::{DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{
    CatalogTask, Client, ExposeSecret, Permission, SystemUserId,
    keeper::{Step, TokenKeeper, TokenState},
    retry::RetryPolicy,
    store::{MemoryStore, Minted, StoredToken, TokenKey, TokenMeta, TokenStore},
};

const USER: &str = "catalog-rotation";
const DAY: u64 = 86_400;

fn spec(scopes: &[Permission]) -> Spec {
    Spec::builder(DEMO.business_id)
        .system_user(
            SystemUserBuilder::new(USER)
                .app(DEMO.app_id)
                .catalog(DEMO.catalog, [CatalogTask::Manage])
                .token(DEMO.app_id, scopes.iter().cloned()),
        )
        .build()
        .unwrap()
}

/// The spec the rotation goes to (the first one's token has a scope too many).
fn narrow() -> Spec {
    spec(&[Permission::CatalogManagement])
}

/// A client of the demo admin, with the client's usual retries or none.
pub(crate) fn client(emulator: &GraphEmulator, retries: bool) -> Client {
    let builder = emulator
        .client_builder(DEMO.admin_token)
        .app_id(DEMO.app_id)
        .app_secret(DEMO.app_secret);
    let builder = if retries {
        builder
    } else {
        builder.retry_policy(RetryPolicy::none())
    };
    builder.build().unwrap()
}

/// A change's kind, for the figures the kill tests print.
fn change_kind(change: &Change) -> &'static str {
    match change {
        Change::GenerateToken { .. } => "generate",
        Change::FinishRotation { .. } => "finish-rotation",
        Change::InvalidateTokens { .. } => "invalidate",
        _ => "other",
    }
}

/// A KILL: the server does the work of one request, then the answer is lost.
pub(crate) fn kill_at(emulator: &GraphEmulator, index: usize) {
    emulator.inject(
        FaultRule::new(Fault::after_work(Fault::Http { status: 502 }))
            .after(index as u64)
            .times(1),
    );
}

struct ApplyWorld {
    emulator: GraphEmulator,
    client: Client,
    store: Arc<MemoryStore>,
    options: PlanOptions,
    id: SystemUserId,
    key: TokenKey,
}

/// A managed user whose stored token has a scope the narrow spec does not want: planning the
/// narrow spec rotates it.
async fn apply_world(retries: bool) -> ApplyWorld {
    let (emulator, _) = GraphEmulator::demo().await;
    let client = client(&emulator, retries);
    let store = Arc::new(MemoryStore::new());
    let options = PlanOptions::default().store(store.clone());
    let broad = spec(&[
        Permission::CatalogManagement,
        Permission::BusinessManagement,
    ]);
    let plan = provision::plan(&client, &broad, &options).await.unwrap();
    let report = plan.apply(&client).await.into_result().unwrap();
    let id = report.identities[USER].clone();
    let key = TokenKey::new(DEMO.business_id, id.clone(), DEMO.app_id);
    assert_eq!(emulator.valid_tokens_of(id.as_str()), 1);
    ApplyWorld {
        emulator,
        client,
        store,
        options,
        id,
        key,
    }
}

async fn current(store: &dyn TokenStore, key: &TokenKey) -> Option<StoredToken> {
    store.get(key).await.unwrap().map(|found| found.token)
}

/// A report never lists a token the store does not hold under its key.
async fn assert_lists_only_stored(report: &ApplyReport, store: &dyn TokenStore) {
    for (name, token) in &report.tokens {
        let key = TokenKey::new(
            DEMO.business_id,
            report.identities[name].clone(),
            DEMO.app_id,
        );
        let stored = current(store, &key).await;
        assert_eq!(
            stored.map(|s| s.secret().expose_secret().to_owned()),
            Some(token.secret().expose_secret().to_owned()),
            "the report lists a token of {name} that the store does not hold:\n{report}"
        );
    }
}

/// Plan and apply until the plan is empty (a few rounds at most); every report checked.
async fn converge(w: &ApplyWorld, options: &PlanOptions) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..4 {
        let plan = match provision::plan(&w.client, &narrow(), options).await {
            Ok(plan) => plan,
            Err(err) => {
                seen.push(format!("plan failed: {err}"));
                continue;
            }
        };
        if plan.changes.is_empty() {
            return seen;
        }
        let report = plan.apply(&w.client).await;
        assert_lists_only_stored(&report, &*w.store).await;
        seen.push(report.to_string());
    }
    panic!("no convergence after 4 rounds:\n{}", seen.join("\n---\n"));
}

/// Exactly one valid token of the user, and it is the stored one, held alone.
async fn assert_one_stored_valid(w: &ApplyWorld, context: &str) {
    let stored = current(&*w.store, &w.key)
        .await
        .unwrap_or_else(|| panic!("nothing stored ({context})"));
    assert!(
        stored.previous().is_none(),
        "rotation left half-done ({context})"
    );
    assert!(
        w.emulator.token_is_valid(stored.secret().expose_secret()),
        "the stored token is not valid ({context})"
    );
    assert_eq!(
        w.emulator.valid_tokens_of(w.id.as_str()),
        1,
        "valid tokens of the user ({context})"
    );
}

/// The requests of one rotation by `plan`+`apply`, from the journal of a clean run.
async fn apply_rotation_requests(retries: bool) -> Vec<String> {
    let w = apply_world(retries).await;
    w.emulator.clear_requests();
    let plan = provision::plan(&w.client, &narrow(), &w.options)
        .await
        .unwrap();
    assert!(
        matches!(plan.changes.as_slice(), [Change::GenerateToken { replaces, .. }] if replaces == std::slice::from_ref(&w.key)),
        "{plan}"
    );
    let _done = plan.apply(&w.client).await.into_result().unwrap();
    assert_one_stored_valid(&w, "clean run").await;
    w.emulator
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

async fn kill_every_request_of_an_apply_rotation(retries: bool) {
    let requests = apply_rotation_requests(retries).await;
    assert!(
        requests
            .iter()
            .any(|r| r.contains("system_user_access_tokens"))
            && requests.iter().any(|r| r.contains("debug_token"))
            && requests.iter().any(|r| r.ends_with("/oauth/revoke")),
        "{requests:?}"
    );
    let mut orphans = 0;
    for (i, request) in requests.iter().enumerate() {
        let context = format!("retries {retries}, killed at request {i} ({request})");
        let w = apply_world(retries).await;
        let old = current(&*w.store, &w.key).await.unwrap();
        kill_at(&w.emulator, i);
        let first = match provision::plan(&w.client, &narrow(), &w.options).await {
            Ok(plan) => Some(plan.apply(&w.client).await),
            Err(_) => None,
        };
        w.emulator.clear_faults();
        // Whatever happened, a working token is stored.
        let now = current(&*w.store, &w.key).await.unwrap();
        assert!(
            w.emulator.token_is_valid(now.secret().expose_secret()),
            "no working token stored after the kill ({context})"
        );
        let mut next = w.options.clone();
        if let Some(report) = &first {
            assert_lists_only_stored(report, &*w.store).await;
            if !report.orphan_risk.is_empty() {
                // The one case that cannot be repaired alone: a mint whose answer was lost.
                orphans += 1;
                assert!(
                    request.contains("system_user_access_tokens"),
                    "{context}\n{report}"
                );
                assert!(
                    report.to_string().contains("may exist that nobody holds"),
                    "{context}\n{report}"
                );
                assert_eq!(w.emulator.valid_tokens_of(w.id.as_str()), 2, "{context}");
                assert_eq!(
                    now.secret().expose_secret(),
                    old.secret().expose_secret(),
                    "{context}"
                );
                next = next.invalidate_orphans(true);
            }
        }
        let pending = match provision::plan(&w.client, &narrow(), &next).await {
            Ok(plan) => plan
                .changes
                .iter()
                .map(change_kind)
                .collect::<Vec<_>>()
                .join("+"),
            Err(err) => format!("plan failed: {err}"),
        };
        let _ = converge(&w, &next).await;
        let _ = converge(&w, &w.options).await;
        assert_one_stored_valid(&w, &context).await;
        let outcome = match &first {
            None => "plan failed".to_owned(),
            Some(r) if r.is_complete() => "apply complete".to_owned(),
            Some(r) => format!(
                "apply stopped at {}{}",
                r.failed.as_ref().map_or("?", |(c, _)| change_kind(c)),
                if r.orphan_risk.is_empty() {
                    ""
                } else {
                    ", orphan named"
                }
            ),
        };
        eprintln!("  kill {i} ({request}): {outcome}; next plan: [{pending}]; converged");
    }
    assert_eq!(orphans, 1, "only the lost mint answer leaves an orphan");
    eprintln!(
        "apply rotation, retries {retries}: {} requests killed one by one, all converged ({orphans} orphan named and invalidated): {requests:?}",
        requests.len()
    );
}

#[tokio::test]
async fn a_kill_at_every_request_of_an_apply_rotation_converges_without_retries() {
    kill_every_request_of_an_apply_rotation(false).await;
}

#[tokio::test]
async fn a_kill_at_every_request_of_an_apply_rotation_converges_with_retries() {
    kill_every_request_of_an_apply_rotation(true).await;
}

struct KeeperWorld {
    emulator: GraphEmulator,
    client: Client,
    store: MemoryStore,
    id: SystemUserId,
    key: TokenKey,
    token: String,
}

/// A system user with a 60-day token 50 days old, stored: the keeper refreshes it.
async fn keeper_world(retries: bool) -> KeeperWorld {
    let (emulator, _) = GraphEmulator::demo().await;
    let client = client(&emulator, retries);
    let su = client
        .business(DEMO.business_id)
        .system_users()
        .create("keeper-rotation")
        .send()
        .await
        .unwrap();
    client
        .system_user(&su.id)
        .install_app(DEMO.app_id)
        .send()
        .await
        .unwrap();
    let store = MemoryStore::new();
    let key = TokenKey::new(DEMO.business_id, su.id.clone(), DEMO.app_id);
    let token = mint_and_store(&client, &store, &key).await;
    emulator.advance_clock(Duration::from_secs(50 * DAY));
    KeeperWorld {
        emulator,
        client,
        store,
        id: su.id,
        key,
        token,
    }
}

async fn mint_and_store(client: &Client, store: &MemoryStore, key: &TokenKey) -> String {
    let minted = client
        .system_user(&key.system_user)
        .generate_token(DEMO.app_id)
        .business(DEMO.business_id)
        .scopes([Permission::AdsRead])
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    let token = minted.secret().expose_secret().to_owned();
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
    token
}

impl KeeperWorld {
    fn keeper(&self) -> TokenKeeper<MemoryStore> {
        TokenKeeper::new(self.client.clone(), self.store.clone())
            .clock(self.emulator.clock_source())
    }

    async fn assert_one_stored_valid(&self, context: &str) {
        let stored = current(&self.store, &self.key).await.unwrap();
        assert!(
            stored.previous().is_none(),
            "rotation left half-done ({context})"
        );
        assert!(
            self.emulator
                .token_is_valid(stored.secret().expose_secret()),
            "the stored token is not valid ({context})"
        );
        assert_eq!(
            self.emulator.valid_tokens_of(self.id.as_str()),
            1,
            "valid tokens of the user ({context})"
        );
    }
}

async fn kill_every_request_of_a_keeper_rotation(retries: bool) {
    let clean = keeper_world(retries).await;
    clean.emulator.clear_requests();
    let report = clean.keeper().run_once().await;
    assert!(report.tokens[0].refreshed, "{report}");
    clean.assert_one_stored_valid("clean run").await;
    let requests: Vec<String> = clean
        .emulator
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(requests.len(), 4, "{requests:?}");
    let mut orphans = 0;
    for (i, request) in requests.iter().enumerate() {
        let context = format!("retries {retries}, killed at request {i} ({request})");
        let w = keeper_world(retries).await;
        kill_at(&w.emulator, i);
        let first = w.keeper().run_once().await;
        w.emulator.clear_faults();
        let t = &first.tokens[0];
        let now = current(&w.store, &w.key).await.unwrap();
        assert!(
            w.emulator.token_is_valid(now.secret().expose_secret()),
            "no working token stored after the kill ({context})\n{first}"
        );
        if t.refreshed {
            assert_ne!(now.secret().expose_secret(), w.token, "{context}\n{first}");
        }
        if t.orphan_risk.is_some() {
            orphans += 1;
            assert!(
                request.ends_with("/oauth/access_token"),
                "{context}\n{first}"
            );
            assert!(
                first.to_string().contains("may exist that nobody holds"),
                "{context}\n{first}"
            );
            assert_eq!(now.secret().expose_secret(), w.token, "{context}");
            assert!(!first.is_healthy());
            // The remedy the report names: invalidate the user's tokens, mint one and store it.
            w.client
                .system_user(&w.id)
                .invalidate_tokens()
                .send()
                .await
                .unwrap();
            mint_and_store(&w.client, &w.store, &w.key).await;
        }
        let mut notes = Vec::new();
        for _ in 0..2 {
            let next = w.keeper().run_once().await;
            assert!(next.tokens[0].orphan_risk.is_none(), "{context}\n{next}");
            let n = &next.tokens[0];
            notes.push(match (&n.failed, &n.warning, n.refreshed) {
                (Some((step, _)), _, _) => format!("failed at {step:?}"),
                (None, Some(w), _) if w.contains("half-done") => "finished the rotation".to_owned(),
                (None, _, true) => "refreshed".to_owned(),
                _ => format!("{:?}", n.state),
            });
        }
        w.assert_one_stored_valid(&context).await;
        let outcome = match (&t.failed, t.refreshed, t.orphan_risk.is_some()) {
            (_, _, true) => "orphan named (remedy applied)".to_owned(),
            (Some((step, _)), _, _) => format!("failed at {step:?}"),
            (None, true, _) => format!(
                "refreshed{}",
                if t.warning.is_some() {
                    " with a note"
                } else {
                    ""
                }
            ),
            (None, false, _) => format!("{:?}", t.state),
        };
        eprintln!("  kill {i} ({request}): {outcome}; next passes: {notes:?}; converged");
    }
    assert_eq!(orphans, 1, "only the lost exchange answer leaves an orphan");
    eprintln!(
        "keeper rotation, retries {retries}: {} requests killed one by one, all converged ({orphans} orphan named, remedied): {requests:?}",
        requests.len()
    );
}

#[tokio::test]
async fn a_kill_at_every_request_of_a_keeper_rotation_converges_without_retries() {
    kill_every_request_of_a_keeper_rotation(false).await;
}

#[tokio::test]
async fn a_kill_at_every_request_of_a_keeper_rotation_converges_with_retries() {
    kill_every_request_of_a_keeper_rotation(true).await;
}

/// A record left mid-rotation (the process died after storing the new token with the old as
/// `previous`): the keeper finishes it, revoking the old one.
#[tokio::test]
async fn a_record_left_mid_rotation_is_finished_by_the_next_keeper_pass() {
    let w = keeper_world(true).await;
    let fresh = w
        .client
        .refresh_token(DEMO.app_id, w.token.clone())
        .send()
        .await
        .unwrap();
    let new = fresh.secret().expose_secret().to_owned();
    w.store
        .put(
            StoredToken::new(
                w.key.clone(),
                new.clone(),
                TokenMeta::new([Permission::AdsRead], None, Minted::Refreshed),
            )
            .with_previous(w.token.clone()),
            Expect::Any,
        )
        .await
        .done();
    assert_eq!(w.emulator.valid_tokens_of(w.id.as_str()), 2);
    let report = w.keeper().run_once().await;
    let t = &report.tokens[0];
    assert!(t.failed.is_none(), "{report}");
    assert!(
        t.warning.as_deref().unwrap().contains("left half-done"),
        "{report}"
    );
    assert_eq!(t.state, TokenState::Valid, "{report}");
    assert!(
        !w.emulator.token_is_valid(&w.token),
        "the old one is revoked"
    );
    assert_eq!(
        current(&w.store, &w.key)
            .await
            .unwrap()
            .secret()
            .expose_secret(),
        new
    );
    w.assert_one_stored_valid("finished").await;
}

/// A record left mid-rotation whose new token is dead: the old one is put back.
#[tokio::test]
async fn a_record_left_mid_rotation_with_a_dead_new_token_is_rolled_back_by_plan_and_apply() {
    let w = apply_world(true).await;
    let old = current(&*w.store, &w.key).await.unwrap();
    let dead = w
        .client
        .system_user(&w.id)
        .generate_token(DEMO.app_id)
        .business(DEMO.business_id)
        .scopes([Permission::CatalogManagement])
        .send()
        .await
        .unwrap();
    w.client
        .revoke_token(DEMO.app_id, dead.secret().clone())
        .send()
        .await
        .unwrap();
    w.store
        .put(
            StoredToken::new(w.key.clone(), dead.secret().clone(), old.meta.clone())
                .with_previous(old.secret().clone()),
            Expect::Any,
        )
        .await
        .done();
    let plan = provision::plan(&w.client, &narrow(), &w.options)
        .await
        .unwrap();
    assert!(
        matches!(plan.changes.as_slice(), [Change::FinishRotation { key, .. }] if *key == w.key),
        "{plan}"
    );
    assert!(plan.to_string().contains("left half-done"), "{plan}");
    let report = plan.apply(&w.client).await.into_result().unwrap();
    assert!(
        report.warnings.iter().any(|w| w.contains("stored again")),
        "{report}"
    );
    let back = current(&*w.store, &w.key).await.unwrap();
    assert_eq!(back.secret().expose_secret(), old.secret().expose_secret());
    assert!(back.previous().is_none());
    // The next plan rotates the old token as the file asks.
    let _ = converge(&w, &w.options).await;
    assert_one_stored_valid(&w, "rolled back, then rotated").await;
}

/// The refresh exchange mints: a 502 after it minted is not re-sent, and the report names the
/// token nobody holds.
#[tokio::test]
async fn a_refresh_whose_answer_is_lost_is_not_resent_and_is_reported() {
    let w = keeper_world(true).await;
    w.emulator.inject(
        FaultRule::new(Fault::after_work(Fault::Http { status: 502 }))
            .on("GET", "/oauth/access_token")
            .times(1),
    );
    let report = w.keeper().run_once().await;
    let exchanges = w
        .emulator
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/oauth/access_token"))
        .count();
    assert_eq!(exchanges, 1, "the exchange is never re-sent");
    let t = &report.tokens[0];
    assert!(!t.refreshed);
    assert_eq!(t.failed.as_ref().map(|f| f.0), Some(Step::Refresh));
    assert!(
        t.orphan_risk.as_deref().unwrap().contains("invalidate"),
        "{report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("a token may exist that nobody holds"),
        "{text}"
    );
    assert!(
        text.contains("1 may have left a token that nobody holds"),
        "{text}"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert!(
        json["tokens"][0]["orphan_risk"]
            .as_str()
            .unwrap()
            .contains("nobody holds")
    );
    // The orphan exists; the stored token is the old one, still valid.
    assert_eq!(w.emulator.valid_tokens_of(w.id.as_str()), 2);
    assert_eq!(
        current(&w.store, &w.key)
            .await
            .unwrap()
            .secret()
            .expose_secret(),
        w.token
    );
    assert!(w.emulator.token_is_valid(&w.token));
}

/// `debug_token` does not show the new token valid: the old token stays stored (and valid),
/// the new one is revoked, and neither the report nor its JSON lists it.
#[tokio::test]
async fn an_apply_whose_new_token_fails_its_check_keeps_the_old_one_and_revokes_the_new() {
    let w = apply_world(true).await;
    let old = current(&*w.store, &w.key).await.unwrap();
    let plan = provision::plan(&w.client, &narrow(), &w.options)
        .await
        .unwrap();
    let invalid = serde_json::json!({"data": {
        "app_id": DEMO.app_id, "type": "SYSTEM_USER", "is_valid": false, "scopes": [],
        "user_id": w.id.as_str(),
    }});
    w.emulator.inject(
        FaultRule::new(Fault::Raw {
            status: 200,
            body: invalid.to_string(),
        })
        .on("GET", "/debug_token")
        .times(1),
    );
    let report = plan.apply(&w.client).await;
    let (change, err) = report.failed.as_ref().expect("stopped");
    assert!(matches!(change, Change::GenerateToken { .. }));
    let text = err.to_string();
    assert!(
        text.contains("not show it valid")
            && text.contains("revoked")
            && text.contains("stored again"),
        "{text}"
    );
    assert!(report.tokens.is_empty(), "{report}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["tokens_generated_for"], serde_json::json!([]));
    let now = current(&*w.store, &w.key).await.unwrap();
    assert_eq!(now.secret().expose_secret(), old.secret().expose_secret());
    assert!(now.previous().is_none());
    assert!(w.emulator.token_is_valid(old.secret().expose_secret()));
    assert_eq!(
        w.emulator.valid_tokens_of(w.id.as_str()),
        1,
        "the new one is revoked"
    );
    assert!(report.orphan_risk.is_empty());
}

/// The mint answers with a valid token of another system user: it is not stored under this
/// user's key and not revoked (it is someone else's); the old token stays; the token asked for
/// may exist, and is named.
#[tokio::test]
async fn an_apply_whose_mint_answers_another_users_token_stores_nothing_of_it() {
    let w = apply_world(true).await;
    let old = current(&*w.store, &w.key).await.unwrap();
    let users = w.client.business(DEMO.business_id).system_users();
    let other = users
        .create("other-service")
        .role(meta_business::SystemUserRole::Admin)
        .send()
        .await
        .unwrap();
    w.client
        .system_user(&other.id)
        .install_app(DEMO.app_id)
        .send()
        .await
        .unwrap();
    let foreign = w
        .client
        .system_user(&other.id)
        .generate_token(DEMO.app_id)
        .business(DEMO.business_id)
        .scopes([Permission::CatalogManagement])
        .send()
        .await
        .unwrap();
    let foreign = foreign.secret().expose_secret().to_owned();
    let plan = provision::plan(&w.client, &narrow(), &w.options)
        .await
        .unwrap();
    w.emulator.inject(
        FaultRule::new(Fault::Raw {
            status: 200,
            body: serde_json::json!({ "access_token": foreign }).to_string(),
        })
        .on("POST", "system_user_access_tokens")
        .times(1),
    );
    let report = plan.apply(&w.client).await;
    let (_, err) = report.failed.as_ref().expect("stopped");
    assert!(
        err.to_string().contains(&format!("user {}", other.id)),
        "{err}"
    );
    assert!(report.tokens.is_empty(), "{report}");
    assert_eq!(report.orphan_risk, [USER]);
    let now = current(&*w.store, &w.key).await.unwrap();
    assert_eq!(now.secret().expose_secret(), old.secret().expose_secret());
    assert!(now.previous().is_none());
    assert!(w.emulator.token_is_valid(old.secret().expose_secret()));
    assert!(
        w.emulator.token_is_valid(&foreign),
        "another's token is not revoked"
    );
    for shown in [
        report.to_string(),
        format!("{report:?}"),
        serde_json::to_string(&report).unwrap(),
    ] {
        assert!(!shown.contains(&foreign));
    }
    // The next plan and apply rotate as the file asks.
    let _ = converge(&w, &w.options).await;
    assert_one_stored_valid(&w, "after the refused mint").await;
}

/// A record left mid-rotation where neither token works: the apply says a new token is needed,
/// and the next plan mints it (it does not try to finish the same rotation forever).
#[tokio::test]
async fn a_record_left_mid_rotation_with_two_dead_tokens_is_named_and_the_next_plan_mints() {
    let w = apply_world(true).await;
    let old = current(&*w.store, &w.key).await.unwrap();
    let dead = w
        .client
        .system_user(&w.id)
        .generate_token(DEMO.app_id)
        .business(DEMO.business_id)
        .scopes([Permission::CatalogManagement])
        .send()
        .await
        .unwrap();
    for token in [dead.secret().clone(), old.secret().clone()] {
        w.client
            .revoke_token(DEMO.app_id, token)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(w.emulator.valid_tokens_of(w.id.as_str()), 0);
    w.store
        .put(
            StoredToken::new(w.key.clone(), dead.secret().clone(), old.meta.clone())
                .with_previous(old.secret().clone()),
            Expect::Any,
        )
        .await
        .done();
    let plan = provision::plan(&w.client, &narrow(), &w.options)
        .await
        .unwrap();
    let report = plan.apply(&w.client).await;
    let (change, err) = report.failed.as_ref().expect("a person is told");
    assert!(matches!(change, Change::FinishRotation { .. }));
    assert!(err.to_string().contains("generate a new token"), "{err}");
    assert!(
        current(&*w.store, &w.key)
            .await
            .unwrap()
            .previous()
            .is_none()
    );
    let _ = converge(&w, &w.options).await;
    assert_one_stored_valid(&w, "two dead tokens, then a new one").await;
}

/// Another run starts a rotation between this plan and its apply: the apply finds the record
/// changed since its plan and mints nothing (the other run's token would be pushed out of the
/// record); it says it lost the race, and the next plan finishes the other run's rotation.
#[tokio::test]
async fn an_apply_finding_a_rotation_under_way_since_its_plan_mints_nothing() {
    let w = apply_world(true).await;
    let old = current(&*w.store, &w.key).await.unwrap();
    let plan = provision::plan(&w.client, &narrow(), &w.options)
        .await
        .unwrap();
    let theirs = w
        .client
        .system_user(&w.id)
        .generate_token(DEMO.app_id)
        .business(DEMO.business_id)
        .scopes([Permission::CatalogManagement])
        .send()
        .await
        .unwrap();
    w.store
        .put(
            StoredToken::new(w.key.clone(), theirs.secret().clone(), old.meta.clone())
                .with_previous(old.secret().clone()),
            Expect::Any,
        )
        .await
        .done();
    w.emulator.clear_requests();
    let report = plan.apply(&w.client).await;
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.lost_races.len(), 1, "{report}");
    assert!(report.to_string().contains("stored one first"), "{report}");
    assert!(
        !w.emulator.requests().iter().any(|r| r.method == "POST"),
        "nothing minted"
    );
    assert!(report.tokens.is_empty() && report.orphan_risk.is_empty());
    let _ = converge(&w, &w.options).await;
    assert_one_stored_valid(&w, "the other run's rotation finished").await;
    assert!(!w.emulator.token_is_valid(old.secret().expose_secret()));
}

/// A file store whose writes stop after the first (the process died right after storing the
/// new token with the old one as `previous`).
struct DiesAfterFirstPut {
    inner: meta_business::store::FileStore,
    puts: std::sync::atomic::AtomicUsize,
}

impl TokenStore for DiesAfterFirstPut {
    fn get<'a>(
        &'a self,
        key: &'a TokenKey,
    ) -> meta_business::store::StoreFuture<'a, Option<meta_business::store::Versioned>> {
        self.inner.get(key)
    }
    fn put(
        &self,
        token: StoredToken,
        expect: Expect,
    ) -> meta_business::store::StoreFuture<'_, meta_business::store::Put> {
        if self.puts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 1 {
            return Box::pin(async {
                Err(meta_business::store::StoreError::new("the process died"))
            });
        }
        self.inner.put(token, expect)
    }
    fn remove<'a>(
        &'a self,
        key: &'a TokenKey,
        expect: Expect,
    ) -> meta_business::store::StoreFuture<'a, meta_business::store::Removed> {
        self.inner.remove(key, expect)
    }
    fn keys(&self) -> meta_business::store::StoreFuture<'_, Vec<TokenKey>> {
        self.inner.keys()
    }
}

/// The process dies after the new token is stored with the old one as `previous`, in a file
/// store: both are on disk, and a keeper of a new process (a new handle on the directory)
/// finishes the rotation.
#[tokio::test]
async fn a_keeper_killed_after_storing_leaves_both_tokens_on_disk_and_the_next_process_finishes() {
    let w = keeper_world(true).await;
    let dir = std::env::temp_dir().join(format!(
        "meta-business-rotation-{}-{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let first = meta_business::store::FileStore::open(&dir).unwrap();
    first
        .put(current(&w.store, &w.key).await.unwrap(), Expect::Any)
        .await
        .done();
    let dying = DiesAfterFirstPut {
        inner: first,
        puts: std::sync::atomic::AtomicUsize::new(0),
    };
    // Nothing after the store step gets through: the old token is not revoked either.
    w.emulator
        .inject(FaultRule::new(Fault::Http { status: 502 }).on("GET", "/oauth/revoke"));
    let report = TokenKeeper::new(w.client.clone(), dying)
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    assert!(report.tokens[0].refreshed, "{report}");
    let note = report.tokens[0].warning.as_deref().unwrap_or_default();
    assert!(note.contains("next run"), "{report}");

    assert!(w.emulator.token_is_valid(&w.token), "not revoked yet");
    w.emulator.clear_faults();
    // A new process: a new handle on the same directory.
    let restarted = meta_business::store::FileStore::open(&dir).unwrap();
    let on_disk = restarted.get(&w.key).await.unwrap().unwrap().token;
    assert_eq!(on_disk.previous().unwrap().expose_secret(), w.token);
    let fresh = on_disk.secret().expose_secret().to_owned();
    assert!(w.emulator.token_is_valid(&fresh));
    let next = TokenKeeper::new(w.client.clone(), restarted.clone())
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    assert!(next.tokens[0].failed.is_none(), "{next}");
    let settled = restarted.get(&w.key).await.unwrap().unwrap().token;
    assert_eq!(settled.secret().expose_secret(), fresh);
    assert!(settled.previous().is_none());
    assert!(!w.emulator.token_is_valid(&w.token));
    assert_eq!(w.emulator.valid_tokens_of(w.id.as_str()), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

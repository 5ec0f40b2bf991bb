//! Desired state as an operator coming from Terraform drives it: each defect found by checking
//! the emulator's own state and journal after each step, asserted on that state (users,
//! grants, minted and valid tokens), not only on the reports.

use std::sync::Arc;

use crate::common::StoreOutcome;
use meta_business::provision::{
    self, AuditOptions, Change, DriftKind, FindingKind, NotManaged, OffboardOptions, OffboardStep,
    PlanOptions, ProvisionError, Spec, SystemUserBuilder,
};
use meta_business::store::Expect;
use meta_business::testing::{BusinessSeed, DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{
    AccessTier, AdAccountTask, CatalogTask, Client, Error, ExposeSecret, PageTask, Permission,
    PixelTask, WhatsAppTask,
    store::{MemoryStore, Minted, StoredToken, TokenKey, TokenMeta, TokenStore},
};

const UPLOADER: &str = "catalog-feed-uploader";

async fn demo() -> (GraphEmulator, Client) {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    (emulator, client)
}

fn writes(emulator: &GraphEmulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .count()
}

fn uploader(token: bool) -> SystemUserBuilder {
    let user = SystemUserBuilder::new(UPLOADER)
        .app(DEMO.app_id)
        .catalog(DEMO.catalog, [CatalogTask::Manage])
        .whatsapp(DEMO.whatsapp, [WhatsAppTask::Manage]);
    if token {
        user.token(DEMO.app_id, [Permission::CatalogManagement])
    } else {
        user
    }
}

fn spec_of(users: impl IntoIterator<Item = SystemUserBuilder>, prune: bool) -> Spec {
    let mut spec = Spec::builder(DEMO.business_id).prune(prune);
    for user in users {
        spec = spec.system_user(user);
    }
    spec.build().unwrap()
}

fn with_store() -> (PlanOptions, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    (PlanOptions::default().store(store.clone()), store)
}

async fn apply(client: &Client, spec: &Spec, options: &PlanOptions) -> provision::ApplyReport {
    let plan = provision::plan(client, spec, options).await.unwrap();
    let report = plan.apply(client).await;
    assert!(report.is_complete(), "{report}");
    report
}

/// The next plan has nothing to do.
async fn assert_converged(client: &Client, spec: &Spec, options: &PlanOptions) {
    let again = provision::plan(client, spec, options).await.unwrap();
    assert!(again.is_empty(), "{again}");
}

fn holders(emulator: &GraphEmulator, asset: &str) -> Vec<String> {
    emulator.assignments(asset).into_keys().collect()
}

async fn rename(client: &Client, id: &str, name: &str) {
    client
        .business(DEMO.business_id)
        .system_users()
        .rename(id, name)
        .send()
        .await
        .unwrap();
}

// 1. Identity that survives a rename.

#[tokio::test]
async fn a_user_renamed_by_hand_is_renamed_back_by_its_stored_id_not_duplicated() {
    let (emulator, client) = demo().await;
    let (options, _store) = with_store();
    let spec = spec_of([uploader(true)], true);
    let first = apply(&client, &spec, &options).await;
    let id = first.identities[UPLOADER].clone();
    rename(&client, id.as_str(), "catalog-feed-uploader-v1").await;

    let plan = provision::plan(&client, &spec, &options).await.unwrap();
    assert!(
        !plan
            .changes
            .iter()
            .any(|c| matches!(c, Change::CreateSystemUser { .. })),
        "{plan}"
    );
    assert_eq!(
        plan.changes,
        [Change::RenameSystemUser {
            system_user: UPLOADER.into(),
            id: id.clone(),
            from: "catalog-feed-uploader-v1".into(),
        }]
    );
    assert!(
        plan.drift.iter().any(|d| d.kind == DriftKind::Renamed),
        "{plan}"
    );
    assert!(plan.to_string().contains("~ rename system user"), "{plan}");
    let _done = plan.apply(&client).await.into_result().unwrap();
    let users = emulator.system_users(DEMO.business_id);
    assert_eq!(users.len(), 1, "no duplicate");
    assert_eq!(users[0].name, UPLOADER);
    assert_eq!(holders(&emulator, DEMO.catalog), [id.to_string()]);
    assert_eq!(holders(&emulator, DEMO.whatsapp), [id.to_string()]);
}

#[tokio::test]
async fn a_near_name_holding_the_grants_withholds_the_create_until_adopted() {
    let (emulator, client) = demo().await;
    let spec = spec_of([uploader(false)], true);
    let first = apply(&client, &spec, &PlanOptions::default()).await;
    let id = first.identities[UPLOADER].clone();
    rename(&client, id.as_str(), "catalog-feed-uploader-v1").await;
    emulator.clear_requests();

    // Nothing recorded the id: the near name holding the grants stops the create.
    let plan = provision::plan(&client, &spec, &PlanOptions::default())
        .await
        .unwrap();
    assert!(plan.changes.is_empty(), "{plan}");
    let drift = plan
        .drift
        .iter()
        .find(|d| d.kind == DriftKind::PossibleRename)
        .expect("reported as drift");
    assert!(
        drift.detail.contains("catalog-feed-uploader-v1") && drift.remedy.contains("identity"),
        "{drift}"
    );
    assert!(plan.not_managed.iter().any(
        |n| matches!(n, NotManaged::SystemUser { name, grants, .. } if name == "catalog-feed-uploader-v1" && grants.len() == 2)
    ));
    assert!(plan.apply(&client).await.applied.is_empty());
    assert_eq!(writes(&emulator), 0);
    assert_eq!(emulator.system_users(DEMO.business_id).len(), 1);

    // Adopted by id: renamed back, nothing created.
    let adopted = PlanOptions::default().identity(UPLOADER, id.clone());
    let plan = provision::plan(&client, &spec, &adopted).await.unwrap();
    assert!(
        matches!(plan.changes.as_slice(), [Change::RenameSystemUser { .. }]),
        "{plan}"
    );
    let _done = plan.apply(&client).await.into_result().unwrap();
    let users = emulator.system_users(DEMO.business_id);
    assert_eq!((users.len(), users[0].name.as_str()), (1, UPLOADER));
}

#[tokio::test]
async fn names_are_matched_without_case_or_spaces_and_the_spelling_is_restored() {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new("11", "Acme")
                .app("21", "App", "secret-0123456789")
                .admin("EAAE-admin")
                .page("41", "P")
                .system_user("611", "CRM-Sync-EU", "EMPLOYEE"),
        )
        .start()
        .await;
    let client = emulator.client("EAAE-admin").unwrap();
    let spec = Spec::builder("11")
        .system_user(SystemUserBuilder::new("crm-sync-eu").page("41", [PageTask::Analyze]))
        .build()
        .unwrap();
    // On the Limited tier a duplicate would not even fit: the plan must not try one.
    let plan = provision::plan(&client, &spec, &PlanOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(
            plan.changes.as_slice(),
            [Change::RenameSystemUser { id, .. }, Change::Assign { .. }] if id.as_str() == "611"
        ),
        "{plan}"
    );
    assert!(
        plan.drift.iter().any(|d| d.kind == DriftKind::NameSpelling),
        "{plan}"
    );
    let _done = plan.apply(&client).await.into_result().unwrap();
    let users = emulator.system_users("11");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].name, "crm-sync-eu");
    assert_eq!(emulator.assignments("41")["611"], ["ANALYZE"]);

    // A trailing space (which the API may keep) is the same name too.
    let spaced = GraphEmulator::builder()
        .business(
            BusinessSeed::new("11", "Acme")
                .app("21", "App", "secret-0123456789")
                .admin("EAAE-admin")
                .page("41", "P")
                .system_user("611", "crm-sync-eu ", "EMPLOYEE"),
        )
        .start()
        .await;
    let client = spaced.client("EAAE-admin").unwrap();
    let plan = provision::plan(&client, &spec, &PlanOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(
            plan.changes.as_slice(),
            [Change::RenameSystemUser { from, .. }, Change::Assign { .. }] if from == "crm-sync-eu "
        ),
        "{plan}"
    );
    assert_eq!(spaced.system_users("11").len(), 1);
    // Two names of the file equal once folded are refused before any request.
    let err = Spec::builder("11")
        .system_user(SystemUserBuilder::new("crm-sync-eu"))
        .system_user(SystemUserBuilder::new("CRM-Sync-EU"))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, ProvisionError::InvalidSpec { location, .. } if location == "system_users[1].name"),
        "{err}"
    );
}

// 2. Tokens through the store.

#[tokio::test]
async fn a_token_needs_a_store_and_the_store_stops_token_sprawl() {
    let (emulator, client) = demo().await;
    let spec = spec_of([uploader(true)], false);
    let err = provision::plan(&client, &spec, &PlanOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err.client_error(), Some(Error::InvalidInput { field, .. }) if field == "store"),
        "{err}"
    );
    assert!(emulator.requests().is_empty(), "refused before any request");

    let (options, store) = with_store();
    let first = apply(&client, &spec, &options).await;
    let id = first.identities[UPLOADER].clone();
    for _ in 0..3 {
        assert_converged(&client, &spec, &options).await;
    }
    assert_eq!(emulator.valid_tokens_of(id.as_str()), 1, "one token, ever");
    let stored = store.keys().await.unwrap();
    assert_eq!(stored.len(), 1);
    let meta = store.get(&stored[0]).await.unwrap().unwrap().token.meta;
    assert_eq!(meta.system_user_name.as_deref(), Some(UPLOADER));
}

#[tokio::test]
async fn a_lost_mint_answer_is_reported_and_the_next_plan_offers_to_invalidate_the_orphan() {
    let (emulator, client) = demo().await;
    let (options, store) = with_store();
    let spec = spec_of([uploader(true)], false);
    emulator.inject(
        FaultRule::new(Fault::after_work(Fault::Http { status: 502 }))
            .on("POST", "system_user_access_tokens")
            .times(1),
    );
    let plan = provision::plan(&client, &spec, &options).await.unwrap();
    let report = plan.apply(&client).await;
    assert!(
        matches!(report.failed, Some((Change::GenerateToken { .. }, _))),
        "{report}"
    );
    assert_eq!(report.orphan_risk, [UPLOADER]);
    assert!(
        report.to_string().contains("may exist that nobody holds"),
        "{report}"
    );
    let id = report.identities[UPLOADER].clone();
    assert!(emulator.valid_tokens_of(id.as_str()) >= 1, "the orphan");
    assert!(store.keys().await.unwrap().is_empty());

    // The next plan says so and offers the remedy; with it, the orphan is invalidated first.
    let plan = provision::plan(&client, &spec, &options).await.unwrap();
    assert!(
        plan.drift
            .iter()
            .any(|d| d.kind == DriftKind::OrphanRisk && d.remedy.contains("invalidate_orphans")),
        "{plan}"
    );
    let cleaning = options.clone().invalidate_orphans(true);
    let plan = provision::plan(&client, &spec, &cleaning).await.unwrap();
    assert!(
        matches!(
            plan.changes.as_slice(),
            [
                Change::InvalidateTokens { .. },
                Change::GenerateToken { .. }
            ]
        ),
        "{plan}"
    );
    let _done = plan.apply(&client).await.into_result().unwrap();
    assert_eq!(emulator.valid_tokens_of(id.as_str()), 1);
    let key = store.keys().await.unwrap().remove(0);
    let stored = store.get(&key).await.unwrap().unwrap().token;
    assert!(emulator.token_is_valid(stored.secret().expose_secret()));
}

// 3. Token drift is seen and rotated: mint, store, check, revoke the old one.

#[tokio::test]
async fn extra_scopes_and_the_wrong_expiry_are_rotated_and_the_old_token_revoked() {
    let (emulator, client) = demo().await;
    let (options, store) = with_store();
    let broad = spec_of(
        [uploader(false).token(
            DEMO.app_id,
            [
                Permission::CatalogManagement,
                Permission::BusinessManagement,
            ],
        )],
        false,
    );
    let first = apply(&client, &broad, &options).await;
    let id = first.identities[UPLOADER].clone();
    let key = TokenKey::new(DEMO.business_id, id.clone(), DEMO.app_id);
    let old = store.get(&key).await.unwrap().unwrap().token;

    let narrow = spec_of([uploader(true)], false);
    let plan = provision::plan(&client, &narrow, &options).await.unwrap();
    assert!(
        plan.drift
            .iter()
            .any(|d| d.kind == DriftKind::ExtraScopes && d.detail.contains("business_management")),
        "{plan}"
    );
    assert!(
        matches!(plan.changes.as_slice(), [Change::GenerateToken { replaces, .. }] if replaces == std::slice::from_ref(&key)),
        "{plan}"
    );
    assert!(plan.to_string().contains("then revoke the stored one"));
    let _done = plan.apply(&client).await.into_result().unwrap();
    let new = store.get(&key).await.unwrap().unwrap().token;
    assert!(
        !emulator.token_is_valid(old.secret().expose_secret()),
        "old revoked"
    );
    assert!(emulator.token_is_valid(new.secret().expose_secret()));
    assert_eq!(new.meta.scopes, [Permission::CatalogManagement]);
    assert_eq!(emulator.valid_tokens_of(id.as_str()), 1);
    assert_converged(&client, &narrow, &options).await;

    // The file now wants a token that never expires: the 60-day one drifted.
    let forever = spec_of([uploader(true).token_never_expires()], false);
    let plan = provision::plan(&client, &forever, &options).await.unwrap();
    assert!(
        plan.drift.iter().any(|d| d.kind == DriftKind::WrongExpiry),
        "{plan}"
    );
    let _done = plan.apply(&client).await.into_result().unwrap();
    assert!(!emulator.token_is_valid(new.secret().expose_secret()));
    assert_eq!(emulator.valid_tokens_of(id.as_str()), 1);
    assert_converged(&client, &forever, &options).await;
}

// 4. A token of an app whose secret the client lacks is an Unknown, not a failed plan.

#[tokio::test]
async fn a_token_of_another_app_is_unknown_in_the_plan_and_the_audit() {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new("11", "Acme")
                .app("21", "App", "secret-0123456789")
                .app("22", "Other app", "secret-of-the-other")
                .admin("EAAE-admin")
                .page("41", "P")
                .system_user("611", "crm-sync-eu", "EMPLOYEE"),
        )
        .start()
        .await;
    let client = emulator.client("EAAE-admin").unwrap();
    client
        .page("41")
        .assign("611", [PageTask::Analyze])
        .send()
        .await
        .unwrap();
    for app in ["21", "22"] {
        client
            .system_user("611")
            .install_app(app)
            .send()
            .await
            .unwrap();
    }
    let store = Arc::new(MemoryStore::new());
    let key = TokenKey::new("11", "611", "22");
    store
        .put(
            StoredToken::new(
                key.clone(),
                "EAAB-minted-elsewhere-for-app-22".to_owned(),
                TokenMeta::new([Permission::AdsRead], None, Minted::Imported),
            ),
            Expect::Any,
        )
        .await
        .done();
    let spec = Spec::builder("11")
        .system_user(
            SystemUserBuilder::new("crm-sync-eu")
                .app("21")
                .app("22")
                .page("41", [PageTask::Analyze])
                .token("22", [Permission::AdsRead]),
        )
        .build()
        .unwrap();
    let options = PlanOptions::default().store(store.clone());
    let plan = provision::plan(&client, &spec, &options).await.unwrap();
    assert!(plan.changes.is_empty(), "{plan}");
    let unknown = plan
        .drift
        .iter()
        .find(|d| d.kind == DriftKind::TokenUnknown)
        .expect("an Unknown");
    assert!(unknown.detail.contains("app 22"), "{unknown}");
    assert!(
        !emulator
            .requests()
            .iter()
            .any(|r| r.path.contains("debug_token")),
        "nothing signed with the wrong app's secret"
    );
    let audit = provision::audit(&client, "11", &AuditOptions::default().store(store.clone()))
        .await
        .unwrap();
    assert!(
        audit
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::TokenUnknown && f.subject == key.to_string()),
        "{audit}"
    );
    // With the app's secret, the same token is inspected.
    let both = emulator
        .client_builder("EAAE-admin")
        .app_id("21")
        .app_secret("secret-0123456789")
        .app_secret_for("22", "secret-of-the-other")
        .build()
        .unwrap();
    let plan = provision::plan(&both, &spec, &options).await.unwrap();
    assert!(
        !plan.drift.iter().any(|d| d.kind == DriftKind::TokenUnknown),
        "{plan}"
    );
}

// 6. What the plan leaves alone, and 5/7 the admin and the real tier.

#[tokio::test]
async fn an_app_installed_by_hand_and_a_stranger_are_listed_as_not_managed() {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new("11", "Acme")
                .tier(AccessTier::Full)
                .app("21", "App", "secret-0123456789")
                .app("22", "Other app", "secret-of-the-other")
                .admin("EAAE-admin")
                .page("41", "P")
                .page("42", "Q")
                .system_user("611", "crm-sync-eu", "EMPLOYEE")
                .system_user("612", "someone-elses-sync", "EMPLOYEE"),
        )
        .start()
        .await;
    let client = emulator.client("EAAE-admin").unwrap();
    client
        .page("41")
        .assign("611", [PageTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .page("42")
        .assign("612", [PageTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .system_user("611")
        .install_app("22")
        .send()
        .await
        .unwrap();
    for prune in [false, true] {
        let spec = Spec::builder("11")
            .prune(prune)
            .system_user(
                SystemUserBuilder::new("crm-sync-eu")
                    .app("21")
                    .page("41", [PageTask::Analyze]),
            )
            .build()
            .unwrap();
        let plan = provision::plan(&client, &spec, &PlanOptions::default())
            .await
            .unwrap();
        assert!(
            plan.not_managed.iter().any(|n| matches!(n, NotManaged::App { app, why, .. } if app.as_str() == "22" && (!prune || why.contains("cannot uninstall")))),
            "{plan}"
        );
        assert!(
            plan.not_managed.iter().any(|n| matches!(n, NotManaged::SystemUser { name, grants, .. } if name == "someone-elses-sync" && grants.len() == 1)),
            "{plan}"
        );
        let text = plan.to_string();
        assert!(
            text.contains("Not managed (left alone):") && text.contains("= app 22"),
            "{text}"
        );
    }
    // Offboarding says the app stays.
    let report = provision::offboard(&client, "11", "611", &OffboardOptions::default())
        .await
        .unwrap()
        .into_result()
        .unwrap();
    let mut apps: Vec<&str> = report.apps_left.iter().map(|a| a.as_str()).collect();
    apps.sort_unstable();
    assert_eq!(apps, ["22"]);
    assert!(report.to_string().contains("app 22 still installed"));
}

#[tokio::test]
async fn an_admin_with_assets_is_a_spec_error_unless_allowed() {
    let admin = || {
        SystemUserBuilder::new("ops-admin")
            .role(meta_business::SystemUserRole::Admin)
            .page(DEMO.pages[0], [PageTask::Analyze])
    };
    let err = Spec::builder(DEMO.business_id)
        .system_user(admin())
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, ProvisionError::InvalidSpec { location, .. } if location == "system_users[0].assets"),
        "{err}"
    );
    let spec = Spec::builder(DEMO.business_id)
        .system_user(admin().allow_admin_assets())
        .build()
        .unwrap();
    let (emulator, client) = demo().await;
    let _done = apply(&client, &spec, &PlanOptions::default()).await;
    assert_eq!(emulator.assignments(DEMO.pages[0]).len(), 1);
}

#[tokio::test]
async fn the_real_tier_wins_over_the_files() {
    let (emulator, client) = demo().await; // a Limited business; the client knows it
    let two = |tier: &str| {
        Spec::from_json_str(&format!(
            r#"{{"business": "{b}", "access_tier": "{tier}", "system_users": [
              {{"name": "crm-sync-eu", "assets": [{{"page": "{p0}", "tasks": ["ANALYZE"]}}]}},
              {{"name": "catalog-feed", "assets": [{{"page": "{p1}", "tasks": ["ANALYZE"]}}]}}]}}"#,
            b = DEMO.business_id,
            p0 = DEMO.pages[0],
            p1 = DEMO.pages[1],
        ))
        .unwrap()
    };
    let err = provision::plan(&client, &two("full"), &PlanOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProvisionError::InvalidSpec { location, message } if location == "access_tier" && message.contains("real tier")),
        "{err}"
    );
    assert_eq!(writes(&emulator), 0);

    // A client that was not told the tier reads it where the API shows it: the business's
    // usage header.
    let unaware = emulator
        .client_builder(DEMO.admin_token)
        .app_secret(DEMO.app_secret)
        .build()
        .unwrap();
    let err = provision::plan(&unaware, &two("full"), &PlanOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProvisionError::InvalidSpec { message, .. } if message.contains("usage header reports the limited tier")),
        "{err}"
    );
    assert_eq!(writes(&emulator), 0);

    // With no tier anywhere (the check off, the file silent), the server refuses the second
    // user, and the first is whole: created and granted before the second was tried.
    let unchecked = emulator
        .client_builder(DEMO.admin_token)
        .app_secret(DEMO.app_secret)
        .disable_quota_check()
        .build()
        .unwrap();
    let mut silent = two("full");
    silent.access_tier = None;
    let report = provision::plan(&unchecked, &silent, &PlanOptions::default())
        .await
        .unwrap()
        .apply(&unchecked)
        .await;
    assert!(
        matches!(&report.failed, Some((Change::CreateSystemUser { name, .. }, _)) if name == "catalog-feed"),
        "{report}"
    );
    let users = emulator.system_users(DEMO.business_id);
    assert_eq!(users.len(), 1);
    assert_eq!(
        holders(&emulator, DEMO.pages[0]),
        [users[0].id.clone()],
        "no user left without its assets"
    );

    // A file that says Limited for a business that already has more is refused too.
    emulator.set_access_tier(DEMO.business_id, AccessTier::Full);
    let full = emulator.client(DEMO.admin_token).unwrap();
    for name in ["reporting-a", "reporting-b"] {
        full.business(DEMO.business_id)
            .system_users()
            .create(name)
            .send()
            .await
            .unwrap();
    }
    let err = provision::plan(&full, &two("limited"), &PlanOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProvisionError::InvalidSpec { message, .. } if message.contains("3 regular")),
        "{err}"
    );
}

// 8. Offboard reports what it did when it stops.

#[tokio::test]
async fn an_offboard_that_fails_part_way_reports_where_it_stopped_and_a_rerun_finishes() {
    let (emulator, client) = demo().await;
    let no_retry = emulator
        .client_builder(DEMO.admin_token)
        .app_secret(DEMO.app_secret)
        .retry_policy(meta_business::retry::RetryPolicy::none())
        .build()
        .unwrap();
    let su = client
        .business(DEMO.business_id)
        .system_users()
        .create("crm-sync-eu")
        .send()
        .await
        .unwrap();
    client
        .ad_account(DEMO.ad_accounts[0])
        .assign(&su.id, [AdAccountTask::Analyze])
        .send()
        .await
        .unwrap();
    for page in DEMO.pages {
        client
            .page(page)
            .assign(&su.id, [PageTask::Analyze])
            .send()
            .await
            .unwrap();
    }
    emulator.inject(
        FaultRule::new(Fault::graph(200))
            .on("DELETE", "/assigned_users")
            .after(1)
            .times(1),
    );
    let report = provision::offboard(
        &no_retry,
        DEMO.business_id,
        &su.id,
        &OffboardOptions::default(),
    )
    .await
    .unwrap();
    assert!(
        report.tokens_invalidated && !report.is_complete(),
        "{report}"
    );
    assert_eq!(report.removed.len(), 1);
    let Some((OffboardStep::Unassign(failed), err)) = &report.failed else {
        panic!("{report}");
    };
    assert!(err.is_permission());
    assert_eq!(report.not_done.last(), Some(&OffboardStep::Rename));
    assert_eq!(report.not_done.len(), 2, "one more asset, then the rename");
    let text = report.to_string();
    assert!(
        text.contains("FAILED") && text.contains("not done") && text.contains("again"),
        "{text}"
    );
    // The emulator agrees: one asset left as reported, the failed one still held, not renamed.
    let still: usize = [DEMO.ad_accounts[0], DEMO.pages[0], DEMO.pages[1]]
        .iter()
        .filter(|a| emulator.assignments(a).contains_key(su.id.as_str()))
        .count();
    assert_eq!(still, 2);
    assert!(
        emulator
            .assignments(failed.id())
            .contains_key(su.id.as_str())
    );
    assert_eq!(
        emulator.system_users(DEMO.business_id)[0].name,
        "crm-sync-eu"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["failed"]["step"]["unassign"]["id"], failed.id());

    let incomplete = report.into_result().unwrap_err();
    assert!(
        incomplete.to_string().contains("stopped at"),
        "{incomplete}"
    );
    let rerun = provision::offboard(
        &client,
        DEMO.business_id,
        &su.id,
        &OffboardOptions::default(),
    )
    .await
    .unwrap()
    .into_result()
    .unwrap();
    assert_eq!(rerun.removed.len(), 2);
    assert!(rerun.renamed_to.is_some());
}

// 9. Audit: the store, decommissioned users, short clear names.

#[tokio::test]
async fn audit_flags_a_decommissioned_user_still_holding_a_pixel_but_not_a_short_clear_name() {
    let (_emulator, client) = demo().await;
    let users = client.business(DEMO.business_id).system_users();
    let crm = users.create("crm").send().await.unwrap();
    client
        .page(DEMO.pages[0])
        .assign(&crm.id, [PageTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .pixel(DEMO.pixel)
        .assign(&crm.id, [PixelTask::Analyze])
        .send()
        .await
        .unwrap();
    let _offboarded = provision::offboard(
        &client,
        DEMO.business_id,
        &crm.id,
        &OffboardOptions::default(),
    )
    .await
    .unwrap()
    .into_result()
    .unwrap();
    let report = provision::audit(&client, DEMO.business_id, &AuditOptions::default())
        .await
        .unwrap();
    let finding = report
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::DecommissionedWithAccess)
        .unwrap_or_else(|| panic!("{report}"));
    assert!(finding.message.contains("pixel"), "{finding:?}");
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::VagueName),
        "{report}"
    );
}

// The guide's plan (docs/provisioning.md) is a real one: this scenario renders it.

#[tokio::test]
async fn the_readme_shows_a_real_plan_with_drift_and_what_is_left_alone() {
    let (_emulator, client) = demo().await;
    let (options, _store) = with_store();
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/provision.toml");
    let spec = Spec::from_path(file).unwrap();
    let first = apply(&client, &spec, &options).await;
    let id = first.identities["ads-reporting-server"].clone();
    // By hand, in Business Settings: a rename, and one more Page.
    rename(&client, id.as_str(), "ads-reporting-server-v1").await;
    client
        .page(DEMO.pages[1])
        .assign(&id, [PageTask::Advertise])
        .send()
        .await
        .unwrap();
    // The file now asks for less: the stored token has a scope too many.
    let narrower = std::fs::read_to_string(file).unwrap().replace(
        r#"scopes = ["ads_read", "read_insights"]"#,
        r#"scopes = ["ads_read"]"#,
    );
    let spec = Spec::from_toml_str(&narrower).unwrap();
    let plan = provision::plan(&client, &spec, &options).await.unwrap();
    let shown = plan.to_string();
    println!("{shown}");
    let guide =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/provisioning.md"))
            .unwrap();
    assert!(
        guide.contains(&shown),
        "docs/provisioning.md's plan is not this one:\n{shown}"
    );
    let _done = plan.apply(&client).await.into_result().unwrap();
    assert_converged(&client, &spec, &options).await;
}

#[tokio::test]
async fn a_stored_token_of_the_wrong_app_is_replaced_and_revoked() {
    let emulator = GraphEmulator::builder()
        .legacy_token_edge(true)
        .business(
            BusinessSeed::new("11", "Acme")
                .app("21", "App", "secret-0123456789")
                .app("22", "Other app", "secret-of-the-other")
                .admin("EAAE-admin")
                .page("41", "P"),
        )
        .start()
        .await;
    let client = emulator
        .client_builder("EAAE-admin")
        .app_id("21")
        .app_secret("secret-0123456789")
        .app_secret_for("22", "secret-of-the-other")
        .build()
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let options = PlanOptions::default().store(store.clone());
    let spec_for = |app: &str| {
        Spec::builder("11")
            .system_user(
                SystemUserBuilder::new("crm-sync-eu")
                    .app("21")
                    .app("22")
                    .page("41", [PageTask::Analyze])
                    .token(app, [Permission::PagesReadEngagement]),
            )
            .build()
            .unwrap()
    };
    let first = apply(&client, &spec_for("21"), &options).await;
    let id = first.identities["crm-sync-eu"].clone();
    let old_key = TokenKey::new("11", id.clone(), "21");
    let old = store.get(&old_key).await.unwrap().unwrap().token;

    // The file now wants the token of the other app.
    let spec = spec_for("22");
    let plan = provision::plan(&client, &spec, &options).await.unwrap();
    assert!(
        plan.drift.iter().any(|d| d.kind == DriftKind::WrongApp),
        "{plan}"
    );
    assert!(
        matches!(plan.changes.as_slice(), [Change::GenerateToken { app, replaces, .. }] if app.as_str() == "22" && replaces == std::slice::from_ref(&old_key)),
        "{plan}"
    );
    let _done = plan.apply(&client).await.into_result().unwrap();
    assert!(
        !emulator.token_is_valid(old.secret().expose_secret()),
        "the old app's token is revoked"
    );
    let keys = store.keys().await.unwrap();
    assert_eq!(keys, [TokenKey::new("11", id.clone(), "22")]);
    let new = store.get(&keys[0]).await.unwrap().unwrap().token;
    assert!(emulator.token_is_valid(new.secret().expose_secret()));
    assert_eq!(emulator.valid_tokens_of(id.as_str()), 1);
    assert_converged(&client, &spec, &options).await;
}

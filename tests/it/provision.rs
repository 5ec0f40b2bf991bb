//! Provisioning against the emulator: plan, apply, idempotence, quota, resume, prune, audit,
//! offboard.

use std::sync::Arc;
use std::time::Duration;

use meta_business::provision::{
    self, AuditOptions, Change, FindingKind, NotManaged, OffboardOptions, PlanOptions,
    ProvisionError, Spec,
};
use meta_business::testing::{BusinessSeed, DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{
    AccessTier, AdAccountTask, Client, Error, ExposeSecret, PageTask, Permission, PixelTask,
    SystemUserRole,
    store::{MemoryStore, TokenStore},
};

fn spec(prune: bool) -> Spec {
    Spec::from_json_str(&format!(
        r#"{{
        "business": "{b}", "prune": {prune},
        "system_users": [{{
            "name": "ads-reporting-server", "apps": ["{app}"],
            "assets": [{{"ad_account": "{ad}", "tasks": ["ANALYZE"]}}, {{"page": "{page}", "tasks": ["ANALYZE"]}}],
            "token": {{"app": "{app}", "scopes": ["ads_read"]}}
        }}, {{"name": "provisioning-admin", "role": "ADMIN"}}]
    }}"#,
        b = DEMO.business_id,
        app = DEMO.app_id,
        ad = DEMO.ad_accounts[0],
        page = DEMO.pages[0],
    ))
    .unwrap()
}

fn writes(emulator: &GraphEmulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .count()
}

/// Plan options with a fresh token store, and the store.
fn with_store() -> (PlanOptions, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    (PlanOptions::default().store(store.clone()), store)
}

async fn demo() -> (GraphEmulator, Client) {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    (emulator, client)
}

#[tokio::test]
async fn plan_on_an_empty_business_then_apply_then_nothing_left() {
    let (emulator, client) = demo().await;
    let (options, _store) = with_store();
    let plan = provision::plan(&client, &spec(false), &options)
        .await
        .unwrap();
    assert_eq!(writes(&emulator), 0, "planning writes nothing");
    let kinds: Vec<&str> = plan
        .changes
        .iter()
        .map(|c| match c {
            Change::CreateSystemUser { .. } => "create",
            Change::InstallApp { .. } => "install",
            Change::Assign { .. } => "assign",
            Change::GenerateToken { .. } => "token",
            _ => "other",
        })
        .collect();
    // One system user at a time: a refusal of the second leaves the first whole.
    assert_eq!(
        kinds,
        ["create", "install", "assign", "assign", "token", "create"]
    );
    let text = plan.to_string();
    assert!(
        text.contains("6 changes")
            && text.contains("+ create system user \"ads-reporting-server\" (EMPLOYEE)"),
        "{text}"
    );
    assert!(
        text.contains("+ assign ad account act_3000000000001 to \"ads-reporting-server\": ANALYZE"),
        "{text}"
    );
    assert!(text.contains("1/1 admin, 1/1 regular"), "{text}");
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["changes"][0]["action"], "create_system_user");

    let report = plan.apply(&client).await;
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.applied.len(), 6);
    assert_eq!(report.tokens.len(), 1);
    assert!(
        !serde_json::to_string(&report)
            .unwrap()
            .contains(report.tokens[0].1.secret().expose_secret())
    );

    // Idempotent: planning again (with the token store) yields nothing, and applying sends no write.
    emulator.clear_requests();
    let again = provision::plan(&client, &spec(false), &options)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again}");
    assert!(again.to_string().contains("no changes"));
    let second = again.apply(&client).await;
    assert!(second.applied.is_empty());
    assert_eq!(writes(&emulator), 0);
}

#[tokio::test]
async fn a_drifted_business_is_brought_back_and_prune_removes_extras() {
    let (emulator, client) = demo().await;
    let (options, _store) = with_store();
    let first = provision::plan(&client, &spec(false), &options)
        .await
        .unwrap()
        .apply(&client)
        .await;
    assert!(first.is_complete(), "{first}");
    let su = emulator
        .system_users(DEMO.business_id)
        .into_iter()
        .find(|u| u.name == "ads-reporting-server")
        .unwrap();
    // Drift: more tasks on the ad account, an extra Page, an extra pixel.
    client
        .ad_account(DEMO.ad_accounts[0])
        .change_tasks(su.id.as_str(), [AdAccountTask::Manage])
        .send()
        .await
        .unwrap();
    client
        .page(DEMO.pages[1])
        .assign(su.id.as_str(), [PageTask::Advertise])
        .send()
        .await
        .unwrap();
    client
        .pixel(DEMO.pixel)
        .assign(su.id.as_str(), [PixelTask::Analyze])
        .send()
        .await
        .unwrap();

    let plan = provision::plan(&client, &spec(false), &options)
        .await
        .unwrap();
    assert_eq!(
        plan.changes,
        [Change::ChangeTasks {
            system_user: "ads-reporting-server".into(),
            asset: meta_business::asset::AssetRef::AdAccount(DEMO.ad_accounts[0].into()),
            from: vec!["MANAGE".into()],
            to: vec!["ANALYZE".into()],
        }],
        "without prune, extras stay"
    );
    assert!(
        plan.not_managed.iter().any(|n| matches!(n, NotManaged::Grant { asset: meta_business::asset::AssetRef::Page(p), .. } if p.as_str() == DEMO.pages[1])),
        "and are listed as not managed: {plan}"
    );

    let pruning = provision::plan(&client, &spec(true), &options)
        .await
        .unwrap();
    assert!(pruning.changes.iter().any(|c| matches!(c, Change::Unassign { asset: meta_business::asset::AssetRef::Page(p), .. } if p.as_str() == DEMO.pages[1])));
    assert!(
        pruning.not_managed.iter().any(|n| matches!(n, NotManaged::Grant { asset: meta_business::asset::AssetRef::Pixel(_), why, .. } if why.contains("cannot remove pixel"))),
        "{pruning}"
    );
    assert!(
        pruning
            .to_string()
            .contains("- remove \"ads-reporting-server\" from Page 4000000000002")
    );
    let report = pruning.apply(&client).await;
    assert!(report.is_complete(), "{report}");
    assert_eq!(
        emulator.assignments(DEMO.ad_accounts[0])[su.id.as_str()],
        ["ANALYZE"]
    );
    assert!(
        !emulator
            .assignments(DEMO.pages[1])
            .contains_key(su.id.as_str())
    );
    let after = provision::plan(&client, &spec(true), &options)
        .await
        .unwrap();
    assert!(after.changes.is_empty(), "{after}");
}

#[tokio::test]
async fn a_plan_over_the_quota_fails_naming_who_does_not_fit_with_zero_writes() {
    let (emulator, client) = demo().await;
    let json = format!(
        r#"{{"business": "{}", "system_users": [{{"name": "crm-sync"}}, {{"name": "catalog-feed"}}, {{"name": "ads-reporting"}}]}}"#,
        DEMO.business_id
    );
    let err = provision::plan(
        &client,
        &Spec::from_json_str(&json).unwrap(),
        &PlanOptions::default(),
    )
    .await
    .unwrap_err();
    match &err {
        ProvisionError::PlanExceedsQuota { system_users, .. } => {
            assert_eq!(system_users, &["catalog-feed", "ads-reporting"])
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("limited access tier"), "{err}");
    assert_eq!(writes(&emulator), 0);
    // The file's tier is what the plan is checked against, once the client knows it too.
    emulator.set_access_tier(DEMO.business_id, AccessTier::Full);
    let client = emulator.client(DEMO.admin_token).unwrap();
    let full = json.replacen('{', r#"{"access_tier": "full", "#, 1);
    let plan = provision::plan(
        &client,
        &Spec::from_json_str(&full).unwrap(),
        &PlanOptions::default(),
    )
    .await
    .unwrap();
    assert!(plan.apply(&client).await.is_complete());
    assert_eq!(emulator.system_users(DEMO.business_id).len(), 3);
}

#[tokio::test]
async fn a_failure_part_way_is_reported_and_a_second_run_finishes() {
    let (emulator, client) = demo().await;
    let client_no_retry = emulator
        .client_builder(DEMO.admin_token)
        .app_secret(DEMO.app_secret)
        .retry_policy(meta_business::retry::RetryPolicy::none())
        .build()
        .unwrap();
    emulator.inject(
        FaultRule::new(Fault::graph(200))
            .on("POST", "/assigned_users")
            .after(1)
            .times(1),
    );
    let (options, _store) = with_store();
    let plan = provision::plan(&client_no_retry, &spec(false), &options)
        .await
        .unwrap();
    let report = plan.apply(&client_no_retry).await;
    assert!(!report.is_complete());
    let (failed, err) = report.failed.as_ref().unwrap();
    assert!(
        matches!(failed, Change::Assign { .. }) && err.is_permission(),
        "{report}"
    );
    assert_eq!(report.applied.len(), 3);
    assert_eq!(report.not_applied.len(), 2);
    assert!(report.to_string().contains("run again"), "{report}");
    // As a Result: the error names the change and keeps its cause and the whole report.
    let incomplete = report.into_result().unwrap_err();
    let shown = incomplete.to_string();
    assert!(
        shown.contains("stopped at") && shown.contains("3 change(s) made, 2 not attempted"),
        "{shown}"
    );
    let cause = std::error::Error::source(&incomplete).unwrap();
    assert!(
        cause
            .downcast_ref::<Error>()
            .is_some_and(Error::is_permission)
    );
    assert_eq!(incomplete.0.applied.len(), 3);

    let rest = provision::plan(&client, &spec(false), &options)
        .await
        .unwrap();
    assert!(
        matches!(
            rest.changes.as_slice(),
            [
                Change::Assign { .. },
                Change::GenerateToken { .. },
                Change::CreateSystemUser { .. }
            ]
        ),
        "{rest}"
    );
    let _done = rest.apply(&client).await.into_result().unwrap();
    assert!(
        provision::plan(&client, &spec(false), &options)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn stored_tokens_are_checked_and_renewed_when_needed() {
    let (emulator, client) = demo().await;
    let (options, store) = with_store();
    let report = provision::plan(&client, &spec(false), &options)
        .await
        .unwrap()
        .apply(&client)
        .await;
    assert!(report.is_complete(), "{report}");
    // Expires in 60 days: renewing within 61 days asks for a new one.
    let renewing = options
        .clone()
        .renew_within(Duration::from_secs(61 * 86_400));
    let plan = provision::plan(&client, &spec(false), &renewing)
        .await
        .unwrap();
    assert!(
        matches!(&plan.changes[..], [Change::GenerateToken { reason, .. }] if reason.contains("expires within")),
        "{plan}"
    );
    // A revoked token is replaced.
    let key = store.keys().await.unwrap().remove(0);
    let stored = store.get(&key).await.unwrap().unwrap().token;
    client
        .revoke_token(DEMO.app_id, stored.secret().clone())
        .send()
        .await
        .unwrap();
    let plan = provision::plan(&client, &spec(false), &options)
        .await
        .unwrap();
    assert!(
        matches!(&plan.changes[..], [Change::GenerateToken { reason, .. }] if reason.contains("not valid")),
        "{plan}"
    );
    let _ = emulator;
}

#[tokio::test]
async fn audit_reports_each_finding() {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new("11", "Acme")
                .tier(AccessTier::Full)
                .app("21", "App", "secret-0123456789")
                .admin("EAAE-admin")
                .ad_account("31", "A")
                .ad_account("32", "B")
                .page("41", "P")
                .system_user("611", "test", "EMPLOYEE")
                .system_user("612", "ops-admin", "ADMIN")
                .system_user("613", "backup-admin", "ADMIN")
                .system_user("614", "ads-everything-sync", "EMPLOYEE")
                .system_user("615", "idle-reporting", "EMPLOYEE"),
        )
        .start()
        .await;
    let client = emulator.client("EAAE-admin").unwrap();
    client
        .ad_account("31")
        .assign("614", [AdAccountTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .ad_account("32")
        .assign("614", [AdAccountTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .ad_account("31")
        .assign("612", [AdAccountTask::Manage])
        .send()
        .await
        .unwrap();
    client
        .page("41")
        .assign("611", [PageTask::Analyze])
        .send()
        .await
        .unwrap();
    let su = client.system_user("614");
    su.install_app("21").send().await.unwrap();
    let forever = su
        .generate_token("21")
        .business("11")
        .scopes([Permission::AdsRead])
        .send()
        .await
        .unwrap();
    let sixty = su
        .generate_token("21")
        .business("11")
        .scopes([Permission::AdsRead])
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    let revoked = su
        .generate_token("21")
        .business("11")
        .scopes([Permission::AdsRead])
        .send()
        .await
        .unwrap();
    client
        .revoke_token("21", revoked.secret().clone())
        .send()
        .await
        .unwrap();

    let options = AuditOptions::default()
        .token("forever", forever.secret().clone())
        .token("sixty", sixty.secret().clone())
        .token("revoked", revoked.secret().clone())
        .app("21")
        .expiry_window(Duration::from_secs(61 * 86_400));
    let writes_before = emulator
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .count();
    let report = provision::audit(&client, "11", &options).await.unwrap();
    let has = |kind: FindingKind, subject: &str| {
        report
            .findings
            .iter()
            .any(|f| f.kind == kind && f.subject.contains(subject))
    };
    assert!(has(FindingKind::VagueName, "test (611)"), "{report}");
    assert!(has(FindingKind::SeveralAdmins, "ops-admin"), "{report}");
    assert!(has(FindingKind::AdminWithAssets, "ops-admin"), "{report}");
    assert!(
        has(FindingKind::EveryOwnedAsset, "ads-everything-sync"),
        "{report}"
    );
    assert!(has(FindingKind::NoAssets, "idle-reporting"), "{report}");
    assert!(has(FindingKind::TokenNeverExpires, "forever"), "{report}");
    assert!(has(FindingKind::TokenExpiresSoon, "sixty"), "{report}");
    assert!(has(FindingKind::TokenInvalid, "revoked"), "{report}");
    assert!(!has(FindingKind::VagueName, "idle-reporting"));
    let text = report.to_string();
    assert!(text.contains("CRITICAL") && text.contains("→"), "{text}");
    for token in options.tokens.values() {
        assert!(
            !text.contains(token.expose_secret())
                && !serde_json::to_string(&report)
                    .unwrap()
                    .contains(token.expose_secret())
        );
    }
    let writes_after = emulator
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .count();
    assert_eq!(
        writes_after, writes_before,
        "the audit itself writes nothing"
    );
}

#[tokio::test]
async fn offboarding_twice_is_harmless() {
    let (emulator, client) = demo().await;
    let users = client.business(DEMO.business_id).system_users();
    let su = users
        .create("crm-sync")
        .role(SystemUserRole::Employee)
        .send()
        .await
        .unwrap();
    client
        .ad_account(DEMO.ad_accounts[0])
        .assign(&su.id, [AdAccountTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .page(DEMO.pages[0])
        .assign(&su.id, [PageTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .pixel(DEMO.pixel)
        .assign(&su.id, [PixelTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .system_user(&su.id)
        .install_app(DEMO.app_id)
        .send()
        .await
        .unwrap();
    let token = client
        .system_user(&su.id)
        .generate_token(DEMO.app_id)
        .business(DEMO.business_id)
        .scopes([Permission::AdsRead])
        .send()
        .await
        .unwrap();

    let first = provision::offboard(
        &client,
        DEMO.business_id,
        su.id.clone(),
        &OffboardOptions::default(),
    )
    .await
    .unwrap()
    .into_result()
    .unwrap();
    assert!(first.tokens_invalidated);
    assert_eq!(first.removed.len(), 2);
    assert_eq!(
        first.left.len(),
        1,
        "pixels cannot be removed through the API"
    );
    assert!(
        first
            .renamed_to
            .as_deref()
            .unwrap()
            .starts_with("[decommissioned ")
    );
    assert!(!emulator.token_is_valid(token.secret().expose_secret()));
    assert!(
        client
            .system_user(&su.id)
            .assigned_ad_accounts()
            .send()
            .await
            .unwrap()
            .data
            .is_empty()
    );
    assert!(first.to_string().contains("removed from ad account"));

    let second = provision::offboard(
        &client,
        DEMO.business_id,
        su.id.clone(),
        &OffboardOptions::default(),
    )
    .await
    .unwrap()
    .into_result()
    .unwrap();
    assert!(second.removed.is_empty() && second.renamed_to.is_none());
    assert_eq!(second.left.len(), 1);
    let err = provision::offboard(
        &client,
        DEMO.business_id,
        "999",
        &OffboardOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        ProvisionError::Client(Error::InvalidInput { .. })
    ));
}

#[test]
fn the_example_file_parses_and_bad_files_are_named() {
    let spec = Spec::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/provision.toml"
    ))
    .unwrap();
    assert_eq!(spec.system_users.len(), 2);
    assert_eq!(spec.system_users[1].role, SystemUserRole::Admin);
    let err = Spec::from_path("Cargo.lock").unwrap_err().to_string();
    assert!(err.contains(".json or .toml"), "{err}");
    let err = Spec::from_path("missing.toml").unwrap_err().to_string();
    assert!(err.contains("missing.toml"), "{err}");
}

#[test]
fn a_spec_built_in_code_equals_the_same_spec_from_toml_and_json() {
    use meta_business::provision::SystemUserBuilder;
    use meta_business::{CatalogTask, InstagramTask, WhatsAppTask};
    let built = Spec::builder("1000000000001")
        .access_tier(AccessTier::Full)
        .prune(true)
        .system_user(
            SystemUserBuilder::new("ads-reporting-server")
                .app("2000000000001")
                .ad_account("act_3000000000001", [AdAccountTask::Analyze])
                .page("4000000000001", [PageTask::Analyze, PageTask::Advertise])
                .catalog("5000000000001", [CatalogTask::Manage])
                .pixel("6000000000001", [PixelTask::Analyze])
                .instagram("7000000000001", [InstagramTask::Analyze])
                .whatsapp("8000000000001", [WhatsAppTask::Manage])
                .token(
                    "2000000000001",
                    [Permission::AdsRead, Permission::ReadInsights],
                ),
        )
        .system_user(
            SystemUserBuilder::new("provisioning-admin")
                .role(SystemUserRole::Admin)
                .app("2000000000001")
                .token("2000000000001", [Permission::BusinessManagement])
                .token_never_expires(),
        )
        .build()
        .unwrap();
    let toml = Spec::from_toml_str(
        r#"
business = "1000000000001"
access_tier = "full"
prune = true

[[system_users]]
name = "ads-reporting-server"
apps = ["2000000000001"]
assets = [
  { ad_account = "act_3000000000001", tasks = ["ANALYZE"] },
  { page = "4000000000001", tasks = ["ANALYZE", "ADVERTISE"] },
  { catalog = "5000000000001", tasks = ["MANAGE"] },
  { pixel = "6000000000001", tasks = ["ANALYZE"] },
  { instagram = "7000000000001", tasks = ["ANALYZE"] },
  { whatsapp = "8000000000001", tasks = ["MANAGE"] },
]
token = { app = "2000000000001", scopes = ["ads_read", "read_insights"] }

[[system_users]]
name = "provisioning-admin"
role = "ADMIN"
apps = ["2000000000001"]
token = { app = "2000000000001", scopes = ["business_management"], expires_in_60_days = false }
"#,
    )
    .unwrap();
    let json = Spec::from_json_str(
        r#"{"business": "1000000000001", "access_tier": "full", "prune": true, "system_users": [
          {"name": "ads-reporting-server", "apps": ["2000000000001"], "assets": [
            {"ad_account": "act_3000000000001", "tasks": ["ANALYZE"]},
            {"page": "4000000000001", "tasks": ["ANALYZE", "ADVERTISE"]},
            {"catalog": "5000000000001", "tasks": ["MANAGE"]},
            {"pixel": "6000000000001", "tasks": ["ANALYZE"]},
            {"instagram": "7000000000001", "tasks": ["ANALYZE"]},
            {"whatsapp": "8000000000001", "tasks": ["MANAGE"]}],
           "token": {"app": "2000000000001", "scopes": ["ads_read", "read_insights"]}},
          {"name": "provisioning-admin", "role": "ADMIN", "apps": ["2000000000001"],
           "token": {"app": "2000000000001", "scopes": ["business_management"], "expires_in_60_days": false}}]}"#,
    )
    .unwrap();
    assert_eq!(built, toml);
    assert_eq!(built, json);

    // Built specs are checked as files are, with the same error and place.
    let err = Spec::builder("1000000000001")
        .system_user(SystemUserBuilder::new("a"))
        .system_user(SystemUserBuilder::new("a"))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, ProvisionError::InvalidSpec { location, .. } if location == "system_users[1].name"),
        "{err}"
    );
    let err = Spec::builder("1000000000001")
        .system_user(SystemUserBuilder::new("x").ad_account("act_3000000000001", []))
        .build()
        .unwrap_err();
    assert!(matches!(&err, ProvisionError::InvalidSpec { .. }), "{err}");
}

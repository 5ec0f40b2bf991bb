//! Round trips and saved plans: a desired state ⇄ TOML and JSON over generated specs (every
//! asset kind, tasks, tokens, options), a plan ⇄ JSON, and a saved plan applied later: as
//! saved when nothing changed, refused before its first write when the business did.

use std::sync::Arc;

use meta_business::provision::{self, Change, Plan, PlanOptions, ProvisionError, Spec};
use meta_business::testing::{DEMO, GraphEmulator};
use meta_business::{
    AccessTier, AdAccountTask, BusinessAssetGroupTask, CatalogTask, Client, InstagramTask,
    PageTask, Permission, PixelTask, WhatsAppTask,
    store::{Expect, MemoryStore, StoredToken, TokenKey, TokenStore},
};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Every kind's key with the task names it accepts.
fn kinds() -> Vec<(&'static str, Vec<&'static str>)> {
    fn names<T>(known: &'static [T], name: fn(&'static T) -> &'static str) -> Vec<&'static str> {
        known.iter().map(name).collect()
    }
    vec![
        ("ad_account", names(AdAccountTask::KNOWN, |t| t.as_str())),
        ("page", names(PageTask::KNOWN, |t| t.as_str())),
        ("catalog", names(CatalogTask::KNOWN, |t| t.as_str())),
        ("pixel", names(PixelTask::KNOWN, |t| t.as_str())),
        ("instagram", names(InstagramTask::KNOWN, |t| t.as_str())),
        ("whatsapp", names(WhatsAppTask::KNOWN, |t| t.as_str())),
        (
            "business_asset_group",
            names(BusinessAssetGroupTask::KNOWN, |t| t.as_str()),
        ),
    ]
}

/// One generated asset: a kind (by index), an id and a non-empty pick of its tasks.
fn asset() -> impl Strategy<Value = (usize, u64, Vec<prop::sample::Index>)> {
    (
        0..7usize,
        1u64..u64::MAX / 2,
        prop::collection::vec(any::<prop::sample::Index>(), 1..4),
    )
}

/// One generated system user, in the file's JSON form.
fn system_user(i: usize) -> impl Strategy<Value = Value> {
    (
        "[a-zA-Z0-9_.-]{0,12}( [a-z]{1,5})?",
        any::<bool>(),
        prop::collection::vec(asset(), 0..5),
        prop::collection::vec(1u64..u64::MAX / 2, 0..3),
        prop::option::of((
            prop::collection::vec(any::<prop::sample::Index>(), 1..4),
            any::<bool>(),
        )),
        any::<bool>(),
    )
        .prop_map(move |(name, admin, assets, apps, token, allow)| {
            let kinds = kinds();
            let mut seen = Vec::new();
            let assets: Vec<Value> = assets
                .into_iter()
                .filter(|(k, id, _)| {
                    let fresh = !seen.contains(&(*k, *id));
                    seen.push((*k, *id));
                    fresh
                })
                .map(|(k, id, picks)| {
                    let (key, tasks) = &kinds[k];
                    let tasks: Vec<&str> = picks.iter().map(|p| *p.get(tasks)).collect();
                    json!({ *key: id.to_string(), "tasks": tasks })
                })
                .collect();
            let apps: Vec<String> = apps.iter().map(u64::to_string).collect();
            let mut user = json!({
                "name": format!("u{i} {name}"),
                "role": if admin { "ADMIN" } else { "EMPLOYEE" },
                "assets": assets,
                "apps": apps,
                "allow_admin_assets": allow || admin,
            });
            if let (Some((scopes, expires)), Some(app)) = (token, apps.first()) {
                let scopes: Vec<&str> = scopes
                    .iter()
                    .map(|p| p.get(Permission::KNOWN).as_str())
                    .collect();
                user["token"] =
                    json!({"app": app, "scopes": scopes, "expires_in_60_days": expires});
            }
            user
        })
}

/// A generated desired state, in the file's JSON form.
fn spec_json() -> impl Strategy<Value = Value> {
    (
        1u64..u64::MAX / 2,
        prop::option::of(prop::sample::select(vec!["limited", "full", "Advanced"])),
        any::<bool>(),
        (0..4usize).prop_flat_map(|n| (0..n).map(system_user).collect::<Vec<_>>()),
    )
        .prop_map(|(business, tier, prune, users)| {
            let mut spec =
                json!({"business": business.to_string(), "prune": prune, "system_users": users});
            if let Some(tier) = tier {
                spec["access_tier"] = json!(tier);
            }
            spec
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_spec_round_trips_through_toml_and_json(text in spec_json()) {
        let spec = Spec::from_json_str(&text.to_string()).expect("a generated spec is valid");
        // JSON, as serde_json writes it and as the crate writes it.
        let json = serde_json::to_string(&spec).unwrap();
        prop_assert_eq!(&Spec::from_json_str(&json).unwrap(), &spec, "{}", json);
        prop_assert_eq!(&Spec::from_json_str(&spec.to_json_string()).unwrap(), &spec);
        prop_assert_eq!(&serde_json::from_str::<Spec>(&json).unwrap(), &spec);
        // TOML.
        let toml = spec.to_toml_string().unwrap();
        prop_assert_eq!(&Spec::from_toml_str(&toml).unwrap(), &spec, "{}", toml);
        // Writing again gives the same text: one shape.
        let again = Spec::from_toml_str(&toml).unwrap().to_toml_string().unwrap();
        prop_assert_eq!(again, toml);
    }
}

/// A desired state on the demo business: up to one regular and one admin system user (the
/// limited tier's quota), with any of the business's assets, tasks and token options.
fn demo_spec() -> impl Strategy<Value = Value> {
    let assets = [
        ("ad_account", DEMO.ad_accounts[0]),
        ("page", DEMO.pages[0]),
        ("catalog", DEMO.catalog),
        ("pixel", DEMO.pixel),
        ("instagram", DEMO.instagram),
        ("whatsapp", DEMO.whatsapp),
        ("business_asset_group", DEMO.business_asset_group),
    ];
    (
        prop::collection::vec((any::<bool>(), any::<prop::sample::Index>()), 7),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(picks, token, expires, admin, prune)| {
            let kinds = kinds();
            let assets: Vec<Value> = picks
                .iter()
                .enumerate()
                .filter(|(_, (take, _))| *take)
                .map(|(k, (_, task))| {
                    json!({ assets[k].0: assets[k].1, "tasks": [task.get(&kinds[k].1)] })
                })
                .collect();
            let mut user = json!({"name": "generated-reporting", "apps": [DEMO.app_id], "assets": assets});
            if token {
                user["token"] = json!({"app": DEMO.app_id, "scopes": ["ads_read"], "expires_in_60_days": expires});
            }
            let mut users = vec![user];
            if admin {
                users.push(json!({"name": "generated-admin", "role": "ADMIN"}));
            }
            json!({"business": DEMO.business_id, "prune": prune, "system_users": users})
        })
}

#[test]
fn a_plan_round_trips_through_json() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (emulator, client) = runtime.block_on(demo());
    // A business with a user already there: the plans have renames, installs, grants to
    // change, tokens stored, drift and things left alone.
    runtime.block_on(async {
        let spec = Spec::from_json_str(&json!({"business": DEMO.business_id, "system_users": [{"name": "Generated-Reporting", "apps": [DEMO.app_id], "assets": [{"page": DEMO.pages[0], "tasks": ["MANAGE"]}]}]}).to_string()).unwrap();
        let plan = provision::plan(&client, &spec, &PlanOptions::default()).await.unwrap();
        let _ = plan.apply(&client).await.into_result().unwrap();
    });
    let store = Arc::new(MemoryStore::new());
    let config = ProptestConfig::with_cases(24);
    proptest!(config, |(text in demo_spec())| {
        let spec = Spec::from_json_str(&text.to_string()).unwrap();
        let options = PlanOptions::default().store(store.clone());
        let plan = runtime.block_on(provision::plan(&client, &spec, &options)).unwrap();
        let saved = serde_json::to_string(&plan).unwrap();
        let loaded = Plan::from_json_str(&saved).unwrap();
        prop_assert_eq!(&loaded.changes, &plan.changes);
        prop_assert_eq!(&loaded.drift, &plan.drift);
        prop_assert_eq!(&loaded.not_managed, &plan.not_managed);
        prop_assert_eq!(loaded.identities(), plan.identities());
        prop_assert_eq!(loaded.policy, plan.policy);
        prop_assert_eq!(&loaded.quota, &plan.quota);
        // Nothing lost or added: written again, the same JSON.
        prop_assert_eq!(serde_json::to_string(&loaded).unwrap(), saved);
        prop_assert_eq!(loaded.to_string(), plan.to_string());
    });
    assert!(
        emulator
            .requests()
            .iter()
            .any(|r| r.path.contains("assigned_users")),
        "the plans read the assets scanned one by one"
    );
}

/// The demo business on the full tier (two regular system users fit), and a client that
/// knows it.
async fn demo() -> (GraphEmulator, Client) {
    let (emulator, demo) = GraphEmulator::demo().await;
    emulator.set_access_tier(demo.business_id, AccessTier::Full);
    let client = emulator.client(demo.admin_token).unwrap();
    assert_eq!(
        client.quota_policy(),
        meta_business::QuotaPolicy::Tier(AccessTier::Full)
    );
    (emulator, client)
}

fn spec() -> Spec {
    Spec::from_json_str(
        &json!({
            "business": DEMO.business_id,
            "system_users": [{
                "name": "ads-reporting-server", "apps": [DEMO.app_id],
                "assets": [{"ad_account": DEMO.ad_accounts[0], "tasks": ["ANALYZE"]}, {"pixel": DEMO.pixel, "tasks": ["ANALYZE"]}],
                "token": {"app": DEMO.app_id, "scopes": ["ads_read"]}
            }, {
                "name": "crm-sync-eu",
                "assets": [{"page": DEMO.pages[0], "tasks": ["ANALYZE"]}]
            }]
        })
        .to_string(),
    )
    .unwrap()
}

fn writes(emulator: &GraphEmulator) -> Vec<String> {
    emulator
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// A business where `crm-sync-eu` exists with its page and `ads-reporting-server` has a
/// stored token but misses a grant: a saved plan of it depends on users, grants, apps and
/// the store. Returns the saved plan.
async fn saved_plan(
    emulator: &GraphEmulator,
    client: &Client,
    store: &Arc<MemoryStore>,
) -> (String, Plan) {
    let options = PlanOptions::default().store(store.clone());
    let first = provision::plan(client, &spec(), &options).await.unwrap();
    let _ = first.apply(client).await.into_result().unwrap();
    let reporting = first_id(emulator, "ads-reporting-server");
    client
        .ad_account(DEMO.ad_accounts[0])
        .unassign(reporting.as_str())
        .send()
        .await
        .unwrap();
    let plan = provision::plan(client, &spec(), &options).await.unwrap();
    assert!(
        matches!(plan.changes.as_slice(), [Change::Assign { .. }]),
        "{plan}"
    );
    (serde_json::to_string_pretty(&plan).unwrap(), plan)
}

fn first_id(emulator: &GraphEmulator, name: &str) -> String {
    emulator
        .system_users(DEMO.business_id)
        .into_iter()
        .find(|u| u.name == name)
        .map(|u| u.id)
        .expect("the user exists")
}

#[tokio::test]
async fn a_saved_plan_applied_unchanged_is_applied() {
    let (emulator, client) = demo().await;
    let store = Arc::new(MemoryStore::new());
    let (saved, _) = saved_plan(&emulator, &client, &store).await;
    emulator.clear_requests();
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = events.clone();
    let sink = meta_business::progress::ProgressSink::new(move |p| {
        seen.lock().unwrap().push(p.to_string())
    });
    let loaded = Plan::from_json_str(&saved)
        .unwrap()
        .store(store.clone())
        .progress(sink);
    let report = loaded.apply(&client).await.into_result().unwrap();
    assert_eq!(report.applied.len(), 1);
    // A loaded plan given a sink reports its apply's steps.
    let events = events.lock().unwrap().clone();
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("apply") && e.contains("done")),
        "{events:?}"
    );
    let reporting = first_id(&emulator, "ads-reporting-server");
    let holders = emulator.assignments(DEMO.ad_accounts[0]);
    assert_eq!(
        holders.get(&reporting).map(Vec::as_slice),
        Some(&["ANALYZE".to_owned()][..])
    );
    assert_eq!(writes(&emulator).len(), 1, "{:?}", writes(&emulator));
    // Applied, the desired state holds.
    let options = PlanOptions::default().store(store.clone());
    assert!(
        provision::plan(&client, &spec(), &options)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_stored_token_of_a_user_the_business_no_longer_lists_does_not_make_a_saved_plan_stale() {
    use meta_business::store::{Expect, Minted, StoredToken, TokenKey, TokenMeta, TokenStore};
    let (emulator, client) = demo().await;
    let store = Arc::new(MemoryStore::new());
    // A record left by an earlier run for a system user this business does not list (another
    // world, as when the same token directory meets a fresh emulator).
    let gone = TokenKey::new(DEMO.business_id, "610000000000999", DEMO.app_id);
    let meta = TokenMeta::new([], None, Minted::Generated).named("ads-reporting-server");
    let put = store
        .put(
            StoredToken::new(gone.clone(), "EAAB-left-behind", meta),
            Expect::Absent,
        )
        .await
        .unwrap();
    assert!(matches!(put, meta_business::store::Put::Written(_)));
    let plan = provision::plan(
        &client,
        &spec(),
        &PlanOptions::default().store(store.clone()),
    )
    .await
    .unwrap();
    let saved = serde_json::to_string(&plan).unwrap();
    // Nothing changed between saving and applying: applied, not refused as stale.
    let loaded = Plan::from_json_str(&saved).unwrap().store(store.clone());
    let report = loaded.apply(&client).await;
    assert!(report.stale.is_none(), "{report}");
    assert!(report.is_complete(), "{report}");
    assert!(!emulator.system_users(DEMO.business_id).is_empty());
    // The left-behind record is still there, untouched.
    assert!(store.get(&gone).await.unwrap().is_some());
}

#[tokio::test]
async fn a_saved_plan_is_refused_after_another_user_was_created() {
    let (emulator, client) = demo().await;
    let store = Arc::new(MemoryStore::new());
    let (saved, _) = saved_plan(&emulator, &client, &store).await;
    let intruder = client
        .business(DEMO.business_id)
        .system_users()
        .create("made-by-hand")
        .send()
        .await
        .unwrap();
    emulator.clear_requests();
    let loaded = Plan::from_json_str(&saved).unwrap().store(store.clone());
    let report = loaded.apply(&client).await;
    assert!(!report.is_complete());
    let stale = report.stale.clone().expect("refused as stale");
    assert_eq!(
        stale.changed,
        [format!(
            "system user {} (\"made-by-hand\") was created",
            intruder.id
        )]
    );
    assert!(report.applied.is_empty() && report.failed.is_none());
    assert_eq!(report.not_applied, loaded.changes);
    assert_eq!(writes(&emulator), Vec::<String>::new(), "nothing written");
    // The grant the plan would have given is still missing.
    let reporting = first_id(&emulator, "ads-reporting-server");
    assert!(
        !emulator
            .assignments(DEMO.ad_accounts[0])
            .contains_key(&reporting)
    );
    // As a `Result`, the typed error, listing what changed.
    let err = ProvisionError::from(report.into_result().unwrap_err());
    let ProvisionError::StalePlan(stale) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(stale.changed.len(), 1);
    assert!(
        err.to_string().contains("made-by-hand") && err.to_string().contains("plan again"),
        "{err}"
    );
}

#[tokio::test]
async fn a_saved_plan_is_refused_after_a_grant_was_removed_or_a_token_stored() {
    let (emulator, client) = demo().await;
    let store = Arc::new(MemoryStore::new());
    let (saved, _) = saved_plan(&emulator, &client, &store).await;
    let crm = first_id(&emulator, "crm-sync-eu");
    client
        .page(DEMO.pages[0])
        .unassign(crm.as_str())
        .send()
        .await
        .unwrap();
    emulator.clear_requests();
    let err = Plan::from_json_str(&saved)
        .unwrap()
        .store(store.clone())
        .verify(&client)
        .await
        .unwrap_err();
    let ProvisionError::StalePlan(stale) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        stale.changed,
        [format!(
            "the grant of system user {crm} on Page {} was removed",
            DEMO.pages[0]
        )]
    );
    assert_eq!(writes(&emulator), Vec::<String>::new());

    // Another run rewrote a stored token: the versions the plan read no longer hold.
    let (emulator, client) = demo().await;
    let store = Arc::new(MemoryStore::new());
    let (saved, _) = saved_plan(&emulator, &client, &store).await;
    let key = store.keys().await.unwrap().remove(0);
    let held = store.get(&key).await.unwrap().unwrap();
    let put = store
        .put(held.token.clone(), Expect::Version(held.version))
        .await
        .unwrap();
    assert!(matches!(put, meta_business::store::Put::Written(_)));
    emulator.clear_requests();
    let report = Plan::from_json_str(&saved)
        .unwrap()
        .store(store.clone())
        .apply(&client)
        .await;
    let stale = report.stale.expect("stale");
    assert!(
        stale.changed[0].starts_with(&format!("the stored token of {key} was written again")),
        "{:?}",
        stale.changed
    );
    assert_eq!(writes(&emulator), Vec::<String>::new());
}

#[tokio::test]
async fn a_saved_plan_holds_no_secret_and_needs_its_store_again() {
    let (emulator, client) = demo().await;
    let store = Arc::new(MemoryStore::new());
    let options = PlanOptions::default().store(store.clone());
    // Plan, apply, then force a rotation by asking for another scope: the plan reads the
    // stored token (a secret) and the saved form must not carry it.
    let _ = provision::plan(&client, &spec(), &options)
        .await
        .unwrap()
        .apply(&client)
        .await
        .into_result()
        .unwrap();
    let stored: Vec<StoredToken> = {
        let mut all = Vec::new();
        for key in store.keys().await.unwrap() {
            all.push(store.get(&key).await.unwrap().unwrap().token);
        }
        all
    };
    let wider = Spec::from_json_str(
        &spec()
            .to_json_string()
            .replace("\"ads_read\"", "\"ads_read\", \"business_management\""),
    )
    .unwrap();
    let plan = provision::plan(&client, &wider, &options).await.unwrap();
    assert!(
        plan.changes
            .iter()
            .any(|c| matches!(c, Change::GenerateToken { .. })),
        "{plan}"
    );
    let saved = serde_json::to_string(&plan).unwrap();
    use meta_business::ExposeSecret;
    for secret in stored
        .iter()
        .map(|t| t.secret().expose_secret().to_owned())
        .chain([DEMO.admin_token.to_owned(), DEMO.app_secret.to_owned()])
    {
        assert!(!saved.contains(&secret), "a secret in the saved plan");
    }
    let key: TokenKey = stored[0].key.clone();
    assert!(
        saved.contains(key.system_user.as_str()),
        "the versions it read are kept, by key"
    );

    // Loaded without its store: refused before any write, naming the store.
    emulator.clear_requests();
    let report = Plan::from_json_str(&saved).unwrap().apply(&client).await;
    let (_, err) = report.failed.expect("refused");
    assert!(err.to_string().contains("Plan::store"), "{err}");
    assert!(report.applied.is_empty());
    assert_eq!(writes(&emulator), Vec::<String>::new());
    assert_eq!(emulator.requests().len(), 0, "refused before reading");
}

#[tokio::test]
async fn a_preview_plans_without_a_store_and_cannot_be_applied() {
    let (emulator, client) = demo().await;
    // Without a store the plan is refused, unless it is a preview.
    let err = provision::plan(&client, &spec(), &PlanOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("store"), "{err}");
    let plan = provision::plan(&client, &spec(), &PlanOptions::default().preview(true))
        .await
        .unwrap();
    assert!(
        plan.changes
            .iter()
            .any(|c| matches!(c, Change::GenerateToken { .. }))
    );
    assert!(plan.to_string().contains("applying needs one"), "{plan}");
    let report = plan.apply(&client).await;
    let (change, err) = report.failed.expect("refused");
    assert!(matches!(change, Change::GenerateToken { .. }));
    assert!(err.to_string().contains("without a token store"), "{err}");
    assert_eq!(writes(&emulator), Vec::<String>::new());
    assert!(emulator.system_users(DEMO.business_id).is_empty());
}

#[tokio::test]
async fn a_saved_plan_names_its_format_and_one_of_another_format_is_refused() {
    let (_emulator, client) = demo().await;
    let plan = provision::plan(&client, &spec(), &PlanOptions::default().preview(true))
        .await
        .unwrap();
    let mut saved: serde_json::Value = serde_json::to_value(&plan).unwrap();
    assert_eq!(saved["format"], 1, "{saved}");
    assert!(
        serde_json::to_string(&plan)
            .unwrap()
            .starts_with(r#"{"format":1,"#),
        "the format comes first"
    );
    // A plan saved before the field existed is format 1.
    saved.as_object_mut().unwrap().remove("format");
    let text = saved.to_string();
    assert_eq!(Plan::from_json_str(&text).unwrap().changes, plan.changes);
    // One from a later release is refused, not misread.
    saved["format"] = 2.into();
    let err = Plan::from_json_str(&saved.to_string()).unwrap_err();
    assert!(matches!(err, ProvisionError::InvalidPlan { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("saved in format 2, and this release of meta-business reads format 1"),
        "{err}"
    );
    assert!(serde_json::from_value::<Plan>(saved).is_err());
}

#[test]
fn a_saved_plan_that_is_not_one_is_refused() {
    for text in ["", "{}", r#"{"business": "1"}"#, "[1]"] {
        let err = Plan::from_json_str(text).unwrap_err();
        assert!(matches!(err, ProvisionError::InvalidPlan { .. }), "{err:?}");
        assert!(err.to_string().starts_with("not a saved plan"), "{err}");
    }
}

#[tokio::test]
async fn errors_about_a_spec_built_in_code_never_say_file() {
    use meta_business::provision::SystemUserBuilder;
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    // The demo business is on the limited tier; the spec built in code says full.
    let spec = Spec::builder(demo.business_id)
        .access_tier(AccessTier::Full)
        .system_user(SystemUserBuilder::new("crm-sync-eu").page(demo.pages[0], [PageTask::Analyze]))
        .build()
        .unwrap();
    let err = provision::plan(&client, &spec, &PlanOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the desired state says the full tier"),
        "{err}"
    );
    assert!(!err.contains("file"), "{err}");
}

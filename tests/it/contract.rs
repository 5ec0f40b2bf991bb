//! The contract test: every request the crate builds, for every builder and option, checked
//! against the table generated from Meta's API description (`src/testing/contract.json`,
//! `python3 scripts/contract.py`).
//!
//! The requests are driven through the emulator and read back from its journal (batch items
//! included). The table is read here with its own small reader, not the emulator's, so a
//! mistake in the emulator's enforcement cannot hide one in the crate. A departure fails the
//! test naming the request.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::TryStreamExt;
use meta_business::provision::{self, AuditOptions, OffboardOptions, PlanOptions, Spec};
use meta_business::testing::{DEMO, GraphEmulator, Recorded};
use meta_business::{
    AdAccountTask, BusinessField, BusinessVertical, CatalogTask, ExposeSecret, InstagramTask,
    PageTask, Permission, PixelTask, SystemUserRole, WhatsAppTask,
    bulk::{BatchItem, BulkMode},
    obo::{ClientAdminToken, PartnerAdminToken},
};
use serde_json::Value;

const TABLE: &str = include_str!("../../src/testing/contract.json");

/// Parameters the transport may add to any call, and the credential parameters of the calls
/// outside the node types, as the table lists them.
struct Table(Value);

impl Table {
    fn load() -> Table {
        Table(serde_json::from_str(TABLE).expect("the contract table parses"))
    }

    fn transport(&self) -> BTreeSet<String> {
        self.0["extras"]["transport_params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    /// The call's spec: `(params, return type)`.
    fn call(&self, r: &Recorded) -> Result<(Value, Option<String>, String), String> {
        let segs: Vec<&str> = r
            .path
            .split('/')
            .filter(|s| !s.is_empty())
            .skip(1)
            .collect();
        // Calls outside the node types.
        let special = match segs.as_slice() {
            [] if r.method == "POST" => Some("POST batch".to_owned()),
            ["debug_token"] => Some(format!("{} debug_token", r.method)),
            ["oauth", what] => Some(format!("{} oauth/{what}", r.method)),
            _ => None,
        };
        if let Some(key) = special {
            let spec = &self.0["extras"]["specials"][&key];
            return if spec.is_null() {
                Err(format!("no call {key} in the contract"))
            } else {
                Ok((spec["params"].clone(), None, "Graph".into()))
            };
        }
        // `me` is the token's own user: the table says which node type that is and on what
        // source, so the emulator's guess is not taken for it.
        let node = if segs.first() == Some(&"me") {
            self.0["extras"]["aliases"]["me"]["node"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("no alias me in the contract (for {})", r.path))?
        } else {
            r.node_type
                .clone()
                .ok_or_else(|| format!("the emulator did not know the node of {}", r.path))?
        };
        let edge = segs.get(1).copied().unwrap_or("");
        let key = if edge.is_empty() {
            r.method.clone()
        } else {
            format!("{} {edge}", r.method)
        };
        let spec = &self.0["nodes"][&node]["edges"][&key];
        if spec.is_null() {
            return Err(format!("no call {key} on node type {node} in the contract"));
        }
        let returned = match spec["return"].as_str() {
            Some(ret) if r.method == "GET" && !edge.is_empty() && ret != "Object" => ret.to_owned(),
            _ => node.clone(),
        };
        Ok((spec["params"].clone(), Some(returned), node))
    }

    fn edge_field(&self, node: &str, method: &str, edge: &str, field: &str) -> bool {
        self.0["extras"]["edge_fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|ef| {
                let pattern = ef["edge"].as_str().unwrap();
                let edge_ok = match pattern.strip_suffix('*') {
                    Some(prefix) => edge.starts_with(prefix),
                    None => pattern == edge,
                };
                (ef["node"] == "*" || ef["node"] == node)
                    && ef["method"] == method
                    && edge_ok
                    && ef["fields"].as_array().unwrap().iter().any(|f| f == field)
            })
    }

    /// Every departure of one request from the contract.
    fn check(&self, r: &Recorded) -> Vec<String> {
        let mut out = Vec::new();
        let (params, returned, node) = match self.call(r) {
            Ok(x) => x,
            Err(e) => return vec![e],
        };
        let transport = self.transport();
        for (name, value) in &r.params {
            if transport.contains(name) {
                continue;
            }
            let spec = &params[name];
            if spec.is_null() {
                out.push(format!("parameter {name} is not listed"));
                continue;
            }
            if let Some(allowed) = spec["enum"].as_array() {
                let items: Vec<String> = if spec["type"].as_str().unwrap().starts_with("list<") {
                    match serde_json::from_str::<Vec<Value>>(value) {
                        Ok(v) => v
                            .into_iter()
                            .map(|i| i.as_str().map_or(i.to_string(), str::to_owned))
                            .collect(),
                        Err(_) => value.split(',').map(|s| s.trim().to_owned()).collect(),
                    }
                } else {
                    vec![value.clone()]
                };
                for item in items {
                    if !allowed.iter().any(|a| a == item.as_str()) {
                        out.push(format!("{name}={item} is not one of its enum values"));
                    }
                }
            }
        }
        for (name, spec) in params.as_object().unwrap() {
            if spec["required"] == true && !r.params.contains_key(name) {
                out.push(format!("required parameter {name} is missing"));
            }
        }
        if let (Some(fields), Some(returned)) = (r.params.get("fields"), returned) {
            let known = &self.0["fields"][&returned];
            let segs: Vec<&str> = r.path.split('/').filter(|s| !s.is_empty()).collect();
            let edge = segs.get(2).copied().unwrap_or("");
            for field in fields.split(',') {
                let on_node = known
                    .as_array()
                    .is_some_and(|k| k.iter().any(|f| f == field));
                if !on_node && !self.edge_field(&node, &r.method, edge, field) {
                    out.push(format!("field {field} is not a field of {returned}"));
                }
            }
        }
        out
    }
}

/// Drives every builder and option the crate has against the emulator.
async fn drive_everything(emu: &GraphEmulator) {
    let d = DEMO;
    let client = emu.client(d.admin_token).unwrap();
    let biz = client.business(d.business_id);

    // Businesses.
    client.businesses().list().collect(100).await.unwrap();
    client
        .businesses()
        .list()
        .limit(1)
        .with_summary()
        .send()
        .await
        .unwrap();
    client
        .businesses()
        .create("Contract Co", BusinessVertical::Ecommerce)
        .timezone_id(1)
        .email("ops@example.com")
        .primary_page(d.pages[0])
        .send()
        .await
        .ok();
    biz.get().send().await.unwrap();
    biz.get()
        .fields([
            BusinessField::Id,
            BusinessField::Name,
            BusinessField::TwoFactorType,
        ])
        .send()
        .await
        .unwrap();
    biz.owned_ad_accounts().collect(100).await.unwrap();
    biz.owned_pages().collect(100).await.unwrap();
    biz.owned_apps().collect(100).await.unwrap();
    biz.owned_product_catalogs().collect(100).await.unwrap();
    biz.owned_pixels().collect(100).await.unwrap();
    biz.owned_instagram_assets().collect(100).await.unwrap();
    biz.owned_whatsapp_business_accounts()
        .collect(100)
        .await
        .unwrap();
    biz.owned_assets::<meta_business::asset::BusinessAssetGroup>()
        .collect(100)
        .await
        .unwrap();
    biz.client_apps().collect(100).await.unwrap();
    biz.claim_app(d.app_id).send().await.ok();
    biz.claim_ad_account(d.ad_accounts[1]).send().await.ok();
    biz.claim_page(d.pages[1]).send().await.ok();

    // System users.
    let users = biz.system_users();
    let su = users
        .create("contract-employee")
        .role(SystemUserRole::Employee)
        .send()
        .await
        .unwrap();
    let admin = users
        .create("contract-admin")
        .role(SystemUserRole::Admin)
        .send()
        .await
        .unwrap();
    users.list().limit(1).collect(10).await.unwrap();
    let first = users.list().limit(1).send().await.unwrap();
    if let Some(cursor) = first.next_cursor() {
        users.list().limit(1).after(cursor).send().await.unwrap();
    }
    users
        .get_or_create("contract-employee")
        .send()
        .await
        .unwrap();
    users
        .rename(&su.id, "contract-renamed")
        .send()
        .await
        .unwrap();
    biz.system_user_quota().send().await.unwrap();
    client.system_user(&su.id).get().send().await.unwrap();

    // Assets, every kind.
    client
        .ad_account(d.ad_accounts[0])
        .assign(&su.id, [AdAccountTask::Analyze, AdAccountTask::Advertise])
        .business(d.business_id)
        .send()
        .await
        .unwrap();
    client
        .page(d.pages[0])
        .assign(&su.id, [PageTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .catalog(d.catalog)
        .assign(&su.id, [CatalogTask::Manage])
        .send()
        .await
        .unwrap();
    client
        .pixel(d.pixel)
        .assign(&su.id, [PixelTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .instagram_asset(d.instagram)
        .assign(&su.id, [InstagramTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .whatsapp_business_account(d.whatsapp)
        .assign(&su.id, [WhatsAppTask::Manage])
        .send()
        .await
        .unwrap();
    let group = client.asset::<meta_business::asset::BusinessAssetGroup>(d.business_asset_group);
    group
        .assign(
            &su.id,
            [
                meta_business::BusinessAssetGroupTask::PageAnalyze,
                meta_business::BusinessAssetGroupTask::OfflineConversionDataSetView,
            ],
        )
        .send()
        .await
        .unwrap();
    group
        .assigned_users(d.business_id)
        .collect(10)
        .await
        .unwrap();
    client
        .ad_account(d.ad_accounts[0])
        .assigned_users(d.business_id)
        .collect(10)
        .await
        .unwrap();
    client
        .page(d.pages[0])
        .assigned_users(d.business_id)
        .collect(10)
        .await
        .unwrap();
    client
        .catalog(d.catalog)
        .assigned_users(d.business_id)
        .collect(10)
        .await
        .unwrap();
    client
        .pixel(d.pixel)
        .assigned_users(d.business_id)
        .collect(10)
        .await
        .unwrap();
    client
        .instagram_asset(d.instagram)
        .assigned_users(d.business_id)
        .collect(10)
        .await
        .unwrap();
    client
        .whatsapp_business_account(d.whatsapp)
        .assigned_users(d.business_id)
        .collect(10)
        .await
        .unwrap();
    let me = client.system_user(&su.id);
    me.assigned_ad_accounts().collect(10).await.unwrap();
    me.assigned_pages().collect(10).await.unwrap();
    me.assigned_product_catalogs().collect(10).await.unwrap();
    me.assigned_whatsapp_business_accounts()
        .collect(10)
        .await
        .unwrap();
    me.assigned_applications().collect(10).await.unwrap();
    me.assigned_business_asset_groups()
        .collect(10)
        .await
        .unwrap();
    for unassign in [
        group.unassign(&su.id).send().await,
        client
            .whatsapp_business_account(d.whatsapp)
            .unassign(&su.id)
            .send()
            .await,
        client
            .instagram_asset(d.instagram)
            .unassign(&su.id)
            .send()
            .await,
        client.catalog(d.catalog).unassign(&su.id).send().await,
    ] {
        unassign.unwrap();
    }

    // Batch and bulk.
    let items = vec![
        BatchItem::get(
            &format!("{}/system_users", d.business_id),
            &[("fields", "id,name,role")],
        )
        .unwrap(),
        client
            .ad_account(d.ad_accounts[1])
            .assign(&su.id, [AdAccountTask::Analyze])
            .batch_item()
            .unwrap(),
        client
            .page(d.pages[1])
            .unassign(&su.id)
            .batch_item()
            .unwrap(),
    ];
    for include in [true, false] {
        for r in client
            .batch(items.clone())
            .include_headers(include)
            .send()
            .await
        {
            r.unwrap();
        }
    }
    for mode in [BulkMode::Batch, BulkMode::Concurrent] {
        let ops = [d.ad_accounts[0], d.ad_accounts[1]].map(|a| {
            client
                .ad_account(a)
                .assign(&su.id, [AdAccountTask::Analyze])
        });
        client.bulk(ops).mode(mode).send().await.unwrap();
    }

    // Tokens: install, both minting edges, business-level options, inspect, refresh, revoke.
    me.install_app(d.app_id).send().await.unwrap();
    let minted = me
        .generate_token(d.app_id)
        .business(d.business_id)
        .scopes([Permission::AdsRead, Permission::ReadInsights])
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    emu.set_legacy_token_edge(true);
    me.generate_token(d.app_id)
        .scopes([Permission::AdsRead])
        .send()
        .await
        .unwrap();
    me.generate_token(d.app_id)
        .scopes([Permission::AdsRead])
        .expires_in_60_days(false)
        .send()
        .await
        .unwrap();
    emu.set_legacy_token_edge(false);
    biz.system_user_access_token(&su.id)
        .scopes([Permission::AdsRead])
        .assets([d.ad_accounts[0]])
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    biz.system_user_access_token(&su.id)
        .scopes([Permission::AdsRead])
        .fetch_only(true)
        .send()
        .await
        .unwrap();
    let as_app = client.as_app(d.app_id).unwrap();
    as_app
        .debug_token(minted.secret().expose_secret())
        .send()
        .await
        .unwrap();
    let fresh = client
        .refresh_token(d.app_id, minted.secret().expose_secret())
        .send()
        .await
        .unwrap();
    client
        .revoke_token(d.app_id, fresh.secret().expose_secret())
        .send()
        .await
        .unwrap();

    // Preflight, provisioning, audit, offboarding. The preflight's verdict does not matter
    // here: only the requests it sends.
    let _report = biz
        .preflight()
        .app(d.app_id)
        .scopes([Permission::AdsRead])
        .ad_accounts([d.ad_accounts[0]])
        .send()
        .await;
    let spec = Spec::from_json_str(&format!(
        r#"{{"business": "{b}", "prune": true, "system_users": [{{
            "name": "contract-employee-2", "apps": ["{app}"],
            "assets": [{{"ad_account": "{ad}", "tasks": ["ANALYZE"]}}, {{"page": "{page}", "tasks": ["ANALYZE"]}}],
            "token": {{"app": "{app}", "scopes": ["ads_read"]}}}}]}}"#,
        b = d.business_id,
        app = d.app_id,
        ad = d.ad_accounts[0],
        page = d.pages[0],
    ))
    .unwrap();
    let options =
        PlanOptions::default().store(std::sync::Arc::new(meta_business::store::MemoryStore::new()));
    if let Ok(plan) = provision::plan(&client, &spec, &options).await {
        let _ = plan.apply(&client).await;
    }
    provision::audit(
        &client,
        d.business_id,
        &AuditOptions::default()
            .app(d.app_id)
            .token("minted", minted.secret().clone()),
    )
    .await
    .unwrap();
    let _offboarded = provision::offboard(
        &client,
        d.business_id,
        su.id.clone(),
        &OffboardOptions::default(),
    )
    .await
    .unwrap()
    .into_result()
    .unwrap();
    me.invalidate_tokens().send().await.unwrap();
    // Offboarding's self check with no app configured asks `GET /me` whose token it is.
    let no_app = emu
        .client_builder(d.admin_token)
        .app_secret(d.app_secret)
        .build()
        .unwrap();
    let _offboarded = provision::offboard(
        &no_app,
        d.business_id,
        admin.id.clone(),
        &OffboardOptions::default(),
    )
    .await
    .unwrap()
    .into_result()
    .unwrap();

    // The raw escape hatch, and paging options.
    let _: Value = client.get("me", &[("fields", "id,name")]).await.unwrap();
    let page_users = format!("{}/assigned_users", d.pages[0]);
    let _: Value = client
        .post(
            &page_users,
            &[("user", su.id.as_str()), ("tasks", r#"["ANALYZE"]"#)],
        )
        .await
        .unwrap();
    let _: Value = client
        .delete(&page_users, &[("user", su.id.as_str())])
        .await
        .unwrap();
    let mut pages = users.list().limit(1).pages();
    while pages.try_next().await.unwrap().is_some() {}
    users
        .list()
        .fields_raw("id,name")
        .timeout(Duration::from_secs(5))
        .collect(10)
        .await
        .unwrap();
}

/// Business On Behalf Of, on its own emulator world.
async fn drive_on_behalf_of(emu: &GraphEmulator) {
    let (_, d) = (emu, meta_business::testing::OBO_DEMO);
    let client = emu
        .client_builder("EAAE-not-used-by-obo")
        .app_secret(d.app_secret)
        .build()
        .unwrap();
    let obo = client.on_behalf_of(d.partner, d.client);
    let client_admin = ClientAdminToken::new(d.client_admin_token);
    let partner_admin = PartnerAdminToken::new(d.partner_admin_token);
    obo.link(&client_admin).await.unwrap();
    let token = obo
        .client_system_user_token(&partner_admin, d.app_id)
        .scopes([Permission::AdsManagement, Permission::PagesReadEngagement])
        .system_user_name("Contract SU")
        .send()
        .await
        .unwrap();
    let me = obo.client_system_user(&token).await.unwrap();
    token.system_user_id(&client).await.unwrap();
    obo.as_client_admin(&client_admin)
        .page(d.client_page)
        .assign(me.id.as_str(), [PageTask::Analyze])
        .send()
        .await
        .unwrap();
    obo.pages(&token).collect(10).await.unwrap();
    obo.unlink(&client_admin).await.unwrap();
}

#[tokio::test]
async fn every_request_the_crate_builds_is_in_metas_description() {
    let table = Table::load();
    let (emu, _) = GraphEmulator::demo().await;
    drive_everything(&emu).await;
    let (obo_emu, _) = GraphEmulator::obo_demo().await;
    drive_on_behalf_of(&obo_emu).await;

    let mut calls = emu.calls();
    // Offboarding's self check (`provision::caller`) is among the requests checked.
    assert!(
        calls.iter().any(|r| r.method == "GET"
            && r.path == "/v26.0/me"
            && r.params.keys().collect::<Vec<_>>() == ["fields"]
            && r.params["fields"] == "id"
            && r.bearer
            && r.proof),
        "offboarding's GET /me was not driven: {:?}",
        calls
            .iter()
            .filter(|r| r.path.ends_with("/me"))
            .collect::<Vec<_>>()
    );
    calls.extend(obo_emu.calls());
    let mut departures = Vec::new();
    let mut distinct = BTreeSet::new();
    let mut per_call: BTreeMap<String, usize> = BTreeMap::new();
    for r in &calls {
        let names: Vec<&str> = r.params.keys().map(String::as_str).collect();
        let shape = format!(
            "{} {} [{}] fields={}",
            r.method,
            r.node_type.as_deref().unwrap_or("-"),
            names.join(","),
            r.params.get("fields").map_or("", String::as_str)
        );
        let edge: Vec<&str> = r
            .path
            .split('/')
            .filter(|s| !s.is_empty())
            .skip(2)
            .collect();
        *per_call
            .entry(format!(
                "{} {}/{}",
                r.method,
                r.node_type.as_deref().unwrap_or("-"),
                edge.join("/")
            ))
            .or_default() += 1;
        distinct.insert(format!("{shape} {}", edge.join("/")));
        for problem in table.check(r) {
            departures.push(format!(
                "{} {} {:?}{}: {problem}",
                r.method,
                r.path,
                r.params,
                if r.in_batch { " (in a batch)" } else { "" }
            ));
        }
    }
    assert!(
        departures.is_empty(),
        "{} departure(s) from Meta's description:\n{}",
        departures.len(),
        departures.join("\n")
    );
    // The closing note reports these numbers; keep them honest.
    println!(
        "contract: {} requests, {} distinct request shapes, {} distinct calls: {:?}",
        calls.len(),
        distinct.len(),
        per_call.len(),
        per_call.keys().collect::<Vec<_>>()
    );
    assert!(per_call.len() >= 50, "{per_call:?}");
}

#[test]
fn the_reader_catches_a_departure() {
    let table = Table::load();
    let mut r = Recorded::new(
        "GET",
        "/v26.0/1/system_users",
        &[("fields", "id,name,role,birthday")],
        Some("Business"),
    );
    assert_eq!(
        table.check(&r),
        ["field birthday is not a field of SystemUser"]
    );
    r = Recorded::new(
        "POST",
        "/v26.0/1/system_users",
        &[("role", "BOSS"), ("nickname", "x")],
        Some("Business"),
    );
    let problems = table.check(&r);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("nickname is not listed")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("role=BOSS")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("name is missing")),
        "{problems:?}"
    );
    r = Recorded::new("GET", "/v26.0/1/owned_spaceships", &[], Some("Business"));
    assert!(!table.check(&r).is_empty());
}

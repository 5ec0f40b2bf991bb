//! Every write edge of Meta's description answers as Meta answers: a JSON object, never a bare
//! `true` (Meta's official SDKs fail on one: `FacebookResponse.is_success` raises `TypeError`),
//! `{"success": true}` where the edge only acknowledges, and the node's keys where it creates
//! or mints. The calls go over raw HTTP, as a client other than this crate sends them, and the
//! test fails when the contract lists a write edge it did not call.
//!
//! What each edge answers, per Meta's reference pages ("Return Type" of each edge's Creating
//! / Deleting / Updating section):
//! - `POST /{asset}/assigned_users`, `DELETE /{asset}/assigned_users`,
//!   `POST /{system_user}/applications`, `DELETE /{system_user}/access_tokens`,
//!   `DELETE /{business}/managed_businesses`: `Struct {success: bool}`.
//! - `POST /{business}/system_users`: `Struct {id: numeric string}` (a rename, with
//!   `system_user_id`, is an update: `Struct {success: bool}`).
//! - `POST /{system_user}/access_tokens`, `POST /{business}/system_user_access_tokens`,
//!   `POST /{client}/access_token`: `Struct {access_token: string}`.
//! - `POST /{business}/owned_*`: `Struct {access_status: string}`; `POST /{user}/businesses`
//!   and `POST /{partner}/managed_businesses`: `Struct {id: numeric string}`.

use std::collections::BTreeSet;

use meta_business::testing::{DEMO, GraphEmulator, OBO_DEMO};
use meta_business::{ExposeSecret, SecretString};
use serde_json::{Value, json};

const TABLE: &str = include_str!("../../src/testing/contract.json");

struct Raw {
    http: reqwest::Client,
    base: String,
}

impl Raw {
    fn new(emulator: &GraphEmulator) -> Raw {
        Raw {
            http: reqwest::Client::new(),
            base: format!("{}/v26.0", emulator.uri()),
        }
    }

    /// Sends a form (POST) or query (DELETE) with the token and its proof, as Meta's SDKs do.
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        secret: &str,
        params: &[(&str, &str)],
    ) -> (u16, Value) {
        let proof = meta_business::tokens::appsecret_proof(
            &SecretString::from(secret),
            &SecretString::from(token),
        );
        let mut all: Vec<(&str, &str)> = params.to_vec();
        all.push(("access_token", token));
        all.push(("appsecret_proof", proof.expose_secret()));
        let url = format!("{}/{path}", self.base);
        let req = match method {
            "POST" => self.http.post(url).form(&all),
            _ => self.http.delete(url).query(&all),
        };
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        (status, body)
    }
}

/// `(node type, "METHOD edge")` of every write the contract lists, with its return type.
fn writes() -> Vec<(String, String, String)> {
    let table: Value = serde_json::from_str(TABLE).unwrap();
    let mut out = Vec::new();
    for (node, spec) in table["nodes"].as_object().unwrap() {
        for (key, edge) in spec["edges"].as_object().unwrap() {
            if !key.starts_with("GET") {
                let ret = edge["return"].as_str().unwrap_or("").to_owned();
                out.push((node.clone(), key.clone(), ret));
            }
        }
    }
    out
}

/// Checks one answer against what Meta sends for that edge; returns the key it covered.
fn check(node: &str, key: &str, ret: &str, status: u16, body: &Value) -> String {
    assert_eq!(status, 200, "{node} {key}: {body}");
    assert!(
        body.is_object(),
        "{node} {key} answered {body}, not an object"
    );
    let ack = json!({"success": true});
    let edge = key.split(' ').nth(1).unwrap_or("");
    match edge {
        "assigned_users" | "applications" => assert_eq!(body, &ack, "{node} {key}"),
        "access_tokens" if key.starts_with("DELETE") => assert_eq!(body, &ack, "{node} {key}"),
        "access_tokens" | "system_user_access_tokens" | "access_token" => {
            assert!(body["access_token"].is_string(), "{node} {key}: {body}");
        }
        "system_users" | "businesses" => {
            assert!(
                body["id"].is_string() || body == &ack,
                "{node} {key}: {body}"
            );
        }
        e if e.starts_with("owned_") => {
            assert!(body["access_status"].is_string(), "{node} {key}: {body}")
        }
        _ if ret == "Object" => assert_eq!(body, &ack, "{node} {key}"),
        _ => {}
    }
    if ret == "Object" {
        assert_eq!(
            body, &ack,
            "{node} {key}: the contract's Object is an acknowledgement"
        );
    }
    format!("{node} {key}")
}

#[tokio::test]
async fn every_write_edge_answers_an_object_as_meta_does() {
    let contract = writes();
    let ret = |node: &str, key: &str| {
        contract
            .iter()
            .find(|(n, k, _)| n == node && k == key)
            .map(|(_, _, r)| r.clone())
            .unwrap_or_else(|| panic!("{node} {key} is not in the contract"))
    };
    let mut covered = BTreeSet::new();
    let (emulator, d) = GraphEmulator::demo().await;
    emulator.set_legacy_token_edge(true);
    let raw = Raw::new(&emulator);
    let (tok, sec) = (d.admin_token, d.app_secret);
    let mut go = async |node: &str, method: &str, path: &str, params: &[(&str, &str)]| {
        let edge = path.split('/').nth(1).unwrap_or("");
        let key = format!("{method} {edge}");
        let (status, body) = raw.call(method, path, tok, sec, params).await;
        covered.insert(check(node, &key, &ret(node, &key), status, &body));
        body
    };
    let biz = d.business_id;
    let made = go(
        "Business",
        "POST",
        &format!("{biz}/system_users"),
        &[("name", "writer"), ("role", "EMPLOYEE")],
    )
    .await;
    let su = made["id"].as_str().unwrap().to_owned();
    go(
        "Business",
        "POST",
        &format!("{biz}/system_users"),
        &[("system_user_id", &su), ("name", "writer-2")],
    )
    .await;
    go(
        "SystemUser",
        "POST",
        &format!("{su}/applications"),
        &[("business_app", d.app_id)],
    )
    .await;
    go(
        "SystemUser",
        "POST",
        &format!("{su}/access_tokens"),
        &[("business_app", d.app_id), ("scope", "ads_read")],
    )
    .await;
    go(
        "Business",
        "POST",
        &format!("{biz}/system_user_access_tokens"),
        &[("system_user_id", &su), ("scope", "ads_read")],
    )
    .await;
    go("SystemUser", "DELETE", &format!("{su}/access_tokens"), &[]).await;
    for (node, asset, list, tasks) in [
        ("AdAccount", d.ad_accounts[0], "tasks", r#"["ANALYZE"]"#),
        ("Page", d.pages[0], "tasks", r#"["ANALYZE"]"#),
        ("ProductCatalog", d.catalog, "tasks", r#"["MANAGE"]"#),
        ("AdsPixel", d.pixel, "tasks", r#"["ANALYZE"]"#),
        (
            "InstagramBusinessAsset",
            d.instagram,
            "tasks",
            r#"["ANALYZE"]"#,
        ),
        (
            "WhatsAppBusinessAccount",
            d.whatsapp,
            "tasks",
            r#"["MANAGE"]"#,
        ),
        (
            "BusinessAssetGroup",
            d.business_asset_group,
            "page_tasks",
            r#"["ANALYZE"]"#,
        ),
    ] {
        go(
            node,
            "POST",
            &format!("{asset}/assigned_users"),
            &[("user", &su), (list, tasks)],
        )
        .await;
        if contract
            .iter()
            .any(|(n, k, _)| n == node && k == "DELETE assigned_users")
        {
            go(
                node,
                "DELETE",
                &format!("{asset}/assigned_users"),
                &[("user", &su)],
            )
            .await;
        }
    }
    go(
        "Business",
        "POST",
        &format!("{biz}/owned_ad_accounts"),
        &[("adaccount_id", d.ad_accounts[1])],
    )
    .await;
    go(
        "Business",
        "POST",
        &format!("{biz}/owned_pages"),
        &[("page_id", d.pages[1])],
    )
    .await;
    go(
        "Business",
        "POST",
        &format!("{biz}/owned_apps"),
        &[("app_id", d.app_id)],
    )
    .await;
    go(
        "User",
        "POST",
        "me/businesses",
        &[("name", "Second Shop"), ("vertical", "RETAIL")],
    )
    .await;
    // The state changed as the answers said.
    assert_eq!(
        emulator.assignments(d.ad_accounts[0]).get(&su),
        None,
        "unassigned again"
    );
    assert!(emulator.assignments(d.pixel).contains_key(&su));
    assert_eq!(
        emulator.valid_tokens_of(&su),
        0,
        "DELETE access_tokens revoked them"
    );

    // Business On Behalf Of, with its own world.
    let (emulator, o) = GraphEmulator::obo_demo().await;
    let raw = Raw::new(&emulator);
    let mut obo =
        async |node: &str, method: &str, path: &str, token: &str, params: &[(&str, &str)]| {
            let edge = path.split('/').nth(1).unwrap_or("");
            let key = format!("{method} {edge}");
            let (status, body) = raw.call(method, path, token, o.app_secret, params).await;
            covered.insert(check(node, &key, &ret(node, &key), status, &body));
        };
    let managed = format!("{}/managed_businesses", o.partner);
    obo(
        "Business",
        "POST",
        &managed,
        o.client_admin_token,
        &[("existing_client_business_id", o.client)],
    )
    .await;
    obo(
        "Business",
        "POST",
        &format!("{}/access_token", o.client),
        o.partner_admin_token,
        &[
            ("app_id", o.app_id),
            ("scope", "ads_management,pages_show_list"),
        ],
    )
    .await;
    obo(
        "Business",
        "DELETE",
        &managed,
        o.client_admin_token,
        &[("existing_client_business_id", o.client)],
    )
    .await;

    let all: BTreeSet<String> = contract
        .iter()
        .map(|(n, k, _)| format!("{n} {k}"))
        .collect();
    let missing: Vec<_> = all.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "write edges of the contract not called here: {missing:?}"
    );
    let _ = (DEMO, OBO_DEMO);
}

#[tokio::test]
async fn a_person_listed_by_business_users_is_assignable_by_that_id() {
    let (emulator, d) = GraphEmulator::demo().await;
    let raw = Raw::new(&emulator);
    let listed: Value = raw
        .http
        .get(format!("{}/{}/business_users", raw.base, d.business_id))
        .bearer_auth(d.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let person = listed["data"][0]["id"]
        .as_str()
        .expect("a listed person")
        .to_owned();
    let (status, body) = raw
        .call(
            "POST",
            &format!("{}/assigned_users", d.ad_accounts[0]),
            d.admin_token,
            d.app_secret,
            &[("user", person.as_str()), ("tasks", r#"["ANALYZE"]"#)],
        )
        .await;
    assert_eq!((status, &body), (200, &json!({"success": true})), "{body}");
    assert_eq!(
        emulator.assignments(d.ad_accounts[0]).get(person.as_str()),
        Some(&vec!["ANALYZE".to_owned()])
    );
    // And a stranger is still refused, as Meta refuses one.
    let (status, body) = raw
        .call(
            "POST",
            &format!("{}/assigned_users", d.ad_accounts[0]),
            d.admin_token,
            d.app_secret,
            &[("user", "59999999999"), ("tasks", r#"["ANALYZE"]"#)],
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (400, Some(100)),
        "{body}"
    );
}

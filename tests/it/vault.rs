//! `VaultStore` against a real OpenBao dev server (the same KV version 2 API as Vault): the
//! store contract's conformance suite, `cas` on every write as Vault received it, versions and
//! removals as the metadata endpoint shows them, listing, AppRole login and renewal, the keeper
//! over Vault, and errors without secrets (a hostile server included).

pub(crate) mod bao;
mod lock;
mod proxy;

use std::time::Duration;

use meta_business::{
    ExposeSecret, Permission,
    store::{
        Expect, Minted, Put, Removed, StoredToken, TokenKey, TokenMeta, TokenStore, VaultStore,
        Version,
    },
};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use bao::{bao, unique_prefix};

const B: &str = "1000000000001";
const U: &str = "610000000000002";
const A: &str = "2000000000001";

/// A request to the server as its root.
async fn root(method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let server = bao();
    let http = reqwest::Client::new();
    let mut request = http
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}/v1/{path}", server.addr),
        )
        .header("X-Vault-Token", &server.root);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn store(prefix: &str) -> VaultStore {
    VaultStore::builder(&bao().addr)
        .prefix(prefix)
        .token(bao().root.clone())
        .build()
        .unwrap()
}

fn token(key: &TokenKey, secret: &str) -> StoredToken {
    StoredToken::new(
        key.clone(),
        secret.to_owned(),
        TokenMeta::new(
            [Permission::AdsRead, Permission::BusinessManagement],
            Some(1_900_000_000),
            Minted::Generated,
        )
        .named("reporting"),
    )
}

fn key() -> TokenKey {
    TokenKey::new(B, U, A)
}

fn written(put: Put) -> Version {
    match put {
        Put::Written(v) => v,
        other => panic!("expected a write, got {other:?}"),
    }
}

async fn metadata(prefix: &str, key: &TokenKey) -> Value {
    let (status, body) = root(
        "GET",
        &format!(
            "secret/metadata/{prefix}/{}/{}/{}",
            key.business, key.system_user, key.app
        ),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn vault_store_keeps_the_store_contract() {
    let prefix = unique_prefix("conformance");
    meta_business::testing::store_conformance(|| store(&prefix)).await;
    // Handles with separate HTTP clients and AppRole logins share the one truth too.
    let (mount, _, role_id, secret_id) = approle(&prefix, "60s", 0).await;
    meta_business::testing::store_conformance(|| {
        VaultStore::builder(&bao().addr)
            .prefix(&prefix)
            .approle_mount(&mount)
            .approle(role_id.clone(), secret_id.clone())
            .build()
            .unwrap()
    })
    .await;
}

#[tokio::test]
async fn every_write_names_the_version_it_replaces() {
    let recorder = proxy::recorder(&bao().addr).await;
    let prefix = unique_prefix("wire");
    let store = VaultStore::builder(&recorder.addr)
        .prefix(&prefix)
        .token(bao().root.clone())
        .build()
        .unwrap();
    let key = key();
    let secrets = [
        "EAAB-vault-wire-one-0001",
        "EAAB-vault-wire-two-0002",
        "EAAB-vault-wire-three-03",
        "EAAB-vault-wire-four-004",
    ];

    assert_eq!(
        written(
            store
                .put(token(&key, secrets[0]), Expect::Absent)
                .await
                .unwrap()
        )
        .get(),
        1
    );
    assert_eq!(
        written(
            store
                .put(token(&key, secrets[1]), Expect::Version(Version::new(1)))
                .await
                .unwrap()
        )
        .get(),
        2
    );
    let rotating = token(&key, secrets[2]).with_previous(secrets[1]);
    assert_eq!(
        written(store.put(rotating, Expect::Any).await.unwrap()).get(),
        3
    );
    assert_eq!(
        store
            .remove(&key, Expect::Version(Version::new(3)))
            .await
            .unwrap(),
        Removed::Removed
    );
    assert!(store.get(&key).await.unwrap().is_none());
    // The tombstone took version 4: the next token is 5, never a version seen before.
    assert_eq!(
        written(
            store
                .put(token(&key, secrets[3]), Expect::Absent)
                .await
                .unwrap()
        )
        .get(),
        5
    );

    // As Vault received them: every data write names the version it replaces.
    let sent = recorder.sent();
    let data_path = format!("/v1/secret/data/{prefix}/{B}/{U}/{A}");
    let cas: Vec<u64> = sent
        .iter()
        .filter(|s| s.method == "POST" && s.target == data_path)
        .map(|s| {
            let body: Value = serde_json::from_str(&s.body).unwrap();
            body["options"]["cas"]
                .as_u64()
                .expect("every write has a cas")
        })
        .collect();
    assert_eq!(cas, [0, 1, 2, 3, 4]);
    // What each operation costs: a put reads, writes and mirrors (3 requests); a remove reads,
    // writes its tombstone, soft-deletes and mirrors (4); a get reads (1).
    let count = |method: &str, kind: &str| {
        let target = format!("/v1/secret/{kind}/{prefix}/{B}/{U}/{A}");
        sent.iter()
            .filter(|s| s.method == method && s.target == target)
            .count()
    };
    assert_eq!(count("GET", "data"), 6);
    assert_eq!(count("POST", "metadata"), 5);
    assert_eq!(count("POST", "delete"), 1);
    assert_eq!(sent.len(), 6 + 5 + 5 + 1);
    for s in &sent {
        assert_eq!(
            s.header("x-vault-token"),
            Some(bao().root.as_str()),
            "{s:?}"
        );
        for secret in secrets {
            assert!(!s.target.contains(secret), "{s:?}");
        }
        if s.target.contains("/metadata/") || s.target.contains("/delete/") {
            for secret in secrets {
                assert!(!s.body.contains(secret), "no secret in metadata: {s:?}");
            }
        }
    }

    // The state Vault holds.
    let meta = metadata(&prefix, &key).await;
    assert_eq!(meta["current_version"], 5);
    assert_eq!(meta["cas_required"], true);
    let deleted = |v: &str| meta["versions"][v]["deletion_time"].as_str().unwrap() != "";
    assert!(
        deleted("3") && deleted("4"),
        "the removed token and its tombstone: {meta}"
    );
    assert!(!deleted("5"));
    let custom = &meta["custom_metadata"];
    assert_eq!(custom["state"], "stored");
    assert_eq!(custom["meta_business_version"], "5");
    assert_eq!(custom["scopes"], "ads_read,business_management");
    assert_eq!(custom["expires_at"], "1900000000");
    assert_eq!(custom["minted"], "generated");
    assert_eq!(custom["system_user_name"], "reporting");
    assert_eq!(custom["rotation_pending"], "false");
    let (_, data) = root(
        "GET",
        &format!("secret/data/{prefix}/{B}/{U}/{A}?version=3"),
        None,
    )
    .await;
    assert!(
        data["data"]["data"].is_null(),
        "the removed token's version is soft-deleted"
    );
    let (_, data) = root("GET", &format!("secret/data/{prefix}/{B}/{U}/{A}"), None).await;
    assert_eq!(data["data"]["data"]["token"], secrets[3]);
    assert_eq!(
        data["data"]["data"]["meta"]["scopes"],
        json!(["ads_read", "business_management"])
    );

    let got = store.get(&key).await.unwrap().unwrap();
    assert_eq!(got.version.get(), 5);
    assert_eq!(got.token.secret().expose_secret(), secrets[3]);
    assert_eq!(
        got.token.meta.system_user_name.as_deref(),
        Some("reporting")
    );

    // Other tools must name a version too.
    let (status, body) = root(
        "POST",
        &format!("secret/data/{prefix}/{B}/{U}/{A}"),
        Some(json!({"data": {"token": "x"}})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn a_stale_writer_loses_and_the_winner_stays() {
    let prefix = unique_prefix("stale");
    let store = store(&prefix);
    let key = key();
    let v1 = written(
        store
            .put(token(&key, "EAAB-stale-first-00001"), Expect::Absent)
            .await
            .unwrap(),
    );
    // Another replica writes version 2 (here: straight to Vault).
    let (status, _) = root(
        "POST",
        &format!("secret/data/{prefix}/{B}/{U}/{A}"),
        Some(json!({"options": {"cas": 1}, "data": {
            "meta_business": 1, "token": "EAAB-other-replica-0002",
            "meta": {"scopes": [], "expires_at": null, "minted_at": 1, "minted": "refreshed"}
        }})),
    )
    .await;
    assert_eq!(status, 200);
    let two = Some(Version::new(2));
    for put in [
        store
            .put(token(&key, "EAAB-stale-second-0003"), Expect::Version(v1))
            .await
            .unwrap(),
        store
            .put(token(&key, "EAAB-stale-second-0003"), Expect::Absent)
            .await
            .unwrap(),
    ] {
        assert!(
            matches!(put, Put::Conflict(c) if c.current == two),
            "{put:?}"
        );
    }
    let removed = store.remove(&key, Expect::Version(v1)).await.unwrap();
    assert!(
        matches!(removed, Removed::Conflict(c) if c.current == two),
        "{removed:?}"
    );
    let got = store.get(&key).await.unwrap().unwrap();
    assert_eq!(got.version, Version::new(2));
    assert_eq!(
        got.token.secret().expose_secret(),
        "EAAB-other-replica-0002"
    );
    assert_eq!(metadata(&prefix, &key).await["current_version"], 2);

    // After a remove, no version (not even the tombstone's) lets a write through.
    assert_eq!(
        store.remove(&key, Expect::Any).await.unwrap(),
        Removed::Removed
    );
    for v in [2, 3] {
        let put = store
            .put(
                token(&key, "EAAB-stale-third-00004"),
                Expect::Version(Version::new(v)),
            )
            .await
            .unwrap();
        assert!(
            matches!(put, Put::Conflict(c) if c.current.is_none()),
            "{put:?}"
        );
    }
    assert_eq!(
        store.remove(&key, Expect::Any).await.unwrap(),
        Removed::Absent
    );
    assert_eq!(metadata(&prefix, &key).await["current_version"], 3);
}

#[tokio::test]
async fn listing_walks_the_folders_and_leaves_out_removed_keys() {
    let prefix = unique_prefix("list");
    let store = store(&prefix);
    let k1 = TokenKey::new(B, U, A);
    let k2 = TokenKey::new(B, "610000000000003", A);
    let k3 = TokenKey::new("1000000000009", U, "2000000000002");
    let gone = TokenKey::new("1000000000009", U, "2000000000003");
    for k in [&k3, &k1, &gone, &k2] {
        let _ = written(
            store
                .put(token(k, "EAAB-listing-token-0001"), Expect::Absent)
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        store.remove(&gone, Expect::Any).await.unwrap(),
        Removed::Removed
    );
    // Someone else's entries under the prefix: not ids, or at the wrong depth.
    for path in [
        "notanid/1/2",
        "1000000000001/2",
        "1000000000001/x/3",
        "1000000000001/610000000000002/2000000000001/deeper",
    ] {
        let (status, _) = root(
            "POST",
            &format!("secret/data/{prefix}/{path}"),
            Some(json!({"data": {"a": "b"}})),
        )
        .await;
        assert_eq!(status, 200);
    }
    // An entry at a key's path that this crate did not write: listed, its get fails.
    let odd = TokenKey::new(B, U, "2000000000007");
    let (status, _) = root(
        "POST",
        &format!("secret/data/{prefix}/{B}/{U}/2000000000007"),
        Some(json!({"data": {"token": 5}})),
    )
    .await;
    assert_eq!(status, 200);

    let mut want = vec![k1, k2, k3, odd.clone()];
    want.sort();
    assert_eq!(store.keys().await.unwrap(), want);
    let error = store.get(&odd).await.unwrap_err().to_string();
    assert!(
        error.contains("2000000000007") && error.contains("not one this crate wrote"),
        "{error}"
    );

    // An empty prefix folder lists nothing.
    assert!(
        self::store(&unique_prefix("empty"))
            .keys()
            .await
            .unwrap()
            .is_empty()
    );
}

/// An AppRole on its own auth mount, with the policy `VaultStore`'s docs give, for `prefix`.
/// `uses`: logins its secret id allows (0: any number).
async fn approle(prefix: &str, ttl: &str, uses: u64) -> (String, String, String, String) {
    let mount = format!("approle-{}", fastrand::u32(..));
    let (status, body) = root(
        "POST",
        &format!("sys/auth/{mount}"),
        Some(json!({"type": "approle"})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let policy = format!(
        r#"path "secret/data/{prefix}/*" {{ capabilities = ["create", "read", "update"] }}
path "secret/delete/{prefix}/*" {{ capabilities = ["update"] }}
path "secret/metadata/{prefix}/*" {{ capabilities = ["update", "list"] }}"#
    );
    let name = format!("p-{mount}");
    let (status, _) = root(
        "PUT",
        &format!("sys/policies/acl/{name}"),
        Some(json!({"policy": policy})),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = root(
        "POST",
        &format!("auth/{mount}/role/store"),
        Some(json!({"token_policies": name, "token_ttl": ttl, "token_max_ttl": "60s", "secret_id_num_uses": uses})),
    )
    .await;
    assert_eq!(status, 204);
    let (_, body) = root("GET", &format!("auth/{mount}/role/store/role-id"), None).await;
    let role_id = body["data"]["role_id"].as_str().unwrap().to_owned();
    let (_, body) = root("POST", &format!("auth/{mount}/role/store/secret-id"), None).await;
    let secret_id = body["data"]["secret_id"].as_str().unwrap().to_owned();
    (mount, name, role_id, secret_id)
}

/// How many logins the secret id has been used for (it allows 20).
async fn logins(mount: &str, secret_id: &str) -> u64 {
    let (status, body) = root(
        "POST",
        &format!("auth/{mount}/role/store/secret-id/lookup"),
        Some(json!({"secret_id": secret_id})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    20 - body["data"]["secret_id_num_uses"].as_u64().unwrap()
}

#[tokio::test]
async fn approle_logs_in_renews_its_token_and_logs_in_again_after_expiry() {
    let prefix = unique_prefix("approle");
    let (mount, _, role_id, secret_id) = approle(&prefix, "2s", 20).await;
    let store = VaultStore::builder(&bao().addr)
        .prefix(&prefix)
        .approle_mount(&mount)
        .approle(role_id, secret_id.clone())
        .build()
        .unwrap();
    let key = key();
    assert_eq!(
        logins(&mount, &secret_id).await,
        0,
        "building sends nothing"
    );
    let v = written(
        store
            .put(token(&key, "EAAB-approle-token-0001"), Expect::Absent)
            .await
            .unwrap(),
    );
    assert_eq!(logins(&mount, &secret_id).await, 1);

    // Past half its lease, each use renews the token: at 2.4 s (past its first 2 s TTL) it is
    // still the first login's.
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(store.get(&key).await.unwrap().unwrap().version, v);
    }
    assert_eq!(
        logins(&mount, &secret_id).await,
        1,
        "renewed, not logged in again"
    );

    // Left unused past its lease, the token expires: the store logs in again.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(store.keys().await.unwrap(), std::slice::from_ref(&key));
    assert_eq!(logins(&mount, &secret_id).await, 2);

    // A token revoked by an operator: Vault refuses it, the store logs in again and goes on.
    let (status, body) = root(
        "POST",
        &format!("auth/{mount}/role/store/secret-id/lookup"),
        Some(json!({"secret_id": secret_id})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, accessors) = root("LIST", "auth/token/accessors", None).await;
    for accessor in accessors["data"]["keys"].as_array().unwrap() {
        let (_, info) = root(
            "POST",
            "auth/token/lookup-accessor",
            Some(json!({"accessor": accessor})),
        )
        .await;
        if info["data"]["meta"]["role_name"] == "store"
            && info["data"]["path"]
                .as_str()
                .is_some_and(|p| p.contains(&mount))
        {
            let (status, _) = root(
                "POST",
                "auth/token/revoke-accessor",
                Some(json!({"accessor": accessor})),
            )
            .await;
            assert_eq!(status, 204);
        }
    }
    assert_eq!(
        store.remove(&key, Expect::Version(v)).await.unwrap(),
        Removed::Removed
    );
    assert_eq!(logins(&mount, &secret_id).await, 3);
    assert!(store.get(&key).await.unwrap().is_none());
}

#[tokio::test]
async fn the_approle_policy_holds_the_store_to_its_prefix() {
    let prefix = unique_prefix("policy");
    let (mount, _, role_id, secret_id) = approle(&prefix, "60s", 0).await;
    let elsewhere = VaultStore::builder(&bao().addr)
        .prefix(unique_prefix("elsewhere"))
        .approle_mount(&mount)
        .approle(role_id, secret_id.clone())
        .build()
        .unwrap();
    let error = elsewhere
        .put(token(&key(), "EAAB-policy-token-00001"), Expect::Any)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("HTTP 403") && error.contains("permission denied"),
        "{error}"
    );
    assert!(
        !error.contains(&secret_id) && !error.contains("EAAB-policy"),
        "{error}"
    );
}

#[tokio::test]
async fn errors_and_debug_hold_no_secret() {
    let vault_token = "hvs-WRONG-vault-token-0123456789";
    let stored = "EAAB-errors-stored-token-0001";
    let prefix = unique_prefix("errors");
    let store = VaultStore::builder(&bao().addr)
        .prefix(&prefix)
        .token(vault_token)
        .build()
        .unwrap();
    let debug = format!("{store:?}");
    assert!(
        debug.contains(&prefix) && debug.contains("secret") && !debug.contains(vault_token),
        "{debug}"
    );
    let error = store
        .put(token(&key(), stored), Expect::Any)
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("HTTP 403"), "{shown}");
    assert!(
        !shown.contains(vault_token) && !shown.contains(stored),
        "{shown}"
    );

    let role_id = "role-id-0123456789-abcdef";
    let secret_id = "secret-id-0123456789-abcdef";
    let bad_login = VaultStore::builder(&bao().addr)
        .prefix(&prefix)
        .approle(role_id, secret_id)
        .build()
        .unwrap();
    let error = bad_login.get(&key()).await.unwrap_err();
    let shown = format!("{error} {error:?} {bad_login:?}");
    assert!(shown.contains("AppRole login"), "{shown}");
    assert!(
        !shown.contains(role_id) && !shown.contains(secret_id),
        "{shown}"
    );
}

#[tokio::test]
async fn a_hostile_server_echoing_secrets_gets_them_scrubbed() {
    let server = MockServer::start().await;
    let vault_token = "hvs-echoed-vault-token-0123456789";
    let stored = "EAAB/echoed+stored=token-0001";
    let previous = "EAAB-echoed-previous-token-02";
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_string(r#"{"errors":[]}"#))
        .mount(&server)
        .await;
    let echo = format!(
        r#"{{"errors":["token {vault_token} wrote {} and {previous}"]}}"#,
        serde_json::to_string(stored)
            .unwrap()
            .trim_matches('"')
            .replace('/', "\\/")
    );
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string(echo))
        .mount(&server)
        .await;
    let store = VaultStore::builder(server.uri())
        .token(vault_token)
        .build()
        .unwrap();
    let error = store
        .put(
            token(&key(), stored).with_previous(previous),
            Expect::Absent,
        )
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(
        shown.contains("HTTP 500") && shown.contains("[redacted]"),
        "{shown}"
    );
    for secret in [vault_token, stored, previous, "echoed+stored"] {
        assert!(!shown.contains(secret), "{shown}");
    }

    // The store's create lock writes through the same path: its error, with its source
    // chain, quotes the server scrubbed too.
    let lock = meta_business::lock::CreateLock::acquire(
        &store.create_lock(),
        &meta_business::BusinessId::from(B),
    )
    .await
    .unwrap_err();
    let mut shown = format!("{lock} {lock:?}");
    let mut source = std::error::Error::source(&lock);
    while let Some(cause) = source {
        shown.push_str(&format!(" {cause}"));
        source = cause.source();
    }
    assert!(matches!(lock, meta_business::Error::Lock { .. }), "{shown}");
    assert!(
        shown.contains("HTTP 500") && shown.contains("[redacted]"),
        "{shown}"
    );
    assert!(!shown.contains(vault_token), "{shown}");
}

#[tokio::test]
async fn answers_are_bounded_redirects_refused_and_bad_input_sends_nothing() {
    let server = MockServer::start().await;
    let store = |max: usize| {
        VaultStore::builder(server.uri())
            .token("hvs-bounded-token-0123456789")
            .max_response_bytes(max)
            .build()
            .unwrap()
    };
    // A bad key: refused before any request.
    let bad = TokenKey::new("../../sys", U, A);
    assert!(
        store(1024)
            .get(&bad)
            .await
            .unwrap_err()
            .to_string()
            .contains("not a token key")
    );
    assert!(
        store(1024)
            .put(token(&bad, "EAAB-x-token-00001"), Expect::Any)
            .await
            .is_err()
    );
    assert!(store(1024).remove(&bad, Expect::Any).await.is_err());
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(10_000)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let error = store(1024).get(&key()).await.unwrap_err().to_string();
    assert!(error.contains("passed 1024 bytes"), "{error}");

    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("Location", "http://198.51.100.1/v1/secret/data/x"),
        )
        .mount(&server)
        .await;
    let error = store(1024).get(&key()).await.unwrap_err().to_string();
    assert!(
        error.contains("redirect") && error.contains("active node"),
        "{error}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "the redirect is not followed"
    );

    for (builder, field) in [
        (
            VaultStore::builder("ftp://vault").token("t"),
            "vault address",
        ),
        (
            VaultStore::builder("http://vault:8200")
                .token("t")
                .mount("../sys"),
            "mount",
        ),
        (
            VaultStore::builder("http://vault:8200")
                .token("t")
                .prefix("a//b"),
            "prefix",
        ),
        (VaultStore::builder("http://vault:8200"), "auth"),
        (
            VaultStore::builder("http://vault:8200")
                .token("t")
                .timeout(Duration::ZERO),
            "timeout",
        ),
    ] {
        let error = builder.build().unwrap_err().to_string();
        assert!(error.contains(field), "{field}: {error}");
    }
}

mod keeper_over_vault {
    //! The token keeper with its tokens in OpenBao, on the Graph emulator.

    use std::time::Duration;

    use meta_business::testing::GraphEmulator;
    use meta_business::{
        ExposeSecret,
        keeper::{TokenKeeper, TokenState},
        store::{Minted, TokenStore},
    };

    use super::{bao, metadata, unique_prefix};

    const DAY: u64 = 86_400;

    #[tokio::test]
    async fn the_keeper_rotates_a_token_kept_in_openbao() {
        let prefix = unique_prefix("keeper");
        let store = super::store(&prefix);
        let (emulator, demo) = GraphEmulator::demo().await;
        let client = emulator.client(demo.admin_token).unwrap();
        let (key, old) = crate::common::stored_60_day_token(&client, &store, "keeper-vault").await;

        emulator.advance_clock(Duration::from_secs(50 * DAY));
        let report = TokenKeeper::new(client.clone(), store.clone())
            .clock(emulator.clock_source())
            .run_once()
            .await;
        let t = &report.tokens[0];
        assert_eq!(t.state, TokenState::ExpiresSoon);
        assert!(t.refreshed && t.failed.is_none(), "{report}");

        let stored = store.get(&key).await.unwrap().unwrap();
        let new = stored.token.secret().expose_secret().to_owned();
        assert_ne!(new, old);
        assert!(
            emulator.token_is_valid(&new),
            "the stored token is the valid one"
        );
        assert!(!emulator.token_is_valid(&old), "the old token is revoked");
        assert!(
            stored.token.previous().is_none(),
            "the rotation is finished"
        );
        assert_eq!(stored.token.meta.minted, Minted::Refreshed);
        let meta = metadata(&prefix, &key).await;
        assert_eq!(meta["current_version"].as_u64(), Some(stored.version.get()));
        assert_eq!(meta["custom_metadata"]["minted"], "refreshed");
        assert_eq!(meta["custom_metadata"]["rotation_pending"], "false");
        let text = format!("{report} {}", serde_json::to_string(&report).unwrap());
        assert!(!text.contains(&new) && !text.contains(&old));
        let _ = bao();
    }
}

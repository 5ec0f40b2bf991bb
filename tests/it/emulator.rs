//! The Graph emulator: each rule it enforces, each fault it injects, its journal, and the four
//! resources end to end through the client.

use std::time::Duration;

use meta_business::testing::{BusinessSeed, DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{
    AccessTier, AdAccountTask, CatalogTask, Client, Error, ErrorHint, ExposeSecret, PageTask,
    Permission, PixelTask, ProofMode, SystemUserRole, retry::RetryPolicy, tokens::TokenType,
};
use serde_json::Value;

async fn demo() -> (GraphEmulator, Client) {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    (emulator, client)
}

fn raw() -> reqwest::Client {
    reqwest::Client::new()
}

async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn requires_a_versioned_path_and_names_unknown_routes() {
    let (emulator, _) = demo().await;
    let (status, body) = json_of(
        raw()
            .get(format!("{}/me", emulator.uri()))
            .bearer_auth(DEMO.admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_i64()), (400, Some(2500)));
    assert!(body["error"]["message"].as_str().unwrap().contains("/me"));
    let (_, body) = json_of(
        raw()
            .get(format!(
                "{}/v26.0/{}/nope",
                emulator.uri(),
                DEMO.business_id
            ))
            .bearer_auth(DEMO.admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("/nope"),
        "{body}"
    );
    let (_, body) = json_of(
        raw()
            .get(format!("{}/v26.0/999999", emulator.uri()))
            .bearer_auth(DEMO.admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["error"]["code"], 100);
}

#[tokio::test]
async fn tokens_from_bearer_or_access_token_and_unknown_tokens_fail_with_190() {
    let (emulator, client) = demo().await;
    let (status, body) = json_of(
        raw()
            .get(format!(
                "{}/v26.0/me?access_token={}",
                emulator.uri(),
                DEMO.admin_token
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let err = client
        .with_token("EAAE-unknown")
        .business(DEMO.business_id)
        .get()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(190));
    assert!(err.is_auth());
    let journal = emulator.requests();
    assert!(journal[0].access_token_in_url && !journal[0].bearer);
    assert!(journal[1].bearer && !journal[1].access_token_in_url && journal[1].proof);
}

#[tokio::test]
async fn proof_is_verified_in_both_forms_when_required() {
    let emulator = GraphEmulator::builder()
        .require_app_secret(true)
        .business(
            BusinessSeed::new("11", "Biz")
                .app("21", "App", "s3cr3t-app-secret")
                .admin("EAAE-admin-token-1"),
        )
        .start()
        .await;
    let without = emulator
        .client_builder("EAAE-admin-token-1")
        .build()
        .unwrap();
    let err = without.business("11").get().send().await.unwrap_err();
    assert!(err.to_string().contains("appsecret_proof"), "{err}");
    let wrong = emulator
        .client_builder("EAAE-admin-token-1")
        .app_secret("wrong-secret")
        .build()
        .unwrap();
    assert_eq!(
        wrong.business("11").get().send().await.unwrap_err().code(),
        Some(100)
    );
    let classic = emulator
        .client_builder("EAAE-admin-token-1")
        .app_secret("s3cr3t-app-secret")
        .build()
        .unwrap();
    classic.business("11").get().send().await.unwrap();
    let timed = emulator
        .client_builder("EAAE-admin-token-1")
        .app_secret("s3cr3t-app-secret")
        .proof_mode(ProofMode::TimeStamped)
        .build()
        .unwrap();
    timed.business("11").get().send().await.unwrap();
    assert!(emulator.requests().last().unwrap().proof_timed);
    let stale = raw()
        .get(format!(
            "{}/v26.0/11?appsecret_time=1000&appsecret_proof=00",
            emulator.uri()
        ))
        .bearer_auth("EAAE-admin-token-1")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(stale).await.1["error"]["code"], 100);
}

#[tokio::test]
async fn the_quota_is_enforced_server_side_too() {
    let (emulator, _) = demo().await;
    let unchecked = emulator
        .client_builder(DEMO.admin_token)
        .app_secret(DEMO.app_secret)
        .disable_quota_check()
        .build()
        .unwrap();
    let users = unchecked.business(DEMO.business_id).system_users();
    users.create("reporting-server").send().await.unwrap();
    let err = users.create("second-server").send().await.unwrap_err();
    let api = err.api_error().expect("a Graph error");
    assert_eq!(api.graph.code, Some(100));
    assert_eq!(
        api.graph.error_user_title.as_deref(),
        Some("System user limit reached")
    );
    users
        .create("admin-bot")
        .role(SystemUserRole::Admin)
        .send()
        .await
        .unwrap();
    assert!(
        users
            .create("admin-2")
            .role(SystemUserRole::Admin)
            .send()
            .await
            .is_err()
    );
    emulator.set_access_tier(DEMO.business_id, AccessTier::Full);
    users.create("second-server").send().await.unwrap();
    assert_eq!(emulator.system_users(DEMO.business_id).len(), 3);
}

#[tokio::test]
async fn tasks_are_validated_per_kind_and_required_where_the_api_requires_them() {
    let (emulator, client) = demo().await;
    let su = client
        .business(DEMO.business_id)
        .system_users()
        .create("catalog-sync")
        .send()
        .await
        .unwrap();
    let err = client
        .catalog(DEMO.catalog)
        .assign(&su.id, [CatalogTask::Other("EDIT".into())])
        .send()
        .await
        .unwrap_err();
    // Meta's words for a value outside the spec's enum.
    assert_eq!(err.code(), Some(100));
    assert!(
        err.to_string()
            .contains("Param tasks must be one of {AA_ANALYZE, ADVERTISE, MANAGE, MANAGE_AR}"),
        "{err}"
    );
    let missing = raw()
        .post(format!(
            "{}/v26.0/{}/assigned_users",
            emulator.uri(),
            DEMO.pixel
        ))
        .bearer_auth(DEMO.admin_token)
        .form(&[("user", su.id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(missing).await.1["error"]["code"], 100);
    // The docs' single-quoted list form is accepted too.
    let quoted = raw()
        .post(format!(
            "{}/v26.0/{}/assigned_users",
            emulator.uri(),
            DEMO.pages[1]
        ))
        .bearer_auth(DEMO.admin_token)
        .form(&[
            ("user", su.id.as_str()),
            ("tasks", "['ADVERTISE', 'ANALYZE']"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(quoted.status(), 200);
    assert_eq!(
        emulator.assignments(DEMO.pages[1])[su.id.as_str()],
        ["ADVERTISE", "ANALYZE"]
    );
    let err = client
        .pixel(DEMO.pixel)
        .assign("123", [PixelTask::Analyze])
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("system user"), "{err}");
}

#[tokio::test]
async fn listing_assigned_users_requires_business() {
    let (emulator, client) = demo().await;
    let resp = raw()
        .get(format!(
            "{}/v26.0/{}/assigned_users",
            emulator.uri(),
            DEMO.ad_accounts[0]
        ))
        .bearer_auth(DEMO.admin_token)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!((status, body["error"]["code"].as_i64()), (400, Some(100)));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("business")
    );
    assert!(
        client
            .ad_account(DEMO.ad_accounts[0])
            .assigned_users(DEMO.business_id)
            .send()
            .await
            .unwrap()
            .data
            .is_empty()
    );
}

#[tokio::test]
async fn apps_install_only_for_system_users_of_the_owning_business() {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new("11", "A")
                .app("21", "App A", "secret-a-123456")
                .admin("EAAE-admin-a"),
        )
        .business(
            BusinessSeed::new("12", "B")
                .app("22", "App B", "secret-b-123456")
                .admin("EAAE-admin-b"),
        )
        .start()
        .await;
    let a = emulator.client("EAAE-admin-a").unwrap();
    let su = a
        .business("11")
        .system_users()
        .create("sync")
        .send()
        .await
        .unwrap();
    let err = a
        .system_user(&su.id)
        .install_app("22")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("owned by the system user's business"),
        "{err}"
    );
    a.system_user(&su.id)
        .install_app("21")
        .send()
        .await
        .unwrap();
    // And an admin of B cannot touch A.
    let b = emulator.client("EAAE-admin-b").unwrap();
    assert!(
        b.business("11")
            .system_users()
            .list()
            .send()
            .await
            .unwrap_err()
            .is_permission()
    );
}

#[tokio::test]
async fn token_lifecycle_on_the_emulator() {
    let (emulator, client) = demo().await;
    let su = client
        .business(DEMO.business_id)
        .system_users()
        .create("ads-reporting")
        .send()
        .await
        .unwrap();
    let user = client.system_user(&su.id);
    let err = user
        .generate_token(DEMO.app_id)
        .business(DEMO.business_id)
        .scopes([Permission::AdsRead])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.hint(), Some(ErrorHint::AppNotInstalled));
    user.install_app(DEMO.app_id).send().await.unwrap();

    // Without a proof the emulator refuses, as Meta does.
    let no_proof = raw()
        .post(format!("{}/v26.0/{}/access_tokens", emulator.uri(), su.id))
        .bearer_auth(DEMO.admin_token)
        .form(&[("business_app", DEMO.app_id), ("scope", "ads_read")])
        .send()
        .await
        .unwrap();
    assert!(
        json_of(no_proof).await.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("appsecret_proof")
    );

    let forever = user
        .generate_token(DEMO.app_id)
        .business(DEMO.business_id)
        .scopes([Permission::AdsRead])
        .send()
        .await
        .unwrap();
    // Without the business the legacy edge is the only way, and it is closed to a fresh app.
    let legacy = || {
        user.generate_token(DEMO.app_id)
            .scopes([Permission::AdsRead, Permission::ReadInsights])
            .expires_in_60_days(true)
    };
    assert_eq!(legacy().edge(), meta_business::tokens::TokenEdge::Legacy);
    let closed = legacy().send().await.unwrap_err();
    assert_eq!(closed.hint(), Some(ErrorHint::LegacyTokenEdgeClosed));
    assert!(
        closed.to_string().contains("system_user_access_tokens"),
        "{closed}"
    );
    // An app that still has the legacy edge can use it.
    emulator.set_legacy_token_edge(true);
    let sixty = legacy().send().await.unwrap();
    emulator.set_legacy_token_edge(false);
    let app = client.as_app(DEMO.app_id).unwrap();
    let info = app
        .debug_token(forever.secret().expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(info.token_type, Some(TokenType::SystemUser));
    assert!(info.never_expires() && info.is_valid == Some(true));
    assert_eq!(info.user_id.as_deref(), Some(su.id.as_str()));
    let info = app
        .debug_token(sixty.secret().expose_secret())
        .send()
        .await
        .unwrap();
    assert!(
        info.expires_within(Duration::from_secs(61 * 86_400))
            && !info.expires_within(Duration::from_secs(59 * 86_400))
    );
    assert_eq!(info.scopes, [Permission::AdsRead, Permission::ReadInsights]);

    // Generated tokens work as Bearer tokens.
    let as_su = emulator.client(forever.secret().expose_secret()).unwrap();
    let me: Value = as_su.get("me", &[]).await.unwrap();
    assert_eq!(me["id"], su.id.as_str());
    let mine = as_su
        .system_user(&su.id)
        .assigned_ad_accounts()
        .send()
        .await
        .unwrap();
    assert!(mine.data.is_empty());

    // Refresh, then revoke the old one: it fails with 190 afterwards.
    let fresh = client
        .refresh_token(DEMO.app_id, sixty.secret().expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.expires_in(), Some(Duration::from_secs(60 * 86_400)));
    assert!(emulator.token_is_valid(fresh.secret().expose_secret()));
    client
        .revoke_token(DEMO.app_id, sixty.secret().expose_secret())
        .send()
        .await
        .unwrap();
    assert!(!emulator.token_is_valid(sixty.secret().expose_secret()));
    let revoked = emulator.client(sixty.secret().expose_secret()).unwrap();
    assert_eq!(
        revoked.get::<Value>("me", &[]).await.unwrap_err().code(),
        Some(190)
    );

    // Invalidate them all.
    user.invalidate_tokens().send().await.unwrap();
    assert_eq!(
        as_su.get::<Value>("me", &[]).await.unwrap_err().code(),
        Some(190)
    );
    assert!(!emulator.token_is_valid(fresh.secret().expose_secret()));
    let info = app
        .debug_token(forever.secret().expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(info.is_valid, Some(false));
}

#[tokio::test]
async fn lists_page_with_limit_after_and_next() {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new("11", "Biz")
                .tier(AccessTier::Full)
                .app("21", "App", "secret-123456789")
                .admin("EAAE-admin")
                .system_user("611", "a", "EMPLOYEE")
                .system_user("612", "b", "EMPLOYEE")
                .system_user("613", "c", "EMPLOYEE")
                .system_user("614", "d", "ADMIN")
                .system_user("615", "e", "EMPLOYEE"),
        )
        .start()
        .await;
    let client = emulator.client("EAAE-admin").unwrap();
    let first = client
        .business("11")
        .system_users()
        .list()
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.data.len(), 2);
    assert!(first.has_next());
    let all = client
        .business("11")
        .system_users()
        .list()
        .limit(2)
        .collect(100)
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|u| u.name.clone().unwrap())
            .collect::<Vec<_>>(),
        ["a", "b", "c", "d", "e"]
    );
    assert_eq!(all[3].role, Some(SystemUserRole::Admin));
    let usage = client
        .business("11")
        .system_user_quota()
        .send()
        .await
        .unwrap();
    assert_eq!((usage.admins, usage.regular), (1, 4));
    let resp = raw()
        .get(format!("{}/v26.0/11/system_users?limit=2", emulator.uri()))
        .bearer_auth("EAAE-admin")
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers().contains_key("x-app-usage")
            && resp.headers().contains_key("x-business-use-case-usage")
    );
    let body: Value = resp.json().await.unwrap();
    let next = body["paging"]["next"].as_str().unwrap();
    assert!(next.contains("after=") && next.contains("limit=2") && !next.contains("EAAE"));
}

#[tokio::test]
async fn batch_endpoint_answers_each_item_with_a_string_body() {
    let (emulator, _) = demo().await;
    let batch = format!(
        r#"[{{"method":"GET","relative_url":"{biz}/system_users?fields=id,name"}},{{"method":"GET","relative_url":"{biz}/nope"}}]"#,
        biz = DEMO.business_id
    );
    let resp = raw()
        .post(format!("{}/v26.0/", emulator.uri()))
        .bearer_auth(DEMO.admin_token)
        .form(&[("batch", batch)])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body[0]["code"], 200);
    let inner: Value = serde_json::from_str(body[0]["body"].as_str().unwrap()).unwrap();
    assert!(inner["data"].is_array());
    assert_eq!(body[1]["code"], 400);
}

#[tokio::test]
async fn injected_faults() {
    let (emulator, _) = demo().await;
    // Retries off: each fault surfaces as the typed error it is.
    let client = emulator
        .client_builder(DEMO.admin_token)
        .app_secret(DEMO.app_secret)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let biz = client.business(DEMO.business_id);

    emulator.inject(FaultRule::new(Fault::throttle(80004)).after(2).times(1));
    biz.get().send().await.unwrap();
    biz.get().send().await.unwrap();
    let err = biz.get().send().await.unwrap_err();
    assert!(err.is_rate_limited() && err.is_transient(), "{err}");
    let usage = err.api_error().unwrap().usage();
    assert_eq!(usage.regain_access_in(), Some(Duration::from_secs(300)));
    assert_eq!(usage.object_pct(DEMO.business_id), Some(100.0));
    biz.get().send().await.unwrap();

    for code in [4, 17, 613] {
        emulator.inject(FaultRule::new(Fault::throttle(code)).times(1));
        assert_eq!(biz.get().send().await.unwrap_err().code(), Some(code));
    }

    emulator.inject(
        FaultRule::new(Fault::graph(2))
            .on("POST", "/system_users")
            .times(1),
    );
    let err = biz.system_users().create("x").send().await.unwrap_err();
    assert!(
        err.is_transient() && err.http_status() == Some(500),
        "{err}"
    );
    assert!(
        emulator.system_users(DEMO.business_id).is_empty(),
        "the faulted create did not happen"
    );

    emulator.inject(FaultRule::new(Fault::Http { status: 502 }).times(1));
    assert!(
        matches!(biz.get().send().await.unwrap_err(), Error::UnexpectedResponse(r) if r.status == 502)
    );

    emulator.inject(FaultRule::new(Fault::Malformed).times(1));
    assert!(matches!(
        biz.get().send().await.unwrap_err(),
        Error::Decode { .. }
    ));

    emulator.inject(FaultRule::new(Fault::Delay(Duration::from_secs(2))).times(1));
    assert!(
        biz.get()
            .timeout(Duration::from_millis(100))
            .send()
            .await
            .unwrap_err()
            .is_timeout()
    );

    emulator.clear_faults();
    biz.get().send().await.unwrap();
}

#[tokio::test]
async fn a_create_that_failed_after_sending_is_verified_then_retried() {
    let (emulator, _) = demo().await;
    let client = emulator
        .client_builder(DEMO.admin_token)
        .app_secret(DEMO.app_secret)
        .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(10)))
        .build()
        .unwrap();
    emulator.inject(
        FaultRule::new(Fault::graph(2))
            .on("POST", "/system_users")
            .times(1),
    );
    let su = client
        .business(DEMO.business_id)
        .system_users()
        .create("reporting")
        .send()
        .await
        .unwrap();
    let users = emulator.system_users(DEMO.business_id);
    assert_eq!(users.len(), 1, "created exactly once");
    assert_eq!(users[0].id, su.id.as_str());
    let journal: Vec<_> = emulator
        .requests()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.status))
        .collect();
    // quota read, failed POST, re-read (absent), POST again.
    assert_eq!(journal, ["GET 200", "POST 500", "GET 200", "POST 200"]);
}

#[tokio::test]
async fn journal_records_the_wire_shape() {
    let (emulator, client) = demo().await;
    client
        .business(DEMO.business_id)
        .owned_pages()
        .limit(1)
        .send()
        .await
        .unwrap();
    let r = &emulator.requests()[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str(), r.status),
        ("GET", "/v26.0/1000000000001/owned_pages", 200)
    );
    assert_eq!(r.params["limit"], "1");
    assert_eq!(r.params["fields"], "id,name");
    assert!(
        r.bearer && r.proof && !r.access_token_in_url && !r.params.contains_key("appsecret_proof")
    );
    emulator.clear_requests();
    assert!(emulator.requests().is_empty());
}

#[tokio::test]
async fn strict_fields_catch_a_role_read_on_the_node() {
    let (_emulator, client) = demo().await;
    let su = client
        .business(DEMO.business_id)
        .system_users()
        .create("x-sync")
        .send()
        .await
        .unwrap();
    let err = client
        .system_user(&su.id)
        .get()
        .fields_raw("id,role")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("nonexisting field (role)"),
        "{err}"
    );
    let read = client.system_user(&su.id).get().send().await.unwrap();
    assert_eq!(read.name.as_deref(), Some("x-sync"));
}

#[tokio::test]
async fn four_resources_end_to_end() {
    let (emulator, client) = demo().await;
    // Business.
    let me = client.businesses().list().collect(10).await.unwrap();
    assert_eq!(me[0].id.as_str(), DEMO.business_id);
    let biz = client.business(DEMO.business_id);
    let read = biz.get().send().await.unwrap();
    assert_eq!(read.name.as_deref(), Some("Acme Demo Retail"));
    assert_eq!(biz.owned_ad_accounts().collect(10).await.unwrap().len(), 2);
    assert_eq!(
        biz.owned_apps().collect(10).await.unwrap()[0].id.as_str(),
        DEMO.app_id
    );
    assert!(
        biz.claim_ad_account(DEMO.ad_accounts[0])
            .send()
            .await
            .unwrap()
            .is_confirmed()
    );
    let created = client
        .businesses()
        .create("Acme Second", meta_business::BusinessVertical::Retail)
        .send()
        .await
        .unwrap();
    assert_eq!(emulator.requests().last().unwrap().status, 200);
    assert!(client.business(created.id).get().send().await.is_ok());

    // System users.
    let su = biz
        .system_users()
        .create("crm-sync")
        .role(SystemUserRole::Employee)
        .send()
        .await
        .unwrap();
    biz.system_users()
        .rename(&su.id, "crm-sync-eu")
        .send()
        .await
        .unwrap();
    assert_eq!(
        biz.system_users().list().collect(10).await.unwrap()[0]
            .name
            .as_deref(),
        Some("crm-sync-eu")
    );
    let err = biz
        .system_users()
        .create("crm-sync-us")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::QuotaExceeded { .. }));

    // Assignments.
    client
        .ad_account(DEMO.ad_accounts[0])
        .assign(&su.id, [AdAccountTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .page(DEMO.pages[0])
        .assign(&su.id, [PageTask::Analyze, PageTask::Advertise])
        .send()
        .await
        .unwrap();
    client
        .ad_account(DEMO.ad_accounts[0])
        .change_tasks(&su.id, [AdAccountTask::Analyze, AdAccountTask::Draft])
        .send()
        .await
        .unwrap();
    let users = client
        .ad_account(DEMO.ad_accounts[0])
        .assigned_users(DEMO.business_id)
        .collect(10)
        .await
        .unwrap();
    assert!(users[0].is_system_user());
    assert_eq!(
        users[0].tasks,
        [AdAccountTask::Analyze, AdAccountTask::Draft]
    );
    let pages = client
        .system_user(&su.id)
        .assigned_pages()
        .collect(10)
        .await
        .unwrap();
    assert_eq!(pages[0].tasks, [PageTask::Analyze, PageTask::Advertise]);
    client
        .page(DEMO.pages[0])
        .unassign(&su.id)
        .send()
        .await
        .unwrap();
    assert!(
        client
            .system_user(&su.id)
            .assigned_pages()
            .collect(10)
            .await
            .unwrap()
            .is_empty()
    );

    // Tokens.
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
    let business_token = biz
        .system_user_access_token(&su.id)
        .scopes([Permission::AdsRead])
        .send()
        .await
        .unwrap();
    assert_ne!(
        token.secret().expose_secret(),
        business_token.secret().expose_secret()
    );
    let info = client
        .as_app(DEMO.app_id)
        .unwrap()
        .debug_token(token.secret().expose_secret())
        .send()
        .await
        .unwrap();
    assert!(info.is_system_user());

    // The whole conversation was clean on the wire.
    let journal = emulator.requests();
    assert!(
        journal
            .iter()
            .all(|r| r.bearer && !r.access_token_in_url && r.proof),
        "{journal:?}"
    );
}

#[tokio::test]
async fn the_clock_the_test_controls_expires_and_refreshes_tokens() {
    let (emulator, client) = demo().await;
    let su = client
        .business(DEMO.business_id)
        .system_users()
        .create("clock-reporting")
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
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    let as_app = client.as_app(DEMO.app_id).unwrap();
    let start = emulator.clock();

    // 50 days on: still valid, inside a 14-day window by the emulator's clock.
    emulator.advance_clock(Duration::from_secs(50 * 86_400));
    let moved = emulator.clock().duration_since(start).unwrap().as_secs();
    assert!((50 * 86_400..50 * 86_400 + 60).contains(&moved), "{moved}");
    let info = as_app
        .debug_token(token.secret().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(info.is_valid, Some(true));
    assert!(info.expires_within_at(Duration::from_secs(14 * 86_400), emulator.clock()));
    assert!(!info.expires_within_at(Duration::from_secs(5 * 86_400), emulator.clock()));

    // Refreshed then, the new token lives 60 days from the emulator's now.
    let fresh = client
        .refresh_token(DEMO.app_id, token.secret().clone())
        .send()
        .await
        .unwrap();
    let fresh_info = as_app
        .debug_token(fresh.secret().clone())
        .send()
        .await
        .unwrap();
    assert!(!fresh_info.expires_within_at(Duration::from_secs(59 * 86_400), emulator.clock()));

    // 11 more days: the old token has expired, the fresh one has not.
    emulator.advance_clock(Duration::from_secs(11 * 86_400));
    assert!(!emulator.token_is_valid(token.secret().expose_secret()));
    assert!(emulator.token_is_valid(fresh.secret().expose_secret()));
    let err = client
        .with_token(token.secret().clone())
        .business(DEMO.business_id)
        .get()
        .send()
        .await
        .unwrap_err();
    assert!(err.is_auth(), "{err}");
    let stale = as_app
        .debug_token(token.secret().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(stale.is_valid, Some(false));
}

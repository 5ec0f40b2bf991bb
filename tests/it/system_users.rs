//! System users: create, list every page, read, rename, bad input.

use meta_business::{AccessTier, Client, Error, ExposeSecret, SystemUserKind, SystemUserRole};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

#[tokio::test]
async fn create_with_role_lists_first_then_posts() {
    let (server, client) = setup().await;
    SystemUserStore::default().mount(&server, BIZ).await;
    let su = client
        .business(BIZ)
        .system_users()
        .create("  reporting-server  ")
        .role(SystemUserRole::Employee)
        .send()
        .await
        .unwrap();
    assert_eq!(su.name.as_deref(), Some("reporting-server"));
    assert_eq!(su.role, Some(SystemUserRole::Employee));
    assert_eq!(su.kind(), SystemUserKind::Regular);
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].method.as_str(), "GET");
    assert_eq!(params(&reqs[0]), map(&[("fields", "id,name,role")]));
    assert_eq!(reqs[1].url.path(), format!("/v26.0/{BIZ}/system_users"));
    assert_eq!(
        params(&reqs[1]),
        map(&[("name", "reporting-server"), ("role", "EMPLOYEE")])
    );
}

#[tokio::test]
async fn create_without_a_quota_check_reads_then_posts_without_checking() {
    let server = server().await;
    SystemUserStore::default().mount(&server, BIZ).await;
    let client = Client::builder()
        .access_token(TOKEN)
        .app_secret(SECRET)
        .base_url(server.uri())
        .disable_quota_check()
        .build()
        .unwrap();
    let su = client
        .business(BIZ)
        .system_users()
        .create("ci-bot")
        .send()
        .await
        .unwrap();
    assert_eq!(su.role, None);
    let reqs = received(&server).await;
    // The list is read even without a quota: an ambiguous failure is settled against it.
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].method.as_str(), "GET");
    assert_eq!(params(&reqs[1]), map(&[("name", "ci-bot")]));
}

#[tokio::test]
async fn list_reads_every_page_with_roles() {
    let (server, client) = setup().await;
    SystemUserStore::with(&[
        ("admin-bot", "ADMIN"),
        ("a", "EMPLOYEE"),
        ("b", "EMPLOYEE"),
        ("c", "FUTURE_ROLE"),
        ("d", "EMPLOYEE"),
    ])
    .mount(&server, BIZ)
    .await;
    let users = client
        .business(BIZ)
        .system_users()
        .list()
        .collect(50)
        .await
        .unwrap();
    assert_eq!(users.len(), 5);
    assert_eq!(users[0].role, Some(SystemUserRole::Admin));
    assert_eq!(
        users[3].role,
        Some(SystemUserRole::Other("FUTURE_ROLE".into()))
    );
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 3);
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        params(&reqs[2]),
        map(&[("fields", "id,name,role"), ("after", "c4")])
    );
}

#[tokio::test]
async fn read_one_system_user() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/100000008899900"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "100000008899900", "name": "Reporting server", "created_time": "2026-01-02T03:04:05+0000",
            "finance_permission": "Analyst"})))
        .mount(&server)
        .await;
    let su = client
        .system_user("100000008899900")
        .get()
        .send()
        .await
        .unwrap();
    assert_eq!(su.name.as_deref(), Some("Reporting server"));
    assert_eq!(su.finance_permission.as_deref(), Some("Analyst"));
    assert_eq!(su.role, None);
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        params(&reqs[0]),
        map(&[(
            "fields",
            "id,name,created_time,finance_permission,ip_permission"
        )])
    );
}

#[tokio::test]
async fn rename_posts_system_user_id_and_name() {
    let (server, client) = setup().await;
    let store = SystemUserStore::with(&[("old-name", "EMPLOYEE")]);
    store.mount(&server, BIZ).await;
    let su = client
        .business(BIZ)
        .system_users()
        .rename("100000", "crm-sync")
        .send()
        .await
        .unwrap();
    assert_eq!(su.name.as_deref(), Some("crm-sync"));
    assert_eq!(store.users.lock().unwrap()[0].1, "crm-sync");
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        params(&reqs[0]),
        map(&[("system_user_id", "100000"), ("name", "crm-sync")])
    );
}

#[tokio::test]
async fn rename_reports_success_false() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("/v26.0/{BIZ}/system_users")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": false})))
        .mount(&server)
        .await;
    let err = client
        .business(BIZ)
        .system_users()
        .rename("1", "x")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnexpectedResponse(r) if r.reason.contains("success: false")),
        "{err}"
    );
}

#[tokio::test]
async fn bad_system_user_input_sends_nothing() {
    let (server, client) = setup().await;
    let users = client.business(BIZ).system_users();
    let cases = [
        (users.create("").send().await.unwrap_err(), "name"),
        (users.create(" \t ").send().await.unwrap_err(), "name"),
        (users.create("bad\nname").send().await.unwrap_err(), "name"),
        (
            users.create("x".repeat(300)).send().await.unwrap_err(),
            "name",
        ),
        (
            users
                .create("ok")
                .role(SystemUserRole::Other("not a role".into()))
                .send()
                .await
                .unwrap_err(),
            "role",
        ),
        (
            users
                .create("ok")
                .role(SystemUserRole::Other(String::new()))
                .send()
                .await
                .unwrap_err(),
            "role",
        ),
        (
            client
                .business("biz")
                .system_users()
                .create("ok")
                .send()
                .await
                .unwrap_err(),
            "business_id",
        ),
        (
            users.rename("abc", "x").send().await.unwrap_err(),
            "system_user_id",
        ),
        (users.rename("1", "").send().await.unwrap_err(), "name"),
        (
            client.system_user("me").get().send().await.unwrap_err(),
            "system_user_id",
        ),
        (
            client
                .business("")
                .system_user_quota()
                .send()
                .await
                .unwrap_err(),
            "business_id",
        ),
    ];
    for (err, field) in cases {
        assert!(
            matches!(&err, Error::InvalidInput { field: f, .. } if f == field),
            "{field}: {err}"
        );
    }
    assert!(
        received(&server).await.is_empty(),
        "nothing may reach the server"
    );
}

#[tokio::test]
async fn a_failed_quota_read_sends_no_create() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}/system_users")))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": {"message": "Permissions error", "code": 200}})),
        )
        .mount(&server)
        .await;
    let client = client_for(&server, AccessTier::Full);
    let err = client
        .business(BIZ)
        .system_users()
        .create("x")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_permission());
    assert_eq!(
        count(&server, "POST", &format!("/v26.0/{BIZ}/system_users")).await,
        0
    );
}

#[tokio::test]
async fn get_or_create_under_twenty_concurrent_callers_makes_one_user() {
    use meta_business::testing::GraphEmulator;
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let calls = (0..20).map(|_| {
        client
            .business(demo.business_id)
            .system_users()
            .get_or_create("onboarding-bot")
            .send()
    });
    let results = futures_util::future::join_all(calls).await;
    let got: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(got.iter().filter(|g| g.created).count(), 1);
    assert!(got.iter().all(|g| g.user.id == got[0].user.id));
    let posts = emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/system_users"))
        .count();
    assert_eq!(posts, 1);
    assert_eq!(emulator.system_users(demo.business_id).len(), 1);

    // Existing: found, nothing posted, and the quota (Limited: full now) is not in the way.
    emulator.clear_requests();
    let again = client
        .business(demo.business_id)
        .system_users()
        .get_or_create("onboarding-bot")
        .send()
        .await
        .unwrap();
    assert!(!again.created);
    assert!(emulator.requests().iter().all(|r| r.method == "GET"));

    // Two of the name: refused rather than guessed.
    emulator.set_access_tier(demo.business_id, meta_business::AccessTier::Full);
    let raw = reqwest::Client::new();
    let proof =
        meta_business::tokens::appsecret_proof(&demo.app_secret.into(), &demo.admin_token.into());
    raw.post(format!(
        "{}/v26.0/{}/system_users",
        emulator.uri(),
        demo.business_id
    ))
    .bearer_auth(demo.admin_token)
    .form(&[
        ("name", "onboarding-bot"),
        ("appsecret_proof", proof.expose_secret()),
    ])
    .send()
    .await
    .unwrap();
    let err = client
        .business(demo.business_id)
        .system_users()
        .get_or_create("onboarding-bot")
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("2 system users"), "{err}");
}

#[tokio::test]
async fn a_create_warns_with_the_audits_name_rule_and_the_audit_flags_the_same_name() {
    use meta_business::provision::{self, AuditOptions, FindingKind, name_warning, vague_name};
    use meta_business::testing::{DEMO, GraphEmulator};
    crate::common::captured_logs();
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    // Unique within this test binary's shared log capture; "bot" is one of the generic words.
    let vague = "bot-94731";
    assert_eq!(vague_name(vague), Some("a generic name"));
    let user = client
        .business(DEMO.business_id)
        .system_users()
        .create(vague)
        .send()
        .await
        .unwrap();
    // A warning, not an error: the user exists.
    assert!(
        emulator
            .system_users(DEMO.business_id)
            .iter()
            .any(|u| u.id == user.id.as_str() && u.name == vague)
    );
    let warning = name_warning(vague).unwrap();
    let logs = crate::common::logs_text();
    assert!(
        logs.lines()
            .any(|l| l.contains("WARN") && l.contains(&format!("{vague:?} is a generic name"))),
        "no warning for {vague:?} in the logs ({warning})"
    );
    // The audit calls the same user vague, for the same reason.
    let report = provision::audit(&client, DEMO.business_id, &AuditOptions::default())
        .await
        .unwrap();
    let finding = report
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::VagueName)
        .expect("a vague-name finding");
    assert!(finding.subject.contains(user.id.as_str()), "{finding:?}");
    assert!(finding.message.contains("a generic name"), "{finding:?}");
    assert!(
        warning.ends_with(&finding.remedy),
        "{warning} / {}",
        finding.remedy
    );
    // A descriptive name gets neither.
    assert!(name_warning("crm-sync-eu").is_none());
}

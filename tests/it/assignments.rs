//! Asset assignment: per-kind tasks, required tasks, removal, listings.

use meta_business::{
    AdAccountTask, CatalogTask, Error, InstagramTask, PageTask, PixelTask, UserType, WhatsAppTask,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

const SU: &str = "100000008899900";

async fn ok_on(server: &MockServer, verb: &str, p: &str, body: serde_json::Value) {
    Mock::given(method(verb))
        .and(path(p))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

#[tokio::test]
async fn assign_each_kind_sends_user_and_a_json_task_array() {
    let (server, client) = setup().await;
    for p in ["act_42", "43", "44", "45", "46", "47"] {
        ok_on(
            &server,
            "POST",
            &format!("/v26.0/{p}/assigned_users"),
            json!({"success": true}),
        )
        .await;
    }
    client
        .ad_account("42")
        .assign(
            SU,
            [
                AdAccountTask::Manage,
                AdAccountTask::Advertise,
                AdAccountTask::Analyze,
            ],
        )
        .send()
        .await
        .unwrap();
    client
        .page("43")
        .assign(SU, [PageTask::Advertise, PageTask::Analyze])
        .send()
        .await
        .unwrap();
    client
        .catalog("44")
        .assign(SU, [CatalogTask::Manage])
        .send()
        .await
        .unwrap();
    client
        .pixel("45")
        .assign(SU, [PixelTask::Analyze, PixelTask::Upload])
        .send()
        .await
        .unwrap();
    client
        .instagram_asset("46")
        .assign(SU, [InstagramTask::Content])
        .send()
        .await
        .unwrap();
    client
        .whatsapp_business_account("47")
        .assign(SU, [WhatsAppTask::Messaging, WhatsAppTask::ViewTemplates])
        .send()
        .await
        .unwrap();
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    let expected = [
        (
            "/v26.0/act_42/assigned_users",
            r#"["MANAGE","ADVERTISE","ANALYZE"]"#,
        ),
        ("/v26.0/43/assigned_users", r#"["ADVERTISE","ANALYZE"]"#),
        ("/v26.0/44/assigned_users", r#"["MANAGE"]"#),
        ("/v26.0/45/assigned_users", r#"["ANALYZE","UPLOAD"]"#),
        ("/v26.0/46/assigned_users", r#"["CONTENT"]"#),
        (
            "/v26.0/47/assigned_users",
            r#"["MESSAGING","VIEW_TEMPLATES"]"#,
        ),
    ];
    assert_eq!(reqs.len(), expected.len());
    for (req, (p, tasks)) in reqs.iter().zip(expected) {
        assert_eq!(req.method.as_str(), "POST");
        assert_eq!(req.url.path(), p);
        assert_eq!(params(req), map(&[("user", SU), ("tasks", tasks)]));
    }
}

#[tokio::test]
async fn change_tasks_and_business_param() {
    let (server, client) = setup().await;
    ok_on(&server, "POST", "/v26.0/act_42/assigned_users", json!(true)).await;
    client
        .ad_account("act_42")
        .change_tasks(SU, [AdAccountTask::Analyze])
        .business(BIZ)
        .send()
        .await
        .unwrap();
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        params(&reqs[0]),
        map(&[("user", SU), ("tasks", r#"["ANALYZE"]"#), ("business", BIZ)])
    );
}

#[tokio::test]
async fn an_empty_task_list_is_refused_for_every_kind_before_sending() {
    let (server, client) = setup().await;
    let errs = [
        client
            .ad_account("42")
            .assign(SU, [])
            .send()
            .await
            .unwrap_err(),
        client.page("43").assign(SU, []).send().await.unwrap_err(),
        client
            .catalog("44")
            .assign(SU, [])
            .send()
            .await
            .unwrap_err(),
        client.pixel("45").assign(SU, []).send().await.unwrap_err(),
        client
            .instagram_asset("46")
            .assign(SU, [])
            .send()
            .await
            .unwrap_err(),
        client
            .whatsapp_business_account("47")
            .assign(SU, [])
            .send()
            .await
            .unwrap_err(),
    ];
    for err in errs {
        assert!(
            matches!(&err, meta_business::Error::InvalidInput { field, .. } if field == "tasks"),
            "{err}"
        );
    }
    let dup = client
        .page("43")
        .assign(SU, [PageTask::Analyze, PageTask::Analyze])
        .send()
        .await
        .unwrap_err();
    assert!(dup.to_string().contains("ANALYZE is listed twice"), "{dup}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn unassign_sends_delete_with_user() {
    let (server, client) = setup().await;
    ok_on(
        &server,
        "DELETE",
        "/v26.0/act_42/assigned_users",
        json!({"success": true}),
    )
    .await;
    ok_on(&server, "DELETE", "/v26.0/47/assigned_users", json!(true)).await;
    client.ad_account("42").unassign(SU).send().await.unwrap();
    client
        .whatsapp_business_account("47")
        .unassign(SU)
        .send()
        .await
        .unwrap();
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(reqs[0].method.as_str(), "DELETE");
    assert_eq!(params(&reqs[0]), map(&[("user", SU)]));
    assert!(reqs[0].body.is_empty());
}

#[tokio::test]
async fn pixel_unassign_is_unsupported_and_sends_nothing() {
    let (server, client) = setup().await;
    let err = client.pixel("45").unassign(SU).send().await.unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn bad_assignment_input_sends_nothing() {
    let (server, client) = setup().await;
    let cases = [
        (
            client
                .catalog("44")
                .assign(SU, [])
                .send()
                .await
                .unwrap_err(),
            "tasks",
        ),
        (
            client.pixel("45").assign(SU, []).send().await.unwrap_err(),
            "tasks",
        ),
        (
            client
                .whatsapp_business_account("47")
                .assign(SU, [])
                .send()
                .await
                .unwrap_err(),
            "tasks",
        ),
        (
            client
                .page("43")
                .assign(SU, [PageTask::Other("two words".into())])
                .send()
                .await
                .unwrap_err(),
            "tasks",
        ),
        (
            client
                .page("43")
                .assign(SU, [PageTask::Other(String::new())])
                .send()
                .await
                .unwrap_err(),
            "tasks",
        ),
        (
            client
                .ad_account("act_x")
                .assign(SU, [AdAccountTask::Analyze])
                .send()
                .await
                .unwrap_err(),
            "ad_account_id",
        ),
        (
            client
                .page("p")
                .assign(SU, [PageTask::Analyze])
                .send()
                .await
                .unwrap_err(),
            "page_id",
        ),
        (
            client
                .page("43")
                .assign("su", [PageTask::Analyze])
                .send()
                .await
                .unwrap_err(),
            "system_user_id",
        ),
        (
            client
                .ad_account("42")
                .assign(SU, [AdAccountTask::Analyze])
                .business("b")
                .send()
                .await
                .unwrap_err(),
            "business_id",
        ),
        (
            client
                .ad_account("42")
                .unassign("")
                .send()
                .await
                .unwrap_err(),
            "system_user_id",
        ),
        (
            client.catalog("c").unassign(SU).send().await.unwrap_err(),
            "catalog_id",
        ),
        (
            client
                .ad_account("42")
                .assigned_users("")
                .send()
                .await
                .unwrap_err(),
            "business_id",
        ),
        (
            client
                .page("x")
                .assigned_users(BIZ)
                .send()
                .await
                .unwrap_err(),
            "page_id",
        ),
        (
            client
                .system_user("x")
                .assigned_pages()
                .send()
                .await
                .unwrap_err(),
            "system_user_id",
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
async fn success_false_is_an_error() {
    let (server, client) = setup().await;
    ok_on(
        &server,
        "POST",
        "/v26.0/43/assigned_users",
        json!({"success": false}),
    )
    .await;
    let err = client
        .page("43")
        .assign(SU, [PageTask::Analyze])
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnexpectedResponse(_)), "{err}");
}

#[tokio::test]
async fn graph_rejection_of_a_task_is_a_typed_api_error() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/44/assigned_users"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "(#100) Param tasks[0] must be one of {MANAGE, ADVERTISE, MANAGE_AR, AA_ANALYZE}", "code": 100}})))
        .mount(&server)
        .await;
    let err = client
        .catalog("44")
        .assign(SU, [CatalogTask::Other("EDIT".into())])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(100));
}

#[tokio::test]
async fn assigned_users_requires_and_sends_business() {
    let (server, client) = setup().await;
    ok_on(&server, "GET", "/v26.0/act_42/assigned_users", json!({"data": [
        {"id": SU, "name": "reporting-server", "user_type": "SYSTEM_USER", "tasks": ["ANALYZE", "DRAFT"], "permitted_tasks": ["ANALYZE", "ADVERTISE"]},
        {"id": 777, "name": "Ana", "user_type": "BUSINESS_USER", "tasks": ["MANAGE", "SOMETHING_NEW"]}
    ]})).await;
    let users = client
        .ad_account("42")
        .assigned_users(BIZ)
        .collect(10)
        .await
        .unwrap();
    assert!(users[0].is_system_user());
    assert_eq!(
        users[0].tasks,
        [AdAccountTask::Analyze, AdAccountTask::Draft]
    );
    assert_eq!(users[1].user_type, Some(UserType::BusinessUser));
    assert_eq!(users[1].id, "777");
    assert_eq!(
        users[1].tasks[1],
        AdAccountTask::Other("SOMETHING_NEW".into())
    );
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        params(&reqs[0]),
        map(&[
            ("business", BIZ),
            ("fields", "id,name,user_type,tasks,permitted_tasks")
        ])
    );
}

#[tokio::test]
async fn system_user_assigned_asset_lists_every_page() {
    let (server, client) = setup().await;
    let edge = format!("/v26.0/{SU}/assigned_ad_accounts");
    Mock::given(method("GET"))
        .and(path(edge.clone()))
        .and(wiremock::matchers::query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "act_1", "name": "A", "tasks": ["ANALYZE"]}],
            "paging": {"cursors": {"after": "N1"}, "next": "https://graph.facebook.com/next"}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(edge))
        .and(wiremock::matchers::query_param("after", "N1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"data": [{"id": "act_2", "tasks": ["MANAGE", "ADVERTISE"]}]}),
            ),
        )
        .mount(&server)
        .await;
    for (edge, body) in [
        (
            "assigned_pages",
            json!({"data": [{"id": "43", "name": "P", "tasks": ["ANALYZE", "ADVERTISE"]}]}),
        ),
        (
            "assigned_product_catalogs",
            json!({"data": [{"id": "44", "tasks": ["MANAGE"]}]}),
        ),
        (
            "assigned_whatsapp_business_accounts",
            json!({"data": [{"id": "47", "tasks": ["MESSAGING"]}]}),
        ),
        (
            "assigned_business_asset_groups",
            // Either shape decodes: the per-type lists, or the documented `tasks` field
            // (unpacked `TYPE:TASK`; a value naming no type is kept unlisted).
            json!({"data": [
                {"id": "48", "name": "Group", "adaccount_tasks": ["ANALYZE"]},
                {"id": "49", "name": "Other", "tasks": ["PAGE:ANALYZE", "MANAGE"]},
            ]}),
        ),
    ] {
        ok_on(&server, "GET", &format!("/v26.0/{SU}/{edge}"), body).await;
    }
    let su = client.system_user(SU);
    let ads = su.assigned_ad_accounts().collect(10).await.unwrap();
    assert_eq!(ads.len(), 2);
    assert_eq!(ads[1].id.as_str(), "act_2");
    assert_eq!(
        ads[1].tasks,
        [AdAccountTask::Manage, AdAccountTask::Advertise]
    );
    assert_eq!(
        su.assigned_pages().collect(10).await.unwrap()[0].tasks,
        [PageTask::Analyze, PageTask::Advertise]
    );
    assert_eq!(
        su.assigned_product_catalogs().collect(10).await.unwrap()[0].tasks,
        [CatalogTask::Manage]
    );
    assert_eq!(
        su.assigned_whatsapp_business_accounts()
            .collect(10)
            .await
            .unwrap()[0]
            .tasks,
        [WhatsAppTask::Messaging]
    );
    let groups = su
        .assigned_business_asset_groups()
        .collect(10)
        .await
        .unwrap();
    assert_eq!(
        groups[0].tasks,
        [meta_business::BusinessAssetGroupTask::AdAccountAnalyze]
    );
    assert_eq!(
        groups[1].tasks,
        [
            meta_business::BusinessAssetGroupTask::PageAnalyze,
            meta_business::BusinessAssetGroupTask::from("MANAGE"),
        ]
    );
    assert!(groups[1].tasks[1].is_unlisted());
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        params(&reqs[0]),
        map(&[("fields", "id,name,tasks,permitted_tasks")])
    );
    assert_eq!(
        params(&reqs[1]),
        map(&[("fields", "id,name,tasks,permitted_tasks"), ("after", "N1")])
    );
    // Only documented fields, for a group too.
    assert_eq!(
        params(&reqs[5]),
        map(&[("fields", "id,name,tasks,permitted_tasks")])
    );
}

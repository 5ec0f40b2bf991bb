//! The emulator answers as Meta does where the crate's own tests would not notice: each
//! departure a review found, checked as a raw HTTP client (the crate never sends these
//! requests), and the error hints that follow from Meta's real shapes.

use meta_business::testing::GraphEmulator;
use meta_business::{ErrorHint, ExposeSecret, Permission};
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn answer(resp: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = resp.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn error_of(body: &Value) -> (i64, String, String) {
    let e = &body["error"];
    (
        e["code"].as_i64().unwrap_or_default(),
        e["type"].as_str().unwrap_or_default().to_owned(),
        e["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn proof(secret: &str, token: &str) -> String {
    meta_business::tokens::appsecret_proof(&secret.into(), &token.into())
        .expose_secret()
        .to_owned()
}

#[tokio::test]
async fn requests_outside_metas_description_get_metas_answers() {
    let (emu, d) = GraphEmulator::demo().await;
    let url = |p: &str| format!("{}/v26.0/{p}", emu.uri());
    let users = format!("{}/system_users", d.business_id);

    // An unknown field on a list.
    let (status, body) = answer(
        http()
            .get(url(&users))
            .bearer_auth(d.admin_token)
            .query(&[("fields", "id,name,birthday")]),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        error_of(&body),
        (
            100,
            "OAuthException".into(),
            "(#100) Tried accessing nonexisting field (birthday) on node type (SystemUser)".into()
        )
    );
    // `role` is an edge field of the list, not a field of the node.
    let (_, body) = answer(
        http()
            .get(url(&users))
            .bearer_auth(d.admin_token)
            .query(&[("fields", "id,role")]),
    )
    .await;
    assert!(body["data"].is_array(), "{body}");

    // A required parameter, an enum value.
    let (_, body) = answer(
        http()
            .post(url(&users))
            .bearer_auth(d.admin_token)
            .form(&[("role", "EMPLOYEE")]),
    )
    .await;
    assert_eq!(error_of(&body).2, "(#100) The parameter name is required");
    let (_, body) = answer(
        http()
            .post(url(&users))
            .bearer_auth(d.admin_token)
            .form(&[("name", "x"), ("role", "OWNER")]),
    )
    .await;
    assert!(
        error_of(&body)
            .2
            .starts_with("(#100) Param role must be one of {"),
        "{body}"
    );

    // No token: 104 everywhere but /me, where it is 2500.
    let (_, body) = answer(http().get(url(&users))).await;
    assert_eq!(
        error_of(&body),
        (
            104,
            "OAuthException".into(),
            "An access token is required to request this resource.".into()
        )
    );
    let (_, body) = answer(http().get(url("me"))).await;
    assert_eq!(error_of(&body).0, 2500);

    // A wrong or missing proof: 100, GraphMethodException.
    let (_, body) = answer(
        http()
            .get(url(&users))
            .bearer_auth(d.admin_token)
            .query(&[("appsecret_proof", "00ff")]),
    )
    .await;
    assert_eq!(
        error_of(&body),
        (
            100,
            "GraphMethodException".into(),
            "Invalid appsecret_proof provided in the API argument".into()
        )
    );
    for edge in ["system_user_access_tokens"] {
        let (_, body) = answer(
            http()
                .post(url(&format!("{}/{edge}", d.business_id)))
                .bearer_auth(d.admin_token)
                .form(&[("system_user_id", "1"), ("scope", "ads_read")]),
        )
        .await;
        let (code, kind, message) = error_of(&body);
        assert_eq!(
            (code, kind.as_str()),
            (100, "GraphMethodException"),
            "{body}"
        );
        assert!(message.contains("require an appsecret_proof"), "{body}");
    }

    // The quota refusal is the emulator's own and says so.
    let good = proof(d.app_secret, d.admin_token);
    for name in ["one", "two"] {
        let (status, body) = answer(
            http()
                .post(url(&users))
                .bearer_auth(d.admin_token)
                .form(&[("name", name), ("appsecret_proof", good.as_str())]),
        )
        .await;
        if name == "two" {
            assert_eq!(status, 400);
            assert!(error_of(&body).2.contains("[emulated"), "{body}");
        }
    }

    // A person of the business can be assigned to an asset, as Meta allows.
    let (_, me) = answer(
        http()
            .get(url("me"))
            .bearer_auth(d.admin_token)
            .query(&[("fields", "id")]),
    )
    .await;
    let person = me["id"].as_str().unwrap().to_owned();
    let (status, body) = answer(
        http()
            .post(url(&format!("{}/assigned_users", d.pages[0])))
            .bearer_auth(d.admin_token)
            .form(&[("user", person.as_str()), ("tasks", r#"["ANALYZE"]"#)]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(emu.assignments(d.pages[0])[&person], ["ANALYZE"]);
}

#[tokio::test]
async fn tokens_are_inspected_revoked_and_refreshed_as_meta_does() {
    let (emu, d) = GraphEmulator::demo().await;
    let client = emu.client(d.admin_token).unwrap();
    let su = client
        .business(d.business_id)
        .system_users()
        .create("fidelity")
        .send()
        .await
        .unwrap();
    client
        .system_user(&su.id)
        .install_app(d.app_id)
        .send()
        .await
        .unwrap();
    let token = client
        .system_user(&su.id)
        .generate_token(d.app_id)
        .business(d.business_id)
        .scopes([Permission::AdsRead])
        .send()
        .await
        .unwrap();
    let token = token.secret().expose_secret().to_owned();
    let url = |p: &str| format!("{}/v26.0/{p}", emu.uri());

    // The business-level edge minted for the caller's app.
    let app_token = format!("{}|{}", d.app_id, d.app_secret);
    let (_, info) = answer(
        http()
            .get(url("debug_token"))
            .bearer_auth(&app_token)
            .query(&[("input_token", token.as_str())]),
    )
    .await;
    assert_eq!(info["data"]["app_id"], d.app_id, "{info}");

    // debug_token refuses a caller that is neither the app nor a developer of it.
    let (_, body) = answer(
        http()
            .get(url("debug_token"))
            .bearer_auth(&token)
            .query(&[("input_token", d.admin_token)]),
    )
    .await;
    assert_eq!(
        error_of(&body).2,
        "(#100) The App_id in the input_token did not match the Viewing App",
        "a system user's token is neither the app nor a developer: {body}"
    );

    // /oauth/revoke authenticates its caller.
    let (_, body) = answer(http().get(url("oauth/revoke")).query(&[
        ("client_id", d.app_id),
        ("client_secret", d.app_secret),
        ("revoke_token", token.as_str()),
    ]))
    .await;
    assert_eq!(error_of(&body).0, 104, "{body}");
    assert!(emu.token_is_valid(&token));

    // The exchange honours set_token_expires_in_60_days.
    let exchange = |sixty: Option<&'static str>| {
        let mut q = vec![
            ("grant_type", "fb_exchange_token".to_owned()),
            ("client_id", d.app_id.to_owned()),
            ("client_secret", d.app_secret.to_owned()),
            ("fb_exchange_token", token.clone()),
        ];
        if let Some(v) = sixty {
            q.push(("set_token_expires_in_60_days", v.to_owned()));
        }
        http()
            .get(url("oauth/access_token"))
            .bearer_auth(d.admin_token)
            .query(&q)
    };
    let (_, with) = answer(exchange(Some("true"))).await;
    assert!(with["expires_in"].as_u64().is_some(), "{with}");
    let (_, without) = answer(exchange(None)).await;
    assert!(
        without["access_token"].is_string() && without.get("expires_in").is_none(),
        "{without}"
    );
}

#[tokio::test]
async fn the_on_behalf_of_token_edge_needs_the_proof() {
    let (emu, d) = GraphEmulator::obo_demo().await;
    let (_, body) = answer(
        http()
            .post(format!("{}/v26.0/{}/access_token", emu.uri(), d.client))
            .bearer_auth(d.partner_admin_token)
            .form(&[("app_id", d.app_id), ("scope", "ads_management")]),
    )
    .await;
    let (code, kind, _) = error_of(&body);
    assert_eq!(
        (code, kind.as_str()),
        (100, "GraphMethodException"),
        "{body}"
    );
}

#[tokio::test]
async fn metas_error_shapes_get_typed_hints() {
    // A wrong app secret: the emulator answers as Meta does, and the hint says what to fix.
    let (emu, d) = GraphEmulator::demo().await;
    let wrong = emu
        .client_builder(d.admin_token)
        .app_secret("not-the-app-secret")
        .build()
        .unwrap();
    let err = wrong
        .business(d.business_id)
        .system_users()
        .list()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.hint(), Some(ErrorHint::BadSignature), "{err}");
    assert!(
        err.to_string().contains("ClientBuilder::app_secret"),
        "{err}"
    );

    // 104, as a proxy that strips the Authorization header would cause it.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": {
            "message": "An access token is required to request this resource.",
            "type": "OAuthException", "code": 104, "fbtrace_id": "A"}})),
        )
        .mount(&server)
        .await;
    let client = meta_business::Client::builder()
        .access_token("EAAB-some-token")
        .base_url(server.uri())
        .build()
        .unwrap();
    let err = client.get::<Value>("me", &[]).await.unwrap_err();
    assert_eq!(err.hint(), Some(ErrorHint::TokenRequired));
    assert!(err.is_auth());
}

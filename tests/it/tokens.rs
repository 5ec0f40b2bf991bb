//! The token lifecycle: install, generate, business-level generation, debug, refresh, revoke,
//! invalidate, typed hints, and redaction of every credential passed in or handed out.

use std::time::Duration;

use meta_business::{Client, Error, ErrorHint, ExposeSecret, Permission, tokens::TokenType};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

const SU: &str = "100000008899900";
const APP: &str = "1122334455";
const NEW_TOKEN: &str = "EAAB-CANARY-GENERATED-SYSTEM-USER-TOKEN-5566";
const INPUT: &str = "EAAB-CANARY-INPUT-TOKEN-TO-INSPECT-8899";

async fn answer(server: &MockServer, verb: &str, p: &str, template: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(p))
        .respond_with(template)
        .mount(server)
        .await;
}

fn assert_no(text: &str, canaries: &[&str]) {
    for canary in canaries {
        assert!(!text.contains(canary), "{canary} leaked in: {text}");
    }
}

#[tokio::test]
async fn install_app_posts_business_app() {
    let (server, client) = setup().await;
    answer(
        &server,
        "POST",
        &format!("/v26.0/{SU}/applications"),
        ResponseTemplate::new(200).set_body_json(json!(true)),
    )
    .await;
    client
        .system_user(SU)
        .install_app(APP)
        .send()
        .await
        .unwrap();
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(params(&reqs[0]), map(&[("business_app", APP)]));
}

#[tokio::test]
async fn generate_token_sends_scope_as_a_comma_string_with_proof() {
    let (server, client) = setup().await;
    answer(
        &server,
        "POST",
        &format!("/v26.0/{SU}/access_tokens"),
        ResponseTemplate::new(200).set_body_json(json!({"access_token": NEW_TOKEN})),
    )
    .await;
    let token = client
        .system_user(SU)
        .generate_token(APP)
        .scopes([Permission::AdsRead, Permission::BusinessManagement])
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    assert_eq!(token.secret().expose_secret(), NEW_TOKEN);
    assert_eq!(token.masked(), "EAAB…5566");
    assert_eq!(token.system_user.as_str(), SU);
    assert_no(&format!("{token:?} {token}"), &[NEW_TOKEN]);
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        params(&reqs[0]),
        map(&[
            ("business_app", APP),
            ("scope", "ads_read,business_management"),
            ("set_token_expires_in_60_days", "true")
        ])
    );
}

#[tokio::test]
async fn generate_token_without_expiry_omits_the_flag() {
    let (server, client) = setup().await;
    answer(
        &server,
        "POST",
        &format!("/v26.0/{SU}/access_tokens"),
        ResponseTemplate::new(200).set_body_json(json!({"access_token": NEW_TOKEN})),
    )
    .await;
    client
        .system_user(SU)
        .generate_token(APP)
        .scopes([Permission::AdsManagement])
        .send()
        .await
        .unwrap();
    client
        .system_user(SU)
        .generate_token(APP)
        .scopes([Permission::AdsManagement])
        .expires_in_60_days(false)
        .send()
        .await
        .unwrap();
    let reqs = received(&server).await;
    assert_eq!(
        params(&reqs[0]),
        map(&[("business_app", APP), ("scope", "ads_management")])
    );
    assert_eq!(params(&reqs[1])["set_token_expires_in_60_days"], "false");
}

#[tokio::test]
async fn generate_token_needs_an_app_secret_and_scopes_before_sending() {
    let (server, client) = setup().await;
    let no_secret = Client::builder()
        .access_token(TOKEN)
        .base_url(server.uri())
        .build()
        .unwrap();
    let cases = [
        (
            no_secret
                .system_user(SU)
                .generate_token(APP)
                .scopes([Permission::AdsRead])
                .send()
                .await
                .unwrap_err(),
            "app_secret",
        ),
        (
            client
                .system_user(SU)
                .generate_token(APP)
                .send()
                .await
                .unwrap_err(),
            "scopes",
        ),
        (
            client
                .system_user(SU)
                .generate_token(APP)
                .scopes([Permission::Custom("Ads Read".into())])
                .send()
                .await
                .unwrap_err(),
            "scopes",
        ),
        (
            client
                .system_user(SU)
                .generate_token("app")
                .scopes([Permission::AdsRead])
                .send()
                .await
                .unwrap_err(),
            "app_id",
        ),
        (
            client
                .system_user("su")
                .generate_token(APP)
                .scopes([Permission::AdsRead])
                .send()
                .await
                .unwrap_err(),
            "system_user_id",
        ),
        (
            client
                .system_user(SU)
                .install_app("x")
                .send()
                .await
                .unwrap_err(),
            "app_id",
        ),
        (
            client
                .system_user("")
                .invalidate_tokens()
                .send()
                .await
                .unwrap_err(),
            "system_user_id",
        ),
        (
            client
                .business(BIZ)
                .system_user_access_token(SU)
                .send()
                .await
                .unwrap_err(),
            "scopes",
        ),
        (
            client
                .business(BIZ)
                .system_user_access_token(SU)
                .scopes([Permission::AdsRead])
                .assets(["page-1"])
                .send()
                .await
                .unwrap_err(),
            "assets",
        ),
        (
            client.debug_token("").send().await.unwrap_err(),
            "input_token",
        ),
        (
            client.debug_token("two words").send().await.unwrap_err(),
            "input_token",
        ),
        (
            no_secret
                .refresh_token(APP, INPUT)
                .send()
                .await
                .unwrap_err(),
            "app_secret",
        ),
        (
            client.refresh_token(APP, "").send().await.unwrap_err(),
            "fb_exchange_token",
        ),
        (
            no_secret.revoke_token(APP, INPUT).send().await.unwrap_err(),
            "app_secret",
        ),
        (
            client.revoke_token("x", INPUT).send().await.unwrap_err(),
            "app_id",
        ),
        (no_secret.as_app(APP).unwrap_err(), "app_secret"),
    ];
    for (err, field) in cases {
        assert!(
            matches!(&err, Error::InvalidInput { field: f, .. } if f == field),
            "{field}: {err}"
        );
        assert_no(&format!("{err} {err:?}"), &[INPUT, TOKEN, SECRET]);
    }
    assert!(
        received(&server).await.is_empty(),
        "nothing may reach the server"
    );
}

#[tokio::test]
async fn business_level_token() {
    let (server, client) = setup().await;
    answer(
        &server,
        "POST",
        &format!("/v26.0/{BIZ}/system_user_access_tokens"),
        ResponseTemplate::new(200).set_body_json(json!({"access_token": NEW_TOKEN})),
    )
    .await;
    let token = client
        .business(BIZ)
        .system_user_access_token(SU)
        .scopes([Permission::AdsManagement])
        .assets(["act_333", "444"])
        .fetch_only(false)
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    assert_eq!(token.secret().expose_secret(), NEW_TOKEN);
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        params(&reqs[0]),
        map(&[
            ("system_user_id", SU),
            ("scope", "ads_management"),
            ("asset", "[333,444]"),
            ("fetch_only", "false"),
            ("set_token_expires_in_60_days", "true")
        ])
    );
}

#[tokio::test]
async fn debug_token_as_the_app() {
    let (server, client) = setup().await;
    answer(&server, "GET", "/v26.0/debug_token", ResponseTemplate::new(200).set_body_json(json!({"data": {
        "app_id": APP, "type": "SYSTEM_USER", "application": "Acme Sync", "data_access_expires_at": 0,
        "expires_at": 0, "is_valid": true, "issued_at": 1763800000,
        "scopes": ["ads_read", "business_management"],
        "granular_scopes": [{"scope": "ads_read", "target_ids": [333, "444"]}, {"scope": "business_management"}],
        "user_id": SU}}))).await;
    let app_client = client.as_app(APP).unwrap();
    let info = app_client.debug_token(INPUT).send().await.unwrap();
    assert_eq!(info.token_type, Some(TokenType::SystemUser));
    assert!(info.never_expires() && info.is_valid == Some(true));
    assert_eq!(info.granular_scopes[0].target_ids, ["333", "444"]);
    assert!(info.has_scope(&Permission::AdsRead));
    let reqs = received(&server).await;
    let app_token = format!("{APP}|{SECRET}");
    assert_wire(&reqs, &app_token);
    assert_eq!(params(&reqs[0]), map(&[("input_token", INPUT)]));
    assert_no(&format!("{info:?} {app_client:?}"), &[INPUT, SECRET]);
    assert_no(&format!("{:?}", client.debug_token(INPUT)), &[INPUT]);
}

#[tokio::test]
async fn refresh_sends_the_documented_exchange() {
    let (server, client) = setup().await;
    answer(
        &server,
        "GET",
        "/v26.0/oauth/access_token",
        ResponseTemplate::new(200).set_body_json(json!({
        "access_token": NEW_TOKEN, "token_type": "bearer", "expires_in": 5183944})),
    )
    .await;
    let fresh = client.refresh_token(APP, INPUT).send().await.unwrap();
    assert_eq!(fresh.secret().expose_secret(), NEW_TOKEN);
    assert_eq!(fresh.expires_in(), Some(Duration::from_secs(5183944)));
    assert_no(&format!("{fresh:?} {fresh}"), &[NEW_TOKEN]);
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        params(&reqs[0]),
        map(&[
            ("grant_type", "fb_exchange_token"),
            ("client_id", APP),
            ("set_token_expires_in_60_days", "true"),
            ("client_secret", SECRET),
            ("fb_exchange_token", INPUT)
        ])
    );
    assert_no(
        &format!("{:?}", client.refresh_token(APP, INPUT)),
        &[INPUT, SECRET],
    );
}

#[tokio::test]
async fn revoke_accepts_true_and_string_true() {
    for body in [
        json!({"success": "true"}),
        json!({"success": true}),
        json!(true),
    ] {
        let (server, client) = setup().await;
        answer(
            &server,
            "GET",
            "/v26.0/oauth/revoke",
            ResponseTemplate::new(200).set_body_json(body),
        )
        .await;
        client.revoke_token(APP, INPUT).send().await.unwrap();
        let reqs = received(&server).await;
        assert_wire(&reqs, TOKEN);
        assert_eq!(
            params(&reqs[0]),
            map(&[
                ("client_id", APP),
                ("client_secret", SECRET),
                ("revoke_token", INPUT)
            ])
        );
    }
    let (server, client) = setup().await;
    answer(
        &server,
        "GET",
        "/v26.0/oauth/revoke",
        ResponseTemplate::new(200).set_body_json(json!({"success": false})),
    )
    .await;
    assert!(client.revoke_token(APP, INPUT).send().await.is_err());
}

#[tokio::test]
async fn invalidate_all_tokens() {
    let (server, client) = setup().await;
    answer(
        &server,
        "DELETE",
        &format!("/v26.0/{SU}/access_tokens"),
        ResponseTemplate::new(200).set_body_json(json!(true)),
    )
    .await;
    client
        .system_user(SU)
        .invalidate_tokens()
        .send()
        .await
        .unwrap();
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(reqs[0].method.as_str(), "DELETE");
    assert!(params(&reqs[0]).is_empty());
}

#[tokio::test]
async fn known_failures_carry_typed_hints() {
    let cases = [
        (415, Some(2859009), ErrorHint::TwoFactorRequired),
        (190, Some(458), ErrorHint::AppNotInstalled),
        (190, Some(463), ErrorHint::TokenExpired),
        (200, None, ErrorHint::PermissionDenied),
    ];
    for (code, sub, hint) in cases {
        let (server, client) = setup().await;
        answer(
            &server,
            "POST",
            &format!("/v26.0/{SU}/access_tokens"),
            ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "failure", "type": "OAuthException", "code": code, "error_subcode": sub}})),
        )
        .await;
        let err = client
            .system_user(SU)
            .generate_token(APP)
            .scopes([Permission::AdsRead])
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.hint(), Some(hint), "{err}");
        assert!(err.to_string().contains(hint.remedy()));
    }
}

#[tokio::test]
async fn credentials_never_leak_on_graph_errors() {
    let (server, client) = setup().await;
    let echo = format!("input {INPUT} secret {SECRET} token {TOKEN} new {NEW_TOKEN}");
    let error = ResponseTemplate::new(400).set_body_json(json!({"error": {"message": echo, "error_user_msg": echo, "code": 190, "error_subcode": 467}}));
    for (verb, p) in [
        ("GET", "/v26.0/debug_token"),
        ("GET", "/v26.0/oauth/access_token"),
        ("GET", "/v26.0/oauth/revoke"),
    ] {
        answer(&server, verb, p, error.clone()).await;
    }
    let errors = [
        client.debug_token(INPUT).send().await.unwrap_err(),
        client.refresh_token(APP, INPUT).send().await.unwrap_err(),
        client.revoke_token(APP, INPUT).send().await.unwrap_err(),
    ];
    for err in &errors {
        assert!(err.is_auth(), "{err}");
        assert_no(&format!("{err} {err:?}"), &[INPUT, SECRET, TOKEN]);
    }
}

#[tokio::test]
async fn a_malformed_token_response_does_not_echo_the_new_token() {
    let (server, client) = setup().await;
    answer(
        &server,
        "POST",
        &format!("/v26.0/{SU}/access_tokens"),
        ResponseTemplate::new(200).set_body_raw(
            format!(r#"{{"access_token": ["{NEW_TOKEN}"]}}"#),
            "application/json",
        ),
    )
    .await;
    let err = client
        .system_user(SU)
        .generate_token(APP)
        .scopes([Permission::AdsRead])
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert_no(&format!("{err} {err:?}"), &[NEW_TOKEN]);
}

#[tokio::test]
async fn credentials_never_leak_on_connection_errors() {
    let offline = Client::builder()
        .access_token(TOKEN)
        .app_secret(SECRET)
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    let errors = [
        offline.debug_token(INPUT).send().await.unwrap_err(),
        offline.refresh_token(APP, INPUT).send().await.unwrap_err(),
        offline.revoke_token(APP, INPUT).send().await.unwrap_err(),
        offline
            .system_user(SU)
            .generate_token(APP)
            .scopes([Permission::AdsRead])
            .send()
            .await
            .unwrap_err(),
    ];
    for err in &errors {
        assert!(err.is_connect(), "{err:?}");
        let mut text = format!("{err} {err:?}");
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            text.push_str(&format!(" {s} {s:?}"));
            source = s.source();
        }
        assert_no(
            &text,
            &[
                INPUT,
                SECRET,
                TOKEN,
                "client_secret",
                "fb_exchange_token=",
                "revoke_token=",
            ],
        );
    }
}

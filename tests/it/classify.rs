//! The misreads of issue 26, replayed on loopback: Meta's `is_transient` wins, a block is not
//! a throttle, the other wordings get their hint; and a raw `fields` value outside the Graph
//! grammar never leaves the machine.

use std::time::Duration;

use meta_business::{Client, ErrorClass, ErrorHint, retry::RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::{BIZ, SECRET, TOKEN, received, server};

fn client(server: &wiremock::MockServer) -> Client {
    Client::builder()
        .access_token(TOKEN)
        .app_secret(SECRET)
        .base_url(server.uri())
        // The default policy (3 attempts) with short waits, so a wrong retry shows as requests.
        .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(5)))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Answers `GET /v26.0/{BIZ}` with `body` at `status`; returns the error and the request count.
async fn replay(status: u16, body: Value) -> (meta_business::Error, usize) {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    let err = client(&server)
        .business(BIZ)
        .get()
        .send()
        .await
        .unwrap_err();
    (err, received(&server).await.len())
}

#[tokio::test]
async fn metas_is_transient_false_is_final() {
    let (err, sent) = replay(
        500,
        json!({"error": {"message": "An unknown error occurred",
        "type": "OAuthException", "code": 1, "error_subcode": 1965014, "is_transient": false,
        "fbtrace_id": "A1"}}),
    )
    .await;
    assert_eq!(err.class(), Some(ErrorClass::Transient));
    assert!(!err.is_transient(), "{err}");
    assert_eq!(sent, 1, "Meta said not transient: sent once");
    // The same code without the flag is retried, by the default policy, 3 times.
    let (err, sent) = replay(
        500,
        json!({"error": {"message": "An unknown error occurred",
        "type": "OAuthException", "code": 1, "fbtrace_id": "A2"}}),
    )
    .await;
    assert!(err.is_transient());
    assert_eq!(sent, 3);
    // And `true` makes a code retryable that is not transient by itself.
    let (_, sent) = replay(
        400,
        json!({"error": {"message": "odd", "code": 100,
        "is_transient": true}}),
    )
    .await;
    assert_eq!(sent, 3);
}

#[tokio::test]
async fn an_instagram_action_block_is_not_a_rate_limit() {
    let (err, sent) = replay(
        403,
        json!({"error": {"message": "Action is blocked",
        "type": "OAuthException", "code": 4, "error_subcode": 2207051, "is_transient": false,
        "error_user_title": "Action Is Blocked", "fbtrace_id": "B1"}}),
    )
    .await;
    assert_eq!(sent, 1);
    assert!(!err.is_rate_limited() && !err.is_transient(), "{err}");
    assert_eq!(err.class(), Some(ErrorClass::PolicyBlock));
    assert_eq!(err.hint(), Some(ErrorHint::PolicyBlocked));
}

#[tokio::test]
async fn a_policy_block_says_wait() {
    let (err, sent) = replay(400, json!({"error": {"message": "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
        "type": "OAuthException", "code": 368, "fbtrace_id": "C1"}}))
    .await;
    assert_eq!(sent, 1);
    assert_eq!(err.hint(), Some(ErrorHint::PolicyBlocked));
    let shown = err.to_string();
    assert!(
        shown.contains("do not retry now") && shown.contains("wait"),
        "{shown}"
    );
}

#[tokio::test]
async fn the_other_wordings_of_send_a_proof() {
    let (err, sent) = replay(400, json!({"error": {"message": "(#100) Pages Public Content Access requires either app secret proof or an app token",
        "type": "OAuthException", "code": 100, "fbtrace_id": "D1"}}))
    .await;
    assert_eq!(sent, 1);
    assert_eq!(err.hint(), Some(ErrorHint::BadSignature));
    assert!(err.is_auth());
    assert!(err.to_string().contains("app token"));
}

#[tokio::test]
async fn an_inactive_token_and_a_missing_permission() {
    let (err, _) = replay(400, json!({"error": {"message": "An active access token must be used to query information about the current user.",
        "type": "OAuthException", "code": 2500, "fbtrace_id": "E1"}}))
    .await;
    assert!(err.is_auth() && !err.is_transient());
    assert_eq!(err.hint(), Some(ErrorHint::TokenRequired));
    let (err, _) = replay(
        400,
        json!({"error": {"message": "(#100) Missing Permission",
        "type": "OAuthException", "code": 100, "fbtrace_id": "E2"}}),
    )
    .await;
    assert!(err.is_permission() && !err.is_auth());
    assert_eq!(err.hint(), Some(ErrorHint::PermissionDenied));
}

#[tokio::test]
async fn a_raw_field_list_outside_the_grammar_is_never_sent() {
    let server = server().await;
    let client = client(&server);
    for bad in [
        "id&access_token=x",
        "id,name&debug=all",
        "id=1",
        "id{name",
        "id.limit(5",
    ] {
        let err = client
            .business(BIZ)
            .get()
            .fields_raw(bad)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, meta_business::Error::InvalidInput { field, .. } if field == "fields"),
            "{bad}: {err}"
        );
        assert!(!err.to_string().contains("access_token=x"), "{err}");
        let err = client
            .system_user("61000000000001")
            .get()
            .fields_raw(bad)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, meta_business::Error::InvalidInput { .. }),
            "{err}"
        );
        let err = client
            .business(BIZ)
            .system_users()
            .list()
            .fields_raw(bad)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, meta_business::Error::InvalidInput { .. }),
            "{err}"
        );
    }
    assert!(
        received(&server).await.is_empty(),
        "nothing may reach the server"
    );
}

#[tokio::test]
async fn a_field_expansion_is_sent_as_written() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": BIZ, "name": "Acme"})))
        .mount(&server)
        .await;
    let fields = "id,name,owned_ad_accounts.limit(2){id,name},client_pages.as(pages){id}";
    let business = client(&server)
        .business(BIZ)
        .get()
        .fields_raw(fields)
        .send()
        .await
        .unwrap();
    assert_eq!(business.id.as_str(), BIZ);
    let sent = received(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(crate::common::query(&sent[0])["fields"], fields);
}

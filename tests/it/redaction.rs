//! No output of the crate ever contains the token, the app secret or the proof.

use std::time::Duration;

use meta_business::{AccessTier, Client, Error, SystemUserRole};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

fn assert_clean(text: &str) {
    for canary in [TOKEN, SECRET, &proof_for(TOKEN)] {
        assert!(!text.contains(canary), "secret leaked: {text}");
    }
}

fn assert_error_clean(err: &Error) {
    assert_clean(&format!("{err}"));
    assert_clean(&format!("{err:?}"));
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        assert_clean(&format!("{s} {s:?}"));
        source = s.source();
    }
}

#[test]
fn client_and_builder_debug_are_redacted() {
    let builder = Client::builder().access_token(TOKEN).app_secret(SECRET);
    assert_clean(&format!("{builder:?}"));
    let client = builder.build().unwrap();
    let shown = format!("{client:?}");
    assert_clean(&shown);
    assert!(shown.contains("[redacted]"));
    assert_clean(&format!("{:?}", client.with_token(TOKEN)));
    assert_clean(&format!(
        "{:?}",
        client.business(BIZ).system_users().create("x")
    ));
    assert_clean(&format!("{:?}", client.business(BIZ).owned_pages()));
}

#[test]
fn workflow_options_debug_shows_labels_not_tokens() {
    use meta_business::provision::{AuditOptions, OffboardOptions, PlanOptions};
    use meta_business::{
        SecretString,
        store::{MemoryStore, TokenStore},
    };
    use std::sync::Arc;

    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let audit = AuditOptions::default()
        .token("ci.token", SecretString::from(TOKEN.to_owned()))
        .store(store.clone());
    let shown = format!("{audit:?}");
    assert_clean(&shown);
    assert!(
        shown.contains("ci.token") && shown.contains("TokenStore"),
        "{shown}"
    );

    let mut offboard = OffboardOptions::default();
    offboard.store = Some(store.clone());
    let plan = PlanOptions::default().store(store);
    for shown in [format!("{offboard:?}"), format!("{plan:?}")] {
        assert!(shown.contains("store: Some(TokenStore)"), "{shown}");
    }
}

#[tokio::test]
async fn every_error_variant_is_clean() {
    let logs = captured_logs();
    let (server, client) = setup().await;
    // The server echoes secrets back in every way it can.
    let echo = format!("token {TOKEN} secret {SECRET} proof {}", proof_for(TOKEN));
    let routes = [
        (
            "a",
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": {"message": echo, "error_user_msg": echo,
            "error_user_title": echo, "error_data": {"raw": echo}, "code": 190}})),
        ),
        (
            "b",
            ResponseTemplate::new(502).set_body_raw(format!("<html>{echo}</html>"), "text/html"),
        ),
        (
            "c",
            ResponseTemplate::new(200)
                .set_body_raw(format!("{{\"id\": \"{echo}"), "application/json"),
        ),
        (
            "d",
            ResponseTemplate::new(200).set_body_raw(format!("oops {echo}"), "text/plain"),
        ),
        (
            "e",
            ResponseTemplate::new(200).set_body_json(json!({"id": 1, "created_by": echo})),
        ),
    ];
    for (id, template) in routes {
        Mock::given(method("GET"))
            .and(path(format!("/v26.0/9{id}")))
            .respond_with(template)
            .mount(&server)
            .await;
    }
    let mut errors = Vec::new();
    for id in ["a", "b", "c", "d", "e"] {
        errors.push(
            client
                .get::<meta_business::Business>(&format!("9{id}"), &[])
                .await
                .unwrap_err(),
        );
    }
    errors.push(client.business(BIZ).get().send().await.unwrap_err()); // catch-all Graph error
    Mock::given(method("GET"))
        .and(path("/v26.0/555/owned_pages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [], "paging": {"cursors": {"after": "SAME"}, "next": format!("http://x/?access_token={TOKEN}")}})))
        .mount(&server)
        .await;
    errors.push(
        client
            .business("555")
            .owned_pages()
            .collect(10)
            .await
            .unwrap_err(),
    );
    errors.push(
        client
            .business(BIZ)
            .get()
            .timeout(Duration::from_millis(50))
            .send()
            .await
            .unwrap_err(),
    );
    let offline = Client::builder()
        .access_token(TOKEN)
        .app_secret(SECRET)
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    errors.push(offline.business(BIZ).get().send().await.unwrap_err());
    errors.push(client.business("bad").get().send().await.unwrap_err());
    errors.push(
        Client::builder()
            .access_token(format!("{TOKEN} x"))
            .build()
            .unwrap_err(),
    );
    errors.push(
        client
            .get::<serde_json::Value>("me", &[("access_token", TOKEN)])
            .await
            .unwrap_err(),
    );

    // Quota exceeded.
    SystemUserStore::with(&[("x", "EMPLOYEE")])
        .mount(&server, BIZ)
        .await;
    errors.push(
        client
            .business(BIZ)
            .system_users()
            .create("y")
            .role(SystemUserRole::Employee)
            .send()
            .await
            .unwrap_err(),
    );
    let limited = client_for(&server, AccessTier::Limited);
    errors.push(
        limited
            .business(BIZ)
            .system_users()
            .list()
            .collect(0)
            .await
            .unwrap_err(),
    );

    let kinds: Vec<String> = errors
        .iter()
        .map(|e| {
            format!("{e:?}")
                .split(['(', ' ', '{'])
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    for kind in [
        "Api",
        "UnexpectedResponse",
        "Decode",
        "Transport",
        "InvalidInput",
        "QuotaExceeded",
        "TooManyItems",
        "Pagination",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no {kind} error exercised: {kinds:?}"
        );
    }
    for err in &errors {
        assert_error_clean(err);
    }
    let _ = logs;
    assert_clean(&logs_text());
}

#[tokio::test]
async fn tracing_output_holds_no_secret() {
    let sink = captured_logs();
    let _ = sink;
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": {"message": format!("bad {TOKEN}"), "code": 190}})),
        )
        .mount(&server)
        .await;
    let _ = client.business(BIZ).get().send().await;
    SystemUserStore::default().mount(&server, BIZ).await;
    client
        .business(BIZ)
        .system_users()
        .create("svc")
        .send()
        .await
        .unwrap();

    let logged = logs_text();
    assert!(
        logged.contains("graph_request"),
        "spans were recorded: {logged}"
    );
    assert!(
        logged.contains("graph request failed"),
        "the failure was logged: {logged}"
    );
    assert_clean(&logged);
}

/// Each call runs in a `send` span labelled by its builder (a kind's builders name the kind
/// and the asset), around the request's own span; neither holds a secret.
#[tokio::test]
async fn the_send_span_is_labelled_by_the_builder() {
    let sink = captured_logs();
    let _ = sink;
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/act_4242424242/assigned_users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;
    client
        .ad_account("act_4242424242")
        .assign("100000008899900", [meta_business::AdAccountTask::Analyze])
        .send()
        .await
        .unwrap();
    let logged = logs_text();
    assert!(
        logged.contains("ad account act_4242424242"),
        "the send span names the kind and the asset: {logged}"
    );
    assert_clean(&logged);
}

/// The secret of a second app (`ClientBuilder::app_secret_for`) is a secret like the first:
/// never in `Debug`, scrubbed from what a server echoes on a call made as that app, and used
/// (not the first app's) for that call's proof and `client_secret`.
#[tokio::test]
async fn a_second_apps_secret_is_never_shown() {
    const OTHER_SECRET: &str = "second-app-secret-canary-0123456789";
    let server = wiremock::MockServer::start().await;
    let builder = Client::builder()
        .access_token(TOKEN)
        .app_id("2000000000001")
        .app_secret(SECRET)
        .app_secret_for("2000000000002", OTHER_SECRET)
        .base_url(server.uri())
        .retry_policy(meta_business::retry::RetryPolicy::none());
    assert!(!format!("{builder:?}").contains(OTHER_SECRET));
    let client = builder.build().unwrap();
    assert!(!format!("{client:?}").contains(OTHER_SECRET));
    let as_other = client.as_app("2000000000002").unwrap();
    assert!(!format!("{as_other:?}").contains(OTHER_SECRET));
    // A server that echoes the whole query back in its error.
    Mock::given(method("GET"))
        .and(path("/v26.0/oauth/revoke"))
        .respond_with(|req: &wiremock::Request| {
            let echo = req.url.query().unwrap_or_default().to_owned();
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": {"message": echo, "code": 100}}))
        })
        .mount(&server)
        .await;
    let err = client
        .revoke_token("2000000000002", "EAAB-some-token-of-the-other-app")
        .send()
        .await
        .unwrap_err();
    for text in [format!("{err}"), format!("{err:?}")] {
        assert!(!text.contains(OTHER_SECRET), "{text}");
        assert!(!text.contains(SECRET), "{text}");
    }
    let sent = server.received_requests().await.unwrap();
    let query = sent[0].url.query().unwrap_or_default().to_owned();
    assert!(
        query.contains(&format!("client_secret={OTHER_SECRET}")),
        "the other app's own secret is its client_secret"
    );
    // A third app, whose secret the client lacks, is refused before sending.
    let err = client
        .revoke_token("2000000000003", "EAAB-some-token")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

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

//! Usage headers on every response and error, and pacing before the limit.

use std::time::{Duration, Instant};

use meta_business::testing::GraphEmulator;
use meta_business::{Client, usage::Pacing};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

#[tokio::test]
async fn usage_is_read_on_every_response() {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    assert!(client.last_usage().is_none());
    client
        .business(demo.business_id)
        .get()
        .send()
        .await
        .unwrap();
    let usage = client.last_usage().unwrap();
    assert!(usage.app.is_some());
    assert!(usage.object_pct(demo.business_id).is_some());
}

#[tokio::test]
async fn pacing_waits_before_calling_a_busy_object() {
    let server = server().await;
    let busy = json!({"42": [{"type": "ads_management", "call_count": 95, "total_cputime": 10, "total_time": 10, "estimated_time_to_regain_access": 0}]});
    Mock::given(method("GET"))
        .and(path("/v26.0/act_42/assigned_users"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": []}))
                .insert_header("x-business-use-case-usage", busy.to_string().as_str()),
        )
        .mount(&server)
        .await;
    let client = Client::builder()
        .access_token(TOKEN)
        .base_url(server.uri())
        .pacing(Pacing::new(90.0).max_wait(Duration::from_millis(600)))
        .build()
        .unwrap();
    client
        .ad_account("42")
        .assigned_users(BIZ)
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    client
        .ad_account("42")
        .assigned_users(BIZ)
        .send()
        .await
        .unwrap();
    // 95 % is halfway from the 90 % threshold to 100 %: about half of the 600 ms cap.
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        client.last_usage().unwrap().object_pct("act_42"),
        Some(95.0)
    );
}

/// A client pacing up to 3 s at 100 % app usage, whose retry deadline is 400 ms.
fn short_deadline_client(uri: String) -> Client {
    Client::builder()
        .access_token(TOKEN)
        .base_url(uri)
        .pacing(Pacing::new(50.0).max_wait(Duration::from_secs(3)))
        .retry_policy(
            meta_business::retry::RetryPolicy::default()
                .base_delay(Duration::from_millis(10))
                .deadline(Some(Duration::from_millis(400))),
        )
        .build()
        .unwrap()
}

const FULL: &str = r#"{"call_count":100,"total_cputime":1,"total_time":1}"#;

#[tokio::test]
async fn a_pacing_wait_past_the_retry_deadline_is_not_taken_before_the_first_attempt() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": BIZ, "name": "Biz"}))
                .insert_header("x-app-usage", FULL),
        )
        .expect(2)
        .mount(&server)
        .await;
    let client = short_deadline_client(server.uri());
    client.business(BIZ).get().send().await.unwrap();
    // Pacing now asks for its whole 3 s: more than the 400 ms deadline, so the call goes at
    // once and the server's answer decides.
    let started = Instant::now();
    client.business(BIZ).get().send().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    server.verify().await;
}

#[tokio::test]
async fn a_pacing_wait_past_the_retry_deadline_ends_the_retries_with_the_last_error() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "Please retry", "type": "OAuthException", "code": 2, "is_transient": true}}))
                .insert_header("x-app-usage", FULL),
        )
        .mount(&server)
        .await;
    let client = short_deadline_client(server.uri());
    let started = Instant::now();
    let err = client.business(BIZ).get().send().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The backoff (10 ms) fits, pacing's 3 s does not: no second attempt.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(err.api_error().and_then(|e| e.graph.code), Some(2), "{err}");
    assert!(err.to_string().contains("Please retry"), "{err}");
}

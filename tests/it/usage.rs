//! Usage headers on every response and error, and pacing before the limit.

use std::time::{Duration, Instant};

use meta_business::testing::GraphEmulator;
use meta_business::{Client, Pacing};
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

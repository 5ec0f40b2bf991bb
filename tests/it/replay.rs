//! The corpus of real answers (`tests/fixtures/real/`, each with its source) replayed to the
//! crate on loopback through its public calls: every error gives the class, hint and retry
//! Meta's reference gives it (a transient one is sent 3 times by the default policy, any other
//! once), and every answer decodes to what it says.

use std::time::Duration;

use meta_business::{Client, bulk::BatchItem, retry::RetryPolicy};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{BIZ, SECRET, TOKEN, received, server};

const ERRORS: &str = include_str!("../fixtures/real/errors.json");
const ANSWERS: &str = include_str!("../fixtures/real/answers.json");

fn client(server: &MockServer) -> Client {
    Client::builder()
        .access_token(TOKEN)
        .app_secret(SECRET)
        .base_url(server.uri())
        .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(2)))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn template(entry: &Value, status: u16) -> ResponseTemplate {
    let mut t = ResponseTemplate::new(status).set_body_json(entry["body"].clone());
    if let Some(headers) = entry["headers"].as_object() {
        for (name, value) in headers {
            t = t.insert_header(name.as_str(), value.as_str().unwrap());
        }
    }
    t
}

fn named<T: std::fmt::Debug>(v: Option<T>) -> Value {
    v.map_or(Value::Null, |v| Value::String(format!("{v:?}")))
}

#[tokio::test]
async fn every_real_error_reads_as_metas_reference_says() {
    let corpus: Vec<Value> = serde_json::from_str(ERRORS).unwrap();
    assert!(corpus.len() >= 20, "the corpus shrank: {}", corpus.len());
    for entry in &corpus {
        let source = entry["source"].as_str().unwrap();
        assert!(
            source.starts_with("https://"),
            "every entry names its source"
        );
        let status = entry["status"].as_u64().unwrap() as u16;
        let server = server().await;
        Mock::given(method("GET"))
            .and(path(format!("/v26.0/{BIZ}")))
            .respond_with(template(entry, status))
            .mount(&server)
            .await;
        let err = client(&server)
            .business(BIZ)
            .get()
            .send()
            .await
            .unwrap_err();
        let expect = &entry["expect"];
        let api = err
            .api_error()
            .unwrap_or_else(|| panic!("{source}: not a Graph error: {err:?}"));
        let sent = &entry["body"]["error"];
        assert_eq!(api.graph.code, sent["code"].as_i64(), "{source}");
        assert_eq!(
            api.graph.error_subcode,
            sent["error_subcode"].as_i64(),
            "{source}"
        );
        assert_eq!(
            api.graph.message,
            sent["message"].as_str().unwrap(),
            "{source}"
        );
        assert_eq!(
            api.graph.fbtrace_id.as_deref(),
            sent["fbtrace_id"].as_str(),
            "{source}"
        );
        assert_eq!(api.status, status, "{source}");
        assert_eq!(named(err.class()), expect["class"], "{source}: {err}");
        assert_eq!(named(err.hint()), expect["hint"], "{source}: {err}");
        assert_eq!(
            Value::Bool(err.is_transient()),
            expect["transient"],
            "{source}"
        );
        assert_eq!(
            Value::Bool(err.is_rate_limited()),
            expect["rate_limited"],
            "{source}"
        );
        let tries = if err.is_transient() { 3 } else { 1 };
        assert_eq!(
            received(&server).await.len(),
            tries,
            "{source}: sent as often as its class allows"
        );
        if let Some(hint) = err.hint() {
            assert!(
                err.to_string().contains(hint.remedy()),
                "{source}: the remedy is shown"
            );
        }
    }
}

async fn debug_token(entry: &Value, source: &str) {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/debug_token"))
        .respond_with(template(entry, 200))
        .mount(&server)
        .await;
    let info = client(&server)
        .debug_token("EAAB-REPLAYED-INPUT-TOKEN")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{source}: {e}"));
    let expect = &entry["expect"];
    assert_eq!(info.is_valid, expect["is_valid"].as_bool(), "{source}");
    assert_eq!(
        info.user_id.as_deref(),
        expect["user_id"].as_str(),
        "{source}"
    );
    assert_eq!(info.expires_at, expect["expires_at"].as_u64(), "{source}");
    assert_eq!(
        info.scopes.len() as u64,
        expect["scopes"].as_u64().unwrap(),
        "{source}"
    );
    if let Some(granular) = expect["granular"].as_u64() {
        assert_eq!(info.granular_scopes.len() as u64, granular, "{source}");
    }
}

async fn system_users(entry: &Value, source: &str) {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}/system_users")))
        .respond_with(template(entry, 200))
        .mount(&server)
        .await;
    let page = client(&server)
        .business(BIZ)
        .system_users()
        .list()
        .send()
        .await
        .unwrap_or_else(|e| panic!("{source}: {e}"));
    let expect = &entry["expect"];
    assert_eq!(
        page.data.len() as u64,
        expect["items"].as_u64().unwrap(),
        "{source}"
    );
    assert_eq!(
        page.next_cursor(),
        expect["next_cursor"].as_str(),
        "{source}"
    );
}

async fn batch(entry: &Value, source: &str) {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(template(entry, 200))
        .mount(&server)
        .await;
    let items = vec![
        BatchItem::get(BIZ, &[("fields", "id,name")]).unwrap(),
        BatchItem::get(&format!("{BIZ}/owned_pages"), &[("fields", "id")]).unwrap(),
    ];
    let results = client(&server).batch(items).send().await;
    let expect = &entry["expect"];
    assert_eq!(results.len(), 2, "{source}");
    let first = results[0]
        .as_ref()
        .unwrap_or_else(|e| panic!("{source}: {e}"));
    assert_eq!(first.status, 200, "{source}");
    assert_eq!(first.body["id"], expect["id"], "{source}");
    let class = match &results[1] {
        Err(e) => named(e.class()),
        Ok(answer) => panic!("{source}: an error item decoded as {answer:?}"),
    };
    assert_eq!(class, expect["second_class"], "{source}");
}

async fn usage(entry: &Value, source: &str) {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(template(entry, 200))
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .business(BIZ)
        .get()
        .send()
        .await
        .unwrap_or_else(|e| panic!("{source}: {e}"));
    let tier = client.last_usage().and_then(|u| u.business_tier(BIZ));
    assert_eq!(
        tier.map(|t| t.as_str()),
        entry["expect"]["tier"].as_str(),
        "{source}"
    );
}

#[tokio::test]
async fn every_real_answer_decodes() {
    let corpus: Vec<Value> = serde_json::from_str(ANSWERS).unwrap();
    for entry in &corpus {
        let source = entry["source"].as_str().unwrap();
        assert!(
            source.starts_with("https://"),
            "every entry names its source"
        );
        match entry["call"].as_str().unwrap() {
            "debug_token" => debug_token(entry, source).await,
            "system_users" => system_users(entry, source).await,
            "batch" => batch(entry, source).await,
            "usage" => usage(entry, source).await,
            other => panic!("{source}: no replay for call {other}"),
        }
    }
}

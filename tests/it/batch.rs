//! Batch requests: chunking to 50, order, per-item errors, `null` items, wire shape.

use meta_business::testing::GraphEmulator;
use meta_business::{AdAccountTask, Error, PageTask, bulk::BatchItem};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

fn batch_of(req: &wiremock::Request) -> Vec<Value> {
    serde_json::from_str(&form(req)["batch"]).unwrap()
}

#[tokio::test]
async fn chunks_of_fifty_in_order_with_per_item_errors() {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let mut items = Vec::new();
    for i in 0..120 {
        let edge = if i % 40 == 7 {
            "no_such_edge"
        } else {
            "owned_pages"
        };
        items.push(
            BatchItem::get(
                &format!("{}/{edge}", demo.business_id),
                &[("fields", "id,name"), ("limit", &(1 + i % 3).to_string())],
            )
            .unwrap(),
        );
    }
    let results = client.batch(items).concurrency(2).send().await;
    assert_eq!(results.len(), 120);
    for (i, result) in results.iter().enumerate() {
        if i % 40 == 7 {
            let err = result.as_ref().unwrap_err();
            assert_eq!(err.code(), Some(2500), "{i}");
            assert!(err.to_string().contains("no_such_edge"));
        } else {
            let answer = result.as_ref().unwrap();
            assert_eq!(answer.status, 200);
            let expected = (1 + i % 3).min(2);
            assert_eq!(
                answer.body["data"].as_array().unwrap().len(),
                expected,
                "item {i} kept its own params"
            );
        }
    }
    let posts: Vec<_> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    let sizes: Vec<usize> = posts
        .iter()
        .map(|r| {
            serde_json::from_str::<Vec<Value>>(&r.params["batch"])
                .unwrap()
                .len()
        })
        .collect();
    let mut sorted = sizes.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [20, 50, 50]);
    assert!(posts.iter().all(|r| r.path == "/v26.0/"
        && r.bearer
        && r.proof
        && r.params["include_headers"] == "false"));
}

#[tokio::test]
async fn typed_assignments_ride_in_a_batch() {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let su = client
        .business(demo.business_id)
        .system_users()
        .create("bulk-reporting")
        .send()
        .await
        .unwrap();
    let items = vec![
        client
            .ad_account(demo.ad_accounts[0])
            .assign(&su.id, [AdAccountTask::Analyze])
            .batch_item()
            .unwrap(),
        client
            .ad_account(demo.ad_accounts[1])
            .assign(&su.id, [AdAccountTask::Analyze])
            .batch_item()
            .unwrap(),
        client
            .page(demo.pages[0])
            .assign(&su.id, [PageTask::Analyze])
            .batch_item()
            .unwrap(),
    ];
    let results = client.batch(items).send().await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        emulator.assignments(demo.ad_accounts[1])[su.id.as_str()],
        ["ANALYZE"]
    );
    assert_eq!(
        emulator.assignments(demo.pages[0])[su.id.as_str()],
        ["ANALYZE"]
    );
    // A bad item is refused before anything is sent.
    assert!(
        client
            .catalog(demo.catalog)
            .assign(&su.id, [])
            .batch_item()
            .is_err()
    );
    assert!(matches!(
        client.pixel(demo.pixel).unassign(&su.id).batch_item(),
        Err(Error::Unsupported { .. })
    ));
}

#[tokio::test]
async fn wire_shape_of_a_batch() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"code": 200, "body": "{\"success\":true}"},
            {"code": 200, "headers": [{"name": "X-App-Usage", "value": "{}"}], "body": "{\"data\":[]}"}
        ])))
        .mount(&server)
        .await;
    let items = vec![
        client
            .ad_account("42")
            .assign("7", [AdAccountTask::Manage, AdAccountTask::Analyze])
            .batch_item()
            .unwrap(),
        BatchItem::get("1234/system_users", &[("fields", "id,name")]).unwrap(),
    ];
    let results = client.batch(items).send().await;
    assert_eq!(results[0].as_ref().unwrap().body["success"], true);
    assert!(
        results[1]
            .as_ref()
            .unwrap()
            .headers
            .contains_key("x-app-usage")
    );
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        batch_of(&reqs[0]),
        vec![
            json!({"method": "POST", "relative_url": "act_42/assigned_users", "body": "user=7&tasks=%5B%22MANAGE%22%2C%22ANALYZE%22%5D"}),
            json!({"method": "GET", "relative_url": "1234/system_users?fields=id%2Cname"}),
        ]
    );
    assert!(BatchItem::get("me", &[("access_token", "x")]).is_err());
}

#[tokio::test]
async fn null_items_are_sent_again() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"code": 200, "body": "{\"id\":\"1\"}"}, null])),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"code": 200, "body": "{\"id\":\"2\"}"}])),
        )
        .mount(&server)
        .await;
    let items = vec![
        BatchItem::get("1", &[]).unwrap(),
        BatchItem::get("2", &[]).unwrap(),
    ];
    let results = client.batch(items).send().await;
    assert_eq!(results[0].as_ref().unwrap().body["id"], "1");
    assert_eq!(results[1].as_ref().unwrap().body["id"], "2");
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        batch_of(&reqs[1]),
        vec![json!({"method": "GET", "relative_url": "2"})]
    );
}

#[tokio::test]
async fn a_failed_chunk_fails_each_of_its_items() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": {"message": "bad batch", "code": 100}})),
        )
        .mount(&server)
        .await;
    let results = client
        .batch(vec![
            BatchItem::get("1", &[]).unwrap(),
            BatchItem::get("2", &[]).unwrap(),
        ])
        .send()
        .await;
    for result in results {
        assert!(matches!(
            result,
            Err(Error::BatchFailed {
                transient: false,
                ..
            })
        ));
        // The batch request's own error is kept as the source, typed.
        let err = result.unwrap_err();
        let source = std::error::Error::source(&err).expect("a source");
        let shared = source
            .downcast_ref::<std::sync::Arc<Error>>()
            .unwrap_or_else(|| panic!("{source:?}"));
        assert_eq!(shared.code(), Some(100));
    }
}

#[tokio::test]
async fn bulk_modes_respect_their_concurrency_and_validate_first() {
    use meta_business::testing::BusinessSeed;
    use meta_business::{AdAccountId, CatalogTask, bulk::BulkMode};
    use std::time::Duration;

    let emulator = GraphEmulator::builder()
        .latency(Duration::from_millis(30))
        .business(
            BusinessSeed::new("11", "Bulk")
                .app("21", "App", "secret-0123456789")
                .admin("EAAE-admin")
                .catalog("51", "C")
                .ad_accounts(300, 300),
        )
        .start()
        .await;
    let client = emulator.client("EAAE-admin").unwrap();
    let su = client
        .business("11")
        .system_users()
        .create("bulk-sync")
        .send()
        .await
        .unwrap();
    let ops = |n: u64| {
        (0..n).map(|i| {
            client
                .ad_account(AdAccountId::from(300 + i))
                .assign(&su.id, [AdAccountTask::Analyze])
        })
    };

    // An invalid operation stops everything before anything is sent.
    emulator.clear_requests();
    let mut mixed: Vec<meta_business::bulk::BulkOp> = ops(3).map(Into::into).collect();
    mixed.push(
        client
            .catalog("51")
            .assign(&su.id, Vec::<CatalogTask>::new())
            .into(),
    );
    let err = client.bulk(mixed).send().await.unwrap_err();
    assert!(err.to_string().contains("ops[3].tasks"), "{err}");
    assert!(emulator.requests().is_empty());

    let results = client
        .bulk(ops(300))
        .mode(BulkMode::Batch)
        .concurrency(2)
        .send()
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        emulator.requests().len(),
        6,
        "300 operations, 6 batches of 50"
    );
    assert!(
        emulator.max_in_flight() <= 2,
        "{}",
        emulator.max_in_flight()
    );

    emulator.clear_requests();
    let removals = (0..30u64).map(|i| {
        client
            .ad_account(AdAccountId::from(300 + i))
            .unassign(&su.id)
    });
    let results = client
        .bulk(removals)
        .mode(BulkMode::Concurrent)
        .concurrency(3)
        .send()
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(emulator.requests().len(), 30);
    assert!(
        emulator.max_in_flight() <= 3,
        "{}",
        emulator.max_in_flight()
    );
    assert!(!emulator.assignments("act_300").contains_key(su.id.as_str()));
    assert!(emulator.assignments("act_599").contains_key(su.id.as_str()));
}

#[tokio::test]
async fn a_bulk_timeout_applies_to_operations_without_their_own_and_to_batches() {
    use meta_business::{bulk::BulkMode, retry::RetryPolicy};
    use std::time::Duration;

    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": true}))
                .set_delay(Duration::from_millis(600)),
        )
        .mount(&server)
        .await;
    let client = meta_business::Client::builder()
        .access_token(TOKEN)
        .base_url(server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let su = "100000000000001";
    let ops = || -> Vec<meta_business::bulk::BulkOp> {
        vec![
            // No timeout of its own: the bulk's 200 ms, shorter than the server's 600 ms.
            client
                .ad_account("3000000000001")
                .assign(su, [AdAccountTask::Analyze])
                .into(),
            // Its own 5 s wins over the bulk's.
            client
                .page("4000000000001")
                .assign(su, [PageTask::Analyze])
                .timeout(Duration::from_secs(5))
                .into(),
        ]
    };
    let results = client
        .bulk(ops())
        .mode(BulkMode::Sequential)
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap();
    assert!(results[0].as_ref().unwrap_err().is_timeout(), "{results:?}");
    assert!(results[1].is_ok(), "{results:?}");

    // In a batch, the bulk's timeout is the batch request's: both items fail with it.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .set_delay(Duration::from_millis(600)),
        )
        .mount(&server)
        .await;
    let results = client
        .bulk(ops())
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap();
    for result in &results {
        match result {
            Err(Error::BatchFailed {
                source: Some(source),
                ..
            }) => assert!(source.is_timeout(), "{source:?}"),
            other => panic!("expected the batch request's timeout, got {other:?}"),
        }
    }
    assert_eq!(received(&server).await.len(), 1);
}

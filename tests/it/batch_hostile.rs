//! Batches against servers that answer wrongly: each answer mapped to its call exactly (a
//! missing answer leaves the call's outcome unknown and a create is never sent twice; extra
//! items fail the request), and every extra round held to the caller's retry policy and
//! deadline, whatever the server says.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use meta_business::testing::{BusinessSeed, Fault, FaultRule, GraphEmulator};
use meta_business::{
    AdAccountId, AdAccountTask, Client, Error,
    bulk::{BatchItem, BulkMode},
    retry::RetryPolicy,
};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::*;

const BUSINESS: &str = "1000000000001";
const APP: &str = "2000000000001";
const ADMIN: &str = "EAAE-batch-hostile-admin";
const FIRST: u64 = 3_000_000_000_001;

/// A business on the Full tier (room for several system users) with three ad accounts.
async fn world() -> (GraphEmulator, Client) {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new(BUSINESS, "Batch")
                .tier(meta_business::AccessTier::Full)
                .app(APP, "App", "batch-app-secret-0123")
                .admin(ADMIN)
                .ad_accounts(FIRST, 3),
        )
        .start()
        .await;
    let client = emulator
        .client_builder(ADMIN)
        .app_secret("batch-app-secret-0123")
        .build()
        .unwrap();
    (emulator, client)
}

/// The calls each batch request carried (`METHOD relative_url`).
fn carried(req: &Request) -> Vec<String> {
    let items: Vec<Value> = serde_json::from_str(&form(req)["batch"]).unwrap();
    items
        .iter()
        .map(|i| format!("{} {}", i["method"], i["relative_url"]).replace('"', ""))
        .collect()
}

fn batch_requests(emulator: &GraphEmulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v26.0/")
        .count()
}

/// A client of `server` with this policy and a 5 s timeout.
fn client_with(server: &MockServer, policy: RetryPolicy) -> Client {
    Client::builder()
        .access_token(TOKEN)
        .app_secret(SECRET)
        .base_url(server.uri())
        .timeout(Duration::from_secs(5))
        .retry_policy(policy)
        .build()
        .unwrap()
}

fn gets(prefix: &str, n: usize) -> Vec<BatchItem> {
    (0..n)
        .map(|i| BatchItem::get(&format!("{prefix}{i}"), &[]).unwrap())
        .collect()
}

#[tokio::test]
async fn a_server_that_runs_every_create_but_answers_one_gets_no_second_create() {
    let (emulator, client) = world().await;
    let holder = client
        .business(BUSINESS)
        .system_users()
        .create("holder")
        .send()
        .await
        .unwrap();
    client
        .system_user(&holder.id)
        .install_app(APP)
        .send()
        .await
        .unwrap();
    emulator.clear_requests();
    // Every call is carried out, then the answer holds the first item only.
    emulator.inject(
        FaultRule::new(Fault::after_work(Fault::Raw {
            status: 200,
            body: json!([{"code": 200, "body": "{\"id\":\"100000000000099\"}"}]).to_string(),
        }))
        .on("POST", "/v26.0/")
        .times(1),
    );
    let users = format!("{BUSINESS}/system_users");
    let items = vec![
        BatchItem::post(&users, &[("name", "svc-a"), ("role", "EMPLOYEE")]).unwrap(),
        BatchItem::post(&users, &[("name", "svc-b"), ("role", "EMPLOYEE")]).unwrap(),
        BatchItem::post(
            &format!("{BUSINESS}/system_user_access_tokens"),
            &[
                ("system_user_id", holder.id.as_str()),
                ("scope", "ads_read"),
            ],
        )
        .unwrap(),
        BatchItem::post(&users, &[("name", "svc-c"), ("role", "EMPLOYEE")]).unwrap(),
    ];
    let results = client.batch(items).send().await;

    assert_eq!(results[0].as_ref().unwrap().body["id"], "100000000000099");
    for (i, result) in results.iter().enumerate().skip(1) {
        let err = result.as_ref().unwrap_err();
        assert!(err.outcome_unknown(), "{i}: {err}");
        assert!(!err.is_transient(), "{i}: not to be retried blindly: {err}");
        assert!(
            err.to_string().contains("1 item(s) for 4 calls"),
            "{i}: {err}"
        );
    }
    // The server's state: each create once, one token minted, and one batch request.
    let mut names: Vec<String> = emulator
        .system_users(BUSINESS)
        .into_iter()
        .map(|u| u.name)
        .collect();
    names.sort();
    assert_eq!(names, ["holder", "svc-a", "svc-b", "svc-c"]);
    assert_eq!(emulator.valid_tokens_of(holder.id.as_str()), 1);
    assert_eq!(batch_requests(&emulator), 1);
}

#[tokio::test]
async fn unanswered_idempotent_calls_go_again_and_land_once() {
    let (emulator, client) = world().await;
    let su = client
        .business(BUSINESS)
        .system_users()
        .create("bulk-reporting")
        .send()
        .await
        .unwrap();
    emulator.clear_requests();
    emulator.inject(
        FaultRule::new(Fault::after_work(Fault::Raw {
            status: 200,
            body: json!([{"code": 200, "body": "{\"success\":true}"}]).to_string(),
        }))
        .on("POST", "/v26.0/")
        .times(1),
    );
    let ops = (0..3).map(|i| {
        client
            .ad_account(AdAccountId::from(FIRST + i))
            .assign(&su.id, [AdAccountTask::Analyze])
    });
    let results = client.bulk(ops).send().await.unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // The two unanswered assignments went again, alone; each account holds the user once.
    let calls = emulator.calls();
    let second: Vec<&str> = calls
        .iter()
        .skip_while(|c| !c.in_batch)
        .skip_while(|c| c.in_batch)
        .skip(1)
        .take_while(|c| c.in_batch)
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(
        second,
        [
            format!("/v26.0/act_{}/assigned_users", FIRST + 1),
            format!("/v26.0/act_{}/assigned_users", FIRST + 2)
        ]
    );
    assert_eq!(batch_requests(&emulator), 2);
    for i in 0..3 {
        let held = emulator.assignments(&format!("act_{}", FIRST + i));
        assert_eq!(held.len(), 1);
        assert_eq!(held[su.id.as_str()], ["ANALYZE"]);
    }
}

#[tokio::test]
async fn of_a_mixed_batch_only_the_idempotent_unanswered_calls_go_again() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"code": 200, "body": "{\"id\":\"1\"}"}])),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"code": 200, "body": "{\"id\":\"3\"}"}])),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let items = vec![
        BatchItem::get("1", &[]).unwrap(),
        BatchItem::post(&format!("{BIZ}/system_users"), &[("name", "svc")]).unwrap(),
        BatchItem::get("3", &[]).unwrap(),
    ];
    let results = client.batch(items).send().await;
    assert_eq!(results[0].as_ref().unwrap().body["id"], "1");
    assert!(results[1].as_ref().unwrap_err().outcome_unknown());
    assert_eq!(results[2].as_ref().unwrap().body["id"], "3");
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 2);
    assert_eq!(carried(&reqs[1]), ["GET 3"], "the create is not sent again");
}

#[tokio::test]
async fn more_items_than_calls_fail_every_call_of_the_request() {
    let (server, client) = setup().await;
    // Three items for two calls: whichever is the stray, none can be trusted.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"code": 200, "body": "true"},
            {"code": 400, "body": "{\"error\":{\"message\":\"(#100) no\",\"code\":100}}"},
            {"code": 200, "body": "true"}
        ])))
        .mount(&server)
        .await;
    let su = "100000000000001";
    let ops = || {
        vec![
            client
                .ad_account("3000000000001")
                .assign(su, [AdAccountTask::Analyze]),
            client
                .ad_account("3000000000002")
                .assign(su, [AdAccountTask::Analyze]),
        ]
    };
    let results = client
        .bulk(ops())
        .mode(BulkMode::Batch)
        .send()
        .await
        .unwrap();
    assert_eq!(results.len(), 2);
    for result in &results {
        let err = result.as_ref().unwrap_err();
        assert!(err.outcome_unknown(), "{err}");
        assert!(err.to_string().contains("3 item(s) for 2 calls"), "{err}");
    }
    // Idempotent as they are, an answer that cannot be matched is not sent again.
    assert_eq!(received(&server).await.len(), 1);

    let results = client.batch(gets("n", 2)).send().await;
    assert!(results.iter().all(Result::is_err), "{results:?}");
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn answers_that_cannot_be_matched_fail_the_batch_and_send_no_create_again() {
    let bodies = [
        json!({"data": []}),
        json!("[]"),
        json!([{"status": 200}, {"status": 200}]),
        json!([1, 2]),
        json!([{"code": 200, "body": "true"}, {"code": 70000, "body": "true"}]),
        json!([{"code": 200, "body": "true"}, "x"]),
    ];
    for body in bodies {
        let (server, client) = setup().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
            .mount(&server)
            .await;
        let items = vec![
            BatchItem::post(&format!("{BIZ}/system_users"), &[("name", "a")]).unwrap(),
            BatchItem::post(&format!("{BIZ}/system_users"), &[("name", "b")]).unwrap(),
        ];
        let results = client.batch(items).send().await;
        for result in &results {
            let err = result.as_ref().expect_err(&body.to_string());
            assert!(err.outcome_unknown(), "{body}: {err}");
        }
        assert_eq!(received(&server).await.len(), 1, "{body}");
    }
}

#[tokio::test]
async fn null_items_go_again_only_as_often_as_the_policy_allows() {
    for (policy, sent) in [
        (RetryPolicy::none(), 1),
        (
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(Duration::from_millis(1)),
            3,
        ),
    ] {
        let server = server().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([null, null])))
            .mount(&server)
            .await;
        let client = client_with(&server, policy);
        let results = client.batch(gets("n", 2)).send().await;
        for result in &results {
            let err = result.as_ref().unwrap_err();
            assert!(err.to_string().contains("did not execute"), "{err}");
        }
        assert_eq!(received(&server).await.len(), sent, "{policy:?}");
    }
}

/// A rate limit on every request, flagged transient, with no wait hint.
fn always_throttled() -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({"error": {
        "message": "(#4) Application request limit reached",
        "type": "OAuthException", "code": 4, "is_transient": true}}))
}

#[tokio::test]
async fn a_batch_throttled_on_every_request_stops_after_the_policy_s_attempts() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(always_throttled())
        .mount(&server)
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(3)
        .base_delay(Duration::from_millis(1));
    let client = client_with(&server, policy);
    let started = Instant::now();
    let mut items = gets("n", 2);
    items.insert(
        1,
        BatchItem::post(&format!("{BIZ}/system_users"), &[("name", "svc")]).unwrap(),
    );
    let results = tokio::time::timeout(Duration::from_secs(10), client.batch(items).send())
        .await
        .expect("the batch ends within the policy");
    assert!(started.elapsed() < Duration::from_secs(2));
    for result in &results {
        match result {
            Err(Error::BatchFailed {
                source: Some(source),
                ..
            }) => assert!(source.is_rate_limited(), "{source}"),
            other => panic!("expected the rate limit, got {other:?}"),
        }
    }
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 3, "3 attempts in all");
    // The create went once; the reads went again.
    assert_eq!(carried(&reqs[0]).len(), 3);
    assert_eq!(carried(&reqs[1]), ["GET n0", "GET n1"]);
    assert_eq!(carried(&reqs[2]), ["GET n0", "GET n1"]);

    // Bulk in batch mode, adaptive or fixed, the same.
    for fixed in [false, true] {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(always_throttled())
            .mount(&server)
            .await;
        let ops = (0..2).map(|i| {
            client
                .ad_account(AdAccountId::from(FIRST + i))
                .assign("100000000000001", [AdAccountTask::Analyze])
        });
        let bulk = if fixed {
            client.bulk(ops).concurrency(2)
        } else {
            client.bulk(ops)
        };
        let results = tokio::time::timeout(Duration::from_secs(10), bulk.send())
            .await
            .expect("the bulk ends within the policy")
            .unwrap();
        assert!(results.iter().all(Result::is_err));
        assert_eq!(received(&server).await.len(), 3, "fixed: {fixed}");
    }
}

#[tokio::test]
async fn a_wait_hint_past_the_deadline_stops_the_batch_at_once() {
    // The emulator's throttle: access back in 5 minutes, past the default 2-minute deadline.
    let (emulator, client) = world().await;
    emulator.inject(FaultRule::new(Fault::throttle(80004)).on("POST", "/v26.0/"));
    let started = Instant::now();
    let results = tokio::time::timeout(
        Duration::from_secs(10),
        client.batch(gets(&format!("{BUSINESS}/x"), 2)).send(),
    )
    .await
    .expect("no sleep past the deadline");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(results.iter().all(Result::is_err));
    assert_eq!(batch_requests(&emulator), 1);

    // `Retry-After` at u64::MAX, past it (2^64) or not a number: never a sleep past the deadline.
    for retry_after in [
        "18446744073709551615",
        "18446744073709551616",
        "NaN",
        "1e30",
    ] {
        let server = server().await;
        Mock::given(method("POST"))
            .respond_with(always_throttled().insert_header("retry-after", retry_after))
            .mount(&server)
            .await;
        let policy = RetryPolicy::default()
            .max_attempts(3)
            .base_delay(Duration::from_millis(1))
            .deadline(Some(Duration::from_secs(3)));
        let client = client_with(&server, policy);
        let started = Instant::now();
        let results =
            tokio::time::timeout(Duration::from_secs(10), client.batch(gets("n", 2)).send())
                .await
                .expect("no sleep past the deadline");
        assert!(started.elapsed() < Duration::from_secs(4), "{retry_after}");
        assert!(results.iter().all(Result::is_err));
        assert!(received(&server).await.len() <= 3, "{retry_after}");
    }
}

#[tokio::test]
async fn usage_at_the_ceiling_pauses_the_batch_only_until_the_deadline() {
    let server = server().await;
    let answered = |req: &Request| {
        let n = carried(req).len();
        let items: Vec<Value> = (0..n)
            .map(|_| json!({"code": 200, "body": "{\"id\":\"1\"}"}))
            .collect();
        ResponseTemplate::new(200)
            .insert_header("x-app-usage", r#"{"call_count":1e308,"total_time":"NaN"}"#)
            .set_body_json(items)
    };
    Mock::given(method("POST"))
        .respond_with(answered)
        .mount(&server)
        .await;
    let policy = RetryPolicy::none().deadline(Some(Duration::from_secs(2)));
    let client = client_with(&server, policy);
    let started = Instant::now();
    let results = tokio::time::timeout(
        Duration::from_secs(10),
        client.batch(gets("n", 60)).adaptive(1).send(),
    )
    .await
    .expect("the pauses end at the deadline");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    // The first 50 went; after that, a probe at a time while the pauses fit the deadline.
    let done = results.iter().filter(|r| r.is_ok()).count();
    assert!((50..60).contains(&done), "{done}");
    for result in &results[done..] {
        let err = result.as_ref().unwrap_err();
        assert!(err.to_string().contains("deadline"), "{err}");
    }
    // Every call sent at most once (the policy has one attempt).
    let mut times: BTreeMap<String, usize> = BTreeMap::new();
    for req in received(&server).await {
        for call in carried(&req) {
            *times.entry(call).or_default() += 1;
        }
    }
    assert_eq!(times.len(), done);
    assert!(times.values().all(|n| *n == 1), "{times:?}");
}

/// Answers drawn from a fixed sequence of hostile shapes: any status, bodies that are not
/// batches, items missing, extra or null, `Retry-After` up to 2^64 and past it, usage headers
/// of `NaN` and 1e308, rate limits with and without hints.
fn hostile(counter: &AtomicU64, req: &Request) -> ResponseTemplate {
    let n = counter.fetch_add(1, Ordering::Relaxed);
    let mut x = n
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |m: u64| {
        x ^= x >> 29;
        x = x.wrapping_mul(0xbf58476d1ce4e5b9);
        (x >> 17) % m
    };
    let calls = carried(req).len();
    let item = json!({"code": 200, "body": "{\"id\":\"1\"}"});
    let items = |k: usize, null: bool| {
        Value::Array(
            (0..k)
                .map(|_| if null { Value::Null } else { item.clone() })
                .collect(),
        )
    };
    let body = match next(9) {
        0 => items(calls, false),
        1 => items(calls.saturating_sub(1), false),
        2 => items(calls + 1, false),
        3 => items(calls, true),
        4 => json!({"error": {"message": "(#4) limit", "code": 4, "is_transient": true}}),
        5 => json!({"error": {"message": "(#80004) limit", "code": 80004}}),
        6 => json!("not a batch"),
        7 => json!({"error": {"message": "(#2) later", "code": 2, "is_transient": true}}),
        _ => json!([{"code": "NaN"}]),
    };
    let status = [200, 400, 429, 500, 503, 200][next(6) as usize];
    let retry_after = [
        "18446744073709551616",
        "18446744073709551615",
        "NaN",
        "-1",
        "3600",
        "1",
    ][next(6) as usize];
    ResponseTemplate::new(status)
        .insert_header("retry-after", retry_after)
        .insert_header("x-app-usage", r#"{"call_count":"NaN","total_time":1e308}"#)
        .insert_header(
            "x-business-use-case-usage",
            r#"{"1":[{"type":"ads_management","call_count":1e308,"estimated_time_to_regain_access":1e300}]}"#,
        )
        .set_body_json(body)
}

#[tokio::test]
async fn no_hostile_answer_keeps_a_batch_past_the_policy() {
    for (policy, most) in [
        (RetryPolicy::none(), 1),
        (
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(Duration::from_millis(1))
                .deadline(Some(Duration::from_secs(3))),
            3,
        ),
    ] {
        let server = MockServer::start().await;
        let counter = AtomicU64::new(0);
        Mock::given(method("POST"))
            .respond_with(move |req: &Request| hostile(&counter, req))
            .mount(&server)
            .await;
        let client = client_with(&server, policy);
        let started = Instant::now();
        // 16 batch calls of 60 items (two requests each), all at once.
        let calls = (0..16).map(|c| client.batch(gets(&format!("c{c}n"), 60)).send());
        let all = tokio::time::timeout(
            Duration::from_secs(10),
            futures_util::future::join_all(calls),
        )
        .await
        .expect("every batch call ends within the policy");
        assert!(started.elapsed() < Duration::from_secs(5), "{policy:?}");
        assert!(all.iter().all(|r| r.len() == 60));
        let reqs = received(&server).await;
        let mut times: BTreeMap<String, usize> = BTreeMap::new();
        for req in &reqs {
            for call in carried(req) {
                *times.entry(call).or_default() += 1;
            }
        }
        assert!(
            times.values().all(|n| *n <= most),
            "{policy:?}: a call sent more than {most} times"
        );
        if most == 1 {
            assert_eq!(reqs.len(), 32, "one request per chunk, none again");
        }
    }
}

#[tokio::test]
async fn no_retry_starts_after_the_deadline_even_behind_slow_requests() {
    let server = server().await;
    // The first of four requests is throttled at once; the other three answer after the
    // deadline, while the throttled one waits behind them (one in flight after a throttle).
    Mock::given(method("POST"))
        .respond_with(|req: &Request| {
            let calls = carried(req);
            if calls[0] == "GET a0" {
                return always_throttled();
            }
            let items: Vec<Value> = calls
                .iter()
                .map(|_| json!({"code": 200, "body": "{\"id\":\"1\"}"}))
                .collect();
            ResponseTemplate::new(200)
                .set_body_json(items)
                .set_delay(Duration::from_millis(1500))
        })
        .mount(&server)
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(3)
        .base_delay(Duration::from_millis(1))
        .deadline(Some(Duration::from_secs(1)));
    let client = client_with(&server, policy);
    let results = client.batch(gets("a", 200)).send().await;
    for result in &results[..50] {
        match result {
            Err(Error::BatchFailed {
                source: Some(source),
                ..
            }) => assert!(source.is_rate_limited(), "{source}"),
            other => panic!("expected the rate limit, got {other:?}"),
        }
    }
    assert!(results[50..].iter().all(Result::is_ok));
    assert_eq!(
        received(&server).await.len(),
        4,
        "the throttled one not sent again"
    );
}

#[tokio::test]
async fn a_call_answered_null_did_not_run_so_its_outcome_is_known() {
    for policy in [
        RetryPolicy::none(),
        RetryPolicy::default().base_delay(Duration::from_millis(1)),
    ] {
        let server = server().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([null, null])))
            .mount(&server)
            .await;
        let client = client_with(&server, policy);
        let items = vec![
            BatchItem::get("n0", &[]).unwrap(),
            BatchItem::post(&format!("{BIZ}/system_users"), &[("name", "svc")]).unwrap(),
        ];
        let results = client.batch(items).send().await;
        for result in &results {
            let err = result.as_ref().unwrap_err();
            assert!(err.to_string().contains("did not execute"), "{err}");
            assert!(!err.outcome_unknown(), "{policy:?}: {err}");
        }
        assert!(!received(&server).await.is_empty());
    }
}

#[tokio::test]
async fn a_call_never_sent_did_not_run_so_its_outcome_is_known() {
    let server = server().await;
    let answered = |req: &Request| {
        let items: Vec<Value> = (0..carried(req).len())
            .map(|_| json!({"code": 200, "body": "{\"id\":\"1\"}"}))
            .collect();
        ResponseTemplate::new(200)
            .insert_header("x-app-usage", r#"{"call_count":100,"total_time":100}"#)
            .set_body_json(items)
    };
    Mock::given(method("POST"))
        .respond_with(answered)
        .mount(&server)
        .await;
    let policy = RetryPolicy::none().deadline(Some(Duration::from_millis(200)));
    let client = client_with(&server, policy);
    let results = client.batch(gets("n", 60)).adaptive(1).send().await;
    let sent: usize = received(&server)
        .await
        .iter()
        .map(|r| carried(r).len())
        .sum();
    let unsent: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(unsent.len(), 60 - sent, "{unsent:?}");
    assert!(!unsent.is_empty());
    for err in unsent {
        assert!(err.to_string().contains("not sent"), "{err}");
        assert!(!err.outcome_unknown(), "{err}");
    }
}

#[tokio::test]
async fn a_call_whose_answer_was_lost_once_may_have_run_whatever_comes_after() {
    let server = server().await;
    // The first answer has no item for the GET (it may have run); the second says `null`.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([null])))
        .with_priority(2)
        .mount(&server)
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(2)
        .base_delay(Duration::from_millis(1));
    let client = client_with(&server, policy);
    let results = client.batch(gets("n", 1)).send().await;
    let err = results[0].as_ref().unwrap_err();
    assert!(err.to_string().contains("did not execute"), "{err}");
    assert!(err.outcome_unknown(), "{err}");
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_batch_request_refused_as_a_whole_ran_nothing_and_one_lost_may_have() {
    for (answer, unknown) in [
        (
            ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}})),
            false,
        ),
        (
            ResponseTemplate::new(500).set_body_json(json!({"error": {
                "message": "An unknown error occurred", "type": "OAuthException", "code": 1,
                "is_transient": true}})),
            true,
        ),
    ] {
        let server = server().await;
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let client = client_with(&server, RetryPolicy::none());
        let items =
            vec![BatchItem::post(&format!("{BIZ}/system_users"), &[("name", "svc")]).unwrap()];
        let results = client.batch(items).send().await;
        let err = results[0].as_ref().unwrap_err();
        assert!(matches!(err, Error::BatchFailed { .. }), "{err:?}");
        assert_eq!(err.outcome_unknown(), unknown, "{err}");
        assert_eq!(received(&server).await.len(), 1);
    }
}

//! The fault suite: for each failure, how many attempts were made, the final typed error, that
//! creates never happen twice, and that no secret reaches an error or a log line.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use meta_business::testing::{DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{AdAccountTask, Client, Error, Permission, retry::RetryPolicy};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(2))
        .max_delay(Duration::from_millis(20))
}

fn client_at(uri: &str) -> Client {
    Client::builder()
        .access_token(TOKEN)
        .app_secret(SECRET)
        .base_url(uri)
        .retry_policy(fast())
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap()
}

fn assert_clean(err: &Error) {
    let mut text = format!("{err} {err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    for canary in [TOKEN, SECRET, &proof_for(TOKEN)] {
        assert!(!text.contains(canary), "secret in error: {text}");
        assert!(!logs_text().contains(canary), "secret in the logs");
    }
}

/// What goes wrong, the response, the attempts expected for a GET, a check on the final error.
type HttpFault = (&'static str, ResponseTemplate, usize, fn(&Error) -> bool);

fn http_faults() -> Vec<HttpFault> {
    let graph = |status: u16, code: i64| {
        ResponseTemplate::new(status).set_body_json(json!({"error": {"message": format!("code {code}"), "type": "OAuthException", "code": code}}))
    };
    vec![
        (
            "HTTP 500",
            ResponseTemplate::new(500).set_body_raw("<html>Internal Error</html>", "text/html"),
            3,
            |e| matches!(e, Error::UnexpectedResponse(r) if r.status == 500),
        ),
        (
            "HTTP 502",
            ResponseTemplate::new(502).set_body_raw("<html>Bad Gateway</html>", "text/html"),
            3,
            |e| matches!(e, Error::UnexpectedResponse(r) if r.status == 502),
        ),
        (
            "HTTP 503",
            ResponseTemplate::new(503).set_body_raw("Service Unavailable", "text/plain"),
            3,
            |e| matches!(e, Error::UnexpectedResponse(r) if r.status == 503),
        ),
        ("code 1", graph(500, 1), 3, |e| e.code() == Some(1)),
        ("code 2", graph(500, 2), 3, |e| e.code() == Some(2)),
        ("code 4", graph(400, 4), 3, |e| {
            e.code() == Some(4) && e.is_rate_limited()
        }),
        ("code 17", graph(400, 17), 3, |e| e.code() == Some(17)),
        ("code 32", graph(400, 32), 3, |e| e.code() == Some(32)),
        ("code 613", graph(400, 613), 3, |e| e.code() == Some(613)),
        ("code 80004", graph(400, 80004), 3, |e| {
            e.code() == Some(80004)
        }),
        (
            "timeout",
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "1"}))
                .set_delay(Duration::from_secs(2)),
            3,
            Error::is_timeout,
        ),
        (
            "truncated JSON",
            ResponseTemplate::new(200).set_body_raw(r#"{"id":"12"#, "application/json"),
            1,
            |e| matches!(e, Error::Decode { .. }),
        ),
        (
            "HTML with 200",
            ResponseTemplate::new(200).set_body_raw("<html>login</html>", "text/html"),
            1,
            |e| matches!(e, Error::UnexpectedResponse(_)),
        ),
        ("200 carrying code 2", graph(200, 2), 3, |e| {
            e.code() == Some(2)
        }),
        ("200 carrying code 100", graph(200, 100), 1, |e| {
            e.code() == Some(100)
        }),
        ("code 190", graph(400, 190), 1, Error::is_auth),
    ]
}

#[tokio::test]
async fn each_fault_on_a_get_retries_as_the_policy_says() {
    captured_logs();
    for (what, template, attempts, check) in http_faults() {
        let server = server().await;
        Mock::given(method("GET"))
            .and(path(format!("/v26.0/{BIZ}")))
            .respond_with(template)
            .mount(&server)
            .await;
        let err = client_at(&server.uri())
            .business(BIZ)
            .get()
            .send()
            .await
            .unwrap_err();
        assert!(check(&err), "{what}: {err:?}");
        assert_eq!(received(&server).await.len(), attempts, "{what}: attempts");
        assert_clean(&err);
    }
}

#[tokio::test]
async fn idempotent_posts_retry_and_other_posts_do_not() {
    for (what, template, attempts, _) in http_faults()
        .into_iter()
        .filter(|f| f.2 == 3 && f.0 != "timeout")
    {
        let server = server().await;
        Mock::given(method("POST"))
            .respond_with(template)
            .mount(&server)
            .await;
        let client = client_at(&server.uri());
        // Assigning tasks sets a state: safe to send again.
        client
            .ad_account("42")
            .assign("7", [AdAccountTask::Analyze])
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            count(&server, "POST", "/v26.0/act_42/assigned_users").await,
            attempts,
            "{what}"
        );
        // Generating a token creates one: sent once.
        let err = client
            .system_user("7")
            .generate_token("9")
            .scopes([Permission::AdsRead])
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            count(&server, "POST", "/v26.0/7/access_tokens").await,
            1,
            "{what}"
        );
        assert_clean(&err);
    }
}

#[tokio::test]
async fn a_transient_failure_then_success_returns_the_success() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": BIZ, "name": "Acme"})))
        .mount(&server)
        .await;
    let biz = client_at(&server.uri())
        .business(BIZ)
        .get()
        .send()
        .await
        .unwrap();
    assert_eq!(biz.name.as_deref(), Some("Acme"));
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 3);
    // Each attempt carries the auth afresh.
    assert_wire(&reqs, TOKEN);
}

/// A loopback server that misbehaves at the TCP level and counts connections.
async fn raw_server(behaviour: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        for _ in 0..20 {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            if behaviour == "truncate" {
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"id\":\"1")
                    .await;
            }
            // Closing without an answer: the client sees the connection die mid-request.
            drop(socket);
        }
    });
    (format!("http://{addr}"), hits)
}

#[tokio::test]
async fn reset_connections_and_truncated_bodies_are_transient_transport_errors() {
    captured_logs();
    for behaviour in ["reset", "truncate"] {
        let (uri, hits) = raw_server(behaviour).await;
        let err = client_at(&uri)
            .business(BIZ)
            .get()
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Transport { .. }) && err.is_transient(),
            "{behaviour}: {err:?}"
        );
        assert_eq!(hits.load(Ordering::SeqCst), 3, "{behaviour}: attempts");
        assert_clean(&err);
    }
}

#[tokio::test]
async fn creates_never_happen_twice_whatever_the_fault() {
    captured_logs();
    let faults = [
        ("code 1", Fault::graph(1)),
        ("code 2", Fault::graph(2)),
        ("HTTP 500", Fault::Http { status: 500 }),
        ("HTTP 502", Fault::Http { status: 502 }),
        ("HTTP 503", Fault::Http { status: 503 }),
        ("throttled", Fault::throttle(4)),
        (
            "timeout after the create happened",
            Fault::Delay(Duration::from_secs(2)),
        ),
        ("truncated body", Fault::Malformed),
    ];
    for (what, fault) in faults {
        let (emulator, demo) = GraphEmulator::demo().await;
        let client = emulator
            .client_builder(demo.admin_token)
            .app_secret(demo.app_secret)
            .retry_policy(fast())
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        emulator.inject(FaultRule::new(fault).on("POST", "/system_users").times(1));
        let result = client
            .business(demo.business_id)
            .system_users()
            .create("reporting")
            .send()
            .await;
        let created = emulator.system_users(demo.business_id);
        assert!(created.len() <= 1, "{what}: created twice");
        match result {
            Ok(su) => assert_eq!(created[0].id, su.id.as_str(), "{what}"),
            Err(err) => {
                assert!(
                    created.is_empty(),
                    "{what}: created but reported as failed: {err}"
                );
                assert_clean(&err);
            }
        }
        let posts = emulator
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count();
        assert!(posts <= 2, "{what}: {posts} POSTs");
    }
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_not_repeated() {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator
        .client_builder(demo.admin_token)
        .app_secret(demo.app_secret)
        .retry_policy(fast())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    emulator.inject(
        FaultRule::new(Fault::Delay(Duration::from_secs(2)))
            .on("POST", "/system_users")
            .times(1),
    );
    let su = client
        .business(demo.business_id)
        .system_users()
        .create("crm-sync")
        .send()
        .await
        .unwrap();
    assert_eq!(
        emulator.system_users(DEMO.business_id)[0].id,
        su.id.as_str()
    );
    let methods: Vec<String> = emulator
        .requests()
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(
        methods,
        ["GET", "POST", "GET"],
        "quota read, the create (answer lost), the re-read"
    );
}

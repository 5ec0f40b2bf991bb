//! A hostile or broken server: it echoes the request back in every field and encoding, redirects
//! elsewhere, sends endless pages and bodies, NaN in headers, and fails after doing the work.
//! No secret may reach `Display`, `Debug`, the `source()` chain or anything a TRACE subscriber
//! captures (every target, `log` records of reqwest included); the client stays bounded, never
//! panics, and never misreports a create.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::TryStreamExt;
use meta_business::testing::{BusinessSeed, DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{
    AccessTier, AdAccountTask, Client, Error, ExposeSecret, PageTask, ProofMode, SecretString,
    SystemUser, bulk::BatchItem, lock::InProcessLock, retry::RetryPolicy, usage::Pacing,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::*;

/// Canaries with `/`, `+` and `=`, the characters that change under every encoding.
const H_TOKEN: &str = "EAAB/HostileAdmin+Tok=en/9f2c";
const H_SECRET: &str = "hostile/app+Secret=77aa";
const H_INPUT: &str = "EAAB/HostileInput+Tok=en/31bd";
const H_APP: &str = "555000111";

fn h_proof() -> String {
    meta_business::tokens::appsecret_proof(
        &SecretString::from(H_SECRET),
        &SecretString::from(H_TOKEN),
    )
    .expose_secret()
    .to_owned()
}

/// Every form a canary can take, and the first 12 bytes of each (a prefix escaping a cut).
fn needles() -> Vec<String> {
    let mut out = Vec::new();
    for canary in [H_TOKEN, H_SECRET, H_INPUT, &h_proof()] {
        let form: String = url::form_urlencoded::byte_serialize(canary.as_bytes()).collect();
        let lower = form
            .replace("%2F", "%2f")
            .replace("%2B", "%2b")
            .replace("%3D", "%3d");
        let json = canary.replace('/', "\\/");
        for f in [canary.to_owned(), form, lower, json] {
            out.push(f[..12].to_owned());
            out.push(f);
        }
    }
    out
}

fn assert_no_secret(what: &str, text: &str) {
    for needle in needles() {
        assert!(
            !text.contains(&needle),
            "{what}: {needle:?} leaked in: {text}"
        );
    }
}

fn error_text(err: &Error) -> String {
    let mut text = format!("{err}\n{err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(&format!("\n{s}\n{s:?}"));
        source = s.source();
    }
    text
}

/// Everything the request carried, as a hostile server would quote it back.
fn echo(req: &Request) -> String {
    let auth = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    format!(
        "{} {} body={} auth={}",
        req.method,
        req.url,
        String::from_utf8_lossy(&req.body),
        auth
    )
}

type Scenario = fn(&Request, &str) -> ResponseTemplate;

/// The ways a server can answer with the request's secrets in it. `other` is a second
/// server's address, for redirects.
fn scenarios() -> Vec<(&'static str, Scenario)> {
    vec![
        ("envelope, every field", |req, _| {
            let e = echo(req);
            ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": e, "type": e, "code": 190, "error_subcode": 463,
                "error_user_title": e, "error_user_msg": e, "fbtrace_id": e,
                "error_data": {e.clone(): [e.clone(), {"k": e}]}}}))
        }),
        ("envelope as a string", |req, _| {
            ResponseTemplate::new(400).set_body_json(json!({ "error": echo(req) }))
        }),
        ("error_data as a JSON string", |req, _| {
            let data = json!({ "blame": echo(req) }).to_string();
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": {"message": "m", "code": 100, "error_data": data}}))
        }),
        ("HTML 502", |req, _| {
            ResponseTemplate::new(502).set_body_raw(
                format!("<html><body>{}</body></html>", echo(req)),
                "text/html",
            )
        }),
        ("plain text 200", |req, _| {
            ResponseTemplate::new(200).set_body_raw(format!("oops {}", echo(req)), "text/plain")
        }),
        ("400 without an envelope", |req, _| {
            ResponseTemplate::new(400).set_body_json(json!({ "message": echo(req) }))
        }),
        ("truncated JSON, secret across the cut", |req, _| {
            // The token starts a few characters before the 200-character excerpt ends.
            let body = format!("{{\"x\":\"{}{}", "a".repeat(186), echo(req));
            ResponseTemplate::new(200).set_body_raw(body, "application/json")
        }),
        ("JSON-escaped slashes", |req, _| {
            let e = echo(req).replace('/', "\\/");
            ResponseTemplate::new(500)
                .set_body_raw(format!("{{\"msg\":\"{e}\"}}"), "application/json")
        }),
        ("secrets in response headers", |req, _| {
            let e = echo(req);
            let e = e.replace(['\r', '\n'], " ");
            ResponseTemplate::new(400)
                .insert_header("x-fb-trace-id", e.as_str())
                .insert_header("x-app-usage", e.as_str())
                .insert_header("x-business-use-case-usage", e.as_str())
                .insert_header("x-fb-debug", e.as_str())
                .insert_header("set-cookie", e.as_str())
                .insert_header("www-authenticate", e.as_str())
                .set_body_json(json!({"error": {"message": "bad", "code": 4}}))
        }),
        ("secret in the content type", |req, _| {
            let e = echo(req).replace(['\r', '\n', ' '], "_");
            ResponseTemplate::new(503)
                .set_body_raw("not json", format!("text/plain; x={e}").as_str())
        }),
        ("secret as a usage-header object key", |req, _| {
            let key = echo(req).replace(['\r', '\n'], " ");
            let usage = json!({ key: [{"type": "x", "call_count": 100}] }).to_string();
            ResponseTemplate::new(400)
                .insert_header("x-business-use-case-usage", usage.as_str())
                .set_body_json(json!({"error": {"message": "bad", "code": 80004}}))
        }),
        ("302 to another host", |req, other| {
            let query = req.url.query().unwrap_or("");
            ResponseTemplate::new(302)
                .insert_header("location", format!("{other}/steal?{query}").as_str())
        }),
        ("307 to another host", |req, other| {
            let query = req.url.query().unwrap_or("");
            ResponseTemplate::new(307)
                .insert_header("location", format!("{other}/steal?{query}").as_str())
        }),
    ]
}

fn hostile_client(uri: &str, mode: ProofMode) -> Client {
    Client::builder()
        .access_token(H_TOKEN)
        .app_secret(H_SECRET)
        .proof_mode(mode)
        .base_url(uri)
        .retry_policy(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
        )
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// One call of each shape that carries secrets: query credentials, form bodies, both proofs.
async fn run_call(n: usize, client: &Client) -> Result<String, Error> {
    match n {
        0 => client
            .get::<serde_json::Value>("me", &[("fields", "id")])
            .await
            .map(|v| format!("{v:?}")),
        1 => client
            .debug_token(H_INPUT)
            .send()
            .await
            .map(|v| format!("{v:?}")),
        2 => client
            .refresh_token(H_APP, H_INPUT)
            .send()
            .await
            .map(|v| format!("{v:?}")),
        3 => client
            .revoke_token(H_APP, H_INPUT)
            .send()
            .await
            .map(|v| format!("{v:?}")),
        4 => client
            .business("1234")
            .system_users()
            .rename("5678", "renamed")
            .send()
            .await
            .map(|v| format!("{v:?}")),
        _ => client
            .page("4321")
            .assign("5678", [PageTask::Analyze])
            .send()
            .await
            .map(|v| format!("{v:?}")),
    }
}

const CALLS: usize = 6;

#[tokio::test]
async fn no_failure_path_shows_a_secret_anywhere() {
    let _ = captured_logs();
    let server = MockServer::start().await;
    let other = MockServer::start().await;
    let current = Arc::new(AtomicUsize::new(0));
    let table = scenarios();
    {
        let current = Arc::clone(&current);
        let other_uri = other.uri();
        Mock::given(wiremock::matchers::any())
            .respond_with(move |req: &Request| {
                (scenarios()[current.load(Ordering::SeqCst)].1)(req, &other_uri)
            })
            .mount(&server)
            .await;
    }
    let mut paths = 0;
    for (i, (name, _)) in table.iter().enumerate() {
        current.store(i, Ordering::SeqCst);
        for mode in [ProofMode::Classic, ProofMode::TimeStamped] {
            let client = hostile_client(&server.uri(), mode);
            for call in 0..CALLS {
                let what = format!("{name} / call {call} / {mode:?}");
                match run_call(call, &client).await {
                    Err(err) => assert_no_secret(&what, &error_text(&err)),
                    Ok(shown) => assert_no_secret(&what, &shown),
                }
                paths += 1;
            }
        }
    }
    assert!(paths >= 30 * 2, "{paths}");
    assert!(
        other
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "a redirect was followed"
    );
    assert_no_secret("logs", &logs_text());
}

#[tokio::test]
async fn decode_errors_scrub_keys_quoted_values_and_batch_items() {
    let _ = captured_logs();
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::path("/v26.0/map"))
        .respond_with(|req: &Request| {
            ResponseTemplate::new(200).set_body_json(json!({ echo(req): "not a number" }))
        })
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::path("/v26.0/list"))
        .respond_with(|req: &Request| ResponseTemplate::new(200).set_body_json(json!([echo(req)])))
        .mount(&server)
        .await;
    // Batch: every item fails with the batch request (and its proof) quoted back.
    Mock::given(wiremock::matchers::path("/v26.0/"))
        .respond_with(|req: &Request| {
            let e = echo(req);
            let item = json!({"code": 400, "headers": [{"name": "X-Fb-Debug", "value": e}],
                "body": json!({"error": {"message": e, "type": e, "code": 100}}).to_string()});
            ResponseTemplate::new(200).set_body_json(json!([item.clone(), item]))
        })
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::path("/v26.0/big"))
        .respond_with(|req: &Request| {
            ResponseTemplate::new(200).set_body_raw(echo(req).repeat(200), "application/json")
        })
        .mount(&server)
        .await;
    for mode in [ProofMode::Classic, ProofMode::TimeStamped] {
        let client = hostile_client(&server.uri(), mode);
        let err = client
            .get::<HashMap<String, u32>>("map", &[])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        assert_no_secret("json path", &error_text(&err));
        let err = client.get::<Vec<u64>>("list", &[]).await.unwrap_err();
        assert_no_secret("serde message", &error_text(&err));

        let results = client
            .batch([
                BatchItem::get("me", &[]).unwrap(),
                BatchItem::post("me", &[("a", "b")]).unwrap(),
            ])
            .send()
            .await;
        assert_eq!(results.len(), 2);
        for r in results {
            match r {
                Err(err) => assert_no_secret("batch item", &error_text(&err)),
                Ok(resp) => panic!("item should fail: {resp:?}"),
            }
        }

        let small = Client::builder()
            .access_token(H_TOKEN)
            .app_secret(H_SECRET)
            .proof_mode(mode)
            .base_url(server.uri())
            .max_response_bytes(1024)
            .build()
            .unwrap();
        let err = small
            .get::<serde_json::Value>("big", &[])
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::ResponseTooLarge { limit: 1024, .. }),
            "{err}"
        );
        assert_no_secret("too large", &error_text(&err));
    }
    assert_no_secret("logs", &logs_text());
}

#[tokio::test]
async fn debug_token_answers_quoting_the_token_are_scrubbed() {
    let _ = captured_logs();
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::path("/v26.0/debug_token"))
        .respond_with(|req: &Request| {
            let e = echo(req);
            ResponseTemplate::new(200).set_body_json(json!({"data": {
                "app_id": H_APP, "application": e, "is_valid": false, "user_id": e,
                "error": {"code": 190, "message": e, "subcode": 460},
                "metadata": {"sso": e, e.clone(): 1}}}))
        })
        .mount(&server)
        .await;
    let client = hostile_client(&server.uri(), ProofMode::Classic);
    let info = client.debug_token(H_INPUT).send().await.unwrap();
    assert_no_secret("token info", &format!("{info:?}"));
    assert_eq!(info.error.as_ref().and_then(|e| e.subcode), Some(460));
}

#[tokio::test]
async fn a_redirect_is_an_error_and_the_other_host_receives_nothing() {
    let server = MockServer::start().await;
    let other = MockServer::start().await;
    for status in [301u16, 302, 303, 307, 308] {
        let target = format!("{}/steal", other.uri());
        Mock::given(wiremock::matchers::path(format!("/v26.0/r{status}")))
            .respond_with(ResponseTemplate::new(status).insert_header("location", target.as_str()))
            .mount(&server)
            .await;
    }
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1"})))
        .mount(&other)
        .await;
    let client = hostile_client(&server.uri(), ProofMode::Classic);
    for status in [301u16, 302, 303, 307, 308] {
        for post in [false, true] {
            let path = format!("r{status}");
            let err = if post {
                client
                    .post::<serde_json::Value>(&path, &[("name", "x")])
                    .await
                    .unwrap_err()
            } else {
                client
                    .get::<serde_json::Value>(&path, &[("fields", "id")])
                    .await
                    .unwrap_err()
            };
            match &err {
                Error::Redirect {
                    status: s,
                    target_host,
                    ..
                } => {
                    assert_eq!(*s, status);
                    assert_eq!(target_host.as_deref(), Some("127.0.0.1"));
                }
                other => panic!("{other}"),
            }
            assert!(!err.to_string().contains("steal"), "{err}");
        }
    }
    // No Referer either, on any request.
    for req in server.received_requests().await.unwrap() {
        assert!(req.headers.get("referer").is_none());
    }
    assert!(other.received_requests().await.unwrap().is_empty());
}

/// Answers every list request with an empty page and a new cursor, counting requests.
async fn endless_server(items_per_page: usize) -> (MockServer, Arc<AtomicU64>) {
    let server = MockServer::start().await;
    let count = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&count);
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(move |_: &Request| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let data: Vec<_> = (0..items_per_page)
                .map(|i| json!({"id": format!("{n}{i}"), "name": "x", "role": "EMPLOYEE"}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({
                "data": data,
                "paging": {"cursors": {"after": format!("cursor-{n}")}, "next": "https://x/next"}
            }))
        })
        .mount(&server)
        .await;
    (server, count)
}

#[tokio::test]
async fn endless_empty_pages_stop_after_a_bounded_run() {
    let (server, count) = endless_server(0).await;
    let client = hostile_client(&server.uri(), ProofMode::Classic);
    let err = client
        .business("1234")
        .system_users()
        .list()
        .collect(10)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Pagination { .. }), "{err}");
    let sent = count.load(Ordering::SeqCst);
    assert_eq!(sent, u64::from(meta_business::DEFAULT_MAX_EMPTY_PAGES));

    // The quota check inside `create` reads the same list: it stops too, and nothing is posted.
    count.store(0, Ordering::SeqCst);
    let err = client
        .business("1234")
        .system_users()
        .create("bot")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Pagination { .. }), "{err}");
    assert!(count.load(Ordering::SeqCst) <= 10);
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 0);
}

#[tokio::test]
async fn endless_full_pages_stop_at_the_bound_or_the_page_budget() {
    let (server, count) = endless_server(3).await;
    let client = hostile_client(&server.uri(), ProofMode::Classic);
    let err = client
        .business("1234")
        .system_users()
        .list()
        .collect(10)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooManyItems { max: 10, .. }), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 4);

    count.store(0, Ordering::SeqCst);
    let mut stream = client
        .business("1234")
        .system_users()
        .list()
        .max_pages(25)
        .into_stream();
    let mut items = 0;
    let err = loop {
        match stream.try_next().await {
            Ok(Some(_)) => items += 1,
            Ok(None) => panic!("an endless list ended"),
            Err(err) => break err,
        }
    };
    assert!(matches!(err, Error::Pagination { .. }), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 25);
    assert_eq!(items, 75);
}

/// A raw server that answers with an endless chunked body, or a huge `Content-Length`, and
/// counts the bytes it managed to send before the client hung up.
async fn flood_server(declare_length: bool) -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let head = if declare_length {
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 600000000\r\n\r\n"
                } else {
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                };
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b'a'; 64 * 1024];
                let framed = format!("{:x}\r\n", chunk.len());
                // At most 600 MB, as in the report; a client that stops reading ends it sooner.
                for _ in 0..(600 * 16) {
                    let ok = if declare_length {
                        sock.write_all(&chunk).await.is_ok()
                    } else {
                        sock.write_all(framed.as_bytes()).await.is_ok()
                            && sock.write_all(&chunk).await.is_ok()
                            && sock.write_all(b"\r\n").await.is_ok()
                    };
                    if !ok {
                        return;
                    }
                    counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                }
            });
        }
    });
    (format!("http://{addr}"), sent)
}

#[tokio::test]
async fn a_huge_body_is_refused_without_being_read() {
    for declare_length in [true, false] {
        let (uri, sent) = flood_server(declare_length).await;
        let client = Client::builder()
            .access_token(H_TOKEN)
            .base_url(&uri)
            .max_response_bytes(2 * 1024 * 1024)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let err = client
            .get::<serde_json::Value>("me", &[])
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::ResponseTooLarge { limit, .. } if limit == 2 * 1024 * 1024),
            "{err}"
        );
        // Give the server a moment to notice the closed connection.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let bytes = sent.load(Ordering::SeqCst);
        // The cap plus what socket buffers hold: nowhere near 600 MB.
        assert!(bytes < 32 * 1024 * 1024, "{bytes} bytes were sent");
    }
}

#[tokio::test]
async fn non_finite_usage_numbers_with_pacing_do_not_panic() {
    let server = MockServer::start().await;
    let values = [
        r#"{"call_count":"NaN","total_time":"NaN","total_cputime":"NaN"}"#,
        r#"{"call_count":"inf","total_time":1e999,"total_cputime":-1e999}"#,
        r#"{"call_count":1e308,"total_time":"-5","total_cputime":"x"}"#,
    ];
    for (i, value) in values.iter().enumerate() {
        Mock::given(wiremock::matchers::path(format!("/v26.0/n{i}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-app-usage", *value)
                    .insert_header(
                        "x-business-use-case-usage",
                        r#"{"n":[{"type":"x","call_count":"NaN","estimated_time_to_regain_access":"NaN"}]}"#,
                    )
                    .set_body_json(json!({"id": "1"})),
            )
            .mount(&server)
            .await;
    }
    let client = Client::builder()
        .access_token(H_TOKEN)
        .base_url(server.uri())
        .pacing(Pacing::new(f64::NAN).max_wait(Duration::from_millis(20)))
        .build()
        .unwrap();
    for i in 0..values.len() {
        for _ in 0..2 {
            let v: serde_json::Value = client.get(&format!("n{i}"), &[]).await.unwrap();
            assert_eq!(v["id"], "1");
        }
    }
}

fn fast_client(emu: &GraphEmulator, quota: bool, timeout: Duration) -> Client {
    let mut b = emu
        .client_builder(DEMO.admin_token)
        .app_secret(DEMO.app_secret)
        .timeout(timeout)
        .retry_policy(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
        );
    if !quota {
        b = b.disable_quota_check();
    }
    b.build().unwrap()
}

/// Each way a server can fail after creating the user: the crate re-reads and returns the
/// user it created, exactly one exists, and a retrying caller makes no duplicate.
#[tokio::test]
async fn a_create_that_failed_after_the_work_is_found_not_duplicated() {
    let faults = [
        Fault::after_work(Fault::Malformed),
        Fault::after_work(Fault::Raw {
            status: 200,
            body: "<html><body>OK</body></html>".into(),
        }),
        Fault::after_work(Fault::Raw {
            status: 200,
            body: "".into(),
        }),
        Fault::after_work(Fault::Raw {
            status: 400,
            body: "{}".into(),
        }),
        Fault::after_work(Fault::Raw {
            status: 400,
            body: "Bad Request".into(),
        }),
        Fault::after_work(Fault::Http { status: 502 }),
        Fault::after_work(Fault::graph(2)),
        Fault::after_work(Fault::Delay(Duration::from_millis(900))),
    ];
    for quota in [true, false] {
        for fault in &faults {
            let (emu, demo) = GraphEmulator::demo().await;
            let client = fast_client(&emu, quota, Duration::from_millis(400));
            emu.inject(
                FaultRule::new(fault.clone())
                    .on("POST", "/system_users")
                    .times(1),
            );
            let su: SystemUser = client
                .business(demo.business_id)
                .system_users()
                .create("ops-bot")
                .send()
                .await
                .unwrap_or_else(|e| panic!("{fault:?} quota={quota}: {e}"));
            let users = emu.system_users(demo.business_id);
            assert_eq!(users.len(), 1, "{fault:?} quota={quota}: {users:?}");
            assert_eq!(users[0].id, su.id.as_str());
            // A caller that retries anyway meets the quota (Limited: 1 regular), not a
            // duplicate.
            if quota {
                let again = client
                    .business(demo.business_id)
                    .system_users()
                    .create("ops-bot")
                    .send()
                    .await
                    .unwrap_err();
                assert!(matches!(again, Error::QuotaExceeded { .. }), "{again}");
            }
            assert_eq!(emu.system_users(demo.business_id).len(), 1);
        }
    }
}

#[tokio::test]
async fn a_same_name_user_that_existed_before_is_never_reported_as_created() {
    let emu = GraphEmulator::builder()
        .business(
            BusinessSeed::new(DEMO.business_id, "Acme")
                .tier(AccessTier::Full)
                .app(DEMO.app_id, "App", DEMO.app_secret)
                .admin(DEMO.admin_token)
                .system_user("61000000000001", "ops-bot", "EMPLOYEE"),
        )
        .start()
        .await;
    // The server refuses without creating, transiently: the crate re-reads, sees only the old
    // user, and (verified absent) tries again within its policy.
    emu.inject(
        FaultRule::new(Fault::graph(2))
            .on("POST", "/system_users")
            .times(1),
    );
    let client = fast_client(&emu, false, Duration::from_secs(5));
    let su = client
        .business(DEMO.business_id)
        .system_users()
        .create("ops-bot")
        .send()
        .await
        .unwrap();
    assert_ne!(su.id.as_str(), "61000000000001");
    assert_eq!(emu.system_users(DEMO.business_id).len(), 2);

    // Refused every time: an error, never the old user.
    emu.inject(FaultRule::new(Fault::graph(2)).on("POST", "/system_users"));
    let err = client
        .business(DEMO.business_id)
        .system_users()
        .create("ops-bot")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(2), "{err}");
    assert_eq!(emu.system_users(DEMO.business_id).len(), 2);
}

#[tokio::test]
async fn an_ambiguous_create_whose_reread_fails_is_outcome_unknown() {
    let (emu, demo) = GraphEmulator::demo().await;
    emu.inject(
        FaultRule::new(Fault::after_work(Fault::Http { status: 502 }))
            .on("POST", "/system_users")
            .times(1),
    );
    // The first list (before the create) passes; every re-read fails.
    emu.inject(
        FaultRule::new(Fault::Http { status: 503 })
            .on("GET", "/system_users")
            .after(1),
    );
    let client = fast_client(&emu, true, Duration::from_secs(5));
    let err = client
        .business(demo.business_id)
        .system_users()
        .create("ops-bot")
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::OutcomeUnknown { source, reread, .. } => {
            assert_eq!(source.http_status(), Some(502));
            assert_eq!(reread.http_status(), Some(503));
        }
        other => panic!("{other}"),
    }
    assert!(err.outcome_unknown());
    assert_eq!(emu.system_users(demo.business_id).len(), 1);
}

#[tokio::test]
async fn a_shared_create_lock_holds_the_quota_across_clients() {
    let (emu, demo) = GraphEmulator::demo().await;
    let lock = Arc::new(InProcessLock::default());
    // Four separately built clients: the default lock would not reach across them.
    let clients: Vec<Client> = (0..4)
        .map(|_| {
            emu.client_builder(demo.admin_token)
                .app_secret(demo.app_secret)
                .create_lock(Arc::clone(&lock))
                .build()
                .unwrap()
        })
        .collect();
    let results = futures_util::future::join_all(clients.iter().enumerate().map(|(i, c)| {
        c.business(demo.business_id)
            .system_users()
            .create(format!("bot-{i}"))
            .send()
    }))
    .await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(Error::QuotaExceeded { .. })))
        .count();
    assert_eq!((created, refused), (1, 3), "{results:?}");
    assert_eq!(emu.system_users(demo.business_id).len(), 1);
}

#[tokio::test]
async fn bad_inputs_never_reach_the_server() {
    let (server, client) = setup().await;
    let mut errors: Vec<Error> = Vec::new();
    errors.push(
        client
            .ad_account("42")
            .assign("5", [])
            .send()
            .await
            .unwrap_err(),
    );
    errors.push(client.page("43").assign("5", []).send().await.unwrap_err());
    errors.push(
        client
            .ad_account("42")
            .assign("5", [AdAccountTask::Analyze, AdAccountTask::Analyze])
            .send()
            .await
            .unwrap_err(),
    );
    for key in [
        "ACCESS_TOKEN",
        "access_token ",
        " access_token",
        "access_token[]",
        "access_token[0]",
        "Appsecret_Proof",
        "APPSECRET_TIME",
        "input_token[]",
        "Client_Secret",
        "fb_exchange_token ",
        "access%5Ftoken",
        "access token",
    ] {
        errors.push(
            client
                .get::<serde_json::Value>("me", &[(key, "x")])
                .await
                .unwrap_err(),
        );
    }
    for name in [
        "\u{200B}\u{200B}",
        "\u{FEFF}",
        " \u{2060}\u{200C} ",
        "admin\u{202E}txt.exe",
        "bot\u{2067}x",
        "line\nbreak",
        &"x".repeat(257),
    ] {
        errors.push(
            client
                .business(BIZ)
                .system_users()
                .create(name)
                .send()
                .await
                .unwrap_err(),
        );
        errors.push(
            client
                .business(BIZ)
                .system_users()
                .rename("61000000000001", name)
                .send()
                .await
                .unwrap_err(),
        );
    }
    assert!(errors.len() >= 27);
    for err in &errors {
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    }
    assert!(received(&server).await.is_empty());
}

/// Raw bytes to the emulator: it answers or closes, never panics, and serves the next request.
#[tokio::test]
async fn the_emulator_survives_malformed_requests() {
    let (emu, demo) = GraphEmulator::demo().await;
    let addr = emu.uri().trim_start_matches("http://").to_owned();
    let raw: [&[u8]; 5] = [
        b"POST /v26.0/1000000000001/system_users HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\ncontent-type: application/x-www-form-urlencoded\r\n\r\nname=a",
        b"GET /v26.0/me?%zz=%ff&fields=%E0%80 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v26.0/ HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n\xff\xfe\x00batch",
        b"\x16\x03\x01\x02\x00garbage\r\n\r\n",
        b"GET /v26.0/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n\r\n",
    ];
    for bytes in raw {
        let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let _ = sock.write_all(bytes).await;
        let _ = sock.shutdown().await;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), sock.read_to_end(&mut out)).await;
    }
    let client = emu.client(demo.admin_token).unwrap();
    let users = client
        .business(demo.business_id)
        .system_users()
        .list()
        .collect(10)
        .await
        .unwrap();
    assert!(users.is_empty());

    // A batch inside a batch, and an over-long name sent around the crate's checks.
    let http = reqwest::Client::new();
    let nested = json!([{"method": "POST", "relative_url": "/",
        "body": "batch=[{\"method\":\"GET\",\"relative_url\":\"me\"}]"}])
    .to_string();
    let answer: serde_json::Value = http
        .post(format!("{}/v26.0/", emu.uri()))
        .bearer_auth(demo.admin_token)
        .form(&[("batch", nested.as_str()), ("include_headers", "false")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer[0]["code"], 400, "{answer}");
    assert!(answer[0].get("headers").is_none(), "{answer}");
    assert!(
        answer[0]["body"]
            .as_str()
            .unwrap()
            .contains("another batch"),
        "{answer}"
    );
    let long = "x".repeat(300);
    let status = http
        .post(format!(
            "{}/v26.0/{}/system_users",
            emu.uri(),
            demo.business_id
        ))
        .bearer_auth(demo.admin_token)
        .form(&[("name", long.as_str())])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 400);
    assert!(emu.system_users(demo.business_id).is_empty());
}

#[tokio::test]
async fn an_unknown_create_outcome_and_a_dropped_connection_show_no_secret() {
    let _ = captured_logs();
    // The create fails ambiguously and every re-read fails, each answer quoting the request.
    let server = MockServer::start().await;
    for mode in [ProofMode::Classic, ProofMode::TimeStamped] {
        server.reset().await;
        Mock::given(wiremock::matchers::method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(|req: &Request| {
                ResponseTemplate::new(502)
                    .insert_header("x-fb-debug", echo(req).replace(['\r', '\n'], " ").as_str())
                    .set_body_raw(format!("<html>{}</html>", echo(req)), "text/html")
            })
            .mount(&server)
            .await;
        let client = hostile_client(&server.uri(), mode);
        let err = client
            .business("1234")
            .system_users()
            .create("bot")
            .send()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err}");
        assert_no_secret("outcome unknown", &error_text(&err));
    }

    // A server that reads the whole request (secrets and all) and hangs up without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 8192];
            let _ = sock.read(&mut buf).await;
            drop(sock);
        }
    });
    let client = hostile_client(&format!("http://{addr}"), ProofMode::Classic);
    for call in 0..CALLS {
        let err = run_call(call, &client).await.unwrap_err();
        assert!(matches!(err, Error::Transport { .. }), "{err}");
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
        assert_no_secret("dropped connection", &error_text(&err));
    }
    assert_no_secret("logs", &logs_text());
}

//! Per-call overhead of the crate against bare reqwest on a loopback server, the cost of an
//! `appsecret_proof`, and decoding a page of 1,000 system users.
//!
//! Run: `cargo bench --bench overhead` (prints one line per measurement). Wall-clock numbers
//! on a shared machine are noisy; compare the two HTTP lines of one run with each other.

use std::hint::black_box;
use std::time::{Duration, Instant};

use meta_business::{Client, Page, SecretString, SystemUser};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CALLS: u32 = 2_000;

fn report(name: &str, total: Duration, n: u32) {
    println!(
        "{name:<48} {:>10.2} µs/op  ({n} ops in {:.2?})",
        total.as_secs_f64() * 1e6 / f64::from(n),
        total
    );
}

async fn http_overhead() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/1234567890"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "1234567890", "name": "Acme"})),
        )
        .mount(&server)
        .await;
    let client = Client::builder()
        .access_token("EAAB-bench-token")
        .app_secret("bench-secret")
        .base_url(server.uri())
        .build()
        .expect("client");
    let raw = reqwest::Client::new();
    let url = format!("{}/v26.0/1234567890?fields=id,name", server.uri());

    // Warm both connection pools.
    for _ in 0..50 {
        client
            .business("1234567890")
            .get()
            .send()
            .await
            .expect("crate call");
        raw.get(&url)
            .bearer_auth("EAAB-bench-token")
            .send()
            .await
            .expect("raw")
            .bytes()
            .await
            .expect("body");
    }
    let start = Instant::now();
    for _ in 0..CALLS {
        black_box(
            raw.get(&url)
                .bearer_auth("EAAB-bench-token")
                .send()
                .await
                .expect("raw")
                .bytes()
                .await
                .expect("body"),
        );
    }
    report(
        "GET business, bare reqwest (no decode)",
        start.elapsed(),
        CALLS,
    );
    let start = Instant::now();
    for _ in 0..CALLS {
        black_box(
            client
                .business("1234567890")
                .get()
                .send()
                .await
                .expect("crate call"),
        );
    }
    report(
        "GET business, meta-business (proof + decode)",
        start.elapsed(),
        CALLS,
    );
}

fn proof_cost() {
    let secret = SecretString::from("app-secret-0123456789abcdef");
    let token = SecretString::from("EAAB".repeat(50));
    let n = 100_000;
    let start = Instant::now();
    for _ in 0..n {
        black_box(meta_business::appsecret_proof(&secret, &token));
    }
    report("appsecret_proof (200-char token)", start.elapsed(), n);
}

fn page_decode() {
    let data: Vec<_> = (0..1000)
        .map(|i| json!({"id": format!("1000000000{i:05}"), "name": format!("worker-{i}"), "role": "EMPLOYEE"}))
        .collect();
    let body = serde_json::to_vec(
        &json!({"data": data, "paging": {"cursors": {"before": "a", "after": "b"}}}),
    )
    .expect("json");
    let n = 200;
    let start = Instant::now();
    for _ in 0..n {
        let page: Page<SystemUser> = serde_json::from_slice(&body).expect("page");
        black_box(page);
    }
    report("decode Page<SystemUser> of 1,000 items", start.elapsed(), n);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(http_overhead());
    proof_cost();
    page_decode();
}

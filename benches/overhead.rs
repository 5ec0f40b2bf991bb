//! Per-call cost: reading a system user through the crate versus a bare reqwest GET of the same
//! URL against the same local server; plus the cost of an `appsecret_proof` and of decoding a
//! page of 1,000 system users; and building a client for an `http://` and an `https://` base
//! URL.
//!
//! Run: `cargo bench --bench overhead`. Target: the crate's median ≤ 1.10 × the bare request's.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use meta_business::{Client, SecretString, SystemUser, pagination::ListPage, retry::RetryPolicy};
use meta_business_benches::{SU, start_server, system_user_mock};
use serde_json::json;

fn per_call(c: &mut Criterion) {
    let uri = start_server(vec![system_user_mock()]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = Client::builder()
        .access_token("EAAB-bench-token-0123456789")
        .app_secret("bench-app-secret-0123")
        .base_url(uri.as_str())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    // The same request the crate sends, query and all.
    let proof = meta_business::tokens::appsecret_proof(
        &"bench-app-secret-0123".into(),
        &"EAAB-bench-token-0123456789".into(),
    );
    let url = format!(
        "{uri}/v26.0/{SU}?fields=id%2Cname%2Ccreated_time%2Cfinance_permission%2Cip_permission&appsecret_proof={}",
        meta_business::ExposeSecret::expose_secret(&proof)
    );
    let raw = reqwest::Client::new();

    let mut group = c.benchmark_group("per_call");
    group.bench_function("bare_reqwest_get", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = raw
                .get(&url)
                .bearer_auth("EAAB-bench-token-0123456789")
                .send()
                .await
                .expect("send");
            black_box(resp.bytes().await.expect("body"))
        })
    });
    group.bench_function("sdk_get_system_user", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(client.system_user(SU).get().send().await.expect("get")) })
    });
    group.finish();
}

fn local_costs(c: &mut Criterion) {
    let secret = SecretString::from("app-secret-0123456789abcdef");
    let token = SecretString::from("EAAB".repeat(50));
    c.bench_function("appsecret_proof", |b| {
        b.iter(|| black_box(meta_business::tokens::appsecret_proof(&secret, &token)))
    });

    let data: Vec<_> = (0..1000)
        .map(|i| json!({"id": format!("1000000000{i:05}"), "name": format!("worker-{i}"), "role": "EMPLOYEE"}))
        .collect();
    let body = serde_json::to_vec(
        &json!({"data": data, "paging": {"cursors": {"before": "a", "after": "b"}}}),
    )
    .expect("json");
    c.bench_function("decode_page_1000_system_users", |b| {
        b.iter(|| black_box(serde_json::from_slice::<ListPage<SystemUser>>(&body).expect("page")))
    });

    let client = Client::builder()
        .access_token("EAAB-bench")
        .build()
        .expect("client");
    c.bench_function("client_clone", |b| b.iter(|| black_box(client.clone())));
    c.bench_function("build_get_request", |b| {
        b.iter(|| black_box(client.system_user(SU).get()))
    });
}

/// Building a client: for an `http://` base URL (a local stand-in, the emulator) no TLS
/// roots are loaded; for `https://` the platform's verifier is.
fn client_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("client_build");
    for (label, base) in [
        ("http_base_url", "http://127.0.0.1:9"),
        ("https_base_url", "https://graph.facebook.com"),
    ] {
        group.bench_function(label, |b| {
            b.iter(|| {
                black_box(
                    Client::builder()
                        .access_token("EAAB-bench")
                        .base_url(base)
                        .build()
                        .expect("client"),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, per_call, local_costs, client_build);
criterion_main!(benches);

//! Streaming memory: 1,000,000 assigned ad accounts read through the pagination stream in pages
//! of 25 (40,000 requests) keep the peak resident memory within 1.2 × the peak for 1,000: the
//! stream holds one page and a bounded trail of cursors, whatever the length of the list.
//!
//! Run: `cargo bench --bench stream_memory`. Each size runs in a child process of this binary,
//! which reports its own peak RSS (`VmHWM` in /proc/self/status, Linux). The server runs in
//! this (parent) process, so its memory is not counted: the mock server keeps every request it
//! matched, which in the child's own process measured the server, not the client.

use std::process::Command;

use futures_util::TryStreamExt;
use meta_business::{Client, retry::RetryPolicy};
use serde_json::json;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PAGE: usize = 25;

/// Pages of assigned ad accounts, made on the fly from the cursor: the server holds none. The
/// list's length is the system user's id in the path (`/v26.0/{total}/assigned_ad_accounts`).
fn pages() -> impl Fn(&Request) -> ResponseTemplate {
    move |req: &Request| {
        let total: usize = req
            .url
            .path_segments()
            .and_then(|mut s| s.nth(1))
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let start: usize = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "after")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let end = (start + PAGE).min(total);
        let data: Vec<_> = (start..end)
            .map(|i| json!({"id": format!("act_{}", 3_000_000_000_000u64 + i as u64), "name": format!("Ad account {i}"), "tasks": ["ANALYZE"]}))
            .collect();
        let mut body = json!({"data": data, "paging": {"cursors": {"before": start.to_string(), "after": end.to_string()}}});
        if end < total {
            body["paging"]["next"] = json!("https://graph.facebook.com/next");
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn child(total: usize, uri: &str) {
    let client = Client::builder()
        .access_token("EAAB-bench-token")
        .base_url(uri)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let mut stream = client
        .system_user(total.to_string())
        .assigned_ad_accounts()
        .limit(PAGE as u32)
        .into_stream();
    let mut seen = 0usize;
    while let Some(item) = stream.try_next().await.expect("page") {
        std::hint::black_box(&item);
        seen += 1;
    }
    assert_eq!(seen, total);
    println!("{}", peak_rss_kb().unwrap_or(0));
}

fn measure(total: usize, uri: &str) -> u64 {
    let out = Command::new(std::env::current_exe().expect("exe"))
        .args(["--child", &total.to_string(), uri])
        .output()
        .expect("child runs");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .lines()
        .last()
        .and_then(|l| l.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        let total: usize = args[pos + 1].parse().expect("item count");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(child(total, &args[pos + 2]));
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        println!("stream_memory: run with `cargo bench --bench stream_memory`");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt.block_on(async {
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(pages())
            .mount(&server)
            .await;
        server
    });
    let uri = server.uri();
    let small = measure(1_000, &uri);
    let large = measure(1_000_000, &uri);
    let ratio = large as f64 / small.max(1) as f64;
    println!("stream_memory/1000      peak_rss_kb={small}");
    println!("stream_memory/1000000   peak_rss_kb={large} (pages of {PAGE}: 40,000 requests)");
    println!(
        "target peak(1,000,000) <= 1.2 x peak(1,000): {ratio:.2}x ({})",
        if ratio <= 1.2 { "PASS" } else { "MISS" }
    );
}

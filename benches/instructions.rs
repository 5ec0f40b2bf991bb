//! Per-call cost in CPU instructions, which do not depend on how busy the machine is: reading a
//! system user through the crate versus a bare reqwest GET of the same URL, counted by
//! callgrind (valgrind) in child processes of this binary.
//!
//! Run: `cargo bench --bench instructions` (needs `valgrind`; about a minute). Each side runs
//! 100 and 600 calls; the difference divided by 500 is the cost of one call, setup excluded.
//! Twice: with a bare answer, and with the trace and usage headers Meta sends with every answer.
//! The local server's work is in both counts alike.

use std::process::Command;

use meta_business::{Client, retry::RetryPolicy};
use meta_business_benches::{SU, system_user_answer};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

async fn child(mode: &str, n: usize) {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let mut answer = system_user_answer();
    if mode.ends_with("_meta_headers") {
        // What Meta sends with every answer: a trace id and the usage headers.
        answer = answer
            .insert_header("x-fb-trace-id", "AbCdEfGhIjK")
            .insert_header(
                "x-app-usage",
                r#"{"call_count":1,"total_cputime":1,"total_time":1}"#,
            )
            .insert_header(
                "x-business-use-case-usage",
                r#"{"1000000000001":[{"type":"ads_management","call_count":1,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0,"ads_api_access_tier":"standard_access"}]}"#,
            );
    }
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{SU}")))
        .respond_with(answer)
        .mount(&server)
        .await;
    let client = Client::builder()
        .access_token("EAAB-bench-token-0123456789")
        .app_secret("bench-app-secret-0123")
        .base_url(server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let raw = reqwest::Client::new();
    // The same URL the crate sends, its real 64-character proof included.
    let proof = meta_business::tokens::appsecret_proof(
        &"bench-app-secret-0123".into(),
        &"EAAB-bench-token-0123456789".into(),
    );
    let url = format!(
        "{}/v26.0/{SU}?fields=id%2Cname%2Ccreated_time%2Cfinance_permission%2Cip_permission&appsecret_proof={}",
        server.uri(),
        meta_business::ExposeSecret::expose_secret(&proof)
    );
    for _ in 0..n {
        if mode.starts_with("sdk") {
            std::hint::black_box(client.system_user(SU).get().send().await.expect("get"));
        } else {
            let resp = raw
                .get(&url)
                .bearer_auth("EAAB-bench-token-0123456789")
                .send()
                .await
                .expect("send");
            std::hint::black_box(resp.bytes().await.expect("body"));
        }
    }
}

fn instructions(mode: &str, n: usize) -> Option<u64> {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(std::env::current_exe().ok()?)
        .args(["--child", mode, &n.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .find_map(|l| l.split("Collected : ").nth(1))
        .and_then(|v| v.trim().parse().ok())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        let n = args[pos + 2].parse().expect("count");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(child(&args[pos + 1], n));
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        println!("instructions: run with `cargo bench --bench instructions`");
        return;
    }
    let per_call = |mode: &str| -> Option<f64> {
        let (small, large) = (instructions(mode, 100)?, instructions(mode, 600)?);
        Some(large.saturating_sub(small) as f64 / 500.0)
    };
    for (suffix, answer) in [
        ("", "a bare answer"),
        ("_meta_headers", "Meta's trace and usage headers"),
    ] {
        match (
            per_call(&format!("bare{suffix}")),
            per_call(&format!("sdk{suffix}")),
        ) {
            (Some(bare), Some(sdk)) => {
                let (b, k) = (
                    format!("bare_reqwest_get{suffix}"),
                    format!("sdk_get_system_user{suffix}"),
                );
                println!("instructions/{b:<34} {bare:>10.0} per call");
                println!("instructions/{k:<34} {sdk:>10.0} per call");
                println!(
                    "ratio sdk / bare, {answer}: {:.2}x (user-space instructions; syscalls and waiting, the same for both, are not counted)",
                    sdk / bare
                );
            }
            _ => {
                println!("instructions: valgrind is not available (apt-get install valgrind)");
                return;
            }
        }
    }
}

//! Per-call and per-batch cost, side by side, against one local server on a thread of its own:
//!
//! - reading a system user through the crate versus a bare reqwest GET of the same URL (its
//!   64-character proof included);
//! - 50 assignments through `bulk` (one batch request: encode 50 items, send, decode 50
//!   answers) versus a bare reqwest POST of the same form body. The difference is the crate's
//!   per-batch overhead over the round trip.
//!
//! Blocks of calls alternate between the sides (which goes first rotates too), and each figure
//! is the median over the blocks of:
//!
//! - CPU time of the client's thread per call (the server's thread is not counted),
//! - heap allocations made on the client's thread per call,
//! - wall time per call.
//!
//! The calls are measured twice: back to back, and with the server idle before each call (see
//! `per_call`'s note on why the two differ).
//!
//! Run: `cargo bench --bench per_call`. Goals (issue [performance-2]): CPU ≤ 1.10 ×,
//! allocations ≤ 1.2 × the bare request's; the batch overhead half of 0.1.0's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use meta_business::{Client, ExposeSecret, retry::RetryPolicy};
use meta_business_benches::{SU, start_server, system_user_mock};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const TOKEN: &str = "EAAB-bench-token-0123456789";
const SECRET: &str = "bench-app-secret-0123";
const CALLS_PER_BLOCK: u32 = 200;
const BATCHES_PER_BLOCK: u32 = 20;
const BLOCKS: usize = 15;

/// Counts the allocations of the threads that ask for it (the client's), not the server's.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: a thread being torn down has no locals left; its allocations do not count.
        let _ = COUNTING.try_with(|on| {
            if on.get() {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            }
        });
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[derive(Clone, Copy, Default)]
struct Block {
    cpu_ns: f64,
    allocations: f64,
    wall_ns: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn summarize(blocks: &[Block]) -> Block {
    Block {
        cpu_ns: median(blocks.iter().map(|b| b.cpu_ns).collect()),
        allocations: median(blocks.iter().map(|b| b.allocations).collect()),
        wall_ns: median(blocks.iter().map(|b| b.wall_ns).collect()),
    }
}

/// Runs `calls` calls back to back, or with the client's thread asleep for `idle` after each
/// (the sleep, and the CPU it costs, not counted), so that the server has gone idle before
/// every call.
async fn measure<F, Fut>(calls: u32, idle: Option<Duration>, mut call: F) -> Block
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (cpu, allocs, wall) = (thread_cpu(), allocations(), Instant::now());
    let (mut asleep_cpu, mut asleep) = (Duration::ZERO, Duration::ZERO);
    COUNTING.with(|on| on.set(true));
    for _ in 0..calls {
        call().await;
        if let Some(idle) = idle {
            let (cpu, at) = (thread_cpu(), Instant::now());
            std::thread::sleep(idle);
            asleep_cpu += thread_cpu() - cpu;
            asleep += at.elapsed();
        }
    }
    COUNTING.with(|on| on.set(false));
    let n = f64::from(calls);
    Block {
        cpu_ns: (thread_cpu() - cpu - asleep_cpu).as_nanos() as f64 / n,
        allocations: (allocations() - allocs) as f64 / n,
        wall_ns: (wall.elapsed() - asleep).as_nanos() as f64 / n,
    }
}

/// Prints one side's medians.
fn line(name: &str, x: Block) {
    println!(
        "{name:<36} cpu {:>7.1} µs   allocations {:>6.1}   wall {:>7.1} µs",
        x.cpu_ns / 1000.0,
        x.allocations,
        x.wall_ns / 1000.0
    );
}

/// `idle`: see [`measure`]. Back to back, a client that turns around faster than the server
/// goes back to sleep never pays the server's wake-up (the kernel charges it to the thread that
/// sends); a slower one does, a threshold effect of a server on the same machine that a remote
/// one does not have. With the server idle before every call, each side pays it alike.
fn per_call(rt: &tokio::runtime::Runtime, client: &Client, uri: &str, idle: Option<Duration>) {
    let proof = meta_business::tokens::appsecret_proof(&SECRET.into(), &TOKEN.into());
    let url = format!(
        "{uri}/v26.0/{SU}?fields=id%2Cname%2Ccreated_time%2Cfinance_permission%2Cip_permission&appsecret_proof={}",
        proof.expose_secret()
    );
    // Bare reqwest as it comes, and with the crate's default 60 s timeout (a timer per call,
    // which the crate always has: no call waits for ever).
    let raw = reqwest::Client::new();
    let timed = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let get = |http: &reqwest::Client| {
        let request = http.get(&url).bearer_auth(TOKEN);
        async move {
            let resp = request.send().await.expect("send");
            std::hint::black_box(resp.bytes().await.expect("body"));
        }
    };
    let bare = || get(&raw);
    let bare_timed = || get(&timed);
    let sdk = || async {
        std::hint::black_box(client.system_user(SU).get().send().await.expect("get"));
    };
    let (mut bares, mut timeds, mut sdks) = (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        // Warm all three: connections open, caches filled.
        measure(CALLS_PER_BLOCK, idle, bare).await;
        measure(CALLS_PER_BLOCK, idle, bare_timed).await;
        measure(CALLS_PER_BLOCK, idle, sdk).await;
        for round in 0..BLOCKS {
            // Who goes first rotates, so no side always runs on a warmer machine.
            for turn in 0..3 {
                match (round + turn) % 3 {
                    0 => bares.push(measure(CALLS_PER_BLOCK, idle, bare).await),
                    1 => timeds.push(measure(CALLS_PER_BLOCK, idle, bare_timed).await),
                    _ => sdks.push(measure(CALLS_PER_BLOCK, idle, sdk).await),
                }
            }
        }
    });
    let medians = [summarize(&bares), summarize(&timeds), summarize(&sdks)];
    let (prefix, how) = match idle {
        None => ("per_call", "back to back"),
        Some(_) => ("per_call_idle", "the server idle before each call"),
    };
    let (b, t, s) = (medians[0], medians[1], medians[2]);
    line(&format!("{prefix}/bare_reqwest_get"), b);
    line(&format!("{prefix}/bare_reqwest_get_timeout"), t);
    line(&format!("{prefix}/sdk_get_system_user"), s);
    for (name, base) in [("bare", b), ("bare with timeout", t)] {
        println!(
            "ratio sdk / {name}, {how} (medians of {BLOCKS} interleaved blocks of {CALLS_PER_BLOCK} calls): cpu {:.2}x   allocations {:.2}x   wall {:.2}x",
            s.cpu_ns / base.cpu_ns,
            s.allocations / base.allocations,
            s.wall_ns / base.wall_ns
        );
    }
}

fn per_batch(rt: &tokio::runtime::Runtime, client: &Client, uri: &str) {
    let ops = || {
        (0..50u64).map(|i| {
            client
                .ad_account(meta_business::AdAccountId::from(3_000_000_000_001 + i))
                .assign(SU, [meta_business::AdAccountTask::Analyze])
        })
    };
    // The form body the crate sends (its proof included), built once; the crate's own items
    // are checked against it, so both sides carry the same bytes.
    let wire: Vec<_> = (0..50u64)
        .map(|i| {
            json!({
                "method": "POST",
                "relative_url": format!("act_{}/assigned_users", 3_000_000_000_001 + i),
                "body": format!("user={SU}&tasks=%5B%22ANALYZE%22%5D"),
            })
        })
        .collect();
    for (op, expected) in ops().zip(&wire) {
        let item = op.batch_item().expect("item");
        assert_eq!(Some(item.relative_url()), expected["relative_url"].as_str());
        assert_eq!(item.body(), expected["body"].as_str());
    }
    let proof = meta_business::tokens::appsecret_proof(&SECRET.into(), &TOKEN.into());
    let body = format!(
        "batch={}&include_headers=false&appsecret_proof={}",
        form_encode(&serde_json::to_string(&wire).expect("json")),
        proof.expose_secret()
    );
    let url = format!("{uri}/v26.0/");
    let raw = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let bare = || {
        let request = raw
            .post(&url)
            .bearer_auth(TOKEN)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone());
        async move {
            let resp = request.send().await.expect("send");
            std::hint::black_box(resp.bytes().await.expect("body"));
        }
    };
    let sdk = || async {
        let results = client
            .bulk(ops())
            .concurrency(1)
            .send()
            .await
            .expect("bulk");
        assert!(results.iter().all(Result::is_ok));
        std::hint::black_box(results);
    };
    let (mut bares, mut sdks) = (Vec::new(), Vec::new());
    rt.block_on(async {
        measure(BATCHES_PER_BLOCK, None, bare).await;
        measure(BATCHES_PER_BLOCK, None, sdk).await;
        for round in 0..BLOCKS {
            if round % 2 == 0 {
                bares.push(measure(BATCHES_PER_BLOCK, None, bare).await);
                sdks.push(measure(BATCHES_PER_BLOCK, None, sdk).await);
            } else {
                sdks.push(measure(BATCHES_PER_BLOCK, None, sdk).await);
                bares.push(measure(BATCHES_PER_BLOCK, None, bare).await);
            }
        }
    });
    let medians = [summarize(&bares), summarize(&sdks)];
    let (b, s) = (medians[0], medians[1]);
    line("per_batch/bare_reqwest_post_timeout", b);
    line("per_batch/sdk_bulk_50_assignments", s);
    println!(
        "per-batch overhead, sdk - bare (medians of {BLOCKS} interleaved blocks of {BATCHES_PER_BLOCK} batches): cpu {:.1} µs   allocations {:.0}   wall {:.1} µs",
        (s.cpu_ns - b.cpu_ns) / 1000.0,
        s.allocations - b.allocations,
        (s.wall_ns - b.wall_ns) / 1000.0
    );
}

/// `application/x-www-form-urlencoded`, as the `url` crate writes it.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("per_call: run with `cargo bench --bench per_call`");
        return;
    }
    let items: Vec<_> = (0..50)
        .map(|_| json!({"code": 200, "body": "{\"success\":true}"}))
        .collect();
    let uri = start_server(vec![
        system_user_mock(),
        Mock::given(method("POST"))
            .and(path("/v26.0/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!(items))),
    ]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = Client::builder()
        .access_token(TOKEN)
        .app_secret(SECRET)
        .base_url(uri.as_str())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    per_call(&rt, &client, &uri, None);
    per_call(&rt, &client, &uri, Some(Duration::from_micros(200)));
    per_batch(&rt, &client, &uri);
}

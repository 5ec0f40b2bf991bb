//! Per-call cost, side by side: reading a system user through the crate versus a bare reqwest
//! GET of the same URL (its 64-character proof included), against one local server on a thread
//! of its own. Blocks of calls alternate between the two (which goes first alternates too), and
//! each figure is the median over the blocks of:
//!
//! - CPU time of the client's thread per call (the server's thread is not counted),
//! - heap allocations made on the client's thread per call,
//! - wall time per call.
//!
//! Run: `cargo bench --bench per_call`. Goals (issue [performance-2]): CPU ≤ 1.10 ×,
//! allocations ≤ 1.2 × the bare request's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use meta_business::{Client, ExposeSecret, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SU: &str = "100000008899900";
const TOKEN: &str = "EAAB-bench-token-0123456789";
const SECRET: &str = "bench-app-secret-0123";
const CALLS_PER_BLOCK: u32 = 200;
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

fn start_server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async {
            let server = MockServer::builder()
                .disable_request_recording()
                .start()
                .await;
            Mock::given(method("GET"))
                .and(path(format!("/v26.0/{SU}")))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                    "id": SU, "name": "ads-reporting-server", "created_time": "2026-11-22T06:08:00+0000",
                    "finance_permission": "Analyst", "ip_permission": "Reviewer"
                })))
                .mount(&server)
                .await;
            tx.send(server.uri()).expect("uri");
            std::future::pending::<()>().await;
        });
    });
    rx.recv().expect("server started")
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

async fn measure<F, Fut>(mut call: F) -> Block
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (cpu, allocs, wall) = (thread_cpu(), allocations(), Instant::now());
    COUNTING.with(|on| on.set(true));
    for _ in 0..CALLS_PER_BLOCK {
        call().await;
    }
    COUNTING.with(|on| on.set(false));
    let n = f64::from(CALLS_PER_BLOCK);
    Block {
        cpu_ns: (thread_cpu() - cpu).as_nanos() as f64 / n,
        allocations: (allocations() - allocs) as f64 / n,
        wall_ns: wall.elapsed().as_nanos() as f64 / n,
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("per_call: run with `cargo bench --bench per_call`");
        return;
    }
    let uri = start_server();
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
    let proof = meta_business::appsecret_proof(&SECRET.into(), &TOKEN.into());
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
        measure(bare).await;
        measure(bare_timed).await;
        measure(sdk).await;
        for round in 0..BLOCKS {
            // Who goes first rotates, so no side always runs on a warmer machine.
            for turn in 0..3 {
                match (round + turn) % 3 {
                    0 => bares.push(measure(bare).await),
                    1 => timeds.push(measure(bare_timed).await),
                    _ => sdks.push(measure(sdk).await),
                }
            }
        }
    });
    let (b, t, s) = (summarize(&bares), summarize(&timeds), summarize(&sdks));
    let line = |name: &str, x: Block| {
        println!(
            "per_call/{name:<24} cpu {:>7.1} µs   allocations {:>5.1}   wall {:>7.1} µs",
            x.cpu_ns / 1000.0,
            x.allocations,
            x.wall_ns / 1000.0
        );
    };
    line("bare_reqwest_get", b);
    line("bare_reqwest_get_timeout", t);
    line("sdk_get_system_user", s);
    for (name, base) in [("bare", b), ("bare with timeout", t)] {
        println!(
            "ratio sdk / {name} (medians of {BLOCKS} interleaved blocks of {CALLS_PER_BLOCK} calls): cpu {:.2}x   allocations {:.2}x   wall {:.2}x",
            s.cpu_ns / base.cpu_ns,
            s.allocations / base.allocations,
            s.wall_ns / base.wall_ns
        );
    }
}

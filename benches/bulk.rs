//! Bulk assignment at the round-trip floor: 500 assignments against the emulator with a 20 ms
//! simulated round trip, in each mode at a fixed concurrency of 4, with the targets checked and
//! reported; then 5,000 assignments with the default settings (batch mode, concurrency
//! following the usage headers, up to 16) against the floor `ceil(N/50) / 16 × round trip`, and
//! with the old default (a fixed 4) beside it.
//!
//! Run: `cargo bench --bench bulk` (about 15 s: the sequential mode is the slow one, on purpose).
//! Targets: batch mode sends ≤ 10 HTTP requests, finishes within 1.5 × (round trip × waves of
//! batches), and is ≥ 50 × faster than sequential; no mode exceeds its concurrency limit; the
//! default does 5,000 in ≤ 0.30 s.

use std::time::{Duration, Instant};

use meta_business::testing::{BusinessSeed, GraphEmulator};
use meta_business::{
    AdAccountId, AdAccountTask,
    bulk::{BulkMode, DEFAULT_CONCURRENCY, MAX_BATCH},
};

const N: u64 = 500;
const LATENCY: Duration = Duration::from_millis(20);

struct Run {
    mode: BulkMode,
    seconds: f64,
    requests: u64,
    max_in_flight: usize,
}

async fn run(mode: BulkMode, concurrency: Option<usize>, n: u64) -> Run {
    let emulator = GraphEmulator::builder()
        .latency(LATENCY)
        .business(
            BusinessSeed::new("1000000000001", "Bulk")
                .app("2000000000001", "App", "bulk-app-secret-0123")
                .admin("EAAE-bulk-admin")
                .ad_accounts(3_000_000_000_001, n),
        )
        .start()
        .await;
    let client = emulator.client("EAAE-bulk-admin").expect("client");
    let su = client
        .business("1000000000001")
        .system_users()
        .create("bulk-reporting")
        .send()
        .await
        .expect("su");
    emulator.clear_requests();
    let ops = (0..n).map(|i| {
        client
            .ad_account(AdAccountId::from(3_000_000_000_001 + i))
            .assign(&su.id, [AdAccountTask::Analyze])
    });
    let bulk = client.bulk(ops).mode(mode);
    let bulk = match concurrency {
        Some(c) => bulk.concurrency(c),
        None => bulk, // the default: adaptive
    };
    let before = client.requests_sent();
    let started = Instant::now();
    let results = bulk.send().await.expect("valid ops");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        results.iter().all(Result::is_ok),
        "{mode:?}: some assignments failed"
    );
    Run {
        mode,
        seconds,
        requests: client.requests_sent() - before,
        max_in_flight: emulator.max_in_flight(),
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent; keep that path quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("bulk: run with `cargo bench --bench bulk`");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let c = DEFAULT_CONCURRENCY;
    let batch = rt.block_on(run(BulkMode::Batch, Some(c), N));
    let concurrent = rt.block_on(run(BulkMode::Concurrent, Some(c), N));
    let sequential = rt.block_on(run(BulkMode::Sequential, Some(c), N));
    for r in [&batch, &concurrent, &sequential] {
        println!(
            "bulk/{:<10} n={N} requests={:<4} seconds={:.3} max_in_flight={}",
            format!("{:?}", r.mode).to_lowercase(),
            r.requests,
            r.seconds,
            r.max_in_flight
        );
    }
    let batches = N.div_ceil(MAX_BATCH as u64);
    let waves = batches.div_ceil(c as u64) as f64;
    let budget = 1.5 * LATENCY.as_secs_f64() * waves;
    let speedup = sequential.seconds / batch.seconds;
    println!(
        "target batch requests <= {batches}: {} ({})",
        batch.requests,
        verdict(batch.requests <= batches)
    );
    println!(
        "target batch time <= 1.5 x {}ms x {waves} waves = {:.3}s: {:.3}s ({})",
        LATENCY.as_millis(),
        budget,
        batch.seconds,
        verdict(batch.seconds <= budget)
    );
    println!(
        "target batch >= 50x faster than sequential: {speedup:.0}x ({})",
        verdict(speedup >= 50.0)
    );
    let within =
        [&batch, &concurrent].iter().all(|r| r.max_in_flight <= c) && sequential.max_in_flight <= 1;
    println!(
        "target concurrency never above {c}: {} ({})",
        batch.max_in_flight.max(concurrent.max_in_flight),
        verdict(within)
    );

    // The default settings, at scale, against the floor.
    const BIG: u64 = 5_000;
    const MAX: u64 = 16;
    let default = rt.block_on(run(BulkMode::Batch, None, BIG));
    let old = rt.block_on(run(BulkMode::Batch, Some(c), BIG));
    let floor = BIG.div_ceil(MAX_BATCH as u64).div_ceil(MAX) as f64 * LATENCY.as_secs_f64();
    println!(
        "bulk/default    n={BIG} requests={:<4} seconds={:.3} max_in_flight={} (floor {floor:.3}s: {:.2}x)",
        default.requests,
        default.seconds,
        default.max_in_flight,
        default.seconds / floor
    );
    println!(
        "bulk/fixed_4    n={BIG} requests={:<4} seconds={:.3} max_in_flight={}",
        old.requests, old.seconds, old.max_in_flight
    );
    println!(
        "target default 5,000 assignments <= 0.30s: {:.3}s ({})",
        default.seconds,
        verdict(default.seconds <= 0.30)
    );
}

//! Bulk work by default follows the usage headers: against a business with a call budget it
//! finishes without one throttle, where a fixed high concurrency meets them; with an ample
//! budget it puts more in flight than the old fixed default.

use std::time::Duration;

use meta_business::testing::{BusinessSeed, GraphEmulator};
use meta_business::{AdAccountId, AdAccountTask, Client, Error, retry::RetryPolicy};

const BUSINESS: &str = "1000000000001";
const FIRST: u64 = 3_000_000_000_001;
/// 300 calls a second: a 1,000-assignment job spans at least three windows.
const TIGHT_BUDGET: Option<(u32, Duration)> = Some((300, Duration::from_secs(1)));

async fn world(
    n: u64,
    budget: Option<(u32, Duration)>,
    latency: Duration,
) -> (GraphEmulator, Client, String) {
    let mut builder = GraphEmulator::builder().latency(latency);
    if let Some((calls, window)) = budget {
        builder = builder.call_budget(calls, window);
    }
    let emulator = builder
        .business(
            BusinessSeed::new(BUSINESS, "Bulk")
                .tier(meta_business::AccessTier::Full)
                .app("2000000000001", "App", "bulk-app-secret-0123")
                .admin("EAAE-bulk-admin")
                .ad_accounts(FIRST, n),
        )
        .start()
        .await;
    let client = emulator
        .client_builder("EAAE-bulk-admin")
        .app_secret("bulk-app-secret-0123")
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let su = client
        .business(BUSINESS)
        .system_users()
        .create("bulk-reporting")
        .send()
        .await
        .unwrap();
    emulator.clear_requests();
    (emulator, client, su.id.to_string())
}

fn ops(
    client: &Client,
    su: &str,
    n: u64,
) -> impl Iterator<Item = meta_business::calls::Assign<meta_business::asset::AdAccount>> {
    (0..n).map(move |i| {
        client
            .ad_account(AdAccountId::from(FIRST + i))
            .assign(su, [AdAccountTask::Analyze])
    })
}

fn throttled(emulator: &GraphEmulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.status == 400)
        .count()
}

#[tokio::test]
async fn the_default_finishes_a_large_job_within_the_budget_without_a_throttle() {
    let (emulator, client, su) = world(1_000, TIGHT_BUDGET, Duration::from_millis(10)).await;
    let results = client.bulk(ops(&client, &su, 1_000)).send().await.unwrap();
    let failed: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} failed, first: {}",
        failed.len(),
        failed[0]
    );
    assert_eq!(throttled(&emulator), 0, "not one request was throttled");
    assert_eq!(emulator.assignments(&format!("act_{FIRST}")).len(), 1);
    assert_eq!(
        emulator.assignments(&format!("act_{}", FIRST + 999)).len(),
        1
    );
}

#[tokio::test]
async fn a_fixed_high_concurrency_meets_the_same_budget_s_throttle() {
    let (emulator, client, su) = world(1_000, TIGHT_BUDGET, Duration::from_millis(10)).await;
    let results = client
        .bulk(ops(&client, &su, 1_000))
        .concurrency(16)
        .send()
        .await
        .unwrap();
    let limited = results
        .iter()
        .filter(|r| {
            r.as_ref()
                .err()
                .is_some_and(|e| e.to_string().contains("80004"))
        })
        .count();
    assert!(
        limited > 0,
        "the budget is real: a fixed 16 in flight passes it"
    );
    assert!(throttled(&emulator) > 0);
}

#[tokio::test]
async fn with_an_ample_budget_the_default_puts_more_in_flight_than_four() {
    // A long round trip, so that requests in flight overlap whatever the emulator's own speed.
    let (emulator, client, su) = world(2_000, None, Duration::from_millis(100)).await;
    let results = client.bulk(ops(&client, &su, 2_000)).send().await.unwrap();
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(emulator.requests().len(), 40, "batches of 50");
    let most = emulator.max_in_flight();
    assert!(
        (5..=16).contains(&most),
        "ramped up from 4, never past 16: {most}"
    );
}

//! Assign one system user to N ad accounts, sequentially, concurrently or in batches, and print
//! one JSON line: the mode, N, the HTTP requests sent and the elapsed seconds.
//!
//! ```text
//! cargo run --release --example bulk_assign -- --n 500 --mode batch
//! cargo run --release --example bulk_assign -- --n 500 --mode sequential --latency-ms 20
//! META_ACCESS_TOKEN=... META_BUSINESS_ID=... cargo run --release --example bulk_assign -- --n 50 --mode batch
//! ```
//!
//! On the embedded emulator (no `META_ACCESS_TOKEN`) the business gets N ad accounts and every
//! answer is delayed by `--latency-ms` (default 20) to simulate the round trip to Meta. On a
//! real business the ad accounts are its first N owned ones and the system user is `--system-user`
//! (or one named `bulk-assign-example-reporting`, created if missing).

mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use meta_business::testing::{BusinessSeed, GraphEmulator};
use meta_business::{
    AdAccountId, AdAccountTask, Client, SystemUserId,
    bulk::BulkMode,
    progress::{Progress, ProgressSink},
};

#[derive(Parser)]
#[command(
    about = "Assign a system user to N ad accounts and report requests and time as JSON",
    after_help = common::env_help(&[])
)]
struct Args {
    /// How many ad accounts.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    n: u64,
    /// sequential, concurrent or batch.
    #[arg(long, default_value = "batch")]
    mode: BulkMode,
    /// Exactly this many requests in flight. Without it, batch mode follows the usage headers
    /// (up to `--max-concurrency`) and concurrent mode keeps 4 in flight.
    #[arg(long, value_parser = at_least_one)]
    concurrency: Option<usize>,
    /// The most batch requests in flight when following the usage headers.
    #[arg(long, default_value_t = 16, value_parser = at_least_one)]
    max_concurrency: usize,
    /// Simulated round trip of the embedded emulator, in milliseconds.
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
    /// The system user (real business only).
    #[arg(long)]
    system_user: Option<String>,
    /// Print the JSON report indented (without it: one JSON line, as scripts expect).
    #[arg(long)]
    json: bool,
}

fn at_least_one(raw: &str) -> Result<usize, String> {
    match raw.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bulk_assign failed: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn setup(
    args: &Args,
) -> Result<
    (
        Client,
        SystemUserId,
        Vec<AdAccountId>,
        Option<GraphEmulator>,
    ),
    String,
> {
    if std::env::var_os("META_ACCESS_TOKEN").is_none() {
        let emulator = GraphEmulator::builder()
            .latency(Duration::from_millis(args.latency_ms))
            .business(
                BusinessSeed::new("1000000000001", "Bulk Demo")
                    .app("2000000000001", "Bulk App", "bulk-app-secret-0123")
                    .admin("EAAE-bulk-admin-token")
                    .ad_accounts(3_000_000_000_001, args.n),
            )
            .start()
            .await;
        let client = emulator
            .client("EAAE-bulk-admin-token")
            .map_err(|e| e.to_string())?;
        let su = client
            .business("1000000000001")
            .system_users()
            .create("bulk-ads-reporting")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let accounts = (0..args.n)
            .map(|i| AdAccountId::from(3_000_000_000_001 + i))
            .collect();
        return Ok((client, su.id, accounts, Some(emulator)));
    }
    let target = common::target().await?;
    // Inputs before anything is sent: the system user's id, when given.
    let given: Option<SystemUserId> = args
        .system_user
        .as_deref()
        .map(|id| {
            id.parse()
                .map_err(|e: meta_business::Error| format!("--system-user: {e}"))
        })
        .transpose()?;
    let biz = target.client.business(target.business.clone());
    let accounts: Vec<AdAccountId> = biz
        .owned_ad_accounts()
        .collect(100_000)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .take(usize::try_from(args.n).unwrap_or(usize::MAX))
        .map(|a| a.id)
        .collect();
    if accounts.is_empty() {
        return Err("the business owns no ad account to assign".into());
    }
    let su = match given {
        Some(id) => id,
        None => {
            let name = "bulk-assign-example-reporting";
            let got = biz
                .system_users()
                .get_or_create(name)
                .send()
                .await
                .map_err(|e| match e {
                    meta_business::Error::QuotaExceeded { .. } => format!(
                        "{e}\nPass an existing system user instead: --system-user <id> (list them with `cargo run --example system_users`)"
                    ),
                    other => other.to_string(),
                })?;
            got.user.id
        }
    };
    Ok((target.client, su, accounts, None))
}

async fn run(args: Args) -> Result<(), String> {
    let (client, su, accounts, emulator) = setup(&args).await?;
    let ops = accounts.iter().map(|a| {
        client
            .ad_account(a.clone())
            .assign(&su, [AdAccountTask::Analyze])
    });
    // A progress line on stderr at every tenth of the work (stdout is the JSON report).
    let bulk = client
        .bulk(ops)
        .mode(args.mode)
        .progress(ProgressSink::new(|p| {
            if let Progress::Done {
                index,
                total: Some(total),
                ..
            }
            | Progress::Failed {
                index,
                total: Some(total),
                ..
            } = p
                && (index * 10 / total > (index - 1) * 10 / total)
            {
                eprintln!("{index}/{total} operations answered");
            }
        }));
    let bulk = match args.concurrency {
        Some(n) => bulk.concurrency(n),
        None => bulk.adaptive(args.max_concurrency),
    };
    let before = client.requests_sent();
    let started = Instant::now();
    let results = bulk.send().await.map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let requests = client.requests_sent() - before;
    let failed = results.iter().filter(|r| r.is_err()).count();
    if let Some(err) = results.iter().find_map(|r| r.as_ref().err()) {
        eprintln!("first failure: {err}");
    }
    let mode = format!("{:?}", args.mode).to_lowercase();
    let max_in_flight = emulator.as_ref().map(GraphEmulator::max_in_flight);
    let report = serde_json::json!({
            "mode": mode, "n": accounts.len(), "requests": requests, "seconds": (seconds * 1000.0).round() / 1000.0,
            "succeeded": results.len() - failed, "failed": failed,
            "concurrency": args.concurrency.map_or_else(|| format!("adaptive, at most {}", args.max_concurrency), |n| n.to_string()),
            "max_in_flight": max_in_flight,
    });
    if args.json {
        println!("{report:#}");
    } else {
        println!("{report}");
    }
    Ok(())
}

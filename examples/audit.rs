//! Audit a business's system users for the mistakes Meta's guidance warns about.
//!
//! ```text
//! cargo run --example audit                  # on the emulator, after seeding some mistakes
//! META_ACCESS_TOKEN=... META_BUSINESS_ID=... cargo run --example audit -- --token-file ci.token
//! META_ACCESS_TOKEN=... META_BUSINESS_ID=... cargo run --example audit -- --token-dir ./tokens
//! ```
//!
//! Exits non-zero when a finding at or above `--fail-on` (default: critical) is found.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use meta_business::provision::{self, AuditOptions, PlanOptions, Severity, Spec};
use meta_business::{
    AccessTier, AdAccountTask,
    progress::{Progress, ProgressSink},
    store::{FileStore, MemoryStore, TokenStore},
};

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Warning,
    Critical,
    Never,
}

#[derive(Parser)]
#[command(
    about = "Audit a business's system users, assignments and tokens",
    after_help = common::env_help(&[])
)]
struct Args {
    /// Token files to inspect (each is labelled by its file name).
    #[arg(long)]
    token_file: Vec<PathBuf>,
    /// A token store (as written by `provision --token-dir`): every token of the business in
    /// it is inspected, as its own app.
    #[arg(long)]
    token_dir: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// The severity that makes the exit code non-zero.
    #[arg(long, value_enum, default_value = "critical")]
    fail_on: FailOn,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("audit failed: {message}");
            ExitCode::FAILURE
        }
    }
}

/// On the emulator, give the audit something to find: the example file applied (its token in
/// a store in memory, which the audit reads), then a vague name, an over-broad assignment and
/// a partner with access to an ad account.
async fn seed_demo(target: &common::Target) -> Result<Option<Arc<dyn TokenStore>>, String> {
    let Some(emulator) = &target.emulator else {
        return Ok(None);
    };
    emulator.set_access_tier(target.business.as_str(), AccessTier::Full);
    let spec = Spec::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/provision.toml"
    ))
    .map_err(|e| e.to_string())?;
    // A client that knows the business is on the Full tier now.
    let client = &emulator
        .client(meta_business::testing::DEMO.admin_token)
        .map_err(|e| e.to_string())?;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let plan = provision::plan(client, &spec, &PlanOptions::default().store(store.clone()))
        .await
        .map_err(|e| e.to_string())?;
    let _provisioned = plan
        .apply(client)
        .await
        .into_result()
        .map_err(|e| e.to_string())?;
    let biz = client.business(target.business.clone());
    let vague = biz
        .system_users()
        .create("test")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    for account in biz
        .owned_ad_accounts()
        .collect(100)
        .await
        .map_err(|e| e.to_string())?
    {
        client
            .ad_account(account.id)
            .assign(&vague.id, [AdAccountTask::Manage])
            .send()
            .await
            .map_err(|e| e.to_string())?;
    }
    // A partner agency that still has access to an ad account: the audit lists what it holds.
    let demo = meta_business::testing::DEMO;
    emulator.share_with_partner(demo.ad_accounts[0], "1000000000077", "Former Agency");
    eprintln!(
        "(demo business seeded from examples/provision.toml, plus a system user named \"test\" with every ad account and a partner agency with one)"
    );
    Ok(Some(store))
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let target = common::target().await?;
    eprintln!("target: {}", target.description);
    // Every input before the first request: the store must be there to be read.
    let given: Option<Arc<dyn TokenStore>> = match &args.token_dir {
        Some(dir) if !dir.is_dir() => {
            return Err(format!("--token-dir: {} is not a directory", dir.display()));
        }
        Some(dir) => Some(Arc::new(
            FileStore::open(dir).map_err(|e| format!("--token-dir: {e}"))?,
        )),
        None => None,
    };
    let seeded = seed_demo(&target).await?;
    // A line on stderr for each part read (stdout stays the report, or the JSON alone).
    let mut options = AuditOptions::default().progress(ProgressSink::new(|p| {
        if matches!(p, Progress::Done { .. } | Progress::Failed { .. }) {
            eprintln!("{p}");
        }
    }));
    if let Some(store) = given.or(seeded) {
        options = options.store(store);
    }
    if let Some(app) = &target.app
        && target.client.has_app_secret()
    {
        options = options.app(app.clone());
    }
    for path in &args.token_file {
        let token = common::read_secret(path)
            .map_err(|e| e.to_string())?
            .ok_or(format!("{} does not exist", path.display()))?;
        options = options.token(path.display().to_string(), token);
    }
    let report = provision::audit(&target.client, target.business.clone(), &options)
        .await
        .map_err(|e| e.to_string())?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        print!("{report}");
    }
    let failed = match args.fail_on {
        FailOn::Warning => report.has(Severity::Warning),
        FailOn::Critical => report.has(Severity::Critical),
        FailOn::Never => false,
    };
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

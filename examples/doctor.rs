//! Preflight ("doctor"): check what must hold before system users work, with a remedy for
//! each failure. Exits non-zero when a check fails.
//!
//! ```text
//! cargo run --example doctor                      # on the emulator's demo business
//! META_ACCESS_TOKEN=... META_APP_SECRET=... META_APP_ID=... META_BUSINESS_ID=... \
//!     cargo run --example doctor -- --scope ads_read --ad-account act_42
//! ```

mod common;

use std::process::ExitCode;

use clap::Parser;
use meta_business::{AdAccountId, Permission};

#[derive(Parser)]
#[command(
    about = "Check the prerequisites of system users for a business",
    after_help = common::env_help(&[])
)]
struct Args {
    /// A permission the system-user tokens will ask for (repeatable).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// An ad account whose Custom Audience terms to check (repeatable).
    #[arg(long = "ad-account")]
    ad_accounts: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("doctor failed: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let target = common::target().await?;
    eprintln!("target: {}", target.description);
    let mut ad_accounts: Vec<AdAccountId> = Vec::new();
    for raw in &args.ad_accounts {
        ad_accounts.push(
            raw.parse()
                .map_err(|e: meta_business::Error| format!("--ad-account: {e}"))?,
        );
    }
    if ad_accounts.is_empty() && target.emulator.is_some() {
        ad_accounts.push(meta_business::testing::DEMO.ad_accounts[0].into());
    }
    let mut scopes: Vec<Permission> = args
        .scopes
        .iter()
        .map(|s| Permission::from(s.as_str()))
        .collect();
    if scopes.is_empty() {
        scopes.push(Permission::AdsRead);
    }
    let mut preflight = target
        .client
        .business(target.business.clone())
        .preflight()
        .scopes(scopes)
        .ad_accounts(ad_accounts);
    if let Some(app) = &target.app {
        preflight = preflight.app(app.clone());
    }
    let report = preflight.send().await;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        print!("{report}");
    }
    Ok(report.passed())
}

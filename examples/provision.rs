//! Provision a business from a desired-state file: plan (like a Terraform plan), then apply.
//!
//! ```text
//! cargo run --example provision                        # examples/provision.toml on the emulator
//! cargo run --example provision -- --dry-run           # the plan only
//! cargo run --example provision -- --file my.toml --token-dir ./tokens
//! ```
//!
//! With `META_ACCESS_TOKEN` (and `META_BUSINESS_ID`, `META_APP_ID`, `META_APP_SECRET`) it runs
//! on the real Graph API: with `--file` from your file; without, from a desired state built
//! from those variables (one reporting system user with analyze-only access to the business's
//! first ad account and Page). Tokens go to the store in `--token-dir` (mode 0600) as soon as
//! they are minted, and the next plan checks them there, so a second run changes nothing.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use meta_business::provision::{self, PlanOptions, Spec};
use meta_business::{FileStore, MemoryStore, TokenStore};

#[derive(Parser)]
#[command(about = "Plan and apply a desired state of system users, assets, apps and tokens")]
struct Args {
    /// The desired-state file (.toml or .json).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Print the plan without applying it.
    #[arg(long)]
    dry_run: bool,
    /// Print the plan and the report as JSON.
    #[arg(long)]
    json: bool,
    /// The token store: a directory of token files (mode 0600), read by the plan and written
    /// by the apply (required on the real API when the desired state asks for tokens).
    #[arg(long)]
    token_dir: Option<PathBuf>,
    /// Invalidate every earlier token of a system user before minting one for it, when none of
    /// its tokens is stored (they may be held by nobody).
    #[arg(long)]
    invalidate_orphans: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("provision failed: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn spec_for(args: &Args, target: &common::Target) -> Result<Spec, String> {
    if let Some(file) = &args.file {
        return Spec::from_path(file).map_err(|e| format!("--file: {e}"));
    }
    if target.emulator.is_some() {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/provision.toml");
        return Spec::from_path(file).map_err(|e| e.to_string());
    }
    // The real API without a file: a small desired state from the META_* variables.
    target.require(&[common::Need::App, common::Need::AppSecret])?;
    let biz = target.client.business(target.business.clone());
    let ad = biz
        .owned_ad_accounts()
        .limit(1)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .data
        .into_iter()
        .next();
    let page = biz
        .owned_pages()
        .limit(1)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .data
        .into_iter()
        .next();
    let mut assets = Vec::new();
    if let Some(ad) = ad {
        assets.push(serde_json::json!({"ad_account": ad.id, "tasks": ["ANALYZE"]}));
    }
    if let Some(page) = page {
        assets.push(serde_json::json!({"page": page.id, "tasks": ["ANALYZE"]}));
    }
    let app = target.app()?;
    let json = serde_json::json!({
        "business": target.business,
        "system_users": [{
            "name": "provision-example-ads-reporting",
            "apps": [app],
            "assets": assets,
            "token": {"app": app, "scopes": ["ads_read"], "expires_in_60_days": true}
        }]
    });
    eprintln!("(no --file: using a desired state built from META_BUSINESS_ID and META_APP_ID)");
    Spec::from_json_str(&json.to_string()).map_err(|e| e.to_string())
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let target = common::target().await?;
    eprintln!("target: {}", target.description);
    let spec = spec_for(&args, &target).await?;
    // Every input before the first write: a token needs the app secret and a store, and the
    // token directory must be usable before a token is minted into it.
    let wants_tokens = spec.system_users.iter().any(|s| s.token.is_some());
    if wants_tokens {
        target.require(&[common::Need::AppSecret])?;
    }
    if let Some(dir) = &args.token_dir
        && dir.exists()
        && !dir.is_dir()
    {
        return Err(format!("--token-dir: {} is not a directory", dir.display()));
    }
    let store: Option<Arc<dyn TokenStore>> = match &args.token_dir {
        Some(dir) => Some(Arc::new(
            FileStore::open(dir).map_err(|e| format!("--token-dir: {e}"))?,
        )),
        // The emulator forgets everything when the example ends: a store in memory will do.
        None if target.emulator.is_some() => Some(Arc::new(MemoryStore::new())),
        None if wants_tokens => {
            return Err(
                "the desired state asks for tokens: pass --token-dir DIR, where they are kept (mode 0600) and found by the next run"
                    .to_owned(),
            );
        }
        None => None,
    };
    let mut options = PlanOptions::default().invalidate_orphans(args.invalidate_orphans);
    if let Some(store) = store {
        options = options.store(store);
    }
    let plan = provision::plan(&target.client, &spec, &options)
        .await
        .map_err(|e| e.to_string())?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan).map_err(|e| e.to_string())?
        );
    } else {
        print!("{plan}");
    }
    if args.dry_run || plan.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }

    let report = plan.apply(&target.client).await;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        println!("{report}");
    }
    for (name, token) in &report.tokens {
        match &args.token_dir {
            Some(dir) => println!(
                "token for {name:?}: {} stored in {} (mode 0600)",
                token.masked(),
                dir.display()
            ),
            None => println!(
                "token for {name:?}: {} (kept in memory only: pass --token-dir to keep it)",
                token.masked()
            ),
        }
    }
    Ok(if report.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

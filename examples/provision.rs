//! Provision a business from a desired-state file: plan (like a Terraform plan), then apply.
//!
//! ```text
//! cargo run --example provision                        # examples/provision.toml on the emulator
//! cargo run --example provision -- --dry-run           # the plan only (no store needed)
//! cargo run --example provision -- --file my.toml --token-dir ./tokens
//! cargo run --example provision -- --file my.toml --token-dir ./tokens --out plan.json  # save, review
//! cargo run --example provision -- --apply plan.json --token-dir ./tokens               # apply it later
//! cargo run --example provision -- --help              # the flags and the META_* variables
//! ```
//!
//! A saved plan is applied only if the business still is as it was planned: the system users,
//! their grants and apps, and the stored tokens are read again first, and if anything changed
//! nothing is written and what changed is listed (plan again).
//!
//! With `META_ACCESS_TOKEN` (and `META_BUSINESS_ID`, `META_APP_ID`, `META_APP_SECRET`) it runs
//! on the real Graph API: with `--file` from your file; without, from a desired state built
//! from those variables (one reporting system user with analyze-only access to the business's
//! first ad account and Page). Tokens go to the store in `--token-dir` (mode 0600) as soon as
//! they are minted, and the next plan checks them there, so a second run changes nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use meta_business::provision::{self, ApplyReport, Plan, PlanOptions, Spec};
use meta_business::{
    progress::{Progress, ProgressSink},
    store::{FileStore, MemoryStore, TokenStore},
};

/// The variables this example reads (the README's table), for `--help`.
const ENVIRONMENT: &str = "\
Environment (with META_ACCESS_TOKEN unset, it runs on the embedded Graph emulator):
  META_ACCESS_TOKEN  admin (system) user token; unset: the embedded emulator
  META_APP_SECRET    app secret, for appsecret_proof and token generation
  META_APP_ID        the business's app to install and mint tokens for
  META_BUSINESS_ID   the business to act on
  META_GRAPH_URL     base URL override (default https://graph.facebook.com)
  META_API_VERSION   default v26.0
  META_ACCESS_TIER   limited/standard or full/advanced";

#[derive(Parser)]
#[command(
    about = "Plan and apply a desired state of system users, assets, apps and tokens",
    after_help = ENVIRONMENT
)]
struct Args {
    /// The desired-state file (.toml or .json).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Print the plan without applying it; without --token-dir it plans without a store
    /// (tokens as if none were stored).
    #[arg(long)]
    dry_run: bool,
    /// Print the plan and the report as one JSON document.
    #[arg(long)]
    json: bool,
    /// Save the plan to this file (JSON, no secret) instead of applying it; apply it later
    /// with --apply.
    #[arg(long, value_name = "PLAN.json", conflicts_with_all = ["apply", "dry_run"])]
    out: Option<PathBuf>,
    /// Apply a plan saved with --out; refused, listing what changed, if the business changed
    /// since it was made.
    #[arg(long, value_name = "PLAN.json", conflicts_with_all = ["file", "dry_run", "invalidate_orphans"])]
    apply: Option<PathBuf>,
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

/// The token store of `--token-dir`, checked before anything is sent.
fn token_dir(args: &Args) -> Result<Option<Arc<dyn TokenStore>>, String> {
    let Some(dir) = &args.token_dir else {
        return Ok(None);
    };
    if dir.exists() && !dir.is_dir() {
        return Err(format!("--token-dir: {} is not a directory", dir.display()));
    }
    let store = FileStore::open(dir).map_err(|e| format!("--token-dir: {e}"))?;
    Ok(Some(Arc::new(store)))
}

const NEED_TOKEN_DIR: &str = "the desired state asks for tokens: pass --token-dir DIR, where they are kept (mode 0600) and found by the next run";

async fn run(args: Args) -> Result<ExitCode, String> {
    if let Some(path) = &args.apply {
        return apply_saved(&args, path).await;
    }
    if let Some(out) = &args.out {
        common::check_writable("--out", out)?;
    }
    let target = common::target().await?;
    eprintln!("target: {}", target.description);
    let spec = spec_for(&args, &target).await?;
    // Every input before the first write: a token needs the app secret and a store, and the
    // token directory must be usable before a token is minted into it. A dry run needs
    // neither: it only reads.
    let wants_tokens = spec.system_users.iter().any(|s| s.token.is_some());
    let preview = args.dry_run && args.token_dir.is_none();
    if wants_tokens && !preview {
        target.require(&[common::Need::AppSecret])?;
    }
    let store = match token_dir(&args)? {
        Some(store) => Some(store),
        None if preview => None,
        // The emulator forgets everything when the example ends: a store in memory will do.
        None if target.emulator.is_some() => Some(Arc::new(MemoryStore::new()) as _),
        None if wants_tokens => return Err(NEED_TOKEN_DIR.to_owned()),
        None => None,
    };
    let mut options = PlanOptions::default()
        .invalidate_orphans(args.invalidate_orphans)
        .preview(preview)
        .progress(progress_line());
    if let Some(store) = store {
        options = options.store(store);
    }
    let plan = provision::plan(&target.client, &spec, &options)
        .await
        .map_err(|e| e.to_string())?;
    if !args.json {
        print!("{plan}");
    }
    if preview && wants_tokens {
        eprintln!(
            "(dry run without a token store: tokens are planned as if none were stored; applying would need one: --token-dir DIR)"
        );
    }
    if let Some(out) = &args.out {
        let text = serde_json::to_string_pretty(&plan).map_err(|e| e.to_string())?;
        std::fs::write(out, text).map_err(|e| format!("--out: {}: {e}", out.display()))?;
        eprintln!(
            "plan saved to {0}; apply it with --apply {0} (refused if the business changes before)",
            out.display()
        );
    }
    if args.dry_run || args.out.is_some() || plan.is_empty() {
        print_json(&args, &plan, None)?;
        return Ok(ExitCode::SUCCESS);
    }
    let report = plan.apply(&target.client).await;
    finish(&args, &plan, &report)
}

/// A progress line on stderr for each step done or failed (stdout stays the plan and the
/// report, or the JSON alone with `--json`).
fn progress_line() -> ProgressSink {
    ProgressSink::new(|p| {
        if matches!(p, Progress::Done { .. } | Progress::Failed { .. }) {
            eprintln!("{p}");
        }
    })
}

/// `--apply PLAN.json`: the saved plan, checked against the business, then applied.
async fn apply_saved(args: &Args, path: &Path) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--apply: cannot read {}: {e}", path.display()))?;
    let mut plan = Plan::from_json_str(&text).map_err(|e| format!("--apply: {e}"))?;
    let target = common::target().await?;
    eprintln!("target: {}", target.description);
    if plan.business != target.business {
        return Err(format!(
            "--apply: the plan is for business {}, not {} (META_BUSINESS_ID)",
            plan.business, target.business
        ));
    }
    if plan.needs_store() {
        plan = match token_dir(args)? {
            Some(store) => plan.store(store),
            None if target.emulator.is_some() => plan.store(Arc::new(MemoryStore::new())),
            None => {
                return Err(
                    "--apply: this plan was made with a token store: pass the same --token-dir"
                        .to_owned(),
                );
            }
        };
    }
    if !args.json {
        print!("{plan}");
    }
    let plan = plan.progress(progress_line());
    let report = plan.apply(&target.client).await;
    finish(args, &plan, &report)
}

fn print_json(args: &Args, plan: &Plan, report: Option<&ApplyReport>) -> Result<(), String> {
    if args.json {
        let doc = serde_json::json!({"plan": plan, "report": report});
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
        );
    }
    Ok(())
}

fn finish(args: &Args, plan: &Plan, report: &ApplyReport) -> Result<ExitCode, String> {
    if args.json {
        print_json(args, plan, Some(report))?;
    } else {
        println!("{report}");
    }
    for (name, token) in &report.tokens {
        match &args.token_dir {
            Some(dir) => eprintln!(
                "token for {name:?}: {} stored in {} (mode 0600)",
                token.masked(),
                dir.display()
            ),
            None => eprintln!(
                "token for {name:?}: {} (kept in memory only: pass --token-dir to keep it)",
                token.masked()
            ),
        }
    }
    if let Some(stale) = &report.stale {
        eprintln!("{stale}");
    }
    Ok(if report.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

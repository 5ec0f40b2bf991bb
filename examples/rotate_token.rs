//! Rotate a 60-day system-user token before it expires: refresh it, store the new one, check
//! it, then revoke the old one (the refresh → deploy → revoke recipe).
//!
//! ```text
//! cargo run --example rotate_token                                   # on the emulator
//! META_ACCESS_TOKEN=... META_APP_ID=... META_APP_SECRET=... \
//!     cargo run --example rotate_token -- --token-file ./ads-reporting.token
//! ```
//!
//! The token file is replaced atomically (mode 0600). Nothing happens unless the token expires
//! within `--within` days (default 14) or `--force` is given.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use meta_business::tokens::Expiry;

#[derive(Parser)]
#[command(
    about = "Refresh a 60-day system-user token, store it, revoke the old one",
    after_help = common::env_help(NEEDS)
)]
struct Args {
    /// The file holding the token (replaced with the new one).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Rotate when the token expires within this many days.
    #[arg(long, default_value_t = 14)]
    within: u64,
    /// Rotate whatever the expiry.
    #[arg(long)]
    force: bool,
    /// Print what was done as one JSON object (tokens masked).
    #[arg(long)]
    json: bool,
}

/// What a real run requires besides the business.
const NEEDS: &[common::Need] = &[common::Need::App, common::Need::AppSecret];

/// Prints the outcome as JSON, or `text` for a person.
fn report(json: bool, value: serde_json::Value, text: &str) {
    if json {
        println!("{value:#}");
    } else {
        println!("{text}");
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rotate_token failed: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    // Inputs before anything is sent: inspecting and refreshing need the app and its secret.
    let target = common::target_with(NEEDS).await?;
    eprintln!("target: {}", target.description);
    let client = &target.client;
    let app = target.app()?;
    if target.emulator.is_none() && args.token_file.is_none() {
        return Err("pass the token to rotate: --token-file PATH (a file holding one token, as quickstart --token-file writes it)".into());
    }
    if let Some(path) = &args.token_file
        && !path.is_file()
    {
        return Err(format!(
            "--token-file: {} does not exist or is not a file",
            path.display()
        ));
    }
    let scratch =
        std::env::temp_dir().join(format!("meta-business-rotate-{}.token", std::process::id()));
    let (path, force) = match (&args.token_file, &target.emulator) {
        (Some(path), _) => (path.clone(), args.force),
        (None, Some(_)) => {
            // Demo: a system user with a fresh 60-day token to rotate.
            let (su, token) = common::demo_token(&target, "ads-reporting-server").await?;
            common::write_secret(&scratch, token.secret()).map_err(|e| e.to_string())?;
            eprintln!(
                "(demo: system user {} with a 60-day token in {})",
                su,
                scratch.display()
            );
            (scratch.clone(), true)
        }
        (None, None) => return Err("pass --token-file".into()),
    };

    let old = common::read_secret(&path)
        .map_err(|e| e.to_string())?
        .ok_or(format!("{} does not exist", path.display()))?;
    let inspector = client.as_app(app.clone()).map_err(|e| e.to_string())?;
    let info = inspector
        .debug_token(old.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if info.is_valid != Some(true) {
        return Err("the stored token is no longer valid: generate a new one".into());
    }
    let window = Duration::from_secs(args.within * 86_400);
    match info.expiry() {
        Some(Expiry::Never) => return Err("the token never expires: there is nothing to refresh (generate a 60-day token instead)".into()),
        _ if !force && !info.expires_within(window) => {
            report(
                args.json,
                serde_json::json!({ "rotated": false, "file": path.display().to_string(), "within_days": args.within }),
                &format!("the token does not expire within {} days; nothing to do (use --force to rotate anyway)", args.within),
            );
            return Ok(());
        }
        _ => {}
    }

    let fresh = client
        .refresh_token(app.clone(), old.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let checked = inspector
        .debug_token(fresh.secret().clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if checked.is_valid != Some(true) {
        return Err("the refreshed token does not check out; the old one was kept".into());
    }
    common::write_secret(&path, fresh.secret())
        .map_err(|e| format!("storing the new token: {e}; the old one was kept"))?;
    let days = fresh.expires_in().map_or(0, |d| d.as_secs() / 86_400);
    if !args.json {
        println!(
            "new token {} stored in {} (valid for {days} days)",
            fresh.masked(),
            path.display(),
        );
    }
    client
        .revoke_token(app, old.clone())
        .send()
        .await
        .map_err(|e| format!("the new token is stored, but revoking the old one failed: {e}"))?;
    let gone = inspector
        .debug_token(old)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let still_valid = gone.is_valid == Some(true);
    report(
        args.json,
        serde_json::json!({
            "rotated": true, "file": path.display().to_string(), "new_token": fresh.masked().to_string(),
            "valid_days": days, "old_token_revoked": !still_valid,
        }),
        &format!("old token revoked (valid: {still_valid})"),
    );
    if target.emulator.is_some() {
        let _ = std::fs::remove_file(&scratch);
    }
    Ok(())
}

//! Show a business's system users and quota; optionally create one (quota checked first).
//!
//! ```text
//! cargo run --example system_users                               # embedded emulator
//! cargo run --example system_users -- --create reporting-server
//! META_ACCESS_TOKEN=... META_BUSINESS_ID=... cargo run --example system_users
//! ```
//!
//! Reads the `META_*` variables: `META_ACCESS_TOKEN` (unset → the embedded emulator's demo
//! business), `META_BUSINESS_ID` (required with a token), `META_APP_SECRET`, `META_GRAPH_URL`, `META_API_VERSION`,
//! `META_ACCESS_TIER` (`limited` or `full`).

use std::process::ExitCode;

use clap::Parser;
use meta_business::SystemUserRole;

mod common;

#[derive(Parser)]
#[command(
    about = "List a business's system users and its quota; optionally create one",
    after_help = common::env_help(&[])
)]
struct Args {
    /// Create a system user with this (descriptive) name.
    #[arg(long)]
    create: Option<String>,
    /// Make the created system user an admin system user.
    #[arg(long, requires = "create")]
    admin: bool,
    /// Print the users, the quota and what was created as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("system_users failed: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let target = common::target().await?;
    eprintln!("target: {}", target.description);
    if let Some(name) = &args.create {
        common::check_name("--create", name)?;
        // The audit's own rule, said now rather than at the next audit.
        if let Some(warning) = meta_business::provision::name_warning(name) {
            eprintln!("warning: --create {warning}");
        }
    }
    let client = target.client.clone();
    let business = client.business(target.business.clone());

    let mut created_json = None;
    if let Some(name) = args.create {
        let role = if args.admin {
            SystemUserRole::Admin
        } else {
            SystemUserRole::Employee
        };
        let created = business
            .system_users()
            .create(name)
            .role(role)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if args.json {
            created_json = Some(serde_json::json!({
                "id": created.id.as_str(), "name": created.name, "kind": created.kind().to_string(),
            }));
        } else {
            println!("created system user {} ({})", created.id, created.kind());
        }
    }

    let users = business
        .system_users()
        .list()
        .collect(1_000)
        .await
        .map_err(|e| e.to_string())?;
    let quota = business
        .system_user_quota()
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if args.json {
        let report = serde_json::json!({
            "created": created_json,
            "system_users": users,
            "quota": quota,
        });
        println!("{report:#}");
        return Ok(());
    }
    for user in &users {
        let role = user.role.as_ref().map_or("-", |r| r.as_str());
        println!(
            "{:<20} {:<10} {}",
            user.id,
            role,
            user.name.as_deref().unwrap_or("")
        );
    }
    println!("{quota}");
    Ok(())
}

//! Show a business's system users and quota; optionally create one (quota checked first).
//!
//! ```text
//! META_ACCESS_TOKEN=... META_BUSINESS_ID=... cargo run --example system_users
//! META_ACCESS_TOKEN=... META_BUSINESS_ID=... cargo run --example system_users -- --create reporting-server
//! ```
//!
//! Reads the `META_*` variables: `META_ACCESS_TOKEN`, `META_BUSINESS_ID`, `META_APP_SECRET`,
//! `META_GRAPH_URL`, `META_API_VERSION`, `META_ACCESS_TIER` (`limited` or `full`).

use std::process::ExitCode;

use clap::Parser;
use meta_business::{Client, SystemUserRole};

#[derive(Parser)]
#[command(about = "List a business's system users and its quota; optionally create one")]
struct Args {
    /// The business to act on.
    #[arg(long, env = "META_BUSINESS_ID")]
    business: String,
    /// Create a system user with this (descriptive) name.
    #[arg(long)]
    create: Option<String>,
    /// Make the created system user an admin system user.
    #[arg(long, requires = "create")]
    admin: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if std::env::var_os("META_ACCESS_TOKEN").is_none() {
        eprintln!("error: set META_ACCESS_TOKEN (an admin user or admin system user token)");
        return ExitCode::from(2);
    }
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> meta_business::Result<()> {
    let client = Client::builder().from_env()?.build()?;
    let business = client.business(args.business.as_str());

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
            .await?;
        println!("created system user {} ({})", created.id, created.kind());
    }

    let users = business.system_users().list().collect(1_000).await?;
    for user in &users {
        let role = user.role.as_ref().map_or("-", |r| r.as_str());
        println!(
            "{:<20} {:<10} {}",
            user.id,
            role,
            user.name.as_deref().unwrap_or("")
        );
    }
    println!("{}", business.system_user_quota().send().await?);
    Ok(())
}

//! Offboard a system user: invalidate its tokens, remove its assets, mark it decommissioned
//! (the Graph API cannot delete system users). Running it twice is harmless.
//!
//! ```text
//! cargo run --example offboard                               # on the emulator
//! META_ACCESS_TOKEN=... META_BUSINESS_ID=... cargo run --example offboard -- --name crm-sync
//! ```

mod common;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use meta_business::provision::{self, OffboardOptions, PlanOptions, Spec};
use meta_business::{Error, SystemUserId, store::MemoryStore};

#[derive(Parser)]
#[command(
    about = "Offboard a system user",
    after_help = common::env_help(&[])
)]
struct Args {
    /// The system user's id.
    #[arg(long, conflicts_with = "name")]
    id: Option<String>,
    /// The system user's name (default on the emulator: ads-reporting-server).
    #[arg(long)]
    name: Option<String>,
    /// Keep its name instead of marking it decommissioned.
    #[arg(long)]
    keep_name: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("offboard failed: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let target = common::target().await?;
    eprintln!("target: {}", target.description);
    // Inputs before anything is sent.
    let given: Option<SystemUserId> = args
        .id
        .as_deref()
        .map(|id| id.parse().map_err(|e: Error| format!("--id: {e}")))
        .transpose()?;
    match (&given, &args.name) {
        (None, None) if target.emulator.is_none() => {
            return Err("pass the system user to offboard: --id <id> or --name <name> (list them with `cargo run --example system_users`)".into());
        }
        (_, Some(name)) => common::check_name("--name", name)?,
        _ => {}
    }
    let client = &target.client;
    let mut name = args.name.clone();
    // The demo's tokens live in memory; the offboarding removes them from there once invalidated.
    let demo_store: Arc<MemoryStore> = Arc::new(MemoryStore::new());
    if target.emulator.is_some() {
        let spec = Spec::from_path(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/provision.toml"
        ))
        .map_err(|e| e.to_string())?;
        let _provisioned = provision::plan(
            client,
            &spec,
            &PlanOptions::default().store(demo_store.clone()),
        )
        .await
        .map_err(|e| e.to_string())?
        .apply(client)
        .await
        .into_result()
        .map_err(|e| e.to_string())?;
        name.get_or_insert_with(|| "ads-reporting-server".to_owned());
        eprintln!("(demo business provisioned from examples/provision.toml)");
    }
    let id = match (given, name) {
        (Some(id), _) => id,
        (None, Some(name)) => {
            let users = client
                .business(target.business.clone())
                .system_users()
                .list()
                .collect(10_000)
                .await
                .map_err(|e| e.to_string())?;
            // Also match the name it has after a first offboarding, so a rerun is harmless.
            let marked = format!("] {name}");
            let found: Vec<_> = users
                .into_iter()
                .filter(|u| {
                    u.name.as_deref().is_some_and(|n| {
                        n == name
                            || (n.starts_with(provision::DECOMMISSIONED) && n.ends_with(&marked))
                    })
                })
                .collect();
            match found.as_slice() {
                [one] => one.id.clone(),
                [] => return Err(format!("no system user is named {name:?}")),
                _ => {
                    return Err(format!(
                        "several system users are named {name:?}; pass --id"
                    ));
                }
            }
        }
        (None, None) => return Err("pass --id or --name".into()),
    };
    let mut options = OffboardOptions::default();
    options.mark_decommissioned = !args.keep_name;
    if target.emulator.is_some() {
        options = options.store(demo_store);
    }
    let report = provision::offboard(client, target.business.clone(), id, &options)
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
    // A step that failed after the first write is in the report: it says where it stopped.
    report.into_result().map(|_| ()).map_err(|e| e.to_string())
}

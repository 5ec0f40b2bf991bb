//! Keep system-user tokens alive: one pass of the token keeper over a token store.
//!
//! ```text
//! cargo run --example token_keeper                              # on the embedded emulator
//! META_ACCESS_TOKEN=... META_APP_SECRET=... META_BUSINESS_ID=... META_APP_ID=... \
//!     cargo run --example token_keeper -- --store ./meta-tokens  # one pass over a file store
//! ```
//!
//! On the emulator it mints a 60-day token into a store, moves the emulator's clock 50 days
//! ahead (inside the 14-day refresh window), runs the keeper, and shows the refresh with the
//! tokens masked. With `META_*` it runs one pass over the `--store` directory (a `FileStore`:
//! mode 0700, filled by your own code through the `TokenStore` trait) and exits non-zero when a
//! token needs a person.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use meta_business::store::{Expect, Put};
use meta_business::{
    ExposeSecret, Permission,
    keeper::TokenKeeper,
    store::{FileStore, MemoryStore, Minted, StoredToken, TokenKey, TokenMeta, TokenStore},
};

#[derive(Parser)]
#[command(
    about = "One pass of the token keeper: refresh the tokens about to expire",
    after_help = common::env_help(NEEDS)
)]
struct Args {
    /// The token store directory (required on a real business).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Refresh tokens that expire within this many days.
    #[arg(long, default_value_t = 14)]
    within_days: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// What a real run requires besides the business.
const NEEDS: &[common::Need] = &[common::Need::AppSecret];

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("token_keeper failed: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    // Inputs before anything is sent: inspecting and refreshing need the app secret.
    let target = common::target_with(NEEDS).await?;
    eprintln!("target: {}", target.description);
    let json = args.json;
    // With --json, stdout holds the JSON alone; the demo's steps go to stderr.
    macro_rules! say {
        ($($arg:tt)*) => {
            if json { eprintln!($($arg)*) } else { println!($($arg)*) }
        };
    }
    let window = Duration::from_secs(args.within_days * 86_400);
    let report = match &target.emulator {
        None => {
            let dir = args.store.as_ref().ok_or(
                "pass the token store: --store DIR (a directory of `<business>_<system user>_<app>.token` files, mode 0700)",
            )?;
            let store = FileStore::open(dir).map_err(|e| format!("--store: {e}"))?;
            TokenKeeper::new(target.client.clone(), store)
                .refresh_within(window)
                .run_once()
                .await
        }
        Some(emulator) => {
            // Demo: a system user with a fresh 60-day token in a store, 50 days later.
            let client = &target.client;
            let app = target.app()?;
            let (su, minted) = common::demo_token(&target, "token-keeper-demo-reporting").await?;
            say!("minted:    {} (60 days)", minted.masked());
            let store = MemoryStore::new();
            let key = TokenKey::new(target.business.clone(), su, app);
            let put = store
                .put(
                    StoredToken::new(
                        key.clone(),
                        minted.secret().clone(),
                        TokenMeta::new([Permission::AdsRead], None, Minted::Generated),
                    ),
                    Expect::Absent,
                )
                .await
                .map_err(|e| e.to_string())?;
            if !matches!(put, Put::Written(_)) {
                return Err(format!("{key} is already stored: {put:?}"));
            }
            emulator.advance_clock(Duration::from_secs(50 * 86_400));
            say!(
                "clock:     50 days later (10 days left, inside the {}-day window)",
                args.within_days
            );
            let report = TokenKeeper::new(client.clone(), store.clone())
                .refresh_within(window)
                .clock(emulator.clock_source())
                .run_once()
                .await;
            if let Ok(Some(now)) = store.get(&key).await.map(|v| v.map(|v| v.token)) {
                let masked = now.masked();
                say!(
                    "stored:    {masked} (refreshed: {})",
                    now.secret().expose_secret() != minted.secret().expose_secret()
                );
                say!(
                    "old token: {}",
                    if emulator.token_is_valid(minted.secret().expose_secret()) {
                        "still valid"
                    } else {
                        "revoked"
                    }
                );
            }
            report
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        print!("{report}");
    }
    Ok(report.is_healthy())
}

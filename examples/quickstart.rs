//! Provision a system user end to end: check the quota, create (or find) a descriptively named
//! system user, give it least-privilege tasks on an ad account and a Page, install the app,
//! generate a token, verify it with `debug_token`, and print a summary with the token masked.
//!
//! ```text
//! cargo run --example quickstart                      # on the embedded Graph emulator
//! META_ACCESS_TOKEN=... META_APP_SECRET=... META_APP_ID=... META_BUSINESS_ID=... \
//!     cargo run --example quickstart                  # on the real Graph API
//! ```
//!
//! With `META_ACCESS_TOKEN` unset it starts the emulator, seeded with a demo business. With
//! it set, it reads `META_APP_SECRET`, `META_APP_ID`, `META_BUSINESS_ID`, and optionally
//! `META_GRAPH_URL`, `META_API_VERSION`, `META_ACCESS_TIER`; the ad account and Page are the
//! business's first owned ones unless given with `--ad-account` / `--page`. A second run finds
//! the system user by name and creates nothing new but the token.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use meta_business::{
    AdAccountId, AdAccountTask, Error, ExposeSecret, PageId, PageTask, Permission, SystemUserRole,
};

mod common;

#[derive(Parser)]
#[command(
    about = "Provision a system user end to end (embedded emulator unless META_ACCESS_TOKEN is set)",
    after_help = common::env_help(NEEDS)
)]
struct Args {
    /// A name that says what the integration is.
    #[arg(long, default_value = "quickstart-ads-reporting-server")]
    name: String,
    /// The ad account to assign (default: the business's first owned one).
    #[arg(long)]
    ad_account: Option<String>,
    /// The Page to assign (default: the business's first owned one).
    #[arg(long)]
    page: Option<String>,
    /// Ask for a token that does not expire (the default is a 60-day token).
    #[arg(long)]
    non_expiring: bool,
    /// Write the token to this file, created with mode 0600.
    #[arg(long)]
    token_file: Option<std::path::PathBuf>,
    /// Print the summary as one JSON object on stdout (the steps go to stderr); the token is
    /// masked in it too.
    #[arg(long)]
    json: bool,
}

/// What a real run requires besides the business.
const NEEDS: &[common::Need] = &[common::Need::App, common::Need::AppSecret];

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("quickstart failed: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    // Every input first, every variable included: nothing is sent until all of them hold.
    let t = common::target_with(NEEDS).await?;
    let json = args.json;
    // With --json, stdout holds the JSON alone; the steps go to stderr.
    macro_rules! say {
        ($($arg:tt)*) => {
            if json { eprintln!($($arg)*) } else { println!($($arg)*) }
        };
    }
    say!("target:        {}", t.description);
    let app = t.app()?;
    common::check_name("--name", &args.name)?;
    let ad_account: Option<AdAccountId> = args
        .ad_account
        .map(|raw| raw.parse().map_err(|e: Error| format!("--ad-account: {e}")))
        .transpose()?;
    let page: Option<PageId> = args
        .page
        .map(|raw| raw.parse().map_err(|e: Error| format!("--page: {e}")))
        .transpose()?;
    if let Some(path) = &args.token_file {
        common::check_writable("--token-file", path)?;
    }

    let (client, biz) = (&t.client, t.client.business(t.business.clone()));
    let ad_account = match ad_account {
        Some(id) => id,
        None => {
            first(
                biz.owned_ad_accounts()
                    .limit(1)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .data,
                "ad account",
                "--ad-account",
            )?
            .id
        }
    };
    let page = match page {
        Some(id) => id,
        None => {
            first(
                biz.owned_pages()
                    .limit(1)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .data,
                "Page",
                "--page",
            )?
            .id
        }
    };

    // 1. The quota, before anything is written.
    let usage = biz
        .system_user_quota()
        .send()
        .await
        .map_err(|e| e.to_string())?;
    say!("quota:         {usage}");

    // 2. Find the system user by name, or create it (one lookup-and-create, under the lock).
    let got = biz
        .system_users()
        .get_or_create(args.name.as_str())
        .role(SystemUserRole::Employee)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let su = got.user.clone();
    let how = if got.created {
        "created"
    } else {
        "already exists, reused"
    };
    say!("system user:   {} ({}) {how}", su.id, args.name);

    // 3. Least privilege: analyze-only tasks on one ad account and one Page.
    client
        .ad_account(ad_account.clone())
        .assign(&su.id, [AdAccountTask::Analyze])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    say!("ad account:    {ad_account} → ANALYZE");
    client
        .page(page.clone())
        .assign(&su.id, [PageTask::Analyze])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    say!("page:          {page} → ANALYZE");

    // 4. Install the app, 5. generate the token.
    let user = client.system_user(&su.id);
    user.install_app(app.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    say!("app:           {app} installed");
    let token = user
        .generate_token(app.clone())
        // With the business, a token for the client's own app (META_APP_ID) is minted through
        // the business-level edge, which Meta keeps open to new apps.
        .business(t.business.clone())
        .scopes([Permission::AdsRead, Permission::ReadInsights])
        .expires_in_60_days(!args.non_expiring)
        .send()
        .await
        .map_err(|e| e.to_string())?;

    // 6. Verify it.
    let info = client
        .as_app(app.clone())
        .map_err(|e| e.to_string())?
        .debug_token(token.secret().expose_secret())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if info.is_valid != Some(true) {
        return Err("debug_token says the new token is not valid".into());
    }
    let kind = info
        .token_type
        .as_ref()
        .map_or("unknown", |t| t.as_str())
        .to_owned();
    let scopes: Vec<&str> = info.scopes.iter().map(Permission::as_str).collect();
    let expiry = if info.never_expires() {
        "never expires".to_owned()
    } else if info.expires_within(Duration::from_secs(61 * 86_400)) {
        "expires in 60 days".to_owned()
    } else {
        "expiry unknown".to_owned()
    };
    say!(
        "token:         {} ({kind}, {}, {expiry})",
        token.masked(),
        scopes.join(",")
    );

    match &args.token_file {
        Some(path) => {
            common::write_secret(path, token.secret())
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
            say!("token file:    {} (mode 0600)", path.display());
        }
        None => {
            say!("token file:    not written: pass --token-file PATH to keep the token (mode 0600)")
        }
    }
    say!(
        "done:          system user {} can read ad account {ad_account} and Page {page}",
        su.id
    );
    if json {
        let summary = serde_json::json!({
            "target": t.description,
            "quota": usage.to_string(),
            "system_user": { "id": su.id.as_str(), "name": args.name, "created": got.created },
            "ad_account": { "id": ad_account.as_str(), "tasks": ["ANALYZE"] },
            "page": { "id": page.as_str(), "tasks": ["ANALYZE"] },
            "app": app.as_str(),
            "token": { "masked": token.masked().to_string(), "type": kind, "scopes": scopes, "expiry": expiry },
            "token_file": args.token_file.as_ref().map(|p| p.display().to_string()),
        });
        println!("{summary:#}");
    } else if t.emulator.is_some() {
        print!("{NEXT_STEPS}");
    }
    Ok(())
}

/// What to do after a run on the embedded emulator.
const NEXT_STEPS: &str = "
Next, on a real business (all four variables; the secret and app are the app's, from its settings):
  export META_ACCESS_TOKEN=<an admin's or admin system user's token>
  export META_APP_SECRET=<the app secret>  META_APP_ID=<the app id>  META_BUSINESS_ID=<the business id>
  cargo run --example doctor                                  # read-only checks first
  cargo run --example quickstart -- --token-file ./system-user.token

Words used here:
  system user  a non-human account of a Business Manager, for servers and integrations
  access tier  the app's Marketing API level: Limited allows 1 system user + 1 admin, Full 10 + 1
  ANALYZE      a task on an asset: read-only (reports and insights), the least privilege
";

fn first<T>(items: Vec<T>, what: &str, flag: &str) -> Result<T, String> {
    items
        .into_iter()
        .next()
        .ok_or_else(|| format!("the business owns no {what}; pass one with {flag}"))
}

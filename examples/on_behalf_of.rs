//! Business On Behalf Of, end to end: a partner business links a client business, gets a token
//! for a system user in the client business, reads its id, has client assets assigned to it,
//! lists its Pages and their tokens, and finally removes the relationship.
//!
//! ```text
//! cargo run --example on_behalf_of                 # two businesses on the embedded emulator
//! ```
//!
//! On a real pair of businesses it reads the `META_*` variables every example reads, the
//! partner being the business they name (`META_ACCESS_TOKEN`, `META_BUSINESS_ID`,
//! `META_APP_ID`, `META_APP_SECRET`, optional `META_GRAPH_URL`, `META_API_VERSION`), plus the
//! client business: `META_CLIENT_BUSINESS_ID`, `META_CLIENT_ADMIN_TOKEN`, `META_CLIENT_PAGE_ID`.
//! `META_PARTNER_ADMIN_TOKEN` and `META_PARTNER_BUSINESS_ID` override the first two. Every
//! missing or malformed variable is reported at once, before anything is sent; the flow keeps
//! the relationship unless `--unlink` is given.

mod common;

use std::process::ExitCode;

use clap::Parser;
use meta_business::testing::GraphEmulator;
use meta_business::{
    AppId, BusinessId, Client, Error, ExposeSecret, PageId, PageTask, Permission,
    obo::{ClientAdminToken, PartnerAdminToken},
};

#[derive(Parser)]
#[command(
    about = "Run the Business On Behalf Of flow (two businesses on the embedded emulator unless META_ACCESS_TOKEN or META_PARTNER_ADMIN_TOKEN is set)",
    after_help = common::vars_help(
        "Environment (read before anything is sent; every problem is named at once):\n\
         With META_ACCESS_TOKEN or META_PARTNER_ADMIN_TOKEN set, all but the last three are required.",
        VARS,
    )
)]
struct Args {
    /// Remove the relationship at the end (always done on the emulator).
    #[arg(long)]
    unlink: bool,
    /// Print what was done as one JSON object on stdout (the steps go to stderr; tokens
    /// masked).
    #[arg(long)]
    json: bool,
}

/// The variables this example reads: the partner (yours) as every example reads it, and the
/// client business.
const VARS: &[(&str, &str)] = &[
    (
        "META_PARTNER_ADMIN_TOKEN",
        "an admin token of the partner business (yours); default META_ACCESS_TOKEN",
    ),
    (
        "META_ACCESS_TOKEN",
        "the partner's admin token when META_PARTNER_ADMIN_TOKEN is unset; both unset: the embedded emulator",
    ),
    (
        "META_PARTNER_BUSINESS_ID",
        "the id of the partner business (yours); default META_BUSINESS_ID",
    ),
    (
        "META_BUSINESS_ID",
        "the partner business when META_PARTNER_BUSINESS_ID is unset",
    ),
    (
        "META_APP_ID",
        "the partner's app the client system user's token is for",
    ),
    ("META_APP_SECRET", "the secret of META_APP_ID"),
    (
        "META_CLIENT_BUSINESS_ID",
        "the id of the client business to act for",
    ),
    (
        "META_CLIENT_ADMIN_TOKEN",
        "an admin token of the client business (it approves the relationship)",
    ),
    (
        "META_CLIENT_PAGE_ID",
        "a Page of the client business to assign to its system user",
    ),
    (
        "META_GRAPH_URL",
        "the Graph API base URL (default https://graph.facebook.com)",
    ),
    ("META_API_VERSION", "the Graph API version (default v26.0)"),
    (
        "META_ACCESS_TIER",
        "the app's access tier, `limited` or `full`",
    ),
];

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("on_behalf_of failed: {message}");
            ExitCode::FAILURE
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The first of `names` that is set, else a line for the list of what is missing.
fn one_of(names: &[&str], meaning: &str, missing: &mut Vec<String>) -> String {
    names.iter().find_map(|n| env(n)).unwrap_or_else(|| {
        missing.push(format!("{} is not set: {meaning}", names.join(" or ")));
        String::new()
    })
}

/// A typed id from a variable, or a line for the list of what is wrong.
fn id<T: std::str::FromStr<Err = Error>>(
    raw: &str,
    name: &str,
    problems: &mut Vec<String>,
) -> Option<T> {
    if raw.is_empty() {
        return None;
    }
    raw.parse()
        .map_err(|e: Error| problems.push(common::var_problem(name, e)))
        .ok()
}

struct Setup {
    client: Client,
    partner: BusinessId,
    client_business: BusinessId,
    app: AppId,
    partner_admin: PartnerAdminToken,
    client_admin: ClientAdminToken,
    page: PageId,
    unlink: bool,
    /// Where it runs, for the first line.
    target: String,
    _emulator: Option<GraphEmulator>,
}

async fn setup(args: &Args) -> Result<Setup, String> {
    if env("META_PARTNER_ADMIN_TOKEN").is_none() && env("META_ACCESS_TOKEN").is_none() {
        let (emulator, d) = GraphEmulator::obo_demo().await;
        let target = format!(
            "embedded Graph emulator at {} (partner {}, client {})",
            emulator.uri(),
            d.partner,
            d.client
        );
        // The client's own token is not used by the On Behalf Of calls; each step takes its own.
        let client = emulator
            .client_builder("unused")
            .app_secret(d.app_secret)
            .build()
            .map_err(|e| e.to_string())?;
        return Ok(Setup {
            client,
            partner: d.partner.into(),
            client_business: d.client.into(),
            app: d.app_id.into(),
            partner_admin: PartnerAdminToken::new(d.partner_admin_token),
            client_admin: ClientAdminToken::new(d.client_admin_token),
            page: d.client_page.into(),
            unlink: true,
            target,
            _emulator: Some(emulator),
        });
    }
    // Every variable is read and checked before anything is sent; all problems at once.
    let mut problems = Vec::new();
    let partner_token = one_of(
        &["META_PARTNER_ADMIN_TOKEN", "META_ACCESS_TOKEN"],
        "an admin token of the partner business (yours)",
        &mut problems,
    );
    let partner = one_of(
        &["META_PARTNER_BUSINESS_ID", "META_BUSINESS_ID"],
        "the id of the partner business (yours)",
        &mut problems,
    );
    let app = one_of(
        &["META_APP_ID"],
        "the partner's app the client system user's token is for",
        &mut problems,
    );
    if env("META_APP_SECRET").is_none() {
        problems.push("META_APP_SECRET is not set: the secret of META_APP_ID".to_owned());
    }
    let client_business = one_of(
        &["META_CLIENT_BUSINESS_ID"],
        "the id of the client business to act for",
        &mut problems,
    );
    let client_token = one_of(
        &["META_CLIENT_ADMIN_TOKEN"],
        "an admin token of the client business (it approves the relationship)",
        &mut problems,
    );
    let page = one_of(
        &["META_CLIENT_PAGE_ID"],
        "a Page of the client business to assign to its system user",
        &mut problems,
    );
    let partner: Option<BusinessId> = id(&partner, "META_PARTNER_BUSINESS_ID", &mut problems);
    let client_business: Option<BusinessId> =
        id(&client_business, "META_CLIENT_BUSINESS_ID", &mut problems);
    let app: Option<AppId> = id(&app, "META_APP_ID", &mut problems);
    let page: Option<PageId> = id(&page, "META_CLIENT_PAGE_ID", &mut problems);
    // META_GRAPH_URL, META_API_VERSION, META_APP_SECRET and META_ACCESS_TIER as every example
    // reads them; the partner's token signs in.
    common::check_client_vars(&mut problems);
    let client = problems
        .is_empty()
        .then(|| {
            Client::builder()
                .from_env()
                .map(|b| b.access_token(partner_token.clone()))
                .and_then(|b| b.build())
                .map_err(|e| problems.push(e.to_string()))
                .ok()
        })
        .flatten();
    let (Some(client), Some(partner), Some(client_business), Some(app), Some(page), true) = (
        client,
        partner,
        client_business,
        app,
        page,
        problems.is_empty(),
    ) else {
        return Err(common::problems_message(&problems));
    };
    let target = format!(
        "{} ({}), partner {partner}, client {client_business}",
        client.base_url(),
        client.api_version()
    );
    Ok(Setup {
        client,
        partner,
        client_business,
        app,
        partner_admin: PartnerAdminToken::new(partner_token),
        client_admin: ClientAdminToken::new(client_token),
        page,
        unlink: args.unlink,
        target,
        _emulator: None,
    })
}

async fn run(args: Args) -> Result<(), String> {
    let s = setup(&args).await?;
    let json = args.json;
    // With --json, stdout holds the JSON alone; the steps go to stderr.
    macro_rules! say {
        ($($arg:tt)*) => {
            if json { eprintln!($($arg)*) } else { println!($($arg)*) }
        };
    }
    say!("target:           {}", s.target);
    let obo = s
        .client
        .on_behalf_of(s.partner.clone(), s.client_business.clone());

    let linked = obo
        .link(&s.client_admin)
        .await
        .map_err(|e| format!("step 1 (link): {e}"))?;
    say!(
        "1 linked:         client business {}",
        linked.name.as_deref().unwrap_or(s.client_business.as_str())
    );

    let su_token = obo
        .client_system_user_token(&s.partner_admin, s.app.clone())
        .scopes([Permission::AdsManagement, Permission::PagesReadEngagement])
        .send()
        .await
        .map_err(|e| format!("step 2 (client system-user token): {e}"))?;
    say!(
        "2 token:          {} (client system user)",
        su_token.masked()
    );

    let me = obo
        .client_system_user(&su_token)
        .await
        .map_err(|e| format!("step 3 (GET /me): {e}"))?;
    say!(
        "3 system user:    {} {}",
        me.id,
        me.name.as_deref().unwrap_or("")
    );

    obo.as_client_admin(&s.client_admin)
        .page(s.page.clone())
        .assign(me.id.as_str(), [PageTask::Analyze, PageTask::Advertise])
        .send()
        .await
        .map_err(|e| format!("step 4 (assign the Page): {e}"))?;
    say!("4 assigned:       Page {} → ANALYZE,ADVERTISE", s.page);

    let pages = obo
        .pages(&su_token)
        .collect(100)
        .await
        .map_err(|e| format!("step 5 (GET /me/accounts): {e}"))?;
    let mut pages_json = Vec::new();
    for page in &pages {
        let token = page
            .access_token()
            .map_or_else(|| "no token".to_owned(), |t| t.masked());
        pages_json.push(serde_json::json!({
            "id": page.id.as_str(), "name": page.name, "tasks": page.tasks, "token": token,
        }));
        say!(
            "5 page:           {} {} tasks {} token {token}",
            page.id,
            page.name.as_deref().unwrap_or(""),
            page.tasks.join(",")
        );
    }

    let mut token_after_unlink = None;
    if s.unlink {
        obo.unlink(&s.client_admin)
            .await
            .map_err(|e| format!("step 6 (unlink): {e}"))?;
        let after = obo.client_system_user(&su_token).await;
        token_after_unlink = Some(if after.is_err() {
            "fails"
        } else {
            "still works"
        });
        say!(
            "6 unlinked:       the client system user's token now {}",
            if after.is_err() {
                "fails"
            } else {
                "still works"
            }
        );
    }
    let _ = su_token.secret().expose_secret().len();
    if json {
        let summary = serde_json::json!({
            "target": s.target,
            "client_business": s.client_business.as_str(),
            "linked": linked.name,
            "token": su_token.masked().to_string(),
            "system_user": { "id": me.id.as_str(), "name": me.name },
            "assigned": { "page": s.page.as_str(), "tasks": ["ANALYZE", "ADVERTISE"] },
            "pages": pages_json,
            "unlinked": s.unlink,
            "token_after_unlink": token_after_unlink,
        });
        println!("{summary:#}");
    }
    Ok(())
}

//! Business On Behalf Of, end to end: a partner business links a client business, gets a token
//! for a system user in the client business, reads its id, has client assets assigned to it,
//! lists its Pages and their tokens, and finally removes the relationship.
//!
//! ```text
//! cargo run --example on_behalf_of                 # two businesses on the embedded emulator
//! ```
//!
//! On a real pair of businesses set `META_GRAPH_URL` (optional), `META_APP_ID`,
//! `META_APP_SECRET`, and `META_PARTNER_BUSINESS_ID`, `META_CLIENT_BUSINESS_ID`,
//! `META_PARTNER_ADMIN_TOKEN`, `META_CLIENT_ADMIN_TOKEN`, `META_CLIENT_PAGE_ID`; the flow then
//! keeps the relationship unless `--unlink` is given.

use std::process::ExitCode;

use clap::Parser;
use meta_business::testing::GraphEmulator;
use meta_business::{
    Client, ClientAdminToken, ExposeSecret, PageTask, PartnerAdminToken, Permission,
};

#[derive(Parser)]
#[command(about = "Run the Business On Behalf Of flow")]
struct Args {
    /// Remove the relationship at the end (always done on the emulator).
    #[arg(long)]
    unlink: bool,
}

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

fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("{name} is not set"))
}

struct Setup {
    client: Client,
    partner: String,
    client_business: String,
    app: String,
    partner_admin: PartnerAdminToken,
    client_admin: ClientAdminToken,
    page: String,
    unlink: bool,
    _emulator: Option<GraphEmulator>,
}

async fn setup(args: &Args) -> Result<Setup, String> {
    if std::env::var_os("META_PARTNER_ADMIN_TOKEN").is_none() {
        let (emulator, d) = GraphEmulator::obo_demo().await;
        println!(
            "target:           embedded Graph emulator at {} (partner {}, client {})",
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
            _emulator: Some(emulator),
        });
    }
    let mut builder = Client::builder()
        .access_token(env("META_PARTNER_ADMIN_TOKEN")?)
        .app_secret(env("META_APP_SECRET")?);
    if let Ok(url) = env("META_GRAPH_URL") {
        builder = builder.base_url(url);
    }
    if let Ok(version) = env("META_API_VERSION") {
        builder = builder.api_version(version);
    }
    Ok(Setup {
        client: builder.build().map_err(|e| e.to_string())?,
        partner: env("META_PARTNER_BUSINESS_ID")?,
        client_business: env("META_CLIENT_BUSINESS_ID")?,
        app: env("META_APP_ID")?,
        partner_admin: PartnerAdminToken::new(env("META_PARTNER_ADMIN_TOKEN")?),
        client_admin: ClientAdminToken::new(env("META_CLIENT_ADMIN_TOKEN")?),
        page: env("META_CLIENT_PAGE_ID")?,
        unlink: args.unlink,
        _emulator: None,
    })
}

async fn run(args: Args) -> Result<(), String> {
    let s = setup(&args).await?;
    let obo = s
        .client
        .on_behalf_of(s.partner.as_str(), s.client_business.as_str());

    let linked = obo
        .link(&s.client_admin)
        .await
        .map_err(|e| format!("step 1 (link): {e}"))?;
    println!(
        "1 linked:         client business {}",
        linked.name.as_deref().unwrap_or(&s.client_business)
    );

    let su_token = obo
        .client_system_user_token(&s.partner_admin, s.app.as_str())
        .scopes([Permission::AdsManagement, Permission::PagesReadEngagement])
        .send()
        .await
        .map_err(|e| format!("step 2 (client system-user token): {e}"))?;
    println!(
        "2 token:          {} (client system user)",
        su_token.masked()
    );

    let me = obo
        .client_system_user(&su_token)
        .await
        .map_err(|e| format!("step 3 (GET /me): {e}"))?;
    println!(
        "3 system user:    {} {}",
        me.id,
        me.name.as_deref().unwrap_or("")
    );

    obo.as_client_admin(&s.client_admin)
        .page(s.page.as_str())
        .assign(me.id.as_str(), [PageTask::Analyze, PageTask::Advertise])
        .send()
        .await
        .map_err(|e| format!("step 4 (assign the Page): {e}"))?;
    println!("4 assigned:       Page {} → ANALYZE,ADVERTISE", s.page);

    let pages = obo
        .pages(&su_token)
        .collect(100)
        .await
        .map_err(|e| format!("step 5 (GET /me/accounts): {e}"))?;
    for page in &pages {
        let token = page
            .access_token()
            .map_or_else(|| "no token".to_owned(), |t| t.masked());
        println!(
            "5 page:           {} {} tasks {} token {token}",
            page.id,
            page.name.as_deref().unwrap_or(""),
            page.tasks.join(",")
        );
    }

    if s.unlink {
        obo.unlink(&s.client_admin)
            .await
            .map_err(|e| format!("step 6 (unlink): {e}"))?;
        let after = obo.client_system_user(&su_token).await;
        println!(
            "6 unlinked:       the client system user's token now {}",
            if after.is_err() {
                "fails"
            } else {
                "still works"
            }
        );
    }
    let _ = su_token.secret().expose_secret().len();
    Ok(())
}

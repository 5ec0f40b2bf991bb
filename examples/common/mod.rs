//! Shared by the examples: where to run (the embedded emulator, or the real Graph API through
//! the `META_*` variables) and how to keep a token on disk.

#![allow(dead_code)] // each example uses its own part of this module

use std::path::Path;

use meta_business::testing::GraphEmulator;
use meta_business::{
    AccessTier, AppId, BusinessId, Client, ClientBuilder, Error, ExposeSecret, SecretString,
};

/// Where an example runs.
pub struct Target {
    pub client: Client,
    pub business: BusinessId,
    pub app: Option<AppId>,
    /// Set when running on the embedded emulator (kept alive for the run).
    pub emulator: Option<GraphEmulator>,
    pub description: String,
}

/// What an example needs besides the business.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// `META_APP_ID`: the app to install and mint tokens for.
    App,
    /// `META_APP_SECRET`: for `appsecret_proof` and to mint or inspect tokens.
    AppSecret,
}

impl Target {
    /// The app, required for token work.
    pub fn app(&self) -> Result<AppId, String> {
        self.app.clone().ok_or_else(|| MISSING_APP.to_owned())
    }

    /// Every missing variable among `needs`, in one message, so that they are not learnt one
    /// error at a time.
    pub fn require(&self, needs: &[Need]) -> Result<(), String> {
        let mut missing = Vec::new();
        if needs.contains(&Need::App) && self.app.is_none() {
            missing.push(MISSING_APP);
        }
        if needs.contains(&Need::AppSecret) && !self.client.has_app_secret() {
            missing.push(MISSING_SECRET);
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(missing.join("\n"))
        }
    }
}

/// The `META_*` variables an example on [`target`] reads, with what each is for: the lines of
/// every example's `--help`.
pub const TARGET_VARS: &[(&str, &str)] = &[
    (
        "META_ACCESS_TOKEN",
        "an admin's (or admin system user's) token of the business; unset: the example runs on the embedded Graph emulator's demo business",
    ),
    (
        "META_BUSINESS_ID",
        "the id of the business to act on (Business settings, Business info)",
    ),
    (
        "META_APP_ID",
        "the id of the app to install and mint tokens for",
    ),
    (
        "META_APP_SECRET",
        "the secret of META_APP_ID (App settings, Basic): it signs requests (appsecret_proof), mints and inspects tokens",
    ),
    (
        "META_GRAPH_URL",
        "the Graph API base URL (default https://graph.facebook.com); an emulator's URL to rehearse on it",
    ),
    ("META_API_VERSION", "the Graph API version (default v26.0)"),
    (
        "META_ACCESS_TIER",
        "the app's Marketing API access tier, `limited` (1 system user + 1 admin) or `full` (10 + 1): the quota checked before a create",
    ),
];

/// [`TARGET_VARS`] but those named in `skip`.
pub fn target_vars_except(skip: &[&str]) -> Vec<(&'static str, &'static str)> {
    TARGET_VARS
        .iter()
        .copied()
        .filter(|(name, _)| !skip.contains(name))
        .collect()
}

/// The `--help` section listing `vars` (name, meaning), under `intro`.
pub fn vars_help(intro: &str, vars: &[(&str, &str)]) -> String {
    let width = vars.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let mut out = format!("{intro}\n");
    for (name, meaning) in vars {
        out.push_str(&format!("  {name:<width$}  {meaning}\n"));
    }
    out
}

/// The `--help` section of an example on [`target`]: the variables it reads, and which of
/// them a real run (with `META_ACCESS_TOKEN`) requires.
pub fn env_help(needs: &[Need]) -> String {
    let mut required = vec!["META_BUSINESS_ID"];
    if needs.contains(&Need::App) {
        required.push("META_APP_ID");
    }
    if needs.contains(&Need::AppSecret) {
        required.push("META_APP_SECRET");
    }
    let intro = format!(
        "Environment (read before anything is sent; every problem is named at once):\n\
         With META_ACCESS_TOKEN set, this example also requires {}; the others are optional.",
        required.join(", ")
    );
    vars_help(&intro, TARGET_VARS)
}

/// Every problem in one message, so that they are not learnt one run at a time.
pub fn problems_message(problems: &[String]) -> String {
    match problems {
        [one] => one.clone(),
        many => format!(
            "{} problems with the environment (see --help):\n  {}",
            many.len(),
            many.join("\n  ")
        ),
    }
}

/// A variable's value checked as the client builder will check it, named after the variable
/// (the builder names its own field, which the user never set).
fn check_var(
    problems: &mut Vec<String>,
    name: &str,
    set: impl FnOnce(ClientBuilder, String) -> ClientBuilder,
) {
    let Some(value) = env(name) else { return };
    let builder = set(Client::builder().access_token("EAA-check-only"), value);
    if let Err(e) = builder.build() {
        problems.push(var_problem(name, e));
    }
}

/// A problem with a variable, named after the variable rather than the field it sets.
pub fn var_problem(name: &str, e: Error) -> String {
    match e {
        Error::InvalidInput { reason, .. } => format!("{name}: {reason}"),
        other => format!("{name}: {other}"),
    }
}

/// Every `META_*` variable the client reads, each checked on its own so that all bad ones are
/// named together.
pub fn check_client_vars(problems: &mut Vec<String>) {
    check_var(problems, "META_ACCESS_TOKEN", |b, v| b.access_token(v));
    check_var(problems, "META_APP_SECRET", |b, v| b.app_secret(v));
    check_var(problems, "META_GRAPH_URL", |b, v| b.base_url(v));
    check_var(problems, "META_API_VERSION", |b, v| b.api_version(v));
    if let Some(raw) = env("META_ACCESS_TIER")
        && let Err(e) = raw.parse::<AccessTier>()
    {
        problems.push(var_problem("META_ACCESS_TIER", e));
    }
}

const MISSING_APP: &str =
    "META_APP_ID is not set: set it to the id of the app to install and mint tokens for";
const MISSING_SECRET: &str = "META_APP_SECRET is not set: set it to the secret of META_APP_ID (App settings, Basic); it signs requests and mints tokens";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// [`target_with`] needing nothing but the business.
pub async fn target() -> Result<Target, String> {
    target_with(&[]).await
}

/// The embedded emulator's demo business when `META_ACCESS_TOKEN` is unset, else the business
/// the `META_*` variables name. Every variable is checked before anything is sent, `needs`
/// included, and every problem is reported in one message.
pub async fn target_with(needs: &[Need]) -> Result<Target, String> {
    target_configured(needs, |builder| builder).await
}

/// [`target_with`], with the client's builder passed through `configure` before it is built
/// (to give it a shared create lock, for example).
pub async fn target_configured(
    needs: &[Need],
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Result<Target, String> {
    if env("META_ACCESS_TOKEN").is_none() {
        let (emulator, demo) = GraphEmulator::demo().await;
        // What `GraphEmulator::client` sets for the demo admin's token.
        let builder = emulator
            .client_builder(demo.admin_token)
            .app_id(demo.app_id)
            .app_secret(demo.app_secret)
            .access_tier(AccessTier::Limited);
        let client = configure(builder).build().map_err(|e| e.to_string())?;
        return Ok(Target {
            client,
            business: demo.business_id.into(),
            app: Some(demo.app_id.into()),
            description: format!(
                "embedded Graph emulator at {} (set META_ACCESS_TOKEN to use the real API)",
                emulator.uri()
            ),
            emulator: Some(emulator),
        });
    }
    let mut problems = Vec::new();
    check_client_vars(&mut problems);
    // Built only when each variable held on its own; a failure left is still reported.
    let client = problems
        .is_empty()
        .then(|| {
            Client::builder()
                .from_env()
                .and_then(|b| configure(b).build())
                .map_err(|e| problems.push(e.to_string()))
                .ok()
        })
        .flatten();
    let business: Option<BusinessId> = match env("META_BUSINESS_ID") {
        None => {
            problems.push(
                "META_BUSINESS_ID is not set: set it to the id of the business to act on (Business settings, Business info)"
                    .to_owned(),
            );
            None
        }
        Some(raw) => raw
            .parse()
            .map_err(|e: Error| problems.push(var_problem("META_BUSINESS_ID", e)))
            .ok(),
    };
    let app_var = env("META_APP_ID");
    let app = app_var.as_deref().and_then(|raw| {
        raw.parse()
            .map_err(|e: Error| problems.push(var_problem("META_APP_ID", e)))
            .ok()
    });
    if needs.contains(&Need::App) && app_var.is_none() {
        problems.push(MISSING_APP.to_owned());
    }
    if needs.contains(&Need::AppSecret) && env("META_APP_SECRET").is_none() {
        problems.push(MISSING_SECRET.to_owned());
    }
    let (Some(client), Some(business), true) = (client, business, problems.is_empty()) else {
        return Err(problems_message(&problems));
    };
    let description = format!("{} ({})", client.base_url(), client.api_version());
    Ok(Target {
        client,
        business,
        app,
        emulator: None,
        description,
    })
}

/// Demo only: the system user of this name (found or created) with its app installed and a
/// fresh 60-day token, on the emulator's demo business.
pub async fn demo_token(
    target: &Target,
    name: &str,
) -> Result<(meta_business::SystemUserId, meta_business::SystemUserToken), String> {
    let (client, app) = (&target.client, target.app()?);
    let su = client
        .business(target.business.clone())
        .system_users()
        .get_or_create(name)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .user;
    client
        .system_user(&su.id)
        .install_app(app.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let token = client
        .system_user(&su.id)
        .generate_token(app)
        .business(target.business.clone())
        .scopes([meta_business::Permission::AdsRead])
        .expires_in_60_days(true)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok((su.id, token))
}

/// A name given on the command line, checked as a create would check it.
pub fn check_name(flag: &str, name: &str) -> Result<(), String> {
    meta_business::validate_name(name).map_err(|e| format!("{flag}: {e}"))
}

/// Refuses a path whose directory does not exist or that names a directory, before any work
/// whose result would then have nowhere to go.
pub fn check_writable(flag: &str, path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!(
            "{flag}: {} is a directory; name a file",
            path.display()
        ));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!(
            "{flag}: the directory {} does not exist; create it first",
            dir.display()
        ));
    }
    Ok(())
}

/// Writes a secret to a new file readable only by its owner (mode 0600), replacing an older
/// file atomically.
pub fn write_secret(path: &Path, secret: &SecretString) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(secret.expose_secret().as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Reads a secret written by [`write_secret`], if the file exists.
pub fn read_secret(path: &Path) -> std::io::Result<Option<SecretString>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(SecretString::from(text.trim().to_owned()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

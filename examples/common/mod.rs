//! Shared by the examples: where to run (the embedded emulator, or the real Graph API through
//! the `META_*` variables) and how to keep a token on disk.

#![allow(dead_code)] // each example uses its own part of this module

use std::path::Path;

use meta_business::testing::GraphEmulator;
use meta_business::{AppId, BusinessId, Client, Error, ExposeSecret, SecretString};

/// Where an example runs.
pub struct Target {
    pub client: Client,
    pub business: BusinessId,
    pub app: Option<AppId>,
    /// Set when running on the embedded emulator (kept alive for the run).
    pub emulator: Option<GraphEmulator>,
    pub description: String,
}

impl Target {
    /// The app, required for token work.
    pub fn app(&self) -> Result<AppId, String> {
        self.app
            .clone()
            .ok_or_else(|| "META_APP_ID is not set".to_owned())
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The embedded emulator's demo business when `META_ACCESS_TOKEN` is unset, else the business
/// the `META_*` variables name.
pub async fn target() -> Result<Target, String> {
    if env("META_ACCESS_TOKEN").is_none() {
        let (emulator, demo) = GraphEmulator::demo().await;
        let client = emulator
            .client(demo.admin_token)
            .map_err(|e| e.to_string())?;
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
    let client = Client::builder()
        .from_env()
        .and_then(|b| b.build())
        .map_err(|e| e.to_string())?;
    let business: BusinessId = env("META_BUSINESS_ID")
        .ok_or("META_BUSINESS_ID is not set")?
        .parse()
        .map_err(|e: Error| e.to_string())?;
    let app = match env("META_APP_ID") {
        Some(raw) => Some(raw.parse().map_err(|e: Error| e.to_string())?),
        None => None,
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

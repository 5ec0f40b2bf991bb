//! [`Client`] and [`ClientBuilder`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use url::Url;

use crate::builder::ClientBuilder;
use crate::config::{AccessTier, ApiVersion, ProofMode, SystemUserQuota};
use crate::error::{Error, Result};
use crate::ids::{AppId, BusinessId};
use crate::lock::{CreateGuard, CreateLock};
use crate::pacing::Pacing;
use crate::retry::RetryPolicy;
use crate::usage::Usage;

/// The default Graph API host.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";

/// The `User-Agent` every request carries.
pub const USER_AGENT: &str = concat!("meta-business/", env!("CARGO_PKG_VERSION"));

/// How the client checks the system-user quota before creating a system user.
///
/// ```
/// use meta_business::{AccessTier, Client, QuotaPolicy};
/// let client = Client::builder().access_token("EAAB...").access_tier(AccessTier::Full).build()?;
/// assert_eq!(client.quota_policy(), QuotaPolicy::Tier(AccessTier::Full));
/// assert_eq!(client.quota_policy().quota().map(|q| q.regular), Some(10));
/// # Ok::<(), meta_business::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum QuotaPolicy {
    /// Enforce the quota Meta documents for this tier.
    Tier(AccessTier),
    /// Enforce a custom quota (for when Meta changes the numbers).
    Custom(SystemUserQuota),
    /// Do not check; the server decides.
    Disabled,
}

impl QuotaPolicy {
    /// The quota enforced, if any.
    pub fn quota(self) -> Option<SystemUserQuota> {
        match self {
            QuotaPolicy::Tier(tier) => Some(tier.quota()),
            QuotaPolicy::Custom(quota) => Some(quota),
            QuotaPolicy::Disabled => None,
        }
    }

    /// The tier, when the quota comes from one.
    pub fn tier(self) -> Option<AccessTier> {
        match self {
            QuotaPolicy::Tier(tier) => Some(tier),
            _ => None,
        }
    }
}

/// A Graph API client for Business Manager system users.
///
/// Cheap to clone (an `Arc` inside; no need to wrap it in another) and `Send + Sync`. Clones
/// share the HTTP connection pool and the per-business lock that serializes system-user
/// creation, so the quota check holds across tasks.
///
/// ```no_run
/// use meta_business::{AccessTier, Client, SystemUserRole};
/// # async fn run() -> meta_business::Result<()> {
/// let client = Client::builder()
///     .access_token("EAAB...")
///     .app_secret("app-secret")
///     .access_tier(AccessTier::Limited)
///     .build()?;
/// let su = client
///     .business("1234567890")
///     .system_users()
///     .create("reporting-server")
///     .role(SystemUserRole::Employee)
///     .send()
///     .await?;
/// println!("created {}", su.id);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
    pub(crate) token: Arc<SecretString>,
    /// The classic `appsecret_proof` of this token, computed on first use: it depends only on
    /// the token and the app secret, and an HMAC per request is measurable.
    pub(crate) classic_proof: Arc<std::sync::OnceLock<SecretString>>,
    /// The `Authorization: Bearer` header of this token, built (and the token checked) on first
    /// use; `None` when the token cannot travel in a header.
    pub(crate) auth: Arc<std::sync::OnceLock<Option<reqwest::header::HeaderValue>>>,
    /// The secret `appsecret_proof` is made with when it is not the client's own: a client made
    /// by [`Client::as_app`] for another app signs with that app's secret.
    pub(crate) proof_secret: Option<Arc<SecretString>>,
}

pub(crate) struct Shared {
    pub(crate) http: reqwest::Client,
    /// Whether `http` is the crate's own (built with its user agent, timeouts and no
    /// redirects), not a caller's.
    pub(crate) own_http: bool,
    pub(crate) base_url: Url,
    /// The base URL with the version's segment: each request adds only its own.
    pub(crate) versioned_url: Url,
    pub(crate) version: ApiVersion,
    pub(crate) app_secret: Option<SecretString>,
    /// Secrets of other apps than the token's, for calls made as those apps.
    pub(crate) app_secrets: std::collections::BTreeMap<AppId, SecretString>,
    /// Whether the quota policy was set (a tier the caller knows) rather than defaulted.
    pub(crate) quota_configured: bool,
    pub(crate) app_id: Option<AppId>,
    pub(crate) proof_mode: ProofMode,
    pub(crate) timeout: Duration,
    pub(crate) quota: QuotaPolicy,
    pub(crate) retry: RetryPolicy,
    pub(crate) pacing: Option<Pacing>,
    pub(crate) usage: Mutex<UsageSeen>,
    /// HTTP requests sent (each attempt counts), for measuring bulk work.
    pub(crate) requests: std::sync::atomic::AtomicU64,
    pub(crate) create_lock: Arc<dyn CreateLock>,
    pub(crate) limits: Limits,
    /// Every secret the client and its clones were given or saw: scrubbed from everything
    /// they show, for the client's lifetime.
    pub(crate) secrets: crate::registry::Registry,
}

/// Bounds on what one response or one list may cost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_response_bytes: usize,
    pub(crate) max_pages: u32,
    pub(crate) max_empty_pages: u32,
}

/// The latest usage the client has seen, overall and per business object.
#[derive(Debug, Default)]
pub(crate) struct UsageSeen {
    /// The last usage headers as sent; parsed into `last` when someone asks.
    pub(crate) last_raw: Option<crate::usage::RawUsage>,
    pub(crate) last: Option<Usage>,
    /// Pacing's readings (kept only with pacing on).
    pub(crate) app: Option<SeenUsage>,
    pub(crate) objects: HashMap<String, SeenUsage>,
}

impl UsageSeen {
    /// The last usage seen, parsed now if it was not yet.
    pub(crate) fn last(&mut self) -> Option<&Usage> {
        if let Some(raw) = self.last_raw.take() {
            self.last = Some(raw.parse());
        }
        self.last.as_ref()
    }
}

/// One usage reading: the highest percentage, the time to regain access, when it was seen.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeenUsage {
    pub(crate) pct: f64,
    pub(crate) regain: Duration,
    pub(crate) at: Instant,
}

/// Locks a mutex whose data stays consistent even if a holder panicked (insert-only maps and
/// plain readings).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Client {
    /// Starts configuring a client.
    ///
    /// ```
    /// use std::time::Duration;
    /// use meta_business::{AccessTier, Client};
    /// let client = Client::builder()
    ///     .access_token("EAAB...")
    ///     .app_secret("app-secret")
    ///     .access_tier(AccessTier::Limited)
    ///     .timeout(Duration::from_secs(20))
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A clone of this client that acts as another user (another token), sharing everything
    /// else. The token is checked when a request is sent.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// // The same connection pool and create lock, acting as another user.
    /// let as_other = client.with_token("EAAE-another-admin");
    /// assert!(as_other.business(demo.business_id).get().send().await.unwrap_err().is_auth());
    /// # Ok(()) }
    /// ```
    pub fn with_token(&self, token: impl Into<SecretString>) -> Client {
        let token = token.into();
        self.shared
            .secrets
            .seen(secrecy::ExposeSecret::expose_secret(&token));
        Client {
            shared: Arc::clone(&self.shared),
            token: Arc::new(token),
            classic_proof: Arc::default(),
            auth: Arc::default(),
            proof_secret: None,
        }
    }

    /// The secret `appsecret_proof` is made with.
    pub(crate) fn proof_secret(&self) -> Option<&SecretString> {
        self.proof_secret
            .as_deref()
            .or(self.shared.app_secret.as_ref())
    }

    /// Every app secret the client holds, for scrubbing what comes back.
    pub(crate) fn app_secrets_exposed(&self) -> impl Iterator<Item = &str> {
        use secrecy::ExposeSecret;
        self.shared
            .app_secret
            .iter()
            .chain(self.shared.app_secrets.values())
            .map(|s| s.expose_secret())
    }

    /// The API version requests use.
    pub fn api_version(&self) -> &ApiVersion {
        &self.shared.version
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &Url {
        &self.shared.base_url
    }

    /// The quota policy applied when creating system users.
    pub fn quota_policy(&self) -> QuotaPolicy {
        self.shared.quota
    }

    /// The usage headers of the latest response that carried any.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// client.business(demo.business_id).get().send().await?;
    /// if let Some(usage) = client.last_usage() {
    ///     println!("app usage: {:?}", usage.app.map(|a| a.max_pct()));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn last_usage(&self) -> Option<Usage> {
        lock(&self.shared.usage).last().cloned()
    }

    /// HTTP requests this client and its clones have sent (every attempt counts; a batch of 50
    /// is one).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let before = client.requests_sent();
    /// client.business(demo.business_id).owned_ad_accounts().collect(100).await?;
    /// assert_eq!(client.requests_sent() - before, 1);
    /// # Ok(()) }
    /// ```
    pub fn requests_sent(&self) -> u64 {
        self.shared
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.shared.retry
    }

    /// The app of the token and app secret, when configured
    /// ([`ClientBuilder::app_id`]).
    pub fn app_id(&self) -> Option<&AppId> {
        self.shared.app_id.as_ref()
    }

    /// Whether an app secret is configured (and `appsecret_proof` sent).
    pub fn has_app_secret(&self) -> bool {
        self.shared.app_secret.is_some()
    }

    /// Whether the client holds the secret of this app: one given with
    /// [`ClientBuilder::app_secret_for`], or the main app secret when the app is the client's
    /// own ([`ClientBuilder::app_id`]) or the client's app is not known.
    pub fn has_app_secret_for(&self, app: &AppId) -> bool {
        self.app_secret_of(app).is_some()
    }

    /// The secret of this app, when the client holds it.
    pub(crate) fn app_secret_of(&self, app: &AppId) -> Option<&SecretString> {
        if let Some(secret) = self.shared.app_secrets.get(app) {
            return Some(secret);
        }
        match &self.shared.app_id {
            // The main secret belongs to another app: using it would sign for the wrong app.
            Some(own) if own != app => None,
            _ => self.shared.app_secret.as_ref(),
        }
    }

    /// The error for a call as `app` without its secret.
    pub(crate) fn no_secret_for(&self, app: &AppId, call: &str) -> Error {
        if self.shared.app_secret.is_none() && self.shared.app_secrets.is_empty() {
            return crate::api::tokens::no_secret(call);
        }
        Error::invalid_input(
            "app_secret",
            format!(
                "{call} as app {app} needs that app's secret; the client holds secrets for {}; add it with ClientBuilder::app_secret_for",
                self.secret_apps()
            ),
        )
    }

    fn secret_apps(&self) -> String {
        let mut apps: Vec<String> = self
            .shared
            .app_secrets
            .keys()
            .map(ToString::to_string)
            .collect();
        if self.shared.app_secret.is_some() {
            apps.insert(
                0,
                self.shared
                    .app_id
                    .as_ref()
                    .map_or_else(|| "its own app".to_owned(), ToString::to_string),
            );
        }
        apps.join(", ")
    }

    /// The share of a call budget the latest answer reported as used: the highest of the app's
    /// and every business object's, in percent.
    pub(crate) fn usage_pressure(&self) -> Option<f64> {
        lock(&self.shared.usage).last()?.highest_pct()
    }

    /// Whether the quota policy was configured rather than left at its default.
    pub(crate) fn quota_configured(&self) -> bool {
        self.shared.quota_configured
    }

    /// Takes the lock that serializes system-user creation for one business.
    pub(crate) async fn lock_creates(&self, business: &BusinessId) -> Result<CreateGuard> {
        self.shared.create_lock.acquire(business).await
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.shared.base_url.as_str())
            .field("api_version", &self.shared.version.as_str())
            .field("access_token", &"[redacted]")
            .field(
                "app_secret",
                &self.shared.app_secret.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "app_secrets_for",
                &self.shared.app_secrets.keys().collect::<Vec<_>>(),
            )
            .field("app_id", &self.shared.app_id)
            .field("proof_mode", &self.shared.proof_mode)
            .field("timeout", &self.shared.timeout)
            .field("quota", &self.shared.quota)
            .field("retry", &self.shared.retry)
            .field("pacing", &self.shared.pacing)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync::<Client>();
    }
}

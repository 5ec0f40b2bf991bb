//! [`Client`] and [`ClientBuilder`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde::de::DeserializeOwned;
use url::Url;

use crate::api::business::BusinessHandler;
use crate::api::businesses::BusinessesHandler;
use crate::api::system_users::SystemUserHandler;
use crate::config::{
    AccessTier, ApiVersion, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_EMPTY_PAGES, DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, ProofMode, SystemUserQuota,
};
use crate::error::{Error, Result};
use crate::ids::{AppId, BusinessId, SystemUserId};
use crate::lock::{CreateGuard, CreateLock, InProcessLock};
use crate::request::Request;
use crate::retry::RetryPolicy;
use crate::usage::Usage;

/// The default Graph API host.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";

/// The `User-Agent` every request carries.
pub const USER_AGENT: &str = concat!("meta-business/", env!("CARGO_PKG_VERSION"));

/// How the client checks the system-user quota before creating a system user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

pub(crate) struct Shared {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: Url,
    pub(crate) version: ApiVersion,
    pub(crate) app_secret: Option<SecretString>,
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
    pub(crate) last: Option<Usage>,
    pub(crate) app: Option<SeenUsage>,
    pub(crate) objects: HashMap<String, SeenUsage>,
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

/// Slowing down before the limit instead of running into it.
///
/// When the last usage reported for a business object (`X-Business-Use-Case-Usage`) or for the
/// app (`X-App-Usage`) is at or above `threshold` percent, the next call to that object (or any
/// call, for the app) first waits: the server's `estimated_time_to_regain_access` when it gave
/// one, otherwise a share of `max_wait` growing from 0 at the threshold to all of it at 100 %,
/// less the time already passed since the reading.
///
/// ```
/// use std::time::Duration;
/// use meta_business::Pacing;
/// let pacing = Pacing::new(80.0).max_wait(Duration::from_secs(10));
/// # let _ = pacing;
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    threshold: f64,
    max_wait: Duration,
}

impl Pacing {
    /// Paces above `threshold` percent (clamped to 1–99), waiting at most 60 s by default.
    pub fn new(threshold: f64) -> Self {
        let threshold = if threshold.is_finite() {
            threshold
        } else {
            80.0
        };
        Pacing {
            threshold: threshold.clamp(1.0, 99.0),
            max_wait: Duration::from_secs(60),
        }
    }

    /// The longest wait before one call.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    pub(crate) fn wait_for(&self, seen: SeenUsage) -> Duration {
        // A reading that is not a number says nothing: no wait (and no NaN in the arithmetic).
        if !seen.pct.is_finite() || seen.pct < self.threshold {
            return Duration::ZERO;
        }
        let wanted = if seen.regain.is_zero() {
            let share = ((seen.pct - self.threshold) / (100.0 - self.threshold)).clamp(0.0, 1.0);
            if share.is_finite() {
                self.max_wait.mul_f64(share)
            } else {
                self.max_wait
            }
        } else {
            seen.regain
        };
        wanted.min(self.max_wait).saturating_sub(seen.at.elapsed())
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A clone of this client that acts as another user (another token), sharing everything
    /// else. The token is checked when a request is sent.
    pub fn with_token(&self, token: impl Into<SecretString>) -> Client {
        Client {
            shared: Arc::clone(&self.shared),
            token: Arc::new(token.into()),
            classic_proof: Arc::default(),
        }
    }

    /// The business with this id.
    pub fn business(&self, id: impl Into<BusinessId>) -> BusinessHandler {
        BusinessHandler::new(self.clone(), id.into())
    }

    /// The businesses of the token's user (`/me/businesses`): list them, create one.
    pub fn businesses(&self) -> BusinessesHandler {
        BusinessesHandler::new(self.clone())
    }

    /// The system user with this app-scoped id.
    pub fn system_user(&self, id: impl Into<SystemUserId>) -> SystemUserHandler {
        SystemUserHandler::new(self.clone(), id.into())
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
    pub fn last_usage(&self) -> Option<Usage> {
        lock(&self.shared.usage).last.clone()
    }

    /// HTTP requests this client and its clones have sent (every attempt counts; a batch of 50
    /// is one).
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

    /// `GET /{path}` with the client's auth, proof and error mapping, decoded into any type:
    /// the escape hatch for edges this crate does not wrap.
    ///
    /// `path` is relative to the version (`"me/businesses"`); `access_token`,
    /// `appsecret_proof` and `appsecret_time` are added by the client and rejected here.
    ///
    /// ```no_run
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let me: serde_json::Value = client.get("me", &[("fields", "id,name")]).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad path or a reserved parameter, before sending;
    /// otherwise as any request.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T> {
        let req = Request::raw(reqwest::Method::GET, path, query)?;
        self.execute(req).await
    }

    /// `POST /{path}` with form parameters; see [`Client::get`].
    ///
    /// # Errors
    /// As [`Client::get`].
    pub async fn post<T: DeserializeOwned>(&self, path: &str, form: &[(&str, &str)]) -> Result<T> {
        let req = Request::raw(reqwest::Method::POST, path, form)?;
        self.execute(req).await
    }

    /// `DELETE /{path}` with query parameters; see [`Client::get`].
    ///
    /// # Errors
    /// As [`Client::get`].
    pub async fn delete<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T> {
        let req = Request::raw(reqwest::Method::DELETE, path, query)?;
        self.execute(req).await
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
            .field("app_id", &self.shared.app_id)
            .field("proof_mode", &self.shared.proof_mode)
            .field("timeout", &self.shared.timeout)
            .field("quota", &self.shared.quota)
            .field("retry", &self.shared.retry)
            .field("pacing", &self.shared.pacing)
            .finish()
    }
}

/// Configures a [`Client`]. Only the access token is required.
///
/// Setters never fail; [`ClientBuilder::build`] checks everything and names the field at
/// fault.
#[derive(Default)]
pub struct ClientBuilder {
    access_token: Option<SecretString>,
    app_secret: Option<SecretString>,
    app_id: Option<AppId>,
    proof_mode: ProofMode,
    api_version: Option<String>,
    base_url: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    quota: Option<QuotaPolicy>,
    retry: Option<RetryPolicy>,
    pacing: Option<Pacing>,
    http_client: Option<reqwest::Client>,
    create_lock: Option<Arc<dyn CreateLock>>,
    max_response_bytes: Option<usize>,
    max_pages: Option<u32>,
    max_empty_pages: Option<u32>,
}

impl ClientBuilder {
    /// The access token of an admin user or admin system user (required). It is sent only as
    /// `Authorization: Bearer`, never in a URL.
    pub fn access_token(mut self, token: impl Into<SecretString>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// The app secret. With it, every request carries `appsecret_proof`, which token
    /// generation requires and which "Require App Secret" apps require everywhere.
    pub fn app_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.app_secret = Some(secret.into());
        self
    }

    /// The app of the access token and the app secret. Token generation uses it to mint tokens
    /// for this app through the business-level edge, which Meta keeps open to new apps (see
    /// [`SystemUserHandler::generate_token`](crate::api::system_users::SystemUserHandler::generate_token)).
    pub fn app_id(mut self, app: impl Into<AppId>) -> Self {
        self.app_id = Some(app.into());
        self
    }

    /// The form of `appsecret_proof` (classic by default).
    pub fn proof_mode(mut self, mode: ProofMode) -> Self {
        self.proof_mode = mode;
        self
    }

    /// The Graph API version, `vN.N` (default [`ApiVersion::DEFAULT`]).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = Some(version.into());
        self
    }

    /// Another base URL than `https://graph.facebook.com`: a proxy, or a test server.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Total time allowed for one HTTP request (default 30 s); builders can override it per
    /// call with `.timeout(..)`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Time allowed to establish a connection (default 10 s). Ignored with
    /// [`ClientBuilder::http_client`], which brings its own.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The app's Marketing API access tier, which sets the system-user quota enforced before
    /// creating a system user. Without this call the client assumes [`AccessTier::Limited`],
    /// the tier new apps start at.
    pub fn access_tier(mut self, tier: AccessTier) -> Self {
        self.quota = Some(QuotaPolicy::Tier(tier));
        self
    }

    /// A custom system-user quota, replacing the tier's.
    pub fn system_user_quota(mut self, quota: SystemUserQuota) -> Self {
        self.quota = Some(QuotaPolicy::Custom(quota));
        self
    }

    /// Turns the client-side quota check off; the server alone decides.
    pub fn disable_quota_check(mut self) -> Self {
        self.quota = Some(QuotaPolicy::Disabled);
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]: 3 attempts for requests that are safe
    /// to repeat; [`RetryPolicy::none`] turns retries off).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Waits before calls when usage headers approach the limit (off by default).
    pub fn pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = Some(pacing);
        self
    }

    /// How system-user creates are serialized per business (default: [`InProcessLock`], which
    /// covers this client and its clones only). Give one shared by every process that creates
    /// system users in the same businesses, or the quota check can be overrun.
    pub fn create_lock(mut self, lock: impl CreateLock) -> Self {
        self.create_lock = Some(Arc::new(lock));
        self
    }

    /// The largest response body read, in bytes (default [`DEFAULT_MAX_RESPONSE_BYTES`]); a
    /// larger one fails with [`Error::ResponseTooLarge`] without being read further.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = Some(bytes);
        self
    }

    /// The most pages one list call reads (default [`DEFAULT_MAX_PAGES`]); past it the list
    /// fails with [`Error::Pagination`]. [`ListRequest::max_pages`](crate::ListRequest::max_pages)
    /// overrides it per call.
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = Some(pages);
        self
    }

    /// How many empty pages in a row that still offer a next cursor a list accepts before it
    /// stops with [`Error::Pagination`] (default [`DEFAULT_MAX_EMPTY_PAGES`]).
    pub fn max_empty_pages(mut self, pages: u32) -> Self {
        self.max_empty_pages = Some(pages);
        self
    }

    /// A preconfigured `reqwest::Client` (proxies, custom TLS). Its own timeouts and pool
    /// apply; the client still sets `User-Agent` and the per-request timeout. Build it with
    /// `redirect(reqwest::redirect::Policy::none())` and `referer(false)` as this crate's own
    /// client is: a client that follows redirects sends the request's parameters (the proof,
    /// credential parameters) wherever a server points it.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Reads the examples' environment contract: `META_ACCESS_TOKEN`, `META_APP_SECRET`,
    /// `META_APP_ID`, `META_GRAPH_URL`, `META_API_VERSION`, `META_ACCESS_TIER`. Unset variables leave the
    /// builder as it was; an invalid value fails at [`ClientBuilder::build`] (or here, for
    /// the tier).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming `access_tier` for an unknown `META_ACCESS_TIER`.
    pub fn from_env(mut self) -> Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if let Some(token) = var("META_ACCESS_TOKEN") {
            self = self.access_token(token);
        }
        if let Some(secret) = var("META_APP_SECRET") {
            self = self.app_secret(secret);
        }
        if let Some(app) = var("META_APP_ID") {
            self = self.app_id(app.trim());
        }
        if let Some(url) = var("META_GRAPH_URL") {
            self = self.base_url(url);
        }
        if let Some(version) = var("META_API_VERSION") {
            self = self.api_version(version);
        }
        if let Some(tier) = var("META_ACCESS_TIER") {
            self = self.access_tier(tier.parse()?);
        }
        Ok(self)
    }

    /// Checks the configuration and builds the client.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming `access_token`, `app_secret`, `api_version`,
    /// `base_url`, `timeout` or `connect_timeout`; [`Error::Setup`] if the TLS backend fails
    /// to initialize.
    pub fn build(self) -> Result<Client> {
        let token = self
            .access_token
            .ok_or_else(|| Error::invalid_input("access_token", "is required"))?;
        crate::request::check_token(&token)?;
        if let Some(secret) = &self.app_secret {
            crate::request::check_app_secret(secret)?;
        }
        if let Some(app) = &self.app_id {
            app.validate()?;
        }
        let version = match &self.api_version {
            Some(raw) => ApiVersion::new(raw.trim())?,
            None => ApiVersion::default(),
        };
        let base_url = parse_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_GRAPH_URL))?;
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(Error::invalid_input("timeout", "must be greater than zero"));
        }
        let connect_timeout = self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        if connect_timeout.is_zero() {
            return Err(Error::invalid_input(
                "connect_timeout",
                "must be greater than zero",
            ));
        }
        let http = match self.http_client {
            Some(http) => http,
            None => reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .connect_timeout(connect_timeout)
                .timeout(timeout)
                // A redirect would carry the query (proof, credential parameters) and the form
                // body to another host: a 3xx is an error instead.
                .redirect(reqwest::redirect::Policy::none())
                .referer(false)
                .build()
                .map_err(|e| Error::Setup(e.without_url()))?,
        };
        Ok(Client {
            shared: Arc::new(Shared {
                http,
                base_url,
                version,
                app_secret: self.app_secret,
                app_id: self.app_id,
                proof_mode: self.proof_mode,
                timeout,
                quota: self.quota.unwrap_or(QuotaPolicy::Tier(AccessTier::Limited)),
                retry: self.retry.unwrap_or_default(),
                pacing: self.pacing,
                usage: Mutex::new(UsageSeen::default()),
                requests: std::sync::atomic::AtomicU64::new(0),
                create_lock: self
                    .create_lock
                    .unwrap_or_else(|| Arc::new(InProcessLock::default())),
                limits: Limits {
                    max_response_bytes: self
                        .max_response_bytes
                        .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
                    max_pages: self.max_pages.unwrap_or(DEFAULT_MAX_PAGES),
                    max_empty_pages: self.max_empty_pages.unwrap_or(DEFAULT_MAX_EMPTY_PAGES),
                },
            }),
            token: Arc::new(token),
            classic_proof: Arc::default(),
        })
    }
}

fn parse_base_url(raw: &str) -> Result<Url> {
    let bad = |why: &str| Error::invalid_input("base_url", why.to_owned());
    let url = Url::parse(raw.trim()).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must be http or https"));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(bad("must have a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "must not have a query or fragment (the access token never goes in a URL)",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    Ok(url)
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "app_secret",
                &self.app_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("app_id", &self.app_id)
            .field("proof_mode", &self.proof_mode)
            .field("api_version", &self.api_version)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("quota", &self.quota)
            .field("retry", &self.retry)
            .field("pacing", &self.pacing)
            .field("http_client", &self.http_client.as_ref().map(|_| "custom"))
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

    #[test]
    fn base_url_rules() {
        assert!(parse_base_url("http://127.0.0.1:8080").is_ok());
        assert!(parse_base_url("https://proxy.example/graph/").is_ok());
        for bad in [
            "ftp://x",
            "not a url",
            "https://x/?access_token=1",
            "https://u:p@x",
            "https://x/#f",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
    }
}

//! [`ClientBuilder`]: every setting of a [`Client`], checked when it is built.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::client::{
    Client, DEFAULT_GRAPH_URL, Limits, QuotaPolicy, Shared, USER_AGENT, UsageSeen,
};
use crate::config::{
    AccessTier, ApiVersion, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_EMPTY_PAGES, DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, ProofMode, SystemUserQuota,
};
use crate::error::{Error, Result};
use crate::ids::AppId;
use crate::lock::{CreateLock, InProcessLock};
use crate::pacing::Pacing;
use crate::retry::RetryPolicy;

/// Configures a [`Client`]. Only the access token is required.
///
/// Setters never fail; [`ClientBuilder::build`] checks everything and names the field at
/// fault.
///
/// ```
/// use std::time::Duration;
/// use meta_business::{AccessTier, Client};
/// use meta_business::retry::RetryPolicy;
/// use meta_business::usage::Pacing;
/// let client = Client::builder()
///     .access_token("EAAB...")             // sent only as `Authorization: Bearer`
///     .app_secret("app-secret")            // appsecret_proof on every request
///     .app_id("2000000000001")
///     .access_tier(AccessTier::Full)       // the quota checked before each create
///     .retry_policy(RetryPolicy::default().max_attempts(5))
///     .pacing(Pacing::new(80.0))           // slow down above 80 % of any usage header
///     .timeout(Duration::from_secs(20))
///     .build()?;
/// # let _ = client;
/// # Ok::<(), meta_business::Error>(())
/// ```
#[derive(Default)]
pub struct ClientBuilder {
    access_token: Option<SecretString>,
    app_secret: Option<SecretString>,
    app_secrets: std::collections::BTreeMap<AppId, SecretString>,
    app_id: Option<AppId>,
    proof_mode: ProofMode,
    api_version: Option<String>,
    base_url: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    // Kept apart and resolved in `build` (disabled, then custom, then tier) so that the
    // three quota setters give the same client whatever order they are called in.
    tier: Option<AccessTier>,
    custom_quota: Option<SystemUserQuota>,
    quota_disabled: bool,
    retry_policy: Option<RetryPolicy>,
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
    ///
    /// ```
    /// use meta_business::{Client, Error};
    /// // No token, no client.
    /// assert!(matches!(Client::builder().build(), Err(Error::InvalidInput { .. })));
    /// let client = Client::builder().access_token("EAAB...").build()?;
    /// # let _ = client;
    /// # Ok::<(), Error>(())
    /// ```
    pub fn access_token(mut self, access_token: impl Into<SecretString>) -> Self {
        self.access_token = Some(access_token.into());
        self
    }

    /// The app secret. With it, every request carries `appsecret_proof`, which token
    /// generation requires and which "Require App Secret" apps require everywhere.
    ///
    /// ```
    /// use meta_business::Client;
    /// let client = Client::builder().access_token("EAAB...").app_secret("app-secret").build()?;
    /// assert!(client.has_app_secret());
    /// assert!(!format!("{client:?}").contains("app-secret"));
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn app_secret(mut self, app_secret: impl Into<SecretString>) -> Self {
        self.app_secret = Some(app_secret.into());
        self
    }

    /// The secret of another app than the token's, for the calls made as that app:
    /// `debug_token` of its tokens ([`Client::as_app`](crate::Client::as_app)), refreshing and
    /// revoking them. Without it, such calls for an app other than [`ClientBuilder::app_id`]
    /// are refused before anything is sent, rather than signed with the wrong app's secret.
    ///
    /// ```
    /// use meta_business::Client;
    /// let client = Client::builder()
    ///     .access_token("EAAB...")
    ///     .app_id("2000000000001")
    ///     .app_secret("secret-of-the-first-app")
    ///     .app_secret_for("2000000000002", "secret-of-the-second-app")
    ///     .build()?;
    /// assert!(client.has_app_secret_for(&"2000000000002".into()));
    /// assert!(!client.has_app_secret_for(&"2000000000003".into()));
    /// assert!(client.as_app("2000000000003").is_err()); // whose secret would it use?
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn app_secret_for(
        mut self,
        app: impl Into<AppId>,
        secret: impl Into<SecretString>,
    ) -> Self {
        self.app_secrets.insert(app.into(), secret.into());
        self
    }

    /// The app of the access token and the app secret. Token generation uses it to mint tokens
    /// for this app through the business-level edge, which Meta keeps open to new apps (see
    /// [`SystemUserHandler::generate_token`](crate::SystemUserHandler::generate_token)).
    pub fn app_id(mut self, app_id: impl Into<AppId>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The form of `appsecret_proof` (classic by default).
    ///
    /// ```
    /// use meta_business::{Client, ProofMode};
    /// let client = Client::builder()
    ///     .access_token("EAAB...")
    ///     .app_secret("app-secret")
    ///     .proof_mode(ProofMode::TimeStamped) // appsecret_proof with appsecret_time
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn proof_mode(mut self, proof_mode: ProofMode) -> Self {
        self.proof_mode = proof_mode;
        self
    }

    /// The Graph API version, `vN.N` (default [`ApiVersion::DEFAULT`]).
    ///
    /// ```
    /// use meta_business::Client;
    /// let client = Client::builder().access_token("EAAB...").api_version("v25.0").build()?;
    /// assert_eq!(client.api_version().as_str(), "v25.0");
    /// assert!(Client::builder().access_token("EAAB...").api_version("25").build().is_err());
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn api_version(mut self, api_version: impl Into<String>) -> Self {
        self.api_version = Some(api_version.into());
        self
    }

    /// Another base URL than `https://graph.facebook.com`: a proxy, or a test server.
    ///
    /// ```
    /// use meta_business::Client;
    /// let client = Client::builder().access_token("EAAB...").base_url("http://127.0.0.1:8080").build()?;
    /// assert_eq!(client.base_url().as_str(), "http://127.0.0.1:8080/");
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
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
    pub fn connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = Some(connect_timeout);
        self
    }

    /// The app's Marketing API access tier, which sets the system-user quota enforced before
    /// creating a system user. Without this call the client assumes [`AccessTier::Limited`],
    /// the tier new apps start at.
    ///
    /// ```
    /// use meta_business::{AccessTier, Client, SystemUserKind};
    /// let client = Client::builder().access_token("EAAB...").access_tier(AccessTier::Limited).build()?;
    /// let quota = client.quota_policy().quota().expect("a tier sets a quota");
    /// assert_eq!((quota.admin, quota.regular), (1, 1));
    /// # let _ = SystemUserKind::Admin;
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn access_tier(mut self, tier: AccessTier) -> Self {
        self.tier = Some(tier);
        self
    }

    /// A custom system-user quota, replacing the tier's (whether [`ClientBuilder::access_tier`]
    /// is called before or after).
    ///
    /// ```
    /// use meta_business::{Client, QuotaPolicy, SystemUserQuota};
    /// // If Meta changes the numbers before this crate does.
    /// let client = Client::builder()
    ///     .access_token("EAAB...")
    ///     .system_user_quota(SystemUserQuota { admin: 1, regular: 20 })
    ///     .build()?;
    /// assert!(matches!(client.quota_policy(), QuotaPolicy::Custom(_)));
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn system_user_quota(mut self, quota: SystemUserQuota) -> Self {
        self.custom_quota = Some(quota);
        self
    }

    /// Turns the client-side quota check off; the server alone decides (a tier or custom quota
    /// given before or after is ignored).
    ///
    /// ```
    /// use meta_business::{Client, QuotaPolicy};
    /// let client = Client::builder().access_token("EAAB...").disable_quota_check().build()?;
    /// assert_eq!(client.quota_policy(), QuotaPolicy::Disabled);
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn disable_quota_check(mut self) -> Self {
        self.quota_disabled = true;
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]: 3 attempts for requests that are safe
    /// to repeat; [`RetryPolicy::none`] turns retries off).
    ///
    /// ```
    /// use std::time::Duration;
    /// use meta_business::Client;
    /// use meta_business::retry::RetryPolicy;
    /// let client = Client::builder()
    ///     .access_token("EAAB...")
    ///     .retry_policy(RetryPolicy::default().max_attempts(6).max_delay(Duration::from_secs(30)))
    ///     .build()?;
    /// assert_eq!(client.retry_policy().attempts(), 6);
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn retry_policy(mut self, retry_policy: RetryPolicy) -> Self {
        self.retry_policy = Some(retry_policy);
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
    ///
    /// ```
    /// use meta_business::Client;
    /// let client = Client::builder().access_token("EAAB...").max_response_bytes(4 << 20).build()?;
    /// # let _ = client;
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn max_response_bytes(mut self, max_response_bytes: usize) -> Self {
        self.max_response_bytes = Some(max_response_bytes);
        self
    }

    /// The most pages one list call reads (default [`DEFAULT_MAX_PAGES`]); past it the list
    /// fails with [`Error::Pagination`]. [`ListRequest::max_pages`](crate::pagination::ListRequest::max_pages)
    /// overrides it per call.
    ///
    /// ```
    /// use meta_business::Client;
    /// // A list never reads more than 1,000 pages, however many a server offers.
    /// let client = Client::builder().access_token("EAAB...").max_pages(1_000).build()?;
    /// # let _ = client;
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn max_pages(mut self, max_pages: u32) -> Self {
        self.max_pages = Some(max_pages);
        self
    }

    /// How many empty pages in a row that still offer a next cursor a list accepts before it
    /// stops with [`Error::Pagination`] (default [`DEFAULT_MAX_EMPTY_PAGES`]).
    pub fn max_empty_pages(mut self, max_empty_pages: u32) -> Self {
        self.max_empty_pages = Some(max_empty_pages);
        self
    }

    /// A preconfigured `reqwest::Client` (proxies, custom TLS). Its own timeouts and pool
    /// apply; the client still sets `User-Agent` and the per-request timeout. Build it with
    /// `redirect(reqwest::redirect::Policy::none())` and `referer(false)` as this crate's own
    /// client is: a client that follows redirects sends the request's parameters (the proof,
    /// credential parameters) wherever a server points it.
    pub fn http_client(mut self, http_client: reqwest::Client) -> Self {
        self.http_client = Some(http_client);
        self
    }

    /// The quota the three quota setters give, whatever their order (turned off, then a
    /// custom quota, then the tier), and whether any was called.
    fn resolved_quota(&self) -> (QuotaPolicy, bool) {
        let quota = match (self.quota_disabled, self.custom_quota, self.tier) {
            (true, _, _) => QuotaPolicy::Disabled,
            (false, Some(custom), _) => QuotaPolicy::Custom(custom),
            (false, None, tier) => QuotaPolicy::Tier(tier.unwrap_or(AccessTier::Limited)),
        };
        let configured = self.quota_disabled || self.custom_quota.is_some() || self.tier.is_some();
        (quota, configured)
    }

    /// Reads the examples' environment contract: `META_ACCESS_TOKEN`, `META_APP_SECRET`,
    /// `META_APP_ID`, `META_GRAPH_URL`, `META_API_VERSION`, `META_ACCESS_TIER`. A variable
    /// fills only what no setter gives, before or after this call (unset variables change
    /// nothing); an invalid value fails at [`ClientBuilder::build`] (or here, for the tier).
    ///
    /// ```no_run
    /// use meta_business::Client;
    /// // META_ACCESS_TOKEN, META_APP_SECRET, META_APP_ID, META_GRAPH_URL, META_API_VERSION,
    /// // META_ACCESS_TIER; a setter, before or after it, wins over its variable.
    /// let client = Client::builder().from_env()?.build()?;
    /// # let _ = client;
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming `META_ACCESS_TIER` when it holds an unknown tier.
    pub fn from_env(self) -> Result<Self> {
        self.with_vars_from(|name| std::env::var(name).ok())
    }

    /// [`ClientBuilder::from_env`] over any source of variables (the tests' own, since the
    /// process environment is shared by every test thread).
    fn with_vars_from(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        // A variable fills only what no setter gave, so that a setter wins whether it is
        // called before or after this.
        if let (None, Some(token)) = (&self.access_token, var("META_ACCESS_TOKEN")) {
            self = self.access_token(token);
        }
        if let (None, Some(secret)) = (&self.app_secret, var("META_APP_SECRET")) {
            self = self.app_secret(secret);
        }
        if let (None, Some(app)) = (&self.app_id, var("META_APP_ID")) {
            self = self.app_id(app.trim());
        }
        if let (None, Some(url)) = (&self.base_url, var("META_GRAPH_URL")) {
            self = self.base_url(url);
        }
        if let (None, Some(version)) = (&self.api_version, var("META_API_VERSION")) {
            self = self.api_version(version);
        }
        if let (None, Some(tier)) = (&self.tier, var("META_ACCESS_TIER")) {
            // Named after the variable: the user set that, not a field.
            let tier = tier
                .parse()
                .map_err(|e: Error| e.relabel("META_ACCESS_TIER"))?;
            self = self.access_tier(tier);
        }
        Ok(self)
    }

    /// Checks the configuration and builds the client.
    ///
    /// ```
    /// use meta_business::{Client, Error};
    /// let err = Client::builder().access_token("EAAB...").base_url("not a url").build().unwrap_err();
    /// assert!(matches!(err, Error::InvalidInput { .. }));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming `access_token`, `app_secret`, `api_version`,
    /// `base_url`, `timeout` or `connect_timeout`; [`Error::Setup`] if the TLS backend fails
    /// to initialize.
    pub fn build(self) -> Result<Client> {
        let (quota, quota_configured) = self.resolved_quota();
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
        for (app, secret) in &self.app_secrets {
            app.validate()?;
            crate::request::check_app_secret(secret)?;
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
        let own_http = self.http_client.is_none();
        let http = match self.http_client {
            Some(http) => http,
            None => {
                let builder = reqwest::Client::builder()
                    .user_agent(USER_AGENT)
                    .connect_timeout(connect_timeout)
                    .timeout(timeout)
                    // A redirect would carry the query (proof, credential parameters) and the
                    // form body to another host: a 3xx is an error instead.
                    .redirect(reqwest::redirect::Policy::none())
                    .referer(false);
                without_tls_roots_for_plain_http(builder, &base_url)
                    .build()
                    .map_err(|e| Error::Setup(e.without_url()))?
            }
        };
        let secrets = crate::registry::Registry::default();
        secrets.own(&token);
        for secret in self.app_secret.iter().chain(self.app_secrets.values()) {
            secrets.own(secret);
        }
        // The proof of the client's own token: computed now, so that it is one of the
        // client's own secrets (a clone's proof is registered when first computed).
        let classic_proof = std::sync::OnceLock::new();
        if let Some(secret) = &self.app_secret {
            let proof = crate::auth::appsecret_proof(secret, &token);
            secrets.own(&proof);
            let _ = classic_proof.set(proof);
        }
        Ok(Client {
            proof_secret: None,
            shared: Arc::new(Shared {
                http,
                own_http,
                versioned_url: versioned(&base_url, &version)?,
                base_url,
                version,
                app_secret: self.app_secret,
                app_secrets: self.app_secrets,
                quota_configured,
                app_id: self.app_id,
                proof_mode: self.proof_mode,
                timeout,
                quota,
                retry: self.retry_policy.unwrap_or_default(),
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
                secrets,
            }),
            token: Arc::new(token),
            classic_proof: Arc::new(classic_proof),
            auth: Arc::default(),
        })
    }
}

/// Loading the platform's certificates is most of what building a client costs; a client of
/// an `http://` base URL (a local stand-in, the emulator) never uses them. With no redirects
/// followed, such a client only ever talks plain HTTP, so it trusts no root at all.
fn without_tls_roots_for_plain_http(
    builder: reqwest::ClientBuilder,
    base_url: &Url,
) -> reqwest::ClientBuilder {
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    if base_url.scheme() == "http" {
        return builder.tls_certs_only(std::iter::empty());
    }
    let _ = base_url;
    builder
}

/// `base_url` with the version's segment (`…/v26.0`).
fn versioned(base_url: &Url, version: &ApiVersion) -> Result<Url> {
    let mut url = base_url.clone();
    url.path_segments_mut()
        .map_err(|()| Error::invalid_input("base_url", "cannot be a base"))?
        .pop_if_empty()
        .push(version.as_str());
    Ok(url)
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
            .field(
                "app_secrets_for",
                &self.app_secrets.keys().collect::<Vec<_>>(),
            )
            .field("app_id", &self.app_id)
            .field("proof_mode", &self.proof_mode)
            .field("api_version", &self.api_version)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("access_tier", &self.tier)
            .field("system_user_quota", &self.custom_quota)
            .field("quota_disabled", &self.quota_disabled)
            .field("retry_policy", &self.retry_policy)
            .field("pacing", &self.pacing)
            .field("http_client", &self.http_client.as_ref().map(|_| "custom"))
            .finish()
    }
}

#[cfg(test)]
mod tests;

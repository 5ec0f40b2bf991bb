//! [`VaultStore`]: tokens in HashiCorp Vault's or OpenBao's KV version 2 secrets engine.

mod auth;
mod http;
mod kv;
mod lock;
mod ops;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use url::Url;

use crate::config::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
use crate::error::{Error, Result};
use crate::store::StoreError;

use auth::{AppRole, Auth};
use http::{Answer, Http};
use kv::Layout;

pub use lock::{DEFAULT_VAULT_LOCK_LEASE, VaultLock};

/// Largest answer the store reads from Vault, unless set otherwise: one key's answer is a few
/// kilobytes, a folder's listing a few bytes per key.
pub const DEFAULT_VAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Tokens in a KV version 2 secrets engine of HashiCorp Vault or OpenBao, shared by every
/// replica that points at it (feature `vault`).
///
/// Each token is one key, `<mount>/data/<prefix>/<business>/<system user>/<app>`, whose
/// versioned data holds the token, the token it replaces while a rotation is in progress, and
/// the metadata, written as one. Every write names the version it replaces (`cas`), so the
/// store keeps [`TokenStore`](crate::store::TokenStore)'s contract across processes and hosts: the
/// store's version is KV's version of the key. A remove writes a tombstone version (with `cas`)
/// and soft-deletes it: KV's version counter goes on, so no version is ever reused, and the
/// key's history stays for operators (`bao kv metadata get`). The key's `custom_metadata`
/// mirrors the metadata for operators (scopes, expiry, how and when minted: never a secret),
/// and `cas_required` is set on it so that other tools writing the key must name a version
/// too. Deleting a key's metadata by hand restarts its versions: don't, while replicas run.
/// Replaced tokens stay in the key's history (up to the engine's `max_versions`) for whoever may
/// read `<mount>/data/…?version=N`; they are revoked by the rotation that replaced them, and a
/// low `max_versions` on the mount keeps fewer of them.
///
/// The store authenticates with a token the caller keeps alive, or logs in with an AppRole
/// (`POST /v1/auth/<mount>/login`) and keeps its own token alive: renewed (`renew-self`) once
/// half its lease has passed, replaced by a new login when renewal fails or Vault refuses it.
/// The policy it needs (the tests log in with exactly this one):
///
/// ```hcl
/// path "secret/data/meta-business/*"     { capabilities = ["create", "read", "update"] }
/// path "secret/delete/meta-business/*"   { capabilities = ["update"] }
/// path "secret/metadata/meta-business/*" { capabilities = ["update", "list"] }
/// ```
///
/// Requests follow no redirect (a standby node's 307 is an error naming it), time out, and
/// read at most [`DEFAULT_VAULT_MAX_RESPONSE_BYTES`]. Errors name the key and Vault's reason,
/// scrubbed of every secret (the Vault token, the AppRole's ids, the tokens stored). `Debug`
/// shows the address, mount and prefix only.
///
/// ```no_run
/// use meta_business::store::{TokenStore, VaultStore};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = VaultStore::builder("https://vault.internal:8200")
///     .mount("secret")
///     .prefix("meta-business")
///     .approle(std::env::var("ROLE_ID")?, std::env::var("SECRET_ID")?)
///     .build()?;
/// for key in store.keys().await? {
///     println!("{key}");
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "vault")))]
pub struct VaultStore {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    layout: Layout,
    auth: Auth,
    mount: String,
    prefix: String,
}

impl fmt::Debug for VaultStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultStore")
            .field("addr", &self.inner.http.addr.as_str())
            .field("mount", &self.inner.mount)
            .field("prefix", &self.inner.prefix)
            .finish()
    }
}

impl VaultStore {
    /// A builder for the store of the Vault at `addr` (`https://vault.internal:8200`).
    pub fn builder(addr: impl Into<String>) -> VaultStoreBuilder {
        VaultStoreBuilder {
            addr: addr.into(),
            mount: "secret".to_owned(),
            prefix: "meta-business".to_owned(),
            auth: None,
            both_auth: false,
            approle_mount: "approle".to_owned(),
            namespace: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_response_bytes: DEFAULT_VAULT_MAX_RESPONSE_BYTES,
            http_client: None,
        }
    }

    /// One request with the store's Vault token; when Vault refuses an AppRole token (expired,
    /// revoked), once more after a new login. `secrets`: what the request or its answer can
    /// hold besides the store's own credentials.
    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        what: &(dyn fmt::Display + Sync),
        secrets: &[&str],
    ) -> std::result::Result<Answer, StoreError> {
        let inner = &*self.inner;
        let mut all = inner.auth.secrets();
        all.extend_from_slice(secrets);
        let token = inner.auth.token(&inner.http).await?;
        let answer = inner
            .http
            .send(method.clone(), url.clone(), Some(&token), body, what, &all)
            .await?;
        if answer.status == StatusCode::FORBIDDEN && inner.auth.forget(&token).await {
            let token = inner.auth.token(&inner.http).await?;
            return inner
                .http
                .send(method, url, Some(&token), body, what, &all)
                .await;
        }
        Ok(answer)
    }
}

impl VaultStore {
    /// Vault refused a request: the error, scrubbed of the store's credentials, the token the
    /// request carried and `secrets`.
    fn refused(
        &self,
        answer: &Answer,
        what: &(dyn fmt::Display + Sync),
        secrets: &[&str],
    ) -> StoreError {
        let mut all = self.inner.auth.secrets();
        all.extend_from_slice(secrets);
        http::refused(answer, what, &all)
    }
}

/// How a [`VaultStore`] is set up: the address, then [`token`](Self::token) or
/// [`approle`](Self::approle), and what differs from the defaults.
pub struct VaultStoreBuilder {
    addr: String,
    mount: String,
    prefix: String,
    auth: Option<AuthChoice>,
    /// Both a token and an AppRole were given: refused at `build` whatever the order, rather
    /// than the last one silently winning.
    both_auth: bool,
    approle_mount: String,
    namespace: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    max_response_bytes: usize,
    http_client: Option<reqwest::Client>,
}

enum AuthChoice {
    Token(SecretString),
    AppRole(SecretString, SecretString),
}

impl fmt::Debug for VaultStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultStoreBuilder")
            .field("addr", &self.addr)
            .field("mount", &self.mount)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl VaultStoreBuilder {
    /// The path of the KV version 2 engine (default `secret`, as in a dev server).
    pub fn mount(mut self, mount: impl Into<String>) -> Self {
        self.mount = mount.into();
        self
    }

    /// The folder of the store's keys inside the engine (default `meta-business`; may hold
    /// `/`; empty: the engine's root).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Authenticates with this Vault token (the caller keeps it alive). Giving an AppRole as
    /// well, before or after, fails at `build`.
    pub fn token(mut self, token: impl Into<SecretString>) -> Self {
        self.both_auth |= matches!(self.auth, Some(AuthChoice::AppRole(..)));
        self.auth = Some(AuthChoice::Token(token.into()));
        self
    }

    /// Logs in with this AppRole and keeps its own Vault token alive. Giving a token as well,
    /// before or after, fails at `build`.
    pub fn approle(
        mut self,
        role_id: impl Into<SecretString>,
        secret_id: impl Into<SecretString>,
    ) -> Self {
        self.both_auth |= matches!(self.auth, Some(AuthChoice::Token(_)));
        self.auth = Some(AuthChoice::AppRole(role_id.into(), secret_id.into()));
        self
    }

    /// Where the AppRole auth method is mounted (default `approle`).
    pub fn approle_mount(mut self, mount: impl Into<String>) -> Self {
        self.approle_mount = mount.into();
        self
    }

    /// The namespace (`X-Vault-Namespace`) of Vault Enterprise or OpenBao.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// How long one request may take (default [`crate::DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long connecting may take (default [`crate::DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest answer read (default [`DEFAULT_VAULT_MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, max: usize) -> Self {
        self.max_response_bytes = max;
        self
    }

    /// A preconfigured `reqwest::Client` (a private CA, a proxy). Its own timeouts apply; build
    /// it with `redirect(reqwest::redirect::Policy::none())`: a redirect would carry the Vault
    /// token to wherever it points.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// The store. Nothing is sent yet: the first request logs in (AppRole).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an address that is not an `http`/`https` URL, a mount,
    /// prefix or AppRole mount that is not a plain path, a zero timeout or size, no
    /// authentication or both a token and an AppRole; [`Error::Setup`] when the HTTP client cannot be built.
    pub fn build(self) -> Result<VaultStore> {
        let addr = parse_addr(&self.addr)?;
        let mount = segments("mount", &self.mount, false)?;
        let prefix = segments("prefix", &self.prefix, true)?;
        let approle_mount = segments("approle_mount", &self.approle_mount, false)?.join("/");
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::invalid_input("timeout", "must be greater than zero"));
        }
        if self.max_response_bytes == 0 {
            return Err(Error::invalid_input(
                "max_response_bytes",
                "must be greater than zero",
            ));
        }
        if self.both_auth {
            return Err(Error::invalid_input(
                "auth",
                "give a token or an AppRole, not both",
            ));
        }
        let auth = match self.auth {
            None => return Err(Error::invalid_input("auth", "give a token or an AppRole")),
            Some(AuthChoice::Token(token)) => Auth::Token(token),
            Some(AuthChoice::AppRole(role_id, secret_id)) => {
                Auth::AppRole(AppRole::new(approle_mount, role_id, secret_id))
            }
        };
        let client = match self.http_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .user_agent(crate::USER_AGENT)
                .connect_timeout(self.connect_timeout)
                .timeout(self.timeout)
                .redirect(reqwest::redirect::Policy::none())
                .referer(false)
                .build()
                .map_err(|e| Error::Setup(e.without_url()))?,
        };
        Ok(VaultStore {
            inner: Arc::new(Inner {
                http: Http {
                    client,
                    addr,
                    namespace: self.namespace,
                    max_response_bytes: self.max_response_bytes,
                },
                mount: mount.join("/"),
                prefix: prefix.join("/"),
                layout: Layout { mount, prefix },
                auth,
            }),
        })
    }
}

fn parse_addr(raw: &str) -> Result<Url> {
    let bad = |why: &str| Error::invalid_input("vault address", why.to_owned());
    let url = Url::parse(raw.trim()).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must be http or https"));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(bad("must have a host"));
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(bad("must hold no query, fragment or credentials"));
    }
    Ok(url)
}

/// A path's segments, each a plain name (letters, digits, `-`, `_`, `.`; not `.` or `..`).
fn segments(field: &'static str, raw: &str, may_be_empty: bool) -> Result<Vec<String>> {
    let trimmed = raw.trim_matches('/');
    if trimmed.is_empty() {
        return if may_be_empty {
            Ok(Vec::new())
        } else {
            Err(Error::invalid_input(field, "must not be empty"))
        };
    }
    trimmed
        .split('/')
        .map(|segment| {
            let plain = segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if segment.is_empty() || segment == "." || segment == ".." || !plain {
                Err(Error::invalid_input(
                    field,
                    "must be a path of plain names (letters, digits, '-', '_', '.')",
                ))
            } else {
                Ok(segment.to_owned())
            }
        })
        .collect()
}

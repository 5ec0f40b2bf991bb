//! The store's own Vault token: given (token auth), or obtained by an AppRole login and kept
//! alive, renewed (`renew-self`) once half its lease has passed and replaced by a new login when
//! it cannot be renewed or has expired.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::http::{Http, refused, url};
use crate::store::StoreError;

/// How the store authenticates to Vault.
pub(super) enum Auth {
    /// A token the caller manages (and renews, if it expires).
    Token(SecretString),
    /// An AppRole the store logs in with.
    AppRole(AppRole),
}

/// An AppRole login and the token it gave.
pub(super) struct AppRole {
    pub(super) mount: String,
    pub(super) role_id: SecretString,
    pub(super) secret_id: SecretString,
    /// Held across a login or renewal, so that concurrent requests wait for one instead of
    /// each logging in.
    lease: tokio::sync::Mutex<Option<Lease>>,
}

/// A Vault token and how long it lives.
struct Lease {
    token: SecretString,
    since: Instant,
    /// `None`: the token does not expire.
    ttl: Option<Duration>,
    renewable: bool,
}

/// The `auth` block of a login or renewal.
#[derive(Deserialize)]
struct AuthAnswer {
    auth: Option<AuthBlock>,
}

#[derive(Deserialize)]
struct AuthBlock {
    client_token: SecretString,
    #[serde(default)]
    lease_duration: u64,
    #[serde(default)]
    renewable: bool,
}

impl AppRole {
    pub(super) fn new(mount: String, role_id: SecretString, secret_id: SecretString) -> Self {
        AppRole {
            mount,
            role_id,
            secret_id,
            lease: tokio::sync::Mutex::new(None),
        }
    }
}

impl Auth {
    /// The secrets auth itself holds, to keep out of every error.
    pub(super) fn secrets(&self) -> Vec<&str> {
        match self {
            Auth::Token(token) => vec![token.expose_secret()],
            Auth::AppRole(role) => {
                vec![role.role_id.expose_secret(), role.secret_id.expose_secret()]
            }
        }
    }

    /// A Vault token to send now: renewed or replaced first when its lease is half gone.
    pub(super) async fn token(&self, http: &Http) -> Result<SecretString, StoreError> {
        let role = match self {
            Auth::Token(token) => return Ok(token.clone()),
            Auth::AppRole(role) => role,
        };
        let mut lease = role.lease.lock().await;
        let now = Instant::now();
        match lease.as_ref() {
            Some(held) if !held.half_gone(now) => return Ok(held.token.clone()),
            Some(held) if held.renewable && !held.expired(now) => {
                match role.renew(http, &held.token).await {
                    Ok(renewed) => {
                        let token = renewed.token.clone();
                        *lease = Some(renewed);
                        return Ok(token);
                    }
                    Err(e) => tracing::debug!(error = %e, "Vault token renewal failed; logging in"),
                }
            }
            _ => {}
        }
        let fresh = role.login(http).await?;
        let token = fresh.token.clone();
        *lease = Some(fresh);
        Ok(token)
    }

    /// Vault refused `stale` as expired or revoked: the next [`Auth::token`] logs in again.
    /// Whether a new token can be had (only with AppRole).
    pub(super) async fn forget(&self, stale: &SecretString) -> bool {
        let Auth::AppRole(role) = self else {
            return false;
        };
        let mut lease = role.lease.lock().await;
        if lease
            .as_ref()
            .is_some_and(|l| l.token.expose_secret() == stale.expose_secret())
        {
            *lease = None;
        }
        true
    }
}

impl Lease {
    fn from_answer(answer: &super::http::Answer, what: &str) -> Result<Lease, StoreError> {
        let parsed: AuthAnswer = serde_json::from_slice(&answer.body).map_err(|_| {
            StoreError::new(format!("Vault's answer to {what} is not an auth answer"))
        })?;
        let block = parsed
            .auth
            .ok_or_else(|| StoreError::new(format!("Vault's answer to {what} holds no token")))?;
        Ok(Lease {
            token: block.client_token,
            since: Instant::now(),
            ttl: (block.lease_duration > 0).then(|| Duration::from_secs(block.lease_duration)),
            renewable: block.renewable,
        })
    }

    fn half_gone(&self, now: Instant) -> bool {
        self.ttl
            .is_some_and(|ttl| now.saturating_duration_since(self.since) >= ttl / 2)
    }

    fn expired(&self, now: Instant) -> bool {
        self.ttl
            .is_some_and(|ttl| now.saturating_duration_since(self.since) >= ttl)
    }
}

impl AppRole {
    async fn login(&self, http: &Http) -> Result<Lease, StoreError> {
        let what = format!("the AppRole login at auth/{}", self.mount);
        let body = json!({
            "role_id": self.role_id.expose_secret(),
            "secret_id": self.secret_id.expose_secret(),
        });
        let mut segments = vec!["auth"];
        segments.extend(self.mount.split('/'));
        segments.push("login");
        let secrets = [self.role_id.expose_secret(), self.secret_id.expose_secret()];
        let answer = http
            .send(
                Method::POST,
                url(&http.addr, segments),
                None,
                Some(&body),
                &what,
                &secrets,
            )
            .await?;
        if answer.status != StatusCode::OK {
            return Err(refused(&answer, &what, &secrets));
        }
        let lease = Lease::from_answer(&answer, &what)?;
        tracing::debug!(ttl = ?lease.ttl, "logged in to Vault with AppRole");
        Ok(lease)
    }

    async fn renew(&self, http: &Http, token: &SecretString) -> Result<Lease, StoreError> {
        let what = "renewing the store's Vault token";
        let secrets = [self.role_id.expose_secret(), self.secret_id.expose_secret()];
        let answer = http
            .send(
                Method::POST,
                url(&http.addr, ["auth", "token", "renew-self"]),
                Some(token),
                Some(&json!({})),
                &what,
                &secrets,
            )
            .await?;
        if answer.status != StatusCode::OK {
            return Err(refused(&answer, &what, &secrets));
        }
        let lease = Lease::from_answer(&answer, what)?;
        if lease.token.expose_secret() != token.expose_secret() || lease.ttl.is_none() {
            // Renewal at its maximum TTL answers with no time left: log in instead.
            return Err(StoreError::new("the renewed Vault token has no time left"));
        }
        Ok(lease)
    }
}

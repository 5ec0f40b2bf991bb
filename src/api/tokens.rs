//! The system-user token lifecycle: install the app, generate a token, inspect it, refresh it,
//! revoke it, invalidate them all.
//!
//! Tokens handed out are [`SystemUserToken`]/[`RefreshedToken`], whose `Debug` and `Display`
//! are redacted. Tokens passed in (`input_token`, `fb_exchange_token`, `revoke_token`) and the
//! app secret (`client_secret`) travel as parameters the Graph API requires, but never appear
//! in a `Debug` output, an error or a log line.

use std::time::Duration;

use secrecy::SecretString;

use crate::api::Call;
use crate::api::business::BusinessHandler;
use crate::api::core::Core;
use crate::api::exchange;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::{AppId, BusinessId, SystemUserId};
use crate::models::Ack;
use crate::models::permissions::Permission;
use crate::models::token::{RefreshedToken, SystemUserToken, TokenInfo};
use crate::request::Request;

mod requests;
mod timeouts;

pub(crate) fn no_secret(call: &str) -> Error {
    Error::invalid_input(
        "app_secret",
        format!("{call} needs the app secret; configure it with ClientBuilder::app_secret"),
    )
}

fn check_token_arg(field: &'static str, token: &SecretString) -> Result<()> {
    crate::request::check_token(token).map_err(|e| e.relabel(field))
}

/// A write whose answer is only a success flag. Ends in [`Acknowledged::send`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct Acknowledged {
    call: Call<Ack>,
}

impl Acknowledged {
    pub(crate) fn new(client: Client, request: Request, invalid: Option<Error>) -> Self {
        Acknowledged {
            call: Call::new(client, request, invalid),
        }
    }

    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.call = self.call.timeout(timeout);
        self
    }

    /// Sends the request.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// // `Ok(())` only when the server says `{"success": true}`.
    /// client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) for a bad id; [`Error::UnexpectedResponse`] when
    /// the server answers `false`; any request error.
    pub async fn send(self) -> Result<()> {
        exchange::send(self).await
    }
}

/// Builder for [`SystemUserHandler::generate_token`](crate::SystemUserHandler::generate_token).
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct GenerateToken {
    pub(crate) core: Core,
    pub(crate) system_user: SystemUserId,
    pub(crate) app: AppId,
    pub(crate) business: Option<BusinessId>,
    pub(crate) scopes: Vec<Permission>,
    pub(crate) expires_in_60_days: Option<bool>,
}

/// Which edge mints a system-user token; see [`SystemUserHandler::generate_token`](crate::SystemUserHandler::generate_token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenEdge {
    /// `POST /{business}/system_user_access_tokens`: mints for the app of the caller's token,
    /// open to every app.
    Business,
    /// `POST /{system_user}/access_tokens` with `business_app`: any app of the business, but
    /// closed to apps that have not called it within the last 90 days.
    Legacy,
}

impl GenerateToken {
    /// The system user's business. With it, a token for the client's own app is minted through
    /// the business-level edge, which new apps can use (see
    /// [`SystemUserHandler::generate_token`](crate::SystemUserHandler::generate_token)).
    ///
    /// ```
    /// use meta_business::Permission;
    /// use meta_business::tokens::TokenEdge;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// let request = client.system_user(&su.id).generate_token(demo.app_id).business(demo.business_id);
    /// assert_eq!(request.edge(), TokenEdge::Business);
    /// # Ok(()) }
    /// ```
    pub fn business(mut self, business: impl Into<BusinessId>) -> Self {
        self.business = Some(business.into());
        self
    }

    /// The edge this request will use, decided before anything is sent.
    ///
    /// ```
    /// use meta_business::tokens::TokenEdge;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// // Without the business, the legacy per-user edge (closed to apps not using it lately).
    /// assert_eq!(client.system_user("100000008899900").generate_token(demo.app_id).edge(), TokenEdge::Legacy);
    /// # Ok(()) }
    /// ```
    pub fn edge(&self) -> TokenEdge {
        match &self.business {
            Some(_) if self.core.client.app_id() == Some(&self.app) => TokenEdge::Business,
            _ => TokenEdge::Legacy,
        }
    }

    /// The permissions of the token (at least one; only what the integration needs).
    ///
    /// ```
    /// use meta_business::{Error, Permission};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// # client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// let user = client.system_user(&su.id);
    /// // No scope at all is refused before sending: least privilege is stated.
    /// let err = user.generate_token(demo.app_id).business(demo.business_id).send().await.unwrap_err();
    /// assert!(matches!(err, Error::InvalidInput { .. }));
    /// let token = user
    ///     .generate_token(demo.app_id)
    ///     .business(demo.business_id)
    ///     .scopes([Permission::AdsRead, Permission::ReadInsights])
    ///     .send()
    ///     .await?;
    /// # let _ = token;
    /// # Ok(()) }
    /// ```
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = Permission>) -> Self {
        self.scopes.extend(scopes);
        self
    }

    /// `set_token_expires_in_60_days`: `true` for a token that expires after 60 days (some
    /// businesses must use expiring tokens). Unset, the token does not expire.
    ///
    /// ```
    /// use meta_business::Permission;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// # client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// let token = client
    ///     .system_user(&su.id)
    ///     .generate_token(demo.app_id)
    ///     .business(demo.business_id)
    ///     .scopes([Permission::AdsRead])
    ///     .expires_in_60_days(true)
    ///     .send()
    ///     .await?;
    /// assert_eq!(token.expires_in_60_days, Some(true));
    /// # Ok(()) }
    /// ```
    pub fn expires_in_60_days(mut self, expires_in_60_days: bool) -> Self {
        self.expires_in_60_days = Some(expires_in_60_days);
        self
    }

    /// Generates the token.
    ///
    /// ```
    /// use meta_business::{ExposeSecret, Permission};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// let token = client
    ///     .system_user(&su.id)
    ///     .generate_token(demo.app_id)
    ///     .business(demo.business_id)
    ///     .scopes([Permission::AdsRead])
    ///     .send()
    ///     .await?;
    /// println!("minted {}", token.masked()); // never the whole token
    /// assert!(emulator.token_is_valid(token.secret().expose_secret()));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) without an app secret, for a bad id, no scope or
    /// a malformed custom scope; any request error (see [`Error::hint`] for 2FA, app not
    /// installed…).
    pub async fn send(self) -> Result<SystemUserToken> {
        exchange::send(self).await
    }
}

/// Builder for [`BusinessHandler::system_user_access_token`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct BusinessSystemUserToken {
    pub(crate) core: Core,
    pub(crate) handler: BusinessHandler,
    pub(crate) system_user: SystemUserId,
    pub(crate) scopes: Vec<Permission>,
    pub(crate) assets: Vec<String>,
    pub(crate) fetch_only: Option<bool>,
    pub(crate) expires_in_60_days: Option<bool>,
}

impl BusinessSystemUserToken {
    /// The permissions of the token (at least one).
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = Permission>) -> Self {
        self.scopes.extend(scopes);
        self
    }

    /// Restricts the token to these asset ids (`asset`, a JSON array of numbers).
    ///
    /// ```no_run
    /// use meta_business::Permission;
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let token = client
    ///     .business("1000000000001")
    ///     .system_user_access_token("100000008899900")
    ///     .scopes([Permission::AdsRead])
    ///     .assets(["3000000000001"])
    ///     .send()
    ///     .await?;
    /// # let _ = token; Ok(()) }
    /// ```
    pub fn assets(mut self, assets: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.assets.extend(assets.into_iter().map(Into::into));
        self
    }

    /// `fetch_only`: return an existing token instead of creating one.
    ///
    /// ```no_run
    /// use meta_business::Permission;
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// // The token the system user already has for the caller's app, without minting another.
    /// let existing = client
    ///     .business("1000000000001")
    ///     .system_user_access_token("100000008899900")
    ///     .scopes([Permission::AdsRead])
    ///     .fetch_only(true)
    ///     .send()
    ///     .await?;
    /// # let _ = existing; Ok(()) }
    /// ```
    pub fn fetch_only(mut self, fetch_only: bool) -> Self {
        self.fetch_only = Some(fetch_only);
        self
    }

    /// `set_token_expires_in_60_days`.
    pub fn expires_in_60_days(mut self, expires_in_60_days: bool) -> Self {
        self.expires_in_60_days = Some(expires_in_60_days);
        self
    }

    /// Gets the token.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) for a bad id, no scope, or a non-numeric asset
    /// id; any request error.
    pub async fn send(self) -> Result<SystemUserToken> {
        exchange::send(self).await
    }
}

/// Builder for [`Client::debug_token`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct DebugToken {
    pub(crate) core: Core,
    pub(crate) token: SecretString,
}

impl DebugToken {
    /// Inspects the token.
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// # client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// # let token = client.system_user(&su.id).generate_token(demo.app_id).business(demo.business_id)
    /// #     .scopes([meta_business::Permission::AdsRead]).expires_in_60_days(true).send().await?;
    /// let info = client.as_app(demo.app_id)?.debug_token(token.secret().clone()).send().await?;
    /// // A 60-day token: refresh it when it is within two weeks of its end.
    /// assert!(!info.never_expires());
    /// let refresh_now = info.expires_within(Duration::from_secs(14 * 86_400));
    /// assert!(!refresh_now);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) for an empty or malformed token; any request
    /// error.
    pub async fn send(self) -> Result<TokenInfo> {
        exchange::send(self).await
    }
}

/// A call made as an app about one token (refresh, revoke): the app, the token, and the
/// app's secret (`client_secret`), which the client must hold.
#[derive(Debug)]
pub(crate) struct AppTokenCall {
    pub(crate) core: Core,
    pub(crate) app: AppId,
    pub(crate) token: SecretString,
}

impl AppTokenCall {
    pub(crate) fn new(client: &Client, app: AppId, token: SecretString) -> Self {
        AppTokenCall {
            core: Core::new(client.clone()),
            app,
            token,
        }
    }

    /// Checks the app and the token (`field` names it on the wire) and finds the app's secret.
    fn credentials(&self, field: &'static str, call: &str) -> Result<SecretString> {
        self.app.validate()?;
        check_token_arg(field, &self.token)?;
        let client = &self.core.client;
        client
            .app_secret_of(&self.app)
            .cloned()
            .ok_or_else(|| client.no_secret_for(&self.app, call))
    }
}

/// Builder for [`Client::refresh_token`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct RefreshToken {
    pub(crate) call: AppTokenCall,
}

impl RefreshToken {
    /// Exchanges the token.
    ///
    /// ```
    /// use meta_business::ExposeSecret;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// # client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// # let token = client.system_user(&su.id).generate_token(demo.app_id).business(demo.business_id)
    /// #     .scopes([meta_business::Permission::AdsRead]).expires_in_60_days(true).send().await?;
    /// let fresh = client.refresh_token(demo.app_id, token.secret().clone()).send().await?;
    /// // Store the new token, check it, and only then revoke the old one.
    /// assert!(emulator.token_is_valid(fresh.secret().expose_secret()));
    /// # Ok(()) }
    /// ```
    ///
    /// Never re-sent once it may have reached the server (each exchange mints a token): after
    /// an error with [`Error::outcome_unknown`], a token may exist that nobody holds.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) without an app secret, for a bad app id or
    /// token; any request error.
    pub async fn send(self) -> Result<RefreshedToken> {
        exchange::send(self).await
    }
}

/// Builder for [`Client::revoke_token`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct RevokeToken {
    pub(crate) call: AppTokenCall,
}

impl RevokeToken {
    /// Revokes the token. Success may come as `true` or `"true"`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) without an app secret, for a bad app id or
    /// token; [`Error::UnexpectedResponse`] when the server answers `false`; any request error.
    pub async fn send(self) -> Result<()> {
        exchange::send(self).await
    }
}

//! The system-user token lifecycle: install the app, generate a token, inspect it, refresh it,
//! revoke it, invalidate them all.
//!
//! Tokens handed out are [`SystemUserToken`]/[`RefreshedToken`], whose `Debug` and `Display`
//! are redacted. Tokens passed in (`input_token`, `fb_exchange_token`, `revoke_token`) and the
//! app secret (`client_secret`) travel as parameters the Graph API requires, but never appear
//! in a `Debug` output, an error or a log line.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use crate::api::Call;
use crate::api::business::BusinessHandler;
use crate::api::core::Core;
use crate::api::exchange::{self, Exchange, Refusal};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::{AppId, BusinessId, SystemUserId};
use crate::models::Ack;
use crate::models::permissions::{Permission, scope_param};
use crate::models::token::{RefreshedToken, SystemUserToken, TokenInfo};
use crate::request::Request;
use crate::retry::Effect;

mod timeouts;

/// A minted token's answer.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    access_token: SecretString,
}

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

impl Exchange for Acknowledged {
    type Answer = Ack;
    type Output = ();

    fn core(&self) -> &Core {
        &self.call.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.call.core
    }

    /// Built by the handler method, its inputs checked there (the deferred error).
    fn request(&self) -> Result<Request> {
        Ok(self.call.request.clone())
    }

    fn take_request(&mut self) -> Result<Request> {
        Ok(exchange::taken(&mut self.call.request))
    }

    /// As the handler method built it (an install sets a state, as a DELETE does).
    fn effect(&self) -> Effect {
        self.call.request.effect
    }

    fn finish(self, answer: Ack) -> std::result::Result<(), Refusal> {
        exchange::acknowledged(answer)
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
    /// use meta_business::{Permission, TokenEdge};
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
    /// use meta_business::TokenEdge;
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

impl Exchange for GenerateToken {
    type Answer = TokenResponse;
    type Output = SystemUserToken;

    fn core(&self) -> &Core {
        &self.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    fn request(&self) -> Result<Request> {
        self.system_user.validate()?;
        self.app.validate()?;
        let scope = scope_param(&self.scopes)?;
        if !self.core.client.has_app_secret() {
            return Err(no_secret(
                "generating a system-user token (appsecret_proof is mandatory)",
            ));
        }
        if let Some(business) = &self.business {
            business.validate()?;
        }
        let req = match (self.edge(), &self.business) {
            (TokenEdge::Business, Some(business)) => {
                Request::post([business.as_str(), "system_user_access_tokens"])
                    .param("system_user_id", self.system_user.as_str())
            }
            _ => Request::post([self.system_user.as_str(), "access_tokens"])
                .param("business_app", self.app.as_str()),
        }
        .param("scope", scope)
        .sensitive();
        Ok(with_expiry(req, self.expires_in_60_days))
    }

    /// Mints a token each time.
    fn effect(&self) -> Effect {
        Effect::Creates
    }

    fn finish(self, answer: TokenResponse) -> std::result::Result<SystemUserToken, Refusal> {
        Ok(SystemUserToken::new(
            answer.access_token,
            self.system_user,
            Some(self.app),
            self.scopes,
            self.expires_in_60_days,
        ))
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

impl Exchange for BusinessSystemUserToken {
    type Answer = TokenResponse;
    type Output = SystemUserToken;

    fn core(&self) -> &Core {
        &self.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    fn request(&self) -> Result<Request> {
        self.handler.id().validate()?;
        self.system_user.validate()?;
        let scope = scope_param(&self.scopes)?;
        let mut assets: Vec<u64> = Vec::with_capacity(self.assets.len());
        for raw in &self.assets {
            let digits = raw.trim().strip_prefix("act_").unwrap_or(raw.trim());
            let id = digits.parse::<u64>().map_err(|_| {
                Error::invalid_input(
                    "assets",
                    format!(
                        "{:?} is not a numeric asset id",
                        crate::error::clip(raw, 40)
                    ),
                )
            })?;
            assets.push(id);
        }
        let mut req = Request::post([self.handler.id().as_str(), "system_user_access_tokens"])
            .param("system_user_id", self.system_user.as_str())
            .param("scope", scope)
            .sensitive();
        if !assets.is_empty() {
            let json = serde_json::to_string(&assets)
                .map_err(|e| Error::invalid_input("assets", e.to_string()))?;
            req = req.param("asset", json);
        }
        if let Some(fetch_only) = self.fetch_only {
            req = req.param("fetch_only", fetch_only.to_string());
        }
        Ok(with_expiry(req, self.expires_in_60_days))
    }

    /// Mints a token (unless `fetch_only`, which the Graph API may still answer with a new
    /// one): never sent again once it may have reached the server.
    fn effect(&self) -> Effect {
        Effect::Creates
    }

    fn finish(self, answer: TokenResponse) -> std::result::Result<SystemUserToken, Refusal> {
        Ok(SystemUserToken::new(
            answer.access_token,
            self.system_user,
            None,
            self.scopes,
            self.expires_in_60_days,
        ))
    }
}

/// Adds `set_token_expires_in_60_days` when it was set: both token edges send it last.
fn with_expiry(req: Request, expires_in_60_days: Option<bool>) -> Request {
    match expires_in_60_days {
        Some(expires) => req.param("set_token_expires_in_60_days", expires.to_string()),
        None => req,
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

/// `debug_token`'s answer.
#[derive(Deserialize)]
pub(crate) struct TokenInfoEnvelope {
    data: TokenInfo,
}

impl Exchange for DebugToken {
    type Answer = TokenInfoEnvelope;
    type Output = TokenInfo;

    fn core(&self) -> &Core {
        &self.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    fn request(&self) -> Result<Request> {
        check_token_arg("input_token", &self.token)?;
        Ok(Request::get(["debug_token"]).secret_param("input_token", self.token.clone()))
    }

    fn effect(&self) -> Effect {
        Effect::Reads
    }

    /// The answer is about a token the server may quote back (in `error.message`, say).
    fn scrub() -> Option<crate::http::PostProcess<TokenInfoEnvelope>> {
        Some(|env, scrub| env.data.scrub(scrub))
    }

    fn finish(self, answer: TokenInfoEnvelope) -> std::result::Result<TokenInfo, Refusal> {
        Ok(answer.data)
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

/// The token exchange's answer.
#[derive(Deserialize)]
pub(crate) struct Refreshed {
    access_token: SecretString,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl Exchange for RefreshToken {
    type Answer = Refreshed;
    type Output = RefreshedToken;

    fn core(&self) -> &Core {
        &self.call.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.call.core
    }

    fn request(&self) -> Result<Request> {
        let secret = self
            .call
            .credentials("fb_exchange_token", "refreshing a token")?;
        Ok(Request::get(["oauth", "access_token"])
            .param("grant_type", "fb_exchange_token")
            .param("client_id", self.call.app.as_str())
            .param("set_token_expires_in_60_days", "true")
            .secret_param("client_secret", secret)
            .secret_param("fb_exchange_token", self.call.token.clone())
            .sensitive())
    }

    /// A GET, but it mints a token each time: re-sent after a lost answer, it would leave a
    /// valid token that nobody holds.
    fn effect(&self) -> Effect {
        Effect::Creates
    }

    fn finish(self, r: Refreshed) -> std::result::Result<RefreshedToken, Refusal> {
        Ok(RefreshedToken::new(
            r.access_token,
            r.token_type,
            r.expires_in,
        ))
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

impl Exchange for RevokeToken {
    type Answer = Ack;
    type Output = ();

    fn core(&self) -> &Core {
        &self.call.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.call.core
    }

    fn request(&self) -> Result<Request> {
        let secret = self.call.credentials("revoke_token", "revoking a token")?;
        Ok(Request::get(["oauth", "revoke"])
            .param("client_id", self.call.app.as_str())
            .secret_param("client_secret", secret)
            .secret_param("revoke_token", self.call.token.clone()))
    }

    /// Revoking a token twice leaves it revoked once.
    fn effect(&self) -> Effect {
        Effect::Sets
    }

    fn finish(self, answer: Ack) -> std::result::Result<(), Refusal> {
        exchange::acknowledged(answer)
    }
}

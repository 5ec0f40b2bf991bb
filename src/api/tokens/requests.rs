//! What each token builder sends and reads back: its [`Exchange`], the inputs checked as the
//! request is built.

use secrecy::SecretString;
use serde::Deserialize;

use super::{
    Acknowledged, BusinessSystemUserToken, DebugToken, GenerateToken, RefreshToken, RevokeToken,
    TokenEdge, check_token_arg, no_secret,
};
use crate::api::core::Core;
use crate::api::exchange::{self, Exchange, Refusal};
use crate::error::{Error, Result};
use crate::models::Ack;
use crate::models::permissions::scope_param;
use crate::models::token::{RefreshedToken, SystemUserToken, TokenInfo};
use crate::request::Request;
use crate::retry::Effect;

/// A minted token's answer.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    access_token: SecretString,
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

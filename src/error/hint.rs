//! Typed diagnoses of known failures, each with its remedy.

use std::fmt;

use super::ApiError;

/// A known failure, recognized from its Graph error code and subcode.
///
/// ```
/// use meta_business::ErrorHint;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let stale = client.with_token("EAAE-revoked-long-ago");
/// let err = stale.business(demo.business_id).get().send().await.unwrap_err();
/// assert_eq!(err.hint(), Some(ErrorHint::InvalidToken));
/// println!("{err}\nto fix: {}", ErrorHint::InvalidToken.remedy());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorHint {
    /// Code 415 / subcode 2859009: two-factor authentication is required (typically when
    /// generating an admin system user's token).
    TwoFactorRequired,
    /// Code 190 / subcode 463: the token has expired.
    TokenExpired,
    /// Code 190 / subcode 458: the app is not installed for the system user.
    AppNotInstalled,
    /// Code 190 otherwise, or 102: the token is invalid.
    InvalidToken,
    /// Code 100 (`GraphMethodException`) about `appsecret_proof` ("Invalid appsecret_proof",
    /// "…require an appsecret_proof argument", "…requires either app secret proof or an app
    /// token"): the proof is wrong, missing or (time-stamped) expired.
    BadSignature,
    /// Code 104, or 2500 ("An active access token must be used…"): no (active) access token
    /// reached the API.
    TokenRequired,
    /// `POST /{system_user}/access_tokens` refused the app: Meta keeps that edge only for apps
    /// that called it within the last 90 days.
    LegacyTokenEdgeClosed,
    /// Code 10, 200–299 or a code-100 "Missing Permission": the token lacks a permission or
    /// role.
    PermissionDenied,
    /// A rate limit was hit.
    RateLimited,
    /// Code 368, or Instagram's 4/2207051 "Action is blocked": Meta blocked the action for its
    /// policies. Not a rate limit: wait for the block to lift rather than retry.
    PolicyBlocked,
}

impl ErrorHint {
    /// What to do about it, in one line.
    pub fn remedy(self) -> &'static str {
        match self {
            ErrorHint::TwoFactorRequired => {
                "the business requires two-factor authentication: the admin generating this token must have 2FA enabled (or use an admin system user token)"
            }
            ErrorHint::TokenExpired => {
                "the token has expired: refresh it within its 60 days or generate a new one"
            }
            ErrorHint::AppNotInstalled => {
                "install the app for the system user first (POST /{system_user}/applications), then generate the token"
            }
            ErrorHint::InvalidToken => "the token is invalid or revoked: generate a new one",
            ErrorHint::BadSignature => {
                "appsecret_proof is missing, wrong or expired: configure the app secret of the app that issued the token (ClientBuilder::app_secret), or call with an app token where Meta accepts one; with the time-stamped proof, check the machine's clock"
            }
            ErrorHint::TokenRequired => {
                "no access token reached the API: configure one (ClientBuilder::access_token), and check that no proxy strips the Authorization header"
            }
            ErrorHint::LegacyTokenEdgeClosed => {
                "POST /{system_user}/access_tokens is open only to apps that called it within the last 90 days: mint through POST /{business}/system_user_access_tokens instead (GenerateToken::business, with ClientBuilder::app_id set to the app of the caller's token); that edge mints only for the caller's own app, so call it with a token of the app you need"
            }
            ErrorHint::PermissionDenied => {
                "the token lacks a permission or role: use an admin (system) user token with business_management, and check the system user's tasks on the asset"
            }
            ErrorHint::RateLimited => {
                "rate limited: wait before retrying and check the usage headers"
            }
            ErrorHint::PolicyBlocked => {
                "Meta temporarily blocked this action for its policies (spam or abuse checks): do not retry now, repeating it can prolong the block; wait for it to lift (Meta gives no duration) and review the action, the account's quality and Meta's Platform Terms before trying again"
            }
        }
    }
}

impl fmt::Display for ErrorHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.remedy())
    }
}

impl ApiError {
    /// A typed diagnosis of a known failure (the table in `src/error/classify.rs`).
    pub fn hint(&self) -> Option<ErrorHint> {
        let (_, hint) = super::classify::classify(self);
        hint.or_else(|| self.is_rate_limited().then_some(ErrorHint::RateLimited))
    }
}

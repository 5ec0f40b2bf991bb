//! Tokens the crate hands out, and what `debug_token` says about a token.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};

use super::permissions::Permission;
use crate::ids::{AppId, SystemUserId};
use crate::macros::string_enum;

/// A system-user access token, as generated. `Debug` and `Display` never show it; use
/// [`SystemUserToken::secret`] to use it and [`SystemUserToken::masked`] to show it.
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
/// println!("{}", token.masked());        // "EAAE…a1b2": safe to log
/// println!("{token:?}");                   // the token is redacted in Debug too
/// let for_your_vault: &str = token.secret().expose_secret(); // only where it is stored
/// assert!(!format!("{token:?}").contains(for_your_vault));
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct SystemUserToken {
    token: SecretString,
    /// The system user it acts as.
    pub system_user: SystemUserId,
    /// The app it was generated for.
    pub app: Option<AppId>,
    /// The permissions asked for.
    pub scopes: Vec<Permission>,
    /// Whether it was asked to expire after 60 days (`None`: not said, the API's default of
    /// a token that does not expire).
    pub expires_in_60_days: Option<bool>,
}

impl SystemUserToken {
    pub(crate) fn new(
        token: SecretString,
        system_user: SystemUserId,
        app: Option<AppId>,
        scopes: Vec<Permission>,
        expires_in_60_days: Option<bool>,
    ) -> Self {
        SystemUserToken {
            token,
            system_user,
            app,
            scopes,
            expires_in_60_days,
        }
    }
}

impl SystemUserToken {
    /// The token itself.
    pub fn secret(&self) -> &SecretString {
        &self.token
    }

    /// Consumes this value, returning the token.
    pub fn into_secret(self) -> SecretString {
        self.token
    }

    /// A form safe to print: the first and last four characters, e.g. `EAAB…9xYz`.
    pub fn masked(&self) -> String {
        crate::auth::mask(&self.token)
    }
}

impl RefreshedToken {
    /// The token itself.
    pub fn secret(&self) -> &SecretString {
        &self.token
    }

    /// Consumes this value, returning the token.
    pub fn into_secret(self) -> SecretString {
        self.token
    }

    /// A form safe to print: the first and last four characters, e.g. `EAAB…9xYz`.
    pub fn masked(&self) -> String {
        crate::auth::mask(&self.token)
    }
}

impl fmt::Debug for SystemUserToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemUserToken")
            .field("token", &"[redacted]")
            .field("system_user", &self.system_user)
            .field("app", &self.app)
            .field("scopes", &self.scopes)
            .field("expires_in_60_days", &self.expires_in_60_days)
            .finish()
    }
}

impl fmt::Display for SystemUserToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[redacted token of system user {}]", self.system_user)
    }
}

/// A token exchanged for a fresh 60-day one.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// # client.system_user(&su.id).install_app(demo.app_id).send().await?;
/// # let token = client.system_user(&su.id).generate_token(demo.app_id).business(demo.business_id)
/// #     .scopes([meta_business::Permission::AdsRead]).expires_in_60_days(true).send().await?;
/// let fresh = client.refresh_token(demo.app_id, token.secret().clone()).send().await?;
/// let days = fresh.expires_in().map(|d| d.as_secs() / 86_400);
/// println!("{} valid for {days:?} days", fresh.masked());
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct RefreshedToken {
    token: SecretString,
    /// `bearer`.
    pub token_type: Option<String>,
    /// Seconds until it expires.
    pub expires_in: Option<u64>,
}

impl RefreshedToken {
    pub(crate) fn new(
        token: SecretString,
        token_type: Option<String>,
        expires_in: Option<u64>,
    ) -> Self {
        RefreshedToken {
            token,
            token_type,
            expires_in,
        }
    }

    /// How long it stays valid, when the server said.
    pub fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
}

impl fmt::Debug for RefreshedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshedToken")
            .field("token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl fmt::Display for RefreshedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted refreshed token]")
    }
}

string_enum! {
    /// The kind of token `debug_token` reports.
    pub enum TokenType {
        SystemUser => "SYSTEM_USER",
        User => "USER",
        Page => "PAGE",
        App => "APP",
    }
    /// A type this crate does not know, kept as sent.
    escape Unknown;
}

/// What `debug_token` says about a token. The token itself is never part of it.
///
/// ```
/// use meta_business::Permission;
/// use meta_business::tokens::Expiry;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// # client.system_user(&su.id).install_app(demo.app_id).send().await?;
/// # let token = client.system_user(&su.id).generate_token(demo.app_id).business(demo.business_id)
/// #     .scopes([meta_business::Permission::AdsRead]).expires_in_60_days(true).send().await?;
/// let info = client.as_app(demo.app_id)?.debug_token(token.secret().clone()).send().await?;
/// assert!(info.is_system_user());
/// assert_eq!(info.scopes, [Permission::AdsRead]);
/// assert!(matches!(info.expiry(), Some(Expiry::At(_))));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenInfo {
    /// The app the token belongs to.
    pub app_id: Option<AppId>,
    /// The app's name.
    pub application: Option<String>,
    /// SYSTEM_USER, USER, PAGE, APP…
    #[serde(rename = "type", default)]
    pub token_type: Option<TokenType>,
    /// Whether the token is valid now.
    #[serde(default, deserialize_with = "super::lenient_opt_bool")]
    pub is_valid: Option<bool>,
    /// Unix time it expires; `0` means it never expires (see [`TokenInfo::expiry`]).
    #[serde(default, deserialize_with = "unix_time")]
    pub expires_at: Option<u64>,
    /// Unix time data access expires; `0` means never.
    #[serde(default, deserialize_with = "unix_time")]
    pub data_access_expires_at: Option<u64>,
    /// Unix time it was issued.
    #[serde(default, deserialize_with = "unix_time")]
    pub issued_at: Option<u64>,
    /// Its permissions.
    #[serde(default)]
    pub scopes: Vec<Permission>,
    /// Permissions restricted to some targets.
    #[serde(default)]
    pub granular_scopes: Vec<GranularScope>,
    /// The user (or system user) it acts as.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub user_id: Option<String>,
    /// The profile it acts as (Page tokens).
    #[serde(default, deserialize_with = "opt_id_string")]
    pub profile_id: Option<String>,
    /// Why it is invalid, when it is.
    pub error: Option<TokenError>,
    /// Login metadata, as sent.
    pub metadata: Option<serde_json::Value>,
}

/// When a token expires.
///
/// ```
/// use std::time::SystemTime;
/// use meta_business::tokens::{Expiry, TokenInfo};
/// fn describe(info: &TokenInfo) -> String {
///     match info.expiry() {
///         Some(Expiry::Never) => "never expires: revoke it when offboarding".to_owned(),
///         Some(Expiry::At(at)) => match at.duration_since(SystemTime::now()) {
///             Ok(left) => format!("expires in {} days", left.as_secs() / 86_400),
///             Err(_) => "expired".to_owned(),
///         },
///         None => "expiry unknown".to_owned(),
///     }
/// }
/// # let _ = describe;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// It does not expire (`expires_at: 0`).
    Never,
    /// It expires at this time.
    At(SystemTime),
}

impl TokenInfo {
    /// When the token expires; `None` when the server did not say.
    pub fn expiry(&self) -> Option<Expiry> {
        self.expires_at.map(|at| match at {
            0 => Expiry::Never,
            secs => Expiry::At(UNIX_EPOCH + Duration::from_secs(secs)),
        })
    }

    /// Whether the token never expires.
    pub fn never_expires(&self) -> bool {
        self.expiry() == Some(Expiry::Never)
    }

    /// Whether the token expires within `window` from now (or has expired). A token that never
    /// expires, or whose expiry is unknown, does not.
    pub fn expires_within(&self, window: Duration) -> bool {
        self.expires_within_at(window, SystemTime::now())
    }

    /// [`TokenInfo::expires_within`] as of `now`.
    pub fn expires_within_at(&self, window: Duration, now: SystemTime) -> bool {
        match self.expiry() {
            Some(Expiry::At(at)) => at <= now + window,
            _ => false,
        }
    }

    /// Whether it is a system-user token.
    pub fn is_system_user(&self) -> bool {
        self.token_type == Some(TokenType::SystemUser)
    }

    /// Whether the token has this permission.
    pub fn has_scope(&self, scope: &Permission) -> bool {
        self.scopes.contains(scope)
    }
}

/// A permission restricted to some targets (Pages, ad accounts…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GranularScope {
    /// The permission.
    pub scope: Permission,
    /// The ids it applies to; empty when it applies to all. Sent as numbers or strings.
    #[serde(default, deserialize_with = "id_list")]
    pub target_ids: Vec<String>,
}

impl TokenInfo {
    /// Removes the request's secrets from the strings the server sent.
    pub(crate) fn scrub(&mut self, scrub: &crate::redact::Scrubber<'_>) {
        scrub.opt(&mut self.application);
        scrub.opt(&mut self.user_id);
        scrub.opt(&mut self.profile_id);
        if let Some(err) = self.error.as_mut() {
            scrub.opt(&mut err.message);
        }
        if let Some(meta) = self.metadata.as_mut() {
            scrub.value(meta);
        }
    }
}

/// Why `debug_token` considers a token invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenError {
    /// Error code.
    pub code: Option<i64>,
    /// Message.
    pub message: Option<String>,
    /// Subcode (463 expired, 458 app not installed, …).
    pub subcode: Option<i64>,
}

fn unix_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => {
            n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64))
        }
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn opt_id_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

fn id_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<serde_json::Value>>::deserialize(d)?
        .unwrap_or_default()
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_user_token_info() {
        let info: TokenInfo = serde_json::from_str(
            r#"{"app_id":"1234","type":"SYSTEM_USER","application":"My App","data_access_expires_at":0,
                "expires_at":0,"is_valid":true,"issued_at":1700000000,
                "scopes":["whatsapp_business_management","business_management","brand_new_scope"],
                "granular_scopes":[{"scope":"whatsapp_business_management","target_ids":[123,"456"]},
                                   {"scope":"business_management"}],
                "user_id":"100000008899900"}"#,
        )
        .unwrap();
        assert!(info.is_system_user() && info.never_expires() && info.is_valid == Some(true));
        assert!(!info.expires_within(Duration::from_secs(10 * 365 * 86400)));
        assert_eq!(info.granular_scopes[0].target_ids, ["123", "456"]);
        assert!(info.granular_scopes[1].target_ids.is_empty());
        assert_eq!(info.scopes[2], Permission::Custom("brand_new_scope".into()));
        assert_eq!(info.user_id.as_deref(), Some("100000008899900"));
    }

    #[test]
    fn expiry_window() {
        let info: TokenInfo =
            serde_json::from_str(r#"{"type":"USER","expires_at":1000000}"#).unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(1000000 - 3600);
        assert!(info.expires_within_at(Duration::from_secs(7200), now));
        assert!(!info.expires_within_at(Duration::from_secs(1800), now));
        let unknown: TokenInfo = serde_json::from_str(r#"{"type":"PAGE"}"#).unwrap();
        assert_eq!(unknown.expiry(), None);
        assert!(!unknown.expires_within(Duration::from_secs(1)));
    }
}

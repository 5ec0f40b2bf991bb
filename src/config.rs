//! Client configuration values: API version, access tier and its system-user quota, the form
//! of `appsecret_proof`, timeouts.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A Graph API version such as `v26.0`.
///
/// ```
/// use meta_business::ApiVersion;
/// let v: ApiVersion = "v25.0".parse()?;
/// assert_eq!(v.as_str(), "v25.0");
/// assert!("25.0".parse::<ApiVersion>().is_err());
/// # Ok::<(), meta_business::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiVersion(String);

impl ApiVersion {
    /// The version this crate is written and tested against (bumped deliberately, with a
    /// CHANGELOG entry). v26.0 is current since 2026-07-29.
    pub const DEFAULT: &'static str = "v26.0";

    /// Parses `vN.N` (the form Meta's SDKs validate: `v[0-9]+\.[0-9]+`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming `api_version`.
    pub fn new(raw: &str) -> Result<Self, Error> {
        let valid = raw
            .strip_prefix('v')
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(major, minor)| {
                !major.is_empty()
                    && !minor.is_empty()
                    && major.len() <= 4
                    && minor.len() <= 4
                    && major.bytes().all(|b| b.is_ascii_digit())
                    && minor.bytes().all(|b| b.is_ascii_digit())
            });
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Error::invalid_input(
                "api_version",
                format!(
                    "must look like `v26.0`, got {:?}",
                    crate::error::clip(raw, 20)
                ),
            ))
        }
    }

    /// The version as it appears in paths.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ApiVersion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

/// The app's Marketing API access tier, which caps how many system users a business may have.
///
/// Meta renamed the tiers on 2026-05-04: *Standard* became **Limited** and *Advanced* became
/// **Full**. The old names remain as aliases ([`AccessTier::Standard`], [`AccessTier::Advanced`])
/// and parse from strings, case-insensitively.
///
/// ```
/// use meta_business::AccessTier;
/// assert_eq!("Advanced".parse::<AccessTier>()?, AccessTier::Full);
/// assert_eq!(AccessTier::Standard, AccessTier::Limited);
/// assert_eq!(AccessTier::Full.quota().regular, 10);
/// # Ok::<(), meta_business::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessTier {
    /// Limited access (formerly Standard): 1 system user and 1 admin system user. New apps
    /// start here.
    #[serde(alias = "standard")]
    Limited,
    /// Full access (formerly Advanced): 10 system users and 1 admin system user.
    #[serde(alias = "advanced")]
    Full,
}

#[allow(non_upper_case_globals)]
impl AccessTier {
    /// The tier's name before 2026-05-04; the same as [`AccessTier::Limited`].
    pub const Standard: AccessTier = AccessTier::Limited;
    /// The tier's name before 2026-05-04; the same as [`AccessTier::Full`].
    pub const Advanced: AccessTier = AccessTier::Full;

    /// The system-user quota Meta documents for this tier.
    pub const fn quota(self) -> SystemUserQuota {
        match self {
            AccessTier::Limited => SystemUserQuota {
                regular: 1,
                admin: 1,
            },
            AccessTier::Full => SystemUserQuota {
                regular: 10,
                admin: 1,
            },
        }
    }

    /// The current name, lowercase: `limited` or `full`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AccessTier::Limited => "limited",
            AccessTier::Full => "full",
        }
    }
}

impl fmt::Display for AccessTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccessTier {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let norm = norm.strip_suffix("_access").unwrap_or(&norm);
        match norm {
            "limited" | "standard" => Ok(AccessTier::Limited),
            "full" | "advanced" => Ok(AccessTier::Full),
            _ => Err(Error::invalid_input(
                "access_tier",
                format!(
                    "expected `limited` (or `standard`) or `full` (or `advanced`), got {:?}",
                    crate::error::clip(s, 30)
                ),
            )),
        }
    }
}

/// How many system users of each kind a business may have.
///
/// Set a custom quota with [`ClientBuilder::system_user_quota`](crate::ClientBuilder::system_user_quota)
/// when Meta changes the numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SystemUserQuota {
    /// Regular (employee) system users allowed.
    pub regular: u32,
    /// Admin system users allowed.
    pub admin: u32,
}

impl SystemUserQuota {
    /// A quota of `regular` system users and `admin` admin system users.
    pub const fn new(regular: u32, admin: u32) -> Self {
        Self { regular, admin }
    }

    /// The limit for one kind.
    pub const fn limit(self, kind: SystemUserKind) -> u32 {
        match kind {
            SystemUserKind::Admin => self.admin,
            SystemUserKind::Regular => self.regular,
        }
    }
}

/// The two kinds of system user the quota counts separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SystemUserKind {
    /// An admin system user (role `ADMIN`).
    Admin,
    /// A regular system user (any other role, `EMPLOYEE` by default).
    Regular,
}

impl fmt::Display for SystemUserKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            SystemUserKind::Admin => "admin",
            SystemUserKind::Regular => "regular",
        })
    }
}

/// Which form of `appsecret_proof` the client sends when an app secret is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProofMode {
    /// `appsecret_proof = hex(HMAC-SHA256(app_secret, access_token))`, as the official SDKs
    /// send it.
    #[default]
    Classic,
    /// `appsecret_proof = hex(HMAC-SHA256(app_secret, access_token + "|" + time))` with
    /// `appsecret_time = time` (unix seconds), computed afresh for every request since Meta
    /// considers such proofs expired after five minutes.
    TimeStamped,
}

/// Default total timeout for one HTTP request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default timeout for establishing a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on one response body: a larger one fails with
/// [`Error::ResponseTooLarge`](crate::Error::ResponseTooLarge) and the rest is not read.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// Default cap on the pages one list call reads (a million items at 25 per page fit).
pub const DEFAULT_MAX_PAGES: u32 = 100_000;
/// Default run of empty pages that still offer a next cursor after which a list stops with
/// [`Error::Pagination`](crate::Error::Pagination).
pub const DEFAULT_MAX_EMPTY_PAGES: u32 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in ["v26.0", "v1.0", "v25.10"] {
            assert!(ApiVersion::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "26.0", "v26", "v26.", "v.0", "V26.0", "v26.0/", "v26.0?x", "", "vx.y",
        ] {
            assert!(ApiVersion::new(bad).is_err(), "{bad}");
        }
        assert_eq!(ApiVersion::default().as_str(), "v26.0");
    }

    #[test]
    fn tiers_parse_case_insensitively_with_aliases() {
        for (raw, tier) in [
            ("limited", AccessTier::Limited),
            ("STANDARD", AccessTier::Limited),
            ("Standard_Access", AccessTier::Limited),
            ("full", AccessTier::Full),
            ("Advanced", AccessTier::Full),
            ("advanced access", AccessTier::Full),
            (" FULL ", AccessTier::Full),
        ] {
            assert_eq!(raw.parse::<AccessTier>().unwrap(), tier, "{raw}");
        }
        assert!("premium".parse::<AccessTier>().is_err());
        assert_eq!(AccessTier::Advanced, AccessTier::Full);
        assert!(matches!(AccessTier::Full, AccessTier::Advanced));
        assert_eq!(AccessTier::Limited.quota(), SystemUserQuota::new(1, 1));
        assert_eq!(AccessTier::Full.quota(), SystemUserQuota::new(10, 1));
        let t: AccessTier = serde_json::from_str(r#""advanced""#).unwrap();
        assert_eq!(t, AccessTier::Full);
    }
}

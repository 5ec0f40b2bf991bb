//! Counting a business's system users against the quota, before a create is sent.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::client::QuotaPolicy;
use crate::config::{AccessTier, SystemUserKind, SystemUserQuota};
use crate::error::{Error, Result};
use crate::ids::BusinessId;
use crate::models::system_user::SystemUser;

/// How many system users a business has, against the quota the client enforces.
///
/// ```
/// use meta_business::SystemUserKind;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let usage = client.business(demo.business_id).system_user_quota().send().await?;
/// if !usage.can_create(SystemUserKind::Regular) {
///     eprintln!("no room: {usage}");
/// }
/// assert_eq!(usage.remaining(SystemUserKind::Regular), Some(1));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QuotaUsage {
    /// The business.
    pub business: BusinessId,
    /// The access tier the quota comes from, when it comes from one.
    pub tier: Option<AccessTier>,
    /// The quota enforced, `None` when the check is disabled.
    pub quota: Option<SystemUserQuota>,
    /// Admin system users that exist.
    pub admins: u32,
    /// Regular system users that exist.
    pub regular: u32,
}

impl QuotaUsage {
    pub(crate) fn count(business: BusinessId, policy: QuotaPolicy, users: &[SystemUser]) -> Self {
        let admins = users
            .iter()
            .filter(|u| u.kind() == SystemUserKind::Admin)
            .count();
        let regular = users.len() - admins;
        QuotaUsage {
            business,
            tier: policy.tier(),
            quota: policy.quota(),
            admins: u32::try_from(admins).unwrap_or(u32::MAX),
            regular: u32::try_from(regular).unwrap_or(u32::MAX),
        }
    }

    /// How many of this kind exist.
    pub fn existing(&self, kind: SystemUserKind) -> u32 {
        match kind {
            SystemUserKind::Admin => self.admins,
            SystemUserKind::Regular => self.regular,
        }
    }

    /// The limit for this kind, `None` when unchecked.
    pub fn limit(&self, kind: SystemUserKind) -> Option<u32> {
        self.quota.map(|q| q.limit(kind))
    }

    /// How many more of this kind fit, `None` when unchecked.
    pub fn remaining(&self, kind: SystemUserKind) -> Option<u32> {
        self.limit(kind)
            .map(|limit| limit.saturating_sub(self.existing(kind)))
    }

    /// Whether one more of this kind fits.
    pub fn can_create(&self, kind: SystemUserKind) -> bool {
        self.remaining(kind).is_none_or(|left| left > 0)
    }

    /// `Ok` when one more of this kind fits, else [`Error::QuotaExceeded`].
    pub(crate) fn check(&self, kind: SystemUserKind) -> Result<()> {
        match self.limit(kind) {
            Some(limit) if self.existing(kind) >= limit => Err(Error::QuotaExceeded {
                business: self.business.clone(),
                tier: self.tier,
                role: kind,
                limit,
                existing: self.existing(kind),
            }),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for QuotaUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "business {}: ", self.business)?;
        match self.quota {
            Some(q) => write!(
                f,
                "{}/{} admin, {}/{} regular system users",
                self.admins, q.admin, self.regular, q.regular
            )?,
            None => write!(
                f,
                "{} admin, {} regular system users (quota not checked)",
                self.admins, self.regular
            )?,
        }
        match self.tier {
            Some(tier) => write!(f, " ({tier} access tier)"),
            None if self.quota.is_some() => f.write_str(" (custom quota)"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::system_user::SystemUserRole;

    fn users(admins: usize, regular: usize) -> Vec<SystemUser> {
        let mut out = Vec::new();
        for i in 0..admins {
            out.push(SystemUser::created(
                format!("{i}").into(),
                "a".into(),
                Some(SystemUserRole::Admin),
            ));
        }
        for i in 0..regular {
            out.push(SystemUser::created(
                format!("9{i}").into(),
                "r".into(),
                Some(SystemUserRole::Employee),
            ));
        }
        out
    }

    #[test]
    fn limited_tier() {
        let policy = QuotaPolicy::Tier(AccessTier::Limited);
        let usage = QuotaUsage::count("1".into(), policy, &users(0, 1));
        assert!(usage.check(SystemUserKind::Admin).is_ok());
        let err = usage.check(SystemUserKind::Regular).unwrap_err();
        assert!(matches!(
            err,
            Error::QuotaExceeded {
                limit: 1,
                existing: 1,
                role: SystemUserKind::Regular,
                tier: Some(AccessTier::Limited),
                ..
            }
        ));
        assert_eq!(
            usage.to_string(),
            "business 1: 0/1 admin, 1/1 regular system users (limited access tier)"
        );
    }

    #[test]
    fn full_tier_boundaries() {
        let policy = QuotaPolicy::Tier(AccessTier::Full);
        assert!(
            QuotaUsage::count("1".into(), policy, &users(1, 9))
                .check(SystemUserKind::Regular)
                .is_ok()
        );
        assert!(
            QuotaUsage::count("1".into(), policy, &users(1, 10))
                .check(SystemUserKind::Regular)
                .is_err()
        );
        assert!(
            QuotaUsage::count("1".into(), policy, &users(1, 0))
                .check(SystemUserKind::Admin)
                .is_err()
        );
        assert_eq!(
            QuotaUsage::count("1".into(), policy, &users(0, 4)).remaining(SystemUserKind::Regular),
            Some(6)
        );
    }

    #[test]
    fn custom_and_disabled() {
        let custom = QuotaUsage::count(
            "1".into(),
            QuotaPolicy::Custom(SystemUserQuota::new(3, 0)),
            &users(0, 2),
        );
        assert!(custom.check(SystemUserKind::Regular).is_ok());
        assert!(custom.check(SystemUserKind::Admin).is_err());
        let off = QuotaUsage::count("1".into(), QuotaPolicy::Disabled, &users(5, 50));
        assert!(
            off.check(SystemUserKind::Admin).is_ok() && off.can_create(SystemUserKind::Regular)
        );
    }
}

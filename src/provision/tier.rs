//! The quota a plan is held to: the desired state's tier only where the client's configured tier and
//! the business's own count of system users do not contradict it; and whether the plan fits.

use super::change::Change;
use super::error::{ProvisionError, Result};
use super::spec::Spec;
use crate::client::{Client, QuotaPolicy};
use crate::config::{SystemUserKind, SystemUserQuota};
use crate::ids::BusinessId;
use crate::models::system_user::{SystemUser, SystemUserRole};
use crate::quota::QuotaUsage;

/// The quota the plan is held to. The business's real tier, as far as it is known (the
/// client's configured tier, the tier the business's usage header reports, its own count of
/// system users), wins over the file's: a file that says more is refused.
pub(super) fn effective_policy(
    client: &Client,
    spec: &Spec,
    users: &[SystemUser],
) -> Result<QuotaPolicy> {
    let shown = client
        .last_usage()
        .and_then(|usage| usage.business_tier(spec.business.as_str()));
    let Some(tier) = spec.access_tier else {
        return Ok(match shown {
            Some(real) if !client.quota_configured() => QuotaPolicy::Tier(real),
            _ => client.quota_policy(),
        });
    };
    let wanted = tier.quota();
    let refuse = |message: String| ProvisionError::InvalidSpec {
        location: "access_tier".to_owned(),
        message,
    };
    let exceeds =
        |real: SystemUserQuota| wanted.admin > real.admin || wanted.regular > real.regular;
    if client.quota_configured()
        && let Some(real) = client.quota_policy().quota()
        && exceeds(real)
    {
        return Err(refuse(format!(
            "the desired state says the {tier} tier ({} admin + {} regular system users) but the client is configured for {} admin + {} regular; the business's real tier wins: correct access_tier, or the client's tier if it is the one that is wrong",
            wanted.admin, wanted.regular, real.admin, real.regular
        )));
    }
    if let Some(real) = shown
        && exceeds(real.quota())
    {
        return Err(refuse(format!(
            "the desired state says the {tier} tier but business {}'s usage header reports the {real} tier; the business's real tier wins: correct access_tier",
            spec.business
        )));
    }
    let now = QuotaUsage::count(spec.business.clone(), QuotaPolicy::Tier(tier), users);
    if now.admins > wanted.admin || now.regular > wanted.regular {
        return Err(refuse(format!(
            "business {} already has {} admin and {} regular system users, more than the {tier} tier allows ({} + {}): the desired state's tier is not the business's; correct access_tier",
            spec.business, now.admins, now.regular, wanted.admin, wanted.regular
        )));
    }
    Ok(QuotaPolicy::Tier(tier))
}

/// The admin and regular counts after the plan, or the error naming who does not fit.
pub(super) fn fit_quota(
    business: &BusinessId,
    policy: QuotaPolicy,
    quota: &QuotaUsage,
    changes: &[Change],
) -> Result<(u32, u32)> {
    let mut after = (quota.admins, quota.regular);
    let mut over = Vec::new();
    for change in changes {
        if let Change::CreateSystemUser { name, role } = change {
            let kind = SystemUserRole::kind_of(Some(role));
            let slot = if kind == SystemUserKind::Admin {
                &mut after.0
            } else {
                &mut after.1
            };
            *slot += 1;
            if quota.limit(kind).is_some_and(|limit| *slot > limit) {
                over.push(name.clone());
            }
        }
    }
    if over.is_empty() {
        return Ok(after);
    }
    let q = quota
        .quota
        .unwrap_or(crate::config::SystemUserQuota::new(0, 0));
    Err(ProvisionError::PlanExceedsQuota {
        business: business.clone(),
        tier: policy.tier(),
        system_users: over,
        detail: format!(
            "{} admin and {} regular system users after the plan, limits {} and {}{}",
            after.0,
            after.1,
            q.admin,
            q.regular,
            policy
                .tier()
                .map(|t| format!(" for the {t} access tier"))
                .unwrap_or_default()
        ),
    })
}

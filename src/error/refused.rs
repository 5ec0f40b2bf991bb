//! The refused phase: what the crate checks, and refuses, before anything is sent.

use std::borrow::Cow;

use super::Error;
use crate::config::AccessTier;

impl Error {
    pub(crate) fn invalid_input(
        field: impl Into<Cow<'static, str>>,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error naming another field, for a check reused on several inputs.
    pub(crate) fn relabel(self, field: &'static str) -> Self {
        match self {
            Error::InvalidInput { reason, .. } => Error::invalid_input(field, reason),
            other => other,
        }
    }
}

/// What to do when a system user does not fit the quota: a create's refusal and a plan's.
pub(crate) fn quota_remedy(tier: Option<AccessTier>) -> &'static str {
    match tier {
        Some(AccessTier::Limited) => {
            "Reuse an existing system user (get_or_create), offboard an unused one, or reach the Full access tier (10 + 1)"
        }
        _ => "Reuse an existing system user (get_or_create) or offboard an unused one",
    }
}

//! The provisioning layer's errors: what is wrong with a desired state or a plan, above the
//! client's own [`Error`] (which it wraps for the calls a workflow makes).

use crate::error::Error;
use crate::ids::BusinessId;

/// What can go wrong in provisioning: the desired state, the plan, or a call it made.
///
/// ```
/// use meta_business::provision::{ProvisionError, Spec};
/// let err = Spec::from_toml_str("business = \"1\"\n[[system_users]]\nname = \"\"\n").unwrap_err();
/// match &err {
///     ProvisionError::InvalidSpec { location, .. } => assert_eq!(location, "system_users[0].name"),
///     other => panic!("{other}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// A desired state is invalid; `location` is the key path (`system_users[0].assets[1]`)
    /// and, for syntax errors, the file, line and column. Nothing was sent.
    #[error("invalid desired state at {location}: {message}")]
    InvalidSpec {
        /// Where: a key path, a line and column, or both.
        location: String,
        /// What is wrong.
        message: String,
    },

    /// A desired-state file cannot be read (missing, unreadable, not UTF-8). Nothing was sent.
    #[error("cannot read the desired-state file {path}: {message}")]
    SpecFile {
        /// The file, as given.
        path: String,
        /// Why.
        message: String,
    },

    /// A saved plan cannot be read back ([`Plan::from_json_str`](super::Plan::from_json_str)).
    #[error("not a saved plan: {message}")]
    InvalidPlan {
        /// What is wrong, and where.
        message: String,
    },

    /// A saved plan was refused: the live state it was computed from changed since. Nothing
    /// was written.
    #[error(transparent)]
    StalePlan(super::StalePlan),

    /// A plan needs more system users than the quota allows; nothing was written.
    #[error(
        "the plan does not fit the system-user quota of business {business}: {} would exceed it ({detail}); nothing was written. {}",
        system_users.join(", "),
        crate::error::quota_remedy(*tier)
    )]
    PlanExceedsQuota {
        /// The business.
        business: BusinessId,
        /// The access tier the plan was held to, or `None` for a custom quota.
        tier: Option<crate::config::AccessTier>,
        /// The system users (by name) that do not fit.
        system_users: Vec<String>,
        /// Limits and counts, in words.
        detail: String,
    },

    /// Applying a plan stopped at a failed change; the report inside says what was done.
    #[error(transparent)]
    Incomplete(super::IncompleteApply),

    /// Offboarding stopped at a failed step; the report inside says what was done.
    #[error(transparent)]
    OffboardIncomplete(#[from] super::IncompleteOffboard),

    /// A call the workflow made failed, or an input it passed to the client was refused.
    #[error(transparent)]
    Client(#[from] Error),
}

impl From<super::IncompleteApply> for ProvisionError {
    /// A refused stale plan is [`ProvisionError::StalePlan`]; any other stop is
    /// [`ProvisionError::Incomplete`].
    fn from(err: super::IncompleteApply) -> Self {
        match err.0.stale.clone() {
            Some(stale) => ProvisionError::StalePlan(stale),
            None => ProvisionError::Incomplete(err),
        }
    }
}

impl From<crate::store::StoreError> for ProvisionError {
    fn from(err: crate::store::StoreError) -> Self {
        ProvisionError::Client(Error::Store(err))
    }
}

impl ProvisionError {
    /// The client error underneath, when a call failed.
    pub fn client_error(&self) -> Option<&Error> {
        match self {
            ProvisionError::Client(err) => Some(err),
            _ => None,
        }
    }
}

/// A provisioning result.
pub type Result<T> = std::result::Result<T, ProvisionError>;

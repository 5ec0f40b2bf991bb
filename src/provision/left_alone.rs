//! What a plan leaves alone, and says so: system users outside the desired state, apps and
//! grants it does not list, stored tokens it does not ask for, the business's partners.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::partners::PartnerRelation;
use crate::ids::{AppId, BusinessId, SystemUserId};
use crate::kinds::AssetRef;
use crate::store::TokenKey;

/// Something live that the plan does not change, with why. With `prune` off, everything the
/// desired state does not list is here; with it on, only what the Graph API cannot remove and
/// what lies outside the desired state's system users.
///
/// ```
/// use meta_business::provision::NotManaged;
/// fn strays(left: &[NotManaged]) -> usize {
///     left.iter().filter(|n| matches!(n, NotManaged::SystemUser { .. })).count()
/// }
/// # let _ = strays;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotManaged {
    /// A system user the desired state does not name.
    SystemUser {
        /// Its id.
        id: SystemUserId,
        /// Its name.
        name: String,
        /// What it holds, asset by asset.
        grants: Vec<(AssetRef, Vec<String>)>,
        /// Why it is left alone.
        why: String,
    },
    /// An app installed for a managed system user that the desired state does not list.
    App {
        /// The system user, by its name in the desired state.
        system_user: String,
        /// The app.
        app: AppId,
        /// Why it is left alone.
        why: String,
    },
    /// A grant of a managed system user that the desired state does not list.
    Grant {
        /// The system user, by its name in the desired state.
        system_user: String,
        /// The asset.
        asset: AssetRef,
        /// The tasks it has.
        tasks: Vec<String>,
        /// Why it is left alone.
        why: String,
    },
    /// A stored token the desired state does not ask for.
    Token {
        /// The system user, by its name in the desired state.
        system_user: String,
        /// Its key in the store.
        key: TokenKey,
        /// Why it is left alone.
        why: String,
    },
    /// A partner (agency) or client business of the business: the desired state does not
    /// manage partners.
    Partner {
        /// Its business id.
        id: BusinessId,
        /// Its name.
        name: String,
        /// Partner of the business, or client of it.
        relation: PartnerRelation,
        /// Why it is left alone.
        why: String,
    },
}

fn grants(list: &[(AssetRef, Vec<String>)]) -> String {
    if list.is_empty() {
        return "no assets".to_owned();
    }
    list.iter()
        .map(|(a, tasks)| format!("{} {} ({})", a.kind_name(), a.id(), tasks.join(",")))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for NotManaged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotManaged::SystemUser {
                id,
                name,
                grants: held,
                why,
            } => write!(
                f,
                "= system user {name:?} ({id}), holding {}: {why}",
                grants(held)
            ),
            NotManaged::App {
                system_user,
                app,
                why,
            } => write!(f, "= app {app} installed for {system_user:?}: {why}"),
            NotManaged::Grant {
                system_user,
                asset,
                tasks,
                why,
            } => write!(
                f,
                "= {system_user:?} on {} {} ({}): {why}",
                asset.kind_name(),
                asset.id(),
                tasks.join(",")
            ),
            NotManaged::Token {
                system_user,
                key,
                why,
            } => write!(
                f,
                "= stored token of {system_user:?} for app {}: {why}",
                key.app
            ),
            NotManaged::Partner {
                id,
                name,
                relation,
                why,
            } => write!(f, "= {relation} business {name:?} ({id}): {why}"),
        }
    }
}

/// Why something not listed is kept, given `prune`.
pub(super) fn unlisted(prune: bool) -> String {
    if prune {
        "not in the desired state".to_owned()
    } else {
        "not in the desired state (prune is off: it is kept)".to_owned()
    }
}

//! One change of a plan, and how it reads.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{AppId, SystemUserId};
use crate::kinds::AssetRef;
use crate::models::permissions::Permission;
use crate::models::system_user::SystemUserRole;
use crate::store::TokenKey;

/// One change a plan makes. System users are named as in the desired-state file.
///
/// ```
/// use meta_business::provision::{self, Change, PlanOptions};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::provision::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # use meta_business::provision::{Spec, SystemUserBuilder};
/// # use meta_business::{AdAccountTask, Permission};
/// # let spec = Spec::builder(demo.business_id).system_user(
/// #     SystemUserBuilder::new("ads-reporting-server").app(demo.app_id)
/// #         .ad_account(demo.ad_accounts[0], [AdAccountTask::Analyze])
/// #         .token(demo.app_id, [Permission::AdsRead]),
/// # ).build()?;
/// let options = PlanOptions::default().store(std::sync::Arc::new(meta_business::store::MemoryStore::new()));
/// let plan = provision::plan(&client, &spec, &options).await?;
/// assert!(matches!(plan.changes[0], Change::CreateSystemUser { .. }));
/// assert_eq!(plan.changes[0].system_user(), "ads-reporting-server");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// Create a system user.
    CreateSystemUser {
        /// Its name.
        name: String,
        /// Its role.
        role: SystemUserRole,
    },
    /// Give a managed system user its name in the desired state back (it was renamed by hand,
    /// or differs in case or spaces).
    RenameSystemUser {
        /// The system user, by its name in the desired state.
        system_user: String,
        /// Its id.
        id: SystemUserId,
        /// Its name now.
        from: String,
    },
    /// Install an app for a system user.
    InstallApp {
        /// The system user.
        system_user: String,
        /// The app.
        app: AppId,
    },
    /// Give a system user tasks on an asset it has no access to.
    Assign {
        /// The system user.
        system_user: String,
        /// The asset.
        asset: AssetRef,
        /// The tasks.
        tasks: Vec<String>,
    },
    /// Replace a system user's tasks on an asset.
    ChangeTasks {
        /// The system user.
        system_user: String,
        /// The asset.
        asset: AssetRef,
        /// The tasks it has.
        from: Vec<String>,
        /// The tasks it will have.
        to: Vec<String>,
    },
    /// Remove a system user from an asset not in the file (with `prune`).
    Unassign {
        /// The system user.
        system_user: String,
        /// The asset.
        asset: AssetRef,
        /// The tasks it had.
        tasks: Vec<String>,
    },
    /// Invalidate every token of a system user (`DELETE /{id}/access_tokens`): tokens minted
    /// earlier may be valid and held by nobody. Planned only when asked
    /// ([`PlanOptions::invalidate_orphans`](super::PlanOptions::invalidate_orphans)).
    InvalidateTokens {
        /// The system user.
        system_user: String,
        /// Why.
        reason: String,
    },
    /// Finish a token rotation an earlier run left half-done: the stored record still holds
    /// the token it replaced. The current token is checked; it checks, the replaced one is
    /// revoked and cleared; it does not, the replaced one is stored again and the bad one
    /// revoked. Planned alone for its system user's tokens: plan again afterwards to compare
    /// the token with the file.
    FinishRotation {
        /// The system user.
        system_user: String,
        /// The record's key.
        key: TokenKey,
    },
    /// Generate a token, store it, check it, then revoke the tokens it replaces.
    GenerateToken {
        /// The system user.
        system_user: String,
        /// The app.
        app: AppId,
        /// Its permissions.
        scopes: Vec<Permission>,
        /// Whether it expires after 60 days.
        expires_in_60_days: bool,
        /// Why a token is needed.
        reason: String,
        /// The stored tokens it replaces: revoked and removed once the new one is stored and
        /// checked.
        replaces: Vec<TokenKey>,
    },
}

impl Change {
    /// The system user the change is about, by its name in the desired state.
    pub fn system_user(&self) -> &str {
        match self {
            Change::CreateSystemUser { name, .. } => name,
            Change::RenameSystemUser { system_user, .. }
            | Change::InvalidateTokens { system_user, .. }
            | Change::InstallApp { system_user, .. }
            | Change::Assign { system_user, .. }
            | Change::ChangeTasks { system_user, .. }
            | Change::Unassign { system_user, .. }
            | Change::FinishRotation { system_user, .. }
            | Change::GenerateToken { system_user, .. } => system_user,
        }
    }

    pub(crate) fn order(&self) -> u8 {
        // Within one system user: grant before revoke, and tokens last, so access is never
        // lost half-way; orphans are invalidated before the token that replaces them.
        match self {
            Change::CreateSystemUser { .. } | Change::RenameSystemUser { .. } => 0,
            Change::InstallApp { .. } => 1,
            Change::Assign { .. } => 2,
            Change::ChangeTasks { .. } => 3,
            Change::Unassign { .. } => 4,
            Change::FinishRotation { .. } => 5,
            Change::InvalidateTokens { .. } => 6,
            Change::GenerateToken { .. } => 7,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::CreateSystemUser { name, role } => {
                write!(f, "+ create system user {name:?} ({role})")
            }
            Change::RenameSystemUser {
                system_user,
                id,
                from,
            } => write!(
                f,
                "~ rename system user {id} from {from:?} to {system_user:?}"
            ),
            Change::InvalidateTokens {
                system_user,
                reason,
            } => write!(f, "- invalidate every token of {system_user:?}: {reason}"),
            Change::InstallApp { system_user, app } => {
                write!(f, "+ install app {app} for {system_user:?}")
            }
            Change::FinishRotation { system_user, key } => write!(
                f,
                "~ finish the token rotation of {system_user:?} left half-done (app {}): check the new token, then revoke the one it replaced (or put that one back)",
                key.app
            ),
            Change::Assign {
                system_user,
                asset,
                tasks,
            } => {
                write!(
                    f,
                    "+ assign {} {} to {system_user:?}: {}",
                    asset.kind_name(),
                    asset.id(),
                    tasks.join(",")
                )
            }
            Change::ChangeTasks {
                system_user,
                asset,
                from,
                to,
            } => write!(
                f,
                "~ change tasks of {system_user:?} on {} {}: {} → {}",
                asset.kind_name(),
                asset.id(),
                from.join(","),
                to.join(",")
            ),
            Change::Unassign {
                system_user,
                asset,
                tasks,
            } => write!(
                f,
                "- remove {system_user:?} from {} {} (had {})",
                asset.kind_name(),
                asset.id(),
                tasks.join(",")
            ),
            Change::GenerateToken {
                system_user,
                app,
                scopes,
                expires_in_60_days,
                reason,
                replaces,
            } => {
                let scopes: Vec<&str> = scopes.iter().map(Permission::as_str).collect();
                let expiry = if *expires_in_60_days {
                    "expires in 60 days"
                } else {
                    "does not expire"
                };
                write!(
                    f,
                    "+ generate token for {system_user:?} (app {app}; {}; {expiry}): {reason}",
                    scopes.join(",")
                )?;
                match replaces.len() {
                    0 => Ok(()),
                    1 => write!(f, "; then revoke the stored one"),
                    n => write!(f, "; then revoke the {n} stored ones"),
                }
            }
        }
    }
}

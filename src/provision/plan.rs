//! Diffing the desired state against the live business: an ordered list of changes, checked
//! against the quota as a whole before anything is written.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;

pub use super::change::Change;
use super::error::{ProvisionError, Result};
use super::live::{self, Owned};
use super::spec::{Spec, SystemUserSpec};
use crate::client::{Client, QuotaPolicy};
use crate::config::SystemUserKind;
use crate::error::Error;
use crate::ids::{BusinessId, SystemUserId};
use crate::kinds::AssetRef;
use crate::models::system_user::{SystemUser, SystemUserRole};
use crate::quota::QuotaUsage;

/// Options for [`plan`].
///
/// ```
/// use std::time::Duration;
/// use meta_business::SecretString;
/// use meta_business::provision::PlanOptions;
/// let stored = SecretString::from("EAAE...".to_owned()); // from your secrets manager
/// let options = PlanOptions::default()
///     .token("ads-reporting-server", stored)
///     .renew_within(Duration::from_secs(14 * 86_400));
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct PlanOptions {
    /// The tokens the caller already holds, by system-user name (from its secret store). A
    /// token is generated only when the system user has none here, or it is invalid, lacks a
    /// scope, or expires within [`PlanOptions::renew_within`].
    pub tokens: BTreeMap<String, SecretString>,
    /// Renew a stored token that expires within this window (default 7 days).
    pub renew_within: Option<Duration>,
}

impl fmt::Debug for PlanOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlanOptions")
            .field("tokens", &self.tokens.keys().collect::<Vec<_>>())
            .field("renew_within", &self.renew_within)
            .finish()
    }
}

impl PlanOptions {
    /// Options with a token store.
    pub fn with_tokens(tokens: BTreeMap<String, SecretString>) -> Self {
        PlanOptions {
            tokens,
            renew_within: None,
        }
    }

    /// Adds a stored token for a system user (by name).
    pub fn token(mut self, system_user: impl Into<String>, token: impl Into<SecretString>) -> Self {
        self.tokens.insert(system_user.into(), token.into());
        self
    }

    /// Renews stored tokens expiring within this window.
    pub fn renew_within(mut self, window: Duration) -> Self {
        self.renew_within = Some(window);
        self
    }
}

/// What applying a desired state would change, in the order it would be done.
///
/// ```
/// use meta_business::provision::{self, PlanOptions};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # use meta_business::provision::{Spec, SystemUserBuilder};
/// # use meta_business::{AdAccountTask, Permission};
/// # let spec = Spec::builder(demo.business_id).system_user(
/// #     SystemUserBuilder::new("ads-reporting-server").app(demo.app_id)
/// #         .ad_account(demo.ad_accounts[0], [AdAccountTask::Analyze])
/// #         .token(demo.app_id, [Permission::AdsRead]),
/// # ).build()?;
/// let plan = provision::plan(&client, &spec, &PlanOptions::default()).await?;
/// let report = plan.apply(&client).await.into_result()?;
/// assert_eq!(report.tokens.len(), 1); // shown once: store it
/// // Applied, the desired state holds; only the token would be generated again, since it was not
/// // given to the plan.
/// let again = provision::plan(&client, &spec, &PlanOptions::default()).await?;
/// assert_eq!(again.changes.len(), 1);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// The business.
    pub business: BusinessId,
    /// The quota policy the plan was checked against.
    #[serde(skip)]
    pub policy: QuotaPolicy,
    /// System users now, against the quota.
    pub quota: QuotaUsage,
    /// Admin and regular system users after the plan is applied.
    pub after: (u32, u32),
    /// The changes, in a safe order.
    pub changes: Vec<Change>,
    /// Things the plan cannot change and a person should know.
    pub notes: Vec<String>,
    /// Ids of the system users that exist, by name.
    #[serde(skip)]
    pub(crate) ids: BTreeMap<String, SystemUserId>,
}

impl Plan {
    /// Whether the business already matches the desired state.
    ///
    /// ```
    /// use meta_business::provision::{self, PlanOptions};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # use meta_business::provision::{Spec, SystemUserBuilder};
    /// # use meta_business::{AdAccountTask, Permission};
    /// # let spec = Spec::builder(demo.business_id).system_user(
    /// #     SystemUserBuilder::new("ads-reporting-server").app(demo.app_id)
    /// #         .ad_account(demo.ad_accounts[0], [AdAccountTask::Analyze])
    /// #         .token(demo.app_id, [Permission::AdsRead]),
    /// # ).build()?;
    /// let plan = provision::plan(&client, &spec, &PlanOptions::default()).await?;
    /// let report = plan.apply(&client).await.into_result()?;
    /// // Give the plan the token it made, and nothing is left to do.
    /// let (name, token) = &report.tokens[0];
    /// let options = PlanOptions::default().token(name.as_str(), token.secret().clone());
    /// assert!(provision::plan(&client, &spec, &options).await?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tier = match self.policy {
            QuotaPolicy::Tier(tier) => format!("{tier} access tier"),
            QuotaPolicy::Custom(_) => "custom quota".to_owned(),
            _ => "quota not checked".to_owned(),
        };
        if self.changes.is_empty() {
            writeln!(
                f,
                "Plan for business {} ({tier}): no changes; the business matches the desired state.",
                self.business
            )?;
        } else {
            let n = self.changes.len();
            writeln!(
                f,
                "Plan for business {} ({tier}): {n} change{}",
                self.business,
                if n == 1 { "" } else { "s" }
            )?;
            for change in &self.changes {
                writeln!(f, "  {change}")?;
            }
        }
        match self.quota.quota {
            Some(q) => writeln!(
                f,
                "System users after apply: {}/{} admin, {}/{} regular",
                self.after.0, q.admin, self.after.1, q.regular
            )?,
            None => writeln!(
                f,
                "System users after apply: {} admin, {} regular",
                self.after.0, self.after.1
            )?,
        }
        for note in &self.notes {
            writeln!(f, "Note: {note}")?;
        }
        Ok(())
    }
}

fn same(a: &[String], b: &[String]) -> bool {
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

/// Reads the live business and computes the changes that bring it to `spec`.
///
/// ```
/// use meta_business::provision::{self, PlanOptions};
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
/// let plan = provision::plan(&client, &spec, &PlanOptions::default()).await?;
/// print!("{plan}"); // create, install, assign, generate token: in a safe order
/// assert!(!plan.is_empty());
/// // Planning only reads.
/// assert!(emulator.requests().iter().all(|r| r.method == "GET"));
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`ProvisionError::PlanExceedsQuota`] naming the system users that do not fit;
/// [`ProvisionError::InvalidSpec`] when two live system users share a name the file uses;
/// [`Error::InvalidInput`] when tokens are wanted but the client has no app secret; any request
/// error.
pub async fn plan(client: &Client, spec: &Spec, options: &PlanOptions) -> Result<Plan> {
    let business = &spec.business;
    let policy = spec
        .access_tier
        .map_or_else(|| client.quota_policy(), QuotaPolicy::Tier);
    if spec.system_users.iter().any(|s| s.token.is_some()) && !client.has_app_secret() {
        return Err(ProvisionError::Client(Error::invalid_input(
            "app_secret",
            "the desired state asks for tokens; generating them needs the app secret (appsecret_proof)",
        )));
    }
    let users = live::system_users(client, business).await?;
    let (ids, mut notes) = match_existing(spec, &users)?;

    // Pixels and Instagram assets have no per-user edge: read their assigned users instead.
    let owned = if spec.prune {
        Some(Owned::read(client, business).await?)
    } else {
        None
    };
    let scanned = scanned_assets(spec, owned.as_ref());
    let existing: Vec<String> = ids.values().map(|id| id.as_str().to_owned()).collect();
    let live_assignments = live::assignments(client, business, &existing, &scanned).await?;

    let mut changes = Vec::new();
    for wanted in &spec.system_users {
        let Some(id) = ids.get(&wanted.name) else {
            changes.extend(new_user_changes(wanted));
            continue;
        };
        changes.extend(app_changes(client, wanted, id, &mut notes).await?);
        let current = live_assignments
            .get(id.as_str())
            .cloned()
            .unwrap_or_default();
        changes.extend(assignment_changes(spec.prune, wanted, &current, &mut notes));
        if let Some(token) = &wanted.token
            && let Some(reason) = token_reason(client, options, &wanted.name, id, token).await?
        {
            changes.push(Change::GenerateToken {
                system_user: wanted.name.clone(),
                app: token.app.clone(),
                scopes: token.scopes.clone(),
                expires_in_60_days: token.expires_in_60_days,
                reason,
            });
        }
    }
    changes.sort_by_key(Change::order);

    let quota = QuotaUsage::count(business.clone(), policy, &users);
    let after = fit_quota(business, policy, &quota, &changes)?;
    Ok(Plan {
        business: business.clone(),
        policy,
        quota,
        after,
        changes,
        notes,
        ids,
    })
}

/// The wanted system users that exist already, by name (two of one name is an error the file
/// cannot resolve), and a note for each whose role differs.
fn match_existing(
    spec: &Spec,
    users: &[SystemUser],
) -> Result<(BTreeMap<String, SystemUserId>, Vec<String>)> {
    let business = &spec.business;
    let mut ids: BTreeMap<String, SystemUserId> = BTreeMap::new();
    let mut notes = Vec::new();
    for (i, wanted) in spec.system_users.iter().enumerate() {
        let matches: Vec<_> = users
            .iter()
            .filter(|u| u.name.as_deref() == Some(wanted.name.as_str()))
            .collect();
        if matches.len() > 1 {
            return Err(ProvisionError::InvalidSpec {
                location: format!("system_users[{i}].name"),
                message: format!(
                    "{} system users of business {business} are named {:?}; rename all but one",
                    matches.len(),
                    wanted.name
                ),
            });
        }
        if let Some(found) = matches.first() {
            ids.insert(wanted.name.clone(), found.id.clone());
            if found.role.as_ref().is_some_and(|r| {
                SystemUserRole::kind_of(Some(r)) != SystemUserRole::kind_of(Some(&wanted.role))
            }) {
                notes.push(format!(
                    "{:?} exists as {} but the file says {}; the Graph API cannot change a system user's role",
                    wanted.name,
                    found.role.as_ref().map_or("-", |r| r.as_str()),
                    wanted.role
                ));
            }
        }
    }
    Ok((ids, notes))
}

/// The assets whose assigned users must be read on the asset (their kind has no system-user
/// edge: pixels, Instagram assets): those in the file, and with prune every one the business owns.
fn scanned_assets(spec: &Spec, owned: Option<&Owned>) -> BTreeSet<AssetRef> {
    let mut scanned: BTreeSet<AssetRef> = spec
        .system_users
        .iter()
        .flat_map(|s| s.assets.iter().map(|a| a.asset.clone()))
        .filter(live::read_on_the_asset)
        .collect();
    if let Some(owned) = owned {
        scanned.extend(owned.unlisted().cloned());
    }
    scanned
}

/// Everything a system user that does not exist yet needs.
fn new_user_changes(wanted: &SystemUserSpec) -> Vec<Change> {
    let name = &wanted.name;
    let mut changes = vec![Change::CreateSystemUser {
        name: name.clone(),
        role: wanted.role.clone(),
    }];
    changes.extend(wanted.apps.iter().map(|app| Change::InstallApp {
        system_user: name.clone(),
        app: app.clone(),
    }));
    changes.extend(wanted.assets.iter().map(|a| Change::Assign {
        system_user: name.clone(),
        asset: a.asset.clone(),
        tasks: a.tasks.clone(),
    }));
    if let Some(token) = &wanted.token {
        changes.push(Change::GenerateToken {
            system_user: name.clone(),
            app: token.app.clone(),
            scopes: token.scopes.clone(),
            expires_in_60_days: token.expires_in_60_days,
            reason: "new system user".into(),
        });
    }
    changes
}

/// The app installs an existing system user lacks (all of them when its apps cannot be read:
/// installing is idempotent).
async fn app_changes(
    client: &Client,
    wanted: &SystemUserSpec,
    id: &SystemUserId,
    notes: &mut Vec<String>,
) -> Result<Vec<Change>> {
    let name = &wanted.name;
    let installed = live::installed_apps(client, id.as_str()).await?;
    if installed.is_none() && !wanted.apps.is_empty() {
        notes.push(format!("the installed apps of {name:?} cannot be read; installs are sent again (they are idempotent)"));
    }
    Ok(wanted
        .apps
        .iter()
        .filter(|app| installed.as_ref().is_none_or(|set| !set.contains(*app)))
        .map(|app| Change::InstallApp {
            system_user: name.clone(),
            app: app.clone(),
        })
        .collect())
}

/// Assignments to make, change and (with prune) remove for an existing system user. A pixel
/// assignment cannot be removed through the API: a note says so instead.
fn assignment_changes(
    prune: bool,
    wanted: &SystemUserSpec,
    current: &live::Assignments,
    notes: &mut Vec<String>,
) -> Vec<Change> {
    let name = &wanted.name;
    let mut changes = Vec::new();
    for a in &wanted.assets {
        match current.get(&a.asset) {
            None => changes.push(Change::Assign {
                system_user: name.clone(),
                asset: a.asset.clone(),
                tasks: a.tasks.clone(),
            }),
            Some(have) if !same(have, &a.tasks) => changes.push(Change::ChangeTasks {
                system_user: name.clone(),
                asset: a.asset.clone(),
                from: have.clone(),
                to: a.tasks.clone(),
            }),
            Some(_) => {}
        }
    }
    if !prune {
        return changes;
    }
    for (asset, tasks) in current {
        if wanted.assets.iter().any(|a| &a.asset == asset) {
            continue;
        }
        if !asset.info().can_unassign {
            notes.push(format!(
                "{name:?} has {kind} {} ({}) which is not in the file; the Graph API cannot remove {kind} assignments: remove it in Business Settings",
                asset.id(),
                tasks.join(","),
                kind = asset.kind_name()
            ));
        } else {
            changes.push(Change::Unassign {
                system_user: name.clone(),
                asset: asset.clone(),
                tasks: tasks.clone(),
            });
        }
    }
    changes
}

/// The admin and regular counts after the plan, or the error naming who does not fit.
fn fit_quota(
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

async fn token_reason(
    client: &Client,
    options: &PlanOptions,
    name: &str,
    id: &SystemUserId,
    token: &super::spec::TokenSpec,
) -> Result<Option<String>> {
    let Some(stored) = options.tokens.get(name) else {
        return Ok(Some("no token in the store".into()));
    };
    let info = client
        .as_app(token.app.clone())?
        .debug_token(stored.clone())
        .send()
        .await?;
    let renew = options
        .renew_within
        .unwrap_or(Duration::from_secs(7 * 86_400));
    Ok(if info.is_valid != Some(true) {
        Some("the stored token is not valid".into())
    } else if info.user_id.as_deref() != Some(id.as_str()) {
        Some("the stored token belongs to another user".into())
    } else if let Some(missing) = token.scopes.iter().find(|s| !info.has_scope(s)) {
        Some(format!("the stored token lacks {missing}"))
    } else if info.expires_within(renew) {
        Some(format!(
            "the stored token expires within {} days",
            renew.as_secs() / 86_400
        ))
    } else {
        None
    })
}

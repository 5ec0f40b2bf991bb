//! Executing a plan in order; stopping at the first failure with a report of what was done.

use std::collections::BTreeMap;
use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::forget;
use super::saved::Refusal;

mod mint;
use super::plan::{Change, Plan};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::SystemUserId;
use crate::keeper::rotation::{self, Finished};
use crate::kinds::{AssetRef, AssignTasks, UnassignUser};
use crate::models::token::SystemUserToken;
use crate::progress::{Reporter, Workflow};
use crate::store::{TokenKey, TokenStore};

/// What applying a plan did. A failure is inside it, not an `Err`: keep the report (it holds
/// the tokens generated before the failure), or turn it into a `Result` with
/// [`ApplyReport::into_result`].
///
/// ```
/// use meta_business::provision::{self, PlanOptions};
/// use meta_business::testing::{Fault, FaultRule};
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
/// // The assignment fails: the apply stops there and says what was and was not done.
/// emulator.inject(FaultRule::new(Fault::graph(200)).on("POST", "/assigned_users"));
/// let report = plan.apply(&client).await;
/// assert!(!report.is_complete());
/// assert!(report.failed.is_some() && !report.applied.is_empty() && !report.not_applied.is_empty());
/// println!("{report}");
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[non_exhaustive]
#[must_use = "a failed change is inside the report; check `failed` or call `into_result()`"]
pub struct ApplyReport {
    /// The changes made, in order.
    pub applied: Vec<Change>,
    /// The change that failed, and why; the ones after it were not attempted.
    pub failed: Option<(Change, Error)>,
    /// The changes not attempted because an earlier one failed.
    pub not_applied: Vec<Change>,
    /// The tokens generated, by system-user name: each is the one the plan's store holds under
    /// its key. A token the store refused, or that failed its check (`debug_token`: valid, of
    /// the key's app and system user, a system-user token), is never listed.
    pub tokens: Vec<(String, SystemUserToken)>,
    /// The ids of the managed system users, by name (created ones included): pass them to
    /// the next plan ([`PlanOptions::identity`](super::PlanOptions::identity)) when they hold
    /// no stored token.
    pub identities: BTreeMap<String, SystemUserId>,
    /// System users for which a token may exist that nobody holds: the answer to minting it
    /// was lost. Plan again with
    /// [`PlanOptions::invalidate_orphans`](super::PlanOptions::invalidate_orphans) to
    /// invalidate it.
    pub orphan_risk: Vec<String>,
    /// System users whose token another run (another replica) stored first: the store holds
    /// that run's token. This run either found it before minting (and minted nothing) or
    /// revoked the token it had minted (or says in `orphan_risk` that it could not).
    pub lost_races: Vec<String>,
    /// What went wrong without stopping the apply (an old token that could not be revoked, a
    /// new one that could not be checked).
    pub warnings: Vec<String>,
    /// Why a saved plan was refused before any write: the live state it was computed from
    /// changed since ([`Plan::from_json_str`]). Every change is then in `not_applied`.
    pub stale: Option<super::StalePlan>,
}

impl ApplyReport {
    /// Whether every change was made.
    pub fn is_complete(&self) -> bool {
        self.failed.is_none() && self.stale.is_none()
    }

    /// `Ok(self)` when every change was made, else the report inside an error (so the tokens
    /// generated before the failure are not lost).
    ///
    /// ```no_run
    /// # async fn run(client: meta_business::Client, plan: meta_business::provision::Plan) -> Result<(), Box<dyn std::error::Error>> {
    /// let report = plan.apply(&client).await.into_result()?;
    /// for (name, token) in &report.tokens {
    ///     println!("{name}: {}", token.masked());
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`IncompleteApply`] when a change failed.
    pub fn into_result(self) -> std::result::Result<ApplyReport, IncompleteApply> {
        if !self.is_complete() {
            Err(IncompleteApply(Box::new(self)))
        } else {
            Ok(self)
        }
    }
}

/// A plan whose application stopped at a failed change; the report is inside, with the changes
/// made and the tokens generated before it.
#[derive(Debug)]
pub struct IncompleteApply(pub Box<ApplyReport>);

impl fmt::Display for IncompleteApply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.0;
        if let Some(stale) = &r.stale {
            return write!(f, "{stale}");
        }
        match &r.failed {
            Some((change, err)) => write!(
                f,
                "applying the plan stopped at \"{change}\" ({} change(s) made, {} not attempted): {err}",
                r.applied.len(),
                r.not_applied.len()
            ),
            None => f.write_str("applying the plan did not stop"),
        }
    }
}

impl std::error::Error for IncompleteApply {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.failed.as_ref().map(|(_, e)| e as _)
    }
}

impl Serialize for ApplyReport {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("ApplyReport", 9)?;
        st.serialize_field("applied", &self.applied)?;
        let failed = self
            .failed
            .as_ref()
            .map(|(change, err)| serde_json::json!({"change": change, "error": err.to_string()}));
        st.serialize_field("failed", &failed)?;
        st.serialize_field("not_applied", &self.not_applied)?;
        // Tokens are never serialized; only who got one.
        let tokens: Vec<&str> = self.tokens.iter().map(|(name, _)| name.as_str()).collect();
        st.serialize_field("tokens_generated_for", &tokens)?;
        st.serialize_field("identities", &self.identities)?;
        st.serialize_field("orphan_risk", &self.orphan_risk)?;
        st.serialize_field("lost_races", &self.lost_races)?;
        st.serialize_field("warnings", &self.warnings)?;
        let stale = self.stale.as_ref().map(|s| &s.changed);
        st.serialize_field("stale_plan_changed", &stale)?;
        st.end()
    }
}

impl fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(stale) = &self.stale {
            writeln!(
                f,
                "  REFUSED  the saved plan is stale; changed since it was made:"
            )?;
            for what in &stale.changed {
                writeln!(f, "           {what}")?;
            }
            return write!(f, "Applied nothing: plan again.");
        }
        for change in &self.applied {
            writeln!(f, "  done     {change}")?;
        }
        if let Some((change, err)) = &self.failed {
            writeln!(f, "  FAILED   {change}\n           {err}")?;
        }
        for change in &self.not_applied {
            writeln!(f, "  not done {change}")?;
        }
        for name in &self.orphan_risk {
            writeln!(
                f,
                "  a token of {name:?} may exist that nobody holds: the answer to minting it was lost; plan again with invalidate_orphans to invalidate it"
            )?;
        }
        for name in &self.lost_races {
            writeln!(
                f,
                "  token of {name:?}: another run (replica) stored one first; it is kept, and a token this run minted for it was revoked"
            )?;
        }
        for warning in &self.warnings {
            writeln!(f, "  warning  {warning}")?;
        }
        match &self.failed {
            None => write!(f, "Applied {} change(s).", self.applied.len()),
            Some(_) => write!(
                f,
                "Applied {} of {} change(s); run again to finish (the next plan starts from what is live).",
                self.applied.len(),
                self.applied.len() + 1 + self.not_applied.len()
            ),
        }
    }
}

/// Gives a system user these tasks on an asset, whatever its kind, through the kind's typed
/// handler.
async fn assign(
    client: &Client,
    asset: &AssetRef,
    user: &SystemUserId,
    tasks: &[String],
) -> Result<()> {
    asset.visit(client, AssignTasks { user, tasks }).await
}

/// Removes a system user from an asset, whatever its kind.
pub(crate) async fn unassign(client: &Client, asset: &AssetRef, user: &SystemUserId) -> Result<()> {
    asset.visit(client, UnassignUser(user)).await
}

impl Plan {
    /// Makes the changes in order, stopping at the first failure. Applying a plan and then
    /// planning again yields an empty plan; after a failure, plan and apply again to finish.
    ///
    /// A token is rotated in this order, so that after a failure or a kill at any step the
    /// store holds a working token: **mint** (never re-sent; a lost answer is named in
    /// [`ApplyReport::orphan_risk`]) → **store** the new token with the one it replaces as
    /// its [`previous`](crate::store::StoredToken::previous) (both held) → **verify** it with
    /// `debug_token` (valid, the key's app, system user and type) → **switch** (verified, it
    /// is current; not, the old one is stored again and the new one revoked) → **revoke** the
    /// old one, then clear `previous`. A record left with `previous` set is finished by the
    /// next plan ([`Change::FinishRotation`]).
    ///
    /// Several runs (replicas) may apply at once over one store: every write expects the
    /// version read (a new key: nothing stored), so the first run's token wins and the others
    /// revoke the token they minted ([`ApplyReport::lost_races`]); invalidating removes only
    /// the records read before the invalidation.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use meta_business::store::{MemoryStore, TokenStore};
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
    /// let store = Arc::new(MemoryStore::new());
    /// let plan = provision::plan(&client, &spec, &PlanOptions::default().store(store.clone())).await?;
    /// let report = plan.apply(&client).await;
    /// assert!(report.is_complete());
    /// assert_eq!(store.keys().await?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn apply(&self, client: &Client) -> ApplyReport {
        let mut run = Run {
            plan: self,
            client,
            store: self.store.as_ref().map(|s| &*s.0),
            report: ApplyReport {
                applied: Vec::new(),
                failed: None,
                not_applied: Vec::new(),
                tokens: Vec::new(),
                identities: self.ids.clone(),
                orphan_risk: Vec::new(),
                lost_races: Vec::new(),
                warnings: Vec::new(),
                stale: None,
            },
        };
        // A saved plan is checked against the business before its first write.
        match self.refusal(client).await {
            None => {}
            Some(Refusal::Stale(stale)) => {
                run.report.stale = Some(stale);
                run.report.not_applied = self.changes.clone();
                return run.report;
            }
            Some(Refusal::Failed(change, err)) => {
                run.report.failed = Some((change.clone(), err));
                run.report.not_applied = self
                    .changes
                    .iter()
                    .filter(|c| **c != change)
                    .cloned()
                    .collect();
                return run.report;
            }
        }
        let mut progress = Reporter::start(
            self.progress.as_ref(),
            Workflow::Apply,
            Some(self.changes.len()),
        );
        let mut changes = self.changes.iter();
        for change in changes.by_ref() {
            progress.step(change.to_string());
            match run.one(change).await {
                Ok(()) => {
                    progress.done();
                    run.report.applied.push(change.clone());
                }
                Err(err) => {
                    tracing::warn!(%change, error = %err, "provisioning change failed; stopping");
                    progress.failed(&err);
                    run.report.failed = Some((change.clone(), err));
                    break;
                }
            }
        }
        progress.finish(None);
        run.report.not_applied = changes.cloned().collect();
        run.report
    }
}

/// One apply under way.
struct Run<'a> {
    plan: &'a Plan,
    client: &'a Client,
    store: Option<&'a dyn TokenStore>,
    report: ApplyReport,
}

impl Run<'_> {
    fn id_of(&self, name: &str) -> Result<SystemUserId> {
        self.report.identities.get(name).cloned().ok_or_else(|| {
            Error::invalid_input(
                "plan",
                format!("system user {name:?} does not exist (was its creation applied?)"),
            )
        })
    }

    async fn one(&mut self, change: &Change) -> Result<()> {
        let (client, business) = (self.client, &self.plan.business);
        match change {
            Change::CreateSystemUser { name, role } => {
                let create = client
                    .business(business.clone())
                    .system_users()
                    .create(name.as_str())
                    .role(role.clone())
                    .quota_policy(self.plan.policy);
                // Decided again under the create lock: a replica applying the same plan may
                // have created this user since the plan was made.
                let got = crate::calls::GetOrCreateSystemUser { inner: create }
                    .send()
                    .await?;
                self.report.identities.insert(name.clone(), got.user.id);
            }
            Change::RenameSystemUser {
                system_user, id, ..
            } => {
                client
                    .business(business.clone())
                    .system_users()
                    .rename(id.clone(), system_user.as_str())
                    .send()
                    .await?;
            }
            Change::InstallApp { system_user, app } => {
                client
                    .system_user(self.id_of(system_user)?)
                    .install_app(app.clone())
                    .send()
                    .await?;
            }
            Change::Assign {
                system_user,
                asset,
                tasks,
            }
            | Change::ChangeTasks {
                system_user,
                asset,
                to: tasks,
                ..
            } => {
                assign(client, asset, &self.id_of(system_user)?, tasks).await?;
            }
            Change::Unassign {
                system_user, asset, ..
            } => unassign(client, asset, &self.id_of(system_user)?).await?,
            Change::InvalidateTokens { system_user, .. } => {
                let id = self.id_of(system_user)?;
                // Read first: what the store holds now dies with the invalidation; a token
                // stored after this read is another run's, and stays.
                let read = match self.store {
                    Some(store) => Some(forget::read(store, business, &id).await?),
                    None => None,
                };
                client
                    .system_user(id.clone())
                    .invalidate_tokens()
                    .send()
                    .await?;
                if let (Some(store), Some(read)) = (self.store, read) {
                    let forgot = forget::forget(store, read).await?;
                    self.report
                        .warnings
                        .extend(forget::changed_note(&forgot.changed));
                }
            }
            Change::FinishRotation { system_user, key } => self.finish(system_user, key).await?,
            Change::GenerateToken { .. } => self.mint(change).await?,
        }
        Ok(())
    }

    /// Finishes the rotation a run left half-done (see [`rotation`]).
    async fn finish(&mut self, system_user: &str, key: &TokenKey) -> Result<()> {
        let store = self.store.ok_or_else(|| {
            Error::invalid_input(
                "store",
                "a rotation is finished only in its store (PlanOptions::store)",
            )
        })?;
        let Some(record) = store.get(key).await? else {
            return Ok(());
        };
        match rotation::finish(self.client, store, record.token, record.version).await {
            Finished::Settled => Ok(()),
            Finished::RolledBack { why, note } => {
                let note = note.map(|n| format!("; {n}")).unwrap_or_default();
                self.report.warnings.push(format!(
                    "the token rotation of {system_user:?} left half-done is undone: its new token does not check ({why}); the token it replaced is stored again{note}"
                ));
                Ok(())
            }
            Finished::Pending(why) | Finished::NeedsPerson(why) => Err(Error::TokenCheck {
                reason: format!("finishing the token rotation of {system_user:?}: {why}"),
            }),
        }
    }
}

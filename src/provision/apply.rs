//! Executing a plan in order; stopping at the first failure with a report of what was done.

use std::collections::BTreeMap;
use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::plan::{Change, Plan};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::SystemUserId;
use crate::kinds::{AssetRef, AssignTasks, UnassignUser};
use crate::models::token::SystemUserToken;
use crate::store::{Minted, StoredToken, TokenKey, TokenMeta, TokenStore};

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
/// let options = PlanOptions::default().store(std::sync::Arc::new(meta_business::MemoryStore::new()));
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
    /// The tokens generated, by system-user name (each is in the plan's store too).
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
    /// What went wrong without stopping the apply (an old token that could not be revoked, a
    /// new one that could not be checked).
    pub warnings: Vec<String>,
}

impl ApplyReport {
    /// Whether every change was made.
    pub fn is_complete(&self) -> bool {
        self.failed.is_none()
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
        if self.failed.is_some() {
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
        let mut st = s.serialize_struct("ApplyReport", 7)?;
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
        st.serialize_field("warnings", &self.warnings)?;
        st.end()
    }
}

impl fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
    /// Makes the changes in order, stopping at the first failure. Each token minted is written
    /// to the plan's store before anything else happens, then checked, and only then are the
    /// tokens it replaces revoked. Applying a plan and then planning again yields an empty
    /// plan; after a failure, plan and apply again to finish.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use meta_business::{MemoryStore, TokenStore};
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
                warnings: Vec::new(),
            },
        };
        let mut changes = self.changes.iter();
        for change in changes.by_ref() {
            match run.one(change).await {
                Ok(()) => run.report.applied.push(change.clone()),
                Err(err) => {
                    tracing::warn!(%change, error = %err, "provisioning change failed; stopping");
                    run.report.failed = Some((change.clone(), err));
                    break;
                }
            }
        }
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
                let su = client
                    .business(business.clone())
                    .system_users()
                    .create(name.as_str())
                    .role(role.clone())
                    .quota_policy(self.plan.policy)
                    .send()
                    .await?;
                self.report.identities.insert(name.clone(), su.id);
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
                client
                    .system_user(id.clone())
                    .invalidate_tokens()
                    .send()
                    .await?;
                // Invalidated: what the store holds of this user is dead.
                if let Some(store) = self.store {
                    for key in store.keys().await? {
                        if &key.business == business && key.system_user == id {
                            crate::store::remove_any(store, &key).await?;
                        }
                    }
                }
            }
            Change::GenerateToken { .. } => self.mint(change).await?,
        }
        Ok(())
    }

    /// Mint, store, check, then revoke what the new token replaces.
    async fn mint(&mut self, change: &Change) -> Result<()> {
        let Change::GenerateToken {
            system_user,
            app,
            scopes,
            expires_in_60_days,
            replaces,
            ..
        } = change
        else {
            return Ok(());
        };
        let (client, business) = (self.client, &self.plan.business);
        let store = self.store.ok_or_else(|| {
            Error::invalid_input(
                "store",
                "a token is minted only into a store (PlanOptions::store)",
            )
        })?;
        let id = self.id_of(system_user)?;
        // The tokens replaced, read before the new one may overwrite one of them.
        let mut old = Vec::new();
        for key in replaces {
            if let Some(stored) = store.get(key).await? {
                old.push(stored.token);
            }
        }
        let minted = client
            .system_user(id.clone())
            .generate_token(app.clone())
            .business(business.clone())
            .scopes(scopes.iter().cloned())
            .expires_in_60_days(*expires_in_60_days)
            .send()
            .await;
        let token = match minted {
            Ok(token) => token,
            Err(err) => {
                if err.outcome_unknown() {
                    self.report.orphan_risk.push(system_user.clone());
                }
                return Err(err);
            }
        };
        let secret = token.secret().clone();
        let key = TokenKey::new(business.clone(), id.clone(), app.clone());
        let expires_at = expires_in_60_days.then(|| crate::time::unix_now() + 60 * 86_400);
        let stored = StoredToken::new(
            key.clone(),
            token.secret().clone(),
            TokenMeta::new(scopes.iter().cloned(), expires_at, Minted::Generated)
                .named(system_user.as_str()),
        );
        self.report.tokens.push((system_user.clone(), token));
        if let Err(err) = crate::store::put_any(store, stored).await {
            // Not stored, so held by nobody once this report is dropped: revoke it.
            let revoked = client.revoke_token(app.clone(), secret).send().await;
            if revoked.is_err() {
                self.report.orphan_risk.push(system_user.clone());
            }
            return Err(Error::Store(err));
        }
        match super::audit::inspect(client, Some(app), &secret).await? {
            Ok(info)
                if info.is_valid == Some(true) && info.user_id.as_deref() == Some(id.as_str()) => {}
            Ok(_) => {
                return Err(Error::invalid_input(
                    "token",
                    format!(
                        "the token minted for {system_user:?} is stored but debug_token does not show it valid for {id}; the tokens it replaces were kept"
                    ),
                ));
            }
            Err(why) => self.report.warnings.push(format!(
                "the token minted for {system_user:?} is stored but could not be checked ({why})"
            )),
        }
        for stale in old {
            let revoked = client
                .revoke_token(stale.key.app.clone(), stale.secret().clone())
                .send()
                .await;
            match revoked {
                Ok(()) => {
                    if stale.key != key {
                        crate::store::remove_any(store, &stale.key).await?;
                    }
                }
                Err(err) => self.report.warnings.push(format!(
                    "the new token of {system_user:?} is stored; revoking the one it replaces ({}) failed: {err}",
                    stale.key
                )),
            }
        }
        Ok(())
    }
}

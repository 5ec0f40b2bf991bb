//! Executing a plan in order; stopping at the first failure with a report of what was done.

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
/// let plan = provision::plan(&client, &spec, &PlanOptions::default()).await?;
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
    /// The tokens generated, by system-user name. Store them: they are shown only once.
    pub tokens: Vec<(String, SystemUserToken)>,
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
        let mut st = s.serialize_struct("ApplyReport", 4)?;
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
    /// let report = plan.apply(&client).await;
    /// assert!(report.is_complete());
    /// # Ok(()) }
    /// ```
    pub async fn apply(&self, client: &Client) -> ApplyReport {
        self.apply_inner(client, None).await
    }

    /// [`Plan::apply`], writing each token to `store` as soon as it is minted (keyed by the
    /// business, the system user's id and the app, with its scopes and expiry), so that no
    /// token is lost to a later failure. A store that refuses the write stops the apply at
    /// that change; the token is in the report's `tokens` still.
    ///
    /// ```
    /// use meta_business::provision::{self, PlanOptions, Spec, SystemUserBuilder};
    /// use meta_business::{AdAccountTask, MemoryStore, Permission, TokenStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let spec = Spec::builder(demo.business_id)
    ///     .system_user(
    ///         SystemUserBuilder::new("ads-reporting-server")
    ///             .app(demo.app_id)
    ///             .ad_account(demo.ad_accounts[0], [AdAccountTask::Analyze])
    ///             .token(demo.app_id, [Permission::AdsRead]),
    ///     )
    ///     .build()?;
    /// let store = MemoryStore::new();
    /// let plan = provision::plan(&client, &spec, &PlanOptions::default()).await?;
    /// plan.apply_with_store(&client, &store).await.into_result()?;
    /// assert_eq!(store.keys().await?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn apply_with_store(&self, client: &Client, store: &dyn TokenStore) -> ApplyReport {
        self.apply_inner(client, Some(store)).await
    }

    async fn apply_inner(&self, client: &Client, store: Option<&dyn TokenStore>) -> ApplyReport {
        let mut ids = self.ids.clone();
        let mut report = ApplyReport {
            applied: Vec::new(),
            failed: None,
            not_applied: Vec::new(),
            tokens: Vec::new(),
        };
        let mut changes = self.changes.iter();
        for change in changes.by_ref() {
            match self
                .apply_one(client, store, change, &mut ids, &mut report.tokens)
                .await
            {
                Ok(()) => report.applied.push(change.clone()),
                Err(err) => {
                    tracing::warn!(%change, error = %err, "provisioning change failed; stopping");
                    report.failed = Some((change.clone(), err));
                    break;
                }
            }
        }
        report.not_applied = changes.cloned().collect();
        report
    }

    async fn apply_one(
        &self,
        client: &Client,
        store: Option<&dyn TokenStore>,
        change: &Change,
        ids: &mut std::collections::BTreeMap<String, SystemUserId>,
        tokens: &mut Vec<(String, SystemUserToken)>,
    ) -> Result<()> {
        let id_of = |ids: &std::collections::BTreeMap<String, SystemUserId>, name: &str| {
            ids.get(name).cloned().ok_or_else(|| {
                Error::invalid_input(
                    "plan",
                    format!("system user {name:?} does not exist (was its creation applied?)"),
                )
            })
        };
        match change {
            Change::CreateSystemUser { name, role } => {
                let su = client
                    .business(self.business.clone())
                    .system_users()
                    .create(name.as_str())
                    .role(role.clone())
                    .quota_policy(self.policy)
                    .send()
                    .await?;
                ids.insert(name.clone(), su.id);
            }
            Change::InstallApp { system_user, app } => {
                client
                    .system_user(id_of(ids, system_user)?)
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
                assign(client, asset, &id_of(ids, system_user)?, tasks).await?;
            }
            Change::Unassign {
                system_user, asset, ..
            } => unassign(client, asset, &id_of(ids, system_user)?).await?,
            Change::GenerateToken {
                system_user,
                app,
                scopes,
                expires_in_60_days,
                ..
            } => {
                let id = id_of(ids, system_user)?;
                let token = client
                    .system_user(id.clone())
                    .generate_token(app.clone())
                    .business(self.business.clone())
                    .scopes(scopes.iter().cloned())
                    .expires_in_60_days(*expires_in_60_days)
                    .send()
                    .await?;
                let stored = store.map(|_| {
                    let expires_at =
                        expires_in_60_days.then(|| crate::time::unix_now() + 60 * 86_400);
                    StoredToken::new(
                        TokenKey::new(self.business.clone(), id, app.clone()),
                        token.secret().clone(),
                        TokenMeta::new(scopes.iter().cloned(), expires_at, Minted::Generated),
                    )
                });
                tokens.push((system_user.clone(), token));
                if let (Some(store), Some(stored)) = (store, stored) {
                    store.put(stored).await?;
                }
            }
        }
        Ok(())
    }
}

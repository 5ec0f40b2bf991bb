//! Executing a plan in order; stopping at the first failure with a report of what was done.

use std::collections::BTreeMap;
use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::plan::{Change, Plan};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::SystemUserId;
use crate::keeper::identity::{self, Verdict};
use crate::keeper::rotation::{self, Finished};
use crate::kinds::{AssetRef, AssignTasks, UnassignUser};
use crate::models::token::SystemUserToken;
use crate::store::{Minted, StoredToken, TokenKey, TokenMeta, TokenStore, put_any, remove_any};
use secrecy::SecretString;

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

/// The stored tokens `replaces` names, read before a new token may overwrite one of them.
///
/// # Errors
/// [`Error::TokenCheck`] when a record involved (of `replaces` or of `key`) holds a `previous`
/// token: another run's rotation is under way since the plan was made, and minting now would
/// push that token out of the record, held by nobody. The store's errors.
async fn replaced(
    store: &dyn TokenStore,
    replaces: &[TokenKey],
    key: &TokenKey,
) -> Result<Vec<StoredToken>> {
    let mut read: Vec<&TokenKey> = replaces.iter().collect();
    if !replaces.contains(key) {
        read.push(key);
    }
    let mut old = Vec::new();
    for at in read {
        match store.get(at).await?.map(|found| found.token) {
            Some(stored) if stored.previous().is_some() => {
                return Err(Error::TokenCheck {
                    reason: format!(
                        "a rotation of {at} is under way since the plan was made; nothing was minted: plan again"
                    ),
                });
            }
            Some(stored) if replaces.contains(at) => old.push(stored),
            _ => {}
        }
    }
    Ok(old)
}

impl Plan {
    /// Makes the changes in order, stopping at the first failure. Applying a plan and then
    /// planning again yields an empty plan; after a failure, plan and apply again to finish.
    ///
    /// A token is rotated in this order, so that after a failure or a kill at any step the
    /// store holds a working token: **mint** (never re-sent; a lost answer is named in
    /// [`ApplyReport::orphan_risk`]) → **store** the new token with the one it replaces as
    /// its [`previous`](crate::StoredToken::previous) (both held) → **verify** it with
    /// `debug_token` (valid, the key's app, system user and type) → **switch** (verified, it
    /// is current; not, the old one is stored again and the new one revoked) → **revoke** the
    /// old one, then clear `previous`. A record left with `previous` set is finished by the
    /// next plan ([`Change::FinishRotation`]).
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
        let Some(record) = store.get(key).await?.map(|found| found.token) else {
            return Ok(());
        };
        match rotation::finish(self.client, store, record).await {
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

    /// Mint → store (the new token with the one it replaces at its key as `previous`: both
    /// held) → verify (valid, this key's app, system user and type) → switch (verified: the
    /// new one is current; not: the old one is stored again, the new one revoked) → revoke the
    /// replaced tokens, then clear `previous`. A kill at any step leaves a working token stored
    /// and a record the next plan finishes ([`Change::FinishRotation`]); only a lost mint
    /// answer leaves a token nobody holds, and it is named in `orphan_risk`.
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
        let key = TokenKey::new(business.clone(), id.clone(), app.clone());
        // The tokens replaced, read before the new one may overwrite one of them.
        let mut old = replaced(store, replaces, &key).await?;
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
        let expires_at = expires_in_60_days.then(|| crate::time::unix_now() + 60 * 86_400);
        let mut stored = StoredToken::new(
            key.clone(),
            secret.clone(),
            TokenMeta::new(scopes.iter().cloned(), expires_at, Minted::Generated)
                .named(system_user.as_str()),
        );
        let same_key = old.iter().position(|o| o.key == key).map(|i| old.remove(i));
        if let Some(same) = &same_key {
            stored = stored.with_previous(same.secret().clone());
        }
        if let Err(err) = put_any(store, stored.clone()).await {
            // Not stored, so held by nobody once this report is dropped: revoke it.
            if rotation::revoke(client, &key, &secret).await.is_err() {
                self.report.orphan_risk.push(system_user.clone());
            }
            return Err(Error::Store(err));
        }
        match identity::verify(client, &key, &secret).await {
            Verdict::Good => {}
            Verdict::Bad { why, ours } => {
                return Err(self
                    .reject(store, system_user, &key, same_key, &secret, why, ours)
                    .await);
            }
            Verdict::Unknown(why) => {
                // Both are held (the new one current); the next plan checks it and finishes.
                self.report.tokens.push((system_user.clone(), token));
                self.report.warnings.push(format!(
                    "the token minted for {system_user:?} is stored but could not be checked ({why}); the tokens it replaces are kept until it is (plan and apply again)"
                ));
                return Ok(());
            }
        }
        self.report.tokens.push((system_user.clone(), token));
        if same_key.is_some()
            && let Some(why) = rotation::retire(client, store, stored).await
        {
            self.report
                .warnings
                .push(format!("the new token of {system_user:?} is stored; {why}"));
        }
        self.revoke_replaced(store, system_user, old).await
    }

    /// Revokes the replaced tokens of other keys (another app's) and removes them.
    async fn revoke_replaced(
        &mut self,
        store: &dyn TokenStore,
        system_user: &str,
        old: Vec<StoredToken>,
    ) -> Result<()> {
        for stale in old {
            match rotation::revoke(self.client, &stale.key, stale.secret()).await {
                Ok(()) => {
                    remove_any(store, &stale.key).await?;
                }
                Err(err) => self.report.warnings.push(format!(
                    "the new token of {system_user:?} is stored; revoking the one it replaces ({}) failed: {err}; it stays in the store and the next plan replaces it",
                    stale.key
                )),
            }
        }
        Ok(())
    }

    /// The minted token failed its check: it is not left stored under the key (the token it
    /// replaced is stored again), it is revoked when it is this key's, and the error says so.
    #[allow(clippy::too_many_arguments)]
    async fn reject(
        &mut self,
        store: &dyn TokenStore,
        system_user: &str,
        key: &TokenKey,
        replaced: Option<StoredToken>,
        secret: &SecretString,
        why: String,
        ours: bool,
    ) -> Error {
        let client = self.client;
        let done = match replaced {
            Some(old) => match rotation::roll_back(client, store, old, secret, ours).await {
                Ok(None) if ours => "it was revoked and the token it replaces is stored again".to_owned(),
                Ok(None) => "it was not kept and not revoked (it may be another's); the token it replaces is stored again".to_owned(),
                Ok(Some(note)) => format!("the token it replaces is stored again; {note}"),
                Err(err) => format!(
                    "putting the token it replaces back failed ({err}); the store holds both and the next plan finishes"
                ),
            },
            None => {
                let revoked = !ours || rotation::revoke(client, key, secret).await.is_ok();
                let removed = remove_any(store, key).await;
                match (revoked, removed) {
                    (true, Ok(_)) if ours => "it was revoked and removed from the store".to_owned(),
                    (true, Ok(_)) => "it was removed from the store and not revoked (it may be another's)".to_owned(),
                    (false, Ok(_)) => {
                        self.report.orphan_risk.push(system_user.to_owned());
                        "it was removed from the store, but revoking it failed".to_owned()
                    }
                    (_, Err(err)) => format!("removing it from the store failed ({err}): remove it by hand"),
                }
            }
        };
        if !ours {
            // The token asked for may exist as well, held by nobody.
            self.report.orphan_risk.push(system_user.to_owned());
        }
        Error::TokenCheck {
            reason: format!("the token minted for {system_user:?} is refused ({why}): {done}"),
        }
    }
}

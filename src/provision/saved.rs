//! A plan saved and applied later, as Terraform applies a saved plan: its serde form (ids,
//! names, tasks and store versions; never a secret), the live state it was computed from, and
//! the check that refuses it, before its first write, once that state changed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::change::Change;
use super::error::{ProvisionError, Result};
use super::live::{self, Assignments};
use super::plan::{Plan, PlanStore, stored_tokens};
use crate::client::Client;
use crate::error::Error;
use crate::ids::{AppId, BusinessId, SystemUserId};
use crate::kinds::AssetRef;
use crate::models::system_user::{SystemUser, SystemUserRole};
use crate::store::{TokenKey, TokenStore, Version};

/// What a plan's changes depend on, as it read it: every system user, their grants (on the
/// kinds listed per user and on the assets scanned one by one), the apps of the managed
/// users, and whether a token store was read (its versions are the plan's `seen`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Basis {
    /// The page budget the lists were read with, to read them again alike.
    pub(crate) max_pages: u32,
    /// Every system user of the business.
    pub(crate) users: BTreeMap<SystemUserId, LiveUser>,
    /// The assets whose holders were read on the asset (pixels, Instagram assets).
    pub(crate) scanned: Vec<AssetRef>,
    /// Every system user's grants.
    pub(crate) grants: BTreeMap<SystemUserId, Vec<Grant>>,
    /// The apps of the managed system users that exist (`None`: the Graph API would not say).
    pub(crate) apps: BTreeMap<SystemUserId, Option<BTreeSet<AppId>>>,
    /// Whether the plan read a token store (a plan made without one cannot mint).
    pub(crate) store_read: bool,
}

/// The version of the saved form this release writes and reads.
const SAVED_FORMAT: u32 = 1;

/// A saved plan's `format`: always [`SAVED_FORMAT`] when written; any other number read back
/// is refused, naming both, since a field a later release added would be silently dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SavedFormat;

impl Serialize for SavedFormat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u32(SAVED_FORMAT)
    }
}

impl<'de> Deserialize<'de> for SavedFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let found = u32::deserialize(d)?;
        if found == SAVED_FORMAT {
            Ok(SavedFormat)
        } else {
            Err(serde::de::Error::custom(format!(
                "saved in format {found}, and this release of meta-business reads format \
                 {SAVED_FORMAT}: plan again with it"
            )))
        }
    }
}

/// A system user as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LiveUser {
    name: Option<String>,
    role: Option<SystemUserRole>,
}

/// One grant as read, its tasks sorted (the order the server lists them in is no change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Grant {
    asset: AssetRef,
    tasks: Vec<String>,
}

impl Basis {
    /// The users and grants a plan read.
    pub(crate) fn read(
        max_pages: u32,
        users: &[SystemUser],
        held: &HashMap<String, Assignments>,
        scanned: &BTreeSet<AssetRef>,
        store_read: bool,
    ) -> Basis {
        Basis {
            max_pages,
            users: users_of(users),
            scanned: scanned.iter().cloned().collect(),
            grants: grants_of(users, held),
            apps: BTreeMap::new(),
            store_read,
        }
    }
}

fn users_of(users: &[SystemUser]) -> BTreeMap<SystemUserId, LiveUser> {
    users
        .iter()
        .map(|u| {
            let user = LiveUser {
                name: u.name.clone(),
                role: u.role.clone(),
            };
            (u.id.clone(), user)
        })
        .collect()
}

fn grants_of(
    users: &[SystemUser],
    held: &HashMap<String, Assignments>,
) -> BTreeMap<SystemUserId, Vec<Grant>> {
    users
        .iter()
        .map(|u| {
            let grants = held
                .get(u.id.as_str())
                .map(|h| {
                    h.iter()
                        .map(|(asset, tasks)| {
                            let mut tasks = tasks.clone();
                            tasks.sort();
                            tasks.dedup();
                            Grant {
                                asset: asset.clone(),
                                tasks,
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            (u.id.clone(), grants)
        })
        .collect()
}

/// A saved plan refused because the live state it was computed from changed since: nothing
/// was written. Plan again.
///
/// ```
/// use meta_business::provision::StalePlan;
/// fn show(stale: &StalePlan) {
///     for change in &stale.changed {
///         eprintln!("changed since the plan was made: {change}");
///     }
/// }
/// # let _ = show;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StalePlan {
    /// The business.
    pub business: BusinessId,
    /// What changed, one line each (a system user created or renamed, a grant added, removed
    /// or changed, an app installed, a stored token written or removed).
    pub changed: Vec<String>,
}

impl fmt::Display for StalePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the saved plan for business {} is stale: {} changed since it was made ({}); nothing was written: plan again",
            self.business,
            self.changed.len(),
            self.changed.join("; ")
        )
    }
}

impl std::error::Error for StalePlan {}

/// Why a plan is not applied, found before its first write.
pub(crate) enum Refusal {
    /// The live state changed since a saved plan was made.
    Stale(StalePlan),
    /// The plan cannot be applied as it is (no store for its tokens, the state unreadable).
    Failed(Change, Error),
}

/// A change that needs the store the plan read.
fn needs_store(change: &Change) -> bool {
    matches!(
        change,
        Change::GenerateToken { .. } | Change::FinishRotation { .. }
    )
}

impl Plan {
    /// Reads a plan saved as JSON (`serde_json::to_string(&plan)`) to apply it later.
    ///
    /// A saved plan holds no secret and no store: give its store again with [`Plan::store`]
    /// when it has token changes. Applying it ([`Plan::apply`]) first reads again what it was
    /// computed from (the system users, their grants and apps, the stored tokens' versions)
    /// and, if any of it changed, writes nothing and reports a [`StalePlan`]
    /// ([`ApplyReport::stale`](super::ApplyReport::stale)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use meta_business::store::MemoryStore;
    /// use meta_business::provision::{self, Plan, PlanOptions, ProvisionError};
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
    /// let saved = serde_json::to_string(&plan)?; // review it, keep it, apply it later
    ///
    /// let loaded = Plan::from_json_str(&saved)?.store(store);
    /// let report = loaded.apply(&client).await.into_result()?; // refused if the business changed
    /// assert_eq!(report.tokens.len(), 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ProvisionError::InvalidPlan`] when the text is not a saved plan.
    pub fn from_json_str(text: &str) -> Result<Plan> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let mut plan: Plan = serde_path_to_error::deserialize(de).map_err(|e| {
            let inner = e.inner();
            ProvisionError::InvalidPlan {
                message: format!(
                    "at {} (line {}, column {}): {inner}",
                    e.path(),
                    inner.line(),
                    inner.column()
                ),
            }
        })?;
        plan.saved = true;
        Ok(plan)
    }

    /// Gives the plan its token store (a saved plan has none: stores are not serializable).
    /// It must be the store the plan was made with: the versions it read there are checked.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(PlanStore(store));
        self
    }

    /// Sends the apply's progress to this sink (a saved plan has none: sinks are not
    /// serializable; a plan made with [`PlanOptions::progress`](super::PlanOptions::progress)
    /// keeps that one).
    pub fn progress(mut self, sink: crate::progress::ProgressSink) -> Self {
        self.progress = Some(sink);
        self
    }

    /// Whether the plan read a token store, which applying it needs again ([`Plan::store`]).
    pub fn needs_store(&self) -> bool {
        self.basis.store_read
    }

    /// Reads again what the plan was computed from and compares: `Ok` when nothing changed.
    /// [`Plan::apply`] does this first for a plan read back with [`Plan::from_json_str`];
    /// call it to check any plan before applying it.
    ///
    /// # Errors
    /// [`ProvisionError::StalePlan`] listing what changed; [`Error::InvalidInput`] when the
    /// plan read a token store and none is given; any request or store error.
    pub async fn verify(&self, client: &Client) -> Result<()> {
        let changed = self.changes_since(client).await?;
        if changed.is_empty() {
            Ok(())
        } else {
            Err(ProvisionError::StalePlan(StalePlan {
                business: self.business.clone(),
                changed,
            }))
        }
    }

    /// Why the plan is not to be applied, found before any write.
    pub(crate) async fn refusal(&self, client: &Client) -> Option<Refusal> {
        let first = self.changes.first()?;
        if !self.basis.store_read
            && let Some(change) = self.changes.iter().find(|c| needs_store(c))
        {
            let err = Error::invalid_input(
                "plan",
                "this plan was made without a token store (a preview): its tokens were planned as if none were stored; plan again with a store (PlanOptions::store) to apply it",
            );
            return Some(Refusal::Failed(change.clone(), err));
        }
        if !self.saved {
            return None;
        }
        match self.verify(client).await {
            Ok(()) => None,
            Err(ProvisionError::StalePlan(stale)) => Some(Refusal::Stale(stale)),
            Err(ProvisionError::Client(err)) => Some(Refusal::Failed(first.clone(), err)),
            Err(other) => Some(Refusal::Failed(
                first.clone(),
                Error::invalid_input("plan", other.to_string()),
            )),
        }
    }

    async fn changes_since(&self, client: &Client) -> Result<Vec<String>> {
        let basis = &self.basis;
        let store = self.store.as_ref().map(|s| &*s.0);
        if basis.store_read && store.is_none() {
            return Err(ProvisionError::Client(Error::invalid_input(
                "store",
                "this plan was made with a token store: give it again (Plan::store) so that the versions it read are checked and its tokens kept there",
            )));
        }
        let pages = basis.max_pages.max(1);
        let users = live::system_users(client, &self.business, pages).await?;
        let mut changed = user_changes(&basis.users, &users_of(&users));
        let everyone: Vec<String> = users.iter().map(|u| u.id.as_str().to_owned()).collect();
        let scanned: BTreeSet<AssetRef> = basis.scanned.iter().cloned().collect();
        let held =
            live::assignments(client, &self.business, &everyone, &scanned, pages, None).await?;
        changed.extend(grant_changes(&basis.grants, &grants_of(&users, &held)));
        for (id, apps) in &basis.apps {
            if !users.iter().any(|u| &u.id == id) {
                continue; // its removal is already listed
            }
            let now = live::installed_apps(client, id.as_str(), pages).await?;
            if &now != apps {
                changed.push(format!(
                    "the apps of system user {id} changed: {} → {}",
                    apps_text(apps),
                    apps_text(&now)
                ));
            }
        }
        if let Some(store) = store {
            // Only the records of the users the plan listed, as its `seen` holds: a record of
            // a user the business no longer lists is nothing the plan acts on.
            let now: BTreeMap<TokenKey, Version> = stored_tokens(store, &self.business)
                .await?
                .into_iter()
                .filter(|found| basis.users.contains_key(&found.token.key.system_user))
                .map(|found| (found.token.key, found.version))
                .collect();
            changed.extend(token_changes(&self.seen, &now));
        }
        Ok(changed)
    }
}

fn user_changes(
    then: &BTreeMap<SystemUserId, LiveUser>,
    now: &BTreeMap<SystemUserId, LiveUser>,
) -> Vec<String> {
    let name = |u: &LiveUser| u.name.clone().unwrap_or_default();
    let mut out = Vec::new();
    for (id, was) in then {
        match now.get(id) {
            None => out.push(format!("system user {id} ({:?}) is gone", name(was))),
            Some(is) if is.name != was.name => out.push(format!(
                "system user {id} was renamed from {:?} to {:?}",
                name(was),
                name(is)
            )),
            Some(is) if is.role != was.role => {
                out.push(format!("the role of system user {id} changed"))
            }
            Some(_) => {}
        }
    }
    for (id, is) in now.iter().filter(|(id, _)| !then.contains_key(*id)) {
        out.push(format!("system user {id} ({:?}) was created", name(is)));
    }
    out
}

fn grant_changes(
    then: &BTreeMap<SystemUserId, Vec<Grant>>,
    now: &BTreeMap<SystemUserId, Vec<Grant>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (id, was) in then {
        let Some(is) = now.get(id) else { continue };
        let find = |list: &[Grant], asset: &AssetRef| {
            list.iter()
                .find(|g| &g.asset == asset)
                .map(|g| g.tasks.clone())
        };
        for g in was {
            let what = format!("{} {}", g.asset.kind_name(), g.asset.id());
            match find(is, &g.asset) {
                None => out.push(format!(
                    "the grant of system user {id} on {what} was removed"
                )),
                Some(tasks) if tasks != g.tasks => out.push(format!(
                    "the tasks of system user {id} on {what} changed: {} → {}",
                    g.tasks.join(","),
                    tasks.join(",")
                )),
                Some(_) => {}
            }
        }
        for g in is.iter().filter(|g| find(was, &g.asset).is_none()) {
            out.push(format!(
                "system user {id} was given {} {} ({})",
                g.asset.kind_name(),
                g.asset.id(),
                g.tasks.join(",")
            ));
        }
    }
    out
}

fn token_changes(
    then: &BTreeMap<TokenKey, Version>,
    now: &BTreeMap<TokenKey, Version>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (key, was) in then {
        match now.get(key) {
            None => out.push(format!("the stored token of {key} was removed")),
            Some(is) if is != was => out.push(format!(
                "the stored token of {key} was written again ({was} → {is})"
            )),
            Some(_) => {}
        }
    }
    for key in now.keys().filter(|k| !then.contains_key(*k)) {
        out.push(format!("a token of {key} was stored"));
    }
    out
}

fn apps_text(apps: &Option<BTreeSet<AppId>>) -> String {
    match apps {
        None => "unreadable".to_owned(),
        Some(apps) if apps.is_empty() => "none".to_owned(),
        Some(apps) => apps.iter().map(AppId::as_str).collect::<Vec<_>>().join(","),
    }
}

/// The plan's `seen` in its saved form: a list (a JSON object's keys are strings, a key is not).
pub(crate) mod seen_form {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Seen {
        key: TokenKey,
        version: Version,
    }

    pub(crate) fn serialize<S: serde::Serializer>(
        seen: &BTreeMap<TokenKey, Version>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(seen.iter().map(|(key, version)| Seen {
            key: key.clone(),
            version: *version,
        }))
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<BTreeMap<TokenKey, Version>, D::Error> {
        let list = Vec::<Seen>::deserialize(d)?;
        Ok(list.into_iter().map(|s| (s.key, s.version)).collect())
    }
}

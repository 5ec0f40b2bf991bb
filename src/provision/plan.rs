//! Diffing the desired state against the live business: an ordered list of changes, checked
//! against the quota as a whole before anything is written.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use super::change::Change;
use super::error::{ProvisionError, Result};
use super::identity::{Drift, Identities};
use super::left_alone::NotManaged;
use super::live::{self, Owned};
use super::saved::Basis;
use super::spec::{Spec, fold_name};
use super::tier;
use super::token_plan::TokenContext;
use super::user_changes::{
    app_changes, assignment_changes, new_user_changes, scanned_assets, strangers,
};
use crate::client::{Client, QuotaPolicy};
use crate::error::Error;
use crate::ids::{BusinessId, SystemUserId};
use crate::models::system_user::SystemUser;
use crate::progress::{ProgressSink, Reporter, Workflow};
use crate::quota::QuotaUsage;
use crate::store::{StoredToken, TokenKey, TokenStore, Version, Versioned};

/// Options for [`plan`].
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use meta_business::store::FileStore;
/// use meta_business::provision::PlanOptions;
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let options = PlanOptions::default()
///     .store(Arc::new(FileStore::open("/var/lib/my-service/tokens")?)) // where tokens live
///     .renew_within(Duration::from_secs(14 * 86_400));
/// # let _ = options;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Where the system users' tokens live. A desired state that asks for tokens needs one:
    /// a minted token is written there before anything else happens, and the next plan
    /// checks it there instead of minting another.
    pub store: Option<Arc<dyn TokenStore>>,
    /// The ids of managed system users, by their name in the desired state (from
    /// [`Plan::identities`] or [`ApplyReport::identities`](super::ApplyReport::identities) of
    /// an earlier run), so that one renamed by hand is still found. The token store's
    /// metadata gives the same for the users that have a stored token.
    pub identities: BTreeMap<String, SystemUserId>,
    /// Renew a stored token that expires within this window (default 7 days).
    pub renew_within: Option<Duration>,
    /// Before minting a token for an existing system user with none stored, invalidate every
    /// token it has (default `false`): they may be valid and held by nobody.
    pub invalidate_orphans: bool,
    /// The most pages the plan reads of any one list (default
    /// [`DEFAULT_WORKFLOW_MAX_PAGES`](crate::pagination::DEFAULT_WORKFLOW_MAX_PAGES)). A list it cannot
    /// read to the end within them fails the plan with [`Error::Pagination`]: a plan made
    /// from part of the system users could create a duplicate or exceed the quota.
    pub max_pages: Option<u32>,
    /// Where the plan's progress goes, and the apply's of the plan it makes (see
    /// [`ProgressSink`]).
    pub progress: Option<ProgressSink>,
    /// Plan without a token store (default `false`: a desired state that asks for tokens
    /// needs one): a preview, such as a dry run before the store exists. Tokens are planned as
    /// if none were stored, and [`Plan::apply`] refuses the plan's token changes before any
    /// write.
    pub preview: bool,
}

impl PlanOptions {
    /// Ensures tokens through this store.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Records that the managed system user `name` (as the desired state names it) has this
    /// id; the plan finds it by id even if someone renamed it.
    pub fn identity(mut self, name: impl Into<String>, id: impl Into<SystemUserId>) -> Self {
        self.identities.insert(name.into(), id.into());
        self
    }

    /// Renews stored tokens expiring within this window.
    pub fn renew_within(mut self, renew_within: Duration) -> Self {
        self.renew_within = Some(renew_within);
        self
    }

    /// Invalidates every earlier token of a system user before minting one for it, when no
    /// token of it is stored (see [`DriftKind::OrphanRisk`](super::DriftKind::OrphanRisk)).
    pub fn invalidate_orphans(mut self, invalidate_orphans: bool) -> Self {
        self.invalidate_orphans = invalidate_orphans;
        self
    }

    /// Sends the plan's progress, and its apply's, to this sink.
    pub fn progress(mut self, progress: ProgressSink) -> Self {
        self.progress = Some(progress);
        self
    }
    /// Plans without requiring a token store or an app secret, for a preview; see
    /// [`PlanOptions::preview`](#structfield.preview).
    pub fn preview(mut self, preview: bool) -> Self {
        self.preview = preview;
        self
    }

    /// Reads at most this many pages of any one list (at least 1); see
    /// [`PlanOptions::max_pages`](#structfield.max_pages).
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = Some(pages.max(1));
        self
    }
}

/// The store a plan was made with, for its apply.
#[derive(Debug, Clone)]
pub(crate) struct PlanStore(pub(crate) Arc<dyn TokenStore>);

/// What applying a desired state would change, in the order it would be done, with what
/// drifted and what it leaves alone.
///
/// ```
/// use std::sync::Arc;
/// use meta_business::store::MemoryStore;
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
/// let options = PlanOptions::default().store(Arc::new(MemoryStore::new()));
/// let plan = provision::plan(&client, &spec, &options).await?;
/// let report = plan.apply(&client).await.into_result()?;
/// assert_eq!(report.tokens.len(), 1); // and in the store
/// // Applied, the desired state holds: the token is found in the store, not minted again.
/// assert!(provision::plan(&client, &spec, &options).await?.is_empty());
/// # Ok(())
/// # }
/// ```
///
/// A plan serializes (JSON) to be reviewed and applied later: [`Plan::from_json_str`] reads it
/// back, and applying it refuses it if the business changed since (see there). The saved form
/// holds ids, names, tasks and store versions, never a secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plan {
    /// The saved form's version, written first; a plan saved by a later release is refused
    /// rather than misread (one saved before the field existed is format 1).
    #[serde(default)]
    pub(crate) format: super::saved::SavedFormat,
    /// The business.
    pub business: BusinessId,
    /// The quota policy the plan was checked against.
    pub policy: QuotaPolicy,
    /// System users now, against the quota.
    pub quota: QuotaUsage,
    /// Admin and regular system users after the plan is applied.
    pub after: (u32, u32),
    /// The changes, system user by system user (each one's in a safe order), so that a refusal
    /// leaves no system user half-made behind the one refused.
    pub changes: Vec<Change>,
    /// What differs from the desired state beyond missing grants, and what is done about it.
    pub drift: Vec<Drift>,
    /// What the plan leaves alone, with why.
    pub not_managed: Vec<NotManaged>,
    /// Things the plan cannot change and a person should know.
    pub notes: Vec<String>,
    /// Ids of the system users that exist, by name.
    #[serde(rename = "identities")]
    pub(crate) ids: BTreeMap<String, SystemUserId>,
    #[serde(skip)]
    pub(crate) store: Option<PlanStore>,
    /// The version of each key that held a token when the plan was made: applying writes a
    /// key only as the plan saw it (at that version, or still empty), so a token another run
    /// stored since is never overwritten, and replaced only as read.
    #[serde(with = "super::saved::seen_form")]
    pub(crate) seen: BTreeMap<TokenKey, Version>,
    #[serde(skip)]
    pub(crate) progress: Option<ProgressSink>,
    /// The live state the plan was computed from, checked again before a saved plan is
    /// applied.
    #[serde(rename = "fingerprint")]
    pub(crate) basis: Basis,
    /// Whether the plan was read back from its saved form (and is checked before applying).
    #[serde(skip, default = "read_back")]
    pub(crate) saved: bool,
}

fn read_back() -> bool {
    true
}

impl Plan {
    /// Whether the business already matches the desired state.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use meta_business::store::MemoryStore;
    /// use meta_business::provision::{self, PlanOptions};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # use meta_business::provision::{Spec, SystemUserBuilder};
    /// # use meta_business::AdAccountTask;
    /// # let spec = Spec::builder(demo.business_id).system_user(
    /// #     SystemUserBuilder::new("ads-reporting-server")
    /// #         .ad_account(demo.ad_accounts[0], [AdAccountTask::Analyze]),
    /// # ).build()?;
    /// let plan = provision::plan(&client, &spec, &PlanOptions::default()).await?;
    /// plan.apply(&client).await.into_result()?;
    /// assert!(provision::plan(&client, &spec, &PlanOptions::default()).await?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The ids of the managed system users that exist, by their name in the desired state.
    /// Keep them and pass them back ([`PlanOptions::identity`]) if the users have no stored
    /// token: a user renamed by hand is then still recognised.
    pub fn identities(&self) -> &BTreeMap<String, SystemUserId> {
        &self.ids
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
        if !self.drift.is_empty() {
            writeln!(f, "Drift:")?;
            for drift in &self.drift {
                writeln!(f, "  {drift}")?;
            }
        }
        if !self.not_managed.is_empty() {
            writeln!(f, "Not managed (left alone):")?;
            for item in &self.not_managed {
                writeln!(f, "  {item}")?;
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

/// Reads the live business and computes the changes that bring it to `spec`.
///
/// ```
/// use std::sync::Arc;
/// use meta_business::store::MemoryStore;
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
/// let options = PlanOptions::default().store(Arc::new(MemoryStore::new()));
/// let plan = provision::plan(&client, &spec, &options).await?;
/// print!("{plan}"); // create, install, assign, generate token: in a safe order
/// assert!(!plan.is_empty());
/// // Planning only reads.
/// assert!(emulator.requests().iter().all(|r| r.method == "GET"));
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`ProvisionError::PlanExceedsQuota`] naming the system users that do not fit;
/// [`Error::Pagination`] or [`Error::TooManyItems`] when a list could not be read to its end
/// within [`PlanOptions::max_pages`](PlanOptions#structfield.max_pages);
/// [`ProvisionError::InvalidSpec`] when two live system users share a name the file uses, or
/// the file's `access_tier` contradicts the business or the client; [`Error::InvalidInput`]
/// when tokens are wanted without a token store or an app secret; any request error.
pub async fn plan(client: &Client, spec: &Spec, options: &PlanOptions) -> Result<Plan> {
    // Reading the business, one step per system user, then the quota.
    let total = spec.system_users.len() + 2;
    let mut progress = Reporter::start(options.progress.as_ref(), Workflow::Plan, Some(total));
    progress.step(format!("read business {}", spec.business));
    let planned = async {
        check_options(client, spec, options)?;
        let mut out = planned(client, spec, options, &mut progress).await?;
        progress.next(format!(
            "check {} change(s) against the quota",
            out.changes.len()
        ));
        out.after = tier::fit_quota(&out.business, out.policy, &out.quota, &out.changes)?;
        progress.done();
        out.progress = options.progress.clone();
        Ok(out)
    }
    .await;
    progress.finish(planned.as_ref().err().map(|e| e as &dyn fmt::Display));
    planned
}

/// A stored token expiring within this is renewed, unless `PlanOptions::renew_within` says.
const DEFAULT_RENEW_WITHIN: Duration = Duration::from_secs(7 * 86_400);

async fn planned(
    client: &Client,
    spec: &Spec,
    options: &PlanOptions,
    progress: &mut Reporter<'_>,
) -> Result<Plan> {
    let business = &spec.business;
    let pages = options
        .max_pages
        .unwrap_or(crate::pagination::DEFAULT_WORKFLOW_MAX_PAGES);
    let users = live::system_users(client, business, pages).await?;
    let policy = tier::effective_policy(client, spec, &users)?;
    // The business's stored tokens, read once: they say who was provisioned (by name) and
    // which tokens to check.
    let read = match options.store.as_deref() {
        Some(store) => stored_tokens(store, business).await?,
        None => Vec::new(),
    };
    let seen = seen_versions(&read, &users);
    let stored: Vec<StoredToken> = read.into_iter().map(|found| found.token).collect();
    let known = known_ids(options, &stored);

    // Pixels and Instagram assets have no per-user edge: read their assigned users instead.
    let owned = if spec.prune {
        Some(Owned::read(client, business, pages, None).await?)
    } else {
        None
    };
    let scanned = scanned_assets(spec, owned.as_ref());
    // Every user's grants: matching needs them (a near name holding the file's grants), and
    // so does the list of what is left alone.
    let everyone: Vec<String> = users.iter().map(|u| u.id.as_str().to_owned()).collect();
    let held = live::assignments(client, business, &everyone, &scanned, pages, None).await?;
    let identities = Identities::resolve(spec, &users, &known, &held)?;
    let basis = Basis::read(pages, &users, &held, &scanned, options.store.is_some());

    let renew_within = options.renew_within.unwrap_or(DEFAULT_RENEW_WITHIN);
    let tokens = TokenContext {
        client,
        business,
        stored: &stored,
        renew_within,
        invalidate_orphans: options.invalidate_orphans,
    };
    let mut out = Plan {
        format: super::saved::SavedFormat,
        business: business.clone(),
        policy,
        quota: QuotaUsage::count(business.clone(), policy, &users),
        after: (0, 0),
        changes: Vec::new(),
        drift: identities.drift,
        not_managed: Vec::new(),
        notes: identities.notes,
        ids: identities.ids,
        store: options.store.clone().map(PlanStore),
        seen,
        progress: None,
        basis,
        saved: false,
    };
    out.notes.extend(preview_note(spec, options));
    for wanted in &spec.system_users {
        progress.next(format!("system user {:?}", wanted.name));
        if identities.withheld.contains(&wanted.name) {
            continue;
        }
        let id = out.ids.get(&wanted.name).cloned();
        let mut mine: Vec<Change> = match &id {
            None => new_user_changes(wanted),
            Some(id) => {
                let mut mine: Vec<Change> = identities
                    .renames
                    .iter()
                    .filter(|c| c.system_user() == wanted.name)
                    .cloned()
                    .collect();
                mine.extend(app_changes(client, spec.prune, wanted, id, &mut out, pages).await?);
                let current = held.get(id.as_str()).cloned().unwrap_or_default();
                mine.extend(assignment_changes(
                    spec.prune,
                    wanted,
                    &current,
                    &mut out.not_managed,
                ));
                mine
            }
        };
        let token = tokens.plan(wanted, id.as_ref()).await?;
        mine.extend(token.changes);
        out.drift.extend(token.drift);
        out.not_managed.extend(token.not_managed);
        mine.sort_by_key(Change::order);
        out.changes.extend(mine);
    }
    out.not_managed
        .extend(strangers(spec.prune, &users, &out.ids, &held));
    super::partners::not_managed(client, business, pages, &mut out).await;
    Ok(out)
}

/// Every input the plan needs, before any request.
fn check_options(client: &Client, spec: &Spec, options: &PlanOptions) -> Result<()> {
    let wanting: Vec<&str> = spec
        .system_users
        .iter()
        .filter(|s| s.token.is_some())
        .map(|s| s.name.as_str())
        .collect();
    if wanting.is_empty() || options.preview {
        return Ok(());
    }
    if options.store.is_none() {
        return Err(ProvisionError::Client(Error::invalid_input(
            "store",
            format!(
                "the desired state asks for tokens ({}); pass a token store (PlanOptions::store) so that each token is kept where the next plan finds it, not minted again on every run",
                wanting.join(", ")
            ),
        )));
    }
    if !client.has_app_secret() {
        return Err(ProvisionError::Client(Error::invalid_input(
            "app_secret",
            "the desired state asks for tokens; generating them needs the app secret (appsecret_proof)",
        )));
    }
    Ok(())
}

/// What a preview (a plan without a store) says about the tokens it planned.
fn preview_note(spec: &Spec, options: &PlanOptions) -> Option<String> {
    let wants_tokens = spec.system_users.iter().any(|s| s.token.is_some());
    (options.store.is_none() && wants_tokens).then(|| {
        "no token store was given (a preview): the tokens are planned as if none were stored; applying needs one".to_owned()
    })
}

/// The stored tokens of this business.
pub(super) async fn stored_tokens(
    store: &dyn TokenStore,
    business: &BusinessId,
) -> Result<Vec<Versioned>> {
    let mut stored = Vec::new();
    for key in store.keys().await? {
        if &key.business == business
            && let Some(found) = store.get(&key).await?
        {
            stored.push(found);
        }
    }
    Ok(stored)
}

/// The version of each stored key of a system user the plan listed. A key of a user it did
/// not list (one another run created after the list was read, then stored a token for) is
/// left out: the plan decided nothing about that token, so applying writes there only if the
/// key is still empty, and never over that run's token.
fn seen_versions(read: &[Versioned], users: &[SystemUser]) -> BTreeMap<TokenKey, Version> {
    read.iter()
        .filter(|found| users.iter().any(|u| u.id == found.token.key.system_user))
        .map(|found| (found.token.key.clone(), found.version))
        .collect()
}

/// The ids earlier runs recorded, by folded name: the store's metadata, then the caller's.
fn known_ids(options: &PlanOptions, stored: &[StoredToken]) -> BTreeMap<String, SystemUserId> {
    let mut known: BTreeMap<String, SystemUserId> = stored
        .iter()
        .filter_map(|t| {
            let name = t.meta.system_user_name.as_deref()?;
            Some((fold_name(name), t.key.system_user.clone()))
        })
        .collect();
    for (name, id) in &options.identities {
        known.insert(fold_name(name), id.clone());
    }
    known
}

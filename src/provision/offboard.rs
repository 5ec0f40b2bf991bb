//! Offboarding a system user: the Graph API cannot delete one, so revoke what it holds.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::error::{ProvisionError, Result};
use super::forget;
use super::live::{self, Owned};
use crate::client::Client;
use crate::error::Error;
use crate::ids::{AppId, BusinessId, SystemUserId};
use crate::kinds::AssetRef;
use crate::progress::{ProgressSink, Reporter, Workflow};
use crate::store::{TokenKey, TokenStore};

/// The prefix a decommissioned system user's name gets.
pub const DECOMMISSIONED: &str = "[decommissioned";

/// Options for [`offboard`].
///
/// ```
/// use meta_business::provision::OffboardOptions;
/// let mut options = OffboardOptions::default();
/// options.mark_decommissioned = false; // keep the name as it is
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OffboardOptions {
    /// Rename it `[decommissioned YYYY-MM-DD] <name>` (default `true`), since it cannot be
    /// deleted.
    pub mark_decommissioned: bool,
    /// A token store to remove the system user's tokens from, once they are invalidated.
    pub store: Option<Arc<dyn TokenStore>>,
    /// Offboard the system user even when it is the one whose token the client uses (default
    /// `false`). Offboarding it invalidates the client's own token: every later call of the
    /// client fails, this offboarding's own later steps included.
    pub allow_self: bool,
    /// The most pages read of any one list (default
    /// [`DEFAULT_WORKFLOW_MAX_PAGES`](crate::pagination::DEFAULT_WORKFLOW_MAX_PAGES)); a list that does
    /// not end within them stops offboarding at the read, before any write when it is the
    /// list of system users.
    pub max_pages: Option<u32>,
    /// Where offboarding's progress goes (see [`ProgressSink`]).
    pub progress: Option<ProgressSink>,
}

impl Default for OffboardOptions {
    fn default() -> Self {
        OffboardOptions {
            mark_decommissioned: true,
            store: None,
            allow_self: false,
            max_pages: None,
            progress: None,
        }
    }
}

impl OffboardOptions {
    /// Removes the system user's tokens from this store after invalidating them.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Offboards the system user even when the client's own token is its token.
    pub fn allow_self(mut self, allow_self: bool) -> Self {
        self.allow_self = allow_self;
        self
    }

    /// Sends offboarding's progress to this sink.
    pub fn progress(mut self, progress: ProgressSink) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Reads at most this many pages of any one list (at least 1).
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = Some(pages.max(1));
        self
    }
}

/// What offboarding did, on failure as on success: a failure after the first write is inside
/// the report, so a rerun and a person both know where it stopped.
///
/// ```
/// use meta_business::provision::{self, OffboardOptions, OffboardStep};
/// use meta_business::testing::{Fault, FaultRule};
/// use meta_business::PageTask;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::provision::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// client.page(demo.pages[0]).assign(&su.id, [PageTask::Analyze]).send().await?;
/// emulator.inject(FaultRule::new(Fault::graph(200)).on("DELETE", "/assigned_users"));
/// let report = provision::offboard(&client, demo.business_id, &su.id, &OffboardOptions::default()).await?;
/// assert!(report.tokens_invalidated && !report.is_complete());
/// assert!(matches!(report.failed, Some((OffboardStep::Unassign(_), _))));
/// assert_eq!(report.not_done, [OffboardStep::Rename]);
/// print!("{report}");
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[non_exhaustive]
#[must_use = "a failed step is inside the report; check `failed` or call `into_result()`"]
pub struct OffboardReport {
    /// The system user.
    pub system_user: SystemUserId,
    /// Its name before.
    pub name: String,
    /// Every token of it was invalidated.
    pub tokens_invalidated: bool,
    /// The keys of its tokens removed from the store, after they were invalidated.
    pub tokens_removed: Vec<TokenKey>,
    /// The assets it was removed from.
    pub removed: Vec<AssetRef>,
    /// Assets it keeps, with why (pixels: the Graph API has no removal).
    pub left: Vec<(AssetRef, String)>,
    /// Apps still installed for it: the Graph API has no uninstall, so they stay (their tokens
    /// are invalidated with the rest); remove them in Business Settings.
    pub apps_left: Vec<AppId>,
    /// Its new name, when renamed now.
    pub renamed_to: Option<String>,
    /// The step that failed, and why; the steps after it were not attempted.
    pub failed: Option<(OffboardStep, Error)>,
    /// The steps not attempted because an earlier one failed.
    pub not_done: Vec<OffboardStep>,
    /// What a person should know: that whose token the client uses could not be learned (so
    /// offboarding went ahead without knowing whether it was the client's own), or that the
    /// name was shortened to fit the decommission prefix.
    pub notes: Vec<String>,
}

/// One step of offboarding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OffboardStep {
    /// Invalidate every token of the system user.
    InvalidateTokens,
    /// Remove its tokens from the store.
    ForgetTokens,
    /// Read the assets it holds.
    ReadAssets,
    /// Remove it from one asset.
    Unassign(AssetRef),
    /// Rename it to mark it decommissioned.
    Rename,
}

impl fmt::Display for OffboardStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OffboardStep::InvalidateTokens => f.write_str("invalidate its tokens"),
            OffboardStep::ForgetTokens => f.write_str("remove its tokens from the store"),
            OffboardStep::ReadAssets => f.write_str("read the assets it holds"),
            OffboardStep::Unassign(asset) => {
                write!(f, "remove it from {} {}", asset.kind_name(), asset.id())
            }
            OffboardStep::Rename => f.write_str("rename it as decommissioned"),
        }
    }
}

impl OffboardReport {
    /// Whether every step was done.
    pub fn is_complete(&self) -> bool {
        self.failed.is_none()
    }

    /// `Ok(self)` when every step was done, else the report inside an error.
    ///
    /// # Errors
    /// [`IncompleteOffboard`] when a step failed.
    pub fn into_result(self) -> std::result::Result<OffboardReport, IncompleteOffboard> {
        if self.failed.is_some() {
            Err(IncompleteOffboard(Box::new(self)))
        } else {
            Ok(self)
        }
    }
}

/// An offboarding that stopped at a failed step; the report inside says what was done.
#[derive(Debug)]
pub struct IncompleteOffboard(pub Box<OffboardReport>);

impl fmt::Display for IncompleteOffboard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.failed {
            Some((step, err)) => write!(
                f,
                "offboarding system user {} stopped at \"{step}\" ({} step(s) not attempted; run it again to finish): {err}",
                self.0.system_user,
                self.0.not_done.len()
            ),
            None => f.write_str("offboarding did not stop"),
        }
    }
}

impl std::error::Error for IncompleteOffboard {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.failed.as_ref().map(|(_, e)| e as _)
    }
}

impl Serialize for OffboardReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("OffboardReport", 11)?;
        st.serialize_field("system_user", &self.system_user)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("tokens_invalidated", &self.tokens_invalidated)?;
        st.serialize_field("tokens_removed", &self.tokens_removed)?;
        st.serialize_field("removed", &self.removed)?;
        st.serialize_field("left", &self.left)?;
        st.serialize_field("apps_left", &self.apps_left)?;
        st.serialize_field("renamed_to", &self.renamed_to)?;
        let failed = self
            .failed
            .as_ref()
            .map(|(step, err)| serde_json::json!({"step": step, "error": err.to_string()}));
        st.serialize_field("failed", &failed)?;
        st.serialize_field("not_done", &self.not_done)?;
        st.serialize_field("notes", &self.notes)?;
        st.end()
    }
}

impl fmt::Display for OffboardReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Offboarded system user {} ({}):",
            self.system_user, self.name
        )?;
        writeln!(
            f,
            "  tokens invalidated: {}",
            if self.tokens_invalidated { "yes" } else { "no" }
        )?;
        for key in &self.tokens_removed {
            writeln!(f, "  token removed from the store: {key}")?;
        }
        if self.removed.is_empty() && self.failed.is_none() {
            writeln!(f, "  no asset assignment to remove")?;
        }
        for asset in &self.removed {
            writeln!(f, "  removed from {} {}", asset.kind_name(), asset.id())?;
        }
        for (asset, why) in &self.left {
            writeln!(f, "  still on {} {}: {why}", asset.kind_name(), asset.id())?;
        }
        for app in &self.apps_left {
            writeln!(
                f,
                "  app {app} still installed: the Graph API cannot uninstall it (its tokens are invalidated); remove it in Business Settings"
            )?;
        }
        match &self.renamed_to {
            Some(name) => writeln!(f, "  renamed to {name:?}")?,
            None => writeln!(f, "  name unchanged")?,
        }
        if let Some((step, err)) = &self.failed {
            writeln!(f, "  FAILED   {step}: {err}")?;
            for step in &self.not_done {
                writeln!(f, "  not done {step}")?;
            }
            writeln!(
                f,
                "  Run offboard again to finish: done steps are harmless to repeat."
            )?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        Ok(())
    }
}

/// Invalidates every token of a system user, removes every asset assignment it has, and (by
/// default) renames it to mark it decommissioned. Running it again is harmless.
///
/// ```
/// use meta_business::provision::{self, OffboardOptions};
/// use meta_business::PageTask;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::provision::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// client.page(demo.pages[0]).assign(&su.id, [PageTask::Analyze]).send().await?;
/// let report = provision::offboard(&client, demo.business_id, &su.id, &OffboardOptions::default())
///     .await?
///     .into_result()?;
/// assert!(report.tokens_invalidated && report.left.is_empty());
/// assert!(emulator.assignments(demo.pages[0]).is_empty());
/// print!("{report}");
/// # Ok(()) }
/// ```
///
/// Before any write it learns whose token the client uses (`debug_token` as the client's app
/// when its id and secret are configured, else `GET /me`) and refuses to offboard that system
/// user unless [`OffboardOptions::allow_self`] is set; when neither answer says, it goes ahead
/// and says so in [`OffboardReport::notes`]. The decommission rename always fits Meta's name
/// limit ([`MAX_NAME_CHARS`](crate::MAX_NAME_CHARS)): a long name is shortened, and the report
/// keeps the id and the whole old name.
///
/// # Errors
/// [`Error::InvalidInput`] when the id is malformed, not a system user of the business, or the
/// system user whose token the client uses (without `allow_self`), or a request error before
/// anything was written (a list of system users longer than
/// [`OffboardOptions::max_pages`](OffboardOptions#structfield.max_pages) included). A failure after the first write is in the
/// report ([`OffboardReport::failed`]), with what was done before it.
pub async fn offboard(
    client: &Client,
    business: impl Into<BusinessId>,
    system_user: impl Into<SystemUserId>,
    options: &OffboardOptions,
) -> Result<OffboardReport> {
    let (business, id) = (business.into(), system_user.into());
    let mut progress = Reporter::start(options.progress.as_ref(), Workflow::Offboard, None);
    let done = offboarded(client, business, id, options, &mut progress).await;
    progress.finish(done.as_ref().err().map(|e| e as &dyn fmt::Display));
    done
}

async fn offboarded(
    client: &Client,
    business: BusinessId,
    id: SystemUserId,
    options: &OffboardOptions,
    progress: &mut Reporter<'_>,
) -> Result<OffboardReport> {
    progress.step(format!("check system user {id} of business {business}"));
    business.validate()?;
    id.validate()?;
    let pages = pages_of(options);
    let users = live::system_users(client, &business, pages).await?;
    let Some(user) = users.iter().find(|u| u.id == id) else {
        return Err(ProvisionError::Client(Error::invalid_input(
            "system_user_id",
            format!("{id} is not a system user of business {business}"),
        )));
    };
    let mut notes = Vec::new();
    match super::caller::caller_id(client).await {
        Ok(caller) if caller == id.as_str() && !options.allow_self => {
            return Err(ProvisionError::Client(Error::invalid_input(
                "system_user_id",
                format!(
                    "{id} is the system user whose token this client uses: offboarding it would invalidate the client's own token. Offboard it with another admin's token, or set OffboardOptions::allow_self"
                ),
            )));
        }
        Ok(_) => {}
        Err(why) => notes.push(format!(
            "whose token the client uses could not be learned ({why}); offboarding went ahead without knowing whether it is {id}'s own"
        )),
    }
    let mut report = OffboardReport {
        system_user: id.clone(),
        name: user.name.clone().unwrap_or_default(),
        tokens_invalidated: false,
        tokens_removed: Vec::new(),
        removed: Vec::new(),
        left: Vec::new(),
        apps_left: Vec::new(),
        renamed_to: None,
        failed: None,
        not_done: Vec::new(),
        notes,
    };
    // Read before invalidating: only these records die with it; one stored after this read
    // is another run's newer token, never deleted here.
    let read = match &options.store {
        Some(store) => Some(forget::read(&**store, &business, &id).await?),
        None => None,
    };
    progress.done();
    progress.step(OffboardStep::InvalidateTokens.to_string());
    client
        .system_user(id.clone())
        .invalidate_tokens()
        .send()
        .await?;
    report.tokens_invalidated = true;
    progress.done();
    // From here on, something was written: a failure goes in the report.
    if let Err(Stop { step, err, later }) =
        steps(client, &business, options, read, &mut report, progress).await
    {
        progress.failed(&err);
        report.not_done = remaining(&step, later, &report, options);
        report.failed = Some((step, err));
    }
    Ok(report)
}

/// Where offboarding stopped: the step, why, and the removals that were to follow it.
struct Stop {
    step: OffboardStep,
    err: Error,
    later: Vec<OffboardStep>,
}

impl Stop {
    fn at(step: OffboardStep) -> impl FnOnce(Error) -> Stop {
        move |err| Stop {
            step,
            err,
            later: Vec::new(),
        }
    }
}

/// The steps after the tokens are invalidated.
async fn steps(
    client: &Client,
    business: &BusinessId,
    options: &OffboardOptions,
    read: Option<forget::Read>,
    report: &mut OffboardReport,
    progress: &mut Reporter<'_>,
) -> std::result::Result<(), Stop> {
    let id = report.system_user.clone();
    // Invalidated first: a token removed from the store but still valid would be forgotten,
    // not gone.
    if let (Some(store), Some(read)) = (&options.store, read) {
        progress.step(OffboardStep::ForgetTokens.to_string());
        let at =
            |e: crate::store::StoreError| Stop::at(OffboardStep::ForgetTokens)(Error::Store(e));
        let forgot = forget::forget(&**store, read).await.map_err(at)?;
        report.tokens_removed.extend(forgot.removed);
        report.notes.extend(forget::changed_note(&forgot.changed));
        progress.done();
    }
    progress.step(OffboardStep::ReadAssets.to_string());
    let read = |e| Stop::at(OffboardStep::ReadAssets)(e);
    let pages = pages_of(options);
    let owned = Owned::read(client, business, pages, None)
        .await
        .map_err(read)?;
    let scanned = owned.unlisted().cloned().collect();
    let held = live::assignments(client, business, &[id.to_string()], &scanned, pages, None)
        .await
        .map_err(read)?
        .remove(id.as_str())
        .unwrap_or_default();
    report.apps_left = live::installed_apps(client, id.as_str(), pages)
        .await
        .map_err(read)?
        .map(|apps| apps.into_iter().collect())
        .unwrap_or_default();
    progress.done();
    let (removable, kept): (Vec<AssetRef>, Vec<AssetRef>) = held
        .into_keys()
        .partition(|asset| asset.info().can_unassign);
    for asset in kept {
        let why = format!(
            "the Graph API cannot remove {} assignments: remove it in Business Settings",
            asset.kind_name()
        );
        report.left.push((asset, why));
    }
    for (i, asset) in removable.iter().enumerate() {
        progress.step(OffboardStep::Unassign(asset.clone()).to_string());
        if let Err(err) = super::apply::unassign(client, asset, &id).await {
            return Err(Stop {
                step: OffboardStep::Unassign(asset.clone()),
                err,
                later: removable[i + 1..]
                    .iter()
                    .cloned()
                    .map(OffboardStep::Unassign)
                    .collect(),
            });
        }
        report.removed.push(asset.clone());
        progress.done();
    }
    if options.mark_decommissioned && !report.name.starts_with(DECOMMISSIONED) {
        let date = crate::time::date(crate::time::unix_now());
        let new_name = decommissioned_name(&date, &report.name);
        progress.step(OffboardStep::Rename.to_string());
        if !new_name.ends_with(report.name.as_str()) {
            report.notes.push(format!(
                "the name was shortened to fit the decommission prefix into Meta's {}-character limit; its whole old name is {:?}",
                crate::models::MAX_NAME_CHARS,
                report.name
            ));
        }
        client
            .business(business.clone())
            .system_users()
            .rename(id.clone(), new_name.as_str())
            .send()
            .await
            .map_err(Stop::at(OffboardStep::Rename))?;
        report.renamed_to = Some(new_name);
        progress.done();
    }
    Ok(())
}

/// The page budget of each list offboarding reads.
fn pages_of(options: &OffboardOptions) -> u32 {
    options
        .max_pages
        .unwrap_or(crate::pagination::DEFAULT_WORKFLOW_MAX_PAGES)
}

/// `[decommissioned <date>] <name>`, with the old name cut (and marked `…`) where the whole
/// would pass Meta's name limit: a rename past it is refused, and offboarding would stop there
/// on every run.
pub(crate) fn decommissioned_name(date: &str, name: &str) -> String {
    let prefix = format!("{DECOMMISSIONED} {date}] ");
    let room = crate::models::MAX_NAME_CHARS.saturating_sub(prefix.chars().count());
    let name = name.trim();
    if name.chars().count() <= room {
        return format!("{prefix}{name}");
    }
    let kept: String = name.chars().take(room.saturating_sub(1)).collect();
    format!("{prefix}{}…", kept.trim_end())
}

/// The steps after `failed` that were not attempted.
fn remaining(
    failed: &OffboardStep,
    later: Vec<OffboardStep>,
    report: &OffboardReport,
    options: &OffboardOptions,
) -> Vec<OffboardStep> {
    let rename = options.mark_decommissioned && !report.name.starts_with(DECOMMISSIONED);
    let mut rest = match failed {
        OffboardStep::InvalidateTokens | OffboardStep::ForgetTokens => {
            vec![OffboardStep::ReadAssets]
        }
        OffboardStep::ReadAssets => Vec::new(),
        OffboardStep::Unassign(_) => later,
        OffboardStep::Rename => return Vec::new(),
    };
    if rename {
        rest.push(OffboardStep::Rename);
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::MAX_NAME_CHARS;

    #[test]
    fn the_decommissioned_name_always_fits() {
        for len in [0, 1, 200, 228, 229, 240, MAX_NAME_CHARS] {
            let name = "n".repeat(len);
            let new = decommissioned_name("2026-12-06", &name);
            assert!(new.chars().count() <= MAX_NAME_CHARS, "{len}: {new}");
            assert!(new.starts_with("[decommissioned 2026-12-06] "), "{new}");
            assert!(crate::models::check_name("name", &new).is_ok() || len == 0);
        }
        assert_eq!(
            decommissioned_name("2026-12-06", "crm"),
            "[decommissioned 2026-12-06] crm"
        );
        let long = decommissioned_name("2026-12-06", &"é".repeat(240));
        assert_eq!(long.chars().count(), MAX_NAME_CHARS);
        assert!(long.ends_with("é…"), "{long}");
    }
}

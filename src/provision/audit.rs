//! Auditing a business for the mistakes Meta's guidance warns about.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;

use super::error::Result;
use super::live::{self, Owned};
use super::partners::{AuditedPartner, audit_partners};
use super::token_audit::token_findings;
use crate::client::Client;
use crate::config::SystemUserKind;
use crate::ids::{AppId, BusinessId};
use crate::models::system_user::SystemUser;
use crate::progress::{ProgressSink, Reporter, Workflow};
use crate::store::TokenStore;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Should be fixed.
    Warning,
    /// Fix it now.
    Critical,
}

/// What was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// A name that does not say what the integration is ("test", "user1").
    VagueName,
    /// More than one admin system user.
    SeveralAdmins,
    /// An admin system user holding asset assignments (admins should only administer).
    AdminWithAssets,
    /// A system user with access to every owned asset of a kind (not least privilege).
    EveryOwnedAsset,
    /// A (regular) system user with no assets: unused, or provisioned half-way.
    NoAssets,
    /// A token that never expires.
    TokenNeverExpires,
    /// A token that expires soon.
    TokenExpiresSoon,
    /// A token that is no longer valid.
    TokenInvalid,
    /// A token that could not be inspected (no secret for its app, or `debug_token` refused),
    /// or a store entry that could not be read.
    TokenUnknown,
    /// A stored token that is not the token of its key: `debug_token` shows another system
    /// user, another app or another type.
    TokenMismatch,
    /// A stored record still holding the token it replaced: a rotation was left half-done.
    RotationUnfinished,
    /// A decommissioned system user (renamed by [`offboard`](super::offboard)) that still holds
    /// assets.
    DecommissionedWithAccess,
    /// A list the audit could not read to its end within its page budget
    /// ([`AuditOptions::max_pages`]), or whose cursors made no progress: what depends on it
    /// was not checked.
    IncompleteRead,
    /// A partner business (agency) with access to the business or to some of its assets: a
    /// warning when it holds assets (the Graph API does not say with which tasks).
    PartnerAccess,
    /// A client business this business is a partner of.
    ClientBusiness,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// What.
    pub kind: FindingKind,
    /// How serious.
    pub severity: Severity,
    /// The system user (or token label) concerned.
    pub subject: String,
    /// What was seen.
    pub message: String,
    /// What to do.
    pub remedy: String,
}

/// A system user as the audit saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuditedUser {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Admin or regular.
    pub kind: SystemUserKind,
    /// Assets it is assigned to.
    pub assets: usize,
}

/// The audit of a business.
///
/// ```no_run
/// use meta_business::provision::{self, AuditOptions, Severity};
/// # async fn run(client: meta_business::Client) -> meta_business::provision::Result<()> {
/// let report = provision::audit(&client, "1000000000001", &AuditOptions::default()).await?;
/// for finding in report.findings.iter().filter(|f| f.severity >= Severity::Warning) {
///     println!("{}: {} ({})", finding.subject, finding.message, finding.remedy);
/// }
/// // In CI: fail the job on critical findings.
/// std::process::exit(i32::from(report.has(Severity::Critical)));
/// # }
/// ```
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct AuditReport {
    /// The business.
    pub business: BusinessId,
    /// Its system users.
    pub system_users: Vec<AuditedUser>,
    /// Its partner and client businesses, with the owned assets each partner has access to.
    pub partners: Vec<AuditedPartner>,
    /// The findings, most serious first.
    pub findings: Vec<Finding>,
}

impl AuditReport {
    /// Whether something at least this serious was found.
    pub fn has(&self, severity: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= severity)
    }
}

impl fmt::Display for AuditReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Audit of business {}: {} system user(s), {} finding(s)",
            self.business,
            self.system_users.len(),
            self.findings.len()
        )?;
        for u in &self.system_users {
            writeln!(
                f,
                "  {:<18} {:<8} {:>3} asset(s)  {}",
                u.id, u.kind, u.assets, u.name
            )?;
        }
        for partner in &self.partners {
            writeln!(f, "  {partner}")?;
        }
        for finding in &self.findings {
            let level = match finding.severity {
                Severity::Critical => "CRITICAL",
                Severity::Warning => "warning ",
                Severity::Info => "info    ",
            };
            writeln!(
                f,
                "  {level} {}: {}\n           → {}",
                finding.subject, finding.message, finding.remedy
            )?;
        }
        if self.findings.is_empty() {
            writeln!(f, "  no findings")?;
        }
        Ok(())
    }
}

/// Options for [`audit`].
///
/// ```
/// use std::time::Duration;
/// use meta_business::SecretString;
/// use meta_business::provision::AuditOptions;
/// let options = AuditOptions::default()
///     .app("2000000000001") // inspect tokens as this app (needs the client's app secret)
///     .token("ci.token", SecretString::from("EAAE...".to_owned()))
///     .expiry_window(Duration::from_secs(14 * 86_400));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AuditOptions {
    /// Tokens to inspect, by label (from the caller's secret store).
    pub tokens: BTreeMap<String, SecretString>,
    /// The app to call `debug_token` as (needs the client's app secret); without it the
    /// client's own token is used.
    pub app: Option<AppId>,
    /// A token expiring within this window is reported (default 14 days).
    pub expiry_window: Option<Duration>,
    /// A token store whose tokens of the audited business are inspected too, each labelled by
    /// its key.
    pub store: Option<Arc<dyn TokenStore>>,
    /// The most pages the audit reads of any one list (default
    /// [`DEFAULT_WORKFLOW_MAX_PAGES`](crate::pagination::DEFAULT_WORKFLOW_MAX_PAGES)). A list it cannot
    /// read to the end is a [`FindingKind::IncompleteRead`] warning, and the audit goes on
    /// with what it read.
    pub max_pages: Option<u32>,
    /// Where the audit's progress goes: one step per part it reads.
    pub progress: Option<ProgressSink>,
}

impl AuditOptions {
    /// Adds a token to inspect, under a label.
    pub fn token(mut self, label: impl Into<String>, token: impl Into<SecretString>) -> Self {
        self.tokens.insert(label.into(), token.into());
        self
    }

    /// Calls `debug_token` as this app.
    pub fn app(mut self, app: impl Into<AppId>) -> Self {
        self.app = Some(app.into());
        self
    }

    /// Sends the audit's progress to this sink: a step per part it reads (system users,
    /// owned assets, what each user holds, partners, tokens), each an `info` event too.
    pub fn progress(mut self, sink: ProgressSink) -> Self {
        self.progress = Some(sink);
        self
    }

    /// Reports tokens expiring within this window.
    pub fn expiry_window(mut self, expiry_window: Duration) -> Self {
        self.expiry_window = Some(expiry_window);
        self
    }

    /// Inspects every token of the audited business in this store too (never-expiring,
    /// expiring and invalid ones are reported, labelled by their key).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use meta_business::store::MemoryStore;
    /// use meta_business::provision::AuditOptions;
    /// let options = AuditOptions::default().app("2000000000001").store(Arc::new(MemoryStore::new()));
    /// # let _ = options;
    /// ```
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Reads at most this many pages of any one list (at least 1).
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = Some(pages.max(1));
        self
    }
}

const GENERIC_NAMES: &[&str] = &[
    "test",
    "testing",
    "user",
    "system user",
    "systemuser",
    "system",
    "su",
    "bot",
    "api",
    "admin",
    "temp",
    "tmp",
    "new",
    "default",
    "app",
    "server",
    "integration",
    "account",
    "demo",
    "foo",
    "bar",
    "my system user",
];

/// Why a system user's name does not say what the integration is, if it does not: the rule
/// behind the audit's [`FindingKind::VagueName`] and the warning a create logs, so that a name
/// passed at create time is judged as the audit will judge it.
///
/// ```
/// use meta_business::provision::vague_name;
/// assert_eq!(vague_name("test"), Some("a generic name"));
/// assert_eq!(vague_name("crm-sync-eu"), None);
/// ```
pub fn vague_name(name: &str) -> Option<&'static str> {
    let lower = name.trim().to_lowercase();
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || matches!(c, ' ' | '-' | '_'));
    // Short is not vague: "crm" or "erp" name an integration. A generic word, or one or two
    // characters, does not.
    if stem.is_empty() || GENERIC_NAMES.contains(&stem) {
        Some("a generic name")
    } else if lower.chars().count() < 3 {
        Some("too short to describe an integration")
    } else {
        None
    }
}

/// What to do about a vague name, in the audit's finding and the create's warning.
const VAGUE_NAME_REMEDY: &str = "rename it after the integration it serves (e.g. \"crm-sync-eu\")";

/// The warning for a name the audit would call vague (see [`vague_name`]), or `None`.
///
/// ```
/// use meta_business::provision::name_warning;
/// let warning = name_warning("test").unwrap();
/// assert!(warning.contains("generic name") && warning.contains("crm-sync-eu"), "{warning}");
/// assert!(name_warning("ads-reporting-server").is_none());
/// ```
pub fn name_warning(name: &str) -> Option<String> {
    vague_name(name).map(|why| {
        format!(
            "{:?} is {why}; the audit flags it: {VAGUE_NAME_REMEDY}",
            name.trim()
        )
    })
}

pub(super) fn finding(
    kind: FindingKind,
    severity: Severity,
    subject: &str,
    message: String,
    remedy: &str,
) -> Finding {
    Finding {
        kind,
        severity,
        subject: subject.to_owned(),
        message,
        remedy: remedy.to_owned(),
    }
}

/// Audits a business: its system users, their assignments, and the tokens given.
///
/// ```
/// use meta_business::provision::{self, AuditOptions, FindingKind, Severity};
/// use meta_business::AdAccountTask;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::provision::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let users = client.business(demo.business_id).system_users();
/// let vague = users.create("test").send().await?;
/// client.ad_account(demo.ad_accounts[0]).assign(&vague.id, [AdAccountTask::Manage]).send().await?;
/// let report = provision::audit(&client, demo.business_id, &AuditOptions::default()).await?;
/// assert!(report.findings.iter().any(|f| f.kind == FindingKind::VagueName));
/// print!("{report}");
/// # let _ = report.has(Severity::Critical);
/// # Ok(()) }
/// ```
///
/// # Errors
/// Any request error (a token that cannot be inspected is a finding, not an error; so is a
/// list that could not be read to its end).
pub async fn audit(
    client: &Client,
    business: impl Into<BusinessId>,
    options: &AuditOptions,
) -> Result<AuditReport> {
    let business = business.into();
    business.validate()?;
    let mut progress = Reporter::start(options.progress.as_ref(), Workflow::Audit, None);
    let done = audited(client, business, options, &mut progress).await;
    progress.finish(done.as_ref().err().map(|e| e as &dyn fmt::Display));
    done
}

async fn audited(
    client: &Client,
    business: BusinessId,
    options: &AuditOptions,
    progress: &mut Reporter<'_>,
) -> Result<AuditReport> {
    let pages = options
        .max_pages
        .unwrap_or(crate::pagination::DEFAULT_WORKFLOW_MAX_PAGES);
    let mut cuts = Vec::new();
    progress.step(format!("read the system users of business {business}"));
    let (users, cut) = live::some_system_users(client, &business, pages).await?;
    if let Some(err) = cut {
        cuts.push(live::Cut {
            what: format!("the system users of business {business}"),
            user: None,
            err,
        });
    }
    progress.next("read the assets the business owns");
    let owned = Owned::read(client, &business, pages, Some(&mut cuts)).await?;
    let scanned: BTreeSet<_> = owned.unlisted().cloned().collect();
    let ids: Vec<String> = users.iter().map(|u| u.id.as_str().to_owned()).collect();
    progress.next(format!("read what its {} system users hold", users.len()));
    let assignments =
        live::assignments(client, &business, &ids, &scanned, pages, Some(&mut cuts)).await?;

    let mut findings = several_admins(&users);
    findings.extend(cuts.iter().map(live::Cut::finding));
    let mut audited = Vec::new();
    for user in &users {
        let held = assignments
            .get(user.id.as_str())
            .cloned()
            .unwrap_or_default();
        let name = user.name.clone().unwrap_or_default();
        audited.push(AuditedUser {
            id: user.id.to_string(),
            name,
            kind: user.kind(),
            assets: held.len(),
        });
        let mut theirs = user_findings(user, &held, &owned);
        // Part of what it holds could not be read: "no assets" would be a guess.
        if cuts
            .iter()
            .any(|c| c.user.as_deref() == Some(user.id.as_str()))
        {
            theirs.retain(|f| f.kind != FindingKind::NoAssets);
        }
        findings.extend(theirs);
    }
    progress.next("read its partners and clients");
    let partners = audit_partners(client, &business, &owned, pages).await;
    findings.extend(partners.findings);
    progress.next("check the tokens");
    findings.extend(token_findings(client, &business, options).await?);
    progress.done();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Ok(AuditReport {
        business,
        system_users: audited,
        partners: partners.partners,
        findings,
    })
}

/// More than one admin system user.
fn several_admins(users: &[SystemUser]) -> Vec<Finding> {
    let admins: Vec<&str> = users
        .iter()
        .filter(|u| u.kind() == SystemUserKind::Admin)
        .filter_map(|u| u.name.as_deref())
        .collect();
    if admins.len() < 2 {
        return Vec::new();
    }
    vec![finding(
        FindingKind::SeveralAdmins,
        Severity::Warning,
        &admins.join(", "),
        format!("{} admin system users", admins.len()),
        "keep one admin system user, for administration only, and guard its token",
    )]
}

/// One system user's findings: its name, an admin holding assets, no assets, every owned
/// asset of a kind.
fn user_findings(user: &SystemUser, held: &live::Assignments, owned: &Owned) -> Vec<Finding> {
    let name = user.name.clone().unwrap_or_default();
    let subject = format!("{name} ({})", user.id);
    let mut findings = Vec::new();
    if name.starts_with(super::DECOMMISSIONED) {
        if !held.is_empty() {
            findings.push(finding(
                FindingKind::DecommissionedWithAccess,
                Severity::Critical,
                &subject,
                format!(
                    "is decommissioned but still holds {}",
                    held_list(held)
                ),
                "remove it from these assets (for pixels and Instagram assets: in Business Settings), or run offboard again",
            ));
        }
        // A decommissioned user's name and emptiness are what offboarding left on purpose.
        return findings;
    }
    if let Some(why) = vague_name(&name) {
        findings.push(finding(
            FindingKind::VagueName,
            Severity::Warning,
            &subject,
            format!("{name:?} is {why}"),
            VAGUE_NAME_REMEDY,
        ));
    }
    if user.kind() == SystemUserKind::Admin {
        if !held.is_empty() {
            findings.push(finding(
                FindingKind::AdminWithAssets,
                Severity::Warning,
                &subject,
                format!(
                    "the admin system user holds {} asset assignment(s)",
                    held.len()
                ),
                "give assets to regular system users; use the admin only to administer",
            ));
        }
        return findings;
    }
    if held.is_empty() {
        findings.push(finding(
            FindingKind::NoAssets,
            Severity::Info,
            &subject,
            "has no assets".to_owned(),
            "assign what the integration needs, or offboard the system user if it is unused",
        ));
    }
    for (kind, all) in owned.by_kind() {
        if all.len() >= 2 && all.iter().all(|a| held.contains_key(a)) {
            findings.push(finding(
                FindingKind::EveryOwnedAsset,
                Severity::Warning,
                &subject,
                format!("has every one of the business's {} {kind}s", all.len()),
                "least privilege: assign only the assets this integration uses",
            ));
        }
    }
    findings
}

/// The assets held, as `kind id` pairs.
fn held_list(held: &live::Assignments) -> String {
    held.keys()
        .map(|a| format!("{} {}", a.kind_name(), a.id()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::vague_name;

    #[test]
    fn vague_names() {
        for name in [
            "test",
            "Test 2",
            "user1",
            "SU",
            "system user",
            "api",
            "bot-3",
            "x",
            "ab",
            "app-2",
        ] {
            assert!(vague_name(name).is_some(), "{name}");
        }
        for name in [
            "crm",
            "erp",
            "ga4",
            "crm-sync-eu",
            "ads-reporting-server",
            "catalog feed uploader",
        ] {
            assert!(vague_name(name).is_none(), "{name}");
        }
    }
}

//! Preflight ("doctor"): read-only checks of what must hold before system users work, each
//! with a one-line remedy. A failed check never stops the others.

use std::fmt;

use serde::Serialize;

use crate::api::business::BusinessHandler;
use crate::error::Error;
use crate::ids::AppId;
use crate::kinds::ad_account::AdAccountId;
use crate::models::permissions::Permission;

mod checks;

use checks::{
    app_owned, app_secret, caller_and_quota, custom_audience_terms, human_admin, inspect_own_token,
    requested_scopes, token_checks,
};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// It holds.
    Pass,
    /// It does not; see the remedy.
    Fail,
    /// It could not be checked; see the detail.
    Unknown,
    /// It holds, with a caveat worth reading; see the detail.
    Warn,
}

/// What a check is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckKind {
    /// The client's token is valid (and of which type).
    TokenValid,
    /// The token has `business_management`.
    BusinessManagementScope,
    /// The token has every permission the system-user tokens will ask for.
    RequestedScopes,
    /// The business owns the app (a system user can only get a role on its own business's app).
    AppOwned,
    /// A person administers the business.
    HumanAdmin,
    /// The caller can administer system users (an admin person or admin system user).
    CallerIsAdmin,
    /// Room for another admin system user.
    AdminQuota,
    /// Room for another regular system user.
    RegularQuota,
    /// An app secret is configured (token generation needs `appsecret_proof`).
    AppSecret,
    /// The ad account's Custom Audience terms were accepted by a person.
    CustomAudienceTerms {
        /// The ad account.
        ad_account: AdAccountId,
    },
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckKind::TokenValid => f.write_str("token valid"),
            CheckKind::BusinessManagementScope => f.write_str("business_management scope"),
            CheckKind::RequestedScopes => f.write_str("requested scopes"),
            CheckKind::AppOwned => f.write_str("app owned by the business"),
            CheckKind::HumanAdmin => f.write_str("a person is admin"),
            CheckKind::CallerIsAdmin => f.write_str("caller is admin"),
            CheckKind::AdminQuota => f.write_str("admin system-user quota"),
            CheckKind::RegularQuota => f.write_str("system-user quota"),
            CheckKind::AppSecret => f.write_str("app secret configured"),
            CheckKind::CustomAudienceTerms { ad_account } => {
                write!(f, "custom audience terms ({ad_account})")
            }
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Check {
    /// What was checked.
    pub kind: CheckKind,
    /// The outcome.
    pub status: CheckStatus,
    /// What was seen.
    pub detail: String,
    /// What to do when it does not pass.
    pub remedy: Option<String>,
}

/// All checks, in order.
///
/// ```
/// use meta_business::preflight::{CheckKind, CheckStatus};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let report = client.business(demo.business_id).preflight().app(demo.app_id).send().await;
/// let quota = report.check(&CheckKind::RegularQuota).expect("always checked");
/// assert_eq!(quota.status, CheckStatus::Pass);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
#[must_use = "a failed check is inside the report; check `passed()` or call `into_result()`"]
pub struct PreflightReport {
    /// The business.
    pub business: crate::ids::BusinessId,
    /// The checks.
    pub checks: Vec<Check>,
}

impl PreflightReport {
    /// Whether no check failed (unknown ones do not count as failures).
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status != CheckStatus::Fail)
    }

    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == CheckStatus::Fail)
    }

    /// The check of this kind.
    pub fn check(&self, kind: &CheckKind) -> Option<&Check> {
        self.checks.iter().find(|c| &c.kind == kind)
    }

    /// The report when every check passed (warnings and checks that could not run included),
    /// else [`PreflightFailed`], which keeps it.
    ///
    /// # Errors
    /// [`PreflightFailed`] when a check failed.
    pub fn into_result(self) -> std::result::Result<PreflightReport, PreflightFailed> {
        if self.passed() {
            Ok(self)
        } else {
            Err(PreflightFailed(Box::new(self)))
        }
    }
}

/// A preflight with a failed check; the report is inside.
#[derive(Debug)]
pub struct PreflightFailed(pub Box<PreflightReport>);

impl fmt::Display for PreflightFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failed: Vec<String> = self.0.failures().map(|c| c.kind.to_string()).collect();
        write!(
            f,
            "preflight of business {} failed: {}",
            self.0.business,
            failed.join(", ")
        )
    }
}

impl std::error::Error for PreflightFailed {}

impl fmt::Display for PreflightReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Preflight of business {}:", self.business)?;
        for c in &self.checks {
            let mark = match c.status {
                CheckStatus::Pass => "pass   ",
                CheckStatus::Fail => "FAIL   ",
                CheckStatus::Unknown => "unknown",
                CheckStatus::Warn => "warn   ",
            };
            writeln!(f, "  {mark} {:<38} {}", c.kind.to_string(), c.detail)?;
            if let (Some(remedy), CheckStatus::Fail | CheckStatus::Unknown) = (&c.remedy, c.status)
            {
                writeln!(f, "          → {remedy}")?;
            }
        }
        let count = |status| self.checks.iter().filter(|c| c.status == status).count();
        let (failed, unknown, warned) = (
            count(CheckStatus::Fail),
            count(CheckStatus::Unknown),
            count(CheckStatus::Warn),
        );
        let mut summary = if failed > 0 {
            format!("{failed} check(s) failed")
        } else if unknown == 0 && warned == 0 {
            "All checks passed".to_owned()
        } else {
            "No check failed".to_owned()
        };
        if unknown > 0 {
            summary.push_str(&format!("; {unknown} could not be run"));
        }
        if warned > 0 {
            summary.push_str(&format!("; {warned} passed with a warning"));
        }
        writeln!(f, "{summary}.")
    }
}

fn check(
    kind: CheckKind,
    status: CheckStatus,
    detail: impl Into<String>,
    remedy: Option<&str>,
) -> Check {
    Check {
        kind,
        status,
        detail: detail.into(),
        remedy: remedy.map(str::to_owned),
    }
}

fn unknown(kind: CheckKind, err: &Error, remedy: &str) -> Check {
    // A list cut short has its own remedy, whatever the check's usual one.
    let remedy = if crate::pagination::is_cut_short(err) {
        "the list did not end within the preflight's page budget: raise it (PreflightRequest::max_pages) if it is that long; otherwise the server's paging is broken"
    } else {
        remedy
    };
    check(
        kind,
        CheckStatus::Unknown,
        format!("could not check: {err}"),
        Some(remedy),
    )
}

/// Builder for [`BusinessHandler::preflight`].
///
/// ```
/// use meta_business::Permission;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let report = client
///     .business(demo.business_id)
///     .preflight()
///     .app(demo.app_id)
///     .scopes([Permission::AdsRead])
///     .send()
///     .await;
/// print!("{report}");
/// for failed in report.failures() {
///     eprintln!("{:?}: {}", failed.kind, failed.remedy.as_deref().unwrap_or(""));
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct PreflightRequest {
    pub(crate) business: BusinessHandler,
    pub(crate) app: Option<AppId>,
    pub(crate) scopes: Vec<Permission>,
    pub(crate) ad_accounts: Vec<AdAccountId>,
    pub(crate) max_pages: Option<u32>,
}

impl PreflightRequest {
    /// The app the system users will use (checks the business owns it and can grant the
    /// scopes; calls `debug_token` as this app when the client has its secret).
    pub fn app(mut self, app: impl Into<AppId>) -> Self {
        self.app = Some(app.into());
        self
    }

    /// The permissions the system-user tokens will ask for. The check reads what the app may
    /// grant (`GET /{app}/permissions`, as the app, which needs its secret); that the caller's
    /// own token lacks one is only a warning, since a system user's token can carry what the
    /// app has.
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = Permission>) -> Self {
        self.scopes.extend(scopes);
        self
    }

    /// Ad accounts whose Custom Audience terms to check.
    pub fn ad_accounts(
        mut self,
        accounts: impl IntoIterator<Item = impl Into<AdAccountId>>,
    ) -> Self {
        self.ad_accounts
            .extend(accounts.into_iter().map(Into::into));
        self
    }

    /// Reads at most this many pages of any one list (at least 1; default
    /// [`DEFAULT_WORKFLOW_MAX_PAGES`](crate::pagination::DEFAULT_WORKFLOW_MAX_PAGES)). A check whose list
    /// does not end within them is `Unknown` ("could not read all of …"), never a long wait.
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = Some(pages.max(1));
        self
    }

    /// Runs every check. It never fails as a whole: a check that cannot run is `Unknown`.
    pub async fn send(self) -> PreflightReport {
        let client = self.business.client().clone();
        let business = self.business.id().clone();
        if let Err(err) = business.validate() {
            let checks = vec![unknown(
                CheckKind::TokenValid,
                &err,
                "pass a numeric business id",
            )];
            return PreflightReport { business, checks };
        }
        let pages = self
            .max_pages
            .unwrap_or(crate::pagination::DEFAULT_WORKFLOW_MAX_PAGES);
        let info = inspect_own_token(&client, self.app.as_ref()).await;
        let mut checks = token_checks(&info);
        let caller = info.as_ref().ok().filter(|i| i.is_valid == Some(true));
        let app = self.app.as_ref();
        checks.push(requested_scopes(&client, app, &self.scopes, caller, pages).await);
        checks.push(app_owned(&client, &business, app, pages).await);
        checks.push(human_admin(&client, &business, pages).await);
        checks.extend(caller_and_quota(&client, &business, pages).await);
        checks.push(app_secret(&client));
        for account in &self.ad_accounts {
            checks.push(custom_audience_terms(&client, account).await);
        }
        PreflightReport { business, checks }
    }
}

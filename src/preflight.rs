//! Preflight ("doctor"): read-only checks of what must hold before system users work, each
//! with a one-line remedy. A failed check never stops the others.

use std::fmt;

use serde::Serialize;

use crate::api::business::BusinessHandler;
use crate::config::SystemUserKind;
use futures_util::TryStreamExt;

use crate::client::Client;
use crate::error::Error;
use crate::ids::{AdAccountId, AppId, BusinessId};
use crate::models::permissions::Permission;
use crate::models::token::TokenInfo;
use crate::pagination::ListRequest;
use crate::request::Request;

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
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
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
}

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
        let failed = self.failures().count();
        if failed == 0 {
            writeln!(f, "All checks passed or could not be run.")
        } else {
            writeln!(f, "{failed} check(s) failed.")
        }
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
    check(
        kind,
        CheckStatus::Unknown,
        format!("could not check: {err}"),
        Some(remedy),
    )
}

/// Builder for [`BusinessHandler::preflight`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct PreflightRequest {
    business: BusinessHandler,
    app: Option<AppId>,
    scopes: Vec<Permission>,
    ad_accounts: Vec<AdAccountId>,
}

impl BusinessHandler {
    /// Read-only checks of the prerequisites of system users: the token, its scopes, the app's
    /// ownership, a human admin, the caller's admin rights, the quota, the app secret, and the
    /// Custom Audience terms of given ad accounts.
    ///
    /// ```no_run
    /// use meta_business::Permission;
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let report = client
    ///     .business("1234567890")
    ///     .preflight()
    ///     .app("1122334455")
    ///     .scopes([Permission::AdsRead])
    ///     .ad_accounts(["act_42"])
    ///     .send()
    ///     .await;
    /// print!("{report}");
    /// # Ok(()) }
    /// ```
    pub fn preflight(&self) -> PreflightRequest {
        PreflightRequest {
            business: self.clone(),
            app: None,
            scopes: Vec::new(),
            ad_accounts: Vec::new(),
        }
    }
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
        let info = inspect_own_token(&client, self.app.as_ref()).await;
        let mut checks = token_checks(&info);
        let caller = info.as_ref().ok().filter(|i| i.is_valid == Some(true));
        checks.push(requested_scopes(&client, self.app.as_ref(), &self.scopes, caller).await);
        checks.push(app_owned(&client, &business, self.app.as_ref()).await);
        checks.push(human_admin(&client, &business).await);
        checks.extend(caller_and_quota(&client, &business).await);
        checks.push(app_secret(&client));
        for account in &self.ad_accounts {
            checks.push(custom_audience_terms(&client, account).await);
        }
        PreflightReport { business, checks }
    }
}

/// The client's token as the Graph API sees it: asked as the app when possible, else (the
/// secret may belong to another app than the one given) the token inspects itself.
async fn inspect_own_token(client: &Client, app: Option<&AppId>) -> Result<TokenInfo, Error> {
    let own_token = (*client.token).clone();
    let as_app = match (app, client.has_app_secret()) {
        (Some(app), true) => match client.as_app(app.clone()) {
            Ok(as_app) => as_app.debug_token(own_token.clone()).send().await,
            Err(err) => Err(err),
        },
        _ => return client.debug_token(own_token).send().await,
    };
    match as_app {
        Ok(info) => Ok(info),
        Err(_) => client.debug_token(own_token).send().await,
    }
}

/// "token valid" and "business_management scope".
fn token_checks(info: &Result<TokenInfo, Error>) -> Vec<Check> {
    match info {
        Ok(info) if info.is_valid == Some(true) => {
            let kind = info.token_type.as_ref().map_or("unknown", |t| t.as_str());
            let app = info
                .application
                .clone()
                .or_else(|| info.app_id.as_ref().map(ToString::to_string))
                .unwrap_or_default();
            let bm = info.has_scope(&Permission::BusinessManagement);
            vec![
                check(
                    CheckKind::TokenValid,
                    CheckStatus::Pass,
                    format!("a valid {kind} token of app {app}"),
                    None,
                ),
                check(
                    CheckKind::BusinessManagementScope,
                    if bm {
                        CheckStatus::Pass
                    } else {
                        CheckStatus::Fail
                    },
                    if bm {
                        "present".to_owned()
                    } else {
                        format!("missing; the token has: {}", scope_list(info))
                    },
                    Some(
                        "generate the admin token with business_management (the app needs it approved)",
                    ),
                ),
            ]
        }
        Ok(info) => {
            let why = info
                .error
                .as_ref()
                .and_then(|e| e.message.clone())
                .unwrap_or_else(|| "not valid".into());
            let remedy = Some("generate a new admin token");
            vec![
                check(CheckKind::TokenValid, CheckStatus::Fail, why, remedy),
                check(
                    CheckKind::BusinessManagementScope,
                    CheckStatus::Unknown,
                    "the token is not valid",
                    remedy,
                ),
            ]
        }
        Err(err) => {
            let remedy = "debug_token needs an app token (configure the app secret and pass .app(..)) or a developer of the app";
            vec![
                unknown(CheckKind::TokenValid, err, remedy),
                check(
                    CheckKind::BusinessManagementScope,
                    CheckStatus::Unknown,
                    "the token could not be inspected",
                    Some(remedy),
                ),
            ]
        }
    }
}

/// "app owned by the business".
async fn app_owned(client: &Client, business: &BusinessId, app: Option<&AppId>) -> Check {
    let kind = CheckKind::AppOwned;
    let Some(app) = app else {
        return check(
            kind,
            CheckStatus::Unknown,
            "no app given",
            Some("pass .app(app_id)"),
        );
    };
    match client
        .business(business.clone())
        .owned_apps()
        .collect(10_000)
        .await
    {
        Ok(apps) if apps.iter().any(|a| &a.id == app) => check(
            kind,
            CheckStatus::Pass,
            format!("app {app} is owned by business {business}"),
            None,
        ),
        Ok(apps) => check(
            kind,
            CheckStatus::Fail,
            format!(
                "app {app} is not among the {} app(s) business {business} owns",
                apps.len()
            ),
            Some(
                "claim the app for the business (POST /{business}/owned_apps), or use Business On Behalf Of for another business's app",
            ),
        ),
        Err(err) => unknown(kind, &err, "the caller must be an admin of the business"),
    }
}

/// "caller is admin", and the admin and regular quota, from one read of the system users.
async fn caller_and_quota(client: &Client, business: &BusinessId) -> Vec<Check> {
    let kinds = [
        (CheckKind::AdminQuota, SystemUserKind::Admin),
        (CheckKind::RegularQuota, SystemUserKind::Regular),
    ];
    let usage = match client
        .business(business.clone())
        .system_user_quota()
        .send()
        .await
    {
        Ok(usage) => usage,
        Err(err) => {
            let caller = if err.is_permission() || err.is_auth() {
                check(
                    CheckKind::CallerIsAdmin,
                    CheckStatus::Fail,
                    format!("cannot read the business's system users: {err}"),
                    Some("use the token of an admin person or of the admin system user"),
                )
            } else {
                unknown(CheckKind::CallerIsAdmin, &err, "retry later")
            };
            let mut checks = vec![caller];
            for (kind, _) in kinds {
                checks.push(check(
                    kind,
                    CheckStatus::Unknown,
                    "the system users could not be read",
                    Some("fix the caller check first"),
                ));
            }
            return checks;
        }
    };
    let mut checks = vec![check(
        CheckKind::CallerIsAdmin,
        CheckStatus::Pass,
        "the token can administer system users",
        None,
    )];
    for (kind, which) in kinds {
        let detail = match usage.limit(which) {
            Some(limit) => format!(
                "{}/{limit} {which} system user(s){}",
                usage.existing(which),
                usage
                    .tier
                    .map(|t| format!(" ({t} access tier)"))
                    .unwrap_or_default()
            ),
            None => format!(
                "{} {which} system user(s); quota not checked",
                usage.existing(which)
            ),
        };
        checks.push(check(
            kind,
            if usage.can_create(which) {
                CheckStatus::Pass
            } else {
                CheckStatus::Fail
            },
            detail,
            Some("offboard an unused system user, or reach the Full access tier (10 + 1)"),
        ));
    }
    checks
}

/// "app secret configured".
fn app_secret(client: &Client) -> Check {
    let ok = client.has_app_secret();
    check(
        CheckKind::AppSecret,
        if ok {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        if ok { "configured" } else { "not configured" },
        Some(
            "configure ClientBuilder::app_secret: generating system-user tokens requires appsecret_proof",
        ),
    )
}

/// "Custom Audience terms" of one ad account.
async fn custom_audience_terms(client: &Client, account: &AdAccountId) -> Check {
    let kind = CheckKind::CustomAudienceTerms {
        ad_account: account.clone(),
    };
    if let Err(err) = account.validate() {
        return unknown(kind, &err, "pass act_<digits>");
    }
    let node: Result<serde_json::Value, Error> = client
        .get(account.as_str(), &[("fields", "tos_accepted")])
        .await;
    match node {
        Ok(node) => match node
            .get("tos_accepted")
            .map(|t| t.get("custom_audience_tos"))
        {
            None => check(
                kind,
                CheckStatus::Unknown,
                "tos_accepted was not returned",
                Some("check in Ads Manager"),
            ),
            Some(Some(v)) if crate::models::truthy(v) => {
                check(kind, CheckStatus::Pass, "accepted", None)
            }
            Some(_) => check(
                kind,
                CheckStatus::Fail,
                "not accepted",
                Some(
                    "a person must accept the Custom Audience terms for this ad account before a system user can use customer-file audiences",
                ),
            ),
        },
        Err(err) => unknown(kind, &err, "the caller must have access to the ad account"),
    }
}

/// Whether a person has the ADMIN role, reading `business_users` page by page until one is
/// found (graph-api.md 9: the first page can miss the admin).
async fn human_admin(client: &Client, business: &BusinessId) -> Check {
    #[derive(serde::Deserialize)]
    struct Person {
        #[serde(default)]
        role: Option<String>,
    }
    let req = Request::get([business.as_str(), "business_users"]).param("fields", "id,name,role");
    let mut pages = ListRequest::<Person>::new(client.clone(), req, None).pages();
    let mut people = 0usize;
    loop {
        match pages.try_next().await {
            Ok(Some(page)) => {
                people += page.data.len();
                if page.data.iter().any(|p| p.role.as_deref() == Some("ADMIN")) {
                    return check(
                        CheckKind::HumanAdmin,
                        CheckStatus::Pass,
                        "a person has the ADMIN role",
                        None,
                    );
                }
            }
            Ok(None) => {
                return check(
                    CheckKind::HumanAdmin,
                    CheckStatus::Fail,
                    format!("none of the {people} person(s) of the business has the ADMIN role"),
                    Some(
                        "a real person must be an admin of the business portfolio before system users can be used",
                    ),
                );
            }
            Err(err) => {
                return unknown(
                    CheckKind::HumanAdmin,
                    &err,
                    "the caller must be an admin of the business",
                );
            }
        }
    }
}

/// One permission of `GET /{app}/permissions`. [INFER] the shape: Meta's page describes the
/// edge ("permissions that have been approved via Login Review") and the spec gives its
/// `status` values (`live`, `unapproved`), not a sample answer; both members are read
/// leniently.
#[derive(serde::Deserialize)]
struct AppPermission {
    #[serde(default)]
    permission: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// Whether the app may grant the requested scopes, read as the app from
/// `GET /{app}/permissions`. A system user's token can carry what the app has even when the
/// caller's own token lacks it, so the caller's scopes give at most a warning; where the app's
/// permissions cannot be read the check is Unknown, never a failure.
async fn requested_scopes(
    client: &Client,
    app: Option<&AppId>,
    wanted: &[Permission],
    caller: Option<&TokenInfo>,
) -> Check {
    let kind = CheckKind::RequestedScopes;
    if wanted.is_empty() {
        return check(
            kind,
            CheckStatus::Unknown,
            "no scopes given",
            Some("pass .scopes(..)"),
        );
    }
    let Some(app) = app else {
        return check(
            kind,
            CheckStatus::Unknown,
            "no app given",
            Some("pass .app(app_id)"),
        );
    };
    let as_app = match client.as_app(app.clone()) {
        Ok(c) => c,
        Err(err) => {
            return unknown(
                kind,
                &err,
                "configure the app secret of this app to read its permissions",
            );
        }
    };
    let req = Request::get([app.as_str(), "permissions"]);
    let granted = match ListRequest::<AppPermission>::new(as_app, req, None)
        .collect(10_000)
        .await
    {
        Ok(list) => list,
        Err(err) => {
            return unknown(
                kind,
                &err,
                "the app's permissions are read with its app token: configure the secret of this app",
            );
        }
    };
    let live = |p: &Permission| {
        granted.iter().any(|g| {
            g.permission.as_deref() == Some(p.as_str())
                && g.status
                    .as_deref()
                    .is_none_or(|s| s.eq_ignore_ascii_case("live"))
        })
    };
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|p| !live(p))
        .map(Permission::as_str)
        .collect();
    if !missing.is_empty() {
        return check(
            kind,
            CheckStatus::Fail,
            format!("app {app} cannot grant {}", missing.join(", ")),
            Some("the app must have these permissions approved (App Review / access level)"),
        );
    }
    let caller_lacks: Vec<&str> = caller
        .map(|info| {
            wanted
                .iter()
                .filter(|p| !info.has_scope(p))
                .map(Permission::as_str)
                .collect()
        })
        .unwrap_or_default();
    if caller_lacks.is_empty() {
        check(
            kind,
            CheckStatus::Pass,
            format!("app {app} can grant them all"),
            None,
        )
    } else {
        check(
            kind,
            CheckStatus::Warn,
            format!(
                "app {app} can grant them all; the caller's own token lacks {} (system-user tokens can still carry them)",
                caller_lacks.join(", ")
            ),
            None,
        )
    }
}

fn scope_list(info: &TokenInfo) -> String {
    let scopes: Vec<&str> = info.scopes.iter().map(Permission::as_str).collect();
    if scopes.is_empty() {
        "none".into()
    } else {
        scopes.join(", ")
    }
}

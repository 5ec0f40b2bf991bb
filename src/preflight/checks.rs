//! The checks of a preflight, one function each.

use futures_util::TryStreamExt;

use super::{Check, CheckKind, CheckStatus, check, unknown};
use crate::client::Client;
use crate::config::SystemUserKind;
use crate::error::Error;
use crate::ids::{AppId, BusinessId};
use crate::kinds::ad_account::AdAccountId;
use crate::models::permissions::Permission;
use crate::models::token::TokenInfo;
use crate::pagination::ListRequest;
use crate::request::Request;

/// The client's token as the Graph API sees it: asked as the app when possible, else (the
/// secret may belong to another app than the one given) the token inspects itself.
pub(super) async fn inspect_own_token(
    client: &Client,
    app: Option<&AppId>,
) -> Result<TokenInfo, Error> {
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
pub(super) fn token_checks(info: &Result<TokenInfo, Error>) -> Vec<Check> {
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
pub(super) async fn app_owned(
    client: &Client,
    business: &BusinessId,
    app: Option<&AppId>,
    pages: u32,
) -> Check {
    let kind = CheckKind::AppOwned;
    let Some(app) = app else {
        return no_app(kind);
    };
    match client
        .business(business.clone())
        .owned_apps()
        .max_pages(pages)
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
pub(super) async fn caller_and_quota(
    client: &Client,
    business: &BusinessId,
    pages: u32,
) -> Vec<Check> {
    let kinds = [
        (CheckKind::AdminQuota, SystemUserKind::Admin),
        (CheckKind::RegularQuota, SystemUserKind::Regular),
    ];
    let usage = match client
        .business(business.clone())
        .system_user_quota()
        .max_pages(pages)
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
            let (detail, remedy) = if crate::pagination::is_cut_short(&err) {
                (
                    "could not read all of the system users",
                    "raise the preflight's page budget (PreflightRequest::max_pages) if the list is that long",
                )
            } else {
                (
                    "the system users could not be read",
                    "fix the caller check first",
                )
            };
            for (kind, _) in kinds {
                checks.push(check(kind, CheckStatus::Unknown, detail, Some(remedy)));
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
pub(super) fn app_secret(client: &Client) -> Check {
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
pub(super) async fn custom_audience_terms(client: &Client, account: &AdAccountId) -> Check {
    let kind = CheckKind::CustomAudienceTerms {
        ad_account: account.clone(),
    };
    if let Err(err) = account.validate() {
        return unknown(kind, &err, "pass act_<digits>");
    }
    let node: Result<serde_json::Value, Error> = client
        .get(account.as_str(), &[("fields", "tos_accepted")])
        .await;
    // An answer about another node says nothing about this account's terms.
    let about_another = |node: &serde_json::Value| {
        node.get("id")
            .is_some_and(|id| id.as_str().map(AdAccountId::new).as_ref() != Some(account))
    };
    match node {
        Ok(node) if about_another(&node) => check(
            kind,
            CheckStatus::Unknown,
            "the answer is about another node than this ad account",
            Some("check in Ads Manager"),
        ),
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
/// found (graph-api.md 9: the first page can miss the admin), within `pages` pages.
pub(super) async fn human_admin(client: &Client, business: &BusinessId, pages: u32) -> Check {
    #[derive(serde::Deserialize)]
    struct Person {
        #[serde(default)]
        role: Option<String>,
    }
    let req = Request::get([business.as_str(), "business_users"]).param("fields", "id,name,role");
    let mut pages = ListRequest::<Person>::new(client.clone(), req, None)
        .max_pages(pages)
        .pages();
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
pub(super) async fn requested_scopes(
    client: &Client,
    app: Option<&AppId>,
    wanted: &[Permission],
    caller: Option<&TokenInfo>,
    pages: u32,
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
        return no_app(kind);
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
        .max_pages(pages)
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

/// A check that needs the app, when none was given.
fn no_app(kind: CheckKind) -> Check {
    check(
        kind,
        CheckStatus::Unknown,
        "no app given",
        Some("pass .app(app_id)"),
    )
}

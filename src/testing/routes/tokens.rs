//! Installing apps, generating, inspecting, refreshing, revoking and invalidating tokens.

use serde_json::json;

use super::{
    Ctx, Incoming, Reply, error, invalid, ok, parse_list, permission_denied, unknown_path,
};
use crate::testing::state::{Principal, SIXTY_DAYS, State, field_of};

/// Scopes Meta documents for system-user tokens.
const SCOPES: &[&str] = &[
    "ads_management",
    "ads_read",
    "attribution_read",
    "business_management",
    "catalog_management",
    "commerce_account_manage_orders",
    "commerce_account_read_orders",
    "commerce_account_read_settings",
    "instagram_basic",
    "instagram_branded_content_ads_brand",
    "instagram_branded_content_brand",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "instagram_manage_messages",
    "instagram_shopping_tag_products",
    "leads_retrieval",
    "page_events",
    "pages_manage_ads",
    "pages_manage_cta",
    "pages_manage_engagement",
    "pages_manage_instant_articles",
    "pages_manage_metadata",
    "pages_manage_posts",
    "pages_messaging",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_show_list",
    "private_computation_access",
    "publish_video",
    "read_audience_network_insights",
    "read_insights",
    "read_page_mailboxes",
    "whatsapp_business_management",
    "whatsapp_business_messaging",
    "business_creative_management",
    "business_creative_insights",
    "business_creative_insights_share",
    "business_data_management",
    "commerce_manage_accounts",
    "commerce_account_read_reports",
];

/// Scopes a person's admin token carries in the emulator.
const ADMIN_SCOPES: &[&str] = &[
    "business_management",
    "ads_management",
    "ads_read",
    "pages_show_list",
];

fn scopes(inc: &Incoming) -> Result<Vec<String>, Reply> {
    let Some(raw) = inc.param("scope") else {
        return Err(invalid("The parameter scope is required"));
    };
    let Some(list) = parse_list(raw) else {
        return Err(invalid("Param scope must be a comma-separated list"));
    };
    if list.is_empty() {
        return Err(invalid("The parameter scope is required"));
    }
    if let Some(bad) = list.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(error(
            400,
            3962,
            None,
            "OAuthException",
            format!("(#3962) Provided permission is not valid: {bad}"),
        ));
    }
    Ok(list)
}

fn flag(inc: &Incoming, key: &str) -> Result<bool, Reply> {
    match inc.param(key) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(invalid(format!("Param {key} must be a boolean"))),
    }
}

fn mint(state: &mut State, su: &str, app: &str, scopes: Vec<String>, sixty_days: bool) -> String {
    let issued_at = state.now();
    let expires_at = if sixty_days {
        issued_at + SIXTY_DAYS
    } else {
        0
    };
    state.new_token(Principal::SystemUser {
        id: su.to_owned(),
        app: app.to_owned(),
        scopes,
        expires_at,
        issued_at,
    })
}

/// 190/458, what Meta answers when the system user has not installed the app.
fn app_not_installed() -> Reply {
    error(
        400,
        190,
        Some(458),
        "OAuthException",
        "Error validating access token: The system user has not installed the app",
    )
}

/// `/{system_user}/{edge}`.
pub(super) fn system_user_edge(state: &mut State, ctx: &Ctx<'_>, su: &str, edge: &str) -> Reply {
    if let Some(reply) = super::system_users::system_user_assigned(state, ctx, su, edge) {
        return reply;
    }
    let Some(user) = state.system_users.get(su).cloned() else {
        return super::no_such_object(su);
    };
    let admin = state.is_admin(&ctx.principal, &user.business);
    let same_business = match &ctx.principal {
        Principal::SystemUser { id, .. } => state
            .system_users
            .get(id)
            .is_some_and(|s| s.business == user.business),
        _ => false,
    };
    match (ctx.inc.method.as_str(), edge) {
        ("POST", "applications") => {
            if !admin && !same_business {
                return permission_denied("an admin or a system user of the business is required");
            }
            let Some(app) = ctx.inc.param("business_app") else {
                return invalid("The parameter business_app is required");
            };
            match state.apps.get(app) {
                None => super::no_such_object(app),
                Some(a) if a.business.as_deref() != Some(user.business.as_str()) => invalid(
                    "The app must be owned by the system user's business (use Business On Behalf Of for another business's app)",
                ),
                Some(_) => {
                    if let Some(s) = state.system_users.get_mut(su) {
                        s.installed_apps.insert(app.to_owned());
                    }
                    // An object, as Meta answers every write (graph-api.md §10): Meta's own
                    // SDKs fail on a bare `true`.
                    ok(json!({"success": true}))
                }
            }
        }
        ("POST", "access_tokens") => {
            if !admin && !same_business {
                return permission_denied("an admin or a system user of the business is required");
            }
            // Meta: "temporarily only available to apps that have queried it within the last
            // 90 days". [INFER] the refusal: the generic capability error.
            if !state.legacy_token_edge {
                return error(
                    400,
                    3,
                    None,
                    "OAuthException",
                    "(#3) Application does not have the capability to make this API call.",
                );
            }
            let Some(app) = ctx.inc.param("business_app") else {
                return invalid("The parameter business_app is required");
            };
            if !state.apps.contains_key(app) {
                return super::no_such_object(app);
            }
            if !user.installed_apps.contains(app) {
                return app_not_installed();
            }
            let scopes = match scopes(ctx.inc) {
                Ok(s) => s,
                Err(e) => return e,
            };
            let sixty = match flag(ctx.inc, "set_token_expires_in_60_days") {
                Ok(f) => f,
                Err(e) => return e,
            };
            let token = mint(state, su, app, scopes, sixty);
            ok(json!({ "access_token": token }))
        }
        ("DELETE", "access_tokens") => {
            if !admin {
                return permission_denied("an admin of the business is required");
            }
            for rec in state.tokens.values_mut() {
                if matches!(&rec.principal, Principal::SystemUser { id, .. } if id == su) {
                    rec.valid = false;
                }
            }
            ok(json!({"success": true}))
        }
        _ => unknown_path(&format!("/{edge}")),
    }
}

/// `POST /{business}/system_user_access_tokens`: mints for the app of the caller's token.
pub(super) fn business_token(state: &mut State, ctx: &Ctx<'_>, biz: &str) -> Reply {
    if !state.is_admin(&ctx.principal, biz) {
        return permission_denied("an admin of the business is required");
    }
    let Some(su) = ctx.inc.param("system_user_id") else {
        return invalid("The parameter system_user_id is required");
    };
    let Some(user) = state.system_users.get(su).cloned() else {
        return error(400, 110, None, "OAuthException", "(#110) Invalid user id");
    };
    if user.business != biz {
        return invalid("Param system_user_id must be a system user of the business");
    }
    let scopes = match scopes(ctx.inc) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if let Some(raw) = ctx.inc.param("asset")
        && serde_json::from_str::<Vec<u64>>(raw).is_err()
    {
        return invalid("Param asset must be an array of integers");
    }
    let (fetch_only, sixty) = match (
        flag(ctx.inc, "fetch_only"),
        flag(ctx.inc, "set_token_expires_in_60_days"),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let app = ctx.principal.app().to_owned();
    // [INFER] as on the legacy edge: the system user must have the app installed.
    if !user.installed_apps.contains(&app) {
        return app_not_installed();
    }
    if fetch_only {
        let existing = state.tokens.iter().find(|(_, rec)| {
            rec.valid && matches!(&rec.principal, Principal::SystemUser { id, app: a, .. } if id == su && *a == app)
        });
        return match existing {
            Some((token, _)) => ok(json!({ "access_token": token })),
            None => invalid("No token exists for this system user and app"),
        };
    }
    let token = mint(state, su, &app, scopes, sixty);
    ok(json!({ "access_token": token }))
}

/// `/{app}/{edge}`: `GET permissions`, as the app itself.
pub(super) fn app_edge(state: &State, ctx: &Ctx<'_>, app: &str, edge: &str) -> Reply {
    match (ctx.inc.method.as_str(), edge) {
        ("GET", "permissions") => {
            // [INFER] the refusal: Meta documents that the app token reads this edge.
            if !matches!(&ctx.principal, Principal::App { app: a } if a == app) {
                return super::permission_denied("an app access token of this app is required");
            }
            let items: Vec<_> = field_of(&state.apps, app, |a| &a.permissions)
                .into_iter()
                .map(|p| json!({"permission": p, "status": "live"}))
                .collect();
            super::page(state, ctx.inc, items)
        }
        _ => unknown_path(&format!("/{edge}")),
    }
}

/// `GET /debug_token?input_token=`.
pub(super) fn debug_token(state: &State, ctx: &Ctx<'_>) -> Reply {
    let Some(input) = ctx.inc.param("input_token") else {
        return invalid("The parameter input_token is required");
    };
    let Some(rec) = state.token(input) else {
        return ok(json!({"data": {
            "is_valid": false, "scopes": [],
            "error": {"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"}
        }}));
    };
    let app = rec.principal.app().to_owned();
    // The caller: the app itself, or a developer (here: a person using the same app).
    // [INFER] a token may also inspect itself.
    let allowed = ctx.token == input
        || match &ctx.principal {
            Principal::App { app: caller } | Principal::Admin { app: caller, .. } => *caller == app,
            _ => false,
        };
    if !allowed {
        return invalid("The App_id in the input_token did not match the Viewing App");
    }
    let application = field_of(&state.apps, &app, |a| &a.name);
    let expired = state.expired(&rec.principal);
    let mut data = match &rec.principal {
        Principal::SystemUser {
            id,
            scopes,
            expires_at,
            issued_at,
            ..
        } => json!({
            "app_id": app, "type": "SYSTEM_USER", "application": application,
            "data_access_expires_at": 0, "expires_at": expires_at, "issued_at": issued_at,
            "is_valid": rec.valid && !expired, "scopes": scopes,
            "granular_scopes": scopes.iter().map(|s| json!({"scope": s})).collect::<Vec<_>>(),
            "user_id": id,
        }),
        Principal::Admin { user_id, .. } => json!({
            "app_id": app, "type": "USER", "application": application,
            "data_access_expires_at": state.now() + 90 * 86_400, "expires_at": state.now() + SIXTY_DAYS,
            "is_valid": rec.valid, "scopes": ADMIN_SCOPES, "user_id": user_id,
        }),
        Principal::Page { page, user, .. } => json!({
            "app_id": app, "type": "PAGE", "application": application, "expires_at": 0,
            "is_valid": rec.valid, "scopes": ["pages_show_list"], "user_id": user, "profile_id": page,
        }),
        Principal::App { .. } => json!({
            "app_id": app, "type": "APP", "application": application, "expires_at": 0, "is_valid": rec.valid, "scopes": [],
        }),
    };
    if !rec.valid {
        data["error"] =
            json!({"code": 190, "subcode": 460, "message": "The session has been invalidated."});
    } else if expired {
        data["error"] = json!({"code": 190, "subcode": 463, "message": "Session has expired."});
    }
    let _ = &ctx.token;
    ok(json!({ "data": data }))
}

/// Checks `client_id` and `client_secret`; returns the app id.
fn client_app(state: &State, inc: &Incoming) -> Result<String, Reply> {
    let Some(app) = inc.param("client_id") else {
        return Err(invalid("The parameter client_id is required"));
    };
    let Some(secret) = inc.param("client_secret") else {
        return Err(invalid("The parameter client_secret is required"));
    };
    match state.apps.get(app) {
        None => Err(invalid(
            "Error validating application. Invalid application ID.",
        )),
        Some(a) if a.secret != secret => Err(invalid("Error validating client secret.")),
        Some(_) => Ok(app.to_owned()),
    }
}

/// `GET /oauth/access_token` (token exchange) and `GET /oauth/revoke`.
pub(super) fn oauth(state: &mut State, inc: &Incoming, segs: &[&str]) -> Reply {
    match (inc.method.as_str(), segs) {
        ("GET", ["oauth", "access_token"]) => {
            if inc.param("grant_type") != Some("fb_exchange_token") {
                return invalid("Param grant_type must be fb_exchange_token");
            }
            let app = match client_app(state, inc) {
                Ok(app) => app,
                Err(e) => return e,
            };
            let Some(old) = inc.param("fb_exchange_token") else {
                return invalid("The parameter fb_exchange_token is required");
            };
            let Some(rec) = state
                .token(old)
                .cloned()
                .filter(|r| r.valid && !state.expired(&r.principal))
            else {
                return error(
                    400,
                    190,
                    None,
                    "OAuthException",
                    "Error validating access token: the token to exchange is invalid or has expired",
                );
            };
            if rec.principal.app() != app {
                return invalid("The token to exchange does not belong to this app");
            }
            // [INFER] Meta documents the exchange with set_token_expires_in_60_days=true; without
            // it the emulator hands out a token that does not expire, as generation does.
            let sixty = match flag(inc, "set_token_expires_in_60_days") {
                Ok(f) => f,
                Err(e) => return e,
            };
            let token = match rec.principal {
                Principal::SystemUser { id, scopes, .. } => mint(state, &id, &app, scopes, sixty),
                other => state.new_token(other),
            };
            let mut answer = json!({ "access_token": token, "token_type": "bearer" });
            if sixty {
                answer["expires_in"] = json!(SIXTY_DAYS);
            }
            ok(answer)
        }
        ("GET", ["oauth", "revoke"]) => {
            // The caller's token is required (Meta documents it as `access_token`; the crate
            // sends it as Bearer, read the same way here) and must be of the same app.
            let caller = inc.token.as_deref().and_then(|t| state.token(t)).cloned();
            let Some(caller) = caller.filter(|r| r.valid && !state.expired(&r.principal)) else {
                return super::token_required();
            };
            let app = match client_app(state, inc) {
                Ok(app) => app,
                Err(e) => return e,
            };
            let Some(target) = inc.param("revoke_token") else {
                return invalid("The parameter revoke_token is required");
            };
            if caller.principal.app() != app {
                return invalid("The access token does not belong to this app");
            }
            match state.tokens.get_mut(target) {
                Some(rec) if rec.principal.app() == app => {
                    rec.valid = false;
                    ok(json!({ "success": "true" }))
                }
                Some(_) => invalid("The token to revoke does not belong to this app"),
                None => error(
                    400,
                    190,
                    None,
                    "OAuthException",
                    "Invalid OAuth access token - Cannot parse access token",
                ),
            }
        }
        _ => unknown_path(&inc.path),
    }
}

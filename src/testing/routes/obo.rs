//! Business On Behalf Of: a partner business acting for a client business.

use std::collections::BTreeSet;

use serde_json::json;

use super::{Ctx, Reply, error, invalid, ok, page, parse_list, permission_denied};
use crate::testing::state::{self, Principal, State, SystemUser, field_of};

/// `POST` / `DELETE /{partner}/managed_businesses` with `existing_client_business_id`, called
/// with the token of a person who administers the client business.
pub(super) fn managed_businesses(state: &mut State, ctx: &Ctx<'_>, partner: &str) -> Reply {
    let Some(client) = ctx
        .inc
        .param("existing_client_business_id")
        .map(str::to_owned)
    else {
        return invalid("The parameter existing_client_business_id is required");
    };
    if client == partner {
        return invalid(
            "Param existing_client_business_id must be another business than the partner",
        );
    }
    let Some(client_name) = state.businesses.get(&client).map(|b| b.name.clone()) else {
        return error(
            400,
            42004,
            None,
            "OAuthException",
            "(#42004) Couldn't create the client business on behalf of your client",
        );
    };
    if !matches!(ctx.principal, Principal::Admin { .. }) || !state.is_admin(&ctx.principal, &client)
    {
        return permission_denied(
            "a person who administers the client business must make this call",
        );
    }
    let key = (partner.to_owned(), client.clone());
    if ctx.inc.method == "POST" {
        state.managed.entry(key).or_insert(None);
        return ok(json!({"id": client, "name": client_name}));
    }
    // Removing the relationship removes the partner's system user from the client business.
    if let Some(Some(su)) = state.managed.remove(&key) {
        for rec in state.tokens.values_mut() {
            let owned_by_su = match &rec.principal {
                Principal::SystemUser { id, .. } => *id == su,
                Principal::Page { user, .. } => *user == su,
                _ => false,
            };
            if owned_by_su {
                rec.valid = false;
            }
        }
        for users in state.assignments.values_mut() {
            users.remove(&su);
        }
        state.system_users.remove(&su);
        if let Some(b) = state.businesses.get_mut(&client) {
            b.system_users.retain(|id| *id != su);
            let partner_apps = field_of(&state.businesses, partner, |p| &p.apps);
            if let Some(b) = state.businesses.get_mut(&client) {
                b.shared_apps.retain(|a| !partner_apps.contains(a));
            }
        }
    }
    ok(json!({"success": true}))
}

/// `POST /{client}/access_token` with `app_id` and `scope`, called with the partner's admin
/// system-user token: creates (once) the client's system user and returns its token.
pub(super) fn client_system_user_token(state: &mut State, ctx: &Ctx<'_>, client: &str) -> Reply {
    let Principal::SystemUser {
        id: caller,
        scopes: caller_scopes,
        ..
    } = &ctx.principal
    else {
        return permission_denied("the partner business's admin system user must make this call");
    };
    let Some(partner) = state
        .system_users
        .get(caller)
        .filter(|su| su.role == "ADMIN")
        .map(|su| su.business.clone())
    else {
        return permission_denied("the partner business's admin system user must make this call");
    };
    if !state
        .managed
        .contains_key(&(partner.clone(), client.to_owned()))
    {
        return permission_denied(
            "there is no On Behalf Of relationship between these businesses (POST /{partner}/managed_businesses first)",
        );
    }
    let Some(app) = ctx.inc.param("app_id").map(str::to_owned) else {
        return invalid("The parameter app_id is required");
    };
    if state.apps.get(&app).and_then(|a| a.business.as_deref()) != Some(partner.as_str()) {
        return invalid("Param app_id must be an app of the partner business");
    }
    let Some(raw_scope) = ctx.inc.param("scope") else {
        return invalid("The parameter scope is required");
    };
    // The edge wants a comma-separated string; a JSON-quoted list is refused, as Meta does.
    if raw_scope.trim_start().starts_with('[') {
        return error(
            400,
            3962,
            None,
            "OAuthException",
            "(#3962) Provided permission is not valid",
        );
    }
    let scopes = parse_list(raw_scope).unwrap_or_default();
    if scopes.is_empty() {
        return invalid("The parameter scope is required");
    }
    let held: BTreeSet<&str> = caller_scopes.iter().map(String::as_str).collect();
    if !held.contains("business_management") || scopes.iter().any(|s| !held.contains(s.as_str())) {
        return permission_denied(
            "the calling token needs business_management and every permission in scope",
        );
    }
    let key = (partner.clone(), client.to_owned());
    let su = match state.managed.get(&key).cloned().flatten() {
        Some(su) => su,
        None => {
            let client_name = field_of(&state.businesses, client, |b| &b.name);
            let name = ctx
                .inc
                .param("system_user_name")
                .map_or_else(|| format!("{client_name} SYSTEM USER"), str::to_owned);
            let id = state.new_id(62);
            state.system_users.insert(
                id.clone(),
                SystemUser {
                    name,
                    role: "EMPLOYEE".into(),
                    business: client.to_owned(),
                    installed_apps: [app.clone()].into_iter().collect(),
                    created_time: state::graph_time(state.now()),
                },
            );
            if let Some(b) = state.businesses.get_mut(client) {
                b.system_users.push(id.clone());
                if !b.shared_apps.contains(&app) {
                    b.shared_apps.push(app.clone());
                }
            }
            state.managed.insert(key, Some(id.clone()));
            id
        }
    };
    let token = state.new_token(Principal::SystemUser {
        id: su,
        app,
        scopes,
        expires_at: 0,
        issued_at: state.now(),
    });
    ok(json!({ "access_token": token }))
}

/// `GET /me/accounts` with a system user's token: its Pages, each with a Page token.
pub(super) fn my_pages(state: &mut State, ctx: &Ctx<'_>) -> Reply {
    let Principal::SystemUser { id: su, app, .. } = &ctx.principal else {
        return page(state, ctx.inc, Vec::new());
    };
    let pages: Vec<(String, String, Vec<String>)> = state
        .assignments
        .iter()
        .filter_map(|(asset, users)| {
            let tasks = users.get(su)?;
            let a = state.assets.get(asset).filter(|a| a.kind.key() == "page")?;
            Some((asset.clone(), a.name.clone(), tasks.clone()))
        })
        .collect();
    let mut items = Vec::new();
    for (page_id, name, tasks) in pages {
        let token = state.new_token(Principal::Page {
            page: page_id.clone(),
            user: su.clone(),
            app: app.clone(),
        });
        items.push(json!({
            "access_token": token, "category": "Retail company", "category_list": [{"id": "2200", "name": "Retail company"}],
            "name": name, "id": page_id, "tasks": tasks,
        }));
    }
    page(state, ctx.inc, items)
}

//! System users: the business's list, create and rename, and a system user's assigned assets
//! (its tokens and apps are in `tokens`).

use serde_json::json;

use super::business::{SYSTEM_USER_FIELDS, asset_node};
use super::*;
use crate::config::SystemUserKind;
use crate::testing::state::{self, Kind, Principal, State, SystemUser, field_of};

const ROLES: &[&str] = &[
    "ADMIN",
    "ADS_RIGHTS_REVIEWER",
    "DEFAULT",
    "DEVELOPER",
    "EMPLOYEE",
    "FINANCE_ANALYST",
    "FINANCE_EDIT",
    "FINANCE_EDITOR",
    "FINANCE_VIEW",
    "MANAGE",
    "PARTNER_CENTER_ADMIN",
    "PARTNER_CENTER_ANALYST",
    "PARTNER_CENTER_EDUCATION",
    "PARTNER_CENTER_MARKETING",
    "PARTNER_CENTER_OPERATIONS",
];

/// `GET /{business}/system_users`, each with its `role` edge field.
pub(super) fn list_system_users(state: &State, ctx: &Ctx<'_>, biz: &str) -> Reply {
    let ids = field_of(&state.businesses, biz, |b| &b.system_users);
    let nodes = ids
        .iter()
        .filter_map(|id| {
            let su = state.system_users.get(id)?;
            Some(obj(json!({"id": id, "name": su.name, "role": su.role, "created_time": su.created_time})))
        })
        .collect();
    let mut allowed = SYSTEM_USER_FIELDS.to_vec();
    allowed.push("role");
    list(
        state,
        ctx.inc,
        nodes,
        &allowed,
        &["id", "name", "role"],
        "SystemUser",
    )
}

pub(super) fn create_or_rename(state: &mut State, ctx: &Ctx<'_>, biz: &str) -> Reply {
    let Some(name) = ctx.inc.param("name") else {
        return invalid("The parameter name is required");
    };
    if let Some(refusal) = super::check_name_param(name) {
        return refusal;
    }
    if let Some(id) = ctx.inc.param("system_user_id") {
        return match state.system_users.get_mut(id) {
            Some(su) if su.business == biz => {
                su.name = name.to_owned();
                ok(json!({"success": true}))
            }
            _ => error(400, 110, None, "OAuthException", "(#110) Invalid user id"),
        };
    }
    let role = ctx.inc.param("role").unwrap_or("EMPLOYEE");
    if !ROLES.contains(&role) {
        return invalid(format!(
            "Param role must be one of {{{}}}",
            ROLES.join(", ")
        ));
    }
    let Some(business) = state.businesses.get(biz) else {
        return no_such_object(biz);
    };
    let kind = if role == "ADMIN" {
        SystemUserKind::Admin
    } else {
        SystemUserKind::Regular
    };
    let limit = business.tier.quota().limit(kind);
    let existing = business
        .system_users
        .iter()
        .filter_map(|id| state.system_users.get(id))
        .filter(|su| (su.role == "ADMIN") == (kind == SystemUserKind::Admin))
        .count();
    if existing as u32 >= limit {
        // [INFER] Meta documents the limits, not the refusal: this shape is the emulator's own
        // and says so, so nothing comes to depend on it.
        let mut reply = invalid(format!(
            "The business has reached its limit of {limit} {kind} system user(s) for its Marketing API access tier ({}) [emulated: Meta's exact error is not documented]",
            business.tier
        ));
        if let super::Body::Json(body) = &mut reply.body {
            body["error"]["error_user_title"] = json!("System user limit reached");
            body["error"]["error_user_msg"] = json!(
                "Your business has reached the maximum number of system users for its access tier."
            );
        }
        return reply;
    }
    let id = state.new_id(61);
    state.system_users.insert(
        id.clone(),
        SystemUser {
            name: name.to_owned(),
            role: role.to_owned(),
            business: biz.to_owned(),
            installed_apps: Default::default(),
            created_time: state::graph_time(state.now()),
        },
    );
    if let Some(b) = state.businesses.get_mut(biz) {
        b.system_users.push(id.clone());
    }
    ok(json!({ "id": id }))
}

/// `GET /{system_user}/assigned_*`.
pub(super) fn system_user_assigned(
    state: &State,
    ctx: &Ctx<'_>,
    su: &str,
    edge: &str,
) -> Option<Reply> {
    if edge == "assigned_applications" {
        let installed = field_of(&state.system_users, su, |s| &s.installed_apps);
        return Some(list(
            state,
            ctx.inc,
            super::business::app_nodes(state, &installed),
            &["id", "name"],
            &["id", "name"],
            "Application",
        ));
    }
    let kind = Kind::by_system_user_edge(edge)?;
    if ctx.inc.method != "GET" {
        return Some(unknown_path(&format!("/{edge}")));
    }
    let business = field_of(&state.system_users, su, |s| &s.business);
    let is_self = matches!(&ctx.principal, Principal::SystemUser { id, .. } if id == su);
    if !is_self && !state.is_admin(&ctx.principal, &business) {
        return Some(permission_denied(
            "an admin of the system user's business is required",
        ));
    }
    let lists = kind.answer("SystemUser", edge, &[]);
    let mut allowed = kind.fields().to_vec();
    allowed.extend(lists.keys().map(String::as_str));
    let mut default = vec!["id"];
    default.extend(kind.lists().iter().map(|l| l.param));
    let nodes = state
        .assignments
        .iter()
        .filter_map(|(asset_id, users)| {
            let tasks = users.get(su)?;
            let asset = state.assets.get(asset_id).filter(|a| a.kind == kind)?;
            let mut node = asset_node(asset_id, asset);
            node.extend(kind.answer("SystemUser", edge, tasks));
            Some(node)
        })
        .collect();
    Some(list(
        state,
        ctx.inc,
        nodes,
        &allowed,
        &default,
        kind.node_type(),
    ))
}

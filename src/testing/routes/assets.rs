//! `assigned_users` on assets (a system user's `assigned_*` lists are in `system_users`).

use serde_json::json;

use super::{
    Ctx, Reply, error, invalid, list, obj, ok, parse_list, permission_denied, unknown_path,
};
use crate::testing::state::{Asset, State};

/// The AssignedUser node's own fields (the task lists are the kind's).
const ASSIGNED_USER_FIELDS: &[&str] = &["id", "name", "user_type", "business"];

pub(super) fn asset_edge(state: &mut State, ctx: &Ctx<'_>, asset_id: &str, edge: &str) -> Reply {
    if edge != "assigned_users" {
        return unknown_path(&format!("/{edge}"));
    }
    let Some(asset) = state.assets.get(asset_id).cloned() else {
        return super::no_such_object(asset_id);
    };
    if !state.is_admin(&ctx.principal, &asset.business) {
        return permission_denied("an admin of the business that owns the asset is required");
    }
    match ctx.inc.method.as_str() {
        "GET" => list_assigned(state, ctx, asset_id, &asset),
        "POST" => assign(state, ctx, asset_id, &asset),
        "DELETE" => unassign(state, ctx, asset_id, &asset),
        other => error(
            400,
            100,
            Some(33),
            "GraphMethodException",
            format!("Unsupported {} request", other.to_lowercase()),
        ),
    }
}

/// `GET /{asset}/assigned_users?business=`.
fn list_assigned(state: &State, ctx: &Ctx<'_>, asset_id: &str, asset: &Asset) -> Reply {
    let Some(business) = ctx.inc.param("business") else {
        return invalid("The parameter business is required");
    };
    if business != asset.business {
        return invalid(format!(
            "Param business must be the business that owns the {}",
            asset.kind.node_type()
        ));
    }
    let node_type = asset.kind.node_type();
    let users = state.assignments.get(asset_id).cloned().unwrap_or_default();
    let nodes = users
        .into_iter()
        .map(|(user, tasks)| {
            let (name, user_type) = match state.system_users.get(&user) {
                Some(su) => (su.name.clone(), "SYSTEM_USER"),
                None => (format!("User {user}"), "BUSINESS_USER"),
            };
            let mut node = obj(json!({
                "id": user, "name": name, "user_type": user_type, "business": {"id": asset.business},
            }));
            node.extend(asset.kind.answer(node_type, "assigned_users", &tasks));
            node
        })
        .collect();
    let lists = asset.kind.answer(node_type, "assigned_users", &[]);
    let mut allowed = ASSIGNED_USER_FIELDS.to_vec();
    allowed.extend(lists.keys().map(String::as_str));
    let mut default = vec!["id", "name"];
    default.extend(asset.kind.lists().iter().map(|l| l.param));
    list(state, ctx.inc, nodes, &allowed, &default, "AssignedUser")
}

/// `POST /{asset}/assigned_users` with `user` and the kind's task lists.
fn assign(state: &mut State, ctx: &Ctx<'_>, asset_id: &str, asset: &Asset) -> Reply {
    let Some(user) = ctx.inc.param("user") else {
        return invalid("The parameter user is required");
    };
    // A system user of the business, or a person of it (graph-api.md 9: business users
    // can be assigned too) by any id the emulator shows for them: the id `business_users`
    // lists (an admin's business-scoped id, an employee's id) or an admin's user id.
    let is_member = state
        .system_users
        .get(user)
        .is_some_and(|su| su.business == asset.business)
        || state.businesses.get(&asset.business).is_some_and(|b| {
            b.employees.iter().any(|e| e == user)
                || b.admins
                    .iter()
                    .any(|a| a == user || user.strip_prefix('5') == Some(a.as_str()))
        });
    if !is_member {
        return invalid(
            "Param user must be a system user or person of the business that owns the asset",
        );
    }
    let tasks = match given_tasks(ctx, asset) {
        Ok(tasks) => tasks,
        Err(refused) => return refused,
    };
    state
        .assignments
        .entry(asset_id.to_owned())
        .or_default()
        .insert(user.to_owned(), tasks);
    ok(json!({"success": true}))
}

/// The tasks of an assignment, from each of the kind's lists, as the emulator keeps them; or
/// Meta's refusal.
fn given_tasks(ctx: &Ctx<'_>, asset: &Asset) -> Result<Vec<String>, Reply> {
    let mut tasks = Vec::new();
    for list in asset.kind.lists() {
        let given = match ctx.inc.param(list.param).map(parse_list) {
            None => Vec::new(),
            Some(Some(given)) => given,
            Some(None) => {
                return Err(invalid(format!(
                    "Param {} must be an array of strings",
                    list.param
                )));
            }
        };
        for (i, task) in given.iter().enumerate() {
            if !list.values.contains(&task.as_str()) {
                return Err(invalid(format!(
                    "Param {}[{i}] must be one of {{{}}}",
                    list.param,
                    list.values.join(", ")
                )));
            }
            tasks.push(asset.kind.stored(list.param, task));
        }
    }
    if tasks.is_empty() && asset.kind.tasks_required() {
        let names: Vec<&str> = asset.kind.lists().iter().map(|l| l.param).collect();
        return Err(invalid(format!(
            "The parameter {} is required",
            names.join(" or ")
        )));
    }
    Ok(tasks)
}

/// `DELETE /{asset}/assigned_users?user=`.
fn unassign(state: &mut State, ctx: &Ctx<'_>, asset_id: &str, asset: &Asset) -> Reply {
    if !asset.kind.can_unassign() {
        return error(
            400,
            100,
            Some(33),
            "GraphMethodException",
            format!(
                "Unsupported delete request. Object with ID '{asset_id}' does not support this operation"
            ),
        );
    }
    let Some(user) = ctx.inc.param("user") else {
        return invalid("The parameter user is required");
    };
    if let Some(users) = state.assignments.get_mut(asset_id) {
        users.remove(user);
    }
    ok(json!({"success": true}))
}

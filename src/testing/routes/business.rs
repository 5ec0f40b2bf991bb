//! `/me`, businesses, their owned assets and claims (their system users are in `system_users`).

use serde_json::{Map, Value, json};

use super::{
    Ctx, Reply, error, invalid, list, no_such_object, obj, ok, permission_denied, select,
    unknown_path,
};
use crate::testing::state::{self, Asset, Business, Kind, Principal, State, field_of};

const BUSINESS_FIELDS: &[&str] = &[
    "id",
    "name",
    "vertical",
    "vertical_id",
    "verification_status",
    "two_factor_type",
    "timezone_id",
    "created_time",
    "updated_time",
    "extended_updated_time",
    "created_by",
    "updated_by",
    "primary_page",
    "link",
    "is_hidden",
    "profile_picture_uri",
    "payment_account_id",
    "block_offline_analytics",
    "user_access_expire_time",
    "whatsapp_business_manager_messaging_limit",
];
pub(super) const SYSTEM_USER_FIELDS: &[&str] = &[
    "id",
    "name",
    "created_by",
    "created_time",
    "finance_permission",
    "ip_permission",
];
const VERTICALS: &[&str] = &[
    "ADVERTISING",
    "AUTOMOTIVE",
    "CONSUMER_PACKAGED_GOODS",
    "ECOMMERCE",
    "EDUCATION",
    "ENERGY_AND_UTILITIES",
    "ENTERTAINMENT_AND_MEDIA",
    "FINANCIAL_SERVICES",
    "GAMING",
    "GOVERNMENT_AND_POLITICS",
    "HEALTH",
    "LUXURY",
    "MARKETING",
    "NON_PROFIT",
    "NOT_SET",
    "ORGANIZATIONS_AND_ASSOCIATIONS",
    "OTHER",
    "PROFESSIONAL_SERVICES",
    "RESTAURANT",
    "RETAIL",
    "TECHNOLOGY",
    "TELECOM",
    "TRAVEL",
];

fn business_node(id: &str, b: &Business) -> Map<String, Value> {
    obj(json!({
        "id": id, "name": b.name, "vertical": b.vertical, "verification_status": b.verification_status,
        "two_factor_type": "none", "timezone_id": 1, "created_time": b.created_time, "updated_time": b.created_time,
        "link": format!("https://business.facebook.com/settings/?business_id={id}"), "is_hidden": false,
    }))
}

pub(super) fn me(state: &State, ctx: &Ctx<'_>) -> Reply {
    match &ctx.principal {
        Principal::Admin { user_id, name, .. } => ok(json!({"id": user_id, "name": name})),
        Principal::SystemUser { id, .. } => {
            let name = field_of(&state.system_users, id, |s| &s.name);
            ok(json!({"id": id, "name": name}))
        }
        Principal::Page { page, .. } => {
            let name = field_of(&state.assets, page, |a| &a.name);
            ok(json!({"id": page, "name": name}))
        }
        Principal::App { .. } => error(
            400,
            2500,
            None,
            "OAuthException",
            "An active access token must be used to query information about the current user.",
        ),
    }
}

pub(super) fn user_businesses(state: &mut State, ctx: &Ctx<'_>, user: &str) -> Reply {
    if user != "me" && ctx.principal.user_id() != Some(user) {
        return permission_denied(
            "a user's businesses can only be read or created with that user's token",
        );
    }
    match ctx.inc.method.as_str() {
        "GET" => {
            let nodes = state
                .admin_businesses(&ctx.principal)
                .iter()
                .filter_map(|id| state.businesses.get(id).map(|b| business_node(id, b)))
                .collect();
            list(
                state,
                ctx.inc,
                nodes,
                BUSINESS_FIELDS,
                &["id", "name"],
                "Business",
            )
        }
        "POST" => create_business(state, ctx),
        _ => unknown_path(&ctx.inc.path),
    }
}

fn create_business(state: &mut State, ctx: &Ctx<'_>) -> Reply {
    let Principal::Admin { user_id, .. } = &ctx.principal else {
        return permission_denied("only a person can create a business");
    };
    let Some(name) = ctx.inc.param("name") else {
        return invalid("The parameter name is required");
    };
    if let Some(refusal) = super::check_name_param(name) {
        return refusal;
    }
    let Some(vertical) = ctx.inc.param("vertical") else {
        return invalid("The parameter vertical is required");
    };
    if !VERTICALS.contains(&vertical) {
        return invalid(format!(
            "Param vertical must be one of {{{}}}",
            VERTICALS.join(", ")
        ));
    }
    if let Some(tz) = ctx.inc.param("timezone_id")
        && !tz.parse::<u32>().is_ok_and(|t| t <= 592)
    {
        return invalid("Param timezone_id must be one of 0 to 592");
    }
    let id = state.new_id(100);
    state.businesses.insert(
        id.clone(),
        Business {
            name: name.to_owned(),
            vertical: vertical.to_owned(),
            verification_status: "not_verified".into(),
            created_time: state::graph_time(state.now()),
            tier: crate::config::AccessTier::Limited,
            apps: Vec::new(),
            assets: Vec::new(),
            system_users: Vec::new(),
            admins: vec![user_id.clone()],
            shared_apps: Vec::new(),
            employees: Vec::new(),
        },
    );
    ok(json!({ "id": id }))
}

/// `GET /{id}` for any node the emulator holds.
pub(super) fn node(state: &State, ctx: &Ctx<'_>, id: &str) -> Reply {
    if ctx.inc.method != "GET" {
        return error(
            400,
            100,
            Some(33),
            "GraphMethodException",
            format!("Unsupported {} request", ctx.inc.method.to_lowercase()),
        );
    }
    let selected = if let Some(b) = state.businesses.get(id) {
        if !state.is_admin(&ctx.principal, id) {
            return permission_denied("the token cannot read this business");
        }
        select(
            business_node(id, b),
            ctx.inc,
            BUSINESS_FIELDS,
            &["id", "name"],
            "Business",
        )
    } else if let Some(su) = state.system_users.get(id) {
        let node = obj(json!({"id": id, "name": su.name, "created_time": su.created_time}));
        select(
            node,
            ctx.inc,
            SYSTEM_USER_FIELDS,
            &["id", "name"],
            "SystemUser",
        )
    } else if let Some(asset) = state.assets.get(id) {
        select(
            asset_node(id, asset),
            ctx.inc,
            asset.kind.fields(),
            &["id", "name"],
            asset.kind.node_type(),
        )
    } else if let Some(app) = state.apps.get(id) {
        select(
            obj(json!({"id": id, "name": app.name})),
            ctx.inc,
            &["id", "name"],
            &["id", "name"],
            "Application",
        )
    } else {
        return no_such_object(id);
    };
    selected.map_or_else(|e| e, ok)
}

pub(crate) fn asset_node(id: &str, asset: &Asset) -> Map<String, Value> {
    let name = asset.name.as_str();
    obj(match asset.kind.key() {
        "ad_account" => json!({
            "id": id, "account_id": id.trim_start_matches("act_"), "name": name, "account_status": 1, "currency": "EUR",
            "tos_accepted": {"custom_audience_tos": u8::from(asset.tos_accepted), "web_custom_audience_tos": 1}
        }),
        "instagram" => {
            json!({"id": id, "ig_user_id": format!("1784{}", id.len()), "ig_username": name})
        }
        _ => json!({"id": id, "name": name}),
    })
}

/// Apps as list nodes: id and name.
pub(super) fn app_nodes<'a>(
    state: &State,
    ids: impl IntoIterator<Item = &'a String>,
) -> Vec<Map<String, Value>> {
    ids.into_iter()
        .map(|id| obj(json!({"id": id, "name": field_of(&state.apps, id, |a| &a.name)})))
        .collect()
}

pub(super) fn edge(state: &mut State, ctx: &Ctx<'_>, biz: &str, edge: &str) -> Reply {
    // Business On Behalf Of: these are called with the client's or the partner's token.
    match (ctx.inc.method.as_str(), edge) {
        ("POST" | "DELETE", "managed_businesses") => {
            return super::obo::managed_businesses(state, ctx, biz);
        }
        ("POST", "access_token") => return super::obo::client_system_user_token(state, ctx, biz),
        _ => {}
    }
    if !state.is_admin(&ctx.principal, biz) {
        return permission_denied(
            "an admin of the business (person or admin system user) is required",
        );
    }
    let method = ctx.inc.method.as_str();
    match (method, edge) {
        ("GET", "owned_apps" | "client_apps") => list_apps(state, ctx, biz, edge),
        ("GET", e) if Kind::by_owned_edge(e).is_some() => match Kind::by_owned_edge(e) {
            Some(kind) => list_owned(state, ctx, biz, kind),
            None => unknown_path(&format!("/{e}")),
        },
        ("POST", "owned_ad_accounts") => {
            let Some(raw) = ctx.inc.param("adaccount_id") else {
                return invalid("The parameter adaccount_id is required");
            };
            if !raw.starts_with("act_") {
                return invalid("Param adaccount_id must be of the form act_<AD_ACCOUNT_ID>");
            }
            claim_asset(state, biz, raw)
        }
        ("POST", "owned_pages") => {
            let Some(raw) = ctx.inc.param("page_id") else {
                return invalid("The parameter page_id is required");
            };
            claim_asset(state, biz, raw)
        }
        ("POST", "owned_apps") => {
            let Some(app_id) = ctx.inc.param("app_id") else {
                return invalid("The parameter app_id is required");
            };
            let Some(app) = state.apps.get_mut(app_id) else {
                return no_such_object(app_id);
            };
            match app.business.clone() {
                Some(owner) if owner != biz => ok(json!({"access_status": "PENDING"})),
                Some(_) => ok(json!({"access_status": "CONFIRMED"})),
                None => {
                    app.business = Some(biz.to_owned());
                    if let Some(b) = state.businesses.get_mut(biz) {
                        b.apps.push(app_id.to_owned());
                    }
                    ok(json!({"access_status": "CONFIRMED"}))
                }
            }
        }
        ("GET", "business_users") => list_people(state, ctx, biz),
        ("GET", "system_users") => super::system_users::list_system_users(state, ctx, biz),
        ("POST", "system_users") => super::system_users::create_or_rename(state, ctx, biz),
        ("POST", "system_user_access_tokens") => super::tokens::business_token(state, ctx, biz),
        _ => unknown_path(&format!("/{edge}")),
    }
}

/// `GET /{business}/owned_apps` or `client_apps` (partners' apps shared with it).
fn list_apps(state: &State, ctx: &Ctx<'_>, biz: &str, edge: &str) -> Reply {
    // Owned apps, or (client_apps) partners' apps shared with this business.
    let ids = state
        .businesses
        .get(biz)
        .map(|b| {
            if edge == "owned_apps" {
                b.apps.clone()
            } else {
                b.shared_apps.clone()
            }
        })
        .unwrap_or_default();
    list(
        state,
        ctx.inc,
        app_nodes(state, &ids),
        &["id", "name"],
        &["id", "name"],
        "Application",
    )
}

/// `GET /{business}/owned_*` for one asset kind.
fn list_owned(state: &State, ctx: &Ctx<'_>, biz: &str, kind: Kind) -> Reply {
    let ids = field_of(&state.businesses, biz, |b| &b.assets);
    let nodes = ids
        .iter()
        .filter_map(|id| {
            state
                .assets
                .get(id)
                .filter(|a| a.kind == kind)
                .map(|a| asset_node(id, a))
        })
        .collect();
    list(
        state,
        ctx.inc,
        nodes,
        kind.fields(),
        &["id", "name"],
        kind.node_type(),
    )
}

/// `GET /{business}/business_users`: the people of the business, with their role.
fn list_people(state: &State, ctx: &Ctx<'_>, biz: &str) -> Reply {
    let (employees, admins) = state
        .businesses
        .get(biz)
        .map(|b| (b.employees.clone(), b.admins.clone()))
        .unwrap_or_default();
    // People without the ADMIN role first: an admin can sit on a later page.
    let nodes = employees
        .iter()
        .enumerate()
        .map(|(i, id)| {
            obj(json!({"id": id, "name": format!("Employee {}", i + 1), "role": "EMPLOYEE",
                "email": format!("employee{}@example.com", i + 1)}))
        })
        .chain(admins.iter().enumerate().map(|(i, user)| {
            obj(json!({"id": format!("5{user}"), "name": format!("Admin {}", i + 1), "role": "ADMIN",
                "email": format!("admin{}@example.com", i + 1)}))
        }))
        .collect();
    let allowed = [
        "id",
        "name",
        "role",
        "email",
        "business",
        "first_name",
        "last_name",
    ];
    list(
        state,
        ctx.inc,
        nodes,
        &allowed,
        &["id", "name"],
        "BusinessUser",
    )
}

fn claim_asset(state: &mut State, biz: &str, id: &str) -> Reply {
    match state.assets.get(id) {
        None => no_such_object(id),
        Some(asset) if asset.business == biz => ok(json!({"access_status": "CONFIRMED"})),
        Some(_) => ok(json!({"access_status": "PENDING"})),
    }
}

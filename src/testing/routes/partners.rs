//! `GET /{business}/agencies`, `GET /{business}/clients`, `GET /{asset}/agencies` and
//! `GET /{pixel}/shared_agencies`: partner businesses, as Business nodes (the contract check
//! has already refused an edge the node type does not have, and any other method).

use serde_json::json;

use super::{Ctx, Reply, list, no_such_object, obj, permission_denied};
use crate::testing::state::State;

/// The Business fields the emulator answers on a partner.
const PARTNER_FIELDS: &[&str] = &["id", "name", "vertical", "verification_status"];

pub(super) fn list_partners(state: &State, ctx: &Ctx<'_>, node: &str, edge: &str) -> Reply {
    let owner = match (state.businesses.contains_key(node), state.assets.get(node)) {
        (true, _) => node.to_owned(),
        (false, Some(asset)) => asset.business.clone(),
        (false, None) => return no_such_object(node),
    };
    if !state.is_admin(&ctx.principal, &owner) {
        return permission_denied(
            "an admin of the business (or of the asset's business) is required",
        );
    }
    let nodes = state
        .partners
        .of(node, edge)
        .into_iter()
        .filter_map(|id| {
            let b = state.businesses.get(&id)?;
            Some(obj(json!({
                "id": id, "name": b.name, "vertical": b.vertical,
                "verification_status": b.verification_status,
            })))
        })
        .collect();
    list(
        state,
        ctx.inc,
        nodes,
        PARTNER_FIELDS,
        &["id", "name"],
        "Business",
    )
}

//! Who is calling, with which proof, and whether the call is in Meta's description.

use secrecy::SecretString;

use super::{Incoming, Reply, error, token_required, unknown_path, unsupported};
use crate::testing::contract::{Contract, Violation};
use crate::testing::state::{self, Principal, State};

/// A request that departs from Meta's description, answered as Meta answers it.
fn contract_refusal(v: &Violation, id: &str) -> Reply {
    match v {
        Violation::UnknownCall { node, call } => {
            let edge = call.split_once(' ').map_or("", |(_, e)| e);
            if !Contract::get().has_edge(node, edge) {
                return unknown_path(&format!("/{edge}"));
            }
            let method = call.split(' ').next().unwrap_or("get").to_lowercase();
            unsupported(&format!("{method} "), id)
        }
        other => error(400, 100, None, "OAuthException", other.message()),
    }
}

/// The node type of an id the emulator holds, as Meta's description names it.
fn node_type(state: &State, id: &str) -> Option<&'static str> {
    if let Some(node) = Contract::get().alias(id) {
        return Some(node);
    }
    if state.businesses.contains_key(id) {
        return Some("Business");
    }
    if state.system_users.contains_key(id) {
        return Some("SystemUser");
    }
    if state.apps.contains_key(id) {
        return Some("Application");
    }
    if let Some(asset) = state.assets.get(id) {
        return Some(asset.kind.node_type());
    }
    if state.is_person(id) {
        return Some("User");
    }
    None
}

/// Checks `appsecret_proof` against the secret of the token's app.
fn check_proof(
    state: &State,
    inc: &Incoming,
    token: &str,
    principal: &Principal,
    required: bool,
) -> Option<Reply> {
    let Some(proof) = &inc.proof else {
        return required.then(|| {
            error(
                400,
                100,
                None,
                "GraphMethodException",
                "API calls from the server require an appsecret_proof argument",
            )
        });
    };
    let bad_proof = |message: &str| error(400, 100, None, "GraphMethodException", message);
    let Some(app) = state.apps.get(principal.app()) else {
        return Some(bad_proof(
            "Invalid appsecret_proof provided in the API argument",
        ));
    };
    let secret = SecretString::from(app.secret.clone());
    let token = SecretString::from(token.to_owned());
    let expected = match &inc.proof_time {
        None => crate::auth::appsecret_proof(&secret, &token),
        Some(raw) => {
            let Ok(time) = raw.parse::<u64>() else {
                return Some(bad_proof(
                    "Invalid appsecret_time provided in the API argument",
                ));
            };
            // [INFER] the message: Meta documents the five minutes, not the error.
            if time.abs_diff(state::real_now()) > 300 {
                return Some(bad_proof(
                    "The appsecret_proof has expired (appsecret_time is more than 5 minutes old)",
                ));
            }
            crate::auth::appsecret_proof_at(&secret, &token, time)
        }
    };
    use secrecy::ExposeSecret;
    (expected.expose_secret() != proof)
        .then(|| bad_proof("Invalid appsecret_proof provided in the API argument"))
}

/// Who is calling: a known, valid, unexpired token with the proof its call needs.
pub(super) fn authenticate(
    state: &State,
    inc: &Incoming,
    segs: &[&str],
) -> Result<(String, Principal), Reply> {
    // Every other call needs a valid token. Meta's 2500 is for `/me` only; elsewhere 104.
    let Some(token) = inc.token.clone() else {
        if segs.first() == Some(&"me") {
            return Err(error(
                400,
                2500,
                None,
                "OAuthException",
                "An active access token must be used to query information about the current user.",
            ));
        }
        return Err(token_required());
    };
    let principal = match state.token(&token) {
        None => {
            return Err(error(
                400,
                190,
                None,
                "OAuthException",
                "Invalid OAuth access token - Cannot parse access token",
            ));
        }
        Some(rec) if !rec.valid => {
            return Err(error(
                400,
                190,
                Some(460),
                "OAuthException",
                "Error validating access token: The session has been invalidated.",
            ));
        }
        Some(rec) if state.expired(&rec.principal) => {
            return Err(error(
                400,
                190,
                Some(463),
                "OAuthException",
                "Error validating access token: Session has expired.",
            ));
        }
        Some(rec) => rec.principal.clone(),
    };
    // Minting a token always needs the proof: the legacy edge, the business-level edge and
    // On Behalf Of's `access_token`.
    let mints = inc.method == "POST"
        && matches!(
            segs.get(1),
            Some(&"access_tokens" | &"system_user_access_tokens" | &"access_token")
        );
    let needs_proof = state.require_proof || mints;
    if let Some(rejection) = check_proof(state, inc, &token, &principal, needs_proof) {
        return Err(rejection);
    }
    Ok((token, principal))
}

/// A request outside Meta's description, answered as Meta answers it; records the node type.
pub(super) fn check_contract(state: &mut State, inc: &Incoming, segs: &[&str]) -> Option<Reply> {
    state.last_node_type = None;
    let checked = match segs {
        ["debug_token"] => Some(
            Contract::get()
                .check_special(&format!("{} debug_token", inc.method), &inc.params)
                .map_err(|v| contract_refusal(&v, "debug_token")),
        ),
        [id] | [id, _] => node_type(state, id).map(|node| {
            state.last_node_type = Some(node);
            let edge = segs.get(1).copied().unwrap_or("");
            Contract::get()
                .check(node, &inc.method, edge, &inc.params)
                .map_err(|v| contract_refusal(&v, id))
        }),
        _ => None,
    };
    checked.and_then(Result::err)
}

//! Parsing, auth, faults, journaling and dispatch; the handlers live in one file per resource.

mod assets;
mod auth;
mod batch;
mod business;
mod lists;
mod obo;
mod partners;
mod replies;
mod system_users;
mod tokens;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use wiremock::{Request, ResponseTemplate};

use super::state::{Principal, State};
use super::{Fault, Recorded, Shared, lock};
use crate::config::AccessTier;
use auth::{authenticate, check_contract};
pub(crate) use lists::*;
pub(crate) use replies::*;

/// A request, as the handlers see it.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) params: BTreeMap<String, String>,
    pub(crate) token: Option<String>,
    pub(crate) proof: Option<String>,
    pub(crate) proof_time: Option<String>,
}

impl Incoming {
    pub(crate) fn param(&self, key: &str) -> Option<&str> {
        self.params
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

fn parse(request: &Request) -> (Incoming, bool, bool) {
    let mut params = BTreeMap::new();
    let mut token_in_url = false;
    for (k, v) in request.url.query_pairs() {
        token_in_url |= k == "access_token";
        params.insert(k.into_owned(), v.into_owned());
    }
    let is_form = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if is_form && !request.body.is_empty() {
        for (k, v) in url::form_urlencoded::parse(&request.body) {
            params.insert(k.into_owned(), v.into_owned());
        }
    }
    let bearer = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned());
    let has_bearer = bearer.is_some();
    let token = bearer.or_else(|| params.get("access_token").cloned());
    let proof = params.remove("appsecret_proof");
    let proof_time = params.remove("appsecret_time");
    params.remove("access_token");
    let inc = Incoming {
        method: request.method.as_str().to_ascii_uppercase(),
        path: request.url.path().to_owned(),
        params,
        token,
        proof,
        proof_time,
    };
    (inc, has_bearer, token_in_url)
}

/// The entry point: one wiremock request in, one response out.
pub(crate) fn handle(shared: &Shared, request: &Request) -> ResponseTemplate {
    let (inc, bearer, access_token_in_url) = parse(request);
    let fault = lock(&shared.faults)
        .iter_mut()
        .find_map(|rule| rule.hit(&inc.method, &inc.path));
    let fault = fault.or_else(|| over_budget(shared, &inc));
    let (work, answer) = match fault {
        None => (true, None),
        Some(Fault::AfterWork(inner)) => (true, Some(*inner)),
        Some(other) => (matches!(other, Fault::Delay(_)), Some(other)),
    };
    let mut reply = if work {
        let mut state = shared.state();
        state.calls += 1;
        dispatch(&mut state, &inc)
    } else {
        ok(json!({}))
    };
    match answer {
        Some(Fault::Delay(d)) => reply.delay = Some(d),
        Some(other) => reply = fault_reply(&other),
        None => {}
    }
    if !shared.latency.is_zero() {
        reply.delay = Some(reply.delay.unwrap_or_default() + shared.latency);
    }
    let (node_type, items) = {
        let mut state = shared.state();
        (
            state.last_node_type.take(),
            std::mem::take(&mut state.batch_journal),
        )
    };
    let mut entry = recorded(&inc, reply.status, node_type, shared.started.elapsed());
    entry.bearer = bearer;
    entry.access_token_in_url = access_token_in_url;
    {
        let mut journal = lock(&shared.journal);
        journal.push(entry);
        journal.extend(items);
    }
    let (calls, pct, business) = {
        let mut state = shared.state();
        let business = business_of(&state, &inc);
        let pct = match (&mut state.budget, &business) {
            (Some(budget), Some(b)) => budget.pct(b, std::time::Instant::now()),
            // Without a budget, usage climbs slowly with the calls made.
            _ => (state.calls / 10).min(99),
        };
        let business = business.map(|b| {
            let tier = state.businesses.get(&b).map(|biz| biz.tier);
            (b, tier)
        });
        (state.calls, pct, business)
    };
    template(reply, calls, pct, business)
}

/// The throttle a call meets when its business's budget is spent (each batch item counts).
fn over_budget(shared: &Shared, inc: &Incoming) -> Option<Fault> {
    let mut state = shared.state();
    state.budget.as_ref()?;
    let business = business_of(&state, inc)?;
    let calls = inc
        .params
        .get("batch")
        .and_then(|b| serde_json::from_str::<Vec<serde_json::Value>>(b).ok())
        .map_or(1, |items| u32::try_from(items.len()).unwrap_or(u32::MAX));
    let budget = state.budget.as_mut()?;
    match budget.admit(&business, calls, std::time::Instant::now()) {
        Ok(()) => None,
        Err(regain_minutes) => Some(Fault::Throttle {
            code: 80004,
            regain_minutes,
        }),
    }
}

/// A journal entry for a request (the caller sets how its token came).
pub(crate) fn recorded(
    inc: &Incoming,
    status: u16,
    node_type: Option<&'static str>,
    at: Duration,
) -> Recorded {
    let mut entry = Recorded::new(&inc.method, &inc.path, &[], node_type);
    entry.params = inc.params.clone();
    entry.proof = inc.proof.is_some();
    entry.proof_timed = inc.proof_time.is_some();
    entry.status = status;
    entry.at = at;
    // The last 6 characters: enough to tell which token a step used, too little to use it.
    entry.token_suffix = inc.token.as_deref().map(|t| {
        let start = t.char_indices().rev().nth(5).map_or(0, |(i, _)| i);
        t[start..].to_owned()
    });
    entry
}

fn fault_reply(fault: &Fault) -> Reply {
    match fault {
        Fault::Graph { code, subcode } => {
            let status = if matches!(code, 1 | 2) { 500 } else { 400 };
            error(
                status,
                *code,
                *subcode,
                "OAuthException",
                format!("(#{code}) Injected fault"),
            )
        }
        Fault::Throttle {
            code,
            regain_minutes,
        } => {
            let mut r = error(
                400,
                *code,
                None,
                "OAuthException",
                format!(
                    "(#{code}) There have been too many calls. Please wait a bit and try again."
                ),
            );
            r.throttled = Some(*regain_minutes);
            r
        }
        Fault::Http { status } => Reply {
            status: *status,
            body: Body::Raw(
                format!("<html><body><h1>{status} Bad Gateway</h1></body></html>"),
                "text/html",
            ),
            throttled: None,
            delay: None,
        },
        Fault::Malformed => Reply {
            status: 200,
            body: Body::Raw(r#"{"data":[{"id":"1","na"#.to_owned(), "application/json"),
            throttled: None,
            delay: None,
        },
        Fault::Raw { status, body } => Reply {
            status: *status,
            body: Body::Raw(body.clone(), "application/json"),
            throttled: None,
            delay: None,
        },
        // Handled by the caller; kept total for safety.
        Fault::Delay(_) | Fault::AfterWork(_) => ok(json!({})),
    }
}

fn business_of(state: &State, inc: &Incoming) -> Option<String> {
    let principal = inc
        .token
        .as_deref()
        .and_then(|t| state.token(t))
        .map(|t| t.principal.clone())?;
    match &principal {
        Principal::SystemUser { id, .. } => {
            state.system_users.get(id).map(|su| su.business.clone())
        }
        other => state.admin_businesses(other).into_iter().next(),
    }
}

/// The tier as the usage header spells it: Meta's Marketing API rate-limiting page names the
/// lower tier `development_access` and the upper `standard_access` (the header's names, not the
/// App Review feature's); strings after the 2026 rename are not documented.
fn tier_string(tier: Option<AccessTier>) -> &'static str {
    match tier {
        Some(AccessTier::Full) => "standard_access",
        _ => "development_access",
    }
}

fn template(
    reply: Reply,
    calls: u64,
    usage_pct: u64,
    business: Option<(String, Option<AccessTier>)>,
) -> ResponseTemplate {
    let pct = if reply.throttled.is_some() {
        100
    } else {
        usage_pct
    };
    let mut t = ResponseTemplate::new(reply.status)
        .insert_header("x-fb-trace-id", format!("EmU{calls:x}").as_str())
        .insert_header(
            "x-app-usage",
            json!({"call_count": pct, "total_time": pct / 2, "total_cputime": pct / 3})
                .to_string()
                .as_str(),
        );
    if let Some((business, tier)) = business {
        let regain = reply.throttled.unwrap_or(0);
        let usage = json!({ business: [{
            "type": "ads_management", "call_count": pct, "total_cputime": pct / 3, "total_time": pct / 2,
            "estimated_time_to_regain_access": regain, "ads_api_access_tier": tier_string(tier)
        }]});
        t = t.insert_header("x-business-use-case-usage", usage.to_string().as_str());
    }
    t = match reply.body {
        Body::Json(v) => t.set_body_raw(v.to_string(), "application/json"),
        Body::Raw(s, ct) => t.set_body_raw(s, ct),
    };
    if let Some(d) = reply.delay {
        t = t.set_delay(d);
    }
    t
}

fn is_version(seg: &str) -> bool {
    crate::config::ApiVersion::new(seg).is_ok()
}

/// Routes a request within the world (also used for batch items).
pub(crate) fn dispatch(state: &mut State, inc: &Incoming) -> Reply {
    let segs: Vec<String> = inc
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let Some(version) = segs.first() else {
        return batch_or(state, inc, || unknown_path(&inc.path));
    };
    if !is_version(version) {
        return error(
            400,
            2500,
            None,
            "OAuthException",
            format!(
                "Unknown path components: {} (a versioned path such as /v26.0/... is required)",
                inc.path
            ),
        );
    }
    let segs: Vec<&str> = segs[1..].iter().map(String::as_str).collect();
    if segs.is_empty() {
        return batch_or(state, inc, || unknown_path(&inc.path));
    }
    if segs[0] == "oauth" {
        return tokens::oauth(state, inc, &segs);
    }

    let (token, principal) = match authenticate(state, inc, &segs) {
        Ok(who) => who,
        Err(refusal) => return refusal,
    };
    if let Some(refusal) = check_contract(state, inc, &segs) {
        return refusal;
    }
    let ctx = Ctx {
        inc,
        principal,
        token,
    };
    match segs.as_slice() {
        ["me"] => business::me(state, &ctx),
        ["debug_token"] => tokens::debug_token(state, &ctx),
        [user, "businesses"] => business::user_businesses(state, &ctx, user),
        ["me", "accounts"] => obo::my_pages(state, &ctx),
        [id] => business::node(state, &ctx, id),
        [id, edge @ ("agencies" | "clients" | "shared_agencies")] => {
            partners::list_partners(state, &ctx, id, edge)
        }
        [id, edge] => {
            if state.businesses.contains_key(*id) {
                business::edge(state, &ctx, id, edge)
            } else if state.system_users.contains_key(*id) || *id == "me" {
                let id = if *id == "me" {
                    ctx.principal.user_id().unwrap_or_default().to_owned()
                } else {
                    (*id).to_owned()
                };
                tokens::system_user_edge(state, &ctx, &id, edge)
            } else if state.assets.contains_key(*id) {
                assets::asset_edge(state, &ctx, id, edge)
            } else if state.apps.contains_key(*id) {
                tokens::app_edge(state, &ctx, id, edge)
            } else {
                no_such_object(id)
            }
        }
        _ => unknown_path(&inc.path),
    }
}

fn batch_or(state: &mut State, inc: &Incoming, otherwise: impl FnOnce() -> Reply) -> Reply {
    if inc.method == "POST" && inc.params.contains_key("batch") {
        batch::run(state, inc)
    } else {
        otherwise()
    }
}

/// A handler's view of an authenticated request.
pub(crate) struct Ctx<'a> {
    pub(crate) inc: &'a Incoming,
    pub(crate) principal: Principal,
    pub(crate) token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_forms() {
        assert_eq!(
            parse_list(r#"["MANAGE","ANALYZE"]"#).unwrap(),
            ["MANAGE", "ANALYZE"]
        );
        assert_eq!(
            parse_list("['MANAGE', 'ADVERTISE']").unwrap(),
            ["MANAGE", "ADVERTISE"]
        );
        assert_eq!(
            parse_list("ads_read,business_management").unwrap(),
            ["ads_read", "business_management"]
        );
        assert_eq!(parse_list("[1,2]"), None);
    }
}

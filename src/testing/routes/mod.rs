//! Parsing, auth, faults, journaling and dispatch; the handlers live in one file per resource.

mod assets;
mod batch;
mod business;
mod obo;
mod tokens;

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Map, Value, json};
use wiremock::{Request, ResponseTemplate};

use super::contract::{Contract, Violation};
use super::state::{self, Principal, State};
use super::{Fault, Recorded, Shared, lock};

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

#[derive(Debug)]
pub(crate) enum Body {
    Json(Value),
    Raw(String, &'static str),
}

/// An answer, before it becomes a wiremock response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Body,
    pub(crate) throttled: Option<u64>,
    pub(crate) delay: Option<Duration>,
}

pub(crate) fn ok(body: Value) -> Reply {
    Reply {
        status: 200,
        body: Body::Json(body),
        throttled: None,
        delay: None,
    }
}

pub(crate) fn error(
    status: u16,
    code: i64,
    subcode: Option<i64>,
    kind: &str,
    message: impl Into<String>,
) -> Reply {
    let mut err = json!({
        "message": message.into(),
        "type": kind,
        "code": code,
        "fbtrace_id": format!("EmU{:x}", state::now() % 0xFFFF_FFFF),
    });
    if let Some(sub) = subcode {
        err["error_subcode"] = json!(sub);
    }
    if matches!(code, 1 | 2) {
        err["is_transient"] = json!(true);
    }
    Reply {
        status,
        body: Body::Json(json!({ "error": err })),
        throttled: None,
        delay: None,
    }
}

/// `(#100) …`, the Graph API's invalid-parameter error.
/// Code 104, what Meta answers a request without an access token (outside `/me`).
pub(crate) fn token_required() -> Reply {
    error(
        400,
        104,
        None,
        "OAuthException",
        "An access token is required to request this resource.",
    )
}

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
    if id == "me" {
        return Some("User");
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

/// Refuses an empty or over-long `name`. [INFER] Meta documents no limit and no message; the
/// emulator refuses what the crate refuses ([`MAX_NAME_CHARS`](crate::models::MAX_NAME_CHARS))
/// so a caller that skips the crate's checks still meets a refusal.
pub(crate) fn check_name_param(name: &str) -> Option<Reply> {
    if name.trim().is_empty() {
        return Some(invalid("Param name must be a non-empty string"));
    }
    if name.chars().count() > crate::models::MAX_NAME_CHARS {
        return Some(invalid(format!(
            "Param name must be at most {} characters",
            crate::models::MAX_NAME_CHARS
        )));
    }
    None
}

pub(crate) fn invalid(message: impl AsRef<str>) -> Reply {
    error(
        400,
        100,
        None,
        "OAuthException",
        format!("(#100) {}", message.as_ref()),
    )
}

pub(crate) fn permission_denied(what: &str) -> Reply {
    error(
        403,
        200,
        None,
        "OAuthException",
        format!("(#200) Permissions error: {what}"),
    )
}

pub(crate) fn unknown_path(path: &str) -> Reply {
    error(
        400,
        2500,
        None,
        "OAuthException",
        format!("Unknown path components: {path}"),
    )
}

pub(crate) fn no_such_object(id: &str) -> Reply {
    unsupported("", id)
}

/// Meta's 100/33: `method` is `"get "`, `"delete "`… or empty.
fn unsupported(method: &str, id: &str) -> Reply {
    error(
        400,
        100,
        Some(33),
        "GraphMethodException",
        format!(
            "Unsupported {method}request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation"
        ),
    )
}

/// Parses a list parameter in any of the forms seen in Meta's docs and SDKs: a JSON array,
/// the docs' single-quoted `['A', 'B']`, or a comma-separated string.
pub(crate) fn parse_list(raw: &str) -> Option<Vec<String>> {
    let raw = raw.trim();
    if raw.starts_with('[') {
        if let Ok(items) = serde_json::from_str::<Vec<Value>>(raw) {
            return items
                .into_iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect();
        }
        let inner = raw.strip_prefix('[')?.strip_suffix(']')?;
        return Some(
            inner
                .split(',')
                .map(|s| s.trim().trim_matches('\'').trim_matches('"').to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        );
    }
    Some(
        raw.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

/// Picks the requested `fields` out of a node, refusing fields the node type does not have.
pub(crate) fn select(
    node: Map<String, Value>,
    inc: &Incoming,
    allowed: &[&str],
    default: &[&str],
    node_type: &str,
) -> Result<Value, Reply> {
    let wanted: Vec<String> = match inc.param("fields") {
        Some(raw) => raw
            .split(',')
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect(),
        None => default.iter().map(|f| (*f).to_owned()).collect(),
    };
    let mut out = Map::new();
    for field in wanted {
        if !allowed.contains(&field.as_str()) {
            return Err(invalid(format!(
                "Tried accessing nonexisting field ({field}) on node type ({node_type})"
            )));
        }
        if let Some(v) = node.get(&field) {
            out.insert(field, v.clone());
        }
    }
    if let Some(id) = node.get("id") {
        out.insert("id".into(), id.clone());
    }
    Ok(Value::Object(out))
}

/// A JSON object as a map (an empty map for anything else).
pub(crate) fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Selects the requested `fields` on each node and answers one page of them.
pub(crate) fn list(
    state: &State,
    inc: &Incoming,
    nodes: Vec<Map<String, Value>>,
    allowed: &[&str],
    default: &[&str],
    node_type: &str,
) -> Reply {
    let mut items = Vec::with_capacity(nodes.len());
    for node in nodes {
        match select(node, inc, allowed, default, node_type) {
            Ok(v) => items.push(v),
            Err(e) => return e,
        }
    }
    page(state, inc, items)
}

const CURSOR_PREFIX: &str = "QVFI";

/// One page of a list, with cursors and a `next` URL when more remain.
pub(crate) fn page(state: &State, inc: &Incoming, items: Vec<Value>) -> Reply {
    let limit = match inc.param("limit").map(str::parse::<usize>) {
        None => 25,
        Some(Ok(n)) if n > 0 => n.min(500),
        Some(_) => return invalid("Param limit must be a positive integer"),
    };
    let start = match inc.param("after") {
        None => 0,
        Some(cursor) => match cursor
            .strip_prefix(CURSOR_PREFIX)
            .and_then(|h| usize::from_str_radix(h, 16).ok())
        {
            Some(n) => n,
            None => return invalid("Invalid cursor: the after cursor is malformed or has expired"),
        },
    };
    let total = items.len();
    let data: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let end = start + data.len();
    let mut body = json!({ "data": data });
    if end > start {
        body["paging"] = json!({"cursors": {
            "before": format!("{CURSOR_PREFIX}{start:x}"),
            "after": format!("{CURSOR_PREFIX}{:x}", end),
        }});
        if end < total {
            let mut next = url::Url::parse(&format!("{}{}", state.base_url, inc.path))
                .unwrap_or_else(|_| {
                    url::Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable!())
                });
            {
                let mut q = next.query_pairs_mut();
                for (k, v) in &inc.params {
                    if k != "after" {
                        q.append_pair(k, v);
                    }
                }
                q.append_pair("after", &format!("{CURSOR_PREFIX}{end:x}"));
            }
            body["paging"]["next"] = json!(next.as_str());
        }
    }
    if inc.param("summary").is_some() {
        body["summary"] = json!({ "total_count": total });
    }
    ok(body)
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
    let calls = shared.state().calls;
    let business = business_of(&shared.state(), &inc);
    template(reply, calls, business)
}

/// A journal entry for a request (the caller sets how its token came).
pub(crate) fn recorded(
    inc: &Incoming,
    status: u16,
    node_type: Option<&'static str>,
    at: Duration,
) -> Recorded {
    Recorded {
        method: inc.method.clone(),
        path: inc.path.clone(),
        params: inc.params.clone(),
        bearer: false,
        access_token_in_url: false,
        proof: inc.proof.is_some(),
        proof_timed: inc.proof_time.is_some(),
        status,
        at,
        token_suffix: inc.token.as_deref().map(|t| {
            t.chars()
                .rev()
                .take(6)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect()
        }),
        node_type: node_type.map(str::to_owned),
        in_batch: false,
    }
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

fn template(reply: Reply, calls: u64, business: Option<String>) -> ResponseTemplate {
    let pct = if reply.throttled.is_some() {
        100
    } else {
        (calls / 10).min(99)
    };
    let mut t = ResponseTemplate::new(reply.status)
        .insert_header("x-fb-trace-id", format!("EmU{calls:x}").as_str())
        .insert_header(
            "x-app-usage",
            json!({"call_count": pct, "total_time": pct / 2, "total_cputime": pct / 3})
                .to_string()
                .as_str(),
        );
    if let Some(business) = business {
        let regain = reply.throttled.unwrap_or(0);
        let usage = json!({ business: [{
            "type": "ads_management", "call_count": pct, "total_cputime": pct / 3, "total_time": pct / 2,
            "estimated_time_to_regain_access": regain, "ads_api_access_tier": "standard_access"
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
            if time.abs_diff(state::now()) > 300 {
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
fn authenticate(
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
        Some(rec) if state::expired(&rec.principal) => {
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
fn check_contract(state: &mut State, inc: &Incoming, segs: &[&str]) -> Option<Reply> {
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

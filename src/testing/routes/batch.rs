//! `POST /` with `batch`: up to 50 calls, each answered in order with its body as a string.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Body, Incoming, Reply, dispatch, invalid, ok};
use crate::testing::state::State;

const MAX_BATCH: usize = 50;

#[derive(Deserialize)]
struct Item {
    method: String,
    relative_url: String,
    #[serde(default)]
    body: Option<String>,
}

pub(super) fn run(state: &mut State, inc: &Incoming) -> Reply {
    let Some(raw) = inc.param("batch") else {
        return invalid("The parameter batch is required");
    };
    let items: Vec<Item> = match serde_json::from_str(raw) {
        Ok(items) => items,
        Err(e) => return invalid(format!("Param batch must be a JSON array of requests: {e}")),
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return invalid(format!(
            "Param batch must hold between 1 and {MAX_BATCH} requests"
        ));
    }
    let version = inc
        .path
        .split('/')
        .find(|s| !s.is_empty())
        .unwrap_or("v26.0")
        .to_owned();
    // Meta: with include_headers=false the items carry no `headers` key.
    let include_headers = inc.param("include_headers") != Some("false");
    let mut answers = Vec::with_capacity(items.len());
    for item in items {
        let relative = item.relative_url.trim_start_matches('/');
        let (path, query) = relative.split_once('?').unwrap_or((relative, ""));
        let path = if path
            .split('/')
            .next()
            .is_some_and(|s| crate::config::ApiVersion::new(s).is_ok())
        {
            format!("/{path}")
        } else {
            format!("/{version}/{path}")
        };
        let mut params = std::collections::BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.into_owned(), v.into_owned());
        }
        if let Some(body) = &item.body {
            for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
                params.insert(k.into_owned(), v.into_owned());
            }
        }
        let token = params.remove("access_token").or_else(|| inc.token.clone());
        let sub = Incoming {
            method: item.method.to_ascii_uppercase(),
            path,
            params,
            token,
            proof: inc.proof.clone(),
            proof_time: inc.proof_time.clone(),
        };
        // A batch item cannot itself be a batch. [INFER] the message: Meta documents the rule,
        // not the answer.
        let nested = sub.method == "POST"
            && sub.params.contains_key("batch")
            && sub.path.trim_end_matches('/') == format!("/{version}");
        let reply = if nested {
            invalid("A batch request cannot contain another batch request")
        } else {
            dispatch(state, &sub)
        };
        let mut entry = super::recorded(
            &sub,
            reply.status,
            state.last_node_type.take(),
            std::time::Duration::ZERO,
        );
        entry.bearer = true;
        entry.in_batch = true;
        state.batch_journal.push(entry);
        let body = match reply.body {
            Body::Json(v) => v.to_string(),
            Body::Raw(s, _) => s,
        };
        let mut answer = json!({"code": reply.status, "body": body});
        if include_headers {
            answer["headers"] =
                json!([{"name": "Content-Type", "value": "text/javascript; charset=UTF-8"}]);
        }
        answers.push(answer);
    }
    ok(Value::Array(answers))
}

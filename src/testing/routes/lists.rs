//! Lists as Meta sends them: selected fields, pages with cursors and a `next` URL.

use serde_json::{Map, Value, json};

use super::{Incoming, Reply, invalid, ok};
use crate::testing::state::State;

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

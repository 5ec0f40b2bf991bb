//! Meta's API description as the emulator's contract: which calls exist on which node type,
//! their parameters (required, enum values) and the fields a `fields=` list may name.
//!
//! The table (`contract.json`) is generated from Meta's own spec files by
//! `python3 scripts/contract.py`; CONTRACT.md shows it. Data derived from Meta's files is under
//! Meta's licence, kept in the table's `_meta_licence` member.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

const TABLE: &str = include_str!("contract.json");

/// The contract table, as generated.
///
/// ```
/// use std::collections::BTreeMap;
/// use meta_business::testing::contract::Contract;
/// let contract = Contract::get();
/// assert!(contract.has_call("Business", "POST", "system_users"));
/// let params = BTreeMap::from([("nmae".to_owned(), "x".to_owned())]);
/// let refused = contract.check("Business", "POST", "system_users", &params).unwrap_err();
/// println!("{}", refused.message()); // names the unknown parameter
/// ```
#[derive(Debug, Deserialize)]
pub struct Contract {
    fields: BTreeMap<String, BTreeSet<String>>,
    nodes: BTreeMap<String, Node>,
    extras: Extras,
}

#[derive(Debug, Deserialize)]
struct Node {
    edges: BTreeMap<String, Edge>,
}

#[derive(Debug, Deserialize)]
struct Edge {
    #[serde(rename = "return")]
    returns: Option<String>,
    params: BTreeMap<String, Param>,
}

#[derive(Debug, Deserialize)]
struct Param {
    #[serde(rename = "type")]
    kind: String,
    required: bool,
    #[serde(default)]
    #[serde(rename = "enum")]
    values: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct Extras {
    aliases: BTreeMap<String, Alias>,
    edge_fields: Vec<EdgeFields>,
    specials: BTreeMap<String, Special>,
    transport_params: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Alias {
    node: String,
}

#[derive(Debug, Deserialize)]
struct EdgeFields {
    node: String,
    method: String,
    edge: String,
    fields: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Special {
    params: BTreeMap<String, Param>,
}

/// How a request departs from the contract, in the words Meta's API uses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// The node type has no such call.
    UnknownCall {
        /// The node type.
        node: String,
        /// `METHOD edge`.
        call: String,
    },
    /// A parameter the call does not list.
    UnknownParam(String),
    /// A required parameter is missing.
    MissingParam(String),
    /// A value outside the parameter's enum.
    BadEnum {
        /// The parameter.
        param: String,
        /// Its allowed values.
        allowed: Vec<String>,
    },
    /// A `fields=` name that is neither a field of the returned type nor a documented edge
    /// field.
    UnknownField {
        /// The field.
        field: String,
        /// The node type read.
        node: String,
    },
}

impl Violation {
    /// The `(#100) …` message Meta sends for it.
    pub fn message(&self) -> String {
        match self {
            Violation::UnknownCall { node, call } => {
                let (method, edge) = call.split_once(' ').unwrap_or((call, ""));
                format!(
                    "(#100) Unsupported {} request on node type ({node}){}",
                    method.to_lowercase(),
                    if edge.is_empty() {
                        String::new()
                    } else {
                        format!(": no edge {edge}")
                    }
                )
            }
            // [INFER] Meta may ignore an unknown parameter; the emulator refuses it so that
            // nothing comes to depend on one.
            Violation::UnknownParam(p) => format!("(#100) Invalid parameter: {p}"),
            Violation::MissingParam(p) => format!("(#100) The parameter {p} is required"),
            Violation::BadEnum { param, allowed } => {
                format!(
                    "(#100) Param {param} must be one of {{{}}}",
                    allowed.join(", ")
                )
            }
            Violation::UnknownField { field, node } => {
                format!("(#100) Tried accessing nonexisting field ({field}) on node type ({node})")
            }
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl Contract {
    /// The table generated from Meta's spec files.
    pub fn get() -> &'static Contract {
        static CONTRACT: OnceLock<Contract> = OnceLock::new();
        CONTRACT.get_or_init(|| match serde_json::from_str(TABLE) {
            Ok(c) => c,
            // The table is generated and checked in; a broken one is a build mistake that
            // every emulator test shows at once.
            Err(e) => panic!("src/testing/contract.json does not parse: {e}"),
        })
    }

    /// The node type a path id such as `me` names without its number, when the table lists
    /// it (with its source).
    ///
    /// ```
    /// use meta_business::testing::contract::Contract;
    /// assert_eq!(Contract::get().alias("me"), Some("User"));
    /// assert_eq!(Contract::get().alias("you"), None);
    /// ```
    pub fn alias(&self, id: &str) -> Option<&str> {
        self.extras.aliases.get(id).map(|a| a.node.as_str())
    }

    /// Whether the node type has this edge for any method.
    pub fn has_edge(&self, node: &str, edge: &str) -> bool {
        self.nodes.get(node).is_some_and(|n| {
            n.edges.keys().any(|k| {
                k.split_once(' ')
                    .map_or(edge.is_empty(), |(_, e)| e == edge)
            })
        })
    }

    /// Whether the contract lists this call (`"GET"`, `""` for the node itself).
    pub fn has_call(&self, node: &str, method: &str, edge: &str) -> bool {
        self.nodes
            .get(node)
            .is_some_and(|n| n.edges.contains_key(&key(method, edge)))
    }

    /// The list parameters of a call that take enum values (an asset's task lists), each with
    /// whether it is required and its values, in the table's order.
    pub(crate) fn enum_lists(
        &self,
        node: &str,
        method: &str,
        edge: &str,
    ) -> Vec<(&str, bool, &[String])> {
        let Some(call) = self
            .nodes
            .get(node)
            .and_then(|n| n.edges.get(&key(method, edge)))
        else {
            return Vec::new();
        };
        call.params
            .iter()
            .filter(|(_, p)| p.kind.starts_with("list<"))
            .filter_map(|(name, p)| Some((name.as_str(), p.required, p.values.as_deref()?)))
            .collect()
    }

    /// The fields of a node type.
    pub(crate) fn fields_of(&self, node: &str) -> Vec<&str> {
        self.fields
            .get(node)
            .map(|f| f.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The fields documented on an edge outside its node type's (graph-api.md: `tasks`,
    /// `permitted_tasks`, …), for this node type or any.
    pub(crate) fn edge_fields(&self, node: &str, method: &str, edge: &str) -> Vec<&str> {
        let mut fields: Vec<&str> = Vec::new();
        for ef in &self.extras.edge_fields {
            if (ef.node == "*" || ef.node == node)
                && ef.method == method
                && edge_matches(&ef.edge, edge)
            {
                for f in &ef.fields {
                    if !fields.contains(&f.as_str()) {
                        fields.push(f);
                    }
                }
            }
        }
        fields
    }

    /// Checks a call on a node type: the call exists, every parameter is listed (or is a
    /// transport parameter), required ones are present, enum values are valid, and every
    /// `fields=` name is a field of the returned type or a documented edge field.
    pub fn check(
        &self,
        node: &str,
        method: &str,
        edge: &str,
        params: &BTreeMap<String, String>,
    ) -> Result<(), Violation> {
        let call = key(method, edge);
        let Some(spec) = self.nodes.get(node).and_then(|n| n.edges.get(&call)) else {
            return Err(Violation::UnknownCall {
                node: node.to_owned(),
                call,
            });
        };
        self.check_params(&spec.params, params)?;
        if let Some(fields) = params.get("fields") {
            let returned = match (method, spec.returns.as_deref()) {
                // A node read returns the node; an edge read returns its items.
                (_, None) | ("GET", Some("Object")) => node,
                ("GET", Some(r)) if !edge.is_empty() => r,
                _ => node,
            };
            self.check_fields(node, method, edge, returned, fields)?;
        }
        Ok(())
    }

    /// Checks a call outside the node types: `GET debug_token`, `GET oauth/access_token`,
    /// `GET oauth/revoke`, `POST batch`.
    pub fn check_special(
        &self,
        call: &str,
        params: &BTreeMap<String, String>,
    ) -> Result<(), Violation> {
        let Some(spec) = self.extras.specials.get(call) else {
            return Err(Violation::UnknownCall {
                node: "Graph".into(),
                call: call.to_owned(),
            });
        };
        self.check_params(&spec.params, params)
    }

    fn check_params(
        &self,
        spec: &BTreeMap<String, Param>,
        params: &BTreeMap<String, String>,
    ) -> Result<(), Violation> {
        for (name, value) in params {
            if self.extras.transport_params.iter().any(|t| t == name) {
                continue;
            }
            let Some(p) = spec.get(name) else {
                return Err(Violation::UnknownParam(name.clone()));
            };
            if let Some(allowed) = &p.values {
                let items = if p.kind.starts_with("list<") {
                    list_items(value)
                } else {
                    vec![value.clone()]
                };
                for item in items {
                    if !allowed.contains(&item) {
                        return Err(Violation::BadEnum {
                            param: name.clone(),
                            allowed: allowed.clone(),
                        });
                    }
                }
            }
        }
        for (name, p) in spec {
            if p.required && params.get(name).is_none_or(|v| v.is_empty()) {
                return Err(Violation::MissingParam(name.clone()));
            }
        }
        Ok(())
    }

    fn check_fields(
        &self,
        node: &str,
        method: &str,
        edge: &str,
        returned: &str,
        fields: &str,
    ) -> Result<(), Violation> {
        let known = self.fields.get(returned);
        for field in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            // `name{sub}` and `name.limit(5)` name the field `name`.
            let base = field.split(['{', '.', '(']).next().unwrap_or(field).trim();
            let on_node = known.is_some_and(|k| k.contains(base));
            let on_edge = self.extras.edge_fields.iter().any(|ef| {
                (ef.node == "*" || ef.node == node)
                    && ef.method == method
                    && edge_matches(&ef.edge, edge)
                    && ef.fields.iter().any(|f| f == base)
            });
            if !on_node && !on_edge {
                return Err(Violation::UnknownField {
                    field: base.to_owned(),
                    node: returned.to_owned(),
                });
            }
        }
        Ok(())
    }
}

fn key(method: &str, edge: &str) -> String {
    if edge.is_empty() {
        method.to_owned()
    } else {
        format!("{method} {edge}")
    }
}

fn edge_matches(pattern: &str, edge: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => edge.starts_with(prefix),
        None => pattern == edge,
    }
}

/// The items of a list parameter: a JSON array or a comma-separated string.
fn list_items(value: &str) -> Vec<String> {
    if let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(value) {
        return items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .collect();
    }
    value
        .trim_matches(['[', ']'])
        .split(',')
        .map(|s| s.trim().trim_matches(['\'', '"']).to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_table_loads_and_answers_in_metas_words() {
        let c = Contract::get();
        assert!(c.has_call("Business", "POST", "system_users"));
        assert!(
            c.check(
                "Business",
                "GET",
                "system_users",
                &params(&[("fields", "id,name,role")])
            )
            .is_ok()
        );
        assert_eq!(
            c.check(
                "Business",
                "GET",
                "system_users",
                &params(&[("fields", "id,nope")])
            )
            .unwrap_err()
            .message(),
            "(#100) Tried accessing nonexisting field (nope) on node type (SystemUser)"
        );
        assert_eq!(
            c.check("Business", "POST", "system_users", &params(&[]))
                .unwrap_err()
                .message(),
            "(#100) The parameter name is required"
        );
        let err = c
            .check(
                "Business",
                "POST",
                "system_users",
                &params(&[("name", "x"), ("role", "BOSS")]),
            )
            .unwrap_err();
        assert!(
            err.message()
                .starts_with("(#100) Param role must be one of {"),
            "{err}"
        );
        let err = c
            .check(
                "AdAccount",
                "POST",
                "assigned_users",
                &params(&[("user", "1"), ("tasks", r#"["ANALYZE","FLY"]"#)]),
            )
            .unwrap_err();
        assert!(matches!(err, Violation::BadEnum { .. }), "{err}");
        assert!(
            c.check("SystemUser", "GET", "", &params(&[("fields", "role")]))
                .is_err()
        );
        assert!(c.check_special("GET debug_token", &params(&[])).is_err());
        assert!(c.check("Page", "DELETE", "", &params(&[])).is_err());
    }
}

//! The emulator's asset kinds, derived: which kinds exist and their edges' names come from the
//! crate's table (`crate::kinds::KINDS`); what the Graph API does with each (the task values
//! its `assigned_users` edge accepts, in which lists, whether tasks are required, whether an
//! assignment can be removed, the node's fields) comes from Meta's API description
//! (`contract.json`), by node type. The values it checks are Meta's, never the crate's enums:
//! a test below holds the crate to them value by value, so a wrong value in the crate is caught
//! instead of copied.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::contract::Contract;

/// A kind of asset the emulator holds: a row of [`rows`].
#[derive(Clone, Copy)]
pub(crate) struct Kind(&'static KindSpec);

impl PartialEq for Kind {
    fn eq(&self, other: &Kind) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Kind {}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.key)
    }
}

/// One task list of a kind's `assigned_users` POST: its parameter and its values.
#[derive(Debug)]
pub(crate) struct TaskList {
    pub(crate) param: &'static str,
    pub(crate) values: Vec<&'static str>,
}

/// What the Graph API does for one kind.
#[derive(Debug)]
pub(crate) struct KindSpec {
    /// The key of spec files and of the crate's `AssetRef`.
    pub(crate) key: &'static str,
    /// The node type, as Meta's API description names it.
    pub(crate) node_type: &'static str,
    /// The business's edge listing the assets it owns.
    pub(crate) owned_edge: &'static str,
    /// The system user's edge listing its assets of the kind, if there is one.
    pub(crate) system_user_edge: Option<&'static str>,
    /// The task lists of `POST /{asset}/assigned_users`, with their exact values.
    pub(crate) lists: Vec<TaskList>,
    /// Whether an assignment without tasks is refused.
    pub(crate) tasks_required: bool,
    /// Whether `DELETE /{asset}/assigned_users` exists.
    pub(crate) can_unassign: bool,
    /// The fields a read of the kind may ask for.
    pub(crate) fields: Vec<&'static str>,
}

/// Every kind, in the crate's table's order.
pub(crate) fn rows() -> &'static [KindSpec] {
    static ROWS: OnceLock<Vec<KindSpec>> = OnceLock::new();
    ROWS.get_or_init(|| {
        let contract = Contract::get();
        crate::kinds::KINDS
            .iter()
            .map(|info| {
                let node = info.node;
                let lists: Vec<TaskList> = contract
                    .enum_lists(node, "POST", "assigned_users")
                    .into_iter()
                    .map(|(param, _, values)| TaskList {
                        param,
                        values: values.iter().map(String::as_str).collect(),
                    })
                    .collect();
                KindSpec {
                    key: info.key,
                    node_type: node,
                    owned_edge: info.owned_edge,
                    system_user_edge: info.system_user_edge,
                    tasks_required: contract
                        .enum_lists(node, "POST", "assigned_users")
                        .iter()
                        .any(|(_, required, _)| *required),
                    lists,
                    can_unassign: contract.has_call(node, "DELETE", "assigned_users"),
                    fields: contract.fields_of(node),
                }
            })
            .collect()
    })
}

impl Kind {
    /// The kind of this key (`ad_account`, `page`, …). Only ever called with the keys of the
    /// crate's table: another is a mistake in the emulator's own code.
    pub(crate) fn of(key: &str) -> Kind {
        match rows().iter().find(|k| k.key == key) {
            Some(spec) => Kind(spec),
            None => panic!("the crate has no asset kind {key:?}"),
        }
    }

    pub(crate) fn key(self) -> &'static str {
        self.0.key
    }

    /// The task lists of its `assigned_users` POST.
    pub(crate) fn lists(self) -> &'static [TaskList] {
        &self.0.lists
    }

    pub(crate) fn tasks_required(self) -> bool {
        self.0.tasks_required
    }

    pub(crate) fn can_unassign(self) -> bool {
        self.0.can_unassign
    }

    pub(crate) fn node_type(self) -> &'static str {
        self.0.node_type
    }

    /// The fields a read of this kind may ask for.
    pub(crate) fn fields(self) -> &'static [&'static str] {
        &self.0.fields
    }

    /// The kind a business's `owned_*` edge lists.
    pub(crate) fn by_owned_edge(edge: &str) -> Option<Kind> {
        rows().iter().find(|k| k.owned_edge == edge).map(Kind)
    }

    /// The kind a system user's `assigned_*` edge lists.
    pub(crate) fn by_system_user_edge(edge: &str) -> Option<Kind> {
        rows()
            .iter()
            .find(|k| k.system_user_edge == Some(edge))
            .map(Kind)
    }

    /// How the emulator keeps a task given in a list: as sent for a kind with one list, else
    /// prefixed by the list's asset type (`PAGE:MANAGE` for `page_tasks`).
    pub(crate) fn stored(self, list: &str, value: &str) -> String {
        if self.0.lists.len() == 1 {
            return value.to_owned();
        }
        let prefix = list.strip_suffix("_tasks").unwrap_or(list);
        format!("{}:{value}", prefix.to_ascii_uppercase())
    }

    /// The task-list fields of a node on `edge` (`GET` on `node`, whose documented edge fields
    /// say which: `tasks`, `permitted_tasks`, `page_tasks`, …): each list with the tasks kept
    /// in it, each `permitted_` list with every value of its list.
    pub(crate) fn answer(self, node: &str, edge: &str, tasks: &[String]) -> Map<String, Value> {
        let mut out = Map::new();
        for field in Contract::get().edge_fields(node, "GET", edge) {
            let (list, permitted) = match field.strip_prefix("permitted_") {
                Some(list) => (list, true),
                None => (field, false),
            };
            let Some(spec) = self.0.lists.iter().find(|l| l.param == list) else {
                if list == "tasks" {
                    out.insert(field.to_owned(), self.unpacked(permitted, tasks));
                }
                continue;
            };
            let values: Vec<&str> = if permitted {
                spec.values.clone()
            } else {
                tasks
                    .iter()
                    .filter_map(|t| self.unstored(t).filter(|(l, _)| *l == list))
                    .map(|(_, v)| v)
                    .collect()
            };
            out.insert(field.to_owned(), json!(values));
        }
        out
    }

    /// The generic `tasks` (or `permitted_tasks`) of a kind of several lists: "all unpacked
    /// tasks of this user on this object" (graph-api.md 3), written `TYPE:TASK` as kept
    /// ([INFER]: Meta documents the field, not how a group's tasks read in it).
    fn unpacked(self, permitted: bool, tasks: &[String]) -> Value {
        if !permitted {
            return json!(tasks);
        }
        let all: Vec<String> = self
            .0
            .lists
            .iter()
            .flat_map(|l| l.values.iter().map(|v| self.stored(l.param, v)))
            .collect();
        json!(all)
    }

    /// A kept task's list and value.
    fn unstored(self, task: &str) -> Option<(&'static str, &str)> {
        if self.0.lists.len() == 1 {
            return Some((self.0.lists[0].param, task));
        }
        let (prefix, value) = task.split_once(':')?;
        self.0
            .lists
            .iter()
            .find(|l| {
                l.param
                    .strip_suffix("_tasks")
                    .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
            })
            .map(|l| (l.param, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crate's asset-kind table and Meta's description agree, value by value: the tasks
    /// of each kind in each list, and its rules. A value the crate has wrong fails here.
    #[test]
    fn the_crate_and_metas_description_agree_on_every_kind() {
        assert_eq!(rows().len(), crate::kinds::KINDS.len());
        for info in crate::kinds::KINDS {
            let spec = Kind::of(info.key).0;
            assert!(!spec.lists.is_empty(), "{}: no task list", spec.node_type);
            let mut crate_lists = (info.wire_tasks)();
            crate_lists.sort_by_key(|(l, _)| *l);
            let metas: Vec<(&str, Vec<&str>)> = spec
                .lists
                .iter()
                .map(|l| (l.param, l.values.clone()))
                .collect();
            assert_eq!(crate_lists, metas, "task lists of {}", info.key);
            assert_eq!(
                (info.tasks_required, info.can_unassign),
                (spec.tasks_required, spec.can_unassign),
                "{}: (tasks required, unassign allowed)",
                info.key
            );
            assert!(spec.fields.contains(&"id"), "{}: no fields", spec.node_type);
        }
    }

    #[test]
    fn kept_tasks_answer_in_their_lists() {
        let page = Kind::of("page");
        assert_eq!(page.stored("tasks", "MANAGE"), "MANAGE");
        let answer = page.answer("Page", "assigned_users", &["MANAGE".into()]);
        assert_eq!(answer["tasks"], json!(["MANAGE"]));
        assert_eq!(answer["permitted_tasks"].as_array().map(Vec::len), Some(27));
    }
}

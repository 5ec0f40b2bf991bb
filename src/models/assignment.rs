//! Who is assigned to an asset, and which assets a system user is assigned to, with tasks.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::NodeRef;
use crate::kinds::Task;
use crate::macros::string_enum;

/// A user (system user or person) assigned to an asset, with its tasks on it.
///
/// ```
/// use meta_business::AdAccountTask;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// let account = client.ad_account(demo.ad_accounts[0]);
/// account.assign(&su.id, [AdAccountTask::Analyze]).send().await?;
/// let users = account.assigned_users(demo.business_id).collect(100).await?;
/// assert!(users[0].is_system_user());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AssignedUser<T> {
    /// The user's (app-scoped) id.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// `SYSTEM_USER` or `BUSINESS_USER`.
    pub user_type: Option<UserType>,
    /// The business the user belongs to, when sent.
    pub business: Option<NodeRef>,
    /// The user's tasks on the asset (from each of the kind's task lists).
    pub tasks: Vec<T>,
    /// The tasks that could be assigned on the asset.
    pub permitted_tasks: Vec<T>,
}

/// An `assigned_users` node as sent: its own fields, and the rest (the task lists).
#[derive(Deserialize)]
struct RawUser {
    #[serde(deserialize_with = "super::id_string")]
    id: String,
    name: Option<String>,
    user_type: Option<UserType>,
    business: Option<NodeRef>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl<'de, T: Task> Deserialize<'de> for AssignedUser<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawUser::deserialize(d)?;
        let (tasks, permitted_tasks) = task_lists(&raw.rest)?;
        Ok(AssignedUser {
            id: raw.id,
            name: raw.name,
            user_type: raw.user_type,
            business: raw.business,
            tasks,
            permitted_tasks,
        })
    }
}

/// The tasks of a node, from each of the kind's lists (`tasks`, or `page_tasks`, …) and, for a
/// kind of several lists, the generic `tasks` edge field too (the documented one, which the
/// reads ask for; a server may answer either), and the permitted ones (`permitted_` and the
/// list's name), each absent list empty.
fn task_lists<T: Task, E: serde::de::Error>(
    node: &Map<String, Value>,
) -> Result<(Vec<T>, Vec<T>), E> {
    let mut tasks = Vec::new();
    let mut permitted = Vec::new();
    let generic = (!T::LISTS.contains(&"tasks")).then_some("tasks");
    for list in T::LISTS.iter().copied().chain(generic) {
        read_list(node.get(list), list, &mut tasks)?;
        read_list(node.get(&format!("permitted_{list}")), list, &mut permitted)?;
    }
    Ok((tasks, permitted))
}

fn read_list<T: Task, E: serde::de::Error>(
    value: Option<&Value>,
    list: &str,
    into: &mut Vec<T>,
) -> Result<(), E> {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(items)) => {
            for item in items {
                let Value::String(raw) = item else {
                    return Err(E::custom(format!("{list}: a task is not a string")));
                };
                into.push(T::from_wire(list, raw));
            }
            Ok(())
        }
        Some(_) => Err(E::custom(format!("{list}: not a list of tasks"))),
    }
}

impl<T> AssignedUser<T> {
    /// Whether this is a system user (as opposed to a person).
    pub fn is_system_user(&self) -> bool {
        self.user_type == Some(UserType::SystemUser)
    }
}

string_enum! {
    /// The kind of user an assignment is for.
    pub enum UserType {
        SystemUser => "SYSTEM_USER",
        BusinessUser => "BUSINESS_USER",
    }
    /// A kind this crate does not know, kept as sent.
    escape Unknown;
}

/// An asset a system user is assigned to, with its tasks on it.
///
/// ```
/// use meta_business::PageTask;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// client.page(demo.pages[0]).assign(&su.id, [PageTask::Analyze]).send().await?;
/// for page in client.system_user(&su.id).assigned_pages().collect(100).await? {
///     println!("{} {:?}", page.id, page.tasks);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AssignedAsset<I, T> {
    /// The asset's id.
    pub id: I,
    /// Its name.
    pub name: Option<String>,
    /// The system user's tasks on it (from each of the kind's task lists).
    pub tasks: Vec<T>,
    /// The tasks that could be assigned on it.
    pub permitted_tasks: Vec<T>,
}

/// A system user's `assigned_*` node as sent: its own fields, and the rest (the task lists).
#[derive(Deserialize)]
#[serde(bound(deserialize = "I: Deserialize<'de>"))]
struct RawAsset<I> {
    id: I,
    name: Option<String>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl<'de, I: Deserialize<'de>, T: Task> Deserialize<'de> for AssignedAsset<I, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawAsset::<I>::deserialize(d)?;
        let (tasks, permitted_tasks) = task_lists(&raw.rest)?;
        Ok(AssignedAsset {
            id: raw.id,
            name: raw.name,
            tasks,
            permitted_tasks,
        })
    }
}

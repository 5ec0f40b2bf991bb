//! Who is assigned to an asset, and which assets a system user is assigned to, with tasks.

use serde::{Deserialize, Serialize};

use super::NodeRef;
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct AssignedUser<T> {
    /// The user's (app-scoped) id.
    #[serde(deserialize_with = "super::id_string")]
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// `SYSTEM_USER` or `BUSINESS_USER`.
    pub user_type: Option<UserType>,
    /// The business the user belongs to, when sent.
    pub business: Option<NodeRef>,
    /// The user's tasks on the asset.
    #[serde(default)]
    pub tasks: Vec<T>,
    /// The tasks that could be assigned on the asset.
    #[serde(default)]
    pub permitted_tasks: Vec<T>,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(bound(deserialize = "I: Deserialize<'de>, T: Deserialize<'de>"))]
pub struct AssignedAsset<I, T> {
    /// The asset's id.
    pub id: I,
    /// Its name.
    pub name: Option<String>,
    /// The system user's tasks on it.
    #[serde(default)]
    pub tasks: Vec<T>,
    /// The tasks that could be assigned on it.
    #[serde(default)]
    pub permitted_tasks: Vec<T>,
}

/// A business asset group a system user is assigned to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AssignedAssetGroup {
    /// The group's id.
    #[serde(deserialize_with = "super::id_string")]
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// Any other field sent (per-asset-type task lists such as `adaccount_tasks`).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

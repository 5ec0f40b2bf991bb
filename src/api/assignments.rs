//! Assigning system users to assets with per-asset tasks, and reading those assignments.
//!
//! Each asset kind has its own handler type, `AssetHandler<K>`, whose kind fixes the id type
//! and the task enum: a Page task cannot be given to an ad account. Get one from
//! [`Client::ad_account`], [`Client::page`], [`Client::catalog`], [`Client::pixel`],
//! [`Client::instagram_asset`] or [`Client::whatsapp_business_account`].
//!
//! A task of another kind does not compile:
//!
//! ```compile_fail
//! # fn run(client: meta_business::Client) {
//! let _ = client.ad_account("act_42").assign("1", [meta_business::PageTask::Manage]);
//! # }
//! ```
//!
//! while the right kind does:
//!
//! ```
//! # fn run(client: meta_business::Client) {
//! let _ = client.ad_account("act_42").assign("1", [meta_business::AdAccountTask::Analyze]);
//! # }
//! ```

use std::fmt;
use std::marker::PhantomData;

use reqwest::Method;

use crate::api::exchange::{self, Exchange, Refusal};
use crate::api::first_error;
use crate::batch::BatchItem;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::{BusinessId, SystemUserId};
use crate::kinds::Task;
use crate::models::assignment::AssignedUser;
use crate::pagination::ListRequest;
use crate::request::Request;

use crate::api::core::Core;
use crate::kinds::AssetKind;
use crate::kinds::sealed::AssetId;

/// One asset, by id, of kind `K`.
///
/// ```
/// use meta_business::{AdAccountTask, PageTask};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// client.ad_account(demo.ad_accounts[0]).assign(&su.id, [AdAccountTask::Analyze]).send().await?;
/// client.page(demo.pages[0]).assign(&su.id, [PageTask::Analyze]).send().await?;
/// // A Page task on an ad account does not compile:
/// // client.ad_account(demo.ad_accounts[0]).assign(&su.id, [PageTask::Analyze]);
/// # Ok(()) }
/// ```
pub struct AssetHandler<K: AssetKind> {
    client: Client,
    id: K::Id,
    _kind: PhantomData<K>,
}

impl<K: AssetKind> Clone for AssetHandler<K> {
    fn clone(&self) -> Self {
        AssetHandler {
            client: self.client.clone(),
            id: self.id.clone(),
            _kind: PhantomData,
        }
    }
}

impl<K: AssetKind> fmt::Debug for AssetHandler<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssetHandler")
            .field("kind", &K::NAME)
            .field("id", &self.id)
            .finish()
    }
}

impl<K: AssetKind> AssetHandler<K> {
    pub(crate) fn new(client: Client, id: K::Id) -> Self {
        AssetHandler {
            client,
            id,
            _kind: PhantomData,
        }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The asset's id.
    ///
    /// ```
    /// use meta_business::Client;
    /// let client = Client::builder().access_token("EAAB...").build()?;
    /// // Ad account ids are normalized to `act_<digits>`.
    /// assert_eq!(client.ad_account("3000000000001").id().as_str(), "act_3000000000001");
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn id(&self) -> &K::Id {
        &self.id
    }

    /// `POST /{asset}/assigned_users` with `user` and `tasks` (a JSON array): gives a system
    /// user (or a person of the business) these tasks on the asset.
    ///
    /// ```no_run
    /// use meta_business::{AdAccountTask, PageTask};
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// client.ad_account("act_42").assign("100000008899900", [AdAccountTask::Analyze]).send().await?;
    /// client.page("4242").assign("100000008899900", [PageTask::Analyze, PageTask::Advertise]).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn assign(
        &self,
        user: impl Into<SystemUserId>,
        tasks: impl IntoIterator<Item = K::Task>,
    ) -> Assign<K> {
        Assign {
            core: Core::new(self.client.clone()),
            asset: self.id.clone(),
            user: user.into(),
            tasks: tasks.into_iter().collect(),
            business: None,
        }
    }

    /// Replaces the tasks of an existing assignment (the same call as [`AssetHandler::assign`]:
    /// the Graph API sets the user's tasks on the asset to the ones sent).
    ///
    /// ```
    /// use meta_business::AdAccountTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// let account = client.ad_account(demo.ad_accounts[0]);
    /// account.assign(&su.id, [AdAccountTask::Manage]).send().await?;
    /// // Narrow it down: the tasks given replace the old ones.
    /// account.change_tasks(&su.id, [AdAccountTask::Analyze]).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn change_tasks(
        &self,
        user: impl Into<SystemUserId>,
        tasks: impl IntoIterator<Item = K::Task>,
    ) -> Assign<K> {
        self.assign(user, tasks)
    }

    /// `DELETE /{asset}/assigned_users?user=`: removes the user from the asset. For a pixel the
    /// Graph API has no such call: [`Error::Unsupported`], and nothing is sent.
    ///
    /// ```
    /// use meta_business::CatalogTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// let catalog = client.catalog(demo.catalog);
    /// catalog.assign(&su.id, [CatalogTask::Manage]).send().await?;
    /// catalog.unassign(&su.id).send().await?;
    /// assert!(catalog.assigned_users(demo.business_id).collect(100).await?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn unassign(&self, user: impl Into<SystemUserId>) -> Unassign<K> {
        Unassign {
            core: Core::new(self.client.clone()),
            asset: self.id.clone(),
            user: user.into(),
        }
    }

    /// `GET /{asset}/assigned_users?business=`: who is assigned to the asset, with tasks. The
    /// Graph API requires the business, so it is an argument.
    ///
    /// ```
    /// use meta_business::PageTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// let page = client.page(demo.pages[0]);
    /// page.assign(&su.id, [PageTask::Analyze]).send().await?;
    /// let users = page.assigned_users(demo.business_id).collect(100).await?;
    /// assert_eq!(users[0].id, su.id.as_str());
    /// assert_eq!(users[0].tasks, [PageTask::Analyze]);
    /// # Ok(()) }
    /// ```
    pub fn assigned_users(
        &self,
        business: impl Into<BusinessId>,
    ) -> ListRequest<AssignedUser<K::Task>> {
        let business = business.into();
        let req = Request::get([self.id.wire(), "assigned_users"])
            .param("business", business.as_str())
            .static_param("fields", K::ASSIGNED_USER_FIELDS);
        ListRequest::new(
            self.client.clone(),
            req,
            first_error([self.id.check(), business.validate()]),
        )
    }
}

/// The tasks as the Graph API takes them: each of the kind's lists ([`Task::LISTS`]) that
/// holds a task, as a JSON array. At least one task is required for every kind, whatever the
/// API would accept (least privilege is stated, never defaulted), and a task named twice is
/// refused rather than merged: it usually means a mistake upstream.
fn check_tasks<T: Task>(tasks: &[T], kind: &str) -> Result<Vec<(&'static str, String)>> {
    if tasks.is_empty() {
        return Err(Error::invalid_input(
            "tasks",
            format!(
                "{} {kind} assignment needs at least one task",
                crate::models::article(kind)
            ),
        ));
    }
    let mut lists: Vec<(&'static str, Vec<&str>)> = Vec::with_capacity(1);
    for (i, task) in tasks.iter().enumerate() {
        let Some((list, value)) = task.wire() else {
            return Err(Error::invalid_input(
                "tasks",
                format!(
                    "{:?} names no task list of {} {kind}",
                    crate::error::clip(task.as_str(), 60),
                    crate::models::article(kind)
                ),
            ));
        };
        if task.is_unlisted() {
            crate::models::check_enum_escape(list, value)?;
        }
        if tasks[..i].iter().any(|t| t.as_str() == task.as_str()) {
            return Err(Error::invalid_input(
                "tasks",
                format!("{} is listed twice", task.as_str()),
            ));
        }
        match lists.iter_mut().find(|(l, _)| *l == list) {
            Some((_, values)) => values.push(value),
            None => lists.push((list, vec![value])),
        }
    }
    // In the kind's order of lists, whatever the order given: one wire form per assignment.
    lists.sort_by_key(|(list, _)| T::LISTS.iter().position(|l| l == list));
    lists
        .into_iter()
        .map(|(list, values)| Ok((list, json_array(&values)?)))
        .collect()
}

/// A compact JSON array of strings, written straight into the string: bulk encodes the tasks
/// of every operation.
fn json_array(values: &[&str]) -> Result<String> {
    let mut wire = Vec::with_capacity(values.iter().map(|v| v.len() + 3).sum::<usize>() + 2);
    serde::Serializer::collect_seq(&mut serde_json::Serializer::new(&mut wire), values)
        .map_err(|e| Error::invalid_input("tasks", e.to_string()))?;
    String::from_utf8(wire).map_err(|e| Error::invalid_input("tasks", e.to_string()))
}

/// Builder for [`AssetHandler::assign`] and [`AssetHandler::change_tasks`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct Assign<K: AssetKind> {
    pub(crate) core: Core,
    asset: K::Id,
    user: SystemUserId,
    tasks: Vec<K::Task>,
    business: Option<BusinessId>,
}

impl<K: AssetKind> Assign<K> {
    /// Also sends `business` (Meta's guide sends it for ad accounts; the spec does not need it).
    ///
    /// ```no_run
    /// use meta_business::AdAccountTask;
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// client
    ///     .ad_account("act_3000000000001")
    ///     .assign("100000008899900", [AdAccountTask::Analyze])
    ///     .business("1000000000001")
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn business(mut self, business: impl Into<BusinessId>) -> Self {
        self.business = Some(business.into());
        self
    }

    /// Sends the assignment.
    ///
    /// ```
    /// use meta_business::{AdAccountTask, Error};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// // Duplicate tasks are refused before anything is sent.
    /// let err = client
    ///     .ad_account(demo.ad_accounts[0])
    ///     .assign("100000008899900", [AdAccountTask::Analyze, AdAccountTask::Analyze])
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(err, Error::InvalidInput { .. }));
    /// assert!(emulator.requests().is_empty());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) for a bad asset or user id, no task where the
    /// kind requires one, or a malformed `Other` task; any request error.
    pub async fn send(self) -> Result<()> {
        exchange::send(self).await
    }

    pub(crate) fn request(&self) -> Result<Request> {
        let tasks = self.checked_tasks()?;
        Ok(assign_request(
            self.asset.wire().to_owned(),
            self.user.as_str().to_owned(),
            tasks,
            self.business.as_ref().map(|b| b.as_str().to_owned()),
            self.core.timeout,
        ))
    }

    /// [`Assign::request`], the ids moved into it rather than copied (bulk builds thousands).
    pub(crate) fn into_request(self) -> Result<Request> {
        let tasks = self.checked_tasks()?;
        Ok(assign_request(
            self.asset.into_wire(),
            self.user.into_string(),
            tasks,
            self.business.map(BusinessId::into_string),
            self.core.timeout,
        ))
    }

    /// Every input checked; the tasks as the lists the call sends.
    fn checked_tasks(&self) -> Result<Vec<(&'static str, String)>> {
        self.asset.check()?;
        self.user.validate()?;
        if let Some(business) = &self.business {
            business.validate()?;
        }
        check_tasks(&self.tasks, K::NAME)
    }
}

/// `POST /{asset}/assigned_users`: `user`, the task lists (checked: never all empty),
/// `business`.
fn assign_request(
    asset: String,
    user: String,
    tasks: Vec<(&'static str, String)>,
    business: Option<String>,
    timeout: Option<std::time::Duration>,
) -> Request {
    let mut req = Request::edge(Method::POST, asset, "assigned_users").param("user", user);
    for (list, values) in tasks {
        req = req.param(list, values);
    }
    if let Some(business) = business {
        req = req.param("business", business);
    }
    req.with_timeout(timeout)
}

/// Builder for [`AssetHandler::unassign`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct Unassign<K: AssetKind> {
    pub(crate) core: Core,
    asset: K::Id,
    user: SystemUserId,
}

impl<K: AssetKind> Unassign<K> {
    /// Removes the assignment.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a kind the Graph API cannot unassign (a pixel,
    /// [`AssetKind::CAN_UNASSIGN`]); [`Error::InvalidInput`] for a bad id (nothing
    /// sent either way); any request error.
    pub async fn send(self) -> Result<()> {
        exchange::send(self).await
    }

    pub(crate) fn request(&self) -> Result<Request> {
        if !K::CAN_UNASSIGN {
            return Err(Error::Unsupported {
                operation: "removing an assignment of this kind",
                reason: "the Graph API has no DELETE on this kind's assigned_users; remove the asset from the system user in Business Settings, or stop using the system user",
            });
        }
        self.asset.check()?;
        self.user.validate()?;
        Ok(
            Request::edge(Method::DELETE, self.asset.wire(), "assigned_users")
                .param("user", self.user.as_str())
                .with_timeout(self.core.timeout),
        )
    }
}

impl<K: AssetKind> Assign<K> {
    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }

    /// This operation as an item of a [batch](crate::Client::batch), checked as `send` checks
    /// it.
    ///
    /// ```
    /// use meta_business::AdAccountTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// let items = demo
    ///     .ad_accounts
    ///     .iter()
    ///     .map(|a| client.ad_account(*a).assign(&su.id, [AdAccountTask::Analyze]).batch_item())
    ///     .collect::<meta_business::Result<Vec<_>>>()?;
    /// for answer in client.batch(items).send().await {
    ///     answer?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As `send`, before anything is sent.
    pub fn batch_item(&self) -> Result<BatchItem> {
        exchange::batch_item(self)
    }
}

impl<K: AssetKind> Unassign<K> {
    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }

    /// This operation as an item of a [batch](crate::Client::batch), checked as `send` checks
    /// it.
    ///
    /// ```
    /// use meta_business::AdAccountTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// # for a in demo.ad_accounts {
    /// #     client.ad_account(a).assign(&su.id, [AdAccountTask::Analyze]).send().await?;
    /// # }
    /// // Take the user off every ad account, in one batch request.
    /// let items = demo
    ///     .ad_accounts
    ///     .iter()
    ///     .map(|a| client.ad_account(*a).unassign(&su.id).batch_item())
    ///     .collect::<meta_business::Result<Vec<_>>>()?;
    /// for answer in client.batch(items).send().await {
    ///     answer?;
    /// }
    /// assert!(emulator.assignments(demo.ad_accounts[0]).get(su.id.as_str()).is_none());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As `send`, before anything is sent.
    pub fn batch_item(&self) -> Result<BatchItem> {
        exchange::batch_item(self)
    }
}

fn label<K: AssetKind>(wire: &str) -> String {
    // Pushed, not formatted: bulk labels every operation up front.
    let mut label = String::with_capacity(K::NAME.len() + 1 + wire.len());
    label.push_str(K::NAME);
    label.push(' ');
    label.push_str(wire);
    label
}

impl<K: AssetKind> Exchange for Assign<K> {
    type Answer = crate::models::Ack;
    type Output = ();

    fn core(&self) -> &Core {
        &self.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    fn request(&self) -> Result<Request> {
        Assign::request(self)
    }

    fn into_request(self) -> Result<Request> {
        Assign::into_request(self)
    }

    /// Setting a user's tasks on an asset sets a state: sent twice, it lands once.
    fn effect(&self) -> crate::retry::Effect {
        crate::retry::Effect::Sets
    }

    fn label(&self) -> String {
        label::<K>(self.asset.wire())
    }

    fn finish(self, answer: Self::Answer) -> std::result::Result<(), Refusal> {
        exchange::acknowledged(answer)
    }
}

impl<K: AssetKind> Exchange for Unassign<K> {
    type Answer = crate::models::Ack;
    type Output = ();

    fn core(&self) -> &Core {
        &self.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    fn request(&self) -> Result<Request> {
        Unassign::request(self)
    }

    fn effect(&self) -> crate::retry::Effect {
        crate::retry::Effect::Sets
    }

    fn label(&self) -> String {
        label::<K>(self.asset.wire())
    }

    fn finish(self, answer: Self::Answer) -> std::result::Result<(), Refusal> {
        exchange::acknowledged(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::ad_account::AdAccountTask;
    use crate::kinds::catalog::CatalogTask;
    use crate::kinds::page::PageTask;

    #[test]
    fn tasks_encode_as_a_compact_json_array_and_duplicates_are_refused() {
        let wire = check_tasks(&[AdAccountTask::Manage, AdAccountTask::Analyze], "x").unwrap();
        assert_eq!(wire, [("tasks", r#"["MANAGE","ANALYZE"]"#.to_owned())]);
        let dup = check_tasks(
            &[
                AdAccountTask::Manage,
                AdAccountTask::Analyze,
                AdAccountTask::Manage,
            ],
            "ad account",
        )
        .unwrap_err();
        assert!(dup.to_string().contains("MANAGE is listed twice"), "{dup}");
        assert!(check_tasks::<CatalogTask>(&[], "catalog").is_err());
        let empty = check_tasks::<AdAccountTask>(&[], "ad account").unwrap_err();
        assert!(
            empty.to_string().contains("an ad account assignment"),
            "{empty}"
        );
        assert!(check_tasks(&[PageTask::Other("bad task".into())], "Page").is_err());
        assert_eq!(
            check_tasks(&[PageTask::Other("NEW_TASK".into())], "Page").unwrap(),
            [("tasks", r#"["NEW_TASK"]"#.to_owned())]
        );
    }
}

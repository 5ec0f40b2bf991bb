//! System users: create (within the quota), list, read, rename.
//!
//! The Graph API cannot delete a system user. To retire one, invalidate its tokens and remove
//! its asset assignments (offboarding), then rename it to mark it decommissioned.

use std::time::Duration;

use crate::api::Call;
use crate::api::core::Core;
use crate::api::exchange::{self, Exchange, Refusal};
use crate::client::{Client, QuotaPolicy};
use crate::error::{Error, Result};
use crate::ids::{BusinessId, SystemUserId};
use crate::models::check_new_name;
use crate::models::system_user::{SystemUser, SystemUserRole};
use crate::pagination::ListRequest;
use crate::quota::QuotaUsage;
use crate::request::Request;
use crate::retry::Effect;

mod create;
mod setters;

/// Fields of the `system_users` list; `role` is an edge field, only available here.
const LIST_FIELDS: &str = "id,name,role";
/// Fields of the SystemUser node (it has no `role`).
pub(crate) const NODE_FIELDS: &str = "id,name,created_time,finance_permission,ip_permission";
/// Most system users the quota check will read; far above any tier's quota.
const MAX_SCAN: usize = 10_000;

/// A business's system users. Get one with
/// [`BusinessHandler::system_users`](crate::api::business::BusinessHandler::system_users).
#[derive(Debug, Clone)]
pub struct SystemUsersHandler {
    client: Client,
    business: BusinessId,
}

impl SystemUsersHandler {
    pub(crate) fn new(client: Client, business: BusinessId) -> Self {
        SystemUsersHandler { client, business }
    }

    /// `POST /{business}/system_users`: creates a system user, after checking the quota.
    ///
    /// Without `.role(..)` the Graph API's default applies, which the quota counts as a
    /// regular system user.
    ///
    /// ```
    /// use meta_business::{Error, SystemUserRole};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let users = client.business(demo.business_id).system_users();
    /// let su = users.create("crm-sync-eu").role(SystemUserRole::Employee).send().await?;
    /// assert_eq!(su.name.as_deref(), Some("crm-sync-eu"));
    /// // The demo business is on the Limited tier: a second regular system user does not fit,
    /// // and nothing is sent.
    /// let err = users.create("crm-sync-us").send().await.unwrap_err();
    /// assert!(matches!(err, Error::QuotaExceeded { .. }));
    /// # Ok(()) }
    /// ```
    pub fn create(&self, name: impl Into<String>) -> CreateSystemUser {
        CreateSystemUser {
            core: Core::new(self.client.clone()),
            business: self.business.clone(),
            name: name.into(),
            role: None,
            policy: None,
        }
    }

    /// The system user of this name, created (within the quota) when there is none. The lookup
    /// and the create run under the client's [`CreateLock`](crate::lock::CreateLock), so concurrent
    /// callers on one `Client` (and its clones) get one user and all succeed; across processes
    /// this holds as far as the lock given to
    /// [`ClientBuilder::create_lock`](crate::ClientBuilder::create_lock) reaches. An existing
    /// user is returned whatever its role (the Graph API cannot change a role).
    ///
    /// ```no_run
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let got = client.business("1234567890").system_users().get_or_create("crm-sync").send().await?;
    /// println!("{} ({})", got.user.id, if got.created { "created" } else { "existing" });
    /// # Ok(()) }
    /// ```
    pub fn get_or_create(&self, name: impl Into<String>) -> GetOrCreateSystemUser {
        GetOrCreateSystemUser {
            inner: self.create(name),
        }
    }

    /// `GET /{business}/system_users`: the business's system users, each with its role.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let users = client.business(demo.business_id).system_users();
    /// users.create("ads-reporting").send().await?;
    /// for su in users.list().collect(1_000).await? {
    ///     println!("{} {} ({})", su.id, su.name.as_deref().unwrap_or(""), su.kind());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListRequest<SystemUser> {
        ListRequest::new(
            self.client.clone(),
            self.list_request(),
            self.business.validate().err(),
        )
    }

    fn list_request(&self) -> Request {
        Request::get([self.business.as_str(), "system_users"]).static_param("fields", LIST_FIELDS)
    }

    /// Renames a system user (`POST /{business}/system_users` with `system_user_id` and the
    /// new `name`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let users = client.business(demo.business_id).system_users();
    /// let su = users.create("crm").send().await?;
    /// let renamed = users.rename(su.id, "crm-sync-eu-hubspot").send().await?;
    /// assert_eq!(renamed.name.as_deref(), Some("crm-sync-eu-hubspot"));
    /// # Ok(()) }
    /// ```
    pub fn rename(&self, id: impl Into<SystemUserId>, name: impl Into<String>) -> RenameSystemUser {
        RenameSystemUser {
            core: Core::new(self.client.clone()),
            business: self.business.clone(),
            id: id.into(),
            name: name.into(),
        }
    }

    /// Reads every system user and counts them against the client's quota.
    ///
    /// ```
    /// use meta_business::SystemUserKind;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let usage = client.business(demo.business_id).system_users().quota().send().await?;
    /// assert_eq!(usage.remaining(SystemUserKind::Admin), Some(1));
    /// # Ok(()) }
    /// ```
    pub fn quota(&self) -> QuotaRequest {
        QuotaRequest {
            core: Core::new(self.client.clone()),
            handler: self.clone(),
            max_pages: None,
        }
    }

    async fn read_all(
        &self,
        timeout: Option<Duration>,
        max_pages: Option<u32>,
    ) -> Result<Vec<SystemUser>> {
        self.business.validate()?;
        let list = ListRequest::<SystemUser>::new(
            self.client.clone(),
            self.list_request().with_timeout(timeout),
            None,
        );
        match max_pages {
            Some(pages) => list.max_pages(pages),
            None => list,
        }
        .collect(MAX_SCAN)
        .await
    }

    async fn usage(&self, timeout: Option<Duration>, max_pages: Option<u32>) -> Result<QuotaUsage> {
        let users = self.read_all(timeout, max_pages).await?;
        Ok(QuotaUsage::count(
            self.business.clone(),
            self.client.quota_policy(),
            &users,
        ))
    }
}

/// Builder for [`SystemUsersHandler::create`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct CreateSystemUser {
    pub(crate) core: Core,
    business: BusinessId,
    name: String,
    role: Option<SystemUserRole>,
    policy: Option<QuotaPolicy>,
}

impl CreateSystemUser {
    /// Checks against this quota policy instead of the client's (provisioning plans carry
    /// the tier of their desired-state file).
    pub(crate) fn quota_policy(mut self, policy: QuotaPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Checks the input and the quota, then creates the system user.
    ///
    /// This first reads every system user of the business; when the client enforces a quota it
    /// returns [`Error::QuotaExceeded`] without sending the
    /// create if the new one would not fit. Creates for one business are serialized by the
    /// client's [`CreateLock`](crate::lock::CreateLock) (by default within the client and its clones
    /// only), so concurrent creates cannot both slip under the limit.
    ///
    /// The create is never re-sent blindly: when its outcome is unknown after it was sent (a
    /// timeout, a reset, a 5xx, a success that does not decode, an answer that is not the
    /// Graph API's; see [`Error::outcome_unknown`]) the
    /// business's system users are read again. A user of this name that was not there before
    /// is returned as created; only if none is there is the create tried again (within the
    /// retry policy). If that read fails too, the error is
    /// [`Error::OutcomeUnknown`]. A user of the same name that existed before is never
    /// reported as created; an answer naming one (or another name) is an
    /// [`Error::UnexpectedResponse`] whose [`outcome_unknown`](Error::outcome_unknown) is true.
    ///
    /// ```
    /// use meta_business::Error;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let users = client.business(demo.business_id).system_users();
    /// // Bad input fails before anything is sent.
    /// let err = users.create("\u{202E}gnitroper").send().await.unwrap_err();
    /// assert!(matches!(err, Error::InvalidInput { .. }));
    /// assert!(emulator.requests().is_empty());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad business id, name or role; [`Error::QuotaExceeded`];
    /// any request error.
    pub async fn send(self) -> Result<SystemUser> {
        self.run(false).await.map(|got| got.user)
    }

    /// The create, or (with `reuse`) the user of this name when one exists, decided under the
    /// create lock.
    async fn run(mut self, reuse: bool) -> Result<GetOrCreated> {
        let request = exchange::prepare(&mut self)?;
        let name = self.name.trim().to_owned();
        let kind = SystemUserRole::kind_of(self.role.as_ref());

        let handler = SystemUsersHandler::new(self.core.client.clone(), self.business.clone());
        // One create at a time per business: the lookup, the quota check and the after-failure
        // check all need a list nobody else is changing.
        let _serialized = self.core.client.lock_creates(&self.business).await?;
        let policy = self
            .policy
            .unwrap_or_else(|| self.core.client.quota_policy());
        // Read even without a quota to check: after an ambiguous failure, only the users that
        // were not there before can be the one this call created.
        let before = handler.read_all(self.core.timeout, None).await?;
        if reuse {
            let same: Vec<&SystemUser> = before
                .iter()
                .filter(|u| u.name.as_deref() == Some(name.as_str()))
                .collect();
            match same.as_slice() {
                [] => {}
                [one] => {
                    return Ok(GetOrCreated {
                        user: (*one).clone(),
                        created: false,
                    });
                }
                many => {
                    return Err(Error::invalid_input(
                        "name",
                        format!(
                            "{} system users of business {} are named {name:?}; rename all but one",
                            many.len(),
                            self.business
                        ),
                    ));
                }
            }
        }
        if policy.quota().is_some() {
            let usage = QuotaUsage::count(self.business.clone(), policy, &before);
            usage.check(kind)?;
            tracing::debug!(business = %self.business, %kind, %usage, "system-user quota has room");
        }
        let user = self
            .post_and_settle(&handler, request, name, &before)
            .await?;
        Ok(GetOrCreated {
            user,
            created: true,
        })
    }
}

/// Builder for [`SystemUsersHandler::get_or_create`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct GetOrCreateSystemUser {
    pub(crate) inner: CreateSystemUser,
}

impl GetOrCreateSystemUser {
    /// The role given when the user is created.
    pub fn role(mut self, role: SystemUserRole) -> Self {
        self.inner = self.inner.role(role);
        self
    }

    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.inner = self.inner.timeout(timeout);
        self
    }

    /// Finds the system user of this name, or creates it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let got = client.business(demo.business_id).system_users().get_or_create("ads-reporting").send().await?;
    /// println!("{} {}", got.user.id, if got.created { "created" } else { "reused" });
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`CreateSystemUser::send`], and [`Error::InvalidInput`] when several system users
    /// already have this name.
    pub async fn send(self) -> Result<GetOrCreated> {
        self.inner.run(true).await
    }
}

/// What [`SystemUsersHandler::get_or_create`] found or made.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GetOrCreated {
    /// The system user.
    pub user: SystemUser,
    /// Whether this call created it.
    pub created: bool,
}

/// Builder for [`SystemUsersHandler::rename`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct RenameSystemUser {
    pub(crate) core: Core,
    business: BusinessId,
    id: SystemUserId,
    name: String,
}

impl RenameSystemUser {
    /// Renames the system user; returns it with its new name.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad id or name; [`Error::UnexpectedResponse`] when the
    /// server answers `success: false`; any request error.
    pub async fn send(self) -> Result<SystemUser> {
        exchange::send(self).await
    }
}

impl Exchange for RenameSystemUser {
    type Answer = crate::models::Ack;
    type Output = SystemUser;

    fn core(&self) -> &Core {
        &self.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    fn request(&self) -> Result<Request> {
        self.business.validate()?;
        self.id.validate()?;
        check_new_name(&self.name)?;
        Ok(Request::post([self.business.as_str(), "system_users"])
            .param("system_user_id", self.id.as_str())
            .param("name", self.name.trim()))
    }

    /// Setting a name: sent twice, the user has that name once.
    fn effect(&self) -> Effect {
        Effect::Sets
    }

    fn finish(self, answer: Self::Answer) -> std::result::Result<SystemUser, Refusal> {
        exchange::acknowledged(answer)?;
        let name = self.name.trim().to_owned();
        Ok(SystemUser::created(self.id, name, None))
    }
}

/// Builder for [`SystemUsersHandler::quota`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct QuotaRequest {
    pub(crate) core: Core,
    handler: SystemUsersHandler,
    max_pages: Option<u32>,
}

impl QuotaRequest {
    /// Reads at most this many pages of the list (at least 1), instead of the client's
    /// budget; a longer list is an [`Error::Pagination`].
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = Some(pages.max(1));
        self
    }

    /// Reads every system user of the business and counts admins and regular ones.
    ///
    /// ```
    /// use meta_business::SystemUserKind;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let usage = client.business(demo.business_id).system_user_quota().send().await?;
    /// assert_eq!((usage.existing(SystemUserKind::Regular), usage.limit(SystemUserKind::Regular)), (0, Some(1)));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad business id; any request error.
    pub async fn send(self) -> Result<QuotaUsage> {
        self.handler.usage(self.core.timeout, self.max_pages).await
    }
}

impl Call<SystemUser> {
    /// Reads a raw Graph field list instead of the default set.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let created = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// let read = client.system_user(&created.id).get().fields_raw("id,name").send().await?;
    /// assert_eq!(read.id, created.id);
    /// # Ok(()) }
    /// ```
    pub fn fields_raw(self, fields: impl Into<String>) -> Self {
        self.set_fields(fields.into())
    }
}

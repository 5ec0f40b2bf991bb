//! The options of the system-user builders that only store their value: the role of a new
//! system user and each builder's per-request timeout.

use std::time::Duration;

use super::{CreateSystemUser, QuotaRequest, RenameSystemUser};
use crate::models::system_user::SystemUserRole;

impl CreateSystemUser {
    /// The role: [`SystemUserRole::Admin`] for an admin system user,
    /// [`SystemUserRole::Employee`] for a regular one.
    ///
    /// ```
    /// use meta_business::{SystemUserKind, SystemUserRole};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let admin = client
    ///     .business(demo.business_id)
    ///     .system_users()
    ///     .create("platform-admin-automation")
    ///     .role(SystemUserRole::Admin)
    ///     .send()
    ///     .await?;
    /// assert_eq!(admin.kind(), SystemUserKind::Admin);
    /// # Ok(()) }
    /// ```
    pub fn role(mut self, role: SystemUserRole) -> Self {
        self.role = Some(role);
        self
    }

    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }
}

impl RenameSystemUser {
    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }
}

impl QuotaRequest {
    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }
}

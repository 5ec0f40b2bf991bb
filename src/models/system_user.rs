//! The SystemUser node and its roles.

use serde::{Deserialize, Serialize};

use super::NodeRef;
use crate::config::SystemUserKind;
use crate::ids::SystemUserId;
use crate::macros::string_enum;

/// A system user: a non-human account for servers and integrations.
///
/// `role` is only sent when the system user is read through a business's `system_users` list;
/// reading the node itself does not return it.
///
/// ```
/// use meta_business::{SystemUserKind, SystemUserRole};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let su = client
///     .business(demo.business_id)
///     .system_users()
///     .create("ads-reporting")
///     .role(SystemUserRole::Employee)
///     .send()
///     .await?;
/// assert_eq!(su.kind(), SystemUserKind::Regular);
/// assert_eq!(su.role, Some(SystemUserRole::Employee));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SystemUser {
    /// The app-scoped id; use it in API calls.
    pub id: SystemUserId,
    /// Its name.
    pub name: Option<String>,
    /// Its role in the business (from the `system_users` list).
    pub role: Option<SystemUserRole>,
    /// Creation time.
    pub created_time: Option<String>,
    /// Who created it.
    pub created_by: Option<NodeRef>,
    /// Its finance permission (e.g. `Editor`, `Analyst`).
    pub finance_permission: Option<String>,
    /// Its ads-rights permission (e.g. `Reviewer`).
    pub ip_permission: Option<String>,
}

impl SystemUser {
    /// Admin or regular, as the quota counts it: `ADMIN` is admin, every other role (and a
    /// missing one) is regular.
    pub fn kind(&self) -> SystemUserKind {
        SystemUserRole::kind_of(self.role.as_ref())
    }

    pub(crate) fn created(id: SystemUserId, name: String, role: Option<SystemUserRole>) -> Self {
        SystemUser {
            id,
            name: Some(name),
            role,
            created_time: None,
            created_by: None,
            finance_permission: None,
            ip_permission: None,
        }
    }
}

string_enum! {
    /// A system user's role. Use [`SystemUserRole::Admin`] for an admin system user and
    /// [`SystemUserRole::Employee`] for a regular one; the others are the rest of the documented
    /// role list.
    ///
    /// ```
    /// use meta_business::SystemUserRole;
    /// assert_eq!(SystemUserRole::Admin.as_str(), "ADMIN");
    /// // A role this crate does not list is kept, not lost.
    /// let role: SystemUserRole = serde_json::from_str("\"NEW_ROLE\"")?;
    /// assert_eq!(role.as_str(), "NEW_ROLE");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub enum SystemUserRole {
        Admin => "ADMIN",
        AdsRightsReviewer => "ADS_RIGHTS_REVIEWER",
        Default => "DEFAULT",
        Developer => "DEVELOPER",
        Employee => "EMPLOYEE",
        FinanceAnalyst => "FINANCE_ANALYST",
        FinanceEdit => "FINANCE_EDIT",
        FinanceEditor => "FINANCE_EDITOR",
        FinanceView => "FINANCE_VIEW",
        Manage => "MANAGE",
        PartnerCenterAdmin => "PARTNER_CENTER_ADMIN",
        PartnerCenterAnalyst => "PARTNER_CENTER_ANALYST",
        PartnerCenterEducation => "PARTNER_CENTER_EDUCATION",
        PartnerCenterMarketing => "PARTNER_CENTER_MARKETING",
        PartnerCenterOperations => "PARTNER_CENTER_OPERATIONS",
    }
    /// A role this crate does not list: kept as sent when received, sent verbatim (after a
    /// syntax check) when set.
    escape Other;
}

impl SystemUserRole {
    /// Admin for `ADMIN`, regular for anything else, including no role.
    pub fn kind_of(role: Option<&SystemUserRole>) -> SystemUserKind {
        match role {
            Some(SystemUserRole::Admin) => SystemUserKind::Admin,
            Some(SystemUserRole::Other(raw)) if raw.eq_ignore_ascii_case("admin") => {
                SystemUserKind::Admin
            }
            _ => SystemUserKind::Regular,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_classify() {
        let users: Vec<SystemUser> = serde_json::from_str(
            r#"[{"id":"1","name":"a","role":"ADMIN"},{"id":2,"name":"b","role":"EMPLOYEE"},
                {"id":"3","role":"NEW_ROLE"},{"id":"4"},{"id":"5","role":"Admin"}]"#,
        )
        .unwrap();
        let kinds: Vec<_> = users.iter().map(SystemUser::kind).collect();
        assert_eq!(
            kinds,
            [
                SystemUserKind::Admin,
                SystemUserKind::Regular,
                SystemUserKind::Regular,
                SystemUserKind::Regular,
                SystemUserKind::Admin
            ]
        );
        assert_eq!(users[2].role.as_ref().unwrap().as_str(), "NEW_ROLE");
        assert_eq!(SystemUserRole::KNOWN.len(), 15);
    }
}

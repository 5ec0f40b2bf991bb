//! One task enum per asset kind, with exactly the values the Graph API accepts on that kind's
//! `assigned_users` edge. A task of one kind cannot be given to an asset of another: the types
//! differ.
//!
//! Values the server sends that this crate does not list are kept (`Other(raw)`); a caller may
//! also send such a value through `Other`, which is checked for syntax before sending.

use std::fmt::Debug;

use serde::de::DeserializeOwned;

use crate::macros::string_enum;

/// What every task enum offers; implemented by the enums of this module only.
pub trait Task: Clone + Debug + PartialEq + Send + Sync + DeserializeOwned + 'static {
    /// The value as sent.
    fn as_str(&self) -> &str;
    /// Whether this value is not one of the listed ones.
    fn is_unlisted(&self) -> bool;
}

macro_rules! task_impl {
    ($($name:ident),+) => {$(
        impl Task for $name {
            fn as_str(&self) -> &str {
                $name::as_str(self)
            }
            fn is_unlisted(&self) -> bool {
                $name::is_unlisted(self)
            }
        }
    )+};
}

string_enum! {
    /// Tasks on an ad account.
    ///
    /// ```
    /// use meta_business::AdAccountTask;
    /// // Least privilege: ANALYZE reads reports; MANAGE can change everything.
    /// let read_only = [AdAccountTask::Analyze];
    /// assert_eq!(read_only[0].as_str(), "ANALYZE");
    /// ```
    pub enum AdAccountTask {
        AaAnalyze => "AA_ANALYZE",
        Advertise => "ADVERTISE",
        Analyze => "ANALYZE",
        Draft => "DRAFT",
        Manage => "MANAGE",
    }
    /// A task this crate does not list (kept when received; checked, then sent verbatim).
    escape Other;
}

string_enum! {
    /// Tasks on a Facebook Page.
    ///
    /// ```
    /// use meta_business::PageTask;
    /// let tasks = [PageTask::Analyze, PageTask::Advertise];
    /// assert_eq!(tasks.map(|t| t.as_str().to_owned()), ["ANALYZE", "ADVERTISE"]);
    /// ```
    pub enum PageTask {
        Advertise => "ADVERTISE",
        Analyze => "ANALYZE",
        CashierRole => "CASHIER_ROLE",
        CreateContent => "CREATE_CONTENT",
        GlobalStructureManagement => "GLOBAL_STRUCTURE_MANAGEMENT",
        Manage => "MANAGE",
        ManageJobs => "MANAGE_JOBS",
        ManageLeads => "MANAGE_LEADS",
        Messaging => "MESSAGING",
        Moderate => "MODERATE",
        ModerateCommunity => "MODERATE_COMMUNITY",
        PagesMessaging => "PAGES_MESSAGING",
        PagesMessagingSubscriptions => "PAGES_MESSAGING_SUBSCRIPTIONS",
        ProfilePlusAdvertise => "PROFILE_PLUS_ADVERTISE",
        ProfilePlusAnalyze => "PROFILE_PLUS_ANALYZE",
        ProfilePlusCreateContent => "PROFILE_PLUS_CREATE_CONTENT",
        ProfilePlusFacebookAccess => "PROFILE_PLUS_FACEBOOK_ACCESS",
        ProfilePlusFullControl => "PROFILE_PLUS_FULL_CONTROL",
        ProfilePlusGlobalStructureManagement => "PROFILE_PLUS_GLOBAL_STRUCTURE_MANAGEMENT",
        ProfilePlusManage => "PROFILE_PLUS_MANAGE",
        ProfilePlusManageLeads => "PROFILE_PLUS_MANAGE_LEADS",
        ProfilePlusMessaging => "PROFILE_PLUS_MESSAGING",
        ProfilePlusModerate => "PROFILE_PLUS_MODERATE",
        ProfilePlusModerateDelegateCommunity => "PROFILE_PLUS_MODERATE_DELEGATE_COMMUNITY",
        ProfilePlusRevenue => "PROFILE_PLUS_REVENUE",
        ReadPageMailboxes => "READ_PAGE_MAILBOXES",
        ViewMonetizationInsights => "VIEW_MONETIZATION_INSIGHTS",
    }
    /// A task this crate does not list (kept when received; checked, then sent verbatim).
    escape Other;
}

string_enum! {
    /// Tasks on a product catalog (at least one is required).
    pub enum CatalogTask {
        AaAnalyze => "AA_ANALYZE",
        Advertise => "ADVERTISE",
        Manage => "MANAGE",
        ManageAr => "MANAGE_AR",
    }
    /// A task this crate does not list (kept when received; checked, then sent verbatim).
    escape Other;
}

string_enum! {
    /// Tasks on a pixel / dataset (at least one is required).
    pub enum PixelTask {
        AaAnalyze => "AA_ANALYZE",
        Advertise => "ADVERTISE",
        Analyze => "ANALYZE",
        Edit => "EDIT",
        Upload => "UPLOAD",
    }
    /// A task this crate does not list (kept when received; checked, then sent verbatim).
    escape Other;
}

string_enum! {
    /// Tasks on an Instagram business asset.
    pub enum InstagramTask {
        Advertise => "ADVERTISE",
        Analyze => "ANALYZE",
        CommunityActivity => "COMMUNITY_ACTIVITY",
        Content => "CONTENT",
        Messages => "MESSAGES",
    }
    /// A task this crate does not list (kept when received; checked, then sent verbatim).
    escape Other;
}

string_enum! {
    /// Tasks on a WhatsApp Business Account (at least one is required).
    pub enum WhatsAppTask {
        Develop => "DEVELOP",
        Manage => "MANAGE",
        ManageExtensions => "MANAGE_EXTENSIONS",
        ManagePhone => "MANAGE_PHONE",
        ManagePhoneAssets => "MANAGE_PHONE_ASSETS",
        ManageTemplates => "MANAGE_TEMPLATES",
        Messaging => "MESSAGING",
        ViewCost => "VIEW_COST",
        ViewPhoneAssets => "VIEW_PHONE_ASSETS",
        ViewTemplates => "VIEW_TEMPLATES",
    }
    /// A task this crate does not list (kept when received; checked, then sent verbatim).
    escape Other;
}

task_impl!(
    AdAccountTask,
    PageTask,
    CatalogTask,
    PixelTask,
    InstagramTask,
    WhatsAppTask
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_lists_match_the_spec() {
        assert_eq!(AdAccountTask::KNOWN.len(), 5);
        assert_eq!(PageTask::KNOWN.len(), 27);
        assert_eq!(CatalogTask::KNOWN.len(), 4);
        assert_eq!(PixelTask::KNOWN.len(), 5);
        assert_eq!(InstagramTask::KNOWN.len(), 5);
        assert_eq!(WhatsAppTask::KNOWN.len(), 10);
        let tasks: Vec<PageTask> = serde_json::from_str(r#"["MANAGE","NEW_PAGE_TASK"]"#).unwrap();
        assert_eq!(
            tasks,
            [PageTask::Manage, PageTask::Other("NEW_PAGE_TASK".into())]
        );
    }
}

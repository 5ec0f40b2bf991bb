//! Facebook Pages.

use crate::ids::numeric_id;
use crate::macros::string_enum;

numeric_id!(
    /// A Facebook Page id.
    PageId,
    "page_id"
);

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

crate::kinds::asset_kind! {
    /// A Facebook Page; the Graph API accepts an assignment without tasks (this crate does not).
    Page: Page {
        id: PageId,
        task: PageTask,
        owned: crate::models::assets::FacebookPage,
        name: "Page",
        key: "page",
        node: "Page",
        owned_edge: "owned_pages",
        owned_fields: crate::models::assets::NAMED_FIELDS,
        system_user_edge: Some("assigned_pages"),
        tasks_required: false,
        can_unassign: true,
        partner_edges: &["agencies"],
    }
}

//! Business asset groups: a set of a business's assets (ad accounts, Pages, pixels, offline
//! conversion data sets, …) given to a user at once. Their assignments carry one task list per
//! asset type (`adaccount_tasks`, `page_tasks`, `pixel_tasks`,
//! `offline_conversion_data_set_tasks`) where the other kinds carry one `tasks` list.

use crate::ids::numeric_id;
use crate::kinds::Task;
use crate::macros::string_enum;

numeric_id!(
    /// A business asset group id.
    BusinessAssetGroupId,
    "business_asset_group_id"
);

string_enum! {
    /// Tasks on a business asset group: each names the asset type it is for and the task, as
    /// `TYPE:TASK` (`PAGE:MANAGE`, `ADACCOUNT:ANALYZE`), and is sent in that type's list
    /// (`page_tasks`, `adaccount_tasks`, `pixel_tasks`, `offline_conversion_data_set_tasks`).
    ///
    /// ```
    /// use meta_business::{BusinessAssetGroupTask, Task};
    /// let task = BusinessAssetGroupTask::PageManage;
    /// assert_eq!(task.as_str(), "PAGE:MANAGE");
    /// assert_eq!(task.wire(), Some(("page_tasks", "MANAGE")));
    /// assert_eq!(BusinessAssetGroupTask::from_wire("adaccount_tasks", "ANALYZE"), BusinessAssetGroupTask::AdAccountAnalyze);
    /// ```
    pub enum BusinessAssetGroupTask {
        AdAccountAaAnalyze => "ADACCOUNT:AA_ANALYZE",
        AdAccountAdvertise => "ADACCOUNT:ADVERTISE",
        AdAccountAnalyze => "ADACCOUNT:ANALYZE",
        AdAccountDraft => "ADACCOUNT:DRAFT",
        AdAccountManage => "ADACCOUNT:MANAGE",
        OfflineConversionDataSetAaAnalyze => "OFFLINE_CONVERSION_DATA_SET:AA_ANALYZE",
        OfflineConversionDataSetAdvertise => "OFFLINE_CONVERSION_DATA_SET:ADVERTISE",
        OfflineConversionDataSetManage => "OFFLINE_CONVERSION_DATA_SET:MANAGE",
        OfflineConversionDataSetUpload => "OFFLINE_CONVERSION_DATA_SET:UPLOAD",
        OfflineConversionDataSetView => "OFFLINE_CONVERSION_DATA_SET:VIEW",
        PageAdvertise => "PAGE:ADVERTISE",
        PageAnalyze => "PAGE:ANALYZE",
        PageCashierRole => "PAGE:CASHIER_ROLE",
        PageCreateContent => "PAGE:CREATE_CONTENT",
        PageGlobalStructureManagement => "PAGE:GLOBAL_STRUCTURE_MANAGEMENT",
        PageManage => "PAGE:MANAGE",
        PageManageJobs => "PAGE:MANAGE_JOBS",
        PageManageLeads => "PAGE:MANAGE_LEADS",
        PageMessaging => "PAGE:MESSAGING",
        PageModerate => "PAGE:MODERATE",
        PageModerateCommunity => "PAGE:MODERATE_COMMUNITY",
        PagePagesMessaging => "PAGE:PAGES_MESSAGING",
        PagePagesMessagingSubscriptions => "PAGE:PAGES_MESSAGING_SUBSCRIPTIONS",
        PageProfilePlusAdvertise => "PAGE:PROFILE_PLUS_ADVERTISE",
        PageProfilePlusAnalyze => "PAGE:PROFILE_PLUS_ANALYZE",
        PageProfilePlusCreateContent => "PAGE:PROFILE_PLUS_CREATE_CONTENT",
        PageProfilePlusFacebookAccess => "PAGE:PROFILE_PLUS_FACEBOOK_ACCESS",
        PageProfilePlusFullControl => "PAGE:PROFILE_PLUS_FULL_CONTROL",
        PageProfilePlusGlobalStructureManagement => "PAGE:PROFILE_PLUS_GLOBAL_STRUCTURE_MANAGEMENT",
        PageProfilePlusManage => "PAGE:PROFILE_PLUS_MANAGE",
        PageProfilePlusManageLeads => "PAGE:PROFILE_PLUS_MANAGE_LEADS",
        PageProfilePlusMessaging => "PAGE:PROFILE_PLUS_MESSAGING",
        PageProfilePlusModerate => "PAGE:PROFILE_PLUS_MODERATE",
        PageProfilePlusModerateDelegateCommunity => "PAGE:PROFILE_PLUS_MODERATE_DELEGATE_COMMUNITY",
        PageProfilePlusRevenue => "PAGE:PROFILE_PLUS_REVENUE",
        PageReadPageMailboxes => "PAGE:READ_PAGE_MAILBOXES",
        PageViewMonetizationInsights => "PAGE:VIEW_MONETIZATION_INSIGHTS",
        PixelAaAnalyze => "PIXEL:AA_ANALYZE",
        PixelAdvertise => "PIXEL:ADVERTISE",
        PixelAnalyze => "PIXEL:ANALYZE",
        PixelEdit => "PIXEL:EDIT",
        PixelUpload => "PIXEL:UPLOAD",
    }
    /// A task this crate does not list, as `TYPE:TASK` (kept when received; checked, then sent
    /// verbatim in its type's list).
    escape Other;
}

impl crate::kinds::sealed::Sealed for BusinessAssetGroupTask {}

impl Task for BusinessAssetGroupTask {
    fn as_str(&self) -> &str {
        BusinessAssetGroupTask::as_str(self)
    }
    fn is_unlisted(&self) -> bool {
        BusinessAssetGroupTask::is_unlisted(self)
    }
    fn known() -> &'static [Self] {
        BusinessAssetGroupTask::KNOWN
    }
    fn parse(raw: &str) -> Self {
        BusinessAssetGroupTask::from(raw)
    }
    const LISTS: &'static [&'static str] = &[
        "adaccount_tasks",
        "offline_conversion_data_set_tasks",
        "page_tasks",
        "pixel_tasks",
    ];
    fn wire(&self) -> Option<(&'static str, &str)> {
        let (kind, task) = self.as_str().split_once(':')?;
        let list = Self::LISTS.iter().find(|list| {
            list.strip_suffix("_tasks")
                .is_some_and(|k| k.eq_ignore_ascii_case(kind))
        })?;
        Some((list, task))
    }
    /// A value of a per-type list (`page_tasks`: `MANAGE`) is that type's task; a value of the
    /// generic `tasks` list (the documented edge field, the one reads ask for) is read as
    /// written: `PAGE:MANAGE`, or kept unlisted when it names no type.
    fn from_wire(list: &str, raw: &str) -> Self {
        match list.strip_suffix("_tasks") {
            Some(kind) => Self::parse(&format!("{}:{raw}", kind.to_ascii_uppercase())),
            None => Self::parse(raw),
        }
    }
}

crate::kinds::asset_kind! {
    /// A business asset group; its tasks travel in one list per asset type, none of them
    /// required by the Graph API (this crate requires one task).
    BusinessAssetGroup: BusinessAssetGroup {
        id: BusinessAssetGroupId,
        task_lists: BusinessAssetGroupTask,
        owned: crate::models::assets::BusinessAssetGroup,
        name: "business asset group",
        key: "business_asset_group",
        node: "BusinessAssetGroup",
        owned_edge: "business_asset_groups",
        owned_fields: crate::models::assets::NAMED_FIELDS,
        system_user_edge: Some("assigned_business_asset_groups"),
        tasks_required: false,
        can_unassign: true,
    }
}

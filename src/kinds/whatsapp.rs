//! WhatsApp Business Accounts.

use crate::ids::numeric_id;
use crate::macros::string_enum;

numeric_id!(
    /// A WhatsApp Business Account id.
    WhatsAppBusinessAccountId,
    "whatsapp_business_account_id"
);

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

crate::kinds::asset_kind! {
    /// A WhatsApp Business Account; at least one task is required.
    WhatsApp: WhatsApp {
        id: WhatsAppBusinessAccountId,
        task: WhatsAppTask,
        owned: crate::models::assets::WhatsAppBusinessAccount,
        name: "WhatsApp Business Account",
        key: "whatsapp",
        node: "WhatsAppBusinessAccount",
        owned_edge: "owned_whatsapp_business_accounts",
        owned_fields: crate::models::assets::NAMED_FIELDS,
        system_user_edge: Some("assigned_whatsapp_business_accounts"),
        tasks_required: true,
        can_unassign: true,
    }
}

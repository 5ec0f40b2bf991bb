//! Instagram business assets. A system user has no edge listing them.

use crate::ids::numeric_id;
use crate::macros::string_enum;

numeric_id!(
    /// An Instagram business asset id (from `owned_instagram_assets`).
    InstagramAssetId,
    "instagram_asset_id"
);

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

crate::kinds::asset_kind! {
    /// An Instagram business asset; the Graph API accepts an assignment without tasks (this crate does not).
    Instagram: Instagram {
        id: InstagramAssetId,
        task: InstagramTask,
        owned: crate::models::assets::InstagramAsset,
        name: "Instagram asset",
        key: "instagram",
        node: "InstagramBusinessAsset",
        owned_edge: "owned_instagram_assets",
        owned_fields: crate::models::assets::INSTAGRAM_FIELDS,
        system_user_edge: None,
        tasks_required: false,
        can_unassign: true,
        partner_edges: &["agencies"],
    }
}

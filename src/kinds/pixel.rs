//! Pixels (datasets). A system user has no edge listing its pixels, and the Graph API cannot
//! remove a pixel assignment.

use crate::ids::numeric_id;
use crate::macros::string_enum;

numeric_id!(
    /// A pixel (dataset) id.
    PixelId,
    "pixel_id"
);

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

crate::kinds::asset_kind! {
    /// A pixel / dataset; at least one task is required, and the Graph API cannot remove an
    /// assignment.
    Pixel: Pixel {
        id: PixelId,
        task: PixelTask,
        owned: crate::models::assets::Pixel,
        name: "pixel",
        key: "pixel",
        node: "AdsPixel",
        owned_edge: "owned_pixels",
        owned_fields: crate::models::assets::NAMED_FIELDS,
        system_user_edge: None,
        tasks_required: true,
        can_unassign: false,
        partner_edges: &["agencies", "shared_agencies"],
    }
}

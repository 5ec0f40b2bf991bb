//! Product catalogs.

use crate::ids::numeric_id;
use crate::macros::string_enum;

numeric_id!(
    /// A product catalog id.
    CatalogId,
    "catalog_id"
);

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

crate::kinds::asset_kind! {
    /// A product catalog; at least one task is required.
    Catalog: Catalog {
        id: CatalogId,
        task: CatalogTask,
        owned: crate::models::assets::ProductCatalog,
        name: "product catalog",
        key: "catalog",
        node: "ProductCatalog",
        owned_edge: "owned_product_catalogs",
        owned_fields: crate::models::assets::NAMED_FIELDS,
        system_user_edge: Some("assigned_product_catalogs"),
        tasks_required: true,
        can_unassign: true,
        partner_edges: &["agencies"],
    }
}

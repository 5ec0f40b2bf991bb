//! The emulator's asset kinds: one row each, with what Meta's API does for the kind. Written
//! from Meta's reference, not from the crate's own enums (a test below holds the two to each
//! other, value by value), so that a wrong value in the crate is caught instead of copied.

/// A kind of asset the emulator holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    AdAccount,
    Page,
    Catalog,
    Pixel,
    Instagram,
    WhatsApp,
}

/// What the Graph API does for one kind.
#[derive(Debug)]
pub(crate) struct KindSpec {
    pub(crate) kind: Kind,
    /// The key of spec files and of the crate's `AssetRef` (how the test below pairs rows).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) key: &'static str,
    /// The node type, as Meta's API description names it.
    pub(crate) node_type: &'static str,
    /// The business's edge listing the assets it owns.
    pub(crate) owned_edge: &'static str,
    /// The system user's edge listing its assets of the kind, if there is one.
    pub(crate) system_user_edge: Option<&'static str>,
    /// The exact task values accepted on the kind's `assigned_users` edge.
    pub(crate) tasks: &'static [&'static str],
    /// Whether an assignment without tasks is refused.
    pub(crate) tasks_required: bool,
    /// Whether `DELETE /{asset}/assigned_users` exists.
    pub(crate) can_unassign: bool,
    /// The fields a list of the kind may ask for.
    pub(crate) fields: &'static [&'static str],
}

/// The kinds, in `Kind`'s order.
pub(crate) const KINDS: [KindSpec; 6] = [
    KindSpec {
        kind: Kind::AdAccount,
        key: "ad_account",
        node_type: "AdAccount",
        owned_edge: "owned_ad_accounts",
        system_user_edge: Some("assigned_ad_accounts"),
        tasks: &["AA_ANALYZE", "ADVERTISE", "ANALYZE", "DRAFT", "MANAGE"],
        tasks_required: false,
        can_unassign: true,
        fields: &[
            "id",
            "account_id",
            "name",
            "account_status",
            "currency",
            "tos_accepted",
        ],
    },
    KindSpec {
        kind: Kind::Page,
        key: "page",
        node_type: "Page",
        owned_edge: "owned_pages",
        system_user_edge: Some("assigned_pages"),
        tasks: &[
            "ADVERTISE",
            "ANALYZE",
            "CASHIER_ROLE",
            "CREATE_CONTENT",
            "GLOBAL_STRUCTURE_MANAGEMENT",
            "MANAGE",
            "MANAGE_JOBS",
            "MANAGE_LEADS",
            "MESSAGING",
            "MODERATE",
            "MODERATE_COMMUNITY",
            "PAGES_MESSAGING",
            "PAGES_MESSAGING_SUBSCRIPTIONS",
            "PROFILE_PLUS_ADVERTISE",
            "PROFILE_PLUS_ANALYZE",
            "PROFILE_PLUS_CREATE_CONTENT",
            "PROFILE_PLUS_FACEBOOK_ACCESS",
            "PROFILE_PLUS_FULL_CONTROL",
            "PROFILE_PLUS_GLOBAL_STRUCTURE_MANAGEMENT",
            "PROFILE_PLUS_MANAGE",
            "PROFILE_PLUS_MANAGE_LEADS",
            "PROFILE_PLUS_MESSAGING",
            "PROFILE_PLUS_MODERATE",
            "PROFILE_PLUS_MODERATE_DELEGATE_COMMUNITY",
            "PROFILE_PLUS_REVENUE",
            "READ_PAGE_MAILBOXES",
            "VIEW_MONETIZATION_INSIGHTS",
        ],
        tasks_required: false,
        can_unassign: true,
        fields: &["id", "name"],
    },
    KindSpec {
        kind: Kind::Catalog,
        key: "catalog",
        node_type: "ProductCatalog",
        owned_edge: "owned_product_catalogs",
        system_user_edge: Some("assigned_product_catalogs"),
        tasks: &["AA_ANALYZE", "ADVERTISE", "MANAGE", "MANAGE_AR"],
        tasks_required: true,
        can_unassign: true,
        fields: &["id", "name"],
    },
    KindSpec {
        kind: Kind::Pixel,
        key: "pixel",
        node_type: "AdsPixel",
        owned_edge: "owned_pixels",
        system_user_edge: None,
        tasks: &["AA_ANALYZE", "ADVERTISE", "ANALYZE", "EDIT", "UPLOAD"],
        tasks_required: true,
        can_unassign: false,
        fields: &["id", "name"],
    },
    KindSpec {
        kind: Kind::Instagram,
        key: "instagram",
        node_type: "InstagramBusinessAsset",
        owned_edge: "owned_instagram_assets",
        system_user_edge: None,
        tasks: &[
            "ADVERTISE",
            "ANALYZE",
            "COMMUNITY_ACTIVITY",
            "CONTENT",
            "MESSAGES",
        ],
        tasks_required: false,
        can_unassign: true,
        fields: &["id", "ig_user_id", "ig_username"],
    },
    KindSpec {
        kind: Kind::WhatsApp,
        key: "whatsapp",
        node_type: "WhatsAppBusinessAccount",
        owned_edge: "owned_whatsapp_business_accounts",
        system_user_edge: Some("assigned_whatsapp_business_accounts"),
        tasks: &[
            "DEVELOP",
            "MANAGE",
            "MANAGE_EXTENSIONS",
            "MANAGE_PHONE",
            "MANAGE_PHONE_ASSETS",
            "MANAGE_TEMPLATES",
            "MESSAGING",
            "VIEW_COST",
            "VIEW_PHONE_ASSETS",
            "VIEW_TEMPLATES",
        ],
        tasks_required: true,
        can_unassign: true,
        fields: &["id", "name"],
    },
];

impl Kind {
    fn spec(self) -> &'static KindSpec {
        &KINDS[self as usize]
    }

    /// The exact task values the Graph API accepts on the kind's `assigned_users` edge.
    pub(crate) fn tasks(self) -> &'static [&'static str] {
        self.spec().tasks
    }

    pub(crate) fn tasks_required(self) -> bool {
        self.spec().tasks_required
    }

    pub(crate) fn can_unassign(self) -> bool {
        self.spec().can_unassign
    }

    pub(crate) fn node_type(self) -> &'static str {
        self.spec().node_type
    }

    /// The fields a list of this kind may ask for.
    pub(crate) fn fields(self) -> &'static [&'static str] {
        self.spec().fields
    }

    /// The kind a business's `owned_*` edge lists.
    pub(crate) fn by_owned_edge(edge: &str) -> Option<Kind> {
        KINDS.iter().find(|k| k.owned_edge == edge).map(|k| k.kind)
    }

    /// The kind a system user's `assigned_*` edge lists.
    pub(crate) fn by_system_user_edge(edge: &str) -> Option<Kind> {
        KINDS
            .iter()
            .find(|k| k.system_user_edge == Some(edge))
            .map(|k| k.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_kind_order() {
        for (i, spec) in KINDS.iter().enumerate() {
            assert_eq!(spec.kind as usize, i);
        }
    }

    /// The crate's asset-kind table and the emulator's agree, value by value: the tasks of
    /// each kind (in order), its edges, and its rules. A kind added to one and not the other
    /// fails here.
    #[test]
    fn the_crate_and_the_emulator_agree_on_every_kind() {
        let crate_kinds = crate::kinds::KINDS;
        assert_eq!(
            crate_kinds.len(),
            KINDS.len(),
            "a kind is missing on one side"
        );
        for info in crate_kinds {
            let spec = KINDS
                .iter()
                .find(|k| k.key == info.key)
                .unwrap_or_else(|| panic!("the emulator has no kind {:?}", info.key));
            assert_eq!((info.tasks)(), spec.tasks, "tasks of {}", info.key);
            assert_eq!(
                (
                    info.owned_edge,
                    info.system_user_edge,
                    info.tasks_required,
                    info.can_unassign
                ),
                (
                    spec.owned_edge,
                    spec.system_user_edge,
                    spec.tasks_required,
                    spec.can_unassign
                ),
                "{}: (owned edge, system-user edge, tasks required, unassign allowed)",
                info.key
            );
        }
    }
}

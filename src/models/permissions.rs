//! The permissions (scopes) a system-user token can carry.

use crate::macros::string_enum;

string_enum! {
    /// A permission a system-user token may be generated with: the scopes Meta documents for
    /// system users (some are capability-gated for the app).
    ///
    /// ```
    /// use meta_business::Permission;
    /// assert_eq!(Permission::AdsRead.as_str(), "ads_read");
    /// let custom = Permission::from("some_new_permission");
    /// assert!(custom.is_unlisted());
    /// ```
    pub enum Permission {
        AdsManagement => "ads_management",
        AdsRead => "ads_read",
        AttributionRead => "attribution_read",
        BusinessManagement => "business_management",
        CatalogManagement => "catalog_management",
        CommerceAccountManageOrders => "commerce_account_manage_orders",
        CommerceAccountReadOrders => "commerce_account_read_orders",
        CommerceAccountReadSettings => "commerce_account_read_settings",
        InstagramBasic => "instagram_basic",
        InstagramBrandedContentAdsBrand => "instagram_branded_content_ads_brand",
        InstagramBrandedContentBrand => "instagram_branded_content_brand",
        InstagramContentPublish => "instagram_content_publish",
        InstagramManageComments => "instagram_manage_comments",
        InstagramManageInsights => "instagram_manage_insights",
        InstagramManageMessages => "instagram_manage_messages",
        InstagramShoppingTagProducts => "instagram_shopping_tag_products",
        LeadsRetrieval => "leads_retrieval",
        PageEvents => "page_events",
        PagesManageAds => "pages_manage_ads",
        PagesManageCta => "pages_manage_cta",
        PagesManageEngagement => "pages_manage_engagement",
        PagesManageInstantArticles => "pages_manage_instant_articles",
        PagesManageMetadata => "pages_manage_metadata",
        PagesManagePosts => "pages_manage_posts",
        PagesMessaging => "pages_messaging",
        PagesReadEngagement => "pages_read_engagement",
        PagesReadUserContent => "pages_read_user_content",
        PagesShowList => "pages_show_list",
        PrivateComputationAccess => "private_computation_access",
        PublishVideo => "publish_video",
        ReadAudienceNetworkInsights => "read_audience_network_insights",
        ReadInsights => "read_insights",
        ReadPageMailboxes => "read_page_mailboxes",
        WhatsappBusinessManagement => "whatsapp_business_management",
        WhatsappBusinessMessaging => "whatsapp_business_messaging",
        BusinessCreativeManagement => "business_creative_management",
        BusinessCreativeInsights => "business_creative_insights",
        BusinessCreativeInsightsShare => "business_creative_insights_share",
        BusinessDataManagement => "business_data_management",
        CommerceManageAccounts => "commerce_manage_accounts",
        CommerceAccountReadReports => "commerce_account_read_reports",
        PublishActions => "publish_actions",
    }
    /// A permission this crate does not list: kept when received; sent verbatim (after a
    /// syntax check: lowercase letters, digits and `_`) when set.
    escape Custom;
}

impl Permission {
    /// Checks a caller-supplied custom permission.
    pub(crate) fn check(&self) -> crate::Result<()> {
        if let Permission::Custom(raw) = self {
            let ok = !raw.is_empty()
                && raw
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                return Err(crate::Error::invalid_input(
                    "scopes",
                    format!(
                        "{:?} is not a permission name (lowercase letters, digits and `_`)",
                        crate::error::clip(raw, 40)
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The comma-separated `scope` value, duplicates removed, order kept. Checked first.
pub(crate) fn scope_param(scopes: &[Permission]) -> crate::Result<String> {
    if scopes.is_empty() {
        return Err(crate::Error::invalid_input(
            "scopes",
            "name at least one permission (least privilege: only what the integration needs)",
        ));
    }
    let mut seen: Vec<&str> = Vec::with_capacity(scopes.len());
    for scope in scopes {
        scope.check()?;
        if !seen.contains(&scope.as_str()) {
            seen.push(scope.as_str());
        }
    }
    Ok(seen.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_comma_separated_and_checked() {
        let s = scope_param(&[
            Permission::AdsRead,
            Permission::BusinessManagement,
            Permission::AdsRead,
        ])
        .unwrap();
        assert_eq!(s, "ads_read,business_management");
        assert!(scope_param(&[]).is_err());
        assert!(scope_param(&[Permission::Custom("Ads Read".into())]).is_err());
        assert!(scope_param(&[Permission::Custom("new_scope_2".into())]).is_ok());
    }
}

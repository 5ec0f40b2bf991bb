//! The Business node.

use serde::{Deserialize, Serialize};

use super::{NodeRef, lenient_opt_bool, lenient_opt_u32};
use crate::ids::BusinessId;
use crate::macros::string_enum;

/// A Business Manager (business portfolio).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Business {
    /// The business id.
    pub id: BusinessId,
    /// Its name.
    pub name: Option<String>,
    /// Its vertical.
    pub vertical: Option<BusinessVertical>,
    /// Its business verification status.
    pub verification_status: Option<VerificationStatus>,
    /// Who must use two-factor authentication.
    pub two_factor_type: Option<TwoFactorType>,
    /// Timezone id (0–592).
    #[serde(default, deserialize_with = "lenient_opt_u32")]
    pub timezone_id: Option<u32>,
    /// Creation time, as the Graph API formats it (`2024-01-31T12:00:00+0000`).
    pub created_time: Option<String>,
    /// Last update time.
    pub updated_time: Option<String>,
    /// Who created it.
    pub created_by: Option<NodeRef>,
    /// Its primary Page.
    pub primary_page: Option<NodeRef>,
    /// Its Business Manager URL.
    pub link: Option<String>,
    /// Whether it is hidden.
    #[serde(default, deserialize_with = "lenient_opt_bool")]
    pub is_hidden: Option<bool>,
    /// Its profile picture URL.
    pub profile_picture_uri: Option<String>,
    /// Any other field that was requested (with `fields_raw`), as sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Business {
    pub(crate) fn created(id: BusinessId, name: String, vertical: BusinessVertical) -> Self {
        Business {
            id,
            name: Some(name),
            vertical: Some(vertical),
            verification_status: None,
            two_factor_type: None,
            timezone_id: None,
            created_time: None,
            updated_time: None,
            created_by: None,
            primary_page: None,
            link: None,
            is_hidden: None,
            profile_picture_uri: None,
            extra: serde_json::Map::new(),
        }
    }
}

string_enum! {
    /// Fields of the Business node, for `fields([...])`.
    pub enum BusinessField {
        Id => "id",
        Name => "name",
        Vertical => "vertical",
        VerticalId => "vertical_id",
        VerificationStatus => "verification_status",
        TwoFactorType => "two_factor_type",
        TimezoneId => "timezone_id",
        CreatedTime => "created_time",
        UpdatedTime => "updated_time",
        ExtendedUpdatedTime => "extended_updated_time",
        CreatedBy => "created_by",
        UpdatedBy => "updated_by",
        PrimaryPage => "primary_page",
        Link => "link",
        IsHidden => "is_hidden",
        ProfilePictureUri => "profile_picture_uri",
        PaymentAccountId => "payment_account_id",
        BlockOfflineAnalytics => "block_offline_analytics",
        UserAccessExpireTime => "user_access_expire_time",
        WhatsappBusinessManagerMessagingLimit => "whatsapp_business_manager_messaging_limit",
    }
    /// A field this crate does not list; sent verbatim after a syntax check.
    escape Other;
}

string_enum! {
    /// Business verification status (lowercase on the wire).
    pub enum VerificationStatus {
        Expired => "expired",
        Failed => "failed",
        Ineligible => "ineligible",
        NotVerified => "not_verified",
        Pending => "pending",
        PendingNeedMoreInfo => "pending_need_more_info",
        PendingSubmission => "pending_submission",
        Rejected => "rejected",
        Revoked => "revoked",
        Verified => "verified",
    }
    /// A status this crate does not know, kept as sent.
    escape Unknown;
}

string_enum! {
    /// Who in the business must use two-factor authentication.
    pub enum TwoFactorType {
        AdminRequired => "admin_required",
        AllRequired => "all_required",
        None => "none",
    }
    /// A value this crate does not know, kept as sent.
    escape Unknown;
}

string_enum! {
    /// A business vertical, required to create a business.
    pub enum BusinessVertical {
        Advertising => "ADVERTISING",
        Automotive => "AUTOMOTIVE",
        ConsumerPackagedGoods => "CONSUMER_PACKAGED_GOODS",
        Ecommerce => "ECOMMERCE",
        Education => "EDUCATION",
        EnergyAndUtilities => "ENERGY_AND_UTILITIES",
        EntertainmentAndMedia => "ENTERTAINMENT_AND_MEDIA",
        FinancialServices => "FINANCIAL_SERVICES",
        Gaming => "GAMING",
        GovernmentAndPolitics => "GOVERNMENT_AND_POLITICS",
        Health => "HEALTH",
        Luxury => "LUXURY",
        Marketing => "MARKETING",
        NonProfit => "NON_PROFIT",
        NotSet => "NOT_SET",
        OrganizationsAndAssociations => "ORGANIZATIONS_AND_ASSOCIATIONS",
        Other => "OTHER",
        ProfessionalServices => "PROFESSIONAL_SERVICES",
        Restaurant => "RESTAURANT",
        Retail => "RETAIL",
        Technology => "TECHNOLOGY",
        Telecom => "TELECOM",
        Travel => "TRAVEL",
    }
    /// A vertical this crate does not list: kept as sent when received, sent verbatim (after
    /// a syntax check) when set.
    escape Unlisted;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_decodes_with_unknown_values_kept() {
        let b: Business = serde_json::from_str(
            r#"{"id":"1","name":"Acme","verification_status":"brand_new_status","timezone_id":"7",
                "vertical":"ADVERTISING","two_factor_type":"none","primary_page":{"id":2,"name":"P"},
                "is_hidden":false,"something_else":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(
            b.verification_status,
            Some(VerificationStatus::Unknown("brand_new_status".into()))
        );
        assert_eq!(b.timezone_id, Some(7));
        assert_eq!(b.vertical, Some(BusinessVertical::Advertising));
        assert_eq!(b.primary_page.unwrap().id, "2");
        assert_eq!(b.extra["something_else"]["x"], 1);
        assert_eq!(
            serde_json::to_string(&VerificationStatus::Verified).unwrap(),
            r#""verified""#
        );
    }
}

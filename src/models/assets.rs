//! The assets a business owns: ad accounts, Pages, apps, catalogs, pixels, Instagram and
//! WhatsApp accounts, and the answer to claiming one.

use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::AppId;
use crate::kinds::ad_account::AdAccountId;
use crate::kinds::business_asset_group::BusinessAssetGroupId;
use crate::kinds::catalog::CatalogId;
use crate::kinds::instagram::InstagramAssetId;
use crate::kinds::page::PageId;
use crate::kinds::pixel::PixelId;
use crate::kinds::whatsapp::WhatsAppBusinessAccountId;
use crate::macros::string_enum;

/// Default `fields` for each asset list, all documented fields of the node.
pub(crate) const AD_ACCOUNT_FIELDS: &str = "id,account_id,name,account_status,currency";
pub(crate) const NAMED_FIELDS: &str = "id,name";
pub(crate) const INSTAGRAM_FIELDS: &str = "id,ig_user_id,ig_username";

macro_rules! asset_struct {
    ($(#[$meta:meta])* $name:ident, $id:ty { $( $(#[$fmeta:meta])* $field:ident : $ty:ty, )* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// The asset's id.
            pub id: $id,
            $( $(#[$fmeta])* #[serde(default)] pub $field: $ty, )*
            /// Any other field that was requested, as sent.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }
    };
}

asset_struct!(
    /// An ad account.
    AdAccount, AdAccountId {
        /// The numeric id without `act_`.
        account_id: Option<String>,
        /// Its name.
        name: Option<String>,
        /// Its status code (1 active, 2 disabled, …).
        account_status: Option<i64>,
        /// Its currency (ISO 4217).
        currency: Option<String>,
    }
);

asset_struct!(
    /// A Facebook Page.
    FacebookPage, PageId {
        /// Its name.
        name: Option<String>,
    }
);

asset_struct!(
    /// An app.
    App, AppId {
        /// Its name.
        name: Option<String>,
    }
);

asset_struct!(
    /// A product catalog.
    ProductCatalog, CatalogId {
        /// Its name.
        name: Option<String>,
    }
);

asset_struct!(
    /// A pixel (dataset).
    Pixel, PixelId {
        /// Its name.
        name: Option<String>,
    }
);

asset_struct!(
    /// An Instagram business asset.
    InstagramAsset, InstagramAssetId {
        /// The Instagram user id.
        ig_user_id: Option<String>,
        /// The Instagram username.
        ig_username: Option<String>,
    }
);

asset_struct!(
    /// A business asset group.
    BusinessAssetGroup, BusinessAssetGroupId {
        /// Its name.
        name: Option<String>,
    }
);

asset_struct!(
    /// A WhatsApp Business Account.
    WhatsAppBusinessAccount, WhatsAppBusinessAccountId {
        /// Its name.
        name: Option<String>,
    }
);

string_enum! {
    /// Whether a claim took effect or awaits the current owner's approval.
    pub enum AccessStatus {
        Confirmed => "CONFIRMED",
        Pending => "PENDING",
    }
    /// A status this crate does not know, kept as sent.
    escape Unknown;
}

/// The answer to claiming an asset for a business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ClaimResult {
    /// `CONFIRMED` (the business owns it now) or `PENDING` (an ownership request was sent),
    /// when the server says.
    pub access_status: Option<AccessStatus>,
    /// The `success` flag, when the server answers that way.
    pub success: Option<bool>,
}

impl ClaimResult {
    /// Whether the business owns the asset now.
    pub fn is_confirmed(&self) -> bool {
        match &self.access_status {
            Some(status) => *status == AccessStatus::Confirmed,
            None => self.success == Some(true),
        }
    }
}

impl<'de> Deserialize<'de> for ClaimResult {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let (access_status, success) = match &value {
            serde_json::Value::Object(map) => (
                map.get("access_status")
                    .and_then(|v| v.as_str())
                    .map(AccessStatus::from),
                map.get("success").map(super::truthy),
            ),
            other => (None, Some(super::truthy(other))),
        };
        Ok(ClaimResult {
            access_status,
            success,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_results() {
        let c: ClaimResult = serde_json::from_str(r#"{"access_status":"PENDING"}"#).unwrap();
        assert!(!c.is_confirmed());
        let c: ClaimResult = serde_json::from_str(r#"{"access_status":"CONFIRMED"}"#).unwrap();
        assert!(c.is_confirmed());
        let c: ClaimResult = serde_json::from_str("true").unwrap();
        assert!(c.is_confirmed());
    }

    #[test]
    fn ad_account_ids_from_lists_are_canonical() {
        let a: AdAccount =
            serde_json::from_str(r#"{"id":"act_9","account_id":"9","name":"n"}"#).unwrap();
        assert_eq!(a.id.as_str(), "act_9");
    }
}

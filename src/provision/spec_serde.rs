//! The one serde shape of a desired state: the file's. [`Spec`] and its parts serialize to
//! exactly what [`Spec::from_json_str`] and [`Spec::from_toml_str`] read (an asset is
//! `{ ad_account = "act_…", tasks = [...] }`), and deserialize through the same checks, so a
//! spec kept in a service's own database comes back equal.

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::spec::{
    AssetSpec, RawAsset, RawSpec, RawSystemUser, RawToken, Spec, SystemUserSpec, TokenSpec,
};

impl Serialize for AssetSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry(self.asset.kind(), self.asset.id())?;
        map.serialize_entry("tasks", &self.tasks)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Spec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawSpec::deserialize(d)?
            .validate()
            .map_err(D::Error::custom)
    }
}

impl<'de> Deserialize<'de> for SystemUserSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawSystemUser::deserialize(d)?
            .validate_alone("system user")
            .map_err(D::Error::custom)
    }
}

impl<'de> Deserialize<'de> for AssetSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawAsset::deserialize(d)?
            .validate("asset")
            .map_err(D::Error::custom)
    }
}

impl<'de> Deserialize<'de> for TokenSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawToken::deserialize(d)?
            .validate("token")
            .map_err(D::Error::custom)
    }
}

impl Spec {
    /// The desired state as a TOML file, in the form [`Spec::from_toml_str`] reads.
    ///
    /// ```
    /// use meta_business::provision::{Spec, SystemUserBuilder};
    /// use meta_business::PageTask;
    /// let spec = Spec::builder("1000000000001")
    ///     .system_user(SystemUserBuilder::new("crm-sync-eu").page("4000000000001", [PageTask::Analyze]))
    ///     .build()?;
    /// let text = spec.to_toml_string()?;
    /// assert!(text.contains(r#"page = "4000000000001""#));
    /// assert_eq!(Spec::from_toml_str(&text)?, spec);
    /// # Ok::<(), meta_business::provision::ProvisionError>(())
    /// ```
    ///
    /// # Errors
    /// [`ProvisionError::InvalidSpec`](super::ProvisionError::InvalidSpec) if TOML cannot hold
    /// it (not expected: every field has a TOML form).
    pub fn to_toml_string(&self) -> super::Result<String> {
        toml::to_string(self).map_err(|e| super::ProvisionError::InvalidSpec {
            location: "the document".to_owned(),
            message: e.to_string(),
        })
    }

    /// The desired state as JSON, in the form [`Spec::from_json_str`] reads (what
    /// `serde_json::to_string(&spec)` writes).
    pub fn to_json_string(&self) -> String {
        // A spec holds strings, booleans and lists only: it always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

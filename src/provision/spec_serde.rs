//! The one serde shape of a desired state: the file's. [`Spec`] and its parts serialize to
//! exactly what [`Spec::from_json_str`] and [`Spec::from_toml_str`] read (an asset is
//! `{ ad_account = "act_…", tasks = [...] }`), and deserialize through the same checks, so a
//! spec kept in a service's own database comes back equal.

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::spec::{AssetSpec, RawAsset, RawSpec, RawSystemUser, RawToken, Spec, SystemUserSpec, TokenSpec};

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
        RawSpec::deserialize(d)?.validate().map_err(D::Error::custom)
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

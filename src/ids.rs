//! Typed identifiers for Graph API nodes.
//!
//! Graph IDs are numeric strings. Each kind of node gets its own type so a page id cannot be
//! passed where a business id is expected. Constructing an id from a string (`From<&str>`) is
//! unchecked so that call sites stay short (`client.business("123")`); every request validates
//! the ids it carries before anything is sent and answers [`Error::InvalidInput`] naming the
//! field. Use [`str::parse`] to validate up front.
//!
//! Ids deserialize from JSON strings and from JSON numbers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// Longest id accepted. Graph ids are 64-bit integers (at most 20 digits); the margin keeps
/// room for id formats Meta may widen to without accepting unbounded input.
const MAX_ID_DIGITS: usize = 32;

fn check_digits(field: &'static str, digits: &str, original: &str) -> Result<(), Error> {
    if digits.is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    if digits.len() > MAX_ID_DIGITS {
        return Err(Error::invalid_input(
            field,
            format!(
                "is {} characters long; a Graph id has at most {MAX_ID_DIGITS} digits",
                digits.len()
            ),
        ));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid_input(
            field,
            format!(
                "must be a numeric Graph id, got {:?}",
                crate::error::clip(original, 40)
            ),
        ));
    }
    Ok(())
}

/// Deserializes an id from a JSON string or number.
fn deserialize_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct IdVisitor;
    impl serde::de::Visitor<'_> for IdVisitor {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a Graph id as a string or a number")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(IdVisitor)
}

macro_rules! numeric_id {
    ($(#[$meta:meta])* $name:ident, $field:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Wraps a raw id without checking it; requests validate it before sending.
            pub fn new(raw: impl Into<String>) -> Self {
                Self(raw.into().trim().to_owned())
            }

            /// The id as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Checks that this is a numeric Graph id.
            ///
            /// # Errors
            /// [`Error::InvalidInput`] naming the field when it is empty, too long or not numeric.
            pub fn validate(&self) -> Result<(), Error> {
                check_digits($field, &self.0, &self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(raw: &str) -> Self {
                Self::new(raw)
            }
        }

        impl From<String> for $name {
            fn from(raw: String) -> Self {
                Self::new(raw)
            }
        }

        impl From<&String> for $name {
            fn from(raw: &String) -> Self {
                Self::new(raw.as_str())
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl From<u64> for $name {
            fn from(raw: u64) -> Self {
                Self(raw.to_string())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                let id = Self::new(s);
                id.validate()?;
                Ok(id)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                deserialize_id(d).map(Self)
            }
        }
    };
}

numeric_id!(
    /// A Business Manager (business portfolio) id.
    BusinessId,
    "business_id"
);
numeric_id!(
    /// The app-scoped id of a system user, as returned when it is created or listed.
    ///
    /// Use this id in API calls, not the id Business Settings shows.
    SystemUserId,
    "system_user_id"
);
numeric_id!(
    /// An app id.
    AppId,
    "app_id"
);
numeric_id!(
    /// A Facebook Page id.
    PageId,
    "page_id"
);
numeric_id!(
    /// A product catalog id.
    CatalogId,
    "catalog_id"
);
numeric_id!(
    /// A pixel (dataset) id.
    PixelId,
    "pixel_id"
);
numeric_id!(
    /// An Instagram business asset id (from `owned_instagram_assets`).
    InstagramAssetId,
    "instagram_asset_id"
);
numeric_id!(
    /// A WhatsApp Business Account id.
    WhatsAppBusinessAccountId,
    "whatsapp_business_account_id"
);
numeric_id!(
    /// A person's (business user's or app-scoped user's) id.
    UserId,
    "user_id"
);

/// An ad account id in its canonical form, `act_<digits>`.
///
/// Bare digits are normalized: `AdAccountId::from("42")` and `AdAccountId::from("act_42")`
/// are equal and both send `act_42`.
///
/// ```
/// use meta_business::AdAccountId;
/// let id: AdAccountId = "42".parse()?;
/// assert_eq!(id.as_str(), "act_42");
/// assert_eq!(id.account_id(), "42");
/// # Ok::<(), meta_business::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdAccountId(String);

impl AdAccountId {
    /// Wraps a raw ad account id, adding the `act_` prefix to bare digits; requests validate
    /// it before sending.
    pub fn new(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let raw = raw.trim();
        if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
            Self(format!("act_{raw}"))
        } else {
            Self(raw.to_owned())
        }
    }

    /// The canonical id, `act_<digits>`, as used in paths.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The numeric part, without the `act_` prefix.
    pub fn account_id(&self) -> &str {
        self.0.strip_prefix("act_").unwrap_or(&self.0)
    }

    /// Checks the `act_<digits>` form.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming `ad_account_id` when the value is not an ad account id.
    pub fn validate(&self) -> Result<(), Error> {
        match self.0.strip_prefix("act_") {
            Some(digits) => check_digits("ad_account_id", digits, &self.0).map_err(|_| {
                Error::invalid_input(
                    "ad_account_id",
                    format!(
                        "must be `act_` followed by digits (or the digits alone), got {:?}",
                        crate::error::clip(&self.0, 40)
                    ),
                )
            }),
            None => Err(Error::invalid_input(
                "ad_account_id",
                format!(
                    "must be `act_<digits>` or digits, got {:?}",
                    crate::error::clip(&self.0, 40)
                ),
            )),
        }
    }
}

impl fmt::Debug for AdAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AdAccountId({})", self.0)
    }
}

impl fmt::Display for AdAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for AdAccountId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for AdAccountId {
    fn from(raw: &str) -> Self {
        Self::new(raw)
    }
}

impl From<String> for AdAccountId {
    fn from(raw: String) -> Self {
        Self::new(raw)
    }
}

impl From<&AdAccountId> for AdAccountId {
    fn from(id: &AdAccountId) -> Self {
        id.clone()
    }
}

impl From<u64> for AdAccountId {
    fn from(raw: u64) -> Self {
        Self(format!("act_{raw}"))
    }
}

impl FromStr for AdAccountId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let id = Self::new(s);
        id.validate()?;
        Ok(id)
    }
}

impl Serialize for AdAccountId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AdAccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_id(d).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids_validate() {
        assert!("1234567890".parse::<BusinessId>().is_ok());
        assert!(" 42 ".parse::<BusinessId>().is_ok());
        for bad in ["", "abc", "12a", "-1", "1.5", "12 34", "../1"] {
            let err = bad.parse::<BusinessId>().unwrap_err();
            assert!(err.to_string().contains("business_id"), "{bad}: {err}");
        }
        let long = "1".repeat(MAX_ID_DIGITS + 1);
        assert!(long.parse::<SystemUserId>().is_err());
    }

    #[test]
    fn ad_account_ids_normalize() {
        let bare: AdAccountId = "42".parse().unwrap();
        let prefixed: AdAccountId = "act_42".parse().unwrap();
        assert_eq!(bare, prefixed);
        assert_eq!(bare.as_str(), "act_42");
        assert_eq!(bare.account_id(), "42");
        assert_eq!(AdAccountId::from(7u64).as_str(), "act_7");
        for bad in ["act_", "act_x1", "act42", "", "ACT_42"] {
            assert!(bad.parse::<AdAccountId>().is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn numeric_ids_round_trip(digits in "[0-9]{1,32}") {
            let id: BusinessId = digits.parse().unwrap();
            proptest::prop_assert_eq!(id.to_string(), digits.clone());
            proptest::prop_assert_eq!(id.to_string().parse::<BusinessId>().unwrap(), id.clone());
            let json = serde_json::to_string(&id).unwrap();
            proptest::prop_assert_eq!(serde_json::from_str::<BusinessId>(&json).unwrap(), id);
        }

        #[test]
        fn ad_account_ids_round_trip(digits in "[0-9]{1,20}", prefixed in proptest::bool::ANY) {
            let raw = if prefixed { format!("act_{digits}") } else { digits.clone() };
            let id: AdAccountId = raw.parse().unwrap();
            proptest::prop_assert_eq!(id.to_string(), format!("act_{digits}"));
            proptest::prop_assert_eq!(id.account_id(), digits.as_str());
            proptest::prop_assert_eq!(id.to_string().parse::<AdAccountId>().unwrap(), id.clone());
        }

        #[test]
        fn parsing_any_string_never_panics_and_only_accepts_digits(raw in "\\PC{0,40}") {
            match raw.parse::<PageId>() {
                Ok(id) => proptest::prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_digit())),
                Err(err) => proptest::prop_assert!(err.to_string().contains("page_id")),
            }
            let _ = raw.parse::<AdAccountId>();
        }
    }

    #[test]
    fn ids_deserialize_from_strings_and_numbers() {
        let ids: Vec<PageId> = serde_json::from_str(r#"["1", 2]"#).unwrap();
        assert_eq!(ids, vec![PageId::from("1"), PageId::from(2u64)]);
        let ad: AdAccountId = serde_json::from_str("99").unwrap();
        assert_eq!(ad.as_str(), "act_99");
        assert_eq!(
            serde_json::to_string(&BusinessId::from("5")).unwrap(),
            r#""5""#
        );
    }
}

//! Typed identifiers for Graph API nodes.
//!
//! Graph IDs are numeric strings. Each kind of node gets its own type so a page id cannot be
//! passed where a business id is expected. Constructing an id from a string (`From<&str>`) is
//! unchecked so that call sites stay short (`client.business("123")`); every request validates
//! the ids it carries before anything is sent and answers [`Error::InvalidInput`] naming the
//! field. Use [`str::parse`] to validate up front.
//!
//! Ids deserialize from JSON strings and from JSON numbers, and only in their form: an answer
//! whose id is not numeric (or, for an ad account, not `act_<digits>`) does not decode. The
//! decode error gives the value's length, never the value: a hostile or broken server can put
//! anything there, a token included.

use std::fmt;

use serde::Deserializer;

use crate::error::Error;

/// Longest id accepted. Graph ids are 64-bit integers (at most 20 digits); the margin keeps
/// room for id formats Meta may widen to without accepting unbounded input.
const MAX_ID_DIGITS: usize = 32;

pub(crate) fn check_digits(field: &'static str, digits: &str, original: &str) -> Result<(), Error> {
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
pub(crate) fn deserialize_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
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

/// How the refusal of an id's form ends, so that a decode error can tell it from the rest.
const NOT_AN_ID_TAIL: &str = " characters, not shown)";

/// Why an id read from an answer is refused, without the value (it may be a credential).
fn not_an_id<E: serde::de::Error>(what: &str, raw: &str) -> E {
    E::custom(format_args!(
        "not {what} ({}{NOT_AN_ID_TAIL}",
        raw.chars().count()
    ))
}

/// Whether a decoder's message is the refusal of an id's form: the body around it may hold
/// the value, which no scrubber knows when it is someone else's credential.
pub(crate) fn is_id_refusal(message: &str) -> bool {
    message.contains(NOT_AN_ID_TAIL)
}

/// Whether `raw` is a Graph id's digits: 1 to [`MAX_ID_DIGITS`] ASCII digits.
pub(crate) fn is_numeric_id(raw: &str) -> bool {
    !raw.is_empty() && raw.len() <= MAX_ID_DIGITS && raw.bytes().all(|b| b.is_ascii_digit())
}

/// Deserializes a numeric id (a string of digits or a number), refusing any other form.
pub(crate) fn deserialize_numeric_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let raw = deserialize_id(d)?;
    if is_numeric_id(&raw) {
        Ok(raw)
    } else {
        Err(not_an_id("a numeric id", &raw))
    }
}

/// Deserializes an ad account id: `act_<digits>`, or the digits alone (normalized by
/// [`AdAccountId::new`]), refusing any other form.
pub(crate) fn deserialize_ad_account_id<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<String, D::Error> {
    let raw = deserialize_id(d)?;
    let digits = raw.strip_prefix("act_").unwrap_or(&raw);
    if is_numeric_id(digits) {
        Ok(raw)
    } else {
        Err(not_an_id("an ad account id (act_<digits>)", &raw))
    }
}

/// An id a request can put in its path: its text, and the check it must pass first.
pub(crate) trait NodeId {
    fn as_str(&self) -> &str;
    fn validate(&self) -> Result<(), Error>;
}

macro_rules! numeric_id {
    ($(#[$meta:meta])* $name:ident, $field:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Wraps a raw id without checking it; requests validate it before sending.
            pub fn new(raw: impl Into<String>) -> Self {
                let raw = raw.into();
                // Most ids come trimmed: keep the string rather than copy it.
                if raw.trim().len() == raw.len() {
                    Self(raw)
                } else {
                    Self(raw.trim().to_owned())
                }
            }

            /// The id as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's string, without a copy.
            #[allow(dead_code)] // Only some id types are moved into requests.
            pub(crate) fn into_string(self) -> String {
                self.0
            }

            /// Checks that this is a numeric Graph id.
            ///
            /// # Errors
            /// [`Error::InvalidInput`](crate::Error::InvalidInput) naming the field when it is empty, too long or not numeric.
            pub fn validate(&self) -> ::std::result::Result<(), $crate::Error> {
                $crate::ids::check_digits($field, &self.0, &self.0)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
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

        impl ::std::str::FromStr for $name {
            type Err = $crate::Error;
            fn from_str(s: &str) -> ::std::result::Result<Self, $crate::Error> {
                let id = Self::new(s);
                id.validate()?;
                Ok(id)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                $crate::ids::deserialize_numeric_id(d).map(Self)
            }
        }

        impl $crate::ids::NodeId for $name {
            fn as_str(&self) -> &str {
                &self.0
            }
            fn validate(&self) -> ::std::result::Result<(), $crate::Error> {
                $name::validate(self)
            }
        }
    };
}

pub(crate) use numeric_id;

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
    /// A person's (business user's or app-scoped user's) id.
    UserId,
    "user_id"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::ad_account::AdAccountId;
    use crate::kinds::page::PageId;

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
        for n in [0, 42, 1_000_000_000_000_001, u64::MAX] {
            assert_eq!(AdAccountId::from(n).as_str(), format!("act_{n}"));
        }
        assert_eq!(AdAccountId::new(" act_42\n").as_str(), "act_42");
        assert_eq!(SystemUserId::new(" 42 ").as_str(), "42");
        assert_eq!(SystemUserId::new("42").as_str(), "42");
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
    fn ids_in_answers_must_have_their_form() {
        const TOKEN: &str = "EAAB-a-token-as-an-id";
        let too_long = format!("{:?}", "9".repeat(MAX_ID_DIGITS + 1));
        let quoted = format!("{TOKEN:?}");
        for bad in [
            quoted.as_str(),
            r#""""#,
            r#"" 42""#,
            r#""12a""#,
            r#""-1""#,
            "-1",
            "1.5",
            "true",
            too_long.as_str(),
        ] {
            let err = serde_json::from_str::<BusinessId>(bad).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("not a numeric id (") || bad == "1.5" || bad == "true",
                "{bad}: {text}"
            );
            assert!(!text.contains(TOKEN), "{text}");
        }
        let err = serde_json::from_str::<AdAccountId>(&quoted).unwrap_err();
        assert!(err.to_string().contains("not an ad account id"), "{err}");
        assert!(!err.to_string().contains(TOKEN), "{err}");
        for bad in [r#""act_""#, r#""act_x1""#, r#""ACT_1""#, r#""act_-1""#] {
            assert!(serde_json::from_str::<AdAccountId>(bad).is_err(), "{bad}");
        }
        let ok: AdAccountId = serde_json::from_str(r#""act_7""#).unwrap();
        assert_eq!(ok.as_str(), "act_7");
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

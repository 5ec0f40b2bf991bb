//! Serde types for what the Graph API sends back, one module per resource.
//!
//! Response structs are `#[non_exhaustive]` and never reject unknown keys. The Graph API sends
//! only the fields a request asks for, so every field but `id` is an `Option`.

pub mod assets;
pub mod assignment;
pub mod business;
pub mod permissions;
pub mod system_user;
pub mod token;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// A reference to another node, as the Graph API nests it (`{"id": "...", "name": "..."}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NodeRef {
    /// The node's id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// The node's name, when sent.
    pub name: Option<String>,
}

/// A write's acknowledgement: `true`, `"true"`, `{"success": true}` or an object without a
/// `success` key (the Graph API answers writes in all these shapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ack(pub(crate) bool);

impl<'de> Deserialize<'de> for Ack {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Truthy { top: true }).map(Ack)
    }
}

/// [`truthy`] read straight off the JSON, with no `Value` built (every write's answer, and each
/// item of a bulk batch, is one of these). At the top, an object is its `success` key (the last
/// one, as a `Value` keeps it), or `true` without one; nested, an object or array is `false`.
struct Truthy {
    top: bool,
}

impl<'de> serde::de::Visitor<'de> for Truthy {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an acknowledgement")
    }
    fn visit_bool<E>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }
    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(v == "true" || v == "1")
    }
    fn visit_i64<E>(self, v: i64) -> Result<bool, E> {
        Ok(v == 1)
    }
    fn visit_u64<E>(self, v: u64) -> Result<bool, E> {
        Ok(v == 1)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_none<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut success = None;
        while let Some(is_success) = map.next_key_seed(IsSuccess)? {
            if self.top && is_success {
                success = Some(map.next_value_seed(Truthy { top: false })?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(self.top && success.unwrap_or(true))
    }
}

/// Whether an object's key is `success`, read without keeping the key.
struct IsSuccess;

impl<'de> serde::de::DeserializeSeed<'de> for IsSuccess {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for IsSuccess {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(v == "success")
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Truthy {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

pub(crate) fn truthy(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => s == "true" || s == "1",
        serde_json::Value::Number(n) => n.as_i64() == Some(1),
        _ => false,
    }
}

/// Checks a raw `fields` list (`"id,name,owned_pages{id}"`) for obvious mistakes.
pub(crate) fn check_fields(fields: &str) -> Result<()> {
    crate::api::fields::check(fields)
}

/// A node id kept as a string (users, groups, nested nodes): numeric like every Graph id, and
/// refused otherwise without quoting the value (see [`crate::ids`]).
pub(crate) fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    crate::ids::deserialize_numeric_id(d)
}

/// An optional unsigned number the Graph API may send as a number or a numeric string.
pub(crate) fn lenient_opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// An optional boolean sent as `true`, `"true"`, `1`…
pub(crate) fn lenient_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Option::<serde_json::Value>::deserialize(d)?.map(|v| truthy(&v)))
}

/// The longest name accepted for a system user or business, in characters. Meta documents no
/// limit (\[INFER\]); names longer than this are not useful in any UI and are refused before
/// sending.
pub const MAX_NAME_CHARS: usize = 256;

/// Characters that reorder text (bidi embeddings, overrides, isolates and marks): in a name
/// they make what a person reads differ from what is stored.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing: zero-width spaces and joiners, the word joiner, the byte
/// order mark, soft hyphen, invisible operators, Hangul and braille blanks.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

/// [`check_name`] for the name a system user is created or renamed with, which also logs a
/// warning for a name the audit would call vague: the same rule, said at the time it is given.
pub(crate) fn check_new_name(name: &str) -> Result<()> {
    check_name("name", name)?;
    if let Some(warning) = crate::provision::name_warning(name) {
        tracing::warn!(%warning, "a system user is given a vague name");
    }
    Ok(())
}

/// Rejects the name mistakes a typed API can catch: empty or invisible, control or bidi
/// characters, more than [`MAX_NAME_CHARS`] characters.
pub(crate) fn check_name(field: &'static str, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            field,
            "must not contain control characters",
        ));
    }
    if name.chars().any(is_bidi_control) {
        return Err(Error::invalid_input(
            field,
            "must not contain bidirectional control characters (they make the name read differently than it is stored)",
        ));
    }
    if name.chars().all(|c| is_invisible(c) || is_bidi_control(c)) {
        return Err(Error::invalid_input(
            field,
            "must contain a visible character (it holds only spaces or zero-width characters)",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid_input(
            field,
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Checks a system-user or business name the way a create or rename would, without sending
/// anything: for inputs that come from a person (a flag, a form) and should fail before a
/// workflow starts.
///
/// ```
/// use meta_business::validate_name;
///
/// assert!(validate_name("crm-sync-eu").is_ok());
/// let err = validate_name("  ").unwrap_err();
/// assert!(err.to_string().contains("must not be empty"));
/// assert!(validate_name("pay\u{202E}lol").is_err()); // a bidi override
/// ```
///
/// # Errors
/// [`Error::InvalidInput`] naming `name`: empty or invisible, control or bidirectional
/// characters, more than [`MAX_NAME_CHARS`] characters.
pub fn validate_name(name: &str) -> Result<()> {
    check_name("name", name)
}

/// "a" or "an" before a word, by its first letter (good enough for the crate's own labels).
pub(crate) fn article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// Checks a caller-supplied escape value of a request enum (`SystemUserRole::Other("X")`).
pub(crate) fn check_enum_escape(field: &'static str, raw: &str) -> Result<()> {
    let ok = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            field,
            format!(
                "{:?} is not a Graph enum value (letters, digits and `_` only)",
                crate::error::clip(raw, 40)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an acknowledgement meant when it was read through a `Value`.
    fn ack_through_value(json: &str) -> Option<bool> {
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        Some(match &value {
            serde_json::Value::Object(map) => map.get("success").is_none_or(truthy),
            other => truthy(other),
        })
    }

    #[test]
    fn an_acknowledgement_reads_as_through_a_value() {
        for json in [
            "true",
            "false",
            r#""true""#,
            r#""1""#,
            r#""yes""#,
            "1",
            "0",
            "2",
            "1.0",
            "null",
            "[true]",
            "{}",
            r#"{"success":true}"#,
            r#"{"success":false}"#,
            r#"{"success":"true"}"#,
            r#"{"success":1}"#,
            r#"{"success":{"a":1}}"#,
            r#"{"success":[1]}"#,
            r#"{"id":"1"}"#,
            r#"{"success":true,"success":false}"#,
            r#"{"succ\u0065ss":false}"#,
            r#"{"data":[{"success":false}],"success":true}"#,
        ] {
            let ours = serde_json::from_str::<Ack>(json).ok().map(|a| a.0);
            assert_eq!(ours, ack_through_value(json), "{json}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_acknowledgement_reads_as_through_a_value(
            json in r#"\{("(success|id|succ)":(true|false|"true"|"1"|1|0|null|\[1\]|\{"success":true\}),?){0,4}\}|true|false|"1"|1|null"#
        ) {
            let ours = serde_json::from_str::<Ack>(&json).ok().map(|a| a.0);
            proptest::prop_assert_eq!(ours, ack_through_value(&json), "{}", json);
        }
    }

    #[test]
    fn names_that_read_wrong_are_refused() {
        for bad in [
            "",
            "   ",
            "\u{200B}\u{200B}",
            "\u{FEFF}",
            " \u{2060} ",
            "admin\u{202E}resu",
            "a\u{2066}b",
            "line\nbreak",
        ] {
            assert!(check_name("name", bad).is_err(), "{bad:?}");
        }
        assert!(check_name("name", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        for good in [
            "reporting-server",
            "Système d'écriture",
            "日本語",
            &"x".repeat(MAX_NAME_CHARS),
        ] {
            assert!(check_name("name", good).is_ok(), "{good:?}");
        }
        assert_eq!(article("ad account"), "an");
        assert_eq!(article("Page"), "a");
    }

    #[test]
    fn ack_shapes() {
        for (raw, ok) in [
            ("true", true),
            (r#""true""#, true),
            (r#"{"success":true}"#, true),
            (r#"{"success":"true"}"#, true),
            (r#"{"id":"1"}"#, true),
            ("false", false),
            (r#"{"success":false}"#, false),
        ] {
            assert_eq!(serde_json::from_str::<Ack>(raw).unwrap().0, ok, "{raw}");
        }
    }
}

//! What a store file holds, and which file names are entries.
//!
//! An entry, `<business>_<system user>_<app>.json`, holds the key, the token, the token it
//! replaces (during a rotation) and the metadata, written as one. Stores of earlier versions
//! kept two files per key: `….token` with the token alone and `….json` with the key and the
//! metadata (no `version`); those are read until the key's next write.

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::store::{StoreError, StoredToken, TokenKey, TokenMeta, Version};

/// The `version` of the entries this crate writes. Two-file stores had none.
const VERSION: u32 = 2;

/// The extension of an entry (and of the metadata file of a two-file store).
pub(super) const ENTRY: &str = "json";
/// The extension of a two-file store's token file.
pub(super) const LEGACY_TOKEN: &str = "token";

#[derive(Serialize)]
struct Written<'a> {
    version: u32,
    /// The entry's [`Version`] (the `version` above is the file's format).
    rev: Version,
    key: &'a TokenKey,
    token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous: Option<&'a str>,
    meta: &'a TokenMeta,
}

#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    version: u32,
    /// Missing in entries written before versions: 0.
    #[serde(default)]
    rev: u64,
    key: TokenKey,
    token: Option<SecretString>,
    previous: Option<SecretString>,
    meta: TokenMeta,
}

/// The bytes of the entry for `stored`, at version `rev`.
pub(super) fn encode(stored: &StoredToken, rev: Version) -> Result<Vec<u8>, StoreError> {
    let written = Written {
        version: VERSION,
        rev,
        key: &stored.key,
        token: stored.secret().expose_secret(),
        previous: stored.previous().map(|p| p.expose_secret()),
        meta: &stored.meta,
    };
    serde_json::to_vec_pretty(&written)
        .map_err(|_| StoreError::new(format!("encoding the entry of {}", stored.key)))
}

/// What a `.json` file of the store held.
pub(super) enum Decoded {
    /// A whole entry, at its version.
    Entry(StoredToken, Version),
    /// A two-file store's metadata: the token is in the `.token` file beside it.
    Legacy(TokenMeta),
}

/// Reads the `.json` file at `path`, which must be the entry of `key`.
///
/// The errors name the path and what is wrong, never the content: the file may be anything
/// (and `serde_json`'s own messages quote the values they did not expect, so they are not
/// passed on).
pub(super) fn decode(bytes: &[u8], key: &TokenKey, path: &Path) -> Result<Decoded, StoreError> {
    let stored: Stored = serde_json::from_slice(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Eof => "is cut short",
            serde_json::error::Category::Syntax => "is not JSON",
            serde_json::error::Category::Data | serde_json::error::Category::Io => {
                "does not have the fields of a store entry"
            }
        };
        StoreError::new(format!(
            "{} {what} (line {}, column {}); the entry of {key} cannot be read",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    if stored.key != *key {
        return Err(StoreError::new(format!(
            "{} holds the entry of another key, not of {key}; it is not used",
            path.display()
        )));
    }
    match (stored.version, stored.token) {
        (0, None) if stored.previous.is_none() => Ok(Decoded::Legacy(stored.meta)),
        (VERSION, Some(token)) if !token.expose_secret().is_empty() => {
            let mut entry = StoredToken::new(key.clone(), token, stored.meta);
            if let Some(previous) = stored.previous {
                entry = entry.with_previous(previous);
            }
            Ok(Decoded::Entry(entry, Version::new(stored.rev)))
        }
        (0 | VERSION, _) => Err(StoreError::new(format!(
            "{} is not a store entry of a known form (no token, or a token where none belongs); \
             the entry of {key} cannot be read",
            path.display()
        ))),
        (version, _) => Err(StoreError::new(format!(
            "{} is an entry of version {version}, which this version of the crate does not read",
            path.display()
        ))),
    }
}

/// The token of a two-file store's `.token` file.
pub(super) fn decode_legacy_token(bytes: Vec<u8>, path: &Path) -> Result<SecretString, StoreError> {
    let text = String::from_utf8(bytes)
        .map_err(|_| StoreError::new(format!("{} is not text", path.display())))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(StoreError::new(format!("{} is empty", path.display())));
    }
    Ok(SecretString::from(token.to_owned()))
}

/// The file name of `key` with this extension (the key's ids are checked digits: no separator,
/// no `..`).
pub(super) fn file_name(key: &TokenKey, extension: &str) -> String {
    format!(
        "{}_{}_{}.{extension}",
        key.business, key.system_user, key.app
    )
}

/// The key a file name stands for: `<digits>_<digits>_<digits>.json` or `….token`, exactly.
/// Every other name (a backup copy, a temporary file, anything a person left there) is not
/// the store's.
pub(super) fn key_of(name: &str) -> Option<TokenKey> {
    let stem = name
        .strip_suffix(".json")
        .or_else(|| name.strip_suffix(".token"))?;
    let mut ids = stem.split('_');
    let (business, system_user, app) = (ids.next()?, ids.next()?, ids.next()?);
    if ids.next().is_some() {
        return None;
    }
    let key = TokenKey::new(business, system_user, app);
    key.validate().ok()?;
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Minted;

    fn key() -> TokenKey {
        TokenKey::new("1000000000001", "610000000000002", "2000000000001")
    }

    #[test]
    fn only_the_stores_own_names_are_entries() {
        for name in [
            "1000000000001_610000000000002_2000000000001.json",
            "1000000000001_610000000000002_2000000000001.token",
        ] {
            assert_eq!(key_of(name), Some(key()), "{name}");
        }
        for name in [
            "backup-before-rotation.json",
            "1000000000001_610000000000002_2000000000001.json.bak",
            ".1000000000001_610000000000002_2000000000001.json.tmp-1-00ff",
            "1000000000001_610000000000002_2000000000001_9.json",
            "1000000000001_610000000000002.json",
            "1000000000001__2000000000001.json",
            "1000000000001_61000000000000x_2000000000001.json",
            "1000000000001_610000000000002_2000000000001.JSON",
            "1000000000001_610000000000002_2000000000001",
            "_1_2.json",
        ] {
            assert_eq!(key_of(name), None, "{name}");
        }
        assert_eq!(
            key_of(&file_name(&key(), ENTRY)),
            Some(key()),
            "names round-trip"
        );
    }

    #[test]
    fn an_entry_round_trips_with_its_previous_token() {
        let stored = StoredToken::new(
            key(),
            "EAAB-new-token".to_owned(),
            TokenMeta::new([], Some(7), Minted::Refreshed),
        )
        .with_previous("EAAB-old-token".to_owned());
        let bytes = encode(&stored, Version::new(42)).unwrap();
        let Ok(Decoded::Entry(back, rev)) = decode(&bytes, &key(), Path::new("e.json")) else {
            panic!("not an entry");
        };
        assert_eq!(rev, Version::new(42));
        assert_eq!(back.secret().expose_secret(), "EAAB-new-token");
        assert_eq!(
            back.previous().map(|p| p.expose_secret().to_owned()),
            Some("EAAB-old-token".to_owned())
        );
        assert_eq!(back.meta, stored.meta);
    }

    #[test]
    fn a_bad_file_is_named_and_never_quoted() {
        let secret = "other-service-secret-0123456789";
        for bytes in [
            format!("\"{secret}\""),
            format!("{{\"version\": \"{secret}\"}}"),
            secret.to_owned(),
            "{\"version\": 2, \"key\"".to_owned(),
        ] {
            let Err(err) = decode(bytes.as_bytes(), &key(), Path::new("/s/e.json")) else {
                panic!("{bytes} decoded");
            };
            let shown = format!("{err} {err:?}");
            assert!(shown.contains("/s/e.json"), "{shown}");
            assert!(!shown.contains(secret), "{shown}");
            assert!(std::error::Error::source(&err).is_none());
        }
        // Another key's entry is refused.
        let other = StoredToken::new(
            TokenKey::new("1000000000001", "610000000000009", "2000000000001"),
            "EAAB-x".to_owned(),
            TokenMeta::new([], None, Minted::Imported),
        );
        let err = decode(
            &encode(&other, Version::new(1)).unwrap(),
            &key(),
            Path::new("e.json"),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("another key"), "{err}");
    }
}

//! KV version 2 as this store uses it: where a key lives, what its versioned data holds, how a
//! read is understood (never written, removed, or a token), and the operators' mirror of the
//! metadata in `custom_metadata`.
//!
//! The versioned data is the truth: `{"meta_business": 1, "token", "previous"?, "meta"}` is
//! written in one `cas` write, so a reader never sees one writer's token with another's
//! metadata. A remove writes a new version, a tombstone `{"meta_business": 1, "removed": true}`,
//! with `cas` too, then soft-deletes it and the token's version: KV's version counter goes on
//! counting, so a version is never reused, and a writer still holding the removed version
//! loses its `cas`. The `custom_metadata` of the key mirrors the non-secret metadata for
//! operators (`bao kv metadata get`), written after the data: it may lag a concurrent write
//! and is never read back.

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use url::Url;

use super::http::{Answer, url};
use crate::store::{StoreError, StoredToken, TokenKey, TokenMeta};

/// The format marker of this crate's entries.
const FORMAT: u64 = 1;

/// Longest value Vault accepts in `custom_metadata`, in bytes.
const MAX_CUSTOM_VALUE: usize = 512;

/// Where the store's keys live: `<mount>/{data,metadata,delete}/<prefix>/<business>/<system user>/<app>`.
#[derive(Clone)]
pub(super) struct Layout {
    pub(super) mount: Vec<String>,
    pub(super) prefix: Vec<String>,
}

impl Layout {
    /// The URL of `kind` (`data`, `metadata`, `delete`) for the path `rest` under the prefix.
    pub(super) fn url(&self, addr: &Url, kind: &str, rest: &[&str]) -> Url {
        let segments = self
            .mount
            .iter()
            .map(String::as_str)
            .chain([kind])
            .chain(self.prefix.iter().map(String::as_str))
            .chain(rest.iter().copied());
        url(addr, segments)
    }

    pub(super) fn key_url(&self, addr: &Url, kind: &str, key: &TokenKey) -> Url {
        self.url(
            addr,
            kind,
            &[
                key.business.as_str(),
                key.system_user.as_str(),
                key.app.as_str(),
            ],
        )
    }

    /// The LIST URL of the folder `rest` under the prefix (`?list=true`, a trailing `/`).
    pub(super) fn list_url(&self, addr: &Url, rest: &[&str]) -> Url {
        let mut url = self.url(addr, "metadata", rest);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("");
        }
        url.set_query(Some("list=true"));
        url
    }
}

/// What a key holds, as one read of its latest version found it.
pub(super) enum State {
    /// Never written: its next write is `cas` 0.
    Never,
    /// Its latest version (this one) is a tombstone, soft-deleted or destroyed.
    Gone(u64),
    /// A token at this version, or why that version is not one.
    Live(u64, Result<StoredToken, StoreError>),
}

impl State {
    /// The version a write over this state names in its `cas`.
    pub(super) fn cas(&self) -> u64 {
        match self {
            State::Never => 0,
            State::Gone(v) | State::Live(v, _) => *v,
        }
    }

    /// The version of the token held, if one is.
    pub(super) fn live(&self) -> Option<u64> {
        match self {
            State::Live(v, _) => Some(*v),
            _ => None,
        }
    }
}

/// A read's answer: the version's data and metadata (also read by the create lock).
#[derive(Deserialize)]
pub(super) struct ReadAnswer {
    pub(super) data: Option<ReadData>,
}

#[derive(Deserialize)]
pub(super) struct ReadData {
    #[serde(default)]
    pub(super) data: Option<Value>,
    pub(super) metadata: Option<VersionMeta>,
}

#[derive(Deserialize)]
pub(super) struct VersionMeta {
    pub(super) version: u64,
    #[serde(default)]
    destroyed: bool,
}

/// This crate's entry, as read.
#[derive(Deserialize)]
struct Entry {
    meta_business: u64,
    #[serde(default)]
    removed: bool,
    token: Option<SecretString>,
    #[serde(default)]
    previous: Option<SecretString>,
    meta: Option<TokenMeta>,
}

/// Reads an answer to `GET <mount>/data/<key>`; `None` when it is not a read's answer (the
/// caller reports the status).
pub(super) fn state_of(answer: &Answer, key: &TokenKey) -> Option<State> {
    if answer.status != StatusCode::OK && answer.status != StatusCode::NOT_FOUND {
        return None;
    }
    let parsed: Option<ReadAnswer> = serde_json::from_slice(&answer.body).ok();
    let Some(data) = parsed.and_then(|p| p.data) else {
        // A 404 with no data: the key was never written (or its metadata was deleted).
        return (answer.status == StatusCode::NOT_FOUND).then_some(State::Never);
    };
    let Some(meta) = data.metadata else {
        return (answer.status == StatusCode::NOT_FOUND).then_some(State::Never);
    };
    let version = meta.version;
    match data.data {
        Some(value) if answer.status == StatusCode::OK && !meta.destroyed && !value.is_null() => {
            Some(entry(value, key, version))
        }
        _ => Some(State::Gone(version)),
    }
}

fn entry(value: Value, key: &TokenKey, version: u64) -> State {
    let bad = |why: String| {
        State::Live(
            version,
            Err(StoreError::new(format!(
                "the Vault entry of {key} (version {version}) is not one this crate wrote: {why}"
            ))),
        )
    };
    let entry: Entry = match serde_path_to_error::deserialize(value) {
        Ok(entry) => entry,
        // The path only: serde's own words can quote a value, and a value can be a token.
        Err(e) => return bad(format!("unexpected `{}`", e.path())),
    };
    if entry.meta_business != FORMAT {
        return bad(format!("format {}", entry.meta_business));
    }
    if entry.removed {
        return State::Gone(version);
    }
    let (Some(token), Some(meta)) = (entry.token, entry.meta) else {
        return bad("no token or no metadata".to_owned());
    };
    let mut stored = StoredToken::new(key.clone(), token, meta);
    if let Some(previous) = entry.previous {
        stored = stored.with_previous(previous);
    }
    State::Live(version, Ok(stored))
}

/// The body of a write of `token` over version `cas`.
pub(super) fn write_body(token: &StoredToken, cas: u64) -> Result<Value, StoreError> {
    let meta = serde_json::to_value(&token.meta)
        .map_err(|_| StoreError::new(format!("encoding the metadata of {}", token.key)))?;
    let mut data = json!({
        "meta_business": FORMAT,
        "token": token.secret().expose_secret(),
        "meta": meta,
    });
    if let Some(previous) = token.previous() {
        data["previous"] = Value::String(previous.expose_secret().to_owned());
    }
    Ok(json!({"options": {"cas": cas}, "data": data}))
}

/// The body of a tombstone written over version `cas`.
pub(super) fn tombstone_body(cas: u64) -> Value {
    json!({"options": {"cas": cas}, "data": {"meta_business": FORMAT, "removed": true}})
}

/// The version a write's answer names.
pub(super) fn written_version(answer: &Answer) -> Option<u64> {
    #[derive(Deserialize)]
    struct Written {
        data: WrittenData,
    }
    #[derive(Deserialize)]
    struct WrittenData {
        version: u64,
    }
    serde_json::from_slice::<Written>(&answer.body)
        .ok()
        .map(|w| w.data.version)
}

/// The key's metadata update: the mirror of `meta` (no secret), and `cas_required`, so that
/// every other writer of the key must name the version it replaces too.
pub(super) fn mirror_body(version: u64, token: Option<&StoredToken>) -> Value {
    let mut custom = Map::new();
    let mut put = |name: &str, value: String| {
        custom.insert(name.to_owned(), Value::String(clip(value)));
    };
    put("meta_business_version", version.to_string());
    match token {
        None => put("state", "removed".to_owned()),
        Some(token) => {
            let meta = &token.meta;
            put("state", "stored".to_owned());
            let scopes: Vec<&str> = meta.scopes.iter().map(|p| p.as_str()).collect();
            put("scopes", scopes.join(","));
            put(
                "expires_at",
                meta.expires_at
                    .map_or_else(|| "never".to_owned(), |t| t.to_string()),
            );
            put("minted_at", meta.minted_at.to_string());
            let minted = serde_json::to_value(meta.minted)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            put("minted", minted);
            if let Some(name) = &meta.system_user_name {
                put("system_user_name", name.clone());
            }
            put("rotation_pending", token.previous().is_some().to_string());
        }
    }
    json!({"cas_required": true, "custom_metadata": custom})
}

/// `value` cut to what Vault accepts, on a character boundary.
fn clip(mut value: String) -> String {
    if value.len() > MAX_CUSTOM_VALUE {
        let mut end = MAX_CUSTOM_VALUE - '…'.len_utf8();
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        value.truncate(end);
        value.push('…');
    }
    value
}

/// The names a LIST answer holds: folders end with `/`.
pub(super) fn listed(answer: &Answer) -> Option<Vec<String>> {
    #[derive(Deserialize)]
    struct Listed {
        data: ListedData,
    }
    #[derive(Deserialize)]
    struct ListedData {
        #[serde(default)]
        keys: Vec<String>,
    }
    serde_json::from_slice::<Listed>(&answer.body)
        .ok()
        .map(|l| l.data.keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            body: body.to_owned().into(),
            sent_token: None,
        }
    }

    fn key() -> TokenKey {
        TokenKey::new("1000000000001", "610000000000002", "2000000000001")
    }

    #[test]
    fn a_read_is_never_written_removed_or_a_token() {
        let k = key();
        assert!(matches!(
            state_of(&answer(404, r#"{"errors":[]}"#), &k),
            Some(State::Never)
        ));
        let deleted = r#"{"data":{"data":null,"metadata":{"version":7,"deletion_time":"2026-01-01T00:00:00Z","destroyed":false}}}"#;
        assert!(matches!(
            state_of(&answer(404, deleted), &k),
            Some(State::Gone(7))
        ));
        let tombstone =
            r#"{"data":{"data":{"meta_business":1,"removed":true},"metadata":{"version":8}}}"#;
        assert!(matches!(
            state_of(&answer(200, tombstone), &k),
            Some(State::Gone(8))
        ));
        let live = r#"{"data":{"data":{"meta_business":1,"token":"EAAB-live","previous":"EAAB-old",
            "meta":{"scopes":["ads_read"],"expires_at":null,"minted_at":5,"minted":"generated"}},
            "metadata":{"version":9}}}"#;
        match state_of(&answer(200, live), &k) {
            Some(State::Live(9, Ok(token))) => {
                assert_eq!(token.secret().expose_secret(), "EAAB-live");
                assert_eq!(
                    token.previous().map(|p| p.expose_secret()),
                    Some("EAAB-old")
                );
            }
            _ => panic!("a token"),
        }
        assert!(state_of(&answer(403, r#"{"errors":["permission denied"]}"#), &k).is_none());
        assert!(state_of(&answer(200, "not json"), &k).is_none());
    }

    #[test]
    fn a_foreign_entry_is_an_error_without_its_values() {
        let body = r#"{"data":{"data":{"meta_business":1,"token":"EAAB-foreign-secret","meta":"EAAB-foreign-secret"},"metadata":{"version":3}}}"#;
        match state_of(&answer(200, body), &key()) {
            Some(State::Live(3, Err(e))) => {
                let shown = e.to_string();
                assert!(
                    shown.contains("`meta`") && !shown.contains("EAAB-foreign"),
                    "{shown}"
                );
            }
            _ => panic!("an unreadable entry"),
        }
    }

    #[test]
    fn the_mirror_holds_no_secret_and_fits_vault() {
        let meta =
            TokenMeta::new([], Some(10), crate::store::Minted::Imported).named("x".repeat(600));
        let token =
            StoredToken::new(key(), "EAAB-mirror-secret", meta).with_previous("EAAB-mirror-prev");
        let body = mirror_body(4, Some(&token)).to_string();
        assert!(!body.contains("EAAB-mirror"), "{body}");
        let custom = &mirror_body(4, Some(&token))["custom_metadata"];
        let name = custom["system_user_name"].as_str().unwrap_or_default();
        assert!(name.len() <= MAX_CUSTOM_VALUE && name.ends_with('…'));
        assert_eq!(custom["rotation_pending"], "true");
        assert_eq!(custom["minted"], "imported");
    }
}

//! The one identity check of a token: `debug_token`, called as the token's app, must show it
//! valid, of the app of its key, of the system user of its key, and a system-user token. Used
//! wherever the crate mints, refreshes, stores or finds a stored token (keeper, `apply`,
//! `plan`, `audit`), so that a token of another user, app or type is never stored under a key,
//! reported refreshed, or left where a service would pick it up.
//!
//! `debug_token` does not say which business a system-user token is of; a system user belongs
//! to one business, so its id stands for the business too.

use secrecy::SecretString;

use crate::client::Client;
use crate::ids::AppId;
use crate::models::token::{TokenInfo, TokenType};
use crate::store::TokenKey;

/// What the check found.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Valid, and the key's app, system user and type.
    Good,
    /// Not valid, or not the key's.
    Bad {
        /// Why, for a report (names ids, never a token).
        why: String,
        /// Whether the crate may revoke it: `debug_token` does not show it to be another
        /// system user's or another app's (a token the crate minted, or a dead one). A token of
        /// someone else, answered in place of the one asked for, is left alone: it may be
        /// another service's working token.
        ours: bool,
    },
    /// Could not be checked (`debug_token` failed, or the client lacks the app's secret).
    Unknown(String),
}

/// Why `info` is not the token of `key` (another app, another user, another type), if it is
/// not. Validity is not judged here: an expired token of the key is still the key's.
pub(crate) fn mismatch(info: &TokenInfo, key: &TokenKey) -> Option<String> {
    if let Some(why) = app_mismatch(info, &key.app) {
        return Some(why);
    }
    match info.user_id.as_deref() {
        Some(user) if user == key.system_user.as_str() => {}
        Some(user) => {
            return Some(format!(
                "it is a token of user {}, not of system user {}",
                shown_id(user),
                key.system_user
            ));
        }
        None => return Some("debug_token does not name its user".to_owned()),
    }
    type_mismatch(info)
}

/// Why `info` is not a token of `app`, if it is not.
pub(crate) fn app_mismatch(info: &TokenInfo, app: &AppId) -> Option<String> {
    match &info.app_id {
        Some(of) if of == app => None,
        Some(of) => Some(format!(
            "it is a token of app {}, not of app {app}",
            shown_id(of.as_str()),
        )),
        None => Some("debug_token does not name its app".to_owned()),
    }
}

/// Why `info` is not a system user's token, if it is not.
pub(crate) fn type_mismatch(info: &TokenInfo) -> Option<String> {
    match &info.token_type {
        Some(TokenType::SystemUser) => None,
        Some(other) => {
            let kind = other.as_str();
            let shown =
                if kind.len() <= 24 && kind.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                    kind
                } else {
                    "an unknown type of"
                };
            Some(format!("it is a {shown} token, not a system user's"))
        }
        None => Some("debug_token does not say its type".to_owned()),
    }
}

/// An id read from an answer, shown only when it has an id's form (digits): a hostile server
/// could put a secret where an id belongs.
pub(crate) fn shown_id(raw: &str) -> &str {
    if !raw.is_empty() && raw.len() <= 24 && raw.bytes().all(|b| b.is_ascii_digit()) {
        raw
    } else {
        "(an id that is not numeric)"
    }
}

/// Whether `debug_token` leaves the crate free to revoke this token: it does not name another
/// system user or another app.
pub(crate) fn revocable(info: &TokenInfo, key: &TokenKey) -> bool {
    info.user_id
        .as_deref()
        .is_none_or(|u| u == key.system_user.as_str())
        && info.app_id.as_ref().is_none_or(|a| *a == key.app)
}

/// The verdict on what `debug_token` said of a token meant for `key`.
pub(crate) fn judge(info: TokenInfo, key: &TokenKey) -> Verdict {
    if let Some(why) = mismatch(&info, key) {
        return Verdict::Bad {
            ours: revocable(&info, key),
            why: format!("not the token of {key}: {why}"),
        };
    }
    if info.is_valid != Some(true) {
        return Verdict::Bad {
            why: "debug_token does not show it valid".to_owned(),
            ours: true,
        };
    }
    Verdict::Good
}

/// Inspects `token` as the app of `key` and judges it.
pub(crate) async fn verify(client: &Client, key: &TokenKey, token: &SecretString) -> Verdict {
    let inspector = match client.as_app(key.app.clone()) {
        Ok(inspector) => inspector,
        Err(err) => return Verdict::Unknown(err.to_string()),
    };
    match inspector.debug_token(token.clone()).send().await {
        Ok(info) => judge(info, key),
        Err(err) => Verdict::Unknown(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(app: &str, user: &str, kind: &str, valid: bool) -> TokenInfo {
        serde_json::from_value(serde_json::json!({
            "app_id": app, "user_id": user, "type": kind, "is_valid": valid, "scopes": [],
        }))
        .unwrap()
    }

    #[test]
    fn a_token_is_the_keys_only_with_its_app_user_and_type() {
        let key = TokenKey::new("1000000000001", "610000000000002", "2000000000001");
        let good = info("2000000000001", "610000000000002", "SYSTEM_USER", true);
        assert!(matches!(judge(good, &key), Verdict::Good));
        for (bad, ours, says) in [
            (
                info("2000000000009", "610000000000002", "SYSTEM_USER", true),
                false,
                "app 2000000000009",
            ),
            (
                info("2000000000001", "610000000000009", "SYSTEM_USER", true),
                false,
                "user 610000000000009",
            ),
            (
                info("2000000000001", "610000000000002", "USER", true),
                true,
                "a USER token",
            ),
            (
                info("2000000000001", "610000000000002", "SYSTEM_USER", false),
                true,
                "valid",
            ),
        ] {
            match judge(bad, &key) {
                Verdict::Bad { why, ours: o } => {
                    assert!(why.contains(says), "{why}");
                    assert_eq!(o, ours, "{why}");
                }
                other => panic!("{other:?}"),
            }
        }
        let untyped: TokenInfo = serde_json::from_value(serde_json::json!({
            "app_id": "2000000000001", "user_id": "610000000000002", "is_valid": true,
        }))
        .unwrap();
        assert!(mismatch(&untyped, &key).unwrap().contains("type"));
        // What an answer puts where an id or a type belongs is shown only in that form.
        let echo = "EAAEsecretTokenEchoedBack0123456789abcdef";
        // An app id of another form is refused when the answer is decoded, without showing it.
        let refused = serde_json::from_value::<TokenInfo>(serde_json::json!({
            "app_id": echo, "user_id": "610000000000002", "type": "SYSTEM_USER", "is_valid": true,
        }))
        .unwrap_err()
        .to_string();
        assert!(
            !refused.contains("EAAE") && !refused.contains("secret"),
            "{refused}"
        );
        for hostile in [
            info("2000000000001", echo, "SYSTEM_USER", true),
            info("2000000000001", "610000000000002", echo, true),
        ] {
            let why = mismatch(&hostile, &key).unwrap();
            assert!(!why.contains("EAAE") && !why.contains("secret"), "{why}");
        }
    }
}

//! `appsecret_proof`: the HMAC that proves a call comes from a holder of the app secret.
//!
//! The proof is derived from the token each request carries (the classic form once per token,
//! the time-stamped form afresh each time), so it stays correct across pagination, retries,
//! batches and [`Client::with_token`](crate::Client::with_token).

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn hmac_hex(key: &[u8], message: &[&[u8]]) -> String {
    // An HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of every length"),
    };
    for part in message {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// The classic `appsecret_proof`: lowercase hex of HMAC-SHA256 keyed by the app secret over
/// the access token.
///
/// The result is itself a credential, so it is returned as a [`SecretString`].
///
/// ```
/// use meta_business::tokens::appsecret_proof;
/// use secrecy::{ExposeSecret, SecretString};
/// let proof = appsecret_proof(&SecretString::from("app_secret"), &SecretString::from("access_token"));
/// assert_eq!(
///     proof.expose_secret(),
///     "d52ddf968d622d8af8677906b7fbae09ac1f89f7cd5c1584b27544624cc23e5a"
/// );
/// ```
pub fn appsecret_proof(app_secret: &SecretString, access_token: &SecretString) -> SecretString {
    SecretString::from(hmac_hex(
        app_secret.expose_secret().as_bytes(),
        &[access_token.expose_secret().as_bytes()],
    ))
}

/// The time-stamped `appsecret_proof`: HMAC-SHA256 keyed by the app secret over
/// `access_token|unix_time`. Send it with `appsecret_time = unix_time`.
///
/// ```
/// use meta_business::tokens::appsecret_proof_at;
/// use secrecy::{ExposeSecret, SecretString};
/// let proof = appsecret_proof_at(
///     &SecretString::from("app_secret"),
///     &SecretString::from("access_token"),
///     1_700_000_000,
/// );
/// assert_eq!(
///     proof.expose_secret(),
///     "6d628543881e144a5266cc74793f4d2dae73457bef5bb7b180bde92177cc1bcf"
/// );
/// ```
pub fn appsecret_proof_at(
    app_secret: &SecretString,
    access_token: &SecretString,
    unix_time: u64,
) -> SecretString {
    let time = unix_time.to_string();
    SecretString::from(hmac_hex(
        app_secret.expose_secret().as_bytes(),
        &[
            access_token.expose_secret().as_bytes(),
            b"|",
            time.as_bytes(),
        ],
    ))
}

/// A form of a secret safe to print: its first and last four characters, or stars when it is
/// too short for that to hide most of it.
pub(crate) fn mask(secret: &SecretString) -> String {
    let raw = secret.expose_secret();
    let chars: Vec<char> = raw.chars().collect();
    if chars.len() < 24 {
        return "****".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// An app access token, `{app_id}|{app_secret}`, for calls such as `debug_token`.
pub(crate) fn app_access_token(app_id: &str, app_secret: &SecretString) -> SecretString {
    SecretString::from(format!("{app_id}|{}", app_secret.expose_secret()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_vector() {
        // facebook-java-business-sdk APIContextTest.kt
        let proof = appsecret_proof(&"app_secret".into(), &"access_token".into());
        assert_eq!(
            proof.expose_secret(),
            "d52ddf968d622d8af8677906b7fbae09ac1f89f7cd5c1584b27544624cc23e5a"
        );
    }

    #[test]
    fn masking() {
        assert_eq!(mask(&"short".into()), "****");
        assert_eq!(
            mask(&"EAABwzLixnjYBO1234567890abcdWXYZ".into()),
            "EAAB…WXYZ"
        );
    }

    #[test]
    fn time_stamped_vector() {
        let proof = appsecret_proof_at(&"app_secret".into(), &"access_token".into(), 1_700_000_000);
        assert_eq!(
            proof.expose_secret(),
            "6d628543881e144a5266cc74793f4d2dae73457bef5bb7b180bde92177cc1bcf"
        );
    }
}

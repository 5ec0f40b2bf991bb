//! Tokens sealed at rest: XChaCha20-Poly1305 under the caller's 32-byte key, a fresh random
//! 24-byte nonce per secret, and the row's key columns and the field's name as associated data,
//! so a ciphertext moved to another row or swapped between the token and the previous-token
//! columns fails to open.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretBox, SecretString};

use meta_business::store::{StoreError, TokenKey};

/// The length of the key [`crate::PostgresStore`] seals tokens with.
pub const KEY_LEN: usize = 32;

/// Bumped if the associated-data layout ever changes, so old rows fail loudly, not silently.
const AAD_TAG: &[u8] = b"meta-business-postgres/v1";

/// Which column a ciphertext belongs to.
#[derive(Clone, Copy)]
pub(crate) enum Field {
    Token,
    Previous,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Token => "token",
            Field::Previous => "previous token",
        }
    }
}

/// A ciphertext and its nonce, as stored.
pub(crate) struct Sealed {
    pub(crate) ciphertext: Vec<u8>,
    pub(crate) nonce: Vec<u8>,
}

/// The AEAD under the caller's key. The key lives only inside the cipher's state.
pub(crate) struct Cipher(XChaCha20Poly1305);

impl Cipher {
    pub(crate) fn new(key: &SecretBox<[u8; KEY_LEN]>) -> Self {
        Cipher(XChaCha20Poly1305::new(key.expose_secret().into()))
    }

    pub(crate) fn seal(
        &self,
        key: &TokenKey,
        field: Field,
        secret: &SecretString,
    ) -> Result<Sealed, StoreError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = associated_data(key, field);
        let payload = Payload {
            msg: secret.expose_secret().as_bytes(),
            aad: &aad,
        };
        let ciphertext = self.0.encrypt(&nonce, payload).map_err(|_| {
            StoreError::new(format!("could not encrypt the {} of {key}", field.name()))
        })?;
        Ok(Sealed {
            ciphertext,
            nonce: nonce.to_vec(),
        })
    }

    pub(crate) fn open(
        &self,
        key: &TokenKey,
        field: Field,
        sealed: &Sealed,
    ) -> Result<SecretString, StoreError> {
        let fail = || {
            StoreError::new(format!(
                "the {} of {key} does not decrypt: wrong encryption key, or the row was altered or copied from another key",
                field.name()
            ))
        };
        if sealed.nonce.len() != 24 {
            return Err(fail());
        }
        let aad = associated_data(key, field);
        let payload = Payload {
            msg: &sealed.ciphertext,
            aad: &aad,
        };
        let plain = self
            .0
            .decrypt(XNonce::from_slice(&sealed.nonce), payload)
            .map_err(|_| fail())?;
        let text = String::from_utf8(plain).map_err(|_| fail())?;
        Ok(SecretString::from(text))
    }
}

/// Length-prefixed, so no two different (key, field) give the same bytes.
fn associated_data(key: &TokenKey, field: Field) -> Vec<u8> {
    let parts: [&[u8]; 4] = [
        key.business.as_str().as_bytes(),
        key.system_user.as_str().as_bytes(),
        key.app.as_str().as_bytes(),
        field.name().as_bytes(),
    ];
    let mut aad = AAD_TAG.to_vec();
    for part in parts {
        aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(byte: u8) -> Cipher {
        Cipher::new(&SecretBox::new(Box::new([byte; KEY_LEN])))
    }

    fn key(app: &str) -> TokenKey {
        TokenKey::new("1000000000001", "610000000000002", app)
    }

    #[test]
    fn opens_only_with_the_same_key_row_and_field() {
        let secret = SecretString::from("EAAB-secret-0123456789");
        let k = key("2000000000001");
        let sealed = cipher(1).seal(&k, Field::Token, &secret).unwrap();
        assert!(!sealed.ciphertext.windows(6).any(|w| w == b"secret"));
        let opened = cipher(1).open(&k, Field::Token, &sealed).unwrap();
        assert_eq!(opened.expose_secret(), "EAAB-secret-0123456789");
        let other = key("2000000000002");
        let failures = [
            cipher(2).open(&k, Field::Token, &sealed),
            cipher(1).open(&other, Field::Token, &sealed),
            cipher(1).open(&k, Field::Previous, &sealed),
        ];
        for failure in failures {
            let message = failure.unwrap_err().to_string();
            assert!(message.contains("does not decrypt"), "{message}");
            assert!(!message.contains("secret-0123"), "{message}");
        }
    }

    #[test]
    fn every_seal_has_a_fresh_nonce() {
        let secret = SecretString::from("EAAB-secret");
        let k = key("2000000000001");
        let a = cipher(1).seal(&k, Field::Token, &secret).unwrap();
        let b = cipher(1).seal(&k, Field::Token, &secret).unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }
}

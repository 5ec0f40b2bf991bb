//! Rotating one token now, though it is not due: the keeper's own rotation path, asked for.

use std::fmt;

use super::{TokenKeeper, TokenReport};
use crate::progress::{Reporter, Workflow};
use crate::store::{StoreError, TokenKey, TokenStore};

/// Why [`TokenKeeper::rotate`] could not start (nothing was sent to the Graph API). Once it
/// starts, every outcome is in the [`TokenReport`].
#[derive(Debug)]
#[non_exhaustive]
pub enum RotateError {
    /// The store holds no token under this key.
    NotStored(TokenKey),
    /// The store could not be read.
    Store(StoreError),
}

impl fmt::Display for RotateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RotateError::NotStored(key) => write!(
                f,
                "no token is stored under {key}: nothing to rotate (plan and apply mint one)"
            ),
            RotateError::Store(err) => write!(f, "reading the store: {err}"),
        }
    }
}

impl std::error::Error for RotateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RotateError::Store(err) => Some(err),
            RotateError::NotStored(_) => None,
        }
    }
}

impl<S: TokenStore> TokenKeeper<S> {
    /// Rotates the token stored under `key` now, even though it is fresh (a suspected leak, a
    /// scheduled rotation), through the keeper's rotation: exchange → store with the old one
    /// as `previous` → verify → switch → revoke the old one (or keep it, as the keeper is set)
    /// → clear `previous`, every write at the version read. The report says "rotated on
    /// demand". A token that is expired, invalid or not this key's is reported, not rotated.
    ///
    /// ```
    /// use meta_business::keeper::TokenKeeper;
    /// use meta_business::store::{Expect, MemoryStore, Minted, StoredToken, TokenKey, TokenMeta, TokenStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// # client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// # let token = client.system_user(&su.id).generate_token(demo.app_id).business(demo.business_id)
    /// #     .scopes([meta_business::Permission::AdsRead]).expires_in_60_days(true).send().await?;
    /// let store = MemoryStore::new();
    /// let key = TokenKey::new(demo.business_id, su.id.clone(), demo.app_id);
    /// store.put(StoredToken::new(key.clone(), token.into_secret(), TokenMeta::new([], None, Minted::Generated)), Expect::Absent).await?;
    ///
    /// let keeper = TokenKeeper::new(client, store).clock(emulator.clock_source());
    /// let report = keeper.rotate(&key).await?;
    /// assert!(report.refreshed && report.on_demand);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`RotateError::NotStored`] when the store holds no token under `key`,
    /// [`RotateError::Store`] when it cannot be read; nothing is sent to the Graph API then.
    pub async fn rotate(&self, key: &TokenKey) -> Result<TokenReport, RotateError> {
        let found = self
            .store
            .get(key)
            .await
            .map_err(RotateError::Store)?
            .ok_or_else(|| RotateError::NotStored(key.clone()))?;
        let mut progress = Reporter::start(self.progress.as_ref(), Workflow::Keeper, Some(1));
        progress.step(format!("rotate {key}"));
        let report = self
            .keep_read(found, true, TokenReport::new(key.clone()))
            .await;
        progress.settle(&report);
        progress.finish(None);
        Ok(report)
    }
}

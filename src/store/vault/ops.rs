//! [`TokenStore`] over KV version 2: every write a `cas` write naming the version it read, a
//! remove a tombstone version, a listing walked folder by folder.

use futures_util::{StreamExt, TryStreamExt};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::json;

use super::VaultStore;
use super::kv::{self, State};
use crate::ids::{AppId, BusinessId, SystemUserId};
use crate::store::{
    Conflict, Expect, Put, Removed, StoreError, StoreFuture, StoredToken, TokenKey, TokenStore,
    Version, Versioned,
};

/// How many times a write reads and tries again after losing its `cas` to another writer
/// (only `Expect::Any` and a remove of anything can keep losing).
const MAX_ROUNDS: usize = 16;

/// How many keys a listing reads at once (to leave out removed ones).
const LIST_CONCURRENCY: usize = 8;

fn check(key: &TokenKey) -> Result<(), StoreError> {
    key.validate()
        .map_err(|e| StoreError::new(format!("not a token key: {e}")))
}

fn version(v: Option<u64>) -> Option<Version> {
    v.map(Version::new)
}

impl VaultStore {
    /// What the key holds now.
    async fn read(&self, key: &TokenKey) -> Result<State, StoreError> {
        let what = format!("reading {key}");
        let url = self
            .inner
            .layout
            .key_url(&self.inner.http.addr, "data", key);
        let answer = self.call(Method::GET, url, None, &what, &[]).await?;
        kv::state_of(&answer, key).ok_or_else(|| self.refused(&answer, &what, &[]))
    }

    /// One `cas` write of `body`: the version written, or `None` when another writer's
    /// version is there instead of `cas`.
    async fn write(
        &self,
        key: &TokenKey,
        body: &serde_json::Value,
        secrets: &[&str],
    ) -> Result<Option<u64>, StoreError> {
        let what = format!("writing {key}");
        let url = self
            .inner
            .layout
            .key_url(&self.inner.http.addr, "data", key);
        let answer = self
            .call(Method::POST, url, Some(body), &what, secrets)
            .await?;
        if answer.status == StatusCode::OK {
            return kv::written_version(&answer).map(Some).ok_or_else(|| {
                StoreError::new(format!("Vault's answer to {what} names no version"))
            });
        }
        if answer.is_cas_mismatch() {
            return Ok(None);
        }
        Err(self.refused(&answer, &what, secrets))
    }

    /// Follow-ups of a write that never undo it: a failure is logged, the write stands (the
    /// versioned data is the truth).
    async fn best_effort(&self, key: &TokenKey, kind: &str, body: serde_json::Value, what: &str) {
        let url = self.inner.layout.key_url(&self.inner.http.addr, kind, key);
        let what = format!("{what} of {key}");
        match self.call(Method::POST, url, Some(&body), &what, &[]).await {
            Ok(answer) if answer.status.is_success() => {}
            Ok(answer) => {
                let error = self.refused(&answer, &what, &[]);
                tracing::warn!(%error, "Vault store: follow-up failed; the write stands");
            }
            Err(error) => {
                tracing::warn!(%error, "Vault store: follow-up failed; the write stands");
            }
        }
    }

    async fn put_as(&self, token: StoredToken, expect: Expect) -> Result<Put, StoreError> {
        let key = &token.key;
        check(key)?;
        let mut secrets = vec![token.secret().expose_secret()];
        secrets.extend(token.previous().map(|p| p.expose_secret()));
        for _ in 0..MAX_ROUNDS {
            let state = self.read(key).await?;
            let cas = match expect {
                Expect::Absent => match state.live() {
                    None => state.cas(),
                    current => {
                        return Ok(Put::Conflict(Conflict {
                            current: version(current),
                        }));
                    }
                },
                Expect::Version(want) => match state.live() {
                    Some(v) if v == want.get() => v,
                    current => {
                        return Ok(Put::Conflict(Conflict {
                            current: version(current),
                        }));
                    }
                },
                Expect::Any => state.cas(),
            };
            // A lost `cas` reads again: the conflict reported is always what a read found.
            if let Some(written) = self
                .write(key, &kv::write_body(&token, cas)?, &secrets)
                .await?
            {
                let mirror = kv::mirror_body(written, Some(&token));
                self.best_effort(key, "metadata", mirror, "mirroring the metadata")
                    .await;
                return Ok(Put::Written(Version::new(written)));
            }
        }
        Err(StoreError::new(format!(
            "writing {key}: other writers changed it {MAX_ROUNDS} times in a row"
        )))
    }

    async fn remove_as(&self, key: &TokenKey, expect: Expect) -> Result<Removed, StoreError> {
        check(key)?;
        for _ in 0..MAX_ROUNDS {
            let state = self.read(key).await?;
            let live = state.live();
            let conflict = |current: Option<u64>| {
                Ok(Removed::Conflict(Conflict {
                    current: version(current),
                }))
            };
            let cas = match (expect, live) {
                (Expect::Any | Expect::Absent, None) => return Ok(Removed::Absent),
                (Expect::Absent, Some(_)) => return conflict(live),
                (Expect::Version(_), None) => return conflict(None),
                (Expect::Version(want), Some(v)) if want.get() != v => return conflict(live),
                (_, Some(v)) => v,
            };
            if let Some(tombstone) = self.write(key, &kv::tombstone_body(cas), &[]).await? {
                // Soft-deletes the removed token's version and the tombstone: operators see a
                // deleted key, and the token's data is no longer the latest of anything.
                let versions = json!({"versions": [cas, tombstone]});
                self.best_effort(key, "delete", versions, "deleting the removed versions")
                    .await;
                let mirror = kv::mirror_body(tombstone, None);
                self.best_effort(key, "metadata", mirror, "mirroring the removal")
                    .await;
                return Ok(Removed::Removed);
            }
        }
        Err(StoreError::new(format!(
            "removing {key}: other writers changed it {MAX_ROUNDS} times in a row"
        )))
    }

    /// The names in the folder `rest` under the prefix (none when it does not exist).
    async fn list(&self, rest: &[&str]) -> Result<Vec<String>, StoreError> {
        let what = format!("listing {}", rest.join("/"));
        let url = self.inner.layout.list_url(&self.inner.http.addr, rest);
        let answer = self.call(Method::GET, url, None, &what, &[]).await?;
        match answer.status {
            StatusCode::NOT_FOUND => Ok(Vec::new()),
            StatusCode::OK => kv::listed(&answer)
                .ok_or_else(|| StoreError::new(format!("Vault's answer to {what} is not a list"))),
            _ => Err(self.refused(&answer, &what, &[])),
        }
    }

    /// Every key with a path of valid ids under the prefix, removed ones included.
    async fn paths(&self) -> Result<Vec<TokenKey>, StoreError> {
        let mut found = Vec::new();
        for business in folders(self.list(&[]).await?) {
            if BusinessId::new(&business).validate().is_err() {
                continue;
            }
            for user in folders(self.list(&[&business]).await?) {
                if SystemUserId::new(&user).validate().is_err() {
                    continue;
                }
                for app in self.list(&[&business, &user]).await? {
                    if app.ends_with('/') || AppId::new(&app).validate().is_err() {
                        continue;
                    }
                    found.push(TokenKey::new(business.as_str(), user.as_str(), app));
                }
            }
        }
        Ok(found)
    }

    async fn keys_now(&self) -> Result<Vec<TokenKey>, StoreError> {
        let paths = self.paths().await?;
        // KV lists a removed key (its metadata stays, to keep counting versions): each is read.
        let mut keys: Vec<TokenKey> = futures_util::stream::iter(paths)
            .map(|key| async move {
                let state = self.read(&key).await?;
                Ok::<_, StoreError>(state.live().map(|_| key))
            })
            .buffered(LIST_CONCURRENCY)
            .try_filter_map(|key| async move { Ok(key) })
            .try_collect()
            .await?;
        keys.sort();
        keys.dedup();
        Ok(keys)
    }
}

/// The folder names of a listing, without their `/`.
fn folders(names: Vec<String>) -> impl Iterator<Item = String> {
    names
        .into_iter()
        .filter_map(|name| name.strip_suffix('/').map(str::to_owned))
}

impl TokenStore for VaultStore {
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<Versioned>> {
        Box::pin(async move {
            check(key)?;
            match self.read(key).await? {
                State::Live(v, entry) => Ok(Some(Versioned {
                    token: entry?,
                    version: Version::new(v),
                })),
                State::Never | State::Gone(_) => Ok(None),
            }
        })
    }

    fn put(&self, token: StoredToken, expect: Expect) -> StoreFuture<'_, Put> {
        Box::pin(self.put_as(token, expect))
    }

    fn remove<'a>(&'a self, key: &'a TokenKey, expect: Expect) -> StoreFuture<'a, Removed> {
        Box::pin(self.remove_as(key, expect))
    }

    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        Box::pin(self.keys_now())
    }
}

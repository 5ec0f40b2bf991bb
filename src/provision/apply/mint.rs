//! The token part of applying a plan: minting a token and rotating the ones it replaces,
//! every write at the version read (see [`rotation`]).

use super::Run;
use crate::error::{Error, Result};
use crate::keeper::identity::{self, Verdict};
use crate::keeper::rotation;
use crate::provision::plan::Change;
use crate::store::{
    Expect, Minted, Removed, StoredToken, TokenKey, TokenMeta, TokenStore, Version,
};
use secrecy::SecretString;
use std::collections::BTreeMap;

/// What the store holds, read just before minting, compared with what the plan saw.
struct Before {
    /// The replaced tokens still as the plan saw them, with their versions.
    old: Vec<(StoredToken, Version)>,
    /// What the new token's write expects of its key: the version the plan saw there, or
    /// nothing stored.
    expect: Expect,
    /// Replaced keys another run changed or removed since the plan: left as they are.
    changed: Vec<TokenKey>,
}

/// Reads `key` and the keys of `replaces` before minting. `None` when another run (another
/// replica) stored a token at `key` since the plan was made: nothing is to be minted, the
/// store holds that run's token.
///
/// # Errors
/// [`Error::TokenCheck`] when the token the plan saw at `key` is gone (another run removed
/// it): plan again. The store's errors.
async fn before_mint(
    store: &dyn TokenStore,
    replaces: &[TokenKey],
    key: &TokenKey,
    seen: &BTreeMap<TokenKey, Version>,
) -> Result<Option<Before>> {
    let expect = seen
        .get(key)
        .map_or(Expect::Absent, |version| Expect::Version(*version));
    let mut before = Before {
        old: Vec::new(),
        expect,
        changed: Vec::new(),
    };
    let now = store.get(key).await?;
    match (&now, expect) {
        (None, Expect::Version(_)) => {
            return Err(Error::TokenCheck {
                reason: format!(
                    "the token stored under {key} when the plan was made was removed since (another run); nothing was minted: plan again"
                ),
            });
        }
        (Some(found), _) if !expect.matches(Some(found.version)) => return Ok(None),
        _ => {}
    }
    for at in replaces {
        let found = if at == key {
            now.clone()
        } else {
            store.get(at).await?
        };
        match found {
            Some(found) if seen.get(at) == Some(&found.version) => {
                before.old.push((found.token, found.version));
            }
            Some(_) => before.changed.push(at.clone()),
            // Gone: nothing left to replace.
            None => {}
        }
    }
    Ok(Some(before))
}

impl Run<'_> {
    /// Mint → store (the new token with the one it replaces at its key as `previous`: both
    /// held) → verify (valid, this key's app, system user and type) → switch (verified: the
    /// new one is current; not: the old one is stored again, the new one revoked) → revoke the
    /// replaced tokens, then clear `previous`. A kill at any step leaves a working token stored
    /// and a record the next plan finishes ([`Change::FinishRotation`]); only a lost mint
    /// answer leaves a token nobody holds, and it is named in `orphan_risk`.
    pub(super) async fn mint(&mut self, change: &Change) -> Result<()> {
        let Change::GenerateToken {
            system_user,
            app,
            scopes,
            expires_in_60_days,
            replaces,
            ..
        } = change
        else {
            return Ok(());
        };
        let (client, business) = (self.client, &self.plan.business);
        let store = self.store.ok_or_else(|| {
            Error::invalid_input(
                "store",
                "a token is minted only into a store (PlanOptions::store)",
            )
        })?;
        let id = self.id_of(system_user)?;
        let key = TokenKey::new(business.clone(), id.clone(), app.clone());
        // The tokens replaced, read before the new one may overwrite one of them.
        let Some((mut old, expect)) = self.before(store, system_user, replaces, &key).await? else {
            return Ok(());
        };
        let minted = client
            .system_user(id.clone())
            .generate_token(app.clone())
            .business(business.clone())
            .scopes(scopes.iter().cloned())
            .expires_in_60_days(*expires_in_60_days)
            .send()
            .await;
        let token = match minted {
            Ok(token) => token,
            Err(err) => {
                if err.outcome_unknown() {
                    self.report.orphan_risk.push(system_user.clone());
                }
                return Err(err);
            }
        };
        let secret = token.secret().clone();
        let expires_at = expires_in_60_days.then(|| crate::time::unix_now() + 60 * 86_400);
        let mut stored = StoredToken::new(
            key.clone(),
            secret.clone(),
            TokenMeta::new(scopes.iter().cloned(), expires_at, Minted::Generated)
                .named(system_user.as_str()),
        );
        let same_key = old
            .iter()
            .position(|o| o.0.key == key)
            .map(|i| old.remove(i).0);
        if let Some(same) = &same_key {
            stored = stored.with_previous(same.secret().clone());
        }
        let Some(written) = self
            .store_new(store, system_user, stored.clone(), expect)
            .await?
        else {
            return Ok(());
        };
        self.end_grace(system_user, same_key.as_ref()).await;
        match identity::verify(client, &key, &secret).await {
            Verdict::Good => {}
            Verdict::Bad { why, ours } => {
                return Err(self
                    .reject(
                        store,
                        system_user,
                        (&key, written),
                        same_key,
                        &secret,
                        why,
                        ours,
                    )
                    .await);
            }
            Verdict::Unknown(why) => {
                // Both are held (the new one current); the next plan checks it and finishes.
                self.report.tokens.push((system_user.clone(), token));
                self.report.warnings.push(format!(
                    "the token minted for {system_user:?} is stored but could not be checked ({why}); the tokens it replaces are kept until it is (plan and apply again)"
                ));
                return Ok(());
            }
        }
        self.report.tokens.push((system_user.clone(), token));
        if same_key.is_some()
            && let Some(why) = rotation::retire(client, store, stored, written).await
        {
            self.report
                .warnings
                .push(format!("the new token of {system_user:?} is stored; {why}"));
        }
        self.revoke_replaced(store, system_user, old).await
    }

    /// A grace period running on the replaced record ends now: the new record no longer holds
    /// its old token, which would otherwise stay valid, held by nobody.
    async fn end_grace(&mut self, system_user: &str, replaced: Option<&StoredToken>) {
        let Some((key, kept)) = replaced.and_then(|r| Some((&r.key, r.previous()?))) else {
            return;
        };
        if let Err(err) = rotation::revoke(self.client, key, kept).await {
            self.report.warnings.push(format!(
                "the token {system_user:?} kept from an earlier rotation (grace period) could not be revoked ({err}); it expires by itself"
            ));
        }
    }

    /// [`before_mint`], with what it found reported: `None` when another run stored its token
    /// first (it is kept, and nothing is to be minted here).
    async fn before(
        &mut self,
        store: &dyn TokenStore,
        system_user: &str,
        replaces: &[TokenKey],
        key: &TokenKey,
    ) -> Result<Option<(Vec<(StoredToken, Version)>, Expect)>> {
        let Some(before) = before_mint(store, replaces, key, &self.plan.seen).await? else {
            self.report.lost_races.push(system_user.to_owned());
            return Ok(None);
        };
        for at in before.changed {
            self.report.warnings.push(format!(
                "the token {system_user:?} had under {at} was changed since the plan by another run; it is left as that run wrote it"
            ));
        }
        Ok(Some((before.old, before.expect)))
    }

    /// Writes the new token at the version [`before_mint`] read. `None` when another run stored
    /// its token first: ours is revoked (held by nobody otherwise) and the race reported.
    ///
    /// # Errors
    /// The store's, after revoking the new token.
    async fn store_new(
        &mut self,
        store: &dyn TokenStore,
        system_user: &str,
        stored: StoredToken,
        expect: Expect,
    ) -> Result<Option<Version>> {
        let (key, secret) = (stored.key.clone(), stored.secret().clone());
        let written = rotation::put_at(store, stored, expect).await;
        if !matches!(written, Ok(Some(_)))
            && rotation::revoke(self.client, &key, &secret).await.is_err()
        {
            // Not stored, so held by nobody once this report is dropped.
            self.report.orphan_risk.push(system_user.to_owned());
        }
        match written {
            Ok(Some(version)) => Ok(Some(version)),
            Ok(None) => {
                self.report.lost_races.push(system_user.to_owned());
                Ok(None)
            }
            Err(err) => Err(Error::Store(err)),
        }
    }

    /// Revokes the replaced tokens of other keys (another app's) and removes them.
    async fn revoke_replaced(
        &mut self,
        store: &dyn TokenStore,
        system_user: &str,
        old: Vec<(StoredToken, Version)>,
    ) -> Result<()> {
        for (stale, version) in old {
            match rotation::revoke(self.client, &stale.key, stale.secret()).await {
                // Removed only as read: a token another run stored since is not this one.
                Ok(()) => {
                    if let Removed::Conflict(_) =
                        store.remove(&stale.key, Expect::Version(version)).await?
                    {
                        self.report.warnings.push(format!(
                            "the token {system_user:?} had under {} is revoked; {}",
                            stale.key,
                            rotation::CHANGED
                        ));
                    }
                }
                Err(err) => self.report.warnings.push(format!(
                    "the new token of {system_user:?} is stored; revoking the one it replaces ({}) failed: {err}; it stays in the store and the next plan replaces it",
                    stale.key
                )),
            }
        }
        Ok(())
    }

    /// The minted token failed its check: it is not left stored under the key (the token it
    /// replaced is stored again), it is revoked when it is this key's, and the error says so.
    #[allow(clippy::too_many_arguments)]
    async fn reject(
        &mut self,
        store: &dyn TokenStore,
        system_user: &str,
        (key, written): (&TokenKey, Version),
        replaced: Option<StoredToken>,
        secret: &SecretString,
        why: String,
        ours: bool,
    ) -> Error {
        let client = self.client;
        let done = match replaced {
            Some(old) => match rotation::roll_back(client, store, old, secret, ours, written).await {
                Ok(None) if ours => "it was revoked and the token it replaces is stored again".to_owned(),
                Ok(None) => "it was not kept and not revoked (it may be another's); the token it replaces is stored again".to_owned(),
                Ok(Some(note)) => format!("the token it replaces is stored again; {note}"),
                Err(err) => format!(
                    "putting the token it replaces back failed ({err}); the store holds both and the next plan finishes"
                ),
            },
            None => {
                let revoked = !ours || rotation::revoke(client, key, secret).await.is_ok();
                let removed = store.remove(key, Expect::Version(written)).await;
                match (revoked, removed) {
                    (_, Ok(Removed::Conflict(_))) => format!("it was not removed: {}", rotation::CHANGED),
                    (true, Ok(_)) if ours => "it was revoked and removed from the store".to_owned(),
                    (true, Ok(_)) => "it was removed from the store and not revoked (it may be another's)".to_owned(),
                    (false, Ok(_)) => {
                        self.report.orphan_risk.push(system_user.to_owned());
                        "it was removed from the store, but revoking it failed".to_owned()
                    }
                    (_, Err(err)) => format!("removing it from the store failed ({err}): remove it by hand"),
                }
            }
        };
        if !ours {
            // The token asked for may exist as well, held by nobody.
            self.report.orphan_risk.push(system_user.to_owned());
        }
        Error::TokenCheck {
            reason: format!("the token minted for {system_user:?} is refused ({why}): {done}"),
        }
    }
}

//! The steps of a token rotation that the keeper and `apply` share, and finishing a rotation
//! an earlier run left half-done.
//!
//! The order, which keeps a working token in the store after a failure or a kill at any step,
//! and never a valid token that nobody holds:
//!
//! 1. **mint** (or refresh): never re-sent once it may have reached the server; a lost
//!    answer is reported as a token that may exist and nobody holds;
//! 2. **store** the new token *with the old one as `previous`*: both are held from here on;
//! 3. **verify** the new one ([`identity::verify`]);
//! 4. **switch**: verified, the new one is current already; not verified, the old one is
//!    stored again as current with the new one as `previous` (to revoke) — a token of
//!    another user or app is not kept and not revoked;
//! 5. **revoke** the token in `previous`, and only then store the record without it.
//!
//! A record found with `previous` set is a rotation left half-done: [`finish`] verifies the
//! current token; good, it revokes `previous` and clears it; bad, it puts `previous` back as
//! current (when that one checks) and revokes the bad one; unknown, it leaves both held and
//! says so.

use secrecy::{ExposeSecret, SecretString};

use super::identity::{self, Verdict};
use crate::client::Client;
use crate::error::Error;
use crate::store::{Expect, Put, StoreError, StoredToken, TokenKey, TokenStore, Version};

/// What a run says when the record changed under it: it leaves the other writer's record alone.
pub(crate) const CHANGED: &str = "the record was changed meanwhile by another run (another replica); it is left as that run wrote it";

/// What the loser of a race says: it stored nothing and revoked the token it minted.
pub(crate) const LOST_RACE: &str =
    "another replica rotated it first; the token this run minted was revoked";

/// Writes `token` if the key still holds `version`: the new version, or `None` when another
/// writer changed it first (nothing written).
pub(crate) async fn put_at(
    store: &dyn TokenStore,
    token: StoredToken,
    expect: Expect,
) -> Result<Option<Version>, StoreError> {
    Ok(match store.put(token, expect).await? {
        Put::Written(version) => Some(version),
        Put::Conflict(_) => None,
    })
}

/// What [`finish`] did.
#[derive(Debug)]
pub(crate) enum Finished {
    /// The current token checked; the one it replaced is revoked and cleared.
    Settled,
    /// The current token did not check (why); the one it replaced is current again. `note`:
    /// the bad one is still held as `previous` (its revocation failed), for the next run.
    RolledBack { why: String, note: Option<String> },
    /// Both are still held: this could not be settled now (why); the next run tries again.
    Pending(String),
    /// Neither token works: a person must generate a new one.
    NeedsPerson(String),
}

/// Revokes `token` as the app of `key`.
pub(crate) async fn revoke(
    client: &Client,
    key: &TokenKey,
    token: &SecretString,
) -> Result<(), Error> {
    client
        .revoke_token(key.app.clone(), token.clone())
        .send()
        .await
}

/// Revokes the record's `previous` token and stores the record without it. `None` when done;
/// else why `previous` is still held (the next run revokes it).
pub(crate) async fn retire(
    client: &Client,
    store: &dyn TokenStore,
    record: StoredToken,
    version: Version,
) -> Option<String> {
    // Nothing held as previous: nothing to retire.
    let previous = record.previous().cloned()?;
    if let Err(err) = revoke(client, &record.key, &previous).await {
        // Revoked already (an earlier run whose answer was lost): nothing is left to revoke.
        let dead = matches!(
            identity::verify(client, &record.key, &previous).await,
            Verdict::Bad { .. }
        );
        if !dead {
            return Some(format!(
                "revoking the old one failed ({err}); it is still held in the store as the previous token, and the next run revokes it"
            ));
        }
    }
    let key = record.key.clone();
    match put_at(store, record.without_previous(), Expect::Version(version)).await {
        Ok(Some(_)) => None,
        // Another run wrote meanwhile: done unless the record still holds the revoked token
        // (that run finished this same rotation, or replaced the record).
        Ok(None) => match store.get(&key).await {
            Ok(Some(now))
                if now
                    .token
                    .previous()
                    .is_some_and(|p| p.expose_secret() == previous.expose_secret()) =>
            {
                Some(format!("the token it replaced is revoked; {CHANGED}"))
            }
            Ok(_) => None,
            Err(err) => Some(format!(
                "the token it replaced is revoked; the record was changed meanwhile and could not be read again ({err})"
            )),
        },
        Err(err) => Some(format!(
            "the token it replaced is revoked, but the store could not be updated ({err}); the next run finishes"
        )),
    }
}

/// Stores `good` as current again in place of `bad`, and revokes `bad` when `ours` (holding it
/// as `previous` until then, so that a failed revocation is retried by the next run). `Ok(None)`
/// when `bad` is revoked or not ours; `Ok(Some(note))` when it is still held as `previous`.
///
/// `version` is that of the record this run read or wrote (holding `bad`): `good` is never
/// written over a record another run changed since (it may hold a newer token, or `good` may
/// have been revoked by then): then nothing is restored or revoked, and the note says so.
///
/// # Errors
/// The store's, when `good` could not be stored again (the record is left as it was).
pub(crate) async fn roll_back(
    client: &Client,
    store: &dyn TokenStore,
    good: StoredToken,
    bad: &SecretString,
    ours: bool,
    version: Version,
) -> Result<Option<String>, StoreError> {
    let good = good.without_previous();
    let expect = Expect::Version(version);
    if !ours {
        return Ok(put_at(store, good, expect)
            .await?
            .map_or_else(|| Some(CHANGED.to_owned()), |_| None));
    }
    let Some(held) = put_at(store, good.clone().with_previous(bad.clone()), expect).await? else {
        return Ok(Some(format!("nothing was restored: {CHANGED}")));
    };
    match revoke(client, &good.key, bad).await {
        Ok(()) => Ok(match put_at(store, good, Expect::Version(held)).await {
            Ok(Some(_)) => None,
            Ok(None) => Some(format!("the rejected token is revoked; {CHANGED}")),
            Err(err) => Some(format!(
                "the rejected token is revoked, but the store still lists it ({err}); the next run clears it"
            )),
        }),
        Err(err) => Ok(Some(format!(
            "revoking the rejected token failed ({err}); it is held in the store as the previous token, and the next run revokes it"
        ))),
    }
}

/// Finishes the rotation of a record found with `previous` set (see the module's order).
pub(crate) async fn finish(
    client: &Client,
    store: &dyn TokenStore,
    record: StoredToken,
    version: Version,
) -> Finished {
    let Some(previous) = record.previous().cloned() else {
        return Finished::Settled;
    };
    let key = record.key.clone();
    match identity::verify(client, &key, record.secret()).await {
        Verdict::Good => match retire(client, store, record, version).await {
            None => Finished::Settled,
            Some(why) => Finished::Pending(why),
        },
        Verdict::Unknown(why) => Finished::Pending(format!(
            "a rotation was left half-done and the current token cannot be checked ({why}); both tokens are held in the store"
        )),
        Verdict::Bad { why, ours } => {
            if let Verdict::Bad {
                why: also,
                ours: previous_ours,
            } = identity::verify(client, &key, &previous).await
            {
                // Nothing here works: the record is left as one (bad) token, so that the next
                // plan mints a new one instead of finishing this rotation again.
                if previous_ours {
                    let _ = revoke(client, &key, &previous).await;
                }
                let cleared = match put_at(
                    store,
                    record.without_previous(),
                    Expect::Version(version),
                )
                .await
                {
                    Ok(Some(_)) => "the record is cleared; the next plan mints one",
                    Ok(None) => {
                        "the record was changed meanwhile by another run and is left as it is"
                    }
                    Err(_) => "the record could not be cleared",
                };
                return Finished::NeedsPerson(format!(
                    "neither the current token ({why}) nor the one it replaced ({also}) works: generate a new token (plan and apply, or mint one and store it); {cleared}"
                ));
            }
            let mut meta = record.meta.clone();
            // The metadata is the rejected token's; the old token's expiry is not known here.
            meta.expires_at = None;
            let good = StoredToken::new(key, previous, meta);
            match roll_back(client, store, good, record.secret(), ours, version).await {
                Ok(note) => Finished::RolledBack { why, note },
                Err(err) => Finished::Pending(format!(
                    "the current token does not check ({why}) and putting the one it replaced back failed: {err}"
                )),
            }
        }
    }
}

//! Keeping stored tokens alive: inspect each with `debug_token`, refresh the 60-day ones that
//! are about to expire, store the new token, check it, and only then revoke the old one. A
//! failure at any step leaves a working token in the store.
//!
//! The order of a rotation (`src/keeper/rotation.rs`): **refresh** (never re-sent: the
//! exchange mints) → **store** the new token with the old one as `previous` (both held) → **verify** the new
//! one (valid, the key's app, system user and type) → **switch** (verified: the new one is
//! current; not: the old one is stored again and the new one revoked) → **revoke** the old one,
//! then clear `previous`. A pass that finds a record with `previous` set finishes that rotation
//! first: the current token checks, `previous` is revoked and cleared; it does not, the old one
//! is put back and the bad one revoked; neither works, the report says a person must mint one.
//!
//! Several keepers (replicas, processes) may share one store: every write expects the version
//! the keeper read ([`Expect::Version`]), so none overwrites a newer token or puts back one
//! another keeper may have revoked. Two keepers refreshing one token both mint; the first
//! write wins, and the other revokes the token it minted and says so
//! ([`TokenReport::lost_race`]). No process-local guard is needed (none is kept).

mod handle;
pub(crate) mod identity;
mod on_demand;
mod report;
pub(crate) mod rotation;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::client::Client;
use crate::models::token::{Expiry, TokenInfo};
use crate::progress::{ProgressSink, Reporter, Workflow};
use crate::store::{
    Expect, Minted, StoredToken, TokenKey, TokenMeta, TokenStore, Version, Versioned,
};
use identity::Verdict;
use rotation::Finished;

pub use handle::KeeperHandle;
pub use on_demand::RotateError;
pub use report::{KeeperReport, Step, TokenReport, TokenState, TokensNeedAttention};

/// What a report says when a mint's answer was lost.
pub(crate) const ORPHAN_RISK: &str = "a token may exist that nobody holds: the answer to minting it was lost; invalidate the system user's tokens (SystemUserHandler::invalidate_tokens, or plan with invalidate_orphans) and mint a new one";

/// The default refresh window: a 60-day token is refreshed in its last 14 days.
pub const DEFAULT_REFRESH_WINDOW: Duration = Duration::from_secs(14 * 86_400);

/// Where the keeper reads the time (the real clock by default; a test's clock in tests).
type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Keeps the tokens of a [`TokenStore`] alive, once ([`TokenKeeper::run_once`]) or on an
/// interval ([`TokenKeeper::spawn`]).
///
/// ```
/// use std::time::Duration;
/// use meta_business::keeper::{TokenKeeper, TokenState};
/// use meta_business::store::{Expect, MemoryStore, Minted, Put, StoredToken, TokenKey, TokenMeta, TokenStore};
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
/// let stored = StoredToken::new(key.clone(), token.into_secret(), TokenMeta::new([], None, Minted::Generated));
/// assert!(matches!(store.put(stored, Expect::Absent).await?, Put::Written(_)));
///
/// // Fifty days later, the keeper refreshes it.
/// emulator.advance_clock(Duration::from_secs(50 * 86_400));
/// let keeper = TokenKeeper::new(client, store.clone()).clock(emulator.clock_source());
/// let report = keeper.run_once().await;
/// assert_eq!(report.tokens[0].state, TokenState::ExpiresSoon);
/// assert!(report.tokens[0].refreshed);
/// println!("{report}");
/// # Ok(()) }
/// ```
pub struct TokenKeeper<S> {
    client: Client,
    store: S,
    window: Duration,
    /// What to do with the old token after a refresh: revoke it at once (`Some(0)`), after a
    /// grace period, or never (`None`: it expires by itself).
    grace: Option<Duration>,
    /// `keep_old_tokens` was called: it wins over `keep_old_tokens_for`, in either order.
    keep_all: bool,
    clock: Clock,
    progress: Option<ProgressSink>,
}

impl<S> std::fmt::Debug for TokenKeeper<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeeper")
            .field("window", &self.window)
            .field("grace", &self.grace)
            .field("keep_all", &self.keep_all)
            .finish_non_exhaustive()
    }
}

fn unix(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl<S: TokenStore> TokenKeeper<S> {
    /// A keeper of the tokens in `store`, inspecting and refreshing with `client` (which needs
    /// the app secret: `debug_token` is called as the app, and refreshing sends
    /// `client_secret`).
    pub fn new(client: Client, store: S) -> Self {
        TokenKeeper {
            client,
            store,
            window: DEFAULT_REFRESH_WINDOW,
            grace: Some(Duration::ZERO),
            keep_all: false,
            clock: Arc::new(SystemTime::now),
            progress: None,
        }
    }

    /// Refresh tokens that expire within this window (default 14 days).
    pub fn refresh_within(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Keep the old token after a refresh instead of revoking it (it stays valid until it
    /// expires, at the latest at the end of the window): for consumers that pick up the new
    /// token late. Wins over [`TokenKeeper::keep_old_tokens_for`], whichever is called first.
    pub fn keep_old_tokens(mut self) -> Self {
        self.keep_all = true;
        self
    }

    /// Revoke the old token only this long after a refresh: consumers that read the store now
    /// and then keep working meanwhile. The grace period is kept in the store, with the old
    /// token (`previous`, until [`TokenMeta::previous_until`]): the first run to read the
    /// record after it ends revokes the old token, whichever replica or process it is (a
    /// keeper run from cron included), and a plan leaves the record alone until then. No
    /// refresh is made over a running grace period; [`TokenKeeper::rotate`] ends it early.
    pub fn keep_old_tokens_for(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }

    /// Where to read the time (the real clock by default), e.g.
    /// [`GraphEmulator::clock_source`](crate::testing::GraphEmulator::clock_source) in tests.
    pub fn clock(mut self, now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(now);
        self
    }

    /// Sends each pass's progress (one step per token) and each rotation's to this sink.
    pub fn progress(mut self, sink: ProgressSink) -> Self {
        self.progress = Some(sink);
        self
    }

    /// One pass over every stored token. Never fails as a whole: each token's outcome is in
    /// the report, a store that cannot be listed included.
    pub async fn run_once(&self) -> KeeperReport {
        let checked_at = unix((self.clock)());
        let mut progress = Reporter::start(self.progress.as_ref(), Workflow::Keeper, None);
        progress.step("list the store");
        let keys = match self.store.keys().await {
            Ok(keys) => keys,
            Err(err) => {
                let report = KeeperReport::failed(checked_at, format!("listing the store: {err}"));
                progress.finish(Some(&err));
                return report;
            }
        };
        progress.done();
        let mut tokens = Vec::with_capacity(keys.len());
        for key in keys {
            progress.step(key.to_string());
            let report = self.keep(key).await;
            progress.settle(&report);
            tokens.push(report);
        }
        progress.finish(None);
        let mut report = KeeperReport::new(checked_at, tokens);
        for token in &report.tokens {
            match &token.grace_end {
                Some(Ok(())) => report.retired.push(token.key.clone()),
                Some(Err(why)) => report.retire_failures.push(why.clone()),
                None => {}
            }
        }
        report
    }

    async fn keep(&self, key: TokenKey) -> TokenReport {
        let report = TokenReport::new(key.clone());
        match self.store.get(&key).await {
            Ok(Some(found)) => self.keep_read(found, false, report).await,
            Ok(None) => report.skipped("removed from the store meanwhile"),
            Err(err) => report.failed(Step::Read, err.to_string()),
        }
    }

    /// Inspects the record read and refreshes it when due, or now when `force` (a valid token
    /// only: one that is expired, invalid or another's is reported, never rotated).
    async fn keep_read(
        &self,
        found: Versioned,
        force: bool,
        mut report: TokenReport,
    ) -> TokenReport {
        let key = found.token.key.clone();
        let (mut stored, mut version) = (found.token, found.version);
        let now = unix((self.clock)());
        let in_grace = stored.in_grace_at(now) && !force;
        if stored.previous().is_some() && !in_grace {
            let settled = if stored.meta.previous_until.is_some() {
                // A grace period over, or ended early by a rotation asked for.
                self.end_grace(stored, version, &mut report).await
            } else {
                self.finish(stored, version, &mut report).await
            };
            match settled {
                Some(settled) => (stored, version) = (settled.token, settled.version),
                None => return report,
            }
        }
        let info = match self.inspect(&stored).await {
            Ok(info) => info,
            Err(err) => return report.failed(Step::Inspect, err.to_string()),
        };
        report.expires_at = info.expires_at.filter(|at| *at != 0);
        if let Some(why) = identity::mismatch(&info, &key) {
            // Never refreshed: refreshing would mint for whoever it belongs to.
            report.state = TokenState::Mismatch;
            return report.skipped(&format!(
                "the stored token is not this key's ({why}); store a token of this system user and app (plan and apply mint one)"
            ));
        }
        report.state = self.classify(&info);
        if matches!(report.state, TokenState::Invalid | TokenState::Expired)
            && matches!(self.store.get(&key).await, Ok(Some(now)) if now.version != version)
        {
            // What was read is no longer stored: another replica replaced (and revoked) it.
            return report.skipped("replaced elsewhere since it was read");
        }
        if in_grace {
            // Never rotated over a grace period: the old token would be held by nobody.
            if report.state == TokenState::ExpiresSoon {
                report.warning = Some(format!(
                    "not refreshed while the old token's grace period runs (until {})",
                    stored
                        .meta
                        .previous_until
                        .map_or_else(String::new, crate::time::date)
                ));
            }
            return report;
        }
        let usable = matches!(
            report.state,
            TokenState::Valid | TokenState::NeverExpires | TokenState::ExpiresSoon
        );
        if report.state != TokenState::ExpiresSoon && !(force && usable) {
            return report;
        }
        // An optimisation only (fewer mints): another keeper stored a fresh token since our
        // read. What makes a race safe is the version every write below expects: the loser
        // of a race revokes what it minted and adopts the winner's token.
        match self.store.get(&key).await {
            Ok(Some(now)) if now.version == version => {}
            Ok(_) => return report.skipped("refreshed elsewhere since it was read"),
            Err(err) => return report.failed(Step::Read, err.to_string()),
        }
        report.on_demand = force;
        self.refresh(stored, version, info, report).await
    }

    /// Revokes the old token of a finished rotation once its grace period is over, and clears
    /// it; the record to go on with, or `None` when the report is complete (the old token is
    /// still held: no rotation may write over it).
    async fn end_grace(
        &self,
        stored: StoredToken,
        version: Version,
        report: &mut TokenReport,
    ) -> Option<Versioned> {
        let key = stored.key.clone();
        let outcome = rotation::retire(&self.client, &self.store, stored, version).await;
        report.grace_end = Some(match outcome {
            None => Ok(()),
            Some(why) => Err(format!(
                "{key}: the old token's grace period is over; {why}"
            )),
        });
        // Still held (its revocation failed): the report says so in `grace_end`.
        self.read_again(&key, report, None).await
    }

    /// The record read again after finishing a rotation or a grace period: the one to go on
    /// with, or `None` with the report saying why (`held`, when it still holds a token to
    /// revoke: no new rotation may write over it, or that token would be held by nobody).
    async fn read_again(
        &self,
        key: &TokenKey,
        report: &mut TokenReport,
        held: Option<&str>,
    ) -> Option<Versioned> {
        match self.store.get(key).await {
            Ok(Some(found)) if found.token.previous().is_none() => Some(found),
            Ok(Some(_)) => {
                report.skipped = held.map(str::to_owned);
                None
            }
            Ok(None) => {
                report.skipped = Some("removed from the store meanwhile".to_owned());
                None
            }
            Err(err) => {
                report.failed = Some((Step::Read, err.to_string()));
                None
            }
        }
    }

    /// Finishes the rotation an earlier pass left half-done; the record to go on with, or
    /// `None` when the report is complete.
    async fn finish(
        &self,
        stored: StoredToken,
        version: Version,
        report: &mut TokenReport,
    ) -> Option<Versioned> {
        let key = stored.key.clone();
        match rotation::finish(&self.client, &self.store, stored, version).await {
            Finished::Settled => {
                report.warning = Some("an earlier rotation was left half-done; it is finished (the token it replaced is revoked)".to_owned());
            }
            Finished::RolledBack { why, note } => {
                let note = note.map(|n| format!("; {n}")).unwrap_or_default();
                report.warning = Some(format!(
                    "an earlier rotation was left half-done and its new token does not check ({why}); the token it replaced is stored again{note}"
                ));
            }
            Finished::Pending(why) => {
                report.failed = Some((Step::Finish, why));
                return None;
            }
            Finished::NeedsPerson(why) => {
                report.state = TokenState::Invalid;
                report.failed = Some((Step::Finish, why));
                return None;
            }
        }
        let held = "another replica started a new rotation meanwhile (the record holds a token to revoke); it finishes it, or the next pass does";
        self.read_again(&key, report, Some(held)).await
    }

    async fn inspect(&self, stored: &StoredToken) -> crate::Result<TokenInfo> {
        self.client
            .as_app(stored.key.app.clone())?
            .debug_token(stored.secret().clone())
            .send()
            .await
    }

    fn classify(&self, info: &TokenInfo) -> TokenState {
        let now = (self.clock)();
        match (info.is_valid, info.expiry()) {
            (_, Some(Expiry::At(at))) if at <= now => TokenState::Expired,
            (Some(true), Some(Expiry::Never)) => TokenState::NeverExpires,
            (Some(true), _) if info.expires_within_at(self.window, now) => TokenState::ExpiresSoon,
            (Some(true), _) => TokenState::Valid,
            _ => TokenState::Invalid,
        }
    }

    /// Refresh, store (with the old token as `previous`), verify, then revoke the old one and
    /// clear `previous`: the order of [`rotation`], which keeps a working token in the store
    /// at every step.
    async fn refresh(
        &self,
        old: StoredToken,
        version: Version,
        info: TokenInfo,
        mut report: TokenReport,
    ) -> TokenReport {
        let key = old.key.clone();
        let fresh = match self
            .client
            .refresh_token(key.app.clone(), old.secret().clone())
            .send()
            .await
        {
            Ok(fresh) => fresh,
            Err(err) => {
                if err.outcome_unknown() {
                    // The exchange mints: it may have happened, its answer lost.
                    report.orphan_risk = Some(ORPHAN_RISK.to_owned());
                } else {
                    // Refused because another replica rotated the token meanwhile (and revoked
                    // the one this run exchanged): not a failure, the store holds the new one.
                    if let Ok(Some(now)) = self.store.get(&key).await
                        && now.version != version
                    {
                        return report.skipped(
                            "refreshed elsewhere since it was read (another replica replaced and revoked the token this run tried to exchange)",
                        );
                    }
                    // Refused: say what the stored token is now, not what it was.
                    self.restate(&old, &mut report).await;
                }
                return report.failed(Step::Refresh, err.to_string());
            }
        };
        let now = unix((self.clock)());
        let expires_at = fresh.expires_in.map(|secs| now.saturating_add(secs));
        let scopes = if old.meta.scopes.is_empty() {
            info.scopes.clone()
        } else {
            old.meta.scopes.clone()
        };
        let new = StoredToken::new(
            key.clone(),
            fresh.into_secret(),
            TokenMeta {
                scopes,
                expires_at,
                minted_at: now,
                minted: Minted::Refreshed,
                system_user_name: old.meta.system_user_name.clone(),
                previous_until: None,
            },
        )
        .with_previous(old.secret().clone());
        let written =
            match rotation::put_at(&self.store, new.clone(), Expect::Version(version)).await {
                Ok(Some(written)) => written,
                Ok(None) => return self.lost(&new, report).await,
                Err(err) => {
                    // The old token is still stored; the new one would be held by nobody: revoke it.
                    if rotation::revoke(&self.client, &key, new.secret())
                        .await
                        .is_err()
                    {
                        report.orphan_risk = Some(ORPHAN_RISK.to_owned());
                    }
                    return report.failed(Step::Store, err.to_string());
                }
            };
        match identity::verify(&self.client, &key, new.secret()).await {
            Verdict::Good => {}
            Verdict::Bad { why, ours } => {
                return self.reject(old, &new, written, why, ours, report).await;
            }
            Verdict::Unknown(why) => {
                let why = format!("the new token could not be checked: {why}");
                return self.reject(old, &new, written, why, true, report).await;
            }
        }
        report.refreshed = true;
        report.expires_at = expires_at;
        report.warning = self.settle(new, written, now).await;
        report
    }

    /// The new token is verified: revoke the old one now (and clear `previous`), later
    /// (grace period), or never. A note for the report, if any.
    async fn settle(&self, new: StoredToken, version: Version, now: u64) -> Option<String> {
        let grace = if self.keep_all { None } else { self.grace };
        let keep_old = match grace {
            Some(grace) if grace.is_zero() => {
                return rotation::retire(&self.client, &self.store, new, version)
                    .await
                    .map(|why| format!("the new token is stored; {why}"));
            }
            Some(grace) => {
                let due = now.saturating_add(grace.as_secs());
                let note = format!(
                    "the old token stays valid until {} (grace period, kept in the store), then the first run to read the record revokes it",
                    crate::time::date(due)
                );
                let mut held = new;
                held.meta.previous_until = Some(due);
                return Some(
                    match rotation::put_at(&self.store, held, Expect::Version(version)).await {
                        Ok(Some(_)) => note,
                        Ok(None) => format!("{note}; {}", rotation::CHANGED),
                        Err(err) => format!(
                            "the grace period could not be recorded ({err}): the store holds both tokens, and the next run revokes the old one at once"
                        ),
                    },
                );
            }
            None => "the old token was kept (keep_old_tokens)".to_owned(),
        };
        match rotation::put_at(
            &self.store,
            new.without_previous(),
            Expect::Version(version),
        )
        .await
        {
            Ok(Some(_)) => Some(keep_old),
            Ok(None) => Some(format!("{keep_old}; {}", rotation::CHANGED)),
            Err(err) => Some(format!(
                "{keep_old}; the store still lists it as the previous token ({err}) and the next pass revokes it at once"
            )),
        }
    }

    /// The new token failed its check: the old one is stored again, and the new one revoked
    /// when it is this key's (a token of another user or app is left alone and reported).
    async fn reject(
        &self,
        old: StoredToken,
        new: &StoredToken,
        written: Version,
        why: String,
        ours: bool,
        mut report: TokenReport,
    ) -> TokenReport {
        let rolled =
            rotation::roll_back(&self.client, &self.store, old, new.secret(), ours, written).await;
        let done = match rolled {
            Ok(None) if ours => {
                "the new token was revoked and the old one is stored again".to_owned()
            }
            Ok(None) => {
                // The token asked for may exist too, and nobody holds it.
                report.orphan_risk = Some(ORPHAN_RISK.to_owned());
                "the token answered was neither stored nor revoked (it may be another's); the old one is stored again".to_owned()
            }
            Ok(Some(note)) => format!("the old token is stored again; {note}"),
            Err(err) => format!(
                "putting the old token back failed ({err}): the store holds the new token with the old one as previous, and the next pass puts the old one back"
            ),
        };
        report.failed(Step::Verify, format!("{why}; {done}"))
    }

    /// Another keeper stored its fresh token first: ours is revoked (held by nobody
    /// otherwise) and the winner's, in the store, is what the key has now.
    async fn lost(&self, mine: &StoredToken, mut report: TokenReport) -> TokenReport {
        let key = mine.key.clone();
        let revoked = rotation::revoke(&self.client, &key, mine.secret()).await;
        report.lost_race = Some(match revoked {
            Ok(()) => rotation::LOST_RACE.to_owned(),
            Err(err) => {
                report.orphan_risk = Some(ORPHAN_RISK.to_owned());
                format!(
                    "another replica rotated it first; revoking the token this run minted failed ({err})"
                )
            }
        });
        // Adopt the winner's: what the key holds now is what this report describes.
        match self.store.get(&key).await {
            Ok(Some(won)) => {
                report.expires_at = won.token.meta.expires_at;
                report.skipped =
                    Some("another replica refreshed it; its token is stored".to_owned());
            }
            Ok(None) => report.skipped = Some("removed from the store meanwhile".to_owned()),
            Err(err) => report.failed = Some((Step::Read, err.to_string())),
        }
        report
    }

    /// Sets the report's state from what `debug_token` says of `stored` now.
    async fn restate(&self, stored: &StoredToken, report: &mut TokenReport) {
        report.state = match self.inspect(stored).await {
            Ok(info) if identity::mismatch(&info, &stored.key).is_some() => TokenState::Mismatch,
            Ok(info) => self.classify(&info),
            Err(_) => TokenState::Unknown,
        };
    }
}

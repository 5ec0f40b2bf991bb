//! Keeping stored tokens alive: inspect each with `debug_token`, refresh the 60-day ones that
//! are about to expire, store the new token, check it, and only then revoke the old one. A
//! failure at any step leaves a working token in the store.

mod report;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::ExposeSecret;

use crate::client::Client;
use crate::error::Error;
use crate::models::token::{Expiry, TokenInfo};
use crate::store::{Minted, StoredToken, TokenKey, TokenMeta, TokenStore};

pub use report::{KeeperReport, Step, TokenReport, TokenState, TokensNeedAttention};

/// The default refresh window: a 60-day token is refreshed in its last 14 days.
pub const DEFAULT_REFRESH_WINDOW: Duration = Duration::from_secs(14 * 86_400);

/// Where the keeper reads the time (the real clock by default; a test's clock in tests).
type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Keeps the tokens of a [`TokenStore`] alive, once ([`TokenKeeper::run_once`]) or on an
/// interval ([`TokenKeeper::spawn`]).
///
/// ```
/// use std::time::Duration;
/// use meta_business::{Expect, MemoryStore, Minted, Put, StoredToken, TokenKeeper, TokenKey, TokenMeta, TokenState, TokenStore};
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
    /// Old tokens waiting for the end of their grace period.
    retiring: Mutex<Vec<Retiring>>,
    clock: Clock,
}

impl<S> std::fmt::Debug for TokenKeeper<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeeper")
            .field("window", &self.window)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

/// The tokens being refreshed in this process (by digest, never the token), so that two
/// keepers never refresh one token at once, whichever store they share.
fn refreshing() -> &'static Mutex<HashSet<[u8; 32]>> {
    static REFRESHING: OnceLock<Mutex<HashSet<[u8; 32]>>> = OnceLock::new();
    REFRESHING.get_or_init(|| Mutex::new(HashSet::new()))
}

/// An old token kept for a grace period after its refresh.
struct Retiring {
    token: StoredToken,
    due: u64,
}

/// Holds a token in [`refreshing`] until dropped.
struct Claim([u8; 32]);

impl Claim {
    fn take(token: &StoredToken) -> Option<Claim> {
        use sha2::Digest;
        let digest: [u8; 32] =
            sha2::Sha256::digest(token.secret().expose_secret().as_bytes()).into();
        let mut held = match refreshing().lock() {
            Ok(held) => held,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Built only when the insert took: a `Claim` dropped here would unlock a claim it
        // does not hold, under the lock it needs.
        if held.insert(digest) {
            Some(Claim(digest))
        } else {
            None
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut held = match refreshing().lock() {
            Ok(held) => held,
            Err(poisoned) => poisoned.into_inner(),
        };
        held.remove(&self.0);
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
            retiring: Mutex::new(Vec::new()),
            clock: Arc::new(SystemTime::now),
        }
    }

    /// Refresh tokens that expire within this window (default 14 days).
    pub fn refresh_within(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Keep the old token after a refresh instead of revoking it (it stays valid until it
    /// expires, at the latest at the end of the window): for consumers that pick up the new
    /// token late.
    pub fn keep_old_tokens(mut self) -> Self {
        self.grace = None;
        self
    }

    /// Revoke the old token only this long after a refresh, at the first pass after that (of
    /// this keeper: a keeper run once from cron forgets, and the old token then expires by
    /// itself): consumers that read the store now and then keep working meanwhile.
    pub fn keep_old_tokens_for(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }

    /// Revokes the old tokens whose grace period is over; the keys whose old token was
    /// revoked, and a line for each that could not be.
    async fn retire_due(&self, now: u64) -> (Vec<TokenKey>, Vec<String>) {
        let due: Vec<Retiring> = {
            let mut retiring = match self.retiring.lock() {
                Ok(r) => r,
                Err(poisoned) => poisoned.into_inner(),
            };
            let (due, later) = std::mem::take(&mut *retiring)
                .into_iter()
                .partition(|r| r.due <= now);
            *retiring = later;
            due
        };
        let (mut retired, mut failed) = (Vec::new(), Vec::new());
        for old in due {
            match self.revoke(&old.token.key, &old.token).await {
                Ok(()) => retired.push(old.token.key.clone()),
                Err(err) => failed.push(format!(
                    "revoking the old token of {}: {err}",
                    old.token.key
                )),
            }
        }
        (retired, failed)
    }

    /// Where to read the time (the real clock by default), e.g.
    /// [`GraphEmulator::clock_source`](crate::testing::GraphEmulator::clock_source) in tests.
    pub fn clock(mut self, now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(now);
        self
    }

    /// One pass over every stored token. Never fails as a whole: each token's outcome is in
    /// the report, a store that cannot be listed included.
    pub async fn run_once(&self) -> KeeperReport {
        let checked_at = unix((self.clock)());
        let keys = match self.store.keys().await {
            Ok(keys) => keys,
            Err(err) => {
                return KeeperReport::failed(checked_at, format!("listing the store: {err}"));
            }
        };
        let (retired, retire_failures) = self.retire_due(checked_at).await;
        let mut tokens = Vec::with_capacity(keys.len());
        for key in keys {
            tokens.push(self.keep(key).await);
        }
        let mut report = KeeperReport::new(checked_at, tokens);
        report.retired = retired;
        report.retire_failures = retire_failures;
        report
    }

    async fn keep(&self, key: TokenKey) -> TokenReport {
        let mut report = TokenReport::new(key.clone());
        let stored = match self.store.get(&key).await {
            Ok(Some(stored)) => stored.token,
            Ok(None) => return report.skipped("removed from the store meanwhile"),
            Err(err) => return report.failed(Step::Read, err.to_string()),
        };
        let info = match self.inspect(&stored).await {
            Ok(info) => info,
            Err(err) => return report.failed(Step::Inspect, err.to_string()),
        };
        report.state = self.classify(&info);
        report.expires_at = info.expires_at.filter(|at| *at != 0);
        if report.state != TokenState::ExpiresSoon {
            return report;
        }
        let Some(_claim) = Claim::take(&stored) else {
            return report.skipped("another keeper of this process is refreshing it");
        };
        // Another keeper may have refreshed it between our read and our claim.
        match self.store.get(&key).await {
            Ok(Some(now))
                if now.token.secret().expose_secret() == stored.secret().expose_secret() => {}
            Ok(_) => return report.skipped("refreshed elsewhere since it was read"),
            Err(err) => return report.failed(Step::Read, err.to_string()),
        }
        self.refresh(stored, info, report).await
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

    /// Refresh, store, check, then revoke: each step keeps a working token in the store.
    async fn refresh(
        &self,
        old: StoredToken,
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
            // Nothing changed: the old token is still stored and valid.
            Err(err) => return report.failed(Step::Refresh, err.to_string()),
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
            },
        );
        if let Err(err) = crate::store::put_any(&self.store, new.clone()).await {
            // The old token is still stored; the new one would be an orphan: revoke it.
            let _ = self.revoke(&key, &new).await;
            return report.failed(Step::Store, err.to_string());
        }
        match self.inspect(&new).await {
            Ok(checked) if checked.is_valid == Some(true) => {}
            outcome => {
                let why = match outcome {
                    Ok(_) => "debug_token says the new token is not valid".to_owned(),
                    Err(err) => err.to_string(),
                };
                // Put the old token back: it is the one known to work.
                return match crate::store::put_any(&self.store, old).await {
                    Ok(_) => report.failed(Step::Verify, why),
                    Err(err) => report.failed(
                        Step::Verify,
                        format!("{why}; restoring the old token failed too: {err}"),
                    ),
                };
            }
        }
        report.refreshed = true;
        report.expires_at = expires_at;
        match self.grace {
            Some(grace) if grace.is_zero() => {
                if let Err(err) = self.revoke(&key, &old).await {
                    report.warning = Some(format!(
                        "the new token is stored; revoking the old one failed: {err}"
                    ));
                }
            }
            Some(grace) => {
                let due = now.saturating_add(grace.as_secs());
                report.warning = Some(format!(
                    "the old token stays valid until {} (grace period), then is revoked",
                    crate::time::date(due)
                ));
                if let Ok(mut retiring) = self.retiring.lock() {
                    retiring.push(Retiring { token: old, due });
                }
            }
            None => {
                report.warning = Some("the old token was kept (keep_old_tokens)".to_owned());
            }
        }
        report
    }

    async fn revoke(&self, key: &TokenKey, token: &StoredToken) -> Result<(), Error> {
        self.client
            .revoke_token(key.app.clone(), token.secret().clone())
            .send()
            .await
    }
}

impl<S: TokenStore + 'static> TokenKeeper<S> {
    /// Runs [`TokenKeeper::run_once`] now and then every `interval` (give or take a tenth, at
    /// random, so that many keepers do not call at once), on the current tokio runtime, until
    /// [`KeeperHandle::stop`].
    pub fn spawn(self, interval: Duration) -> KeeperHandle {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let last = Arc::new(Mutex::new(None));
        let keep_last = Arc::clone(&last);
        let task = tokio::spawn(async move {
            loop {
                let report = self.run_once().await;
                tracing::info!(summary = %report.summary(), "token keeper pass");
                if let Ok(mut slot) = keep_last.lock() {
                    *slot = Some(report);
                }
                let jitter = interval.mul_f64(0.9 + 0.2 * fastrand::f64());
                // Asked to stop (or the handle dropped) during the pass or the wait: stop.
                if *stopped.borrow() {
                    break;
                }
                if let Ok(_changed) = tokio::time::timeout(jitter, stopped.changed()).await {
                    break;
                }
            }
        });
        KeeperHandle { stop, task, last }
    }
}

/// A keeper running in the background; see [`TokenKeeper::spawn`].
#[derive(Debug)]
pub struct KeeperHandle {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    last: Arc<Mutex<Option<KeeperReport>>>,
}

impl KeeperHandle {
    /// The report of the last finished pass.
    pub fn last_report(&self) -> Option<KeeperReport> {
        self.last.lock().ok().and_then(|r| r.clone())
    }

    /// Stops after the pass in progress, if any, and waits for it; returns the last report.
    pub async fn stop(self) -> Option<KeeperReport> {
        let KeeperHandle { stop, task, last } = self;
        let _ = stop.send(true);
        let _ = task.await;
        last.lock().ok().and_then(|r| r.clone())
    }
}

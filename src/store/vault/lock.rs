//! [`VaultLock`]: a [`CreateLock`] kept in the Vault (or OpenBao) of a [`VaultStore`], for a
//! fleet that shares that server and no database.
//!
//! A lease on one KV version 2 key per business (`<prefix>/_locks/<business>`), taken and
//! handed back with `cas` writes like the store's own. The holder renews it (a new version)
//! every third of the lease; a waiter that sees the same version for a whole lease, on its
//! own clock, takes it over with `cas` on that version. No clock is compared between hosts,
//! so skewed clocks do not matter; only the holder's renewals do.

use std::fmt;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::VaultStore;
use super::kv::{self, ReadAnswer};
use crate::error::{Error, Result};
use crate::ids::BusinessId;
use crate::lock::{CreateGuard, CreateLock, LockFuture};
use crate::store::StoreError;

/// The lease by default: a holder that dies frees the lock within about this long.
pub const DEFAULT_VAULT_LOCK_LEASE: Duration = Duration::from_secs(15);

/// The folder under the store's prefix that holds the locks (not an id: listings skip it).
const FOLDER: &str = "_locks";

/// The record's format marker, so that something else at the path is never taken for a lock.
const FORMAT: u64 = 1;

/// The longest a waiter sleeps between two reads.
const MAX_POLL: Duration = Duration::from_millis(50);

/// Leases outside this range are refused: below, renewals cannot keep up with a slow
/// server; above, a crashed holder blocks every create for too long.
const LEASE_RANGE: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(600));

/// A [`CreateLock`] in the Vault or OpenBao server of a [`VaultStore`], for the processes of a
/// fleet that share that server: one lease per business, renewed while the guard lives.
///
/// - **Taken and handed back with `cas`.** Acquiring writes the lock key at the version read
///   (free, never written, or a lease nobody renewed for a whole lease); two processes can
///   never both win. Dropping the guard writes it free, at the version the holder wrote.
/// - **A crash frees it within one lease.** A holder renews every third of the lease; a
///   waiter that sees the same version for a whole lease, measured on its own monotonic
///   clock, takes it over. Clocks of different hosts are never compared. A holder that cannot
///   renew in time (paused, cut off from Vault) may lose the lock while it still runs: it
///   logs a warning when it finds out. Keep the lease well above the pauses you expect.
/// - **Where.** `<mount>/data/<prefix>/_locks/<business>`: inside the store's prefix, so the
///   store's policy covers it, and never listed as a token key. The record holds a random
///   holder id and the lease; no secret.
/// - **Waiting** is asynchronous (reads 5 ms apart, doubling up to 50 ms); dropping the
///   future gives up without holding anything. [`VaultLock::wait_at_most`] bounds it.
///
/// A process that exits right after dropping the guard may leave the lock held until its
/// lease runs out: the release is written by a task of the runtime.
///
/// ```no_run
/// use std::time::Duration;
/// use meta_business::Client;
/// use meta_business::store::VaultStore;
/// # fn main() -> meta_business::Result<()> {
/// let store = VaultStore::builder("https://vault.internal:8200").token("hvs.…").build()?;
/// let client = Client::builder()
///     .access_token("EAAB...")
///     .create_lock(store.create_lock().lease(Duration::from_secs(10)))
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "vault")))]
pub struct VaultLock {
    store: VaultStore,
    lease: Duration,
    wait: Option<Duration>,
}

impl fmt::Debug for VaultLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultLock")
            .field("store", &self.store)
            .field("lease", &self.lease)
            .field("wait", &self.wait)
            .finish()
    }
}

impl VaultStore {
    /// A create lock kept in this store's server, under its prefix, with its credentials.
    pub fn create_lock(&self) -> VaultLock {
        VaultLock {
            store: self.clone(),
            lease: DEFAULT_VAULT_LOCK_LEASE,
            wait: None,
        }
    }
}

impl VaultLock {
    /// How long a lease lasts without renewal ([`DEFAULT_VAULT_LOCK_LEASE`] by default; from
    /// 500 ms to 10 minutes, else `acquire` fails with [`Error::InvalidInput`]).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Gives up waiting after `wait`, with [`Error::Lock`]; by default an `acquire` waits as
    /// long as the holder holds (or renews).
    pub fn wait_at_most(mut self, wait: Duration) -> Self {
        self.wait = Some(wait);
        self
    }

    async fn acquire_now(&self, business: &BusinessId) -> Result<CreateGuard> {
        if self.lease < LEASE_RANGE.0 || self.lease > LEASE_RANGE.1 {
            return Err(Error::invalid_input(
                "lease",
                "must be from 500 ms to 10 minutes",
            ));
        }
        business.validate()?;
        let key = LockKey::new(&self.store, business);
        let holder = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let started = Instant::now();
        let mut watched: Option<(u64, Instant)> = None;
        let mut poll = Duration::from_millis(5);
        loop {
            let found = key.read().await?;
            let free = match found.lease {
                None => true,
                Some(lease) => match watched {
                    Some((version, since)) if version == found.version => since.elapsed() >= lease,
                    _ => {
                        watched = Some((found.version, Instant::now()));
                        false
                    }
                },
            };
            if free {
                let body = held_body(&holder, self.lease, found.version);
                if let Some(version) = key.write(&body).await? {
                    if found.lease.is_some() {
                        tracing::warn!(
                            business = %business,
                            "Vault create lock taken over: its holder did not renew it for a whole lease"
                        );
                    }
                    return Ok(key.hold(holder, self.lease, version));
                }
                // Another process wrote first: read again at once.
                continue;
            }
            if let Some(wait) = self.wait.filter(|w| started.elapsed() >= *w) {
                return Err(Error::Lock {
                    message: format!(
                        "gave up after {wait:?} waiting for the create lock of business \
                         {business} in Vault ({}): another process holds it",
                        key.path
                    ),
                    source: None,
                });
            }
            let jitter = Duration::from_micros(fastrand::u64(..=poll.as_micros() as u64 / 2));
            tokio::time::sleep(poll + jitter).await;
            poll = (poll * 2).min(MAX_POLL);
        }
    }
}

impl CreateLock for VaultLock {
    fn acquire<'a>(&'a self, business: &'a BusinessId) -> LockFuture<'a> {
        Box::pin(self.acquire_now(business))
    }
}

/// The lock key of one business, and the way to it.
#[derive(Clone)]
struct LockKey {
    store: VaultStore,
    url: url::Url,
    /// `<prefix>/_locks/<business>`, for messages.
    path: String,
}

/// What the key holds: its version (0 when never written) and, when held, the lease its
/// holder wrote.
struct Found {
    version: u64,
    lease: Option<Duration>,
}

#[derive(Deserialize)]
struct Record {
    meta_business_lock: u64,
    holder: Option<String>,
    #[serde(default)]
    lease_ms: u64,
}

impl LockKey {
    fn new(store: &VaultStore, business: &BusinessId) -> Self {
        let inner = &store.inner;
        let url = inner
            .layout
            .url(&inner.http.addr, "data", &[FOLDER, business.as_str()]);
        let path = [inner.prefix.as_str(), FOLDER, business.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("/");
        LockKey {
            store: store.clone(),
            url,
            path,
        }
    }

    fn failed(&self, doing: &str, e: StoreError) -> Error {
        Error::Lock {
            message: format!("{doing} the create lock {} in Vault", self.path),
            source: Some(Box::new(e)),
        }
    }

    async fn read(&self) -> Result<Found> {
        let what = format!("reading the create lock {}", self.path);
        let answer = self
            .store
            .call(Method::GET, self.url.clone(), None, &what, &[])
            .await
            .map_err(|e| self.failed("reading", e))?;
        let refused = || self.failed("reading", self.store.refused(&answer, &what, &[]));
        if answer.status != StatusCode::OK && answer.status != StatusCode::NOT_FOUND {
            return Err(refused());
        }
        let data = serde_json::from_slice::<ReadAnswer>(&answer.body)
            .ok()
            .and_then(|a| a.data);
        let Some(data) = data else {
            return if answer.status == StatusCode::NOT_FOUND {
                Ok(Found {
                    version: 0,
                    lease: None,
                })
            } else {
                Err(refused())
            };
        };
        let version = data.metadata.map(|m| m.version).ok_or_else(refused)?;
        // A deleted or destroyed version (an operator's doing) reads as free at its version.
        let Some(value) = data.data.filter(|_| answer.status == StatusCode::OK) else {
            return Ok(Found {
                version,
                lease: None,
            });
        };
        let record = serde_json::from_value::<Record>(value)
            .ok()
            .filter(|r| r.meta_business_lock == FORMAT)
            .ok_or_else(|| Error::Lock {
                message: format!(
                    "{} in Vault holds something that is not a create lock of meta-business",
                    self.path
                ),
                source: None,
            })?;
        let lease = record
            .holder
            .map(|_| Duration::from_millis(record.lease_ms).clamp(LEASE_RANGE.0, LEASE_RANGE.1));
        Ok(Found { version, lease })
    }

    /// One `cas` write: the version written, or `None` when another writer got there first.
    async fn write(&self, body: &Value) -> Result<Option<u64>> {
        let what = format!("writing the create lock {}", self.path);
        let answer = self
            .store
            .call(Method::POST, self.url.clone(), Some(body), &what, &[])
            .await
            .map_err(|e| self.failed("writing", e))?;
        if answer.status == StatusCode::OK {
            return kv::written_version(&answer).map(Some).ok_or_else(|| {
                self.failed(
                    "writing",
                    StoreError::new(format!("Vault's answer to {what} names no version")),
                )
            });
        }
        if answer.is_cas_mismatch() {
            return Ok(None);
        }
        Err(self.failed("writing", self.store.refused(&answer, &what, &[])))
    }

    /// The guard: a task renews the lease until the guard drops, then writes the lock free.
    fn hold(self, holder: String, lease: Duration, version: u64) -> CreateGuard {
        let (release, released) = oneshot::channel::<()>();
        tokio::spawn(self.keep(holder, lease, version, released));
        CreateGuard::new(Held(release))
    }

    async fn keep(
        self,
        holder: String,
        lease: Duration,
        mut version: u64,
        mut released: oneshot::Receiver<()>,
    ) {
        loop {
            // The guard dropped (the sender with it) or a renewal is due.
            if tokio::time::timeout(lease / 3, &mut released).await.is_ok() {
                let body = json!({"options": {"cas": version}, "data": {
                    "meta_business_lock": FORMAT, "holder": null}});
                match self.write(&body).await {
                    Ok(Some(_)) => {}
                    Ok(None) => tracing::warn!(
                        lock = %self.path,
                        "Vault create lock: taken over before its release"
                    ),
                    Err(error) => tracing::warn!(
                        %error,
                        "Vault create lock: the release failed; it frees itself when its lease runs out"
                    ),
                }
                return;
            }
            match self.write(&held_body(&holder, lease, version)).await {
                Ok(Some(renewed)) => version = renewed,
                Ok(None) => {
                    tracing::warn!(
                        lock = %self.path,
                        "Vault create lock: lost; another process took it over after a renewal came too late"
                    );
                    return;
                }
                // Tried again at the next third of the lease; a waiter needs a whole one.
                Err(error) => tracing::warn!(%error, "Vault create lock: a renewal failed"),
            }
        }
    }
}

/// Dropping it releases the lock.
struct Held(#[allow(dead_code)] oneshot::Sender<()>);

fn held_body(holder: &str, lease: Duration, cas: u64) -> Value {
    let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX);
    json!({"options": {"cas": cas}, "data": {
        "meta_business_lock": FORMAT, "holder": holder, "lease_ms": lease_ms}})
}

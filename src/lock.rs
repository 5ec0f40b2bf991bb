//! Serializing system-user creation per business, so the quota check and the create that
//! follows it cannot interleave with another create.
//!
//! The default, [`InProcessLock`], covers one [`Client`](crate::Client) and its clones: the
//! tasks of one process. Two processes (or two `Client`s built separately) on one business can
//! each see room for one more system user and both create one. Where that can happen, give the
//! builder a [`CreateLock`] backed by the lock your deployment already shares: [`FileLock`]
//! for the processes of one host, a database advisory lock, a Redis lock.

mod file;

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::error::Result;
use crate::ids::BusinessId;

pub use file::FileLock;

/// The future [`CreateLock::acquire`] returns.
pub type LockFuture<'a> = Pin<Box<dyn Future<Output = Result<CreateGuard>> + Send + 'a>>;

/// Serializes system-user creation for one business across whatever your deployment shares.
///
/// `acquire` waits until no other holder has the business's lock and returns a guard; the lock
/// is released when the guard is dropped, after the create's outcome is known (a re-read after
/// an ambiguous failure included). The client holds at most one such lock at a time.
///
/// Ready-made: [`InProcessLock`] (one process), [`FileLock`] (the processes of one host) and,
/// for a fleet, `PgCreateLock` in the companion crate `meta-business-postgres` (a
/// transaction-scoped advisory lock on a connection it owns, so it is released at drop and when
/// its process dies; a session-level advisory lock taken on a pooled connection would stay
/// held after the guard returned the connection to its pool).
///
/// Your own, over a lease service your deployment already runs (the guard must release the
/// lease when dropped, and the lease must expire when its holder dies):
///
/// ```no_run
/// use std::sync::Arc;
/// use meta_business::{BusinessId, Client};
/// use meta_business::lock::{CreateGuard, CreateLock, LockFuture};
///
/// # struct Leases; struct Lease;
/// # impl Leases { async fn take(&self, _name: &str) -> Result<Lease, std::io::Error> { Ok(Lease) } }
/// /// Your service's leases: `take` waits for the named lease; dropping a `Lease` gives it
/// /// back, and a lease whose holder stops renewing it expires.
/// struct LeaseLock { leases: Arc<Leases> }
///
/// impl CreateLock for LeaseLock {
///     fn acquire<'a>(&'a self, business: &'a BusinessId) -> LockFuture<'a> {
///         Box::pin(async move {
///             let lease = self
///                 .leases
///                 .take(&format!("meta-business-create-{business}"))
///                 .await
///                 .map_err(|e| meta_business::Error::Lock {
///                     message: format!("taking the create lease of business {business}"),
///                     source: Some(Box::new(e)),
///                 })?;
///             Ok(CreateGuard::new(lease))
///         })
///     }
/// }
///
/// # fn build(leases: Arc<Leases>) -> meta_business::Result<Client> {
/// let client = Client::builder()
///     .access_token("EAAB...")
///     .create_lock(LeaseLock { leases })
///     .build()?;
/// # Ok(client) }
/// ```
pub trait CreateLock: Send + Sync + 'static {
    /// Waits for the business's lock and returns its guard.
    ///
    /// # Errors
    /// Whatever prevents taking the lock; the create is then not sent.
    fn acquire<'a>(&'a self, business: &'a BusinessId) -> LockFuture<'a>;
}

/// A held lock; dropping it releases the lock.
pub struct CreateGuard(#[allow(dead_code)] Box<dyn Any + Send>);

impl CreateGuard {
    /// Wraps whatever releases the lock when dropped.
    pub fn new(held: impl Send + 'static) -> Self {
        CreateGuard(Box::new(held))
    }
}

impl fmt::Debug for CreateGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CreateGuard")
    }
}

/// The default [`CreateLock`]: one async mutex per business, shared by a client and its clones.
/// It does not reach other processes or separately built clients.
#[derive(Debug, Default)]
pub struct InProcessLock {
    locks: Mutex<HashMap<BusinessId, Arc<tokio::sync::Mutex<()>>>>,
}

impl CreateLock for InProcessLock {
    fn acquire<'a>(&'a self, business: &'a BusinessId) -> LockFuture<'a> {
        let lock = {
            let mut locks = crate::client::lock(&self.locks);
            Arc::clone(locks.entry(business.clone()).or_default())
        };
        Box::pin(async move { Ok(CreateGuard::new(lock.lock_owned().await)) })
    }
}

/// A lock shared by several separately built clients (each builder gets a clone of the `Arc`).
impl<T: CreateLock> CreateLock for Arc<T> {
    fn acquire<'a>(&'a self, business: &'a BusinessId) -> LockFuture<'a> {
        T::acquire(self, business)
    }
}

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
/// An implementation over a PostgreSQL advisory lock, with a connection type of your own:
///
/// ```no_run
/// use std::sync::Arc;
/// use meta_business::{BusinessId, Client, CreateGuard, CreateLock, LockFuture};
///
/// # struct Pool; struct Conn;
/// # impl Pool { async fn get(&self) -> Conn { Conn } }
/// # impl Conn { async fn execute(&self, _sql: &str, _key: i64) {} }
/// struct AdvisoryLock { pool: Arc<Pool> }
///
/// /// Unlocks when dropped: a session-level advisory lock ends with its connection.
/// struct Held(Conn);
///
/// impl CreateLock for AdvisoryLock {
///     fn acquire<'a>(&'a self, business: &'a BusinessId) -> LockFuture<'a> {
///         Box::pin(async move {
///             let conn = self.pool.get().await;
///             let key: i64 = business.as_str().parse().unwrap_or_default();
///             conn.execute("SELECT pg_advisory_lock($1)", key).await;
///             Ok(CreateGuard::new(Held(conn)))
///         })
///     }
/// }
///
/// # fn build(pool: Arc<Pool>) -> meta_business::Result<Client> {
/// let client = Client::builder()
///     .access_token("EAAB...")
///     .create_lock(AdvisoryLock { pool })
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

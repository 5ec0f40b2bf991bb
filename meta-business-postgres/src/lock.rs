//! [`PgCreateLock`]: system-user creation serialized per business across every process that
//! reaches one PostgreSQL server.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use meta_business::{
    BusinessId,
    lock::{CreateGuard, CreateLock, LockFuture},
    store::StoreError,
};

use crate::connect::{Connector, describe};

/// Namespaces the advisory-lock keys, so another user of advisory locks on the same database
/// is unlikely to collide with ours.
const LOCK_NAMESPACE: &[u8] = b"meta-business create lock\0";

/// SQLSTATE `lock_not_available`: `lock_timeout` expired.
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// A [`CreateLock`] over a transaction-scoped advisory lock (`pg_advisory_xact_lock`) on a
/// connection of its own.
///
/// Every `acquire` opens a connection, begins a transaction and takes the business's lock in
/// it; the guard holds that connection. The lock is released when the transaction ends:
/// dropping the guard closes the connection (the server rolls back), and a holder process that
/// crashes or is killed loses its connection, so the server ends its session and releases the
/// lock at once (the session sits idle in its transaction while the guard is held, so the
/// server sees the socket close). Because the lock belongs to the transaction of a connection
/// nobody else uses, it can never outlive its guard on a pooled connection.
///
/// Each waiting or holding session sets `client_connection_check_interval`, so a waiter whose
/// process died stops waiting instead of taking the lock for nobody. A host that vanishes
/// without closing its sockets (power loss, partition) is only noticed by TCP keepalives:
/// set them in the [`tokio_postgres::Config`] (`keepalives_idle`) and on the server.
///
/// The key of a business is the first 8 bytes of SHA-256 over a fixed namespace and the
/// business id ([`PgCreateLock::key`]).
#[derive(Debug, Clone)]
pub struct PgCreateLock {
    connector: Connector,
    wait: Option<Duration>,
}

impl PgCreateLock {
    /// Locks on the server `connector` reaches.
    pub fn new(connector: Connector) -> Self {
        PgCreateLock {
            connector,
            wait: None,
        }
    }

    /// Gives up waiting for a lock after `wait` (the server's `lock_timeout`), with an error;
    /// by default an `acquire` waits as long as the holder holds.
    pub fn wait_at_most(mut self, wait: Duration) -> Self {
        self.wait = Some(wait);
        self
    }

    /// The advisory-lock key of a business.
    ///
    /// ```
    /// use meta_business::BusinessId;
    /// use meta_business_postgres::PgCreateLock;
    /// let a = PgCreateLock::key(&BusinessId::from("1000000000001"));
    /// assert_eq!(a, PgCreateLock::key(&BusinessId::from("1000000000001")));
    /// assert_ne!(a, PgCreateLock::key(&BusinessId::from("1000000000002")));
    /// ```
    pub fn key(business: &BusinessId) -> i64 {
        let digest = Sha256::new()
            .chain_update(LOCK_NAMESPACE)
            .chain_update(business.as_str().as_bytes())
            .finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(first)
    }

    async fn lock(&self, business: &BusinessId) -> Result<Client, StoreError> {
        let client = self.connector.connect().await?;
        let fail = |doing: &str, e: tokio_postgres::Error| {
            let why = if e.code().map(|c| c.code()) == Some(LOCK_NOT_AVAILABLE) {
                "another process held it for longer than the wait allowed".to_owned()
            } else {
                describe(&e)
            };
            StoreError::new(format!(
                "{doing} the PostgreSQL create lock of business {business}: {why}"
            ))
        };
        // Only servers on Linux have the connection check; elsewhere the lock works without
        // it (a dead waiter's backend ends when it next writes to the closed socket).
        let _ = client
            .batch_execute("SET client_connection_check_interval = 1000")
            .await;
        let timeout = self
            .wait
            .map_or(0, |w| w.as_millis().clamp(1, i32::MAX as u128));
        // SET takes no parameters; the value is a number formatted here.
        let setup = format!("SET lock_timeout = {timeout}; BEGIN");
        client
            .batch_execute(&setup)
            .await
            .map_err(|e| fail("preparing", e))?;
        client
            .execute("SELECT pg_advisory_xact_lock($1)", &[&Self::key(business)])
            .await
            .map_err(|e| fail("taking", e))?;
        Ok(client)
    }
}

/// Holds the connection whose transaction holds the lock; dropping it ends both.
struct Held(#[allow(dead_code)] Client);

impl CreateLock for PgCreateLock {
    fn acquire<'a>(&'a self, business: &'a BusinessId) -> LockFuture<'a> {
        Box::pin(async move {
            let client = self.lock(business).await?;
            Ok(CreateGuard::new(Held(client)))
        })
    }
}

//! Opening connections: the server's address and credentials with the TLS connector the caller
//! picked, and error messages that never carry a password or a token.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, Config, NoTls, Socket};

use meta_business::store::StoreError;

/// How long a connection attempt may take when the configuration does not say: a server that
/// never answers must not hang a store call or a lock forever.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type ConnectFuture = Pin<Box<dyn Future<Output = Result<Client, tokio_postgres::Error>> + Send>>;
type ConnectFn = dyn Fn(Config) -> ConnectFuture + Send + Sync;

/// How to reach the database: a [`tokio_postgres::Config`] and a TLS connector.
///
/// Each connection it opens is driven by a task spawned on the current Tokio runtime, which
/// ends when the connection's [`Client`] is dropped. A connection attempt gives up after the
/// configuration's `connect_timeout`, or [`DEFAULT_CONNECT_TIMEOUT`]; to bound statements too,
/// set `options=-c statement_timeout=…` in the configuration. `Debug` shows the host, port, database and
/// user, never the password.
///
/// ```
/// use meta_business_postgres::Connector;
/// let connector = Connector::no_tls("host=127.0.0.1 port=5432 user=app password=hunter2 dbname=app".parse()?);
/// assert!(!format!("{connector:?}").contains("hunter2"));
/// # Ok::<(), tokio_postgres::Error>(())
/// ```
#[derive(Clone)]
pub struct Connector {
    config: Config,
    connect: Arc<ConnectFn>,
}

impl Connector {
    /// Connections with this configuration through `tls` (e.g. `postgres-native-tls`'s or
    /// `tokio-postgres-rustls`'s connector).
    pub fn new<T>(config: Config, tls: T) -> Self
    where
        T: MakeTlsConnect<Socket> + Clone + Send + Sync + 'static,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        let connect = move |config: Config| -> ConnectFuture {
            let tls = tls.clone();
            Box::pin(async move {
                let (client, connection) = config.connect(tls).await?;
                // The connection's own errors surface as errors of the client's next query.
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                Ok(client)
            })
        };
        let mut config = config;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        Connector {
            config,
            connect: Arc::new(connect),
        }
    }

    /// Connections without TLS: for a server on loopback or a Unix socket.
    pub fn no_tls(config: Config) -> Self {
        Connector::new(config, NoTls)
    }

    /// Opens a new connection.
    ///
    /// # Errors
    /// A [`StoreError`] saying why the server could not be reached or refused the login.
    pub async fn connect(&self) -> Result<Client, StoreError> {
        (self.connect)(self.config.clone())
            .await
            .map_err(|e| pg_error(&format!("connecting to {}", self.target()), &e))
    }

    /// The server and database, for messages: no password.
    fn target(&self) -> String {
        let host = self
            .config
            .get_hosts()
            .first()
            .map(|host| match host {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .unwrap_or_else(|| "localhost".to_owned());
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let db = self.config.get_dbname().unwrap_or("(default database)");
        format!("PostgreSQL at {host}:{port}/{db}")
    }
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("target", &self.target())
            .field("user", &self.config.get_user())
            .finish_non_exhaustive()
    }
}

/// A driver error as a [`StoreError`]: what was being done, and for a server error its
/// SQLSTATE and primary message only. The server's DETAIL can quote row values and the
/// driver's source chain is not ours to vet, so neither is kept.
pub(crate) fn pg_error(doing: &str, error: &tokio_postgres::Error) -> StoreError {
    StoreError::new(format!("{doing}: {}", describe(error)))
}

pub(crate) fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None if error.is_closed() => "the connection is closed".to_owned(),
        // Connect, I/O and protocol errors: the driver writes no parameter value in them.
        None => error.to_string(),
    }
}

//! PostgreSQL for [`meta_business`]: a [`TokenStore`](meta_business::store::TokenStore) shared by
//! every replica of a service, tokens encrypted at rest, written by compare-and-set
//! ([`PostgresStore`]); and a [`CreateLock`](meta_business::lock::CreateLock) over a
//! transaction-scoped advisory lock ([`PgCreateLock`]).
//!
//! Released in lockstep with `meta-business` (same version, pinned with `=`).
//!
//! ```no_run
//! use meta_business::Client;
//! use meta_business_postgres::{Connector, PgCreateLock, PostgresStore, SecretBox};
//!
//! # async fn run(key: [u8; 32]) -> Result<(), Box<dyn std::error::Error>> {
//! let connector = Connector::no_tls("host=127.0.0.1 user=app dbname=app".parse()?);
//! let store = PostgresStore::new(connector.clone(), SecretBox::new(Box::new(key)));
//! store.migrate_here().await?;
//! let client = Client::builder()
//!     .access_token("EAAB...")
//!     .create_lock(PgCreateLock::new(connector))
//!     .build()?;
//! # let _ = (store, client); Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod connect;
mod crypto;
mod lock;
mod schema;
mod store;

pub use connect::{Connector, DEFAULT_CONNECT_TIMEOUT};
pub use crypto::KEY_LEN;
pub use lock::PgCreateLock;
pub use schema::{TABLE, VERSION_SEQUENCE};
pub use secrecy::SecretBox;
pub use store::PostgresStore;
pub use tokio_postgres;

//! Tests against a real PostgreSQL cluster, started by the tests themselves (see `cluster`).

mod cluster;
mod conformance;
mod contract;
mod lock;
mod psql;
mod quota;
mod store;
mod workflows;

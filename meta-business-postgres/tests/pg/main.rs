//! Tests against a real PostgreSQL cluster, started by the tests themselves (see `cluster`).

mod cluster;
mod lock;
mod psql;
mod quota;

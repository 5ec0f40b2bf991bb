//! The schema: one table and one sequence, created idempotently.

use tokio_postgres::Client;

use meta_business::store::StoreError;

use crate::connect::pg_error;

/// The table holding the tokens.
pub const TABLE: &str = "meta_business_tokens";

/// The sequence every version comes from: shared by all keys, so a version is never handed
/// out twice, not even to a key that was removed and written again.
pub const VERSION_SEQUENCE: &str = "meta_business_token_versions";

/// Serializes concurrent migrations (two replicas starting at once): `CREATE … IF NOT EXISTS`
/// alone can fail on a concurrent create of the same name.
const MIGRATION_LOCK: i64 = 0x6d62_7067_6d69_6772; // "mbpgmigr"

/// The statements of the migration, run in one transaction.
pub(crate) fn migration_sql() -> String {
    format!(
        "BEGIN;
SELECT pg_advisory_xact_lock({MIGRATION_LOCK});
CREATE SEQUENCE IF NOT EXISTS {VERSION_SEQUENCE} AS bigint MINVALUE 1;
CREATE TABLE IF NOT EXISTS {TABLE} (
    business_id     text        NOT NULL,
    system_user_id  text        NOT NULL,
    app_id          text        NOT NULL,
    version         bigint      NOT NULL,
    token           bytea       NOT NULL,
    token_nonce     bytea       NOT NULL,
    previous        bytea,
    previous_nonce  bytea,
    meta            jsonb       NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (business_id, system_user_id, app_id),
    CHECK ((previous IS NULL) = (previous_nonce IS NULL))
);
COMMIT;"
    )
}

/// Creates the table and the sequence if they do not exist; safe to run at every start and
/// from several replicas at once.
pub(crate) async fn migrate(client: &Client) -> Result<(), StoreError> {
    client
        .batch_execute(&migration_sql())
        .await
        .map_err(|e| pg_error(&format!("creating the table {TABLE}"), &e))
}

//! [`PostgresStore`]: tokens in one table, sealed with the caller's key, written by
//! compare-and-set on a version column.

use std::fmt;
use std::sync::Arc;

use secrecy::SecretBox;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

use meta_business::store::{
    Conflict, Expect, Put, Removed, StoreError, StoreFuture, StoredToken, TokenKey, TokenMeta,
    TokenStore, Version, Versioned,
};

use crate::connect::{Connector, pg_error};
use crate::crypto::{Cipher, Field, KEY_LEN, Sealed};
use crate::schema;

const KEY_MATCH: &str = "business_id = $1 AND system_user_id = $2 AND app_id = $3";
const COLUMNS: &str = "business_id, system_user_id, app_id, version, token, token_nonce, previous, previous_nonce, meta";

/// How many times an `Expect::Absent` put retries when its insert lost to a writer whose row
/// was removed again before it could be read: each round needs another writer to win, so this
/// only bounds a pathological churn.
const ABSENT_ROUNDS: usize = 8;

/// A [`TokenStore`] over one PostgreSQL table (`meta_business_tokens`), for tokens shared by
/// several processes or hosts.
///
/// - **Compare-and-set.** Every write is one statement: `INSERT … ON CONFLICT DO NOTHING` for
///   [`Expect::Absent`], `UPDATE … WHERE version = $n` for [`Expect::Version`], an upsert for
///   [`Expect::Any`]; removes likewise. Versions come from one sequence, so a version is never
///   reused for a key, not even after a remove.
/// - **Encrypted at rest.** The token and the previous token are sealed with
///   XChaCha20-Poly1305 under the 32-byte key given to [`PostgresStore::new`], with a fresh
///   nonce each, the row's key columns as associated data: a dump of the table holds no usable
///   token, a ciphertext copied to another row does not decrypt, and a wrong key is a
///   [`StoreError`] naming the key. The metadata (`meta`, jsonb) holds no secret and stays
///   readable for queries.
/// - **Connection.** The store opens one connection with its [`Connector`] on first use and
///   opens a new one when that one has closed; concurrent calls share it (the driver pipelines
///   them). A call whose connection dropped mid-statement fails, and its write may have
///   happened: read before writing again (a stale `Expect::Version` cannot do harm).
///
/// Create the table once with [`PostgresStore::migrate`] (idempotent; run it at start-up).
pub struct PostgresStore {
    connector: Connector,
    cipher: Cipher,
    client: tokio::sync::Mutex<Option<Arc<Client>>>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("connector", &self.connector)
            .field("table", &schema::TABLE)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// A store on the server `connector` reaches, sealing tokens with `key` (32 random bytes
    /// kept outside the database, e.g. in your secrets manager or a KMS). Connects on first
    /// use.
    pub fn new(connector: Connector, key: SecretBox<[u8; KEY_LEN]>) -> Self {
        PostgresStore {
            connector,
            cipher: Cipher::new(&key),
            client: tokio::sync::Mutex::new(None),
        }
    }

    /// Creates the table `meta_business_tokens` and the sequence
    /// `meta_business_token_versions` if they do not exist, in one transaction under an
    /// advisory lock: safe to call at every start, from several replicas at once. The
    /// connection's user needs `CREATE` on the schema (the first time) and `SELECT`, `INSERT`,
    /// `UPDATE`, `DELETE` on the table and `USAGE` on the sequence.
    ///
    /// # Errors
    /// A [`StoreError`] with the server's reason.
    pub async fn migrate(client: &Client) -> Result<(), StoreError> {
        schema::migrate(client).await
    }

    /// [`PostgresStore::migrate`] on this store's own connection.
    ///
    /// # Errors
    /// A [`StoreError`] with the server's reason.
    pub async fn migrate_here(&self) -> Result<(), StoreError> {
        schema::migrate(&*self.client().await?).await
    }

    async fn client(&self) -> Result<Arc<Client>, StoreError> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(self.connector.connect().await?);
        *slot = Some(Arc::clone(&client));
        Ok(client)
    }

    /// Runs one statement with the key's columns as `$1..$3` before `extra`.
    async fn query(
        &self,
        doing: &str,
        sql: &str,
        key: &TokenKey,
        extra: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let client = self.client().await?;
        let ids = [
            key.business.as_str(),
            key.system_user.as_str(),
            key.app.as_str(),
        ];
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&ids[0], &ids[1], &ids[2]];
        params.extend_from_slice(extra);
        client
            .query(sql, &params)
            .await
            .map_err(|e| pg_error(&format!("{doing} {key} in PostgreSQL"), &e))
    }

    /// The version the key holds now.
    async fn current(&self, key: &TokenKey) -> Result<Option<Version>, StoreError> {
        let sql = format!("SELECT version FROM {} WHERE {KEY_MATCH}", schema::TABLE);
        let rows = self.query("reading the version of", &sql, key, &[]).await?;
        rows.first().map(|row| version(row, key)).transpose()
    }

    fn decode(&self, key: &TokenKey, row: &Row) -> Result<Versioned, StoreError> {
        let corrupt = |what: &str| StoreError::new(format!("the row of {key} is corrupt: {what}"));
        let column = |i: usize| -> Result<Vec<u8>, StoreError> {
            row.try_get(i)
                .map_err(|_| corrupt("a token column is missing"))
        };
        let version = version(row, key)?;
        let sealed = Sealed {
            ciphertext: column(1)?,
            nonce: column(2)?,
        };
        let token = self.cipher.open(key, Field::Token, &sealed)?;
        let previous: Option<Vec<u8>> = row.try_get(3).map_err(|_| corrupt("previous token"))?;
        let previous_nonce: Option<Vec<u8>> =
            row.try_get(4).map_err(|_| corrupt("previous token"))?;
        let meta_text: String = row.try_get(5).map_err(|_| corrupt("metadata"))?;
        let meta: TokenMeta = serde_json::from_str(&meta_text)
            .map_err(|e| corrupt(&format!("its metadata does not parse ({e})")))?;
        let mut stored = StoredToken::new(key.clone(), token, meta);
        match (previous, previous_nonce) {
            (Some(ciphertext), Some(nonce)) => {
                let sealed = Sealed { ciphertext, nonce };
                stored = stored.with_previous(self.cipher.open(key, Field::Previous, &sealed)?);
            }
            (None, None) => {}
            _ => return Err(corrupt("a previous token without its nonce")),
        }
        Ok(Versioned::new(stored, version))
    }

    async fn get_row(&self, key: &TokenKey) -> Result<Option<Versioned>, StoreError> {
        let sql = format!(
            "SELECT version, token, token_nonce, previous, previous_nonce, meta::text FROM {} WHERE {KEY_MATCH}",
            schema::TABLE
        );
        let rows = self.query("reading", &sql, key, &[]).await?;
        rows.first().map(|row| self.decode(key, row)).transpose()
    }

    async fn put_row(&self, stored: StoredToken, expect: Expect) -> Result<Put, StoreError> {
        let key = &stored.key;
        let sealed = self.cipher.seal(key, Field::Token, stored.secret())?;
        let previous = match stored.previous() {
            Some(previous) => Some(self.cipher.seal(key, Field::Previous, previous)?),
            None => None,
        };
        let meta = serde_json::to_string(&stored.meta)
            .map_err(|e| StoreError::new(format!("encoding the metadata of {key}: {e}")))?;
        let (prev_ct, prev_nonce) = match &previous {
            Some(p) => (Some(&p.ciphertext), Some(&p.nonce)),
            None => (None, None),
        };
        let values: [&(dyn ToSql + Sync); 5] = [
            &sealed.ciphertext,
            &sealed.nonce,
            &prev_ct,
            &prev_nonce,
            &meta,
        ];
        match expect {
            Expect::Any => {
                let rows = self.query("writing", &upsert_sql(), key, &values).await?;
                Ok(Put::Written(written(&rows, key)?))
            }
            Expect::Version(expected) => {
                let Ok(expected) = i64::try_from(expected.get()) else {
                    return Ok(Put::Conflict(Conflict::new(self.current(key).await?)));
                };
                let mut params = values.to_vec();
                params.push(&expected);
                let rows = self.query("writing", &update_sql(), key, &params).await?;
                if rows.is_empty() {
                    return Ok(Put::Conflict(Conflict::new(self.current(key).await?)));
                }
                Ok(Put::Written(written(&rows, key)?))
            }
            Expect::Absent => self.insert_new(key, &values).await,
            _ => Err(StoreError::new(format!(
                "writing {key}: this store does not know the expectation {expect:?}"
            ))),
        }
    }

    async fn insert_new(
        &self,
        key: &TokenKey,
        values: &[&(dyn ToSql + Sync)],
    ) -> Result<Put, StoreError> {
        for _ in 0..ABSENT_ROUNDS {
            let rows = self.query("writing", &insert_sql(), key, values).await?;
            if !rows.is_empty() {
                return Ok(Put::Written(written(&rows, key)?));
            }
            // Someone else's row is there, or was: report it if it still is.
            if let Some(current) = self.current(key).await? {
                return Ok(Put::Conflict(Conflict::new(Some(current))));
            }
        }
        Err(StoreError::new(format!(
            "writing {key}: the key was written and removed by others {ABSENT_ROUNDS} times in a row"
        )))
    }

    async fn remove_row(&self, key: &TokenKey, expect: Expect) -> Result<Removed, StoreError> {
        let delete = format!(
            "DELETE FROM {} WHERE {KEY_MATCH} RETURNING version",
            schema::TABLE
        );
        match expect {
            Expect::Any => {
                let rows = self.query("removing", &delete, key, &[]).await?;
                Ok(if rows.is_empty() {
                    Removed::Absent
                } else {
                    Removed::Removed
                })
            }
            Expect::Version(expected) => {
                let Ok(expected) = i64::try_from(expected.get()) else {
                    return Ok(Removed::Conflict(Conflict::new(self.current(key).await?)));
                };
                let sql = delete.replace("RETURNING", "AND version = $4 RETURNING");
                let rows = self.query("removing", &sql, key, &[&expected]).await?;
                if rows.is_empty() {
                    return Ok(Removed::Conflict(Conflict::new(self.current(key).await?)));
                }
                Ok(Removed::Removed)
            }
            Expect::Absent => Ok(match self.current(key).await? {
                None => Removed::Absent,
                Some(current) => Removed::Conflict(Conflict::new(Some(current))),
            }),
            _ => Err(StoreError::new(format!(
                "removing {key}: this store does not know the expectation {expect:?}"
            ))),
        }
    }

    async fn all_keys(&self) -> Result<Vec<TokenKey>, StoreError> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT business_id, system_user_id, app_id FROM {}",
            schema::TABLE
        );
        let rows = client
            .query(&sql, &[])
            .await
            .map_err(|e| pg_error("listing the keys in PostgreSQL", &e))?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            let column = |i: usize| -> Result<String, StoreError> {
                row.try_get(i).map_err(|_| {
                    StoreError::new("listing the keys in PostgreSQL: a key column is not text")
                })
            };
            keys.push(TokenKey::new(column(0)?, column(1)?, column(2)?));
        }
        // Sorted here: the database's collation need not order like Rust's strings.
        keys.sort();
        Ok(keys)
    }
}

fn version(row: &Row, key: &TokenKey) -> Result<Version, StoreError> {
    row.try_get::<_, i64>(0)
        .ok()
        .and_then(|v| u64::try_from(v).ok())
        .map(Version::new)
        .ok_or_else(|| StoreError::new(format!("the row of {key} is corrupt: a bad version")))
}

fn written(rows: &[Row], key: &TokenKey) -> Result<Version, StoreError> {
    let row = rows
        .first()
        .ok_or_else(|| StoreError::new(format!("writing {key}: PostgreSQL returned no version")))?;
    version(row, key)
}

fn insert_sql() -> String {
    format!(
        "INSERT INTO {} ({COLUMNS}) VALUES ($1, $2, $3, nextval('{}'), $4, $5, $6, $7, $8::text::jsonb)
         ON CONFLICT (business_id, system_user_id, app_id) DO NOTHING RETURNING version",
        schema::TABLE,
        schema::VERSION_SEQUENCE
    )
}

fn upsert_sql() -> String {
    insert_sql().replace(
        "DO NOTHING",
        "DO UPDATE SET version = EXCLUDED.version, token = EXCLUDED.token,
         token_nonce = EXCLUDED.token_nonce, previous = EXCLUDED.previous,
         previous_nonce = EXCLUDED.previous_nonce, meta = EXCLUDED.meta, updated_at = now()",
    )
}

fn update_sql() -> String {
    format!(
        "UPDATE {} SET version = nextval('{}'), token = $4, token_nonce = $5, previous = $6,
         previous_nonce = $7, meta = $8::text::jsonb, updated_at = now()
         WHERE {KEY_MATCH} AND version = $9 RETURNING version",
        schema::TABLE,
        schema::VERSION_SEQUENCE
    )
}

impl TokenStore for PostgresStore {
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<Versioned>> {
        Box::pin(self.get_row(key))
    }

    fn put(&self, token: StoredToken, expect: Expect) -> StoreFuture<'_, Put> {
        Box::pin(self.put_row(token, expect))
    }

    fn remove<'a>(&'a self, key: &'a TokenKey, expect: Expect) -> StoreFuture<'a, Removed> {
        Box::pin(self.remove_row(key, expect))
    }

    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        Box::pin(self.all_keys())
    }
}

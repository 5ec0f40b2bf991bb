//! `PostgresStore` on a real server: the conformance suite, encryption at rest, and what a
//! wrong key, a tampered row or an unreachable server give.

use std::process::Command;

use meta_business::{
    ExposeSecret, Permission,
    store::{Expect, Minted, Put, StoredToken, TokenKey, TokenMeta, TokenStore},
};
use meta_business_postgres::tokio_postgres::Config;
use meta_business_postgres::{Connector, PostgresStore, SecretBox};

use crate::cluster::{cluster, connector};

const TOKEN: &str = "EAAB-the-stored-secret-token-0123456789";
pub const PREVIOUS: &str = "EAAB-the-previous-secret-token-9876543210";

pub fn store(connector: &Connector, byte: u8) -> PostgresStore {
    PostgresStore::new(connector.clone(), SecretBox::new(Box::new([byte; 32])))
}

pub fn key(app: &str) -> TokenKey {
    TokenKey::new("1000000000001", "610000000000002", app)
}

pub fn token(key: TokenKey) -> StoredToken {
    let meta = TokenMeta::new(
        [Permission::AdsRead],
        Some(1_900_000_000),
        Minted::Generated,
    );
    StoredToken::new(key, TOKEN, meta).with_previous(PREVIOUS)
}

/// A migrated database (its name, a connector) and a store on it holding `token(key(app))`
/// for each app.
async fn stocked(apps: &[&str]) -> (String, Connector, PostgresStore) {
    let name = cluster().new_database();
    let db = connector(cluster().port, &name);
    let store = store(&db, 7);
    store.migrate_here().await.unwrap();
    for app in apps {
        let put = store.put(token(key(app)), Expect::Absent).await.unwrap();
        assert!(matches!(put, Put::Written(_)), "{put:?}");
    }
    (name, db, store)
}

async fn sql(db: &Connector, statement: &str) {
    db.connect()
        .await
        .unwrap()
        .batch_execute(statement)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dump_of_the_database_holds_no_token() {
    let (name, _, store) = stocked(&["2000000000001"]).await;
    let got = store.get(&key("2000000000001")).await.unwrap().unwrap();
    assert_eq!(got.token.secret().expose_secret(), TOKEN);
    assert_eq!(got.token.previous().unwrap().expose_secret(), PREVIOUS);

    let cluster = cluster();
    let dump = Command::new(cluster.binary("pg_dump"))
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-p",
            &cluster.port.to_string(),
        ])
        .args(["--data-only", "-t", meta_business_postgres::TABLE])
        .arg(&name)
        .output()
        .unwrap();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8(dump.stdout).unwrap();
    assert!(
        dump.contains("610000000000002"),
        "the dump holds the row: {dump}"
    );
    assert!(
        dump.contains("ads_read"),
        "the metadata stays readable: {dump}"
    );
    for secret in [TOKEN, PREVIOUS] {
        for needle in [secret.to_owned(), hex(secret), hex(&secret[5..20])] {
            assert!(!dump.contains(&needle), "the dump holds {needle}");
        }
    }
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_fails_naming_the_key_and_no_secret() {
    let (_, db, _) = stocked(&["2000000000001"]).await;
    let wrong = store(&db, 8);
    let error = wrong.get(&key("2000000000001")).await.unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("app 2000000000001"), "{shown}");
    assert!(shown.contains("does not decrypt"), "{shown}");
    assert!(!shown.contains("secret-token"), "{shown}");
    // The entry is still listed, and nothing was overwritten.
    assert_eq!(wrong.keys().await.unwrap(), vec![key("2000000000001")]);
    let right = store(&db, 7)
        .get(&key("2000000000001"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(right.token.secret().expose_secret(), TOKEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_moved_or_swapped_ciphertext_does_not_decrypt() {
    let apps = [
        "2000000000001",
        "2000000000002",
        "2000000000003",
        "2000000000004",
    ];
    let (_, db, store) = stocked(&apps).await;
    let table = meta_business_postgres::TABLE;
    let row = |app: &str| format!("FROM {table} WHERE app_id = '{app}'");
    // 1: one bit of the ciphertext flipped.
    sql(&db, &format!(
        "UPDATE {table} SET token = set_byte(token, 0, get_byte(token, 0) # 1) WHERE app_id = '{}'",
        apps[0]
    ))
    .await;
    // 2: the sealed token of another row copied in, nonce and all.
    sql(&db, &format!(
        "UPDATE {table} SET (token, token_nonce) = (SELECT token, token_nonce {}) WHERE app_id = '{}'",
        row(apps[3]),
        apps[1]
    ))
    .await;
    // 3: the token and the previous token swapped.
    sql(&db, &format!(
        "UPDATE {table} SET token = previous, token_nonce = previous_nonce, previous = token, previous_nonce = token_nonce WHERE app_id = '{}'",
        apps[2]
    ))
    .await;
    for app in &apps[..3] {
        let error = store.get(&key(app)).await.unwrap_err().to_string();
        assert!(
            error.contains(&format!("app {app}")) && error.contains("does not decrypt"),
            "{error}"
        );
        assert!(!error.contains("secret-token"), "{error}");
    }
    let intact = store.get(&key(apps[3])).await.unwrap().unwrap();
    assert_eq!(intact.token.secret().expose_secret(), TOKEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_again_and_from_several_replicas_at_once_is_harmless() {
    let (_, db, store) = stocked(&["2000000000001"]).await;
    let runs = (0..4).map(|_| {
        let db = db.clone();
        tokio::spawn(async move { PostgresStore::migrate(&db.connect().await?).await })
    });
    for run in runs.collect::<Vec<_>>() {
        run.await.unwrap().unwrap();
    }
    // The data survived.
    assert!(store.get(&key("2000000000001")).await.unwrap().is_some());
    // Concurrent first migrations of an empty database.
    let fresh = cluster().database();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let db = fresh.clone();
            tokio::spawn(async move { PostgresStore::migrate(&db.connect().await?).await })
        })
        .collect();
    for run in runs {
        run.await.unwrap().unwrap();
    }
    assert!(self::store(&fresh, 1).keys().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_an_error_without_the_password() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = Config::new();
    config
        .host("127.0.0.1")
        .port(free)
        .user("app")
        .password("hunter2-db-password")
        .dbname("app");
    let store = store(&Connector::no_tls(config), 1);
    let error = store.get(&key("2000000000001")).await.unwrap_err();
    let shown = format!("{error} {error:?} {store:?}");
    assert!(shown.contains(&format!("127.0.0.1:{free}/app")), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

//! What happens to an advisory lock when a client holding it is killed while its session runs
//! a query (`psql` in `pg_sleep`), with and without `client_connection_check_interval`: why
//! `PgCreateLock` sets it on its sessions (whose holders sit idle in their transaction, which
//! the server ends as soon as the socket closes: see `lock.rs`).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meta_business::BusinessId;
use meta_business_postgres::PgCreateLock;

use crate::cluster::{cluster, connector};
use crate::lock::{held, until_free};

/// Starts psql holding the business's lock in a transaction that then sleeps `sleep` seconds.
fn psql_holding(db: &str, business: &BusinessId, sleep: u32, check_ms: Option<u32>) -> Child {
    let cluster = cluster();
    let sql = format!(
        "BEGIN; SELECT pg_advisory_xact_lock({}); SELECT pg_sleep({sleep});",
        PgCreateLock::key(business)
    );
    let mut command = Command::new(cluster.binary("psql"));
    command
        .args([
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            db,
            "-c",
            &sql,
        ])
        .args(["-p", &cluster.port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(ms) = check_ms {
        command.env(
            "PGOPTIONS",
            format!("-c client_connection_check_interval={ms}"),
        );
    }
    command.spawn().expect("running psql")
}

/// Kills the holder once the server shows its lock; how long the lock outlived it.
async fn held_after_kill(mut psql: Child, db: &str, business: &BusinessId) -> Duration {
    let connector = connector(cluster().port, db);
    let start = Instant::now();
    while held(&connector, business).await == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "psql never took the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    psql.kill().unwrap();
    psql.wait().unwrap();
    until_free(&connector, business, Duration::from_secs(20)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_client_in_a_query_frees_its_lock_at_once_with_a_connection_check() {
    let db = cluster().new_database();
    let business = BusinessId::from("1000000000011");
    let psql = psql_holding(&db, &business, 60, Some(100));
    let took = held_after_kill(psql, &db, &business).await;
    println!("with client_connection_check_interval=100ms: lock free {took:?} after SIGKILL");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_client_in_a_query_keeps_its_lock_until_the_query_ends_without_one() {
    let db = cluster().new_database();
    let business = BusinessId::from("1000000000012");
    let psql = psql_holding(&db, &business, 3, None);
    let took = held_after_kill(psql, &db, &business).await;
    println!("without a connection check: lock free {took:?} after SIGKILL (query of 3 s)");
    assert!(took > Duration::from_millis(1500), "took {took:?}");
}

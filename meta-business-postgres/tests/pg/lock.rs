//! `PgCreateLock`: one holder per business, released on drop and when its process dies.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meta_business::{BusinessId, lock::CreateLock};
use meta_business_postgres::{Connector, PgCreateLock};

use crate::cluster::{PORT_VAR, cluster, connector};

const DB_VAR: &str = "MB_PG_TEST_DB";
const BUSINESS_VAR: &str = "MB_PG_TEST_BUSINESS";

/// Advisory locks granted on the server for this business's key.
pub async fn held(connector: &Connector, business: &BusinessId) -> i64 {
    let key = PgCreateLock::key(business) as u64;
    let client = connector.connect().await.unwrap();
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
             AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1",
            &[&((key >> 32) as i64), &((key & 0xffff_ffff) as i64)],
        )
        .await
        .unwrap();
    row.get(0)
}

/// Polls until the business's lock is free on the server; the time it took.
pub async fn until_free(connector: &Connector, business: &BusinessId, bound: Duration) -> Duration {
    let start = Instant::now();
    while held(connector, business).await != 0 {
        assert!(
            start.elapsed() < bound,
            "the lock was not released within {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_guards_on_one_business_exclude_each_other_and_others_do_not() {
    let db = cluster().database();
    let lock = PgCreateLock::new(db.clone());
    let (one, two) = (
        BusinessId::from("1000000000001"),
        BusinessId::from("1000000000002"),
    );
    let guard = lock.acquire(&one).await.unwrap();
    assert_eq!(held(&db, &one).await, 1);

    let waiter = {
        let lock = lock.clone();
        let one = one.clone();
        tokio::spawn(async move { lock.acquire(&one).await.map(|g| (g, Instant::now())) })
    };
    // Another business is not blocked by the first one's holder.
    let other = tokio::time::timeout(Duration::from_secs(5), lock.acquire(&two)).await;
    let other = other
        .expect("another business's lock waits for nobody")
        .unwrap();
    assert_eq!(held(&db, &two).await, 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiter.is_finished(),
        "a second guard on one business while the first is held"
    );

    let bounded = PgCreateLock::new(db.clone()).wait_at_most(Duration::from_millis(200));
    let refused = bounded.acquire(&one).await.unwrap_err().to_string();
    assert!(
        refused.contains("longer than the wait allowed"),
        "{refused}"
    );
    assert!(refused.contains("1000000000001"), "{refused}");

    let released = Instant::now();
    drop(guard);
    let (second, at) = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("the waiter gets the lock once the first guard is dropped")
        .unwrap()
        .unwrap();
    println!("lock handed over on drop in {:?}", at - released);
    assert_eq!(held(&db, &one).await, 1, "the waiter holds it now");
    drop((second, other));
    until_free(&db, &one, Duration::from_secs(5)).await;
    until_free(&db, &two, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_whose_holder_process_is_killed_is_free_within_a_second() {
    let cluster = cluster();
    let name = cluster.new_database();
    let db = connector(cluster.port, &name);
    let business = BusinessId::from("1000000000003");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "lock::child_holds_the_lock",
            "--nocapture",
        ])
        .env(PORT_VAR, cluster.port.to_string())
        .env(DB_VAR, &name)
        .env(BUSINESS_VAR, business.as_str())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let locked = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line == "LOCKED")
    });
    let locked = tokio::time::timeout(Duration::from_secs(30), locked).await;
    assert!(
        matches!(locked, Ok(Ok(true))),
        "the child process did not take the lock"
    );
    assert_eq!(held(&db, &business).await, 1);
    let bounded = PgCreateLock::new(db.clone()).wait_at_most(Duration::from_millis(200));
    assert!(
        bounded.acquire(&business).await.is_err(),
        "the child holds it"
    );

    child.kill().unwrap(); // SIGKILL: no destructor runs in the child
    let killed = Instant::now();
    child.wait().unwrap();
    let lock = PgCreateLock::new(db.clone());
    let guard = tokio::time::timeout(Duration::from_secs(10), lock.acquire(&business))
        .await
        .expect("the lock of a killed holder is released")
        .unwrap();
    let took = killed.elapsed();
    println!("lock taken {took:?} after SIGKILL of its holder");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    drop(guard);
}

/// Run only as the child process of the test above: takes the lock, says so, waits to be killed.
#[tokio::test]
#[ignore = "the child process of a_lock_whose_holder_process_is_killed_is_free_within_a_second"]
async fn child_holds_the_lock() {
    let port = std::env::var(PORT_VAR)
        .expect("run by the SIGKILL test")
        .parse()
        .unwrap();
    let db = connector(port, &std::env::var(DB_VAR).unwrap());
    let business = BusinessId::from(std::env::var(BUSINESS_VAR).unwrap().as_str());
    let _guard = PgCreateLock::new(db).acquire(&business).await.unwrap();
    println!("LOCKED");
    tokio::time::sleep(Duration::from_secs(120)).await;
}

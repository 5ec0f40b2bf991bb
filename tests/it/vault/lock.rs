//! `VaultLock` on a real OpenBao server, in one process: exclusive, handed back when its guard
//! drops, renewed while held, taken over once its holder stops renewing for a whole lease,
//! never listed as a token key, and refusing bad input and foreign records. The tests with
//! several OS processes are in `replicas.rs`.

use std::time::{Duration, Instant};

use meta_business::{
    BusinessId, Error,
    lock::CreateLock,
    store::{TokenStore, VaultLock},
};
use serde_json::json;

use super::bao::{bao, unique_prefix};
use super::{key, root, store, token};

fn business() -> BusinessId {
    BusinessId::from(super::B)
}

fn lock(prefix: &str) -> VaultLock {
    // Each lock from a store built on its own, as two processes would have.
    store(prefix).create_lock()
}

async fn record(prefix: &str) -> serde_json::Value {
    let (status, body) = root(
        "GET",
        &format!("secret/data/{prefix}/_locks/{}", super::B),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_lock_is_exclusive_handed_back_on_drop_and_never_listed() {
    let prefix = unique_prefix("lock-basic");
    let first = lock(&prefix);
    let second = lock(&prefix).wait_at_most(Duration::from_millis(400));
    let guard = first.acquire(&business()).await.unwrap();

    // Held: the record names a holder and the lease, and holds nothing else.
    let held = record(&prefix).await;
    assert_eq!(held["data"]["meta_business_lock"], 1, "{held}");
    assert_eq!(held["data"]["lease_ms"], 15_000, "{held}");
    let holder = held["data"]["holder"].as_str().unwrap().to_owned();
    assert_eq!(holder.len(), 32, "{held}");
    assert_eq!(held["data"].as_object().unwrap().len(), 3, "{held}");
    assert!(!held.to_string().contains(&bao().root));

    // Another process waiting at most 400 ms gives up with a lock error naming the path.
    let started = Instant::now();
    let err = second.acquire(&business()).await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert!(matches!(err, Error::Lock { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("gave up after 400ms"), "{text}");
    assert!(
        text.contains(&format!("{prefix}/_locks/{}", super::B)),
        "{text}"
    );

    // The lock lives beside the tokens and is never one of them.
    let store = store(&prefix);
    let put = store
        .put(
            token(&key(), "EAAB-lock-test"),
            meta_business::store::Expect::Absent,
        )
        .await
        .unwrap();
    assert!(
        matches!(put, meta_business::store::Put::Written(_)),
        "{put:?}"
    );
    assert_eq!(store.keys().await.unwrap(), vec![key()]);

    // Dropped: written free at once, and the other process gets it.
    drop(guard);
    let patient = lock(&prefix).wait_at_most(Duration::from_secs(5));
    let started = Instant::now();
    let again = patient.acquire(&business()).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let now = record(&prefix).await;
    assert_ne!(
        now["data"]["holder"].as_str(),
        Some(holder.as_str()),
        "{now}"
    );
    drop(again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_lease_is_kept_and_a_lease_nobody_renews_is_taken_over_after_one_lease() {
    let prefix = unique_prefix("lock-lease");
    let lease = Duration::from_millis(600);
    // A live holder renews every 200 ms: a waiter gives up after 2 s without taking it.
    let guard = lock(&prefix)
        .lease(lease)
        .acquire(&business())
        .await
        .unwrap();
    let v0 = record(&prefix).await["metadata"]["version"]
        .as_u64()
        .unwrap();
    let err = lock(&prefix)
        .wait_at_most(Duration::from_secs(2))
        .acquire(&business())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Lock { .. }), "{err:?}");
    let v1 = record(&prefix).await["metadata"]["version"]
        .as_u64()
        .unwrap();
    assert!(v1 >= v0 + 5, "renewed from version {v0} to {v1} in 2 s");
    drop(guard);

    // A holder that died: its record stays, nobody renews it. A waiter takes it over after
    // one lease (the dead holder's, from its record) on its own clock, not before.
    let prefix = unique_prefix("lock-dead");
    let path = format!("secret/data/{prefix}/_locks/{}", super::B);
    let dead = json!({"data": {"meta_business_lock": 1, "holder": "dead", "lease_ms": 1000}});
    let (status, body) = root("POST", &path, Some(dead)).await;
    assert_eq!(status, 200, "{body}");
    let started = Instant::now();
    let taken = lock(&prefix)
        .wait_at_most(Duration::from_secs(10))
        .acquire(&business())
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1000),
        "taken over after {took:?}"
    );
    assert!(
        took < Duration::from_millis(2500),
        "taken over after {took:?}"
    );
    let now = record(&prefix).await;
    assert_ne!(now["data"]["holder"], "dead", "{now}");
    println!("a dead holder's lease of 1 s was taken over after {took:?}");
    drop(taken);
}

#[tokio::test]
async fn bad_input_and_foreign_records_are_refused() {
    // Nothing listens on port 9: a request would fail with a transport error, not these.
    let offline = meta_business::store::VaultStore::builder("http://127.0.0.1:9")
        .token("s.never-sent")
        .build()
        .unwrap();
    for lease in [Duration::from_millis(100), Duration::from_secs(3600)] {
        let err = offline
            .create_lock()
            .lease(lease)
            .acquire(&business())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        assert!(err.to_string().contains("500 ms to 10 minutes"), "{err}");
    }
    let err = offline
        .create_lock()
        .acquire(&BusinessId::from("12/../34"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");

    // Something else at the lock's path is never taken for a lock, nor overwritten.
    let prefix = unique_prefix("lock-foreign");
    let path = format!("secret/data/{prefix}/_locks/{}", super::B);
    let (status, _) = root("POST", &path, Some(json!({"data": {"owner": "ops"}}))).await;
    assert_eq!(status, 200);
    let err = lock(&prefix).acquire(&business()).await.unwrap_err();
    assert!(matches!(err, Error::Lock { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("not a create lock of meta-business"),
        "{err}"
    );
    let (_, body) = root("GET", &path, None).await;
    assert_eq!(body["data"]["data"], json!({"owner": "ops"}));
}

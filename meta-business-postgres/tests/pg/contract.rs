//! The store contract, rule by rule, on a real server: expectations, versions that never
//! repeat, and races between separate connections (as separate replicas would race).

use std::collections::BTreeSet;
use std::sync::Arc;

use meta_business::{
    ExposeSecret,
    store::{Conflict, Expect, Put, Removed, TokenKey, TokenStore, Version},
};
use meta_business_postgres::PostgresStore;

use crate::cluster::cluster;
use crate::store::{key, store, token};

fn written(put: Put) -> Version {
    match put {
        Put::Written(version) => version,
        other => panic!("expected a write, got {other:?}"),
    }
}

fn conflict(current: Option<Version>) -> Conflict {
    Conflict::new(current)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expectations_and_versions_follow_the_contract() {
    let db = cluster().database();
    let s = store(&db, 3);
    s.migrate_here().await.unwrap();
    let k = key("2000000000001");
    let v1 = written(s.put(token(k.clone()), Expect::Absent).await.unwrap());
    let got = s.get(&k).await.unwrap().unwrap();
    assert_eq!(got.version, v1);
    assert_eq!(
        got.token.previous().unwrap().expose_secret(),
        crate::store::PREVIOUS
    );
    assert_eq!(
        s.put(token(k.clone()), Expect::Absent).await.unwrap(),
        Put::Conflict(conflict(Some(v1)))
    );
    let v2 = written(
        s.put(token(k.clone()).without_previous(), Expect::Version(v1))
            .await
            .unwrap(),
    );
    assert_ne!(v1, v2);
    assert!(s.get(&k).await.unwrap().unwrap().token.previous().is_none());
    assert_eq!(
        s.put(token(k.clone()), Expect::Version(v1)).await.unwrap(),
        Put::Conflict(conflict(Some(v2)))
    );
    let v3 = written(s.put(token(k.clone()), Expect::Any).await.unwrap());
    assert_eq!(s.get(&k).await.unwrap().unwrap().version, v3);

    assert_eq!(
        s.remove(&k, Expect::Version(v2)).await.unwrap(),
        Removed::Conflict(conflict(Some(v3)))
    );
    assert_eq!(
        s.remove(&k, Expect::Absent).await.unwrap(),
        Removed::Conflict(conflict(Some(v3)))
    );
    assert_eq!(
        s.remove(&k, Expect::Version(v3)).await.unwrap(),
        Removed::Removed
    );
    assert!(s.get(&k).await.unwrap().is_none());
    assert_eq!(s.remove(&k, Expect::Any).await.unwrap(), Removed::Absent);
    assert_eq!(s.remove(&k, Expect::Absent).await.unwrap(), Removed::Absent);
    assert_eq!(
        s.remove(&k, Expect::Version(v3)).await.unwrap(),
        Removed::Conflict(conflict(None))
    );
    assert_eq!(
        s.put(token(k.clone()), Expect::Version(v3)).await.unwrap(),
        Put::Conflict(conflict(None))
    );
    assert_eq!(
        s.put(token(k.clone()), Expect::Version(Version::new(u64::MAX)))
            .await
            .unwrap(),
        Put::Conflict(conflict(None))
    );

    let v4 = written(s.put(token(k.clone()), Expect::Absent).await.unwrap());
    assert!(
        ![v1, v2, v3].contains(&v4),
        "a version came back after a remove"
    );
    assert_eq!(s.remove(&k, Expect::Any).await.unwrap(), Removed::Removed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_listed_in_order() {
    let db = cluster().database();
    let s = store(&db, 3);
    s.migrate_here().await.unwrap();
    let mut expected = Vec::new();
    for (business, app) in [("9", "1"), ("10", "2"), ("10", "1"), ("2", "3")] {
        let k = TokenKey::new(business, "610000000000002", app);
        written(s.put(token(k.clone()), Expect::Absent).await.unwrap());
        expected.push(k);
    }
    expected.sort();
    assert_eq!(s.keys().await.unwrap(), expected);
}

/// Eight stores (eight connections) race one write each; what they report and what is stored.
async fn race(stores: &[Arc<PostgresStore>], k: &TokenKey, expect: Expect) -> (Version, usize) {
    let handles: Vec<_> = stores
        .iter()
        .map(|s| {
            let (s, k) = (Arc::clone(s), k.clone());
            tokio::spawn(async move { s.put(token(k), expect).await.unwrap() })
        })
        .collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    let winners: Vec<Version> = results
        .iter()
        .filter_map(|r| match r {
            Put::Written(v) => Some(*v),
            _ => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for result in &results {
        if let Put::Conflict(c) = result {
            assert_eq!(c.current, Some(winners[0]), "{results:?}");
        }
    }
    let stored = stores[0].get(k).await.unwrap().unwrap().version;
    assert_eq!(stored, winners[0]);
    (winners[0], results.len() - 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_eight_racing_writers_exactly_one_wins_each_round() {
    let db = cluster().database();
    PostgresStore::migrate(&db.connect().await.unwrap())
        .await
        .unwrap();
    let stores: Vec<_> = (0..8).map(|_| Arc::new(store(&db, 3))).collect();
    let mut seen = BTreeSet::new();
    for round in 0..20 {
        let k = key(&format!("20000000000{round:02}"));
        let (first, _) = race(&stores, &k, Expect::Absent).await;
        let (second, losers) = race(&stores, &k, Expect::Version(first)).await;
        assert_eq!(losers, 7);
        assert!(seen.insert(first) && seen.insert(second));
    }
}

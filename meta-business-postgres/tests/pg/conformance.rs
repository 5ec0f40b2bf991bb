//! The core's store conformance suite, on handles sharing one database.

use meta_business::testing::store_conformance;
use meta_business_postgres::PostgresStore;

use crate::cluster::cluster;
use crate::store::store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_store_conformance_suite() {
    let db = cluster().database();
    PostgresStore::migrate(&db.connect().await.unwrap())
        .await
        .unwrap();
    // Each handle: its own connection, as another replica would have.
    store_conformance(|| store(&db, 1)).await;
}

//! `PgCreateLock` in the client: four separately built clients, each with its own
//! `PgCreateLock` (sharing only the server), creating on a business with room for one.

use meta_business::testing::GraphEmulator;
use meta_business::{Client, Error};
use meta_business_postgres::PgCreateLock;

use crate::cluster::cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_clients_with_their_own_pg_locks_create_one_and_refuse_three() {
    let db = cluster().database();
    let (emu, demo) = GraphEmulator::demo().await;
    let clients: Vec<Client> = (0..4)
        .map(|_| {
            emu.client_builder(demo.admin_token)
                .app_secret(demo.app_secret)
                .create_lock(PgCreateLock::new(db.clone()))
                .build()
                .unwrap()
        })
        .collect();
    let creates = clients.iter().enumerate().map(|(i, c)| {
        let c = c.clone();
        tokio::spawn(async move {
            c.business(demo.business_id)
                .system_users()
                .create(format!("bot-{i}"))
                .send()
                .await
        })
    });
    let mut results = Vec::new();
    for create in creates.collect::<Vec<_>>() {
        results.push(create.await.unwrap());
    }
    let created = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(Error::QuotaExceeded { .. })))
        .count();
    assert_eq!((created, refused), (1, 3), "{results:?}");
    assert_eq!(emu.system_users(demo.business_id).len(), 1);
}

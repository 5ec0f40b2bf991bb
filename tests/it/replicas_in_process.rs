//! Several replicas in one process racing on one store (a `MemoryStore`, and a `FileStore`
//! opened once per replica) against one emulator. A store wrapper slows `put` down by 200 ms,
//! so every replica reads the same version before any of them writes: the race happens every
//! run, not by chance. Asserted on the emulator's state (valid tokens, grants) and the store,
//! and every report is checked to be true.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use crate::common::StoreOutcome;
use meta_business::provision::{self, OffboardOptions, PlanOptions, Spec};
use meta_business::provision::{ApplyReport, SystemUserBuilder};
use meta_business::testing::{DEMO, GraphEmulator};
use meta_business::{
    CatalogTask, Client, ExposeSecret, Permission, SystemUserId,
    keeper::{KeeperReport, TokenKeeper},
    store::{
        Expect, FileStore, MemoryStore, Minted, Put, Removed, StoreFuture, StoredToken, TokenKey,
        TokenMeta, TokenStore, Versioned,
    },
};

const DAY: u64 = 86_400;
const REPLICAS: usize = 4;
const LOST: &str = "another replica rotated it first; the token this run minted was revoked";
const APPLY_LOST: &str = "another run (replica) stored one first; it is kept, and a token this run minted for it was revoked";

/// Waits `delay` before every write, so that racing replicas all read before one writes.
struct SlowPut<S> {
    inner: S,
    delay: Duration,
}

impl<S: TokenStore> TokenStore for SlowPut<S> {
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<Versioned>> {
        self.inner.get(key)
    }
    fn put(&self, token: StoredToken, expect: Expect) -> StoreFuture<'_, Put> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.inner.put(token, expect).await
        })
    }
    fn remove<'a>(&'a self, key: &'a TokenKey, expect: Expect) -> StoreFuture<'a, Removed> {
        self.inner.remove(key, expect)
    }
    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        self.inner.keys()
    }
}

fn slow(inner: Arc<dyn TokenStore>) -> Arc<dyn TokenStore> {
    Arc::new(SlowPut {
        inner,
        delay: Duration::from_millis(200),
    })
}

/// Holds its first write (or remove) until released: `entered` says it is waiting.
struct Gate<S> {
    inner: S,
    on_put: bool,
    used: AtomicBool,
    entered: Arc<Notify>,
    release: Arc<Notify>,
}

impl<S> Gate<S> {
    fn new(inner: S, on_put: bool) -> Self {
        Gate {
            inner,
            on_put,
            used: AtomicBool::new(false),
            entered: Arc::new(Notify::new()),
            release: Arc::new(Notify::new()),
        }
    }

    async fn wait_here(&self) {
        if !self.used.swap(true, Ordering::SeqCst) {
            self.entered.notify_one();
            self.release.notified().await;
        }
    }
}

impl<S: TokenStore> TokenStore for Gate<S> {
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<Versioned>> {
        self.inner.get(key)
    }
    fn put(&self, token: StoredToken, expect: Expect) -> StoreFuture<'_, Put> {
        Box::pin(async move {
            if self.on_put {
                self.wait_here().await;
            }
            self.inner.put(token, expect).await
        })
    }
    fn remove<'a>(&'a self, key: &'a TokenKey, expect: Expect) -> StoreFuture<'a, Removed> {
        Box::pin(async move {
            if !self.on_put {
                self.wait_here().await;
            }
            self.inner.remove(key, expect).await
        })
    }
    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        self.inner.keys()
    }
}

/// A fresh directory for a file store, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        TempDir(std::env::temp_dir().join(format!(
            "meta-business-replicas-{tag}-{}-{nanos:x}",
            std::process::id()
        )))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One handle per replica on one shared store: one `MemoryStore`, or one `FileStore`
/// directory opened by each replica.
fn handles(kind: &str, dir: &TempDir) -> Vec<Arc<dyn TokenStore>> {
    match kind {
        "memory" => {
            let shared: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
            vec![shared; REPLICAS]
        }
        _ => (0..REPLICAS)
            .map(|_| Arc::new(FileStore::open(&dir.0).unwrap()) as Arc<dyn TokenStore>)
            .collect(),
    }
}

fn client(emulator: &GraphEmulator) -> Client {
    emulator
        .client_builder(DEMO.admin_token)
        .app_id(DEMO.app_id)
        .app_secret(DEMO.app_secret)
        .build()
        .unwrap()
}

struct KeeperWorld {
    emulator: GraphEmulator,
    client: Client,
    key: TokenKey,
    token: String,
}

/// A system user whose stored 60-day token is 50 days old: a keeper refreshes it.
async fn keeper_world(store: &dyn TokenStore) -> KeeperWorld {
    let (emulator, _) = GraphEmulator::demo().await;
    let client = client(&emulator);
    let su = client
        .business(DEMO.business_id)
        .system_users()
        .create("replica-keeper")
        .send()
        .await
        .unwrap();
    client
        .system_user(&su.id)
        .install_app(DEMO.app_id)
        .send()
        .await
        .unwrap();
    let minted = client
        .system_user(&su.id)
        .generate_token(DEMO.app_id)
        .business(DEMO.business_id)
        .scopes([Permission::AdsRead])
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    let token = minted.secret().expose_secret().to_owned();
    let key = TokenKey::new(DEMO.business_id, su.id.clone(), DEMO.app_id);
    let meta = TokenMeta::new([Permission::AdsRead], None, Minted::Generated);
    store
        .put(
            StoredToken::new(key.clone(), token.clone(), meta),
            Expect::Absent,
        )
        .await
        .done();
    emulator.advance_clock(Duration::from_secs(50 * DAY));
    KeeperWorld {
        emulator,
        client,
        key,
        token,
    }
}

async fn stored(store: &dyn TokenStore, key: &TokenKey) -> StoredToken {
    store.get(key).await.unwrap().expect("a token stored").token
}

fn refreshes(emulator: &GraphEmulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/oauth/access_token"))
        .count()
}

async fn four_keepers_refresh_one_key(kind: &str) {
    let dir = TempDir::new(kind);
    let stores = handles(kind, &dir);
    let w = keeper_world(&*stores[0]).await;
    let keepers: Vec<_> = stores
        .iter()
        .map(|s| {
            TokenKeeper::new(w.client.clone(), slow(s.clone())).clock(w.emulator.clock_source())
        })
        .collect();
    let tasks: Vec<_> = keepers
        .into_iter()
        .map(|k| tokio::spawn(async move { k.run_once().await }))
        .collect();
    let mut reports: Vec<KeeperReport> = Vec::new();
    for task in tasks {
        reports.push(task.await.unwrap());
    }
    let all = reports
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");

    // The race happened: every replica read the same version and minted.
    assert_eq!(refreshes(&w.emulator), REPLICAS, "{all}");
    // Exactly one valid token, and it is the stored one; the old one is revoked.
    let held = stored(&*stores[0], &w.key).await;
    let current = held.secret().expose_secret().to_owned();
    assert!(held.previous().is_none(), "{all}");
    assert_ne!(current, w.token);
    assert!(w.emulator.token_is_valid(&current), "{all}");
    assert!(!w.emulator.token_is_valid(&w.token), "{all}");
    assert_eq!(
        w.emulator.valid_tokens_of(w.key.system_user.as_str()),
        1,
        "{all}"
    );
    // Every report is true: one refreshed, the others lost and revoked theirs.
    let won: Vec<_> = reports.iter().filter(|r| r.tokens[0].refreshed).collect();
    assert_eq!(won.len(), 1, "{all}");
    assert!(won[0].tokens[0].lost_race.is_none(), "{all}");
    for report in reports.iter().filter(|r| !r.tokens[0].refreshed) {
        let t = &report.tokens[0];
        assert_eq!(t.lost_race.as_deref(), Some(LOST), "{report}");
        assert!(t.failed.is_none() && t.orphan_risk.is_none(), "{report}");
        assert!(report.is_healthy(), "{report}");
        assert!(report.to_string().contains(LOST), "{report}");
        assert!(
            report
                .summary()
                .contains("1 refreshed by another replica first")
        );
        let json = serde_json::to_value(report).unwrap();
        assert_eq!(json["tokens"][0]["lost_race"], LOST);
        assert!(!report.to_string().contains(&current) && !json.to_string().contains(&current));
    }
    // Nothing left to do: the next pass finds a valid token.
    let next = TokenKeeper::new(w.client.clone(), stores[1].clone())
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    assert!(next.is_healthy() && !next.tokens[0].refreshed, "{next}");
    assert_eq!(w.emulator.valid_tokens_of(w.key.system_user.as_str()), 1);
}

#[tokio::test]
async fn four_keepers_on_one_memory_store_leave_one_valid_token_the_stored_one() {
    four_keepers_refresh_one_key("memory").await;
}

#[tokio::test]
async fn four_keepers_on_one_file_store_leave_one_valid_token_the_stored_one() {
    four_keepers_refresh_one_key("file").await;
}

const USER: &str = "replica-catalog";

fn spec(scopes: &[Permission]) -> Spec {
    Spec::builder(DEMO.business_id)
        .system_user(
            SystemUserBuilder::new(USER)
                .app(DEMO.app_id)
                .catalog(DEMO.catalog, [CatalogTask::Manage])
                .token(DEMO.app_id, scopes.iter().cloned()),
        )
        .build()
        .unwrap()
}

async fn four_applies_of_one_plan(kind: &str) {
    let dir = TempDir::new(kind);
    let stores = handles(kind, &dir);
    let (emulator, _) = GraphEmulator::demo().await;
    let client = client(&emulator);
    // A managed user with a token of a scope too many: the narrow plan rotates it.
    let broad = spec(&[
        Permission::CatalogManagement,
        Permission::BusinessManagement,
    ]);
    let options = PlanOptions::default().store(stores[0].clone());
    let first = provision::plan(&client, &broad, &options).await.unwrap();
    let id: SystemUserId =
        first.apply(&client).await.into_result().unwrap().identities[USER].clone();
    let key = TokenKey::new(DEMO.business_id, id.clone(), DEMO.app_id);
    let old = stored(&*stores[0], &key)
        .await
        .secret()
        .expose_secret()
        .to_owned();
    let narrow = spec(&[Permission::CatalogManagement]);
    let grants_before = emulator.assignments(DEMO.catalog);
    let users_before = emulator.system_users(DEMO.business_id).len();
    emulator.clear_requests();

    // Each replica plans with its own handle, then all apply at once.
    let mut plans = Vec::new();
    for store in &stores {
        let options = PlanOptions::default().store(slow(store.clone()));
        plans.push(provision::plan(&client, &narrow, &options).await.unwrap());
    }
    let tasks: Vec<_> = plans
        .into_iter()
        .map(|plan| {
            let client = client.clone();
            tokio::spawn(async move { plan.apply(&client).await })
        })
        .collect();
    let mut reports: Vec<ApplyReport> = Vec::new();
    for task in tasks {
        reports.push(task.await.unwrap());
    }
    let all = reports
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");

    let mints = emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/system_user_access_tokens"))
        .count();
    assert_eq!(mints, REPLICAS, "the race happened: {all}");
    // One valid token, the stored one; the replaced one revoked.
    let held = stored(&*stores[0], &key).await;
    let current = held.secret().expose_secret().to_owned();
    assert!(held.previous().is_none(), "{all}");
    assert!(emulator.token_is_valid(&current), "{all}");
    assert!(!emulator.token_is_valid(&old), "{all}");
    assert_eq!(emulator.valid_tokens_of(id.as_str()), 1, "{all}");
    // No duplicate grant: the user's tasks on the catalog are what they were.
    assert_eq!(emulator.assignments(DEMO.catalog), grants_before);
    assert_eq!(emulator.system_users(DEMO.business_id).len(), users_before);
    // Every report is true: one handed out the stored token, the others lost and said so.
    for report in &reports {
        assert!(report.is_complete(), "{report}");
        assert!(report.orphan_risk.is_empty(), "{report}");
    }
    let won: Vec<_> = reports.iter().filter(|r| !r.tokens.is_empty()).collect();
    assert_eq!(won.len(), 1, "{all}");
    assert_eq!(won[0].tokens[0].1.secret().expose_secret(), current);
    assert!(won[0].lost_races.is_empty(), "{all}");
    for report in reports.iter().filter(|r| r.tokens.is_empty()) {
        assert_eq!(report.lost_races, [USER], "{report}");
        assert!(report.to_string().contains(APPLY_LOST), "{report}");
        let json = serde_json::to_value(report).unwrap();
        assert_eq!(json["lost_races"], serde_json::json!([USER]));
    }
    // Converged: the next plan is empty.
    let options = PlanOptions::default().store(stores[2].clone());
    let again = provision::plan(&client, &narrow, &options).await.unwrap();
    assert!(again.changes.is_empty(), "{again}");
}

#[tokio::test]
async fn four_applies_of_one_plan_on_a_memory_store_leave_one_valid_stored_token() {
    four_applies_of_one_plan("memory").await;
}

#[tokio::test]
async fn four_applies_of_one_plan_on_a_file_store_leave_one_valid_stored_token() {
    four_applies_of_one_plan("file").await;
}

/// Two replicas plan while the stored token is invalid (revoked by hand): neither plan lists
/// it among the tokens to revoke, both mint over it. The first apply stores its token; the
/// second finds the key changed since its plan and mints nothing: the winner's token, handed
/// out in its report, stays the stored one.
async fn a_late_apply_over_an_invalid_token(kind: &str) {
    let dir = TempDir::new(kind);
    let stores = handles(kind, &dir);
    let (emulator, _) = GraphEmulator::demo().await;
    let client = client(&emulator);
    let wanted = spec(&[Permission::CatalogManagement]);
    let options = PlanOptions::default().store(stores[0].clone());
    let first = provision::plan(&client, &wanted, &options).await.unwrap();
    let id: SystemUserId =
        first.apply(&client).await.into_result().unwrap().identities[USER].clone();
    let key = TokenKey::new(DEMO.business_id, id.clone(), DEMO.app_id);
    let revoked = stored(&*stores[0], &key).await;
    client
        .revoke_token(DEMO.app_id, revoked.secret().clone())
        .send()
        .await
        .unwrap();
    let mut plans = Vec::new();
    for store in &stores[..2] {
        let options = PlanOptions::default().store(store.clone());
        let plan = provision::plan(&client, &wanted, &options).await.unwrap();
        assert!(plan.to_string().contains("generate token"), "{plan}");
        plans.push(plan);
    }
    emulator.clear_requests();
    let late = plans.pop().unwrap();
    let winner = plans
        .pop()
        .unwrap()
        .apply(&client)
        .await
        .into_result()
        .unwrap();
    let report = late.apply(&client).await;

    let mints = emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/system_user_access_tokens"))
        .count();
    assert_eq!(mints, 1, "the late apply mints nothing: {report}");
    let held = stored(&*stores[1], &key).await;
    assert_eq!(
        winner.tokens[0].1.secret().expose_secret(),
        held.secret().expose_secret(),
        "the winner's token is the stored one"
    );
    assert!(emulator.token_is_valid(held.secret().expose_secret()));
    assert_eq!(emulator.valid_tokens_of(id.as_str()), 1);
    assert!(report.is_complete(), "{report}");
    assert!(report.tokens.is_empty(), "{report}");
    assert_eq!(report.lost_races, [USER], "{report}");
    assert!(report.orphan_risk.is_empty(), "{report}");
}

#[tokio::test]
async fn a_late_apply_over_an_invalid_token_keeps_the_winners_token_on_a_memory_store() {
    a_late_apply_over_an_invalid_token("memory").await;
}

#[tokio::test]
async fn a_late_apply_over_an_invalid_token_keeps_the_winners_token_on_a_file_store() {
    a_late_apply_over_an_invalid_token("file").await;
}

/// Offboarding reads the record, invalidates the user's tokens, and is held before its
/// remove while a keeper (which minted before the invalidation) writes the key: the remove,
/// at the version offboarding read, leaves the keeper's write alone and says so.
#[tokio::test]
async fn an_offboard_racing_a_keeper_never_deletes_the_record_the_keeper_wrote() {
    let shared: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let w = keeper_world(&*shared).await;
    let read = shared.get(&w.key).await.unwrap().unwrap().version;

    let keeper_store = Arc::new(Gate::new(shared.clone(), true));
    let keeper =
        TokenKeeper::new(w.client.clone(), keeper_store.clone()).clock(w.emulator.clock_source());
    let keeping = tokio::spawn(async move { keeper.run_once().await });
    // The keeper has minted and is about to write.
    keeper_store.entered.notified().await;

    let offboard_store = Arc::new(Gate::new(shared.clone(), false));
    let options = OffboardOptions::default().store(offboard_store.clone());
    let (client, id) = (w.client.clone(), w.key.system_user.clone());
    let offboarding =
        tokio::spawn(
            async move { provision::offboard(&client, DEMO.business_id, id, &options).await },
        );
    // Offboarding has read the record and invalidated the tokens; it is about to remove.
    offboard_store.entered.notified().await;
    assert_eq!(shared.get(&w.key).await.unwrap().unwrap().version, read);

    keeper_store.release.notify_one();
    let kept = keeping.await.unwrap();
    let written = shared
        .get(&w.key)
        .await
        .unwrap()
        .expect("the keeper's record");
    assert_ne!(written.version, read, "{kept}");

    offboard_store.release.notify_one();
    let report = offboarding.await.unwrap().unwrap();
    assert!(report.tokens_removed.is_empty(), "{report}");
    assert!(
        report.notes.iter().any(|n| n.contains("left in the store")),
        "{report}"
    );
    // The keeper's record is still there, as the keeper left it.
    let after = shared.get(&w.key).await.unwrap().expect("not deleted");
    assert_eq!(after.version, written.version);
    // And no token of the offboarded user is valid.
    assert_eq!(
        w.emulator.valid_tokens_of(w.key.system_user.as_str()),
        0,
        "{kept}"
    );
}

/// Without a race, offboarding removes the record it read.
#[tokio::test]
async fn an_offboard_without_a_race_removes_the_record_it_read() {
    let shared: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let w = keeper_world(&*shared).await;
    let options = OffboardOptions::default().store(shared.clone());
    let report = provision::offboard(
        &w.client,
        DEMO.business_id,
        w.key.system_user.clone(),
        &options,
    )
    .await
    .unwrap();
    assert_eq!(
        report.tokens_removed,
        std::slice::from_ref(&w.key),
        "{report}"
    );
    assert!(shared.get(&w.key).await.unwrap().is_none());
    assert!(!w.emulator.token_is_valid(&w.token));
}

/// Lets its first write through, then has "another replica" write the key just before the
/// second one (the keeper's roll-back) arrives.
struct ChangedBeforeRollback {
    inner: MemoryStore,
    puts: std::sync::atomic::AtomicUsize,
    newer: StoredToken,
}

impl TokenStore for ChangedBeforeRollback {
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<Versioned>> {
        self.inner.get(key)
    }
    fn put(&self, token: StoredToken, expect: Expect) -> StoreFuture<'_, Put> {
        Box::pin(async move {
            if self.puts.fetch_add(1, Ordering::SeqCst) == 1 {
                self.inner.put(self.newer.clone(), Expect::Any).await.done();
            }
            self.inner.put(token, expect).await
        })
    }
    fn remove<'a>(&'a self, key: &'a TokenKey, expect: Expect) -> StoreFuture<'a, Removed> {
        self.inner.remove(key, expect)
    }
    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        self.inner.keys()
    }
}

/// The keeper's new token fails its check, and another replica wrote the key meanwhile: the
/// old token is not put back over the newer record (it may hold a newer token, or the old one
/// may be revoked by then), and the report says nothing was restored.
#[tokio::test]
async fn a_roll_back_never_overwrites_a_record_another_replica_wrote() {
    let inner = MemoryStore::new();
    let w = keeper_world(&inner).await;
    let newer = StoredToken::new(
        w.key.clone(),
        "EAAE-another-replicas-newer-token",
        TokenMeta::new([Permission::AdsRead], None, Minted::Refreshed),
    );
    let store = ChangedBeforeRollback {
        inner: inner.clone(),
        puts: std::sync::atomic::AtomicUsize::new(0),
        newer,
    };
    // The first debug_token (the stored token) answers; the second (the new one) fails.
    w.emulator.inject(
        meta_business::testing::FaultRule::new(meta_business::testing::Fault::graph(100))
            .on("GET", "/debug_token")
            .after(1),
    );
    let report = TokenKeeper::new(w.client.clone(), store)
        .clock(w.emulator.clock_source())
        .run_once()
        .await;
    let failed = report.tokens[0].failed.as_ref().expect("the check failed");
    assert_eq!(failed.0, meta_business::keeper::Step::Verify, "{report}");
    assert!(failed.1.contains("nothing was restored"), "{report}");
    let held = stored(&inner, &w.key).await;
    assert_eq!(
        held.secret().expose_secret(),
        "EAAE-another-replicas-newer-token",
        "{report}"
    );
    assert!(held.previous().is_none());
}

//! The workflows run by several OS processes at once over one `PostgresStore` (encrypted, one
//! table) and `PgCreateLock`: four keepers refreshing one key, four processes applying one
//! plan, four processes creating on a Limited business.
//!
//! The replicas are this very test binary, started again to run only
//! `workflows::workflow_child` (ignored in a normal run) with `MB_PGWF_ROLE` saying what to do.
//! They reach the Graph emulator the parent started through its URI and the parent's cluster
//! through a connection string (`MB_PGWF_DB`), so the parent sees every request and the
//! resulting state. Each prints one `REPLICA {json}` line, and they start together when the
//! parent creates a "go" file. The assertions are those of the core crate's
//! `tests/it/replicas_workflows.rs` and `tests/it/replicas.rs`, on this backend.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use meta_business::provision::{self, PlanOptions, Spec, SystemUserBuilder};
use meta_business::testing::{DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{
    AccessTier, AdAccountTask, BusinessId, Client, Error, ExposeSecret, Permission,
    keeper::TokenKeeper,
    lock::CreateLock,
    store::{Expect, Minted, StoredToken, TokenKey, TokenMeta, TokenStore},
};
use meta_business_postgres::{Connector, PgCreateLock, PostgresStore, SecretBox, TABLE};
use serde_json::{Value, json};

use crate::cluster::cluster;

const PROCESSES: usize = 4;
const DAY: u64 = 86_400;
/// The sealing key every replica is configured with (in a service: from a secrets manager).
const SEALING_KEY: [u8; 32] = [0x5e; 32];

/// One migrated database of the test cluster and a directory for the "go" file.
struct Shared {
    conn: String,
    dir: TempDir,
}

impl Shared {
    async fn new(name: &str) -> Shared {
        let cluster = cluster();
        let db = cluster.new_database();
        let shared = Shared {
            conn: format!(
                "host=127.0.0.1 port={} user=postgres dbname={db}",
                cluster.port
            ),
            dir: TempDir::new(name),
        };
        shared.postgres().0.migrate_here().await.unwrap();
        shared
    }

    /// The store and the connector, built as a replica builds them.
    fn postgres(&self) -> (PostgresStore, Connector) {
        open(&self.conn)
    }

    fn store(&self) -> Arc<dyn TokenStore> {
        Arc::new(self.postgres().0)
    }

    /// The plaintext `token` appears nowhere in the table, sealed or not.
    async fn assert_sealed(&self, token: &str) {
        let client = self.postgres().1.connect().await.unwrap();
        let sql = format!(
            "SELECT count(*) FROM {TABLE} t WHERE position(convert_to($1, 'UTF8') in t.token) > 0
             OR position(convert_to($1, 'UTF8') in coalesce(t.previous, ''::bytea)) > 0
             OR strpos(t::text, $1) > 0"
        );
        let found: i64 = client.query_one(&sql, &[&token]).await.unwrap().get(0);
        assert_eq!(found, 0, "a token in plain text in {TABLE}");
    }

    /// Starts the replicas, lets them go at once, and returns their reports.
    async fn run(&self, role: &str, url: &str, extra: &[(&str, String)]) -> Vec<Value> {
        let children: Vec<Child> = (0..PROCESSES)
            .map(|id| self.spawn(role, id, url, extra))
            .collect();
        // Each replica has built its client and store before it waits for the file.
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::fs::write(self.dir.0.join("go"), b"").unwrap();
        tokio::task::spawn_blocking(move || children.into_iter().map(report).collect())
            .await
            .unwrap()
    }

    fn spawn(&self, role: &str, id: usize, url: &str, extra: &[(&str, String)]) -> Child {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "workflows::workflow_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("MB_PGWF_ROLE", role)
            .env("MB_PGWF_ID", id.to_string())
            .env("MB_PGWF_DIR", &self.dir.0)
            .env("MB_PGWF_DB", &self.conn)
            .env("MB_PGWF_URL", url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in extra {
            command.env(name, value);
        }
        command.spawn().unwrap()
    }
}

/// A replica's store and connector: what a service builds from its configuration.
fn open(conn: &str) -> (PostgresStore, Connector) {
    let connector = Connector::no_tls(conn.parse().unwrap());
    let store = PostgresStore::new(connector.clone(), SecretBox::new(Box::new(SEALING_KEY)));
    (store, connector)
}

/// A fresh directory (mode 0700) removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "meta-business-pgwf-{name}-{}-{nanos}",
            std::process::id()
        ));
        let mut builder = std::fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The one JSON report of a finished replica, after checking that it succeeded.
fn report(child: Child) -> Value {
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "a replica failed: {text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = text
        .lines()
        .find_map(|l| l.find("REPLICA ").map(|at| &l[at + "REPLICA ".len()..]))
        .unwrap_or_else(|| panic!("a replica did not report: {text}"));
    serde_json::from_str(line).unwrap()
}

/// The entry point of the replicas: does nothing unless started by a test below.
#[test]
#[ignore = "a replica process, started by the multi-process tests of this module"]
fn workflow_child() {
    let Ok(role) = std::env::var("MB_PGWF_ROLE") else {
        return;
    };
    let var = |name: &str| std::env::var(name).unwrap();
    let dir = PathBuf::from(var("MB_PGWF_DIR"));
    let url = var("MB_PGWF_URL");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(async {
        let (store, connector) = open(&var("MB_PGWF_DB"));
        let store: Arc<dyn TokenStore> = Arc::new(store);
        let lock = PgCreateLock::new(connector);
        match role.as_str() {
            "keeper" => {
                let offset: u64 = var("MB_PGWF_CLOCK_OFFSET").parse().unwrap();
                keeper_child(&dir, &url, store, offset).await
            }
            "apply" => apply_child(&dir, &url, store, lock).await,
            "create" => create_child(&dir, &url, lock, &var("MB_PGWF_ID")).await,
            "hold" => {
                let _guard = lock.acquire(&DEMO.business_id.into()).await.unwrap();
                println!("HELD");
                tokio::time::sleep(Duration::from_secs(120)).await;
                json!("not killed")
            }
            "wait" => {
                let guard = lock.acquire(&DEMO.business_id.into()).await.unwrap();
                let acquired = unix_micros();
                tokio::time::sleep(Duration::from_millis(30)).await;
                let released = unix_micros();
                drop(guard);
                json!({ "acquired": acquired, "released": released })
            }
            other => panic!("unknown role {other}"),
        }
    });
    println!("REPLICA {report}");
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

async fn wait_for_go(dir: &Path) {
    while !dir.join("go").exists() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A client as `GraphEmulator::client` builds one for the demo admin token.
fn client_builder(url: &str) -> meta_business::ClientBuilder {
    Client::builder()
        .access_token(DEMO.admin_token)
        .app_secret(DEMO.app_secret)
        .app_id(DEMO.app_id)
        .base_url(url)
}

async fn keeper_child(dir: &Path, url: &str, store: Arc<dyn TokenStore>, offset: u64) -> Value {
    let client = client_builder(url).build().unwrap();
    // The emulator's clock, which the parent advanced: the real time plus its offset.
    let keeper = TokenKeeper::new(client, store)
        .clock(move || SystemTime::now() + Duration::from_secs(offset));
    wait_for_go(dir).await;
    let report = keeper.run_once().await;
    serde_json::to_value(&report).unwrap()
}

fn spec() -> Spec {
    Spec::builder(DEMO.business_id)
        .system_user(
            SystemUserBuilder::new("ads-reporting-server")
                .app(DEMO.app_id)
                .ad_account(DEMO.ad_accounts[0], [AdAccountTask::Analyze])
                .token(DEMO.app_id, [Permission::AdsRead]),
        )
        .build()
        .unwrap()
}

async fn apply_child(
    dir: &Path,
    url: &str,
    store: Arc<dyn TokenStore>,
    lock: PgCreateLock,
) -> Value {
    // The Full tier the parent set: so the quota does not hide a duplicate create.
    let client = client_builder(url)
        .access_tier(AccessTier::Full)
        .create_lock(lock)
        .build()
        .unwrap();
    let options = PlanOptions::default().store(store);
    wait_for_go(dir).await;
    let plan = match provision::plan(&client, &spec(), &options).await {
        Ok(plan) => plan,
        Err(e) => return json!({ "plan_error": e.to_string() }),
    };
    let report = plan.apply(&client).await;
    json!({
        "complete": report.is_complete(),
        "applied": report.applied.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        "failed": report.failed.as_ref().map(|(c, e)| format!("{c}: {e}")),
        // Emulator tokens, between this test's own processes: the parent checks each one
        // handed out against the store and the emulator.
        "tokens": report
            .tokens
            .iter()
            .map(|(_, t)| t.secret().expose_secret().to_owned())
            .collect::<Vec<_>>(),
        "orphan_risk": report.orphan_risk,
        "lost_races": report.lost_races,
        "warnings": report.warnings,
    })
}

async fn create_child(dir: &Path, url: &str, lock: PgCreateLock, id: &str) -> Value {
    // The tier the business has: Limited, room for one system user.
    let client = Client::builder()
        .access_token(DEMO.admin_token)
        .app_secret(DEMO.app_secret)
        .base_url(url)
        .create_lock(lock)
        .build()
        .unwrap();
    wait_for_go(dir).await;
    let created = client
        .business(DEMO.business_id)
        .system_users()
        .create(format!("replica-{id}"))
        .send()
        .await;
    match created {
        Ok(_) => json!("created"),
        Err(Error::QuotaExceeded { .. }) => json!("quota"),
        Err(e) => json!(format!("error {e}")),
    }
}

/// How many tokens the emulator minted (generate or exchange answered with a token).
fn mints(emulator: &GraphEmulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| {
            // A refused exchange (its token revoked meanwhile by the winner) mints nothing.
            r.status == 200
                && (r.method == "POST" && r.path.ends_with("access_tokens")
                    || r.path.ends_with("/oauth/access_token"))
        })
        .count()
}

/// How many requests to create a system user the emulator received.
fn create_requests(emulator: &GraphEmulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/system_users"))
        .count()
}

/// A system user with a 60-day token stored under its key, the emulator's clock ten days
/// from the token's end: the old token and the key.
async fn expiring_token(
    emulator: &GraphEmulator,
    store: &dyn TokenStore,
) -> (String, TokenKey, String) {
    let client = emulator.client(DEMO.admin_token).unwrap();
    let su = client
        .business(DEMO.business_id)
        .system_users()
        .create("keeper-replicas")
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
    let old = minted.secret().expose_secret().to_owned();
    let key = TokenKey::new(DEMO.business_id, su.id.clone(), DEMO.app_id);
    let meta = TokenMeta::new([Permission::AdsRead], None, Minted::Generated);
    let token = StoredToken::new(key.clone(), old.clone(), meta);
    let _ = store.put(token, Expect::Absent).await.unwrap();
    emulator.advance_clock(Duration::from_secs(50 * DAY));
    emulator.clear_requests();
    (old, key, su.id.as_str().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_keeper_processes_on_one_postgres_store_leave_one_valid_token_the_stored_one() {
    let shared = Shared::new("keeper").await;
    let store = shared.store();
    let (emulator, _) = GraphEmulator::demo().await;
    let (old, key, su) = expiring_token(&emulator, &*store).await;
    let offset = [("MB_PGWF_CLOCK_OFFSET", (50 * DAY).to_string())];
    let reports = shared.run("keeper", &emulator.uri(), &offset).await;

    let minted = mints(&emulator);
    let valid = emulator.valid_tokens_of(&su);
    let keys = store.keys().await.unwrap();
    let stored = store.get(&key).await.unwrap().expect("the key is stored");
    let stored_token = stored.token.secret().expose_secret().to_owned();
    let refreshed: Vec<&Value> = reports
        .iter()
        .filter(|r| r["tokens"][0]["refreshed"] == json!(true))
        .collect();
    let lost = reports
        .iter()
        .filter(|r| !r["tokens"][0]["lost_race"].is_null())
        .count();
    println!(
        "PostgresStore: {PROCESSES} keeper processes: {minted} token(s) minted, {valid} valid, \
         {} stored; {} report(s) say refreshed, {lost} lost the race (revoked their own), {} \
         found it fresh or left it alone",
        keys.len(),
        refreshed.len(),
        PROCESSES - refreshed.len() - lost
    );
    let all = serde_json::to_string_pretty(&reports).unwrap();
    assert_eq!(keys, std::slice::from_ref(&key), "one key, still one key");
    assert_ne!(stored_token, old, "refreshed: {all}");
    assert!(
        emulator.token_is_valid(&stored_token),
        "the stored token works"
    );
    assert!(!emulator.token_is_valid(&old), "the old token is revoked");
    assert_eq!(valid, 1, "exactly one valid token, the stored one: {all}");
    assert_eq!(refreshed.len(), 1, "exactly one replica refreshed: {all}");
    // The one that says it refreshed describes the stored token.
    let expires = stored.token.meta.expires_at.expect("a 60-day token");
    assert_eq!(
        refreshed[0]["tokens"][0]["expires_at"],
        json!(expires),
        "{all}"
    );
    for report in &reports {
        assert!(report["error"].is_null(), "{all}");
        let t = &report["tokens"][0];
        assert_eq!(t["key"], serde_json::to_value(&key).unwrap(), "{all}");
        assert!(t["failed"].is_null(), "losing a race is no failure: {all}");
        assert!(t["orphan_risk"].is_null(), "no token left behind: {all}");
        if t["refreshed"] == json!(false) {
            // It found the winner's fresh token, or says why it left the key alone.
            let says_why = !t["lost_race"].is_null() || !t["skipped"].is_null();
            assert!(t["state"] == json!("valid") || says_why, "{all}");
        } else {
            assert!(t["lost_race"].is_null(), "{all}");
        }
    }
    // The winner stored its own mint; every other mint is a lost race that says so.
    assert_eq!(minted, 1 + lost, "a mint no report owns: {all}");
    shared.assert_sealed(&stored_token).await;
    shared.assert_sealed(&old).await;
}

/// Four processes applying one plan with a `PgCreateLock`, on a business of the Full tier
/// (room for 10 users: only the lock and the plan keep it to one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_applying_one_plan_on_a_postgres_store_leave_one_user_and_one_token() {
    let shared = Shared::new("apply").await;
    let store = shared.store();
    let (emulator, demo) = GraphEmulator::demo().await;
    emulator.set_access_tier(demo.business_id, AccessTier::Full);
    let reports = shared.run("apply", &emulator.uri(), &[]).await;

    let users = emulator.system_users(demo.business_id);
    let creates = create_requests(&emulator);
    let grant_requests = emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/assigned_users"))
        .count();
    let minted = mints(&emulator);
    let keys = store.keys().await.unwrap();
    let all = serde_json::to_string_pretty(&reports).unwrap();
    let valid: usize = users
        .iter()
        .map(|u| emulator.valid_tokens_of(u.id.as_str()))
        .sum();
    let lost = reports
        .iter()
        .filter(|r| r["lost_races"] != json!([]))
        .count();
    let with_token = reports
        .iter()
        .filter(|r| r["tokens"].as_array().is_some_and(|t| !t.is_empty()))
        .count();
    println!(
        "PostgresStore + PgCreateLock: {PROCESSES} processes applying one plan: {} user(s) \
         created ({creates} create request(s)), {grant_requests} grant request(s), {minted} \
         token(s) minted, {valid} valid, {} stored; {with_token} hand(s) out the stored token, \
         {lost} lost the race",
        users.len(),
        keys.len()
    );
    assert_eq!(users.len(), 1, "one system user: {all}");
    assert_eq!(creates, 1, "{all}");
    let su = &users[0];
    assert_eq!(su.installed_apps, [demo.app_id.to_owned()], "{all}");
    let key = TokenKey::new(demo.business_id, su.id.as_str(), demo.app_id);
    assert_eq!(keys, [key], "{all}");
    let stored = store.get(&keys[0]).await.unwrap().unwrap();
    let stored_token = stored.token.secret().expose_secret().to_owned();
    assert!(emulator.token_is_valid(&stored_token), "{all}");
    assert_eq!(valid, 1, "one valid token, the stored one: {all}");
    // No duplicate grant: the user holds the one task, once, on the one asset.
    let grants = emulator.assignments(demo.ad_accounts[0]);
    assert_eq!(
        grants.get(su.id.as_str()),
        Some(&vec!["ANALYZE".to_owned()])
    );
    for report in &reports {
        assert!(report["plan_error"].is_null(), "{all}");
        assert_eq!(report["complete"], json!(true), "{all}");
        assert_eq!(report["orphan_risk"], json!([]), "{all}");
        // Every token handed out is the one stored: no replica holds one nobody else sees.
        for token in report["tokens"].as_array().unwrap() {
            assert_eq!(
                token,
                &json!(stored_token),
                "a token handed out is not stored"
            );
        }
        // One without a token lost the race and says so, or had nothing to mint.
        if report["tokens"] == json!([]) {
            let minted_here = report["applied"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c.as_str().unwrap().contains("generate token"));
            let lost = report["lost_races"] == json!(["ads-reporting-server"]);
            assert!(lost || !minted_here, "{all}");
        }
    }
    // A loser minted and revoked its token, or found the winner's before minting.
    assert!(
        (1..=1 + lost).contains(&minted),
        "a mint no report owns: {all}"
    );
    assert_eq!(with_token, 1, "{all}");
    // Converged: planning again finds nothing to do.
    let client = emulator.client(demo.admin_token).unwrap();
    let again = provision::plan(&client, &spec(), &PlanOptions::default().store(store))
        .await
        .unwrap();
    assert!(again.is_empty(), "{again}");
    shared.assert_sealed(&stored_token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_creating_with_a_pg_lock_create_one_and_refuse_three_before_sending() {
    let shared = Shared::new("create").await;
    let (emulator, demo) = GraphEmulator::demo().await;
    // A slow quota check (the list of system users) leaves every process time to read the
    // quota before another's create lands: only the lock keeps them apart.
    emulator.inject(
        FaultRule::new(Fault::Delay(Duration::from_millis(200))).on("GET", "/system_users"),
    );
    let reports = shared.run("create", &emulator.uri(), &[]).await;
    let count = |what: &str| reports.iter().filter(|r| **r == json!(what)).count();
    let users = emulator.system_users(demo.business_id).len();
    let creates = create_requests(&emulator);
    println!(
        "PgCreateLock: {PROCESSES} processes creating on a Limited business: {} created, {} \
         refused with QuotaExceeded, {users} user(s), {creates} create request(s)",
        count("created"),
        count("quota")
    );
    assert_eq!((count("created"), count("quota")), (1, 3), "{reports:?}");
    assert_eq!(users, 1);
    assert_eq!(creates, 1, "the refused creates were never sent");
}

struct KilledOnDrop(Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sessions waiting for the business's create lock on the server.
async fn waiting(connector: &Connector, business: &BusinessId) -> i64 {
    let key = PgCreateLock::key(business) as u64;
    let client = connector.connect().await.unwrap();
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
             AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1",
            &[&((key >> 32) as i64), &((key & 0xffff_ffff) as i64)],
        )
        .await
        .unwrap();
    row.get(0)
}

/// A holder process killed with SIGKILL while three other processes wait for the lock: the
/// first of them has it within a second, and they hold it one at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pg_lock_holder_killed_with_sigkill_hands_it_to_waiting_processes_within_a_second() {
    let shared = Shared::new("kill").await;
    let (_, connector) = shared.postgres();
    let business = BusinessId::from(DEMO.business_id);
    // Killed however the test ends, so a failed assertion leaves no holder behind.
    let mut holder = KilledOnDrop(shared.spawn("hold", 0, "", &[]));
    let out = holder.0.stdout.take().unwrap();
    let held = tokio::task::spawn_blocking(move || {
        // The harness may print the test's name before the child's line.
        BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.ends_with("HELD"))
    });
    let held = tokio::time::timeout(Duration::from_secs(30), held).await;
    assert!(
        matches!(held, Ok(Ok(true))),
        "the holder did not take the lock"
    );
    let waiters: Vec<Child> = (1..=3)
        .map(|id| shared.spawn("wait", id, "", &[]))
        .collect();
    let start = Instant::now();
    while waiting(&connector, &business).await < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the waiters do not wait"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(crate::lock::held(&connector, &business).await, 1);

    let killed_at = unix_micros();
    holder.0.kill().unwrap(); // SIGKILL: no destructor runs in the holder
    holder.0.wait().unwrap();
    let reports: Vec<Value> =
        tokio::task::spawn_blocking(move || waiters.into_iter().map(report).collect())
            .await
            .unwrap();
    let mut times: Vec<(u64, u64)> = reports
        .iter()
        .map(|r| {
            (
                r["acquired"].as_u64().unwrap(),
                r["released"].as_u64().unwrap(),
            )
        })
        .collect();
    times.sort_unstable();
    assert!(
        times[0].0 > killed_at,
        "taken before the holder died: {times:?}"
    );
    let hand_over = Duration::from_micros(times[0].0 - killed_at);
    let last = Duration::from_micros(times[2].1 - killed_at);
    println!(
        "PgCreateLock: SIGKILL of the holder: lock handed to a waiting process in {hand_over:?}; \
         3 waiters done {last:?} after the kill"
    );
    for pair in times.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "two holders at once: {times:?}");
    }
    assert!(
        hand_over < Duration::from_secs(1),
        "hand-over took {hand_over:?}"
    );
    crate::lock::until_free(&connector, &business, Duration::from_secs(5)).await;
}

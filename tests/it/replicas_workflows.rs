//! The workflows run by several OS processes at once over one shared store: four keepers
//! refreshing one key, four processes applying one plan. For every store the crate ships
//! (`FileStore`; `VaultStore` on a real OpenBao server with the `vault` feature).
//!
//! The replicas are this very test binary, started again to run only
//! `replicas_workflows::workflow_child` (ignored in a normal run) with `MB_WF_ROLE` saying what
//! to do, against the Graph emulator the parent started (so the parent sees every request and
//! the resulting state). They print one `REPLICA {json}` line with their report, and start
//! together when the parent creates a "go" file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use meta_business::provision::{self, PlanOptions, Spec, SystemUserBuilder};
use meta_business::testing::{DEMO, GraphEmulator};
use meta_business::{
    AccessTier, AdAccountTask, Client, ExposeSecret, Permission,
    keeper::TokenKeeper,
    lock::FileLock,
    store::{FileStore, TokenKey, TokenStore},
};
use serde_json::{Value, json};

const PROCESSES: usize = 4;
const DAY: u64 = 86_400;

/// Where the replicas keep their tokens, as the parent tells them (`MB_WF_STORE`).
#[derive(Clone)]
enum Backend {
    File(PathBuf),
    #[cfg(feature = "vault")]
    Vault {
        addr: String,
        token: String,
        prefix: String,
    },
}

impl Backend {
    fn open(&self) -> Arc<dyn TokenStore> {
        match self {
            Backend::File(dir) => Arc::new(FileStore::open(dir).unwrap()),
            #[cfg(feature = "vault")]
            Backend::Vault {
                addr,
                token,
                prefix,
            } => Arc::new(
                meta_business::store::VaultStore::builder(addr)
                    .prefix(prefix)
                    .token(token.clone())
                    .build()
                    .unwrap(),
            ),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Backend::File(dir) => vec![("MB_WF_STORE", format!("file:{}", dir.display()))],
            #[cfg(feature = "vault")]
            Backend::Vault {
                addr,
                token,
                prefix,
            } => vec![
                ("MB_WF_STORE", format!("vault:{addr}")),
                ("MB_WF_VAULT_TOKEN", token.clone()),
                ("MB_WF_VAULT_PREFIX", prefix.clone()),
            ],
        }
    }

    fn from_env() -> Self {
        let spec = std::env::var("MB_WF_STORE").unwrap();
        if let Some(dir) = spec.strip_prefix("file:") {
            return Backend::File(PathBuf::from(dir));
        }
        #[cfg(feature = "vault")]
        if let Some(addr) = spec.strip_prefix("vault:") {
            return Backend::Vault {
                addr: addr.to_owned(),
                token: std::env::var("MB_WF_VAULT_TOKEN").unwrap(),
                prefix: std::env::var("MB_WF_VAULT_PREFIX").unwrap(),
            };
        }
        panic!("unknown store {spec}")
    }

    fn name(&self) -> &'static str {
        match self {
            Backend::File(_) => "FileStore",
            #[cfg(feature = "vault")]
            Backend::Vault { .. } => "VaultStore (OpenBao)",
        }
    }
}

/// A fresh directory (mode 0700) removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "meta-business-wf-{name}-{}-{:x}",
            std::process::id(),
            fastrand::u64(..)
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

fn spawn(role: &str, dir: &Path, extra: &[(&'static str, String)]) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "replicas_workflows::workflow_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MB_WF_ROLE", role)
        .env("MB_WF_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in extra {
        command.env(name, value);
    }
    command.spawn().unwrap()
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

/// Starts the replicas, lets them go at once, and returns their reports.
async fn run_replicas(role: &str, dir: &Path, env: Vec<(&'static str, String)>) -> Vec<Value> {
    let children: Vec<Child> = (0..PROCESSES).map(|_| spawn(role, dir, &env)).collect();
    // Each replica has built its client and store before it waits for the file.
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(dir.join("go"), b"").unwrap();
    tokio::task::spawn_blocking(move || children.into_iter().map(report).collect())
        .await
        .unwrap()
}

/// The entry point of the replicas: does nothing unless started by a test below.
#[test]
#[ignore = "a replica process, started by the multi-process tests of this module"]
fn workflow_child() {
    let Ok(role) = std::env::var("MB_WF_ROLE") else {
        return;
    };
    let var = |name: &str| std::env::var(name).unwrap();
    let dir = PathBuf::from(var("MB_WF_DIR"));
    let url = var("MB_WF_URL");
    let store = Backend::from_env().open();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(async {
        match role.as_str() {
            "keeper" => {
                let offset: u64 = var("MB_WF_CLOCK_OFFSET").parse().unwrap();
                keeper_child(&dir, &url, store, offset).await
            }
            "apply" => apply_child(&dir, &url, store).await,
            other => panic!("unknown role {other}"),
        }
    });
    println!("REPLICA {report}");
}

async fn wait_for_go(dir: &Path) {
    while !dir.join("go").exists() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A client as `GraphEmulator::client` builds one for the demo admin token, on the Full
/// tier the parent set: so the quota does not hide a duplicate create.
fn client_builder(url: &str) -> meta_business::ClientBuilder {
    Client::builder()
        .access_token(DEMO.admin_token)
        .app_secret(DEMO.app_secret)
        .app_id(DEMO.app_id)
        .access_tier(AccessTier::Full)
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

async fn apply_child(dir: &Path, url: &str, store: Arc<dyn TokenStore>) -> Value {
    let client = client_builder(url)
        .create_lock(FileLock::open(dir.join("locks")).unwrap())
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
        "summary": report.to_string(),
    })
}

/// How many tokens the emulator minted (generate or exchange answered with a token): a
/// refused exchange (the token it would refresh was revoked by the winner meanwhile) mints
/// nothing.
fn mints(emulator: &GraphEmulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| {
            r.status == 200
                && (r.method == "POST" && r.path.ends_with("access_tokens")
                    || r.path.ends_with("/oauth/access_token"))
        })
        .count()
}

/// Four keeper processes over one store, one key of a 60-day token ten days from its end.
async fn four_keepers(backend: Backend, dir: &Path) {
    let store = backend.open();
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let (key, old) = crate::common::stored_60_day_token(&client, &*store, "keeper-replicas").await;
    emulator.advance_clock(Duration::from_secs(50 * DAY));
    emulator.clear_requests();

    let mut env = backend.env();
    env.push(("MB_WF_URL", emulator.uri()));
    env.push(("MB_WF_CLOCK_OFFSET", (50 * DAY).to_string()));
    let reports = run_replicas("keeper", dir, env).await;

    let minted = mints(&emulator);
    let valid = emulator.valid_tokens_of(key.system_user.as_str());
    let keys = store.keys().await.unwrap();
    let stored = store
        .get(&key)
        .await
        .unwrap()
        .expect("the key is still stored");
    let stored_token = stored.token.secret().expose_secret().to_owned();
    let refreshed: Vec<&Value> = reports
        .iter()
        .filter(|r| r["tokens"][0]["refreshed"] == json!(true))
        .collect();
    println!(
        "{}: {PROCESSES} keeper processes: {minted} token(s) minted, {valid} valid, {} stored; \
         {} report(s) say refreshed",
        backend.name(),
        keys.len(),
        refreshed.len()
    );
    let all = serde_json::to_string_pretty(&reports).unwrap();
    assert_eq!(keys, std::slice::from_ref(&key), "one key, still one key");
    assert_ne!(stored_token, old, "refreshed: {all}");
    assert!(
        emulator.token_is_valid(&stored_token),
        "the stored token works"
    );
    assert!(!emulator.token_is_valid(&old), "the old token is revoked");
    assert_eq!(
        valid, 1,
        "exactly one valid token, the stored one ({minted} minted): {all}"
    );
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
            // Either it found the winner's fresh token, or it says why it left the key alone
            // (it lost the race: its own token revoked, the winner's kept).
            let says_why = !t["lost_race"].is_null() || !t["skipped"].is_null();
            assert!(
                t["state"] == json!("valid") || says_why,
                "a report that neither refreshed nor says why: {all}"
            );
        } else {
            assert!(t["lost_race"].is_null(), "{all}");
        }
    }
    // Every token minted and not stored was revoked by the replica that minted it: the one
    // that won stored its own, every other mint is a lost race that says so.
    let lost = reports
        .iter()
        .filter(|r| !r["tokens"][0]["lost_race"].is_null())
        .count();
    println!(
        "  reports: 1 refreshed, {lost} lost the race (revoked their own), {} found it fresh \
         or left it alone",
        PROCESSES - 1 - lost
    );
    assert_eq!(minted, 1 + lost, "a mint no report owns: {all}");
}

/// Four processes applying one plan over one store, with a `FileLock` for creates, on a
/// business of the Full tier (room for 10 users: only the lock and the plan keep it to one).
async fn four_appliers(backend: Backend, dir: &Path) {
    let store = backend.open();
    let (emulator, demo) = GraphEmulator::demo().await;
    emulator.set_access_tier(demo.business_id, AccessTier::Full);
    let mut env = backend.env();
    env.push(("MB_WF_URL", emulator.uri()));
    let reports = run_replicas("apply", dir, env).await;

    let users = emulator.system_users(demo.business_id);
    let creates = emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/system_users"))
        .count();
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
    println!(
        "{}: {PROCESSES} processes applying one plan: {} user(s) created ({creates} create \
         request(s)), {grant_requests} grant request(s), {minted} token(s) minted, {valid} valid, \
         {} stored",
        backend.name(),
        users.len(),
        keys.len()
    );
    assert_eq!(users.len(), 1, "one system user: {all}");
    let su = &users[0];
    assert_eq!(su.installed_apps, [demo.app_id.to_owned()], "{all}");
    assert_eq!(
        keys,
        [TokenKey::new(demo.business_id, su.id.as_str(), demo.app_id)],
        "{all}"
    );
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
        // One without a token either lost the race and says so, or had nothing to mint
        // (it planned after another replica had finished).
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
    let lost = reports
        .iter()
        .filter(|r| r["lost_races"] != json!([]))
        .count();
    // A loser minted and revoked its token, or found the winner's before minting.
    assert!(
        (1..=1 + lost).contains(&minted),
        "a mint no report owns: {all}"
    );
    // Converged: planning again finds nothing to do.
    let client = emulator.client(demo.admin_token).unwrap();
    let again = provision::plan(
        &client,
        &spec(),
        &PlanOptions::default().store(store.clone()),
    )
    .await
    .unwrap();
    assert!(again.is_empty(), "{again}");
    let with_token = reports
        .iter()
        .filter(|r| !r["tokens"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(with_token, 1, "{all}");
    println!(
        "  reports: {with_token} hands out the stored token, {lost} lost the race (revoked \
         their own), {} had nothing left to do",
        PROCESSES - with_token - lost
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_keeper_processes_on_one_file_store_leave_one_valid_token_the_stored_one() {
    let tmp = TempDir::new("keeper");
    four_keepers(Backend::File(tmp.0.join("store")), &tmp.0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_applying_one_plan_on_a_file_store_leave_one_user_and_one_token() {
    let tmp = TempDir::new("apply");
    four_appliers(Backend::File(tmp.0.join("store")), &tmp.0).await;
}

#[cfg(feature = "vault")]
fn vault_backend(test: &str) -> Backend {
    let server = crate::vault::bao::bao();
    Backend::Vault {
        addr: server.addr.clone(),
        token: server.root.clone(),
        prefix: crate::vault::bao::unique_prefix(test),
    }
}

#[cfg(feature = "vault")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_keeper_processes_on_one_vault_store_leave_one_valid_token_the_stored_one() {
    let tmp = TempDir::new("keeper-vault");
    four_keepers(vault_backend("wf-keeper"), &tmp.0).await;
}

#[cfg(feature = "vault")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_applying_one_plan_on_a_vault_store_leave_one_user_and_one_token() {
    let tmp = TempDir::new("apply-vault");
    four_appliers(vault_backend("wf-apply"), &tmp.0).await;
}

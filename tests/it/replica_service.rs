//! `examples/replica_service`, run as a user runs it: three replica processes over one store
//! (a `FileStore`; a `VaultStore` on a real OpenBao dev server with the `vault` feature),
//! pointed at a Graph emulator this test started, applying one spec at once. The state they
//! leave (the emulator's users, grants and valid tokens; the store) is asserted, and what each
//! one says it did.
//!
//! The example binary is the one `cargo test` builds beside this test; run
//! `cargo build --examples --all-features` first when running this test alone.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meta_business::testing::{DEMO, GraphEmulator};
use meta_business::{
    AccessTier, ExposeSecret,
    store::{FileStore, TokenKey, TokenStore},
};
use serde_json::{Value, json};

const REPLICAS: usize = 3;
const USER: &str = "replica-service-reporting";
/// How long a replica may take to say what it did, on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(90);

/// A fresh directory (mode 0700) removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "meta-business-svc-{name}-{}-{:x}",
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

/// One system user with an app, one grant and a 60-day token: the spec every replica applies.
fn write_spec(dir: &Path) -> PathBuf {
    let path = dir.join("spec.toml");
    let spec = format!(
        r#"business = "{business}"

[[system_users]]
name = "{USER}"
apps = ["{app}"]
assets = [{{ ad_account = "{ad}", tasks = ["ANALYZE"] }}]
token = {{ app = "{app}", scopes = ["ads_read"], expires_in_60_days = true }}
"#,
        business = DEMO.business_id,
        app = DEMO.app_id,
        ad = DEMO.ad_accounts[0],
    );
    std::fs::write(&path, spec).unwrap();
    path
}

/// A running replica: its stdin, and the JSON lines it printed so far.
struct Replica {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<Value>>>,
    stderr: Arc<Mutex<String>>,
}

impl Replica {
    fn start(name: &str, args: &[String], env: &[(&str, String)]) -> Replica {
        let mut command = Command::new(crate::examples::binary("replica_service"));
        command
            .args(args)
            .args(["--json", "--name", name])
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in [
            "VAULT_ADDR",
            "VAULT_TOKEN",
            "VAULT_ROLE_ID",
            "VAULT_SECRET_ID",
        ] {
            command.env_remove(var);
        }
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("the example starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line).unwrap_or(json!({ "not_json": line }));
                sink.lock().unwrap().push(value);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut err, &mut text);
            sink.lock().unwrap().push_str(&text);
        });
        Replica {
            name: name.to_owned(),
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
        }
    }

    fn events(&self, event: &str) -> Vec<Value> {
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .filter(|l| l["event"] == event)
            .cloned()
            .collect()
    }

    fn printed(&self) -> String {
        let lines = self.lines.lock().unwrap();
        let out: Vec<String> = lines.iter().map(Value::to_string).collect();
        format!(
            "{}: stdout:\n{}\nstderr:\n{}",
            self.name,
            out.join("\n"),
            self.stderr.lock().unwrap()
        )
    }

    /// Waits until the replica has printed `n` events of this kind.
    async fn wait_for(&self, event: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let found = self.events(event);
            if found.len() >= n {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "{} printed {} {event:?} event(s), not {n}, in {PATIENCE:?}:\n{}",
                self.name,
                found.len(),
                self.printed()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} {}", self.child.id());
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the exit; asserts status 0.
    async fn exits_cleanly(mut self) -> Replica {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The reader threads finish with the pipes.
                tokio::time::sleep(Duration::from_millis(100)).await;
                assert!(status.success(), "{status}:\n{}", self.printed());
                return self;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("{} did not stop:\n{}", self.name, self.printed());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The `META_*` variables of a real run, aimed at the emulator, on the Full tier: room for ten
/// system users, so only the shared create lock and the plan keep it to one.
fn meta_env(emulator: &GraphEmulator) -> Vec<(&'static str, String)> {
    vec![
        ("META_ACCESS_TOKEN", DEMO.admin_token.to_owned()),
        ("META_APP_SECRET", DEMO.app_secret.to_owned()),
        ("META_APP_ID", DEMO.app_id.to_owned()),
        ("META_BUSINESS_ID", DEMO.business_id.to_owned()),
        ("META_GRAPH_URL", emulator.uri()),
        ("META_ACCESS_TIER", "full".to_owned()),
    ]
}

/// How many token-minting calls the emulator received.
fn mints(emulator: &GraphEmulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("access_tokens"))
        .count()
}

/// Three replicas over one store: they apply the spec at once at start, two apply it again
/// when asked (SIGHUP, a line on stdin) and stop on SIGTERM, the third stops after
/// `--run-for`. Then the state is asserted.
async fn three_replicas(
    backend: &str,
    store: Arc<dyn TokenStore>,
    store_args: Vec<String>,
    env: Vec<(&'static str, String)>,
    dir: &Path,
) {
    let (emulator, demo) = GraphEmulator::demo().await;
    emulator.set_access_tier(demo.business_id, AccessTier::Full);
    let spec = write_spec(dir);
    let mut env_all = meta_env(&emulator);
    env_all.extend(env);
    let mut replicas: Vec<Replica> = (0..REPLICAS)
        .map(|i| {
            let mut args = vec![
                "--spec".to_owned(),
                spec.display().to_string(),
                "--interval".to_owned(),
                "1".to_owned(),
                "--run-for".to_owned(),
                // The third stops by itself; the others are stopped by SIGTERM well before.
                if i == 2 { "12" } else { "300" }.to_owned(),
            ];
            args.extend(store_args.iter().cloned());
            Replica::start(&format!("r{i}"), &args, &env_all)
        })
        .collect();

    let mut first = Vec::new();
    for replica in &replicas {
        first.push(replica.wait_for("apply", 1).await[0].clone());
    }
    // Every replica's keeper sees the one stored token, valid.
    for replica in &replicas {
        replica.wait_for("keeper", 1).await;
    }
    // Asked again, by SIGHUP and by a line on stdin: nothing left to do.
    replicas[0].signal("HUP");
    replicas[1].say("apply");
    let again = [
        replicas[0].wait_for("apply", 2).await[1].clone(),
        replicas[1].wait_for("apply", 2).await[1].clone(),
    ];
    replicas[0].signal("TERM");
    replicas[1].signal("TERM");
    let mut done = Vec::new();
    for replica in replicas.drain(..) {
        done.push(replica.exits_cleanly().await);
    }
    let all: String = done
        .iter()
        .map(Replica::printed)
        .collect::<Vec<_>>()
        .join("\n\n");

    // The emulator: one system user, its grant once, one valid token.
    let users = emulator.system_users(demo.business_id);
    assert_eq!(users.len(), 1, "one system user: {users:?}\n{all}");
    let su = &users[0];
    assert_eq!(su.name, USER);
    assert_eq!(su.installed_apps, [demo.app_id.to_owned()]);
    assert_eq!(
        emulator.assignments(demo.ad_accounts[0]),
        [(su.id.clone(), vec!["ANALYZE".to_owned()])].into(),
        "its grant, once: {all}"
    );
    assert_eq!(
        emulator.valid_tokens_of(&su.id),
        1,
        "one valid token: {all}"
    );
    // The store: that token, under the user's key, and nothing else.
    let key = TokenKey::new(demo.business_id, su.id.as_str(), demo.app_id);
    assert_eq!(
        store.keys().await.unwrap(),
        std::slice::from_ref(&key),
        "{all}"
    );
    let stored = store.get(&key).await.unwrap().unwrap().token;
    assert!(
        emulator.token_is_valid(stored.secret().expose_secret()),
        "the valid token is the stored one: {all}"
    );
    let masked = stored.masked();

    // What they said: one applied and minted the stored token; the others lost the race or
    // found nothing to do (or only had a grant left to make); asked again, nothing to do.
    for apply in &first {
        assert_eq!(apply["trigger"], "start", "{all}");
    }
    let winners: Vec<&Value> = first
        .iter()
        .filter(|a| a["outcome"] == "applied_and_minted")
        .collect();
    assert_eq!(winners.len(), 1, "one replica minted: {all}");
    assert_eq!(
        winners[0]["tokens"],
        json!([{ "system_user": USER, "token": masked }]),
        "it reports the stored token, masked: {all}"
    );
    let lost = first.iter().filter(|a| a["outcome"] == "lost_race").count();
    for apply in first
        .iter()
        .filter(|a| a["outcome"] != "applied_and_minted")
    {
        assert!(
            ["lost_race", "nothing_to_do", "applied"].contains(&apply["outcome"].as_str().unwrap()),
            "{all}"
        );
        assert_eq!(apply["tokens"].as_array().map_or(0, Vec::len), 0, "{all}");
        if apply["outcome"] == "lost_race" {
            assert_eq!(apply["report"]["lost_races"], json!([USER]), "{all}");
        }
    }
    let minted = mints(&emulator);
    assert!(
        (1..=1 + lost).contains(&minted),
        "{minted} token(s) minted, a mint no report owns: {all}"
    );
    for (apply, trigger) in again.iter().zip(["SIGHUP", "stdin"]) {
        assert_eq!(apply["trigger"], trigger, "{all}");
        assert_eq!(apply["outcome"], "nothing_to_do", "{all}");
    }
    // Each stopped as asked, its keeper's last report on the one token, valid, healthy.
    for (replica, reason) in done.iter().zip(["SIGTERM", "SIGTERM", "--run-for"]) {
        let stopped = replica.events("stopped");
        assert_eq!(stopped.len(), 1, "{all}");
        assert_eq!(stopped[0]["reason"], reason, "{all}");
        let last = &stopped[0]["keeper"];
        assert_eq!(last["error"], Value::Null, "{all}");
        assert_eq!(last["tokens"].as_array().unwrap().len(), 1, "{all}");
        assert_eq!(
            last["tokens"][0]["key"],
            serde_json::to_value(&key).unwrap()
        );
        assert_eq!(last["tokens"][0]["state"], "valid", "{all}");
        assert_eq!(last["tokens"][0]["failed"], Value::Null, "{all}");
        // No secret printed: the stored token and the admin's only ever masked.
        let printed = replica.printed();
        assert!(!printed.contains(stored.secret().expose_secret()));
        assert!(!printed.contains(DEMO.admin_token) && !printed.contains(DEMO.app_secret));
    }
    println!(
        "{backend}: 3 replica_service processes: 1 user, {minted} token(s) minted, 1 valid, 1 stored; \
         at start: 1 applied and minted, {lost} lost the race, {} found nothing to do",
        first
            .iter()
            .filter(|a| a["outcome"] == "nothing_to_do")
            .count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replica_service_processes_on_one_file_store_converge_on_one_user_and_token() {
    let tmp = TempDir::new("file");
    let dir = tmp.0.join("tokens");
    let store = Arc::new(FileStore::open(&dir).unwrap());
    let args = vec!["--store".to_owned(), format!("file:{}", dir.display())];
    three_replicas("FileStore", store, args, Vec::new(), &tmp.0).await;
}

#[cfg(feature = "vault")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replica_service_processes_on_one_openbao_store_converge_on_one_user_and_token() {
    let tmp = TempDir::new("vault");
    // Fails, saying how to install it, when OpenBao is missing: never skipped.
    let server = crate::vault::bao::bao();
    let prefix = crate::vault::bao::unique_prefix("replica-service");
    let store = Arc::new(
        meta_business::store::VaultStore::builder(&server.addr)
            .prefix(&prefix)
            .token(server.root.clone())
            .build()
            .unwrap(),
    );
    let args = vec![
        "--store".to_owned(),
        format!("vault:{}", server.addr),
        "--vault-prefix".to_owned(),
        prefix,
    ];
    let env = vec![("VAULT_TOKEN", server.root.clone())];
    three_replicas("VaultStore (OpenBao)", store, args, env, &tmp.0).await;
}

/// Refused with `expected` in the message and no request sent, no `VAULT_*` variable set but
/// those in `extra`.
async fn refused(args: &[&str], extra: &[(&str, Option<&str>)], expected: &[&str]) {
    let mut overrides: Vec<(&str, Option<&str>)> = [
        "VAULT_ADDR",
        "VAULT_TOKEN",
        "VAULT_ROLE_ID",
        "VAULT_SECRET_ID",
    ]
    .into_iter()
    .map(|var| (var, None))
    .collect();
    overrides.extend_from_slice(extra);
    crate::examples::refused("replica_service", args, &overrides, expected).await;
}

#[tokio::test]
async fn replica_service_refuses_bad_inputs_before_sending_anything() {
    let tmp = TempDir::new("refused");
    let spec = write_spec(&tmp.0).display().to_string();
    let spec = spec.as_str();
    let store = format!("file:{}", tmp.0.join("tokens").display());
    let store = store.as_str();
    refused(
        &["--spec", spec, "--store", "s3:bucket"],
        &[],
        &["give file:DIR", "vault:ADDR"],
    )
    .await;
    refused(
        &["--spec", spec],
        &[],
        &["--store: give file:DIR or vault:ADDR"],
    )
    .await;
    refused(&["--store", store], &[], &["--spec FILE"]).await;
    refused(
        &["--spec", spec, "--store", store, "--interval", "0"],
        &[],
        &["--interval"],
    )
    .await;
    refused(
        &["--spec", spec, "--store", store],
        &[("META_APP_SECRET", None)],
        &["META_APP_SECRET is not set"],
    )
    .await;
    refused(
        &["--spec", spec, "--store", store],
        &[("META_BUSINESS_ID", Some("1000000000099"))],
        &["--spec names business 1000000000001", "1000000000099"],
    )
    .await;
    #[cfg(feature = "vault")]
    {
        refused(
            &["--spec", spec, "--store", "vault:http://127.0.0.1:9"],
            &[],
            &["VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID"],
        )
        .await;
        refused(&["--spec", spec, "--store", "vault:"], &[], &["VAULT_ADDR"]).await;
        refused(
            &["--spec", spec, "--store", "vault:ftp://vault"],
            &[("VAULT_TOKEN", Some("hvs.not-sent"))],
            &["--store:"],
        )
        .await;
    }
}

#[tokio::test]
async fn replica_service_help_lists_the_variables_it_reads() {
    let out = Command::new(crate::examples::binary("replica_service"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "META_ACCESS_TOKEN",
        "META_APP_SECRET",
        "META_APP_ID",
        "META_BUSINESS_ID",
        "META_GRAPH_URL",
        "VAULT_ADDR",
        "VAULT_TOKEN",
        "VAULT_ROLE_ID",
        "VAULT_SECRET_ID",
        "SIGHUP",
        "--store",
        "--run-for",
    ] {
        assert!(help.contains(var), "{var} not in --help:\n{help}");
    }
}

//! Several OS processes on one host sharing a `FileStore` or a `FileLock`, or (feature
//! `vault`) a `VaultLock` on a real OpenBao server.
//!
//! The replicas are this very test binary, started again to run only `replicas::replica_child`
//! (ignored in a normal run) with `MB_REPLICA_ROLE` saying what to do. They report on stdout in
//! lines starting with `REPLICA `, and start together when the parent creates a "go" file.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use meta_business::testing::{DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{
    Client, Error,
    lock::{CreateLock, FileLock},
    store::{Expect, FileStore, Minted, Put, StoredToken, TokenKey, TokenMeta, TokenStore},
};

use crate::common::StoreOutcome;

const PROCESSES: usize = 4;
/// Read-then-compare-and-set attempts of each process.
const ATTEMPTS: usize = 40;

fn key() -> TokenKey {
    TokenKey::new(DEMO.business_id, "610000000000001", DEMO.app_id)
}

fn unix_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

/// A fresh directory (mode 0700) removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "meta-business-replicas-{name}-{}-{:x}",
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

/// Starts a replica with this role and these settings.
fn spawn(role: &str, id: usize, dir: &Path, extra: &[(&str, String)]) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "replicas::replica_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MB_REPLICA_ROLE", role)
        .env("MB_REPLICA_ID", id.to_string())
        .env("MB_REPLICA_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in extra {
        command.env(name, value);
    }
    command.spawn().unwrap()
}

/// What a line of a replica's output reports (the test harness may print its own text before
/// it on the same line).
fn reported(line: &str) -> Option<&str> {
    line.find("REPLICA ")
        .map(|at| &line[at + "REPLICA ".len()..])
}

/// The `REPLICA ` lines of a finished replica, after checking that it succeeded.
fn report(child: Child) -> Vec<String> {
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "a replica failed: {text}");
    let lines: Vec<String> = text
        .lines()
        .filter_map(|l| reported(l).map(str::to_owned))
        .collect();
    assert!(!lines.is_empty(), "a replica did not run: {text}");
    lines
}

async fn reports(children: Vec<Child>) -> Vec<Vec<String>> {
    tokio::task::spawn_blocking(move || children.into_iter().map(report).collect())
        .await
        .unwrap()
}

fn go(dir: &Path) {
    std::fs::write(dir.join("go"), b"").unwrap();
}

/// The entry point of the replicas: does nothing unless started by a test below.
#[test]
#[ignore = "a replica process, started by the multi-process tests of this module"]
fn replica_child() {
    let Ok(role) = std::env::var("MB_REPLICA_ROLE") else {
        return;
    };
    let var = |name: &str| std::env::var(name).unwrap();
    let dir = PathBuf::from(var("MB_REPLICA_DIR"));
    let id: usize = var("MB_REPLICA_ID").parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        match role.as_str() {
            "cas" => replica_cas(&dir, id).await,
            "create" => replica_create(&dir, id, &var("MB_REPLICA_URL")).await,
            #[cfg(feature = "vault")]
            "vault-create" => vault::create(&dir, id, &var("MB_REPLICA_URL")).await,
            #[cfg(feature = "vault")]
            "vault-hold" => vault::hold().await,
            #[cfg(feature = "vault")]
            "vault-wait" => vault::wait().await,
            "hold" => {
                let lock = FileLock::open(&dir).unwrap();
                let _guard = lock.acquire(&DEMO.business_id.into()).await.unwrap();
                println!("REPLICA held");
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            "wait" => {
                let lock = FileLock::open(&dir).unwrap();
                println!("REPLICA waiting");
                let guard = lock.acquire(&DEMO.business_id.into()).await.unwrap();
                println!("REPLICA acquired {}", unix_micros());
                tokio::time::sleep(Duration::from_millis(30)).await;
                println!("REPLICA released {}", unix_micros());
                drop(guard);
            }
            other => panic!("unknown role {other}"),
        }
    });
}

async fn wait_for_go(dir: &Path) {
    while !dir.join("go").exists() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn replica_cas(dir: &Path, id: usize) {
    let store = FileStore::open(dir.join("store")).unwrap();
    wait_for_go(dir).await;
    for attempt in 0..ATTEMPTS {
        let read = store.get(&key()).await.unwrap().expect("the key is stored");
        let tag = format!("p{id}-{attempt}");
        let token = StoredToken::new(
            key(),
            format!("EAAB-{tag}"),
            TokenMeta::new([], None, Minted::Refreshed).named(&tag),
        );
        match store
            .put(token, Expect::Version(read.version))
            .await
            .unwrap()
        {
            Put::Written(v) => {
                println!("REPLICA won {} {} {tag}", read.version.get(), v.get());
            }
            Put::Conflict(c) => println!("REPLICA lost {:?}", c.current),
            other => panic!("{other:?}"),
        }
    }
}

async fn replica_create(dir: &Path, id: usize, url: &str) {
    create_with(dir, id, url, FileLock::open(dir.join("locks")).unwrap()).await;
}

async fn create_with(dir: &Path, id: usize, url: &str, lock: impl CreateLock) {
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
        Ok(_) => println!("REPLICA created"),
        Err(Error::QuotaExceeded { .. }) => println!("REPLICA quota"),
        Err(e) => println!("REPLICA error {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_racing_compare_and_set_on_one_key_win_once_per_version() {
    let tmp = TempDir::new("cas");
    let store = FileStore::open(tmp.0.join("store")).unwrap();
    let start = StoredToken::new(
        key(),
        "EAAB-start",
        TokenMeta::new([], None, Minted::Generated).named("start"),
    );
    let first = store.put(start, Expect::Absent).await.done();
    let children = (0..PROCESSES)
        .map(|id| spawn("cas", id, &tmp.0, &[]))
        .collect();
    go(&tmp.0);
    let lines: Vec<String> = reports(children).await.into_iter().flatten().collect();
    // (expected version, written version, tag) of every write that won.
    let mut wins: Vec<(u64, u64, String)> = lines
        .iter()
        .filter_map(|l| {
            let mut parts = l.strip_prefix("won ")?.split(' ');
            let from = parts.next()?.parse().ok()?;
            let to = parts.next()?.parse().ok()?;
            Some((from, to, parts.next()?.to_owned()))
        })
        .collect();
    let lost = lines.iter().filter(|l| l.starts_with("lost ")).count();
    assert_eq!(wins.len() + lost, PROCESSES * ATTEMPTS, "{lines:?}");
    // One chain from the first version: each version was written over exactly once.
    wins.sort();
    let mut at = first.get();
    for (from, to, _) in &wins {
        assert_eq!(
            *from, at,
            "two writes won over one version, or a gap: {wins:?}"
        );
        assert!(to > from);
        at = *to;
    }
    let last = store.get(&key()).await.unwrap().unwrap();
    assert_eq!(last.version.get(), at);
    let tag = &wins.last().unwrap().2;
    assert_eq!(last.token.meta.system_user_name.as_deref(), Some(&**tag));
    assert_eq!(
        meta_business::ExposeSecret::expose_secret(last.token.secret()),
        format!("EAAB-{tag}")
    );
    println!(
        "cas: {PROCESSES} processes x {ATTEMPTS} attempts: {} won, {lost} conflicts",
        wins.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_creating_with_a_file_lock_create_one_and_refuse_three_before_sending() {
    four_creates("create", &[]).await;
}

/// Four processes create a system user each on a Limited-tier business, sharing the lock the
/// role sets up: one is created, three are refused before sending.
async fn four_creates(role: &str, extra: &[(&str, String)]) {
    let tmp = TempDir::new("create");
    let (emulator, demo) = GraphEmulator::demo().await;
    // A slow quota check (the list of system users) leaves every process time to read the
    // quota before another's create lands: only the lock keeps them apart.
    emulator.inject(
        FaultRule::new(Fault::Delay(Duration::from_millis(200))).on("GET", "/system_users"),
    );
    let url = emulator.uri();
    let children = (0..PROCESSES)
        .map(|id| {
            let mut env = vec![("MB_REPLICA_URL", url.clone())];
            env.extend(extra.iter().cloned());
            spawn(role, id, &tmp.0, &env)
        })
        .collect();
    go(&tmp.0);
    let lines: Vec<String> = reports(children).await.into_iter().flatten().collect();
    let count = |what: &str| lines.iter().filter(|l| *l == what).count();
    assert_eq!((count("created"), count("quota")), (1, 3), "{lines:?}");
    assert_eq!(emulator.system_users(demo.business_id).len(), 1);
    let creates = emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/system_users"))
        .count();
    assert_eq!(creates, 1, "the refused creates were never sent");
}

/// Reads `REPLICA ` lines of a running child until one equals `want`.
fn wait_line(child: &mut Child, want: &str) -> BufReader<std::process::ChildStdout> {
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "no {want:?}");
        if reported(line.trim_end()) == Some(want) {
            return reader;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_lock_holder_killed_with_sigkill_frees_the_lock_within_a_second() {
    let tmp = TempDir::new("kill");
    let mut holder = spawn("hold", 0, &tmp.0, &[]);
    let holder_out = tokio::task::spawn_blocking(move || {
        let out = wait_line(&mut holder, "held");
        (holder, out)
    });
    let (mut holder, _out) = holder_out.await.unwrap();
    let waiters: Vec<Child> = (1..=3).map(|id| spawn("wait", id, &tmp.0, &[])).collect();
    let waiters = tokio::task::spawn_blocking(move || {
        waiters
            .into_iter()
            .map(|mut w| {
                let out = wait_line(&mut w, "waiting");
                (w, out)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    // The waiters wait: the holder still has it (their next tries fail).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let probe = FileLock::open(&tmp.0).unwrap();
    let business = DEMO.business_id.into();
    assert!(
        tokio::time::timeout(Duration::from_millis(100), probe.acquire(&business))
            .await
            .is_err(),
        "the lock is held"
    );
    let killed_at = unix_micros();
    let started = Instant::now();
    holder.kill().unwrap(); // SIGKILL
    let times = tokio::task::spawn_blocking(move || {
        let _ = holder.wait();
        waiters
            .into_iter()
            .map(|(mut w, mut out)| {
                let mut rest = String::new();
                std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
                assert!(w.wait().unwrap().success());
                let field = |what: &str| -> u128 {
                    rest.lines()
                        .find_map(|l| {
                            l.strip_prefix(&format!("REPLICA {what} "))
                                .map(str::to_owned)
                        })
                        .unwrap()
                        .parse()
                        .unwrap()
                };
                (field("acquired"), field("released"))
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let mut times = times;
    times.sort();
    assert!(
        times[0].0 > killed_at,
        "taken before the holder died: {times:?}"
    );
    let hand_over = Duration::from_micros(u64::try_from(times[0].0 - killed_at).unwrap());
    // One holder at a time.
    for pair in times.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "two holders at once: {times:?}");
    }
    assert!(
        hand_over < Duration::from_secs(1),
        "hand-over after SIGKILL took {hand_over:?}"
    );
    println!(
        "SIGKILL hand-over: {hand_over:?}; all 3 waiters done {:?} after the kill",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_file_lock_is_held_until_its_guard_drops_and_refuses_what_is_not_its_own() {
    let tmp = TempDir::new("lock");
    let lock = FileLock::open(tmp.0.join("locks")).unwrap();
    let business = DEMO.business_id.into();
    let guard = lock.acquire(&business).await.unwrap();
    // Another handle (as another process would open it) waits while the guard lives.
    let other = FileLock::open(tmp.0.join("locks")).unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(150), other.acquire(&business));
    assert!(waiting.await.is_err(), "taken twice");
    // Another business is another lock.
    let _else = other.acquire(&"1000000000002".into()).await.unwrap();
    drop(guard);
    let again = tokio::time::timeout(Duration::from_millis(500), other.acquire(&business));
    let _again = again.await.expect("released at drop").unwrap();

    // A bad id names no file at all.
    let err = other.acquire(&"../1".into()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    // A link in a lock's place is not followed.
    let target = tmp.0.join("elsewhere");
    std::fs::write(&target, b"not a lock").unwrap();
    let link = tmp.0.join("locks").join("create-1000000000003.lock");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = other.acquire(&"1000000000003".into()).await.unwrap_err();
    assert!(matches!(err, Error::Lock { .. }), "{err}");
    assert!(err.to_string().contains(&*link.to_string_lossy()), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"not a lock");
    // A directory others can enter is refused.
    let open = tmp.0.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let err = FileLock::open(&open).unwrap_err();
    assert!(err.to_string().contains("chmod 700"), "{err}");
}

/// The same with a `VaultLock` on the binary's OpenBao server: the lock is all the processes
/// share, and a holder's death is noticed only through the lease it stops renewing.
#[cfg(feature = "vault")]
mod vault {
    use super::*;

    /// The lease of these tests: a killed holder's lock is taken over after about this long.
    const LEASE: Duration = Duration::from_millis(1000);

    fn lock() -> meta_business::store::VaultLock {
        let var = |name: &str| std::env::var(name).unwrap();
        meta_business::store::VaultStore::builder(var("MB_REPLICA_VAULT"))
            .token(var("MB_REPLICA_VAULT_TOKEN"))
            .prefix(var("MB_REPLICA_VAULT_PREFIX"))
            .build()
            .unwrap()
            .create_lock()
            .lease(LEASE)
    }

    fn env(test: &str) -> Vec<(&'static str, String)> {
        let server = crate::vault::bao::bao();
        vec![
            ("MB_REPLICA_VAULT", server.addr.clone()),
            ("MB_REPLICA_VAULT_TOKEN", server.root.clone()),
            (
                "MB_REPLICA_VAULT_PREFIX",
                crate::vault::bao::unique_prefix(test),
            ),
        ]
    }

    pub(super) async fn create(dir: &Path, id: usize, url: &str) {
        create_with(dir, id, url, lock()).await;
    }

    pub(super) async fn hold() {
        let _guard = lock().acquire(&DEMO.business_id.into()).await.unwrap();
        println!("REPLICA held");
        tokio::time::sleep(Duration::from_secs(60)).await;
    }

    pub(super) async fn wait() {
        println!("REPLICA waiting");
        let guard = lock().acquire(&DEMO.business_id.into()).await.unwrap();
        println!("REPLICA acquired {}", unix_micros());
        tokio::time::sleep(Duration::from_millis(30)).await;
        println!("REPLICA released {}", unix_micros());
        drop(guard);
        // The release is written by a task of the runtime: give it time before exiting.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_processes_creating_with_a_vault_lock_create_one_and_refuse_three_before_sending()
    {
        four_creates("vault-create", &env("lock-create")).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_vault_lock_holder_killed_with_sigkill_is_taken_over_after_one_lease() {
        let tmp = TempDir::new("vault-kill");
        let env = env("lock-kill");
        let mut holder = spawn("vault-hold", 0, &tmp.0, &env);
        let (mut holder, _out) = tokio::task::spawn_blocking(move || {
            let out = wait_line(&mut holder, "held");
            (holder, out)
        })
        .await
        .unwrap();
        let waiters: Vec<Child> = (1..=3)
            .map(|id| spawn("vault-wait", id, &tmp.0, &env))
            .collect();
        let waiters = tokio::task::spawn_blocking(move || {
            waiters
                .into_iter()
                .map(|mut w| {
                    let out = wait_line(&mut w, "waiting");
                    (w, out)
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        // Three leases of waiting: the holder renews, nobody takes it.
        tokio::time::sleep(LEASE * 3).await;
        let killed_at = unix_micros();
        holder.kill().unwrap(); // SIGKILL: no release is ever written.
        let mut times = tokio::task::spawn_blocking(move || {
            let _ = holder.wait();
            waiters
                .into_iter()
                .map(|(mut w, mut out)| {
                    let mut rest = String::new();
                    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
                    assert!(w.wait().unwrap().success(), "{rest}");
                    let field = |what: &str| -> u128 {
                        rest.lines()
                            .find_map(|l| {
                                reported(l)?
                                    .strip_prefix(&format!("{what} "))
                                    .map(str::to_owned)
                            })
                            .unwrap()
                            .parse()
                            .unwrap()
                    };
                    (field("acquired"), field("released"))
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        times.sort();
        assert!(
            times[0].0 > killed_at,
            "taken while the holder lived: {times:?}"
        );
        for pair in times.windows(2) {
            assert!(pair[0].1 <= pair[1].0, "two holders at once: {times:?}");
        }
        let hand_over = Duration::from_micros(u64::try_from(times[0].0 - killed_at).unwrap());
        // Between the last renewal and the kill up to a third of a lease passes, and a waiter
        // needs one whole lease of the same version: at most about 4/3 of a lease, plus polls.
        assert!(
            hand_over < LEASE * 2,
            "hand-over after SIGKILL took {hand_over:?}"
        );
        let last = Duration::from_micros(u64::try_from(times[2].0 - killed_at).unwrap());
        println!(
            "VaultLock (lease {LEASE:?}) SIGKILL hand-over: {hand_over:?}; the 3rd waiter had it {last:?} after the kill"
        );
    }
}

//! A service replica: the token keeper on an interval, and a desired state applied at start
//! and whenever asked. Run several at once over one token store: they converge on one system
//! user and one valid token, the stored one.
//!
//! ```text
//! cargo run --example replica_service                      # on the embedded emulator
//! cargo run --example replica_service -- --run-for 5       # ... for five seconds
//!
//! # several replicas on one host, sharing a Graph emulator and a file store:
//! cargo run --example graph_emulator                       # paste its exports in each shell
//! cargo run --example replica_service -- --spec examples/provision.toml --store file:./tokens
//!
//! # a fleet, sharing OpenBao or Vault (KV version 2):
//! VAULT_TOKEN=... cargo run --example replica_service --features vault -- \
//!     --spec my.toml --store vault:https://vault.internal:8200
//! ```
//!
//! - `--store file:DIR`: a `FileStore` in DIR (compare-and-set across the processes of one
//!   host) and a `FileLock` in DIR, so that replicas never create a system user twice.
//! - `--store vault:ADDR` (feature `vault`): a `VaultStore` on the KV version 2 engine at ADDR
//!   (`vault:` alone reads `VAULT_ADDR`), logged in with `VAULT_TOKEN`, or with an AppRole
//!   (`VAULT_ROLE_ID`, `VAULT_SECRET_ID`). Creates are serialized by the store's `VaultLock`
//!   (a lease in the same server, for a fleet), or by `--lock-dir DIR` on one host. The
//!   companion crate `meta-business-postgres` has the third store to pick, `PostgresStore`
//!   (tokens encrypted at rest), and its lock, `PgCreateLock`.
//!
//! It applies the `--spec` file (the format of `examples/provision.toml`) at start, on
//! `SIGHUP`, and on each line read on stdin (`stop` on stdin stops it). It stops on `SIGTERM`,
//! Ctrl-C or after `--run-for SECS`, after the apply in progress: it stops the keeper and
//! prints its last report. Every plan, apply report and keeper report is printed (tokens
//! masked), as text or, with `--json`, one JSON object a line. Exit status: 0; 1 when the last
//! apply did not complete or the keeper's last report is not healthy; 2 for a bad input, which
//! is refused before anything is sent.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use meta_business::provision::{self, ApplyReport, Plan, PlanOptions, Spec};
use meta_business::{
    keeper::{KeeperHandle, KeeperReport, TokenKeeper},
    lock::FileLock,
    store::{FileStore, MemoryStore, TokenStore},
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const ENVIRONMENT: &str = "\
Environment:
  META_ACCESS_TOKEN   the admin's token; unset: run on an embedded Graph emulator
  META_APP_SECRET     the app's secret (the keeper inspects and refreshes tokens as the app)
  META_APP_ID         the app whose tokens are kept
  META_BUSINESS_ID    the business the spec names
  META_GRAPH_URL      the Graph API's address (a Graph emulator's, for tests)
  META_API_VERSION    the Graph API version
  META_ACCESS_TIER    limited or full
  VAULT_ADDR          the Vault or OpenBao address, for `--store vault:`
  VAULT_TOKEN         the Vault token of `--store vault:ADDR`, or:
  VAULT_ROLE_ID       an AppRole's role id and
  VAULT_SECRET_ID     its secret id (the store logs in and renews its own token)

Signals: SIGHUP (or a line on stdin) applies the spec again; SIGTERM, Ctrl-C (or `stop` on
stdin) stop after the apply in progress.";

#[derive(Parser)]
#[command(
    about = "A service replica: the token keeper on an interval, the spec applied on demand",
    after_help = ENVIRONMENT
)]
struct Args {
    /// The desired state (.toml or .json); on the emulator, examples/provision.toml by default.
    #[arg(long)]
    spec: Option<PathBuf>,
    /// The token store every replica shares: `file:DIR` or `vault:ADDR` (feature `vault`);
    /// on the emulator, in memory by default.
    #[arg(long)]
    store: Option<String>,
    /// The KV version 2 mount of `--store vault:`.
    #[arg(long, default_value = "secret")]
    vault_mount: String,
    /// The folder of the tokens in the mount, for `--store vault:`.
    #[arg(long, default_value = "meta-business")]
    vault_prefix: String,
    /// A directory for the create lock (`FileLock`) the replicas of this host share; by
    /// default the `file:` store's directory, and for `vault:` the store's `VaultLock`.
    #[arg(long)]
    lock_dir: Option<PathBuf>,
    /// Seconds between two keeper passes.
    #[arg(long, default_value_t = 3600)]
    interval: u64,
    /// The keeper refreshes the tokens that expire within this many days.
    #[arg(long, default_value_t = 14)]
    within_days: u64,
    /// Stop after this many seconds (for tests and demos).
    #[arg(long)]
    run_for: Option<u64>,
    /// The name printed with each line (default: `replica-<pid>`).
    #[arg(long)]
    name: Option<String>,
    /// One JSON object a line.
    #[arg(long)]
    json: bool,
}

/// `--store`, parsed.
enum StoreFlag {
    File(PathBuf),
    Vault(String),
}

/// Reads `--store`, and for `vault:` its credentials: every problem before anything is sent.
fn parse_store(raw: &str) -> Result<StoreFlag, String> {
    if let Some(dir) = raw.strip_prefix("file:") {
        if dir.is_empty() {
            return Err("--store file:DIR: name the directory".to_owned());
        }
        return Ok(StoreFlag::File(PathBuf::from(dir)));
    }
    if let Some(addr) = raw.strip_prefix("vault:") {
        if !cfg!(feature = "vault") {
            return Err("--store vault: needs the `vault` feature: \
                 cargo run --example replica_service --features vault -- ..."
                .to_owned());
        }
        let addr = match addr {
            "" => env("VAULT_ADDR")
                .ok_or("--store vault: without an address reads VAULT_ADDR, which is not set")?,
            addr => addr.to_owned(),
        };
        return Ok(StoreFlag::Vault(addr));
    }
    Err(format!(
        "--store {raw:?}: give file:DIR (one host) or vault:ADDR (OpenBao or Vault, feature `vault`)"
    ))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The create lock the replicas share.
enum SharedLock {
    /// `--lock-dir`, or the `file:` store's directory: the processes of one host.
    File(FileLock),
    /// The `vault:` store's own lease lock: a fleet sharing that server.
    #[cfg(feature = "vault")]
    Vault(meta_business::store::VaultLock),
    #[cfg(not(feature = "vault"))]
    #[allow(dead_code)]
    Vault(std::convert::Infallible),
}

#[cfg(feature = "vault")]
fn vault_store(addr: &str, args: &Args) -> Result<(Arc<dyn TokenStore>, SharedLock), String> {
    let store = vault_store_only(addr, args)?;
    let lock = SharedLock::Vault(store.create_lock());
    Ok((Arc::new(store), lock))
}

#[cfg(feature = "vault")]
fn vault_store_only(addr: &str, args: &Args) -> Result<meta_business::store::VaultStore, String> {
    let builder = meta_business::store::VaultStore::builder(addr)
        .mount(args.vault_mount.as_str())
        .prefix(args.vault_prefix.as_str());
    let builder = match (
        env("VAULT_TOKEN"),
        env("VAULT_ROLE_ID"),
        env("VAULT_SECRET_ID"),
    ) {
        (Some(token), None, None) => builder.token(token),
        (None, Some(role), Some(secret)) => builder.approle(role, secret),
        (Some(_), _, _) => {
            return Err("set VAULT_TOKEN or VAULT_ROLE_ID and VAULT_SECRET_ID, not both".into());
        }
        _ => {
            return Err(
                "--store vault: set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID (an AppRole)"
                    .into(),
            );
        }
    };
    builder.build().map_err(|e| format!("--store: {e}"))
}

#[cfg(not(feature = "vault"))]
fn vault_store(_addr: &str, _args: &Args) -> Result<(Arc<dyn TokenStore>, SharedLock), String> {
    Err("--store vault: needs the `vault` feature".to_owned())
}

/// What the replica runs with, every input checked.
struct Service {
    target: common::Target,
    spec: Spec,
    store: Arc<dyn TokenStore>,
    /// The store and lock, for people.
    store_name: String,
    name: String,
    json: bool,
}

async fn setup(args: &Args) -> Result<Service, String> {
    let store_flag = args.store.as_deref().map(parse_store).transpose()?;
    if args.interval == 0 {
        return Err("--interval: give at least 1 second".to_owned());
    }
    let spec_path = match &args.spec {
        Some(path) => Some(path.clone()),
        None if env("META_ACCESS_TOKEN").is_none() => Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/provision.toml"
        ))),
        None => None,
    };
    let Some(spec_path) = spec_path else {
        return Err(
            "--spec FILE: the desired state to apply (the format of examples/provision.toml)"
                .to_owned(),
        );
    };
    let spec = Spec::from_path(&spec_path).map_err(|e| format!("--spec: {e}"))?;
    let (store, store_lock): (Option<Arc<dyn TokenStore>>, _) = match &store_flag {
        Some(StoreFlag::File(dir)) => (
            Some(Arc::new(
                FileStore::open(dir).map_err(|e| format!("--store: {e}"))?,
            )),
            None,
        ),
        Some(StoreFlag::Vault(addr)) => {
            let (store, lock) = vault_store(addr, args)?;
            (Some(store), Some(lock))
        }
        None => (None, None),
    };
    let lock_dir = args.lock_dir.clone().or(match &store_flag {
        Some(StoreFlag::File(dir)) => Some(dir.clone()),
        _ => None,
    });
    let mut store_name = match &store_flag {
        Some(StoreFlag::File(dir)) => format!("FileStore in {}", dir.display()),
        Some(StoreFlag::Vault(addr)) => format!(
            "VaultStore at {addr}, {}/{}",
            args.vault_mount, args.vault_prefix
        ),
        None => "MemoryStore (this process only)".to_owned(),
    };
    let lock = match lock_dir {
        Some(dir) => {
            store_name.push_str(&format!("; create lock: FileLock in {}", dir.display()));
            let lock =
                FileLock::open(&dir).map_err(|e| format!("--lock-dir {}: {e}", dir.display()))?;
            Some(SharedLock::File(lock))
        }
        None => store_lock,
    };
    if matches!(lock, Some(SharedLock::Vault(_))) {
        store_name.push_str(&format!(
            "; create lock: VaultLock in {}/_locks",
            args.vault_prefix
        ));
    }
    let target = common::target_configured(&[common::Need::AppSecret], |builder| match lock {
        Some(SharedLock::File(lock)) => builder.create_lock(lock),
        #[cfg(feature = "vault")]
        Some(SharedLock::Vault(lock)) => builder.create_lock(lock),
        #[cfg(not(feature = "vault"))]
        Some(SharedLock::Vault(never)) => match never {},
        None => builder,
    })
    .await?;
    // The keeper inspects and refreshes as the app.
    target.require(&[common::Need::AppSecret])?;
    if spec.business != target.business {
        return Err(format!(
            "--spec names business {}, but the target is business {} (META_BUSINESS_ID)",
            spec.business, target.business
        ));
    }
    let store = match store {
        Some(store) => store,
        // The emulator forgets everything when the example ends: a store in memory will do.
        None if target.emulator.is_some() => Arc::new(MemoryStore::new()),
        None => {
            return Err(
                "--store: give file:DIR or vault:ADDR, the store every replica shares".into(),
            );
        }
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("replica-{}", std::process::id()));
    Ok(Service {
        target,
        spec,
        store,
        store_name,
        name,
        json: args.json,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let service = match setup(&args).await {
        Ok(service) => service,
        Err(message) => {
            eprintln!("replica_service failed: {message}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "{}: target {}; store {}",
        service.name, service.target.description, service.store_name
    );
    match serve(&service, &args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("replica_service failed: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What asks the replica to act.
enum Event {
    Apply(&'static str),
    Stop(&'static str),
}

/// Lines on stdin, read on a thread of their own (a blocked read never holds the runtime).
fn stdin_lines(events: mpsc::Sender<Event>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            let event = match line.trim() {
                "stop" => Event::Stop("stop on stdin"),
                _ => Event::Apply("stdin"),
            };
            if events.blocking_send(event).is_err() {
                break;
            }
        }
    });
}

/// SIGHUP applies, SIGTERM and Ctrl-C stop.
fn signals(events: mpsc::Sender<Event>) -> Result<(), String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup()).map_err(|e| format!("SIGHUP: {e}"))?;
        let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
        let on_hup = events.clone();
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                if on_hup.send(Event::Apply("SIGHUP")).await.is_err() {
                    break;
                }
            }
        });
        let on_term = events.clone();
        tokio::spawn(async move {
            if term.recv().await.is_some() {
                let _ = on_term.send(Event::Stop("SIGTERM")).await;
            }
        });
    }
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = events.send(Event::Stop("Ctrl-C")).await;
        }
    });
    Ok(())
}

/// The service loop; whether the last apply completed and the keeper's last report is
/// healthy.
async fn serve(service: &Service, args: &Args) -> Result<bool, String> {
    let (events, mut asked) = mpsc::channel(16);
    signals(events.clone())?;
    stdin_lines(events.clone());
    if let Some(secs) = args.run_for {
        let events = events.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            let _ = events.send(Event::Stop("--run-for")).await;
        });
    }
    drop(events);
    let mut applied_ok = service.apply("start").await;
    // After the first apply, so that the first pass sees the tokens it stored.
    let keeper = TokenKeeper::new(service.target.client.clone(), Arc::clone(&service.store))
        .refresh_within(Duration::from_secs(args.within_days * 86_400))
        .spawn(Duration::from_secs(args.interval));
    let mut printed: Option<KeeperReport> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let reason = loop {
        tokio::select! {
            event = asked.recv() => match event {
                Some(Event::Apply(trigger)) => applied_ok = service.apply(trigger).await,
                Some(Event::Stop(reason)) => break reason,
                None => break "no way left to be asked",
            },
            _ = tick.tick() => service.print_new_keeper_report(&keeper, &mut printed),
        }
    };
    service.print_new_keeper_report(&keeper, &mut printed);
    let last = keeper.stop().await;
    let healthy = last.as_ref().is_none_or(KeeperReport::is_healthy);
    service.emit(
        json!({"event": "stopped", "reason": reason, "keeper": last}),
        || {
            let last = last.as_ref().map_or_else(
                || "no pass finished".to_owned(),
                |r| r.summary().to_string(),
            );
            format!("stopped ({reason}); the keeper's last report: {last}")
        },
    );
    Ok(applied_ok && healthy)
}

impl Service {
    /// One line: JSON (with the replica's name) or text.
    fn emit(&self, mut value: Value, text: impl FnOnce() -> String) {
        if self.json {
            value["replica"] = json!(self.name);
            println!("{value}");
        } else {
            for line in text().lines() {
                println!("[{}] {line}", self.name);
            }
        }
    }

    /// The keeper's report, when a pass finished since the last one printed.
    fn print_new_keeper_report(&self, keeper: &KeeperHandle, printed: &mut Option<KeeperReport>) {
        let Some(report) = keeper.last_report() else {
            return;
        };
        if printed.as_ref() == Some(&report) {
            return;
        }
        self.emit(json!({"event": "keeper", "report": report}), || {
            format!("keeper pass:\n{report}")
        });
        *printed = Some(report);
    }

    /// Plans and applies the spec; whether it completed.
    async fn apply(&self, trigger: &'static str) -> bool {
        let options = PlanOptions::default().store(Arc::clone(&self.store));
        let plan = match provision::plan(&self.target.client, &self.spec, &options).await {
            Ok(plan) => plan,
            Err(e) => {
                let error = e.to_string();
                self.emit(
                    json!({"event": "apply", "trigger": trigger, "outcome": "plan_failed", "error": error}),
                    || format!("apply ({trigger}): planning failed: {error}"),
                );
                return false;
            }
        };
        self.emit(
            json!({"event": "plan", "trigger": trigger, "changes": plan.changes.len(), "plan": plan}),
            || format!("plan ({trigger}):\n{plan}"),
        );
        if plan.is_empty() {
            self.emit(
                json!({"event": "apply", "trigger": trigger, "outcome": "nothing_to_do"}),
                || format!("apply ({trigger}): nothing to do"),
            );
            return true;
        }
        let report = plan.apply(&self.target.client).await;
        self.print_apply(trigger, &plan, &report);
        report.is_complete()
    }

    fn print_apply(&self, trigger: &str, plan: &Plan, report: &ApplyReport) {
        let outcome = if !report.is_complete() {
            "failed"
        } else if !report.lost_races.is_empty() {
            "lost_race"
        } else if !report.tokens.is_empty() {
            "applied_and_minted"
        } else {
            "applied"
        };
        let tokens: Vec<Value> = report
            .tokens
            .iter()
            .map(|(name, token)| json!({"system_user": name, "token": token.masked()}))
            .collect();
        self.emit(
            json!({
                "event": "apply",
                "trigger": trigger,
                "outcome": outcome,
                "planned": plan.changes.len(),
                "report": report,
                "tokens": tokens,
            }),
            || {
                let mut text = format!("apply ({trigger}): {outcome}\n{report}");
                for (name, token) in &report.tokens {
                    text.push_str(&format!(
                        "\ntoken for {name:?}: {} (stored)",
                        token.masked()
                    ));
                }
                text
            },
        );
    }
}

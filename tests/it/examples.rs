//! The examples' bad-input paths: each example, pointed at an emulator through the `META_*`
//! variables as a user would point it at Meta, refuses a wrong input with a message that says
//! what to pass instead, and sends nothing.
//!
//! The example binaries are the ones `cargo test` builds beside this test (it builds every
//! example); run `cargo build --examples --all-features` first when running this test alone.

use std::path::PathBuf;
use std::process::{Command, Output};

use meta_business::testing::{DEMO, GraphEmulator};

/// `target/<profile>/examples/<name>`, beside this test's own `target/<profile>/deps/`.
pub(crate) fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is not built: run `cargo test --all-features` (it builds the examples) or `cargo build --examples --all-features`",
        path.display()
    );
    path
}

/// The variables of a real run, aimed at `emulator`, with `overrides` applied (`None` unsets).
fn env_for(
    emulator: &GraphEmulator,
    overrides: &[(&str, Option<&str>)],
) -> Vec<(String, Option<String>)> {
    let mut vars: Vec<(String, Option<String>)> = [
        ("META_ACCESS_TOKEN", Some(DEMO.admin_token.to_owned())),
        ("META_APP_SECRET", Some(DEMO.app_secret.to_owned())),
        ("META_APP_ID", Some(DEMO.app_id.to_owned())),
        ("META_BUSINESS_ID", Some(DEMO.business_id.to_owned())),
        ("META_GRAPH_URL", Some(emulator.uri())),
        ("META_API_VERSION", None),
        ("META_ACCESS_TIER", None),
        ("META_PARTNER_ADMIN_TOKEN", None),
        ("META_PARTNER_BUSINESS_ID", None),
        ("META_CLIENT_BUSINESS_ID", None),
        ("META_CLIENT_ADMIN_TOKEN", None),
        ("META_CLIENT_PAGE_ID", None),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (name, value) in overrides {
        let value = value.map(str::to_owned);
        match vars.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => vars.push(((*name).to_owned(), value)),
        }
    }
    vars
}

async fn run(name: &str, args: &[&str], env: Vec<(String, Option<String>)>) -> Output {
    let mut command = Command::new(binary(name));
    command.args(args).env("NO_COLOR", "1");
    for (k, v) in env {
        match v {
            Some(v) => command.env(k, v),
            None => command.env_remove(k),
        };
    }
    tokio::task::spawn_blocking(move || command.output().expect("the example starts"))
        .await
        .expect("join")
}

/// Runs an example with a bad input and asserts: a failure, `expected` in its message, and not
/// one request at the emulator.
pub(crate) async fn refused(
    name: &str,
    args: &[&str],
    overrides: &[(&str, Option<&str>)],
    expected: &[&str],
) {
    let emulator = GraphEmulator::demo().await.0;
    let out = run(name, args, env_for(&emulator, overrides)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{name} {args:?} succeeded:\n{stderr}"
    );
    for text in expected {
        assert!(
            stderr.contains(text),
            "{name} {args:?}: {text:?} not in its message:\n{stderr}"
        );
    }
    assert!(
        emulator.requests().is_empty(),
        "{name} {args:?} sent {} request(s) before refusing: {:?}",
        emulator.requests().len(),
        emulator.requests()
    );
    assert!(
        !stderr.contains(DEMO.admin_token) && !stderr.contains(DEMO.app_secret),
        "a secret in the message:\n{stderr}"
    );
}

#[tokio::test]
async fn the_harness_reaches_the_emulator_when_the_input_is_good() {
    // The control for every test below: the same variables do reach the emulator.
    let emulator = GraphEmulator::demo().await.0;
    let out = run("system_users", &[], env_for(&emulator, &[])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!emulator.requests().is_empty());
    assert!(String::from_utf8_lossy(&out.stdout).contains("system users"));
}

#[tokio::test]
async fn quickstart_refuses_bad_ids_names_files_and_missing_variables() {
    refused(
        "quickstart",
        &["--ad-account", "act_abc"],
        &[],
        &["--ad-account", "act_"],
    )
    .await;
    refused("quickstart", &["--page", "my-page"], &[], &["--page"]).await;
    refused(
        "quickstart",
        &["--name", "pay\u{202E}lol"],
        &[],
        &["--name", "bidirectional"],
    )
    .await;
    refused(
        "quickstart",
        &["--token-file", "/nonexistent-dir/x.token"],
        &[],
        &["--token-file", "does not exist"],
    )
    .await;
    // Both missing variables in one message.
    refused(
        "quickstart",
        &[],
        &[("META_APP_ID", None), ("META_APP_SECRET", None)],
        &["META_APP_ID is not set", "META_APP_SECRET is not set"],
    )
    .await;
    refused(
        "quickstart",
        &[],
        &[("META_BUSINESS_ID", None), ("META_APP_ID", Some("app-1"))],
        &["META_BUSINESS_ID is not set", "META_APP_ID:"],
    )
    .await;
}

#[tokio::test]
async fn system_users_refuses_a_bad_name() {
    refused(
        "system_users",
        &["--create", "   "],
        &[],
        &["--create", "must not be empty"],
    )
    .await;
}

#[tokio::test]
async fn bulk_assign_refuses_a_bad_system_user_and_zero_concurrency() {
    refused(
        "bulk_assign",
        &["--system-user", "abc"],
        &[],
        &["--system-user"],
    )
    .await;
    refused(
        "bulk_assign",
        &["--concurrency", "0"],
        &[],
        &["--concurrency", "at least 1"],
    )
    .await;
}

#[tokio::test]
async fn provision_refuses_a_missing_file_and_a_token_without_the_secret() {
    refused(
        "provision",
        &["--file", "/nonexistent/provision.toml"],
        &[],
        &["--file"],
    )
    .await;
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/provision.toml");
    refused(
        "provision",
        &["--file", example],
        &[("META_APP_SECRET", None)],
        &["META_APP_SECRET is not set"],
    )
    .await;
    // Tokens are minted only into a store: without one, nothing is planned.
    refused("provision", &["--file", example], &[], &["--token-dir"]).await;
    refused(
        "provision",
        &["--file", example, "--token-dir", example],
        &[],
        &["--token-dir", "not a directory"],
    )
    .await;
}

#[tokio::test]
async fn offboard_refuses_a_bad_id_and_no_user() {
    refused("offboard", &["--id", "12x"], &[], &["--id"]).await;
    refused("offboard", &[], &[], &["--id <id> or --name <name>"]).await;
    refused("offboard", &["--name", "\u{200B}"], &[], &["--name"]).await;
}

#[tokio::test]
async fn rotate_token_refuses_a_missing_file_and_a_missing_secret() {
    refused("rotate_token", &[], &[], &["--token-file PATH"]).await;
    refused(
        "rotate_token",
        &["--token-file", "/nonexistent/t.token"],
        &[],
        &["does not exist"],
    )
    .await;
    refused(
        "rotate_token",
        &["--token-file", "/nonexistent/t.token"],
        &[("META_APP_SECRET", None)],
        &["META_APP_SECRET is not set"],
    )
    .await;
}

#[tokio::test]
async fn doctor_and_audit_refuse_bad_input() {
    refused("doctor", &["--ad-account", "12x"], &[], &["--ad-account"]).await;
    refused(
        "audit",
        &["--token-file", "/nonexistent/ci.token"],
        &[],
        &["does not exist"],
    )
    .await;
    refused(
        "audit",
        &["--token-dir", "/nonexistent/tokens"],
        &[],
        &["--token-dir", "not a directory"],
    )
    .await;
}

#[tokio::test]
async fn on_behalf_of_reads_the_common_variables_and_lists_every_missing_one() {
    // META_ACCESS_TOKEN alone means a real run (not the emulator): every client-side variable
    // missing is named in one message, and nothing is sent.
    refused(
        "on_behalf_of",
        &[],
        &[],
        &[
            "META_CLIENT_BUSINESS_ID is not set",
            "META_CLIENT_ADMIN_TOKEN is not set",
            "META_CLIENT_PAGE_ID is not set",
        ],
    )
    .await;
    refused(
        "on_behalf_of",
        &[],
        &[
            ("META_CLIENT_BUSINESS_ID", Some("client-1")),
            ("META_CLIENT_ADMIN_TOKEN", Some("EAAE-client")),
            ("META_CLIENT_PAGE_ID", Some("5550000000001")),
        ],
        &["META_CLIENT_BUSINESS_ID:"],
    )
    .await;
}

#[tokio::test]
async fn token_keeper_refuses_a_missing_store_and_a_missing_secret() {
    refused("token_keeper", &[], &[], &["--store DIR"]).await;
    refused(
        "token_keeper",
        &["--store", "/nonexistent-store-dir/x"],
        &[("META_APP_SECRET", None)],
        &["META_APP_SECRET is not set"],
    )
    .await;
}

/// Runs an example, killing it (and failing) if it has not exited within `limit`: an example
/// that starts a server instead of answering shows up here, not as a hung test.
async fn run_bounded(
    name: &str,
    args: &[&str],
    env: Vec<(String, Option<String>)>,
    limit: std::time::Duration,
) -> Output {
    let mut command = Command::new(binary(name));
    command
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        match v {
            Some(v) => command.env(k, v),
            None => command.env_remove(k),
        };
    }
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("the example starts");
        let started = std::time::Instant::now();
        while child.try_wait().expect("wait").is_none() {
            if started.elapsed() > limit {
                let _ = child.kill();
                let out = child.wait_with_output().expect("output");
                panic!(
                    "{name} still ran after {limit:?}; it printed:\n{}",
                    String::from_utf8_lossy(&out.stdout)
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.wait_with_output().expect("output")
    })
    .await
    .expect("join")
}

/// The variables of every example on `common::target`.
const TARGET_VARS: &[&str] = &[
    "META_ACCESS_TOKEN",
    "META_BUSINESS_ID",
    "META_APP_ID",
    "META_APP_SECRET",
    "META_GRAPH_URL",
    "META_API_VERSION",
    "META_ACCESS_TIER",
];

#[tokio::test]
async fn every_example_answers_help_listing_its_variables_sending_nothing_starting_nothing() {
    let obo: &[&str] = &[
        "META_PARTNER_ADMIN_TOKEN",
        "META_PARTNER_BUSINESS_ID",
        "META_CLIENT_BUSINESS_ID",
        "META_CLIENT_ADMIN_TOKEN",
        "META_CLIENT_PAGE_ID",
    ];
    let emulator_vars: &[&str] = &[
        "META_GRAPH_URL",
        "META_ACCESS_TOKEN",
        "META_APP_SECRET",
        "META_APP_ID",
        "META_BUSINESS_ID",
        "META_ACCESS_TIER",
    ];
    // provision's --help is another branch's; every other example is here.
    let examples: &[(&str, &[&str], &[&str])] = &[
        ("audit", TARGET_VARS, &[]),
        ("bulk_assign", TARGET_VARS, &[]),
        ("doctor", TARGET_VARS, &[]),
        ("graph_emulator", emulator_vars, &[]),
        ("offboard", TARGET_VARS, &[]),
        ("on_behalf_of", TARGET_VARS, obo),
        (
            "quickstart",
            TARGET_VARS,
            &["requires META_BUSINESS_ID, META_APP_ID, META_APP_SECRET"],
        ),
        (
            "rotate_token",
            TARGET_VARS,
            &["requires META_BUSINESS_ID, META_APP_ID, META_APP_SECRET"],
        ),
        ("system_users", TARGET_VARS, &["requires META_BUSINESS_ID;"]),
        (
            "token_keeper",
            TARGET_VARS,
            &["requires META_BUSINESS_ID, META_APP_SECRET;"],
        ),
    ];
    for (name, vars, more) in examples {
        // Pointed at an emulator, a real run would reach it: `--help` must not.
        let emulator = GraphEmulator::demo().await.0;
        for args in [&["--help"][..], &["-h"][..]] {
            let out = run_bounded(
                name,
                args,
                env_for(&emulator, &[]),
                std::time::Duration::from_secs(30),
            )
            .await;
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{name} {args:?}: {}\n{stdout}",
                String::from_utf8_lossy(&out.stderr)
            );
            for text in vars.iter().chain(more.iter()) {
                assert!(
                    stdout.contains(text),
                    "{name} {args:?}: no {text:?} in\n{stdout}"
                );
            }
            // No demo run, no server: nothing but the help.
            assert!(stdout.starts_with(char::is_uppercase), "{name}: {stdout}");
            assert!(!stdout.contains("export META_"), "{name} started: {stdout}");
            assert!(!stdout.contains("target:"), "{name} ran: {stdout}");
        }
        assert!(
            emulator.requests().is_empty(),
            "{name} --help sent {:?}",
            emulator.requests()
        );
    }
}

#[tokio::test]
async fn every_missing_or_bad_variable_is_named_in_one_message() {
    // META_ACCESS_TOKEN alone: the three a real quickstart requires, all at once.
    refused(
        "quickstart",
        &[],
        &[
            ("META_BUSINESS_ID", None),
            ("META_APP_ID", None),
            ("META_APP_SECRET", None),
        ],
        &[
            "3 problems with the environment (see --help)",
            "META_BUSINESS_ID is not set",
            "META_APP_ID is not set",
            "META_APP_SECRET is not set",
        ],
    )
    .await;
    // Bad values are named after the variable, not the builder's field, together with the
    // missing ones.
    for example in ["quickstart", "system_users", "rotate_token", "token_keeper"] {
        let emulator = GraphEmulator::demo().await.0;
        let out = run(
            example,
            &[],
            env_for(
                &emulator,
                &[
                    ("META_ACCESS_TIER", Some("gold")),
                    ("META_API_VERSION", Some("26")),
                    ("META_BUSINESS_ID", Some("biz-1")),
                ],
            ),
        )
        .await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{example}: {stderr}");
        for text in [
            "3 problems with the environment",
            "META_ACCESS_TIER: expected `limited`",
            "\"gold\"",
            "META_API_VERSION: must look like `v26.0`",
            "META_BUSINESS_ID:",
        ] {
            assert!(
                stderr.contains(text),
                "{example}: {text:?} not in\n{stderr}"
            );
        }
        for field in ["`access_tier`", "`api_version`", "`business_id`"] {
            assert!(!stderr.contains(field), "{example} names a field: {stderr}");
        }
        assert!(emulator.requests().is_empty(), "{example} sent a request");
    }
}

#[tokio::test]
async fn system_users_create_warns_with_the_rule_the_audit_then_flags() {
    let emulator = GraphEmulator::demo().await.0;
    let out = run(
        "system_users",
        &["--create", "test"],
        env_for(&emulator, &[]),
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let expected = meta_business::provision::name_warning("test").unwrap();
    assert!(
        stderr.contains(&format!("warning: --create {expected}")),
        "{stderr}"
    );
    // A warning, not a refusal: the user was created.
    let created = emulator.system_users(DEMO.business_id);
    let user = created
        .iter()
        .find(|u| u.name == "test")
        .expect("the user was created");

    // The audit example, on the same business, flags the same user for the same reason.
    let out = run(
        "audit",
        &["--json", "--fail-on", "never"],
        env_for(&emulator, &[]),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let vague: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "vague_name")
        .collect();
    assert_eq!(vague.len(), 1, "{report:#}");
    assert!(
        vague[0]["subject"].as_str().unwrap().contains(&user.id),
        "{report:#}"
    );
    assert!(expected.ends_with(vague[0]["remedy"].as_str().unwrap()));

    // A descriptive name: no warning.
    let emulator = GraphEmulator::demo().await.0;
    let out = run(
        "system_users",
        &["--create", "crm-sync-eu"],
        env_for(&emulator, &[]),
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[tokio::test]
async fn a_refused_connection_names_the_attempts_and_the_base_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let emulator = GraphEmulator::demo().await.0;
    let out = run(
        "system_users",
        &[],
        env_for(&emulator, &[("META_GRAPH_URL", Some(&url))]),
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "to {url} failed after 3 attempts: connection refused (nothing listens there)"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains(DEMO.admin_token) && !stderr.contains(DEMO.app_secret),
        "{stderr}"
    );
}

#[tokio::test]
async fn every_example_that_reports_prints_json_with_json() {
    // On an emulator through the META_* variables: the JSON is what the emulator holds.
    let emulator = GraphEmulator::demo().await.0;
    let out = run("quickstart", &["--json"], env_for(&emulator, &[])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON alone");
    let id = summary["system_user"]["id"].as_str().expect("an id");
    let users = emulator.system_users(DEMO.business_id);
    let user = users.iter().find(|u| u.id == id).expect("created");
    assert_eq!(summary["system_user"]["name"], user.name);
    assert_eq!(user.installed_apps, [DEMO.app_id]);
    assert_eq!(emulator.valid_tokens_of(id), 1);
    let masked = summary["token"]["masked"].as_str().unwrap();
    assert!(masked.contains('…') && masked.len() < 16, "{masked}");
    let ad_account = summary["ad_account"]["id"].as_str().unwrap();
    assert_eq!(emulator.assignments(ad_account)[id], ["ANALYZE"]);

    let out = run("system_users", &["--json"], env_for(&emulator, &[])).await;
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON alone");
    let ids: Vec<&str> = listed["system_users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    assert_eq!(ids, expected);
    assert_eq!(listed["quota"]["regular"], 1);

    // On the embedded emulator (no META_ACCESS_TOKEN): stdout is one JSON document.
    let embedded = |emulator: &GraphEmulator| env_for(emulator, &[("META_ACCESS_TOKEN", None)]);
    for (name, args, key) in [
        ("audit", &["--json"][..], "findings"),
        ("doctor", &["--json"][..], "checks"),
        ("offboard", &["--json"][..], "system_user"),
        ("rotate_token", &["--json"][..], "new_token"),
        ("token_keeper", &["--json"][..], "tokens"),
        ("on_behalf_of", &["--json"][..], "system_user"),
        ("bulk_assign", &["--json", "--n", "5"][..], "requests"),
    ] {
        let out = run(name, args, embedded(&emulator)).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        let value: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{name} --json: {e}\n{stdout}"));
        assert!(value.get(key).is_some(), "{name}: no {key:?} in {value:#}");
    }
}

// provision: --help, --dry-run without a store, --out / --apply (a saved plan, refused when
// stale), --json.

/// A fresh directory under the system's temporary one, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "meta-business-provision-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn writes_at(emulator: &GraphEmulator) -> Vec<String> {
    emulator
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

const PROVISION_TOML: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/provision.toml");

#[tokio::test]
async fn provision_help_lists_the_variables_it_reads_and_sends_nothing() {
    let emulator = GraphEmulator::demo().await.0;
    let out = run("provision", &["--help"], env_for(&emulator, &[])).await;
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "META_ACCESS_TOKEN",
        "META_APP_SECRET",
        "META_APP_ID",
        "META_BUSINESS_ID",
        "META_GRAPH_URL",
        "META_API_VERSION",
        "META_ACCESS_TIER",
        "--out",
        "--apply",
        "--dry-run",
        "--json",
    ] {
        assert!(help.contains(var), "{var} not in --help:\n{help}");
    }
    assert!(emulator.requests().is_empty());
}

#[tokio::test]
async fn provision_dry_run_plans_without_a_store_and_says_applying_needs_one() {
    let emulator = GraphEmulator::demo().await.0;
    // No --token-dir, no app secret: a dry run only reads.
    let out = run(
        "provision",
        &["--file", PROVISION_TOML, "--dry-run"],
        env_for(&emulator, &[("META_APP_SECRET", None)]),
    )
    .await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("+ generate token for \"ads-reporting-server\""),
        "{stdout}"
    );
    assert!(
        stderr.contains("applying would need one: --token-dir"),
        "{stderr}"
    );
    assert!(!emulator.requests().is_empty(), "it planned");
    assert_eq!(
        writes_at(&emulator),
        Vec::<String>::new(),
        "a dry run writes nothing"
    );
    assert!(emulator.system_users(DEMO.business_id).is_empty());
}

#[tokio::test]
async fn provision_says_a_missing_file_cannot_be_read() {
    refused(
        "provision",
        &["--file", "nope.toml"],
        &[],
        &["--file: cannot read the desired-state file nope.toml"],
    )
    .await;
    let emulator = GraphEmulator::demo().await.0;
    let out = run(
        "provision",
        &["--file", "nope.toml"],
        env_for(&emulator, &[]),
    )
    .await;
    assert!(!String::from_utf8_lossy(&out.stderr).contains("invalid desired state"));
    refused(
        "provision",
        &["--apply", "/nonexistent/plan.json"],
        &[],
        &["--apply: cannot read /nonexistent/plan.json"],
    )
    .await;
    refused(
        "provision",
        &[
            "--file",
            PROVISION_TOML,
            "--out",
            "/nonexistent-dir/plan.json",
        ],
        &[],
        &["--out", "does not exist"],
    )
    .await;
}

#[tokio::test]
async fn provision_saves_a_plan_and_applies_it_later_as_json() {
    let emulator = GraphEmulator::demo().await.0;
    let scratch = Scratch::new("saved");
    let (plan, tokens) = (scratch.path("plan.json"), scratch.path("tokens"));
    let out = run(
        "provision",
        &[
            "--file",
            PROVISION_TOML,
            "--token-dir",
            &tokens,
            "--out",
            &plan,
        ],
        env_for(&emulator, &[]),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        writes_at(&emulator),
        Vec::<String>::new(),
        "--out applies nothing"
    );
    let saved = std::fs::read_to_string(&plan).unwrap();
    assert!(!saved.contains(DEMO.admin_token) && !saved.contains(DEMO.app_secret));
    assert!(saved.contains("\"fingerprint\""), "{saved}");

    let out = run(
        "provision",
        &["--apply", &plan, "--token-dir", &tokens, "--json"],
        env_for(&emulator, &[]),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(
        doc["report"]["tokens_generated_for"],
        serde_json::json!(["ads-reporting-server"])
    );
    assert_eq!(doc["report"]["failed"], serde_json::Value::Null);
    assert_eq!(doc["plan"]["changes"].as_array().unwrap().len(), 6);
    let users = emulator.system_users(DEMO.business_id);
    assert_eq!(users.len(), 2, "both users of the file exist");
    let reporting = users
        .iter()
        .find(|u| u.name == "ads-reporting-server")
        .unwrap();
    assert_eq!(emulator.valid_tokens_of(&reporting.id), 1);
    assert_eq!(
        std::fs::read_dir(&tokens)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".json"))
            })
            .count(),
        1,
        "the token is in --token-dir"
    );
}

#[tokio::test]
async fn provision_refuses_a_stale_saved_plan_and_writes_nothing() {
    let emulator = GraphEmulator::demo().await.0;
    let scratch = Scratch::new("stale");
    let (plan, tokens) = (scratch.path("plan.json"), scratch.path("tokens"));
    let out = run(
        "provision",
        &[
            "--file",
            PROVISION_TOML,
            "--token-dir",
            &tokens,
            "--out",
            &plan,
        ],
        env_for(&emulator, &[]),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Someone creates a system user by hand before the plan is applied.
    let client = emulator.client(DEMO.admin_token).unwrap();
    let by_hand = client
        .business(DEMO.business_id)
        .system_users()
        .create("made-by-hand")
        .role(meta_business::SystemUserRole::Admin)
        .send()
        .await
        .unwrap();
    emulator.clear_requests();
    let out = run(
        "provision",
        &["--apply", &plan, "--token-dir", &tokens],
        env_for(&emulator, &[]),
    )
    .await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("REFUSED"), "{stdout}");
    assert!(
        stderr.contains("is stale")
            && stderr.contains(&format!(
                "system user {} (\"made-by-hand\") was created",
                by_hand.id
            )),
        "{stderr}"
    );
    assert_eq!(
        writes_at(&emulator),
        Vec::<String>::new(),
        "nothing written"
    );
    assert_eq!(
        emulator.system_users(DEMO.business_id).len(),
        1,
        "only the one made by hand"
    );
}

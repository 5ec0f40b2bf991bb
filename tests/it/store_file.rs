//! The file store against what a directory can hold besides its own entries: links to another
//! service's secret, copies, cut-short files, FIFOs, other owners' files, a store of an earlier
//! version, and writers racing on one key from several handles. Each test looks at the files
//! on disk too.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::common::StoreOutcome;
use meta_business::provision::{self, AuditOptions, FindingKind, Severity};
use meta_business::store::Expect;
use meta_business::testing::{BusinessSeed, GraphEmulator};
use meta_business::{
    AccessTier, Client, ExposeSecret, Permission,
    keeper::{Step, TokenKeeper, TokenState},
    store::{FileStore, Minted, StoreFuture, StoredToken, TokenKey, TokenMeta, TokenStore},
};

/// What another service keeps next to the store: it must never be read as a token, shown or
/// sent anywhere.
const OTHER_SECRET: &str = "EAAB-other-service-secret-do-not-send-5150";

const BUSINESS: &str = "1000000000001";
const APP: &str = "2000000000001";

fn key(su: &str) -> TokenKey {
    TokenKey::new(BUSINESS, su, APP)
}

fn entry_name(key: &TokenKey, extension: &str) -> String {
    format!(
        "{}_{}_{}.{extension}",
        key.business, key.system_user, key.app
    )
}

fn meta(name: &str) -> TokenMeta {
    TokenMeta::new(
        [Permission::AdsRead],
        Some(1_900_000_000),
        Minted::Generated,
    )
    .named(name)
}

/// A fresh directory under the system's temporary one, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "meta-business-store-file-{name}-{}-{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    fn store(&self) -> PathBuf {
        self.0.join("store")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The names in `dir`, sorted, but for the lock file every write takes (`.lock`, checked in
/// `entries_are_0600_in_a_0700_directory_with_no_temporary_file_left`).
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != ".lock")
        .collect();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// An entry as the store writes it, for `key`, holding `token`: what a link might point at.
fn entry_json(key: &TokenKey, token: &str) -> String {
    serde_json::json!({"version": 2, "key": key, "token": token, "meta": meta("x")}).to_string()
}

/// Whether `secret` shows anywhere in what the emulator recorded.
fn reached_the_server(emulator: &GraphEmulator, secret: &str) -> bool {
    let requests = emulator.requests();
    let suffix = &secret[secret.len() - 6..];
    format!("{requests:?}").contains(secret)
        || requests
            .iter()
            .any(|r| r.token_suffix.as_deref() == Some(suffix))
}

/// The demo business with `n` system users, each with a fresh 60-day token stored in `store`.
async fn world(store: &FileStore, n: usize) -> (GraphEmulator, Client, Vec<TokenKey>) {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new(BUSINESS, "Acme")
                .tier(AccessTier::Full)
                .app(APP, "Acme Sync", "acme-app-secret-0123456789")
                .admin("EAAE-acme-admin"),
        )
        .start()
        .await;
    let client = emulator.client("EAAE-acme-admin").unwrap();
    let mut keys = Vec::new();
    for i in 0..n {
        let su = client
            .business(BUSINESS)
            .system_users()
            .create(format!("store-file-{i}"))
            .send()
            .await
            .unwrap();
        client
            .system_user(&su.id)
            .install_app(APP)
            .send()
            .await
            .unwrap();
        let minted = client
            .system_user(&su.id)
            .generate_token(APP)
            .business(BUSINESS)
            .scopes([Permission::AdsRead])
            .expires_in_60_days(true)
            .send()
            .await
            .unwrap();
        let key = TokenKey::new(BUSINESS, su.id.clone(), APP);
        store
            .put(
                StoredToken::new(
                    key.clone(),
                    minted.secret().clone(),
                    TokenMeta::new([Permission::AdsRead], None, Minted::Generated),
                ),
                Expect::Any,
            )
            .await
            .done();
        keys.push(key);
    }
    (emulator, client, keys)
}

#[tokio::test]
async fn a_symlinked_entry_is_never_followed_and_its_target_never_sent() {
    let tmp = TempDir::new("symlink");
    let store = FileStore::open(tmp.store()).unwrap();
    let (emulator, client, keys) = world(&store, 2).await;
    let (linked, kept) = (&keys[0], &keys[1]);
    // Another service's secret, in a file that would pass for an entry of this very key: only
    // the refusal to follow the link keeps it out.
    let target = tmp.0.join("other-service.json");
    std::fs::write(&target, entry_json(linked, OTHER_SECRET)).unwrap();
    let entry = tmp.store().join(entry_name(linked, "json"));
    std::fs::remove_file(&entry).unwrap();
    std::os::unix::fs::symlink(&target, &entry).unwrap();

    let err = store.get(linked).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains(&*entry.to_string_lossy()), "{shown}");
    assert!(shown.contains("symbolic link"), "{shown}");
    assert!(!shown.contains(OTHER_SECRET), "{shown}");
    assert_eq!(store.keys().await.unwrap(), keys, "still listed, once");

    let keeper = TokenKeeper::new(client.clone(), store.clone()).clock(emulator.clock_source());
    let report = keeper.run_once().await;
    let of = |k: &TokenKey| report.tokens.iter().find(|t| t.key == *k).unwrap();
    let (step, why) = of(linked).failed.clone().expect("the linked key failed");
    assert_eq!(step, Step::Read);
    assert!(why.contains("symbolic link"), "{why}");
    assert_eq!(of(kept).state, TokenState::Valid, "{report}");
    assert!(of(kept).failed.is_none(), "{report}");
    let json = serde_json::to_string(&report).unwrap();
    for shown in [report.to_string(), format!("{report:?}"), json] {
        assert!(!shown.contains(OTHER_SECRET), "{shown}");
    }
    assert!(!reached_the_server(&emulator, OTHER_SECRET));
    // The link and its target are as they were; removing the key removes the link only.
    assert!(std::fs::symlink_metadata(&entry).unwrap().is_symlink());
    assert!(store.remove(linked, Expect::Any).await.done());
    assert!(std::fs::symlink_metadata(&entry).is_err());
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        entry_json(linked, OTHER_SECRET)
    );
    assert_eq!(store.keys().await.unwrap(), std::slice::from_ref(kept));
}

#[tokio::test]
async fn a_symlinked_token_file_of_an_earlier_store_is_never_followed() {
    let tmp = TempDir::new("legacy-link");
    let store = FileStore::open(tmp.store()).unwrap();
    let k = key("610000000000001");
    let target = tmp.0.join("other-service.token");
    std::fs::write(&target, OTHER_SECRET).unwrap();
    write_legacy(&tmp.store(), &k, None);
    std::os::unix::fs::symlink(&target, tmp.store().join(entry_name(&k, "token"))).unwrap();
    let err = store.get(&k).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("symbolic link"), "{shown}");
    assert!(!shown.contains(OTHER_SECRET), "{shown}");
    assert_eq!(store.keys().await.unwrap(), [k]);
}

#[tokio::test]
async fn only_a_regular_file_of_the_stores_owner_with_one_name_is_read() {
    let tmp = TempDir::new("kinds");
    let store = FileStore::open(tmp.store()).unwrap();
    let (fifo, dir, hard) = (
        key("610000000000001"),
        key("610000000000002"),
        key("610000000000003"),
    );
    let path = |k: &TokenKey| tmp.store().join(entry_name(k, "json"));
    let made = std::process::Command::new("mkfifo")
        .arg(path(&fifo))
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::create_dir(path(&dir)).unwrap();
    let other = tmp.0.join("other-service.json");
    std::fs::write(&other, entry_json(&hard, OTHER_SECRET)).unwrap();
    std::fs::hard_link(&other, path(&hard)).unwrap();

    // A FIFO is refused at once, not waited on.
    let started = std::time::Instant::now();
    for (k, says) in [
        (&fifo, "a FIFO"),
        (&dir, "a directory"),
        (&hard, "hard links"),
    ] {
        let err = store.get(k).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains(&*path(k).to_string_lossy()), "{shown}");
        assert!(shown.contains(says), "{shown}");
        assert!(!shown.contains(OTHER_SECRET), "{shown}");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(
        store.keys().await.unwrap(),
        [fifo.clone(), dir.clone(), hard.clone()]
    );
    // Writing over a FIFO or a second name replaces that name; the other file is left alone.
    for k in [&fifo, &hard] {
        store
            .put(
                StoredToken::new(k.clone(), "EAAB-fresh".to_owned(), meta("f")),
                Expect::Any,
            )
            .await
            .done();
        let got = store.get(k).await.unwrap().unwrap().token;
        assert_eq!(got.secret().expose_secret(), "EAAB-fresh");
    }
    assert_eq!(
        std::fs::read_to_string(&other).unwrap(),
        entry_json(&hard, OTHER_SECRET)
    );
    // A directory in the way is that key's error, and leaves no temporary file behind.
    let err = store
        .put(
            StoredToken::new(dir.clone(), "EAAB-x".to_owned(), meta("d")),
            Expect::Any,
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&*path(&dir).to_string_lossy()),
        "{err}"
    );
    assert_eq!(
        names(&tmp.store()),
        [
            entry_name(&fifo, "json"),
            entry_name(&dir, "json"),
            entry_name(&hard, "json")
        ]
    );
}

/// Another user's file in place of an entry is refused; a store owned by another user and
/// written by root hands each entry to the store's owner. Both need root (CI runs as root);
/// elsewhere the test says so and stops.
#[tokio::test]
async fn another_owners_file_is_refused_and_root_writes_as_the_stores_owner() {
    use std::os::unix::fs::MetadataExt;
    const NOBODY: u32 = 65534;
    let tmp = TempDir::new("owner");
    let store = FileStore::open(tmp.store()).unwrap();
    let k = key("610000000000001");
    store
        .put(
            StoredToken::new(k.clone(), OTHER_SECRET.to_owned(), meta("o")),
            Expect::Any,
        )
        .await
        .done();
    let entry = tmp.store().join(entry_name(&k, "json"));
    if let Err(e) = std::os::unix::fs::chown(&entry, Some(NOBODY), None) {
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}");
        eprintln!("not root: the owner checks are not exercised here");
        return;
    }
    let err = store.get(&k).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("owned by uid 65534"), "{shown}");
    assert!(!shown.contains(OTHER_SECRET), "{shown}");

    let theirs = tmp.0.join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&theirs, Some(NOBODY), Some(NOBODY)).unwrap();
    let store = FileStore::open(&theirs).unwrap();
    store
        .put(
            StoredToken::new(k.clone(), "EAAB-theirs".to_owned(), meta("t")),
            Expect::Any,
        )
        .await
        .done();
    let written = std::fs::metadata(theirs.join(entry_name(&k, "json"))).unwrap();
    assert_eq!(written.uid(), NOBODY);
    let got = store.get(&k).await.unwrap().unwrap().token;
    assert_eq!(got.secret().expose_secret(), "EAAB-theirs");
}

#[tokio::test]
async fn a_copied_entry_is_listed_once() {
    let tmp = TempDir::new("copies");
    let store = FileStore::open(tmp.store()).unwrap();
    let k = key("610000000000001");
    store
        .put(
            StoredToken::new(k.clone(), "EAAB-one".to_owned(), meta("c")),
            Expect::Any,
        )
        .await
        .done();
    let entry = tmp.store().join(entry_name(&k, "json"));
    for copy in [
        "backup-before-rotation.json".to_owned(),
        format!("{}.bak", entry_name(&k, "json")),
        format!(".{}.tmp-1-00ff", entry_name(&k, "json")),
        format!(
            "{}_1.json",
            entry_name(&k, "json").trim_end_matches(".json")
        ),
    ] {
        std::fs::copy(&entry, tmp.store().join(copy)).unwrap();
    }
    assert_eq!(names(&tmp.store()).len(), 5);
    assert_eq!(store.keys().await.unwrap(), std::slice::from_ref(&k));
    let got = store.get(&k).await.unwrap().unwrap().token;
    assert_eq!(got.secret().expose_secret(), "EAAB-one");
}

#[tokio::test]
async fn a_truncated_entry_fails_that_key_alone_in_the_keeper_and_the_audit() {
    let tmp = TempDir::new("truncated");
    let store = FileStore::open(tmp.store()).unwrap();
    let (emulator, client, keys) = world(&store, 3).await;
    let bad = &keys[1];
    let entry = tmp.store().join(entry_name(bad, "json"));
    let whole = std::fs::read(&entry).unwrap();
    let stored_secret = store
        .get(bad)
        .await
        .unwrap()
        .unwrap()
        .token
        .secret()
        .expose_secret()
        .to_owned();
    let cut = &whole[..whole.len() / 2];
    std::fs::write(&entry, cut).unwrap();

    assert_eq!(store.keys().await.unwrap(), keys);
    let err = store.get(bad).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains(&*entry.to_string_lossy()), "{shown}");
    assert!(shown.contains("cut short"), "{shown}");
    for k in [&keys[0], &keys[2]] {
        assert!(store.get(k).await.unwrap().map(|v| v.token).is_some());
    }

    let keeper = TokenKeeper::new(client.clone(), store.clone()).clock(emulator.clock_source());
    let report = keeper.run_once().await;
    assert_eq!(report.tokens.len(), 3, "{report}");
    for t in &report.tokens {
        if t.key == *bad {
            let (step, why) = t.failed.clone().expect("the cut entry failed");
            assert_eq!(step, Step::Read);
            assert!(why.contains("cut short"), "{why}");
        } else {
            assert_eq!(t.state, TokenState::Valid, "{report}");
            assert!(t.failed.is_none() && t.skipped.is_none(), "{report}");
        }
    }
    // The keeper wrote nothing over the cut entry.
    assert_eq!(std::fs::read(&entry).unwrap(), cut);

    let inspected_before = debug_tokens(&emulator);
    let audit = provision::audit(
        &client,
        BUSINESS,
        &AuditOptions::default()
            .app(bad.app.clone())
            .store(Arc::new(store.clone())),
    )
    .await
    .unwrap();
    let finding = audit
        .findings
        .iter()
        .find(|f| f.subject == bad.to_string())
        .expect("a finding about the cut entry");
    assert_eq!(finding.kind, FindingKind::TokenUnknown);
    assert_eq!(finding.severity, Severity::Warning);
    assert!(finding.message.contains("cut short"), "{audit}");
    assert!(!audit.to_string().contains(&stored_secret));
    // The two other stored tokens were still inspected.
    assert_eq!(debug_tokens(&emulator) - inspected_before, 2, "{audit}");
}

fn debug_tokens(emulator: &GraphEmulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/debug_token"))
        .count()
}

/// Runs a store call on the calling thread (the file store does its work there).
fn block_on<T>(call: StoreFuture<'_, T>) -> Result<T, meta_business::store::StoreError> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(call)
}

/// 4 threads, each writing one key through 2 handles of one directory, with 2 threads reading
/// through both: every read is one writer's whole entry (token, previous token and metadata
/// of the same write), and so is what is left, in each of 200 rounds.
#[test]
fn four_threads_two_handles_one_key_every_read_is_a_matching_pair() {
    const ROUNDS: usize = 200;
    const WRITES: usize = 3;
    let tmp = TempDir::new("race");
    let handles = [
        FileStore::open(tmp.store()).unwrap(),
        FileStore::open(tmp.store()).unwrap(),
    ];
    let k = key("610000000000001");
    let check = |stored: &StoredToken| {
        let token = stored.secret().expose_secret();
        let id = token.strip_prefix("EAAB-").unwrap();
        assert_eq!(stored.meta.system_user_name.as_deref(), Some(id), "a mix");
        let previous = stored.previous().unwrap().expose_secret();
        assert_eq!(previous, format!("EAAB-before-{id}"), "a mix");
    };
    let mut reads = 0;
    for round in 0..ROUNDS {
        let done = std::sync::atomic::AtomicBool::new(false);
        reads += std::thread::scope(|s| {
            let writers: Vec<_> = (0..4)
                .map(|w| {
                    let (handles, k) = (&handles, &k);
                    s.spawn(move || {
                        for n in 0..WRITES {
                            let id = format!("r{round}-w{w}-n{n}");
                            let stored =
                                StoredToken::new(k.clone(), format!("EAAB-{id}"), meta(&id))
                                    .with_previous(format!("EAAB-before-{id}"));
                            block_on(handles[n % 2].put(stored, Expect::Any)).done();
                        }
                    })
                })
                .collect();
            let readers: Vec<_> = (0..2)
                .map(|r| {
                    let (handles, k, done) = (&handles, &k, &done);
                    s.spawn(move || {
                        let mut reads = 0;
                        while !done.load(std::sync::atomic::Ordering::Relaxed) {
                            if let Some(stored) = block_on(handles[r].get(k)).unwrap() {
                                check(&stored.token);
                                reads += 1;
                            }
                        }
                        reads
                    })
                })
                .collect();
            for w in writers {
                w.join().unwrap();
            }
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            readers
                .into_iter()
                .map(|r| r.join().unwrap())
                .sum::<usize>()
        });
        for handle in &handles {
            let last = block_on(handle.get(&k)).unwrap().unwrap().token;
            check(&last);
            assert!(
                last.secret()
                    .expose_secret()
                    .starts_with(&format!("EAAB-r{round}-"))
            );
        }
        assert_eq!(
            names(&tmp.store()),
            [entry_name(&k, "json")],
            "round {round}"
        );
    }
    assert!(reads > 0, "the readers read");
}

/// An entry of the earlier two-file form, as that version wrote it.
fn write_legacy(dir: &Path, k: &TokenKey, token: Option<&str>) {
    use std::os::unix::fs::OpenOptionsExt;
    let write = |name: String, bytes: &[u8]| {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dir.join(name))
            .unwrap();
        file.write_all(bytes).unwrap();
    };
    let record = serde_json::json!({"key": k, "meta": meta("legacy")});
    write(
        entry_name(k, "json"),
        &serde_json::to_vec_pretty(&record).unwrap(),
    );
    if let Some(token) = token {
        write(entry_name(k, "token"), token.as_bytes());
    }
}

#[tokio::test]
async fn the_previous_token_round_trips_and_is_dropped_when_cleared() {
    let tmp = TempDir::new("previous");
    let store = FileStore::open(tmp.store()).unwrap();
    let k = key("610000000000001");
    let rotating = StoredToken::new(k.clone(), "EAAB-new".to_owned(), meta("p"))
        .with_previous("EAAB-old".to_owned());
    store.put(rotating.clone(), Expect::Any).await.done();
    let got = store.get(&k).await.unwrap().unwrap().token;
    assert_eq!(got.secret().expose_secret(), "EAAB-new");
    assert_eq!(got.previous().unwrap().expose_secret(), "EAAB-old");
    assert_eq!(got.meta, rotating.meta);
    let entry = tmp.store().join(entry_name(&k, "json"));
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
    assert_eq!(on_disk["previous"], "EAAB-old");
    assert_eq!(on_disk["token"], "EAAB-new");

    store
        .put(rotating.without_previous(), Expect::Any)
        .await
        .done();
    assert!(
        store
            .get(&k)
            .await
            .unwrap()
            .unwrap()
            .token
            .previous()
            .is_none()
    );
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
    assert!(on_disk.get("previous").is_none(), "{on_disk}");
}

#[tokio::test]
async fn a_two_file_store_is_read_and_moved_to_one_file_on_write() {
    let tmp = TempDir::new("legacy");
    let store = FileStore::open(tmp.store()).unwrap();
    let (moved, removed, orphan) = (
        key("610000000000001"),
        key("610000000000002"),
        key("610000000000003"),
    );
    write_legacy(&tmp.store(), &moved, Some("EAAB-legacy-one\n"));
    write_legacy(&tmp.store(), &removed, Some("EAAB-legacy-two"));
    // Metadata whose token file never came (an earlier version stopped mid-write).
    write_legacy(&tmp.store(), &orphan, None);
    assert_eq!(
        store.keys().await.unwrap(),
        [moved.clone(), removed.clone(), orphan.clone()]
    );
    let got = store.get(&moved).await.unwrap().unwrap().token;
    assert_eq!(got.secret().expose_secret(), "EAAB-legacy-one");
    assert_eq!(got.meta, meta("legacy"));
    assert!(got.previous().is_none());
    let err = store.get(&orphan).await.unwrap_err();
    assert!(err.to_string().contains("without a token"), "{err}");

    // The next write of a key moves it to one file.
    store
        .put(
            got.clone().with_previous("EAAB-legacy-one".to_owned()),
            Expect::Any,
        )
        .await
        .done();
    assert!(!tmp.store().join(entry_name(&moved, "token")).exists());
    let on_disk: serde_json::Value = serde_json::from_slice(
        &std::fs::read(tmp.store().join(entry_name(&moved, "json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(on_disk["version"], 2);
    assert_eq!(on_disk["token"], "EAAB-legacy-one");
    let again = store.get(&moved).await.unwrap().unwrap().token;
    assert_eq!(again.previous().unwrap().expose_secret(), "EAAB-legacy-one");

    // Removing a two-file key removes both files.
    assert!(store.remove(&removed, Expect::Any).await.done());
    assert!(
        store
            .get(&removed)
            .await
            .unwrap()
            .map(|v| v.token)
            .is_none()
    );
    assert_eq!(
        names(&tmp.store()),
        [entry_name(&moved, "json"), entry_name(&orphan, "json")]
    );

    // A stale token file beside a one-file entry (a crash between the rename and its removal)
    // is ignored, listed once, and gone at the next write.
    std::fs::write(tmp.store().join(entry_name(&moved, "token")), "EAAB-stale").unwrap();
    assert_eq!(store.keys().await.unwrap(), [moved.clone(), orphan.clone()]);
    let got = store.get(&moved).await.unwrap().unwrap().token;
    assert_eq!(got.secret().expose_secret(), "EAAB-legacy-one");
    store.put(got.without_previous(), Expect::Any).await.done();
    assert_eq!(
        names(&tmp.store()),
        [entry_name(&moved, "json"), entry_name(&orphan, "json")]
    );
}

#[tokio::test]
async fn entries_are_0600_in_a_0700_directory_with_no_temporary_file_left() {
    let tmp = TempDir::new("modes");
    let store = FileStore::open(tmp.store()).unwrap();
    write_legacy(&tmp.store(), &key("610000000000009"), Some("EAAB-legacy"));
    let legacy = store
        .get(&key("610000000000009"))
        .await
        .unwrap()
        .unwrap()
        .token;
    store.put(legacy, Expect::Any).await.done();
    for su in ["610000000000001", "610000000000002"] {
        for n in 0..5 {
            let stored = StoredToken::new(key(su), format!("EAAB-{n}"), meta("m"));
            store.put(stored, Expect::Any).await.done();
        }
    }
    assert_eq!(mode(&tmp.store()), 0o700);
    let expected: Vec<String> = ["610000000000001", "610000000000002", "610000000000009"]
        .iter()
        .map(|su| entry_name(&key(su), "json"))
        .collect();
    assert_eq!(names(&tmp.store()), expected);
    assert_eq!(mode(&tmp.store().join(".lock")), 0o600);
    for name in &expected {
        assert_eq!(mode(&tmp.store().join(name)), 0o600, "{name}");
    }
}

/// A plan of a business whose store entry cannot be read stops and names it: planning on
/// without that token could mint a second one and leave the unreadable one valid and held by
/// nobody. Another business's bad entry does not concern it.
#[tokio::test]
async fn a_plan_stops_on_an_unreadable_entry_of_its_own_business_only() {
    use meta_business::provision::{PlanOptions, Spec, SystemUserBuilder};
    let tmp = TempDir::new("plan");
    let store = FileStore::open(tmp.store()).unwrap();
    let (emulator, client, keys) = world(&store, 1).await;
    let spec = Spec::builder(BUSINESS)
        .system_user(
            SystemUserBuilder::new("store-file-0")
                .app(APP)
                .token(APP, [Permission::AdsRead]),
        )
        .build()
        .unwrap();
    let options = PlanOptions::default().store(Arc::new(store.clone()));
    let foreign = TokenKey::new("1000000000777", "610000000000001", APP);
    std::fs::write(tmp.store().join(entry_name(&foreign, "json")), "{\"ver").unwrap();
    provision::plan(&client, &spec, &options).await.unwrap();

    let entry = tmp.store().join(entry_name(&keys[0], "json"));
    let secret = store.get(&keys[0]).await.unwrap().unwrap().token;
    let secret = secret.secret().expose_secret().to_owned();
    std::fs::remove_file(&entry).unwrap();
    std::fs::write(
        tmp.0.join("elsewhere.json"),
        entry_json(&keys[0], OTHER_SECRET),
    )
    .unwrap();
    std::os::unix::fs::symlink(tmp.0.join("elsewhere.json"), &entry).unwrap();
    let err = provision::plan(&client, &spec, &options).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains(&*entry.to_string_lossy()), "{shown}");
    assert!(
        !shown.contains(OTHER_SECRET) && !shown.contains(&secret),
        "{shown}"
    );
    assert!(!reached_the_server(&emulator, OTHER_SECRET));
}

/// Readers of a two-file entry while another handle moves it to one file: every read finds the
/// token (the old pair or the new one, never a missing token or a mix), in each of 100 rounds.
#[test]
fn readers_of_a_two_file_entry_being_moved_always_find_a_whole_token() {
    let tmp = TempDir::new("migrate-race");
    let (reader, writer) = (
        FileStore::open(tmp.store()).unwrap(),
        FileStore::open(tmp.store()).unwrap(),
    );
    let k = key("610000000000001");
    let mut reads = 0;
    for round in 0..100 {
        let _ = std::fs::remove_file(tmp.store().join(entry_name(&k, "json")));
        write_legacy(&tmp.store(), &k, Some("EAAB-legacy"));
        let done = std::sync::atomic::AtomicBool::new(false);
        reads += std::thread::scope(|s| {
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    let (reader, k, done) = (&reader, &k, &done);
                    s.spawn(move || {
                        let mut reads = 0;
                        loop {
                            let stopping = done.load(std::sync::atomic::Ordering::Relaxed);
                            let got = block_on(reader.get(k)).unwrap().expect("a token").token;
                            let token = got.secret().expose_secret();
                            let name = got.meta.system_user_name.as_deref();
                            assert!(
                                (token == "EAAB-legacy" && name == Some("legacy"))
                                    || (token == format!("EAAB-new-{round}")
                                        && name == Some("new")),
                                "round {round}: {token} with {name:?}"
                            );
                            reads += 1;
                            if stopping {
                                return reads;
                            }
                        }
                    })
                })
                .collect();
            let stored = StoredToken::new(k.clone(), format!("EAAB-new-{round}"), meta("new"));
            block_on(writer.put(stored, Expect::Any)).done();
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            readers
                .into_iter()
                .map(|r| r.join().unwrap())
                .sum::<usize>()
        });
        assert_eq!(
            names(&tmp.store()),
            [entry_name(&k, "json")],
            "round {round}"
        );
    }
    assert!(reads > 0);
}

/// A cut-short entry has no version to compare: only a write or remove expecting anything
/// replaces it, and the version it then gets was never handed out.
#[tokio::test]
async fn an_unreadable_entry_meets_only_expect_any() {
    let tmp = TempDir::new("unreadable-cas");
    let store = FileStore::open(tmp.store()).unwrap();
    let k = key("610000000000001");
    let first = store
        .put(
            StoredToken::new(k.clone(), "EAAB-one".to_owned(), meta("u")),
            Expect::Absent,
        )
        .await
        .done();
    let entry = tmp.store().join(entry_name(&k, "json"));
    std::fs::write(&entry, b"{\"version\": 2, \"rev\"").unwrap();
    for expect in [Expect::Absent, Expect::Version(first)] {
        let put = store
            .put(
                StoredToken::new(k.clone(), "EAAB-two".to_owned(), meta("u")),
                expect,
            )
            .await;
        let err = put.unwrap_err();
        assert!(err.to_string().contains("cut short"), "{err}");
        let removed = store.remove(&k, expect).await;
        assert!(removed.unwrap_err().to_string().contains("cut short"));
    }
    assert_eq!(std::fs::read(&entry).unwrap(), b"{\"version\": 2, \"rev\"");
    let second = store
        .put(
            StoredToken::new(k.clone(), "EAAB-three".to_owned(), meta("u")),
            Expect::Any,
        )
        .await
        .done();
    assert!(second > first);
    let got = store.get(&k).await.unwrap().unwrap();
    assert_eq!(
        (got.version, got.token.secret().expose_secret()),
        (second, "EAAB-three")
    );
}

//! Token stores: round trips, file permissions, atomic replacement, and no token anywhere it
//! could be shown.

use std::sync::Arc;

use crate::common::StoreOutcome;
use meta_business::store::Expect;
use meta_business::{
    ExposeSecret, Permission,
    store::{FileStore, MemoryStore, Minted, StoredToken, TokenKey, TokenMeta, TokenStore},
};

const SECRET: &str = "EAAB-stored-secret-token-0123456789abcdef";

fn key(su: &str) -> TokenKey {
    TokenKey::new("1000000000001", su, "2000000000001")
}

fn stored(su: &str, token: &str) -> StoredToken {
    StoredToken::new(
        key(su),
        token.to_owned(),
        TokenMeta::new(
            [Permission::AdsRead],
            Some(1_900_000_000),
            Minted::Generated,
        ),
    )
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "meta-business-store-{name}-{}-{}",
        std::process::id(),
        fastrand_suffix()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn fastrand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

async fn round_trip(store: &dyn TokenStore) {
    assert!(
        store
            .get(&key("610000000000001"))
            .await
            .unwrap()
            .map(|v| v.token)
            .is_none()
    );
    store
        .put(stored("610000000000001", SECRET), Expect::Any)
        .await
        .done();
    store
        .put(stored("610000000000002", "EAAB-other"), Expect::Any)
        .await
        .done();
    let got = store
        .get(&key("610000000000001"))
        .await
        .unwrap()
        .unwrap()
        .token;
    assert_eq!(got.secret().expose_secret(), SECRET);
    assert_eq!(got.meta.scopes, [Permission::AdsRead]);
    assert_eq!(got.meta.expires_at, Some(1_900_000_000));
    assert_eq!(got.meta.minted, Minted::Generated);
    assert_eq!(
        store.keys().await.unwrap(),
        [key("610000000000001"), key("610000000000002")]
    );
    // Replacing keeps one token per key.
    store
        .put(stored("610000000000001", "EAAB-newer"), Expect::Any)
        .await
        .done();
    let got = store
        .get(&key("610000000000001"))
        .await
        .unwrap()
        .unwrap()
        .token;
    assert_eq!(got.secret().expose_secret(), "EAAB-newer");
    assert!(
        store
            .remove(&key("610000000000001"), Expect::Any)
            .await
            .done()
    );
    assert!(
        !store
            .remove(&key("610000000000001"), Expect::Any)
            .await
            .done()
    );
    assert_eq!(store.keys().await.unwrap(), [key("610000000000002")]);
}

#[tokio::test]
async fn the_memory_store_round_trips() {
    round_trip(&MemoryStore::new()).await;
    // Clones share their tokens; an Arc of a store is a store.
    let store = Arc::new(MemoryStore::new());
    store
        .clone()
        .put(stored("610000000000003", SECRET), Expect::Any)
        .await
        .done();
    assert!(
        store
            .get(&key("610000000000003"))
            .await
            .unwrap()
            .map(|v| v.token)
            .is_some()
    );
}

#[tokio::test]
async fn the_file_store_round_trips_and_survives_reopening() {
    let dir = temp_dir("roundtrip");
    round_trip(&FileStore::open(&dir).unwrap()).await;
    let reopened = FileStore::open(&dir).unwrap();
    let got = reopened
        .get(&key("610000000000002"))
        .await
        .unwrap()
        .unwrap()
        .token;
    assert_eq!(got.secret().expose_secret(), "EAAB-other");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[tokio::test]
async fn the_file_store_keeps_its_files_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("modes").join("nested");
    let store = FileStore::open(&dir).unwrap();
    store
        .put(stored("610000000000001", SECRET), Expect::Any)
        .await
        .done();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    // The entry and the lock file of compare-and-set.
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(dir.join(".lock").is_file());
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    // One file holds the key, the token and the metadata, written together.
    let entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[1]).unwrap()).unwrap();
    assert_eq!(
        files[1].file_name().unwrap(),
        "1000000000001_610000000000001_2000000000001.json"
    );
    assert_eq!(entry["token"], SECRET);
    assert_eq!(entry["meta"]["expires_at"], 1_900_000_000);

    // A directory others can read is refused, and the message says how to fix it.
    let open = temp_dir("loose");
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = FileStore::open(&open).unwrap_err();
    assert!(err.to_string().contains("chmod 700"), "{err}");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    let _ = std::fs::remove_dir_all(&open);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_store_replaces_atomically() {
    let dir = temp_dir("atomic");
    let store = Arc::new(FileStore::open(&dir).unwrap());
    store
        .put(stored("610000000000001", "EAAB-v0"), Expect::Any)
        .await
        .done();
    let writer = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            for i in 1..2000 {
                store
                    .put(
                        stored("610000000000001", &format!("EAAB-v{i}")),
                        Expect::Any,
                    )
                    .await
                    .done();
            }
        })
    };
    // Every read sees a whole token, one of those written.
    for _ in 0..2000 {
        let got = store
            .get(&key("610000000000001"))
            .await
            .unwrap()
            .unwrap()
            .token;
        let token = got.secret().expose_secret().to_owned();
        let n: u32 = token.strip_prefix("EAAB-v").unwrap().parse().unwrap();
        assert!(n < 2000, "{token}");
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
    let got = store
        .get(&key("610000000000001"))
        .await
        .unwrap()
        .unwrap()
        .token;
    assert_eq!(got.secret().expose_secret(), "EAAB-v1999");
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "the entry and .lock: {names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn keys_are_checked_and_no_token_is_ever_shown() {
    let dir = temp_dir("show");
    let store = FileStore::open(&dir).unwrap();
    // A key that could escape the directory is refused before any file is touched.
    let bad = TokenKey::new("../../etc", "1", "2");
    let err = store
        .put(
            StoredToken::new(
                bad.clone(),
                SECRET.to_owned(),
                TokenMeta::new([], None, Minted::Imported),
            ),
            Expect::Any,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("token key"), "{err}");
    assert!(!err.to_string().contains(SECRET));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);

    let token = stored("610000000000001", SECRET);
    for shown in [format!("{token:?}"), token.masked(), format!("{store:?}")] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

//! A store in a directory: one file per token, holding the token with its metadata, readable
//! by its owner only.

mod cas;
mod disk;
mod entry;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::{
    Expect, Put, Removed, StoreError, StoreFuture, StoredToken, TokenKey, TokenStore, Version,
    Versioned,
};
use cas::Current;
use entry::{Decoded, ENTRY, LEGACY_TOKEN};

/// Tokens in files: `<business>_<system user>_<app>.json` (mode 0600) holds the key, the
/// token, the token it replaces while a rotation is in progress, and the metadata, in a
/// directory only its owner can enter (mode 0700, created so, refused when others can read
/// it).
///
/// - **Atomic.** Each entry is written whole to a new file beside it, synced, renamed over the
///   entry, and the directory synced: a reader (of this process or another) sees the old
///   entry or the new one, never one's token with the other's metadata.
/// - **Its own files only.** An entry is opened without following a symbolic link
///   (`O_NOFOLLOW`), and read only when it is a regular file of the directory's owner with no
///   other hard link; anything else in its place is an error for that key, naming the path,
///   never showing what is there. Only names of the form above are entries: a copy such as
///   `backup.json` or `….json.bak` is left alone.
/// - **One bad entry is one key's error.** [`keys`](TokenStore::keys) lists every entry by
///   its name; [`get`](TokenStore::get) of a key whose file is cut short, holds another key or
///   is not a regular file fails for that key alone, and so does a `put` or `remove` of it
///   expecting anything but [`Expect::Any`] (its version cannot be read; with `Any` it is
///   replaced or removed, a link itself and never what it points at).
/// - **Compare-and-set across processes.** Each write and remove takes an OS lock (`flock`)
///   on `.lock` in the directory for its check and its rename only, so every handle and every
///   process on this host sharing the directory sees one order of writes per key. The OS
///   releases the lock of a process that dies: a crash never blocks the others. Reads take no
///   lock. Each entry holds its [`Version`]; a new version is above the key's last one and at
///   least the time of the write in microseconds, and `.lock` keeps the highest version
///   removed, so a version is never handed out twice for a key. (A network file system's
///   `flock` may not reach other hosts: keep the directory on a local disk.)
/// - **Earlier stores.** A store written by an earlier version (the token in `….token`, the
///   metadata in `….json`) is read as it is, and each key moves to the one-file form the next
///   time it is written.
///
/// The files are small; reads and writes happen on the calling task (a write waiting for the
/// lock waits there, for another writer's check and rename).
///
/// ```no_run
/// use meta_business::store::{FileStore, TokenStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), meta_business::store::StoreError> {
/// let store = FileStore::open("/var/lib/my-service/meta-tokens")?;
/// for key in store.keys().await? {
///     println!("{key}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
    /// The directory's owner (Unix): the only owner whose files are read.
    owner: Option<u32>,
}

impl FileStore {
    /// The store in `dir`, created with mode 0700 when missing.
    ///
    /// # Errors
    /// [`StoreError`] when the directory cannot be created or read, is not a directory, or
    /// (on Unix) can be read by anyone but its owner.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        if !dir.exists() {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(&dir).map_err(|e| {
                StoreError::with_source(format!("creating token directory {}", dir.display()), e)
            })?;
        }
        let meta = fs::metadata(&dir).map_err(|e| {
            StoreError::with_source(format!("reading token directory {}", dir.display()), e)
        })?;
        if !meta.is_dir() {
            return Err(StoreError::new(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(StoreError::new(format!(
                    "token directory {} has mode {mode:o}: others can read it; `chmod 700` it",
                    dir.display()
                )));
            }
            Ok(FileStore {
                dir,
                owner: Some(meta.uid()),
            })
        }
        #[cfg(not(unix))]
        Ok(FileStore { dir, owner: None })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &TokenKey, extension: &str) -> Result<PathBuf, StoreError> {
        // Checked ids are digits only: no separator, no `..`, nothing a path could escape with.
        key.validate()
            .map_err(|e| StoreError::with_source(format!("token key {key}"), e))?;
        Ok(self.dir.join(entry::file_name(key, extension)))
    }

    fn read(&self, key: &TokenKey) -> Result<Option<Versioned>, StoreError> {
        let entry_path = self.path(key, ENTRY)?;
        let token_path = self.path(key, LEGACY_TOKEN)?;
        // A two-file entry may be moved to one file (or removed) between the reads of its two
        // files: its token file is then gone, and the entry is read again.
        for _ in 0..3 {
            let Some(bytes) = disk::read(&entry_path, self.owner)? else {
                if disk::exists(&token_path)? {
                    return Err(StoreError::new(format!(
                        "{} has no metadata file beside it; the entry of {key} cannot be read",
                        token_path.display()
                    )));
                }
                return Ok(None);
            };
            let meta = match entry::decode(&bytes, key, &entry_path)? {
                Decoded::Entry(stored, version) => {
                    return Ok(Some(Versioned::new(stored, version)));
                }
                Decoded::Legacy(meta) => meta,
            };
            if let Some(bytes) = disk::read(&token_path, self.owner)? {
                let token = entry::decode_legacy_token(bytes, &token_path)?;
                // A two-file entry predates versions: it is at version 0 until written.
                let stored = StoredToken::new(key.clone(), token, meta);
                return Ok(Some(Versioned::new(stored, Version::new(0))));
            }
        }
        Err(StoreError::new(format!(
            "{} holds metadata without a token ({} is missing); the entry of {key} cannot be read",
            entry_path.display(),
            token_path.display()
        )))
    }

    /// What `key` (a checked key) holds, for a write or remove under the lock.
    fn current(&self, key: &TokenKey) -> Current {
        match self.read(key) {
            Ok(None) => Current::Missing,
            Ok(Some(found)) => Current::At(found.version),
            Err(e) => Current::Unreadable(e),
        }
    }

    fn put_if(&self, stored: &StoredToken, expect: Expect) -> Result<Put, StoreError> {
        // A bad key touches nothing, not even the lock file.
        self.path(&stored.key, ENTRY)?;
        let mut held = cas::lock(&self.dir, self.owner)?;
        let current = match self.current(&stored.key).meets(expect)? {
            Ok(current) => current,
            Err(conflict) => return Ok(Put::Conflict(conflict)),
        };
        let version = cas::next(current, held.floor()?);
        self.write(stored, version)?;
        drop(held);
        Ok(Put::Written(version))
    }

    fn remove_if(&self, key: &TokenKey, expect: Expect) -> Result<Removed, StoreError> {
        self.path(key, ENTRY)?;
        let mut held = cas::lock(&self.dir, self.owner)?;
        let current = self.current(key);
        let unread = matches!(current, Current::Unreadable(_));
        let version = match current.meets(expect)? {
            Ok(version) => version,
            Err(conflict) => return Ok(Removed::Conflict(conflict)),
        };
        // The floor first: a crash after it and before the removal costs nothing.
        match version {
            Some(version) => held.raise_floor(version.get())?,
            None if unread => held.raise_floor(cas::unknown())?,
            None => {}
        }
        let removed = self.delete(key)?;
        drop(held);
        Ok(if removed {
            Removed::Removed
        } else {
            Removed::Absent
        })
    }

    fn write(&self, stored: &StoredToken, version: Version) -> Result<(), StoreError> {
        let entry_path = self.path(&stored.key, ENTRY)?;
        let token_path = self.path(&stored.key, LEGACY_TOKEN)?;
        let bytes = entry::encode(stored, version)?;
        disk::replace(&self.dir, &entry_path, &bytes, self.owner)?;
        // An earlier version's token file goes only once the entry that replaces it is on
        // disk (`replace` synced the directory): a crash in between leaves both, and the
        // entry is what is read.
        if disk::remove(&token_path)? {
            disk::sync_dir(&self.dir)?;
        }
        Ok(())
    }

    fn delete(&self, key: &TokenKey) -> Result<bool, StoreError> {
        // The token file of an earlier version first: a crash in between leaves metadata
        // without a token (an error for that key), never a token without metadata.
        let legacy = disk::remove(&self.path(key, LEGACY_TOKEN)?)?;
        let entry = disk::remove(&self.path(key, ENTRY)?)?;
        if legacy || entry {
            disk::sync_dir(&self.dir)?;
        }
        Ok(legacy || entry)
    }

    fn list(&self) -> Result<Vec<TokenKey>, StoreError> {
        let listing = |e| StoreError::with_source(format!("listing {}", self.dir.display()), e);
        let mut keys = BTreeSet::new();
        for found in fs::read_dir(&self.dir).map_err(listing)? {
            let found = found.map_err(listing)?;
            // Keys come from names alone: an entry that cannot be read is still listed, and
            // its `get` says what is wrong with it.
            if let Some(key) = found.file_name().to_str().and_then(entry::key_of) {
                keys.insert(key);
            }
        }
        Ok(keys.into_iter().collect())
    }
}

impl TokenStore for FileStore {
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<Versioned>> {
        Box::pin(async move { self.read(key) })
    }

    fn put(&self, token: StoredToken, expect: Expect) -> StoreFuture<'_, Put> {
        Box::pin(async move { self.put_if(&token, expect) })
    }

    fn remove<'a>(&'a self, key: &'a TokenKey, expect: Expect) -> StoreFuture<'a, Removed> {
        Box::pin(async move { self.remove_if(key, expect) })
    }

    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        Box::pin(async move { self.list() })
    }
}

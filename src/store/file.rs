//! A store in a directory: one file for each token, readable by its owner only, with its
//! metadata in a file beside it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;

use super::{StoreError, StoreFuture, StoredToken, TokenKey, TokenMeta, TokenStore};

/// Tokens in files: `<business>_<system user>_<app>.token` holds the token alone (mode 0600)
/// and `….json` its key and metadata (mode 0600), in a directory only its owner can enter
/// (mode 0700, created so, refused when others can read it). Each file is replaced atomically
/// (written beside, synced, renamed), so a reader sees the old token or the new one.
///
/// The files are small; reads and writes happen on the calling task.
///
/// ```no_run
/// use meta_business::{FileStore, TokenStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), meta_business::StoreError> {
/// let store = FileStore::open("/var/lib/my-service/meta-tokens")?;
/// for key in store.keys().await? {
///     println!("{key}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
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
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(StoreError::new(format!(
                    "token directory {} has mode {mode:o}: others can read it; `chmod 700` it",
                    dir.display()
                )));
            }
        }
        Ok(FileStore { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &TokenKey, extension: &str) -> Result<PathBuf, StoreError> {
        // Checked ids are digits only: no separator, no `..`, nothing a path could escape with.
        key.validate()
            .map_err(|e| StoreError::with_source(format!("token key {key}"), e))?;
        Ok(self.dir.join(format!(
            "{}_{}_{}.{extension}",
            key.business, key.system_user, key.app
        )))
    }

    fn read(&self, key: &TokenKey) -> Result<Option<StoredToken>, StoreError> {
        let token_path = self.path(key, "token")?;
        let token = match fs::read_to_string(&token_path) {
            Ok(token) => token,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StoreError::with_source(
                    format!("reading {}", token_path.display()),
                    e,
                ));
            }
        };
        let meta_path = self.path(key, "json")?;
        let text = fs::read_to_string(&meta_path)
            .map_err(|e| StoreError::with_source(format!("reading {}", meta_path.display()), e))?;
        let record: Record = serde_json::from_str(&text).map_err(|e| {
            StoreError::with_source(format!("metadata in {}", meta_path.display()), e)
        })?;
        Ok(Some(StoredToken::new(
            key.clone(),
            token.trim().to_owned(),
            record.meta,
        )))
    }

    fn write(&self, stored: &StoredToken) -> Result<(), StoreError> {
        let record = Record {
            key: stored.key.clone(),
            meta: stored.meta.clone(),
        };
        let json = serde_json::to_vec_pretty(&record)
            .map_err(|e| StoreError::with_source(format!("metadata of {}", stored.key), e))?;
        // The metadata first: a token file is never without the metadata that goes with it.
        write_atomically(&self.path(&stored.key, "json")?, &json)?;
        write_atomically(
            &self.path(&stored.key, "token")?,
            stored.secret().expose_secret().as_bytes(),
        )
    }

    fn delete(&self, key: &TokenKey) -> Result<bool, StoreError> {
        let existed = remove_file(&self.path(key, "token")?)?;
        remove_file(&self.path(key, "json")?)?;
        Ok(existed)
    }

    fn list(&self) -> Result<Vec<TokenKey>, StoreError> {
        let entries = fs::read_dir(&self.dir)
            .map_err(|e| StoreError::with_source(format!("listing {}", self.dir.display()), e))?;
        let mut keys = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| {
                StoreError::with_source(format!("listing {}", self.dir.display()), e)
            })?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = fs::read_to_string(&path)
                .map_err(|e| StoreError::with_source(format!("reading {}", path.display()), e))?;
            let record: Record = serde_json::from_str(&text).map_err(|e| {
                StoreError::with_source(format!("metadata in {}", path.display()), e)
            })?;
            if self.path(&record.key, "token")?.exists() {
                keys.push(record.key);
            }
        }
        keys.sort();
        Ok(keys)
    }
}

/// The metadata file: the key (so that listing needs no parsing of names) and the metadata.
#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    key: TokenKey,
    meta: TokenMeta,
}

/// Writes `bytes` to a new file beside `path` (mode 0600), syncs it, and renames it over
/// `path`: readers see the old content or the new, never part of it.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = path.with_extension(format!(
        "{}.tmp-{}-{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id(),
        fastrand::u64(..)
    ));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = options
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(StoreError::with_source(
            format!("writing {}", path.display()),
            e,
        ));
    }
    Ok(())
}

fn remove_file(path: &Path) -> Result<bool, StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::with_source(
            format!("removing {}", path.display()),
            e,
        )),
    }
}

impl TokenStore for FileStore {
    fn get<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, Option<StoredToken>> {
        Box::pin(async move { self.read(key) })
    }

    fn put(&self, token: StoredToken) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.write(&token) })
    }

    fn remove<'a>(&'a self, key: &'a TokenKey) -> StoreFuture<'a, bool> {
        Box::pin(async move { self.delete(key) })
    }

    fn keys(&self) -> StoreFuture<'_, Vec<TokenKey>> {
        Box::pin(async move { self.list() })
    }
}

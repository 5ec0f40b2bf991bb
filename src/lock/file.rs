//! [`FileLock`]: a [`CreateLock`] over OS file locks, for the processes of one host.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{CreateGuard, CreateLock, LockFuture};
use crate::error::{Error, Result};
use crate::ids::BusinessId;

/// The longest a waiter sleeps between two tries: a lock released (or freed by a crash) is
/// taken by a waiter within about this long.
const MAX_POLL: Duration = Duration::from_millis(20);

/// A [`CreateLock`] for the processes of one host: one lock file per business in a directory
/// (`create-<business>.lock`), locked with the OS's `flock` while the guard lives.
///
/// - **A crash never blocks the others.** The OS releases the lock when its holder exits or is
///   killed (`SIGKILL` included): there is no stale lock file to remove, and the files stay.
/// - **Waiting is asynchronous.** `acquire` tries the lock and sleeps between tries (1 ms,
///   doubling up to 20 ms): a released lock is taken within about 20 ms, and dropping the
///   future gives up without holding anything.
/// - **Its own files only.** The directory is created with mode 0700 and refused when others
///   can enter it; a lock file is opened without following a symbolic link. It may be the
///   directory of a [`FileStore`](crate::store::FileStore): the names do not clash.
///
/// `flock` reaches the processes of one host; on a network file system it may not reach other
/// hosts. For a fleet, use a lock its members share (a database advisory lock).
///
/// ```
/// use meta_business::Client;
/// use meta_business::lock::FileLock;
/// # fn main() -> meta_business::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("mb-lock-doc-{}", std::process::id()));
/// let client = Client::builder()
///     .access_token("EAAB...")
///     .create_lock(FileLock::open(&dir)?)
///     .build()?;
/// # let _ = client; let _ = std::fs::remove_dir_all(&dir);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FileLock {
    dir: PathBuf,
}

impl FileLock {
    /// The locks in `dir`, created with mode 0700 when missing.
    ///
    /// # Errors
    /// [`Error::Lock`] when the directory cannot be created or read, is not a directory, or (on
    /// Unix) can be entered by anyone but its owner.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        let failed =
            |doing: &str, e: io::Error| lock_error(format!("{doing} {}", dir.display()), e);
        if !dir.exists() {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(&dir)
                .map_err(|e| failed("creating the lock directory", e))?;
        }
        let meta = fs::metadata(&dir).map_err(|e| failed("reading the lock directory", e))?;
        if !meta.is_dir() {
            return Err(message(format!("{} is not a directory", dir.display())));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(message(format!(
                    "lock directory {} has mode {mode:o}: others can enter it; `chmod 700` it",
                    dir.display()
                )));
            }
        }
        Ok(FileLock { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The business's lock file, opened (created if need be).
    fn file(&self, business: &BusinessId) -> Result<(File, PathBuf)> {
        // A checked id is digits only: nothing a path could escape with.
        business.validate()?;
        let path = self.dir.join(format!("create-{business}.lock"));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        }
        let file = options
            .open(&path)
            .map_err(|e| lock_error(format!("opening {}", path.display()), e))?;
        let meta = file
            .metadata()
            .map_err(|e| lock_error(format!("reading {}", path.display()), e))?;
        if !meta.is_file() {
            return Err(message(format!(
                "{} is not a regular file; the lock cannot be taken",
                path.display()
            )));
        }
        Ok((file, path))
    }
}

impl CreateLock for FileLock {
    fn acquire<'a>(&'a self, business: &'a BusinessId) -> LockFuture<'a> {
        Box::pin(async move {
            let (file, path) = self.file(business)?;
            let mut pause = Duration::from_millis(1);
            loop {
                match file.try_lock() {
                    Ok(()) => return Ok(CreateGuard::new(Held(file))),
                    Err(TryLockError::WouldBlock) => {
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(MAX_POLL);
                    }
                    Err(TryLockError::Error(e)) => {
                        return Err(lock_error(format!("locking {}", path.display()), e));
                    }
                }
            }
        })
    }
}

/// The locked file: closing it (at drop) releases the lock.
struct Held(#[allow(dead_code)] File);

fn lock_error(message: String, e: io::Error) -> Error {
    Error::Lock {
        message,
        source: Some(Box::new(e)),
    }
}

fn message(message: String) -> Error {
    Error::Lock {
        message,
        source: None,
    }
}

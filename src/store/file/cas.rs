//! Compare-and-set for the file store: one OS lock on `.lock` in the store's directory, held
//! by one write or remove for its check and its rename, and the versions it hands out.
//!
//! The lock is `flock(2)` (std's [`File::lock`]): it belongs to the open file, so two handles of
//! one process exclude each other as two processes do, and the OS releases it when the holder
//! exits or is killed: a crashed writer never blocks the others. Reads take no lock: every
//! entry is replaced by a rename, so a read sees one whole entry, version included.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::disk;
use crate::store::{Conflict, Expect, StoreError, Version};

/// The lock file's name: never taken for an entry (a leading dot, no `.json`).
pub(super) const LOCK: &str = ".lock";

/// What a key held when a write or remove looked, under the lock.
pub(super) enum Current {
    /// Nothing.
    Missing,
    /// An entry of this version.
    At(Version),
    /// Something that cannot be read as the key's entry (why).
    Unreadable(StoreError),
}

impl Current {
    /// `Ok(true)`: go ahead; `Ok(false)`: a conflict; an unreadable entry meets only
    /// [`Expect::Any`] (whether it is absent or of a version cannot be told).
    pub(super) fn meets(
        self,
        expect: Expect,
    ) -> Result<Result<Option<Version>, Conflict>, StoreError> {
        let current = match self {
            Current::Missing => None,
            Current::At(version) => Some(version),
            Current::Unreadable(e) if expect != Expect::Any => return Err(e),
            Current::Unreadable(_) => return Ok(Ok(None)),
        };
        Ok(if expect.matches(current) {
            Ok(current)
        } else {
            Err(Conflict::new(current))
        })
    }
}

/// The store's lock, held until dropped (closing the file releases it).
pub(super) struct Held {
    file: File,
    path: PathBuf,
}

/// Waits for the store's lock.
pub(super) fn lock(dir: &Path, owner: Option<u32>) -> Result<Held, StoreError> {
    let path = dir.join(LOCK);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(&path).map_err(|e| {
        if is_loop(&e) {
            StoreError::new(format!(
                "{} is a symbolic link, not the store's lock file; it is not followed",
                path.display()
            ))
        } else {
            disk::io_error("opening", &path, e)
        }
    })?;
    let meta = file
        .metadata()
        .map_err(|e| disk::io_error("reading", &path, e))?;
    if !meta.is_file() {
        return Err(StoreError::new(format!(
            "{} is not a regular file; the store's lock cannot be taken",
            path.display()
        )));
    }
    // A process writing into a store another user owns (root, say) leaves the lock file to
    // that owner, who must be able to open it next.
    #[cfg(unix)]
    if let Some(owner) = owner {
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != owner {
            std::os::unix::fs::fchown(&file, Some(owner), None)
                .map_err(|e| disk::io_error("handing over", &path, e))?;
        }
    }
    #[cfg(not(unix))]
    let _ = owner;
    file.lock()
        .map_err(|e| disk::io_error("locking", &path, e))?;
    Ok(Held { file, path })
}

#[cfg(unix)]
fn is_loop(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_loop(_: &std::io::Error) -> bool {
    false
}

impl Held {
    /// The highest version removed (or replaced unread) in this store: the lock file holds it
    /// as decimal digits. A file that does not hold a number (new, or cut short by a crash)
    /// counts as 0; [`next`] does not rely on it alone.
    pub(super) fn floor(&mut self) -> Result<u64, StoreError> {
        let mut text = String::new();
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| (&mut self.file).take(64).read_to_string(&mut text))
            .map_err(|e| disk::io_error("reading", &self.path, e))?;
        Ok(text.trim().parse().unwrap_or(0))
    }

    /// Raises the floor to `version`: a key removed at `version` never holds it again.
    pub(super) fn raise_floor(&mut self, version: u64) -> Result<(), StoreError> {
        if version <= self.floor()? {
            return Ok(());
        }
        // Fixed width: the new number covers the old one whole.
        let text = format!("{version:020}\n");
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(text.as_bytes()))
            .and_then(|()| self.file.set_len(text.len() as u64))
            .and_then(|()| self.file.sync_data())
            .map_err(|e| disk::io_error("writing", &self.path, e))
    }
}

/// Microseconds since the Unix epoch: every version handed out is at least the time it was
/// handed out, so an entry replaced without being read (its version unknown) is still given
/// a version none before it had, as long as the clock does not go back; the floor covers a
/// clock that does, for removed keys.
fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// The version of the next write of a key that holds `current`.
pub(super) fn next(current: Option<Version>, floor: u64) -> Version {
    let after = current.map_or(0, Version::get).max(floor);
    Version::new(after.saturating_add(1).max(now_micros()))
}

/// The version the floor must reach when an entry goes without its version being known.
pub(super) fn unknown() -> u64 {
    now_micros()
}

//! The file operations the store is built on: reads that follow no link and take only a
//! regular file of the store's owner, replacement by rename, and removal.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::store::StoreError;

/// The largest entry read. A token with its metadata takes a few KiB; a larger file is not
/// one of ours, and reading it whole would let a stray file cost any amount of memory.
pub(super) const MAX_ENTRY: u64 = 64 * 1024;

/// The contents of the regular file at `path`, or `None` when nothing is there.
///
/// The name is looked at before it is opened (a FIFO or a device is never opened, so a read
/// never blocks on one), and the opened handle is checked again, since the name may have been
/// replaced in between: a symbolic link is never followed (`O_NOFOLLOW`), and only a regular
/// file of `owner` with no other hard link is read.
pub(super) fn read(path: &Path, owner: Option<u32>) -> Result<Option<Vec<u8>>, StoreError> {
    match fs::symlink_metadata(path) {
        Ok(meta) => check(path, &meta, owner)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("reading", path, e)),
    }
    let file = match open_no_follow(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if is_link_refused(&e) => return Err(link(path)),
        Err(e) => return Err(io_error("opening", path, e)),
    };
    let meta = file.metadata().map_err(|e| io_error("reading", path, e))?;
    check(path, &meta, owner)?;
    let mut bytes = Vec::new();
    file.take(MAX_ENTRY + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error("reading", path, e))?;
    if bytes.len() as u64 > MAX_ENTRY {
        return Err(too_large(path));
    }
    Ok(Some(bytes))
}

/// Whether anything (of any kind, a dangling link included) is at `path`.
pub(super) fn exists(path: &Path) -> Result<bool, StoreError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error("reading", path, e)),
    }
}

fn open_no_follow(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    // O_NONBLOCK: a FIFO put in place between the look and the open must not hang the read
    // (it is refused by the check of the handle); a regular file ignores it.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NOFOLLOW | libc::O_NONBLOCK,
    );
    options.open(path)
}

#[cfg(unix)]
fn is_link_refused(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_link_refused(_: &io::Error) -> bool {
    false
}

fn check(path: &Path, meta: &fs::Metadata, owner: Option<u32>) -> Result<(), StoreError> {
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Err(link(path));
    }
    if !kind.is_file() {
        return Err(StoreError::new(format!(
            "{} is {}, not a store entry; it is not read",
            path.display(),
            describe(kind)
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Some(owner) = owner
            && meta.uid() != owner
        {
            return Err(StoreError::new(format!(
                "{} is owned by uid {}, not by the store's owner (uid {owner}); it is not read",
                path.display(),
                meta.uid()
            )));
        }
        // The store writes each entry by rename: a second name for it was made by someone
        // else, and may be another program's file.
        if meta.nlink() > 1 {
            return Err(StoreError::new(format!(
                "{} has {} hard links; a store entry has one, so it is not read",
                path.display(),
                meta.nlink()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = owner;
    if meta.len() > MAX_ENTRY {
        return Err(too_large(path));
    }
    Ok(())
}

fn describe(kind: fs::FileType) -> &'static str {
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    "not a regular file"
}

fn link(path: &Path) -> StoreError {
    StoreError::new(format!(
        "{} is a symbolic link, not a store entry; it is not followed",
        path.display()
    ))
}

fn too_large(path: &Path) -> StoreError {
    StoreError::new(format!(
        "{} is larger than a store entry ({MAX_ENTRY} bytes at most); it is not read",
        path.display()
    ))
}

/// Replaces `path` (in `dir`) with `bytes` as a whole: written to a new file beside it (mode
/// 0600, owned by `owner`), synced, renamed over `path`, and the directory synced. A reader
/// sees the old file or the new one, never part of either, and the new one survives a crash
/// once this returns.
pub(super) fn replace(
    dir: &Path,
    path: &Path,
    bytes: &[u8],
    owner: Option<u32>,
) -> Result<(), StoreError> {
    let (tmp, mut file) = create_temp(dir, path)?;
    let result = fill(&mut file, bytes, owner).and_then(|()| fs::rename(&tmp, path));
    drop(file);
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_error("writing", path, e));
    }
    sync_dir(dir)
}

/// A new file beside `path`, named so that listing never takes it for an entry (a leading
/// dot, then a suffix no entry has).
fn create_temp(dir: &Path, path: &Path) -> Result<(PathBuf, File), StoreError> {
    let name = path.file_name().map_or_else(
        || std::borrow::Cow::Borrowed("entry"),
        |n| n.to_string_lossy(),
    );
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut last = None;
    for _ in 0..8 {
        let tmp = dir.join(format!(
            ".{name}.tmp-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(io_error("writing", path, e)),
        }
    }
    let e = last.unwrap_or_else(|| io::Error::other("no free temporary name"));
    Err(io_error("writing", path, e))
}

fn fill(file: &mut File, bytes: &[u8], owner: Option<u32>) -> io::Result<()> {
    file.write_all(bytes)?;
    // A process writing into a store another user owns (root, say) hands the entry to that
    // owner: reads accept the owner's files only.
    #[cfg(unix)]
    if let Some(owner) = owner {
        use std::os::unix::fs::MetadataExt;
        if file.metadata()?.uid() != owner {
            std::os::unix::fs::fchown(&*file, Some(owner), None)?;
        }
    }
    #[cfg(not(unix))]
    let _ = owner;
    file.sync_all()
}

/// Makes the directory's entries (a rename, a removal) survive a crash.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("syncing", dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes the file (or link) at `path`; whether there was one. A link is removed, not what
/// it points at.
pub(super) fn remove(path: &Path) -> Result<bool, StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error("removing", path, e)),
    }
}

/// An I/O error naming the path. The source is the OS error, which never holds file contents.
pub(super) fn io_error(doing: &str, path: &Path, e: io::Error) -> StoreError {
    StoreError::with_source(format!("{doing} {}", path.display()), e)
}

//! The run lock: at most one process writes a store.
//!
//! A writer (a new run, a resumed one) holds an OS file lock (`flock`) on the sidecar file
//! `STORE.lock` for as long as its [`super::SqliteStore`] lives. The operating system releases it
//! when the process ends in any way, `kill -9` included, so a crashed run never leaves a stale
//! lock behind. The file holds the writer's process id, for the error message. Readers
//! (`nasc report`) take no lock: SQLite's WAL lets them read a running store.
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::StoreError;

/// The held lock; released (and its file removed) on drop.
pub struct RunLock {
    /// None where the file system has no locks (the run goes on unlocked, as before).
    file: Option<File>,
    path: PathBuf,
}

/// `STORE.lock`, next to the store.
pub fn lock_path(store: &Path) -> PathBuf {
    let mut name = store.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    store.with_file_name(name)
}

#[cfg(unix)]
fn same_file(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_f: &File, _path: &Path) -> bool {
    true
}

impl RunLock {
    /// Take the lock of the store at `store`, or say which process holds it.
    pub fn acquire(store: &Path) -> Result<RunLock, StoreError> {
        let path = lock_path(store);
        // a holder that ends between our open and our lock removes the file we opened; then the
        // lock we got is on a file no one else sees, so open the path again
        for _ in 0..8 {
            let mut f = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(|source| StoreError::LockOpen {
                path: store.to_path_buf(),
                lock: path.clone(),
                source,
            })?;
            match f.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut pid = String::new();
                    let _ = f.read_to_string(&mut pid);
                    return Err(StoreError::InUse { path: store.to_path_buf(), pid: pid.trim().parse::<u32>().ok() });
                }
                Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => return Ok(RunLock { file: None, path }),
                Err(TryLockError::Error(source)) => return Err(StoreError::Lock { path: store.to_path_buf(), lock: path, source }),
            }
            if !same_file(&f, &path) {
                continue;
            }
            // the pid is a courtesy for the message; failing to write it changes nothing
            let _ = f.set_len(0).and_then(|_| f.seek(SeekFrom::Start(0))).and_then(|_| write!(f, "{}", std::process::id()));
            return Ok(RunLock { file: Some(f), path });
        }
        Err(StoreError::LockChanging { path: store.to_path_buf(), lock: path })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // remove the file while still holding the lock (see `acquire` for the race this leaves
        // harmless), then close it, which releases the lock
        if let Some(f) = &self.file {
            if same_file(f, &self.path) {
                let _ = std::fs::remove_file(&self.path);
            }
        }
        self.file = None;
    }
}

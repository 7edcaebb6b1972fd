//! The typed errors of the SQLite run store: a store that cannot be created, opened, locked,
//! read or written ([`StoreError`], each naming the store's path), and why a store's content
//! cannot be read ([`ReadError`]). SQLite's own errors are kept as sources; messages are
//! lowercase with user input in backticks, and callers render them (`to_string`, or `?`
//! through `From<_> for String`).
use std::path::PathBuf;

/// An OS error's message, lowercase (as the rest of nasc's errors).
fn lower(e: &std::io::Error) -> String {
    e.to_string().to_lowercase()
}

/// The first 12 characters of a spec hash, as messages show it.
fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// What went wrong with the run store at `path`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A statement, or opening the database, failed.
    #[error("store `{}`: {source}", .path.display())]
    Sql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("store `{}`: is a folder; a run store is one SQLite file, e.g. `--store runs/nb201.db`", .path.display())]
    IsFolder { path: PathBuf },
    #[error("store `{}`: already exists (use --resume to continue it, or another --store)", .path.display())]
    Exists { path: PathBuf },
    #[error("store `{}`: no such file", .path.display())]
    NoFile { path: PathBuf },
    #[error("store `{}`: cannot create folder: {}", .path.display(), lower(.source))]
    CreateFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The store being built (`file`, `STORE.creating`) cannot be synced.
    #[error("store `{}`: cannot sync `{}`: {}", .path.display(), .file.display(), lower(.source))]
    Sync {
        path: PathBuf,
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store `{}`: cannot remove `{}`: {}", .path.display(), .file.display(), lower(.source))]
    Remove {
        path: PathBuf,
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store `{}`: cannot move `{}` into place: {}", .path.display(), .file.display(), lower(.source))]
    MoveIntoPlace {
        path: PathBuf,
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A resumed store of another spec (`stored_hash`, `hash`: the full hashes).
    #[error("store `{}`: was made from a different spec (`{stored_path}`, hash {}…; this spec hashes to {}…); refusing to continue it", .path.display(), short(.stored_hash), short(.hash))]
    SpecMismatch { path: PathBuf, stored_path: String, stored_hash: String, hash: String },
    /// An older store that cannot be brought to the current format.
    #[error("store `{}`: cannot bring this format {from} store to format {to}: {source}", .path.display())]
    Upgrade {
        path: PathBuf,
        from: i64,
        to: i64,
        #[source]
        source: rusqlite::Error,
    },
    /// The run lock's file `lock` cannot be opened.
    #[error("store `{}`: cannot open its lock file `{}`: {}", .path.display(), .lock.display(), lower(.source))]
    LockOpen {
        path: PathBuf,
        lock: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the run lock (`pid`: its process id, when the lock file says).
    #[error("store `{}` is in use by {}; a store takes one run at a time: wait for it to end, or give another --store", .path.display(), match .pid { Some(p) => format!("another nasc process (pid {p})"), None => "another nasc process".to_string() })]
    InUse { path: PathBuf, pid: Option<u32> },
    #[error("store `{}`: cannot lock `{}`: {}", .path.display(), .lock.display(), lower(.source))]
    Lock {
        path: PathBuf,
        lock: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store `{}`: its lock file `{}` keeps changing; is another nasc starting on it?", .path.display(), .lock.display())]
    LockChanging { path: PathBuf, lock: PathBuf },
    /// The store's content cannot be read.
    #[error("store `{}`: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    /// The store cannot be read where it is, and its WAL file `wal` holds committed trials.
    #[error("store `{}`: cannot be read here ({source}), and `{}` holds committed trials not yet merged into it; open it once where its folder is writable", .path.display(), .wal.display())]
    UnmergedWal {
        path: PathBuf,
        wal: PathBuf,
        #[source]
        source: ReadError,
    },
    #[error("store `{}`: unreadable spaces table ({source})", .path.display())]
    SpacesTable {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The saved space of `role` (`shrunk`, `input`) is not a JSON list.
    #[error("store `{}`: corrupt {role} space ({source})", .path.display())]
    SpaceList {
        path: PathBuf,
        role: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("store `{}`: corrupt {role} space: {members} members, size says {size}", .path.display())]
    SpaceSize { path: PathBuf, role: &'static str, members: usize, size: i64 },
    #[error("store `{}`: holds no shrunk space (a `nasc search --strategy lissnas` run saves one once a shrinking step is accepted: when it stopped earlier, its last message says so)", .path.display())]
    NoShrunkSpace { path: PathBuf },
    /// A blob whose bytes do not match their stored sha256.
    #[error("store `{}`: blob `{name}` is damaged (its bytes do not match their checksum)", .path.display())]
    DamagedBlob { path: PathBuf, name: String },
    /// The saved shrunk space belongs to another spec (`stored_hash`, `hash`: the full hashes).
    #[error("store `{}`: its shrunk space was made from a different spec (`{stored_path}`, hash {}…; this spec hashes to {}…)", .path.display(), short(.stored_hash), short(.hash))]
    ShrunkSpecMismatch { path: PathBuf, stored_path: String, stored_hash: String, hash: String },
    /// A member of the saved shrunk space that does not decode.
    #[error("store `{}`: corrupt shrunk space: {why}", .path.display())]
    ShrunkMember { path: PathBuf, why: String },
}

/// Which part of a store fails its checksum.
#[derive(Debug, Clone, PartialEq)]
pub enum Damaged {
    Run,
    Trial { id: u64, seq: u64, candidate: String },
    Checkpoint { trials: u64 },
}

impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damaged::Run => write!(f, "the run's configuration"),
            Damaged::Trial { id, seq, candidate } => write!(f, "trial {id} (seq {seq}, candidate `{candidate}`)"),
            Damaged::Checkpoint { trials } => write!(f, "the checkpoint after {trials} trials"),
        }
    }
}

/// Why the content of a store cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// SQLite cannot open the file.
    #[error(transparent)]
    Open(rusqlite::Error),
    #[error("not a nasc run store ({0})")]
    NotAStore(#[source] rusqlite::Error),
    #[error("not a nasc run store (no `run` table)")]
    NoRunTable,
    #[error("unreadable run store ({0})")]
    Unreadable(#[source] rusqlite::Error),
    #[error("store format {format} is not supported (this nasc reads formats 1 to {known})")]
    Format { format: i64, known: i64 },
    #[error("damaged run store: {0} does not match its checksum (the file was changed outside nasc); nothing in it is trusted")]
    Damaged(Damaged),
    #[error("corrupt run store: trial sequence has a gap at {seq}")]
    Gap { seq: u64 },
    #[error("corrupt checkpoint: {0}")]
    Checkpoint(#[source] serde_json::Error),
    /// The last checkpoint follows another number of trials than the store holds.
    #[error("damaged run store: the last checkpoint follows {checkpoint} trials, but {readable} trials are readable")]
    CheckpointCount { checkpoint: u64, readable: u64 },
}

impl ReadError {
    /// Whether SQLite could not open the file read-only in the usual way (a read-only folder or
    /// disk: WAL mode wants to create its `-shm` file).
    pub fn is_readonly_open(&self) -> bool {
        let t = self.to_string();
        t.contains("readonly") || t.contains("unable to open")
    }
}

impl From<StoreError> for String {
    fn from(e: StoreError) -> String {
        e.to_string()
    }
}

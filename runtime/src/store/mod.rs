//! Trial stores: an in-memory one, and the durable SQLite one (one file per run).
//!
//! SQLite layout (WAL mode, `synchronous=NORMAL`: a committed transaction survives a killed
//! process): `run` (one row: spec text and hash, strategy and config, evaluator, seed, budget,
//! status), `trials` (one row per finished trial, in completion order `seq`) and `checkpoints`
//! (the runner and strategy state after the last trial of each committed batch). Trials and the
//! checkpoint that follows them are written in one transaction, so a store always holds a
//! checkpoint consistent with its trials. A file that is not a nasc store, or a store of another
//! spec, is refused and never written.
//!
//! - One writer at a time: a process that writes a store holds its run lock ([`lock`]).
//! - A store is created whole: it is built under a temporary name (`STORE.creating`) and then
//!   linked into place, so a process killed while creating one leaves no half-made `STORE`.
//! - Every `run`, `trials` and `checkpoints` row carries a checksum ([`rowsum`]); a damaged row
//!   is refused by name when the store is read. Format 1 stores (no checksums) are read as they
//!   are, and get checksums when they are resumed.
//! - Format 3 adds a nullable JSON column `extra` to `trials`: what an evaluator returns beyond
//!   the run's fixed metrics (a command's `{step, value}` lines and its own `metrics`). It is in
//!   the row checksum only when it is not NULL, so format 2 rows keep their checksums: resuming
//!   a format 1 or 2 store adds the column (and, to a format 1 store, the checksums).
//! - Format 4 adds a nullable JSON column `objectives` to `run`: the run's objectives and
//!   scalarization ([`crate::objective::Objectives::to_json`]); NULL means the default (the
//!   evaluator's reward, maximized), as in older stores. Like `extra`, it is in the row checksum
//!   only when it is not NULL.
//! - Reading never writes: a store on a read-only disk or folder is read as an immutable file.
mod blobs;
mod error;
mod lock;
pub mod pg;
mod read;
mod rowsum;
mod spaces;
mod upgrade;

pub use error::{Damaged, ReadError, StoreError};
pub use lock::lock_path;
use lock::RunLock;
use read::open_read;
use rowsum::RowSum;
pub use spaces::{load_space_from, SavedSpace, SpaceRole};

use crate::budget::Budget;
use crate::space::{encode, SearchSpace};
use nasc_compiler::Candidate;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Version of the store layout: 2 adds a checksum column `sum` to `run`, `trials` and
/// `checkpoints`; 3 a JSON column `extra` to `trials`; 4 a JSON column `objectives` to `run`.
/// Format 1 to 3 stores are read and resumed (resuming brings them to format 4).
pub const FORMAT: i64 = 4;

/// One finished trial.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialRecord {
    /// Ask order (0-based).
    pub id: u64,
    /// Completion order (0-based): the trial sequence.
    pub seq: u64,
    pub candidate: Candidate,
    /// The equivalence key, when the run skips duplicates (computing it costs a network trace).
    pub key: Option<String>,
    pub reward: Option<f64>,
    pub reported: Option<f64>,
    /// Values of the run's metric names (space metrics, then evaluator metrics); NaN = none.
    pub metrics: Vec<f64>,
    /// The evaluation error of a failed trial.
    pub error: Option<String>,
    /// What the evaluator returned beyond the metrics ([`crate::eval::Evaluator::take_extra`]).
    /// Boxed: most evaluators have none, and the in-memory store holds millions of records.
    pub extra: Option<Box<Value>>,
    pub sim_start: f64,
    pub sim_end: f64,
    /// Wall-clock seconds since the run started (summed over resumed sessions).
    pub wall: f64,
}

/// What a run was made from; stored once, checked on resume.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMeta {
    pub spec_path: String,
    pub spec_text: String,
    pub spec_hash: String,
    pub space: String,
    pub sets: Vec<(String, String)>,
    pub constraints: Vec<String>,
    pub strategy: String,
    pub strategy_config: Value,
    pub evaluator: String,
    pub seed: u64,
    pub workers: usize,
    pub dedup: bool,
    pub budget: Budget,
    pub metric_names: Vec<String>,
    /// The run's objectives and scalarization as JSON ([`crate::objective::Objectives::to_json`]);
    /// None: the default objective (the evaluator's reward, maximized).
    pub objectives: Option<Value>,
}

/// The hash that identifies a spec: sha256 of its text and its `--set` overrides.
pub fn spec_hash(text: &str, sets: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    h.update(text.as_bytes());
    for (k, v) in sets {
        h.update(b"\0");
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(v.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A run's status as a store records it (the `status` column of SQLite and PostgreSQL runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Being worked on, or killed while it was.
    Running,
    /// Its budget (or target, or an NSE run's rounds) is used up.
    Finished,
    /// Interrupted cleanly (Ctrl-C); `--resume` goes on.
    Stopped,
    /// No more acceptable candidates.
    Exhausted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Stopped => "stopped",
            RunStatus::Exhausted => "exhausted",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where finished trials and checkpoints go.
pub trait Store {
    /// Add a finished trial to the current (uncommitted) batch.
    fn append(&mut self, space: &SearchSpace, t: TrialRecord) -> Result<(), StoreError>;
    /// Make the batch durable together with `checkpoint` (the state after its last trial).
    fn commit(&mut self, trials_done: u64, wall: f64, checkpoint: &Value) -> Result<(), StoreError>;
    /// Record the run's status.
    fn set_status(&mut self, status: RunStatus) -> Result<(), StoreError>;
    /// Record a changed budget (a resumed run may extend it).
    fn set_budget(&mut self, budget: &Budget) -> Result<(), StoreError>;
}

/// A store that keeps everything in memory.
#[derive(Default)]
pub struct MemStore {
    pub trials: Vec<TrialRecord>,
    pub checkpoint: Option<Value>,
    pub status: String,
    /// Trials committed so far (`trials[..committed]`).
    pub committed: usize,
}

impl Store for MemStore {
    fn append(&mut self, _space: &SearchSpace, t: TrialRecord) -> Result<(), StoreError> {
        self.trials.push(t);
        Ok(())
    }
    fn commit(&mut self, _trials_done: u64, _wall: f64, checkpoint: &Value) -> Result<(), StoreError> {
        self.checkpoint = Some(checkpoint.clone());
        self.committed = self.trials.len();
        Ok(())
    }
    fn set_status(&mut self, status: RunStatus) -> Result<(), StoreError> {
        self.status = status.as_str().to_string();
        Ok(())
    }
    fn set_budget(&mut self, _budget: &Budget) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A trial as read back from a store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTrial {
    pub id: u64,
    pub seq: u64,
    /// The candidate in the spec's naming format.
    pub name: String,
    /// Lossless slot encoding (`space::encode`).
    pub genotype: String,
    /// The equivalence key (recorded when the run skips duplicates).
    pub key: Option<String>,
    pub metrics: Map<String, Value>,
    pub reward: Option<f64>,
    pub reported: Option<f64>,
    pub status: String,
    pub error: Option<String>,
    /// What the evaluator returned beyond the metrics (format 3; None before).
    pub extra: Option<Value>,
    pub sim_start: f64,
    pub sim_end: f64,
    pub wall: f64,
}

/// A whole run read back from a store.
#[derive(Debug, Clone)]
pub struct StoredRun {
    pub meta: RunMeta,
    pub status: String,
    pub created: f64,
    pub trials: Vec<StoredTrial>,
    /// (trials done, state) of the latest checkpoint.
    pub checkpoint: Option<(u64, Value)>,
}

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    in_tx: bool,
    metric_names: Vec<String>,
    /// Held while the store is open for writing; declared last so that it is released after the
    /// connection is closed.
    _lock: RunLock,
}

/// Wraps an SQLite error of the store at `path`.
fn sql(path: &Path) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sql { path: path.to_path_buf(), source }
}

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

const SCHEMA: &str = "
CREATE TABLE run (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  format INTEGER NOT NULL, nasc_version TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
  status TEXT NOT NULL, spec_path TEXT NOT NULL, spec_text TEXT NOT NULL, spec_hash TEXT NOT NULL,
  space TEXT NOT NULL, sets TEXT NOT NULL, constraints TEXT NOT NULL, strategy TEXT NOT NULL,
  strategy_config TEXT NOT NULL, evaluator TEXT NOT NULL, seed INTEGER NOT NULL,
  workers INTEGER NOT NULL, dedup INTEGER NOT NULL, budget TEXT NOT NULL, metric_names TEXT NOT NULL,
  sum INTEGER, objectives TEXT
);
CREATE TABLE trials (
  id INTEGER PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, candidate TEXT NOT NULL, genotype TEXT NOT NULL,
  key TEXT, metrics TEXT NOT NULL, reward REAL, reported REAL, status TEXT NOT NULL,
  error TEXT, sim_start REAL NOT NULL, sim_time REAL NOT NULL, wall_time REAL NOT NULL,
  sum INTEGER, extra TEXT
);
CREATE TABLE checkpoints (
  trials INTEGER PRIMARY KEY, wall_time REAL NOT NULL, created REAL NOT NULL, state TEXT NOT NULL,
  sum INTEGER
);
";

/// The checksummed columns of each table (all but `sum`, and the run's `updated` time, which
/// every commit rewrites), with the ones of REAL type. A trial's `extra` (format 3) follows
/// these, hashed only when not NULL ([`trial_sum`]).
const RUN_COLS: &str =
    "id, format, nasc_version, created, status, spec_path, spec_text, spec_hash, space, sets, constraints, strategy, strategy_config, evaluator, seed, workers, dedup, budget, metric_names";
const RUN_REAL: &[usize] = &[3];
const TRIAL_COLS: &str = "id, seq, candidate, genotype, key, metrics, reward, reported, status, error, sim_start, sim_time, wall_time";
const TRIAL_REAL: &[usize] = &[6, 7, 10, 11, 12];
const CHECKPOINT_COLS: &str = "trials, wall_time, created, state";
const CHECKPOINT_REAL: &[usize] = &[1, 2];

/// The checksum of the first `n` columns of a row read back, as its writer computes it.
fn row_sum(table: &str, r: &rusqlite::Row, n: usize, real: &[usize]) -> rusqlite::Result<i64> {
    let mut h = RowSum::new(table);
    for i in 0..n {
        h.value(r.get_ref(i)?, real.contains(&i));
    }
    Ok(h.finish())
}

/// The checksum of a trial row read back as `TRIAL_COLS` then, in format 3, `extra`.
fn trial_sum(r: &rusqlite::Row, format: i64) -> rusqlite::Result<i64> {
    let n = TRIAL_COLS.split(',').count();
    let mut h = RowSum::new("trials");
    for i in 0..n {
        h.value(r.get_ref(i)?, TRIAL_REAL.contains(&i));
    }
    if format >= 3 {
        if let ValueRef::Text(_) = r.get_ref(n)? {
            h.value(r.get_ref(n)?, false);
        }
    }
    Ok(h.finish())
}

/// The checksum of a run row read back as `RUN_COLS` then, when `objectives` is selected
/// (format 4), the objectives (hashed only when not NULL).
fn run_sum(r: &rusqlite::Row, objectives: bool) -> rusqlite::Result<i64> {
    let n = RUN_COLS.split(',').count();
    let mut h = RowSum::new("run");
    for i in 0..n {
        h.value(r.get_ref(i)?, RUN_REAL.contains(&i));
    }
    if objectives {
        if let ValueRef::Text(_) = r.get_ref(n)? {
            h.value(r.get_ref(n)?, false);
        }
    }
    Ok(h.finish())
}

/// Whether the run table has the `objectives` column (format 4).
fn run_has_objectives(conn: &Connection) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('run')")?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(names.iter().any(|n| n == "objectives"))
}

/// Recompute the run row's checksum from what it holds (after each change to it).
fn reseal_run(conn: &Connection) -> rusqlite::Result<()> {
    let with = run_has_objectives(conn)?;
    let cols = if with { format!("{RUN_COLS}, objectives") } else { RUN_COLS.to_string() };
    let sum = conn.query_row(&format!("SELECT {cols} FROM run WHERE id = 1"), [], |r| run_sum(r, with))?;
    conn.execute("UPDATE run SET sum = ?1 WHERE id = 1", params![sum])?;
    Ok(())
}

/// Percent-encode a path for an SQLite `file:` URI.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `STORE.creating`: where a new store is built before it is linked into place.
fn creating_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".creating");
    path.with_file_name(name)
}

/// Refuse a path that is a folder (a store is one file).
fn not_a_folder(path: &Path) -> Result<(), StoreError> {
    if path.is_dir() {
        return Err(StoreError::IsFolder { path: path.to_path_buf() });
    }
    Ok(())
}

pub(crate) fn budget_json(b: &Budget) -> Value {
    match b {
        Budget::Trials(n) => json!({"trials": n}),
        Budget::Time(s) => json!({"time": s}),
    }
}

pub(crate) fn budget_from(v: &Value) -> Option<Budget> {
    if let Some(n) = v.get("trials").and_then(Value::as_u64) {
        return Some(Budget::Trials(n));
    }
    v.get("time").and_then(Value::as_f64).map(Budget::Time)
}

pub(crate) fn num_json(x: f64) -> Value {
    if x.is_finite() {
        if x.fract() == 0.0 && x.abs() < 9e15 {
            json!(x as i64)
        } else {
            json!(x)
        }
    } else {
        Value::Null
    }
}

impl SqliteStore {
    /// Create a new store at `path` (its folder is created); refuses an existing file.
    ///
    /// The store is built as `STORE.creating` and linked into place when whole: a process killed
    /// meanwhile leaves no `STORE` (the next create clears the leftover).
    pub fn create(path: &Path, meta: &RunMeta) -> Result<Self, StoreError> {
        not_a_folder(path)?;
        if path.exists() {
            return Err(StoreError::Exists { path: path.to_path_buf() });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateFolder { path: path.to_path_buf(), source })?;
        }
        let lock = RunLock::acquire(path)?;
        // another process may have made it while we waited for the lock
        if path.exists() {
            return Err(StoreError::Exists { path: path.to_path_buf() });
        }
        let tmp = creating_path(path);
        // a leftover of a killed creation: ours to clear, since we hold the lock
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let mut p = tmp.as_os_str().to_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
        let built = Self::build(&tmp, meta).and_then(|()| {
            std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(|source| StoreError::Sync { path: path.to_path_buf(), file: tmp.clone(), source })?;
            // a hard link never replaces an existing file; where links are not supported, the
            // lock and the check above make a rename safe
            match std::fs::hard_link(&tmp, path) {
                Ok(()) => std::fs::remove_file(&tmp).map_err(|source| StoreError::Remove { path: path.to_path_buf(), file: tmp.clone(), source }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(StoreError::Exists { path: path.to_path_buf() }),
                Err(_) => std::fs::rename(&tmp, path).map_err(|source| StoreError::MoveIntoPlace { path: path.to_path_buf(), file: tmp.clone(), source }),
            }
        });
        if let Err(e) = built {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // make the new name durable (best effort: not every platform syncs folders)
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        let conn = Self::open_rw(path)?;
        Ok(SqliteStore { conn, path: path.to_path_buf(), in_tx: false, metric_names: meta.metric_names.clone(), _lock: lock })
    }

    fn open_rw(path: &Path) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(sql(path))?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;").map_err(sql(path))?;
        Ok(conn)
    }

    /// Write a whole new store at `tmp` (rollback journal: the file alone holds everything once
    /// the connection is closed).
    fn build(tmp: &Path, meta: &RunMeta) -> Result<(), StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let path = tmp;
        let conn = Connection::open_with_flags(path, flags).map_err(sql(path))?;
        conn.execute_batch("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;").map_err(sql(path))?;
        let t = now();
        conn.execute_batch(&format!("BEGIN; {SCHEMA}")).map_err(sql(path))?;
        conn.execute(
            "INSERT INTO run VALUES (1, ?1, ?2, ?3, ?3, 'running', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, NULL, ?18)",
            params![
                FORMAT,
                env!("CARGO_PKG_VERSION"),
                t,
                meta.spec_path,
                meta.spec_text,
                meta.spec_hash,
                meta.space,
                serde_json::to_string(&meta.sets).unwrap_or_default(),
                serde_json::to_string(&meta.constraints).unwrap_or_default(),
                meta.strategy,
                meta.strategy_config.to_string(),
                meta.evaluator,
                meta.seed as i64,
                meta.workers as i64,
                meta.dedup as i64,
                budget_json(&meta.budget).to_string(),
                serde_json::to_string(&meta.metric_names).unwrap_or_default(),
                meta.objectives.as_ref().map(Value::to_string),
            ],
        )
        .map_err(sql(path))?;
        reseal_run(&conn).map_err(sql(path))?;
        conn.execute_batch("COMMIT;").map_err(sql(path))?;
        conn.close().map_err(|(_, e)| sql(path)(e))
    }

    /// Read a whole run (read-only; the file is never modified).
    pub fn read(path: &Path) -> Result<StoredRun, StoreError> {
        open_read(path).map(|(_, run, _)| run)
    }

    /// Read a run trial by trial: each trial goes to `each` in completion order and is not kept,
    /// so a report's memory does not grow with the run. The run comes back with no trials. Every
    /// row is checked as in [`SqliteStore::read`]; on an error `each` may have seen some trials.
    pub fn scan(path: &Path, each: &mut dyn FnMut(&RunMeta, StoredTrial)) -> Result<StoredRun, StoreError> {
        read::open_scan(path, each).map(|(_, run, _)| run)
    }

    /// Open an existing store to continue it: it must be a nasc store of the same spec hash,
    /// and no other process may be writing it (its run lock).
    pub fn resume(path: &Path, spec_hash: &str) -> Result<(Self, StoredRun), StoreError> {
        not_a_folder(path)?;
        if !path.is_file() {
            return Err(StoreError::NoFile { path: path.to_path_buf() });
        }
        let lock = RunLock::acquire(path)?;
        let (_, run, format) = open_read(path)?;
        if run.meta.spec_hash != spec_hash {
            return Err(StoreError::SpecMismatch { path: path.to_path_buf(), stored_path: run.meta.spec_path, stored_hash: run.meta.spec_hash, hash: spec_hash.to_string() });
        }
        let conn = Self::open_rw(path)?;
        if format < FORMAT {
            upgrade::upgrade(&conn, format).map_err(|source| StoreError::Upgrade { path: path.to_path_buf(), from: format, to: FORMAT, source })?;
        }
        let names = run.meta.metric_names.clone();
        Ok((SqliteStore { conn, path: path.to_path_buf(), in_tx: false, metric_names: names, _lock: lock }, run))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Change the run row and its checksum together (a savepoint: inside an open batch or not).
    fn update_run(&self, statement: &str, p: impl rusqlite::Params) -> Result<(), StoreError> {
        let c = &self.conn;
        c.execute_batch("SAVEPOINT run_update").map_err(sql(&self.path))?;
        match c.execute(statement, p).and_then(|_| reseal_run(c)) {
            Ok(()) => c.execute_batch("RELEASE run_update").map_err(sql(&self.path)),
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK TO run_update; RELEASE run_update");
                Err(sql(&self.path)(e))
            }
        }
    }

    fn begin(&mut self) -> Result<(), StoreError> {
        if !self.in_tx {
            self.conn.execute_batch("BEGIN").map_err(sql(&self.path))?;
            self.in_tx = true;
        }
        Ok(())
    }
}

impl Store for SqliteStore {
    fn append(&mut self, space: &SearchSpace, t: TrialRecord) -> Result<(), StoreError> {
        self.begin()?;
        let mut m = Map::new();
        for (n, v) in self.metric_names.iter().zip(&t.metrics) {
            m.insert(n.clone(), num_json(*v));
        }
        let status = if t.error.is_some() { "failed" } else { "ok" };
        let (name, genotype, metrics) = (space.display_name(&t.candidate), encode(&t.candidate), Value::Object(m).to_string());
        let extra = t.extra.as_ref().map(|x| x.to_string());
        // the same fields, in the same order, as TRIAL_COLS, then `extra` when there is one
        let mut sum = RowSum::new("trials");
        sum.int(t.id as i64)
            .int(t.seq as i64)
            .text(&name)
            .text(&genotype)
            .opt_text(t.key.as_deref())
            .text(&metrics)
            .opt_real(t.reward)
            .opt_real(t.reported)
            .text(status)
            .opt_text(t.error.as_deref())
            .real(t.sim_start)
            .real(t.sim_end)
            .real(t.wall);
        if let Some(x) = &extra {
            sum.text(x);
        }
        let sum = sum.finish();
        let mut stmt = self
            .conn
            .prepare_cached("INSERT INTO trials (id, seq, candidate, genotype, key, metrics, reward, reported, status, error, sim_start, sim_time, wall_time, sum, extra) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)")
            .map_err(sql(&self.path))?;
        stmt.execute(params![t.id as i64, t.seq as i64, name, genotype, t.key, metrics, t.reward, t.reported, status, t.error, t.sim_start, t.sim_end, t.wall, sum, extra])
            .map_err(sql(&self.path))?;
        Ok(())
    }

    fn commit(&mut self, trials_done: u64, wall: f64, checkpoint: &Value) -> Result<(), StoreError> {
        self.begin()?;
        let (created, state) = (now(), checkpoint.to_string());
        let sum = RowSum::new("checkpoints").int(trials_done as i64).real(wall).real(created).text(&state).finish();
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO checkpoints (trials, wall_time, created, state, sum) VALUES (?1, ?2, ?3, ?4, ?5)")
            .and_then(|mut s| s.execute(params![trials_done as i64, wall, created, state, sum]))
            .map_err(sql(&self.path))?;
        // only the latest checkpoint is ever read (resume): older ones go in the same
        // transaction, so a store holds exactly one (L2NAS's state is ~1.4 MB)
        self.conn.prepare_cached("DELETE FROM checkpoints WHERE trials < ?1").and_then(|mut s| s.execute(params![trials_done as i64])).map_err(sql(&self.path))?;
        self.conn.execute("UPDATE run SET updated = ?1 WHERE id = 1", params![now()]).map_err(sql(&self.path))?;
        self.conn.execute_batch("COMMIT").map_err(sql(&self.path))?;
        self.in_tx = false;
        Ok(())
    }

    fn set_status(&mut self, status: RunStatus) -> Result<(), StoreError> {
        self.update_run("UPDATE run SET status = ?1, updated = ?2 WHERE id = 1", params![status.as_str(), now()])
    }

    fn set_budget(&mut self, budget: &Budget) -> Result<(), StoreError> {
        self.update_run("UPDATE run SET budget = ?1 WHERE id = 1", params![budget_json(budget).to_string()])
    }
}

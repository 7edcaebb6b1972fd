//! The PostgreSQL schema of nasc runs, versioned, with its migrations.
//!
//! `nasc_schema` holds one row, the version; each migration brings the database from one version
//! to the next in one transaction under an advisory lock, so concurrent first connections
//! migrate once. A database with a newer version than this nasc knows is refused.
//!
//! - `nasc_runs`: one row per run (the `--run` name): the same configuration as the SQLite
//!   store's `run` table (spec text and hash, strategy and config, evaluator, seed, budget,
//!   metric names, objectives) plus the shared search state: the strategy's serialized state and
//!   its version (bumped by every ask or tell), the next trial id, the finished count, the lease
//!   timeout and `max_retries`. Times are the database's clock. Version 2 adds `target` (the
//!   reward at which the run stops, `--target`; NULL: none).
//! - `nasc_spaces` (version 3): a run's explicit spaces, as the SQLite store's `spaces` table:
//!   the `input` space of a `--space-from` run (sorted member encodings, size, provenance).
//! - `nasc_trials`: one row per asked trial: `queued` (waiting for a worker), `running` (claimed:
//!   `worker`, `attempts`, `heartbeat`) or `finished` (its result and completion order `seq`).
use postgres::Transaction;

/// The schema version this nasc writes.
pub const VERSION: i32 = 3;

/// Key of the advisory lock taken while migrating (any constant: "nasc" in ASCII).
const MIGRATE_LOCK: i64 = 0x6e61_7363;

/// Migration `i` brings the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE nasc_runs (
  name TEXT PRIMARY KEY,
  nasc_version TEXT NOT NULL,
  created DOUBLE PRECISION NOT NULL,
  updated DOUBLE PRECISION NOT NULL,
  status TEXT NOT NULL,
  spec_path TEXT NOT NULL, spec_text TEXT NOT NULL, spec_hash TEXT NOT NULL, space TEXT NOT NULL,
  sets TEXT NOT NULL, constraints TEXT NOT NULL, strategy TEXT NOT NULL, strategy_config TEXT NOT NULL,
  evaluator TEXT NOT NULL, seed BIGINT NOT NULL, workers INTEGER NOT NULL, dedup BOOLEAN NOT NULL,
  budget TEXT NOT NULL, metric_names TEXT NOT NULL, objectives TEXT,
  lease_seconds DOUBLE PRECISION NOT NULL, max_retries INTEGER NOT NULL,
  strategy_state TEXT NOT NULL, version BIGINT NOT NULL,
  next_id BIGINT NOT NULL, done BIGINT NOT NULL, exhausted BOOLEAN NOT NULL
);
CREATE TABLE nasc_trials (
  run TEXT NOT NULL REFERENCES nasc_runs (name) ON DELETE CASCADE,
  id BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'finished')),
  candidate TEXT NOT NULL, genotype TEXT NOT NULL, key TEXT,
  attempts INTEGER NOT NULL, worker TEXT, heartbeat TIMESTAMPTZ,
  seq BIGINT, metrics TEXT, reward DOUBLE PRECISION, reported DOUBLE PRECISION, status TEXT,
  error TEXT, extra TEXT, sim_start DOUBLE PRECISION NOT NULL, sim_time DOUBLE PRECISION,
  wall_time DOUBLE PRECISION,
  PRIMARY KEY (run, id),
  UNIQUE (run, seq)
);
CREATE INDEX nasc_trials_open ON nasc_trials (run, state, id) WHERE state <> 'finished';
",
    "
ALTER TABLE nasc_runs ADD COLUMN target DOUBLE PRECISION;
",
    "
CREATE TABLE nasc_spaces (
  run TEXT NOT NULL REFERENCES nasc_runs (name) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('input', 'shrunk')),
  spec_hash TEXT NOT NULL, size BIGINT NOT NULL, members TEXT NOT NULL, stats TEXT NOT NULL,
  created DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (run, role)
);
",
];

/// Bring the database to [`VERSION`]; returns the version found before, or refuses a newer one.
pub fn migrate(tx: &mut Transaction) -> Result<i32, postgres::Error> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS nasc_schema (version INTEGER NOT NULL)")?;
    let found: Option<i32> = tx.query_opt("SELECT version FROM nasc_schema", &[])?.map(|r| r.get(0));
    let found = match found {
        Some(v) => v,
        None => {
            tx.execute("INSERT INTO nasc_schema VALUES (0)", &[])?;
            0
        }
    };
    for (i, m) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        tx.batch_execute(m)?;
        tx.execute("UPDATE nasc_schema SET version = $1", &[&(i as i32 + 1)])?;
    }
    Ok(found)
}

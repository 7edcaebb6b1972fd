//! The PostgreSQL store: one database holds many runs (`--run NAME`), and any number of
//! processes on any machines work on one run at once (`nasc search` creates it, `nasc worker`
//! joins it). Unlike the SQLite store, no process owns the run: the strategy's serialized state
//! lives in the run's row, and whichever process asks or tells does so under that row's lock
//! (`SELECT ... FOR UPDATE`), restoring the state when another process changed it.
//!
//! - [`schema`]: the versioned schema and its migrations.
//! - [`lease`]: claiming trials (`FOR UPDATE SKIP LOCKED`), heartbeats, re-queueing trials
//!   whose lease expired (database clock), refusing results of lost leases, and telling results.
//! - [`error`]: the typed errors.
//!
//! Guarantees, as in the SQLite store: a trial's result is committed before it is reported; a
//! finished trial is never lost (one transaction finishes it and advances the strategy); a
//! trial id is finished at most once (a result is accepted only from the worker that holds the
//! trial's current lease). Connections lost to a server restart are re-made with backoff
//! ([`Conn::retry`]); serialization failures and deadlocks are retried.
pub mod error;
pub mod lease;
pub mod schema;
pub mod spaces;

pub use error::PgError;

use super::{budget_from, budget_json, RunMeta, StoredRun, StoredTrial};
use crate::budget::Budget;
use postgres::{Client, NoTls};
use serde_json::{Map, Value};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Whether a `--store` value names a PostgreSQL database.
pub fn is_url(store: &str) -> bool {
    store.starts_with("postgresql://") || store.starts_with("postgres://")
}

/// Check a run name: 1 to 200 printable characters.
pub fn check_run_name(run: &str) -> Result<(), PgError> {
    let bad = |why: &str| Err(PgError::BadRunName { run: run.to_string(), why: why.to_string() });
    if run.is_empty() {
        return bad("empty (give the run a name, e.g. `--run nb201-re`)");
    }
    if run.len() > 200 {
        return bad("longer than 200 bytes");
    }
    if run.chars().any(char::is_control) {
        return bad("has control characters");
    }
    Ok(())
}

/// How long a process keeps trying to reach a server that went away before it gives up.
pub const RECONNECT_WINDOW: Duration = Duration::from_secs(120);

/// One connection to the run's database that reconnects with backoff when the server is gone.
pub struct Conn {
    url: String,
    config: postgres::Config,
    client: Option<Client>,
    /// How long [`Conn::retry`] keeps reconnecting.
    pub window: Duration,
}

impl Conn {
    /// Parse the URL and connect (with backoff, within the reconnect window).
    pub fn open(url: &str) -> Result<Conn, PgError> {
        let mut config = postgres::Config::from_str(url).map_err(|e| PgError::Url { url: url.to_string(), why: e.to_string().to_lowercase() })?;
        if config.get_dbname().is_none() {
            return Err(PgError::Url { url: url.to_string(), why: "no database name (write `postgresql://USER@HOST:PORT/DB`)".into() });
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.application_name("nasc");
        // NASC_PG_RECONNECT_SECONDS shortens (or lengthens) the window, e.g. for tests
        let window = std::env::var("NASC_PG_RECONNECT_SECONDS")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| *s >= 0.0 && s.is_finite())
            .map_or(RECONNECT_WINDOW, Duration::from_secs_f64);
        let mut c = Conn { url: url.to_string(), config, client: None, window };
        c.client()?;
        let mut tx = c.client()?.transaction().map_err(|e| PgError::Sql { run: String::new(), what: "begin", source: e })?;
        let found = schema::migrate(&mut tx).map_err(|e| PgError::Sql { run: String::new(), what: "schema migration", source: e })?;
        if found > schema::VERSION {
            return Err(PgError::SchemaTooNew { url: url.to_string(), found, known: schema::VERSION });
        }
        tx.commit().map_err(|e| PgError::Sql { run: String::new(), what: "schema migration", source: e })?;
        Ok(c)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The live client, connecting first (with backoff) when there is none.
    pub fn client(&mut self) -> Result<&mut Client, PgError> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        if self.client.is_none() {
            let started = Instant::now();
            let mut tries = 0;
            let mut wait = Duration::from_millis(50);
            loop {
                tries += 1;
                match self.config.connect(NoTls) {
                    Ok(c) => {
                        self.client = Some(c);
                        break;
                    }
                    Err(e) if started.elapsed() + wait < self.window => {
                        let _ = e;
                        std::thread::sleep(wait);
                        wait = (wait * 2).min(Duration::from_secs(2));
                    }
                    Err(e) => return Err(PgError::Unreachable { url: self.url.clone(), tries, secs: started.elapsed().as_secs_f64(), source: e }),
                }
            }
        }
        Ok(self.client.as_mut().expect("connected"))
    }

    /// Run `op` (one transaction) until it succeeds: a serialization failure or deadlock runs it
    /// again at once, a lost connection after reconnecting (with backoff, within the window).
    /// `op` must leave nothing behind when it fails: it runs again from the start.
    pub fn retry<T>(&mut self, mut op: impl FnMut(&mut Client) -> Result<T, PgError>) -> Result<T, PgError> {
        let started = Instant::now();
        let mut wait = Duration::from_millis(20);
        loop {
            let r = self.client().and_then(&mut op);
            match r {
                Err(e) if e.is_retryable() => continue,
                Err(e) if e.is_connection() && started.elapsed() < self.window => {
                    self.client = None;
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
                r => return r,
            }
        }
    }
}

/// Column list of a run's configuration, in [`meta_of`]'s order.
const META_COLS: &str =
    "spec_path, spec_text, spec_hash, space, sets, constraints, strategy, strategy_config, evaluator, seed, workers, dedup, budget, metric_names, objectives, status, created";

fn meta_of(r: &postgres::Row) -> (RunMeta, String, f64) {
    let js = |i: usize| -> Value { serde_json::from_str(&r.get::<_, String>(i)).unwrap_or(Value::Null) };
    let meta = RunMeta {
        spec_path: r.get(0),
        spec_text: r.get(1),
        spec_hash: r.get(2),
        space: r.get(3),
        sets: serde_json::from_value(js(4)).unwrap_or_default(),
        constraints: serde_json::from_value(js(5)).unwrap_or_default(),
        strategy: r.get(6),
        strategy_config: js(7),
        evaluator: r.get(8),
        seed: r.get::<_, i64>(9) as u64,
        workers: r.get::<_, i32>(10) as usize,
        dedup: r.get(11),
        budget: budget_from(&js(12)).unwrap_or(Budget::Trials(0)),
        metric_names: serde_json::from_value(js(13)).unwrap_or_default(),
        objectives: r.get::<_, Option<String>>(14).and_then(|t| serde_json::from_str(&t).ok()),
    };
    (meta, r.get(15), r.get(16))
}

/// Lease settings of a new run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeaseConfig {
    /// A running trial whose last heartbeat is older than this (database clock) is re-queued.
    pub lease_seconds: f64,
    /// How many times a trial is re-queued before it is failed.
    pub max_retries: u32,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig { lease_seconds: 30.0, max_retries: 3 }
    }
}

/// An explicit space a new run searches (`--space-from`): its members and provenance.
pub struct InputSpace<'a> {
    pub members: &'a [nasc_compiler::Candidate],
    pub stats: Value,
}

/// Create run `run` from `meta` with the strategy's initial state, stopping when a reward reaches
/// `target` (`--target`) and restricted to `input` when given (saved in the same transaction);
/// refuses an existing run.
pub fn create_run(conn: &mut Conn, run: &str, meta: &RunMeta, lease: LeaseConfig, target: Option<f64>, strategy_state: &Value, input: Option<&InputSpace>) -> Result<(), PgError> {
    check_run_name(run)?;
    let url = conn.url().to_string();
    let sql = |what| move |e| PgError::Sql { run: run.to_string(), what, source: e };
    conn.retry(|c| {
        let mut tx = c.transaction().map_err(sql("begin"))?;
        let exists = tx.query_opt("SELECT 1 FROM nasc_runs WHERE name = $1", &[&run]).map_err(sql("look up the run"))?;
        if exists.is_some() {
            return Err(PgError::RunExists { run: run.to_string(), url: url.clone() });
        }
        tx.execute(
            "INSERT INTO nasc_runs (name, nasc_version, created, updated, status, spec_path, spec_text, spec_hash, space, sets, constraints, strategy, strategy_config, evaluator, seed, workers, dedup, budget, metric_names, objectives, lease_seconds, max_retries, strategy_state, version, next_id, done, exhausted, target)
             VALUES ($1, $2, extract(epoch FROM clock_timestamp()), extract(epoch FROM clock_timestamp()), 'running', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 0, 0, 0, false, $21)",
            &[
                &run,
                &env!("CARGO_PKG_VERSION"),
                &meta.spec_path,
                &meta.spec_text,
                &meta.spec_hash,
                &meta.space,
                &serde_json::to_string(&meta.sets).unwrap_or_default(),
                &serde_json::to_string(&meta.constraints).unwrap_or_default(),
                &meta.strategy,
                &meta.strategy_config.to_string(),
                &meta.evaluator,
                &(meta.seed as i64),
                &(meta.workers as i32),
                &meta.dedup,
                &budget_json(&meta.budget).to_string(),
                &serde_json::to_string(&meta.metric_names).unwrap_or_default(),
                &meta.objectives.as_ref().map(Value::to_string),
                &lease.lease_seconds,
                &(lease.max_retries as i32),
                &strategy_state.to_string(),
                &target,
            ],
        )
        .map_err(sql("create the run"))?;
        if let Some(i) = input {
            spaces::save_space(&mut tx, run, crate::store::SpaceRole::Input, &meta.spec_hash, i.members, &i.stats)?;
        }
        tx.commit().map_err(sql("create the run"))
    })
}

/// A run's configuration and status (without its trials).
pub fn run_meta(conn: &mut Conn, run: &str) -> Result<(RunMeta, String, f64), PgError> {
    check_run_name(run)?;
    let url = conn.url().to_string();
    let row = conn.retry(|c| {
        c.query_opt(&format!("SELECT {META_COLS} FROM nasc_runs WHERE name = $1"), &[&run]).map_err(|e| PgError::Sql { run: run.to_string(), what: "read the run", source: e })
    })?;
    row.map(|r| meta_of(&r)).ok_or(PgError::NoRun { run: run.to_string(), url })
}

/// The first 12 characters of a spec hash, as errors show it.
fn short_hash(h: &str) -> String {
    h[..12.min(h.len())].to_string()
}

/// Continue run `run`: it must have been made from the same spec (hash); its status becomes
/// `running` again and, when given, its budget changes.
pub fn resume_run(conn: &mut Conn, run: &str, spec_hash: &str, budget: Option<Budget>) -> Result<RunMeta, PgError> {
    let (mut meta, _, _) = run_meta(conn, run)?;
    if meta.spec_hash != spec_hash {
        return Err(PgError::SpecMismatch { run: run.to_string(), stored_path: meta.spec_path.clone(), stored_hash: short_hash(&meta.spec_hash), hash: short_hash(spec_hash) });
    }
    if let Some(b) = budget {
        meta.budget = b;
    }
    let b = budget_json(&meta.budget).to_string();
    // finished when the (new) budget is already used, else running
    conn.retry(|c| {
        c.execute(
            "UPDATE nasc_runs SET budget = $2, exhausted = false, status = CASE WHEN done >= ($2::text::jsonb ->> 'trials')::bigint THEN 'finished' ELSE 'running' END, updated = extract(epoch FROM clock_timestamp()) WHERE name = $1",
            &[&run, &b],
        )
        .map_err(|e| PgError::Sql { run: run.to_string(), what: "resume the run", source: e })
    })?;
    Ok(meta)
}

/// Read a whole run as [`StoredRun`] (its finished trials in completion order), so that reports
/// read it like a SQLite store. The checkpoint is the strategy's current state.
pub fn read_run(conn: &mut Conn, run: &str) -> Result<StoredRun, PgError> {
    check_run_name(run)?;
    let url = conn.url().to_string();
    let sql = |what| move |e| PgError::Sql { run: run.to_string(), what, source: e };
    let (head, rows) = conn.retry(|c| {
        let mut tx = c.build_transaction().read_only(true).isolation_level(postgres::IsolationLevel::RepeatableRead).start().map_err(sql("begin"))?;
        let head = tx.query_opt(&format!("SELECT {META_COLS}, done, strategy_state FROM nasc_runs WHERE name = $1"), &[&run]).map_err(sql("read the run"))?;
        let rows = tx
            .query(
                "SELECT id, seq, candidate, genotype, key, metrics, reward, reported, status, error, extra, sim_start, sim_time, wall_time FROM nasc_trials WHERE run = $1 AND state = 'finished' ORDER BY seq",
                &[&run],
            )
            .map_err(sql("read the trials"))?;
        tx.commit().map_err(sql("read the trials"))?;
        Ok((head, rows))
    })?;
    let head = head.ok_or(PgError::NoRun { run: run.to_string(), url })?;
    let (meta, status, created) = meta_of(&head);
    let done: i64 = head.get(17);
    let state: String = head.get(18);
    let mut trials = Vec::with_capacity(rows.len());
    for r in rows {
        let id = r.get::<_, i64>(0) as u64;
        let metrics: Option<String> = r.get(5);
        trials.push(StoredTrial {
            id,
            seq: r.get::<_, i64>(1) as u64,
            name: r.get(2),
            genotype: r.get(3),
            key: r.get(4),
            metrics: match metrics.as_deref().map(serde_json::from_str) {
                Some(Ok(Value::Object(m))) => m,
                _ => Map::new(),
            },
            reward: r.get(6),
            reported: r.get(7),
            status: r.get::<_, Option<String>>(8).unwrap_or_default(),
            error: r.get(9),
            extra: r.get::<_, Option<String>>(10).map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s))),
            sim_start: r.get(11),
            sim_end: r.get::<_, Option<f64>>(12).unwrap_or(0.0),
            wall: r.get::<_, Option<f64>>(13).unwrap_or(0.0),
        });
    }
    for (i, t) in trials.iter().enumerate() {
        if t.seq != i as u64 {
            return Err(PgError::BadTrial { run: run.to_string(), id: t.id, why: format!("completion order has a gap at {i} (seq {})", t.seq) });
        }
    }
    let strategy: Value = serde_json::from_str(&state).map_err(|e| PgError::BadRun { run: run.to_string(), why: format!("unreadable strategy state: {e}") })?;
    Ok(StoredRun { meta, status, created, trials, checkpoint: Some((done as u64, serde_json::json!({ "strategy": strategy }))) })
}

/// Delete run `run` and its trials and spaces, if it exists (`nasc compare --fresh`).
pub fn delete_run(conn: &mut Conn, run: &str) -> Result<bool, PgError> {
    check_run_name(run)?;
    conn.retry(|c| c.execute("DELETE FROM nasc_runs WHERE name = $1", &[&run]).map_err(|e| PgError::Sql { run: run.to_string(), what: "delete the run", source: e })).map(|n| n > 0)
}

/// The names of the runs in the database, oldest first.
pub fn list_runs(conn: &mut Conn) -> Result<Vec<String>, PgError> {
    conn.retry(|c| {
        c.query("SELECT name FROM nasc_runs ORDER BY created", &[]).map(|rows| rows.iter().map(|r| r.get(0)).collect()).map_err(|e| PgError::Sql {
            run: String::new(),
            what: "list runs",
            source: e,
        })
    })
}

/// The lease timeout of run `run`, in seconds.
pub fn lease_seconds(conn: &mut Conn, run: &str) -> Result<f64, PgError> {
    let url = conn.url().to_string();
    conn.retry(|c| {
        c.query_opt("SELECT lease_seconds FROM nasc_runs WHERE name = $1", &[&run]).map_err(|e| PgError::Sql { run: run.to_string(), what: "read the lease timeout", source: e })
    })?
    .map(|r| r.get(0))
    .ok_or(PgError::NoRun { run: run.to_string(), url })
}

//! Working on a run in a PostgreSQL database: the loop of `nasc worker` (and of `nasc search`
//! with a `postgresql://` store). A process runs `threads` worker loops, each with its own
//! connection and its own evaluator, plus one heartbeat thread for the trials they hold.
//!
//! A worker loop: report the last results and claim new trials in one transaction
//! ([`lease::exchange`]), evaluate them, repeat; when nothing can be claimed (every trial asked
//! and some still running elsewhere), wait and look again (expired leases are re-queued then);
//! stop when the run is no longer `running`. The batch a loop claims adapts to the evaluator:
//! one trial at a time for slow evaluators, up to [`WorkOptions::max_batch`] for instant ones
//! (about 10 ms of evaluation per batch), which keeps the database's share of the work small.
//!
//! The stop flag (Ctrl-C) ends the loops after the current evaluation: results are reported, a
//! trial whose evaluation failed because of the stop is given back to the queue (its attempt
//! not counted).
use crate::error::ObjectiveError;
use crate::eval::EvalRequest;
use crate::objective::Objectives;
use crate::runner::eval_seed;
use crate::space::SearchSpace;
use crate::store::pg::lease::{self, Finished, Request, RunView, StrategyCache};
use crate::store::pg::{self, Conn, PgError};
use crate::store::RunMeta;
use crate::strategy;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Makes one evaluator per worker loop (each loop evaluates on its own thread).
pub use crate::eval::EvalFactory;

/// Why a worker process cannot go on working on a run.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error(transparent)]
    Pg(#[from] PgError),
    /// The run's stored objectives cannot be read.
    #[error(transparent)]
    Objectives(#[from] ObjectiveError),
    /// The run's strategy cannot be built from its stored name and configuration.
    #[error(transparent)]
    Strategy(#[from] strategy::ConfigError),
    /// The evaluator factory's text (an evaluator that cannot be made).
    #[error("{0}")]
    Evaluator(String),
    #[error("evaluator `{evaluator}` returned {results} results for {candidates} candidates")]
    ResultCount { evaluator: String, results: usize, candidates: usize },
    #[error("a worker thread panicked")]
    Panicked,
}

impl From<WorkError> for String {
    fn from(e: WorkError) -> String {
        e.to_string()
    }
}

/// Called after each exchange with (finished trials, budget).
pub type OnProgress<'a> = dyn Fn(u64, u64) + Sync + 'a;

pub struct WorkOptions<'a> {
    /// Worker loops in this process (trials in flight at once).
    pub threads: usize,
    /// The most trials one loop claims at once.
    pub max_batch: usize,
    /// How long a loop waits when there is nothing to claim.
    pub poll: Duration,
    /// Set to stop (Ctrl-C).
    pub stop: Arc<AtomicBool>,
    /// Print refused results and re-queued trials on stderr.
    pub verbose: bool,
    pub on_progress: Option<&'a OnProgress<'a>>,
}

impl WorkOptions<'_> {
    pub fn new(threads: usize, stop: Arc<AtomicBool>) -> Self {
        WorkOptions { threads: threads.max(1), max_batch: 256, poll: Duration::from_millis(50), stop, verbose: true, on_progress: None }
    }
}

/// What this process did.
#[derive(Debug, Default, Clone)]
pub struct WorkSummary {
    /// Trials evaluated here whose results were accepted.
    pub evaluated: u64,
    /// Results refused (the lease was lost meanwhile).
    pub refused: u64,
    /// Trials re-queued or failed by this process after their lease expired.
    pub requeued: u64,
    /// The run's status when this process stopped.
    pub status: String,
    /// Finished trials of the run then.
    pub done: u64,
    /// Whether it stopped because of the stop flag.
    pub interrupted: bool,
}

/// A worker id unique across machines and time: host, pid, loop and a nonce.
fn worker_id(thread: usize) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty()).unwrap_or_else(|| "host".into());
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{host}:{}:{thread}:{nonce:08x}", std::process::id())
}

struct Shared {
    evaluated: AtomicU64,
    refused: AtomicU64,
    requeued: AtomicU64,
    /// Worker ids whose trials the heartbeat thread refreshes.
    ids: Mutex<Vec<String>>,
    /// Set when every loop ended.
    over: AtomicBool,
    last: Mutex<(String, u64)>,
}

/// Work on run `run` until it is no longer running (or the stop flag is set).
pub fn work(url: &str, run: &str, space: &SearchSpace, meta: &RunMeta, make_eval: &EvalFactory, opts: &WorkOptions) -> Result<WorkSummary, WorkError> {
    let objectives = Objectives::of_run(meta)?;
    let lease = pg::lease_seconds(&mut Conn::open(url)?, run)?;
    let shared = Shared {
        evaluated: AtomicU64::new(0),
        refused: AtomicU64::new(0),
        requeued: AtomicU64::new(0),
        ids: Mutex::new(Vec::new()),
        over: AtomicBool::new(false),
        last: Mutex::new(("running".into(), 0)),
    };
    let results: Vec<Result<(), WorkError>> = std::thread::scope(|s| {
        let hb = s.spawn(|| heartbeats(url, run, lease, &shared));
        let loops: Vec<_> = (0..opts.threads)
            .map(|t| {
                s.spawn({
                    let (shared, objectives) = (&shared, &objectives);
                    move || work_loop(url, run, space, meta, objectives, make_eval, opts, t, shared)
                })
            })
            .collect();
        let mut r: Vec<Result<(), WorkError>> = loops.into_iter().map(|h| h.join().unwrap_or(Err(WorkError::Panicked))).collect();
        shared.over.store(true, Ordering::SeqCst);
        r.push(hb.join().unwrap_or(Ok(())));
        r
    });
    for r in results {
        r?;
    }
    let (status, done) = shared.last.lock().map(|l| l.clone()).unwrap_or_default();
    Ok(WorkSummary {
        evaluated: shared.evaluated.load(Ordering::SeqCst),
        refused: shared.refused.load(Ordering::SeqCst),
        requeued: shared.requeued.load(Ordering::SeqCst),
        interrupted: opts.stop.load(Ordering::SeqCst) && status == "running",
        status,
        done,
    })
}

/// Refresh the heartbeats of this process's trials every quarter of the lease.
fn heartbeats(url: &str, run: &str, lease: f64, shared: &Shared) -> Result<(), WorkError> {
    let every = Duration::from_secs_f64((lease / 4.0).clamp(0.05, 5.0));
    let mut conn: Option<Conn> = None;
    let mut next = Instant::now() + every;
    while !shared.over.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20).min(every));
        if Instant::now() < next {
            continue;
        }
        next = Instant::now() + every;
        let ids = shared.ids.lock().map(|i| i.clone()).unwrap_or_default();
        if conn.is_none() {
            conn = Conn::open(url).ok();
        }
        if let Some(c) = &mut conn {
            // a short window: a heartbeat that cannot be sent is tried again next time
            c.window = every;
            if lease::heartbeat(c, run, &ids).is_err() {
                conn = None;
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn work_loop(
    url: &str,
    run: &str,
    space: &SearchSpace,
    meta: &RunMeta,
    objectives: &Objectives,
    make_eval: &EvalFactory,
    opts: &WorkOptions,
    thread: usize,
    shared: &Shared,
) -> Result<(), WorkError> {
    let id = worker_id(thread);
    if let Ok(mut ids) = shared.ids.lock() {
        ids.push(id.clone());
    }
    let mut conn = Conn::open(url)?;
    let mut ev = make_eval().map_err(WorkError::Evaluator)?;
    ev.watch_stop(opts.stop.clone());
    let n_space = space.metric_names().len().min(meta.metric_names.len());
    let view = RunView { run, space, metric_names: &meta.metric_names, n_space, objectives };
    let mut cache = StrategyCache::new(strategy::make(&meta.strategy, &meta.strategy_config, meta.seed)?, meta.dedup);
    let seed = eval_seed(meta.seed);
    let mut results: Vec<Finished> = Vec::new();
    let mut want = 1usize;
    let mut idle = false;
    let mut last_check = Instant::now();
    loop {
        let stopping = opts.stop.load(Ordering::SeqCst);
        let check = idle || last_check.elapsed() > Duration::from_secs(1);
        if check {
            last_check = Instant::now();
        }
        let req = Request { worker: &id, results: &results, want: if stopping { 0 } else { want }, check_expired: check };
        let out = lease::exchange(&mut conn, &view, &mut cache, &req)?;
        shared.evaluated.fetch_add((results.len() - out.refused.len()) as u64, Ordering::SeqCst);
        shared.refused.fetch_add(out.refused.len() as u64, Ordering::SeqCst);
        shared.requeued.fetch_add((out.requeued.len() + out.expired.len()) as u64, Ordering::SeqCst);
        if opts.verbose {
            for t in &out.refused {
                eprintln!("warning: run `{run}`: the result of trial {t} was refused: this worker lost its lease (the trial was re-queued after missed heartbeats)");
            }
            if !out.requeued.is_empty() {
                eprintln!("note: run `{run}`: re-queued trials {:?} (their leases expired)", out.requeued);
            }
            if !out.expired.is_empty() {
                eprintln!("note: run `{run}`: failed trials {:?} (their leases expired more than max_retries times)", out.expired);
            }
        }
        results.clear();
        if let Ok(mut l) = shared.last.lock() {
            if out.status != "running" || out.done >= l.1 {
                *l = (out.status.clone(), out.done);
            }
        }
        if let Some(f) = opts.on_progress {
            f(out.done, out.budget);
        }
        if stopping || out.status != "running" {
            lease::release(&mut conn, run, &id)?;
            return Ok(());
        }
        if out.claimed.is_empty() {
            idle = true;
            std::thread::sleep(opts.poll);
            continue;
        }
        idle = false;
        let started = Instant::now();
        let reqs: Vec<EvalRequest> = out.claimed.iter().map(|c| EvalRequest { id: c.id, candidate: &c.candidate, seed }).collect();
        let evaluated = ev.evaluate(space, &reqs);
        drop(reqs);
        if evaluated.len() != out.claimed.len() {
            return Err(WorkError::ResultCount { evaluator: ev.name(), results: evaluated.len(), candidates: out.claimed.len() });
        }
        let stopped = opts.stop.load(Ordering::SeqCst);
        for (c, r) in out.claimed.iter().zip(evaluated) {
            let extra = ev.take_extra(c.id);
            // a trial that failed because the run was stopping is given back, not recorded
            if stopped && r.is_err() {
                continue;
            }
            results.push(view.finished(c, r, extra));
        }
        // about 10 ms of evaluation per batch
        let per = started.elapsed().as_secs_f64() / out.claimed.len() as f64;
        want = ((0.010 / per.max(1e-7)) as usize).clamp(1, opts.max_batch.max(1));
    }
}

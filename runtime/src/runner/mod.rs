//! The runner: owns the budget, seeds, simulated workers, stop conditions and the store.
//!
//! Simulated parallel workers: up to `workers` trials are in flight; each starts at the current
//! simulated time and finishes `cost` simulated seconds later. Trials complete in order of
//! finishing time (ties by ask order), as in a simulator backend, so the strategy is told results
//! asynchronously. With one worker this is the sequential loop of the NAS-Bench-201 baselines.
//!
//! Exact resume: evaluation is a pure function of (run seed, trial id, candidate), and each
//! commit writes the finished trials together with a checkpoint of the whole state (strategy,
//! simulated clock, in-flight trials). A resumed run restores the last checkpoint and continues;
//! trials that finished after it were never committed and are simply redone, identically.
//!
//! Real parallel workers ([`Runner::run_parallel`], for evaluators whose costs are wall
//! seconds: training, a user's program): `workers` threads evaluate at once, each with its own
//! evaluator, and the strategy is told each result as it arrives (completion order); a trial's
//! `end` is its start plus its evaluation's wall seconds. The trials running when the run stops
//! are checkpointed as not evaluated (`rerun`) and evaluated again first when it resumes.
//!
//! A trial whose evaluation failed while the run was being stopped (Ctrl-C kills a command
//! evaluator's child) is not recorded: the checkpoint keeps it in flight without a result
//! (`rerun`), and a resumed run evaluates it again first, with the same id, seed and start.
use crate::budget::Budget;
use crate::error::RunError;
use crate::eval::{EvalFactory, EvalRequest, EvalResult, Evaluator};
use crate::objective::Objectives;
use crate::space::{decode, encode, SearchSpace};
use crate::store::{RunStatus, Store, StoredRun, TrialRecord};
use crate::strategy::{stream_seed, AskCtx, Seen, Strategy, Told};
use nasc_compiler::rng::splitmix64;
use nasc_compiler::Candidate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod pool;

/// The evaluation seed of a run: [`EvalRequest::seed`] of every trial.
pub fn eval_seed(run_seed: u64) -> u64 {
    stream_seed(run_seed, 2)
}

/// The seed of trial `id` of a run seeded `run_seed`: `splitmix64(eval seed, id)`, what the
/// `train` evaluator trains with and what a command evaluator's child gets as `NASC_SEED`.
pub fn trial_seed(run_seed: u64, id: u64) -> u64 {
    splitmix64(eval_seed(run_seed), id)
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub seed: u64,
    pub workers: usize,
    pub budget: Budget,
    /// Skip candidates whose key was already asked.
    pub dedup: bool,
    /// Stop once the best reward reaches this.
    pub target: Option<f64>,
    /// Record the space's derived metrics (params, flops, ...) with every trial.
    pub space_metrics: bool,
    /// Commit after this many trials...
    pub commit_every: usize,
    /// ...or when this much wall time passed since the last commit.
    pub commit_interval: Duration,
}

impl RunConfig {
    pub fn new(seed: u64, budget: Budget) -> Self {
        RunConfig { seed, workers: 1, budget, dedup: false, target: None, space_metrics: true, commit_every: 4096, commit_interval: Duration::from_millis(50) }
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Budget,
    Target,
    Interrupted,
    /// No more acceptable candidates (constraints / duplicates exhausted the space).
    Exhausted,
}

impl StopReason {
    pub fn status(self) -> RunStatus {
        match self {
            StopReason::Budget | StopReason::Target => RunStatus::Finished,
            StopReason::Interrupted => RunStatus::Stopped,
            StopReason::Exhausted => RunStatus::Exhausted,
        }
    }
}

/// The best trial so far (highest score; the earliest on ties). The score is the reward, or in a
/// run with one non-default objective or a scalarization, the objectives' scalar
/// ([`Objectives::scalar`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Best {
    pub id: u64,
    pub seq: u64,
    pub candidate: Candidate,
    pub reward: f64,
    pub reported: Option<f64>,
    pub metrics: Vec<f64>,
    /// What the best is chosen by (the reward, or the objectives' scalar).
    pub score: f64,
}

/// Shown after every commit (only committed trials are reported).
#[derive(Debug, Clone)]
pub struct Progress {
    pub trials: u64,
    pub clock: f64,
    pub best_reward: Option<f64>,
    pub best_reported: Option<f64>,
    /// Fraction of the budget used, in [0, 1].
    pub fraction: f64,
    pub wall: f64,
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub trials: u64,
    pub reason: StopReason,
    pub best: Option<Best>,
    pub clock: f64,
    pub wall: f64,
}

struct Pending {
    id: u64,
    start: f64,
    end: f64,
    candidate: Candidate,
    key: Option<String>,
    result: Result<EvalResult, String>,
    /// Boxed: most evaluators have none, and a small `Pending` is cheaper to move in the heap.
    extra: Option<Box<Value>>,
}

/// A trial asked and not finished because the run stopped during its evaluation: evaluated
/// again (same id, seed and start) before anything else when the run resumes.
struct Rerun {
    id: u64,
    start: f64,
    candidate: Candidate,
    key: Option<String>,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == CmpOrdering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    /// Reversed: BinaryHeap pops the earliest end (then the lowest id) first.
    fn cmp(&self, o: &Self) -> CmpOrdering {
        o.end.total_cmp(&self.end).then(o.id.cmp(&self.id))
    }
}

#[derive(Serialize, Deserialize)]
struct PendingState {
    id: u64,
    start: f64,
    end: f64,
    genotype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    reward: Option<f64>,
    reported: Option<f64>,
    metrics: Vec<Option<f64>>,
    cost: f64,
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    extra: Option<Value>,
    /// Not evaluated: the run stopped during its evaluation (see [`Rerun`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    rerun: bool,
}

#[derive(Serialize, Deserialize)]
struct RunnerState {
    strategy: Value,
    clock: f64,
    next_id: u64,
    done: u64,
    exhausted: bool,
    pending: Vec<PendingState>,
}

/// The progress callback called after each commit ([`Runner::on_commit`]).
type OnCommit<'a> = Box<dyn FnMut(&Progress) + 'a>;

pub struct Runner<'a> {
    space: &'a SearchSpace,
    strategy: Box<dyn Strategy + 'a>,
    evaluator: Box<dyn Evaluator + 'a>,
    store: &'a mut dyn Store,
    cfg: RunConfig,
    eval_seed: u64,
    /// [`Evaluator::wall_clock_costs`], asked once.
    wall_clock: bool,
    clock: f64,
    next_id: u64,
    done: u64,
    exhausted: bool,
    pending: BinaryHeap<Pending>,
    rerun: Vec<Rerun>,
    seen: Option<Seen>,
    best: Option<Best>,
    committed: u64,
    committed_best: Option<Best>,
    since_commit: usize,
    last_commit: Instant,
    /// Wall time the last commit took (state serialization and the store's transaction).
    commit_cost: Duration,
    started: Instant,
    wall_base: f64,
    stop: Arc<AtomicBool>,
    on_commit: Option<OnCommit<'a>>,
    finished: Option<StopReason>,
    n_space_metrics: usize,
    /// The run's objectives ([`Runner::set_objectives`]); None: the evaluator's reward alone.
    objectives: Option<Objectives>,
    /// With [`Runner::run_parallel`]: the evaluation threads and the trials they hold.
    lanes: Option<pool::Lanes>,
    running: Vec<Rerun>,
}

impl<'a> Runner<'a> {
    /// A fresh run.
    pub fn new(space: &'a SearchSpace, strategy: Box<dyn Strategy + 'a>, mut evaluator: Box<dyn Evaluator + 'a>, store: &'a mut dyn Store, cfg: RunConfig) -> Self {
        let n_space_metrics = if cfg.space_metrics { space.metric_names().len() } else { 0 };
        let stop = Arc::new(AtomicBool::new(false));
        evaluator.watch_stop(stop.clone());
        Runner {
            space,
            strategy,
            wall_clock: evaluator.wall_clock_costs(),
            evaluator,
            store,
            eval_seed: eval_seed(cfg.seed),
            seen: cfg.dedup.then(Seen::default),
            cfg,
            clock: 0.0,
            next_id: 0,
            done: 0,
            exhausted: false,
            pending: BinaryHeap::new(),
            rerun: Vec::new(),
            best: None,
            committed: 0,
            committed_best: None,
            since_commit: 0,
            last_commit: Instant::now(),
            commit_cost: Duration::ZERO,
            started: Instant::now(),
            wall_base: 0.0,
            stop,
            on_commit: None,
            finished: None,
            n_space_metrics,
            objectives: None,
            lanes: None,
            running: Vec::new(),
        }
    }

    /// Continue a stored run: restore its last checkpoint, rebuild the best trial and the
    /// duplicate filter from its trials.
    pub fn resume(
        space: &'a SearchSpace,
        strategy: Box<dyn Strategy + 'a>,
        evaluator: Box<dyn Evaluator + 'a>,
        store: &'a mut dyn Store,
        cfg: RunConfig,
        run: &StoredRun,
    ) -> Result<Self, RunError> {
        let mut r = Self::new(space, strategy, evaluator, store, cfg);
        if run.meta.objectives.is_some() {
            r.objectives = Some(Objectives::of_run(&run.meta)?);
        }
        let Some((n, state)) = &run.checkpoint else {
            if run.trials.is_empty() {
                return Ok(r);
            }
            return Err(RunError::NoCheckpoint);
        };
        if *n != run.trials.len() as u64 {
            return Err(RunError::CheckpointMismatch { checkpoint: *n, trials: run.trials.len() });
        }
        let st: RunnerState = serde_json::from_value(state.clone()).map_err(RunError::Checkpoint)?;
        r.strategy.restore(&st.strategy).map_err(RunError::Restore)?;
        r.clock = st.clock;
        r.next_id = st.next_id;
        r.done = st.done;
        r.exhausted = st.exhausted;
        for p in st.pending {
            let candidate = decode(&p.genotype).map_err(RunError::Decode)?;
            let key = match (&mut r.seen, p.key) {
                (Some(seen), k) => {
                    let k = k.unwrap_or_else(|| space.key(&candidate));
                    seen.insert(candidate.clone(), k.clone());
                    Some(k)
                }
                (None, _) => None,
            };
            if p.rerun {
                r.rerun.push(Rerun { id: p.id, start: p.start, candidate, key });
                continue;
            }
            let result = match (p.error, p.reward) {
                (Some(e), _) => Err(e),
                (None, Some(reward)) => {
                    Ok(EvalResult { reward, reported: p.reported.unwrap_or(f64::NAN), metrics: p.metrics.iter().map(|m| m.unwrap_or(f64::NAN)).collect(), cost: p.cost })
                }
                (None, None) => return Err(RunError::NoResult { id: p.id }),
            };
            r.pending.push(Pending { id: p.id, start: p.start, end: p.end, candidate, key, result, extra: p.extra.map(Box::new) });
        }
        let names = &run.meta.metric_names;
        for t in &run.trials {
            if let Some(seen) = &mut r.seen {
                let c = decode(&t.genotype).map_err(RunError::Decode)?;
                let k = match &t.key {
                    Some(k) => k.clone(),
                    None => space.key(&c),
                };
                seen.insert(c, k);
            }
            if let Some(reward) = t.reward {
                let metrics: Vec<f64> = names.iter().map(|n| t.metrics.get(n).and_then(Value::as_f64).unwrap_or(f64::NAN)).collect();
                let Some(score) = r.score(Some(reward), t.reported, &metrics) else { continue };
                if r.best.as_ref().is_none_or(|b| score > b.score) {
                    r.best = Some(Best { id: t.id, seq: t.seq, candidate: decode(&t.genotype).map_err(RunError::Decode)?, reward, reported: t.reported, metrics, score });
                }
            }
        }
        r.wall_base = run.trials.last().map_or(0.0, |t| t.wall);
        r.committed = r.done;
        r.committed_best = r.best.clone();
        Ok(r)
    }

    /// A flag that stops the run cleanly at the next trial when set (e.g. from a Ctrl-C handler).
    /// The run's objectives: each trial's objective vector is told to the strategy, and its
    /// reward is the objectives' scalar ([`Objectives::scalar`]: the one objective, or the
    /// scalarization). Set before the first step of a new run; a resumed run takes them from
    /// its stored run.
    pub fn set_objectives(&mut self, objectives: Objectives) {
        self.objectives = Some(objectives);
    }

    /// What the best trial is chosen by: the objectives' scalar in a run with one non-default
    /// objective or a scalarization, else the reward.
    fn score(&self, reward: Option<f64>, reported: Option<f64>, metrics: &[f64]) -> Option<f64> {
        match &self.objectives {
            Some(o) if !o.is_multi() && !o.is_default() => o.scalar(reward, reported, metrics),
            _ => reward,
        }
    }

    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Called after every commit with the committed progress.
    pub fn on_commit(&mut self, f: impl FnMut(&Progress) + 'a) {
        self.on_commit = Some(Box::new(f));
    }

    /// Names of the metrics of every trial record: the space's, then the evaluator's.
    pub fn metric_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.space.metric_names()[..self.n_space_metrics].to_vec();
        v.extend(self.evaluator.metric_names());
        v
    }

    pub fn trials_done(&self) -> u64 {
        self.done
    }
    pub fn best(&self) -> Option<&Best> {
        self.best.as_ref()
    }
    pub fn clock(&self) -> f64 {
        self.clock
    }
    pub fn config(&self) -> &RunConfig {
        &self.cfg
    }

    fn wall(&self) -> f64 {
        self.wall_at(Instant::now())
    }

    fn wall_at(&self, now: Instant) -> f64 {
        self.wall_base + now.saturating_duration_since(self.started).as_secs_f64()
    }

    fn may_ask(&self) -> bool {
        match self.cfg.budget {
            Budget::Trials(b) => self.next_id < b,
            Budget::Time(t) => self.clock < t,
        }
    }

    /// Evaluate `batch` (trials asked earlier whose evaluation the stop interrupted) and put the
    /// results in flight; returns false when the run was stopped meanwhile (the failed trials
    /// then wait in `rerun` again).
    fn evaluate(&mut self, batch: Vec<Rerun>) -> Result<bool, RunError> {
        if let Some(lanes) = &self.lanes {
            for b in batch {
                lanes.send(pool::Job { id: b.id, candidate: b.candidate.clone(), seed: self.eval_seed })?;
                self.running.push(b);
            }
            return Ok(!self.stop.load(Ordering::SeqCst));
        }
        let reqs: Vec<EvalRequest> = batch.iter().map(|b| EvalRequest { id: b.id, candidate: &b.candidate, seed: self.eval_seed }).collect();
        let results = self.evaluator.evaluate(self.space, &reqs);
        drop(reqs);
        self.check_count(results.len(), batch.len())?;
        let stopped = self.stop.load(Ordering::SeqCst);
        for (b, result) in batch.into_iter().zip(results) {
            let extra = self.evaluator.take_extra(b.id);
            self.settle(b, result, extra, stopped);
        }
        Ok(self.after_settle(stopped))
    }

    /// Evaluate the candidates just asked (ids from `next_id` on, starting at the clock) and put
    /// the results in flight, without building a batch first (the hot path of a cheap
    /// evaluator: one allocation less per trial); returns false when the run was stopped
    /// meanwhile.
    fn evaluate_asked(&mut self, cands: Vec<Candidate>, keys: Vec<String>) -> Result<bool, RunError> {
        let first = self.next_id;
        self.next_id += cands.len() as u64;
        let start = self.clock;
        let mut keys = keys.into_iter();
        if self.lanes.is_some() {
            let batch = cands.into_iter().enumerate().map(|(i, candidate)| Rerun { id: first + i as u64, start, candidate, key: keys.next() }).collect();
            return self.evaluate(batch);
        }
        let reqs: Vec<EvalRequest> = cands.iter().enumerate().map(|(i, c)| EvalRequest { id: first + i as u64, candidate: c, seed: self.eval_seed }).collect();
        let results = self.evaluator.evaluate(self.space, &reqs);
        drop(reqs);
        self.check_count(results.len(), cands.len())?;
        let stopped = self.stop.load(Ordering::SeqCst);
        for (i, (candidate, result)) in cands.into_iter().zip(results).enumerate() {
            let id = first + i as u64;
            let extra = self.evaluator.take_extra(id);
            self.settle(Rerun { id, start, candidate, key: keys.next() }, result, extra, stopped);
        }
        Ok(self.after_settle(stopped))
    }

    fn check_count(&self, results: usize, candidates: usize) -> Result<(), RunError> {
        if results != candidates {
            return Err(RunError::ResultCount { evaluator: self.evaluator.name(), results, candidates });
        }
        Ok(())
    }

    /// Put one evaluated trial in flight, or back in `rerun` when it failed because the run was
    /// stopping.
    fn settle(&mut self, b: Rerun, result: Result<EvalResult, String>, extra: Option<Value>, stopped: bool) {
        if stopped && result.is_err() {
            self.rerun.push(b);
            return;
        }
        let cost = result.as_ref().map_or(0.0, |r| r.cost.max(0.0));
        self.pending.push(Pending { id: b.id, start: b.start, end: b.start + cost, candidate: b.candidate, key: b.key, result, extra: extra.map(Box::new) });
    }

    /// After a batch was settled: the trials to rerun in id order; whether the run goes on.
    fn after_settle(&mut self, stopped: bool) -> bool {
        if !self.rerun.is_empty() {
            self.rerun.sort_by_key(|r| r.id);
        }
        !stopped
    }

    fn fill(&mut self) -> Result<(), RunError> {
        if !self.rerun.is_empty() {
            let batch = std::mem::take(&mut self.rerun);
            if !self.evaluate(batch)? {
                return Ok(());
            }
        }
        while !self.exhausted && self.in_flight() < self.cfg.workers && self.may_ask() {
            let mut n = self.cfg.workers - self.in_flight();
            if let Budget::Trials(b) = self.cfg.budget {
                n = n.min((b - self.next_id) as usize);
            }
            let (cands, keys) = {
                let mut ctx = AskCtx::new(self.space, self.seen.as_mut());
                let cands = self.strategy.ask(&mut ctx, n);
                (cands, ctx.accepted_keys)
            };
            if self.seen.is_some() && keys.len() != cands.len() {
                return Err(RunError::Unaccepted { strategy: self.strategy.name().to_string() });
            }
            // fewer candidates than asked is not the end while trials are in flight: a strategy
            // that chooses from results (POPNAS's steps) waits for them; it is exhausted when it
            // has nothing to give and nothing is pending
            if cands.is_empty() {
                self.exhausted = self.in_flight() == 0;
                break;
            }
            if !self.evaluate_asked(cands, keys)? {
                break;
            }
        }
        Ok(())
    }

    /// Run until one more trial finishes. Returns false when the run is over (budget, target,
    /// stop flag, exhausted space); then call [`Runner::finish`].
    pub fn step(&mut self) -> Result<bool, RunError> {
        if self.finished.is_some() {
            return Ok(false);
        }
        if self.stop.load(Ordering::Relaxed) {
            self.finished = Some(StopReason::Interrupted);
            return Ok(false);
        }
        self.fill()?;
        if self.stop.load(Ordering::Relaxed) || !self.collect()? {
            self.finished = Some(StopReason::Interrupted);
            return Ok(false);
        }
        let Some(next) = self.pending.peek() else {
            self.finished = Some(if self.exhausted { StopReason::Exhausted } else { StopReason::Budget });
            return Ok(false);
        };
        let over = match self.cfg.budget {
            // a benchmark's trial that would end past the budget is not counted (NAS-Bench-201's
            // protocol); a trial that was really trained (wall-clock costs) is kept
            Budget::Time(t) => next.end > t && !self.wall_clock,
            // only reachable when a resumed run was given a smaller budget
            Budget::Trials(b) => next.id >= b,
        };
        if over {
            self.finished = Some(StopReason::Budget);
            return Ok(false);
        }
        let Some(p) = self.pending.pop() else { return Err(RunError::PeekedGone) };
        // (with real parallel workers a trial may end before one told earlier: the clock holds)
        self.clock = self.clock.max(p.end);
        let mut metrics = if self.n_space_metrics > 0 { self.space.metrics(&p.candidate) } else { Vec::new() };
        let (reward, reported, error) = match p.result {
            Ok(r) => {
                metrics.extend(r.metrics);
                (Some(r.reward), Some(r.reported), None)
            }
            Err(e) => {
                metrics.extend(std::iter::repeat_n(f64::NAN, self.evaluator.metric_names().len()));
                (None, None, Some(e))
            }
        };
        let (told, vector) = match &self.objectives {
            Some(o) => (o.scalar(reward, reported, &metrics), o.vector(reward, reported, &metrics)),
            None => (reward, None),
        };
        self.strategy.tell(&[Told { id: p.id, candidate: &p.candidate, reward: told, objectives: vector.as_deref() }]);
        if let (Some(r), Some(score)) = (reward, self.score(reward, reported, &metrics)) {
            if self.best.as_ref().is_none_or(|b| score > b.score) {
                self.best = Some(Best { id: p.id, seq: self.done, candidate: p.candidate.clone(), reward: r, reported, metrics: metrics.clone(), score });
            }
        }
        // one clock read per trial: its wall time and the commit interval
        let now = Instant::now();
        let record = TrialRecord {
            id: p.id,
            seq: self.done,
            candidate: p.candidate,
            key: p.key,
            reward,
            reported,
            metrics,
            error,
            extra: p.extra,
            sim_start: p.start,
            sim_end: p.end,
            wall: self.wall_at(now),
        };
        self.done += 1;
        self.store.append(self.space, record)?;
        self.since_commit += 1;
        // a large strategy state (L2NAS: networks, Adam moments, replay buffer) makes a commit
        // slow: commit at most every 10x its cost, so checkpoints take under ~10% of the run
        if self.since_commit >= self.cfg.commit_every || now.saturating_duration_since(self.last_commit) >= self.cfg.commit_interval.max(self.commit_cost * 10) {
            self.commit()?;
        }
        if let (Some(t), Some(b)) = (self.cfg.target, &self.best) {
            if b.reward >= t {
                self.finished = Some(StopReason::Target);
            }
        }
        Ok(true)
    }

    /// Trials asked and not yet told: finished ones waiting, and those still evaluating.
    fn in_flight(&self) -> usize {
        self.pending.len() + self.running.len()
    }

    /// With real parallel workers: take the results that have arrived, and while none is
    /// waiting and trials are running, wait for the next one. Returns false when the run was
    /// stopped meanwhile (a trial that failed because of the stop waits in `rerun`).
    fn collect(&mut self) -> Result<bool, RunError> {
        let Some(lanes) = &self.lanes else { return Ok(true) };
        let mut arrived = Vec::new();
        while let Some(d) = lanes.try_recv() {
            arrived.push(d);
        }
        while arrived.is_empty() && self.pending.is_empty() && !self.running.is_empty() {
            if self.stop.load(Ordering::SeqCst) {
                return Ok(false);
            }
            arrived.extend(lanes.recv(Duration::from_millis(20))?);
        }
        let stopped = self.stop.load(Ordering::SeqCst);
        for d in arrived {
            let Some(i) = self.running.iter().position(|r| r.id == d.id) else { continue };
            let b = self.running.swap_remove(i);
            self.settle(b, d.result, d.extra, stopped);
        }
        Ok(self.after_settle(stopped))
    }

    /// Run to the end with `cfg.workers` trials really evaluated at once, each on its own
    /// thread with its own evaluator from `make` (for a `train` evaluator, give each its share
    /// of the cores), told to the strategy in the order they finish; then finish the run. The
    /// trials still running when the run stops are kept in the checkpoint as not evaluated and
    /// run first when it resumes; this waits for their threads to end.
    pub fn run_parallel(&mut self, make: &EvalFactory) -> Result<Summary, RunError> {
        let space = self.space;
        let stop = self.stop.clone();
        let workers = self.cfg.workers.max(1);
        std::thread::scope(|scope| {
            self.lanes = Some(pool::start(scope, workers, space, make, stop));
            let r = (|| {
                while self.step()? {}
                self.finish()
            })();
            // closing the queue ends the threads after their current evaluation
            self.lanes = None;
            r
        })
    }

    fn state(&self) -> Value {
        let mut pending: Vec<&Pending> = self.pending.iter().collect();
        pending.sort_by(|a, b| b.cmp(a));
        let pending = pending
            .into_iter()
            .map(|p| {
                let (reward, reported, metrics, cost, error) = match &p.result {
                    Ok(r) => (Some(r.reward), Some(r.reported).filter(|x| x.is_finite()), r.metrics.iter().map(|m| Some(*m).filter(|x| x.is_finite())).collect(), r.cost, None),
                    Err(e) => (None, None, Vec::new(), 0.0, Some(e.clone())),
                };
                PendingState {
                    id: p.id,
                    start: p.start,
                    end: p.end,
                    genotype: encode(&p.candidate),
                    key: p.key.clone(),
                    reward,
                    reported,
                    metrics,
                    cost,
                    error,
                    extra: p.extra.as_deref().cloned(),
                    rerun: false,
                }
            })
            .chain(self.rerun.iter().chain(&self.running).map(|r| PendingState {
                id: r.id,
                start: r.start,
                end: r.start,
                genotype: encode(&r.candidate),
                key: r.key.clone(),
                reward: None,
                reported: None,
                metrics: Vec::new(),
                cost: 0.0,
                error: None,
                extra: None,
                rerun: true,
            }))
            .collect();
        let st = RunnerState { strategy: self.strategy.state(), clock: self.clock, next_id: self.next_id, done: self.done, exhausted: self.exhausted, pending };
        serde_json::to_value(st).unwrap_or(Value::Null)
    }

    fn progress(&self) -> Progress {
        let fraction = match self.cfg.budget {
            Budget::Trials(b) => self.committed as f64 / b.max(1) as f64,
            Budget::Time(t) => self.clock / t.max(1e-9),
        };
        Progress {
            trials: self.committed,
            clock: self.clock,
            best_reward: self.committed_best.as_ref().map(|b| b.reward),
            best_reported: self.committed_best.as_ref().and_then(|b| b.reported),
            fraction: fraction.clamp(0.0, 1.0),
            wall: self.wall(),
        }
    }

    /// Commit the finished trials with a checkpoint; then report them.
    pub fn commit(&mut self) -> Result<(), RunError> {
        let started = Instant::now();
        let state = self.state();
        let wall = self.wall();
        self.store.commit(self.done, wall, &state)?;
        self.commit_cost = started.elapsed();
        self.committed = self.done;
        self.committed_best = self.best.clone();
        self.since_commit = 0;
        self.last_commit = Instant::now();
        if self.on_commit.is_some() {
            let p = self.progress();
            if let Some(f) = &mut self.on_commit {
                f(&p);
            }
        }
        Ok(())
    }

    /// Commit what is left and record the run's status.
    pub fn finish(&mut self) -> Result<Summary, RunError> {
        let reason = self.finished.unwrap_or(StopReason::Interrupted);
        self.commit()?;
        self.store.set_status(reason.status())?;
        Ok(Summary { trials: self.done, reason, best: self.best.clone(), clock: self.clock, wall: self.wall() })
    }

    /// Step until the run is over, then finish it.
    pub fn run(&mut self) -> Result<Summary, RunError> {
        while self.step()? {}
        self.finish()
    }
}

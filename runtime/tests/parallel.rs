//! Real parallel workers (`Runner::run_parallel`): W trials really in flight at once, results
//! told in completion order, every trial id finished once, and a run stopped with trials
//! running resumed to the same budget with those trials evaluated again.
mod common;
use common::Setup;
use nasc_runtime::eval::{EvalRequest, EvalResult, Evaluator};
use nasc_runtime::store::{SqliteStore, StoredRun};
use nasc_runtime::{strategy, Budget, Runner, SearchSpace};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Sleeps for real (every 4th trial 80 ms, the others 15 ms) and counts how many evaluations
/// run at once; after `stop_after` evaluations have started it sets the run's stop flag.
struct Sleepy {
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    started: Arc<AtomicUsize>,
    stop_after: usize,
    stop: Option<Arc<AtomicBool>>,
}

impl Evaluator for Sleepy {
    fn name(&self) -> String {
        "sleepy".into()
    }
    fn metric_names(&self) -> Vec<String> {
        vec![]
    }
    fn wall_clock_costs(&self) -> bool {
        true
    }
    fn evaluate(&mut self, _space: &SearchSpace, batch: &[EvalRequest]) -> Vec<Result<EvalResult, String>> {
        batch
            .iter()
            .map(|r| {
                let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
                self.most.fetch_max(n, Ordering::SeqCst);
                if self.started.fetch_add(1, Ordering::SeqCst) + 1 == self.stop_after {
                    if let Some(s) = &self.stop {
                        s.store(true, Ordering::SeqCst);
                    }
                }
                let t = Instant::now();
                std::thread::sleep(Duration::from_millis(if r.id % 4 == 0 { 80 } else { 15 }));
                self.now.fetch_sub(1, Ordering::SeqCst);
                Ok(EvalResult { reward: ((r.id * 7) % 13) as f64, reported: 0.0, metrics: vec![], cost: t.elapsed().as_secs_f64() })
            })
            .collect()
    }
}

struct Counters {
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    started: Arc<AtomicUsize>,
}

impl Counters {
    fn new() -> Self {
        Counters { now: Arc::default(), most: Arc::default(), started: Arc::default() }
    }
    fn make(&self, stop_after: usize, stop: Option<Arc<AtomicBool>>) -> Sleepy {
        Sleepy { now: self.now.clone(), most: self.most.clone(), started: self.started.clone(), stop_after, stop }
    }
}

fn setup(budget: u64) -> Setup {
    let mut s = Setup::new("nb201.nas", "re", "instant", 5, Budget::Trials(budget));
    s.cfg.workers = 4;
    s.strategy_config = serde_json::json!({"population": 8, "sample_size": 3});
    s
}

fn ids_once(run: &StoredRun, n: u64) {
    let mut ids: Vec<u64> = run.trials.iter().map(|t| t.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..n).collect::<Vec<_>>(), "every trial id finished exactly once");
}

#[test]
fn four_workers_keep_four_trials_in_flight_and_tell_in_completion_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(40);
    let (space, text) = common::space(s.spec, &[]);
    let path = dir.path().join("p.db");
    let mut store = SqliteStore::create(&path, &s.meta(&space, &text)).unwrap();
    let c = Counters::new();
    let strat = strategy::make(s.strategy, &s.strategy_config, s.cfg.seed).unwrap();
    let t = Instant::now();
    let sum = {
        let mut r = Runner::new(&space, strat, Box::new(c.make(0, None)), &mut store, s.cfg.clone());
        let make = || Ok(Box::new(c.make(0, None)) as Box<dyn Evaluator>);
        r.run_parallel(&make).unwrap()
    };
    let wall = t.elapsed().as_secs_f64();
    assert_eq!(sum.trials, 40);
    assert_eq!(c.most.load(Ordering::SeqCst), 4, "trials in flight at once");
    drop(store);
    let run = SqliteStore::read(&path).unwrap();
    assert_eq!(run.status, "finished");
    ids_once(&run, 40);
    // completion order: a slow trial (every 4th id) is told after faster ones asked later
    let out_of_order = run.trials.windows(2).filter(|w| w[1].id < w[0].id).count();
    assert!(out_of_order > 0, "trials told in id order: {:?}", run.trials.iter().map(|t| t.id).collect::<Vec<_>>());
    // serial evaluation would take 10 x 80 + 30 x 15 = 1,250 ms
    let serial: f64 = run.trials.iter().map(|t| t.sim_end - t.sim_start).sum();
    assert!(serial > 1.2, "{serial}");
    assert!(wall < serial / 2.0, "wall {wall:.3} s vs {serial:.3} s of evaluation");
}

#[test]
fn a_run_stopped_with_trials_running_resumes_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(30);
    let (space, text) = common::space(s.spec, &[]);
    let path = dir.path().join("p.db");
    let mut store = SqliteStore::create(&path, &s.meta(&space, &text)).unwrap();
    let c = Counters::new();
    let strat = strategy::make(s.strategy, &s.strategy_config, s.cfg.seed).unwrap();
    let first = {
        let mut r = Runner::new(&space, strat, Box::new(c.make(0, None)), &mut store, s.cfg.clone());
        let stop = r.stop_flag();
        let make = || Ok(Box::new(c.make(12, Some(stop.clone()))) as Box<dyn Evaluator>);
        r.run_parallel(&make).unwrap()
    };
    drop(store);
    let stopped = SqliteStore::read(&path).unwrap();
    assert_eq!(stopped.status, "stopped");
    assert!(first.trials < 30 && first.trials == stopped.trials.len() as u64, "{} trials", first.trials);
    // the trials that were running are in the checkpoint, to be evaluated again
    let (_, state) = stopped.checkpoint.clone().unwrap();
    let reruns = state["pending"].as_array().unwrap().iter().filter(|p| p["rerun"] == true).count();
    let results = state["pending"].as_array().unwrap().len() - reruns;
    assert!(reruns + results > 0, "nothing in flight at the stop: {state}");
    let (mut store, run) = SqliteStore::resume(&path, &stopped.meta.spec_hash).unwrap();
    let strat = strategy::make(&run.meta.strategy, &run.meta.strategy_config, run.meta.seed).unwrap();
    let c2 = Counters::new();
    let sum = {
        let mut r = Runner::resume(&space, strat, Box::new(c2.make(0, None)), &mut store, s.cfg.clone(), &run).unwrap();
        let make = || Ok(Box::new(c2.make(0, None)) as Box<dyn Evaluator>);
        r.run_parallel(&make).unwrap()
    };
    assert_eq!(sum.trials, 30);
    drop(store);
    let done = SqliteStore::read(&path).unwrap();
    assert_eq!(done.status, "finished");
    ids_once(&done, 30);
    // the trials of the first part are kept as they were
    for (a, b) in stopped.trials.iter().zip(&done.trials) {
        assert_eq!((a.id, a.seq, &a.genotype), (b.id, b.seq, &b.genotype));
    }
    // the rerun trials were evaluated again in the second part: 30 - (first part) - (results kept)
    assert_eq!(c2.started.load(Ordering::SeqCst), 30 - stopped.trials.len() - results);
}

/// An evaluator that cannot be made on a thread fails each trial that thread takes, with the
/// factory's message; the run still finishes its budget.
#[test]
fn a_thread_without_an_evaluator_fails_its_trials() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(8);
    let (space, text) = common::space(s.spec, &[]);
    let path = dir.path().join("p.db");
    let mut store = SqliteStore::create(&path, &s.meta(&space, &text)).unwrap();
    let c = Counters::new();
    let strat = strategy::make(s.strategy, &s.strategy_config, s.cfg.seed).unwrap();
    let sum = {
        let mut r = Runner::new(&space, strat, Box::new(c.make(0, None)), &mut store, s.cfg.clone());
        let make = || Err::<Box<dyn Evaluator>, String>("evaluator `x`: cannot start".into());
        r.run_parallel(&make).unwrap()
    };
    assert_eq!(sum.trials, 8);
    drop(store);
    let run = SqliteStore::read(&path).unwrap();
    assert!(run.trials.iter().all(|t| t.status == "failed" && t.error.as_deref() == Some("evaluator `x`: cannot start")));
}

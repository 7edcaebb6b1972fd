//! Durability and exact resume: a run killed at a random point (the runner and the store dropped
//! without a clean shutdown, losing the uncommitted batch) and resumed produces the same trial
//! sequence as an uninterrupted run with the same seed.
mod common;
use common::*;
use nasc_compiler::rng::splitmix64;
use nasc_runtime::store::{spec_hash, SqliteStore};
use nasc_runtime::{Budget, StopReason};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

fn setups() -> Vec<Setup> {
    let mut v = Vec::new();
    // NAS-Bench-201 protocol: RE, 12-epoch reward, 12000 simulated seconds, one worker
    let mut a = Setup::new("nb201.nas", "re", "nb201:dataset=cifar10,epochs=12", 3, Budget::Time(12_000.0));
    a.strategy_config = serde_json::json!({"population": 10, "sample_size": 3, "mutation_distance": 1});
    v.push(a);
    // asynchronous: 4 simulated workers, per-seed noise, trial budget
    let mut b = Setup::new("nb201.nas", "re", "nb201:dataset=cifar100,epochs=200,noise=seed", 11, Budget::Trials(150));
    b.cfg.workers = 4;
    v.push(b);
    // random search with duplicate skipping and a constraint
    let mut c = Setup::new("nb201.nas", "rs", "instant", 5, Budget::Trials(120));
    c.cfg.dedup = true;
    c.cfg.workers = 3;
    c.constraints = vec!["flops <= 100M"];
    v.push(c);
    // another space
    v.push(Setup::new("nas_bench_macro.nas", "re", "nas-bench-macro:noise=seed", 2, Budget::Trials(200)));
    for s in &mut v {
        s.cfg.commit_every = 7;
        s.cfg.commit_interval = Duration::from_secs(3600);
    }
    v
}

/// Run `setup` into `path`, crashing after `kills[0]` trials, resuming, crashing again after
/// `kills[1]` more, ... then resuming to the end.
fn crashed_run(setup: &Setup, path: &Path, kills: &[u64]) -> nasc_runtime::store::StoredRun {
    let (space, text) = space(setup.spec, &setup.constraints);
    let hash = spec_hash(&text, &[]);
    {
        let mut store = SqliteStore::create(path, &setup.meta(&space, &text)).unwrap();
        let mut r = setup.runner(&space, &mut store);
        for _ in 0..kills[0] {
            if !r.step().unwrap() {
                break;
            }
        }
        // dropped here: no finish, the open batch is lost
    }
    for k in kills[1..].iter().copied().chain([u64::MAX]) {
        let (mut store, run) = SqliteStore::resume(path, &hash).unwrap();
        assert_eq!(run.checkpoint.as_ref().map_or(0, |c| c.0), run.trials.len() as u64);
        let mut r = setup.resume(&space, &mut store, &run);
        if k == u64::MAX {
            r.run().unwrap();
        } else {
            for _ in 0..k {
                if !r.step().unwrap() {
                    break;
                }
            }
        }
    }
    SqliteStore::read(path).unwrap()
}

#[test]
fn killed_and_resumed_runs_equal_uninterrupted_ones() {
    let dir = tempfile::tempdir().unwrap();
    // a random kill point per setup, printed so a failure can be replayed
    let base = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    for (i, s) in setups().iter().enumerate() {
        let full = dir.path().join(format!("full{i}.db"));
        let (reference, sum) = s.run_sqlite(&full);
        let n = reference.trials.len() as u64;
        assert!(n > 20, "setup {i}: only {n} trials");
        assert_eq!(sum.reason, StopReason::Budget);
        assert_eq!(reference.status, "finished");
        // the in-memory store sees the same sequence
        let (mem, _) = s.run_mem();
        assert_eq!(mem.trials.len() as u64, n);
        for (a, b) in mem.trials.iter().zip(&reference.trials) {
            assert_eq!((a.id, a.reward, a.sim_end), (b.id, b.reward, b.sim_end));
        }
        let r = splitmix64(base, i as u64);
        let kills = [vec![r % n], vec![0, 1], vec![n - 1], vec![r % 13 + 1, (r >> 20) % 29 + 1, (r >> 40) % 7]];
        for (j, k) in kills.iter().enumerate() {
            let path = dir.path().join(format!("crash{i}-{j}.db"));
            let resumed = crashed_run(s, &path, k);
            assert_same(&resumed, &reference, &format!("setup {i}, kills {k:?} (seed {base})"));
            assert_eq!(resumed.status, "finished");
        }
    }
}

#[test]
fn stopped_run_resumes_exactly_and_budget_can_grow() {
    let dir = tempfile::tempdir().unwrap();
    let s = &setups()[1];
    let (reference, _) = s.run_sqlite(&dir.path().join("ref.db"));
    let (space, text) = space(s.spec, &s.constraints);
    let path = dir.path().join("stopped.db");
    {
        let mut store = SqliteStore::create(&path, &s.meta(&space, &text)).unwrap();
        let mut r = s.runner(&space, &mut store);
        let flag = r.stop_flag();
        for _ in 0..40 {
            r.step().unwrap();
        }
        flag.store(true, Ordering::SeqCst);
        assert!(!r.step().unwrap());
        let sum = r.finish().unwrap();
        assert_eq!(sum.reason, StopReason::Interrupted);
        assert_eq!(sum.trials, 40);
    }
    let run = SqliteStore::read(&path).unwrap();
    assert_eq!(run.status, "stopped");
    assert_eq!(run.trials.len(), 40, "a clean stop loses nothing");
    let (mut store, run) = SqliteStore::resume(&path, &spec_hash(&text, &[])).unwrap();
    s.resume(&space, &mut store, &run).run().unwrap();
    assert_same(&SqliteStore::read(&path).unwrap(), &reference, "stopped and resumed");

    // a finished run resumed with a larger budget continues where it stopped: with one worker
    // exactly as if the larger budget had been given from the start
    let s0 = &setups()[0];
    let (reference, _) = s0.run_sqlite(&dir.path().join("ref0.db"));
    let mut small = s0.clone();
    small.cfg.budget = Budget::Time(5_000.0);
    let p2 = dir.path().join("grow.db");
    let (first, _) = small.run_sqlite(&p2);
    assert!(first.trials.len() < reference.trials.len());
    let (space0, text0) = common::space(s0.spec, &s0.constraints);
    let (mut store, run) = SqliteStore::resume(&p2, &spec_hash(&text0, &[])).unwrap();
    s0.resume(&space0, &mut store, &run).run().unwrap();
    assert_same(&SqliteStore::read(&p2).unwrap(), &reference, "budget grown");
}

//! Random search and regularized evolution on NAS-Bench-201 reach the accuracies of the
//! NAS-Bench-201 baselines; constraints and duplicate skipping hold.
mod common;
use common::*;
use nasc_runtime::store::MemStore;
use nasc_runtime::{eval, strategy, Budget, RunConfig, Runner, StopReason};
use std::collections::HashSet;

/// Mean over seeds 0..10 of the 200-epoch test accuracy of the best-by-reward architecture,
/// NB201 protocol (12-epoch validation reward, 12000 simulated s, one worker).
fn mean_best_test(strat: &str) -> f64 {
    let (space, _) = space("nb201.nas", &[]);
    let mut v = Vec::new();
    for seed in 0..10 {
        let ev = eval::make("nb201:dataset=cifar10,epochs=12", &space).unwrap();
        let it = ev.metric_names().iter().position(|n| n == "test_acc").unwrap();
        let s = strategy::make(strat, &serde_json::Value::Null, seed).unwrap();
        let mut cfg = RunConfig::new(seed, Budget::Time(12_000.0));
        cfg.space_metrics = false;
        let mut store = MemStore::default();
        let sum = Runner::new(&space, s, ev, &mut store, cfg).run().unwrap();
        assert!(sum.trials > 80 && sum.trials < 140, "{} trials", sum.trials);
        v.push(sum.best.unwrap().metrics[it]);
    }
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn rs_and_rea_reach_the_nb201_baselines() {
    let rs = mean_best_test("rs");
    let re = mean_best_test("re");
    eprintln!("CIFAR-10, 10 seeds: RS {rs:.2} (NB201: 93.70), REA {re:.2} (NB201: 93.92)");
    assert!((rs - 93.70).abs() < 0.5, "RS {rs}");
    assert!((re - 93.92).abs() < 0.5, "REA {re}");
}

#[test]
fn constraints_are_never_violated() {
    for strat in ["rs", "re"] {
        let mut s = Setup::new("nb201.nas", strat, "nb201", 1, Budget::Trials(300));
        s.constraints = vec!["flops <= 50M", "params >= 200K"];
        let (store, sum) = s.run_mem();
        assert_eq!(sum.trials, 300);
        let (space, _) = space("nb201.nas", &s.constraints);
        let (fi, pi) = (space.metric_names().iter().position(|n| n == "flops").unwrap(), space.metric_names().iter().position(|n| n == "params").unwrap());
        for t in &store.trials {
            assert!(space.feasible(&t.candidate));
            assert!(t.metrics[fi] <= 50e6 && t.metrics[pi] >= 200e3, "{strat}: {:?}", t.metrics);
        }
    }
}

#[test]
fn duplicates_are_skipped_by_key() {
    for strat in ["rs", "re"] {
        let mut s = Setup::new("nb201.nas", strat, "nb201", 2, Budget::Trials(150));
        s.cfg.dedup = true;
        let (store, _) = s.run_mem();
        let keys: HashSet<_> = store.trials.iter().map(|t| t.key.clone().unwrap()).collect();
        assert_eq!(keys.len(), store.trials.len(), "{strat}");
    }
    // without dedup, evolution revisits architectures
    let (store, _) = Setup::new("nb201.nas", "re", "nb201", 2, Budget::Trials(150)).run_mem();
    let names: HashSet<_> = store.trials.iter().map(|t| t.candidate.clone()).collect();
    assert!(names.len() < store.trials.len());
}

#[test]
fn an_exhausted_space_stops_the_run() {
    // only the all-identity network has at most 9 MFLOPs
    let mut s = Setup::new("nas_bench_macro.nas", "re", "nas-bench-macro", 0, Budget::Trials(50));
    s.constraints = vec!["flops <= 9M"];
    s.cfg.dedup = true;
    let (store, sum) = s.run_mem();
    assert_eq!(sum.reason, StopReason::Exhausted);
    assert_eq!(store.trials.len(), 1);
    assert_eq!(store.status, "exhausted");
}

#[test]
fn evolution_config_is_validated_and_state_round_trips() {
    assert!(strategy::make("re", &serde_json::json!({"population": 0}), 0).is_err());
    assert!(strategy::make("re", &serde_json::json!({"populaton": 5}), 0).is_err());
    assert!(strategy::make("bo", &serde_json::Value::Null, 0).is_err());
    let re = strategy::make("re", &serde_json::Value::Null, 0).unwrap();
    assert_eq!(re.config(), serde_json::json!({"population": 10, "sample_size": 3, "mutation_distance": 1}));
}

//! Multi-objective search on NAS-Bench-201 against the exact Pareto front of all 15,625 cells:
//! 12-epoch CIFAR-10 validation accuracy (maximized, the `nb201` evaluator's reward) and flops
//! (minimized, the spec's `flops` metric, equal to the benchmark's own FLOPs column), hypervolume
//! against 80% accuracy and 1.01 x the largest flops. Strategies run through ask/tell in a small
//! loop of their own (not the runner), told their objective vectors. The measured table is in
//! docs/pareto.md (`cargo run --release -p nasc-runtime --example pareto_table` prints it).
mod common;
#[path = "common/nb201_front.rs"]
mod nb201_front;
use nb201_front::{nb201, ratios, row, search, AT};

use nasc_compiler::Candidate;
use nasc_runtime::objective::{Names, Objectives};
use nasc_runtime::pareto::{front, hypervolume};
use nasc_runtime::report::RunFront;
use nasc_runtime::store::{SqliteStore, StoredRun};
use nasc_runtime::strategy::{self, AskCtx, Told};
use nasc_runtime::{Budget, SearchSpace};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;

#[test]
fn spec_flops_are_the_benchmark_flops_and_the_front_is_exact() {
    let t = nb201();
    // the spec's flops against the benchmark's own FLOPs column (tests/data/nb201_cost.csv)
    let csv = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/nb201_cost.csv")).unwrap();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (ai, fi) = (head.iter().position(|h| *h == "arch_str").unwrap(), head.iter().position(|h| *h == "flops_c10").unwrap());
    let mut n = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let c = t.space.parse_name(f[ai]).unwrap();
        assert_eq!(t.values[&c].1, f[fi].parse::<f64>().unwrap(), "{}", f[ai]);
        n += 1;
    }
    assert_eq!(n, 15_625);
    // the published range of NB201's CIFAR-10 FLOPs: 7.78M to 220.11M
    let (lo, hi) = t.values.values().fold((f64::MAX, 0.0f64), |(l, h), v| (l.min(v.1), h.max(v.1)));
    println!("flops from {lo} to {hi}");
    assert_eq!(((lo / 1e4).round() / 100.0, (hi / 1e4).round() / 100.0), (7.78, 220.12));
    // the front by brute force: a cell is on it iff no cell has at least its accuracy at no more
    // flops with one of them strict
    let pts: Vec<(Candidate, [f64; 2])> = t.values.iter().map(|(c, &(a, f))| (c.clone(), [a, -f])).collect();
    let fr = front(&pts.iter().map(|p| p.1).collect::<Vec<_>>());
    let p: Vec<[f64; 2]> = pts.iter().map(|p| p.1).collect();
    let brute: Vec<usize> = (0..p.len()).filter(|&i| !p.iter().any(|q| q[0] >= p[i][0] && q[1] >= p[i][1] && q != &p[i])).collect();
    assert_eq!(fr, brute);
    println!("front: {} cells, true hypervolume {:.6e}", fr.len(), t.true_hv);
    assert!(t.true_hv > 0.0);
}

/// The check: NSGA-II (defaults, duplicates skipped) reaches at least 0.99 of the true
/// hypervolume at 1,000 trials (measured 0.998), above random search (measured about 0.93).
#[test]
fn nb201_nsga2_finds_the_front() {
    let t = nb201();
    let rs = ratios(&t, "rs", &json!({}), 10, &AT, 1, true);
    let ns = ratios(&t, "nsga2", &Value::Null, 10, &AT, 1, true);
    println!("{}\n{}", row("rs", &rs), row("nsga2", &ns));
    assert!((0.88..0.97).contains(&rs[2].0), "random search at 1,000: {:?}", rs[2]);
    assert!((0.78..0.90).contains(&rs[1].0), "random search at 300: {:?}", rs[1]);
    assert!(ns[2].0 >= 0.995 && ns[2].1 < 0.005, "nsga2 at 1,000: {:?}", ns[2]);
    assert!(ns[1].0 >= 0.92, "nsga2 at 300: {:?}", ns[1]);
    for k in 0..3 {
        assert!(ns[k].0 > rs[k].0, "nsga2 below random search at {} trials", AT[k]);
    }
    // asynchronous: 8 asked at a time, told in reverse order
    let asy = ratios(&t, "nsga2", &Value::Null, 5, &[1000], 8, true);
    assert!(asy[0].0 >= 0.99, "nsga2 with 8 workers at 1,000: {:?}", asy[0]);
}

/// The candidates a search asks, as encoded strings, resuming from its JSON state (through
/// text) every `every` trials; 4 asked at a time, told in reverse order.
fn trace(space: &SearchSpace, values: &HashMap<Candidate, (f64, f64)>, config: &Value, trials: usize, every: Option<usize>) -> Vec<String> {
    let mut s = strategy::make("nsga2", config, 7).unwrap();
    let mut out = Vec::new();
    while out.len() < trials {
        if every.is_some_and(|e| out.len() % e == 0) {
            let text = serde_json::to_string(&s.state()).unwrap();
            s = strategy::make("nsga2", config, 7).unwrap();
            s.restore(&serde_json::from_str(&text).unwrap()).unwrap();
        }
        let mut ctx = AskCtx::new(space, None);
        let batch = s.ask(&mut ctx, 4);
        for c in batch.iter().rev() {
            assert!(space.feasible(c), "an infeasible candidate was asked");
            let (a, f) = values.get(c).copied().unwrap_or((50.0, 1e8));
            // every 7th trial fails: told without a reward or objectives
            let failed = out.len() % 7 == 3;
            let o = [a, -f];
            s.tell(&[Told { id: out.len() as u64, candidate: c, reward: (!failed).then_some(a), objectives: (!failed).then_some(&o[..]) }]);
            out.push(nasc_runtime::space::encode(c));
        }
    }
    out
}

#[test]
fn nsga2_resumes_exactly_and_keeps_constraints() {
    let t = nb201();
    let (space, _) = common::space("nb201.nas", &["flops <= 100M"]);
    for cfg in [json!({"population": 12}), json!({"population": 12, "replacement": "generational"})] {
        let straight = trace(&space, &t.values, &cfg, 300, None);
        assert_eq!(straight, trace(&space, &t.values, &cfg, 300, Some(4)), "{cfg}");
        assert_eq!(straight, trace(&space, &t.values, &cfg, 300, None), "{cfg}: not deterministic");
        let distinct: std::collections::HashSet<&String> = straight.iter().collect();
        assert!(distinct.len() > 200, "{cfg}: {} distinct of 300", distinct.len());
    }
    // bad configs and states are errors
    for (cfg, why) in [
        (json!({"population": 1}), "population must be at least 2"),
        (json!({"mutation": 2.0}), "mutation must be a probability"),
        (json!({"replacement": "elitist"}), "replacement must be `generational` or `steady`"),
        (json!({"mutation_distance": 0}), "mutation distance"),
        (json!({"populaton": 5}), "unknown field `populaton`"),
    ] {
        let e = strategy::make("nsga2", &cfg, 0).err().unwrap_or_else(|| panic!("{cfg} accepted")).to_string();
        assert!(e.contains(why), "{cfg}: {e}");
    }
    let mut s = strategy::make("nsga2", &Value::Null, 0).unwrap();
    assert!(s.restore(&json!({"rng_counter": 0, "asked": 1, "population": [["x", [1.0]]], "children": []})).is_err());
    assert!(s.restore(&json!({"rng_counter": 0})).unwrap_err().to_string().contains("lacks `asked`"));
}

/// A run through the runner into a SQLite store with `objectives` (and `scalarize`), crashed
/// after `kill` steps (the open batch lost) and resumed when given.
fn runner_run(setup: &common::Setup, objectives: &str, scalarize: Option<&str>, path: &Path, kill: Option<u64>) -> StoredRun {
    let (space, text) = common::space(setup.spec, &setup.constraints);
    let mut meta = setup.meta(&space, &text);
    let names = Names::new(space.inner(), &meta.metric_names);
    let o = Objectives::new(space.inner(), &names, &meta.evaluator, Some(objectives), scalarize).unwrap();
    o.check_strategy(setup.strategy).unwrap();
    meta.objectives = Some(o.to_json(&meta.metric_names));
    {
        let mut store = SqliteStore::create(path, &meta).unwrap();
        let mut r = setup.runner(&space, &mut store);
        r.set_objectives(o);
        match kill {
            None => {
                r.run().unwrap();
            }
            Some(k) => {
                for _ in 0..k {
                    r.step().unwrap();
                }
            }
        }
    }
    if kill.is_some() {
        let (mut store, run) = SqliteStore::resume(path, &meta.spec_hash).unwrap();
        let mut r = setup.resume(&space, &mut store, &run);
        r.set_objectives(Objectives::of_run(&run.meta).unwrap());
        r.run().unwrap();
    }
    SqliteStore::read(path).unwrap()
}

/// Through the runner and the store: NSGA-II's front and hypervolume as the report computes
/// them equal the ask/tell loop's (the same trials), and a crashed run resumes exactly.
#[test]
fn runner_tells_objectives_and_the_report_has_the_front() {
    let t = nb201();
    let dir = tempfile::tempdir().unwrap();
    let mut setup = common::Setup::new("nb201.nas", "nsga2", "nb201", 4, Budget::Trials(600));
    setup.cfg.dedup = true;
    setup.cfg.commit_every = 9;
    setup.cfg.commit_interval = std::time::Duration::from_secs(3600);
    let run = runner_run(&setup, "max:accuracy,min:flops", None, &dir.path().join("a.db"), None);
    assert_eq!(run.trials.len(), 600);
    let reference = [80.0, -t.reference[1]];
    let f = RunFront::of(&run, Some(&reference)).unwrap();
    let by_loop = search(&t, "nsga2", &Value::Null, 4, 600, 1, true);
    assert_eq!(f.hypervolume, hypervolume(&by_loop, &t.reference));
    assert!(f.hypervolume / t.true_hv > 0.95, "{}", f.hypervolume / t.true_hv);
    let j = f.json();
    assert_eq!(j["objectives"], json!(["max:accuracy", "min:flops"]));
    let pareto = j["pareto"].as_array().unwrap();
    assert_eq!(pareto.len(), f.front.len());
    // raw values: flops positive, and no front member dominates another
    for p in pareto {
        assert!(p["objectives"]["flops"].as_f64().unwrap() > 0.0 && p["objectives"]["accuracy"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(j["hypervolume"]["reference"], json!({"accuracy": 80.0, "flops": -t.reference[1]}));
    // the default reference point: 10% of the range beyond the worst trial
    let d = RunFront::of(&run, None).unwrap();
    let worst_acc = run.trials.iter().filter_map(|t| t.reward).fold(f64::INFINITY, f64::min);
    assert!(d.reference[0] < worst_acc && d.hypervolume > f.hypervolume);
    // killed after 250 steps and resumed: the same trials
    let resumed = runner_run(&setup, "max:accuracy,min:flops", None, &dir.path().join("b.db"), Some(250));
    common::assert_same(&run, &resumed, "nsga2 resumed");
    assert_eq!(resumed.meta.objectives, run.meta.objectives);
}

/// One objective other than the reward is what a single-objective strategy now maximizes:
/// `min:params` with regularized evolution finds small networks (the symptom was an
/// identical search), and a `cap:` scalarization keeps the reward within the cap.
#[test]
fn single_objective_strategies_follow_the_objective() {
    let dir = tempfile::tempdir().unwrap();
    let setup = common::Setup::new("nb201.nas", "re", "nb201", 1, Budget::Trials(300));
    let params = |run: &StoredRun| -> f64 { run.trials[200..].iter().map(|t| t.metrics["params"].as_f64().unwrap()).sum::<f64>() / 100.0 };
    let acc = runner_run(&setup, "max:reward", None, &dir.path().join("acc.db"), None);
    let small = runner_run(&setup, "min:params", None, &dir.path().join("small.db"), None);
    assert!(params(&small) < 0.5 * params(&acc), "{} vs {}", params(&small), params(&acc));
    // the report's best is the smallest network, its top list is by the objective
    let least = small.trials.iter().map(|t| t.metrics["params"].as_f64().unwrap()).fold(f64::INFINITY, f64::min);
    assert_eq!(nasc_runtime::report::best(&small).unwrap().metrics["params"].as_f64(), Some(least));
    assert_eq!(nasc_runtime::report::top(&small, 3)[0].metrics["params"].as_f64(), Some(least));
    assert_eq!(nasc_runtime::report::best(&acc).unwrap().reward, acc.trials.iter().filter_map(|t| t.reward).reduce(f64::max));
    let capped = runner_run(&setup, "max:reward,min:flops", Some("cap:flops<=50M"), &dir.path().join("cap.db"), None);
    let within = |run: &StoredRun| run.trials[200..].iter().filter(|t| t.metrics["flops"].as_f64().unwrap() <= 50e6).count();
    assert!(within(&capped) >= within(&acc) + 30, "{} vs {} of the last 100 trials within the cap", within(&capped), within(&acc));
    // the best trial the cap allows is among the capped run's
    let best_within = |run: &StoredRun| run.trials.iter().filter(|t| t.metrics["flops"].as_f64().unwrap() <= 50e6).filter_map(|t| t.reward).fold(0.0, f64::max);
    let t = nb201();
    let possible = t.values.values().filter(|v| v.1 <= 50e6).map(|v| v.0).fold(0.0, f64::max);
    println!("best within the cap: capped run {}, uncapped run {}, possible {possible}", best_within(&capped), best_within(&acc));
    assert!(best_within(&capped) >= best_within(&acc) && best_within(&capped) >= possible - 0.5, "{} vs {}", best_within(&capped), best_within(&acc));
    // a single-objective strategy on two objectives without --scalarize is refused
    let (space, _) = common::space("nb201.nas", &[]);
    let names = Names::new(space.inner(), &setup.meta(&space, "").metric_names);
    let o = Objectives::new(space.inner(), &names, "nb201", Some("max:accuracy,min:flops"), None).unwrap();
    let e = o.check_strategy("layernas").unwrap_err();
    assert!(matches!(&e, nasc_runtime::error::ObjectiveError::SingleObjective { strategy, .. } if strategy == "layernas"), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("rs, nsga2") && e.contains("--scalarize"), "{e}");
}

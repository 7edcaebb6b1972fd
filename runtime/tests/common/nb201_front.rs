//! NAS-Bench-201 against the exact Pareto front of all 15,625 cells (accuracy up, flops down):
//! the cells' values, one ask/tell search told objective vectors, and the hypervolume ratios of
//! seeds. Shared by `tests/pareto.rs` and `examples/pareto_table.rs` (docs/pareto.md's table).
#![allow(dead_code)]
use nasc_compiler::{Candidate, Slot};
use nasc_runtime::eval::{self, EvalRequest};
use nasc_runtime::pareto::hypervolume;
use nasc_runtime::strategy::{self, AskCtx, Seen, Told};
use nasc_runtime::SearchSpace;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// Every NB201 cell's (accuracy, flops), from the evaluator and the spec.
pub struct Nb201 {
    pub space: SearchSpace,
    pub values: HashMap<Candidate, (f64, f64)>,
    pub reference: [f64; 2],
    pub true_hv: f64,
}

pub fn candidate(code: usize) -> Candidate {
    let mut d = [0u32; 6];
    let mut c = code;
    for k in (0..6).rev() {
        d[k] = (c % 5) as u32;
        c /= 5;
    }
    Candidate(d.iter().map(|&v| Slot::Opt(v)).collect())
}

pub fn nb201() -> Nb201 {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/nb201.nas");
    let space = SearchSpace::new(nasc_runtime::spec::compile_file(&spec, &[]).expect("nb201.nas compiles").0, vec![]).expect("no constraints");
    let mut ev = eval::make("nb201", &space).unwrap();
    let fi = space.metric_names().iter().position(|m| m == "flops").expect("the spec has flops");
    let cands: Vec<Candidate> = (0..15_625).map(candidate).collect();
    let reqs: Vec<EvalRequest> = cands.iter().enumerate().map(|(i, c)| EvalRequest { id: i as u64, candidate: c, seed: 0 }).collect();
    let res = ev.evaluate(&space, &reqs);
    let mut values = HashMap::new();
    for (c, r) in cands.iter().zip(res) {
        let acc = r.expect("every cell is in the table").reward;
        values.insert(c.clone(), (acc, space.metrics(c)[fi]));
    }
    assert_eq!(values.len(), 15_625);
    let max_flops = values.values().map(|v| v.1).fold(0.0, f64::max);
    let reference = [80.0, -1.01 * max_flops];
    let all: Vec<[f64; 2]> = values.values().map(|&(a, f)| [a, -f]).collect();
    let true_hv = hypervolume(&all, &reference);
    Nb201 { space, values, reference, true_hv }
}

/// One search: the objective vectors of the trials in the order they were told. `workers`
/// candidates are asked at a time and told in reverse order (asynchronous tells).
pub fn search(t: &Nb201, name: &str, config: &Value, seed: u64, trials: usize, workers: usize, dedup: bool) -> Vec<[f64; 2]> {
    let mut s = strategy::make(name, config, seed).unwrap();
    let mut seen = Seen::default();
    let mut out: Vec<[f64; 2]> = Vec::with_capacity(trials);
    while out.len() < trials {
        let mut ctx = AskCtx::new(&t.space, if dedup { Some(&mut seen) } else { None });
        let batch = s.ask(&mut ctx, workers.min(trials - out.len()));
        assert!(!batch.is_empty(), "{name} ran out of candidates");
        for c in batch.iter().rev() {
            let (a, f) = t.values[c];
            let o = [a, -f];
            s.tell(&[Told { id: out.len() as u64, candidate: c, reward: Some(a), objectives: Some(&o) }]);
            out.push(o);
        }
    }
    out
}

/// Mean and sample standard deviation of the hypervolume ratio after each of `at` trials.
pub fn ratios(t: &Nb201, name: &str, config: &Value, seeds: u64, at: &[usize], workers: usize, dedup: bool) -> Vec<(f64, f64)> {
    let last = *at.iter().max().unwrap();
    let per_seed: Vec<Vec<f64>> = (0..seeds)
        .map(|seed| {
            let v = search(t, name, config, seed, last, workers, dedup);
            at.iter().map(|&n| hypervolume(&v[..n], &t.reference) / t.true_hv).collect()
        })
        .collect();
    (0..at.len())
        .map(|k| {
            let xs: Vec<f64> = per_seed.iter().map(|r| r[k]).collect();
            let m = xs.iter().sum::<f64>() / xs.len() as f64;
            let sd = (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() as f64 - 1.0).max(1.0)).sqrt();
            (m, sd)
        })
        .collect()
}

pub const AT: [usize; 3] = [100, 300, 1000];

pub fn row(label: &str, r: &[(f64, f64)]) -> String {
    format!("| {label} | {} |", r.iter().map(|(m, s)| format!("{m:.4} ± {s:.4}")).collect::<Vec<_>>().join(" | "))
}

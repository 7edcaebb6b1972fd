//! LISSNAS on the tabular benchmarks: the shrunk spaces' statistics (the paper's Table 4, with
//! the shrink index, the predictor's Kendall tau / Pearson and the architectural diversity), and
//! the `lissnas` strategy against RS / REA at equal budget.
//!
//!     cargo run --release -p nasc-runtime --example lissnas_table [-- SEEDS [OUT_DIR]]
//!
//! Benchmarks: NAS-Bench-201 (CIFAR-10, CIFAR-100, ImageNet16-120) and NAS-Bench-Macro
//! (CIFAR-10). The shrinking's oracle is the evaluator's reward (NB201: 12-epoch validation
//! accuracy; Macro: mean test accuracy); the statistics use the true accuracy of every member
//! (NB201: 200-epoch test accuracy; Macro: mean test accuracy) over the enumerated space.
//! Mean ± sample sd over SEEDS seeds (default 10). FLOPs histograms (seed 0) go to OUT_DIR
//! (default target/lissnas) as SVG.
use nasc_compiler::decision::DecisionKind;
use nasc_compiler::rng::Rng;
use nasc_compiler::{Candidate, Slot};
use nasc_runtime::eval::{self, EvalRequest};
use nasc_runtime::predict::{kendall_tau, pearson, OneHot};
use nasc_runtime::store::MemStore;
use nasc_runtime::strategy::lissnas::{self, stats, LissnasConfig};
use nasc_runtime::{strategy, Budget, RunConfig, Runner, SearchSpace};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use nasc_runtime::compare::mean_sd;

fn ms(v: &[f64], d: usize) -> String {
    let (m, s) = mean_sd(v);
    format!("{m:.d$} ± {s:.d$}")
}

/// Every valid candidate of a choice-only space.
fn enumerate(space: &SearchSpace) -> Vec<Candidate> {
    let ar: Vec<usize> = space
        .inner()
        .decisions()
        .iter()
        .map(|d| match &d.kind {
            DecisionKind::Choice { options, .. } => options.len(),
            DecisionKind::Subset { .. } => panic!("enumeration supports choice decisions only"),
        })
        .collect();
    let total: usize = ar.iter().product();
    let mut out = Vec::with_capacity(total);
    for mut i in 0..total {
        let mut slots = Vec::with_capacity(ar.len());
        for a in &ar {
            slots.push(Slot::Opt((i % a) as u32));
            i /= a;
        }
        let c = Candidate(slots);
        if space.inner().check_valid(&c).is_ok() {
            out.push(c);
        }
    }
    out.sort_unstable();
    out
}

struct Bench {
    label: &'static str,
    spec: &'static str,
    sets: Vec<(String, String)>,
    evaluator: String,
    budget: Budget,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seeds: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(10);
    let out_dir = args.get(1).map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/lissnas"));
    std::fs::create_dir_all(&out_dir).expect("output folder");
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    let benches = vec![
        Bench {
            label: "NB201 CIFAR-10",
            spec: "nb201.nas",
            sets: vec![s("classes", "10"), s("side", "32")],
            evaluator: "nb201:dataset=cifar10,epochs=12".into(),
            budget: Budget::Time(12_000.0),
        },
        Bench {
            label: "NB201 CIFAR-100",
            spec: "nb201.nas",
            sets: vec![s("classes", "100"), s("side", "32")],
            evaluator: "nb201:dataset=cifar100,epochs=12".into(),
            budget: Budget::Time(24_000.0),
        },
        Bench {
            label: "NB201 ImageNet16-120",
            spec: "nb201.nas",
            sets: vec![s("classes", "120"), s("side", "16")],
            evaluator: "nb201:dataset=ImageNet16-120,epochs=12".into(),
            budget: Budget::Time(72_000.0),
        },
        Bench { label: "NAS-Bench-Macro CIFAR-10", spec: "nas_bench_macro.nas", sets: vec![], evaluator: "nas-bench-macro".into(), budget: Budget::Trials(100) },
    ];
    let cfg = LissnasConfig::default();
    let t0 = std::time::Instant::now();
    let mut table4 = Vec::new();
    let mut quality = Vec::new();
    let mut search = Vec::new();
    let mut steps_text = String::new();
    for b in &benches {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs").join(b.spec);
        let (space, _) = nasc_runtime::spec::compile_file(&path, &b.sets).expect("spec compiles");
        let space = SearchSpace::new(space, Vec::new()).unwrap();
        let all = enumerate(&space);
        let mut ev = eval::make(&b.evaluator, &space).unwrap();
        let reqs: Vec<EvalRequest> = all.iter().enumerate().map(|(i, c)| EvalRequest { id: i as u64, candidate: c, seed: 0 }).collect();
        let res = ev.evaluate(&space, &reqs);
        let mut reward = HashMap::new();
        let mut truth = HashMap::new();
        for (c, r) in all.iter().zip(res) {
            let r = r.expect("every architecture is in the table");
            reward.insert(c.clone(), r.reward);
            truth.insert(c.clone(), r.reported);
        }
        let fi = space.metric_names().iter().position(|n| n == "flops").expect("flops metric");
        let flops = |c: &Candidate| space.metrics(c)[fi];
        let acc_all: Vec<f64> = all.iter().map(|c| truth[c]).collect();
        let good = stats::quantile(&acc_all, 0.9);
        let full = stats::space_stats(&acc_all, good);
        let enc = OneHot::new(&space);
        let (full_max_cos, full_mean_cos) = stats::cosine_diversity(&enc, &all);
        let mut cols: HashMap<&str, Vec<f64>> = HashMap::new();
        for seed in 0..seeds {
            let mut oracle = |c: &Candidate| reward.get(c).copied();
            let sh = lissnas::shrink(&space, &cfg, seed, &mut oracle).unwrap();
            let members = sh.members.clone().unwrap_or_else(|| all.clone());
            let acc: Vec<f64> = members.iter().map(|c| truth[c]).collect();
            let st = stats::space_stats(&acc, good);
            let (max_cos, mean_cos) = stats::cosine_diversity(&enc, &members);
            // predictor quality on 1000 held-out uniform architectures (not queried)
            let queried: std::collections::HashSet<&Candidate> = sh.queries.iter().map(|q| &q.0).collect();
            let mut rng = Rng::new(seed ^ 0x5eed);
            let mut held = Vec::new();
            while held.len() < 1000 {
                let c = &all[rng.below(all.len() as u64) as usize];
                if !queried.contains(c) {
                    held.push(c.clone());
                }
            }
            let model = sh.predictor.as_ref().expect("a predictor");
            let p: Vec<f64> = held.iter().map(|c| model.predict(&enc.dense(c))).collect();
            let t: Vec<f64> = held.iter().map(|c| reward[c]).collect();
            let push = |cols: &mut HashMap<&str, Vec<f64>>, k: &'static str, v: f64| cols.entry(k).or_default().push(v);
            push(&mut cols, "size", st.size as f64);
            push(&mut cols, "mean", st.mean_acc);
            push(&mut cols, "max", st.max_acc);
            push(&mut cols, "best", if (st.max_acc - full.max_acc).abs() < 1e-9 { 1.0 } else { 0.0 });
            push(&mut cols, "higher", if st.mean_acc > full.mean_acc { 1.0 } else { 0.0 });
            push(&mut cols, "p", st.p);
            push(&mut cols, "si", stats::shrink_index(&full, &st));
            push(&mut cols, "queries", sh.queries.len() as f64);
            push(&mut cols, "steps", sh.history.iter().filter(|h| h.accepted).count() as f64);
            push(&mut cols, "tau", kendall_tau(&p, &t));
            push(&mut cols, "pearson", pearson(&p, &t));
            push(&mut cols, "maxcos", max_cos);
            push(&mut cols, "meancos", mean_cos);
            if seed == 0 {
                steps_text += &format!("{} seed 0: ", b.label);
                steps_text += &sh
                    .history
                    .iter()
                    .map(|h| {
                        format!(
                            "step {}: pool {} (pred {:.2}) -> {} (pred {:.2}){}",
                            h.iteration,
                            h.pool,
                            h.pool_mean_pred,
                            h.next_size,
                            h.next_mean_pred,
                            if h.accepted { "" } else { " rejected" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                steps_text += "\n";
                let fo: Vec<f64> = all.iter().map(&flops).collect();
                let fs: Vec<f64> = members.iter().map(&flops).collect();
                let name = b.label.replace(' ', "_");
                let svg = stats::flops_histogram_svg(&format!("{}: FLOPs, original vs LISSNAS-shrunk (seed 0)", b.label), &fo, &fs, 20);
                std::fs::write(out_dir.join(format!("{name}_flops.svg")), svg).unwrap();
                std::fs::write(out_dir.join(format!("{name}_flops.txt")), stats::flops_histogram_text(&fo, &fs, 10)).unwrap();
            }
        }
        let c = |k: &str| cols[k].clone();
        table4.push(format!(
            "| {} | full | {} | {:.2} | {:.2} | | {:.3} | | {:.3} / {:.3} |",
            b.label, full.size, full.mean_acc, full.max_acc, full.p_good, full_max_cos, full_mean_cos
        ));
        table4.push(format!(
            "| {} | LISSNAS | {} | {} | {} | {:.0}/{} | {} | {} | {} / {} |",
            b.label,
            ms(&c("size"), 0),
            ms(&c("mean"), 2),
            ms(&c("max"), 2),
            c("best").iter().sum::<f64>(),
            seeds,
            ms(&c("si"), 3),
            ms(&c("queries"), 0),
            ms(&c("maxcos"), 3),
            ms(&c("meancos"), 3)
        ));
        quality.push(format!(
            "| {} | {:.2} | {:.0}/{} | {} | {} | {} | {} |",
            b.label,
            good,
            c("higher").iter().sum::<f64>(),
            seeds,
            ms(&c("p"), 3),
            ms(&c("steps"), 1),
            ms(&c("tau"), 3),
            ms(&c("pearson"), 3)
        ));

        // the strategy against RS / REA at equal budget
        let methods: [(&str, &str, serde_json::Value); 4] = [
            ("RS", "rs", json!({})),
            ("REA (P=10, S=3)", "re", json!({"population": 10, "sample_size": 3, "mutation_distance": 1})),
            ("LISSNAS + RS", "lissnas", json!({})),
            ("LISSNAS + greedy", "lissnas", json!({"inner": "greedy"})),
        ];
        let test_name = "test_acc";
        for (label, strat, scfg) in &methods {
            let (mut accs, mut trials, mut found) = (Vec::new(), Vec::new(), 0);
            for seed in 0..seeds {
                let ev = eval::make(&b.evaluator, &space).unwrap();
                let it = ev.metric_names().iter().position(|n| n == test_name).unwrap();
                let st = strategy::make(strat, scfg, seed).unwrap();
                let mut rc = RunConfig::new(seed, b.budget);
                rc.space_metrics = false;
                let mut store = MemStore::default();
                let sum = Runner::new(&space, st, ev, &mut store, rc).run().unwrap();
                let best = sum.best.unwrap();
                accs.push(best.metrics[it]);
                if (best.metrics[it] - full.max_acc).abs() < 1e-9 {
                    found += 1;
                }
                trials.push(sum.trials as f64);
            }
            search.push(format!("| {} | {label} | {} | {found}/{seeds} | {} |", b.label, ms(&accs, 2), ms(&trials, 0)));
        }
    }
    println!("LISSNAS, {seeds} seeds, defaults {}", serde_json::to_string(&cfg).unwrap());
    println!();
    println!("Shrunk-space statistics (true accuracy, %): size, mean, max; runs whose shrunk space keeps the global best; shrink index (P(>=2 of 10 good), good = top decile of the full space); real queries used; diversity = max / mean pairwise cosine distance of one-hot encodings");
    println!();
    println!("| benchmark | space | size | mean acc | max acc | keeps global best | shrink index (full: P_good) | queries | max / mean cosine distance |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in &table4 {
        println!("{r}");
    }
    println!();
    println!("| benchmark | good threshold (acc) | runs with mean acc above the full space's | fraction good in shrunk space (full: 0.1) | accepted steps | predictor Kendall tau (1000 held-out, reward) | predictor Pearson |");
    println!("|---|---|---|---|---|---|---|");
    for r in &quality {
        println!("{r}");
    }
    println!();
    println!("Search at equal budget (NB201: 12000/24000/72000 simulated s, the NB201 protocol; Macro: 100 trials); best-by-reward architecture's test accuracy (%)");
    println!();
    println!("| benchmark | method | test acc | runs finding the global best | trials |");
    println!("|---|---|---|---|---|");
    for r in &search {
        println!("{r}");
    }
    println!();
    print!("{steps_text}");
    println!("FLOPs histograms: {}", out_dir.display());
    println!("({:.1} s)", t0.elapsed().as_secs_f64());
}

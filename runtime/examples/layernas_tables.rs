//! LayerNAS paper tables on the embedded benchmarks (../shared/papers/layernas.md).
//!
//!     cargo run --release -p nasc-runtime --example layernas_tables [-- SEEDS [t3|t4|all]]
//!
//! (1) Table 3 (NATS-Bench topology = NAS-Bench-201): a budget of 1e5 simulated seconds of
//!     training per search (the table's "search cost"), one worker, mean ± sample sd of the
//!     200-epoch test accuracy of the best-by-reward architecture over SEEDS seeds (default 10).
//!     Two protocols: the NATS-Bench proxy (reward = 12-epoch validation accuracy, a trial costs
//!     its 12-epoch time) and full training (reward = 200-epoch validation accuracy, a trial
//!     costs its 200-epoch time); plus the NB201 budget (12000 s, 12-epoch proxy). Specs:
//!     `specs/nb201.nas` (`default none`) and `runtime/tests/data/nb201_default_conv3x3.nas`.
//! (2) The analogue of Table 4 on Channel-Bench-Macro (MobileNet and ResNet): size search for
//!     the best model with at most 50% of the largest model's FLOPs. LayerNAS in size mode
//!     against RS and RE given the constraint `flops <= 0.5 max` at the same trial budget;
//!     reward = one training's test accuracy (`noise=seed`; `LAYERNAS_NOISE=none` for the
//!     mean), reported = mean test accuracy; budgets 100..2000 trials (`LAYERNAS_BUDGETS=a,b`).
use nasc_runtime::space::parse_constraint;
use nasc_runtime::store::MemStore;
use nasc_runtime::{eval, strategy, Budget, RunConfig, Runner, SearchSpace};
use serde_json::{json, Value};
use std::path::Path;

use nasc_runtime::compare::mean_sd;

fn spec(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs").join(name)
}

fn table3(seeds: u64) {
    let datasets = [("cifar10", "10", "32"), ("cifar100", "100", "32"), ("ImageNet16-120", "120", "16")];
    let conv = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/nb201_default_conv3x3.nas");
    let methods: [(&str, &str, Value, std::path::PathBuf); 6] = [
        ("RS", "rs", json!({}), spec("nb201.nas")),
        ("RE (P=10, S=3)", "re", json!({}), spec("nb201.nas")),
        ("LayerNAS (φ = key), default none", "layernas", json!({"mode": "topology", "phi": "key"}), spec("nb201.nas")),
        ("LayerNAS (φ = unique), default none", "layernas", json!({"mode": "topology", "phi": "unique"}), spec("nb201.nas")),
        ("LayerNAS (φ = key), default nor_conv_3x3", "layernas", json!({"mode": "topology", "phi": "key"}), conv.clone()),
        ("LayerNAS (φ = unique), default nor_conv_3x3", "layernas", json!({"mode": "topology", "phi": "unique"}), conv),
    ];
    for (epochs, budget) in [(12, 1e5), (200, 1e5), (12, 12_000.0)] {
        println!("Table 3, NAS-Bench-201, {budget:e} simulated s per search, reward = {epochs}-epoch validation accuracy, {seeds} seeds: 200-epoch test accuracy (%) of the best-by-reward cell");
        println!();
        println!("| method | CIFAR-10 | CIFAR-100 | ImageNet16-120 | mean trials (C10 / C100 / IN16) | searches exhausted |");
        println!("|---|---|---|---|---|---|");
        println!("| RS (paper) | 92.39 ± 0.06 | 63.54 ± 0.24 | 42.71 ± 0.34 | | |");
        println!("| RE (paper) | 94.13 ± 0.18 | 71.40 ± 0.50 | 44.76 ± 0.64 | | |");
        println!("| LayerNAS (paper) | 94.34 ± 0.12 | 73.01 ± 0.63 | 46.58 ± 0.59 | | |");
        for (label, strat, cfg, file) in &methods {
            let (mut cells, mut trials, mut exhausted) = (Vec::new(), Vec::new(), 0);
            for (ds, classes, side) in datasets {
                let sets = vec![("classes".to_string(), classes.to_string()), ("side".to_string(), side.to_string())];
                let (space, _) = nasc_runtime::spec::compile_file(file, &sets).expect("the NB201 spec compiles");
                let space = SearchSpace::new(space, Vec::new()).unwrap();
                let (mut test, mut n) = (Vec::new(), 0u64);
                for seed in 0..seeds {
                    let ev = eval::make(&format!("nb201:dataset={ds},epochs={epochs}"), &space).unwrap();
                    let it = ev.metric_names().iter().position(|n| n == "test_acc").unwrap();
                    let s = strategy::make(strat, cfg, seed).unwrap();
                    let mut rc = RunConfig::new(seed, Budget::Time(budget));
                    rc.space_metrics = false;
                    let mut store = MemStore::default();
                    let sum = Runner::new(&space, s, ev, &mut store, rc).run().unwrap();
                    test.push(sum.best.expect("a best trial").metrics[it]);
                    n += sum.trials;
                    exhausted += (store.status == "exhausted") as u64;
                }
                let (m, sd) = mean_sd(&test);
                cells.push(format!("{m:.2} ± {sd:.2}"));
                trials.push(format!("{:.0}", n as f64 / seeds as f64));
            }
            println!("| {label}, nasc | {} | {} | {exhausted} of {} |", cells.join(" | "), trials.join(" / "), 3 * seeds);
        }
        println!("| optimum (paper / table) | 94.37 | 73.51 | 47.31 | | |");
        println!();
    }
}

/// Every model's (flops, mean accuracy) of a 16,384-model Channel-Bench space.
fn all_models(space: &SearchSpace, evaluator: &str) -> Vec<(f64, f64)> {
    let fi = space.metric_names().iter().position(|n| n == "flops").unwrap();
    let mut ev = eval::make(evaluator, space).unwrap();
    let mut out = Vec::new();
    for i in 0..4usize.pow(7) {
        let name: String = (0..7).map(|k| char::from(b'1' + ((i >> (2 * (6 - k))) & 3) as u8)).collect();
        let c = space.parse_name(&name).unwrap();
        let r = ev.evaluate(space, &[eval::EvalRequest { id: 0, candidate: &c, seed: 0 }]).remove(0).unwrap();
        out.push((space.metrics(&c)[fi], r.reported));
    }
    out
}

fn table4(seeds: u64) {
    for (file, evname) in [("channel_bench_macro_mobilenet.nas", "channel-bench-macro-mobilenet"), ("channel_bench_macro_resnet.nas", "channel-bench-macro-resnet")] {
        let (sp, _) = nasc_runtime::spec::compile_file(&spec(file), &[]).expect("spec compiles");
        let free = SearchSpace::new(sp, Vec::new()).unwrap();
        let models = all_models(&free, &format!("{evname}:noise=none"));
        let max_flops = models.iter().map(|m| m.0).fold(0.0, f64::max);
        let limit = 0.5 * max_flops;
        let in_target: Vec<&(f64, f64)> = models.iter().filter(|m| m.0 <= limit).collect();
        let opt = in_target.iter().map(|m| m.1).fold(f64::MIN, f64::max);
        let mut accs: Vec<f64> = in_target.iter().map(|m| m.1).collect();
        accs.sort_by(|a, b| b.total_cmp(a));
        let (sp, _) = nasc_runtime::spec::compile_file(&spec(file), &[]).unwrap();
        let constrained = SearchSpace::new(sp, vec![parse_constraint(&format!("flops <= {limit}")).unwrap()]).unwrap();
        let fi = free.metric_names().iter().position(|n| n == "flops").unwrap();
        println!("Table 4 analogue, {evname}: best model with FLOPs <= 50% of the largest ({:.1} of {:.1} MFLOPs; {} of 16384 models qualify, optimum mean test accuracy {opt:.2}, 10th best {:.2}); reward = {}; {seeds} seeds", limit / 1e6, max_flops / 1e6, in_target.len(), accs[9.min(accs.len() - 1)], if noise() == "seed" { "one training's test accuracy (noise=seed)" } else { "the mean test accuracy (noise=none)" });
        println!();
        println!("| method | budget (trials) | mean test acc of the best in target (%) | its MFLOPs (mean) | its FLOPs / max (mean) | found the optimum | trials in target (mean) | mean trials |");
        println!("|---|---|---|---|---|---|---|---|");
        for budget in budgets() {
            let methods: [(&str, &str, Value, &SearchSpace); 3] = [
                ("RS (flops <= 50%)", "rs", json!({}), &constrained),
                ("RE (flops <= 50%)", "re", json!({}), &constrained),
                ("LayerNAS (size, H=100, 3/bucket)", "layernas", json!({"mode": "size", "metric": "flops", "max_fraction": 0.5}), &free),
            ];
            for (label, strat, cfg, space) in methods {
                let (mut acc, mut fl, mut hit, mut inside, mut n) = (Vec::new(), Vec::new(), 0, 0u64, 0u64);
                for seed in 0..seeds {
                    let ev = eval::make(&format!("{evname}:noise={}", noise()), space).unwrap();
                    let s = strategy::make(strat, &cfg, seed).unwrap();
                    let mut store = MemStore::default();
                    let sum = Runner::new(space, s, ev, &mut store, RunConfig::new(seed, Budget::Trials(budget))).run().unwrap();
                    n += sum.trials;
                    // the best-by-reward trial among those inside the target
                    let best = store
                        .trials
                        .iter()
                        .filter(|t| t.reward.is_some() && t.metrics[fi] <= limit * (1.0 + 1e-12))
                        .inspect(|_| inside += 1)
                        .max_by(|a, b| a.reward.unwrap().total_cmp(&b.reward.unwrap()).then(b.id.cmp(&a.id)));
                    if let Some(b) = best {
                        acc.push(b.reported.unwrap());
                        fl.push(b.metrics[fi]);
                        hit += (b.reported.unwrap() >= opt) as u64;
                    }
                }
                let (am, asd) = mean_sd(&acc);
                let (fm, _) = mean_sd(&fl);
                let missing = if acc.len() < seeds as usize { format!(" ({} searches found none)", seeds as usize - acc.len()) } else { String::new() };
                println!(
                    "| {label} | {budget} | {am:.2} ± {asd:.2}{missing} | {:.1} | {:.3} | {hit} of {seeds} | {:.0} | {:.0} |",
                    fm / 1e6,
                    fm / max_flops,
                    inside as f64 / seeds as f64,
                    n as f64 / seeds as f64
                );
            }
        }
        println!();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seeds: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(10);
    let which = args.get(1).map(String::as_str).unwrap_or("all");
    let t0 = std::time::Instant::now();
    if which == "t3" || which == "all" {
        table3(seeds);
    }
    if which == "t4" || which == "all" {
        table4(seeds);
    }
    println!("({:.1} s)", t0.elapsed().as_secs_f64());
}

/// Trial budgets of the Table 4 analogue (`LAYERNAS_BUDGETS=100,400` overrides).
fn budgets() -> Vec<u64> {
    std::env::var("LAYERNAS_BUDGETS").ok().map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect()).unwrap_or_else(|| vec![100, 200, 400, 1000, 2000])
}

/// Reward noise of the Table 4 analogue (`LAYERNAS_NOISE=none` for the mean accuracy).
fn noise() -> String {
    std::env::var("LAYERNAS_NOISE").unwrap_or_else(|_| "seed".into())
}

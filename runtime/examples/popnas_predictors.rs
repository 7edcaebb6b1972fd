//! POPNAS's time predictor checked offline on a stored run (a `nasc search ... --strategy
//! popnas` store, either mode). For each step b >= 2, as the search did at that step:
//! - the time predictor is fitted on the stored cells of fewer blocks and predicts the measured
//!   time of the stored cells of b blocks (Spearman, MAPE, distinct predictions);
//! - the step's candidates are rebuilt (every expansion of the stored cells of b - 1 blocks, the
//!   stored cells pruned), scored by an accuracy predictor fitted on the same cells and by the
//!   time predictor, and the size of their Pareto front (at most the run's K) is counted.
//!
//! Once per time target (`time_target`: `time`, the paper's, and `per_block`), so the two can be
//! compared on measured times without training anything again.
//!
//!     cargo run --release -p nasc-runtime --example popnas_predictors -- STORE.db [METRIC]
use nasc_runtime::space::decode;
use nasc_runtime::store::SqliteStore;
use nasc_runtime::strategy::popnas::acc::AccPredictor;
use nasc_runtime::strategy::popnas::cell::{self, Block, Cell, Layout};
use nasc_runtime::strategy::popnas::select::{self, Scored};
use nasc_runtime::strategy::popnas::time::{self, TimePredictor, TimeTarget};
use nasc_runtime::strategy::popnas::{n_cells, stats, PopnasConfig};
use nasc_runtime::SearchSpace;
use std::collections::HashSet;
use std::path::Path;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: popnas_predictors STORE.db [METRIC]")?;
    let metric = args.get(1).map_or("train_seconds", String::as_str);
    let run = SqliteStore::read(Path::new(path)).map_err(|e| e.to_string())?;
    let cfg: PopnasConfig = serde_json::from_value(run.meta.strategy_config.clone()).map_err(|e| format!("{path}: not a popnas run: {e}"))?;
    let dir = Path::new(&run.meta.spec_path).parent().unwrap_or(Path::new("."));
    let space = nasc_runtime::spec::compile_text(&run.meta.spec_text, dir, "spec", &run.meta.sets).map_err(|e| format!("{e:?}"))?;
    let space = SearchSpace::new(space, Vec::new()).map_err(|e| e.to_string())?;
    let layout = Layout::of(&space).map_err(|e| e.to_string())?;
    let ops: Vec<u32> =
        if cfg.ops.is_empty() { (0..layout.ops.len() as u32).collect() } else { cfg.ops.iter().filter_map(|o| layout.ops.iter().position(|n| n == o).map(|i| i as u32)).collect() };
    // (cell, accuracy in [0, 1], time) of every trained cell
    let mut cells: Vec<(Cell, f64, f64)> = Vec::new();
    for t in &run.trials {
        let c = decode(&t.genotype).map_err(|e| e.to_string())?;
        let (Some(cell), Some(acc), Some(v)) = (layout.cell(&c), t.reward, t.metrics.get(metric).and_then(|v| v.as_f64())) else { continue };
        cells.push((cell, acc, v));
    }
    let percent = cells.iter().any(|c| c.1 > 1.0);
    for c in &mut cells {
        c.1 = (c.1 / if percent { 100.0 } else { 1.0 }).clamp(0.0, 1.0);
    }
    let index = time::op_index(cells.iter().map(|c| (c.0.as_slice(), c.2)), layout.ops.len());
    let nc = n_cells(&space);
    let name = Path::new(path).file_name().map_or(path.clone(), |f| f.to_string_lossy().into_owned());
    let max_b = cells.iter().map(|c| c.0.len()).max().unwrap_or(0);
    println!("store\tb\ttarget\tn\tspearman\tmape_pct\tdistinct\tcandidates\tdistinct_candidate_times\tfront");
    for b in 2..=max_b {
        let train: Vec<&(Cell, f64, f64)> = cells.iter().filter(|c| c.0.len() < b).collect();
        let test: Vec<&(Cell, f64, f64)> = cells.iter().filter(|c| c.0.len() == b).collect();
        if train.is_empty() || test.is_empty() {
            continue;
        }
        let train_cells: Vec<&[Block]> = train.iter().map(|c| c.0.as_slice()).collect();
        let train_times: Vec<f64> = train.iter().map(|c| c.2).collect();
        let truth: Vec<f64> = test.iter().map(|c| c.2).collect();
        // the step's candidates, scored by accuracy as the search did
        let mut seen: HashSet<String> = train.iter().map(|c| cell::key(&c.0)).collect();
        let (uniq, _, _) = cell::step_candidates(cells.iter().filter(|c| c.0.len() == b - 1).map(|c| &c.0), &mut seen, &layout.inputs[b - 1], &ops);
        let hist: Vec<Cell> = train.iter().map(|c| c.0.clone()).collect();
        let accs: Vec<f64> = train.iter().map(|c| c.1).collect();
        let accp = AccPredictor::fit(&cfg.predictor, cfg.blocks, layout.ops.len(), &hist, &accs, 100 + b as u64);
        let acc_pred: Vec<f64> = uniq.iter().map(|c| accp.predict(c)).collect();
        for target in [TimeTarget::Time, TimeTarget::PerBlock] {
            let tp = TimePredictor::fit(&train_cells, &train_times, index.clone(), nc, target, &cfg.time_predictor, 200 + b as u64).map_err(|e| e.to_string())?;
            let pred: Vec<f64> = test.iter().map(|c| tp.predict(&c.0)).collect();
            let scored: Vec<Scored> = uniq.iter().zip(&acc_pred).map(|(c, &acc)| Scored { time: tp.predict(c), acc, cell: c.clone() }).collect();
            let order = select::by_accuracy(&scored);
            let front = select::pareto_front(&scored, &order, cfg.k);
            println!(
                "{name}\t{b}\t{}\t{}\t{:.3}\t{:.1}\t{}\t{}\t{}\t{}",
                serde_json::to_value(target).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
                test.len(),
                stats::spearman(&pred, &truth),
                stats::mape(&pred, &truth),
                distinct(&pred),
                scored.len(),
                distinct(&scored.iter().map(|s| s.time).collect::<Vec<_>>()),
                front.len()
            );
        }
    }
    Ok(())
}

fn distinct(x: &[f64]) -> usize {
    let mut v: Vec<u64> = x.iter().map(|p| p.to_bits()).collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

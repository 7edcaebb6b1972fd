//! The table of docs/pareto.md: the hypervolume ratio (found / true) on NAS-Bench-201, accuracy
//! vs flops against the exact front of all 15,625 cells, after 100, 300 and 1,000 trials, mean ±
//! sd over 10 seeds (100 for random search's expectation), for random search and NSGA-II
//! settings. About 100 s in release on 2 cores.
//!
//!     cargo run --release -p nasc-runtime --example pareto_table
#[path = "../tests/common/nb201_front.rs"]
mod nb201_front;
use nb201_front::{nb201, ratios, row, AT};
use serde_json::{json, Value};

fn main() {
    let t = nb201();
    let rows: Vec<(&str, Value, bool)> = vec![
        ("rs", json!({}), false),
        ("rs", json!({}), true),
        ("nsga2", json!({}), true),
        ("nsga2", json!({}), false),
        ("nsga2", json!({"population": 20}), true),
        ("nsga2", json!({"population": 100}), true),
        ("nsga2", json!({"mutation": 0.5}), true),
        ("nsga2", json!({"crossover": 0.0}), true),
        ("nsga2", json!({"mutation_distance": 2}), true),
        ("nsga2", json!({"replacement": "generational"}), true),
    ];
    // random search's expectation, more precisely
    println!("{}", row("rs, 100 seeds", &ratios(&t, "rs", &json!({}), 100, &AT, 1, false)));
    for (name, cfg, dedup) in rows {
        println!("{}", row(&format!("{name} {cfg} dedup={dedup}"), &ratios(&t, name, &cfg, 10, &AT, 1, dedup)));
    }
}

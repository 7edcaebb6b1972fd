//! Search overhead per trial (ask + tell + store) with the zero-cost `instant` evaluator on
//! specs/nb201.nas, in memory and with the SQLite store; and the NB201 table load time.
//!
//!     cargo run --release -p nasc-runtime --example overhead [-- TRIALS_MEM TRIALS_SQLITE]
use nasc_runtime::eval::{self, nb201::Nb201Data};
use nasc_runtime::store::{spec_hash, MemStore, RunMeta, SqliteStore, Store};
use nasc_runtime::{strategy, Budget, RunConfig, Runner, SearchSpace};
use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n_mem = args.first().copied().unwrap_or(5_000_000);
    let n_sql = args.get(1).copied().unwrap_or(500_000);
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/nb201.nas");

    let t = Instant::now();
    let data = Nb201Data::load();
    let load = t.elapsed();
    println!(
        "NB201 table: {} rows, first load {:.3} ms (index of arch 0: {:?})",
        data.table.rows,
        load.as_secs_f64() * 1e3,
        data.index_of("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
    );

    let (space, text) = nasc_runtime::spec::compile_file(&spec, &[]).expect("nb201.nas compiles");
    let space = SearchSpace::new(space, Vec::new()).unwrap();
    for strat in ["rs", "re"] {
        let mut store = MemStore::default();
        let mut cfg = RunConfig::new(0, Budget::Trials(n_mem));
        cfg.space_metrics = false;
        let s = strategy::make(strat, &serde_json::Value::Null, 0).unwrap();
        let e = eval::make("instant", &space).unwrap();
        let mut r = Runner::new(&space, s, e, &mut store, cfg);
        let t = Instant::now();
        let sum = r.run().unwrap();
        let dt = t.elapsed().as_secs_f64();
        println!("in memory, {strat} + instant: {} trials in {:.3} s = {:.0} trials/s", sum.trials, dt, sum.trials as f64 / dt);
    }
    for strat in ["rs", "re"] {
        let dir = std::env::temp_dir().join(format!("nasc-overhead-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{strat}.db"));
        let _ = std::fs::remove_file(&path);
        let mut cfg = RunConfig::new(0, Budget::Trials(n_sql));
        cfg.space_metrics = false;
        let s = strategy::make(strat, &serde_json::Value::Null, 0).unwrap();
        let e = eval::make("instant", &space).unwrap();
        let meta = RunMeta {
            spec_path: spec.display().to_string(),
            spec_text: text.clone(),
            spec_hash: spec_hash(&text, &[]),
            space: space.name().into(),
            sets: vec![],
            constraints: vec![],
            strategy: strat.into(),
            strategy_config: s.config(),
            evaluator: e.name(),
            seed: 0,
            workers: 1,
            dedup: false,
            budget: cfg.budget,
            metric_names: vec![],
            objectives: None,
        };
        let mut store = SqliteStore::create(&path, &meta).unwrap();
        let t = Instant::now();
        let sum = {
            let st: &mut dyn Store = &mut store;
            let mut r = Runner::new(&space, s, e, st, cfg);
            r.run().unwrap()
        };
        let dt = t.elapsed().as_secs_f64();
        println!(
            "SQLite, {strat} + instant: {} trials in {:.3} s = {:.0} trials/s ({} bytes)",
            sum.trials,
            dt,
            sum.trials as f64 / dt,
            std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    // cost of the pieces
    println!("trial record: {} bytes in memory (plus its heap data)", std::mem::size_of::<nasc_runtime::store::TrialRecord>());
    let mut rng = nasc_compiler::rng::Rng::new(1);
    let cands: Vec<_> = (0..2000).map(|_| space.sample(&mut rng)).collect();
    let t = Instant::now();
    let mut n = 0;
    for c in &cands {
        n += space.key(c).len();
    }
    println!("key: {:.2} us/candidate ({n})", t.elapsed().as_secs_f64() * 1e6 / cands.len() as f64);
    let tr = space.inner().tracer();
    let t = Instant::now();
    for c in &cands {
        n += tr.trace(c).map(|g| g.key()).unwrap_or_default().len();
    }
    println!("key with one tracer: {:.2} us/candidate ({n})", t.elapsed().as_secs_f64() * 1e6 / cands.len() as f64);
    let t = Instant::now();
    for c in &cands {
        n += space.display_name(c).len();
    }
    println!("name: {:.2} us/candidate", t.elapsed().as_secs_f64() * 1e6 / cands.len() as f64);
    let t = Instant::now();
    for c in &cands {
        n += space.metrics(c).len();
    }
    println!("metrics: {:.2} us/candidate ({n})", t.elapsed().as_secs_f64() * 1e6 / cands.len() as f64);
}

#![allow(dead_code)]
use nasc_runtime::eval;
use nasc_runtime::space::parse_constraint;
use nasc_runtime::store::{spec_hash, MemStore, RunMeta, SqliteStore, Store, StoredRun};
use nasc_runtime::{strategy, Budget, RunConfig, Runner, SearchSpace, Summary};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn spec_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs").join(name)
}

pub fn space(name: &str, constraints: &[&str]) -> (SearchSpace, String) {
    let (space, text) = nasc_runtime::spec::compile_file(&spec_path(name), &[]).expect("spec compiles");
    let exprs = constraints.iter().map(|c| parse_constraint(c).unwrap()).collect();
    (SearchSpace::new(space, exprs).unwrap(), text)
}

/// One run's configuration.
#[derive(Clone)]
pub struct Setup {
    pub spec: &'static str,
    pub strategy: &'static str,
    pub strategy_config: Value,
    pub evaluator: String,
    pub constraints: Vec<&'static str>,
    pub cfg: RunConfig,
}

impl Setup {
    pub fn new(spec: &'static str, strategy: &'static str, evaluator: &str, seed: u64, budget: Budget) -> Self {
        Setup { spec, strategy, strategy_config: Value::Null, evaluator: evaluator.into(), constraints: vec![], cfg: RunConfig::new(seed, budget) }
    }

    pub fn meta(&self, space: &SearchSpace, text: &str) -> RunMeta {
        let ev = eval::make(&self.evaluator, space).unwrap();
        let s = strategy::make(self.strategy, &self.strategy_config, self.cfg.seed).unwrap();
        let mut metric_names: Vec<String> = if self.cfg.space_metrics { space.metric_names().to_vec() } else { vec![] };
        metric_names.extend(ev.metric_names());
        RunMeta {
            spec_path: self.spec.into(),
            spec_text: text.into(),
            spec_hash: spec_hash(text, &[]),
            space: space.name().into(),
            sets: vec![],
            constraints: self.constraints.iter().map(|c| c.to_string()).collect(),
            strategy: self.strategy.into(),
            strategy_config: s.config(),
            evaluator: ev.name(),
            seed: self.cfg.seed,
            workers: self.cfg.workers,
            dedup: self.cfg.dedup,
            budget: self.cfg.budget,
            metric_names,
            objectives: None,
        }
    }

    pub fn runner<'a>(&self, space: &'a SearchSpace, store: &'a mut dyn Store) -> Runner<'a> {
        let s = strategy::make(self.strategy, &self.strategy_config, self.cfg.seed).unwrap();
        let e = eval::make(&self.evaluator, space).unwrap();
        Runner::new(space, s, e, store, self.cfg.clone())
    }

    pub fn resume<'a>(&self, space: &'a SearchSpace, store: &'a mut dyn Store, run: &StoredRun) -> Runner<'a> {
        let s = strategy::make(&run.meta.strategy, &run.meta.strategy_config, run.meta.seed).unwrap();
        let e = eval::make(&run.meta.evaluator, space).unwrap();
        Runner::resume(space, s, e, store, self.cfg.clone(), run).unwrap()
    }

    /// A complete run in memory.
    pub fn run_mem(&self) -> (MemStore, Summary) {
        let (space, _) = space(self.spec, &self.constraints);
        let mut store = MemStore::default();
        let sum = self.runner(&space, &mut store).run().unwrap();
        (store, sum)
    }

    /// A complete run into a new SQLite file.
    pub fn run_sqlite(&self, path: &Path) -> (StoredRun, Summary) {
        let (space, text) = space(self.spec, &self.constraints);
        let mut store = SqliteStore::create(path, &self.meta(&space, &text)).unwrap();
        let sum = self.runner(&space, &mut store).run().unwrap();
        drop(store);
        (SqliteStore::read(path).unwrap(), sum)
    }
}

/// Assert two trial sequences are identical, printing only the first difference.
pub fn assert_same(a: &StoredRun, b: &StoredRun, ctx: &str) {
    let (x, y) = (sequence(a), sequence(b));
    if let Some(i) = (0..x.len().min(y.len())).find(|&i| x[i] != y[i]) {
        panic!("{ctx}: trial sequences differ at {i}:\n  {:?}\n  {:?}", x[i], y[i]);
    }
    assert_eq!(x.len(), y.len(), "{ctx}: lengths differ");
}

/// A trial as compared between runs: id, seq, name, reward, reported, sim start and end, key.
pub type TrialRow = (u64, u64, String, Option<f64>, Option<f64>, f64, f64, Option<String>);

/// The trial sequence: what must be identical between runs.
pub fn sequence(run: &StoredRun) -> Vec<TrialRow> {
    run.trials.iter().map(|t| (t.id, t.seq, t.name.clone(), t.reward, t.reported, t.sim_start, t.sim_end, t.key.clone())).collect()
}

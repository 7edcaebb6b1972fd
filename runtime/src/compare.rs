//! Comparing strategies: every strategy × seed runs into its own SQLite store under one folder
//! (so nothing computed is lost and a compare that was stopped continues where it was), then the
//! runs are summarized as a paper-style table (mean ± sd of the best trial's reward and reported
//! value), JSON, and a best-so-far-vs-budget plot with one mean curve per strategy.
//!
//! With [`CompareConfig::db`] the runs live in a PostgreSQL database instead, one run each,
//! named `PREFIX/STRATEGY-sSEED` ([`run_name`]): this process works on each with
//! `workers` real threads, and `nasc worker` processes on other machines may join any of them.
//!
//! Reusing stores: a store that already exists for (strategy, seed) is reused when it was made
//! from the same spec, evaluator, constraints, strategy config, workers, dedup and budget: a
//! finished one is read back, an interrupted one is resumed. A store made differently is an
//! error (the caller chooses another folder or asks for `fresh`).
use crate::budget::Budget;
use crate::error::RunError;
use crate::eval;
use crate::runner::{RunConfig, Runner, StopReason};
use crate::space::SearchSpace;
use crate::store::pg::{self, Conn, LeaseConfig, PgError};
use crate::store::{RunMeta, RunStatus, SqliteStore, Store, StoreError, StoredRun};
use crate::strategy;
use crate::svg::{self, Series};
use crate::worker::{self, WorkError, WorkOptions};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

/// What to compare.
#[derive(Debug, Clone)]
pub struct CompareConfig {
    /// (strategy short name, its JSON config; null = defaults).
    pub strategies: Vec<(String, Value)>,
    pub seeds: Vec<u64>,
    pub budget: Budget,
    pub evaluator: String,
    pub workers: usize,
    pub dedup: bool,
    /// Folder of the per-run stores.
    pub out_dir: PathBuf,
    /// Delete existing stores instead of reusing them.
    pub fresh: bool,
    /// Spec identity, as in every run's metadata.
    pub spec_path: String,
    pub spec_text: String,
    pub spec_hash: String,
    pub sets: Vec<(String, String)>,
    pub constraints: Vec<String>,
    /// Keep the runs in this PostgreSQL database instead of SQLite stores under `out_dir`.
    pub db: Option<CompareDb>,
}

/// Where a comparison keeps its runs in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct CompareDb {
    pub url: String,
    /// Runs are named `PREFIX/STRATEGY-sSEED`.
    pub prefix: String,
}

/// The name of the run of (strategy, seed) in a database comparison.
pub fn run_name(prefix: &str, strategy: &str, seed: u64) -> String {
    format!("{prefix}/{strategy}-s{seed}")
}

/// The best trial of one seed's run and its best-so-far curve.
#[derive(Debug, Clone)]
pub struct SeedResult {
    pub seed: u64,
    pub store: PathBuf,
    pub status: String,
    pub trials: usize,
    pub failed: usize,
    /// Best trial (highest reward, earliest on ties): name, reward, reported.
    pub best: Option<(String, f64, Option<f64>)>,
    /// (budget used, best reward so far, reported value of that best) at each improvement.
    pub curve: Vec<(f64, f64, Option<f64>)>,
    pub wall: f64,
    /// Whether the run was read back from an existing store rather than run now.
    pub reused: bool,
}

#[derive(Debug, Clone)]
pub struct StrategyResult {
    pub name: String,
    pub config: Value,
    pub seeds: Vec<SeedResult>,
}

/// Mean and sample standard deviation (0 for one value; NaN for none).
pub fn mean_sd(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (m, var.sqrt())
}

impl StrategyResult {
    pub fn rewards(&self) -> Vec<f64> {
        self.seeds.iter().filter_map(|s| s.best.as_ref().map(|b| b.1)).collect()
    }
    pub fn reported(&self) -> Vec<f64> {
        self.seeds.iter().filter_map(|s| s.best.as_ref().and_then(|b| b.2)).collect()
    }
}

/// Where the store of (strategy, seed) lives.
pub fn store_path(dir: &Path, strategy: &str, seed: u64) -> PathBuf {
    dir.join(format!("{strategy}-s{seed}.db"))
}

/// Why a comparison cannot be run (or go on).
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error(transparent)]
    Strategy(#[from] strategy::ConfigError),
    /// The caller's evaluator factory's text.
    #[error("{0}")]
    Evaluator(String),
    #[error("cannot create `{}`: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot remove `{}`: {source}", .path.display())]
    Remove {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A store that holds a run made differently (`diffs`: what differs).
    #[error("`{}` holds a run made differently ({}); pass --fresh to redo it or choose another --out", .path.display(), .diffs.join(", "))]
    Differs { path: PathBuf, diffs: Vec<String> },
    /// A database run that was made differently.
    #[error("run `{run}` in `{url}` was made differently ({}); pass --fresh to redo it or choose another --run prefix", .diffs.join(", "))]
    DiffersRun { run: String, url: String, diffs: Vec<String> },
    /// Simulated seconds cannot be a budget in a database run.
    #[error("evaluator `{0}` budgets simulated seconds, which have no meaning across machines: a comparison in PostgreSQL needs a budget in trials (`--budget N`)")]
    SimulatedTime(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error(transparent)]
    Work(#[from] WorkError),
}

impl From<crate::error::StrategyError> for CompareError {
    fn from(e: crate::error::StrategyError) -> Self {
        CompareError::Strategy(e.into())
    }
}

impl From<CompareError> for String {
    fn from(e: CompareError) -> String {
        e.to_string()
    }
}

/// What differs between two runs' settings (empty: the same run).
fn differences(a: &RunMeta, b: &RunMeta) -> Vec<String> {
    let mut diffs = Vec::new();
    if a.spec_hash != b.spec_hash {
        diffs.push("spec".to_string());
    }
    if a.evaluator != b.evaluator {
        diffs.push(format!("evaluator `{}` vs `{}`", a.evaluator, b.evaluator));
    }
    if a.constraints != b.constraints {
        diffs.push(format!("constraints {:?} vs {:?}", a.constraints, b.constraints));
    }
    if a.strategy_config != b.strategy_config {
        diffs.push(format!("strategy config `{}` vs `{}`", a.strategy_config, b.strategy_config));
    }
    if a.workers != b.workers || a.dedup != b.dedup {
        diffs.push("workers/dedup".into());
    }
    if a.budget != b.budget {
        diffs.push(format!("budget {} vs {}", a.budget, b.budget));
    }
    diffs
}

fn seed_result(run: &StoredRun, store: PathBuf, budget: Budget, wall: f64, reused: bool) -> SeedResult {
    let mut trials: Vec<_> = run.trials.iter().collect();
    trials.sort_by_key(|t| t.seq);
    let mut best: Option<(String, f64, Option<f64>)> = None;
    let mut curve = Vec::new();
    let mut failed = 0;
    for t in &trials {
        let Some(r) = t.reward else {
            failed += 1;
            continue;
        };
        if best.as_ref().is_none_or(|b| r > b.1) {
            best = Some((t.name.clone(), r, t.reported));
            let x = match budget {
                Budget::Trials(_) => (t.seq + 1) as f64,
                Budget::Time(_) => t.sim_end,
            };
            curve.push((x, r, t.reported));
        }
    }
    SeedResult { seed: run.meta.seed, store, status: run.status.clone(), trials: trials.len(), failed, best, curve, wall, reused }
}

/// Run (or reuse) every strategy × seed. `progress` is called after each run with
/// (strategy, seed, result). `stop` interrupts the current run cleanly (its store keeps what
/// was done; the compare can continue later).
/// `make_eval` builds an evaluator from its name (the runner passes one that also knows the
/// trainer; `eval::make` knows the tabular ones).
pub fn run(
    space: &SearchSpace,
    cfg: &CompareConfig,
    stop: Option<Arc<AtomicBool>>,
    make_eval: impl Fn(&str, &SearchSpace) -> Result<Box<dyn eval::Evaluator>, String> + Sync,
    mut progress: impl FnMut(&str, &SeedResult),
) -> Result<(Vec<StrategyResult>, bool), CompareError> {
    // bad names and configs fail before any run; runs record the resolved config (defaults
    // filled in)
    let mut resolved = Vec::new();
    for (name, config) in &cfg.strategies {
        let short = strategy::canonical(name)?;
        resolved.push((short, strategy::make(short, config, 0)?.config()));
    }
    make_eval(&cfg.evaluator, space).map_err(CompareError::Evaluator)?;
    if let Some(db) = &cfg.db {
        if let (Budget::Time(_), false) = (cfg.budget, eval::wall_clock(&cfg.evaluator)) {
            return Err(CompareError::SimulatedTime(cfg.evaluator.clone()));
        }
        for (short, _) in &resolved {
            for &seed in &cfg.seeds {
                pg::check_run_name(&run_name(&db.prefix, short, seed))?;
            }
        }
        // reachable (and the schema current) before the first run
        Conn::open(&db.url)?;
    } else {
        std::fs::create_dir_all(&cfg.out_dir).map_err(|source| CompareError::CreateDir { path: cfg.out_dir.clone(), source })?;
    }
    let mut out = Vec::new();
    let mut interrupted = false;
    for (short, config) in &resolved {
        let short: &str = short;
        let mut res = StrategyResult { name: short.to_string(), config: config.clone(), seeds: Vec::new() };
        for &seed in &cfg.seeds {
            if interrupted {
                break;
            }
            let ev = make_eval(&cfg.evaluator, space).map_err(CompareError::Evaluator)?;
            let mut metric_names: Vec<String> = space.metric_names().to_vec();
            metric_names.extend(ev.metric_names());
            let meta = RunMeta {
                spec_path: cfg.spec_path.clone(),
                spec_text: cfg.spec_text.clone(),
                spec_hash: cfg.spec_hash.clone(),
                space: space.name().to_string(),
                sets: cfg.sets.clone(),
                constraints: cfg.constraints.clone(),
                strategy: short.to_string(),
                strategy_config: config.clone(),
                evaluator: ev.name(),
                seed,
                workers: cfg.workers,
                dedup: cfg.dedup,
                budget: cfg.budget,
                metric_names,
                objectives: None,
            };
            if let Some(db) = &cfg.db {
                let make = || make_eval(&cfg.evaluator, space);
                let (r, stopped) = pg_seed(space, cfg, db, (short, config), &meta, stop.clone(), &make)?;
                interrupted |= stopped;
                progress(short, &r);
                res.seeds.push(r);
                continue;
            }
            let path = store_path(&cfg.out_dir, short, seed);
            if cfg.fresh && path.exists() {
                for suffix in ["", "-wal", "-shm"] {
                    let p = PathBuf::from(format!("{}{suffix}", path.display()));
                    if p.exists() {
                        std::fs::remove_file(&p).map_err(|source| CompareError::Remove { path: p.clone(), source })?;
                    }
                }
            }
            let (mut store, resumed) = if path.exists() {
                let stored = SqliteStore::read(&path)?;
                let diffs = differences(&stored.meta, &meta);
                if !diffs.is_empty() {
                    return Err(CompareError::Differs { path, diffs });
                }
                if stored.status == "finished" || stored.status == "exhausted" {
                    let r = seed_result(&stored, path.clone(), cfg.budget, 0.0, true);
                    progress(short, &r);
                    res.seeds.push(r);
                    continue;
                }
                let (s, run) = SqliteStore::resume(&path, &cfg.spec_hash)?;
                (s, Some(run))
            } else {
                (SqliteStore::create(&path, &meta)?, None)
            };
            if resumed.is_some() {
                store.set_status(RunStatus::Running)?;
            }
            let strat = strategy::make(short, config, seed)?;
            let mut rc = RunConfig::new(seed, cfg.budget);
            rc.workers = cfg.workers;
            rc.dedup = cfg.dedup;
            let summary = {
                let st: &mut dyn Store = &mut store;
                let mut runner = match &resumed {
                    Some(run) => Runner::resume(space, strat, ev, st, rc, run)?,
                    None => Runner::new(space, strat, ev, st, rc),
                };
                if let Some(flag) = &stop {
                    let inner = runner.stop_flag();
                    let outer = flag.clone();
                    runner.on_commit(move |_| {
                        if outer.load(std::sync::atomic::Ordering::SeqCst) {
                            inner.store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                    });
                }
                runner.run()?
            };
            if summary.reason == StopReason::Interrupted {
                interrupted = true;
            }
            let stored = SqliteStore::read(&path)?;
            let r = seed_result(&stored, path.clone(), cfg.budget, summary.wall, false);
            progress(short, &r);
            res.seeds.push(r);
        }
        out.push(res);
        if interrupted {
            break;
        }
    }
    Ok((out, interrupted))
}

/// One (strategy, seed) run in a PostgreSQL database: read back when it is finished, continued
/// when not, created otherwise; this process works on it with `cfg.workers` threads (`nasc
/// worker` processes may join it). Returns the seed's result and whether the stop flag ended it.
fn pg_seed(
    space: &SearchSpace,
    cfg: &CompareConfig,
    db: &CompareDb,
    (short, config): (&str, &Value),
    meta: &RunMeta,
    stop: Option<Arc<AtomicBool>>,
    make: &eval::EvalFactory,
) -> Result<(SeedResult, bool), CompareError> {
    let run = run_name(&db.prefix, short, meta.seed);
    let mut conn = Conn::open(&db.url)?;
    if cfg.fresh {
        pg::delete_run(&mut conn, &run)?;
    }
    let store = PathBuf::from(format!("{}#{run}", db.url));
    match pg::run_meta(&mut conn, &run) {
        Ok((stored, status, _)) => {
            let diffs = differences(&stored, meta);
            if !diffs.is_empty() {
                return Err(CompareError::DiffersRun { run, url: db.url.clone(), diffs });
            }
            if status == "finished" || status == "exhausted" {
                return Ok((seed_result(&pg::read_run(&mut conn, &run)?, store, cfg.budget, 0.0, true), false));
            }
            pg::resume_run(&mut conn, &run, &cfg.spec_hash, None)?;
        }
        Err(PgError::NoRun { .. }) => {
            let state = strategy::make(short, config, meta.seed)?.state();
            pg::create_run(&mut conn, &run, meta, LeaseConfig::default(), None, &state, None)?;
        }
        Err(e) => return Err(e.into()),
    }
    let started = Instant::now();
    let mut opts = WorkOptions::new(cfg.workers, stop.unwrap_or_default());
    opts.verbose = false;
    let summary = worker::work(&db.url, &run, space, meta, make, &opts)?;
    let r = seed_result(&pg::read_run(&mut conn, &run)?, store, cfg.budget, started.elapsed().as_secs_f64(), false);
    Ok((r, summary.interrupted))
}

fn pm(v: &[f64], scale: f64) -> String {
    let (m, s) = mean_sd(v);
    if m.is_nan() {
        "-".into()
    } else {
        format!("{:.2} ± {:.2}", m * scale, s * scale)
    }
}

/// Whether values look like fractions (accuracies in [0, 1]), to print them as percentages.
fn scale_of(results: &[StrategyResult]) -> f64 {
    let all: Vec<f64> = results.iter().flat_map(|r| r.rewards().into_iter().chain(r.reported())).collect();
    if !all.is_empty() && all.iter().all(|v| (0.0..=1.0).contains(v)) {
        100.0
    } else {
        1.0
    }
}

/// The paper-style table: one row per strategy, mean ± sd over seeds of the best trial's
/// reward and reported value (as percentages when they are fractions).
pub fn table(results: &[StrategyResult]) -> String {
    let scale = scale_of(results);
    let unit = if scale == 100.0 { " (%)" } else { "" };
    let rows: Vec<[String; 5]> = results
        .iter()
        .map(|r| {
            let trials: Vec<f64> = r.seeds.iter().map(|s| s.trials as f64).collect();
            [r.name.clone(), r.seeds.len().to_string(), pm(&r.rewards(), scale), pm(&r.reported(), scale), format!("{:.0}", mean_sd(&trials).0)]
        })
        .collect();
    let head = ["strategy".to_string(), "seeds".into(), format!("reward{unit}"), format!("reported{unit}"), "trials".into()];
    let mut w = head.clone().map(|h| h.chars().count());
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String; 5]| {
        cells.iter().enumerate().map(|(i, c)| format!("{c}{}", " ".repeat(w[i] - c.chars().count()))).collect::<Vec<_>>().join("  ").trim_end().to_string() + "\n"
    };
    let mut s = line(&head);
    s.push_str(&line(&w.map(|n| "-".repeat(n))));
    for r in &rows {
        s.push_str(&line(r));
    }
    s
}

/// JSON: per strategy, mean and sd of the reward and the reported value, and each seed's best.
pub fn json(results: &[StrategyResult], budget: Budget) -> Value {
    let strategies: Vec<Value> = results
        .iter()
        .map(|r| {
            let (rm, rs) = mean_sd(&r.rewards());
            let (pm, ps) = mean_sd(&r.reported());
            let num = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
            json!({
                "strategy": r.name,
                "config": r.config,
                "reward": {"mean": num(rm), "sd": num(rs)},
                "reported": {"mean": num(pm), "sd": num(ps)},
                "seeds": r.seeds.iter().map(|s| json!({
                    "seed": s.seed,
                    "store": s.store.display().to_string(),
                    "status": s.status,
                    "trials": s.trials,
                    "failed": s.failed,
                    "best": s.best.as_ref().map(|b| json!({"candidate": b.0, "reward": b.1, "reported": b.2})),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"budget": budget.to_string(), "strategies": strategies})
}

/// Mean best-so-far reward over seeds at `points` budget values from 0 to the budget's end
/// (a seed counts from its first trial on).
pub fn mean_curve(r: &StrategyResult, end: f64, points: usize) -> Vec<(f64, f64)> {
    mean_sd_curve(r, end, points).into_iter().map(|(x, m, _)| (x, m)).collect()
}

/// Mean and sample sd of the best-so-far reward over seeds at `points` budget values.
pub fn mean_sd_curve(r: &StrategyResult, end: f64, points: usize) -> Vec<(f64, f64, f64)> {
    let mut out = Vec::new();
    for i in 1..=points {
        let x = end * i as f64 / points as f64;
        let ys: Vec<f64> = r.seeds.iter().filter_map(|s| s.curve.iter().take_while(|p| p.0 <= x).last().map(|p| p.1)).collect();
        if ys.len() == r.seeds.len() && !ys.is_empty() {
            let (m, sd) = mean_sd(&ys);
            out.push((x, m, sd));
        }
    }
    out
}

const COLORS: &[&str] = &["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

/// The y-range that shows the differences between strategies: from the lowest mean (minus sd)
/// once a tenth of the budget is spent (the first trials of a weak strategy would squeeze the
/// others together) to the highest mean plus sd.
pub fn compare_y_range(curves: &[Vec<(f64, f64, f64)>], end: f64) -> Option<(f64, f64)> {
    let late = curves.iter().flatten().filter(|p| p.0 >= 0.1 * end);
    let lo = late.clone().map(|p| p.1 - p.2).fold(f64::INFINITY, f64::min);
    let hi = curves.iter().flatten().map(|p| p.1 + p.2).fold(f64::NEG_INFINITY, f64::max);
    (lo.is_finite() && hi.is_finite() && lo < hi).then_some((lo, hi))
}

/// SVG of the mean best-so-far reward against the budget, one line per strategy with a
/// mean ± sd band.
pub fn plot(results: &[StrategyResult], budget: Budget, title: &str) -> String {
    // the x axis ends where the budget ends (or where the longest run stopped, if earlier)
    let end = match budget {
        Budget::Trials(n) => results.iter().flat_map(|r| r.seeds.iter().map(|s| s.trials as f64)).fold(0.0, f64::max).min(n as f64),
        Budget::Time(t) => t,
    }
    .max(1.0);
    let curves: Vec<Vec<(f64, f64, f64)>> = results.iter().map(|r| mean_sd_curve(r, end, 200)).collect();
    let series: Vec<Series> = results
        .iter()
        .zip(&curves)
        .enumerate()
        .map(|(i, (r, c))| {
            let band = c.iter().map(|(x, m, sd)| (*x, m - sd, m + sd)).collect();
            Series::step(format!("{} ({} seeds)", r.name, r.seeds.len()), c.iter().map(|(x, m, _)| (*x, *m)).collect(), COLORS[i % COLORS.len()]).with_band(band)
        })
        .collect();
    let xlabel = match budget {
        Budget::Trials(_) => "trials",
        Budget::Time(_) => "simulated seconds",
    };
    svg::chart_in(title, xlabel, "mean best reward so far (± sd)", &series, compare_y_range(&curves, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(curve: Vec<(f64, f64)>, trials: usize) -> SeedResult {
        SeedResult {
            seed: 0,
            store: PathBuf::new(),
            status: "finished".into(),
            trials,
            failed: 0,
            best: curve.last().map(|p| ("x".into(), p.1, None)),
            curve: curve.into_iter().map(|(x, y)| (x, y, None)).collect(),
            wall: 0.0,
            reused: false,
        }
    }

    #[test]
    fn mean_sd_is_the_sample_sd() {
        let (m, s) = mean_sd(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, 2.5);
        assert!((s - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_sd(&[7.0]), (7.0, 0.0));
        assert!(mean_sd(&[]).0.is_nan());
    }

    #[test]
    fn mean_curve_averages_step_functions_once_every_seed_started() {
        let r = StrategyResult { name: "rs".into(), config: Value::Null, seeds: vec![seed(vec![(1.0, 10.0), (3.0, 20.0)], 4), seed(vec![(2.0, 12.0)], 4)] };
        // at x=1 the second seed has no trial yet: no point
        assert_eq!(mean_curve(&r, 4.0, 4), vec![(2.0, 11.0), (3.0, 16.0), (4.0, 16.0)]);
    }

    #[test]
    fn the_compare_y_range_ignores_the_first_tenth_of_the_budget() {
        let weak_start = vec![(1.0, 10.0, 0.0), (50.0, 90.0, 1.0), (100.0, 93.0, 0.5)];
        let other = vec![(1.0, 80.0, 0.0), (50.0, 91.0, 0.5), (100.0, 94.0, 0.2)];
        let (lo, hi) = compare_y_range(&[weak_start, other], 100.0).unwrap();
        assert_eq!((lo, hi), (89.0, 94.2));
    }

    #[test]
    fn table_prints_mean_and_sd() {
        let r = StrategyResult { name: "re".into(), config: Value::Null, seeds: vec![seed(vec![(1.0, 90.0)], 1), seed(vec![(1.0, 92.0)], 1)] };
        let t = table(&[r]);
        assert!(t.contains("re        2      91.00 ± 1.41"), "{t}");
    }
}

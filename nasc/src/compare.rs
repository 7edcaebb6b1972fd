//! `nasc compare`: run several strategies over several seeds on one spec and evaluator, print the
//! paper-style table (mean ± sd) and write a best-so-far-vs-budget plot with every strategy.
use crate::error::CliError;
use crate::Format;
use nasc_runtime::compare::{self, CompareConfig, CompareDb};
use nasc_runtime::store::pg;
use nasc_runtime::store::spec_hash;
use nasc_runtime::strategy;
use nasc_runtime::Budget;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(clap::Args)]
pub struct CompareArgs {
    /// The spec file.
    pub file: String,
    /// Comma-separated strategies (default: all of them).
    #[arg(long, value_delimiter = ',')]
    pub strategies: Vec<String>,
    /// Seeds per strategy: runs use seeds 0..N (default 10).
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    /// Budget in trials, per run.
    #[arg(long, conflicts_with = "time_budget")]
    pub budget: Option<u64>,
    /// Budget in simulated seconds, per run.
    #[arg(long, value_name = "SECONDS")]
    pub time_budget: Option<f64>,
    /// Evaluator, `NAME[:KEY=VALUE,...]` (default: the spec's benchmark).
    #[arg(long)]
    pub evaluator: Option<String>,
    /// An extra constraint every strategy searches under, e.g. `flops<=120M` (repeatable).
    #[arg(long = "constraint", value_name = "EXPR")]
    pub constraints: Vec<String>,
    /// One strategy's hyper-parameters: `NAME=JSON`, e.g. `re={"sample_size":10}` (repeatable).
    #[arg(long = "strategy-config", value_name = "NAME=JSON")]
    pub strategy_configs: Vec<String>,
    /// Simulated parallel workers per run (default 1); with `--store postgresql://...`, real
    /// worker threads.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Skip candidates equivalent to one already asked.
    #[arg(long)]
    pub dedup: bool,
    /// Folder of the per-run stores (default `nasc-runs/compare-SPACE`). Finished runs found
    /// there are reused, interrupted ones resumed.
    #[arg(long)]
    pub out: Option<String>,
    /// Keep the runs in a PostgreSQL database (`postgresql://USER@HOST:PORT/DB`) instead of
    /// SQLite stores: run `PREFIX/STRATEGY-sSEED` each, which `nasc worker` processes may join;
    /// `--workers` are then real worker threads. Finished runs are reused, others continued.
    #[arg(long, value_name = "URL", conflicts_with = "out")]
    pub store: Option<String>,
    /// The runs' name prefix in the database (default `compare-SPACE`).
    #[arg(long, value_name = "PREFIX", requires = "store")]
    pub run: Option<String>,
    /// Redo runs whose stores exist instead of reusing them.
    #[arg(long)]
    pub fresh: bool,
    /// Where to write the best-so-far-vs-budget SVG (default OUT/best_vs_budget.svg).
    #[arg(long)]
    pub plot: Option<String>,
    /// No per-run progress lines.
    #[arg(long)]
    pub quiet: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn compare_cmd(a: CompareArgs, sets: &[(String, String)]) -> u8 {
    match run(a, sets) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn strategy_list(a: &CompareArgs) -> Result<Vec<(String, Value)>, CliError> {
    let names: Vec<String> = if a.strategies.is_empty() { strategy::KNOWN.iter().map(|(s, _)| s.to_string()).collect() } else { a.strategies.clone() };
    let mut configs: Vec<(&'static str, Value)> = Vec::new();
    for sc in &a.strategy_configs {
        let (n, j) = sc.split_once('=').ok_or_else(|| CliError::CompareConfigSyntax { given: sc.clone() })?;
        let short = strategy::canonical(n)?;
        let v: Value = serde_json::from_str(j).map_err(|source| CliError::StrategyConfigJson { text: sc.clone(), source })?;
        configs.push((short, v));
    }
    let mut out: Vec<(String, Value)> = Vec::new();
    for n in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let short = strategy::canonical(n)?;
        if out.iter().any(|(s, _)| s == short) {
            return Err(CliError::StrategyTwice { name: n.to_string() });
        }
        let cfg = configs.iter().rev().find(|(s, _)| *s == short).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
        out.push((short.to_string(), cfg));
    }
    if out.is_empty() {
        return Err(CliError::NoStrategies);
    }
    if let Some((s, _)) = configs.iter().find(|(s, _)| !out.iter().any(|(o, _)| o == s)) {
        return Err(CliError::ConfigNotCompared { strategy: s.to_string() });
    }
    Ok(out)
}

fn run(a: CompareArgs, sets: &[(String, String)]) -> Result<u8, CliError> {
    let space = match crate::commands::open(&a.file, sets) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let text = crate::zoo::read(&a.file)?;
    if a.seeds == 0 {
        return Err(CliError::NoSeeds);
    }
    if a.workers == 0 {
        return Err(CliError::NoWorkers);
    }
    let strategies = strategy_list(&a)?;
    let space = crate::search::constraint_space(space, &a.constraints, true)?;
    let evaluator = crate::search::evaluator_or_default(a.evaluator.as_ref(), &space)?;
    let ev = crate::train_eval::make(&evaluator, &space)?;
    let budget = match (a.budget, a.time_budget) {
        (Some(0), _) => return Err(CliError::NoBudget),
        (Some(n), _) => Budget::Trials(n),
        (_, Some(t)) if t > 0.0 && t.is_finite() => Budget::Time(t),
        (_, Some(seconds)) => return Err(CliError::TimeBudget { seconds }),
        _ => ev.default_budget(),
    };
    let default_name = format!("compare-{}", space.name());
    let db = match &a.store {
        Some(url) if pg::is_url(url) => Some(CompareDb { url: url.clone(), prefix: a.run.clone().unwrap_or_else(|| default_name.clone()) }),
        Some(url) => return Err(CliError::NotPgUrl { url: url.clone() }),
        None => None,
    };
    // a database comparison's plot goes in the working folder's `nasc-runs/PREFIX`
    let out_dir = match (&a.out, &db) {
        (Some(o), _) => PathBuf::from(o),
        (None, Some(d)) => PathBuf::from("nasc-runs").join(crate::worker::file_safe(&d.prefix)),
        (None, None) => PathBuf::from("nasc-runs").join(&default_name),
    };
    if db.is_some() {
        std::fs::create_dir_all(&out_dir).map_err(|source| CliError::Create { path: out_dir.clone(), source })?;
    }
    // where the runs are kept
    let kept = match &db {
        Some(d) => format!("runs `{}/*` in {}", d.prefix, d.url),
        None => out_dir.display().to_string(),
    };
    let place = if db.is_some() { kept.clone() } else { format!("stores in {kept}") };
    let cfg = CompareConfig {
        strategies,
        seeds: (0..a.seeds).collect(),
        budget,
        evaluator: ev.name(),
        workers: a.workers,
        dedup: a.dedup,
        out_dir: out_dir.clone(),
        fresh: a.fresh,
        spec_path: a.file.clone(),
        spec_text: text.clone(),
        spec_hash: spec_hash(&text, sets),
        sets: sets.to_vec(),
        constraints: a.constraints.clone(),
        db: db.clone(),
    };
    if !a.quiet {
        eprintln!(
            "{}: {} × {} seeds with {}, budget {} per run, {place}",
            a.file,
            cfg.strategies.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join(","),
            a.seeds,
            cfg.evaluator,
            budget,
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let quiet = a.quiet;
    // (a factory's failure is a trial's: a text)
    let make_eval = |e: &str, s: &nasc_runtime::SearchSpace| crate::train_eval::make(e, s).map_err(|e| e.to_string());
    let (results, interrupted) = compare::run(&space, &cfg, Some(stop), make_eval, |name, r| {
        if !quiet {
            let best =
                r.best.as_ref().map_or("no successful trial".to_string(), |b| format!("best reward {:.4}{}", b.1, b.2.map_or(String::new(), |p| format!(", reported {p:.4}"))));
            let how = if r.reused { "reused".to_string() } else { format!("{:.2} s", r.wall) };
            eprintln!("  {name} seed {}: {best} ({} trials, {how})", r.seed, r.trials);
        }
    })?;
    let plot_path = a.plot.clone().map(PathBuf::from).unwrap_or_else(|| out_dir.join("best_vs_budget.svg"));
    let title = format!("{}: {} ({} seeds)", space.name(), cfg.evaluator, a.seeds);
    std::fs::write(&plot_path, compare::plot(&results, budget, &title)).map_err(|source| CliError::Write { path: plot_path.clone(), source })?;
    match a.format {
        Format::Text => {
            println!("{} with {}, budget {} per run, {} seeds", space.name(), cfg.evaluator, budget, a.seeds);
            print!("{}", compare::table(&results));
            println!("plot: {}", plot_path.display());
        }
        Format::Json => {
            let mut j = compare::json(&results, budget);
            if let Some(o) = j.as_object_mut() {
                o.insert("evaluator".into(), Value::String(cfg.evaluator.clone()));
                o.insert("plot".into(), Value::String(plot_path.display().to_string()));
                o.insert("interrupted".into(), Value::Bool(interrupted));
            }
            println!("{}", serde_json::to_string_pretty(&j).unwrap_or_default());
        }
    }
    if interrupted {
        eprintln!("interrupted: the finished runs are kept in {kept}; run the same command again to continue");
        return Ok(130);
    }
    Ok(0)
}

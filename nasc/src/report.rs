//! `nasc report`: summarize a stored run (text or JSON) and write SVG plots. Each shown trial
//! comes with its seed and the command that evaluates it again outside the search
//! ([`reproducer`]): `nasc train ...` for `train:` runs, the command line with the trial's
//! environment and document for `command:` runs.
use crate::command_eval::{self, split::quote};
use crate::error::CliError;
use crate::Format;
use nasc_runtime::eval;
use nasc_runtime::objective::Objectives;
use nasc_runtime::report::{self, Detail, Gather, Summary};
use nasc_runtime::runner::trial_seed;
use nasc_runtime::store::pg;
use nasc_runtime::store::{SqliteStore, StoredRun, StoredTrial};
use std::path::Path;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The run's SQLite file (written by `nasc search`), or a PostgreSQL store
    /// (`postgresql://USER@HOST:PORT/DB`) with `--run`.
    pub store: String,
    /// The run's name in a PostgreSQL store.
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write SVG plots into this folder: best-so-far vs trials and vs simulated time, and a
    /// Pareto front of reward against each `--pareto` metric.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<String>,
    /// Metric for a Pareto plot (repeatable; default: the run's params/flops/latency metrics).
    /// Needs --plots.
    #[arg(long, value_name = "METRIC", requires = "plots")]
    pub pareto: Vec<String>,
    /// List every trial with its seed, reproduce command, step values and error (JSON:
    /// `all_trials`).
    #[arg(long)]
    pub trials: bool,
    /// The hypervolume reference point of JSON's `hypervolume`, one raw value per objective:
    /// `NAME=VALUE,...`, e.g. `accuracy=80,flops=222.32M` (default: per objective the worst
    /// trial's value, moved 10% of the range further; docs/pareto.md).
    #[arg(long, value_name = "POINT")]
    pub reference: Option<String>,
}

/// A function giving a trial's reproduce command, if the run's evaluator has one.
pub type Reproducer = Box<dyn Fn(&StoredTrial) -> Option<String>>;

/// The `nasc train` flags of a stored `train:` evaluator string (its canonical form: every
/// option known), or None for an option `nasc train` has no flag for.
fn train_flags(evaluator: &str) -> Option<Vec<String>> {
    let (name, opts) = eval::parse_spec(evaluator).ok()?;
    if name != "train" {
        return None;
    }
    let mut f = Vec::new();
    for (k, v) in &opts {
        let flag = match k.as_str() {
            "dataset" | "epochs" | "batch" | "backend" | "optimizer" | "lr" | "limit" => k.clone(),
            "valid_fraction" => "val-fraction".into(),
            "augment" if v == "off" || v == "false" => {
                f.push("--no-augment".to_string());
                continue;
            }
            "augment" => continue,
            _ => return None,
        };
        f.push(format!("--{flag}"));
        f.push(quote(v));
    }
    Some(f)
}

/// How to evaluate a trial of `run` (read from `store`) again:
/// - `train:` runs: `nasc train SPEC --candidate NAME --seed S` with the evaluator's options as
///   flags and the run's `--set` values; S is the trial's seed, what the evaluator trained with,
///   so the CPU backend gives the same accuracies;
/// - `command:` runs: the command line with the trial's environment, its document on stdin.
pub fn reproducer(run: &StoredRun, store: &Path) -> Option<Reproducer> {
    let m = &run.meta;
    let (seed, ev) = (m.seed, m.evaluator.clone());
    if command_eval::is_command(&ev) {
        let (_, text) = command_eval::parse(&ev).ok()?;
        let root = command_eval::trials_dir(store);
        return Some(Box::new(move |t: &StoredTrial| {
            let dir = root.join(t.id.to_string());
            let d = quote(&dir.display().to_string());
            Some(format!("NASC_TRIAL_ID={} NASC_SEED={} NASC_TRIAL_DIR={d} {text} < {}", t.id, trial_seed(seed, t.id), quote(&dir.join("trial.json").display().to_string())))
        }));
    }
    let flags = train_flags(&ev)?;
    let mut tail: Vec<String> = m.sets.iter().map(|(k, v)| format!("--set {}", quote(&format!("{k}={v}")))).collect();
    tail.splice(0..0, flags);
    let spec = quote(&m.spec_path);
    Some(Box::new(move |t: &StoredTrial| Some(format!("nasc train {spec} --candidate {} --seed {} {}", quote(&t.name), trial_seed(seed, t.id), tail.join(" ")))))
}

/// The report's details with `repro`'s commands.
pub fn detail(repro: &Option<Reproducer>, all_trials: bool) -> Detail<'_> {
    Detail { reproduce: repro.as_ref().map(|f| f.as_ref() as &dyn Fn(&StoredTrial) -> Option<String>), all_trials, reference: None }
}

/// Every `--pareto` metric must be one of the run's.
fn check_pareto(names: &[String], pareto: &[String]) -> Result<(), CliError> {
    for m in pareto {
        if !names.contains(m) {
            let suggestion = nasc_grammar::diag::did_you_mean(m, names.iter().map(String::as_str)).map(str::to_string);
            return Err(CliError::ParetoMetric { metric: m.clone(), metrics: names.to_vec(), suggestion });
        }
    }
    Ok(())
}

/// [`read_any`], with the trials summarized one by one instead of kept (a SQLite run is read row
/// by row: memory does not grow with the run); the run comes back without trials.
pub fn scan_any(store: &str, run: Option<&str>, g: &Gather) -> Result<(StoredRun, Summary), CliError> {
    if pg::is_url(store) || run.is_some() {
        // (a PostgreSQL store is read whole, then summarized)
        let mut r = read_any(store, run)?;
        let sum = Summary::of(&r, g);
        r.trials = Vec::new();
        return Ok((r, sum));
    }
    Ok(Summary::scan(Path::new(store), g)?)
}

/// Read a run from a SQLite file, or from a PostgreSQL store by its `--run` name.
pub fn read_any(store: &str, run: Option<&str>) -> Result<StoredRun, CliError> {
    match (pg::is_url(store), run) {
        (true, Some(r)) => Ok(pg::read_run(&mut pg::Conn::open(store)?, r)?),
        (true, None) => {
            let runs = pg::list_runs(&mut pg::Conn::open(store)?)?;
            Err(CliError::ReportRun { runs })
        }
        (false, Some(_)) => Err(CliError::RunOnSqlite),
        (false, None) => Ok(SqliteStore::read(Path::new(store))?),
    }
}

pub fn report(a: ReportArgs) -> u8 {
    let path = Path::new(&a.store);
    // one pass over the trials: memory bounded by what the report shows (every trial only with
    // --trials); the plot metrics are named before the run is read, and checked after
    let g = Gather { all_trials: a.trials, plot_metrics: a.plots.is_some().then(|| a.pareto.clone()) };
    let (run, sum) = match scan_any(&a.store, a.run.as_deref(), &g) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // refuse a bad request before printing anything
    if let Err(e) = check_pareto(&run.meta.metric_names, &a.pareto) {
        eprintln!("error: {e}");
        return 2;
    }
    let reference = match &a.reference {
        Some(t) => match Objectives::of_run(&run.meta).and_then(|o| o.parse_reference(t)) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("error: --reference: {e}");
                return 2;
            }
        },
        None => None,
    };
    let repro = reproducer(&run, path);
    let mut d = detail(&repro, a.trials);
    d.reference = reference;
    match a.format {
        Format::Text => print!("{}", report::text_of(&run, &sum, &d)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report::json_of(&run, &sum, path, &d)).unwrap_or_default()),
    }
    if let Some(dir) = &a.plots {
        match report::plots_of(&run, &sum, Path::new(dir)) {
            Ok(files) => {
                for f in files {
                    eprintln!("wrote {}", f.display());
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn train_options_become_flags() {
        let f = train_flags("train:dataset=digits,epochs=2,batch=32,backend=cpu,valid_fraction=0.1,optimizer=sgd,lr=0.05,limit=300,augment=off").unwrap();
        assert_eq!(f.join(" "), "--no-augment --backend cpu --batch 32 --dataset digits --epochs 2 --limit 300 --lr 0.05 --optimizer sgd --val-fraction 0.1");
        assert_eq!(train_flags("train:dataset=/data/my set").unwrap()[1], "'/data/my set'");
        assert!(train_flags("nb201:dataset=cifar10").is_none());
        assert!(train_flags("train:unknown=1").is_none());
    }
}

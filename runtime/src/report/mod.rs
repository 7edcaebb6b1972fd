//! Reports of a stored run: text for people, JSON for machines, SVG plots.
use crate::budget::Budget;
use crate::error::ObjectiveError;
use crate::objective::Sense;
use crate::runner::trial_seed;
use crate::store::{RunMeta, StoredRun, StoredTrial};
use crate::svg::{chart, Series};
use serde_json::{json, Value};
use std::fmt::Write;
use std::path::{Path, PathBuf};

pub mod front;
pub mod summary;
pub use front::{FrontMember, FrontScan, RunFront};
pub use summary::{Gather, Summary};

/// Why a report (a run's front, its summary, its plots) cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The run's stored objectives cannot be read.
    #[error(transparent)]
    Objectives(#[from] ObjectiveError),
    /// `objectives`: the run's, as `max:NAME`.
    #[error("the reference point has {got} values; the run has {} objectives ({})", .objectives.len(), .objectives.join(", "))]
    ReferenceLength { got: usize, objectives: Vec<String> },
    #[error("the run's summary was gathered without plot data")]
    NoPlotData,
    #[error("cannot create `{}`: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write `{}`: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A `--pareto` metric that no trial has (`metrics`: the run's).
    #[error("no trial has metric `{metric}` (metrics: {})", .metrics.join(", "))]
    NoMetric { metric: String, metrics: Vec<String> },
}

impl From<ReportError> for String {
    fn from(e: ReportError) -> String {
        e.to_string()
    }
}

/// (x, y) points of one plotted series.
type Points = Vec<(f64, f64)>;

/// The best trial of a run read whole: highest score (the reward unless the run has other
/// objectives), earliest on ties.
pub fn best(run: &StoredRun) -> Option<StoredTrial> {
    Summary::of(run, &Gather::default()).best().cloned()
}

/// The top `k` (at most [`summary::TOP`]) trials of a run read whole by score (distinct
/// candidates).
pub fn top(run: &StoredRun, k: usize) -> Vec<StoredTrial> {
    Summary::of(run, &Gather::default()).top(k).into_iter().cloned().collect()
}

fn opt(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.4}"))
}

/// What a report shows beyond the summary. The runner (`nasc report`) knows how to evaluate a
/// trial again outside the search (`nasc train ...` for `train:` runs, the command line for
/// `command:` runs); the runtime does not, so it asks `reproduce`.
/// Builds the command line that evaluates a stored trial again, if there is one.
pub type Reproduce = dyn Fn(&StoredTrial) -> Option<String>;

#[derive(Default)]
pub struct Detail<'a> {
    /// The command line that evaluates a trial again, if the run's evaluator has one.
    pub reproduce: Option<&'a Reproduce>,
    /// List every trial (text and JSON `trials`), not only the best, the top and the failures.
    pub all_trials: bool,
    /// The hypervolume reference point, one raw value per objective (default: see
    /// [`RunFront::of`]).
    pub reference: Option<Vec<f64>>,
}

impl Detail<'_> {
    fn command(&self, t: &StoredTrial) -> Option<String> {
        self.reproduce.and_then(|f| f(t))
    }
}

/// Failed trials shown in a report by default (the latest ones).
const FAILURES_SHOWN: usize = summary::FAILURES_KEPT;

fn trial_json(run: &StoredRun, t: &StoredTrial, d: &Detail) -> Value {
    let mut v = json!({
        "id": t.id, "seq": t.seq, "candidate": t.name, "key": t.key,
        "reward": t.reward, "reported": t.reported, "metrics": t.metrics,
        "status": t.status, "sim_time": t.sim_end, "wall_time": t.wall,
        "seed": trial_seed(run.meta.seed, t.id),
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(e) = &t.error {
            o.insert("error".into(), json!(e));
        }
        if let Some(x) = &t.extra {
            o.insert("extra".into(), x.clone());
        }
        if let Some(c) = d.command(t) {
            o.insert("reproduce".into(), json!(c));
        }
    }
    v
}

/// Lines of a trial's error, indented.
fn error_lines(s: &mut String, e: &str, indent: &str) {
    for l in e.lines() {
        let _ = writeln!(s, "{indent}{l}");
    }
}

/// A one-line summary of a trial's `extra` for the text report: its step values.
fn steps_line(t: &StoredTrial) -> Option<String> {
    let steps = t.extra.as_ref()?.get("steps")?.as_array()?;
    let last = steps.last()?;
    Some(format!("{} step values, last step {} value {}", steps.len(), last.get("step")?, last.get("value")?))
}

/// Version of the JSON that `nasc search --format json` and `nasc report --format json` print.
/// 1: `schema_version`, `stop_reason` (a word) and `store` in both, the budget as numbers,
/// `id` in `history`.
pub const JSON_SCHEMA: u32 = 1;

/// The budget as JSON numbers: `{"trials": N}` or `{"simulated_seconds": S}`.
pub fn budget_json(b: &Budget) -> Value {
    match b {
        Budget::Trials(n) => json!({"trials": n}),
        Budget::Time(s) => json!({"simulated_seconds": s}),
    }
}

/// Why a stored run stopped, as far as the store tells: `budget`, `target`, `interrupted`,
/// `exhausted`, or None while it runs (or was killed). A finished run with a trial budget it did
/// not use up was stopped by `--target`; a finished time-budget run reads `budget` (the store
/// does not keep the target).
pub fn stop_reason(run: &StoredRun, trials: u64) -> Option<&'static str> {
    match run.status.as_str() {
        "stopped" => Some("interrupted"),
        "exhausted" => Some("exhausted"),
        "finished" => Some(match run.meta.budget {
            Budget::Trials(n) if trials < n => "target",
            _ => "budget",
        }),
        _ => None,
    }
}

/// The JSON summary of a stored run; `store` is the file it was read from.
pub fn json(run: &StoredRun, store: &Path) -> Value {
    json_with(run, store, &Detail::default())
}

/// [`json`] with each shown trial's seed and `reproduce` command, the latest failures with their
/// errors (`failures`), and with [`Detail::all_trials`] every trial (`trials`).
pub fn json_with(run: &StoredRun, store: &Path, d: &Detail) -> Value {
    json_of(run, &Summary::of(run, &Gather { all_trials: d.all_trials, plot_metrics: None }), store, d)
}

/// [`json_with`] from a [`Summary`] of the run's trials (`run` itself may hold none).
pub fn json_of(run: &StoredRun, sum: &Summary, store: &Path, d: &Detail) -> Value {
    let m = &run.meta;
    let failed = sum.failed;
    let (reward_is, reported_is) = crate::eval::reward_meaning(&m.evaluator);
    let mut v = json!({
        "schema_version": JSON_SCHEMA,
        "store": store.display().to_string(),
        "stop_reason": stop_reason(run, sum.trials),
        "trials": sum.trials,
        "failed": failed,
        "status": run.status,
        "best": sum.best().map(|b| {
            let mut j = json!({"candidate": b.name, "reward": b.reward, "reported": b.reported, "metrics": b.metrics, "id": b.id, "seq": b.seq, "sim_time": b.sim_end, "seed": trial_seed(m.seed, b.id)});
            if let (Some(o), Some(c)) = (j.as_object_mut(), d.command(b)) {
                o.insert("reproduce".into(), json!(c));
            }
            if let (Some(o), Some(x)) = (j.as_object_mut(), &b.extra) {
                o.insert("extra".into(), x.clone());
            }
            j
        }),
        "run": {
            "space": m.space, "spec_path": m.spec_path, "spec_hash": m.spec_hash, "sets": m.sets,
            "constraints": m.constraints, "strategy": m.strategy, "strategy_config": m.strategy_config,
            "evaluator": m.evaluator, "seed": m.seed, "workers": m.workers, "dedup": m.dedup,
            "budget": budget_json(&m.budget), "metric_names": m.metric_names,
        },
        "clock": if crate::eval::wall_clock(&m.evaluator) { "wall" } else { "simulated" },
        "reward_is": reward_is,
        "reported_is": reported_is,
        "sim_time": sum.sim,
        "wall_time": sum.wall,
        "top": sum.top(10).into_iter().map(|t| trial_json(run, t, d)).collect::<Vec<_>>(),
        "history": sum.improvements.iter().map(|t| json!({"id": t.id, "seq": t.seq, "sim_time": t.sim_end, "reward": t.reward, "reported": t.reported, "candidate": t.name})).collect::<Vec<_>>(),
        "failures": sum.failures(FAILURES_SHOWN).into_iter().map(|t| trial_json(run, t, d)).collect::<Vec<_>>(),
    });
    // the run's objectives, its Pareto front and hypervolume (docs/pareto.md)
    if let Some(o) = v.as_object_mut() {
        match sum.front(d.reference.as_deref()) {
            Ok(f) => {
                if let Value::Object(p) = f.json() {
                    o.extend(p);
                }
            }
            Err(e) => {
                o.insert("pareto_error".into(), json!(e.to_string()));
            }
        }
    }
    // POPNAS: the per-step predictor statistics kept in the strategy state (docs/popnas.md)
    if let (true, Some(o), Some((_, state))) = (m.strategy == "popnas", v.as_object_mut(), &run.checkpoint) {
        o.insert("popnas".into(), crate::strategy::popnas::report_json(state.get("strategy").unwrap_or(&Value::Null)));
    }
    if let (Some(all), Some(o)) = (&sum.all, v.as_object_mut()) {
        o.insert("all_trials".into(), Value::Array(all.iter().map(|t| trial_json(run, t, d)).collect()));
    }
    v
}

pub fn text(run: &StoredRun) -> String {
    text_with(run, &Detail::default())
}

/// [`text`] with the best trial's seed and reproduce command, the latest failures with their
/// errors, and with [`Detail::all_trials`] every trial.
pub fn text_with(run: &StoredRun, d: &Detail) -> String {
    text_of(run, &Summary::of(run, &Gather { all_trials: d.all_trials, plot_metrics: None }), d)
}

/// [`text_with`] from a [`Summary`] of the run's trials (`run` itself may hold none).
pub fn text_of(run: &StoredRun, sum: &Summary, d: &Detail) -> String {
    let m = &run.meta;
    let mut s = String::new();
    let _ =
        writeln!(s, "run: space {} ({}), strategy {} {}, evaluator {}, seed {}, workers {}", m.space, m.spec_path, m.strategy, m.strategy_config, m.evaluator, m.seed, m.workers);
    if !m.constraints.is_empty() {
        let _ = writeln!(s, "constraints: {}", m.constraints.join(", "));
    }
    let (sim, wall, failed) = (sum.sim, sum.wall, sum.failed);
    let clock = if crate::eval::wall_clock(&m.evaluator) { "evaluation" } else { "simulated" };
    let budget = match m.budget {
        _ if m.strategy == "nse" => "nse rounds (`max_rounds` in the strategy config)".to_string(),
        Budget::Time(t) if clock == "evaluation" => format!("{t} s of evaluation (wall clock)"),
        b => b.to_string(),
    };
    let _ = writeln!(s, "status: {}; {} trials ({} failed), budget {budget}, {clock} time {:.0} s, wall time {:.2} s", run.status, sum.trials, failed, sim, wall);
    let (reward_is, reported_is) = crate::eval::reward_meaning(&m.evaluator);
    let _ = writeln!(s, "reward: {reward_is}; reported: {reported_is}");
    // a run with other objectives than the reward: them, and with several its Pareto front
    if let Ok(f) = sum.front(d.reference.as_deref()) {
        if !f.objectives.is_default() {
            let sc = f.objectives.scalarize_text.as_deref().map_or(String::new(), |t| format!(", scalarized as {t}"));
            let _ = writeln!(s, "objectives: {}{sc}", f.objectives.texts().join(", "));
        }
        if f.objectives.list.len() > 1 {
            let _ = writeln!(s, "pareto front: {} trials, hypervolume {:.6e} (JSON: `pareto`, `hypervolume`)", f.front.len(), f.hypervolume);
            for t in f.front.iter().take(10) {
                let vals: Vec<String> = t.vector.iter().zip(&f.objectives.list).map(|(v, o)| format!("{}={}", o.name, o.raw(*v))).collect();
                let _ = writeln!(s, "  trial {:>7}  {}  {}", t.id, vals.join("  "), t.name);
            }
            if f.front.len() > 10 {
                let _ = writeln!(s, "  ... {} more", f.front.len() - 10);
            }
        }
    }
    if let (true, Some((_, state))) = (m.strategy == "popnas", &run.checkpoint) {
        s.push_str(&crate::strategy::popnas::report_text(state.get("strategy").unwrap_or(&Value::Null)));
    }
    match sum.best() {
        None => {
            let _ = writeln!(s, "best: none");
        }
        Some(b) => {
            let _ = writeln!(s, "best: {}", b.name);
            let _ = writeln!(s, "  reward {}  reported {}  (trial {}, at {:.0} {clock} s)", opt(b.reward), opt(b.reported), b.id, b.sim_end);
            let ms: Vec<String> = b.metrics.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(s, "  {}", ms.join("  "));
            let _ = writeln!(s, "  seed {}", trial_seed(m.seed, b.id));
            if let Some(c) = d.command(b) {
                let _ = writeln!(s, "  reproduce: {c}");
            }
        }
    }
    let tops = sum.top(10);
    if !tops.is_empty() {
        let _ = writeln!(s, "top {} (distinct candidates):", tops.len());
        let _ = writeln!(s, "  {:>4} {:>7} {:>10} {:>10}  candidate", "rank", "trial", "reward", "reported");
        for (i, t) in tops.iter().enumerate() {
            let _ = writeln!(s, "  {:>4} {:>7} {:>10} {:>10}  {}", i + 1, t.id, opt(t.reward), opt(t.reported), t.name);
        }
    }
    let imp = &sum.improvements;
    if !imp.is_empty() {
        let _ = writeln!(s, "history (best-so-far improvements):");
        for t in imp.iter().rev().take(8).rev() {
            let _ = writeln!(s, "  trial {:>7}  sim {:>10.0} s  reward {}  reported {}", t.id, t.sim_end, opt(t.reward), opt(t.reported));
        }
    }
    if let Some(all) = &sum.all {
        let _ = writeln!(s, "trials (in completion order):");
        for t in all {
            let _ = writeln!(s, "  trial {:>7}  {:<6}  reward {}  reported {}  seed {}  {}", t.id, t.status, opt(t.reward), opt(t.reported), trial_seed(m.seed, t.id), t.name);
            if let Some(l) = steps_line(t) {
                let _ = writeln!(s, "    {l}");
            }
            if let Some(c) = d.command(t) {
                let _ = writeln!(s, "    reproduce: {c}");
            }
            if let Some(e) = &t.error {
                error_lines(&mut s, e, "    | ");
            }
        }
    } else if failed > 0 {
        let shown = sum.failures(3);
        let _ = writeln!(s, "failed trials ({failed}; the last {}, every one with --trials):", shown.len());
        for t in shown {
            let _ = writeln!(s, "  trial {:>7}  seed {}  {}", t.id, trial_seed(m.seed, t.id), t.name);
            if let Some(c) = d.command(t) {
                let _ = writeln!(s, "    reproduce: {c}");
            }
            error_lines(&mut s, t.error.as_deref().unwrap_or("(no error recorded)"), "    | ");
        }
    }
    s
}

/// Metrics a Pareto plot can use: numeric in the trials, excluding accuracies.
pub fn pareto_metrics(meta: &RunMeta) -> Vec<String> {
    meta.metric_names.iter().filter(|n| ["params", "flops", "latency"].iter().any(|k| n.contains(k))).cloned().collect()
}

/// The metrics plotted against the reward: `pareto`, or by default the run's
/// params/flops/latency metrics.
pub fn plot_metrics(meta: &RunMeta, pareto: &[String]) -> Vec<String> {
    if pareto.is_empty() {
        pareto_metrics(meta)
    } else {
        pareto.to_vec()
    }
}

/// Write best-so-far (vs trials and vs simulated time) and Pareto plots (reward vs each of
/// `pareto` metrics; default: params/flops/latency metrics) into `dir`. Returns the files.
pub fn plots(run: &StoredRun, dir: &Path, pareto: &[String]) -> Result<Vec<PathBuf>, ReportError> {
    plots_of(run, &Summary::of(run, &Gather { all_trials: false, plot_metrics: Some(pareto.to_vec()) }), dir)
}

/// [`plots`] from a [`Summary`] gathered with plot metrics (`run` itself may hold no trials).
pub fn plots_of(run: &StoredRun, sum: &Summary, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let p = sum.plots().ok_or(ReportError::NoPlotData)?;
    std::fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir { path: dir.to_path_buf(), source })?;
    let mut files = Vec::new();
    let mut write = |name: &str, body: String| -> Result<(), ReportError> {
        let p = dir.join(name);
        if let Err(source) = std::fs::write(&p, body) {
            return Err(ReportError::Write { path: p, source });
        }
        files.push(p);
        Ok(())
    };
    let title = format!("{} / {} / {}", run.meta.space, run.meta.strategy, run.meta.evaluator);
    // best-so-far curves (running max of reward, and the reported value of that best): a step
    // line needs only its corners, the improvements and the last trial
    let mut by_trial = (Vec::new(), Vec::new());
    let mut by_time = (Vec::new(), Vec::new());
    for (x, time, r, rep) in p.curve() {
        by_trial.0.push((x, r));
        by_time.0.push((time, r));
        if let Some(rep) = rep {
            by_trial.1.push((x, rep));
            by_time.1.push((time, rep));
        }
    }
    let series = |(a, b): (Points, Points)| vec![Series::step("best reward", a, "#1f77b4"), Series::step("reported of best", b, "#d62728")];
    write("best_vs_trials.svg", chart(&title, "trials", "best so far", &series(by_trial)))?;
    let time_axis = if crate::eval::wall_clock(&run.meta.evaluator) { "evaluation time, wall clock (s)" } else { "simulated time (s)" };
    write("best_vs_time.svg", chart(&title, time_axis, "best so far", &series(by_time)))?;
    for mp in &p.metrics {
        let m = &mp.metric;
        if mp.points.seen == 0 {
            return Err(ReportError::NoMetric { metric: m.clone(), metrics: run.meta.metric_names.clone() });
        }
        let s = vec![Series::dots("trials", mp.points.points(), "#7f7f7f"), Series::step("Pareto front", mp.front(), "#d62728")];
        write(&format!("pareto_{m}.svg"), chart(&format!("reward vs {m} ({title})"), m, "reward", &s))?;
    }
    // two objectives: every trial and the front of the run's own objectives, as a step line
    if let Ok(f) = sum.front(None) {
        if let [y, x] = f.objectives.list.as_slice() {
            let raw = |v: &[f64]| (x.raw(v[1]), y.raw(v[0]));
            let front: Vec<(f64, f64)> = f.front.iter().map(|m| raw(&m.vector)).collect();
            let s = vec![Series::dots("trials", p.objectives.points(), "#7f7f7f"), Series::front("Pareto front", front, x.sense == Sense::Max, "#d62728")];
            write("pareto.svg", chart(&format!("{} vs {} ({title})", y.text(), x.text()), &x.name, &y.name, &s))?;
        }
    }
    Ok(files)
}

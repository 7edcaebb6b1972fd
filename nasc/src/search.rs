//! `nasc search`: run a strategy on a spec with an evaluator, into a durable store.
use crate::command_eval::{trials_dir, RunContext};
use crate::error::CliError;
use crate::trialdoc::SpecInfo;
use crate::Format;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nasc_runtime::error::ObjectiveError;
use nasc_runtime::eval;
use nasc_runtime::objective::{Names, Objectives};
use nasc_runtime::shrunk::{save_shrunk_space, SaveOutcome};
use nasc_runtime::space::{decode, encode, parse_constraint};
use nasc_runtime::store::{spec_hash, RunMeta, RunStatus, SpaceRole, SqliteStore, Store};
use nasc_runtime::strategy::{self, EvolutionConfig};
use nasc_runtime::{Budget, RunConfig, Runner, SearchSpace, StopReason};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Tests only: with `NASC_TEST_HOLD_AFTER_TRIALS=N` in the environment, the search holds after
/// the first commit that brings the stored trials to N or more, until it is stopped (Ctrl-C) or
/// killed. A test that reads N trials in the store then signals a process that is certainly still
/// running, at a known trial count (nasc/tests/search_cli.rs), without racing the clock.
fn hold_after_trials() -> Option<u64> {
    std::env::var("NASC_TEST_HOLD_AFTER_TRIALS").ok().and_then(|v| v.parse().ok())
}

#[derive(clap::Args)]
pub struct SearchArgs {
    /// The spec file.
    pub file: String,
    /// Strategy: `re` (regularized evolution, default), `rs`, `nsga2` (several objectives), `layernas`, `l2nas`, `lissnas`
    /// (LISSNAS search-space shrinking, then random search in the shrunk space; the shrunk space
    /// is saved in the store for `--space-from`), `popnas`, or `nse` (a supernet spec's evolving
    /// search space, docs/nse.md).
    #[arg(long)]
    pub strategy: Option<String>,
    /// Evaluator, `NAME[:KEY=VALUE,...]`, e.g. `nb201:dataset=cifar100,epochs=200`, or
    /// `command[timeout=SECONDS]:PROGRAM ARGS...` to run a program per trial (docs/command.md).
    /// Default: the spec's benchmark, by its space name.
    #[arg(long)]
    pub evaluator: Option<String>,
    /// Budget in trials.
    #[arg(long, conflicts_with = "time_budget")]
    pub budget: Option<u64>,
    /// Budget in seconds: simulated training time for the benchmarks (a trial that would end
    /// later is not counted), wall seconds of evaluation for `train:` and `command:` (the trial
    /// that passes the budget is kept: it was really trained).
    #[arg(long, value_name = "SECONDS")]
    pub time_budget: Option<f64>,
    /// An extra constraint, e.g. `flops<=120M` (repeatable).
    #[arg(long = "constraint", value_name = "EXPR")]
    pub constraints: Vec<String>,
    /// Run seed (default 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The run's SQLite file. Default: `nasc-runs/SPACE-STRATEGY-sSEED.db` (a new numbered file
    /// if it exists; with --resume, the latest).
    #[arg(long)]
    pub store: Option<String>,
    /// Continue the run in the store.
    #[arg(long)]
    pub resume: bool,
    /// The run's name in a PostgreSQL store (`--store postgresql://USER@HOST:PORT/DB`), where
    /// `nasc worker` processes join it.
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,
    /// PostgreSQL store: a running trial whose worker sent no heartbeat for this long (database
    /// clock) is re-queued (default 30).
    #[arg(long, value_name = "SECONDS")]
    pub lease_timeout: Option<f64>,
    /// PostgreSQL store: how many times a trial whose lease expired is re-queued before it is
    /// failed (default 3).
    #[arg(long, value_name = "N")]
    pub max_retries: Option<u32>,
    /// Parallel workers (default 1). With `train:` or `command:` (wall-clock evaluators), W
    /// trials really run at once, each on its own thread (a `train` trial on cores/W threads),
    /// told to the strategy as they finish; with a tabular benchmark, W simulated workers (the
    /// benchmarks' protocol: simulated time); on a PostgreSQL store, W worker threads.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Skip candidates equivalent (same canonical key) to one already asked.
    #[arg(long)]
    pub dedup: bool,
    /// Regularized evolution: population size (default 10).
    #[arg(long)]
    pub population: Option<usize>,
    /// Regularized evolution: tournament sample size (default 3).
    #[arg(long)]
    pub sample_size: Option<usize>,
    /// Regularized evolution: decisions changed by a mutation (default 1).
    #[arg(long)]
    pub mutation_distance: Option<usize>,
    /// A strategy's hyper-parameters as JSON, e.g. `{"mode":"size"}`; unset fields keep the
    /// paper's defaults.
    #[arg(long, value_name = "JSON")]
    pub strategy_config: Option<String>,
    /// Search only the shrunk space saved in this store by a `--strategy lissnas` run of the
    /// same spec (and `--set` overrides).
    #[arg(long, value_name = "STORE")]
    pub space_from: Option<String>,
    /// The run's objectives, replacing the spec's `maximize`/`minimize` items:
    /// `max:NAME` / `min:NAME`, comma-separated or repeated, e.g. `max:reward,min:flops`. Names:
    /// `reward`, `reported`, the spec's external metric, the space's and the evaluator's metrics
    /// (docs/pareto.md). Several objectives need `--strategy nsga2` or `rs`, or `--scalarize`.
    #[arg(long = "objective", value_name = "LIST")]
    pub objectives: Vec<String>,
    /// One reward from several objectives, for a single-objective strategy: `sum:1*reward-1e-9*flops`
    /// (weighted sum, maximized) or `cap:flops<=100M` (hard caps; the reward is the one uncapped
    /// objective).
    #[arg(long, value_name = "SPEC")]
    pub scalarize: Option<String>,
    /// Stop when the best reward reaches this value.
    #[arg(long)]
    pub target: Option<f64>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Format of the final report.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub(crate) fn default_store(space: &str, strategy: &str, seed: u64, resume: bool) -> PathBuf {
    let dir = Path::new("nasc-runs");
    let name = |i: u32| if i == 1 { dir.join(format!("{space}-{strategy}-s{seed}.db")) } else { dir.join(format!("{space}-{strategy}-s{seed}-{i}.db")) };
    let mut i = 1;
    while name(i + 1).exists() || (name(i).exists() && !resume) {
        i += 1;
    }
    name(i)
}

/// The evaluator a run uses: `--evaluator`, else the space's benchmark.
pub(crate) fn evaluator_or_default(given: Option<&String>, space: &SearchSpace) -> Result<String, CliError> {
    match given {
        Some(e) => Ok(e.clone()),
        None => eval::default_for(space).ok_or_else(|| CliError::NoDefaultEvaluator { space: space.name().to_string() }),
    }
}

/// Parse the constraints and check each against the space's metric bounds: one that no candidate
/// can meet is an error; one that every candidate meets, a warning on stderr.
pub(crate) fn constraint_space(space: nasc_compiler::Space, constraints: &[String], check_bounds: bool) -> Result<SearchSpace, CliError> {
    let exprs = constraints.iter().map(|c| parse_constraint(c)).collect::<Result<Vec<_>, _>>()?;
    let space = SearchSpace::new(space, exprs.clone())?;
    if check_bounds {
        for (c, e) in constraints.iter().zip(&exprs) {
            if let Some(w) = nasc_runtime::constraint::check_bounds(&space, c, e)? {
                eprintln!("warning: {w}");
            }
        }
    }
    Ok(space)
}

/// The objectives a run was stored with (older stores: the evaluator's reward).
fn stored_objectives(m: &RunMeta) -> Result<Objectives, ObjectiveError> {
    Ok(match &m.objectives {
        Some(v) => Objectives::from_json(v, &m.metric_names)?,
        None => Objectives::from_items(vec![], &Names::plain(&m.metric_names), &m.evaluator, None)?,
    })
}

/// The configuration of a new run from the command line: strategy and its resolved config,
/// evaluator, seed, budget, metric names and objectives (checked before anything is created).
pub(crate) fn new_run_meta(
    a: &SearchArgs,
    space: &SearchSpace,
    text: String,
    hash: String,
    sets: &[(String, String)],
    constraints: Vec<String>,
    cli_budget: Option<Budget>,
) -> Result<RunMeta, CliError> {
    let strat = strategy::canonical(a.strategy.as_deref().unwrap_or("re"))?;
    let seed = a.seed.unwrap_or(0);
    let ev_name = evaluator_or_default(a.evaluator.as_ref(), space)?;
    let ev = crate::train_eval::make(&ev_name, space)?;
    let mut cfg = match &a.strategy_config {
        Some(text) => match serde_json::from_str(text).map_err(|source| CliError::StrategyConfigJson { text: text.clone(), source })? {
            v @ serde_json::Value::Object(_) => v,
            _ => return Err(CliError::StrategyConfigNotObject { text: text.clone() }),
        },
        None => json!({}),
    };
    if strat == "re" && a.strategy_config.is_none() {
        let d = EvolutionConfig::default();
        let c = EvolutionConfig {
            population: a.population.unwrap_or(d.population),
            sample_size: a.sample_size.unwrap_or(d.sample_size),
            mutation_distance: a.mutation_distance.unwrap_or(d.mutation_distance),
        };
        c.validate()?;
        cfg = serde_json::to_value(c)?;
    } else if a.population.is_some() || a.sample_size.is_some() || a.mutation_distance.is_some() {
        return Err(CliError::EvolutionFlags);
    }
    // a bad strategy config fails before any store file is made; the run records the
    // resolved config (defaults filled in)
    cfg = strategy::make(strat, &cfg, seed)?.config();
    let mut metric_names: Vec<String> = space.metric_names().to_vec();
    metric_names.extend(ev.metric_names());
    let names = Names::new(space.inner(), &metric_names);
    let given = (!a.objectives.is_empty()).then(|| a.objectives.join(","));
    let objectives = Objectives::new(space.inner(), &names, &ev.name(), given.as_deref(), a.scalarize.as_deref())?;
    objectives.check_strategy(strat)?;
    strategy::check_run(strat, &cfg, space, &objectives.list)?;
    let objectives_json = objectives.to_json(&metric_names);
    Ok(RunMeta {
        spec_path: a.file.clone(),
        spec_text: text,
        spec_hash: hash,
        space: space.name().to_string(),
        sets: sets.to_vec(),
        constraints,
        strategy: strat.to_string(),
        strategy_config: cfg,
        evaluator: ev.name(),
        seed,
        workers: a.workers.unwrap_or(1),
        dedup: a.dedup,
        budget: cli_budget.unwrap_or_else(|| ev.default_budget()),
        metric_names,
        objectives: Some(objectives_json),
    })
}

pub fn search(a: SearchArgs, sets: &[(String, String)]) -> u8 {
    match run(a, sets) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn run(a: SearchArgs, sets: &[(String, String)]) -> Result<u8, CliError> {
    let space = match crate::commands::open(&a.file, sets) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let text = crate::zoo::read(&a.file)?;
    if a.strategy.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("nse")) {
        return crate::nse::search(&a, sets, space, text);
    }
    let hash = spec_hash(&text, sets);
    // sha256 of the text alone (the trial document's `space.spec_sha256`)
    let text_sha = spec_hash(&text, &[]);
    if a.workers == Some(0) {
        return Err(CliError::NoWorkers);
    }
    if let Some(target) = a.target.filter(|t| !t.is_finite()) {
        return Err(CliError::Target { target });
    }
    let cli_budget = match (a.budget, a.time_budget) {
        (Some(n), _) => Some(Budget::Trials(n)),
        (_, Some(t)) if t > 0.0 && t.is_finite() => Some(Budget::Time(t)),
        (_, Some(seconds)) => return Err(CliError::TimeBudget { seconds }),
        _ => None,
    };
    if a.store.as_deref().is_some_and(nasc_runtime::store::pg::is_url) {
        return crate::worker::search(&a, sets, space, text, cli_budget);
    }
    if a.run.is_some() || a.lease_timeout.is_some() || a.max_retries.is_some() {
        return Err(CliError::PgFlags);
    }
    // a resumed run keeps its stored constraints
    let opened = if a.resume {
        let strat = a.strategy.as_deref().map(strategy::canonical).transpose()?.unwrap_or("re");
        let path = a.store.clone().map(PathBuf::from).unwrap_or_else(|| default_store(space.name(), strat, a.seed.unwrap_or(0), true));
        Some(SqliteStore::resume(&path, &hash)?)
    } else {
        None
    };
    let constraints = match &opened {
        Some((_, stored)) if a.constraints.is_empty() => stored.meta.constraints.clone(),
        Some((_, stored)) if a.constraints != stored.meta.constraints => {
            return Err(CliError::ConstraintsDiffer { given: a.constraints.clone(), stored: stored.meta.constraints.clone() });
        }
        _ => a.constraints.clone(),
    };
    // a resumed run's constraints were checked when it started
    let mut space = constraint_space(space, &constraints, opened.is_none())?;
    // the explicit space to search: `--space-from`, or (resuming) the one the run was restricted to
    let from = match &a.space_from {
        Some(p) => Some(crate::worker::space_from(p, &hash)?),
        None => None,
    };
    let stored_input = match &opened {
        Some((s, _)) => SqliteStore::read_space(s.path(), SpaceRole::Input)?,
        None => None,
    };
    let input = match (from, stored_input) {
        (Some(m), Some(saved)) => {
            let mut given: Vec<String> = m.iter().map(encode).collect();
            given.sort_unstable();
            given.dedup();
            if given != saved.members {
                return Err(CliError::SpaceFromDiffers { from: a.space_from.clone().unwrap_or_default(), members: saved.size });
            }
            Some(m)
        }
        (Some(m), None) if opened.is_some() => {
            let _ = m;
            return Err(CliError::SpaceFromAdded);
        }
        (Some(m), None) => Some(m),
        (None, Some(saved)) => Some(saved.members.iter().map(|g| decode(g)).collect::<Result<Vec<_>, _>>()?),
        (None, None) => None,
    };
    if let Some(m) = &input {
        space = space.restrict(m.clone())?;
    }

    let mut store;
    let meta;
    let resumed;
    if let Some((s, stored)) = opened {
        let path = s.path().to_path_buf();
        let m = &stored.meta;
        let clash = |flag: &'static str, given: String, stored: String| CliError::Differs { flag, given, stored };
        if let Some(st) = &a.strategy {
            if strategy::canonical(st)? != m.strategy {
                return Err(clash("strategy", st.clone(), m.strategy.clone()));
            }
        }
        if let Some(seed) = a.seed.filter(|s| *s != m.seed) {
            return Err(clash("seed", seed.to_string(), m.seed.to_string()));
        }
        if let Some(w) = a.workers.filter(|w| *w != m.workers) {
            return Err(clash("workers", w.to_string(), m.workers.to_string()));
        }
        if let Some(e) = a.evaluator.as_ref().filter(|e| crate::train_eval::make(e, &space).map(|x| x.name()).ok().as_deref() != Some(m.evaluator.as_str())) {
            return Err(clash("evaluator", e.clone(), m.evaluator.clone()));
        }
        let stored_objectives = stored_objectives(m)?;
        let given = (!a.objectives.is_empty()).then(|| a.objectives.join(","));
        if given.is_some() || a.scalarize.is_some() {
            let names = Names::new(space.inner(), &m.metric_names);
            let o = Objectives::new(space.inner(), &names, &m.evaluator, given.as_deref(), a.scalarize.as_deref())?;
            if o != stored_objectives {
                return Err(CliError::ObjectivesChanged);
            }
        }
        if a.dedup && !m.dedup || a.strategy_config.is_some() || a.population.is_some() || a.sample_size.is_some() || a.mutation_distance.is_some() {
            return Err(CliError::StrategyOptionsChanged);
        }
        let mut m = m.clone();
        if let Some(b) = cli_budget {
            m.budget = b;
        }
        eprintln!("resuming {} ({} trials, status {})", path.display(), stored.trials.len(), stored.status);
        store = s;
        meta = m;
        resumed = Some(stored);
    } else {
        let m = new_run_meta(&a, &space, text, hash, sets, constraints, cli_budget)?;
        let (strat, seed) = (m.strategy.as_str(), m.seed);
        let path = a.store.clone().map(PathBuf::from).unwrap_or_else(|| default_store(space.name(), strat, seed, false));
        store = SqliteStore::create(&path, &m)?;
        if let (Some(members), Some(from)) = (&input, &a.space_from) {
            store.save_space(SpaceRole::Input, &m.spec_hash, members, &json!({"from": from, "size": members.len()}))?;
        }
        meta = m;
        resumed = None;
    }
    let path = store.path().to_path_buf();
    if resumed.is_some() {
        store.set_budget(&meta.budget)?;
        store.set_status(RunStatus::Running)?;
    }

    let strat = strategy::make(&meta.strategy, &meta.strategy_config, meta.seed)?;
    let ctx = RunContext {
        trials_dir: Some(trials_dir(&path)),
        spec: SpecInfo { spec_path: Some(meta.spec_path.clone()), spec_sha256: Some(text_sha), spec_hash: Some(meta.spec_hash.clone()), sets: meta.sets.clone() },
    };
    let ev = crate::train_eval::make_in(&meta.evaluator, &space, &ctx)?;
    let mut cfg = RunConfig::new(meta.seed, meta.budget);
    cfg.workers = meta.workers;
    cfg.dedup = meta.dedup;
    cfg.target = a.target;
    if !a.quiet && resumed.is_none() {
        eprintln!("{}: {} with {}, budget {}, seed {}, store {}", a.file, meta.strategy, meta.evaluator, meta.budget, meta.seed, path.display());
    }
    if let (false, Some(m)) = (a.quiet, space.allowed()) {
        eprintln!("searching a shrunk space of {} members", m.len());
    }

    let bar = if a.quiet { ProgressBar::hidden() } else { ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::stderr_with_hz(10)) };
    bar.set_style(ProgressStyle::with_template("{bar:30} {msg} [{elapsed_precise}, ETA {eta}]").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let summary = {
        let st: &mut dyn Store = &mut store;
        let mut runner = match &resumed {
            Some(run) => Runner::resume(&space, strat, ev, st, cfg, run)?,
            None => Runner::new(&space, strat, ev, st, cfg),
        };
        runner.set_objectives(stored_objectives(&meta)?);
        let flag = runner.stop_flag();
        let held = flag.clone();
        let hold = hold_after_trials();
        // a second Ctrl-C while stopping is ignored; the handler may be set once per process
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
        let b = bar.clone();
        let budget = meta.budget;
        runner.on_commit(move |p| {
            b.set_position((p.fraction * 1000.0) as u64);
            let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
            let used = match budget {
                Budget::Trials(n) => format!("{}/{n} trials", p.trials),
                Budget::Time(t) => format!("{} trials, {:.0}/{t:.0} sim s", p.trials, p.clock),
            };
            b.set_message(format!("{used}  best reward {}  reported {}", f(p.best_reward), f(p.best_reported)));
            if hold.is_some_and(|n| p.trials >= n) {
                while !held.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        });
        // a real evaluator (training, a user's program) with several workers: that many trials
        // really run at once, each on its own thread with its own evaluator (a `train` trial on
        // its share of the cores); a benchmark's workers are simulated
        let s = if meta.workers > 1 && nasc_runtime::eval::wall_clock(&meta.evaluator) {
            let cores = crate::cores::cores_per_trial(meta.workers);
            // (a factory's failure is a trial's: a text)
            let make = || crate::train_eval::make_in_cores(&meta.evaluator, &space, &ctx, Some(cores)).map_err(|e| e.to_string());
            runner.run_parallel(&make)
        } else {
            runner.run()
        };
        bar.finish_and_clear();
        s?
    };
    std::thread::sleep(Duration::from_millis(1));
    // the run as a one-pass summary (memory does not grow with the run; `run` keeps no trials)
    let (run, sum) = nasc_runtime::report::Summary::scan(&path, &Default::default())?;
    let shrunk_note = match save_shrunk_space(&mut store, &run)? {
        SaveOutcome::NotLissnas => None,
        SaveOutcome::StillShrinking => Some("lissnas: the run stopped before a shrinking step was accepted; no shrunk space saved (a larger --budget lets it shrink)".to_string()),
        SaveOutcome::SavedPartial { members, accepted } => Some(format!(
            "lissnas: the budget ended the shrinking after {accepted} accepted step(s); the last accepted space, {members} members, saved in {} (search it with `--space-from {}`; a larger --budget lets the shrinking finish)",
            path.display(),
            path.display()
        )),
        SaveOutcome::NotShrunk => Some("lissnas: the first step did not raise the mean predicted accuracy; the space was not shrunk".to_string()),
        SaveOutcome::Saved(n) => Some(format!("lissnas: shrunk space of {n} members saved in {} (search it with `--space-from {}`)", path.display(), path.display())),
    };
    if let Some(n) = &shrunk_note {
        eprintln!("{n}");
    }
    // close the store (and release its run lock) before printing: a reader that closes our
    // stdout early ends this process at the first write
    drop(store);
    let why = match summary.reason {
        StopReason::Budget => format!("budget reached ({})", meta.budget),
        StopReason::Target => "target reached".into(),
        StopReason::Interrupted => {
            format!("interrupted: stopped cleanly after {} trials; continue with `nasc search {} --resume --store {}`", summary.trials, a.file, path.display())
        }
        StopReason::Exhausted => "no more feasible (and new) candidates".into(),
    };
    let repro = crate::report::reproducer(&run, &path);
    match a.format {
        Format::Text => {
            println!("{why}; {} trials in {:.2} s, store {}", summary.trials, summary.wall, path.display());
            print!("{}", nasc_runtime::report::text_of(&run, &sum, &crate::report::detail(&repro, false)));
            print!("{}", next_steps(&a.file, &path, sum.best().map(|t| t.name.as_str())));
        }
        Format::Json => {
            let mut j = nasc_runtime::report::json_of(&run, &sum, &path, &crate::report::detail(&repro, false));
            if let Some(o) = j.as_object_mut() {
                // what this process saw (the store cannot tell a time budget from a target)
                let reason = match summary.reason {
                    StopReason::Budget => "budget",
                    StopReason::Target => "target",
                    StopReason::Interrupted => "interrupted",
                    StopReason::Exhausted => "exhausted",
                };
                o.insert("stop_reason".into(), json!(reason));
                o.insert("stop_message".into(), json!(why));
            }
            println!("{}", serde_json::to_string_pretty(&j).unwrap_or_default());
        }
    }
    Ok(if summary.reason == StopReason::Interrupted { 130 } else { 0 })
}

/// What to do after a search: plots, and the best candidate exported or trained.
fn next_steps(spec: &str, store: &Path, best: Option<&str>) -> String {
    let q = crate::command_eval::split::quote;
    let (spec, store) = (q(spec), q(&store.display().to_string()));
    let mut out = format!("next:\n  nasc report {store} --plots plots/   # plots of this run\n");
    if let Some(name) = best {
        let name = q(name);
        out.push_str(&format!("  nasc export {spec} --candidate {name} --format onnx --out best.onnx   # the best as an ONNX model\n"));
        out.push_str(&format!("  nasc train {spec} --candidate {name} --dataset PATH --epochs 10   # train the best on your data\n"));
    }
    out
}

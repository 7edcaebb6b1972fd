//! Runs in a PostgreSQL database: `nasc search SPEC --store postgresql://... --run NAME` (create
//! or `--resume` the run, then work on it) and `nasc worker --store postgresql://... --run NAME`
//! (join a run from any machine, evaluate its trials, exit when it is finished). Both run the
//! runtime's worker loops ([`nasc_runtime::worker`]); no process is special.
use crate::command_eval::RunContext;
use crate::error::CliError;
use crate::search::SearchArgs;
use crate::trialdoc::SpecInfo;
use nasc_compiler::Candidate;
use nasc_runtime::store::pg::{self, Conn, InputSpace, LeaseConfig};
use nasc_runtime::store::{load_space_from, spec_hash, RunMeta, SpaceRole};
use nasc_runtime::worker::{self, WorkOptions, WorkSummary};
use nasc_runtime::{strategy, Budget, SearchSpace};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(clap::Args)]
pub struct WorkerArgs {
    /// The run's database, `postgresql://USER@HOST:PORT/DB`.
    #[arg(long)]
    pub store: String,
    /// The run's name in the database (as given to `nasc search --run`).
    #[arg(long)]
    pub run: String,
    /// Trials this process evaluates at once (one thread and one evaluator each; default 1).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Where `command:` trials get their folders (default `nasc-runs/RUN.trials`).
    #[arg(long, value_name = "DIR")]
    pub trials_dir: Option<String>,
    /// No notes on stderr about re-queued trials and refused results.
    #[arg(long)]
    pub quiet: bool,
}

/// `nasc worker`.
pub fn worker_cmd(a: WorkerArgs) -> u8 {
    match worker_run(&a) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn stop_on_ctrlc() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    stop
}

fn worker_run(a: &WorkerArgs) -> Result<u8, CliError> {
    if !pg::is_url(&a.store) {
        return Err(CliError::WorkerNeedsPg { store: a.store.clone() });
    }
    if a.workers == 0 {
        return Err(CliError::NoWorkers);
    }
    pg::check_run_name(&a.run)?;
    let mut conn = Conn::open(&a.store)?;
    let (meta, status, _) = pg::run_meta(&mut conn, &a.run)?;
    if status != "running" {
        if !a.quiet {
            eprintln!("run `{}` is {status}; nothing to do", a.run);
        }
        return Ok(0);
    }
    let space = run_space(&mut conn, &a.run, &meta)?;
    drop(conn);
    let summary = work(&a.store, &a.run, &space, &meta, a.workers, a.trials_dir.as_deref(), a.quiet, None)?;
    if !a.quiet {
        eprintln!(
            "run `{}`: {}; {} trials evaluated here ({} results refused after lost leases), {} finished of {}",
            a.run, summary.status, summary.evaluated, summary.refused, summary.done, meta.budget
        );
    }
    Ok(if summary.interrupted { 130 } else { 0 })
}

/// The space run `run` searches: its stored spec compiled here ([`stored_space`]), restricted to
/// its `input` space when it was made with `--space-from`.
pub fn run_space(conn: &mut Conn, run: &str, meta: &RunMeta) -> Result<SearchSpace, CliError> {
    let space = stored_space(meta)?;
    match pg::spaces::read_space(conn, run, SpaceRole::Input)? {
        Some(saved) => Ok(space.restrict(pg::spaces::members(run, &saved)?)?),
        None => Ok(space),
    }
}

/// The members of `--space-from SOURCE` for a run of the spec hashing to `hash`: a SQLite store
/// path, or `postgresql://...#RUN` (a `lissnas` run in a database).
pub fn space_from(source: &str, hash: &str) -> Result<Vec<Candidate>, CliError> {
    if !pg::is_url(source) {
        return Ok(load_space_from(Path::new(source), hash)?);
    }
    let Some((url, run)) = source.rsplit_once('#') else {
        return Err(CliError::SpaceFromRun { from: source.to_string() });
    };
    pg::check_run_name(run)?;
    Ok(pg::spaces::load_shrunk(&mut Conn::open(url)?, run, hash)?)
}

/// Compile the run's stored spec (its text, `--set` values and constraints). Lookup files are
/// read relative to the stored spec path's folder, where it exists here.
pub fn stored_space(meta: &RunMeta) -> Result<SearchSpace, CliError> {
    let (spec, diags) = nasc_grammar::parse(&meta.spec_text);
    let path = Path::new(&meta.spec_path);
    let dir = path.parent().filter(|d| d.is_dir()).map(Path::to_path_buf).unwrap_or_default();
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut space = None;
    let mut all = diags;
    if !all.iter().any(|d| d.is_error()) {
        let loader = crate::loader::for_spec(dir);
        let opts = nasc_compiler::Options { overrides: meta.sets.clone(), loader: &loader, default_name: stem };
        let (s, mut d) = nasc_compiler::compile(&spec, &opts);
        all.append(&mut d);
        space = s;
    }
    let space = match space {
        Some(s) if !all.iter().any(|d| d.is_error()) => s,
        _ => {
            eprint!("{}", crate::render::render(&meta.spec_path, &meta.spec_text, &all));
            return Err(CliError::StoredSpec { path: meta.spec_path.clone() });
        }
    };
    if spec_hash(&meta.spec_text, &meta.sets) != meta.spec_hash {
        return Err(CliError::StoredSpecHash { hash: meta.spec_hash.clone() });
    }
    crate::search::constraint_space(space, &meta.constraints, false)
}

/// A run name as a file name: characters other than ASCII letters, digits and `-_.` become `_`.
pub fn file_safe(run: &str) -> String {
    run.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

/// The folder of a run's `command:` trials: `nasc-runs/RUN.trials` (the name made file-safe).
fn trials_dir(run: &str, given: Option<&str>) -> PathBuf {
    if let Some(d) = given {
        return PathBuf::from(d);
    }
    let safe = file_safe(run);
    Path::new("nasc-runs").join(format!("{safe}.trials"))
}

/// Work on a run with `threads` loops.
#[allow(clippy::too_many_arguments)]
fn work(
    url: &str,
    run: &str,
    space: &SearchSpace,
    meta: &RunMeta,
    threads: usize,
    dir: Option<&str>,
    quiet: bool,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<WorkSummary, CliError> {
    let ctx = RunContext {
        trials_dir: Some(trials_dir(run, dir)),
        spec: SpecInfo {
            spec_path: Some(meta.spec_path.clone()),
            spec_sha256: Some(spec_hash(&meta.spec_text, &[])),
            spec_hash: Some(meta.spec_hash.clone()),
            sets: meta.sets.clone(),
        },
    };
    let threads_each = crate::cores::cores_per_trial(threads);
    // check the evaluator once before starting the loops; then each loop's (a factory's failure
    // is a trial's: a text)
    crate::train_eval::make_in_cores(&meta.evaluator, space, &ctx, Some(threads_each))?;
    let make = || crate::train_eval::make_in_cores(&meta.evaluator, space, &ctx, Some(threads_each)).map_err(|e| e.to_string());
    let mut opts = WorkOptions::new(threads, stop_on_ctrlc());
    opts.verbose = !quiet;
    let progress = |done: u64, budget: u64| {
        if let Some(b) = bar {
            b.set_length(budget.max(1));
            b.set_position(done);
        }
    };
    opts.on_progress = Some(&progress);
    Ok(worker::work(url, run, space, meta, &make, &opts)?)
}

/// `nasc search` on a PostgreSQL store: create the run (or continue it with `--resume`), work
/// on it until it is finished, then print the report.
pub fn search(a: &SearchArgs, sets: &[(String, String)], compiled: nasc_compiler::Space, text: String, cli_budget: Option<Budget>) -> Result<u8, CliError> {
    let url = a.store.clone().unwrap_or_default();
    let Some(run) = a.run.as_deref() else {
        return Err(CliError::PgRunName { file: a.file.clone(), url, space: compiled.name().to_string() });
    };
    pg::check_run_name(run)?;
    let workers = a.workers.unwrap_or(1);
    let hash = spec_hash(&text, sets);
    let mut conn = Conn::open(&url)?;
    let meta = if a.resume {
        let (stored, _, _) = pg::run_meta(&mut conn, run)?;
        if let (Some(Budget::Time(_)), false) = (cli_budget, nasc_runtime::eval::wall_clock(&stored.evaluator)) {
            return Err(CliError::PgResumeSimulated { evaluator: stored.evaluator });
        }
        let given = a.strategy.is_some()
            || a.seed.is_some()
            || a.evaluator.is_some()
            || !a.constraints.is_empty()
            || a.strategy_config.is_some()
            || !a.objectives.is_empty()
            || a.scalarize.is_some()
            || a.dedup
            || a.space_from.is_some();
        if given || a.target.is_some() || a.population.is_some() || a.sample_size.is_some() || a.mutation_distance.is_some() || a.lease_timeout.is_some() || a.max_retries.is_some()
        {
            return Err(CliError::PgResumeFlags);
        }
        let m = pg::resume_run(&mut conn, run, &hash, cli_budget)?;
        eprintln!("resuming run `{run}` in {url}");
        m
    } else {
        let mut space = crate::search::constraint_space(compiled, &a.constraints, true)?;
        let input = match &a.space_from {
            Some(src) => Some(space_from(src, &hash)?),
            None => None,
        };
        if let Some(m) = &input {
            space = space.restrict(m.clone())?;
        }
        let meta = crate::search::new_run_meta(a, &space, text, hash, sets, a.constraints.clone(), cli_budget)?;
        if let (Budget::Time(_), false) = (meta.budget, nasc_runtime::eval::wall_clock(&meta.evaluator)) {
            return Err(CliError::PgSimulated { evaluator: meta.evaluator });
        }
        let lease = LeaseConfig {
            lease_seconds: a.lease_timeout.unwrap_or(LeaseConfig::default().lease_seconds),
            max_retries: a.max_retries.unwrap_or(LeaseConfig::default().max_retries),
        };
        if !(lease.lease_seconds > 0.0 && lease.lease_seconds.is_finite()) {
            return Err(CliError::LeaseTimeout { seconds: lease.lease_seconds });
        }
        let state = strategy::make(&meta.strategy, &meta.strategy_config, meta.seed)?.state();
        let input = input.as_ref().map(|m| InputSpace { members: m, stats: json!({"from": a.space_from, "size": m.len()}) });
        pg::create_run(&mut conn, run, &meta, lease, a.target, &state, input.as_ref())?;
        if !a.quiet {
            eprintln!("{}: {} with {}, budget {}, seed {}, run `{run}` in {url}", a.file, meta.strategy, meta.evaluator, meta.budget, meta.seed);
        }
        meta
    };
    let space = run_space(&mut conn, run, &meta)?;
    drop(conn);
    if let (false, Some(m)) = (a.quiet, space.allowed()) {
        eprintln!("searching a shrunk space of {} members", m.len());
    }
    let bar = if a.quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::with_draw_target(Some(1), indicatif::ProgressDrawTarget::stderr_with_hz(10)) };
    let summary = work(&url, run, &space, &meta, workers, None, a.quiet, Some(&bar));
    bar.finish_and_clear();
    let summary = summary?;
    let stored = pg::read_run(&mut Conn::open(&url)?, run)?;
    let why = match summary.status.as_str() {
        "finished" => match stored.meta.budget {
            Budget::Trials(n) if (stored.trials.len() as u64) < n => "target reached".to_string(),
            Budget::Time(t) => format!("time budget reached ({t} s since the run was created, database clock; the trials asked before it were finished)"),
            b => format!("budget reached ({b})"),
        },
        "exhausted" => "no more feasible candidates".into(),
        _ if summary.interrupted => format!("interrupted; other workers go on, and `nasc worker --store {url} --run {run}` joins again"),
        s => format!("run {s}"),
    };
    let store = PathBuf::from(format!("{url}#{run}"));
    let repro = crate::report::reproducer(&stored, &store);
    match a.format {
        crate::Format::Text => {
            println!("{why}; {} trials evaluated by this process, run `{run}` in {url}", summary.evaluated);
            print!("{}", nasc_runtime::report::text_with(&stored, &crate::report::detail(&repro, false)));
        }
        crate::Format::Json => {
            let j = nasc_runtime::report::json_with(&stored, &store, &crate::report::detail(&repro, false));
            println!("{}", serde_json::to_string_pretty(&j).unwrap_or_default());
        }
    }
    Ok(if summary.interrupted { 130 } else { 0 })
}

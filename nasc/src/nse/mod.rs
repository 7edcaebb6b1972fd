//! `nasc search SPEC --strategy nse`: NSE's rounds (`nasc_kernels::nse`, docs/nse.md) over the
//! supernet a spec describes ([`space`]), with the run in a SQLite store like any other:
//!
//! - every sub-network NSE evaluates with recalibrated BN is a trial (reward: its supernet
//!   accuracy on the validation split, %; metrics: the spec's, then `macs` (millions, the
//!   supernet's count) and `round`; objectives: max reward, min macs), so `nasc report` reads the
//!   run, its Pareto front included;
//! - the checkpoint (state, shared weights, BN statistics, momentum, indicators, Adam) is a blob
//!   in the store, written in the same transaction as the trials it matches, after every epoch
//!   and every round: a killed run resumed with `--resume` goes on from its last epoch with the
//!   same draws as an uninterrupted one;
//! - each round's subset and its aggregated subset (Eq. 9) are specs (blobs `nse/round-R.nas`,
//!   `nse/round-R-aggregated.nas`, also written to the folder `STORE.nse/`) that any strategy
//!   can search.
//!
//! The data comes from the `train` evaluator's options (`dataset`, `valid_fraction`, `limit`,
//! `augment`; `backend=wgpu` runs the weight steps on the WGSL kernels); weights train on the training split, indicators and the Pareto evaluation use the
//! validation split); NSE's own hyper-parameters (`epochs`, `batch`, `lr`, `k`, `target`, ...)
//! from `--strategy-config`, the paper's values by default, K by default the spec's subset size.
pub mod space;

use crate::error::{CliError, EvaluatorError, NseError};
use crate::search::SearchArgs;
use crate::Format;
use nasc_kernels::data::Splits;
use nasc_kernels::nse::{self, NseConfig, NseData, NseState, RoundRecord};
use nasc_kernels::rng::Rng;
use nasc_kernels::supernet::{Arch, Supernet};
use nasc_kernels::train::{open_device, Device};
use nasc_kernels::{nse_ckpt, nse_spec};
use nasc_runtime::eval;
use nasc_runtime::objective::{Names, Objectives, Sense};
use nasc_runtime::store::{spec_hash, RunMeta, RunStatus, SqliteStore, Store, TrialRecord};
use nasc_runtime::{Budget, SearchSpace};
use serde_json::{json, Map, Value};
use space::NseSpace;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The `train` evaluator options NSE reads; the others belong to `--strategy-config`.
pub(crate) const DATA_OPTIONS: &[&str] = &["dataset", "valid_fraction", "limit", "augment", "backend"];
const CHECKPOINT: &str = "nse/checkpoint";

/// Tests only: with `NASC_TEST_EXIT_AFTER_COMMITS=N`, the process exits (code 3, as if killed)
/// right after its N-th durable commit, so a test can resume it at a known point.
fn exit_after_commits() -> Option<u64> {
    std::env::var("NASC_TEST_EXIT_AFTER_COMMITS").ok().and_then(|v| v.parse().ok())
}

/// The options NSE cannot take, checked before anything is made.
fn refuse_options(a: &SearchArgs) -> Result<(), NseError> {
    let given = [
        (a.budget.is_some(), "--budget"),
        (a.time_budget.is_some(), "--time-budget"),
        (a.workers.is_some_and(|w| w > 1), "--workers"),
        (a.dedup, "--dedup"),
        (a.target.is_some(), "--target"),
        (!a.constraints.is_empty(), "--constraint"),
        (!a.objectives.is_empty(), "--objective"),
        (a.scalarize.is_some(), "--scalarize"),
        (a.space_from.is_some(), "--space-from"),
        (a.population.is_some() || a.sample_size.is_some() || a.mutation_distance.is_some(), "--population/--sample-size/--mutation-distance"),
        (a.run.is_some() || a.lease_timeout.is_some() || a.max_retries.is_some(), "--run/--lease-timeout/--max-retries"),
        (a.store.as_deref().is_some_and(nasc_runtime::store::pg::is_url), "a PostgreSQL --store"),
    ];
    if let Some(&(_, flag)) = given.iter().find(|(on, _)| *on) {
        return Err(NseError::Flag { flag });
    }
    Ok(())
}

/// The data options of `--evaluator train:...` (default `train`: the embedded digits).
fn data_options(evaluator: Option<&str>) -> Result<BTreeMap<String, String>, CliError> {
    let text = evaluator.unwrap_or("train");
    let (name, opts) = eval::parse_spec(text).map_err(EvaluatorError::from)?;
    if name != "train" {
        return Err(NseError::NotTrain { evaluator: text.to_string() }.into());
    }
    if let Some(k) = opts.keys().find(|k| !DATA_OPTIONS.contains(&k.as_str())) {
        return Err(NseError::NotDataOption { key: k.clone() }.into());
    }
    if let Some(b) = opts.get("backend").filter(|b| !["cpu", "wgpu", "auto"].contains(&b.as_str())) {
        return Err(EvaluatorError::TrainValue { key: "backend".into(), value: b.clone(), expected: "cpu, wgpu or auto" }.into());
    }
    Ok(opts)
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The configuration: the paper's, K from the spec, then `--strategy-config`; checked against
/// the spec (K within its subset sizes, the MACs band inside the range of `net`'s sub-networks).
fn config(ns: &NseSpace, net: &Supernet, given: &Value) -> Result<NseConfig, NseError> {
    let mut cfg = NseConfig { k: ns.max_k, ..NseConfig::paper() };
    let Value::Object(m) = given else {
        return Err(NseError::ConfigNotObject { given: given.clone() });
    };
    for (k, v) in m {
        cfg.set(k, &value_text(v)).map_err(NseError::Setting)?;
    }
    if cfg.k > ns.max_k {
        return Err(NseError::K { k: cfg.k, max_k: ns.max_k });
    }
    // the MACs band must meet the space: the cheapest and the dearest sub-network of K ops
    let (mut cheap, mut dear): (Arch, Arch) = (Vec::new(), Vec::new());
    for (l, allowed) in ns.allowed.iter().enumerate() {
        let mut m: Vec<usize> = allowed.clone();
        m.sort_by(|&a, &b| net.op_macs(l, a).total_cmp(&net.op_macs(l, b)));
        cheap.push(if ns.spec.has_identity(l) { vec![] } else { m.first().map(|&o| vec![o]).unwrap_or_default() });
        dear.push(m.iter().rev().take(cfg.k).copied().collect());
    }
    let (lo, hi) = (net.arch_macs(&cheap), net.arch_macs(&dear));
    let (target, band) = (cfg.penalty.target, cfg.band);
    if target as f64 + band as f64 <= lo || target as f64 - band as f64 >= hi {
        let mut rng = Rng::new(7);
        let p = |l: usize| (cfg.k as f32 / ns.allowed[l].len().max(1) as f32 * 0.5).min(1.0);
        let mut ms: Vec<f64> = (0..1000).map(|_| net.arch_macs(&net.sample(&mut rng, |l, _| p(l)))).collect();
        ms.sort_by(f64::total_cmp);
        let median = ms[ms.len() / 2];
        let iqr = (ms[ms.len() * 3 / 4] - ms[ms.len() / 4]) / 2.0;
        return Err(NseError::Band { target, band, lo, hi, k: cfg.k, median, iqr });
    }
    Ok(cfg)
}

/// The resolved configuration as JSON (stored with the run).
fn config_json(c: &NseConfig) -> Value {
    // an f32 as the decimal it prints as (0.1, not 0.10000000149011612)
    let f = |x: f32| x.to_string().parse::<f64>().map_or(Value::Null, |v| json!(v));
    json!({
        "k": c.k, "epochs": c.epochs, "batch": c.batch, "lr": f(c.lr), "momentum": f(c.momentum),
        "weight_decay": f(c.weight_decay), "theta_lr": f(c.theta_lr), "theta_every": c.theta_every,
        "threshold": f(c.threshold), "alpha": f(c.penalty.alpha), "beta": f(c.penalty.beta),
        "target": f(c.penalty.target), "band": f(c.band), "samples": c.samples,
        "extra_samples": c.extra_samples, "extra_band": f(c.extra_band), "recal_batches": c.recal_batches,
        "max_rounds": if c.max_rounds == usize::MAX { Value::Null } else { json!(c.max_rounds) },
        "lock_rehearse": c.lock_rehearse, "simplify": c.simplify,
        "sample_prob": c.sample_prob.map_or(Value::String("none".into()), f),
    })
}

fn config_from_json(ns: &NseSpace, net: &Supernet, v: &Value) -> Result<NseConfig, NseError> {
    let mut m = v.as_object().cloned().unwrap_or_default();
    m.retain(|_, x| !x.is_null());
    config(ns, net, &Value::Object(m))
}

/// The store's folder of round specs: `STORE.nse/`.
fn rounds_dir(store: &Path) -> PathBuf {
    let mut p = store.as_os_str().to_os_string();
    p.push(".nse");
    PathBuf::from(p)
}

/// The run: its store, state, supernet and where trials stand.
struct Run<'a> {
    store: SqliteStore,
    space: &'a SearchSpace,
    ns: &'a NseSpace,
    n_trials: u64,
    commits: u64,
    seconds: f64,
    started: std::time::Instant,
    wall0: f64,
    name: String,
    error: Option<CliError>,
}

impl Run<'_> {
    /// The trials of round `rec`, numbered and timed after the ones already stored.
    fn trials_of(&self, rec: &RoundRecord) -> Vec<TrialRecord> {
        let (first, t0) = (self.n_trials, self.seconds);
        let n = rec.samples.len().max(1) as f64;
        rec.samples
            .iter()
            .enumerate()
            .map(|(i, (s, extra))| {
                let c = space::candidate(self.ns, &s.arch);
                let mut metrics = self.space.metrics(&c);
                metrics.push(s.macs);
                metrics.push((rec.round + 1) as f64);
                let front = rec.front.iter().any(|f| f.arch == s.arch);
                let id = first + i as u64;
                TrialRecord {
                    id,
                    seq: id,
                    candidate: c,
                    key: None,
                    reward: Some(100.0 * s.accuracy),
                    reported: None,
                    metrics,
                    error: None,
                    extra: Some(Box::new(json!({"round": rec.round + 1, "sample": if *extra { "extra" } else { "in band" }, "front": front}))),
                    sim_start: t0 + rec.seconds * i as f64 / n,
                    sim_end: t0 + rec.seconds * (i + 1) as f64 / n,
                    wall: self.wall0 + self.started.elapsed().as_secs_f64(),
                }
            })
            .collect()
    }

    /// Saves the state (and, at a round's end, its trials and specs) in one transaction.
    fn save(&mut self, state: &NseState, net: &Supernet) -> Result<(), CliError> {
        if state.cursor.is_none() {
            if let Some(rec) = state.history.last() {
                let trials = self.trials_of(rec);
                for t in trials {
                    self.store.append(self.space, t)?;
                    self.n_trials += 1;
                }
                self.seconds += rec.seconds;
                for (suffix, active) in [("", &rec.space), ("-aggregated", &rec.aggregated)] {
                    let what = if suffix.is_empty() { "subset" } else { "aggregated subset (Eq. 9)" };
                    let title = format!("{} round {} {what}, from nasc search --strategy nse", self.name, rec.round + 1);
                    match nse_spec::subset_spec(&self.ns.spec, active, &format!("{}_round{}{}", self.name, rec.round + 1, suffix.replace('-', "_")), &title) {
                        Ok(text) => self.store.put_blob(&format!("nse/round-{}{suffix}.nas", rec.round + 1), text.as_bytes())?,
                        // an aggregated subset with an empty reduction layer cannot be a spec
                        Err(_) => continue,
                    }
                }
            }
        }
        self.store.put_blob(CHECKPOINT, &nse_ckpt::encode(state, net))?;
        let wall = self.wall0 + self.started.elapsed().as_secs_f64();
        let cursor = state.cursor.as_ref().map(|c| json!({"epoch": c.epoch, "step": c.step}));
        self.store.commit(self.n_trials, wall, &json!({"nse": {"round": state.round, "finished": state.finished, "cursor": cursor, "seconds": self.seconds}}))?;
        self.commits += 1;
        if exit_after_commits().is_some_and(|n| self.commits >= n) {
            std::process::exit(3);
        }
        Ok(())
    }
}

/// Writes the round specs held in the store to `STORE.nse/` (replacing what is there).
fn write_round_specs(store: &SqliteStore, dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let names = store.blob_names("nse/round-")?;
    if names.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir).map_err(|source| CliError::Create { path: dir.to_path_buf(), source })?;
    let mut out = Vec::new();
    for n in names {
        let Some(data) = store.blob(&n)? else { continue };
        let file = dir.join(n.trim_start_matches("nse/"));
        let tmp = file.with_extension("nas.tmp");
        std::fs::write(&tmp, &data).and_then(|_| std::fs::rename(&tmp, &file)).map_err(|source| CliError::Write { path: file.clone(), source })?;
        out.push(file);
    }
    Ok(out)
}

fn load_data(opts: &BTreeMap<String, String>, ns: &NseSpace, space: &SearchSpace) -> Result<(Arc<Splits>, String), CliError> {
    let mut o = opts.clone();
    o.insert("backend".into(), "cpu".into());
    let ev = crate::train_eval::TrainEval::new(&o, space)?;
    let data = ev.data();
    if data.train.shape != ns.spec.input {
        return Err(NseError::Input { input: ns.spec.input, dataset: data.name.clone(), shape: data.train.shape }.into());
    }
    let name = ev.data_name();
    Ok((data, name))
}

pub fn search(a: &SearchArgs, sets: &[(String, String)], space: nasc_compiler::Space, text: String) -> Result<u8, CliError> {
    refuse_options(a)?;
    let hash = spec_hash(&text, sets);
    let ns = space::read(&space).map_err(NseError::NotSupernet)?;
    let space = SearchSpace::new(space, vec![])?;
    let data_opts = data_options(a.evaluator.as_deref())?;
    let (data, data_name) = load_data(&data_opts, &ns, &space)?;
    let evaluator = format!("nse:{}", data_name.trim_start_matches("train:"));
    let mut metric_names: Vec<String> = space.metric_names().to_vec();
    metric_names.extend(["macs".to_string(), "round".to_string()]);
    let (mut store, mut net, cfg, seed, stored) = if a.resume {
        let path = a.store.clone().map(PathBuf::from).unwrap_or_else(|| crate::search::default_store(space.name(), "nse", a.seed.unwrap_or(0), true));
        let (store, run) = SqliteStore::resume(&path, &hash)?;
        if run.meta.strategy != "nse" {
            return Err(NseError::NotNseRun { store: path, strategy: run.meta.strategy }.into());
        }
        if a.strategy_config.is_some() {
            return Err(CliError::StrategyOptionsChanged);
        }
        if let Some(seed) = a.seed.filter(|s| *s != run.meta.seed) {
            return Err(CliError::Differs { flag: "seed", given: seed.to_string(), stored: run.meta.seed.to_string() });
        }
        if a.evaluator.is_some() && run.meta.evaluator != evaluator {
            return Err(NseError::EvaluatorDiffers { given: a.evaluator.clone().unwrap_or_default(), stored: run.meta.evaluator }.into());
        }
        let seed = run.meta.seed;
        let net = Supernet::new(ns.spec.clone(), ns.allowed.clone(), seed)?;
        let cfg = config_from_json(&ns, &net, &run.meta.strategy_config)?;
        (store, net, cfg, seed, Some(run))
    } else {
        let given = match &a.strategy_config {
            Some(t) => serde_json::from_str(t).map_err(|source| CliError::StrategyConfigJson { text: t.clone(), source })?,
            None => json!({}),
        };
        let seed = a.seed.unwrap_or(0);
        let net = Supernet::new(ns.spec.clone(), ns.allowed.clone(), seed)?;
        let cfg = config(&ns, &net, &given)?;
        let names = Names::new(space.inner(), &metric_names);
        let objectives = Objectives::from_items(vec![(Sense::Max, "reward".into()), (Sense::Min, "macs".into())], &names, &evaluator, None)?;
        let meta = RunMeta {
            spec_path: a.file.clone(),
            spec_text: text,
            spec_hash: hash,
            space: space.name().to_string(),
            sets: sets.to_vec(),
            constraints: vec![],
            strategy: "nse".into(),
            strategy_config: config_json(&cfg),
            evaluator: evaluator.clone(),
            seed,
            workers: 1,
            dedup: false,
            budget: Budget::Trials(0),
            metric_names: metric_names.clone(),
            objectives: Some(objectives.to_json(&metric_names)),
        };
        let path = a.store.clone().map(PathBuf::from).unwrap_or_else(|| crate::search::default_store(space.name(), "nse", seed, false));
        (SqliteStore::create(&path, &meta)?, net, cfg, seed, None)
    };
    let path = store.path().to_path_buf();
    // the sub-networks (weight and indicator steps, evaluations) on the WGSL kernels with
    // `backend=wgpu` (or `auto` when an adapter opens)
    let device = match data_opts.get("backend").map(String::as_str) {
        Some("wgpu") => Device::Wgpu,
        Some("auto") => Device::Auto,
        _ => Device::Cpu,
    };
    let gpu = open_device(device).map_err(EvaluatorError::Setup)?;
    if gpu.is_none() {
        // every step builds a fresh sub-network: keep its freed buffers in the heap (no page
        // faults and zeroing on every step), as the train evaluator does
        nasc_kernels::cpu::retain_freed_memory();
    }
    net.set_device(gpu);
    let mut state = NseState::with_pools(&ns.allowed, cfg.k, seed);
    let (mut n_trials, mut seconds, mut wall0) = (0, 0.0, 0.0);
    if let Some(run) = &stored {
        if let Some(bytes) = store.blob(CHECKPOINT)? {
            state = nse_ckpt::decode(&bytes, &mut net).map_err(|source| NseError::Checkpoint { store: path.clone(), source })?;
        }
        n_trials = run.trials.len() as u64;
        let expected: usize = state.history.iter().map(|r| r.samples.len()).sum();
        if expected as u64 != n_trials {
            return Err(NseError::CheckpointTrials { store: path, trials: n_trials, samples: expected }.into());
        }
        seconds = state.history.iter().map(|r| r.seconds).sum();
        wall0 = run.trials.last().map_or(0.0, |t| t.wall);
        store.set_status(RunStatus::Running)?;
        if !a.quiet {
            eprintln!("resuming {} (round {}, {} trials)", path.display(), state.round + 1, n_trials);
        }
    } else if !a.quiet {
        eprintln!(
            "{}: nse on {} ({} layers, pool of {} ops, K = {}, {} epochs a round, MACs {}M ± {}M), seed {seed}, store {}",
            a.file,
            data.name,
            ns.spec.layers.len(),
            ns.spec.pool.len(),
            cfg.k,
            cfg.epochs,
            cfg.penalty.target,
            cfg.band,
            path.display()
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let mut run = Run { store, space: &space, ns: &ns, n_trials, commits: 0, seconds, started: std::time::Instant::now(), wall0, name: space.name().to_string(), error: None };
    let nd = NseData { train: &data.train, val: &data.val, mean: &data.mean, std: &data.std, augment: data.augment };
    let mut interrupted = false;
    while !state.finished {
        let quiet = a.quiet;
        let mut log = |s: &str| {
            if !quiet {
                eprintln!("{s}");
            }
        };
        let mut checkpoint = |st: &NseState, n: &Supernet| -> bool {
            if let Err(e) = run.save(st, n) {
                run.error = Some(e);
                return false;
            }
            !stop.load(Ordering::SeqCst)
        };
        let rec = nse::run_round(&mut net, &mut state, &cfg, &nd, seed, &mut log, &mut checkpoint);
        if let Some(e) = run.error.take() {
            return Err(e);
        }
        if rec.is_none() || stop.load(Ordering::SeqCst) {
            interrupted = !state.finished;
            break;
        }
    }
    run.store.set_status(if interrupted { RunStatus::Stopped } else { RunStatus::Finished })?;
    let specs = write_round_specs(&run.store, &rounds_dir(&path))?;
    drop(run);
    report(a, &ns, &state, &path, &specs, interrupted);
    Ok(if interrupted { 130 } else { 0 })
}

fn arch_names(ns: &NseSpace, arch: &Arch) -> String {
    arch.iter().map(|ops| if ops.is_empty() { "-".to_string() } else { ops.iter().map(|&o| ns.spec.pool[o].name()).collect::<Vec<_>>().join("+") }).collect::<Vec<_>>().join(" | ")
}

fn report(a: &SearchArgs, ns: &NseSpace, state: &NseState, path: &Path, specs: &[PathBuf], interrupted: bool) {
    let why = if interrupted {
        format!("interrupted: stopped cleanly after round {} epoch; continue with `nasc search {} --strategy nse --resume --store {}`", state.round + 1, a.file, path.display())
    } else {
        format!("finished after {} round(s)", state.history.len())
    };
    let rounds: Vec<Value> = state
        .history
        .iter()
        .map(|r| {
            let best = r.front.iter().max_by(|x, y| x.accuracy.total_cmp(&y.accuracy));
            let mut m = Map::new();
            m.insert("round".into(), json!(r.round + 1));
            m.insert("active_ops".into(), json!(r.space.iter().map(Vec::len).sum::<usize>()));
            m.insert("dropped".into(), json!(r.dropped.iter().map(|&(l, o)| format!("{}:{}", l, ns.spec.pool[o].name())).collect::<Vec<_>>()));
            m.insert("evaluated".into(), json!(r.samples.len()));
            m.insert("front".into(), json!(r.front.iter().map(|s| json!({"arch": arch_names(ns, &s.arch), "accuracy": s.accuracy, "macs": s.macs})).collect::<Vec<_>>()));
            m.insert("best_accuracy".into(), json!(best.map(|b| b.accuracy)));
            m.insert("train_loss".into(), json!(r.train_loss));
            m.insert("seconds".into(), json!(r.seconds));
            Value::Object(m)
        })
        .collect();
    match a.format {
        Format::Json => {
            let j = json!({"store": path.display().to_string(), "finished": state.finished, "stop_message": why, "rounds": rounds, "round_specs": specs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()});
            println!("{}", serde_json::to_string_pretty(&j).unwrap_or_default());
        }
        Format::Text => {
            println!("{why}; store {}", path.display());
            for r in &state.history {
                let best = r.front.iter().max_by(|x, y| x.accuracy.total_cmp(&y.accuracy));
                println!(
                    "round {}: {} active ops, {} dropped, {} evaluated, front of {}, best supernet accuracy {}",
                    r.round + 1,
                    r.space.iter().map(Vec::len).sum::<usize>(),
                    r.dropped.len(),
                    r.samples.len(),
                    r.front.len(),
                    best.map_or("-".into(), |b| format!("{:.2}% at {:.3}M MACs", 100.0 * b.accuracy, b.macs))
                );
            }
            if let Some(last) = state.history.last() {
                println!("last front:");
                for s in &last.front {
                    println!("  {:.2}%  {:.3}M MACs  {}", 100.0 * s.accuracy, s.macs, arch_names(ns, &s.arch));
                }
            }
            if !specs.is_empty() {
                println!("round specs (search any of them with any strategy: `nasc search FILE --strategy re --evaluator train:...`):");
                for s in specs {
                    println!("  {}", s.display());
                }
            }
            println!("next:\n  nasc report {} --plots plots/   # every evaluated sub-network and the Pareto front", path.display());
        }
    }
}

//! The `train` evaluator for `nasc search`: each trial builds the candidate's network
//! (`Space::graph_of` -> [`netconv::to_kernels`]) and trains it with the kernels crate's trainer
//! (the runtime crate does not depend on the kernels, so this evaluator lives in the runner).
//!
//! `train:dataset=digits|mnist|fashion-mnist|cifar10|PATH,epochs=E,batch=B,backend=cpu|wgpu|auto,
//! valid_fraction=F,optimizer=sgd|adamw,lr=LR,limit=N,augment=on|off`
//!
//! - reward: accuracy on the validation split in percent (as the benchmarks' tables and
//!   `nasc train`), a fixed-seed random `valid_fraction` of the training set (the same split
//!   for every trial; the embedded digits have a fixed 1257/180/360 split);
//! - reported: test accuracy, percent;
//! - metrics: `train_seconds` (wall time of the training steps only), `images_per_s` (training
//!   throughput), `val_loss`, `test_loss`, `train_probes` (`train_seconds` in units of a fixed
//!   workload timed between the steps, `nasc_kernels::speed`: it follows the machine's speed,
//!   so it drifts less than wall time on a shared or virtual machine; the time objective for
//!   POPNAS there);
//! - cost: wall seconds of the whole trial (training and evaluation). The runner counts costs
//!   on its simulated clock, so under `--time-budget` that clock is wall time spent training
//!   (not a simulation), and it is not reproducible: a resumed run redoes the uncommitted
//!   trials with other costs. Costs are wall seconds ([`Evaluator::wall_clock_costs`]): the
//!   trial that takes the clock past a `--time-budget` is kept (it was really trained; the
//!   NAS-Bench-201 rule of dropping it is for simulated costs), and the report says "wall";
//! - a NaN/inf loss (or a network the trainer cannot build) fails the trial; the runner records
//!   it as failed and the search goes on.
//!
//! The training seed of a trial is `splitmix64(run seed, trial id)`: a pure function of the
//! run, so a resumed run asks for the same trainings.
use crate::command_eval::{self, RunContext};
use crate::error::EvaluatorError;
use crate::netconv;
use nasc_compiler::rng::splitmix64;
use nasc_kernels::data::{self, Augment, LoadOptions, Splits};
use nasc_kernels::gpu::Gpu;
use nasc_kernels::train::{check_shapes, open_device, train_graph, Device, TrainConfig};
use nasc_runtime::eval::{self, EvalError, EvalRequest, EvalResult, Evaluator};
use nasc_runtime::{Budget, SearchSpace};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

pub(crate) const OPTIONS: &[&str] = &["dataset", "epochs", "batch", "backend", "valid_fraction", "optimizer", "lr", "limit", "augment"];

#[derive(Clone, Debug, PartialEq)]
struct Opts {
    dataset: String,
    epochs: usize,
    batch: usize,
    backend: String,
    valid_fraction: f64,
    optimizer: String,
    lr: Option<f32>,
    limit: Option<usize>,
    augment: bool,
}

impl Opts {
    fn parse(o: &BTreeMap<String, String>) -> Result<Opts, EvaluatorError> {
        for k in o.keys() {
            if !OPTIONS.contains(&k.as_str()) {
                return Err(EvaluatorError::TrainOption { option: k.clone() });
            }
        }
        let bad = |key: &str, value: &dyn std::fmt::Display, expected: &'static str| EvaluatorError::TrainValue { key: key.to_string(), value: value.to_string(), expected };
        fn num<T: std::str::FromStr>(o: &BTreeMap<String, String>, key: &str, what: &'static str) -> Result<Option<T>, EvaluatorError> {
            o.get(key).map(|v| v.parse::<T>().map_err(|_| EvaluatorError::TrainValue { key: key.to_string(), value: v.clone(), expected: what })).transpose()
        }
        let positive = |key: &str| -> Result<Option<usize>, EvaluatorError> {
            match num::<usize>(o, key, "a positive integer")? {
                Some(0) => Err(bad(key, &0, "a positive integer")),
                x => Ok(x),
            }
        };
        let backend = o.get("backend").map(|s| s.to_lowercase()).unwrap_or_else(|| "auto".into());
        if !["cpu", "wgpu", "auto"].contains(&backend.as_str()) {
            return Err(bad("backend", &backend, "cpu, wgpu or auto"));
        }
        let optimizer = o.get("optimizer").map(|s| s.to_lowercase()).unwrap_or_else(|| "sgd".into());
        if !["sgd", "adamw"].contains(&optimizer.as_str()) {
            return Err(bad("optimizer", &optimizer, "sgd or adamw"));
        }
        let valid_fraction = num::<f64>(o, "valid_fraction", "a number in (0, 0.9]")?.unwrap_or(0.1);
        if !(valid_fraction > 0.0 && valid_fraction <= 0.9) {
            return Err(bad("valid_fraction", &valid_fraction, "a number in (0, 0.9] (the reward is the validation accuracy)"));
        }
        let lr = num::<f32>(o, "lr", "a positive number")?;
        if let Some(l) = lr.filter(|l| !(l.is_finite() && *l > 0.0)) {
            return Err(bad("lr", &l, "a positive number"));
        }
        let augment = match o.get("augment").map(|s| s.to_lowercase()).as_deref() {
            None | Some("on") | Some("true") => true,
            Some("off") | Some("false") => false,
            Some(v) => return Err(bad("augment", &v, "on or off")),
        };
        let dataset = o.get("dataset").cloned().unwrap_or_else(|| "digits".into());
        if dataset.is_empty() {
            return Err(EvaluatorError::EmptyDataset);
        }
        Ok(Opts {
            dataset,
            epochs: positive("epochs")?.unwrap_or(1),
            batch: positive("batch")?.unwrap_or(32),
            backend,
            valid_fraction,
            optimizer,
            lr,
            limit: positive("limit")?,
            augment,
        })
    }

    /// The canonical evaluator string (stored with the run; `make` of it gives the same
    /// evaluator back).
    fn name(&self) -> String {
        let mut s = format!(
            "train:dataset={},epochs={},batch={},backend={},valid_fraction={},optimizer={}",
            self.dataset, self.epochs, self.batch, self.backend, self.valid_fraction, self.optimizer
        );
        if let Some(lr) = self.lr {
            s += &format!(",lr={lr}");
        }
        if let Some(l) = self.limit {
            s += &format!(",limit={l}");
        }
        if !self.augment {
            s += ",augment=off";
        }
        s
    }

    fn config(&self) -> TrainConfig {
        let mut c = if self.optimizer == "adamw" { TrainConfig::adamw(self.epochs, self.batch) } else { TrainConfig::sgd(self.epochs, self.batch) };
        if let Some(lr) = self.lr {
            c.lr = lr;
        }
        if !self.augment {
            c.augment = Some(Augment::default());
        }
        // the reward is the last epoch's validation accuracy
        c.val_every_epoch = false;
        c
    }
}

/// Loaded datasets, shared by the evaluators of one process (`nasc search` builds its evaluator
/// more than once).
fn load(dataset: &str, valid_fraction: f64) -> Result<Arc<Splits>, EvaluatorError> {
    /// (dataset, valid fraction bits) -> its splits
    type Cache = Mutex<HashMap<(String, u64), Arc<Splits>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (dataset.to_string(), valid_fraction.to_bits());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(s) = cache.lock().map_err(|_| EvaluatorError::CachePoisoned)?.get(&key) {
        return Ok(s.clone());
    }
    let s = Arc::new(data::load(dataset, &LoadOptions { val_fraction: valid_fraction, data_dir: None }).map_err(EvaluatorError::Data)?);
    if s.val.is_empty() {
        return Err(EvaluatorError::NoValidation { dataset: dataset.to_string(), valid_fraction });
    }
    cache.lock().map_err(|_| EvaluatorError::CachePoisoned)?.insert(key, s.clone());
    Ok(s)
}

pub struct TrainEval {
    opts: Opts,
    data: Arc<Splits>,
    gpu: Option<Gpu>,
    /// Its own pool of CPU threads when several trials train at once (`--workers W`: the cores
    /// split between them); None: rayon's global pool, every core.
    pool: Option<rayon::ThreadPool>,
}

impl TrainEval {
    pub fn new(opts: &BTreeMap<String, String>, space: &SearchSpace) -> Result<TrainEval, EvaluatorError> {
        let opts = Opts::parse(opts)?;
        let mut data = load(&opts.dataset, opts.valid_fraction)?;
        if let Some(l) = opts.limit {
            let mut d = (*data).clone();
            d.train = d.train.take(l);
            data = Arc::new(d);
        }
        // the space must fit the data: checked on the default candidate's network
        let s = space.inner();
        let g = netconv::network(s, &s.default_candidate()).map_err(EvaluatorError::DefaultCandidate)?;
        // names the parameter whose value is the network's (else the usual name of one)
        let hint = |v: usize, want: usize, usual: &str| {
            let mut ps: Vec<&String> = s.consts().iter().filter(|(_, &x)| x == v as f64).map(|(k, _)| k).collect();
            ps.sort();
            match ps.iter().find(|p| p.as_str() == usual).or(ps.first()) {
                Some(p) => format!(" (try `--set {p}={want}`)"),
                None => format!(" (the spec sets it with a literal: declare `param {usual} = {v};`, use it, and run with `--set {usual}={want}`)"),
            }
        };
        let net_in = g.input_shape();
        if let Err(source) = check_shapes(net_in, data.train.shape, &data.name) {
            let hint = if net_in[1..] != data.train.shape[1..] { hint(net_in[1], data.train.shape[1], "side") } else { hint(net_in[0], data.train.shape[0], "channels") };
            return Err(EvaluatorError::Shapes { source, hint });
        }
        // more outputs than classes would train logits no label ever asks for
        if g.classes() != data.classes {
            let hint = hint(g.classes(), data.classes, "classes");
            return Err(EvaluatorError::Classes { outputs: g.classes(), dataset: data.name.clone(), classes: data.classes, hint });
        }
        if data.test.is_empty() {
            return Err(EvaluatorError::NoTest { dataset: opts.dataset.clone() });
        }
        opts.config().check().map_err(EvaluatorError::Setup)?;
        let device = match opts.backend.as_str() {
            "cpu" => Device::Cpu,
            "wgpu" => Device::Wgpu,
            _ => Device::Auto,
        };
        let gpu = open_device(device).map_err(EvaluatorError::Setup)?;
        if gpu.is_none() {
            // the search's trials train on the CPU: let the heap keep each step's freed buffers
            nasc_kernels::cpu::retain_freed_memory();
        }
        Ok(TrainEval { opts, data, gpu, pool: None })
    }

    /// The loaded splits (the training split cut to `limit`).
    pub(crate) fn data(&self) -> Arc<Splits> {
        self.data.clone()
    }

    /// The data options in canonical form: `dataset=D,valid_fraction=F[,limit=N][,augment=off]`.
    pub(crate) fn data_name(&self) -> String {
        let o = &self.opts;
        let mut s = format!("dataset={},valid_fraction={}", o.dataset, o.valid_fraction);
        if let Some(l) = o.limit {
            s += &format!(",limit={l}");
        }
        if !o.augment {
            s += ",augment=off";
        }
        s
    }

    fn one(&self, space: &SearchSpace, r: &EvalRequest) -> Result<EvalResult, String> {
        match &self.pool {
            Some(p) => p.install(|| self.train_one(space, r)),
            None => self.train_one(space, r),
        }
    }

    fn train_one(&self, space: &SearchSpace, r: &EvalRequest) -> Result<EvalResult, String> {
        let start = std::time::Instant::now();
        let s = space.inner();
        let graph = netconv::network(s, r.candidate).map_err(|e| format!("the network cannot be trained: {e}"))?;
        let mut cfg = self.opts.config();
        cfg.seed = splitmix64(r.seed, r.id);
        let rep = train_graph(self.gpu.as_ref(), graph, &self.data, &cfg, &mut |_| {}).map_err(|e| format!("training failed: {e}"))?;
        let val = rep.epochs.last().and_then(|e| e.val_accuracy).ok_or("training failed: no validation accuracy")?;
        let val_loss = rep.epochs.last().and_then(|e| e.val_loss).unwrap_or(f64::NAN);
        if !val.is_finite() || !rep.test_accuracy.is_finite() {
            return Err("training failed: the accuracy is not finite".into());
        }
        // percent, as the benchmarks' tables and `nasc train` report accuracies
        Ok(EvalResult {
            reward: 100.0 * val,
            reported: 100.0 * rep.test_accuracy,
            metrics: vec![rep.train_seconds, rep.images_per_s, val_loss, rep.test_loss, rep.train_probes],
            cost: start.elapsed().as_secs_f64(),
        })
    }
}

impl Evaluator for TrainEval {
    fn name(&self) -> String {
        self.opts.name()
    }
    fn metric_names(&self) -> Vec<String> {
        ["train_seconds", "images_per_s", "val_loss", "test_loss", "train_probes"].iter().map(|s| s.to_string()).collect()
    }
    /// Trials of a batch train one after another (each uses all the backend's threads).
    fn evaluate(&mut self, space: &SearchSpace, batch: &[EvalRequest]) -> Vec<Result<EvalResult, String>> {
        batch.iter().map(|r| self.one(space, r)).collect()
    }
    /// Real training is slow: 10 trials unless a budget is given.
    fn default_budget(&self) -> Budget {
        Budget::Trials(10)
    }
}

/// `eval::make` plus the `train` and `command` evaluators.
pub fn make(spec: &str, space: &SearchSpace) -> Result<Box<dyn Evaluator>, EvaluatorError> {
    make_in(spec, space, &RunContext::default())
}

/// [`make`] for a run whose trial folders and spec `ctx` knows (`nasc search`).
pub fn make_in(spec: &str, space: &SearchSpace, ctx: &RunContext) -> Result<Box<dyn Evaluator>, EvaluatorError> {
    make_in_cores(spec, space, ctx, None)
}

/// [`make_in`] for one of several trials that run at once: a `train` evaluator trains on its own
/// pool of `cores` CPU threads (None: every core). The runtime's evaluator factories are closures
/// over this that render its error: a factory's failure is a trial's, a text.
pub fn make_in_cores(spec: &str, space: &SearchSpace, ctx: &RunContext, cores: Option<usize>) -> Result<Box<dyn Evaluator>, EvaluatorError> {
    if command_eval::is_command(spec) {
        return Ok(Box::new(command_eval::CommandEval::new(spec, ctx.clone())?));
    }
    let (name, opts) = eval::parse_spec(spec)?;
    if name == "train" {
        let mut e = TrainEval::new(&opts, space)?;
        if let Some(n) = cores.filter(|n| *n < crate::cores::cores_per_trial(1)) {
            e.pool = Some(rayon::ThreadPoolBuilder::new().num_threads(n).build().map_err(|source| EvaluatorError::Threads { threads: n, source })?);
        }
        return Ok(Box::new(e));
    }
    // an unknown name: the known ones include `train`
    eval::make(spec, space).map_err(|e| match e {
        EvalError::Unknown { name } => EvaluatorError::Unknown { name },
        e => EvaluatorError::Spec(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(s: &str) -> Result<Opts, EvaluatorError> {
        let (_, o) = eval::parse_spec(s)?;
        Opts::parse(&o)
    }

    #[test]
    fn options_round_trip_through_the_name() {
        let o = opts("train:dataset=mnist,epochs=2,batch=64,backend=cpu,valid_fraction=0.2,lr=0.05,limit=500,augment=off").unwrap();
        assert_eq!(o.name(), "train:dataset=mnist,epochs=2,batch=64,backend=cpu,valid_fraction=0.2,optimizer=sgd,lr=0.05,limit=500,augment=off");
        assert_eq!(opts(&o.name()).unwrap(), o);
        let d = opts("train").unwrap();
        assert_eq!(d.name(), "train:dataset=digits,epochs=1,batch=32,backend=auto,valid_fraction=0.1,optimizer=sgd");
        assert_eq!(opts(&d.name()).unwrap(), d);
    }

    #[test]
    fn bad_options_are_explained() {
        for (s, want) in [
            ("train:epochs=0", "`epochs=0`: expected a positive integer"),
            ("train:batch=x", "`batch=x`: expected a positive integer"),
            ("train:backend=tpu", "`backend=tpu`: expected cpu, wgpu or auto"),
            ("train:valid_fraction=0", "`valid_fraction=0`"),
            ("train:valid_fraction=1.5", "`valid_fraction=1.5`"),
            ("train:lr=-1", "`lr=-1`: expected a positive number"),
            ("train:optimizer=adam", "`optimizer=adam`: expected sgd or adamw"),
            ("train:augment=maybe", "`augment=maybe`: expected on or off"),
            ("train:epoch=3", "has no option `epoch`"),
        ] {
            let e = opts(s).unwrap_err().to_string();
            assert!(e.contains(want), "{s}: {e}");
        }
    }

    #[test]
    fn config_follows_the_options() {
        let c = opts("train:optimizer=adamw,lr=0.003,epochs=4,batch=16,augment=off").unwrap().config();
        assert_eq!((c.epochs, c.batch, c.lr), (4, 16, 0.003));
        assert!(matches!(c.optim, nasc_kernels::model::Optim::AdamW(_)));
        assert_eq!(c.augment, Some(Augment::default()));
        let c = opts("train").unwrap().config();
        assert_eq!(c.lr, 0.1);
        assert_eq!(c.augment, None);
    }
}

//! The training loop: SGD (momentum, Nesterov, weight decay) or AdamW with a per-step cosine
//! schedule, seeded shuffling and augmentation, per-epoch loss/accuracy, validation and test
//! accuracy, throughput. A NaN or infinite loss stops training with [`TrainError::NonFinite`]
//! (the trial failed; a caller running many trials goes on).

use crate::backend::Ops;
use crate::data::{batch, Augment, Dataset, Splits};
use crate::error::SetupError;
use crate::model::{Model, Optim};
use crate::rng::Rng;
use crate::shape::{cosine_lr, AdamW, Sgd};
use crate::speed::SpeedProbe;
use std::time::Instant;

/// Hyper-parameters of one training run.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch: usize,
    pub optim: Optim,
    /// Base learning rate (cosine-annealed per step to `eta_min` over the whole run).
    pub lr: f32,
    pub eta_min: f32,
    /// Seeds shuffling and augmentation (the model's init has its own RNG).
    pub seed: u64,
    /// `None`: the dataset's standard augmentation ([`Splits::augment`]).
    pub augment: Option<Augment>,
    /// Batch size for evaluation.
    pub eval_batch: usize,
    /// Evaluate on the validation split after every epoch (else only after the last).
    pub val_every_epoch: bool,
}

impl TrainConfig {
    /// The NAS-Bench-201 recipe: SGD lr 0.1, momentum 0.9, Nesterov, weight decay 5e-4,
    /// cosine to 0.
    pub fn sgd(epochs: usize, batch: usize) -> Self {
        TrainConfig {
            epochs,
            batch,
            optim: Optim::Sgd(Sgd { momentum: 0.9, nesterov: true, weight_decay: 5e-4 }),
            lr: 0.1,
            eta_min: 0.0,
            seed: 0,
            augment: None,
            eval_batch: 256,
            val_every_epoch: true,
        }
    }
    /// AdamW with PyTorch's defaults (lr 1e-3, weight decay 0.01), cosine to 0.
    pub fn adamw(epochs: usize, batch: usize) -> Self {
        TrainConfig { optim: Optim::AdamW(AdamW::default()), lr: 1e-3, ..Self::sgd(epochs, batch) }
    }
    /// Refuses what no training can use: zero epochs or batch, a learning rate that is not a
    /// positive finite number, an `eta_min` outside `[0, lr]`, non-finite or negative optimizer
    /// constants.
    pub fn check(&self) -> Result<(), SetupError> {
        if self.epochs == 0 || self.batch == 0 || self.eval_batch == 0 {
            return Err(SetupError::Counts { epochs: self.epochs, batch: self.batch, eval_batch: self.eval_batch });
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(SetupError::LearningRate { lr: self.lr });
        }
        if !(self.eta_min >= 0.0 && self.eta_min <= self.lr) {
            return Err(SetupError::FinalLearningRate { eta_min: self.eta_min, lr: self.lr });
        }
        let consts: Vec<(&str, f32)> = match &self.optim {
            Optim::Sgd(o) => vec![("momentum", o.momentum), ("weight decay", o.weight_decay)],
            Optim::AdamW(o) => vec![("beta1", o.beta1), ("beta2", o.beta2), ("eps", o.eps), ("weight decay", o.weight_decay)],
        };
        if let Some((k, v)) = consts.into_iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
            return Err(SetupError::OptimizerConstant { name: k, value: v });
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// 1-based.
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    /// Learning rate of the epoch's last step.
    pub lr: f32,
    /// Training time of the epoch (without evaluation).
    pub seconds: f64,
    pub images_per_s: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TrainReport {
    pub backend: String,
    pub params: usize,
    pub epochs: Vec<EpochStats>,
    pub val_accuracy: Option<f64>,
    pub test_loss: f64,
    pub test_accuracy: f64,
    /// Time spent in training steps (batch assembly, forward, backward, update).
    pub train_seconds: f64,
    /// `train_seconds` in units of the [`SpeedProbe`] (on the CPU backend run every
    /// [`PROBE_EVERY`] steps, on others once an epoch; its time is not counted in
    /// `train_seconds`): the training's time on a machine whose speed does not drift. A ratio,
    /// comparable between trainings on one machine.
    pub train_probes: f64,
    /// Training throughput: training images / `train_seconds`.
    pub images_per_s: f64,
    /// Wall time of the whole run, evaluation included.
    pub total_seconds: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TrainError {
    /// The loss became NaN or infinite (epoch and step are 1-based).
    NonFinite { epoch: usize, step: usize, loss: f32 },
    /// The model and data do not fit together, or the configuration is invalid.
    Setup(SetupError),
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainError::NonFinite { epoch, step, loss } => write!(f, "the loss became {loss} at epoch {epoch}, step {step}: training diverged"),
            TrainError::Setup(s) => std::fmt::Display::fmt(s, f),
        }
    }
}

impl std::error::Error for TrainError {}

/// What the loop reports as it goes.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A training step finished (1-based `step` of `steps` in the epoch).
    Step {
        epoch: usize,
        step: usize,
        steps: usize,
        loss: f32,
    },
    Epoch(&'a EpochStats),
    /// Evaluating a split ("validation" or "test").
    Evaluating(&'static str),
}

/// Checks that images of `data_shape` can feed a network whose input is `net_shape`: equal, or
/// one grey channel replicated to the network's channels.
pub fn check_shapes(net_shape: [usize; 3], data_shape: [usize; 3], dataset: &str) -> Result<(), SetupError> {
    if net_shape == data_shape || (data_shape[0] == 1 && net_shape[1..] == data_shape[1..]) {
        return Ok(());
    }
    Err(SetupError::Shapes { net: net_shape, data: data_shape, dataset: dataset.to_string() })
}

fn to_net(x: Vec<f32>, n: usize, data_shape: [usize; 3], net_c: usize) -> Vec<f32> {
    if data_shape[0] == net_c {
        x
    } else {
        batch::expand_channels(&x, n, data_shape[0], net_c, data_shape[1] * data_shape[2])
    }
}

fn correct(logits: &[f32], labels: &[u32], k: usize) -> usize {
    logits
        .chunks(k)
        .zip(labels)
        .filter(|(row, &l)| {
            let mut best = 0;
            for j in 1..k {
                if row[j] > row[best] {
                    best = j;
                }
            }
            best == l as usize
        })
        .count()
}

/// Mean loss and accuracy of the model (eval mode) on `ds`, normalized as `data` says.
pub fn evaluate<B: Ops>(model: &mut Model<B>, data: &Splits, ds: &Dataset, batch_size: usize) -> (f64, f64) {
    if ds.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let net_c = model.graph().input_shape()[0];
    let k = model.classes();
    let mut rng = Rng::new(0);
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    let (mut loss, mut hits) = (0.0f64, 0usize);
    let order: Vec<usize> = (0..ds.len()).collect();
    for idx in order.chunks(batch_size.max(1)) {
        batch::fill(ds, idx, &data.mean, &data.std, Augment::default(), &mut rng, &mut x, &mut labels);
        let xin = to_net(std::mem::take(&mut x), idx.len(), ds.shape, net_c);
        let logits = model.forward(&xin, idx.len(), false);
        let (l, _) = model.loss(&logits, &labels);
        let host = model.backend.download(&logits);
        loss += l as f64 * idx.len() as f64;
        hits += correct(&host, &labels, k);
    }
    model.release();
    (loss / ds.len() as f64, hits as f64 / ds.len() as f64)
}

/// Training steps between two runs of the [`SpeedProbe`] (the first runs after step 1).
pub const PROBE_EVERY: usize = 16;

/// Trains `model` on `data.train`, evaluating on `data.val` and finally on `data.test`.
pub fn train<B: Ops>(model: &mut Model<B>, data: &Splits, cfg: &TrainConfig, on: &mut dyn FnMut(Progress)) -> Result<TrainReport, TrainError> {
    let start = Instant::now();
    let net_shape = model.graph().input_shape();
    check_shapes(net_shape, data.train.shape, &data.name).map_err(TrainError::Setup)?;
    if model.classes() < data.classes {
        return Err(TrainError::Setup(SetupError::Classes { outputs: model.classes(), dataset: data.name.clone(), classes: data.classes }));
    }
    if cfg.batch == 0 || data.train.is_empty() {
        return Err(TrainError::Setup(SetupError::Empty));
    }
    cfg.check().map_err(TrainError::Setup)?;
    if data.test.is_empty() {
        return Err(TrainError::Setup(SetupError::NoTest { dataset: data.name.clone() }));
    }
    let aug = cfg.augment.unwrap_or(data.augment);
    let k = model.classes();
    let n = data.train.len();
    let steps = n.div_ceil(cfg.batch);
    let total = steps * cfg.epochs;
    let mut shuffle_rng = Rng::derive(cfg.seed, 2);
    let mut aug_rng = Rng::derive(cfg.seed, 3);
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    let mut epochs = Vec::new();
    let mut t = 0usize;
    let mut train_seconds = 0.0;
    let mut probe = SpeedProbe::default();
    // on the CPU backend the probe runs between steps; elsewhere once an epoch, after the
    // epoch's flush (a probe between steps would stall the GPU's queue)
    let probe_steps = model.backend.kind() == "cpu";
    for epoch in 1..=cfg.epochs {
        let t0 = Instant::now();
        let probe0 = probe.seconds;
        let order = batch::shuffled(n, &mut shuffle_rng);
        let (mut loss_sum, mut hits) = (0.0f64, 0usize);
        let mut lr = cfg.lr;
        for (s, idx) in order.chunks(cfg.batch).enumerate() {
            batch::fill(&data.train, idx, &data.mean, &data.std, aug, &mut aug_rng, &mut x, &mut labels);
            let xin = to_net(std::mem::take(&mut x), idx.len(), data.train.shape, net_shape[0]);
            let logits = model.forward(&xin, idx.len(), true);
            let (loss, d) = model.loss(&logits, &labels);
            if !loss.is_finite() {
                return Err(TrainError::NonFinite { epoch, step: s + 1, loss });
            }
            hits += correct(&model.backend.download(&logits), &labels, k);
            model.backward(d);
            lr = cosine_lr(cfg.lr, cfg.eta_min, t, total);
            model.step(&cfg.optim, lr);
            t += 1;
            if probe_steps && t % PROBE_EVERY == 1 {
                probe.run();
            }
            loss_sum += loss as f64 * idx.len() as f64;
            on(Progress::Step { epoch, step: s + 1, steps, loss });
        }
        model.backend.flush();
        if !probe_steps {
            probe.run();
        }
        let probed = probe.seconds - probe0;
        let secs = t0.elapsed().as_secs_f64() - probed;
        train_seconds += secs;
        model.release();
        let (val_loss, val_accuracy) = if !data.val.is_empty() && (cfg.val_every_epoch || epoch == cfg.epochs) {
            on(Progress::Evaluating("validation"));
            let (l, a) = evaluate(model, data, &data.val, cfg.eval_batch);
            (Some(l), Some(a))
        } else {
            (None, None)
        };
        let st = EpochStats {
            epoch,
            train_loss: loss_sum / n as f64,
            train_accuracy: hits as f64 / n as f64,
            val_loss,
            val_accuracy,
            lr,
            seconds: secs,
            images_per_s: n as f64 / secs.max(1e-9),
        };
        on(Progress::Epoch(&st));
        epochs.push(st);
    }
    on(Progress::Evaluating("test"));
    let (test_loss, test_accuracy) = evaluate(model, data, &data.test, cfg.eval_batch);
    Ok(TrainReport {
        backend: model.backend.kind().to_string(),
        params: model.num_params(),
        val_accuracy: epochs.last().and_then(|e| e.val_accuracy),
        epochs,
        test_loss,
        test_accuracy,
        train_seconds,
        // a clock too coarse to time a probe must not make the metric infinite
        train_probes: train_seconds / probe.mean().max(1e-9),
        images_per_s: (n * cfg.epochs) as f64 / train_seconds.max(1e-9),
        total_seconds: start.elapsed().as_secs_f64(),
    })
}

/// Which backend [`train_graph`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Cpu,
    /// wgpu on the adapter [`crate::Gpu::new`] picks (fails when none opens).
    Wgpu,
    /// wgpu on a hardware GPU when one opens, else the CPU (a CPU adapter such as lavapipe is
    /// slower than the native CPU backend, so it is not used).
    Auto,
}

/// Opens the backend for `d`: `Ok(Some(gpu))` for wgpu, `Ok(None)` for the CPU.
pub fn open_device(d: Device) -> Result<Option<crate::Gpu>, SetupError> {
    match d {
        Device::Cpu => Ok(None),
        Device::Wgpu => crate::Gpu::new().map(Some).map_err(SetupError::NoAdapter),
        Device::Auto => Ok(crate::Gpu::new().ok().filter(|g| format!("{:?}", g.adapter_info().device_type) != "Cpu")),
    }
}

/// Builds `graph` (parameters initialized from `Rng::derive(cfg.seed, 1)`) on the GPU when
/// `gpu` is given, else on the CPU, and trains it: one call for a search's trial.
pub fn train_graph(gpu: Option<&crate::Gpu>, graph: crate::graph::Graph, data: &Splits, cfg: &TrainConfig, on: &mut dyn FnMut(Progress)) -> Result<TrainReport, TrainError> {
    let mut init = Rng::derive(cfg.seed, 1);
    match gpu {
        Some(g) => train(&mut Model::new(g.clone(), graph, &mut init).map_err(|e| TrainError::Setup(e.into()))?, data, cfg, on),
        None => train(&mut Model::new(crate::backend::CpuBackend, graph, &mut init).map_err(|e| TrainError::Setup(e.into()))?, data, cfg, on),
    }
}

/// A trained network's parameters and BN running statistics on the host, in the flat layouts
/// of [`crate::init::Layout`] (parameters in node order, weight before bias, gamma before beta;
/// per BN node: running mean, then running var).
#[derive(Clone, Debug, PartialEq)]
pub struct Trained {
    pub params: Vec<f32>,
    pub stats: Vec<f32>,
}

/// [`train_graph`] that also returns the trained parameters and running statistics (`nasc
/// train --save`): the same initialization, data order and steps, so the same report.
pub fn train_graph_weights(
    gpu: Option<&crate::Gpu>,
    graph: crate::graph::Graph,
    data: &Splits,
    cfg: &TrainConfig,
    on: &mut dyn FnMut(Progress),
) -> Result<(TrainReport, Trained), TrainError> {
    fn go<B: Ops>(mut m: Model<B>, data: &Splits, cfg: &TrainConfig, on: &mut dyn FnMut(Progress)) -> Result<(TrainReport, Trained), TrainError> {
        let r = train(&mut m, data, cfg, on)?;
        Ok((r, Trained { params: m.params_host(), stats: m.stats_host() }))
    }
    let mut init = Rng::derive(cfg.seed, 1);
    match gpu {
        Some(g) => go(Model::new(g.clone(), graph, &mut init).map_err(|e| TrainError::Setup(e.into()))?, data, cfg, on),
        None => go(Model::new(crate::backend::CpuBackend, graph, &mut init).map_err(|e| TrainError::Setup(e.into()))?, data, cfg, on),
    }
}

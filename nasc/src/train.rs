//! `nasc train`: build a candidate's network from a spec, train it on a dataset with the CPU or
//! the wgpu backend, report per-epoch loss/accuracy, test accuracy and throughput.
use crate::error::CliError;
use crate::netconv;
use crate::Format;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nasc_kernels::data::{self, Augment, LoadOptions, Splits};
use nasc_kernels::gpu::Gpu;
use nasc_kernels::graph::Graph;
use nasc_kernels::train::{check_shapes, open_device, train_graph, train_graph_weights, Device, EpochStats, Progress, TrainConfig, TrainError, TrainReport, Trained};
use serde_json::json;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum BackendArg {
    /// wgpu on a hardware GPU when one opens, else the CPU
    Auto,
    Wgpu,
    Cpu,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum OptimArg {
    /// SGD, momentum 0.9, Nesterov, weight decay 5e-4 (lr 0.1)
    Sgd,
    /// AdamW, PyTorch defaults (lr 1e-3, weight decay 0.01)
    Adamw,
}

/// Train one candidate of a spec on a dataset and report its test accuracy.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// The spec file.
    pub file: String,
    /// The candidate, in any of the spec's name formats or canonical form (default: the
    /// spec's default candidate).
    #[arg(long)]
    pub candidate: Option<String>,
    /// digits (embedded), mnist, fashion-mnist, cifar10, or a folder of IDX / CIFAR-10 files.
    /// Named datasets are looked up in $NASC_DATA_DIR, else in data/images or
    /// shared/data/images of the current folder or an ancestor.
    #[arg(long, default_value = "digits")]
    pub dataset: String,
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Seeds the parameter init, shuffling and augmentation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "sgd")]
    pub optimizer: OptimArg,
    /// Base learning rate (cosine-annealed to 0 per step).
    #[arg(long)]
    pub lr: Option<f32>,
    /// Fraction of the training images held out for validation (digits: fixed 1257/180/360).
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f64,
    /// Train on at most this many images (a quick run).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Turn off the dataset's standard augmentation (CIFAR-10: crop 4 + flip).
    #[arg(long)]
    pub no_augment: bool,
    /// CPU threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write the trained weights and BN running statistics to PATH (safetensors; docs/export.md).
    #[arg(long, value_name = "PATH")]
    pub save: Option<String>,
}

fn fail(format: Format, msg: &str, code: u8) -> u8 {
    match format {
        Format::Json => println!("{}", json!({"status": "error", "error": msg})),
        Format::Text => eprintln!("error: {msg}"),
    }
    code
}

/// Names of the spec's parameters whose value equals `v` (hints for `--set`).
fn params_equal(space: &nasc_compiler::Space, v: usize) -> Vec<String> {
    let mut names: Vec<String> = space.consts().iter().filter(|(_, &x)| x == v as f64).map(|(k, _)| k.clone()).collect();
    names.sort();
    names
}

fn epoch_json(e: &EpochStats) -> serde_json::Value {
    json!({"epoch": e.epoch, "train_loss": e.train_loss, "train_accuracy": e.train_accuracy, "val_loss": e.val_loss,
           "val_accuracy": e.val_accuracy, "lr": e.lr, "seconds": e.seconds, "images_per_s": e.images_per_s})
}

fn epoch_line(e: &EpochStats, total: usize) -> String {
    let val = e.val_accuracy.map(|a| format!("  val acc {:6.2}%", 100.0 * a)).unwrap_or_default();
    format!("epoch {}/{total}  loss {:.4}  train acc {:6.2}%{val}  lr {:.4}  {:.1}s  {:.0} img/s", e.epoch, e.train_loss, 100.0 * e.train_accuracy, e.lr, e.seconds, e.images_per_s)
}

/// Trains on the CPU or `gpu` with a progress bar (stderr, only on a terminal); with `keep`, also
/// returns the trained weights.
fn run(gpu: Option<&Gpu>, graph: Graph, data: &Splits, cfg: &TrainConfig, text: bool, keep: bool) -> Result<(TrainReport, Option<Trained>), CliError> {
    let steps = data.train.len().div_ceil(cfg.batch) * cfg.epochs;
    let bar = ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template("{spinner} epoch {prefix} [{bar:30}] {pos}/{len} steps, loss {msg} ({elapsed}, eta {eta})").unwrap().progress_chars("=> "));
    let epochs = cfg.epochs;
    let mut on = |p: Progress| match p {
        Progress::Step { epoch, loss, .. } => {
            bar.set_prefix(format!("{epoch}/{epochs}"));
            bar.set_message(format!("{loss:.4}"));
            bar.inc(1);
        }
        Progress::Epoch(e) => {
            if text {
                bar.suspend(|| println!("{}", epoch_line(e, epochs)));
            }
        }
        Progress::Evaluating(what) => bar.set_message(format!("(evaluating on the {what} set)")),
    };
    let r = if keep { train_graph_weights(gpu, graph, data, cfg, &mut on).map(|(r, w)| (r, Some(w))) } else { train_graph(gpu, graph, data, cfg, &mut on).map(|r| (r, None)) };
    bar.finish_and_clear();
    r.map_err(|e| match e {
        TrainError::Setup(s) => CliError::Setup(s),
        e => CliError::TrialFailed(e),
    })
}

/// What of the network must fit the dataset.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fit {
    Side,
    Classes,
    Channels,
}

impl Fit {
    /// (the network's value, the dataset's value)
    fn get(self, g: &Graph, data_shape: [usize; 3], classes: usize) -> (usize, usize) {
        match self {
            Fit::Side => (g.input_shape()[1], data_shape[1]),
            Fit::Classes => (g.classes(), classes),
            Fit::Channels => (g.input_shape()[0], data_shape[0]),
        }
    }
}

/// ` (try `--set p=want`)` naming the parameter the network's `have` comes from (the one the
/// user set, else one equal to it), else the usual name of such a parameter.
fn fit_hint(space: &nasc_compiler::Space, sets: &[(String, String)], have: usize, want: usize, usual: &str) -> String {
    let ps = params_equal(space, have);
    let p = ps.iter().find(|p| sets.iter().any(|(k, _)| k == *p)).or(ps.first());
    match p {
        Some(p) => format!(" (try `--set {p}={want}`)"),
        None => format!(" (the spec sets it with a literal: declare `param {usual} = {have};`, use it, and run with `--set {usual}={want}`)"),
    }
}

/// The metadata of `--save PATH`, checked before training: the folder of `path` must exist.
fn save_meta(file: &str, path: &str, sets: &[(String, String)], name: &str, genotype: &str, graph: &Graph) -> Result<crate::export::weights::Meta, CliError> {
    let dir = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    if !dir.is_dir() || std::path::Path::new(path).is_dir() {
        let folder = if dir.is_dir() { path.to_string() } else { dir.display().to_string() };
        return Err(CliError::SaveFolder { path: path.to_string(), folder });
    }
    let text = crate::zoo::read(file)?;
    Ok(crate::export::weights::Meta {
        spec: file.to_string(),
        spec_sha256: nasc_runtime::store::spec_hash(&text, sets),
        sets: sets.to_vec(),
        candidate: name.to_string(),
        genotype: genotype.to_string(),
        input_shape: graph.input_shape(),
        classes: graph.classes(),
    })
}

/// Hyper-parameters that no training could use.
fn check_hyper(a: &TrainArgs) -> Result<(), CliError> {
    if a.epochs == 0 {
        return Err(CliError::Zero { flag: "epochs" });
    }
    if a.batch == 0 {
        return Err(CliError::Zero { flag: "batch" });
    }
    if let Some(lr) = a.lr.filter(|l| !(l.is_finite() && *l > 0.0)) {
        return Err(CliError::Lr { lr });
    }
    if !(a.val_fraction >= 0.0 && a.val_fraction < 1.0) {
        return Err(CliError::ValFraction { value: a.val_fraction });
    }
    if a.limit == Some(0) {
        return Err(CliError::NoLimit);
    }
    Ok(())
}

/// A compiled spec, the candidate's (name, genotype), its network.
type Built = (nasc_compiler::Space, (String, String), Graph);

/// The spec compiled with `sets` (diagnostics not shown), the candidate's name, genotype and network.
fn build(a: &TrainArgs, sets: &[(String, String)]) -> Result<Built, (CliError, u8)> {
    let space = match crate::commands::load(&a.file, sets) {
        Err(e) => return Err((e, 2)),
        Ok((Some(s), _, false)) => s,
        Ok(_) => return Err((CliError::HasErrors { file: a.file.clone() }, 1)),
    };
    let cand = match a.candidate.as_deref() {
        None | Some("default") => space.default_candidate(),
        Some(name) => space.parse_name(name).map_err(|source| (CliError::Candidate { name: name.to_string(), source }, 2))?,
    };
    let name = (space.name_of(&cand), space.canonical(&cand));
    let graph = netconv::network(&space, &cand).map_err(|e| (e.into(), 1))?;
    Ok((space, name, graph))
}

pub fn train_cmd(a: TrainArgs, sets: &[(String, String)]) -> u8 {
    if let Some(t) = a.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(t.max(1)).build_global() {
            eprintln!("warning: cannot set the thread count: {e}");
        }
    }
    if let Err(e) = check_hyper(&a) {
        return fail(a.format, &e.to_string(), 2);
    }
    let mut splits = match data::load(&a.dataset, &LoadOptions { val_fraction: a.val_fraction, data_dir: None }) {
        Ok(s) => s,
        Err(e) => return fail(a.format, &e.to_string(), 2),
    };
    if splits.test.is_empty() {
        return fail(a.format, &format!("dataset `{}` has no test images: nothing to report a test accuracy on", a.dataset), 2);
    }
    if splits.train.is_empty() {
        return fail(a.format, &format!("dataset `{}` has no training images (`--val-fraction {}`)", a.dataset, a.val_fraction), 2);
    }
    // a spec whose input side, class count or input channels are parameters (nb201's `side`
    // and `classes`) adapts to the dataset, unless the user set that parameter
    let mut sets = sets.to_vec();
    let mut notes = Vec::new();
    // compiled once with its diagnostics shown; the adapted variants below quietly
    if let Err(c) = crate::commands::open(&a.file, &sets) {
        return c;
    }
    let (mut space, mut names, mut graph) = match build(&a, &sets) {
        Ok(b) => b,
        Err((e, c)) => return fail(a.format, &e.to_string(), c),
    };
    let data_shape = splits.train.shape;
    for what in [Fit::Side, Fit::Classes, Fit::Channels] {
        let (have, want) = what.get(&graph, data_shape, splits.classes);
        if have == want || (what == Fit::Side && data_shape[1] != data_shape[2]) || (what == Fit::Channels && want == 1) {
            continue;
        }
        for p in params_equal(&space, have) {
            if sets.iter().any(|(k, _)| *k == p) {
                continue;
            }
            let mut tried = sets.clone();
            tried.push((p.clone(), want.to_string()));
            // the parameter must be the one that sets this property: check the rebuilt network
            if let Ok((s2, n2, g2)) = build(&a, &tried) {
                if what.get(&g2, data_shape, splits.classes).0 == want {
                    notes.push((p, want));
                    (sets, space, names, graph) = (tried, s2, n2, g2);
                    break;
                }
            }
        }
    }
    let (name, genotype) = names;
    if a.format == Format::Text {
        for (p, v) in &notes {
            eprintln!("note: using `--set {p}={v}` to fit `{}` ({}x{}x{} images, {} classes)", splits.name, data_shape[0], data_shape[1], data_shape[2], splits.classes);
        }
    }
    if let Some(l) = a.limit {
        splits.train = splits.train.take(l);
    }
    let net_in = graph.input_shape();
    if let Err(e) = check_shapes(net_in, splits.train.shape, &splits.name) {
        let hint = if net_in[1..] != splits.train.shape[1..] {
            fit_hint(&space, &sets, net_in[1], splits.train.shape[1], "side")
        } else {
            fit_hint(&space, &sets, net_in[0], splits.train.shape[0], "channels")
        };
        return fail(a.format, &format!("{e}{hint}"), 2);
    }
    if graph.classes() != splits.classes {
        let hint = fit_hint(&space, &sets, graph.classes(), splits.classes, "classes");
        return fail(a.format, &format!("the network has {} outputs but `{}` has {} classes{hint}", graph.classes(), splits.name, splits.classes), 2);
    }
    let mut cfg = match a.optimizer {
        OptimArg::Sgd => TrainConfig::sgd(a.epochs, a.batch),
        OptimArg::Adamw => TrainConfig::adamw(a.epochs, a.batch),
    };
    if let Some(lr) = a.lr {
        cfg.lr = lr;
    }
    cfg.seed = a.seed;
    if a.no_augment {
        cfg.augment = Some(Augment::default());
    }
    let text = a.format == Format::Text;
    let gpu = match open_device(match a.backend {
        BackendArg::Cpu => Device::Cpu,
        BackendArg::Wgpu => Device::Wgpu,
        BackendArg::Auto => Device::Auto,
    }) {
        Ok(g) => g,
        Err(e) => return fail(a.format, &e.to_string(), 2),
    };
    if gpu.is_none() {
        // this process only trains from here on: let the heap keep the step's freed buffers
        nasc_kernels::cpu::retain_freed_memory();
    }
    let device = match &gpu {
        Some(g) => format!("wgpu: {}", g.adapter_name()),
        None => format!("cpu ({} threads, {} GEMM)", rayon::current_num_threads(), nasc_kernels::cpu::gemm::engine()),
    };
    if text {
        println!("training {name} ({} on {}: {} train / {} val / {} test images) on {device}", a.file, splits.name, splits.train.len(), splits.val.len(), splits.test.len());
    }
    // what ties the saved weights to this network (the spec and the `--set` values, adapted ones included)
    let save = match &a.save {
        None => None,
        Some(path) => match save_meta(&a.file, path, &sets, &name, &genotype, &graph) {
            Ok(m) => Some((path.clone(), m, graph.clone())),
            Err(e) => return fail(a.format, &e.to_string(), 2),
        },
    };
    let (r, trained) = match run(gpu.as_ref(), graph, &splits, &cfg, text, save.is_some()) {
        Ok(r) => r,
        Err(e) => {
            return match a.format {
                Format::Json => {
                    println!("{}", json!({"status": "failed", "candidate": name, "error": e.to_string()}));
                    1
                }
                Format::Text => fail(a.format, &e.to_string(), 1),
            }
        }
    };
    if let (Some((path, meta, graph)), Some(w)) = (&save, trained) {
        let saved = nasc_kernels::model::Model::from_host(nasc_kernels::backend::CpuBackend, graph.clone(), &w.params, &w.stats)
            .map_err(CliError::from)
            .and_then(|net| Ok(crate::export::weights::save(path, &net, meta)?));
        if let Err(e) = saved {
            return fail(a.format, &format!("training finished but the weights were not saved: {e}"), 1);
        }
    }
    match a.format {
        Format::Text => {
            if let Some((path, ..)) = &save {
                println!("saved the weights to {path}");
            }
            println!(
                "test accuracy {:.2}% (loss {:.4}); {} parameters; {:.0} images/s training on {device}; {:.1}s in all",
                100.0 * r.test_accuracy,
                r.test_loss,
                r.params,
                r.images_per_s,
                r.total_seconds
            );
        }
        Format::Json => {
            let o = json!({
                "status": "ok",
                "spec": a.file,
                "candidate": name,
                "dataset": splits.name,
                "adapted": notes.iter().map(|(p, v)| (p.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "backend": r.backend,
                "device": device,
                "params": r.params,
                "epochs": a.epochs,
                "batch": a.batch,
                "seed": a.seed,
                "train_images": splits.train.len(),
                "test_accuracy": r.test_accuracy,
                "test_loss": r.test_loss,
                "val_accuracy": r.val_accuracy,
                "images_per_s": r.images_per_s,
                "train_seconds": r.train_seconds,
                "train_probes": r.train_probes,
                "total_seconds": r.total_seconds,
                "history": r.epochs.iter().map(epoch_json).collect::<Vec<_>>(),
                "saved": save.as_ref().map(|(p, ..)| p.clone()),
            });
            println!("{o}");
        }
    }
    0
}

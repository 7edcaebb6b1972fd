//! `nasc train`: build a candidate's network from a spec, train it on a dataset with the CPU or
//! the wgpu backend, report per-epoch loss/accuracy, test accuracy and throughput.
use crate::netconv;
use crate::Format;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nasc_kernels::data::{self, Augment, LoadOptions, Splits};
use nasc_kernels::gpu::Gpu;
use nasc_kernels::graph::Graph;
use nasc_kernels::train::{check_shapes, open_device, train_graph, Device, EpochStats, Progress, TrainConfig, TrainError, TrainReport};
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
    let mut names: Vec<String> = space.consts.iter().filter(|(_, &x)| x == v as f64).map(|(k, _)| k.clone()).collect();
    names.sort();
    names
}

fn epoch_json(e: &EpochStats) -> serde_json::Value {
    json!({"epoch": e.epoch, "train_loss": e.train_loss, "train_accuracy": e.train_accuracy, "val_loss": e.val_loss,
           "val_accuracy": e.val_accuracy, "lr": e.lr, "seconds": e.seconds, "images_per_s": e.images_per_s})
}

fn epoch_line(e: &EpochStats, total: usize) -> String {
    let val = e.val_accuracy.map(|a| format!("  val acc {:6.2}%", 100.0 * a)).unwrap_or_default();
    format!(
        "epoch {}/{total}  loss {:.4}  train acc {:6.2}%{val}  lr {:.4}  {:.1}s  {:.0} img/s",
        e.epoch,
        e.train_loss,
        100.0 * e.train_accuracy,
        e.lr,
        e.seconds,
        e.images_per_s
    )
}

/// Trains on the CPU or `gpu` with a progress bar (stderr, only on a terminal).
fn run(gpu: Option<&Gpu>, graph: Graph, data: &Splits, cfg: &TrainConfig, text: bool) -> Result<TrainReport, String> {
    let steps = data.train.len().div_ceil(cfg.batch) * cfg.epochs;
    let bar = ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template("{spinner} epoch {prefix} [{bar:30}] {pos}/{len} steps, loss {msg} ({elapsed}, eta {eta})").unwrap().progress_chars("=> "));
    let epochs = cfg.epochs;
    let r = train_graph(gpu, graph, data, cfg, &mut |p| match p {
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
    });
    bar.finish_and_clear();
    r.map_err(|e| match e {
        TrainError::NonFinite { .. } => format!("trial failed: {e}"),
        TrainError::Setup(s) => s,
    })
}

pub fn train_cmd(a: TrainArgs, sets: &[(String, String)]) -> u8 {
    if let Some(t) = a.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(t.max(1)).build_global() {
            eprintln!("warning: cannot set the thread count: {e}");
        }
    }
    let mut splits = match data::load(&a.dataset, &LoadOptions { val_fraction: a.val_fraction, data_dir: None }) {
        Ok(s) => s,
        Err(e) => return fail(a.format, &e, 2),
    };
    let mut sets = sets.to_vec();
    let mut adapted = false;
    let (space, _cand, name, graph) = loop {
        let space = match crate::commands::open(&a.file, &sets) {
            Ok(s) => s,
            Err(c) => return c,
        };
        let cand = match a.candidate.as_deref() {
            None | Some("default") => space.default_candidate(),
            Some(name) => match space.parse_name(name) {
                Ok(c) => c,
                Err(e) => return fail(a.format, &format!("candidate `{name}`: {e}"), 2),
            },
        };
        let name = space.name_of(&cand);
        let graph = match space.graph_of(&cand).and_then(|g| netconv::to_kernels(&g)) {
            Ok(g) => g,
            Err(e) => return fail(a.format, &e, 1),
        };
        // a spec whose input side is a parameter (nb201's `side`) adapts to the dataset's side
        // unless the user set that parameter
        let net_in = graph.input_shape();
        if !adapted && net_in[1..] != splits.train.shape[1..] && splits.train.shape[1] == splits.train.shape[2] {
            let ps = params_equal(&space, net_in[1]);
            if let Some(p) = ps.iter().find(|p| !sets.iter().any(|(k, _)| k == *p)) {
                if a.format == Format::Text {
                    eprintln!("note: `{}` is {}x{}: using `--set {p}={}`", splits.name, splits.train.shape[1], splits.train.shape[2], splits.train.shape[1]);
                }
                sets.push((p.clone(), splits.train.shape[1].to_string()));
                adapted = true;
                continue;
            }
        }
        break (space, cand, name, graph);
    };
    if let Some(l) = a.limit {
        splits.train = splits.train.take(l);
    }
    let net_in = graph.input_shape();
    if let Err(e) = check_shapes(net_in, splits.train.shape, &splits.name) {
        let mut hint = String::new();
        if net_in[1..] != splits.train.shape[1..] {
            let ps = params_equal(&space, net_in[1]);
            if !ps.is_empty() {
                hint = format!("; the spec's input size comes from `{}`: try `--set {}={}`", ps.join("`/`"), ps[0], splits.train.shape[1]);
            }
        }
        return fail(a.format, &format!("{e}{hint}"), 2);
    }
    if graph.classes() < splits.classes {
        let ps = params_equal(&space, graph.classes());
        let hint = ps.first().map(|p| format!(" (try `--set {p}={}`)", splits.classes)).unwrap_or_default();
        return fail(a.format, &format!("the network has {} outputs but {} has {} classes{hint}", graph.classes(), splits.name, splits.classes), 2);
    }
    if a.epochs == 0 || a.batch == 0 {
        return fail(a.format, "--epochs and --batch must be at least 1", 2);
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
        Err(e) => return fail(a.format, &e, 2),
    };
    let device = match &gpu {
        Some(g) => format!("wgpu: {}", g.adapter_name()),
        None => format!("cpu ({} threads, {} GEMM)", rayon::current_num_threads(), nasc_kernels::cpu::gemm::engine()),
    };
    if text {
        println!(
            "training {name} ({} on {}: {} train / {} val / {} test images) on {device}",
            a.file,
            splits.name,
            splits.train.len(),
            splits.val.len(),
            splits.test.len()
        );
    }
    let r = match run(gpu.as_ref(), graph, &splits, &cfg, text) {
        Ok(r) => r,
        Err(e) => {
            return match a.format {
                Format::Json => {
                    println!("{}", json!({"status": "failed", "candidate": name, "error": e}));
                    1
                }
                Format::Text => fail(a.format, &e, 1),
            }
        }
    };
    match a.format {
        Format::Text => {
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
                "total_seconds": r.total_seconds,
                "history": r.epochs.iter().map(epoch_json).collect::<Vec<_>>(),
            });
            println!("{o}");
        }
    }
    0
}

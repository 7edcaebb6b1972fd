//! The scaled-down NSE reproduction of docs/nse.md on a CIFAR-10 subset, on the CPU backend.
//!
//! `cargo run -p nasc-kernels --release --example nse_repro -- VARIANT SEED [key=value...]`
//! VARIANT: `nse` (Lock & Rehearse), `nolr` (without it), `oneshot` (all 16 ops active, one
//! round as long as NSE's rounds together, uniform sampling of K/2 ops per layer on average, no
//! simplification), `speed` (supernet steps per second and the parameter count only; its own
//! keys: `steps`, `warmup`, `synthetic=1` for random data). Keys: `train`, `val`, `test`
//! (image counts), `epochs` (per round), `rounds`, `k`, `batch`, `lr`, `theta_lr`, `threshold`
//! (the indicators' drop threshold, the paper's -2), `samples`, `extra`,
//! `retrain` (epochs of the retraining from scratch), `top` (front archs retrained per round),
//! `data` (dataset folder), `ckpt` (checkpoint file: resumed from when it exists, written after
//! every epoch and round; each retraining's result is kept beside it in `CKPT.retrained`),
//! `spaces` (a folder for each round's subset and aggregated subset as `.nas` specs).
//! Prints one `result` line per retrained architecture (tab-separated) and `round` lines.

use nasc_kernels::data::{self, Dataset, LoadOptions, Splits};
use nasc_kernels::nse::{self, NseConfig, NseData, NseState, Scored};
use nasc_kernels::rng::Rng;
use nasc_kernels::shape::Sgd;
use nasc_kernels::supernet::{Arch, BranchOp, MacsPenalty, Shared, Supernet, SupernetSpec};
use nasc_kernels::train::{self, TrainConfig};
use nasc_kernels::{nse_ckpt, nse_spec};
use std::collections::HashMap;
use std::time::Instant;

/// The 16-op pool: 14 reasonable ops and 2 deliberately poor ones (the last two: expanded like
/// the `_e6` ops, so they cost MACs, but squeezed through one channel).
fn pool() -> Vec<BranchOp> {
    let dw = |k, t| BranchOp::Dw { k, t, d: 1 };
    vec![
        dw(3, 1),
        dw(3, 3),
        dw(5, 1),
        dw(5, 3),
        dw(7, 1),
        dw(7, 3),
        BranchOp::Dw { k: 3, t: 1, d: 2 },
        BranchOp::Dw { k: 3, t: 3, d: 2 },
        BranchOp::Dw { k: 3, t: 1, d: 3 },
        BranchOp::Dw { k: 3, t: 3, d: 3 },
        BranchOp::Ssc { k: 3, t: 1 },
        BranchOp::Ssc { k: 5, t: 1 },
        BranchOp::Ssc { k: 3, t: 2 },
        BranchOp::Ssc { k: 5, t: 2 },
        BranchOp::PoolNeck { k: 3, max: false, t: 6 },
        BranchOp::PoolNeck { k: 5, max: true, t: 6 },
    ]
}

fn spec() -> SupernetSpec {
    SupernetSpec { input: [3, 32, 32], stem: 16, layers: vec![(16, 1), (24, 2), (24, 1), (32, 2), (32, 1)], head: 64, classes: 10, pool: pool() }
}

fn sample(ds: &Dataset, n: usize, rng: &mut Rng) -> Dataset {
    let mut idx: Vec<usize> = (0..ds.len()).collect();
    rng.shuffle(&mut idx);
    idx.truncate(n.min(ds.len()));
    idx.sort_unstable();
    ds.subset(&idx)
}

fn names(spec: &SupernetSpec, arch: &Arch) -> String {
    arch.iter().map(|l| if l.is_empty() { "-".to_string() } else { l.iter().map(|&o| spec.pool[o].name()).collect::<Vec<_>>().join("+") }).collect::<Vec<_>>().join(" | ")
}

/// Bad input: the message on stderr and exit status 2 (no panic).
fn fail(msg: &str) -> ! {
    eprintln!("nse_repro: {msg}");
    std::process::exit(2)
}

const KEYS: [&str; 24] = [
    "train",
    "val",
    "test",
    "epochs",
    "rounds",
    "k",
    "batch",
    "lr",
    "theta_lr",
    "threshold",
    "samples",
    "extra",
    "retrain",
    "top",
    "data",
    "ckpt",
    "spaces",
    "alpha",
    "band",
    "target",
    "recal",
    "steps",
    "warmup",
    "synthetic",
];

fn main() {
    // the supernet builds a fresh sub-network every step: keep freed buffers in the heap instead
    // of returning them to the OS (no page faults and zeroing on every step), as the trainer's
    // runner does
    nasc_kernels::cpu::retain_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let variant = args.first().map(String::as_str).unwrap_or("nse").to_string();
    if !["nse", "nolr", "oneshot", "speed"].contains(&variant.as_str()) {
        fail(&format!("unknown variant `{variant}`: expected `nse`, `nolr`, `oneshot` or `speed`"));
    }
    let seed: u64 = match args.get(1) {
        None => 0,
        Some(s) => s.parse().unwrap_or_else(|_| fail(&format!("seed `{s}`: expected a whole number"))),
    };
    let mut kv: HashMap<String, String> = HashMap::new();
    for a in args.iter().skip(2) {
        let Some((k, v)) = a.split_once('=') else { fail(&format!("`{a}`: expected key=value")) };
        if !KEYS.contains(&k) {
            fail(&format!("unknown key `{k}`: expected one of {}", KEYS.join(", ")));
        }
        kv.insert(k.to_string(), v.to_string());
    }
    let num = |k: &str, d: f64| kv.get(k).map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite()).unwrap_or_else(|| fail(&format!("`{k}={v}`: not a number")))).unwrap_or(d);
    for k in ["train", "val", "test", "epochs", "rounds", "k", "batch", "retrain", "samples", "steps"] {
        if num(k, 1.0) < 1.0 {
            fail(&format!("`{k}` must be at least 1{}", if k == "retrain" { " (top=0 skips the retraining)" } else { "" }));
        }
    }
    let (ntrain, nval, ntest) = (num("train", 4000.0) as usize, num("val", 1000.0) as usize, num("test", 2000.0) as usize);
    let epochs = num("epochs", 3.0) as usize;
    let rounds = num("rounds", 3.0) as usize;
    let k = num("k", 4.0) as usize;
    if k > pool().len() {
        // more than the pool would silently make every op active (one-shot) in a single round
        fail(&format!("`k={k}`: the pool has {} ops; use at most {} (`oneshot` runs all of them)", pool().len(), pool().len()));
    }
    let bs = num("batch", 128.0) as usize;
    let retrain = num("retrain", 6.0) as usize;
    let top = num("top", 2.0) as usize;
    let opts = LoadOptions { val_fraction: 0.1, data_dir: kv.get("data").map(Into::into) };
    let spec = spec();
    let np = spec.pool.len();
    let nl = spec.layers.len();
    let all: Arch = (0..nl).map(|_| (0..np).collect()).collect();
    if variant == "speed" {
        // `steps` timed steps after `warmup`; `synthetic=1`: random N(0,1)-like pixels and labels
        // instead of a CIFAR-10 batch (no dataset needed; bench/supernet_speed.sh)
        let (steps, warmup) = (num("steps", 20.0) as usize, num("warmup", 3.0) as usize);
        let synthetic = num("synthetic", 0.0) != 0.0;
        let mut net = Supernet::new(spec.clone(), all.clone(), seed).unwrap();
        let mut rng = Rng::new(seed);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        if synthetic {
            let [c, h, w] = spec.input;
            // the sum of 12 uniforms minus 6: mean 0, variance 1
            x = (0..bs * c * h * w).map(|_| (0..12).map(|_| rng.next_f32()).sum::<f32>() - 6.0).collect();
            y = (0..bs).map(|_| rng.below(spec.classes) as u32).collect();
        } else {
            let full = data::load("cifar10", &opts).unwrap_or_else(|e| fail(&e.to_string()));
            let train = sample(&full.train, ntrain, &mut Rng::derive(1234, 1)); // the other variants' subset
            let idx: Vec<usize> = (0..bs).collect();
            data::batch::fill(&train, &idx, &full.mean, &full.std, full.augment, &mut rng, &mut x, &mut y);
        }
        let count = |s: &Shared| s.params.len();
        let fixed: usize = net.fixed.iter().map(count).sum();
        let total = fixed + net.ops.iter().flatten().map(count).sum::<usize>();
        let first_k = fixed + net.ops.iter().flat_map(|l| l.iter().take(k)).map(count).sum::<usize>();
        println!("params\tsupernet={total}\tfirst_K_ops={first_k}\tK={k}");
        let opt = Sgd { momentum: 0.9, nesterov: true, weight_decay: 4e-5 };
        net.active = (0..nl).map(|_| (0..k).collect()).collect();
        for _ in 0..warmup {
            let a = net.sample_uniform(&mut rng);
            net.train_step(&x, &y, &a, &opt, 0.1);
        }
        let t = Instant::now();
        for _ in 0..steps {
            let a = net.sample_uniform(&mut rng);
            net.train_step(&x, &y, &a, &opt, 0.1);
        }
        let s = t.elapsed().as_secs_f64();
        println!("speed\tK={k}\tbatch={bs}\t{:.1} images/s\t{:.4} s/step", (steps * bs) as f64 / s, s / steps as f64);
        return;
    }
    let full = data::load("cifar10", &opts).unwrap_or_else(|e| fail(&e.to_string()));
    let mut drng = Rng::derive(1234, 1); // the same subsets for every seed and variant
    let splits = Splits { train: sample(&full.train, ntrain, &mut drng), val: sample(&full.val, nval, &mut drng), test: sample(&full.test, ntest, &mut drng), ..full.clone() };
    // the MACs target: the median of uniform K-subset samples (the paper's 300M sits inside its
    // space's distribution too)
    let probe = Supernet::new(spec.clone(), all.clone(), 0).unwrap();
    let mut prng = Rng::new(77);
    let mut ms: Vec<f64> = (0..2000).map(|_| probe.arch_macs(&probe.sample(&mut prng, |_, _| k as f32 / np as f32 * 0.5))).collect();
    ms.sort_by(f64::total_cmp);
    let target = num("target", (ms[ms.len() / 2] * 10.0).round() / 10.0);
    let band = num("band", ((ms[ms.len() * 3 / 4] - ms[ms.len() / 4]) / 2.0 * 10.0).round() / 10.0);
    let mut cfg = NseConfig {
        k,
        epochs,
        batch: bs,
        lr: num("lr", 0.1) as f32,
        theta_lr: num("theta_lr", 0.1) as f32,
        threshold: num("threshold", -2.0) as f32,
        samples: num("samples", 40.0) as usize,
        extra_samples: num("extra", 10.0) as usize,
        recal_batches: num("recal", 4.0) as usize,
        band: band as f32,
        extra_band: band as f32,
        // the paper's alpha = 1e-5 at a 300M target, rescaled so the same relative deviation costs the same
        penalty: MacsPenalty { alpha: num("alpha", 1e-5 * (300.0 / target).powi(2)) as f32, beta: 2.0, target: target as f32 },
        max_rounds: rounds,
        lock_rehearse: variant != "nolr",
        ..NseConfig::paper()
    };
    if variant == "oneshot" {
        cfg.k = np;
        cfg.epochs = epochs * rounds;
        cfg.max_rounds = 1;
        cfg.simplify = false;
        cfg.theta_every = 0;
        // uniform samples over 16 ops with probability 1/2 almost never reach the band: sample
        // as many ops per layer as NSE's K-op subsets do (K / 2 on average)
        cfg.sample_prob = Some(k as f32 / np as f32 * 0.5);
    }
    println!(
        "config\t{variant}\tseed={seed}\ttarget={target}M\tband={band}M\ttrain={ntrain}\tval={nval}\ttest={ntest}\tepochs={}\tK={}\tthreshold={}",
        cfg.epochs, cfg.k, cfg.threshold
    );
    let t0 = Instant::now();
    let mut state = NseState::new(nl, np, cfg.k, seed);
    let mut net = Supernet::new(spec.clone(), state.active.clone(), seed).unwrap();
    // `ckpt=PATH`: resume from PATH when it exists, and save there after every epoch and round
    let ckpt = kv.get("ckpt").cloned();
    if let Some(bytes) = ckpt.as_ref().and_then(|p| std::fs::read(p).ok()) {
        state = nse_ckpt::decode(&bytes, &mut net).unwrap_or_else(|e| fail(&e.to_string()));
        eprintln!("resumed at round {} (epochs done in it: {})", state.round + 1, state.cursor.as_ref().map_or(0, |c| c.epoch));
    }
    let mut save = |st: &NseState, n: &Supernet| {
        if let Some(p) = &ckpt {
            let tmp = format!("{p}.tmp");
            std::fs::write(&tmp, nse_ckpt::encode(st, n)).and_then(|_| std::fs::rename(&tmp, p)).unwrap_or_else(|e| fail(&format!("{p}: {e}")));
        }
        true
    };
    let d = NseData { train: &splits.train, val: &splits.val, mean: &splits.mean, std: &splits.std, augment: splits.augment };
    while !state.finished {
        nse::run_round(&mut net, &mut state, &cfg, &d, seed, &mut |s| eprintln!("{s}"), &mut save).expect("never stopped");
    }
    for rec in &state.history {
        let poor: usize = rec.aggregated.iter().map(|l| l.iter().filter(|&&o| o >= np - 2).count()).sum();
        let poor_active: usize = rec.space.iter().map(|l| l.iter().filter(|&&o| o >= np - 2).count()).sum();
        let poor_dropped = rec.dropped.iter().filter(|&&(_, o)| o >= np - 2).count();
        let best = rec.front.iter().map(|s| s.accuracy).fold(0.0, f64::max);
        // the indicators at the end of the round's training: mean over active (layer, op)
        // pairs of the poor ops and of the others
        let mean_theta = |poor: bool| {
            let v: Vec<f32> = rec.simplified.iter().enumerate().flat_map(|(l, ops)| ops.iter().filter(|&&o| (o >= np - 2) == poor).map(move |&o| rec.theta[l][o])).collect();
            if v.is_empty() {
                f32::NAN
            } else {
                v.iter().sum::<f32>() / v.len() as f32
            }
        };
        let min_theta = rec.simplified.iter().enumerate().flat_map(|(l, ops)| ops.iter().map(move |&o| rec.theta[l][o])).fold(f32::INFINITY, f32::min);
        println!(
            "round\t{variant}\tseed={seed}\tround={}\tactive_ops={}\tdropped={}\tpoor_active={poor_active}\tpoor_dropped={poor_dropped}\tpoor_in_front_ops={poor}\tfront={}\tbest_supernet_acc={best:.4}\tloss={:.4}\tseconds={:.1}\ttheta_poor={:.3}\ttheta_other={:.3}\ttheta_min={min_theta:.3}",
            rec.round + 1,
            rec.space.iter().map(Vec::len).sum::<usize>(),
            rec.dropped.len(),
            rec.front.len(),
            rec.train_loss,
            rec.seconds,
            mean_theta(true),
            mean_theta(false)
        );
    }
    // `spaces=DIR`: each round's subset and its aggregated subset (Eq. 9) as specs any strategy
    // can search (`nasc search DIR/round-1-aggregated.nas --strategy re ...`)
    if let Some(dir) = kv.get("spaces") {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| fail(&format!("{dir}: {e}")));
        for rec in &state.history {
            let r = rec.round + 1;
            for (what, ops) in [("", &rec.space), ("-aggregated", &rec.aggregated)] {
                let title = format!("NSE {variant}, seed {seed}: round {r}{}", if what.is_empty() { "'s subset" } else { ", aggregated subset (Eq. 9)" });
                let text = nse_spec::subset_spec(&spec, ops, &format!("nse_round{r}"), &title).unwrap_or_else(|e| fail(&e.to_string()));
                let path = format!("{dir}/round-{r}{what}.nas");
                std::fs::write(&path, text).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
            }
        }
    }
    let fronts: Vec<Vec<Scored>> = state.history.iter().map(|r| r.front.clone()).collect();
    let search_s = t0.elapsed().as_secs_f64();
    // retrain the `top` front archs (by supernet accuracy) of the first and the last round
    let last = fronts.len() - 1;
    let which: Vec<usize> = if last == 0 { vec![0] } else { vec![0, last] };
    // with `ckpt=PATH`, each retraining's result is kept in `PATH.retrained`, so a run stopped
    // while retraining goes on with the next architecture; keyed by what the retraining depends
    // on (not the variant: round 1 is the same computation with and without Lock & Rehearse)
    let kept_path = ckpt.as_ref().map(|p| format!("{p}.retrained"));
    let (mut kept, mut torn) = kept_path.as_deref().map(read_retrained).unwrap_or_default();
    for r in which {
        let mut f = fronts[r].clone();
        f.sort_by(|a, b| b.accuracy.total_cmp(&a.accuracy).then(a.macs.total_cmp(&b.macs)));
        for s in f.iter().take(top) {
            let arch = names(&spec, &s.arch);
            let key = format!("seed={seed}\tround={}\tretrain={retrain}\tbatch={bs}\ttrain={ntrain}\ttest={ntest}\tarch={arch}", r + 1);
            let (acc, secs) = match kept.get(&key) {
                Some(&v) => {
                    eprintln!("retraining of round {} `{arch}` kept from {}", r + 1, kept_path.as_deref().unwrap_or_default());
                    v
                }
                None => {
                    let mut tc = TrainConfig::sgd(retrain, bs);
                    tc.seed = seed;
                    tc.val_every_epoch = false;
                    let t = Instant::now();
                    let rep = train::train_graph(
                        None,
                        spec.graph(&s.arch),
                        &Splits { val: Dataset { shape: splits.val.shape, images: vec![], labels: vec![] }, ..splits.clone() },
                        &tc,
                        &mut |_| {},
                    )
                    .unwrap_or_else(|e| fail(&format!("retraining: {e}")));
                    let v = (rep.test_accuracy, t.elapsed().as_secs_f64());
                    if let Some(p) = &kept_path {
                        // one line per retraining, appended; a line torn by a kill is ended first
                        // (its key matches nothing, so that retraining runs again)
                        let line = format!("{}{:?}\t{:.1}\t{key}\n", if std::mem::take(&mut torn) { "\n" } else { "" }, v.0, v.1);
                        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap_or_else(|e| fail(&format!("{p}: {e}")));
                        std::io::Write::write_all(&mut file, line.as_bytes()).unwrap_or_else(|e| fail(&format!("{p}: {e}")));
                    }
                    kept.insert(key, v);
                    v
                }
            };
            println!(
                "result\t{variant}\tseed={seed}\tround={}\tmacs={:.2}\tsupernet_acc={:.4}\ttest_acc={acc:.4}\tretrain_s={secs:.1}\tsearch_s={search_s:.1}\tarch={arch}",
                r + 1,
                s.macs,
                s.accuracy,
            );
        }
    }
}

/// The retrainings kept in `path` (see `ckpt`): key -> (test accuracy, seconds), and whether
/// the file ends inside a line (torn by a kill). A missing file is empty; a line that does not
/// parse is skipped.
fn read_retrained(path: &str) -> (HashMap<String, (f64, f64)>, bool) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let torn = !text.is_empty() && !text.ends_with('\n');
    let kept = text
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, '\t');
            let (acc, secs, key) = (it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?);
            Some((key.to_string(), (acc, secs)))
        })
        .collect();
    (kept, torn)
}

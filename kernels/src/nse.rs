//! NSE's rounds (Ci et al., ICCV 2021, section 3.3; docs/nse.md) over a [`Supernet`]: train the
//! shared weights and the fitness indicators, dropping unfit ops as it goes (Lock & Rehearse
//! keeps the last front's ops); sample architectures from the indicators inside a MACs band
//! (plus extra samples just under it against the edging effect), evaluate them with recalibrated
//! BN, take the Pareto front of (accuracy, MACs) with the last front rehearsed, aggregate its
//! ops (Eq. 9), refill each layer to K from its pending list, re-initialize, repeat. The whole
//! state between rounds is [`NseState`] plus the supernet's weights, so a caller can checkpoint
//! it and resume at a round boundary.

use crate::data::{batch, Augment, Dataset};
use crate::rng::Rng;
use crate::shape::{cosine_lr, Sgd};
use crate::supernet::{Arch, MacsPenalty, Supernet};

/// The hyper-parameters; [`NseConfig::paper`] holds the paper's (appendix B, section 3.3.2).
#[derive(Clone, Debug, PartialEq)]
pub struct NseConfig {
    /// Layer-wise size of the search-space subset.
    pub k: usize,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f32,
    pub momentum: f32,
    pub weight_decay: f32,
    pub theta_lr: f32,
    /// A fitness step after every this many weight steps.
    pub theta_every: usize,
    pub threshold: f32,
    pub penalty: MacsPenalty,
    /// Samples are kept when their MACs (millions) lie in `target ± band`.
    pub band: f32,
    pub samples: usize,
    pub extra_samples: usize,
    /// Extra samples lie in `(target - band - extra_band, target - band]`.
    pub extra_band: f32,
    /// Training batches whose statistics recalibrate BN before an evaluation.
    pub recal_batches: usize,
    /// Stop after this many rounds (else when a layer cannot be refilled to K).
    pub max_rounds: usize,
    /// Lock & Rehearse (Eq. 9's inherited ops locked, the last front re-evaluated).
    pub lock_rehearse: bool,
    /// Drop unfit ops (search-space simplification).
    pub simplify: bool,
    /// The Pareto retrieval samples every active op with this probability instead of from the
    /// indicators (the one-shot baseline: uniform sampling, scaled so that samples reach the
    /// MACs band). `None`: the indicators (NSE).
    pub sample_prob: Option<f32>,
}

impl NseConfig {
    /// The paper's setting (FLOPs constraint, ImageNet): K = 5, 100 epochs of batch 1024, SGD
    /// Nesterov 0.9, lr 0.4 cosine to 0, weight decay 4e-5; Adam lr 0.1 on the indicators every
    /// two weight steps; threshold -2; alpha 1e-5, beta 2, target 300M; D = 2000, D_e = 100;
    /// BN recalibrated on 20k training images (20 batches of 1024). The band (10M) and the extra
    /// band (10M) are not in the paper (the official code's `extra_sample_drift` default is 10).
    pub fn paper() -> Self {
        NseConfig {
            k: 5,
            epochs: 100,
            batch: 1024,
            lr: 0.4,
            momentum: 0.9,
            weight_decay: 4e-5,
            theta_lr: 0.1,
            theta_every: 2,
            threshold: -2.0,
            penalty: MacsPenalty { alpha: 1e-5, beta: 2.0, target: 300.0 },
            band: 10.0,
            samples: 2000,
            extra_samples: 100,
            extra_band: 10.0,
            recal_batches: 20,
            max_rounds: usize::MAX,
            lock_rehearse: true,
            simplify: true,
            sample_prob: None,
        }
    }
}

/// The settable hyper-parameters, by name (`NseConfig::set`).
pub const CONFIG_KEYS: &[&str] = &[
    "k",
    "epochs",
    "batch",
    "lr",
    "momentum",
    "weight_decay",
    "theta_lr",
    "theta_every",
    "threshold",
    "alpha",
    "beta",
    "target",
    "band",
    "samples",
    "extra_samples",
    "extra_band",
    "recal_batches",
    "max_rounds",
    "lock_rehearse",
    "simplify",
    "sample_prob",
];

/// A hyper-parameter that cannot be set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// No such key (the known ones are listed).
    Unknown(String),
    /// The value does not parse or is out of range.
    Bad { key: String, value: String, expected: &'static str },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Unknown(k) => write!(f, "nse has no setting `{k}` (settings: {})", CONFIG_KEYS.join(", ")),
            ConfigError::Bad { key, value, expected } => write!(f, "nse setting `{key}` = `{value}`: expected {expected}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl NseConfig {
    /// Sets one hyper-parameter from text; unknown keys and bad values are refused.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let bad = |expected| ConfigError::Bad { key: key.to_string(), value: value.to_string(), expected };
        let count = |min: usize| value.parse::<usize>().ok().filter(|&v| v >= min).ok_or_else(|| bad(if min == 0 { "a whole number" } else { "a whole number of at least 1" }));
        let real = || value.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or_else(|| bad("a finite number"));
        let pos = || value.parse::<f32>().ok().filter(|v| v.is_finite() && *v > 0.0).ok_or_else(|| bad("a positive finite number"));
        let nonneg = || value.parse::<f32>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| bad("a non-negative finite number"));
        let flag = || value.parse::<bool>().map_err(|_| bad("true or false"));
        match key {
            "k" => self.k = count(1)?,
            "epochs" => self.epochs = count(1)?,
            "batch" => self.batch = count(1)?,
            "lr" => self.lr = pos()?,
            "momentum" => self.momentum = value.parse::<f32>().ok().filter(|v| (0.0..1.0).contains(v)).ok_or_else(|| bad("a number in [0, 1)"))?,
            "weight_decay" => self.weight_decay = nonneg()?,
            "theta_lr" => self.theta_lr = pos()?,
            "theta_every" => self.theta_every = count(0)?,
            "threshold" => self.threshold = real()?,
            "alpha" => self.penalty.alpha = nonneg()?,
            "beta" => self.penalty.beta = value.parse::<f32>().ok().filter(|v| v.is_finite() && *v >= 1.0).ok_or_else(|| bad("a finite number of at least 1"))?,
            "target" => self.penalty.target = nonneg()?,
            "band" => self.band = pos()?,
            "samples" => self.samples = count(0)?,
            "extra_samples" => self.extra_samples = count(0)?,
            "extra_band" => self.extra_band = nonneg()?,
            "recal_batches" => self.recal_batches = count(0)?,
            "max_rounds" => self.max_rounds = count(1)?,
            "lock_rehearse" => self.lock_rehearse = flag()?,
            "simplify" => self.simplify = flag()?,
            "sample_prob" => {
                self.sample_prob = match value {
                    "none" => None,
                    v => Some(v.parse::<f32>().ok().filter(|p| *p > 0.0 && *p <= 1.0).ok_or_else(|| bad("a probability in (0, 1], or none"))?),
                }
            }
            _ => return Err(ConfigError::Unknown(key.to_string())),
        }
        Ok(())
    }
}

/// One evaluated architecture.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    pub arch: Arch,
    pub macs: f64,
    pub accuracy: f64,
}

/// What a round did.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundRecord {
    pub round: usize,
    /// The subset the round started with.
    pub space: Vec<Vec<usize>>,
    /// Ops dropped during training `(layer, op)`.
    pub dropped: Vec<(usize, usize)>,
    /// The subset after simplification.
    pub simplified: Vec<Vec<usize>>,
    /// The Pareto front (accuracy up, MACs down), rehearsed archs included.
    pub front: Vec<Scored>,
    /// Every evaluated sample (main, extra, rehearsed).
    pub evaluated: usize,
    /// The evaluated samples themselves, in evaluation order (main and extra samples as drawn,
    /// then the rehearsed archs), with `true` for a sample outside the band: an extra sample
    /// (under it) or, when no sample reached the band, a fallback sample.
    pub samples: Vec<(Scored, bool)>,
    /// Eq. 9: the union of the front's ops per layer.
    pub aggregated: Vec<Vec<usize>>,
    pub train_loss: f32,
    pub seconds: f64,
    /// The fitness indicators at the end of training, per layer and pool op.
    pub theta: Vec<Vec<f32>>,
}

/// The state between rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct NseState {
    pub round: usize,
    pub active: Vec<Vec<usize>>,
    pub pending: Vec<Vec<usize>>,
    /// The last front's ops per layer (locked) and its archs (rehearsed).
    pub locked: Vec<Vec<usize>>,
    pub prev_front: Vec<Arch>,
    pub history: Vec<RoundRecord>,
    pub finished: bool,
    /// Inside a round: where training stands (the supernet's weights and indicators belong
    /// with it); `None` between rounds.
    pub cursor: Option<RoundCursor>,
}

/// A round's training progress at an epoch boundary.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundCursor {
    /// Epochs done.
    pub epoch: usize,
    /// Weight steps done (the cosine schedule's position).
    pub step: usize,
    /// The round's random stream ([`Rng::state`]).
    pub rng: u64,
    pub space: Vec<Vec<usize>>,
    pub dropped: Vec<(usize, usize)>,
    pub train_loss: f32,
    /// Training seconds so far.
    pub seconds: f64,
}

/// The held-out splits NSE reads: weights train on `train`, indicators and the Pareto
/// evaluation use `val`.
pub struct NseData<'a> {
    pub train: &'a Dataset,
    pub val: &'a Dataset,
    pub mean: &'a [f32],
    pub std: &'a [f32],
    pub augment: Augment,
}

impl NseState {
    /// Round 0: each layer's pool order shuffled (seeded), the first K ops active.
    pub fn new(layers: usize, pool: usize, k: usize, seed: u64) -> Self {
        let all: Vec<Vec<usize>> = (0..layers).map(|_| (0..pool).collect()).collect();
        Self::with_pools(&all, k, seed)
    }

    /// [`NseState::new`] where layer `l` may use only the pool ops `pools[l]` (in that order
    /// before the shuffle): a spec whose layers have different op lists.
    pub fn with_pools(pools: &[Vec<usize>], k: usize, seed: u64) -> Self {
        let mut rng = Rng::derive(seed, 21);
        let mut pending = Vec::new();
        let mut active = Vec::new();
        for p in pools {
            let mut order = p.clone();
            rng.shuffle(&mut order);
            let rest = order.split_off(k.min(order.len()));
            active.push(order);
            pending.push(rest);
        }
        let layers = pools.len();
        NseState { round: 0, active, pending, locked: vec![Vec::new(); layers], prev_front: Vec::new(), history: Vec::new(), finished: false, cursor: None }
    }
}

/// The non-dominated points of `(accuracy up, macs down)`; ties in both keep the first.
pub fn pareto(points: &[(f64, f64)]) -> Vec<usize> {
    (0..points.len())
        .filter(|&i| {
            let (ai, mi) = points[i];
            !points.iter().enumerate().any(|(j, &(aj, mj))| {
                let dominates = aj >= ai && mj <= mi && (aj > ai || mj < mi);
                dominates || (j < i && aj == ai && mj == mi)
            })
        })
        .collect()
}

/// The round's front: the Pareto points of the in-band samples (and rehearsed archs), with the
/// samples outside the band (`outside`: the extra ones just under it) taking part but left out
/// (the official code). When every in-band point is dominated by an outside one (few samples,
/// noisy accuracies), the front of the in-band points alone; when no point is in the band (the
/// simplified space cannot reach it), the front of every sample, so that a round never
/// aggregates nothing.
pub fn front_of(points: &[(f64, f64)], outside: &[bool]) -> Vec<usize> {
    let front: Vec<usize> = pareto(points).into_iter().filter(|&i| !outside[i]).collect();
    if !front.is_empty() {
        return front;
    }
    let keep: Vec<usize> = (0..points.len()).filter(|&i| !outside[i]).collect();
    let keep = if keep.is_empty() { (0..points.len()).collect() } else { keep };
    let pts: Vec<(f64, f64)> = keep.iter().map(|&i| points[i]).collect();
    pareto(&pts).into_iter().map(|j| keep[j]).collect()
}

fn batches(ds: &Dataset, data: &NseData, order: &[usize], bs: usize, aug: Augment, rng: &mut Rng) -> Vec<(Vec<f32>, Vec<u32>)> {
    order
        .chunks(bs.max(1))
        .map(|idx| {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            batch::fill(ds, idx, data.mean, data.std, aug, rng, &mut x, &mut y);
            (x, y)
        })
        .collect()
}

/// Runs one round on `net` (re-initialized from `seed` and the round number) and advances
/// `state`; `log` receives progress lines. After every epoch and at the round's end,
/// `checkpoint(state, net)` may save both (a [`RoundCursor`] in `state` marks a round in
/// progress; the weights and indicators are in `net`); when it returns `false` the round stops
/// there and `None` is returned. Called with a cursor in `state` (and `net` restored from the
/// same checkpoint), the round goes on from it with the same random draws as an uninterrupted
/// run.
pub fn run_round(
    net: &mut Supernet,
    state: &mut NseState,
    cfg: &NseConfig,
    data: &NseData,
    seed: u64,
    log: &mut dyn FnMut(&str),
    checkpoint: &mut dyn FnMut(&NseState, &Supernet) -> bool,
) -> Option<RoundRecord> {
    let round = state.round;
    net.adam.lr = cfg.theta_lr;
    let mut cur = match state.cursor.clone() {
        Some(c) => c,
        None => {
            net.reinit(seed.wrapping_add(round as u64 * 7919));
            net.adam.lr = cfg.theta_lr;
            net.active = state.active.clone();
            let rng = Rng::derive(seed, 100 + round as u64).state();
            RoundCursor { epoch: 0, step: 0, rng, space: net.active.clone(), dropped: Vec::new(), train_loss: 0.0, seconds: 0.0 }
        }
    };
    let locked: Vec<Vec<usize>> = if cfg.lock_rehearse { state.locked.clone() } else { vec![Vec::new(); state.active.len()] };
    let mut rng = Rng::from_state(cur.rng);
    let opt = Sgd { momentum: cfg.momentum, nesterov: true, weight_decay: cfg.weight_decay };
    let n = data.train.len();
    let steps = n.div_ceil(cfg.batch);
    let total = steps * cfg.epochs;
    for epoch in cur.epoch..cfg.epochs {
        let te = std::time::Instant::now();
        let order = batch::shuffled(n, &mut rng);
        let (mut lsum, mut cnt) = (0.0f64, 0usize);
        for idx in order.chunks(cfg.batch) {
            if cfg.simplify {
                cur.dropped.extend(net.drop_unfit(cfg.threshold, &locked));
            }
            let (mut x, mut y) = (Vec::new(), Vec::new());
            batch::fill(data.train, idx, data.mean, data.std, data.augment, &mut rng, &mut x, &mut y);
            let arch = net.sample_uniform(&mut rng);
            let lr = cosine_lr(cfg.lr, 0.0, cur.step, total);
            let loss = net.train_step(&x, &y, &arch, &opt, lr);
            lsum += loss as f64 * idx.len() as f64;
            cnt += idx.len();
            if cfg.theta_every > 0 && cur.step % cfg.theta_every == 0 && !data.val.is_empty() {
                let vi: Vec<usize> = (0..cfg.batch.min(data.val.len())).map(|_| rng.below(data.val.len())).collect();
                let (mut vx, mut vy) = (Vec::new(), Vec::new());
                batch::fill(data.val, &vi, data.mean, data.std, Augment::default(), &mut rng, &mut vx, &mut vy);
                net.theta_step(&vx, &vy, &mut rng, &cfg.penalty);
            }
            cur.step += 1;
        }
        cur.train_loss = (lsum / cnt.max(1) as f64) as f32;
        cur.epoch = epoch + 1;
        cur.rng = rng.state();
        cur.seconds += te.elapsed().as_secs_f64();
        log(&format!("round {} epoch {}/{}: train loss {:.4}, active {:?}", round + 1, epoch + 1, cfg.epochs, cur.train_loss, net.active.iter().map(Vec::len).collect::<Vec<_>>()));
        state.cursor = Some(cur.clone());
        if !checkpoint(state, net) {
            return None;
        }
    }
    let RoundCursor { space, dropped, train_loss, .. } = cur.clone();
    let t0 = std::time::Instant::now();
    let simplified = net.active.clone();
    // Pareto retrieval: samples from the indicators in the band, extra ones just under it
    let recal_order: Vec<usize> = (0..(cfg.recal_batches * cfg.batch).min(n)).map(|_| rng.below(n)).collect();
    let recal = batches(data.train, data, &recal_order, cfg.batch, data.augment, &mut rng);
    let val_order: Vec<usize> = (0..data.val.len()).collect();
    let val = batches(data.val, data, &val_order, 256, Augment::default(), &mut rng);
    let (lo, hi) = ((cfg.penalty.target - cfg.band) as f64, (cfg.penalty.target + cfg.band) as f64);
    let xlo = lo - cfg.extra_band as f64;
    let mut archs: Vec<Arch> = Vec::new();
    let mut main = 0;
    let mut extra = 0;
    let tries = 200 * (cfg.samples + cfg.extra_samples).max(1);
    let draw = |rng: &mut Rng| match cfg.sample_prob {
        Some(p) => net.sample(rng, |_, _| p),
        None => net.sample_theta(rng),
    };
    for _ in 0..tries {
        if main >= cfg.samples && extra >= cfg.extra_samples {
            break;
        }
        let a = draw(&mut rng);
        if archs.contains(&a) {
            continue;
        }
        let m = net.arch_macs(&a);
        if main < cfg.samples && lo < m && m < hi {
            archs.push(a);
            main += 1;
        } else if extra < cfg.extra_samples && xlo < m && m <= lo {
            archs.push(a);
            extra += 1;
        }
    }
    if main == 0 {
        // after pruning, no sub-network of the simplified space reaches the band: the front is
        // taken from what it can reach (under the band, or anywhere if nothing lands under it)
        let mut anywhere = 0;
        if archs.is_empty() {
            for _ in 0..tries {
                if anywhere >= cfg.samples.max(1) {
                    break;
                }
                let a = draw(&mut rng);
                if !archs.contains(&a) {
                    archs.push(a);
                    anywhere += 1;
                }
            }
        }
        log(&format!(
            "round {}: no sub-network of the simplified space in the MACs band ({lo:.3}M, {hi:.3}M) in {tries} draws; the front is taken from {} samples {}",
            round + 1,
            archs.len(),
            if anywhere > 0 { "outside it" } else { "under it" }
        ));
    }
    let is_extra: Vec<bool> = archs
        .iter()
        .map(|a| {
            let m = net.arch_macs(a);
            !(lo < m && m < hi)
        })
        .collect();
    let mut scored: Vec<(Scored, bool)> = archs
        .into_iter()
        .zip(is_extra)
        .map(|(arch, ex)| {
            let accuracy = net.evaluate(&arch, &recal, &val);
            (Scored { macs: net.arch_macs(&arch), arch, accuracy }, ex)
        })
        .collect();
    if cfg.lock_rehearse {
        for arch in &state.prev_front {
            if arch.iter().enumerate().all(|(l, ops)| ops.iter().all(|o| net.active[l].contains(o))) {
                let accuracy = net.evaluate(arch, &recal, &val);
                scored.push((Scored { macs: net.arch_macs(arch), arch: arch.clone(), accuracy }, false));
            }
        }
    }
    let pts: Vec<(f64, f64)> = scored.iter().map(|(s, _)| (s.accuracy, s.macs)).collect();
    let outside: Vec<bool> = scored.iter().map(|s| s.1).collect();
    let front: Vec<Scored> = front_of(&pts, &outside).into_iter().map(|i| scored[i].0.clone()).collect();
    let aggregated: Vec<Vec<usize>> = (0..net.active.len())
        .map(|l| {
            let mut u: Vec<usize> = front.iter().flat_map(|s| s.arch[l].iter().copied()).collect();
            u.sort_unstable();
            u.dedup();
            u
        })
        .collect();
    log(&format!("round {}: {} evaluated ({} main, {} extra), front of {}", round + 1, scored.len(), main, extra, front.len()));
    // replenish each layer to K from its pending list
    let mut short = false;
    let mut next = aggregated.clone();
    for (l, layer) in next.iter_mut().enumerate() {
        while layer.len() < cfg.k {
            if state.pending[l].is_empty() {
                short = true;
                break;
            }
            layer.push(state.pending[l].remove(0));
        }
    }
    let rec = RoundRecord {
        round,
        space,
        dropped,
        simplified,
        front: front.clone(),
        evaluated: scored.len(),
        samples: scored,
        aggregated: aggregated.clone(),
        train_loss,
        seconds: cur.seconds + t0.elapsed().as_secs_f64(),
        theta: net.theta.clone(),
    };
    state.history.push(rec.clone());
    state.locked = aggregated;
    state.prev_front = front.into_iter().map(|s| s.arch).collect();
    state.active = next;
    state.round += 1;
    state.finished = short || state.round >= cfg.max_rounds;
    state.cursor = None;
    checkpoint(state, net);
    Some(rec)
}

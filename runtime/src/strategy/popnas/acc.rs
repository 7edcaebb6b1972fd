//! The accuracy predictor: an ensemble of [`AccNet`]s, one per fold (each trained on the other
//! folds, as the paper's 5-fold ensemble), averaged. Training data are augmented with the
//! equivalent reorderings of each cell's independent blocks ([`cell::reorderings`]).
use super::acc_model::{AccNet, Adam64, Dims, Seq};
use super::cell::{self, Block};
use super::config::PopnasConfigError;
use nasc_compiler::rng::Rng;
use serde::{Deserialize, Serialize};

/// Hyper-parameters (the paper's §4.1 values by default).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AccConfig {
    pub folds: usize,
    pub epochs: usize,
    pub lr: f64,
    pub l2: f64,
    pub embedding: usize,
    pub filters: usize,
    pub cells: usize,
    /// Mini-batch size (the authors' code: 4).
    pub batch: usize,
    /// Equivalent reorderings added per trained cell (1 = no augmentation).
    pub augment: usize,
}

impl Default for AccConfig {
    fn default() -> Self {
        AccConfig { folds: 5, epochs: 30, lr: 4e-3, l2: 1e-5, embedding: 10, filters: 16, cells: 48, batch: 4, augment: 120 }
    }
}

impl AccConfig {
    pub fn validate(&self) -> Result<(), PopnasConfigError> {
        for (n, v) in [
            ("folds", self.folds),
            ("epochs", self.epochs),
            ("embedding", self.embedding),
            ("filters", self.filters),
            ("cells", self.cells),
            ("batch", self.batch),
            ("augment", self.augment),
        ] {
            if v == 0 {
                return Err(PopnasConfigError::PredictorCount(n));
            }
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(PopnasConfigError::PredictorLr(self.lr));
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return Err(PopnasConfigError::PredictorL2(self.l2));
        }
        Ok(())
    }
}

/// Encode a cell for the network: input -2 -> 1, -1 -> 2, block j -> 3 + j; op o -> o + 1;
/// 0 pads.
pub fn encode(cell: &[Block]) -> Seq {
    let inp = |v: i64| (v + 3) as usize;
    cell.iter().map(|b| [inp(b.0), b.1 as usize + 1, inp(b.2), b.3 as usize + 1]).collect()
}

/// The network's sizes for cells of at most `blocks` blocks over `n_ops` ops.
pub fn dims(cfg: &AccConfig, blocks: usize, n_ops: usize) -> Dims {
    Dims { len: blocks, n_in: blocks + 2, n_op: n_ops + 1, embedding: cfg.embedding, filters: cfg.filters, cells: cfg.cells }
}

pub struct AccPredictor {
    nets: Vec<AccNet>,
}

fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// Train one network on `(cells, targets)` (targets in [0, 1]).
pub fn train_net(cfg: &AccConfig, dims: Dims, data: &[(Seq, f64)], rng: &mut Rng) -> AccNet {
    let mut net = AccNet::new(dims, rng);
    let mut adam = Adam64::new(net.params.len(), cfg.lr);
    let mut grad = vec![0.0; net.params.len()];
    let mut order: Vec<usize> = (0..data.len()).collect();
    for _ in 0..cfg.epochs {
        shuffle(&mut order, rng);
        for chunk in order.chunks(cfg.batch) {
            let xs: Vec<&Seq> = chunk.iter().map(|&i| &data[i].0).collect();
            let ys: Vec<f64> = chunk.iter().map(|&i| data[i].1).collect();
            net.loss(&xs, &ys, cfg.l2, Some(&mut grad));
            adam.step(&mut net.params, &grad);
        }
    }
    net
}

impl AccPredictor {
    /// Fit the ensemble on trained cells and their accuracies (in [0, 1]).
    pub fn fit(cfg: &AccConfig, blocks: usize, n_ops: usize, cells: &[Vec<Block>], acc: &[f64], seed: u64) -> AccPredictor {
        let dims = dims(cfg, blocks, n_ops);
        let mut rng = Rng::new(seed);
        let n = cells.len();
        let mut idx: Vec<usize> = (0..n).collect();
        shuffle(&mut idx, &mut rng);
        let folds = if n >= cfg.folds { cfg.folds } else { 1 };
        let nets = (0..folds)
            .map(|f| {
                let data: Vec<(Seq, f64)> = idx
                    .iter()
                    .enumerate()
                    .filter(|(pos, _)| folds == 1 || pos % folds != f)
                    .flat_map(|(_, &i)| cell::reorderings(&cells[i], cfg.augment).into_iter().map(move |c| (encode(&c), acc[i])))
                    .collect();
                train_net(cfg, dims, &data, &mut rng)
            })
            .collect();
        AccPredictor { nets }
    }

    /// The ensemble's mean prediction.
    pub fn predict(&self, cell: &[Block]) -> f64 {
        let x = encode(cell);
        self.nets.iter().map(|n| n.predict(&x)).sum::<f64>() / self.nets.len().max(1) as f64
    }
}

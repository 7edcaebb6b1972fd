//! The time predictor (POPNASv2 §3.3.2): gradient-boosted trees ([`crate::predict::Gbdt`]) over
//! the paper's nine cell features, with op costs from the dynamic reindex of the one-block cells
//! `(-1, o, -1, o)`.
use super::cell::Block;
use crate::predict::gbdt::GbdtError;
use crate::predict::{Gbdt, GbdtConfig};
use serde::{Deserialize, Serialize};

/// The features' names, in [`features`] order.
pub const FEATURES: &[&str] =
    &["blocks", "cells", "op_score", "multiple_lookbacks", "first_level_op_score_fraction", "block_dependencies", "dag_depth", "concat_inputs", "heaviest_path_op_score_fraction"];

/// The time predictor's trees: fewer, shallower and slower-learning than XGBoost's defaults, as
/// the training sets are small (tens to hundreds of cells); CatBoost's default `l2_leaf_reg` 3.
pub fn default_gbdt() -> GbdtConfig {
    GbdtConfig { trees: 200, max_depth: 4, learning_rate: 0.1, lambda: 3.0, ..GbdtConfig::default() }
}

/// The dynamic reindex (equation 1): `index_o = (t_o - t0) / (max_o t_o - t0)` from the time
/// `t_o` of the cell `[(-1, o, -1, o)]`; `t0` is the empty cell's time (0 here: a spec cell has at
/// least one block). An op with no measured time gets the mean index of the measured ones (1 if
/// none was measured).
pub fn reindex(op_times: &[Option<f64>], t0: f64) -> Vec<f64> {
    let shifted: Vec<Option<f64>> = op_times.iter().map(|t| t.map(|t| (t - t0).abs())).collect();
    let max = shifted.iter().flatten().copied().fold(0.0, f64::max);
    let known: Vec<f64> = shifted.iter().flatten().map(|t| if max > 0.0 { t / max } else { 1.0 }).collect();
    let mean = if known.is_empty() { 1.0 } else { known.iter().sum::<f64>() / known.len() as f64 };
    shifted.iter().map(|t| t.map_or(mean, |t| if max > 0.0 { t / max } else { 1.0 })).collect()
}

/// The op reindex from the measured times of the cells `[(-1, o, -1, o)]` among `timed`
/// (cells with their times) for each of `n_ops` ops.
pub fn op_index<'c>(timed: impl Iterator<Item = (&'c [Block], f64)> + Clone, n_ops: usize) -> Vec<f64> {
    let op_times: Vec<Option<f64>> = (0..n_ops as u32).map(|o| timed.clone().find(|(c, _)| *c == [Block(-1, o, -1, o)]).map(|(_, t)| t)).collect();
    reindex(&op_times, 0.0)
}

/// Index of the op score in [`features`].
const OP_SCORE: usize = 2;

/// The nine features of a cell; `index` is the op reindex, `cells` the number of cells of the
/// network, `concat_all` whether the cell output concatenates every block (the spec's choice)
/// rather than only the unused ones (POPNASv2's).
pub fn features(cell: &[Block], index: &[f64], cells: f64, concat_all: bool) -> Vec<f64> {
    let b = cell.len();
    let score = |o: u32| index.get(o as usize).copied().unwrap_or(1.0);
    let total: f64 = cell.iter().map(|k| score(k.1) + score(k.3)).sum::<f64>().max(1e-12);
    let lookbacks: std::collections::BTreeSet<i64> = cell.iter().flat_map(|k| k.inputs()).filter(|&i| i < 0).collect();
    let first: f64 = cell.iter().flat_map(|k| [(k.0, k.1), (k.2, k.3)]).filter(|(i, _)| *i < 0).map(|(_, o)| score(o)).sum();
    let deps = cell.iter().flat_map(|k| k.inputs()).filter(|&i| i >= 0).count();
    // depth of each block in blocks, and the op score of every op's ancestors (itself included)
    let mut depth = vec![1usize; b];
    let mut ancestors: Vec<std::collections::BTreeSet<(usize, usize)>> = Vec::with_capacity(b);
    let mut heaviest: f64 = 0.0;
    for (c, k) in cell.iter().enumerate() {
        let mut all = std::collections::BTreeSet::new();
        for (slot, inp) in [k.0, k.2].into_iter().enumerate() {
            let mut set: std::collections::BTreeSet<(usize, usize)> = std::collections::BTreeSet::new();
            set.insert((c, slot));
            if inp >= 0 {
                let p = inp as usize;
                depth[c] = depth[c].max(depth.get(p).copied().unwrap_or(0) + 1);
                if let Some(a) = ancestors.get(p) {
                    set.extend(a.iter().copied());
                }
            }
            let s: f64 = set.iter().map(|&(bc, sl)| if sl == 0 { score(cell[bc].1) } else { score(cell[bc].3) }).sum();
            heaviest = heaviest.max(s);
            all.extend(set);
        }
        ancestors.push(all);
    }
    let used: std::collections::BTreeSet<usize> = cell.iter().flat_map(|k| k.inputs()).filter(|&i| i >= 0).map(|i| i as usize).collect();
    let outputs = if concat_all { b } else { (0..b).filter(|c| !used.contains(c)).count() };
    let concat = if outputs > 1 { outputs } else { 0 };
    vec![
        b as f64,
        cells,
        total,
        if lookbacks.len() > 1 { 1.0 } else { 0.0 },
        first / total,
        deps as f64,
        depth.iter().copied().max().unwrap_or(0) as f64,
        concat as f64,
        heaviest / total,
    ]
}

/// What the time predictor's trees learn (`time_target` in `--strategy-config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeTarget {
    /// The cell's time from the nine features (POPNASv2 §3.3.2).
    #[default]
    Time,
    /// The time per block from the same features with the op score per block, times the
    /// blocks (not in the paper): trees cannot extrapolate, and a b-block cell's op score lies
    /// past every op score of the cells of fewer blocks they were fitted on, so with `time`
    /// many cells of a new step fall in the same leaves and get the same time.
    PerBlock,
}

/// Fitted trees over [`features`], with the op reindex and the network's cell count they were
/// fitted with.
pub struct TimePredictor {
    model: Gbdt,
    index: Vec<f64>,
    cells: f64,
    target: TimeTarget,
}

impl TimeTarget {
    /// What the target and the op score are divided by.
    fn per(self, cell: &[Block]) -> f64 {
        match self {
            TimeTarget::Time => 1.0,
            TimeTarget::PerBlock => cell.len().max(1) as f64,
        }
    }

    fn row(self, cell: &[Block], index: &[f64], cells: f64) -> Vec<f64> {
        let mut r = features(cell, index, cells, true);
        r[OP_SCORE] /= self.per(cell);
        r
    }
}

impl TimePredictor {
    /// Fit on `cells` and their measured `times`; `index` is the op reindex ([`reindex`]),
    /// `n_cells` the network's cell count.
    pub fn fit(cells: &[&[Block]], times: &[f64], index: Vec<f64>, n_cells: f64, target: TimeTarget, cfg: &GbdtConfig, seed: u64) -> Result<TimePredictor, GbdtError> {
        let rows: Vec<Vec<f64>> = cells.iter().map(|c| target.row(c, &index, n_cells)).collect();
        let y: Vec<f64> = cells.iter().zip(times).map(|(c, t)| t / target.per(c)).collect();
        Ok(TimePredictor { model: Gbdt::fit(&rows, &y, cfg, seed)?, index, cells: n_cells, target })
    }

    /// The predicted time of `cell`.
    pub fn predict(&self, cell: &[Block]) -> f64 {
        self.model.predict(&self.target.row(cell, &self.index, self.cells)) * self.target.per(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_by_hand() {
        let index = [0.5, 1.0, 0.25];
        // two flat blocks over both lookbacks: total 0.5 + 1 + 0.25 + 0.25 = 2
        let flat = [Block(-1, 0, -2, 1), Block(-1, 2, -1, 2)];
        let f = features(&flat, &index, 8.0, true);
        assert_eq!(f, vec![2.0, 8.0, 2.0, 1.0, 1.0, 0.0, 1.0, 2.0, 0.5]);
        // block 1 reads block 0: depth 2, heaviest path = op of block 1 reading block 0 plus block 0's ops
        let deep = [Block(-1, 0, -1, 1), Block(0, 2, -1, 2)];
        let f = features(&deep, &index, 8.0, false);
        assert_eq!(f[5], 1.0);
        assert_eq!(f[6], 2.0);
        assert_eq!(f[7], 0.0); // only block 1's output is unused: no concat
        assert!((f[8] - (0.25 + 0.5 + 1.0) / 2.0).abs() < 1e-12);
        assert!((f[4] - (0.5 + 1.0 + 0.25) / 2.0).abs() < 1e-12);
        assert_eq!(f[3], 0.0);
    }

    #[test]
    fn reindex_scales_to_the_slowest_op() {
        let r = reindex(&[Some(3.0), Some(5.0), None], 1.0);
        assert_eq!(r, vec![0.5, 1.0, 0.75]);
    }
}

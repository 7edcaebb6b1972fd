//! Per-step statistics of a POPNAS run: the predictors' Spearman rank correlation and MAPE on the
//! cells trained at that step (predicted before training, as the paper's Tables 2 and 3), the
//! front and exploration sizes and the equivalent cells pruned.
use crate::predict::pearson;
use serde::{Deserialize, Serialize};

/// Ranks (1-based) with ties given their mean rank.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = mean;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rho (Pearson of the tie-averaged ranks, as scipy's `spearmanr`); NaN with fewer
/// than 2 points or a constant variable.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    if x.len() != y.len() {
        return f64::NAN;
    }
    pearson(&ranks(x), &ranks(y))
}

/// Mean absolute percentage error, in percent: `100 mean |p - t| / |t|` over `t != 0`.
pub fn mape(pred: &[f64], truth: &[f64]) -> f64 {
    let terms: Vec<f64> = pred.iter().zip(truth).filter(|(_, t)| **t != 0.0).map(|(p, t)| ((p - t) / t).abs()).collect();
    if terms.is_empty() {
        return f64::NAN;
    }
    100.0 * terms.iter().sum::<f64>() / terms.len() as f64
}

/// One step (block count `b`) of the search.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StepStats {
    pub b: usize,
    /// Cell encodings generated (one-block cells, or expansions of the previous step's cells).
    pub encodings: usize,
    /// Encodings dropped as equivalent to an earlier one or to a cell trained before.
    pub pruned: usize,
    /// Distinct expansions the predictors scored (after the time limit).
    pub candidates: usize,
    /// Cells chosen by the Pareto front (POPNAS) or the top-K (PNAS mode).
    pub front: usize,
    /// Cells added by the exploration step.
    pub exploration: usize,
    /// Ops and inputs of the exploration sets.
    pub explore_ops: Vec<String>,
    pub explore_inputs: Vec<i64>,
    /// Cells trained (told with a result) and failed.
    pub trained: usize,
    pub failed: usize,
    /// The predictors on this step's trained cells (null at b = 1 or when undefined).
    pub acc_spearman: Option<f64>,
    pub acc_mape: Option<f64>,
    pub time_spearman: Option<f64>,
    pub time_mape: Option<f64>,
    /// Sum of the measured times of this step's cells.
    pub time_sum: f64,
    /// Best accuracy measured at this step.
    pub best_acc: Option<f64>,
    /// Wall seconds spent fitting the predictors and scoring the expansions.
    pub predictor_seconds: f64,
}

/// A finite value or None (JSON has no NaN).
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_and_mape_by_hand() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) = 0.8207826816681233
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]) - 0.8207826816681233).abs() < 1e-12);
        assert!(spearman(&[1.0], &[2.0]).is_nan());
        assert!((mape(&[110.0, 90.0], &[100.0, 100.0]) - 10.0).abs() < 1e-12);
        assert!(mape(&[1.0], &[0.0]).is_nan());
    }
}

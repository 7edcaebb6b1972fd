//! Gradient-boosted regression trees with squared loss, in the manner of XGBoost's exact greedy
//! algorithm (Chen & Guestrin 2016): second-order gain with L2 leaf regularization `lambda`,
//! split penalty `gamma`, `min_child_weight` (the hessian sum, here the row count), depth-limited
//! trees, shrinkage `learning_rate`, and per-tree row and column subsampling drawn from the
//! seeded counter RNG. The initial prediction is the mean target (XGBoost >= 2.0 estimates the
//! intercept the same way for squared error).
//!
//! The defaults are XGBoost's own (`n_estimators` 100, `max_depth` 6, `eta` 0.3, `lambda` 1,
//! `gamma` 0, `min_child_weight` 1, `subsample` 1, `colsample_bytree` 1): LISSNAS says it uses
//! XGBoost "similar to NAS-Bench-301" without giving hyper-parameters.
use nasc_compiler::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GbdtConfig {
    pub trees: usize,
    pub max_depth: usize,
    pub learning_rate: f64,
    pub lambda: f64,
    pub gamma: f64,
    pub min_child_weight: f64,
    /// Fraction of rows each tree is fit on (drawn without replacement).
    pub subsample: f64,
    /// Fraction of features each tree may split on (drawn without replacement).
    pub colsample: f64,
}

impl Default for GbdtConfig {
    fn default() -> Self {
        GbdtConfig { trees: 100, max_depth: 6, learning_rate: 0.3, lambda: 1.0, gamma: 0.0, min_child_weight: 1.0, subsample: 1.0, colsample: 1.0 }
    }
}

/// Why a gradient-boosted trees configuration or training set cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GbdtError {
    #[error("gbdt: `trees` must be at least 1")]
    Trees,
    #[error("gbdt: `learning_rate` must be positive, not `{0}`")]
    LearningRate(f64),
    #[error("gbdt: `lambda`, `gamma` and `min_child_weight` must be finite and non-negative")]
    Regularization,
    /// `name`: `subsample` or `colsample`.
    #[error("gbdt: `{name}` must be in (0, 1], not `{value}`")]
    Fraction { name: &'static str, value: f64 },
    #[error("gbdt: no training rows")]
    NoRows,
    #[error("gbdt: {rows} rows but {targets} targets")]
    Targets { rows: usize, targets: usize },
    #[error("gbdt: rows of different widths")]
    Widths,
    #[error("gbdt: a feature or target is not finite")]
    NotFinite,
}

impl From<GbdtError> for String {
    fn from(e: GbdtError) -> String {
        e.to_string()
    }
}

impl GbdtConfig {
    pub fn validate(&self) -> Result<(), GbdtError> {
        if self.trees == 0 {
            return Err(GbdtError::Trees);
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(GbdtError::LearningRate(self.learning_rate));
        }
        let non_negative = |x: f64| x >= 0.0 && x.is_finite();
        if ![self.lambda, self.gamma, self.min_child_weight].into_iter().all(non_negative) {
            return Err(GbdtError::Regularization);
        }
        for (n, v) in [("subsample", self.subsample), ("colsample", self.colsample)] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(GbdtError::Fraction { name: n, value: v });
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Leaf(f64),
    /// Rows with `x[feature] < threshold` go left.
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    fn predict(&self, x: &[f64]) -> f64 {
        let mut i = 0;
        loop {
            match self.nodes[i] {
                Node::Leaf(w) => return w,
                Node::Split { feature, threshold, left, right } => i = if x[feature] < threshold { left } else { right },
            }
        }
    }
}

/// A fitted ensemble.
#[derive(Debug, Clone, PartialEq)]
pub struct Gbdt {
    base: f64,
    trees: Vec<Tree>,
    width: usize,
}

/// `k` distinct indices of `0..n`, ascending (partial Fisher-Yates).
fn choose(n: usize, k: usize, rng: &mut Rng) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..k.min(n) {
        let j = i + rng.below((n - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(k.min(n));
    idx.sort_unstable();
    idx
}

struct Builder<'a> {
    x: &'a [Vec<f64>],
    grad: &'a [f64],
    features: &'a [usize],
    cfg: &'a GbdtConfig,
    nodes: Vec<Node>,
}

impl Builder<'_> {
    fn score(&self, g: f64, h: f64) -> f64 {
        g * g / (h + self.cfg.lambda)
    }

    /// Build the subtree over `rows`; returns its node index.
    fn build(&mut self, rows: &mut [usize], depth: usize) -> usize {
        let g: f64 = rows.iter().map(|&r| self.grad[r]).sum();
        let h = rows.len() as f64;
        let here = self.nodes.len();
        let leaf = -g / (h + self.cfg.lambda) * self.cfg.learning_rate;
        self.nodes.push(Node::Leaf(leaf));
        if depth >= self.cfg.max_depth || rows.len() < 2 {
            return here;
        }
        let parent = self.score(g, h);
        let mut best: Option<(f64, usize, f64)> = None;
        let mut order: Vec<usize> = rows.to_vec();
        for &f in self.features {
            order.sort_by(|&a, &b| self.x[a][f].total_cmp(&self.x[b][f]).then(a.cmp(&b)));
            let (mut gl, mut hl) = (0.0, 0.0);
            for i in 0..order.len() - 1 {
                gl += self.grad[order[i]];
                hl += 1.0;
                let (v, w) = (self.x[order[i]][f], self.x[order[i + 1]][f]);
                if v == w {
                    continue;
                }
                let (gr, hr) = (g - gl, h - hl);
                if hl < self.cfg.min_child_weight || hr < self.cfg.min_child_weight {
                    continue;
                }
                let gain = 0.5 * (self.score(gl, hl) + self.score(gr, hr) - parent) - self.cfg.gamma;
                if gain > 1e-12 && best.is_none_or(|(b, _, _)| gain > b) {
                    best = Some((gain, f, v + (w - v) / 2.0));
                }
            }
        }
        let Some((_, feature, threshold)) = best else {
            return here;
        };
        // stable partition: left rows first
        let (mut l, mut r): (Vec<usize>, Vec<usize>) = rows.iter().partition(|&&row| self.x[row][feature] < threshold);
        let left = self.build(&mut l, depth + 1);
        let right = self.build(&mut r, depth + 1);
        self.nodes[here] = Node::Split { feature, threshold, left, right };
        here
    }
}

impl Gbdt {
    /// Fit on rows `x` (all of one width) and targets `y`; `seed` drives the subsampling.
    pub fn fit(x: &[Vec<f64>], y: &[f64], cfg: &GbdtConfig, seed: u64) -> Result<Gbdt, GbdtError> {
        cfg.validate()?;
        if x.is_empty() {
            return Err(GbdtError::NoRows);
        }
        if x.len() != y.len() {
            return Err(GbdtError::Targets { rows: x.len(), targets: y.len() });
        }
        let width = x[0].len();
        if x.iter().any(|r| r.len() != width) {
            return Err(GbdtError::Widths);
        }
        if x.iter().flatten().chain(y).any(|v| !v.is_finite()) {
            return Err(GbdtError::NotFinite);
        }
        let n = x.len();
        let base = y.iter().sum::<f64>() / n as f64;
        let mut pred = vec![base; n];
        let mut rng = Rng::new(seed);
        let rows_per_tree = ((cfg.subsample * n as f64).round() as usize).clamp(1, n);
        let cols_per_tree = ((cfg.colsample * width as f64).round() as usize).clamp(1, width.max(1));
        let mut trees = Vec::with_capacity(cfg.trees);
        for _ in 0..cfg.trees {
            // squared loss: gradient pred - y, hessian 1
            let grad: Vec<f64> = pred.iter().zip(y).map(|(p, t)| p - t).collect();
            let mut rows = if rows_per_tree < n { choose(n, rows_per_tree, &mut rng) } else { (0..n).collect() };
            let features = if cols_per_tree < width { choose(width, cols_per_tree, &mut rng) } else { (0..width).collect() };
            let mut b = Builder { x, grad: &grad, features: &features, cfg, nodes: Vec::new() };
            b.build(&mut rows, 0);
            let tree = Tree { nodes: b.nodes };
            for (p, row) in pred.iter_mut().zip(x) {
                *p += tree.predict(row);
            }
            trees.push(tree);
        }
        Ok(Gbdt { base, trees, width })
    }

    /// The prediction for one row (missing trailing features read as 0).
    pub fn predict(&self, x: &[f64]) -> f64 {
        if x.len() < self.width {
            let mut v = x.to_vec();
            v.resize(self.width, 0.0);
            return self.predict(&v);
        }
        self.base + self.trees.iter().map(|t| t.predict(x)).sum::<f64>()
    }

    pub fn num_trees(&self) -> usize {
        self.trees.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(trees: usize, depth: usize, eta: f64, lambda: f64) -> GbdtConfig {
        GbdtConfig { trees, max_depth: depth, learning_rate: eta, lambda, ..Default::default() }
    }

    #[test]
    fn one_stump_by_hand() {
        let x = vec![vec![0.0], vec![0.0], vec![1.0], vec![1.0]];
        let y = [1.0, 1.0, 5.0, 5.0];
        // lambda 0, eta 1: base 3, leaves -2 and +2 -> exact
        let m = Gbdt::fit(&x, &y, &cfg(1, 1, 1.0, 0.0), 0).unwrap();
        assert_eq!(x.iter().map(|r| m.predict(r)).collect::<Vec<_>>(), vec![1.0, 1.0, 5.0, 5.0]);
        // lambda 1: leaf = -G/(H+1) = -(2+2)/3 on the left, +4/3 on the right; eta 0.5 halves it
        let m = Gbdt::fit(&x, &y, &cfg(1, 1, 0.5, 1.0), 0).unwrap();
        assert!((m.predict(&[0.0]) - (3.0 - 0.5 * 4.0 / 3.0)).abs() < 1e-12);
        assert!((m.predict(&[1.0]) - (3.0 + 0.5 * 4.0 / 3.0)).abs() < 1e-12);
        // the second tree fits the residual left by the first: (1 - 1/3 * ...) by hand
        let m = Gbdt::fit(&x, &y, &cfg(2, 1, 1.0, 1.0), 0).unwrap();
        // tree 1: 3 -/+ 4/3; residual (pred - y) = +2/3 left, -2/3 right; tree 2 leaf = -(4/3)/3
        let left = 3.0 - 4.0 / 3.0 - 4.0 / 9.0;
        assert!((m.predict(&[0.0]) - left).abs() < 1e-12);
    }

    #[test]
    fn learns_an_additive_function_of_one_hot_features() {
        // y = 2 a - b + 0.5 c over all 8 0/1 combinations, each twice
        let mut x = Vec::new();
        let mut y = Vec::new();
        for rep in 0..2 {
            for m in 0..8u32 {
                let r: Vec<f64> = (0..3).map(|i| (m >> i & 1) as f64).collect();
                y.push(2.0 * r[0] - r[1] + 0.5 * r[2] + rep as f64 * 0.0);
                x.push(r);
            }
        }
        let m = Gbdt::fit(&x, &y, &cfg(300, 2, 0.3, 0.0), 0).unwrap();
        let mse: f64 = x.iter().zip(&y).map(|(r, t)| (m.predict(r) - t).powi(2)).sum::<f64>() / y.len() as f64;
        assert!(mse < 1e-10, "mse {mse}");
        // depth 0 trees can only move the mean
        let m = Gbdt::fit(&x, &y, &cfg(10, 0, 0.3, 0.0), 0).unwrap();
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        assert!((m.predict(&x[0]) - mean).abs() < 1e-12);
    }

    #[test]
    fn continuous_feature_threshold_between_values() {
        let x: Vec<Vec<f64>> = (0..10).map(|i| vec![i as f64]).collect();
        let y: Vec<f64> = (0..10).map(|i| if i < 7 { 0.0 } else { 1.0 }).collect();
        let m = Gbdt::fit(&x, &y, &cfg(1, 1, 1.0, 0.0), 0).unwrap();
        assert!(m.predict(&[6.4]).abs() < 1e-12);
        assert!((m.predict(&[6.6]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn min_child_weight_and_gamma_stop_splits() {
        let x = vec![vec![0.0], vec![1.0], vec![1.0], vec![1.0]];
        let y = [0.0, 1.0, 1.0, 1.0];
        let mut c = cfg(1, 3, 1.0, 0.0);
        c.min_child_weight = 2.0; // the only split leaves 1 row on the left
        let m = Gbdt::fit(&x, &y, &c, 0).unwrap();
        assert_eq!(m.predict(&[0.0]), m.predict(&[1.0]));
        let mut c = cfg(1, 3, 1.0, 0.0);
        c.gamma = 1.0; // gain 0.5 * (0.75^2 / 1 + 0.75^2 / 3 - 0) = 0.375 < 1
        let m = Gbdt::fit(&x, &y, &c, 0).unwrap();
        assert_eq!(m.predict(&[0.0]), m.predict(&[1.0]));
        c.gamma = 0.3;
        let m = Gbdt::fit(&x, &y, &c, 0).unwrap();
        assert_eq!((m.predict(&[0.0]), m.predict(&[1.0])), (0.0, 1.0));
    }

    #[test]
    fn subsampling_is_seeded() {
        let x: Vec<Vec<f64>> = (0..40).map(|i| vec![(i % 2) as f64, (i / 2 % 2) as f64, (i % 5) as f64]).collect();
        let y: Vec<f64> = x.iter().map(|r| r[0] * 3.0 + r[1] - 0.2 * r[2]).collect();
        let c = GbdtConfig { subsample: 0.5, colsample: 0.67, ..GbdtConfig::default() };
        let a = Gbdt::fit(&x, &y, &c, 7).unwrap();
        let b = Gbdt::fit(&x, &y, &c, 7).unwrap();
        let d = Gbdt::fit(&x, &y, &c, 8).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, d);
        let mse: f64 = x.iter().zip(&y).map(|(r, t)| (a.predict(r) - t).powi(2)).sum::<f64>() / 40.0;
        assert!(mse < 0.01, "mse {mse}");
    }

    #[test]
    fn bad_input_is_an_error() {
        let c = GbdtConfig::default();
        assert!(Gbdt::fit(&[], &[], &c, 0).unwrap_err().to_string().contains("no training rows"));
        assert!(Gbdt::fit(&[vec![1.0]], &[1.0, 2.0], &c, 0).is_err());
        assert!(Gbdt::fit(&[vec![1.0], vec![1.0, 2.0]], &[1.0, 2.0], &c, 0).is_err());
        assert!(Gbdt::fit(&[vec![f64::NAN]], &[1.0], &c, 0).is_err());
        let mut bad = c.clone();
        bad.subsample = 0.0;
        assert!(Gbdt::fit(&[vec![1.0]], &[1.0], &bad, 0).unwrap_err().to_string().contains("subsample"));
    }
}

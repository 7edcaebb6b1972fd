//! Size mode: the target cost range, the prefix filter of `select` (section 4.2) and the
//! per-layer cost ranges of Eq. 4.
use super::config::LayerNasConfig;
use super::LayerNasError;
use crate::space::SearchSpace;
use nasc_compiler::compiled::CompiledSpace;
use serde::{Deserialize, Serialize};

/// Everything size mode needs, fixed when the search starts (kept in the strategy state so a
/// resumed run need not recompute it before its first `tell`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CostModel {
    /// Index of the cost metric in the compiled space.
    pub metric: usize,
    /// Exact (min, max) of the metric over the whole space.
    pub global: (f64, f64),
    /// The target range, inclusive.
    pub target: (f64, f64),
    /// Eq. 4's (min Cost(M_i), max Cost(M_i)) per layer i.
    pub ranges: Vec<(f64, f64)>,
}

/// Relative slack for comparing exact sums against the target (float rounding only).
const SLACK: f64 = 1e-9;

impl CostModel {
    pub fn new(space: &SearchSpace, cfg: &LayerNasConfig) -> Result<Self, LayerNasError> {
        let cs = space.compiled()?;
        let name = &cfg.metric;
        let metric = cs.metric_names().iter().position(|n| n == name).ok_or_else(|| LayerNasError::UnknownMetric { name: name.clone(), metrics: space.metric_names().to_vec() })?;
        let root = cs.encode(&space.inner().default_candidate());
        let global = cs.prefix_bounds(&root, 0, metric).ok_or_else(|| LayerNasError::NotAdditive { name: name.clone() })?;
        let target = match cfg.target {
            Some([lo, hi]) => (lo, hi),
            None => (cfg.min_fraction.map_or(global.0, |f| f * global.1), cfg.max_fraction * global.1),
        };
        if target.1 < global.0 * (1.0 - SLACK) || target.0 > global.1 * (1.0 + SLACK) {
            return Err(LayerNasError::EmptyTarget { name: name.clone(), target, global });
        }
        let n = cs.n_dec();
        let mut ranges = Vec::with_capacity(n);
        for l in 0..n {
            let mut r = cs.layer_bounds(metric, l).unwrap_or(global);
            if l + 1 == n {
                // the last layer's admissible models are exactly those inside the target
                r = (r.0.max(target.0), r.1.min(target.1));
            }
            ranges.push(r);
        }
        Ok(CostModel { metric, global, target, ranges })
    }

    /// Whether some valid completion of the prefix `0..len` of `row` lands in the target.
    pub fn admissible(&self, cs: &CompiledSpace, row: &[u64], len: usize) -> bool {
        match cs.prefix_bounds(row, len, self.metric) {
            Some((lo, hi)) => hi >= self.target.0 - SLACK * self.target.0.abs().max(1.0) && lo <= self.target.1 + SLACK * self.target.1.abs().max(1.0),
            // no valid completion at all
            None => false,
        }
    }

    /// Whether a finished model's cost lies in the target.
    pub fn in_target(&self, cost: f64) -> bool {
        cost >= self.target.0 - SLACK * self.target.0.abs().max(1.0) && cost <= self.target.1 + SLACK * self.target.1.abs().max(1.0)
    }

    /// Eq. 4: ⌊(cost − min) / (max − min) × H⌋ on layer `layer`, clamped to 0..H.
    pub fn bucket(&self, layer: usize, cost: f64, h: usize) -> usize {
        let (lo, hi) = self.ranges[layer];
        // NaN bounds count as an empty range
        if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) || !cost.is_finite() {
            return 0;
        }
        let x = ((cost - lo) / (hi - lo) * h as f64).floor();
        if x <= 0.0 {
            0
        } else {
            (x as usize).min(h - 1)
        }
    }
}

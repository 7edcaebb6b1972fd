//! LayerNAS hyper-parameters (serde JSON; missing fields take the paper's values).
use serde::{Deserialize, Serialize};

/// What φ groups candidates by (section 4.1 / 4.2 of the paper).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Topology search: φ is the candidate's canonical key (isomorphic candidates share a
    /// bucket), or with `phi = "unique"` its canonical genotype (every candidate its own bucket).
    Topology,
    /// Multi-objective size search: φ is the cost bucket of Eq. 4; children whose prefix cannot
    /// be completed into the target cost range are never evaluated.
    Size,
}

/// φ of topology search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TopologyPhi {
    /// `SearchSpace::key`: the isomorphism-aware canonical key.
    Key,
    /// `SearchSpace::canonical`: a unique id per candidate ("LayerNAS will store all model
    /// candidates").
    Unique,
}

/// How a partial model `(s_0..s_{i-1}, x_i, o_{i+1}..)` is completed: what the `o` are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fill {
    /// `largest` in topology mode, `default` in size mode.
    Auto,
    /// The spec's `default` of each later decision (the paper's wording: "the default,
    /// predefined options").
    Default,
    /// The options of the model with the largest `fill_metric` (exact argmax over the
    /// completions): a no-op default (`none` on NAS-Bench-201) makes every partial cell compute
    /// zero, so partial models would all score alike.
    Largest,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LayerNasConfig {
    /// How later decisions of a partial model are filled (default `auto`).
    pub fill: Fill,
    /// The additive metric `fill = "largest"` maximizes; absent: `flops`, else `params`.
    pub fill_metric: Option<String>,
    pub mode: Mode,
    /// Topology mode only.
    pub phi: TopologyPhi,
    /// Size mode: the cost metric (an additive derived metric of the spec, e.g. `flops`).
    pub metric: String,
    /// Size mode: the target cost range `[min, max]` in the metric's unit. When absent it is
    /// `[min_fraction, max_fraction]` × the largest model's cost.
    pub target: Option<[f64; 2]>,
    /// Size mode: the upper end of the target as a fraction of the largest model's cost
    /// (NATS-Bench size search in the paper: 50%).
    pub max_fraction: f64,
    /// Size mode: the lower end as a fraction of the largest model's cost; absent means the
    /// smallest model's cost (no lower limit).
    pub min_fraction: Option<f64>,
    /// H of Eq. 4 (the paper: 100).
    pub buckets: usize,
    /// Models kept per φ value (the paper: "store 3 best models with same h-value").
    pub per_bucket: usize,
    /// R of Algorithm 1: parents selected per layer. Absent: every stored model of the layer
    /// once (in random order), which gives the paper's Σ|M_i|·|S_i| search count.
    pub parents_per_layer: Option<usize>,
    /// T of Algorithm 1: options applied per selected parent. Absent: every option of the layer
    /// once (in random order).
    pub options_per_parent: Option<usize>,
}

impl Default for LayerNasConfig {
    fn default() -> Self {
        LayerNasConfig {
            fill: Fill::Auto,
            fill_metric: None,
            mode: Mode::Topology,
            phi: TopologyPhi::Key,
            metric: "flops".into(),
            target: None,
            max_fraction: 0.5,
            min_fraction: None,
            buckets: 100,
            per_bucket: 3,
            parents_per_layer: None,
            options_per_parent: None,
        }
    }
}

/// Why a [`LayerNasConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LayerNasConfigError {
    #[error("layernas: `buckets` must be at least 1")]
    Buckets,
    #[error("layernas: `per_bucket` must be at least 1")]
    PerBucket,
    #[error("layernas: `parents_per_layer` must be at least 1 (or absent for all)")]
    ParentsPerLayer,
    #[error("layernas: `options_per_parent` must be at least 1 (or absent for all)")]
    OptionsPerParent,
    #[error("layernas: target `[{lo}, {hi}]` must be a finite range with min <= max")]
    Target { lo: f64, hi: f64 },
    #[error("layernas: `max_fraction` `{0}` must be positive")]
    MaxFraction(f64),
    #[error("layernas: `min_fraction` `{0}` must be in [0, max_fraction]")]
    MinFraction(f64),
    #[error("layernas: `fill_metric` must name a metric of the spec")]
    FillMetric,
    #[error("layernas: `metric` must name a metric of the spec")]
    Metric,
}

impl From<LayerNasConfigError> for String {
    fn from(e: LayerNasConfigError) -> String {
        e.to_string()
    }
}

impl LayerNasConfig {
    /// The fill in effect (`auto` resolved by the mode).
    pub fn effective_fill(&self) -> Fill {
        match (self.fill, self.mode) {
            (Fill::Auto, Mode::Topology) => Fill::Largest,
            (Fill::Auto, Mode::Size) => Fill::Default,
            (f, _) => f,
        }
    }

    pub fn validate(&self) -> Result<(), LayerNasConfigError> {
        if self.buckets == 0 {
            return Err(LayerNasConfigError::Buckets);
        }
        if self.per_bucket == 0 {
            return Err(LayerNasConfigError::PerBucket);
        }
        if self.parents_per_layer == Some(0) {
            return Err(LayerNasConfigError::ParentsPerLayer);
        }
        if self.options_per_parent == Some(0) {
            return Err(LayerNasConfigError::OptionsPerParent);
        }
        if let Some([lo, hi]) = self.target {
            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                return Err(LayerNasConfigError::Target { lo, hi });
            }
        }
        if !(self.max_fraction.is_finite() && self.max_fraction > 0.0) {
            return Err(LayerNasConfigError::MaxFraction(self.max_fraction));
        }
        if let Some(f) = self.min_fraction {
            if !(f.is_finite() && f >= 0.0 && f <= self.max_fraction) {
                return Err(LayerNasConfigError::MinFraction(f));
            }
        }
        if self.fill_metric.as_deref() == Some("") {
            return Err(LayerNasConfigError::FillMetric);
        }
        if self.metric.is_empty() {
            return Err(LayerNasConfigError::Metric);
        }
        Ok(())
    }
}

//! POPNAS hyper-parameters (`--strategy-config`), with the paper's defaults (§4.1).
use super::acc::AccConfig;
use super::time::default_gbdt;
use crate::predict::GbdtConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PopnasConfig {
    /// `popnas` (Pareto front of predicted accuracy and time, exploration step) or `pnas` (the
    /// top-K by predicted accuracy; no time predictor in the choice, no exploration).
    pub mode: String,
    /// B: the most blocks of a cell (the search ends after training the cells of B blocks).
    pub blocks: usize,
    /// K: the most cells trained per step after b = 1.
    pub k: usize,
    /// J: the most cells the exploration step adds per step.
    pub j: usize,
    /// T: expansions predicted slower than this (in the time objective's unit) are dropped.
    pub time_limit: Option<f64>,
    /// The ops a cell may use (names of the spec's op options); empty: all of them.
    pub ops: Vec<String>,
    /// The accuracy predictor.
    pub predictor: AccConfig,
    /// The time predictor's gradient-boosted trees.
    pub time_predictor: GbdtConfig,
}

impl Default for PopnasConfig {
    fn default() -> Self {
        PopnasConfig { mode: "popnas".into(), blocks: 5, k: 128, j: 16, time_limit: None, ops: Vec::new(), predictor: AccConfig::default(), time_predictor: default_gbdt() }
    }
}

impl PopnasConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.mode != "popnas" && self.mode != "pnas" {
            return Err(format!("popnas: `mode` must be `popnas` or `pnas`, not `{}`", self.mode));
        }
        if self.blocks == 0 {
            return Err("popnas: `blocks` must be at least 1, not `0`".into());
        }
        if self.k == 0 {
            return Err("popnas: `k` must be at least 1, not `0`".into());
        }
        if let Some(t) = self.time_limit.filter(|t| !(*t > 0.0 && t.is_finite())) {
            return Err(format!("popnas: `time_limit` must be a positive number, not `{t}`"));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(d) = self.ops.iter().find(|o| !seen.insert(o.as_str())) {
            return Err(format!("popnas: op `{d}` is listed twice in `ops`"));
        }
        self.predictor.validate()?;
        self.time_predictor.validate().map_err(|e| format!("popnas: `time_predictor`: {e}"))
    }

    pub fn pnas(&self) -> bool {
        self.mode == "pnas"
    }
}

//! POPNAS hyper-parameters (`--strategy-config`), with the paper's defaults (§4.1).
use super::acc::AccConfig;
use super::time::{default_gbdt, TimeTarget};
use crate::predict::gbdt::GbdtError;
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
    /// What they learn: `time` (the paper) or `per_block` ([`TimeTarget`]).
    pub time_target: TimeTarget,
}

impl Default for PopnasConfig {
    fn default() -> Self {
        PopnasConfig {
            mode: "popnas".into(),
            blocks: 5,
            k: 128,
            j: 16,
            time_limit: None,
            ops: Vec::new(),
            predictor: AccConfig::default(),
            time_predictor: default_gbdt(),
            time_target: TimeTarget::Time,
        }
    }
}

/// Why a [`PopnasConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PopnasConfigError {
    #[error("popnas: `mode` must be `popnas` or `pnas`, not `{0}`")]
    Mode(String),
    #[error("popnas: `blocks` must be at least 1, not `0`")]
    Blocks,
    #[error("popnas: `k` must be at least 1, not `0`")]
    K,
    #[error("popnas: `time_limit` must be a positive number, not `{0}`")]
    TimeLimit(f64),
    #[error("popnas: op `{0}` is listed twice in `ops`")]
    OpTwice(String),
    /// A count of the accuracy predictor's (`folds`, `epochs`, ...) that is 0.
    #[error("popnas: `predictor.{0}` must be at least 1, not `0`")]
    PredictorCount(&'static str),
    #[error("popnas: `predictor.lr` must be a positive number, not `{0}`")]
    PredictorLr(f64),
    #[error("popnas: `predictor.l2` must be a non-negative number, not `{0}`")]
    PredictorL2(f64),
    #[error("popnas: `time_predictor`: {0}")]
    TimePredictor(#[source] GbdtError),
}

impl From<PopnasConfigError> for String {
    fn from(e: PopnasConfigError) -> String {
        e.to_string()
    }
}

impl PopnasConfig {
    pub fn validate(&self) -> Result<(), PopnasConfigError> {
        if self.mode != "popnas" && self.mode != "pnas" {
            return Err(PopnasConfigError::Mode(self.mode.clone()));
        }
        if self.blocks == 0 {
            return Err(PopnasConfigError::Blocks);
        }
        if self.k == 0 {
            return Err(PopnasConfigError::K);
        }
        if let Some(t) = self.time_limit.filter(|t| !(*t > 0.0 && t.is_finite())) {
            return Err(PopnasConfigError::TimeLimit(t));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(d) = self.ops.iter().find(|o| !seen.insert(o.as_str())) {
            return Err(PopnasConfigError::OpTwice(d.clone()));
        }
        self.predictor.validate()?;
        self.time_predictor.validate().map_err(PopnasConfigError::TimePredictor)
    }

    pub fn pnas(&self) -> bool {
        self.mode == "pnas"
    }
}

//! NAS-Bench-Macro and Channel-Bench-Macro (MobileNet / ResNet) tabular evaluators (CIFAR-10).
//!
//! The sources have test accuracy only (three trainings each) and no validation split and no
//! training time: reward = reported = the mean test accuracy (or, with `noise=seed`, one
//! training's accuracy as the reward); every trial costs 1 simulated second.
//! Lookup key: the candidate's name in the spec's naming format (8 digits 0..2 for
//! NAS-Bench-Macro, 7 digits 1..4 for Channel-Bench-Macro).
use super::table::{self, Column, Table};
use super::{reject_unknown, EvalError, EvalRequest, EvalResult, Evaluator};
use crate::space::SearchSpace;
use nasc_compiler::rng::splitmix64;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    NasBenchMacro,
    ChannelMobilenet,
    ChannelResnet,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::NasBenchMacro => "nas-bench-macro",
            Kind::ChannelMobilenet => "channel-bench-macro-mobilenet",
            Kind::ChannelResnet => "channel-bench-macro-resnet",
        }
    }
    fn table(self) -> &'static Table {
        match self {
            Kind::NasBenchMacro => table::nas_bench_macro(),
            Kind::ChannelMobilenet => table::channel_bench_macro_mobilenet(),
            Kind::ChannelResnet => table::channel_bench_macro_resnet(),
        }
    }
    /// (digits, base, first digit)
    fn key_format(self) -> (usize, u32, u32) {
        match self {
            Kind::NasBenchMacro => (8, 3, 0),
            _ => (7, 4, 1),
        }
    }
    /// The row of an arch key.
    pub fn row_of(self, key: &str) -> Option<usize> {
        let (n, base, first) = self.key_format();
        if key.len() != n {
            return None;
        }
        let mut row = 0usize;
        for ch in key.chars() {
            let d = ch.to_digit(10)?.checked_sub(first)?;
            if d >= base {
                return None;
            }
            row = row * base as usize + d as usize;
        }
        Some(row)
    }
}

pub struct MacroBench {
    kind: Kind,
    noise: bool,
    mean: Column,
    std: Column,
    seeds: [Column; 3],
}

impl MacroBench {
    pub fn new(kind: Kind, opts: &BTreeMap<String, String>, space: &SearchSpace) -> Result<Self, EvalError> {
        reject_unknown(kind.name(), opts, &["noise"])?;
        let noise = match opts.get("noise").map(String::as_str).unwrap_or("none") {
            "none" => false,
            "seed" => true,
            n => return Err(EvalError::Noise { evaluator: kind.name(), noise: n.to_string() }),
        };
        let probe = space.display_name(&space.inner().default_candidate());
        if kind.row_of(&probe).is_none() {
            let (n, _, first) = kind.key_format();
            return Err(EvalError::NotMacroKeys { evaluator: kind.name(), digits: n, first, probe });
        }
        let t = kind.table();
        Ok(MacroBench { kind, noise, mean: t.col("acc_mean"), std: t.col("acc_std"), seeds: [0, 1, 2].map(|s| t.col(&format!("acc_seed{s}"))) })
    }

    pub fn row_result(&self, row: usize, seed_pick: Option<u64>) -> EvalResult {
        let mean = self.mean.get(row);
        let reward = match seed_pick {
            Some(p) => self.seeds[(p % 3) as usize].get(row),
            None => mean,
        };
        EvalResult { reward, reported: mean, metrics: vec![mean, self.std.get(row)], cost: 1.0 }
    }
}

impl Evaluator for MacroBench {
    fn name(&self) -> String {
        format!("{}:noise={}", self.kind.name(), if self.noise { "seed" } else { "none" })
    }
    fn metric_names(&self) -> Vec<String> {
        vec!["test_acc".into(), "test_acc_std".into()]
    }
    fn evaluate(&mut self, space: &SearchSpace, batch: &[EvalRequest]) -> Vec<Result<EvalResult, String>> {
        batch
            .iter()
            .map(|r| {
                let name = space.display_name(r.candidate);
                let row = self.kind.row_of(&name).ok_or_else(|| format!("`{name}` is not a {} architecture", self.kind.name()))?;
                Ok(self.row_result(row, self.noise.then(|| splitmix64(r.seed, r.id))))
            })
            .collect()
    }
}

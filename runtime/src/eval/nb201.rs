//! NAS-Bench-201 (= NATS-Bench topology space) tabular evaluator.
//!
//! Options (`nb201:dataset=cifar100,epochs=200,noise=seed`):
//! - `dataset`: `cifar10` (default), `cifar10-valid`, `cifar100`, `ImageNet16-120`.
//! - `epochs`: the fidelity of the reward, `12` (default; the NAS-Bench-201 search protocol) or
//!   `200`.
//! - `noise`: `none` (default: the mean over the benchmark's training seeds) or `seed` (one
//!   training seed's result, picked per trial; 200 epochs only, the only per-seed data shipped).
//!
//! reward = validation accuracy at `epochs`; reported = test accuracy after 200 epochs (what the
//! papers report for the architecture a search returns). CIFAR-10 validation is the
//! `cifar10-valid` x-valid split and CIFAR-10 test the `cifar10` (train+valid) model on the test
//! set, so `cifar10` and `cifar10-valid` answer the same. Simulated cost = the table's 200-epoch
//! `train-all-time` x epochs/200 (the 12-epoch time is not in the shipped sources).
//! Per-seed noise on CIFAR-100 / ImageNet16-120: the sources have per-seed `valtest` only, so the
//! reward is the mean validation accuracy shifted by that seed's deviation from the mean valtest.
use super::table::{self, Column, Table};
use super::{reject_unknown, EvalError, EvalRequest, EvalResult, Evaluator};
use crate::budget::Budget;
use crate::space::SearchSpace;
use nasc_compiler::rng::splitmix64;
use std::collections::BTreeMap;

pub const OPS: [&str; 5] = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    Cifar10Valid,
    Cifar10,
    Cifar100,
    ImageNet16,
}

impl Dataset {
    pub fn parse(s: &str) -> Result<Self, EvalError> {
        match s.to_lowercase().as_str() {
            "cifar10-valid" => Ok(Dataset::Cifar10Valid),
            "cifar10" => Ok(Dataset::Cifar10),
            "cifar100" => Ok(Dataset::Cifar100),
            "imagenet16-120" | "imagenet16" | "imagenet" => Ok(Dataset::ImageNet16),
            _ => Err(EvalError::Dataset { name: s.to_string() }),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Cifar10Valid => "cifar10-valid",
            Dataset::Cifar10 => "cifar10",
            Dataset::Cifar100 => "cifar100",
            Dataset::ImageNet16 => "ImageNet16-120",
        }
    }
    fn prefix(self) -> &'static str {
        match self {
            Dataset::Cifar10Valid | Dataset::Cifar10 => "c10",
            Dataset::Cifar100 => "c100",
            Dataset::ImageNet16 => "in16",
        }
    }
}

/// Parse an NB201 arch string (`|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`) into the base-5 op code.
pub fn arch_code(s: &str) -> Option<u32> {
    let mut code = 0u32;
    let mut n = 0;
    for part in s.split('|').filter(|p| !p.is_empty() && *p != "+") {
        let (op, _) = part.split_once('~')?;
        let d = OPS.iter().position(|o| *o == op)? as u32;
        code = code * 5 + d;
        n += 1;
    }
    (n == 6).then_some(code)
}

/// The table and the op-code -> row index.
pub struct Nb201Data {
    pub table: &'static Table,
    row_of_code: Vec<u32>,
}

impl Nb201Data {
    pub fn load() -> Self {
        let table = table::nb201();
        let codes = table.col("ops_code");
        let mut row_of_code = vec![u32::MAX; 15625];
        for r in 0..table.rows {
            row_of_code[codes.get(r) as usize] = r as u32;
        }
        Nb201Data { table, row_of_code }
    }
    /// The benchmark index of an arch string.
    pub fn index_of(&self, arch: &str) -> Option<usize> {
        let r = *self.row_of_code.get(arch_code(arch)? as usize)?;
        (r != u32::MAX).then_some(r as usize)
    }
}

pub struct Nb201 {
    data: Nb201Data,
    dataset: Dataset,
    epochs: u32,
    noise: bool,
    valid: Column,
    test: Column,
    valid_200: Column,
    test_200: Column,
    time_200: Column,
    seeds: [Column; 3],
    valtest_200: Option<Column>,
}

impl Nb201 {
    pub fn new(opts: &BTreeMap<String, String>, space: &SearchSpace) -> Result<Self, EvalError> {
        reject_unknown("nb201", opts, &["dataset", "epochs", "noise"])?;
        let dataset = Dataset::parse(opts.get("dataset").map(String::as_str).unwrap_or("cifar10"))?;
        let epochs: u32 = match opts.get("epochs").map(String::as_str).unwrap_or("12") {
            "12" => 12,
            "200" => 200,
            e => return Err(EvalError::Epochs { epochs: e.to_string() }),
        };
        let noise = match opts.get("noise").map(String::as_str).unwrap_or("none") {
            "none" => false,
            "seed" => true,
            n => return Err(EvalError::Noise { evaluator: "nb201", noise: n.to_string() }),
        };
        if noise && epochs != 200 {
            return Err(EvalError::SeedNoiseEpochs);
        }
        let data = Nb201Data::load();
        // the space must print NB201 arch strings
        let probe = space.display_name(&space.inner().default_candidate());
        if data.index_of(&probe).is_none() {
            return Err(EvalError::NotNb201 { probe });
        }
        let t = data.table;
        let p = dataset.prefix();
        let seed_prefix = if p == "c10" {
            "c10_valid"
        } else if p == "c100" {
            "c100_valtest"
        } else {
            "in16_valtest"
        };
        Ok(Nb201 {
            dataset,
            epochs,
            noise,
            valid: t.col(&format!("{p}_valid_{epochs}")),
            test: t.col(&format!("{p}_test_{epochs}")),
            valid_200: t.col(&format!("{p}_valid_200")),
            test_200: t.col(&format!("{p}_test_200")),
            time_200: t.col(&format!("{p}_time_200")),
            seeds: [0, 1, 2].map(|s| t.col(&format!("{seed_prefix}_seed{s}"))),
            valtest_200: (p != "c10").then(|| t.col(&format!("{p}_valtest_200"))),
            data,
        })
    }

    /// Evaluate one benchmark row (no noise unless `seed_pick` is given).
    pub fn row_result(&self, row: usize, seed_pick: Option<u64>) -> EvalResult {
        let mut reward = self.valid.get(row);
        if let Some(pick) = seed_pick {
            let avail: Vec<f64> = self.seeds.iter().map(|c| c.get(row)).filter(|v| !v.is_nan()).collect();
            let s = avail[(pick % avail.len() as u64) as usize];
            reward = match self.valtest_200 {
                None => s,
                Some(vt) => self.valid_200.get(row) + (s - vt.get(row)),
            };
        }
        let cost = self.time_200.get(row) * (self.epochs as f64 / 200.0);
        EvalResult {
            reward,
            reported: self.test_200.get(row),
            metrics: vec![self.valid.get(row), self.test.get(row), self.valid_200.get(row), self.test_200.get(row), cost, row as f64],
            cost,
        }
    }
}

impl Evaluator for Nb201 {
    fn name(&self) -> String {
        format!("nb201:dataset={},epochs={},noise={}", self.dataset.name(), self.epochs, if self.noise { "seed" } else { "none" })
    }
    fn metric_names(&self) -> Vec<String> {
        let e = self.epochs;
        vec![format!("valid_acc_{e}ep"), format!("test_acc_{e}ep"), "valid_acc".into(), "test_acc".into(), "train_time_s".into(), "nb201_index".into()]
    }
    fn evaluate(&mut self, space: &SearchSpace, batch: &[EvalRequest]) -> Vec<Result<EvalResult, String>> {
        batch
            .iter()
            .map(|r| {
                let name = space.display_name(r.candidate);
                let row = self.data.index_of(&name).ok_or_else(|| format!("`{name}` is not a NAS-Bench-201 architecture"))?;
                let pick = self.noise.then(|| splitmix64(r.seed, r.id));
                Ok(self.row_result(row, pick))
            })
            .collect()
    }
    fn default_budget(&self) -> Budget {
        if self.epochs == 12 {
            // NB201's 12000 s on CIFAR-10; trials cost 2x / 6x as much on CIFAR-100 /
            // ImageNet16-120 in the shipped timings, so the budget scales alike (~100 trials)
            Budget::Time(match self.dataset {
                Dataset::Cifar10 | Dataset::Cifar10Valid => 12_000.0,
                Dataset::Cifar100 => 24_000.0,
                Dataset::ImageNet16 => 72_000.0,
            })
        } else {
            Budget::Trials(100)
        }
    }
}

//! Evaluators: what a candidate scores. Tabular benchmarks (NAS-Bench-201, NAS-Bench-Macro,
//! Channel-Bench-Macro) answer from embedded tables with a simulated training time; `instant`
//! is a zero-cost synthetic evaluator for measuring the search overhead.
use crate::space::SearchSpace;
use nasc_compiler::Candidate;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub mod instant;
pub mod macro_bench;
pub mod nb201;
pub mod table;

/// One candidate to evaluate. `seed` is the run's evaluation seed; together with `id` it fixes
/// any randomness (e.g. which training seed a noisy tabular evaluator returns), so evaluation is
/// a pure function of (seed, id, candidate) and resumed runs see the same results.
pub struct EvalRequest<'a> {
    pub id: u64,
    pub candidate: &'a Candidate,
    pub seed: u64,
}

/// A successful evaluation. `reward` is what the strategy maximizes (a validation accuracy);
/// `reported` is what a paper reports for the chosen candidate (a test accuracy).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalResult {
    pub reward: f64,
    pub reported: f64,
    /// Values of [`Evaluator::metric_names`], in order.
    pub metrics: Vec<f64>,
    /// Simulated seconds the evaluation takes (training time).
    pub cost: f64,
}

/// Makes one evaluator per thread that evaluates trials at once (each thread its own; a
/// `Box<dyn Evaluator>` need not be `Send`, so it is made on the thread that uses it).
pub type EvalFactory<'a> = dyn Fn() -> Result<Box<dyn Evaluator>, String> + Sync + 'a;

pub trait Evaluator {
    /// The evaluator's full name with its options, e.g. `nb201:dataset=cifar10,epochs=12`.
    fn name(&self) -> String;
    /// Names of the metrics it returns.
    fn metric_names(&self) -> Vec<String>;
    /// Evaluate a batch; each item may fail.
    fn evaluate(&mut self, space: &SearchSpace, batch: &[EvalRequest]) -> Vec<Result<EvalResult, String>>;
    /// Whether [`EvalResult::cost`] is wall seconds really spent (training in the loop, a user's
    /// program) rather than a benchmark's simulated time. Under `--time-budget` the runner then
    /// keeps a trial that ends past the budget (it was really trained) and stops after it.
    /// Decided by the name ([`wall_clock`]), the one rule a stored run's report also reads.
    fn wall_clock_costs(&self) -> bool {
        wall_clock(&self.name())
    }
    /// Budget to use when the user gives none.
    fn default_budget(&self) -> crate::budget::Budget {
        crate::budget::Budget::Trials(100)
    }
    /// Free-form data of trial `id` beyond the fixed [`Evaluator::metric_names`] (a command's
    /// intermediate `{step, value}` lines and its own `metrics` object), taken once by the runner
    /// right after [`Evaluator::evaluate`] returned, for failed trials too; stored with the trial.
    fn take_extra(&mut self, _id: u64) -> Option<Value> {
        None
    }
    /// The run's stop flag (set by Ctrl-C). An evaluator whose trials run for long (a child
    /// process) watches it and gives up the running trials with an error; the runner does not
    /// record a trial that failed while the run was stopping, and reruns it when the run resumes.
    fn watch_stop(&mut self, _stop: Arc<AtomicBool>) {}
}

/// Why an evaluator cannot be built from its spec string (the per-trial failures of an evaluator
/// are texts stored with each trial, not these).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("evaluator option `{part}`: expected KEY=VALUE")]
    OptionSyntax { part: String },
    /// `known`: the evaluator's options.
    #[error("evaluator `{evaluator}` has no option `{option}` (options: {})", .known.join(", "))]
    UnknownOption { evaluator: String, option: String, known: Vec<&'static str> },
    /// `known`: [`NAMES`].
    #[error("unknown evaluator `{name}` (known: {})", NAMES.join(", "))]
    Unknown { name: String },
    #[error("unknown NB201 dataset `{name}` (cifar10-valid, cifar10, cifar100, ImageNet16-120)")]
    Dataset { name: String },
    #[error("nb201: epochs must be 12 or 200, not `{epochs}`")]
    Epochs { epochs: String },
    #[error("{evaluator}: noise must be `none` or `seed`, not `{noise}`")]
    Noise { evaluator: &'static str, noise: String },
    #[error("nb201: per-seed results (noise=seed) exist only for epochs=200")]
    SeedNoiseEpochs,
    /// The space's names are not NAS-Bench-201 arch strings (`probe`: its default candidate's).
    #[error("the nb201 evaluator needs a space whose names are NAS-Bench-201 arch strings (`name arch = \"|{{edge[0]}}~0|+...\"`); this space names candidates like `{probe}`")]
    NotNb201 { probe: String },
    /// The space's names are not the benchmark's `digits`-digit keys (digits from `first`).
    #[error("the {evaluator} evaluator needs a space whose names are the benchmark's {digits}-digit keys (digits from {first}); this space names candidates like `{probe}`")]
    NotMacroKeys { evaluator: &'static str, digits: usize, first: u32, probe: String },
    #[error("malformed embedded table")]
    Table,
}

impl From<EvalError> for String {
    fn from(e: EvalError) -> String {
        e.to_string()
    }
}

/// `NAME` or `NAME:key=value,key=value`.
pub fn parse_spec(spec: &str) -> Result<(String, BTreeMap<String, String>), EvalError> {
    let (name, rest) = match spec.split_once(':') {
        Some((n, r)) => (n.trim(), r.trim()),
        None => (spec.trim(), ""),
    };
    let mut opts = BTreeMap::new();
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| EvalError::OptionSyntax { part: part.to_string() })?;
        opts.insert(k.trim().to_lowercase(), v.trim().to_string());
    }
    Ok((name.to_lowercase(), opts))
}

pub(crate) fn reject_unknown(evaluator: &str, opts: &BTreeMap<String, String>, known: &[&'static str]) -> Result<(), EvalError> {
    for k in opts.keys() {
        if !known.contains(&k.as_str()) {
            return Err(EvalError::UnknownOption { evaluator: evaluator.to_string(), option: k.clone(), known: known.to_vec() });
        }
    }
    Ok(())
}

/// The evaluators known by name.
pub const NAMES: &[&str] = &["nb201", "nas-bench-macro", "channel-bench-macro-mobilenet", "channel-bench-macro-resnet", "instant"];

/// Build an evaluator from its spec string and check that it fits the space.
pub fn make(spec: &str, space: &SearchSpace) -> Result<Box<dyn Evaluator>, EvalError> {
    let (name, opts) = parse_spec(spec)?;
    match name.as_str() {
        "nb201" | "nas-bench-201" | "nats-tss" => Ok(Box::new(nb201::Nb201::new(&opts, space)?)),
        "nas-bench-macro" | "nas_bench_macro" => Ok(Box::new(macro_bench::MacroBench::new(macro_bench::Kind::NasBenchMacro, &opts, space)?)),
        "channel-bench-macro-mobilenet" | "channel_bench_macro_mobilenet" => Ok(Box::new(macro_bench::MacroBench::new(macro_bench::Kind::ChannelMobilenet, &opts, space)?)),
        "channel-bench-macro-resnet" | "channel_bench_macro_resnet" => Ok(Box::new(macro_bench::MacroBench::new(macro_bench::Kind::ChannelResnet, &opts, space)?)),
        "instant" => {
            reject_unknown("instant", &opts, &[])?;
            Ok(Box::new(instant::Instant))
        }
        _ => Err(EvalError::Unknown { name }),
    }
}

/// The default evaluator of a spec, by the convention that a space named like a benchmark uses
/// it: `space nb201;` -> `nb201` (dataset from the `classes` param: 10 -> cifar10, 100 ->
/// cifar100, 120 -> ImageNet16-120), `space nas_bench_macro;` -> `nas-bench-macro`,
/// `space channel_bench_macro_mobilenet;` / `..._resnet;` -> the Channel-Bench-Macro evaluators.
pub fn default_for(space: &SearchSpace) -> Option<String> {
    match space.name() {
        "nb201" | "nas_bench_201" | "nats_tss" => {
            let ds = match space.constant("classes").map(|c| c as i64) {
                Some(100) => "cifar100",
                Some(120) => "ImageNet16-120",
                _ => "cifar10",
            };
            Some(format!("nb201:dataset={ds}"))
        }
        "nas_bench_macro" => Some("nas-bench-macro".into()),
        "channel_bench_macro_mobilenet" => Some("channel-bench-macro-mobilenet".into()),
        "channel_bench_macro_resnet" => Some("channel-bench-macro-resnet".into()),
        _ => None,
    }
}

/// A JSON description of an evaluator (for the store).
pub fn describe(e: &dyn Evaluator) -> Value {
    serde_json::json!({"name": e.name(), "metrics": e.metric_names()})
}

/// What a run's `reward` and `reported` are, from its evaluator's name: accuracies are percent
/// for every built-in evaluator (the benchmarks' tables and `train:` alike); `instant` is a
/// synthetic score, and a `command:` program's values are what it prints.
pub fn reward_meaning(evaluator: &str) -> (String, String) {
    let opt = |k: &str| evaluator.split([':', ',']).find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('='))).map(str::to_string);
    match kind(evaluator) {
        "nb201" => {
            let epochs = opt("epochs").unwrap_or_else(|| "12".into());
            let ds = opt("dataset").unwrap_or_else(|| "cifar10".into());
            (format!("NAS-Bench-201 {ds} validation accuracy after {epochs} epochs, %"), format!("NAS-Bench-201 {ds} test accuracy after 200 epochs, %"))
        }
        "nas-bench-macro" | "channel-bench-macro-mobilenet" | "channel-bench-macro-resnet" => {
            let r =
                if opt("noise").as_deref() == Some("seed") { "one training's CIFAR-10 test accuracy, %" } else { "CIFAR-10 test accuracy, mean of the benchmark's trainings, %" };
            (r.into(), "CIFAR-10 test accuracy, mean of the benchmark's trainings, %".into())
        }
        "train" => {
            let ds = opt("dataset").unwrap_or_else(|| "digits".into());
            (format!("{ds} validation accuracy (held-out split), %"), format!("{ds} test accuracy, %"))
        }
        "nse" => {
            let ds = opt("dataset").unwrap_or_else(|| "digits".into());
            (format!("supernet accuracy of the sub-network on the {ds} validation split (shared weights, BN recalibrated, not retrained), %"), "none".into())
        }
        "instant" => ("a synthetic score in [0, 1) (a hash of the candidate)".into(), "the same score".into()),
        "command" => ("the program's `reward`, as it prints it".into(), "the program's `reported` (its `reward` if absent)".into()),
        _ => ("the evaluator's reward".into(), "the evaluator's reported value".into()),
    }
}

/// Whether a run's evaluator (by name) reports wall seconds as costs (`train:`, `command:`,
/// also with options such as `command[timeout=S]:`; see [`Evaluator::wall_clock_costs`]): the
/// report then says "wall" where others say "simulated".
pub fn wall_clock(evaluator: &str) -> bool {
    matches!(kind(evaluator), "train" | "command" | "nse")
}

/// The evaluator's kind from its name: `nb201` of `nb201:dataset=...`, `command` of
/// `command[timeout=S]:PROGRAM`.
fn kind(evaluator: &str) -> &str {
    let k = evaluator.split_once(':').map_or(evaluator, |(k, _)| k);
    k.split_once('[').map_or(k, |(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::{reward_meaning, wall_clock};

    #[test]
    fn training_evaluators_count_wall_seconds() {
        assert!(wall_clock("train:dataset=digits") && wall_clock("command:python3 t.py") && wall_clock("train") && wall_clock("command[timeout=2]:python3 t.py"));
        assert!(!wall_clock("nb201:dataset=cifar10") && !wall_clock("instant") && !wall_clock("nas-bench-macro"));
    }

    #[test]
    fn every_evaluator_says_what_its_reward_is() {
        assert_eq!(reward_meaning("nb201:dataset=cifar100,epochs=200,noise=none").0, "NAS-Bench-201 cifar100 validation accuracy after 200 epochs, %");
        assert_eq!(reward_meaning("nb201").1, "NAS-Bench-201 cifar10 test accuracy after 200 epochs, %");
        assert!(reward_meaning("nas-bench-macro:noise=seed").0.starts_with("one training's"));
        assert_eq!(reward_meaning("train:dataset=mnist,epochs=2").0, "mnist validation accuracy (held-out split), %");
        assert!(reward_meaning("instant").0.contains("synthetic"));
        assert!(reward_meaning("command:python3 train.py --lr=0.1").0.contains("program"));
        assert!(reward_meaning("command[timeout=5]:python3 train.py").0.contains("program"));
        assert_eq!(reward_meaning("mystery").0, "the evaluator's reward");
    }
}

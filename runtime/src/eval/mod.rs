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

pub trait Evaluator {
    /// The evaluator's full name with its options, e.g. `nb201:dataset=cifar10,epochs=12`.
    fn name(&self) -> String;
    /// Names of the metrics it returns.
    fn metric_names(&self) -> Vec<String>;
    /// Evaluate a batch; each item may fail.
    fn evaluate(&mut self, space: &SearchSpace, batch: &[EvalRequest]) -> Vec<Result<EvalResult, String>>;
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

/// `NAME` or `NAME:key=value,key=value`.
pub fn parse_spec(spec: &str) -> Result<(String, BTreeMap<String, String>), String> {
    let (name, rest) = match spec.split_once(':') {
        Some((n, r)) => (n.trim(), r.trim()),
        None => (spec.trim(), ""),
    };
    let mut opts = BTreeMap::new();
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| format!("evaluator option `{part}`: expected KEY=VALUE"))?;
        opts.insert(k.trim().to_lowercase(), v.trim().to_string());
    }
    Ok((name.to_lowercase(), opts))
}

pub(crate) fn reject_unknown(evaluator: &str, opts: &BTreeMap<String, String>, known: &[&str]) -> Result<(), String> {
    for k in opts.keys() {
        if !known.contains(&k.as_str()) {
            return Err(format!("evaluator `{evaluator}` has no option `{k}` (options: {})", known.join(", ")));
        }
    }
    Ok(())
}

/// The evaluators known by name.
pub const NAMES: &[&str] = &["nb201", "nas-bench-macro", "channel-bench-macro-mobilenet", "channel-bench-macro-resnet", "instant"];

/// Build an evaluator from its spec string and check that it fits the space.
pub fn make(spec: &str, space: &SearchSpace) -> Result<Box<dyn Evaluator>, String> {
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
        _ => Err(format!("unknown evaluator `{name}` (known: {})", NAMES.join(", "))),
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

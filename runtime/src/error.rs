//! The typed errors of the runtime beyond the store's (`store::StoreError`): a run that
//! cannot go on ([`RunError`], which wraps the others), and those shared by several modules
//! (strategy names, objectives, constraints). Each variant keeps what the user needs; messages
//! are lowercase with user input in backticks, and callers render them (`to_string`, or `?`
//! through `From<_> for String`) or keep them as sources (the runner's `nasc/src/error.rs`).
//!
//! The other errors live in the module that owns them: `space::{SpaceError, CompileError,
//! DecodeError}`, `strategy::{ConfigError, StateError}` and each strategy's config (and run)
//! error, `eval::EvalError`, `spec::SpecError`, `compare::CompareError`, `report::ReportError`,
//! `worker::WorkError`, `nn::NnError`, `predict::gbdt::GbdtError`.
//!
//! Still `String` (issue 15), by design, here and in the runner: the `Evaluator` trait's
//! per-trial results (failure texts stored with each trial, implemented in `nasc` too), and with
//! them the evaluator factories the caller passes in (`eval::EvalFactory`, `compare::run`'s
//! `make_eval`: a factory's failure is a trial's failure text) and the runner's and the
//! PostgreSQL lease's per-trial results; and `spec.rs`'s file loader, which implements the
//! compiler's `Loader` trait.
use crate::space::DecodeError;
use crate::store::StoreError;
use crate::strategy::StateError;

/// Why a run (new or resumed) cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored run's objectives cannot be read.
    #[error(transparent)]
    Objectives(#[from] ObjectiveError),
    /// The checkpoint's strategy state cannot be restored.
    #[error(transparent)]
    Restore(#[from] StateError),
    /// A stored candidate that does not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("the store has trials but no checkpoint")]
    NoCheckpoint,
    #[error("the store's checkpoint ({checkpoint} trials) does not match its {trials} trials")]
    CheckpointMismatch { checkpoint: u64, trials: usize },
    /// The checkpoint has no strategy state (saving a LISSNAS run's shrunk space).
    #[error("checkpoint lacks the strategy state")]
    NoStrategyState,
    #[error("unreadable checkpoint: {0}")]
    Checkpoint(#[source] serde_json::Error),
    /// Trial `id` is in flight in the checkpoint, neither failed nor with a reward.
    #[error("checkpoint: in-flight trial without result")]
    NoResult { id: u64 },
    #[error("evaluator `{evaluator}` returned {results} results for {candidates} candidates")]
    ResultCount { evaluator: String, results: usize, candidates: usize },
    #[error("strategy `{strategy}` returned candidates it did not accept")]
    Unaccepted { strategy: String },
    #[error("internal: a peeked trial was gone")]
    PeekedGone,
    /// The real parallel workers' threads are gone.
    #[error("every evaluation thread has stopped")]
    PoolStopped,
}

impl From<RunError> for String {
    fn from(e: RunError) -> String {
        e.to_string()
    }
}

/// `; did you mean `x`?` when there is a suggestion.
pub(crate) fn hint(suggestion: &Option<String>) -> String {
    suggestion.as_ref().map(|m| format!("; did you mean `{m}`?")).unwrap_or_default()
}

/// Why a strategy name or configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    #[error("unknown strategy `{name}` (known: {})", .known.join(", "))]
    Unknown { name: String, known: Vec<&'static str> },
}

impl From<StrategyError> for String {
    fn from(e: StrategyError) -> String {
        e.to_string()
    }
}

/// Why `--objective`, `--scalarize`, a reference point or a run's stored objectives cannot be
/// used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ObjectiveError {
    /// An external metric of the spec that the evaluator does not report.
    #[error("external metric `{name}` is not reported by the evaluator `{evaluator}`; objectives may use: {}", .known.join(", "))]
    Unreported { name: String, evaluator: String, known: Vec<String> },
    #[error("unknown objective `{name}` (known: {}){}", .known.join(", "), hint(.suggestion))]
    Unknown { name: String, known: Vec<String>, suggestion: Option<String> },
    #[error("objective `{item}`: expected `max:NAME` or `min:NAME` (e.g. `max:reward,min:flops`)")]
    NotAnItem { item: String },
    #[error("objective `{item}`: direction `{direction}` is neither `max` nor `min`")]
    Direction { item: String, direction: String },
    #[error("objective `{item}`: `{name}` is not a metric name")]
    NotAName { item: String, name: String },
    #[error("objective `{name}` is given twice")]
    GivenTwice { name: String },
    /// Two objectives that resolve to the same value.
    #[error("objectives `{first}` and `{second}` are the same value")]
    SameValue { first: String, second: String },
    #[error("--scalarize `{text}`: {why}")]
    Scalarize { text: String, why: ScalarizeError },
    /// The JSON a store keeps (`Objectives::to_json`) does not read back.
    #[error("stored objectives `{stored}` are not readable")]
    Stored { stored: String },
    /// `example`: the first objective's name.
    #[error("reference `{item}`: expected NAME=VALUE (e.g. `{example}=0`)")]
    ReferenceItem { item: String, example: String },
    #[error("reference `{item}`: `{name}` is not an objective of the run (objectives: {}){}", .objectives.join(", "), hint(.suggestion))]
    ReferenceName { item: String, name: String, objectives: Vec<String>, suggestion: Option<String> },
    #[error("reference `{item}`: `{value}` is not a number")]
    ReferenceValue { item: String, value: String },
    /// `objectives`: every objective as `max:NAME`.
    #[error("reference point `{text}` lacks objective `{name}` (give every objective: {})", .objectives.join(", "))]
    ReferenceMissing { text: String, name: String, objectives: Vec<String> },
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    /// A single-objective strategy on a multi-objective run (`objectives`: as `max:NAME`; `multi`:
    /// the strategies that handle several).
    #[error("strategy `{strategy}` optimizes one objective, and this run has {} ({}); use a strategy that handles several objectives ({}), or give `--scalarize` (e.g. `sum:1*{}-1e-9*{}` or `cap:{}<=BOUND`)", .objectives.len(), .objectives.join(", "), .multi.join(", "), .names[0], .names[1], .names[1])]
    SingleObjective { strategy: String, objectives: Vec<String>, names: Vec<String>, multi: Vec<&'static str> },
}

/// What is wrong with a `--scalarize` text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScalarizeError {
    #[error("expected `sum:W*NAME+W*NAME...` or `cap:NAME<=BOUND[,...]`")]
    Syntax,
    #[error("two signs in a row")]
    TwoSigns,
    #[error("a term is missing after the last sign")]
    MissingTerm,
    #[error("`{weight}` is not a number")]
    Weight { weight: String },
    /// A name that is not an objective's.
    #[error(transparent)]
    Name(Box<ObjectiveError>),
    #[error("no terms")]
    NoTerms,
    #[error("cap `{item}`: expected NAME<=BOUND (or <, >=, >)")]
    CapSyntax { item: String },
    #[error("cap `{item}`: `{bound}` is not a number")]
    CapBound { item: String, bound: String },
    #[error("every objective is capped; leave one objective uncapped to be the reward")]
    AllCapped,
    #[error("{} objectives are left uncapped ({}); cap all but one, or use `sum:`", .uncapped.len(), .uncapped.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))]
    Uncapped { uncapped: Vec<String> },
    #[error("unknown scalarization `{kind}` (known: sum, cap)")]
    Unknown { kind: String },
}

impl From<ObjectiveError> for String {
    fn from(e: ObjectiveError) -> String {
        e.to_string()
    }
}

/// Why a `--constraint` cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConstraintError {
    #[error("constraint `{text}`: {why}")]
    Shape { text: String, why: ConstraintShape },
    /// No candidate meets one comparison of the constraint (`what`: the comparison against the
    /// metric's exact bounds).
    #[error("constraint `{text}` excludes every candidate: {what}")]
    ExcludesAll { text: String, what: String },
}

/// What is wrong with the form of a constraint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintShape {
    #[error("divides by zero")]
    DividesByZero,
    #[error("has a constant part that is not a finite number")]
    NotFinite,
    #[error("`\"{0}\"` is a string; a constraint compares numbers")]
    Str(String),
    #[error("is not a condition; compare a metric with a number, e.g. `flops <= 120M` or `params in 1M..5M`")]
    NotACondition,
}

impl From<ConstraintError> for String {
    fn from(e: ConstraintError) -> String {
        e.to_string()
    }
}

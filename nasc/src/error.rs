//! The runner's typed errors (thiserror), one enum per area: [`CliError`] (the commands:
//! `--set`, `--allow-path`, spec files, `nasc search`/`worker`/`compare`/`report`/`train`; it
//! wraps the others), [`NseError`] with [`NotSupernet`] (`--strategy nse`), [`EvaluatorError`]
//! with [`SplitError`] (building the `train` and `command` evaluators), [`TrialError`] (a
//! `command` trial's child that cannot run), [`NetError`] (a candidate's network for the
//! trainer), [`ExportError`] with [`NpyError`] (`nasc export`, `nasc infer`, weights files).
//! The other crates' errors are kept as sources (`#[from]`, shown as they are, or `#[source]`
//! behind this crate's context); each variant keeps what the user needs (the flag and its value,
//! the file, the decision, the candidate). Messages are lowercase with user input in backticks,
//! and only the command functions render them (`error: {e}`, or a JSON document's `error`),
//! with the same texts as before they were typed.
//!
//! Still `String`, by design (as `nasc_runtime::error` says):
//! - the `Evaluator` trait's per-trial results, failure texts stored with each trial: the
//!   `train` evaluator's `evaluate`/`one`/`train_one`, the `command` evaluator's
//!   `evaluate`/`run` and `judge` (with its `fail` and `number` closures), which words a
//!   child's outcome; a [`TrialError`] becomes such a text;
//! - the evaluator factories handed to the runtime (`eval::EvalFactory`, `compare::run`'s
//!   `make_eval`): closures over `train_eval::make`/`make_in_cores` that render their
//!   [`EvaluatorError`], since a factory's failure is a trial's;
//! - the compiler's `Loader` trait (the text of a lookup file, or why not): the runner has no
//!   loader of its own, it hands out the runtime's `FsLoader` (`loader.rs`).
use nasc_compiler::{NameError, TraceError};
use nasc_kernels::nse_ckpt::CheckpointError;
use nasc_kernels::{DataError, GraphError, SetupError, SupernetError};
use nasc_runtime::compare::CompareError;
use nasc_runtime::error::{ConstraintError, ObjectiveError, RunError, StrategyError};
use nasc_runtime::eval::EvalError;
use nasc_runtime::space::{DecodeError, SpaceError};
use nasc_runtime::store::pg::PgError;
use nasc_runtime::store::StoreError;
use nasc_runtime::strategy::{ConfigError, EvolutionConfigError};
use nasc_runtime::worker::WorkError;
use safetensors::{Dtype, SafeTensorError};
use serde_json::Value;
use std::io;
use std::path::PathBuf;

/// An OS error's message, lowercase (as the rest of nasc's errors).
fn lower(e: &io::Error) -> String {
    e.to_string().to_lowercase()
}

/// `; did you mean `x`?` when there is a suggestion.
fn suggest(suggestion: &Option<String>) -> String {
    suggestion.as_ref().map(|m| format!("; did you mean `{m}`?")).unwrap_or_default()
}

/// Why a command cannot go on (exit code 2 unless the command says otherwise).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("`--set {given}`: expected NAME=VALUE")]
    SetSyntax { given: String },
    #[error("`--set {given}`: `{name}` is already set to `{old}`; give each parameter once")]
    SetTwice { given: String, name: String, old: String },
    #[error("`--allow-path {dir}`: {}", lower(.source))]
    AllowPath {
        dir: String,
        #[source]
        source: io::Error,
    },
    #[error("`--allow-path {dir}`: not a folder")]
    AllowPathNotFolder { dir: String },
    /// A spec file that cannot be read (a bare name near a built-in spec's gets a hint).
    #[error("cannot read `{path}`: {}{}", lower(.source), crate::zoo::read_hint(.path, .source))]
    SpecRead {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("`{file}` has errors")]
    HasErrors { file: String },
    #[error("candidate `{name}`: {source}")]
    Candidate {
        name: String,
        #[source]
        source: NameError,
    },
    /// The space has no benchmark: every evaluator it could use.
    #[error(
        "space `{space}` has no default evaluator; choose one with --evaluator ({}, `train:dataset=digits,epochs=1` to train each candidate, or `command:PROGRAM ARGS` to run your own training code per candidate)",
        nasc_runtime::eval::NAMES.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    )]
    NoDefaultEvaluator { space: String },
    #[error("--strategy-config `{text}`: not JSON: {source}")]
    StrategyConfigJson {
        text: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("--strategy-config `{text}`: expected a JSON object of the strategy's settings, e.g. `{{\"population\": 20}}`")]
    StrategyConfigNotObject { text: String },
    #[error("--population, --sample-size and --mutation-distance apply to `--strategy re` only, and not together with --strategy-config")]
    EvolutionFlags,
    #[error("--workers must be at least 1")]
    NoWorkers,
    #[error("--target must be a finite reward, not {target}")]
    Target { target: f64 },
    #[error("--time-budget must be a positive number of seconds, not {seconds}")]
    TimeBudget { seconds: f64 },
    #[error("--run, --lease-timeout and --max-retries apply to a PostgreSQL store (`--store postgresql://USER@HOST:PORT/DB`)")]
    PgFlags,
    #[error("the constraints given ({given:?}) differ from the stored run's ({stored:?})")]
    ConstraintsDiffer { given: Vec<String>, stored: Vec<String> },
    #[error("--space-from `{from}` differs from the space the stored run searches ({members} members); a resumed run keeps its space")]
    SpaceFromDiffers { from: String, members: usize },
    #[error("--space-from cannot be added when resuming a run that searched the whole space")]
    SpaceFromAdded,
    /// `--FLAG GIVEN` on `--resume` against the stored run's value.
    #[error("--{flag} {given} differs from the stored run's {stored}; a resumed run keeps its configuration")]
    Differs { flag: &'static str, given: String, stored: String },
    #[error("--objective and --scalarize cannot change when resuming; the stored run's objectives are used")]
    ObjectivesChanged,
    #[error("strategy options cannot change when resuming; the stored run's are used")]
    StrategyOptionsChanged,
    #[error("`nasc worker` needs a PostgreSQL store (`--store postgresql://USER@HOST:PORT/DB`), not `{store}`")]
    WorkerNeedsPg { store: String },
    #[error("--space-from `{from}`: name the run in the database after a `#`, e.g. `{from}#lissnas-1`")]
    SpaceFromRun { from: String },
    /// A PostgreSQL run's stored spec (its diagnostics are printed) that does not compile here.
    #[error("the run's spec (`{path}`, stored in the database) does not compile here")]
    StoredSpec { path: String },
    #[error("the run's stored spec does not match its hash `{hash}`")]
    StoredSpecHash { hash: String },
    #[error("a PostgreSQL store holds many runs: name this one with `--run NAME`, e.g. `nasc search {file} --store {url} --run {space}-1`")]
    PgRunName { file: String, url: String, space: String },
    #[error("evaluator `{evaluator}` budgets simulated seconds, which have no meaning across machines; give --budget N")]
    PgResumeSimulated { evaluator: String },
    #[error("a resumed run keeps its configuration: give only --budget or --time-budget (and --workers for this process) with --resume")]
    PgResumeFlags,
    #[error("evaluator `{evaluator}` budgets simulated seconds, which have no meaning across machines; a PostgreSQL run needs a budget in trials (`--budget N`), or wall seconds (`--time-budget S`) with `train:` or `command:`")]
    PgSimulated { evaluator: String },
    #[error("--lease-timeout must be a positive number of seconds, not {seconds}")]
    LeaseTimeout { seconds: f64 },
    /// `nasc report` on a PostgreSQL store without `--run` (`runs`: the store's).
    #[error("a PostgreSQL store holds many runs: choose one with `--run NAME` (runs: {})", if .runs.is_empty() { "none".to_string() } else { .runs.join(", ") })]
    ReportRun { runs: Vec<String> },
    #[error("--run names a run in a PostgreSQL store (`postgresql://USER@HOST:PORT/DB`); a SQLite store holds one run")]
    RunOnSqlite,
    #[error("--pareto `{metric}`: the run has no such metric (metrics: {}){}", .metrics.join(", "), suggest(.suggestion))]
    ParetoMetric { metric: String, metrics: Vec<String>, suggestion: Option<String> },
    #[error("--strategy-config `{given}`: expected NAME=JSON")]
    CompareConfigSyntax { given: String },
    #[error("strategy `{name}` is listed twice")]
    StrategyTwice { name: String },
    #[error("--strategies is empty")]
    NoStrategies,
    #[error("--strategy-config for `{strategy}`, which is not among the compared strategies")]
    ConfigNotCompared { strategy: String },
    #[error("--seeds must be at least 1")]
    NoSeeds,
    #[error("--budget must be at least 1 trial")]
    NoBudget,
    #[error("--store `{url}` is not a PostgreSQL URL (`postgresql://USER@HOST:PORT/DB`); SQLite stores go in a folder: `--out DIR`")]
    NotPgUrl { url: String },
    #[error("cannot create `{}`: {source}", .path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write `{}`: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `--epochs 0`, `--batch 0`.
    #[error("`--{flag} 0`: expected at least 1")]
    Zero { flag: &'static str },
    #[error("`--lr {lr}`: expected a positive finite number")]
    Lr { lr: f32 },
    #[error("`--val-fraction {value}`: expected a number in [0, 1)")]
    ValFraction { value: f64 },
    #[error("`--limit 0`: expected at least 1 training image")]
    NoLimit,
    #[error("`--save {path}`: `{folder}` is not a folder to write into")]
    SaveFolder { path: String, folder: String },
    /// `nasc train`'s loss became NaN or infinite.
    #[error("trial failed: {0}")]
    TrialFailed(#[source] nasc_kernels::train::TrainError),
    #[error(transparent)]
    Nse(#[from] NseError),
    #[error(transparent)]
    Evaluator(#[from] EvaluatorError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Compare(#[from] CompareError),
    #[error(transparent)]
    Work(#[from] WorkError),
    #[error(transparent)]
    Space(#[from] SpaceError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Constraint(#[from] ConstraintError),
    #[error(transparent)]
    Objective(#[from] ObjectiveError),
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    #[error(transparent)]
    StrategyConfig(#[from] ConfigError),
    #[error(transparent)]
    Evolution(#[from] EvolutionConfigError),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Supernet(#[from] SupernetError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Why `nasc search --strategy nse` cannot run.
#[derive(Debug, thiserror::Error)]
pub enum NseError {
    #[error("strategy `nse` does not take {flag}: it runs rounds until a layer cannot be refilled to K or `max_rounds` is reached (set `max_rounds`, `target` and `band` in --strategy-config), on one process, against a SQLite store")]
    Flag { flag: &'static str },
    #[error("strategy `nse` trains a supernet on a dataset: give it with `--evaluator train:dataset=NAME` (options {}), not `{evaluator}`", crate::nse::DATA_OPTIONS.join(", "))]
    NotTrain { evaluator: String },
    #[error("strategy `nse` reads only the data options of the `train` evaluator ({}); `{key}` is NSE's own setting: give it in --strategy-config, e.g. `{{\"epochs\": 8, \"batch\": 128, \"lr\": 0.1}}`", crate::nse::DATA_OPTIONS.join(", "))]
    NotDataOption { key: String },
    #[error("--strategy-config `{given}`: expected a JSON object of nse settings ({})", nasc_kernels::nse::CONFIG_KEYS.join(", "))]
    ConfigNotObject { given: Value },
    #[error("--strategy-config: {0}")]
    Setting(#[source] nasc_kernels::nse::ConfigError),
    #[error("--strategy-config: nse setting `k` = {k} exceeds the spec's subset size ({max_k}): the sub-networks would not be candidates of the spec")]
    K { k: usize, max_k: usize },
    /// The MACs band misses the supernet's range `lo..hi` (what to try: `median`, `iqr`).
    #[error("--strategy-config: the MACs band `target` = {target}M ± `band` = {band}M misses every sub-network of this supernet ({lo:.3}M to {hi:.3}M MACs with up to K = {k} ops a layer); try {{\"target\": {median:.3}, \"band\": {iqr:.3}}} (the median and half the inter-quartile range of uniform samples)")]
    Band { target: f32, band: f32, lo: f64, hi: f64, k: usize, median: f64, iqr: f64 },
    #[error("strategy `nse`: the supernet's input {input:?} does not match dataset `{dataset}` ({shape:?} images); choose a dataset of that shape, or set the spec's input with `--set`")]
    Input { input: [usize; 3], dataset: String, shape: [usize; 3] },
    #[error("store `{}` holds a `{strategy}` run, not an nse run", .store.display())]
    NotNseRun { store: PathBuf, strategy: String },
    #[error("--evaluator `{given}` differs from the stored run's data `{stored}`; a resumed run keeps its configuration")]
    EvaluatorDiffers { given: String, stored: String },
    #[error("store `{}`: {source}", .store.display())]
    Checkpoint {
        store: PathBuf,
        #[source]
        source: CheckpointError,
    },
    #[error("store `{}`: {trials} trials but its nse checkpoint has {samples} evaluated samples", .store.display())]
    CheckpointTrials { store: PathBuf, trials: u64, samples: usize },
    #[error("strategy `nse` searches a multi-branch supernet spec (one `subset` of NSE ops per layer, as `specs/nse_small.nas`): {0}")]
    NotSupernet(#[source] NotSupernet),
}

/// Why a spec is not an NSE supernet (`nse::space::read`).
#[derive(Debug, thiserror::Error)]
pub enum NotSupernet {
    #[error("the spec has no decisions")]
    NoDecisions,
    #[error("decision `{decision}` is a `choice`, not a `subset` of ops")]
    Choice { decision: String },
    #[error("decision `{decision}` has a `when` condition; every layer's subset must always exist")]
    Conditional { decision: String },
    #[error("decision `{decision}` has the option `{option}`, not an op")]
    NotAnOp { decision: String, option: String },
    #[error("decision `{decision}`: op `{op}` is not an NSE op name ({})", crate::nse::space::NAMES)]
    UnknownOp { decision: String, op: String },
    #[error("its network cannot be built: {0}")]
    Network(#[source] NetError),
    #[error("its network has no convolution (the stem)")]
    NoStem,
    #[error("its network has {means} `mean` layers for {decisions} subset decisions (one `mean` per layer)")]
    Layers { means: usize, decisions: usize },
    #[error("a layer has stride {stride} (strides 1 and 2 only)")]
    Stride { stride: usize },
    #[error("the supernet read from it cannot be built: {0}")]
    Supernet(#[source] SupernetError),
    /// `kind`: a normal or a reduction layer, and why its subset size starts at `want`.
    #[error("decision `{decision}` is {kind}, so its subset size must start at {want}, not {min}")]
    SubsetStart { decision: String, kind: &'static str, want: usize, min: usize },
    #[error("candidate `{candidate}`: {source}")]
    CandidateNetwork {
        candidate: String,
        #[source]
        source: NetError,
    },
    /// The spec's network of `candidate` is not the supernet's sub-network read from the spec.
    #[error("candidate `{candidate}`: its network ({theirs} nodes) differs from the supernet's sub-network read from the spec ({ours} nodes: stem {stem}, layers {layers:?} as (width, stride), head {head}, {classes} classes)")]
    Differs { candidate: String, theirs: usize, ours: usize, stem: usize, layers: Vec<(usize, usize)>, head: usize, classes: usize },
    /// A network whose parameters cannot be counted.
    #[error(transparent)]
    Params(#[from] GraphError),
    #[error("candidate `{candidate}`: {spec} parameters in the spec's network, {supernet} in the supernet's")]
    ParamCount { candidate: String, spec: usize, supernet: usize },
}

/// Why the `train` or the `command` evaluator cannot be built from its string (its trials'
/// failures are texts stored with each trial, not these).
#[derive(Debug, thiserror::Error)]
pub enum EvaluatorError {
    #[error(transparent)]
    Spec(#[from] EvalError),
    /// Not a runtime evaluator, nor `train` or `command`.
    #[error("unknown evaluator `{name}` (known: {}, train)", nasc_runtime::eval::NAMES.join(", "))]
    Unknown { name: String },
    #[error("evaluator `train` has no option `{option}` (options: {})", crate::train_eval::OPTIONS.join(", "))]
    TrainOption { option: String },
    /// `expected`: what the option takes.
    #[error("evaluator `train`: option `{key}={value}`: expected {expected}")]
    TrainValue { key: String, value: String, expected: &'static str },
    #[error("evaluator `train`: option `dataset` is empty")]
    EmptyDataset,
    #[error("dataset cache poisoned")]
    CachePoisoned,
    #[error("evaluator `train`: {0}")]
    Data(#[source] DataError),
    #[error("evaluator `train`: dataset `{dataset}` has no validation images (valid_fraction={valid_fraction})")]
    NoValidation { dataset: String, valid_fraction: f64 },
    #[error("evaluator `train`: the default candidate: {0}")]
    DefaultCandidate(#[source] NetError),
    /// The network's input does not fit the data (`hint`: the `--set` that would).
    #[error("evaluator `train`: {source}{hint}")]
    Shapes {
        #[source]
        source: SetupError,
        hint: String,
    },
    #[error("evaluator `train`: the network has {outputs} outputs but `{dataset}` has {classes} classes{hint}")]
    Classes { outputs: usize, dataset: String, classes: usize, hint: String },
    #[error("evaluator `train`: dataset `{dataset}` has no test images")]
    NoTest { dataset: String },
    /// The training configuration, or the device.
    #[error("evaluator `train`: {0}")]
    Setup(#[source] SetupError),
    #[error("evaluator `train`: cannot start {threads} training threads: {source}")]
    Threads {
        threads: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
    #[error("evaluator `{spec}`: `[` without `]` (options are written `command[timeout=60]:PROGRAM ARGS`)")]
    Bracket { spec: String },
    #[error("evaluator `{spec}`: expected `:` and the command after `]`")]
    Colon { spec: String },
    #[error("evaluator `command`: option `{part}`: expected KEY=VALUE")]
    CommandOptionSyntax { part: String },
    #[error("evaluator `command`: option `timeout={value}`: expected {expected}")]
    Timeout { value: String, expected: &'static str },
    #[error("evaluator `command` has no option `{option}` (options: timeout)")]
    CommandOption { option: String },
    #[error("evaluator `command`: {0}")]
    Split(#[source] SplitError),
    #[error("evaluator `command`: no program given (write `command:PROGRAM ARGS...`, e.g. `command:python3 train.py`)")]
    NoProgram,
    #[error("evaluator `command`: cannot find program `{program}`{}", if .program.contains('/') { "" } else { " on PATH" })]
    NoSuchProgram { program: String },
}

/// Why a command line cannot be split into words (`command_eval::split`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("unterminated single quote in `{text}`")]
    SingleQuote { text: String },
    #[error("unterminated double quote in `{text}`")]
    DoubleQuote { text: String },
    #[error("a backslash ends `{text}`: nothing to escape")]
    Backslash { text: String },
}

/// Why a `command` trial's child cannot be run (the trial fails with this text).
#[derive(Debug, thiserror::Error)]
pub enum TrialError {
    /// The trial folder or its document (`what`: clear, create, write, open).
    #[error("cannot {what} `{}`: {}", .path.display(), lower(.source))]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the command is empty")]
    EmptyCommand,
    #[error("cannot start `{program}`: {}", lower(.source))]
    Start {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot wait for `{program}`: {}", lower(.source))]
    Wait {
        program: String,
        #[source]
        source: io::Error,
    },
    /// The thread reading the child's `stream` (stdout, stderr) panicked.
    #[error("the {stream} reader failed")]
    Reader { stream: &'static str },
}

/// Why a candidate's network cannot be made the trainer's (`netconv`).
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The compiler cannot trace the network.
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error("negative {what} ({value}) in the network graph")]
    Negative { what: &'static str, value: i64 },
    #[error("the trainer has no activation `{name}`")]
    Activation { name: String },
    /// Node `node`'s `op` (conv, pooling) has no input.
    #[error("node {node}: {op} without input")]
    NoInput { node: usize, op: &'static str },
    #[error("the candidate's network cannot be built: {0}")]
    Invalid(#[source] GraphError),
}

/// Why `nasc export` or `nasc infer` cannot write, or a weights file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("cannot read `{path}`: {}", lower(.source))]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot write `{path}`: {}", lower(.source))]
    Write {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot write to stdout: {0}")]
    Stdout(#[source] io::Error),
    #[error("`--weights`: the graph document holds no weights (use `--format onnx`)")]
    GraphWeights,
    #[error("`--out -`: write safetensors to a file")]
    SafetensorsStdout,
    #[error("`{path}` holds an array of shape {shape:?}; the network takes [N, {}, {}, {}] with N >= 1", .want[0], .want[1], .want[2])]
    InputShape { path: String, shape: Vec<usize>, want: [usize; 3] },
    #[error("`{path}`: {source}")]
    Npy {
        path: String,
        #[source]
        source: NpyError,
    },
    #[error("tensor `{tensor}`: {source}")]
    Tensor {
        tensor: String,
        #[source]
        source: SafeTensorError,
    },
    #[error("cannot encode the weights: {0}")]
    Encode(#[source] SafeTensorError),
    #[error("`{path}` is not a safetensors file: {source}")]
    NotSafetensors {
        path: String,
        #[source]
        source: SafeTensorError,
    },
    #[error("`{path}` is a safetensors file without nasc's metadata (`format: {}`): write weights with `nasc train ... --save`", crate::export::weights::FORMAT)]
    NoMetadata { path: String },
    #[error("`{path}` has weights format version `{version}`; this nasc reads version {}", crate::export::weights::FORMAT_VERSION)]
    Version { path: String, version: String },
    /// Weights saved for another spec text or other `--set` values (`saved_*` against `want_*`).
    #[error(
        "`{path}` was saved for {}: spec sha256 `{saved_sha256}` (`{saved_spec}` with {}), not `{want_sha256}` (`{want_spec}` with {}){}",
        if .saved_sets == .want_sets { "a different spec text" } else { "different `--set` values" },
        crate::export::weights::sets_text(.saved_sets),
        crate::export::weights::sets_text(.want_sets),
        if .saved_sets == .want_sets { String::new() } else { format!(" (they were saved with {}; run with the same)", crate::export::weights::sets_text(.saved_sets)) }
    )]
    OtherSpec {
        path: String,
        saved_sha256: String,
        saved_spec: String,
        saved_sets: Vec<(String, String)>,
        want_sha256: String,
        want_spec: String,
        want_sets: Vec<(String, String)>,
    },
    #[error("`{path}` holds the weights of candidate `{saved}`, not `{want}`")]
    OtherCandidate { path: String, saved: String, want: String },
    #[error("`{path}` was saved for input shape `{saved}`, the network's is `{want}`")]
    OtherInput { path: String, saved: String, want: String },
    #[error("`{path}` was saved for {saved} classes, the network has {want}")]
    OtherClasses { path: String, saved: String, want: usize },
    #[error("`{path}` is not a valid safetensors file: {source}")]
    InvalidSafetensors {
        path: String,
        #[source]
        source: SafeTensorError,
    },
    #[error("`{path}` has a tensor `{tensor}` that the network does not have")]
    ExtraTensor { path: String, tensor: String },
    #[error("`{path}` has no tensor `{tensor}`")]
    MissingTensor { path: String, tensor: String },
    #[error("`{path}`: tensor `{tensor}` is {dtype:?} {shape:?}, expected F32 {want:?}")]
    TensorShape { path: String, tensor: String, dtype: Dtype, shape: Vec<usize>, want: Vec<usize> },
    #[error("`{path}`: tensor `{tensor}` holds a non-finite value ({value})")]
    NonFinite { path: String, tensor: String, value: f32 },
}

/// Why bytes are not a float32 `.npy` array (`export::npy`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NpyError {
    #[error("not a .npy file")]
    NotNpy,
    #[error("unsupported .npy version {0}")]
    Version(u8),
    #[error("truncated .npy header")]
    TruncatedHeader,
    #[error("the .npy header is not text")]
    HeaderNotText,
    /// `descr` or `shape`.
    #[error("the .npy header has no `{0}`")]
    NoField(&'static str),
    #[error("expected float32 data (`<f4`), found {found}")]
    NotFloat32 { found: String },
    #[error("Fortran-order arrays are not supported (save with np.ascontiguousarray)")]
    Fortran,
    #[error("malformed `shape` in the .npy header")]
    Shape,
    #[error("malformed `shape` dimension `{dim}`")]
    Dimension { dim: String },
    #[error("the .npy shape is too large")]
    TooLarge,
    #[error("shape {shape:?} needs {needs} bytes of data, the file has {has}")]
    DataSize { shape: Vec<usize>, needs: usize, has: usize },
}

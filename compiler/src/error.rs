//! The typed errors of the compiler's API (the spec's own errors are `Diagnostic`s): a
//! candidate that is not one of the space's, a name that does not read, a trace that fails, a
//! sample that finds nothing, a cost that cannot be tabulated, a space that cannot be lowered
//! or JIT-compiled. Each variant keeps what the user needs (the text, the decision, the
//! expected values); messages are lowercase with user input in backticks, and the runner
//! renders them (`to_string`, or `?` through `From<_> for String`).
use nasc_grammar::diag::Diagnostic;

/// `; did you mean `x`?` when there is a suggestion.
fn hint(suggestion: &Option<String>) -> String {
    suggestion.as_ref().map(|m| format!("; did you mean `{m}`?")).unwrap_or_default()
}

/// `` `a`, `b`, `c` ``.
fn ticked(items: &[String], sep: &str) -> String {
    items.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(sep)
}

/// Why a candidate is not a well-formed candidate of its space (`Space::check_valid`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CandidateError {
    /// The candidate has another number of slots than the space has decisions.
    #[error("expected {expected} decisions, found {found}")]
    Length { expected: usize, found: usize },
    /// A conditional decision is set where its `when` is false.
    #[error("decision `{decision}` does not exist in this candidate (its `when` is false)")]
    NotPresent { decision: String },
    /// An existing decision is absent.
    #[error("decision `{decision}` is missing")]
    Missing { decision: String },
    /// A value outside the decision's options (or of the other kind).
    #[error("bad value for `{decision}`")]
    BadValue { decision: String },
    /// A subset with too few or too many members (or members outside its pool).
    #[error("subset `{decision}` must have {min}..={max} members, found {found}")]
    SubsetSize { decision: String, min: u32, max: u32, found: u32 },
}

/// What a name format expected where a name stopped reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Expected {
    /// A literal of the template.
    #[error("`{0}`")]
    Lit(String),
    #[error("the end of the name")]
    End,
    /// A value of `decision` (as the format prints them).
    #[error("a value of `{decision}` ({})", ticked(.options, ", "))]
    Value { decision: String, options: Vec<String> },
    /// Reading `decision` as `value` (`None`: absent) contradicts the `when` of `guard`, read before it.
    #[error("a value that agrees with the decisions read before it ({} contradicts the `when` of `{guard}`)", match .value { Some(v) => format!("`{decision}={v}`"), None => format!("`{decision}` absent") })]
    Agreeing { decision: String, value: Option<String>, guard: String },
}

/// Why a text is not a name in a format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// The text reads completely, as a candidate that is not one of the space's.
    #[error("it reads as `{reading}`, which is not a candidate of this space: {why}")]
    NotCandidate { reading: String, why: CandidateError },
    /// The reading stops at byte `byte` on `found` (`None`: the end of the name).
    #[error("at byte {byte} found {}, expected {}{}", match .found { Some(t) => format!("`{t}`"), None => "the end of the name".to_string() }, .expected.iter().map(ToString::to_string).collect::<Vec<_>>().join(" or "), hint(.suggestion))]
    At { byte: usize, found: Option<String>, expected: Vec<Expected>, suggestion: Option<String> },
}

/// Why a name (in a format or the canonical form) names no candidate of the space.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// A canonical part without `=`.
    #[error("`{part}` is not `decision=value`")]
    NotAssignment { part: String },
    #[error("unknown decision `{name}`{}", hint(.suggestion))]
    UnknownDecision { name: String, suggestion: Option<String> },
    #[error("decision `{decision}` given twice")]
    GivenTwice { decision: String },
    #[error("`{value}` is not an option of `{decision}` ({}){}", ticked(.options, ", "), hint(.suggestion))]
    NotAnOption { value: String, decision: String, options: Vec<String>, suggestion: Option<String> },
    #[error("subset `{decision}` must be written `{{a+b}}`")]
    SubsetSyntax { decision: String },
    #[error("`{member}` is not in the pool of `{decision}`")]
    NotInPool { member: String, decision: String },
    /// The text has two readings in a format (`readings`: their canonical names).
    #[error("`{text}` is ambiguous in the `{format_name}` format: it names {} (write the canonical form instead)", ticked(.readings, " and "))]
    Ambiguous { text: String, format_name: String, readings: Vec<String> },
    /// The reading's step budget ran out.
    #[error("`{text}` has too many readings in the `{format_name}` format to check that it names one candidate (write the canonical form instead)")]
    TooManyReadings { text: String, format_name: String },
    /// Neither the first format nor the canonical form reads the text.
    #[error("`{text}` matches neither the `{format_name}` format nor the canonical form: {why} (as a canonical name: {canonical})")]
    NoMatch { text: String, format_name: String, why: Box<Mismatch>, canonical: Box<NameError> },
    /// The name reads as a candidate that is not well formed.
    #[error(transparent)]
    Invalid(#[from] CandidateError),
}

/// Why a candidate's network graph cannot be traced (`Tracer::trace`, `Space::graph_of`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("the spec does not compile")]
    NotCompiled,
    #[error("expected {expected} decisions, found {found}")]
    Length { expected: usize, found: usize },
    /// Evaluating the network failed (the diagnostic's message).
    #[error("{}", .0.message)]
    Eval(Diagnostic),
    #[error("the network does not return a tensor")]
    NotATensor,
    #[error("the candidate does not fix every decision the network reads")]
    Unfixed,
}

/// Why `Space::sample` returns no candidates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    /// `draws` draws in a row were all infeasible.
    #[error("no feasible candidate found in {draws} draws: the constraints may exclude the whole space")]
    NoFeasible { draws: u64 },
}

/// Why cost terms cannot be tabulated as an additive metric (`Additive::from_terms`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    #[error("a cost depends on a large subset together with other decisions")]
    LargeSubsetWithOthers,
    #[error("a cost table would be too large")]
    TableTooLarge,
    /// The thread building the table panicked.
    #[error("the {table} table failed to build")]
    Panicked { table: &'static str },
}

/// Why a space cannot be lowered to a plan (`Plan::new`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("subset `{subset}` has a pool of {pool} (at most {max} in a table)")]
    PoolTooLarge { subset: String, pool: usize, max: usize },
    #[error("a `when` row narrows a choice to a set of options")]
    WhenNarrows,
}

/// Why a plan cannot be JIT-compiled (`JitFns::compile`).
#[derive(Debug, thiserror::Error)]
pub enum JitError {
    #[error("the cost tables are too large for the JIT (2 GiB)")]
    TablesTooLarge,
    /// A cranelift setting refused.
    #[error(transparent)]
    Setting(#[from] cranelift_codegen::settings::SetError),
    #[error("no cranelift backend for this machine: {0}")]
    NoBackend(&'static str),
    /// The target ISA cannot be built with the settings.
    #[error(transparent)]
    Isa(cranelift_codegen::CodegenError),
    /// Declaring a function in the module failed.
    #[error(transparent)]
    Module(#[from] cranelift_module::ModuleError),
    /// Compiling or defining a function failed (cranelift's error, as debug text).
    #[error("cranelift: {0}")]
    Codegen(String),
    #[error("cranelift: a compile thread panicked")]
    ThreadPanicked,
    #[error("cranelift: a function was not compiled")]
    NotCompiled,
}

/// Why a `CompiledSpace` cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Jit(#[from] JitError),
}

macro_rules! into_string {
    ($($t:ty),*) => {$(
        impl From<$t> for String {
            fn from(e: $t) -> String {
                e.to_string()
            }
        }
    )*};
}
into_string!(CandidateError, NameError, TraceError, SampleError, CostError, PlanError, JitError, BuildError);

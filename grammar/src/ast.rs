//! The AST of a nasc spec. Every node carries a byte [`Span`] into the source text.
//!
//! The AST is purely syntactic: names are not resolved, nothing is evaluated.
//! See `docs/LANGUAGE.md` for the meaning of each construct.

use serde::Serialize;

/// A half-open byte range `[start, end)` into the spec text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A whole spec file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub items: Vec<Item>,
    pub span: Span,
}

// One item per top-level statement, built once per spec: boxing the larger variants would only
// add indirection to every match over the AST.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Item {
    /// `space NAME;`
    Space(Ident),
    /// `param NAME = expr;` (overridable from the command line with `--set NAME=VALUE`)
    Param { name: Ident, value: Expr, span: Span },
    /// `let NAME = expr;` at top level: a constant.
    Let { name: Ident, value: Expr, span: Span },
    /// `input [c, h, w];`
    Input { dims: Vec<Expr>, span: Span },
    /// `count flops { conv, linear, linear_bias };` — which terms the derived `flops` metric counts.
    Count { metric: Ident, terms: Vec<Ident>, span: Span },
    /// `choice` / `subset` decision declarations.
    Decision(Decision),
    /// `block NAME(params) { body }` or `block NAME(params) = expr;`
    Block(BlockDef),
    /// `network { body }` or `network = expr;` — the whole candidate network; `input` is its input tensor.
    Network { body: Body, span: Span },
    /// `metric NAME;` (derived: params, flops), `metric NAME = expr;`, `metric NAME = external;`
    Metric(MetricDef),
    /// `constraint expr;` e.g. `constraint flops <= 300M;` or `constraint params in 1M..5M;`
    Constraint { expr: Expr, span: Span },
    /// `minimize NAME;` / `maximize NAME;`
    Objective { direction: Direction, metric: Ident, span: Span },
    /// `name NAME = "template";` — a candidate naming format.
    Name { name: Ident, template: StrLit, span: Span },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Direction {
    Minimize,
    Maximize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrLit {
    /// The unescaped value.
    pub value: String,
    /// Span of the literal including its quotes.
    pub span: Span,
}

/// One index dimension of a decision family: `[6]` (anonymous, `0..6`) or `[i in 0..6]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexDim {
    pub var: Option<Ident>,
    /// Either a count (`[6]`) or a list/range expression (`[i in 0..6]`).
    pub range: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DecisionKind {
    /// `choice NAME[...] in DOMAIN ...` — pick one option of a list.
    Choice,
    /// `subset NAME[...] of POOL size LO..=HI ...` — pick a subset of a pool (multi-branch, input selection).
    Subset,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub kind: DecisionKind,
    pub name: Ident,
    pub dims: Vec<IndexDim>,
    /// `in EXPR` for a choice; `of EXPR` for a subset: the option list / pool.
    pub domain: Expr,
    /// `size EXPR` for a subset: an int or a range (`2`, `0..=5`, `1..6`).
    pub size: Option<Expr>,
    /// `default EXPR` — the default option (LayerNAS); must be among the options.
    pub default: Option<Expr>,
    /// `when EXPR` — the decision exists only when this holds (variable depth, block count).
    pub when: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    pub name: Ident,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockDef {
    pub name: Ident,
    pub params: Vec<Param>,
    pub body: Body,
    pub span: Span,
}

/// A block or network body: statements and a final `return`, or a single expression (`= expr;`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Body {
    pub stmts: Vec<Stmt>,
    /// The returned expression (`return e;` as the last statement, or the `= e;` form).
    pub ret: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Stmt {
    /// `let x = e;` (sequential binding; may shadow)
    Let { name: Ident, value: Expr, span: Span },
    /// `x = e;` (re-assignment of an existing local)
    Assign { name: Ident, value: Expr, span: Span },
    /// `node x = e;` — a declarative DAG node: all `node`s of a body may be written in any order;
    /// they are evaluated in dependency order, and a cycle among them is an error.
    Node { name: Ident, value: Expr, span: Span },
    /// `for i in e { ... }`
    For { var: Ident, iter: Expr, body: Vec<Stmt>, span: Span },
    /// `if c { ... } else { ... }` (else optional; `else if` nests)
    If { cond: Expr, then: Vec<Stmt>, els: Vec<Stmt>, span: Span },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricDef {
    pub name: Ident,
    pub value: MetricValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum MetricValue {
    /// `metric params;` — a metric derived by nasc (`params`, `flops`).
    Derived,
    /// `metric accuracy = external;` — measured by an evaluator.
    External,
    /// `metric latency = lookup("lat.csv", "ms");` or any expression over decisions and metrics.
    Expr(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    /// `//` integer (floor) division
    IntDiv,
    Mod,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    /// `a in b` membership (list, range or subset)
    In,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arg {
    /// `name = value` for keyword arguments.
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExprKind {
    /// Integer literal; SI suffixes are applied by the parser (`300M` = 300_000_000, `4K` = 4000, `2G`).
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Name(String),
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// `[body for var in iter]` (optionally `if cond`)
    Comprehension {
        body: Box<Expr>,
        var: Ident,
        iter: Box<Expr>,
        cond: Option<Box<Expr>>,
    },
    /// `a..b` (exclusive) or `a..=b` (inclusive)
    Range {
        lo: Box<Expr>,
        hi: Box<Expr>,
        inclusive: bool,
    },
    /// `a[i]`
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    /// `a.field`
    Field {
        base: Box<Expr>,
        field: Ident,
    },
    /// `f(args)` where `f` is any expression (a name, or a decision like `edge[0]`).
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    /// `x |> f(args)` is parsed as `Pipe { input: x, func: f(args) }` and means `f(x, args)`.
    Pipe {
        input: Box<Expr>,
        func: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Unary {
        op: UnOp,
        operand: Box<Expr>,
    },
    /// `if c { a } else { b }` as an expression
    IfElse {
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
}

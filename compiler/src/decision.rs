//! Decision instances: the genotype schema of a compiled space.
use crate::ids::DecisionId;
use nasc_grammar::ast::{Expr, Span};
use serde::Serialize;

/// One option of a choice, or one member of a subset pool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum OptValue {
    Int(i64),
    Float(f64),
    Str(String),
    /// `true` / `false` (e.g. `choice se in [false, true]`).
    Bool(bool),
    /// A block or builtin op, by name.
    Op(String),
}

impl OptValue {
    pub fn display(&self) -> String {
        match self {
            OptValue::Int(i) => i.to_string(),
            OptValue::Float(f) => format_float(*f),
            OptValue::Str(s) => s.clone(),
            OptValue::Bool(b) => b.to_string(),
            OptValue::Op(s) => s.clone(),
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            OptValue::Int(i) => Some(*i as f64),
            OptValue::Float(f) => Some(*f),
            _ => None,
        }
    }
}

pub fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum DecisionKind {
    /// Pick one option; `default` is an option index.
    Choice { options: Vec<OptValue>, default: u32 },
    /// Pick a subset of `pool` whose size is in `min..=max`; `default` is a member bitmask.
    Subset { pool: Vec<OptValue>, min: u32, max: u32, default: u64 },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionInfo {
    pub id: DecisionId,
    /// The family name (`edge`) and this instance's indices (`[3]`).
    pub family: String,
    pub index: Vec<i64>,
    /// Display name, e.g. `edge[3]` or `depth`.
    pub name: String,
    pub kind: DecisionKind,
    /// Whether a `when` condition guards this decision.
    pub conditional: bool,
    pub span: Span,
}

impl DecisionInfo {
    pub fn index(&self) -> usize {
        self.id.index()
    }
    /// Number of options (choice) or pool members (subset).
    pub fn arity(&self) -> usize {
        match &self.kind {
            DecisionKind::Choice { options, .. } => options.len(),
            DecisionKind::Subset { pool, .. } => pool.len(),
        }
    }
    pub fn is_subset(&self) -> bool {
        matches!(self.kind, DecisionKind::Subset { .. })
    }
}

/// The `when` guard of a conditional decision: the expression and the index bindings of the instance.
#[derive(Debug, Clone)]
pub struct WhenGuard {
    pub expr: Expr,
    pub bindings: Vec<(String, i64)>,
}

/// One decision's value in a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Slot {
    /// A conditional decision that does not exist in this candidate.
    Absent,
    /// Choice: option index.
    Opt(u32),
    /// Subset: bitmask of pool members (pools are at most 63 members: all ones is `ABSENT` in compiled plans).
    Members(u64),
}

/// A candidate: one slot per decision, in decision order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Candidate(pub Vec<Slot>);

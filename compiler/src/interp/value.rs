//! Runtime values of the abstract evaluator.
use crate::deps::Lit;
use crate::ids::{DecisionId, NodeId};
use std::rc::Rc;

/// A tensor is known by its shape `[c, h, w]` and the IR node that produced it.
#[derive(Debug, Clone)]
pub struct Tensor {
    pub c: i64,
    pub h: i64,
    pub w: i64,
    pub node: NodeId,
}

/// A callable: a user block or a builtin op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpRef {
    Block(Rc<str>),
    Builtin(&'static str),
}

impl OpRef {
    pub fn name(&self) -> &str {
        match self {
            OpRef::Block(s) => s,
            OpRef::Builtin(s) => s,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(Rc<str>),
    Op(OpRef),
    Tensor(Tensor),
    /// The additive zero tensor (sum or mean of an empty list).
    Zero,
    List(Rc<Vec<Value>>),
    /// Elements that exist under a guard (the members of a subset decision); `None`: always.
    CondList(Rc<Vec<(Option<Lit>, Value)>>),
    /// `lo..hi` (exclusive)
    Range(i64, i64),
    /// A decision family indexed so far (`k[2]` of `k[u][j]`).
    Family(Rc<str>, Vec<i64>),
    /// The value of a choice decision, not read yet. Lives only in frame slots (a `let`, an
    /// assignment or a block argument whose expression is the decision): reading the
    /// variable reads the decision, so worlds fork where it is used, not where it is bound.
    Lazy(DecisionId),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::Str(_) => "string",
            Value::Op(_) => "op",
            Value::Tensor(_) | Value::Zero => "tensor",
            Value::List(_) | Value::CondList(_) => "list",
            Value::Range(..) => "range",
            Value::Family(..) => "decision family",
            Value::Lazy(_) => "decision",
        }
    }

    /// The type name with its article (`an int`, `a tensor`), for messages.
    pub fn a_type_name(&self) -> String {
        let t = self.type_name();
        let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        format!("{article} {t}")
    }

    /// Structural equality that ignores IR node ids (used to merge worlds).
    pub fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Op(a), Value::Op(b)) => a == b,
            (Value::Tensor(a), Value::Tensor(b)) => (a.c, a.h, a.w) == (b.c, b.h, b.w),
            (Value::Zero, Value::Zero) => true,
            (Value::List(a), Value::List(b)) => a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.same(y)),
            (Value::CondList(a), Value::CondList(b)) => a.len() == b.len() && a.iter().zip(b.iter()).all(|((g, x), (h, y))| g == h && x.same(y)),
            (Value::Range(a, b), Value::Range(c, d)) => a == c && b == d,
            (Value::Family(a, i), Value::Family(b, j)) => a == b && i == j,
            (Value::Lazy(a), Value::Lazy(b)) => a == b,
            _ => false,
        }
    }

    /// Feeds `h` so that values that are `same` hash alike.
    pub fn same_hash<H: std::hash::Hasher>(&self, h: &mut H) {
        use std::hash::Hash;
        std::mem::discriminant(self).hash(h);
        match self {
            Value::Int(a) => a.hash(h),
            Value::Float(a) => a.to_bits().hash(h),
            Value::Bool(a) => a.hash(h),
            Value::Str(a) => a.hash(h),
            Value::Op(a) => a.name().hash(h),
            Value::Tensor(t) => (t.c, t.h, t.w).hash(h),
            Value::Zero => {}
            Value::List(a) => {
                a.len().hash(h);
                a.iter().for_each(|x| x.same_hash(h));
            }
            Value::CondList(a) => {
                a.len().hash(h);
                for (g, x) in a.iter() {
                    g.hash(h);
                    x.same_hash(h);
                }
            }
            Value::Range(a, b) => (a, b).hash(h),
            Value::Family(a, i) => (a, i).hash(h),
            Value::Lazy(d) => d.hash(h),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
}

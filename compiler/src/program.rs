//! The resolved program: items of a spec collected by name, with constants folded.
use crate::ids::DecisionId;
use crate::interp::value::Value;
use nasc_grammar::ast::{BlockDef, Body, Span};
use rustc_hash::FxHashMap as HashMap;

/// A decision family (`edge`, `k`): its number of index dimensions and its instances.
#[derive(Debug, Clone)]
pub struct Family {
    pub ndims: usize,
    pub instances: HashMap<Vec<i64>, DecisionId>,
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct Program<'a> {
    pub blocks: HashMap<String, &'a BlockDef>,
    /// Params (after `--set` overrides) and top-level lets, folded to values.
    pub consts: HashMap<String, Value>,
    pub families: HashMap<String, Family>,
    pub network: Option<&'a Body>,
}

/// Cost terms a derived metric may count, in a fixed order.
pub const TERMS: [&str; 8] = ["conv", "conv_bias", "linear", "linear_bias", "bn", "act", "pool", "add"];

pub fn term_index(name: &str) -> Option<usize> {
    TERMS.iter().position(|t| *t == name)
}

/// The cost of one op instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Cost {
    pub params: i64,
    pub terms: [i64; 8],
}

impl Cost {
    pub fn is_zero(&self) -> bool {
        self.params == 0 && self.terms.iter().all(|t| *t == 0)
    }
}

//! Trace mode: the calls a single candidate's network makes, recorded as scopes of its graph
//! (blocks and decisions' op options), for the canonical key and the trainer.
use super::value::Value;
use super::world::World;
use super::{Interp, R};
use crate::graph::Scope;
use crate::ids::NodeId;
use nasc_grammar::ast::{Expr, ExprKind, Span};

impl Interp<'_> {
    /// `call`, and in trace mode, when the callee is a decision's option (`edge[3]`), record the
    /// application as a named op group (the canonical key names options, not their bodies).
    pub(super) fn call_traced(&mut self, w: &mut World, callee: &Expr, f: Value, args: super::builtins::Args, span: Span) -> R<Value> {
        let option = match (&self.trace, &f, args.first()) {
            (Some(_), Value::Op(op), Some((None, Value::Tensor(t), _))) if self.is_decision_ref(w, callee) => Some((op.name().to_string(), t.node)),
            _ => None,
        };
        let first = self.trace_len();
        let out = self.call(w, f, args, callee.span, span)?;
        if let (Some((name, input)), Value::Tensor(t)) = (option, &out) {
            self.scopes.push(Scope { name, option: true, inputs: vec![input], output: t.node, first, end: self.trace_len() });
        }
        Ok(out)
    }

    pub(crate) fn trace_len(&self) -> u32 {
        self.trace.as_ref().map_or(0, |t| t.len() as u32)
    }

    /// Trace mode: record a block call that returned `out`.
    pub(super) fn record_block(&mut self, name: &str, inputs: Vec<NodeId>, first: u32, out: &Value) {
        if let (Some(_), Value::Tensor(t)) = (&self.trace, out) {
            let end = self.trace_len();
            self.scopes.push(Scope { name: name.to_string(), option: false, inputs, output: t.node, first, end });
        }
    }

    /// Whether `e` names a decision (`edge[3]`, `op`), not a local variable or block.
    fn is_decision_ref(&self, w: &World, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Name(n) => w.lookup(n).is_none() && self.prog.families.contains_key(n.as_str()),
            ExprKind::Index { base, .. } => self.is_decision_ref(w, base),
            _ => false,
        }
    }
}

/// The IR nodes of the tensor arguments of a call, in order.
pub(super) fn tensor_nodes(args: &[super::builtins::ArgValue]) -> Vec<NodeId> {
    args.iter().filter_map(|(_, v, _)| if let Value::Tensor(t) = v { Some(t.node) } else { None }).collect()
}

//! Memoized block calls. A block called inside an expression (`x |> op1[b](f, s)`) is run
//! again in every world that reaches it, though its result usually depends only on its
//! arguments' shapes and values. When a call reads nothing of its world (no decision, no
//! subset membership) its effects are a function of (block, call path, arguments up to
//! `Value::same`): the cost terms it records (tagged with the caller's world), the IR edges it
//! adds (from its argument tensors' nodes or from its own op instances) and its result. Those
//! are recorded once and replayed in the next world, with the argument tensors' IR nodes
//! substituted. Calls that read their world, or whose terms carry a tag of their own, are not
//! recorded (and are run every time, as before).
use super::value::{Tensor, Value};
use super::world::World;
use super::{Interp, RawTerm};
use crate::ids::NodeId;
use crate::program::Cost;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// The arguments of a call as the memo compares them.
pub(crate) type CallArgs = [(Option<(String, nasc_grammar::ast::Span)>, Value, nasc_grammar::ast::Span)];

/// One recorded call.
pub(crate) struct MemoEntry {
    block: Rc<str>,
    path: Vec<u32>,
    site: u32,
    args: Vec<(Option<String>, Value)>,
    /// the argument tensors' IR nodes when recorded, in `tensor_nodes_deep` order
    arg_nodes: Vec<NodeId>,
    terms: Vec<(u32, Cost)>,
    edges: Vec<(NodeId, NodeId)>,
    result: Value,
}

/// State of the recordings in progress (nested calls record into the same logs).
#[derive(Default)]
pub(crate) struct Memo {
    entries: rustc_hash::FxHashMap<u64, Vec<MemoEntry>>,
    /// IR edges added since the outermost recording began
    pub(crate) edge_log: Vec<(NodeId, NodeId)>,
    /// recordings in progress
    pub(crate) depth: u32,
    /// no recording or replay (the reference evaluation)
    pub(crate) off: bool,
    /// incremented whenever evaluation reads the world (decisions, subset membership)
    pub(crate) world_reads: std::cell::Cell<u64>,
}

/// A recording begun by `Interp::memo_begin`.
pub(crate) struct Recording {
    key: u64,
    terms_mark: usize,
    edges_mark: usize,
    reads: u64,
    tag: crate::deps::Deps,
}

fn key_of(block: &str, path: &[u32], site: u32, args: &CallArgs) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    block.hash(&mut h);
    path.hash(&mut h);
    site.hash(&mut h);
    for (kw, v, _) in args {
        kw.as_ref().map(|k| &k.0).hash(&mut h);
        v.same_hash(&mut h);
    }
    h.finish()
}

/// The IR nodes of the tensors in `v`, depth first.
fn tensor_nodes_deep(v: &Value, out: &mut Vec<NodeId>) {
    match v {
        Value::Tensor(t) => out.push(t.node),
        Value::List(l) => l.iter().for_each(|x| tensor_nodes_deep(x, out)),
        Value::CondList(l) => l.iter().for_each(|(_, x)| tensor_nodes_deep(x, out)),
        _ => {}
    }
}

fn arg_nodes(args: &CallArgs) -> Vec<NodeId> {
    let mut out = Vec::new();
    for (_, v, _) in args {
        tensor_nodes_deep(v, &mut out);
    }
    out
}

/// Node `n` renamed by `map` (pairs of old -> new).
fn rename(n: NodeId, map: &[(NodeId, NodeId)]) -> NodeId {
    map.iter().find(|(a, _)| *a == n).map_or(n, |(_, b)| *b)
}

/// `v` with tensor nodes renamed by `map`.
fn renamed(v: &Value, map: &[(NodeId, NodeId)]) -> Value {
    match v {
        Value::Tensor(t) => Value::Tensor(Tensor { node: rename(t.node, map), ..t.clone() }),
        Value::List(l) => Value::List(Rc::new(l.iter().map(|x| renamed(x, map)).collect())),
        Value::CondList(l) => Value::CondList(Rc::new(l.iter().map(|(g, x)| (*g, renamed(x, map))).collect())),
        other => other.clone(),
    }
}

impl Interp<'_> {
    /// The reference evaluation: every block call evaluated in every world (no memo) and
    /// every decision read where it is bound (no `Value::Lazy`).
    pub fn reference_mode(&mut self) {
        self.memo.off = true;
        self.eager = true;
    }

    /// Note that evaluation read the world (a recording in progress is then not stored).
    pub(crate) fn read_world(&self) {
        self.memo.world_reads.set(self.memo.world_reads.get() + 1);
    }

    /// Replay a recorded call of `block` with `args` at the current path, if there is one.
    pub(crate) fn memo_replay(&mut self, w: &World, block: &str, site: u32, args: &CallArgs) -> Option<Value> {
        if self.trace.is_some() || self.memo.off {
            return None;
        }
        let key = key_of(block, &self.path, site, args);
        let entries = self.memo.entries.get(&key)?;
        let e = entries.iter().find(|e| {
            &*e.block == block
                && e.site == site
                && e.path == self.path
                && e.args.len() == args.len()
                && e.args.iter().zip(args).all(|((k1, v1), (k2, v2, _))| k1.as_deref() == k2.as_ref().map(|k| k.0.as_str()) && v1.same(v2))
        })?;
        let now = arg_nodes(args);
        if now.len() != e.arg_nodes.len() {
            return None;
        }
        let map: Vec<(NodeId, NodeId)> = e.arg_nodes.iter().copied().zip(now).filter(|(a, b)| a != b).collect();
        let tag = w.tag();
        let terms: Vec<RawTerm> = e.terms.iter().map(|(inst, cost)| RawTerm { inst: *inst, tag: tag.clone(), cost: *cost }).collect();
        let edges: Vec<(NodeId, NodeId)> = e.edges.iter().map(|(a, b)| (rename(*a, &map), rename(*b, &map))).collect();
        let result = renamed(&e.result, &map);
        self.terms.extend(terms);
        for (a, b) in edges {
            self.edge(a, b);
        }
        Some(result)
    }

    /// Begin recording a call (None in trace mode).
    pub(crate) fn memo_begin(&mut self, w: &World, block: &str, site: u32, args: &CallArgs) -> Option<Recording> {
        if self.trace.is_some() || self.memo.off {
            return None;
        }
        if self.memo.depth == 0 {
            self.memo.edge_log.clear();
        }
        self.memo.depth += 1;
        Some(Recording {
            key: key_of(block, &self.path, site, args),
            terms_mark: self.terms.len(),
            edges_mark: self.memo.edge_log.len(),
            reads: self.memo.world_reads.get(),
            tag: w.tag(),
        })
    }

    /// End a recording: store the call if it succeeded without reading its world.
    pub(crate) fn memo_end(&mut self, rec: Recording, block: &str, site: u32, args: &CallArgs, result: Option<&Value>) {
        self.memo.depth -= 1;
        let Some(result) = result else { return };
        if self.memo.world_reads.get() != rec.reads || self.terms.len() < rec.terms_mark {
            return;
        }
        let new_terms = &self.terms[rec.terms_mark..];
        if new_terms.iter().any(|t| t.tag != rec.tag) {
            return;
        }
        let entry = MemoEntry {
            block: Rc::from(block),
            path: self.path.clone(),
            site,
            args: args.iter().map(|(k, v, _)| (k.as_ref().map(|k| k.0.clone()), v.clone())).collect(),
            arg_nodes: arg_nodes(args),
            terms: new_terms.iter().map(|t| (t.inst, t.cost)).collect(),
            edges: self.memo.edge_log[rec.edges_mark..].to_vec(),
            result: result.clone(),
        };
        self.memo.entries.entry(rec.key).or_default().push(entry);
    }

    /// Add an IR edge (and log it for the recordings in progress).
    pub(crate) fn edge(&mut self, from: NodeId, to: NodeId) {
        if self.memo.depth > 0 {
            self.memo.edge_log.push((from, to));
        }
        self.ir.edge(from, to);
    }
}

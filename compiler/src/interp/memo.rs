//! Memoized block calls. A block called inside an expression (`x |> op1[b](f, s)`) is run
//! again in every world that reaches it, and at every place it is called from (each cell of
//! a network, each edge of a cell), though its result usually depends only on its arguments'
//! shapes and values. When a call reads nothing of its world (no decision, no subset
//! membership) its effects are a function of (block, arguments up to `Value::same`), except
//! for which op instances they concern, which follow the call path: the op instances it
//! evaluates (by path relative to the call), the cost terms of those (tagged with the caller's
//! world), the IR edges it adds (from its argument tensors' nodes or from its own instances'
//! nodes) and its result. Those are recorded once and replayed at any call of the block with
//! the same arguments: the instances at the new call path, the argument tensors' IR nodes and
//! the recorded instances' nodes substituted. Calls that read their world, or whose terms
//! carry a tag of their own, are not recorded (and are run every time, as before).
use super::value::{Tensor, Value};
use super::world::World;
use super::{Interp, RawTerm};
use crate::ids::NodeId;
use crate::program::Cost;
use nasc_grammar::ast::Span;
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// The arguments of a call as the memo compares them.
pub(crate) type CallArgs = [(Option<(String, Span)>, Value, Span)];

/// An op instance a recorded call evaluated.
struct MemoInst {
    /// its path after the call's site (the call path and site are the replay's)
    rel: Vec<u32>,
    op: &'static str,
    span: Span,
    /// its IR node when recorded
    node: NodeId,
}

/// One recorded call.
pub(crate) struct MemoEntry {
    block: Rc<str>,
    args: Vec<(Option<String>, Value)>,
    /// the argument tensors' IR nodes when recorded, in `tensor_nodes_deep` order
    arg_nodes: Vec<NodeId>,
    insts: Vec<MemoInst>,
    /// (index into `insts`, cost)
    terms: Vec<(usize, Cost)>,
    edges: Vec<(NodeId, NodeId)>,
    result: Value,
}

/// State of the recordings in progress (nested calls record into the same logs).
#[derive(Default)]
pub(crate) struct Memo {
    entries: FxHashMap<u64, Vec<MemoEntry>>,
    /// IR edges added since the outermost recording began
    pub(crate) edge_log: Vec<(NodeId, NodeId)>,
    /// op instances evaluated since the outermost recording began: (path, instance, op, span, node)
    inst_log: Vec<(Vec<u32>, u32, &'static str, Span, NodeId)>,
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
    insts_mark: usize,
    /// the call path's length (the call's instances are under the path and the call's site)
    base: usize,
    reads: u64,
    tag: crate::deps::Deps,
}

fn key_of(block: &str, args: &CallArgs) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    block.hash(&mut h);
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

/// Node `n` renamed by `map` (old -> new; unmapped nodes stay).
fn rename(n: NodeId, map: &FxHashMap<NodeId, NodeId>) -> NodeId {
    map.get(&n).copied().unwrap_or(n)
}

/// `v` with tensor nodes renamed by `map`.
fn renamed(v: &Value, map: &FxHashMap<NodeId, NodeId>) -> Value {
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

    /// Replay a recorded call of `block` with `args` at the current path and call site
    /// `site`, if there is one.
    pub(crate) fn memo_replay(&mut self, w: &World, block: &str, site: u32, args: &CallArgs) -> Option<Value> {
        if self.trace.is_some() || self.memo.off {
            return None;
        }
        let key = key_of(block, args);
        let entries = self.memo.entries.get(&key)?;
        let ix = entries.iter().position(|e| {
            &*e.block == block
                && e.args.len() == args.len()
                && e.args.iter().zip(args).all(|((k1, v1), (k2, v2, _))| k1.as_deref() == k2.as_ref().map(|k| k.0.as_str()) && v1.same(v2))
        })?;
        let now = arg_nodes(args);
        if now.len() != self.memo.entries[&key][ix].arg_nodes.len() {
            return None;
        }
        // the entry is taken out while its instances are made (they change `self`)
        let entry = self.memo.entries.get_mut(&key)?.swap_remove(ix);
        let mut map: FxHashMap<NodeId, NodeId> = entry.arg_nodes.iter().copied().zip(now).filter(|(a, b)| a != b).collect();
        let mut insts = Vec::with_capacity(entry.insts.len());
        let mut path = self.path.clone();
        path.push(site);
        let base = path.len();
        for i in &entry.insts {
            path.truncate(base);
            path.extend_from_slice(&i.rel);
            let (inst, node) = self.instance(&path, i.op, i.span);
            if node != i.node {
                map.insert(i.node, node);
            }
            insts.push(inst);
        }
        let tag = w.tag();
        self.terms.extend(entry.terms.iter().map(|(k, cost)| RawTerm { inst: insts[*k], tag: tag.clone(), cost: *cost }));
        for (a, b) in &entry.edges {
            self.edge(rename(*a, &map), rename(*b, &map));
        }
        let result = renamed(&entry.result, &map);
        if let Some(v) = self.memo.entries.get_mut(&key) {
            v.push(entry);
        }
        Some(result)
    }

    /// The instance at `path` and its IR node (both made the first time), logged for the
    /// recordings in progress.
    pub(crate) fn instance(&mut self, path: &[u32], op: &'static str, span: Span) -> (u32, NodeId) {
        let inst = match self.instances.get(path) {
            Some(i) => *i,
            None => {
                let next = self.instances.len() as u32;
                self.instances.insert(path.to_vec(), next);
                next
            }
        };
        let node = self.ir.node(inst, op, span);
        if self.memo.depth > 0 {
            self.memo.inst_log.push((path.to_vec(), inst, op, span, node));
        }
        (inst, node)
    }

    /// Begin recording a call (None in trace mode).
    pub(crate) fn memo_begin(&mut self, w: &World, block: &str, args: &CallArgs) -> Option<Recording> {
        if self.trace.is_some() || self.memo.off {
            return None;
        }
        if self.memo.depth == 0 {
            self.memo.edge_log.clear();
            self.memo.inst_log.clear();
        }
        self.memo.depth += 1;
        Some(Recording {
            key: key_of(block, args),
            terms_mark: self.terms.len(),
            edges_mark: self.memo.edge_log.len(),
            insts_mark: self.memo.inst_log.len(),
            base: self.path.len(),
            reads: self.memo.world_reads.get(),
            tag: w.tag(),
        })
    }

    /// End a recording: store the call if it succeeded without reading its world.
    pub(crate) fn memo_end(&mut self, rec: Recording, block: &str, args: &CallArgs, result: Option<&Value>) {
        self.memo.depth -= 1;
        let Some(result) = result else { return };
        if self.memo.world_reads.get() != rec.reads || self.terms.len() < rec.terms_mark {
            return;
        }
        let new_terms = &self.terms[rec.terms_mark..];
        if new_terms.iter().any(|t| t.tag != rec.tag) {
            return;
        }
        // the call's instances, once each, by path after the call's site
        let mut insts: Vec<MemoInst> = Vec::new();
        let mut index: FxHashMap<u32, usize> = FxHashMap::default();
        for (path, inst, op, span, node) in &self.memo.inst_log[rec.insts_mark..] {
            if path.len() <= rec.base || index.contains_key(inst) {
                continue;
            }
            index.insert(*inst, insts.len());
            insts.push(MemoInst { rel: path[rec.base + 1..].to_vec(), op, span: *span, node: *node });
        }
        let mut terms = Vec::with_capacity(new_terms.len());
        for t in new_terms {
            // (a term of an instance outside the call: not replayable)
            let Some(&k) = index.get(&t.inst) else { return };
            terms.push((k, t.cost));
        }
        let entry = MemoEntry {
            block: Rc::from(block),
            args: args.iter().map(|(k, v, _)| (k.as_ref().map(|k| k.0.clone()), v.clone())).collect(),
            arg_nodes: arg_nodes(args),
            insts,
            terms,
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

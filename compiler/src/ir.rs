//! The IR: a petgraph graph of the network template. One node per op instance (a static
//! position in the program under a loop iteration and call path), edges follow dataflow.
use crate::ids::NodeId;
use nasc_grammar::ast::Span;
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct IrNode {
    /// the op, e.g. `conv`, `dwconv`, `bn`, `add`, `input` (its attributes and shapes vary
    /// between the worlds an instance is evaluated in; a candidate's own graph has them)
    pub op: &'static str,
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct IrBuilder {
    pub graph: DiGraph<IrNode, ()>,
    by_inst: FxHashMap<u32, NodeIndex>,
    edges: FxHashSet<(u32, u32)>,
}

impl IrBuilder {
    /// The node of op instance `inst` (new the first time).
    pub fn node(&mut self, inst: u32, op: &'static str, span: Span) -> NodeId {
        if let Some(n) = self.by_inst.get(&inst) {
            return NodeId(n.index() as u32);
        }
        let n = self.graph.add_node(IrNode { op, span });
        self.by_inst.insert(inst, n);
        NodeId(n.index() as u32)
    }
    pub fn edge(&mut self, from: NodeId, to: NodeId) {
        if from != to && self.edges.insert((from.0, to.0)) {
            self.graph.add_edge(NodeIndex::new(from.index()), NodeIndex::new(to.index()), ());
        }
    }
}

/// A stable summary of the IR for snapshots: node and edge counts, and nodes per op kind.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IrSummary {
    pub nodes: usize,
    pub edges: usize,
    pub ops: BTreeMap<String, usize>,
}

pub fn summarize(g: &DiGraph<IrNode, ()>) -> IrSummary {
    let mut ops = BTreeMap::new();
    for n in g.node_weights() {
        *ops.entry(n.op.to_string()).or_insert(0) += 1;
    }
    IrSummary { nodes: g.node_count(), edges: g.edge_count(), ops }
}

//! A network's parameter layout and initialization, as pure functions of its graph (and a seeded
//! RNG): where each parameter tensor and BN running statistic lies in the flat vectors that the
//! optimizer, checkpoints, weights files and the supernet's shared pieces use, and PyTorch's
//! default initial values drawn in a fixed order. [`crate::model::Model::new`] is built on it;
//! code that only needs a parameter count or the layout (weights files, NSE's spec check) calls
//! it without building a network.
//!
//! The flat layouts: parameters in node order, per node weight before bias, gamma before beta,
//! squeeze-excite `fc1.weight, fc1.bias, fc2.weight, fc2.bias`; statistics per BN node, running
//! mean then running var. Every seed gives the values it gave before this module existed (runs
//! and weights files depend on it; `kernels/tests/model_backends.rs` checks stored hashes).

use crate::error::GraphError;
use crate::graph::{Graph, Op};
use crate::rng::Rng;
use std::ops::Range;

/// One parameter tensor of the flat parameter vector.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    pub node: usize,
    /// "weight", "bias", "gamma", "beta", or "fc1.weight"... for squeeze-excite.
    pub name: &'static str,
    pub range: Range<usize>,
}

/// Where a graph's parameters and BN running statistics lie in the flat vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Every parameter tensor, in flat (slot) order.
    pub slots: Vec<ParamInfo>,
    node_params: Vec<Range<usize>>,
    node_stats: Vec<Range<usize>>,
    num_params: usize,
    num_stats: usize,
}

fn numel(s: [usize; 3]) -> usize {
    s[0] * s[1] * s[2]
}

impl Layout {
    /// Validates `graph` and lays out its parameters and statistics.
    pub fn new(graph: &Graph) -> Result<Layout, GraphError> {
        graph.validate()?;
        let nn = graph.nodes.len();
        let (mut slots, mut node_params, mut node_stats) = (Vec::new(), Vec::with_capacity(nn), Vec::with_capacity(nn));
        let (mut np, mut ns) = (0, 0);
        for (i, node) in graph.nodes.iter().enumerate() {
            let (p0, s0) = (np, ns);
            let cin = node.inputs.first().map(|&j| graph.nodes[j].shape).unwrap_or([0; 3]);
            let mut push = |name: &'static str, len: usize| {
                slots.push(ParamInfo { node: i, name, range: np..np + len });
                np += len;
            };
            match &node.op {
                Op::Conv { out, k, groups, bias, .. } => {
                    push("weight", out * (cin[0] / groups * k.0 * k.1));
                    if *bias {
                        push("bias", *out);
                    }
                }
                Op::Linear { out, bias } => {
                    push("weight", out * numel(cin));
                    if *bias {
                        push("bias", *out);
                    }
                }
                Op::Se { mid, .. } => {
                    let c = cin[0];
                    push("fc1.weight", mid * c);
                    push("fc1.bias", *mid);
                    push("fc2.weight", c * mid);
                    push("fc2.bias", c);
                }
                Op::Bn => {
                    let c = node.shape[0];
                    push("gamma", c);
                    push("beta", c);
                    ns += 2 * c;
                }
                _ => {}
            }
            node_params.push(p0..np);
            node_stats.push(s0..ns);
        }
        Ok(Layout { slots, node_params, node_stats, num_params: np, num_stats: ns })
    }

    pub fn num_params(&self) -> usize {
        self.num_params
    }
    pub fn num_stats(&self) -> usize {
        self.num_stats
    }
    /// The parameter range of node `i` (contiguous; empty for ops without parameters).
    pub fn node_params(&self, i: usize) -> Range<usize> {
        self.node_params[i].clone()
    }
    /// The running-statistics range of node `i` (BN: mean then var; empty otherwise).
    pub fn node_stats(&self, i: usize) -> Range<usize> {
        self.node_stats[i].clone()
    }
}

/// A graph's layout with its initial parameters and statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct Init {
    pub layout: Layout,
    pub params: Vec<f32>,
    pub stats: Vec<f32>,
    /// The seed of the dropout masks: drawn after the parameters, only when the graph has a
    /// dropout node (so other networks' draws are unchanged); 0 otherwise.
    pub drop_seed: u64,
}

/// Validates `graph`, lays out its parameters and initializes them as PyTorch does by default:
/// conv/linear weights Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in),
/// 1/sqrt(fan_in)), biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (squeeze-excite: fan-in `c` for
/// fc1, `mid` for fc2), BN gamma 1 and beta 0, running mean 0 and var 1. Values are drawn from
/// `rng` in flat order (node order, weight before bias), then the dropout seed.
pub fn init(graph: &Graph, rng: &mut Rng) -> Result<Init, GraphError> {
    let layout = Layout::new(graph)?;
    let mut params = Vec::with_capacity(layout.num_params);
    for s in &layout.slots {
        let node = &graph.nodes[s.node];
        let cin = node.inputs.first().map(|&j| graph.nodes[j].shape).unwrap_or([0; 3]);
        let bound = |fan_in: usize| 1.0 / (fan_in as f32).sqrt();
        let b = match (&node.op, s.name) {
            (Op::Conv { k, groups, .. }, _) => bound(cin[0] / groups * k.0 * k.1),
            (Op::Linear { .. }, _) => bound(numel(cin)),
            (Op::Se { .. }, "fc1.weight" | "fc1.bias") => bound(cin[0]),
            (Op::Se { mid, .. }, _) => bound(*mid),
            (Op::Bn, "gamma") => {
                params.extend(std::iter::repeat_n(1.0, s.range.len()));
                continue;
            }
            _ => {
                params.extend(std::iter::repeat_n(0.0, s.range.len()));
                continue;
            }
        };
        params.extend((0..s.range.len()).map(|_| rng.uniform(-b, b)));
    }
    let mut stats = Vec::with_capacity(layout.num_stats);
    for (i, node) in graph.nodes.iter().enumerate() {
        if layout.node_stats(i).is_empty() {
            continue;
        }
        let c = node.shape[0];
        stats.extend(std::iter::repeat_n(0.0, c));
        stats.extend(std::iter::repeat_n(1.0, c));
    }
    let drop_seed = if graph.nodes.iter().any(|n| matches!(n.op, Op::Dropout { .. })) { rng.next_u64() } else { 0 };
    Ok(Init { layout, params, stats, drop_seed })
}

//! NSE's multi-branch supernet on the CPU backend or the WGSL kernels (Ci et al., "Evolving
//! Search Space for Neural Architecture Search", ICCV 2021, section 3.2; docs/nse.md).
//!
//! The supernet holds the shared weights of a stem, of every candidate op of every layer and of
//! a head. A step samples a sub-network (an [`Arch`]: the selected ops of each layer), builds
//! its executable [`Graph`] (a layer outputs the mean of its selected branches, plus the
//! identity where the layer keeps its shape: Eq. 1 and appendix A.3), copies the shared weights
//! in, runs it as a [`Model`] (the one network executor: no backward code of its own) and
//! writes the gradients and BN statistics back. Ops that a step does not select get no
//! gradient and no optimizer update (PyTorch's `grad is None`).
//!
//! The fitness indicators `theta` (one per op and layer, `p = sigmoid(theta)`) are trained by
//! [`Supernet::theta_step`] with the paper's two-configuration straight-through estimator
//! (Eqs. 6-8; the official code's `selected * (p_a + 1 - p_a.detach()) + unselected * (p_b -
//! p_b.detach())`): per layer a configuration `a` is forwarded and another `b` is computed
//! beside it; the gradient with respect to `p~_a` is `<dL/dY, e_a(X)>` and to `p~_b` is
//! `<dL/dY, e_b(X)>`, read from [`Model::backward_tapped`].

use crate::backend::{CpuBackend, Ops};
use crate::cpu;
use crate::error::SupernetError;
use crate::gpu::Gpu;
use crate::graph::{Graph, Node, Op, Pad4};
use crate::init::Layout;
use crate::model::Model;
use crate::rng::Rng;
use crate::shape::{Act, BatchNorm, Sgd};
use std::ops::Range;

/// A candidate op of a multi-branch layer, mapping `c_in -> c_out` with the layer's stride.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BranchOp {
    /// Inverted bottleneck: 1x1 expansion to `t * c_in` (none when `t == 1`), BN, ReLU; `k x k`
    /// depthwise conv with dilation `d`, BN, ReLU; linear 1x1 projection, BN.
    Dw { k: usize, t: usize, d: usize },
    /// Spatially separable: expansion, `1 x k` conv, BN, ReLU, `k x 1` conv, BN, ReLU,
    /// projection, BN (full convs on the expanded width, the official code's `Rec`).
    Ssc { k: usize, t: usize },
    /// A deliberately poor op: `k x k` average (or max) pooling, a 1x1 expansion to `t * c_in`
    /// (none when `t == 1`), BN, ReLU, a 1x1 conv down to one channel, BN, ReLU, and a 1x1 conv
    /// up to `c_out`, BN: it costs MACs like an expanded op but passes a rank-one signal.
    PoolNeck { k: usize, max: bool, t: usize },
}

impl BranchOp {
    /// A short name: `dw3_e6`, `dil2_e3`, `ssc5_e1`, `avgneck3_e6`, `maxneck5_e1`.
    pub fn name(&self) -> String {
        match *self {
            BranchOp::Dw { k, t, d: 1 } => format!("dw{k}_e{t}"),
            BranchOp::Dw { t, d, .. } => format!("dil{d}_e{t}"),
            BranchOp::Ssc { k, t } => format!("ssc{k}_e{t}"),
            BranchOp::PoolNeck { k, max, t } => format!("{}neck{k}_e{t}", if max { "max" } else { "avg" }),
        }
    }
    /// Reads a name written by [`BranchOp::name`].
    pub fn parse(s: &str) -> Option<BranchOp> {
        let num = |p: &str| p.parse::<usize>().ok().filter(|v| (1..=15).contains(v));
        let (head, t) = s.split_once("_e")?;
        let t = num(t)?;
        for (prefix, max) in [("avgneck", false), ("maxneck", true)] {
            if let Some(r) = head.strip_prefix(prefix) {
                return num(r).filter(|k| k % 2 == 1).map(|k| BranchOp::PoolNeck { k, max, t });
            }
        }
        if let Some(k) = head.strip_prefix("dw") {
            return num(k).filter(|k| k % 2 == 1).map(|k| BranchOp::Dw { k, t, d: 1 });
        }
        if let Some(d) = head.strip_prefix("dil") {
            return num(d).filter(|&d| d >= 2).map(|d| BranchOp::Dw { k: 3, t, d });
        }
        head.strip_prefix("ssc").and_then(num).filter(|k| k % 2 == 1).map(|k| BranchOp::Ssc { k, t })
    }
}

/// The macro-architecture: a stride-2 `3x3` conv stem, multi-branch layers `(c_out, stride)`,
/// a 1x1 conv head, global average pooling and a linear classifier.
#[derive(Clone, Debug, PartialEq)]
pub struct SupernetSpec {
    pub input: [usize; 3],
    pub stem: usize,
    pub layers: Vec<(usize, usize)>,
    pub head: usize,
    pub classes: usize,
    /// The overall op pool (the same for every layer); archs index into it.
    pub pool: Vec<BranchOp>,
}

/// A sub-network: per layer, the (sorted) pool indices of its selected ops.
pub type Arch = Vec<Vec<usize>>;

/// The executable pieces: the stem, one op of one layer, the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece {
    Stem,
    Op(usize, usize),
    Head,
}

/// Shared weights of one piece: parameters (the flat layout [`crate::init::Layout`] gives its
/// nodes), BN running statistics and SGD momentum.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shared {
    pub params: Vec<f32>,
    pub stats: Vec<f32>,
    pub momentum: Vec<f32>,
}

fn push(nodes: &mut Vec<Node>, op: Op, inputs: Vec<usize>, shape: [usize; 3]) -> usize {
    nodes.push(Node { op, inputs, shape });
    nodes.len() - 1
}

fn conv(nodes: &mut Vec<Node>, x: usize, out: usize, k: (usize, usize), stride: usize, groups: usize, d: usize) -> usize {
    let [_, h, w] = nodes[x].shape;
    let (ph, pw) = (d * (k.0 - 1) / 2, d * (k.1 - 1) / 2);
    let ho = (h + 2 * ph - d * (k.0 - 1) - 1) / stride + 1;
    let wo = (w + 2 * pw - d * (k.1 - 1) - 1) / stride + 1;
    let op = Op::Conv { out, k, stride, groups, dilation: d, pad: Pad4::sym(ph, pw), bias: false };
    push(nodes, op, vec![x], [out, ho, wo])
}

fn bn(nodes: &mut Vec<Node>, x: usize) -> usize {
    let s = nodes[x].shape;
    push(nodes, Op::Bn, vec![x], s)
}

fn relu(nodes: &mut Vec<Node>, x: usize) -> usize {
    let s = nodes[x].shape;
    push(nodes, Op::Act(Act::Relu), vec![x], s)
}

/// Appends the nodes of `op` reading node `x`; returns its output node.
fn emit(nodes: &mut Vec<Node>, op: BranchOp, x: usize, out: usize, stride: usize) -> usize {
    let c = nodes[x].shape[0];
    let expand = |nodes: &mut Vec<Node>, t: usize| {
        if t == 1 {
            x
        } else {
            let y = conv(nodes, x, c * t, (1, 1), 1, 1, 1);
            let y = bn(nodes, y);
            relu(nodes, y)
        }
    };
    match op {
        BranchOp::Dw { k, t, d } => {
            let y = expand(nodes, t);
            let ct = nodes[y].shape[0];
            let y = conv(nodes, y, ct, (k, k), stride, ct, d);
            let y = bn(nodes, y);
            let y = relu(nodes, y);
            let y = conv(nodes, y, out, (1, 1), 1, 1, 1);
            bn(nodes, y)
        }
        BranchOp::Ssc { k, t } => {
            let y = expand(nodes, t);
            let ct = nodes[y].shape[0];
            let y = conv(nodes, y, ct, (1, k), stride, 1, 1);
            let y = bn(nodes, y);
            let y = relu(nodes, y);
            let y = conv(nodes, y, ct, (k, 1), 1, 1, 1);
            let y = bn(nodes, y);
            let y = relu(nodes, y);
            let y = conv(nodes, y, out, (1, 1), 1, 1, 1);
            bn(nodes, y)
        }
        BranchOp::PoolNeck { k, max, t } => {
            let [_, h, w] = nodes[x].shape;
            let p = k / 2;
            let (ho, wo) = ((h + 2 * p - k) / stride + 1, (w + 2 * p - k) / stride + 1);
            let pool = Op::Pool { max, k: (k, k), stride, pad: Pad4::sym(p, p), count_include_pad: false };
            let mut y = push(nodes, pool, vec![x], [c, ho, wo]);
            if t > 1 {
                y = conv(nodes, y, c * t, (1, 1), 1, 1, 1);
                y = bn(nodes, y);
                y = relu(nodes, y);
            }
            let y = conv(nodes, y, 1, (1, 1), 1, 1, 1);
            let y = bn(nodes, y);
            let y = relu(nodes, y);
            let y = conv(nodes, y, out, (1, 1), 1, 1, 1);
            bn(nodes, y)
        }
    }
}

/// Multiply-accumulates of the convolutions and linear layers of `nodes[from..]` (the paper's
/// MACs: `mac_of_convolution` counts convs only; we add the classifier).
fn macs(nodes: &[Node], from: usize) -> f64 {
    nodes[from..]
        .iter()
        .map(|n| match &n.op {
            Op::Conv { out, k, groups, .. } => {
                let cin = nodes[n.inputs[0]].shape[0];
                (out * n.shape[1] * n.shape[2] * (cin / groups) * k.0 * k.1) as f64
            }
            Op::Linear { out, .. } => (out * nodes[n.inputs[0]].shape.iter().product::<usize>()) as f64,
            _ => 0.0,
        })
        .sum()
}

/// A built sub-network: its graph, which nodes belong to which piece, and the layer outputs.
struct Built {
    graph: Graph,
    pieces: Vec<(Piece, Range<usize>)>,
    /// Per layer: the output node of configuration `a` (the one forwarded).
    out_a: Vec<usize>,
    /// Per layer: the output node of configuration `b` (computed beside `a`, not consumed).
    out_b: Vec<Option<usize>>,
}

impl SupernetSpec {
    /// Checks that every layer and op can be built; the input and layer shapes per layer.
    pub fn check(&self) -> Result<(), SupernetError> {
        if self.pool.is_empty() || self.layers.is_empty() || self.classes == 0 || self.stem == 0 || self.head == 0 {
            return Err(SupernetError::Incomplete);
        }
        if self.layers.iter().any(|&(c, s)| c == 0 || !(1..=2).contains(&s)) {
            return Err(SupernetError::BadLayer);
        }
        let all: Arch = self.layers.iter().map(|_| (0..self.pool.len()).collect()).collect();
        Ok(self.build(&all, None).graph.validate()?)
    }
    /// Whether layer `l` has the identity path (it keeps its input's shape).
    pub fn has_identity(&self, l: usize) -> bool {
        let cin = if l == 0 { self.stem } else { self.layers[l - 1].0 };
        self.layers[l].0 == cin && self.layers[l].1 == 1
    }

    fn build(&self, a: &Arch, b: Option<&Arch>) -> Built {
        let mut nodes = vec![Node { op: Op::Input, inputs: vec![], shape: self.input }];
        let mut pieces = Vec::new();
        let s0 = nodes.len();
        let y = conv(&mut nodes, 0, self.stem, (3, 3), 2, 1, 1);
        let y = bn(&mut nodes, y);
        let mut x = relu(&mut nodes, y);
        pieces.push((Piece::Stem, s0..nodes.len()));
        let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
        for (l, &(cout, stride)) in self.layers.iter().enumerate() {
            let ident = self.has_identity(l);
            let mut outs = Vec::new();
            for &o in &a[l] {
                let s = nodes.len();
                let y = emit(&mut nodes, self.pool[o], x, cout, stride);
                pieces.push((Piece::Op(l, o), s..nodes.len()));
                outs.push((o, y));
            }
            let ins_a: Vec<usize> = ident.then_some(x).into_iter().chain(outs.iter().map(|&(_, y)| y)).collect();
            let shape_of = |nodes: &Vec<Node>| [cout, nodes[x].shape[1].div_ceil(stride), nodes[x].shape[2].div_ceil(stride)];
            let shape = shape_of(&nodes);
            let ya = push(&mut nodes, Op::Mean, ins_a, shape);
            let yb = b.map(|b| {
                let mut ins_b: Vec<usize> = ident.then_some(x).into_iter().collect();
                for &o in &b[l] {
                    match outs.iter().find(|&&(p, _)| p == o) {
                        Some(&(_, y)) => ins_b.push(y),
                        None => {
                            let s = nodes.len();
                            let y = emit(&mut nodes, self.pool[o], x, cout, stride);
                            pieces.push((Piece::Op(l, o), s..nodes.len()));
                            ins_b.push(y);
                        }
                    }
                }
                push(&mut nodes, Op::Mean, ins_b, shape)
            });
            out_a.push(ya);
            out_b.push(yb);
            x = ya;
        }
        let s0 = nodes.len();
        let y = conv(&mut nodes, x, self.head, (1, 1), 1, 1, 1);
        let y = bn(&mut nodes, y);
        let y = relu(&mut nodes, y);
        let c = nodes[y].shape[0];
        let y = push(&mut nodes, Op::Gap, vec![y], [c, 1, 1]);
        let y = push(&mut nodes, Op::Linear { out: self.classes, bias: true }, vec![y], [self.classes, 1, 1]);
        pieces.push((Piece::Head, s0..nodes.len()));
        Built { graph: Graph { nodes, output: y }, pieces, out_a, out_b }
    }

    /// The executable graph of `arch` as a standalone network (for retraining from scratch).
    pub fn graph(&self, arch: &Arch) -> Graph {
        self.build(arch, None).graph
    }

    /// Per layer and pool op, its MACs in the layer; and the MACs of stem plus head.
    pub fn op_macs(&self) -> (Vec<Vec<f64>>, f64) {
        let all: Arch = self.layers.iter().map(|_| (0..self.pool.len()).collect()).collect();
        let b = self.build(&all, None);
        let mut per = vec![vec![0.0; self.pool.len()]; self.layers.len()];
        let mut fixed = 0.0;
        for (p, r) in &b.pieces {
            let m = macs(&b.graph.nodes[..r.end], r.start);
            match *p {
                Piece::Op(l, o) => per[l][o] = m,
                _ => fixed += m,
            }
        }
        (per, fixed)
    }
}

/// The p of a fitness indicator: `sigmoid(theta) * 0.999 + 5e-4` (the official code's clip).
pub fn prob(theta: f32) -> f32 {
    1.0 / (1.0 + (-theta).exp()) * 0.999 + 5e-4
}

/// `p~_a = p^_a / (p^_a + p^_b)` of one layer (Eq. 4 for both configurations, rescaled to sum
/// to 1) and its derivative with respect to the indicator of each op of `active`, in order.
pub fn pair_prob(theta: &[f32], active: &[usize], a: &[usize], b: &[usize]) -> (f64, Vec<f64>) {
    let log_p = |s: &[usize]| -> f64 {
        active
            .iter()
            .map(|&o| {
                let p = prob(theta[o]) as f64;
                if s.contains(&o) {
                    p.ln()
                } else {
                    (1.0 - p).ln()
                }
            })
            .sum()
    };
    // p~_a = sigmoid(log p^_a - log p^_b)
    let pa = 1.0 / (1.0 + (log_p(b) - log_p(a)).exp());
    let d = active
        .iter()
        .map(|&o| {
            let s = 1.0 / (1.0 + (-theta[o] as f64).exp());
            let dp = 0.999 * s * (1.0 - s);
            let p = prob(theta[o]) as f64;
            let dlog = |sel: &[usize]| if sel.contains(&o) { dp / p } else { -dp / (1.0 - p) };
            pa * (1.0 - pa) * (dlog(a) - dlog(b))
        })
        .collect();
    (pa, d)
}

/// Adam on the fitness indicators (`torch.optim.Adam`, no weight decay).
#[derive(Clone, Debug, PartialEq)]
pub struct ThetaAdam {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub m: Vec<Vec<f32>>,
    pub v: Vec<Vec<f32>>,
    pub step: u32,
}

/// The MACs penalty `alpha * R^beta` of Eq. 5, R = expected MACs (millions) - target (Eq. 8).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MacsPenalty {
    pub alpha: f32,
    pub beta: f32,
    /// Target, in millions of MACs.
    pub target: f32,
}

/// What one fitness step measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThetaStats {
    pub loss: f32,
    /// Expected MACs (millions) of Eq. 8.
    pub macs: f64,
}

/// The supernet: its spec, the active ops per layer, shared weights and fitness indicators.
pub struct Supernet {
    pub spec: SupernetSpec,
    /// The search-space subset `A_s`: per layer, the active pool indices.
    pub active: Vec<Vec<usize>>,
    /// Shared weights: `[stem, head]`, and per layer and pool op.
    pub fixed: [Shared; 2],
    pub ops: Vec<Vec<Shared>>,
    /// Fitness indicators per layer and pool op (0 at initialization).
    pub theta: Vec<Vec<f32>>,
    pub adam: ThetaAdam,
    op_macs: Vec<Vec<f64>>,
    fixed_macs: f64,
    /// Where the sub-networks run (weight and indicator steps, evaluations): the CPU backend
    /// (None) or the WGSL kernels ([`Supernet::set_device`]).
    device: Option<Gpu>,
}

fn init_piece(nodes: Vec<Node>, rng: &mut Rng) -> Shared {
    let output = nodes.len() - 1;
    let init = crate::init::init(&Graph { nodes, output }, rng).expect("the supernet's pieces were validated");
    let momentum = vec![0.0; init.params.len()];
    Shared { params: init.params, stats: init.stats, momentum }
}

/// The contiguous parameter (or statistics) range of the nodes `r` of a layout.
fn span(r: &Range<usize>, f: impl Fn(usize) -> Range<usize>) -> Range<usize> {
    let rs: Vec<Range<usize>> = r.clone().map(f).filter(|x| !x.is_empty()).collect();
    match (rs.first(), rs.last()) {
        (Some(a), Some(b)) => a.start..b.end,
        _ => 0..0,
    }
}

impl Supernet {
    /// Validates `spec` and initializes every piece's weights (PyTorch defaults) from `seed`.
    pub fn new(spec: SupernetSpec, active: Vec<Vec<usize>>, seed: u64) -> Result<Supernet, SupernetError> {
        spec.check()?;
        if active.len() != spec.layers.len() || active.iter().flatten().any(|&o| o >= spec.pool.len()) {
            return Err(SupernetError::ActiveOps { pool: spec.pool.len(), layers: spec.layers.len() });
        }
        let (op_macs, fixed_macs) = spec.op_macs();
        let (nl, np) = (spec.layers.len(), spec.pool.len());
        let mut s = Supernet {
            spec,
            active,
            fixed: Default::default(),
            ops: vec![vec![Shared::default(); np]; nl],
            theta: vec![vec![0.0; np]; nl],
            adam: ThetaAdam { lr: 0.1, beta1: 0.9, beta2: 0.999, m: vec![vec![0.0; np]; nl], v: vec![vec![0.0; np]; nl], step: 0 },
            op_macs,
            fixed_macs,
            device: None,
        };
        s.reinit(seed);
        Ok(s)
    }

    /// Re-initializes all weights from `seed` and the fitness indicators to 0 (the start of a
    /// round), resetting the optimizers' state.
    pub fn reinit(&mut self, seed: u64) {
        let all: Arch = self.spec.layers.iter().map(|_| (0..self.spec.pool.len()).collect()).collect();
        let b = self.spec.build(&all, None);
        let mut rng = Rng::derive(seed, 11);
        for (p, r) in &b.pieces {
            // each piece as a standalone graph: an input node of the piece's input shape
            let first = &b.graph.nodes[r.start];
            let src = first.inputs[0];
            let mut nodes = vec![Node { op: Op::Input, inputs: vec![], shape: b.graph.nodes[src].shape }];
            for n in &b.graph.nodes[r.clone()] {
                let inputs = n.inputs.iter().map(|&j| if j < r.start { 0 } else { j - r.start + 1 }).collect();
                nodes.push(Node { op: n.op.clone(), inputs, shape: n.shape });
            }
            let sh = init_piece(nodes, &mut rng);
            match *p {
                Piece::Stem => self.fixed[0] = sh,
                Piece::Head => self.fixed[1] = sh,
                Piece::Op(l, o) => self.ops[l][o] = sh,
            }
        }
        for row in self.theta.iter_mut().chain(self.adam.m.iter_mut()).chain(self.adam.v.iter_mut()) {
            row.fill(0.0);
        }
        self.adam.step = 0;
    }

    fn shared(&mut self, p: Piece) -> &mut Shared {
        match p {
            Piece::Stem => &mut self.fixed[0],
            Piece::Head => &mut self.fixed[1],
            Piece::Op(l, o) => &mut self.ops[l][o],
        }
    }

    /// The flat parameters and statistics of `built` from the shared weights (every node with
    /// parameters or statistics belongs to a piece).
    fn host_weights(&mut self, built: &Built) -> (Vec<f32>, Vec<f32>) {
        let layout = Layout::new(&built.graph).expect("sub-networks of a checked spec are valid");
        let (mut params, mut stats) = (vec![0.0; layout.num_params()], vec![0.0; layout.num_stats()]);
        for (p, r) in &built.pieces {
            let sh = self.shared(*p);
            params[span(r, |i| layout.node_params(i))].copy_from_slice(&sh.params);
            stats[span(r, |i| layout.node_stats(i))].copy_from_slice(&sh.stats);
        }
        (params, stats)
    }

    /// A [`Model`] of `built` on `backend` holding the shared weights and statistics.
    fn model<B: Ops>(&mut self, backend: B, built: &Built) -> Model<B> {
        let (params, stats) = self.host_weights(built);
        Model::from_host(backend, built.graph.clone(), &params, &stats).expect("sub-networks of a checked spec are valid")
    }

    /// MACs of `arch` in millions.
    pub fn arch_macs(&self, arch: &Arch) -> f64 {
        (self.fixed_macs + arch.iter().enumerate().flat_map(|(l, ops)| ops.iter().map(move |&o| self.op_macs[l][o])).sum::<f64>()) / 1e6
    }
    /// MACs (millions) of op `o` in layer `l`.
    pub fn op_macs(&self, l: usize, o: usize) -> f64 {
        self.op_macs[l][o] / 1e6
    }

    /// Samples a sub-network of the active ops: each op on with probability `p(l, o)`; a layer
    /// without identity (a reduction layer) draws again until one op is on.
    pub fn sample(&self, rng: &mut Rng, p: impl Fn(usize, usize) -> f32) -> Arch {
        (0..self.active.len())
            .map(|l| {
                let ops = &self.active[l];
                loop {
                    let mut sel: Vec<usize> = ops.iter().copied().filter(|&o| rng.next_f32() < p(l, o)).collect();
                    if !sel.is_empty() || self.spec.has_identity(l) || ops.is_empty() {
                        sel.sort_unstable();
                        return sel;
                    }
                }
            })
            .collect()
    }

    /// The uniform sampler of supernet training (every active op on with probability 1/2).
    pub fn sample_uniform(&self, rng: &mut Rng) -> Arch {
        self.sample(rng, |_, _| 0.5)
    }
    /// A sample from the fitness indicators.
    pub fn sample_theta(&self, rng: &mut Rng) -> Arch {
        self.sample(rng, |l, o| prob(self.theta[l][o]))
    }

    /// Runs the weight steps, the indicator steps' forward and backward and the recalibrated
    /// evaluations on `gpu` (the WGSL kernels) instead of the CPU backend; None: back to the
    /// CPU. The updates (SGD, Adam) and the gates' inner products stay on the host.
    pub fn set_device(&mut self, gpu: Option<Gpu>) {
        self.device = gpu;
    }

    /// One SGD step of the shared weights on sub-network `arch` (training-mode BN); returns the
    /// mean cross-entropy loss of the batch. On a device ([`Supernet::set_device`]) the
    /// sub-network's forward and backward run there (its weights and statistics uploaded, the
    /// gradients and statistics read back); the update is the same host SGD either way.
    pub fn train_step(&mut self, x: &[f32], labels: &[u32], arch: &Arch, opt: &Sgd, lr: f32) -> f32 {
        let built = self.spec.build(arch, None);
        let (loss, grads, stats) = match self.device.clone() {
            Some(gpu) => self.step_on(gpu, &built, x, labels),
            None => self.step_on(CpuBackend, &built, x, labels),
        };
        let layout = Layout::new(&built.graph).expect("sub-networks of a checked spec are valid");
        for (p, r) in &built.pieces {
            let pr = span(r, |i| layout.node_params(i));
            let sr = span(r, |i| layout.node_stats(i));
            let sh = self.shared(*p);
            sh.stats.copy_from_slice(&stats[sr]);
            cpu::sgd_step(opt, lr, &mut sh.params, &grads[pr], &mut sh.momentum);
        }
        loss
    }

    /// Forward and backward of `built` on `backend` with the shared weights and statistics;
    /// the loss, the gradients and the updated statistics (flat layouts).
    fn step_on<B: Ops>(&mut self, backend: B, built: &Built, x: &[f32], labels: &[u32]) -> (f32, Vec<f32>, Vec<f32>) {
        let mut m = self.model(backend, built);
        let logits = m.forward(x, labels.len(), true);
        let (loss, d) = m.loss(&logits, labels);
        m.backward(d);
        let out = (loss, m.grads_host(), m.stats_host());
        m.release();
        out
    }

    /// The loss of one training-mode step of sub-network `arch` and its gradient in the
    /// sub-network's flat parameter layout (no update; the shared statistics stay as they are).
    pub fn grads(&mut self, x: &[f32], labels: &[u32], arch: &Arch) -> (f32, Vec<f32>) {
        let built = self.spec.build(arch, None);
        let (loss, grads, _) = self.step_on(CpuBackend, &built, x, labels);
        (loss, grads)
    }

    /// One fitness-indicator step on a held-out batch (Eqs. 5-8): per layer with at least two
    /// configurations, `a` and `b != a` drawn from the indicators, `a` forwarded and `b`
    /// computed beside it; Adam on the simulated gradient of the cross-entropy plus the MACs
    /// penalty. Layers with fewer than two configurations forward one without gradient.
    pub fn theta_step(&mut self, x: &[f32], labels: &[u32], rng: &mut Rng, pen: &MacsPenalty) -> ThetaStats {
        let nl = self.active.len();
        let a = self.sample_theta(rng);
        let mut b = a.clone();
        let mut two = vec![false; nl];
        for l in 0..nl {
            let n_ops = self.active[l].len();
            let configs = if self.spec.has_identity(l) { 1usize << n_ops.min(20) } else { (1usize << n_ops.min(20)) - 1 };
            if configs < 2 {
                continue;
            }
            for _ in 0..10_000 {
                let s = self.sample_theta(rng);
                if s[l] != a[l] {
                    b[l] = s[l].clone();
                    two[l] = true;
                    break;
                }
            }
        }
        let (loss, gates) = self.gates(x, labels, &a, &b, &two);
        let np = self.spec.pool.len();
        let mut grad = vec![vec![0.0f32; np]; nl];
        let mut macs = self.fixed_macs / 1e6;
        let mut dmacs = vec![vec![0.0f64; np]; nl];
        for l in 0..nl {
            let cost = |s: &Vec<usize>| s.iter().map(|&o| self.op_macs[l][o]).sum::<f64>() / 1e6;
            if !two[l] {
                macs += cost(&a[l]);
                continue;
            }
            let (ga, gb) = gates[l];
            let (pa, dpa) = pair_prob(&self.theta[l], &self.active[l], &a[l], &b[l]);
            let (ca, cb) = (cost(&a[l]), cost(&b[l]));
            macs += pa * ca + (1.0 - pa) * cb;
            for (i, &o) in self.active[l].iter().enumerate() {
                // d p~_b / d theta = -d p~_a / d theta
                grad[l][o] = ((ga - gb) * dpa[i]) as f32;
                dmacs[l][o] = (ca - cb) * dpa[i];
            }
        }
        let r = macs - pen.target as f64;
        let dpen = if pen.alpha == 0.0 { 0.0 } else { pen.alpha as f64 * pen.beta as f64 * r.abs().powf(pen.beta as f64 - 1.0) * r.signum() };
        let penalty = if pen.alpha == 0.0 { 0.0 } else { pen.alpha as f64 * r.abs().powf(pen.beta as f64) };
        self.adam.step += 1;
        let t = self.adam.step as i32;
        let ThetaAdam { lr, beta1, beta2, m, v, .. } = &mut self.adam;
        let (bc1, bc2) = (1.0 - beta1.powi(t), 1.0 - beta2.powi(t));
        for l in 0..nl {
            if !two[l] {
                continue;
            }
            for &o in &self.active[l] {
                let g = grad[l][o] + (dpen * dmacs[l][o]) as f32;
                m[l][o] = *beta1 * m[l][o] + (1.0 - *beta1) * g;
                v[l][o] = *beta2 * v[l][o] + (1.0 - *beta2) * g * g;
                self.theta[l][o] -= *lr * (m[l][o] / bc1) / ((v[l][o] / bc2).sqrt() + 1e-8);
            }
        }
        ThetaStats { loss: loss + penalty as f32, macs }
    }

    /// The straight-through gate gradients of Eq. 7: forwards `a` (training-mode BN) with each
    /// layer's configuration `b` computed beside it (where `two[l]`), and returns the loss and
    /// per layer `(<dL/dY, e_a(X)>, <dL/dY, e_b(X)>)` (zeros where `!two[l]`). Updates the
    /// shared BN statistics as a training forward does. Runs on the device when one is set
    /// ([`Supernet::set_device`]); the inner products are taken on the host.
    pub fn gates(&mut self, x: &[f32], labels: &[u32], a: &Arch, b: &Arch, two: &[bool]) -> (f32, Vec<(f64, f64)>) {
        match self.device.clone() {
            Some(gpu) => self.gates_on(gpu, x, labels, a, b, two),
            None => self.gates_on(CpuBackend, x, labels, a, b, two),
        }
    }

    fn gates_on<B: Ops>(&mut self, backend: B, x: &[f32], labels: &[u32], a: &Arch, b: &Arch, two: &[bool]) -> (f32, Vec<(f64, f64)>) {
        let built = self.spec.build(a, Some(b));
        let mut net = self.model(backend, &built);
        // keep configuration b's nodes live although nothing consumes them
        for (l, &t) in two.iter().enumerate() {
            if let (true, Some(yb)) = (t, built.out_b[l]) {
                net.set_live(yb);
            }
        }
        let logits = net.forward(x, labels.len(), true);
        let (loss, d) = net.loss(&logits, labels);
        let dys = net.backward_tapped(d, &built.out_a);
        let stats = net.stats_host();
        for (p, r) in &built.pieces {
            let sr = span(r, |i| net.node_stats(i));
            self.shared(*p).stats.copy_from_slice(&stats[sr]);
        }
        let gates = (0..two.len())
            .map(|l| {
                let (Some(ya), Some(yb)) = (net.output_of(built.out_a[l]), built.out_b[l].and_then(|i| net.output_of(i))) else { return (0.0, 0.0) };
                match &dys[l] {
                    Some(dy) if two[l] => {
                        let (dy, ya, yb) = (net.backend.host(dy), net.backend.host(ya), net.backend.host(yb));
                        (dot(&dy, &ya), dot(&dy, &yb))
                    }
                    _ => (0.0, 0.0),
                }
            })
            .collect();
        net.release();
        (loss, gates)
    }

    /// Drops the active ops whose indicator is under `threshold`, except those in `locked[l]`
    /// (Lock & Rehearse) and the last op of a layer without identity. Returns the dropped
    /// `(layer, op)` pairs.
    pub fn drop_unfit(&mut self, threshold: f32, locked: &[Vec<usize>]) -> Vec<(usize, usize)> {
        let mut dropped = Vec::new();
        for l in 0..self.active.len() {
            let keep_one = !self.spec.has_identity(l);
            let mut order: Vec<usize> = self.active[l].clone();
            // lowest indicator first, so a reduction layer keeps its best op
            order.sort_by(|&a, &b| self.theta[l][a].total_cmp(&self.theta[l][b]).then(a.cmp(&b)));
            for o in order {
                let is_locked = locked.get(l).is_some_and(|k| k.contains(&o));
                if self.theta[l][o] >= threshold || is_locked || (keep_one && self.active[l].len() == 1) {
                    continue;
                }
                self.active[l].retain(|&p| p != o);
                dropped.push((l, o));
            }
        }
        dropped
    }

    /// Recomputes the BN statistics of `arch` from `batches` (training-mode forwards; the
    /// statistics become the mean of the batches' statistics, PyTorch's `momentum=None`), then
    /// returns its accuracy on `val` (eval mode). The shared statistics are left untouched.
    /// Runs on the device when one is set ([`Supernet::set_device`]).
    pub fn evaluate(&mut self, arch: &Arch, recal: &[(Vec<f32>, Vec<u32>)], val: &[(Vec<f32>, Vec<u32>)]) -> f64 {
        match self.device.clone() {
            Some(gpu) => self.evaluate_on(gpu, arch, recal, val),
            None => self.evaluate_on(CpuBackend, arch, recal, val),
        }
    }

    fn evaluate_on<B: Ops>(&mut self, backend: B, arch: &Arch, recal: &[(Vec<f32>, Vec<u32>)], val: &[(Vec<f32>, Vec<u32>)]) -> f64 {
        let mut net = self.recalibrated_on(backend, arch, recal);
        let k = self.spec.classes;
        let (mut hits, mut total) = (0usize, 0usize);
        for (x, y) in val {
            let logits = net.forward(x, y.len(), false);
            let logits = net.backend.host(&logits);
            for (row, &lab) in logits.chunks(k).zip(y) {
                let best = (0..k).fold(0, |b, j| if row[j] > row[b] { j } else { b });
                hits += (best == lab as usize) as usize;
            }
            total += y.len();
        }
        net.release();
        hits as f64 / total.max(1) as f64
    }

    /// The sub-network `arch` as a standalone CPU [`Model`] with the shared weights and its BN
    /// statistics recomputed from `recal` (see [`Supernet::evaluate`]; none: the shared ones).
    pub fn recalibrated(&mut self, arch: &Arch, recal: &[(Vec<f32>, Vec<u32>)]) -> Model<CpuBackend> {
        self.recalibrated_on(CpuBackend, arch, recal)
    }

    /// [`Supernet::recalibrated`] on any backend.
    pub fn recalibrated_on<B: Ops>(&mut self, backend: B, arch: &Arch, recal: &[(Vec<f32>, Vec<u32>)]) -> Model<B> {
        let built = self.spec.build(arch, None);
        let mut net = self.model(backend, &built);
        if !recal.is_empty() {
            let mom = BatchNorm::new(1, 1, 1).momentum;
            let mut stats = net.stats_host();
            let mut acc = vec![0.0f64; stats.len()];
            for (x, y) in recal {
                net.forward(x, y.len(), true);
                let new = net.stats_host();
                for (a, (new, old)) in acc.iter_mut().zip(new.iter().zip(&stats)) {
                    *a += ((*new - (1.0 - mom) * old) / mom) as f64;
                }
                stats = new;
            }
            let mean: Vec<f32> = acc.iter().map(|a| (*a / recal.len() as f64) as f32).collect();
            net.set_stats(&mean);
            net.release();
        }
        net
    }
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

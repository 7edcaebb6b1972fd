//! The network executor, on any backend ([`Ops`]: the CPU, wgpu, or the run-time
//! [`crate::Backend`]): parameters laid out and initialized on the host as PyTorch does
//! ([`crate::init`]) and uploaded, training/eval forward, backward through the graph with
//! gradient accumulation (`model/backward.rs`), the optimizer step, and the flat host views of
//! parameters, gradients and BN statistics that weights files, checkpoints and NSE's supernet
//! use. It is the one executor: training (`train.rs`), NSE's supernet steps and gate
//! gradients, and `nasc export`/`nasc infer` all run a `Model`; the CPU backend's kernels are
//! checked against finite differences and the WGSL kernels against the CPU.
//!
//! Execution rules: zero nodes (see [`Graph::plan`]) are not computed; identities and
//! single-input adds alias their input; a repeated parameter-free op on the same value is
//! computed once; ops that do not keep zero read a zero tensor. Asymmetric ("same") padding has
//! no device kernel: it round-trips through the host (correct, slow; no zoo spec uses it).

mod backward;

use crate::backend::Ops;
use crate::error::GraphError;
use crate::graph::{Graph, Op, Plan};
use crate::init::Layout;
use crate::net_ops::{dropout_mask, mul_layout, pad_backward, pad_forward};
use crate::rng::Rng;
use crate::shape::{AdamW, BatchNorm, Conv2d, Linear, Pool2d, PoolKind, Sgd};
use std::collections::HashMap;
use std::ops::Range;

pub use crate::init::ParamInfo;

/// An optimizer and its per-parameter state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optim {
    /// `torch.optim.SGD(lr, momentum, nesterov, weight_decay)`.
    Sgd(Sgd),
    /// `torch.optim.AdamW`.
    AdamW(AdamW),
}

/// A network with its parameters on backend `B`.
pub struct Model<B: Ops> {
    pub backend: B,
    graph: Graph,
    plan: Plan,
    layout: Layout,
    /// one tensor per parameter slot ([`Layout::slots`])
    params: Vec<B::T>,
    grads: Vec<Option<B::T>>,
    /// optimizer state: SGD momentum buffers, or AdamW (m, v)
    state1: Vec<Option<B::T>>,
    state2: Vec<Option<B::T>>,
    /// Optimizer steps taken; also which dropout masks a training forward draws (with the
    /// seed and the node): forwards between two steps draw the same masks.
    step: u32,
    /// per node: index of its first parameter tensor
    first: Vec<usize>,
    /// per BN node: (running mean, running var)
    stats: Vec<Option<(B::T, B::T)>>,
    /// `val[i]`: the node whose tensor holds node `i`'s output (itself unless it aliases);
    /// computed from the plan ([`aliases`]).
    val: Vec<usize>,
    n: usize,
    trained: bool,
    acts: Vec<Option<B::T>>,
    aux: Vec<Vec<B::T>>,
    zeros: HashMap<usize, B::T>,
    /// The seed of the dropout masks ([`crate::init::Init::drop_seed`]).
    drop_seed: u64,
}

fn numel(s: [usize; 3]) -> usize {
    s[0] * s[1] * s[2]
}
fn conv_cfg(n: usize, ishape: [usize; 3], op: &Op) -> Conv2d {
    let Op::Conv { out, k, stride, groups, dilation, pad, bias } = op else { unreachable!() };
    let [c, h, w] = ishape;
    let mut cfg = Conv2d::new(n, c, h, w, *out, k.0);
    cfg.kw = k.1;
    cfg.stride = (*stride, *stride);
    cfg.dil = (*dilation, *dilation);
    cfg.groups = *groups;
    cfg.bias = *bias;
    if pad.is_symmetric() {
        cfg.pad = (pad.top, pad.left);
    } else {
        cfg.h = h + pad.top + pad.bottom;
        cfg.w = w + pad.left + pad.right;
    }
    cfg
}

fn pool_cfg(n: usize, ishape: [usize; 3], op: &Op) -> Pool2d {
    let Op::Pool { max, k, stride, pad, count_include_pad } = op else { unreachable!() };
    let [c, h, w] = ishape;
    let sym = pad.is_symmetric();
    let kind = if *max { PoolKind::Max } else { PoolKind::Avg { count_include_pad: *count_include_pad || !sym } };
    let (h, w, p) = if sym { (h, w, (pad.top, pad.left)) } else { (h + pad.top + pad.bottom, w + pad.left + pad.right, (0, 0)) };
    Pool2d { n, c, h, w, k: *k, stride: (*stride, *stride), pad: p, kind }
}

/// Per-output-pixel factors turning a count-include-pad average into one over the pixels
/// inside the image (asymmetric padding, `count_include_pad` false).
fn avg_factors(ishape: [usize; 3], op: &Op, oh: usize, ow: usize) -> Option<Vec<f32>> {
    let Op::Pool { max, k, stride, pad, count_include_pad } = op else { return None };
    if *max || *count_include_pad || pad.is_symmetric() {
        return None;
    }
    let inside = |o: usize, k: usize, p0: usize, n: usize| {
        let s = (o * stride) as isize - p0 as isize;
        let e = (s + k as isize).min(n as isize);
        (e - s.max(0)).max(1) as f32
    };
    let mut f = Vec::with_capacity(oh * ow);
    for oy in 0..oh {
        for ox in 0..ow {
            f.push((k.0 * k.1) as f32 / (inside(oy, k.0, pad.top, ishape[1]) * inside(ox, k.1, pad.left, ishape[2])));
        }
    }
    Some(f)
}

/// Which node's tensor holds each node's output: identities and adds with one non-zero input
/// alias it; the same parameter-free op on the same value computed twice (NB201 cells apply
/// ReLU to one node once per outgoing conv edge) is computed once, and the backward sums both
/// consumers' gradients before the op's backward.
fn aliases(graph: &Graph, plan: &Plan) -> Vec<usize> {
    let mut val: Vec<usize> = (0..graph.nodes.len()).collect();
    for (i, node) in graph.nodes.iter().enumerate() {
        let nz: Vec<usize> = node.inputs.iter().copied().filter(|&j| !plan.zero[j]).collect();
        if matches!(node.op, Op::Identity | Op::Add) && nz.len() == 1 {
            val[i] = val[nz[0]];
        } else if matches!(node.op, Op::Act(_) | Op::Pool { .. }) && plan.live[i] && !plan.zero[i] {
            let ins: Vec<usize> = node.inputs.iter().map(|&j| val[j]).collect();
            let same = (0..i).find(|&k| {
                let o = &graph.nodes[k];
                val[k] == k && plan.live[k] && !plan.zero[k] && o.op == node.op && o.inputs.iter().map(|&j| val[j]).eq(ins.iter().copied())
            });
            if let Some(k) = same {
                val[i] = k;
            }
        }
    }
    val
}

impl<B: Ops> Model<B> {
    /// Validates the graph and initializes the parameters on the host with PyTorch's defaults
    /// ([`crate::init::init`]: conv/linear weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    /// BN gamma 1, beta 0, running mean 0, var 1; drawn from `rng` in node order, weight before
    /// bias), then uploads them.
    pub fn new(backend: B, graph: Graph, rng: &mut Rng) -> Result<Self, GraphError> {
        let init = crate::init::init(&graph, rng)?;
        Ok(Self::assemble(backend, graph, init.layout, &init.params, &init.stats, init.drop_seed))
    }

    /// Validates the graph and uploads the given parameters and BN statistics (the flat
    /// layouts of [`crate::init::Layout`]; panics on other lengths); dropout masks from seed 0.
    pub fn from_host(backend: B, graph: Graph, params: &[f32], stats: &[f32]) -> Result<Self, GraphError> {
        let layout = Layout::new(&graph)?;
        assert_eq!((params.len(), stats.len()), (layout.num_params(), layout.num_stats()), "flat parameter and statistics lengths");
        Ok(Self::assemble(backend, graph, layout, params, stats, 0))
    }

    fn assemble(backend: B, graph: Graph, layout: Layout, params: &[f32], stats: &[f32], drop_seed: u64) -> Self {
        let plan = graph.plan();
        let nn = graph.nodes.len();
        let mut first = vec![0; nn];
        for (k, p) in layout.slots.iter().enumerate().rev() {
            first[p.node] = k;
        }
        let tensors: Vec<B::T> = layout.slots.iter().map(|p| backend.upload(&params[p.range.clone()])).collect();
        let st = (0..nn)
            .map(|i| {
                let r = layout.node_stats(i);
                let c = r.len() / 2;
                (!r.is_empty()).then(|| (backend.upload(&stats[r.start..r.start + c]), backend.upload(&stats[r.start + c..r.end])))
            })
            .collect();
        let val = aliases(&graph, &plan);
        let np = tensors.len();
        Model {
            backend,
            graph,
            plan,
            layout,
            params: tensors,
            grads: (0..np).map(|_| None).collect(),
            state1: (0..np).map(|_| None).collect(),
            state2: (0..np).map(|_| None).collect(),
            step: 0,
            first,
            stats: st,
            val,
            n: 0,
            trained: false,
            acts: (0..nn).map(|_| None).collect(),
            aux: (0..nn).map(|_| Vec::new()).collect(),
            zeros: HashMap::new(),
            drop_seed,
        }
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }
    /// Which nodes are zero and which are computed (edit with [`Model::set_live`]).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }
    /// Where each parameter tensor and statistic lies in the flat host vectors.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    /// Every parameter tensor (node, name, flat range), in slot order.
    pub fn param_info(&self) -> &[ParamInfo] {
        &self.layout.slots
    }
    pub fn num_params(&self) -> usize {
        self.layout.num_params()
    }
    pub fn classes(&self) -> usize {
        self.graph.classes()
    }
    /// The flat parameter range of node `i` (contiguous; empty for ops without parameters).
    pub fn node_params(&self, i: usize) -> Range<usize> {
        self.layout.node_params(i)
    }
    /// The flat running-statistics range of node `i` (BN: mean then var).
    pub fn node_stats(&self, i: usize) -> Range<usize> {
        self.layout.node_stats(i)
    }

    /// Makes node `i` and everything it reads (zero nodes excepted) live, so a forward computes
    /// it although the output may not depend on it (NSE computes a second configuration beside
    /// the one forwarded); the aliasing table is recomputed for the new plan.
    pub fn set_live(&mut self, i: usize) {
        let mut stack = vec![i];
        while let Some(j) = stack.pop() {
            if self.plan.live[j] || self.plan.zero[j] {
                continue;
            }
            self.plan.live[j] = true;
            stack.extend(self.graph.nodes[j].inputs.iter().copied());
        }
        self.val = aliases(&self.graph, &self.plan);
    }

    /// The output of node `i` from the last forward (`[n, c, h, w]`); None for a zero or dead
    /// node, or before a forward.
    pub fn output_of(&self, i: usize) -> Option<&B::T> {
        if !self.plan.live[i] || self.plan.zero[i] {
            return None;
        }
        self.acts[self.val[i]].as_ref()
    }

    /// All parameters, flat, in slot order ([`Model::layout`]).
    pub fn params_host(&self) -> Vec<f32> {
        self.params.iter().flat_map(|t| self.backend.download(t)).collect()
    }
    /// Gradients of the last backward, flat (zeros where the output does not depend on them).
    pub fn grads_host(&self) -> Vec<f32> {
        self.grads.iter().zip(&self.layout.slots).flat_map(|(g, s)| g.as_ref().map_or_else(|| vec![0.0; s.range.len()], |t| self.backend.download(t))).collect()
    }
    /// BN running statistics, flat (per BN node: mean then var).
    pub fn stats_host(&self) -> Vec<f32> {
        self.stats.iter().flatten().flat_map(|(m, v)| [self.backend.download(m), self.backend.download(v)].concat()).collect()
    }
    /// Replaces the BN running statistics from a flat host vector (the layout of
    /// [`Model::stats_host`]: per BN node, mean then variance).
    pub fn set_stats(&mut self, flat: &[f32]) {
        assert_eq!(flat.len(), self.layout.num_stats());
        let mut off = 0;
        for s in self.stats.iter_mut().flatten() {
            let c = self.backend.len(&s.0);
            s.0 = self.backend.upload(&flat[off..off + c]);
            s.1 = self.backend.upload(&flat[off + c..off + 2 * c]);
            off += 2 * c;
        }
    }

    /// Replaces every parameter from a flat host vector (slot order).
    pub fn set_params(&mut self, flat: &[f32]) {
        assert_eq!(flat.len(), self.num_params());
        for (t, s) in self.params.iter_mut().zip(&self.layout.slots) {
            *t = self.backend.upload(&flat[s.range.clone()]);
        }
    }

    fn zero_of(&mut self, len: usize) {
        if !self.zeros.contains_key(&len) {
            let z = self.backend.zeros(len);
            self.zeros.insert(len, z);
        }
    }

    /// Host round trip for asymmetric padding.
    fn pad_host(&self, n: usize, ishape: [usize; 3], pad: crate::graph::Pad4, fill: f32, x: &B::T) -> B::T {
        let [c, h, w] = ishape;
        let xh = self.backend.download(x);
        let mut y = vec![0.0; n * c * (h + pad.top + pad.bottom) * (w + pad.left + pad.right)];
        pad_forward(n, c, h, w, pad, fill, &xh, &mut y);
        self.backend.upload(&y)
    }
    fn crop_host(&self, n: usize, ishape: [usize; 3], pad: crate::graph::Pad4, dy: &B::T) -> B::T {
        let [c, h, w] = ishape;
        let dyh = self.backend.download(dy);
        let mut dx = vec![0.0; n * c * h * w];
        pad_backward(n, c, h, w, pad, &dyh, &mut dx);
        self.backend.upload(&dx)
    }
    fn mul_planes(&self, t: &B::T, f: &[f32]) -> B::T {
        let mut h = self.backend.download(t);
        for p in h.chunks_mut(f.len()) {
            p.iter_mut().zip(f).for_each(|(v, s)| *v *= s);
        }
        self.backend.upload(&h)
    }

    /// Runs the network on `x: [n, c, h, w]` (host) and returns the logits `[n, classes]` on the
    /// device. Training mode uses batch statistics, updates the running averages, and keeps
    /// what the backward pass needs.
    pub fn forward(&mut self, x: &[f32], n: usize, train: bool) -> B::T {
        let xt = self.backend.upload(x);
        self.forward_t(xt, n, train)
    }

    /// [`Model::forward`] from a tensor already on the device.
    pub fn forward_t(&mut self, x: B::T, n: usize, train: bool) -> B::T {
        assert!(n > 0);
        assert_eq!(self.backend.len(&x), n * numel(self.graph.input_shape()), "input size");
        self.n = n;
        self.trained = train;
        for a in self.acts.iter_mut() {
            if let Some(t) = a.take() {
                self.backend.recycle(t);
            }
        }
        let nn = self.graph.nodes.len();
        for i in 0..nn {
            if !self.plan.live[i] {
                continue;
            }
            for k in 0..self.graph.nodes[i].inputs.len() {
                let j = self.graph.nodes[i].inputs[k];
                if self.plan.zero[j] {
                    self.zero_of(n * numel(self.graph.nodes[j].shape));
                }
            }
        }
        let mut x = Some(x);
        for i in 0..nn {
            if !self.plan.live[i] || self.val[i] != i {
                continue;
            }
            let y = self.forward_node(i, &mut x, train);
            self.acts[i] = Some(y);
        }
        let out = self.graph.output;
        if self.plan.zero[out] {
            self.backend.zeros(n * self.graph.classes())
        } else {
            self.backend.identity(self.acts[self.val[out]].as_ref().unwrap())
        }
    }

    fn input(&self, i: usize, k: usize) -> &B::T {
        let j = self.graph.nodes[i].inputs[k];
        if self.plan.zero[j] {
            &self.zeros[&(self.n * numel(self.graph.nodes[j].shape))]
        } else {
            self.acts[self.val[j]].as_ref().expect("input computed")
        }
    }

    fn forward_node(&mut self, i: usize, x: &mut Option<B::T>, train: bool) -> B::T {
        let n = self.n;
        let node = self.graph.nodes[i].clone();
        let b = &self.backend;
        let ishape = node.inputs.first().map(|&j| self.graph.nodes[j].shape).unwrap_or([0; 3]);
        let [c, h, w] = ishape;
        let p0 = self.first[i];
        match &node.op {
            Op::Input => x.take().expect("one input node"),
            op @ Op::Conv { pad, bias, .. } => {
                let cfg = conv_cfg(n, ishape, op);
                let bias_t = bias.then(|| &self.params[p0 + 1]);
                if pad.is_symmetric() {
                    b.conv2d_forward(&cfg, self.input(i, 0), &self.params[p0], bias_t)
                } else {
                    let xp = self.pad_host(n, ishape, *pad, 0.0, self.input(i, 0));
                    let y = b.conv2d_forward(&cfg, &xp, &self.params[p0], bias_t);
                    self.aux[i] = vec![xp];
                    y
                }
            }
            Op::Bn => {
                let bn = BatchNorm::new(n, c, h * w);
                let (gamma, beta) = (&self.params[p0], &self.params[p0 + 1]);
                if train {
                    let mut st = self.stats[i].take().unwrap();
                    let (y, m, s) = b.batchnorm_train_forward(&bn, self.input(i, 0), gamma, beta, &mut st.0, &mut st.1);
                    self.stats[i] = Some(st);
                    self.aux[i] = vec![m, s];
                    y
                } else {
                    let st = self.stats[i].as_ref().unwrap();
                    b.batchnorm_eval_forward(&bn, self.input(i, 0), gamma, beta, &st.0, &st.1)
                }
            }
            Op::Act(a) => b.act_forward(*a, self.input(i, 0)),
            op @ Op::Pool { max, pad, .. } => {
                let cfg = pool_cfg(n, ishape, op);
                if pad.is_symmetric() {
                    b.pool2d_forward(&cfg, self.input(i, 0))
                } else {
                    let xp = self.pad_host(n, ishape, *pad, if *max { f32::NEG_INFINITY } else { 0.0 }, self.input(i, 0));
                    let mut y = b.pool2d_forward(&cfg, &xp);
                    if let Some(f) = avg_factors(ishape, op, cfg.out_h(), cfg.out_w()) {
                        y = self.mul_planes(&y, &f);
                    }
                    self.aux[i] = vec![xp];
                    y
                }
            }
            Op::Gap => b.global_avg_forward(n, c, h * w, self.input(i, 0)),
            Op::Linear { out, bias } => {
                let l = Linear { n, inp: c * h * w, out: *out, bias: *bias };
                b.linear_forward(&l, self.input(i, 0), &self.params[p0], bias.then(|| &self.params[p0 + 1]))
            }
            Op::Mul => {
                let (xi, si, cm, hw) = mul_layout(ishape, self.graph.nodes[node.inputs[1]].shape);
                b.channel_mul_forward(n, cm, hw, self.input(i, xi), self.input(i, si))
            }
            Op::Dropout { p } => {
                if train {
                    let len = n * numel(node.shape);
                    let mask = b.upload(&dropout_mask(*p, self.drop_seed, self.step as u64, i, len));
                    let y = b.channel_mul_forward(n, len / n, 1, self.input(i, 0), &mask);
                    self.aux[i] = vec![mask];
                    y
                } else {
                    b.identity(self.input(i, 0))
                }
            }
            Op::Se { mid, act, gate } => {
                let p = &self.params[p0..p0 + 4];
                let xin = self.input(i, 0);
                let s1 = b.global_avg_forward(n, c, h * w, xin);
                let z = b.linear_forward(&Linear { n, inp: c, out: *mid, bias: true }, &s1, &p[0], Some(&p[1]));
                let r = b.act_forward(*act, &z);
                let u = b.linear_forward(&Linear { n, inp: *mid, out: c, bias: true }, &r, &p[2], Some(&p[3]));
                let s = b.act_forward(*gate, &u);
                let y = b.channel_mul_forward(n, c, h * w, xin, &s);
                self.aux[i] = vec![s1, z, r, u, s];
                y
            }
            Op::Identity => b.identity(self.input(i, 0)),
            Op::Add | Op::Mean => {
                let nz: Vec<usize> = (0..node.inputs.len()).filter(|&k| !self.plan.zero[node.inputs[k]]).collect();
                let mut y = if nz.len() >= 2 { b.add(self.input(i, nz[0]), self.input(i, nz[1])) } else { b.identity(self.input(i, nz[0])) };
                for &k in nz.iter().skip(2) {
                    b.axpy(1.0, self.input(i, k), &mut y);
                }
                if node.op == Op::Mean && node.inputs.len() > 1 {
                    y = b.scale(1.0 / node.inputs.len() as f32, &y);
                }
                y
            }
            Op::Concat => {
                let chans: Vec<usize> = node.inputs.iter().map(|&j| self.graph.nodes[j].shape[0]).collect();
                let xs: Vec<&B::T> = (0..node.inputs.len()).map(|k| self.input(i, k)).collect();
                b.concat_forward(n, h * w, &chans, &xs)
            }
            Op::Zero => unreachable!("zero nodes are not live"),
        }
    }

    /// Softmax cross-entropy of the logits of the last forward: `(loss, dlogits)`.
    pub fn loss(&self, logits: &B::T, labels: &[u32]) -> (f32, B::T) {
        let (l, d) = self.backend.softmax_xent(labels.len(), self.classes(), logits, labels);
        (self.backend.download(&l)[0], d)
    }

    /// One optimizer step with learning rate `lr` over every parameter (a parameter the output
    /// does not depend on has a zero gradient: weight decay and momentum still apply, as in
    /// PyTorch).
    pub fn step(&mut self, opt: &Optim, lr: f32) {
        self.step += 1;
        let b = &self.backend;
        for k in 0..self.params.len() {
            let len = self.layout.slots[k].range.len();
            let zero;
            let g = match &self.grads[k] {
                Some(g) => g,
                None => {
                    zero = b.zeros(len);
                    &zero
                }
            };
            let s1 = self.state1[k].get_or_insert_with(|| b.zeros(len));
            match opt {
                Optim::Sgd(o) => b.sgd_step(o, lr, &mut self.params[k], g, s1),
                Optim::AdamW(o) => {
                    let s2 = self.state2[k].get_or_insert_with(|| b.zeros(len));
                    b.adamw_step(o, lr, self.step, &mut self.params[k], g, s1, s2)
                }
            }
        }
    }

    /// Drops the activations kept for backward (frees memory between epochs).
    pub fn release(&mut self) {
        for a in self.acts.iter_mut() {
            *a = None;
        }
        for a in self.aux.iter_mut() {
            a.clear();
        }
    }
}

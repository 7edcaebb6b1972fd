//! A network on the CPU backend: parameters (PyTorch default init from an explicit seeded RNG),
//! training/eval forward, backward through the graph with gradient accumulation where a tensor
//! feeds several ops, and the flat parameter/gradient vectors the optimizer updates.
//!
//! Tensors are NCHW `f32`. Every live node owns an activation buffer except identities and
//! single-input adds, which alias their input. Zero nodes (see [`Graph::plan`]) are neither
//! computed nor stored; an op that does not keep zero reads a shared zero buffer instead.

use crate::cpu;
use crate::graph::{Graph, Op, Plan};
use crate::net_ops::{dropout_mask, mul_layout, pad_backward, pad_forward, se_backward, se_forward, PoolSpec};
use crate::rng::Rng;
use crate::shape::{BatchNorm, Conv2d, Linear};
use std::collections::HashMap;
use std::ops::Range;

/// One parameter tensor of the flat parameter vector.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    pub node: usize,
    /// "weight", "bias", "gamma", "beta", or "fc1.weight"... for squeeze-excite.
    pub name: &'static str,
    pub range: Range<usize>,
}

/// Offsets of a node's parameters: `p` its parameters (contiguous), `s` its running statistics.
#[derive(Clone, Debug, Default)]
struct Slots {
    p: Range<usize>,
    s: Range<usize>,
}

/// Recycled scratch buffers, keyed by length (gradients live only during the backward pass).
#[derive(Default)]
struct Pool(HashMap<usize, Vec<Vec<f32>>>);

impl Pool {
    fn get(&mut self, len: usize) -> Vec<f32> {
        self.0.get_mut(&len).and_then(Vec::pop).unwrap_or_else(|| vec![0.0; len])
    }
    fn put(&mut self, v: Vec<f32>) {
        self.0.entry(v.len()).or_default().push(v);
    }
}

/// Adds a gradient contribution to value `v`: `f` overwrites the slice it is given; the first
/// contribution lands in place, later ones through a scratch buffer and `axpy`.
fn contribute(g: &mut [Option<Vec<f32>>], pool: &mut Pool, v: usize, len: usize, f: impl FnOnce(&mut [f32])) {
    match &mut g[v] {
        Some(acc) => {
            let mut t = pool.get(len);
            f(&mut t);
            cpu::axpy(1.0, &t, acc);
            pool.put(t);
        }
        slot @ None => {
            let mut t = pool.get(len);
            f(&mut t);
            *slot = Some(t);
        }
    }
}

/// A network with its parameters, ready to run on the CPU backend.
pub struct Net {
    pub graph: Graph,
    pub plan: Plan,
    /// All learnable parameters, flat, in node order (weight before bias, gamma before beta).
    pub params: Vec<f32>,
    /// Gradients of the last [`Net::backward`], same layout as `params`.
    pub grads: Vec<f32>,
    /// BN running means and variances (not learnable).
    pub stats: Vec<f32>,
    pub param_info: Vec<ParamInfo>,
    slots: Vec<Slots>,
    /// `val[i]`: the node whose buffer holds node `i`'s output (itself unless it aliases).
    val: Vec<usize>,
    /// Batch size the buffers are sized for.
    n: usize,
    acts: Vec<Vec<f32>>,
    /// Per node data saved for the backward pass (BN batch statistics, SE intermediates,
    /// padded inputs).
    aux: Vec<Vec<f32>>,
    zeros: Vec<f32>,
    logits: Vec<f32>,
    trained: bool,
    pool: Pool,
    /// The seed of the dropout masks (drawn after the parameters, only when the graph has a
    /// dropout node, so other networks' initialization is unchanged).
    pub(crate) drop_seed: u64,
    /// Which dropout masks a training forward draws (with the seed and the node): forwards at
    /// one value draw the same masks. [`crate::model::Model`] uses its optimizer step count.
    pub dropout_step: u64,
}

fn numel(s: [usize; 3]) -> usize {
    s[0] * s[1] * s[2]
}

impl Net {
    /// Validates the graph, lays out and initializes the parameters as PyTorch does by default:
    /// conv/linear weights Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    /// biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), BN gamma 1 and beta 0, running mean 0, var 1.
    /// Parameters are drawn in node order, weight before bias.
    pub fn new(graph: Graph, rng: &mut Rng) -> Result<Net, crate::error::GraphError> {
        graph.validate()?;
        let plan = graph.plan();
        let nn = graph.nodes.len();
        let mut params = Vec::new();
        let mut stats = Vec::new();
        let mut info = Vec::new();
        let mut slots = vec![Slots::default(); nn];
        let mut push = |params: &mut Vec<f32>, node: usize, name: &'static str, len: usize, init: &mut dyn FnMut() -> f32| {
            let start = params.len();
            params.extend((0..len).map(|_| init()));
            info.push(ParamInfo { node, name, range: start..params.len() });
        };
        for (i, node) in graph.nodes.iter().enumerate() {
            let start = params.len();
            let sstart = stats.len();
            let cin = node.inputs.first().map(|&j| graph.nodes[j].shape);
            match &node.op {
                Op::Conv { out, k, groups, bias, .. } => {
                    let fan_in = cin.unwrap()[0] / groups * k.0 * k.1;
                    let bound = 1.0 / (fan_in as f32).sqrt();
                    push(&mut params, i, "weight", out * fan_in, &mut || rng.uniform(-bound, bound));
                    if *bias {
                        push(&mut params, i, "bias", *out, &mut || rng.uniform(-bound, bound));
                    }
                }
                Op::Linear { out, bias } => {
                    let fan_in = numel(cin.unwrap());
                    let bound = 1.0 / (fan_in as f32).sqrt();
                    push(&mut params, i, "weight", out * fan_in, &mut || rng.uniform(-bound, bound));
                    if *bias {
                        push(&mut params, i, "bias", *out, &mut || rng.uniform(-bound, bound));
                    }
                }
                Op::Se { mid, .. } => {
                    let c = cin.unwrap()[0];
                    let (b1, b2) = (1.0 / (c as f32).sqrt(), 1.0 / (*mid as f32).sqrt());
                    push(&mut params, i, "fc1.weight", mid * c, &mut || rng.uniform(-b1, b1));
                    push(&mut params, i, "fc1.bias", *mid, &mut || rng.uniform(-b1, b1));
                    push(&mut params, i, "fc2.weight", c * mid, &mut || rng.uniform(-b2, b2));
                    push(&mut params, i, "fc2.bias", c, &mut || rng.uniform(-b2, b2));
                }
                Op::Bn => {
                    let c = node.shape[0];
                    push(&mut params, i, "gamma", c, &mut || 1.0);
                    push(&mut params, i, "beta", c, &mut || 0.0);
                    stats.extend(std::iter::repeat_n(0.0, c));
                    stats.extend(std::iter::repeat_n(1.0, c));
                }
                _ => {}
            }
            slots[i] = Slots { p: start..params.len(), s: sstart..stats.len() };
        }
        let mut val: Vec<usize> = (0..nn).collect();
        for (i, node) in graph.nodes.iter().enumerate() {
            let nz: Vec<usize> = node.inputs.iter().copied().filter(|&j| !plan.zero[j]).collect();
            match node.op {
                Op::Identity if nz.len() == 1 => val[i] = val[nz[0]],
                Op::Add if nz.len() == 1 => val[i] = val[nz[0]],
                _ => {}
            }
        }
        let grads = vec![0.0; params.len()];
        let drop_seed = if graph.nodes.iter().any(|n| matches!(n.op, Op::Dropout { .. })) { rng.next_u64() } else { 0 };
        Ok(Net {
            graph,
            plan,
            grads,
            params,
            stats,
            param_info: info,
            slots,
            val,
            n: 0,
            acts: vec![Vec::new(); nn],
            aux: vec![Vec::new(); nn],
            zeros: Vec::new(),
            logits: Vec::new(),
            trained: false,
            pool: Pool::default(),
            drop_seed,
            dropout_step: 0,
        })
    }

    pub fn num_params(&self) -> usize {
        self.params.len()
    }
    pub fn classes(&self) -> usize {
        self.graph.classes()
    }
    /// The parameter ranges of node `i` (contiguous; empty for ops without parameters).
    pub fn node_params(&self, i: usize) -> Range<usize> {
        self.slots[i].p.clone()
    }
    /// The running-statistics range of node `i` (BN: mean then var).
    pub fn node_stats(&self, i: usize) -> Range<usize> {
        self.slots[i].s.clone()
    }

    fn resize(&mut self, n: usize) {
        if n == self.n {
            return;
        }
        self.n = n;
        let mut maxlen = 0;
        for (i, node) in self.graph.nodes.iter().enumerate() {
            let len = n * numel(node.shape);
            maxlen = maxlen.max(len);
            let owns = self.plan.live[i] && self.val[i] == i;
            self.acts[i] = if owns { vec![0.0; len] } else { Vec::new() };
        }
        self.zeros = vec![0.0; maxlen];
    }

    /// Runs the network on `x: [n, c, h, w]` and returns the logits `[n, classes]`. In training
    /// mode BN uses batch statistics (and updates its running averages) and the activations
    /// are kept for [`Net::backward`].
    pub fn forward(&mut self, x: &[f32], n: usize, train: bool) -> &[f32] {
        assert!(n > 0);
        assert_eq!(x.len(), n * numel(self.graph.input_shape()), "input size");
        self.resize(n);
        self.trained = train;
        let (drop_seed, drop_call) = (self.drop_seed, self.dropout_step);
        let Net { graph, plan, params, stats, slots, val, acts, aux, zeros, .. } = self;
        for i in 0..graph.nodes.len() {
            if !plan.live[i] || val[i] != i {
                continue;
            }
            let node = &graph.nodes[i];
            let (before, after) = acts.split_at_mut(i);
            let y = &mut after[0][..];
            // the input tensors (zeros for zero nodes)
            let inp = |k: usize| -> &[f32] {
                let j = node.inputs[k];
                let len = n * numel(graph.nodes[j].shape);
                if plan.zero[j] {
                    &zeros[..len]
                } else {
                    &before[val[j]][..len]
                }
            };
            let ishape = node.inputs.first().map(|&j| graph.nodes[j].shape).unwrap_or([0; 3]);
            let [c, h, w] = ishape;
            let p = &params[slots[i].p.clone()];
            match &node.op {
                Op::Input => y.copy_from_slice(x),
                Op::Conv { out, k, stride, groups, dilation, pad, bias } => {
                    let mut cfg = Conv2d::new(n, c, h, w, *out, k.0);
                    cfg.kw = k.1;
                    cfg.stride = (*stride, *stride);
                    cfg.dil = (*dilation, *dilation);
                    cfg.groups = *groups;
                    cfg.bias = *bias;
                    let (wt, b) = p.split_at(cfg.w_len());
                    let b = bias.then_some(b);
                    if pad.is_symmetric() {
                        cfg.pad = (pad.top, pad.left);
                        cpu::conv2d_forward(&cfg, inp(0), wt, b, y);
                    } else {
                        let (hp, wp) = (h + pad.top + pad.bottom, w + pad.left + pad.right);
                        aux[i].resize(n * c * hp * wp, 0.0);
                        pad_forward(n, c, h, w, *pad, 0.0, inp(0), &mut aux[i]);
                        cfg.h = hp;
                        cfg.w = wp;
                        cpu::conv2d_forward(&cfg, &aux[i], wt, b, y);
                    }
                }
                Op::Bn => {
                    let bn = BatchNorm::new(n, c, h * w);
                    let (gamma, beta) = p.split_at(c);
                    let (rm, rv) = stats[slots[i].s.clone()].split_at_mut(c);
                    if train {
                        aux[i].resize(2 * c, 0.0);
                        let (sm, si) = aux[i].split_at_mut(c);
                        cpu::batchnorm_train_forward(&bn, inp(0), gamma, beta, rm, rv, y, sm, si);
                    } else {
                        cpu::batchnorm_eval_forward(&bn, inp(0), gamma, beta, rm, rv, y);
                    }
                }
                Op::Act(a) => cpu::act_forward(*a, inp(0), y),
                Op::Pool { max, k, stride, pad, count_include_pad } => {
                    let ps = PoolSpec { n, shape: ishape, max: *max, k: *k, stride: *stride, pad: *pad, count_include_pad: *count_include_pad };
                    ps.forward(inp(0), &mut aux[i], y);
                }
                Op::Gap => cpu::global_avg_forward(n, c, h * w, inp(0), y),
                Op::Linear { out, bias } => {
                    let l = Linear { n, inp: c * h * w, out: *out, bias: *bias };
                    let (wt, b) = p.split_at(l.out * l.inp);
                    cpu::linear_forward(&l, inp(0), wt, bias.then_some(b), y);
                }
                Op::Se { mid, act, gate } => se_forward(n, ishape, *mid, (*act, *gate), p, inp(0), &mut aux[i], y),
                Op::Mul => {
                    let (xi, si, cm, hw) = mul_layout(ishape, graph.nodes[node.inputs[1]].shape);
                    cpu::channel_mul_forward(n, cm, hw, inp(xi), inp(si), y);
                }
                Op::Dropout { p } => {
                    if train {
                        aux[i] = dropout_mask(*p, drop_seed, drop_call, i, y.len());
                        cpu::channel_mul_forward(n, y.len() / n, 1, inp(0), &aux[i], y);
                    } else {
                        y.copy_from_slice(inp(0));
                    }
                }
                Op::Identity => y.copy_from_slice(inp(0)),
                Op::Add | Op::Mean => {
                    let mut first = true;
                    for (k, &j) in node.inputs.iter().enumerate() {
                        if plan.zero[j] {
                            continue;
                        }
                        if first {
                            y.copy_from_slice(inp(k));
                            first = false;
                        } else {
                            cpu::axpy(1.0, inp(k), y);
                        }
                    }
                    if node.op == Op::Mean && node.inputs.len() > 1 {
                        let s = 1.0 / node.inputs.len() as f32;
                        y.iter_mut().for_each(|v| *v *= s);
                    }
                }
                Op::Concat => {
                    let chans: Vec<usize> = node.inputs.iter().map(|&j| graph.nodes[j].shape[0]).collect();
                    let xs: Vec<&[f32]> = (0..node.inputs.len()).map(inp).collect();
                    cpu::concat_forward(n, h * w, &chans, &xs, y);
                }
                Op::Zero => unreachable!("zero nodes are not live"),
            }
        }
        let out = self.graph.output;
        let len = n * self.graph.classes();
        self.logits.resize(len, 0.0);
        if self.plan.zero[out] {
            self.logits.fill(0.0);
        } else {
            self.logits.copy_from_slice(&self.acts[self.val[out]][..len]);
        }
        &self.logits
    }

    /// The output of live node `i` from the last forward (`[n, c, h, w]`), `None` for a zero
    /// or dead node.
    pub fn output_of(&self, i: usize) -> Option<&[f32]> {
        let len = self.n * numel(self.graph.nodes[i].shape);
        let v = self.val[i];
        (self.plan.live[i] && !self.plan.zero[i] && self.acts[v].len() >= len).then(|| &self.acts[v][..len])
    }

    /// Backward pass of the last training-mode forward from `dlogits: [n, classes]`; overwrites
    /// `self.grads` (parameters the output does not depend on get zero gradients).
    pub fn backward(&mut self, dlogits: &[f32]) {
        self.backward_tapped(dlogits, &[]);
    }

    /// [`Net::backward`] that also returns the gradient of the loss with respect to the output
    /// of each node of `taps` (nodes that own their buffer; an empty vector where no gradient
    /// reached the node). NSE's fitness indicators read the gradient at each layer's output.
    pub fn backward_tapped(&mut self, dlogits: &[f32], taps: &[usize]) -> Vec<Vec<f32>> {
        let mut tapped = vec![Vec::new(); taps.len()];
        assert!(self.trained, "backward needs a training-mode forward");
        let n = self.n;
        assert_eq!(dlogits.len(), n * self.graph.classes());
        self.grads.fill(0.0);
        let Net { graph, plan, params, grads, stats, slots, val, acts, aux, zeros, pool, .. } = self;
        let nn = graph.nodes.len();
        let mut g: Vec<Option<Vec<f32>>> = vec![None; nn];
        let out = graph.output;
        if plan.zero[out] {
            return tapped;
        }
        contribute(&mut g, pool, val[out], dlogits.len(), |d| d.copy_from_slice(dlogits));
        for i in (1..nn).rev() {
            if !plan.live[i] || val[i] != i {
                continue;
            }
            let Some(dy) = g[i].take() else { continue };
            for (k, _) in taps.iter().enumerate().filter(|(_, &t)| t == i) {
                tapped[k] = dy.clone();
            }
            let node = &graph.nodes[i];
            let ishape = graph.nodes[node.inputs[0]].shape;
            let [c, h, w] = ishape;
            let xlen = n * numel(ishape);
            let inp = |k: usize| -> &[f32] {
                let j = node.inputs[k];
                let len = n * numel(graph.nodes[j].shape);
                if plan.zero[j] {
                    &zeros[..len]
                } else {
                    &acts[val[j]][..len]
                }
            };
            // whether input k needs a gradient (not zero, not the network input)
            let needs = |k: usize| -> Option<usize> {
                let j = node.inputs[k];
                (!plan.zero[j] && val[j] != 0).then_some(val[j])
            };
            let p = &params[slots[i].p.clone()];
            let gp = &mut grads[slots[i].p.clone()];
            match &node.op {
                Op::Input | Op::Zero | Op::Identity => unreachable!(),
                Op::Conv { out, k, stride, groups, dilation, pad, bias } => {
                    let mut cfg = Conv2d::new(n, c, h, w, *out, k.0);
                    cfg.kw = k.1;
                    cfg.stride = (*stride, *stride);
                    cfg.dil = (*dilation, *dilation);
                    cfg.groups = *groups;
                    cfg.bias = *bias;
                    let wl = cfg.w_len();
                    let (dw, db) = gp.split_at_mut(wl);
                    let db = bias.then_some(db);
                    let wt = &p[..wl];
                    if pad.is_symmetric() {
                        cfg.pad = (pad.top, pad.left);
                        match needs(0) {
                            Some(v) => {
                                let mut dwb = Some((dw, db));
                                contribute(&mut g, pool, v, xlen, |dx| {
                                    let (dw, db) = dwb.take().unwrap();
                                    cpu::conv2d_backward(&cfg, inp(0), wt, &dy, Some(dx), dw, db)
                                });
                            }
                            None => cpu::conv2d_backward(&cfg, inp(0), wt, &dy, None, dw, db),
                        }
                    } else {
                        cfg.h = h + pad.top + pad.bottom;
                        cfg.w = w + pad.left + pad.right;
                        let xp = &aux[i];
                        match needs(0) {
                            Some(v) => {
                                let mut dxp = pool.get(cfg.x_len());
                                cpu::conv2d_backward(&cfg, xp, wt, &dy, Some(&mut dxp), dw, db);
                                contribute(&mut g, pool, v, xlen, |dx| pad_backward(n, c, h, w, *pad, &dxp, dx));
                                pool.put(dxp);
                            }
                            None => cpu::conv2d_backward(&cfg, xp, wt, &dy, None, dw, db),
                        }
                    }
                }
                Op::Bn => {
                    let bn = BatchNorm::new(n, c, h * w);
                    let (dgamma, dbeta) = gp.split_at_mut(c);
                    let (sm, si) = aux[i].split_at(c);
                    let gamma = &p[..c];
                    let mut run = |dx: &mut [f32]| cpu::batchnorm_train_backward(&bn, inp(0), &dy, gamma, sm, si, dx, dgamma, dbeta);
                    match needs(0) {
                        Some(v) => contribute(&mut g, pool, v, xlen, run),
                        None => {
                            let mut t = pool.get(xlen);
                            run(&mut t);
                            pool.put(t);
                        }
                    }
                }
                Op::Act(a) => {
                    if let Some(v) = needs(0) {
                        contribute(&mut g, pool, v, xlen, |dx| cpu::act_backward(*a, inp(0), &dy, dx));
                    }
                }
                Op::Pool { max, k, stride, pad, count_include_pad } => {
                    if let Some(v) = needs(0) {
                        let ps = PoolSpec { n, shape: ishape, max: *max, k: *k, stride: *stride, pad: *pad, count_include_pad: *count_include_pad };
                        contribute(&mut g, pool, v, xlen, |dx| ps.backward(inp(0), &aux[i], &dy, dx));
                    }
                }
                Op::Gap => {
                    if let Some(v) = needs(0) {
                        contribute(&mut g, pool, v, xlen, |dx| cpu::global_avg_backward(n, c, h * w, &dy, dx));
                    }
                }
                Op::Linear { out, bias } => {
                    let l = Linear { n, inp: c * h * w, out: *out, bias: *bias };
                    let wl = l.out * l.inp;
                    let (dw, db) = gp.split_at_mut(wl);
                    let db = bias.then_some(db);
                    let wt = &p[..wl];
                    match needs(0) {
                        Some(v) => {
                            let mut dwb = Some((dw, db));
                            contribute(&mut g, pool, v, xlen, |dx| {
                                let (dw, db) = dwb.take().unwrap();
                                cpu::linear_backward(&l, inp(0), wt, &dy, Some(dx), dw, db)
                            });
                        }
                        None => cpu::linear_backward(&l, inp(0), wt, &dy, None, dw, db),
                    }
                }
                Op::Mul => {
                    let (xi, si, cm, hw) = mul_layout(ishape, graph.nodes[node.inputs[1]].shape);
                    let (mut dx, mut ds) = (pool.get(n * cm * hw), pool.get(n * cm));
                    cpu::channel_mul_backward(n, cm, hw, inp(xi), inp(si), &dy, &mut dx, &mut ds);
                    for (k, d) in [(xi, &dx), (si, &ds)] {
                        if let Some(v) = needs(k) {
                            contribute(&mut g, pool, v, d.len(), |t| t.copy_from_slice(d));
                        }
                    }
                    pool.put(dx);
                    pool.put(ds);
                }
                Op::Dropout { .. } => {
                    if let Some(v) = needs(0) {
                        let len = dy.len();
                        contribute(&mut g, pool, v, len, |dx| cpu::channel_mul_forward(n, len / n, 1, &dy, &aux[i], dx));
                    }
                }
                Op::Se { mid, act, gate } => {
                    let mut dx = pool.get(xlen);
                    se_backward(n, ishape, *mid, (*act, *gate), p, inp(0), &aux[i], &dy, &mut dx, gp);
                    if let Some(v) = needs(0) {
                        contribute(&mut g, pool, v, xlen, |d| d.copy_from_slice(&dx));
                    }
                    pool.put(dx);
                }
                Op::Add | Op::Mean => {
                    let s = if node.op == Op::Mean { 1.0 / node.inputs.len() as f32 } else { 1.0 };
                    for k in 0..node.inputs.len() {
                        if let Some(v) = needs(k) {
                            contribute(&mut g, pool, v, dy.len(), |dx| cpu::scale(s, &dy, dx));
                        }
                    }
                }
                Op::Concat => {
                    let ct = node.shape[0];
                    let hw = h * w;
                    let mut off = 0;
                    for k in 0..node.inputs.len() {
                        let ck = graph.nodes[node.inputs[k]].shape[0];
                        if let Some(v) = needs(k) {
                            contribute(&mut g, pool, v, n * ck * hw, |dx| {
                                for ni in 0..n {
                                    dx[ni * ck * hw..][..ck * hw].copy_from_slice(&dy[ni * ct * hw + off..][..ck * hw]);
                                }
                            });
                        }
                        off += ck * hw;
                    }
                }
            }
            pool.put(dy);
        }
        let _ = stats;
        for b in g.into_iter().flatten() {
            pool.put(b);
        }
        tapped
    }
}

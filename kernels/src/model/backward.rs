//! The backward pass of [`Model`]: gradients through the graph, accumulated where a value
//! feeds several ops, and the gradients at tapped nodes.

use super::{avg_factors, conv_cfg, pool_cfg, Model};
use crate::backend::Ops;
use crate::graph::Op;
use crate::net_ops::mul_layout;
use crate::shape::{BatchNorm, Linear};
use std::rc::Rc;

impl<B: Ops> Model<B> {
    /// Backward pass of the last training-mode forward; sets the parameter gradients
    /// (parameters the output does not depend on get none: zeros in [`Model::grads_host`]).
    pub fn backward(&mut self, dlogits: B::T) {
        self.backward_tapped(dlogits, &[]);
    }

    /// [`Model::backward`] that also returns the gradient of the loss with respect to the
    /// output of each node of `taps`: None where no gradient reached the node, and for a node
    /// that does not own its value (one that aliases its input, or a repeated parameter-free
    /// op computed once: its value's gradient would include other consumers'). NSE's fitness
    /// indicators read the gradient at each layer's output (`Supernet::gates`).
    pub fn backward_tapped(&mut self, dlogits: B::T, taps: &[usize]) -> Vec<Option<B::T>> {
        assert!(self.trained, "backward needs a training-mode forward");
        let mut tapped: Vec<Option<B::T>> = taps.iter().map(|_| None).collect();
        for g in self.grads.iter_mut() {
            *g = None;
        }
        let nn = self.graph.nodes.len();
        // gradients are shared, not copied, where an add node hands its `dy` to several inputs
        // (an NB201 node sums up to three edges): a shared gradient is copied only if another
        // contribution must be added to it
        let mut g: Vec<Option<Rc<B::T>>> = (0..nn).map(|_| None).collect();
        let out = self.graph.output;
        if self.plan.zero[out] {
            return tapped;
        }
        g[self.val[out]] = Some(Rc::new(dlogits));
        for i in (1..nn).rev() {
            if !self.plan.live[i] || self.val[i] != i {
                continue;
            }
            let Some(dy) = g[i].take() else { continue };
            for (k, _) in taps.iter().enumerate().filter(|(_, &t)| t == i) {
                tapped[k] = Some(self.backend.identity(&dy));
            }
            let contribs: Vec<(usize, Rc<B::T>)> = if self.graph.nodes[i].op == Op::Add {
                self.backward_add(i, dy)
            } else {
                let c = self.backward_node(i, &dy);
                self.recycle_rc(dy);
                c.into_iter().map(|(v, t)| (v, Rc::new(t))).collect()
            };
            for (v, t) in contribs {
                g[v] = Some(match g[v].take() {
                    Some(acc) => {
                        let mut acc = Rc::try_unwrap(acc).unwrap_or_else(|shared| self.backend.identity(&shared));
                        self.backend.axpy(1.0, &t, &mut acc);
                        self.recycle_rc(t);
                        Rc::new(acc)
                    }
                    None => t,
                });
            }
        }
        tapped
    }

    /// Gives a gradient's buffer back when this was its last holder.
    fn recycle_rc(&self, t: Rc<B::T>) {
        if let Ok(t) = Rc::try_unwrap(t) {
            self.backend.recycle(t);
        }
    }

    /// An add node's backward: the same `dy`, shared, to every input that needs it.
    fn backward_add(&self, i: usize, dy: Rc<B::T>) -> Vec<(usize, Rc<B::T>)> {
        let node = &self.graph.nodes[i];
        node.inputs.iter().filter(|&&j| !self.plan.zero[j] && self.val[j] != 0).map(|&j| (self.val[j], dy.clone())).collect()
    }

    /// One node's backward: sets its parameter gradients, returns (value, gradient) pairs
    /// for its inputs that need one.
    fn backward_node(&mut self, i: usize, dy: &B::T) -> Vec<(usize, B::T)> {
        let n = self.n;
        let node = self.graph.nodes[i].clone();
        let b = &self.backend;
        let ishape = self.graph.nodes[node.inputs[0]].shape;
        let [c, h, w] = ishape;
        let p0 = self.first[i];
        let needs = |k: usize| -> Option<usize> {
            let j = node.inputs[k];
            (!self.plan.zero[j] && self.val[j] != 0).then_some(self.val[j])
        };
        let mut out = Vec::new();
        let mut pg: Vec<(usize, B::T)> = Vec::new();
        match &node.op {
            Op::Input | Op::Zero | Op::Identity => unreachable!(),
            op @ Op::Conv { pad, .. } => {
                let cfg = conv_cfg(n, ishape, op);
                let sym = pad.is_symmetric();
                let xin = if sym { self.input(i, 0) } else { &self.aux[i][0] };
                let (dx, dw, db) = b.conv2d_backward(&cfg, xin, &self.params[p0], dy, needs(0).is_some());
                pg.push((p0, dw));
                if let Some(db) = db {
                    pg.push((p0 + 1, db));
                }
                if let (Some(v), Some(dx)) = (needs(0), dx) {
                    out.push((v, if sym { dx } else { self.crop_host(n, ishape, *pad, &dx) }));
                }
            }
            Op::Bn => {
                let bn = BatchNorm::new(n, c, h * w);
                let a = &self.aux[i];
                let (dx, dg, db) = b.batchnorm_train_backward(&bn, self.input(i, 0), dy, &self.params[p0], &a[0], &a[1]);
                pg.push((p0, dg));
                pg.push((p0 + 1, db));
                if let Some(v) = needs(0) {
                    out.push((v, dx));
                }
            }
            Op::Act(a) => {
                if let Some(v) = needs(0) {
                    out.push((v, b.act_backward(*a, self.input(i, 0), dy)));
                }
            }
            op @ Op::Pool { pad, .. } => {
                if let Some(v) = needs(0) {
                    let cfg = pool_cfg(n, ishape, op);
                    if pad.is_symmetric() {
                        out.push((v, b.pool2d_backward(&cfg, self.input(i, 0), dy)));
                    } else {
                        let scaled = avg_factors(ishape, op, cfg.out_h(), cfg.out_w()).map(|f| self.mul_planes(dy, &f));
                        let dxp = b.pool2d_backward(&cfg, &self.aux[i][0], scaled.as_ref().unwrap_or(dy));
                        out.push((v, self.crop_host(n, ishape, *pad, &dxp)));
                    }
                }
            }
            Op::Gap => {
                if let Some(v) = needs(0) {
                    out.push((v, b.global_avg_backward(n, c, h * w, dy)));
                }
            }
            Op::Linear { out: o, bias } => {
                let l = Linear { n, inp: c * h * w, out: *o, bias: *bias };
                let (dx, dw, db) = b.linear_backward(&l, self.input(i, 0), &self.params[p0], dy, needs(0).is_some());
                pg.push((p0, dw));
                if let Some(db) = db {
                    pg.push((p0 + 1, db));
                }
                if let (Some(v), Some(dx)) = (needs(0), dx) {
                    out.push((v, dx));
                }
            }
            Op::Mul => {
                let (xi, si, cm, hw) = mul_layout(ishape, self.graph.nodes[node.inputs[1]].shape);
                let (dx, ds) = b.channel_mul_backward(n, cm, hw, self.input(i, xi), self.input(i, si), dy);
                for (k, d) in [(xi, dx), (si, ds)] {
                    match needs(k) {
                        Some(v) => out.push((v, d)),
                        None => b.recycle(d),
                    }
                }
            }
            Op::Dropout { .. } => {
                if let Some(v) = needs(0) {
                    let len = b.len(dy);
                    out.push((v, b.channel_mul_forward(n, len / n, 1, dy, &self.aux[i][0])));
                }
            }
            Op::Se { mid, act, gate } => {
                let a = &self.aux[i];
                let (s1, z, r, u, s) = (&a[0], &a[1], &a[2], &a[3], &a[4]);
                let p = &self.params[p0..p0 + 4];
                let xin = self.input(i, 0);
                let (mut dx, ds) = b.channel_mul_backward(n, c, h * w, xin, s, dy);
                let du = b.act_backward(*gate, u, &ds);
                let (dr, dw2, db2) = b.linear_backward(&Linear { n, inp: *mid, out: c, bias: true }, r, &p[2], &du, true);
                let dz = b.act_backward(*act, z, &dr.unwrap());
                let (ds1, dw1, db1) = b.linear_backward(&Linear { n, inp: c, out: *mid, bias: true }, s1, &p[0], &dz, true);
                b.axpy(1.0, &b.global_avg_backward(n, c, h * w, &ds1.unwrap()), &mut dx);
                pg.extend([(p0, dw1), (p0 + 1, db1.unwrap()), (p0 + 2, dw2), (p0 + 3, db2.unwrap())]);
                if let Some(v) = needs(0) {
                    out.push((v, dx));
                }
            }
            Op::Add | Op::Mean => {
                let s = if node.op == Op::Mean { 1.0 / node.inputs.len() as f32 } else { 1.0 };
                for k in 0..node.inputs.len() {
                    if let Some(v) = needs(k) {
                        out.push((v, if s == 1.0 { b.identity(dy) } else { b.scale(s, dy) }));
                    }
                }
            }
            Op::Concat => {
                let chans: Vec<usize> = node.inputs.iter().map(|&j| self.graph.nodes[j].shape[0]).collect();
                let parts = b.concat_backward(n, h * w, &chans, dy);
                for (k, t) in parts.into_iter().enumerate() {
                    if let Some(v) = needs(k) {
                        out.push((v, t));
                    }
                }
            }
        }
        for (k, t) in pg {
            self.grads[k] = Some(t);
        }
        out
    }
}

//! Composite ops of the network built from the CPU kernels: pooling with asymmetric
//! (TensorFlow "same") padding, squeeze-excite, explicit padding, the layout of a (broadcast)
//! element-wise product, and dropout masks.

use crate::cpu;
use crate::graph::Pad4;
use crate::rng::Rng;
use crate::shape::{Act, Linear, Pool2d, PoolKind};

/// Copies `x: [n, c, h, w]` into `y: [n, c, h + t + b, w + l + r]` surrounded by `fill`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pad_forward(n: usize, c: usize, h: usize, w: usize, p: Pad4, fill: f32, x: &[f32], y: &mut [f32]) {
    let (hp, wp) = (h + p.top + p.bottom, w + p.left + p.right);
    y.fill(fill);
    for pl in 0..n * c {
        for r in 0..h {
            let dst = &mut y[pl * hp * wp + (r + p.top) * wp + p.left..][..w];
            dst.copy_from_slice(&x[pl * h * w + r * w..][..w]);
        }
    }
}

/// The adjoint of [`pad_forward`]: crops `dy` back to `dx` (overwritten).
pub(crate) fn pad_backward(n: usize, c: usize, h: usize, w: usize, p: Pad4, dy: &[f32], dx: &mut [f32]) {
    let (hp, wp) = (h + p.top + p.bottom, w + p.left + p.right);
    for pl in 0..n * c {
        for r in 0..h {
            dx[pl * h * w + r * w..][..w].copy_from_slice(&dy[pl * hp * wp + (r + p.top) * wp + p.left..][..w]);
        }
    }
}

/// Pooling configuration and, for asymmetric padding, the per-output-pixel factor that turns
/// a count-include-pad average into one over the pixels inside the image.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoolSpec {
    pub n: usize,
    pub shape: [usize; 3],
    pub max: bool,
    pub k: (usize, usize),
    pub stride: usize,
    pub pad: Pad4,
    pub count_include_pad: bool,
}

impl PoolSpec {
    fn cfg(&self) -> Pool2d {
        let [c, h, w] = self.shape;
        let sym = self.pad.is_symmetric();
        let kind = if self.max { PoolKind::Max } else { PoolKind::Avg { count_include_pad: self.count_include_pad || !sym } };
        let (h, w, pad) = if sym { (h, w, (self.pad.top, self.pad.left)) } else { (h + self.pad.top + self.pad.bottom, w + self.pad.left + self.pad.right, (0, 0)) };
        Pool2d { n: self.n, c, h, w, k: self.k, stride: (self.stride, self.stride), pad, kind }
    }
    /// `k_h * k_w / pixels inside the image`, per output pixel (asymmetric average only).
    fn factors(&self, oh: usize, ow: usize) -> Vec<f32> {
        let [_, h, w] = self.shape;
        let inside = |o: usize, k: usize, p0: usize, n: usize| {
            let s = (o * self.stride) as isize - p0 as isize;
            let e = (s + k as isize).min(n as isize);
            (e - s.max(0)).max(0) as f32
        };
        let mut f = Vec::with_capacity(oh * ow);
        for oy in 0..oh {
            for ox in 0..ow {
                let cnt = inside(oy, self.k.0, self.pad.top, h) * inside(ox, self.k.1, self.pad.left, w);
                f.push((self.k.0 * self.k.1) as f32 / cnt.max(1.0));
            }
        }
        f
    }
    fn rescale(&self) -> bool {
        !self.max && !self.count_include_pad && !self.pad.is_symmetric()
    }

    /// `y = pool(x)`; `aux` keeps the padded input when the padding is asymmetric.
    pub fn forward(&self, x: &[f32], aux: &mut Vec<f32>, y: &mut [f32]) {
        let cfg = self.cfg();
        if self.pad.is_symmetric() {
            cpu::pool2d_forward(&cfg, x, y);
            return;
        }
        let [c, h, w] = self.shape;
        aux.resize(cfg.x_len(), 0.0);
        let fill = if self.max { f32::NEG_INFINITY } else { 0.0 };
        pad_forward(self.n, c, h, w, self.pad, fill, x, aux);
        cpu::pool2d_forward(&cfg, aux, y);
        if self.rescale() {
            let f = self.factors(cfg.out_h(), cfg.out_w());
            for plane in y.chunks_mut(f.len()) {
                plane.iter_mut().zip(&f).for_each(|(v, s)| *v *= s);
            }
        }
    }

    /// `dx` (overwritten) from `dy`.
    pub fn backward(&self, x: &[f32], aux: &[f32], dy: &[f32], dx: &mut [f32]) {
        let cfg = self.cfg();
        if self.pad.is_symmetric() {
            cpu::pool2d_backward(&cfg, x, dy, dx);
            return;
        }
        let [c, h, w] = self.shape;
        let scaled;
        let dy = if self.rescale() {
            let f = self.factors(cfg.out_h(), cfg.out_w());
            scaled = dy.chunks(f.len()).flat_map(|p| p.iter().zip(&f).map(|(v, s)| v * s)).collect::<Vec<f32>>();
            &scaled[..]
        } else {
            dy
        };
        let mut dxp = vec![0.0; cfg.x_len()];
        cpu::pool2d_backward(&cfg, aux, dy, &mut dxp);
        pad_backward(self.n, c, h, w, self.pad, &dxp, dx);
    }
}

/// Squeeze-excite on `x: [n, c, h, w]` with parameters `[W1 (mid x c), b1, W2 (c x mid), b2]`.
/// `aux` keeps `[s1 (n*c), z (n*mid), r (n*mid), u (n*c), s (n*c)]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn se_forward(n: usize, shape: [usize; 3], mid: usize, (act, gate): (Act, Act), p: &[f32], x: &[f32], aux: &mut Vec<f32>, y: &mut [f32]) {
    let [c, h, w] = shape;
    aux.resize(n * (3 * c + 2 * mid), 0.0);
    let (s1, rest) = aux.split_at_mut(n * c);
    let (z, rest) = rest.split_at_mut(n * mid);
    let (r, rest) = rest.split_at_mut(n * mid);
    let (u, s) = rest.split_at_mut(n * c);
    let (w1, rest) = p.split_at(mid * c);
    let (b1, rest) = rest.split_at(mid);
    let (w2, b2) = rest.split_at(c * mid);
    cpu::global_avg_forward(n, c, h * w, x, s1);
    cpu::linear_forward(&Linear { n, inp: c, out: mid, bias: true }, s1, w1, Some(b1), z);
    cpu::act_forward(act, z, r);
    cpu::linear_forward(&Linear { n, inp: mid, out: c, bias: true }, r, w2, Some(b2), u);
    cpu::act_forward(gate, u, s);
    cpu::channel_mul_forward(n, c, h * w, x, s, y);
}

/// Backward of [`se_forward`]: `dx` overwritten, parameter gradients `gp` overwritten.
#[allow(clippy::too_many_arguments)]
pub(crate) fn se_backward(n: usize, shape: [usize; 3], mid: usize, (act, gate): (Act, Act), p: &[f32], x: &[f32], aux: &[f32], dy: &[f32], dx: &mut [f32], gp: &mut [f32]) {
    let [c, h, w] = shape;
    let (s1, rest) = aux.split_at(n * c);
    let (z, rest) = rest.split_at(n * mid);
    let (r, rest) = rest.split_at(n * mid);
    let (u, s) = rest.split_at(n * c);
    let (w1, rest) = p.split_at(mid * c);
    let (_, rest) = rest.split_at(mid);
    let (w2, _) = rest.split_at(c * mid);
    let (dw1, grest) = gp.split_at_mut(mid * c);
    let (db1, grest) = grest.split_at_mut(mid);
    let (dw2, db2) = grest.split_at_mut(c * mid);
    let mut ds = vec![0.0; n * c];
    cpu::channel_mul_backward(n, c, h * w, x, s, dy, dx, &mut ds);
    let mut du = vec![0.0; n * c];
    cpu::act_backward(gate, u, &ds, &mut du);
    let mut dr = vec![0.0; n * mid];
    cpu::linear_backward(&Linear { n, inp: mid, out: c, bias: true }, r, w2, &du, Some(&mut dr), dw2, Some(db2));
    let mut dz = vec![0.0; n * mid];
    cpu::act_backward(act, z, &dr, &mut dz);
    let mut ds1 = vec![0.0; n * c];
    cpu::linear_backward(&Linear { n, inp: c, out: mid, bias: true }, s1, w1, &dz, Some(&mut ds1), dw1, Some(db1));
    let mut dxg = vec![0.0; x.len()];
    cpu::global_avg_backward(n, c, h * w, &ds1, &mut dxg);
    cpu::axpy(1.0, &dxg, dx);
}

/// How a `mul` node of input shapes `a`, `b` runs as a channel product `y[p] = x[p] * s[p / hw]`
/// over `n * c` planes of `hw` pixels: `(x input, s input, c, hw)`. Equal shapes multiply
/// element-wise (`c` = all elements, `hw` = 1); a `[c, 1, 1]` side is `s`.
pub(crate) fn mul_layout(a: [usize; 3], b: [usize; 3]) -> (usize, usize, usize, usize) {
    if a == b {
        (0, 1, a.iter().product(), 1)
    } else if b[1..] == [1, 1] {
        (0, 1, a[0], a[1] * a[2])
    } else {
        (1, 0, b[0], b[1] * b[2])
    }
}

/// The inverted-dropout mask of one training forward: `len` values, each 0 with probability `p`
/// and `1 / (1 - p)` otherwise, drawn from the network's dropout seed, the forward's number and
/// the node (so the CPU network and a model on any backend draw the same masks).
pub(crate) fn dropout_mask(p: f32, seed: u64, call: u64, node: usize, len: usize) -> Vec<f32> {
    let mut rng = Rng::derive(seed ^ call.wrapping_mul(0xD6E8_FEB8_6659_FD93), node as u64);
    let keep = 1.0 / (1.0 - p);
    (0..len).map(|_| if rng.next_f32() < p { 0.0 } else { keep }).collect()
}

//! Host-side helpers of the network executor ([`crate::model::Model`]): explicit (asymmetric,
//! TensorFlow "same") padding and its adjoint, the layout of a (broadcast) element-wise
//! product, and dropout masks.

use crate::graph::Pad4;
use crate::rng::Rng;

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
/// and `1 / (1 - p)` otherwise, drawn from the network's dropout seed, `call` (the model's
/// optimizer step count) and the node, on the host (so every backend draws the same masks).
pub(crate) fn dropout_mask(p: f32, seed: u64, call: u64, node: usize, len: usize) -> Vec<f32> {
    let mut rng = Rng::derive(seed ^ call.wrapping_mul(0xD6E8_FEB8_6659_FD93), node as u64);
    let keep = 1.0 / (1.0 - p);
    (0..len).map(|_| if rng.next_f32() < p { 0.0 } else { keep }).collect()
}

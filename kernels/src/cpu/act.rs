//! Element-wise activations and the small structural ops (add, scale, mean of branches,
//! concat, channel scaling for squeeze-excite, zero, identity).

use crate::shape::Act;
use rayon::prelude::*;

const CHUNK: usize = 1 << 14;

/// The activation's value at `x`.
#[inline]
pub fn act_fn(a: Act, x: f32) -> f32 {
    match a {
        Act::Relu => x.max(0.0),
        Act::Relu6 => x.clamp(0.0, 6.0),
        Act::Swish => x / (1.0 + (-x).exp()),
        Act::HSwish => x * (x + 3.0).clamp(0.0, 6.0) / 6.0,
        Act::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Act::HSigmoid => (x + 3.0).clamp(0.0, 6.0) / 6.0,
    }
}

/// The activation's derivative at `x` (PyTorch's choice at kinks).
#[inline]
pub fn act_grad(a: Act, x: f32) -> f32 {
    match a {
        Act::Relu => (x > 0.0) as i32 as f32,
        Act::Relu6 => (x > 0.0 && x < 6.0) as i32 as f32,
        Act::Swish => {
            let s = 1.0 / (1.0 + (-x).exp());
            s * (1.0 + x * (1.0 - s))
        }
        Act::HSwish => {
            if x < -3.0 {
                0.0
            } else if x <= 3.0 {
                x / 3.0 + 0.5
            } else {
                1.0
            }
        }
        Act::Sigmoid => {
            let s = 1.0 / (1.0 + (-x).exp());
            s * (1.0 - s)
        }
        Act::HSigmoid => {
            if x > -3.0 && x < 3.0 {
                1.0 / 6.0
            } else {
                0.0
            }
        }
    }
}

/// `y = act(x)`.
pub fn act_forward(a: Act, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len());
    y.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(yc, xc)| {
        yc.iter_mut().zip(xc).for_each(|(yv, &xv)| *yv = act_fn(a, xv));
    });
}

/// `dx = act'(x) * dy` (from the forward input `x`).
pub fn act_backward(a: Act, x: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert_eq!(x.len(), dy.len());
    assert_eq!(x.len(), dx.len());
    dx.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).zip(dy.par_chunks(CHUNK)).for_each(|((dc, xc), gc)| {
        for ((d, &xv), &g) in dc.iter_mut().zip(xc).zip(gc) {
            *d = act_grad(a, xv) * g;
        }
    });
}

/// `y = a + b` (its backward passes `dy` to both inputs unchanged).
pub fn add(a: &[f32], b: &[f32], y: &mut [f32]) {
    assert_eq!(a.len(), b.len());
    assert_eq!(a.len(), y.len());
    y.par_chunks_mut(CHUNK).zip(a.par_chunks(CHUNK)).zip(b.par_chunks(CHUNK)).for_each(|((yc, ac), bc)| {
        for ((yv, &u), &v) in yc.iter_mut().zip(ac).zip(bc) {
            *yv = u + v;
        }
    });
}

/// `y += alpha * x` (gradient accumulation when a tensor feeds several ops).
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len());
    y.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(yc, xc)| {
        yc.iter_mut().zip(xc).for_each(|(yv, &xv)| *yv += alpha * xv);
    });
}

/// `y = alpha * x`.
pub fn scale(alpha: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len());
    y.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(yc, xc)| {
        yc.iter_mut().zip(xc).for_each(|(yv, &xv)| *yv = alpha * xv);
    });
}

/// Mean of branches: `y = (x_0 + ... + x_{k-1}) / k`. Its backward is `dx_i = dy / k` for every
/// branch: use [`scale`] with `1/k`.
pub fn mean_forward(xs: &[&[f32]], y: &mut [f32]) {
    assert!(!xs.is_empty());
    let inv = 1.0 / xs.len() as f32;
    for x in xs {
        assert_eq!(x.len(), y.len(), "mean: branch sizes differ");
    }
    y.par_chunks_mut(CHUNK).enumerate().for_each(|(ci, yc)| {
        yc.fill(0.0);
        for x in xs {
            let xc = &x[ci * CHUNK..][..yc.len()];
            yc.iter_mut().zip(xc).for_each(|(yv, &xv)| *yv += xv);
        }
        yc.iter_mut().for_each(|v| *v *= inv);
    });
}

/// Concatenation along channels of `k` NCHW tensors with `chans[i]` channels and `hw` pixels
/// each into `y: [n, sum(chans), hw]`.
pub fn concat_forward(n: usize, hw: usize, chans: &[usize], xs: &[&[f32]], y: &mut [f32]) {
    let ct: usize = chans.iter().sum();
    assert_eq!(chans.len(), xs.len());
    assert_eq!(y.len(), n * ct * hw);
    y.par_chunks_mut(ct * hw).enumerate().for_each(|(ni, yi)| {
        let mut off = 0;
        for (x, &c) in xs.iter().zip(chans) {
            assert_eq!(x.len(), n * c * hw);
            yi[off..off + c * hw].copy_from_slice(&x[ni * c * hw..(ni + 1) * c * hw]);
            off += c * hw;
        }
    });
}

/// Backward of [`concat_forward`]: splits `dy` into `dxs[i]` (overwritten).
pub fn concat_backward(n: usize, hw: usize, chans: &[usize], dy: &[f32], dxs: &mut [&mut [f32]]) {
    let ct: usize = chans.iter().sum();
    assert_eq!(dy.len(), n * ct * hw);
    let mut off = 0;
    for (dx, &c) in dxs.iter_mut().zip(chans) {
        assert_eq!(dx.len(), n * c * hw);
        dx.par_chunks_mut(c * hw).enumerate().for_each(|(ni, d)| {
            d.copy_from_slice(&dy[ni * ct * hw + off..][..c * hw]);
        });
        off += c * hw;
    }
}

/// Channel scaling (the last step of squeeze-excite): `y[n,c,p] = x[n,c,p] * s[n,c]`.
pub fn channel_mul_forward(n: usize, c: usize, hw: usize, x: &[f32], s: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), n * c * hw);
    assert_eq!(s.len(), n * c);
    assert_eq!(y.len(), n * c * hw);
    y.par_chunks_mut(hw).enumerate().for_each(|(pl, yp)| {
        let sv = s[pl];
        yp.iter_mut().zip(&x[pl * hw..][..hw]).for_each(|(yv, &xv)| *yv = xv * sv);
    });
}

/// Backward of [`channel_mul_forward`]: `dx = dy * s`, `ds[n,c] = sum_p dy * x` (both overwritten).
#[allow(clippy::too_many_arguments)]
pub fn channel_mul_backward(n: usize, c: usize, hw: usize, x: &[f32], s: &[f32], dy: &[f32], dx: &mut [f32], ds: &mut [f32]) {
    assert_eq!(dx.len(), n * c * hw);
    assert_eq!(ds.len(), n * c);
    dx.par_chunks_mut(hw).zip(ds.par_iter_mut()).enumerate().for_each(|(pl, (dxp, dsv))| {
        let xp = &x[pl * hw..][..hw];
        let gp = &dy[pl * hw..][..hw];
        for (d, &g) in dxp.iter_mut().zip(gp) {
            *d = g * s[pl];
        }
        *dsv = super::reduce::dot(gp, xp);
    });
}

/// The zero op (forward output and every gradient are zeros): `y = 0`.
pub fn zero(y: &mut [f32]) {
    y.par_chunks_mut(CHUNK).for_each(|c| c.fill(0.0));
}

/// The identity op (forward and backward are copies): `y = x`.
pub fn identity(x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len());
    y.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(yc, xc)| yc.copy_from_slice(xc));
}

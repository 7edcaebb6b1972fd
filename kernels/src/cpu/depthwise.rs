//! Depthwise-style convolutions (one input channel per group) on the CPU, by direct loops.
//! Stride 1 uses a padded-width layout: the input plane is copied once into a zero-padded
//! buffer, and every kernel tap becomes one long contiguous multiply-add over
//! `out_h * padded_w` elements (the extra columns are computed and dropped), instead of
//! `out_h` short row loops. Other strides go row by row.

use super::conv::{ox_range, rows};
use super::reduce::dot;
use crate::shape::Conv2d;
use rayon::prelude::*;

/// Forward (`y` overwritten).
pub(super) fn forward(c: &Conv2d, x: &[f32], w: &[f32], y: &mut [f32]) {
    if c.stride == (1, 1) {
        forward_padded(c, x, w, y)
    } else {
        forward_rows(c, x, w, y)
    }
}

/// Backward (`dw` and `dx` overwritten).
pub(super) fn backward(c: &Conv2d, x: &[f32], w: &[f32], dy: &[f32], dx: Option<&mut [f32]>, dw: &mut [f32]) {
    if c.stride == (1, 1) {
        backward_padded(c, x, w, dy, dx, dw)
    } else {
        backward_rows(c, x, w, dy, dx, dw)
    }
}

/// Geometry of the padded-width layout (stride 1).
struct Padded {
    /// padded width
    wp: usize,
    /// length of the working range `out_h * wp`
    q: usize,
    /// buffer length: `hp * wp` plus the slack the last taps read past the end
    len: usize,
}

impl Padded {
    fn new(c: &Conv2d) -> Self {
        let wp = c.w + 2 * c.pad.1;
        let hp = c.h + 2 * c.pad.0;
        Padded { wp, q: c.out_h() * wp, len: hp * wp + (c.kw - 1) * c.dil.1 }
    }
    /// Offset of tap (i, j) in the padded plane.
    fn off(&self, c: &Conv2d, i: usize, j: usize) -> usize {
        i * c.dil.0 * self.wp + j * c.dil.1
    }
    /// Copies an image plane into the zero-padded buffer.
    fn fill(&self, c: &Conv2d, src: &[f32], buf: &mut Vec<f32>) {
        buf.clear();
        buf.resize(self.len, 0.0);
        for r in 0..c.h {
            let d = (r + c.pad.0) * self.wp + c.pad.1;
            buf[d..d + c.w].copy_from_slice(&src[r * c.w..(r + 1) * c.w]);
        }
    }
}

fn forward_padded(c: &Conv2d, x: &[f32], w: &[f32], y: &mut [f32]) {
    let (oh, ow) = (c.out_h(), c.out_w());
    let cog = c.cout_g();
    let pd = Padded::new(c);
    y.par_chunks_mut(oh * ow).enumerate().for_each_init(
        || (Vec::new(), Vec::new()),
        |(xp, acc), (plane, yp)| {
            let (ni, co) = (plane / c.c_out, plane % c.c_out);
            let ci = co / cog;
            pd.fill(c, &x[(ni * c.c_in + ci) * c.h * c.w..][..c.h * c.w], xp);
            acc.clear();
            acc.resize(pd.q, 0.0);
            let wk = &w[co * c.kh * c.kw..(co + 1) * c.kh * c.kw];
            for i in 0..c.kh {
                for j in 0..c.kw {
                    let wv = wk[i * c.kw + j];
                    let off = pd.off(c, i, j);
                    acc.iter_mut().zip(&xp[off..off + pd.q]).for_each(|(a, &v)| *a += wv * v);
                }
            }
            for oy in 0..oh {
                yp[oy * ow..(oy + 1) * ow].copy_from_slice(&acc[oy * pd.wp..oy * pd.wp + ow]);
            }
        },
    );
}

/// `dy` plane in the padded-width layout (zeros in the dropped columns).
fn dy_padded(c: &Conv2d, pd: &Padded, dyp: &[f32], buf: &mut Vec<f32>) {
    let (oh, ow) = (c.out_h(), c.out_w());
    buf.clear();
    buf.resize(pd.q, 0.0);
    for oy in 0..oh {
        buf[oy * pd.wp..oy * pd.wp + ow].copy_from_slice(&dyp[oy * ow..(oy + 1) * ow]);
    }
}

fn backward_padded(c: &Conv2d, x: &[f32], w: &[f32], dy: &[f32], dx: Option<&mut [f32]>, dw: &mut [f32]) {
    let (oh, ow) = (c.out_h(), c.out_w());
    let cog = c.cout_g();
    let hw = c.h * c.w;
    let pd = Padded::new(c);
    dw.par_chunks_mut(c.kh * c.kw).enumerate().for_each_init(
        || (Vec::new(), Vec::new()),
        |(xp, gq), (co, dwk)| {
            let ci = co / cog;
            let mut acc = vec![0.0f64; c.kh * c.kw];
            for ni in 0..c.n {
                pd.fill(c, &x[(ni * c.c_in + ci) * hw..][..hw], xp);
                dy_padded(c, &pd, &dy[(ni * c.c_out + co) * oh * ow..][..oh * ow], gq);
                for i in 0..c.kh {
                    for j in 0..c.kw {
                        let off = pd.off(c, i, j);
                        acc[i * c.kw + j] += dot(gq, &xp[off..off + pd.q]) as f64;
                    }
                }
            }
            dwk.iter_mut().zip(&acc).for_each(|(d, &a)| *d = a as f32);
        },
    );
    if let Some(dx) = dx {
        dx.par_chunks_mut(hw).enumerate().for_each_init(
            || (Vec::new(), Vec::new()),
            |(dxp, gq), (plane, dxo)| {
                let (ni, ci) = (plane / c.c_in, plane % c.c_in);
                dxp.clear();
                dxp.resize(pd.len, 0.0);
                for co in ci * cog..(ci + 1) * cog {
                    dy_padded(c, &pd, &dy[(ni * c.c_out + co) * oh * ow..][..oh * ow], gq);
                    let wk = &w[co * c.kh * c.kw..(co + 1) * c.kh * c.kw];
                    for i in 0..c.kh {
                        for j in 0..c.kw {
                            let wv = wk[i * c.kw + j];
                            let off = pd.off(c, i, j);
                            dxp[off..off + pd.q].iter_mut().zip(gq.iter()).for_each(|(d, &g)| *d += wv * g);
                        }
                    }
                }
                for r in 0..c.h {
                    let s = (r + c.pad.0) * pd.wp + c.pad.1;
                    dxo[r * c.w..(r + 1) * c.w].copy_from_slice(&dxp[s..s + c.w]);
                }
            },
        );
    }
}

fn forward_rows(c: &Conv2d, x: &[f32], w: &[f32], y: &mut [f32]) {
    let (oh, ow) = (c.out_h(), c.out_w());
    let cog = c.cout_g();
    let sw = c.stride.1;
    y.par_chunks_mut(oh * ow).enumerate().for_each(|(plane, yp)| {
        let (ni, co) = (plane / c.c_out, plane % c.c_out);
        let ci = co / cog;
        let xp = &x[(ni * c.c_in + ci) * c.h * c.w..][..c.h * c.w];
        let wk = &w[co * c.kh * c.kw..(co + 1) * c.kh * c.kw];
        yp.fill(0.0);
        for i in 0..c.kh {
            for j in 0..c.kw {
                let wv = wk[i * c.kw + j];
                let (o0, o1, off) = ox_range(c, j);
                if o0 >= o1 {
                    continue;
                }
                for (oy, iy) in rows(c, i) {
                    let xr = &xp[iy * c.w..(iy + 1) * c.w];
                    let yr = &mut yp[oy * ow + o0..oy * ow + o1];
                    let base = (o0 * sw) as isize + off;
                    if sw == 1 {
                        let xs = &xr[base as usize..base as usize + (o1 - o0)];
                        yr.iter_mut().zip(xs).for_each(|(yv, &xv)| *yv += wv * xv);
                    } else {
                        for (k, yv) in yr.iter_mut().enumerate() {
                            *yv += wv * xr[base as usize + k * sw];
                        }
                    }
                }
            }
        }
    });
}

fn backward_rows(c: &Conv2d, x: &[f32], w: &[f32], dy: &[f32], dx: Option<&mut [f32]>, dw: &mut [f32]) {
    let (oh, ow) = (c.out_h(), c.out_w());
    let cog = c.cout_g();
    let hw = c.h * c.w;
    let sw = c.stride.1;
    dw.par_chunks_mut(c.kh * c.kw).enumerate().for_each(|(co, dwk)| {
        let ci = co / cog;
        let mut acc = vec![0.0f64; c.kh * c.kw];
        for ni in 0..c.n {
            let xp = &x[(ni * c.c_in + ci) * hw..][..hw];
            let dyp = &dy[(ni * c.c_out + co) * oh * ow..][..oh * ow];
            for i in 0..c.kh {
                for j in 0..c.kw {
                    let (o0, o1, off) = ox_range(c, j);
                    if o0 >= o1 {
                        continue;
                    }
                    let mut s = 0.0f32;
                    for (oy, iy) in rows(c, i) {
                        let xr = &xp[iy * c.w..(iy + 1) * c.w];
                        let gr = &dyp[oy * ow + o0..oy * ow + o1];
                        let base = ((o0 * sw) as isize + off) as usize;
                        if sw == 1 {
                            s += gr.iter().zip(&xr[base..base + (o1 - o0)]).map(|(&g, &v)| g * v).sum::<f32>();
                        } else {
                            s += gr.iter().enumerate().map(|(k, &g)| g * xr[base + k * sw]).sum::<f32>();
                        }
                    }
                    acc[i * c.kw + j] += s as f64;
                }
            }
        }
        dwk.iter_mut().zip(&acc).for_each(|(d, &a)| *d = a as f32);
    });
    if let Some(dx) = dx {
        dx.par_chunks_mut(hw).enumerate().for_each(|(plane, dxp)| {
            let (ni, ci) = (plane / c.c_in, plane % c.c_in);
            dxp.fill(0.0);
            for co in ci * cog..(ci + 1) * cog {
                let wk = &w[co * c.kh * c.kw..(co + 1) * c.kh * c.kw];
                let dyp = &dy[(ni * c.c_out + co) * oh * ow..][..oh * ow];
                for i in 0..c.kh {
                    for j in 0..c.kw {
                        let wv = wk[i * c.kw + j];
                        let (o0, o1, off) = ox_range(c, j);
                        if o0 >= o1 {
                            continue;
                        }
                        for (oy, iy) in rows(c, i) {
                            let gr = &dyp[oy * ow + o0..oy * ow + o1];
                            let xr = &mut dxp[iy * c.w..(iy + 1) * c.w];
                            let base = ((o0 * sw) as isize + off) as usize;
                            if sw == 1 {
                                xr[base..base + (o1 - o0)].iter_mut().zip(gr).for_each(|(d, &g)| *d += wv * g);
                            } else {
                                for (k, &g) in gr.iter().enumerate() {
                                    xr[base + k * sw] += wv * g;
                                }
                            }
                        }
                    }
                }
            }
        });
    }
}

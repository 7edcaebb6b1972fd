//! Average, max and global-average pooling on the CPU (parallel over planes).

use crate::shape::{Pool2d, PoolKind};
use rayon::prelude::*;

/// Visits every window of plane-sized output: `f(oy, ox, y0, y1, x0, x1, divisor)` where the
/// ranges are the window clipped to the image and `divisor` is avg pooling's denominator.
fn windows(p: &Pool2d, mut f: impl FnMut(usize, usize, usize, usize, usize, usize, f32)) {
    let include_pad = matches!(p.kind, PoolKind::Avg { count_include_pad: true });
    for oy in 0..p.out_h() {
        let ys = (oy * p.stride.0) as isize - p.pad.0 as isize;
        let ye = ys + p.k.0 as isize;
        let (y0, y1) = (ys.max(0) as usize, ye.min(p.h as isize) as usize);
        for ox in 0..p.out_w() {
            let xs = (ox * p.stride.1) as isize - p.pad.1 as isize;
            let xe = xs + p.k.1 as isize;
            let (x0, x1) = (xs.max(0) as usize, xe.min(p.w as isize) as usize);
            let div = if include_pad {
                // PyTorch: the window clipped to the padded input (h + pad), not to the image.
                let he = ye.min((p.h + p.pad.0) as isize);
                let we = xe.min((p.w + p.pad.1) as isize);
                ((he - ys) * (we - xs)) as f32
            } else {
                ((y1 - y0) * (x1 - x0)) as f32
            };
            f(oy, ox, y0, y1, x0, x1, div);
        }
    }
}

/// First maximum of a window in row-major order (PyTorch's choice); `None` if empty.
fn argmax(p: &Pool2d, xp: &[f32], y0: usize, y1: usize, x0: usize, x1: usize) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for iy in y0..y1 {
        for ix in x0..x1 {
            let v = xp[iy * p.w + ix];
            if best.is_none_or(|(_, b)| v > b || v.is_nan()) {
                best = Some((iy * p.w + ix, v));
            }
        }
    }
    best.map(|b| b.0)
}

/// `y = pool(x)`, `x: [n, c, h, w]`, `y: [n, c, out_h, out_w]`.
pub fn pool2d_forward(p: &Pool2d, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), p.x_len());
    assert_eq!(y.len(), p.y_len());
    let (hw, ow) = (p.h * p.w, p.out_w());
    y.par_chunks_mut(p.out_h() * ow).enumerate().for_each(|(pl, yp)| {
        let xp = &x[pl * hw..][..hw];
        windows(p, |oy, ox, y0, y1, x0, x1, div| {
            yp[oy * ow + ox] = match p.kind {
                PoolKind::Max => argmax(p, xp, y0, y1, x0, x1).map_or(f32::NEG_INFINITY, |i| xp[i]),
                PoolKind::Avg { .. } => {
                    let mut s = 0.0;
                    for iy in y0..y1 {
                        s += xp[iy * p.w + x0..iy * p.w + x1].iter().sum::<f32>();
                    }
                    s / div
                }
            };
        });
    });
}

/// `dx` (overwritten) from `dy`; max pooling recomputes the argmax from `x`.
pub fn pool2d_backward(p: &Pool2d, x: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert_eq!(x.len(), p.x_len());
    assert_eq!(dx.len(), p.x_len());
    assert_eq!(dy.len(), p.y_len());
    let (hw, ow) = (p.h * p.w, p.out_w());
    dx.par_chunks_mut(hw).enumerate().for_each(|(pl, dxp)| {
        let xp = &x[pl * hw..][..hw];
        let dyp = &dy[pl * p.out_h() * ow..][..p.out_h() * ow];
        dxp.fill(0.0);
        windows(p, |oy, ox, y0, y1, x0, x1, div| {
            let g = dyp[oy * ow + ox];
            match p.kind {
                PoolKind::Max => {
                    if let Some(i) = argmax(p, xp, y0, y1, x0, x1) {
                        dxp[i] += g;
                    }
                }
                PoolKind::Avg { .. } => {
                    let g = g / div;
                    for iy in y0..y1 {
                        dxp[iy * p.w + x0..iy * p.w + x1].iter_mut().for_each(|d| *d += g);
                    }
                }
            }
        });
    });
}

/// Global average pooling `[n, c, hw] -> [n, c]`.
pub fn global_avg_forward(n: usize, c: usize, hw: usize, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), n * c * hw);
    assert_eq!(y.len(), n * c);
    y.par_iter_mut().enumerate().for_each(|(pl, v)| {
        *v = super::reduce::sum(&x[pl * hw..][..hw]) / hw as f32;
    });
}

/// Backward of [`global_avg_forward`]: `dx[n,c,p] = dy[n,c] / hw`.
pub fn global_avg_backward(n: usize, c: usize, hw: usize, dy: &[f32], dx: &mut [f32]) {
    assert_eq!(dy.len(), n * c);
    assert_eq!(dx.len(), n * c * hw);
    let inv = 1.0 / hw as f32;
    dx.par_chunks_mut(hw).enumerate().for_each(|(pl, d)| d.fill(dy[pl] * inv));
}

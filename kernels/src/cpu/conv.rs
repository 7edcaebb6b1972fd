//! Conv2d forward and backward on the CPU: im2col + GEMM per (image, group), a direct path for
//! depthwise-style convolutions (one input channel per group), and no im2col at all for
//! 1x1/stride-1/unpadded convolutions. Parallel over images (each image's GEMMs run
//! single-threaded) when the batch can feed every thread, otherwise over the GEMMs themselves.
//! Stride-1 convolutions on x86-64 with AVX2+FMA take the direct kernels of `conv_direct`
//! instead ([`conv2d_fast_path`]); `conv2d_*_reference` always take im2col + GEMM (depthwise
//! included): the oracle of the other paths.

use super::gemm::{sgemm, Mat};
use super::SendPtr;
use crate::shape::Conv2d;
use rayon::prelude::*;

fn is_pointwise(c: &Conv2d) -> bool {
    c.kh == 1 && c.kw == 1 && c.stride == (1, 1) && c.pad == (0, 0)
}

/// `col[(ci*kh + i)*kw + j][oy*ow + ox] = x[ci][oy*sh - ph + i*dh][ox*sw - pw + j*dw]` (0 outside),
/// for the `cin_g` channels starting at `x` (one image).
fn im2col(c: &Conv2d, x: &[f32], col: &mut [f32]) {
    let (oh, ow) = (c.out_h(), c.out_w());
    let p = oh * ow;
    let sw = c.stride.1;
    let mut row = 0;
    for ci in 0..c.cin_g() {
        let xc = &x[ci * c.h * c.w..(ci + 1) * c.h * c.w];
        for i in 0..c.kh {
            for j in 0..c.kw {
                let dst = &mut col[row * p..(row + 1) * p];
                row += 1;
                let (o0, o1, off) = ox_range(c, j);
                let base = ((o0 * sw) as isize + off) as usize;
                for oy in 0..oh {
                    let iy = (oy * c.stride.0 + i * c.dil.0) as isize - c.pad.0 as isize;
                    let d = &mut dst[oy * ow..(oy + 1) * ow];
                    if iy < 0 || iy >= c.h as isize || o0 >= o1 {
                        d.fill(0.0);
                        continue;
                    }
                    let xr = &xc[iy as usize * c.w..(iy as usize + 1) * c.w];
                    d[..o0].fill(0.0);
                    d[o1..].fill(0.0);
                    if sw == 1 {
                        d[o0..o1].copy_from_slice(&xr[base..base + (o1 - o0)]);
                    } else {
                        for (k, v) in d[o0..o1].iter_mut().enumerate() {
                            *v = xr[base + k * sw];
                        }
                    }
                }
            }
        }
    }
}

/// Adds the columns back into the image: the adjoint of `im2col`.
fn col2im(c: &Conv2d, col: &[f32], x: &mut [f32]) {
    let (oh, ow) = (c.out_h(), c.out_w());
    let p = oh * ow;
    let sw = c.stride.1;
    let mut row = 0;
    for ci in 0..c.cin_g() {
        let xc = &mut x[ci * c.h * c.w..(ci + 1) * c.h * c.w];
        for i in 0..c.kh {
            for j in 0..c.kw {
                let src = &col[row * p..(row + 1) * p];
                row += 1;
                let (o0, o1, off) = ox_range(c, j);
                if o0 >= o1 {
                    continue;
                }
                let base = ((o0 * sw) as isize + off) as usize;
                for (oy, iy) in rows(c, i) {
                    let xr = &mut xc[iy * c.w..(iy + 1) * c.w];
                    let s = &src[oy * ow + o0..oy * ow + o1];
                    if sw == 1 {
                        xr[base..base + (o1 - o0)].iter_mut().zip(s).for_each(|(d, &v)| *d += v);
                    } else {
                        for (k, &v) in s.iter().enumerate() {
                            xr[base + k * sw] += v;
                        }
                    }
                }
            }
        }
    }
}

/// Whether `conv2d_forward`/`conv2d_backward` run `c` on the direct AVX2+FMA kernels
/// (stride 1, not depthwise, on a CPU that has them) rather than im2col + GEMM.
pub fn conv2d_fast_path(c: &Conv2d) -> bool {
    c.cin_g() != 1 && super::conv_direct::supported(c)
}

/// `y = conv(x, w) + b`. `x: [n, c_in, h, w]`, `w: [c_out, c_in/groups, kh, kw]`,
/// `b: [c_out]` (required iff `c.bias`), `y: [n, c_out, out_h, out_w]` (overwritten).
pub fn conv2d_forward(c: &Conv2d, x: &[f32], w: &[f32], b: Option<&[f32]>, y: &mut [f32]) {
    forward(c, x, w, b, y, true)
}

/// [`conv2d_forward`] on the im2col + GEMM path whatever the CPU and whatever the groups (the
/// oracle of the direct and depthwise kernels).
pub fn conv2d_forward_reference(c: &Conv2d, x: &[f32], w: &[f32], b: Option<&[f32]>, y: &mut [f32]) {
    forward(c, x, w, b, y, false)
}

fn forward(c: &Conv2d, x: &[f32], w: &[f32], b: Option<&[f32]>, y: &mut [f32], fast: bool) {
    c.validate();
    assert_eq!(x.len(), c.x_len(), "conv2d x");
    assert_eq!(w.len(), c.w_len(), "conv2d w");
    assert_eq!(y.len(), c.y_len(), "conv2d y");
    assert_eq!(b.is_some(), c.bias, "conv2d: bias slice must match c.bias");
    let p = c.out_h() * c.out_w();
    if fast && c.cin_g() == 1 {
        super::depthwise::forward(c, x, w, y);
    } else if fast && conv2d_fast_path(c) {
        super::conv_direct::forward(c, x, w, y);
    } else {
        let kk = c.cin_g() * c.kh * c.kw;
        let (cig, cog) = (c.cin_g(), c.cout_g());
        let xs = c.c_in * c.h * c.w;
        let ys = c.c_out * p;
        let pw = is_pointwise(c);
        let par_imgs = c.n >= rayon::current_num_threads();
        let per_image = |ni: usize, yi: &mut [f32], col: &mut Vec<f32>, par: bool| {
            for g in 0..c.groups {
                let xg = &x[ni * xs + g * cig * c.h * c.w..][..cig * c.h * c.w];
                let b_mat = if pw {
                    Mat::rm(xg, p)
                } else {
                    col.resize(kk * p, 0.0);
                    im2col(c, xg, col);
                    Mat::rm(col, p)
                };
                let wg = &w[g * cog * kk..(g + 1) * cog * kk];
                sgemm(cog, p, kk, Mat::rm(wg, kk), b_mat, &mut yi[g * cog * p..(g + 1) * cog * p], p, false, par);
            }
        };
        if par_imgs {
            y.par_chunks_mut(ys).enumerate().for_each_init(Vec::new, |col, (ni, yi)| per_image(ni, yi, col, false));
        } else {
            let mut col = Vec::new();
            for (ni, yi) in y.chunks_mut(ys).enumerate() {
                per_image(ni, yi, &mut col, true);
            }
        }
    }
    if let Some(b) = b {
        y.par_chunks_mut(p).enumerate().for_each(|(i, plane)| {
            let bv = b[i % c.c_out];
            plane.iter_mut().for_each(|v| *v += bv);
        });
    }
}

/// Output columns `ox0..ox1` whose input column `ox*sw + off` lies inside the image, for tap `j`.
/// Always `ox0 <= ox1 <= out_w`; when the range is empty (a tap that only ever reads padding,
/// as on maps smaller than the kernel) callers must not index with `ox0*sw + off`, which may
/// then be negative.
pub(super) fn ox_range(c: &Conv2d, j: usize) -> (usize, usize, isize) {
    let off = (j * c.dil.1) as isize - c.pad.1 as isize;
    let s = c.stride.1 as isize;
    let ow = c.out_w() as isize;
    let lo = if off >= 0 { 0 } else { (((-off) + s - 1) / s).min(ow) };
    let last = c.w as isize - 1 - off;
    let hi = if last < 0 { 0 } else { (last / s + 1).min(ow) };
    (lo as usize, hi.max(lo) as usize, off)
}

/// Output rows `oy` with their input row, for tap `i`.
pub(super) fn rows(c: &Conv2d, i: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    (0..c.out_h()).filter_map(move |oy| {
        let iy = (oy * c.stride.0 + i * c.dil.0) as isize - c.pad.0 as isize;
        (iy >= 0 && iy < c.h as isize).then_some((oy, iy as usize))
    })
}

/// Gradients of `conv2d_forward` given `dy`. `dw` (and `db`) are overwritten, not accumulated;
/// `dx` is overwritten when given (pass `None` for a network's first layer).
pub fn conv2d_backward(c: &Conv2d, x: &[f32], w: &[f32], dy: &[f32], dx: Option<&mut [f32]>, dw: &mut [f32], db: Option<&mut [f32]>) {
    backward(c, x, w, dy, dx, dw, db, true)
}

/// [`conv2d_backward`] on the im2col + GEMM path whatever the CPU and whatever the groups (the
/// oracle of the direct and depthwise kernels).
pub fn conv2d_backward_reference(c: &Conv2d, x: &[f32], w: &[f32], dy: &[f32], dx: Option<&mut [f32]>, dw: &mut [f32], db: Option<&mut [f32]>) {
    backward(c, x, w, dy, dx, dw, db, false)
}

#[allow(clippy::too_many_arguments)]
fn backward(c: &Conv2d, x: &[f32], w: &[f32], dy: &[f32], dx: Option<&mut [f32]>, dw: &mut [f32], db: Option<&mut [f32]>, fast: bool) {
    c.validate();
    assert_eq!(x.len(), c.x_len());
    assert_eq!(w.len(), c.w_len());
    assert_eq!(dy.len(), c.y_len());
    assert_eq!(dw.len(), c.w_len());
    let p = c.out_h() * c.out_w();
    if let Some(db) = db {
        assert_eq!(db.len(), c.c_out);
        db.par_iter_mut().enumerate().for_each(|(co, d)| {
            let mut s = 0.0f64;
            for ni in 0..c.n {
                s += super::reduce::sum(&dy[(ni * c.c_out + co) * p..][..p]) as f64;
            }
            *d = s as f32;
        });
    }
    if let Some(dx) = &dx {
        assert_eq!(dx.len(), c.x_len());
    }
    if fast && c.cin_g() == 1 {
        super::depthwise::backward(c, x, w, dy, dx, dw);
        return;
    }
    let kk = c.cin_g() * c.kh * c.kw;
    let (cig, cog) = (c.cin_g(), c.cout_g());
    let xs = c.c_in * c.h * c.w;
    let ys = c.c_out * p;
    let pw = is_pointwise(c);
    let direct = fast && conv2d_fast_path(c);
    // Stride 1, not pointwise (unless direct): dx is the forward convolution of dy with the
    // flipped, transposed kernel (no col2im, and the GEMM has the forward's shape).
    let dx = match dx {
        Some(d) if (direct || !pw) && transposed_conv(c).is_some() => {
            let (tc, tw) = transposed_conv(c).map(|tc| (tc, transposed_weights(c, w))).unwrap();
            forward(&tc, dy, &tw, None, d, fast);
            None
        }
        other => other,
    };
    if direct {
        if let Some(d) = dx {
            // rare: padding above dil*(k-1), no transposed convolution; dx (and a dw that the
            // line below overwrites) on the im2col path
            backward(c, x, w, dy, Some(d), dw, None, false);
        }
        super::conv_direct::backward_dw(c, x, dy, dw);
        return;
    }
    let dx_ptr = dx.map(|d| SendPtr(d.as_mut_ptr()));
    // One image: accumulate its dW into `acc` and write its dx slice.
    let per_image = |ni: usize, acc: &mut [f32], col: &mut Vec<f32>, dcol: &mut Vec<f32>, par: bool| {
        let dyi = &dy[ni * ys..(ni + 1) * ys];
        let dxi = dx_ptr.as_ref().map(|p| {
            // SAFETY: each image writes only its own disjoint slice of dx.
            let s = unsafe { std::slice::from_raw_parts_mut(p.0.add(ni * xs), xs) };
            s.fill(0.0);
            s
        });
        let mut dxi = dxi;
        for g in 0..c.groups {
            let xg = &x[ni * xs + g * cig * c.h * c.w..][..cig * c.h * c.w];
            let dyg = &dyi[g * cog * p..(g + 1) * cog * p];
            let wg = &w[g * cog * kk..(g + 1) * cog * kk];
            // dW_g += dY_g [cog, p] * col^T [p, kk]
            let colm = if pw {
                Mat::rm_t(xg, p)
            } else {
                col.resize(kk * p, 0.0);
                im2col(c, xg, col);
                Mat::rm_t(col, p)
            };
            sgemm(cog, kk, p, Mat::rm(dyg, p), colm, &mut acc[g * cog * kk..(g + 1) * cog * kk], kk, true, par);
            if let Some(dxi) = dxi.as_deref_mut() {
                let dxg = &mut dxi[g * cig * c.h * c.w..(g + 1) * cig * c.h * c.w];
                if pw {
                    sgemm(kk, p, cog, Mat::rm_t(wg, kk), Mat::rm(dyg, p), dxg, p, false, par);
                } else {
                    dcol.resize(kk * p, 0.0);
                    sgemm(kk, p, cog, Mat::rm_t(wg, kk), Mat::rm(dyg, p), dcol, p, false, par);
                    col2im(c, dcol, dxg);
                }
            }
        }
    };
    let threads = rayon::current_num_threads();
    if c.n >= threads {
        // fixed contiguous chunks of images, each summed in image order, then the chunks in
        // chunk order: the same bits on every run (a work-stealing fold/reduce is not)
        let per = c.n.div_ceil(threads);
        let parts: Vec<Vec<f32>> = (0..c.n.div_ceil(per))
            .into_par_iter()
            .map(|k| {
                let (mut acc, mut col, mut dcol) = (vec![0.0f32; dw.len()], Vec::new(), Vec::new());
                for ni in k * per..((k + 1) * per).min(c.n) {
                    per_image(ni, &mut acc, &mut col, &mut dcol, false);
                }
                acc
            })
            .collect();
        dw.copy_from_slice(&parts[0]);
        for p in &parts[1..] {
            dw.iter_mut().zip(p).for_each(|(u, v)| *u += v);
        }
    } else {
        dw.fill(0.0);
        let (mut col, mut dcol) = (Vec::new(), Vec::new());
        for ni in 0..c.n {
            per_image(ni, dw, &mut col, &mut dcol, true);
        }
    }
}

/// For stride 1: the convolution mapping `dy` to `dx` (kernel flipped, channels swapped,
/// padding `dil*(k-1) - pad`), if that padding is not negative.
fn transposed_conv(c: &Conv2d) -> Option<Conv2d> {
    if c.stride != (1, 1) {
        return None;
    }
    let ph = (c.dil.0 * (c.kh - 1)).checked_sub(c.pad.0)?;
    let pw = (c.dil.1 * (c.kw - 1)).checked_sub(c.pad.1)?;
    let t =
        Conv2d { n: c.n, c_in: c.c_out, h: c.out_h(), w: c.out_w(), c_out: c.c_in, kh: c.kh, kw: c.kw, stride: (1, 1), pad: (ph, pw), dil: c.dil, groups: c.groups, bias: false };
    (t.out_h() == c.h && t.out_w() == c.w).then_some(t)
}

/// `w'[g*cig + ci][co][i][j] = w[g*cog + co][ci][kh-1-i][kw-1-j]` (OIHW of the transposed conv).
fn transposed_weights(c: &Conv2d, w: &[f32]) -> Vec<f32> {
    let (cig, cog, kk) = (c.cin_g(), c.cout_g(), c.kh * c.kw);
    let mut t = vec![0.0f32; w.len()];
    for g in 0..c.groups {
        for co in 0..cog {
            for ci in 0..cig {
                let src = &w[((g * cog + co) * cig + ci) * kk..][..kk];
                let dst = &mut t[((g * cig + ci) * cog + co) * kk..][..kk];
                for (d, s) in dst.iter_mut().zip(src.iter().rev()) {
                    *d = *s;
                }
            }
        }
    }
    t
}

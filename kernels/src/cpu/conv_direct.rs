//! Direct ("implicit GEMM") convolution for stride 1 with the AVX2+FMA kernels of
//! [`super::simd`]: no im2col matrix. Each (image, group) input is copied once into a
//! zero-padded buffer whose rows are long enough for whole 8-float loads (or used as it is when
//! it already has that layout: no padding and a width that is a multiple of 8); every tap
//! `(ci, i, j)` is then a fixed offset into it.
//!
//! * forward: tiles of up to 6 output channels x two 8-pixel segments, reduced over all
//!   `k = (ci, i, j)`; a row's last partial segment goes through a small buffer.
//! * dW: per fixed chunk of images (the same chunks whatever the thread count, summed in
//!   order: deterministic), tiles of up to 4 output channels x 3 taps reduced over 8-pixel
//!   segments; `dy` rows are zero-padded to a multiple of 8 when needed.
//! * dx (stride 1) is the forward of the transposed convolution (see `conv.rs`).

use super::simd::{self, Segs};
use crate::shape::Conv2d;
use rayon::prelude::*;
use std::cell::RefCell;

thread_local! {
    /// Scratch buffers kept per thread between calls (no allocation, zeroing or page faults
    /// per call). Taken out while in use, so a nested call simply finds fewer.
    static POOL: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// A scratch buffer of `len` floats with unspecified contents.
fn take(len: usize) -> Vec<f32> {
    let mut v = POOL.with(|p| p.borrow_mut().pop()).unwrap_or_default();
    v.resize(len, 0.0);
    v
}

fn give(v: Vec<f32>) {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < 8 {
            p.push(v);
        }
    });
}

/// Whether [`forward`] and [`backward_dw`] handle `c` on this machine.
pub(super) fn supported(c: &Conv2d) -> bool {
    c.stride == (1, 1) && simd::available()
}

/// Layout of the padded input of one (image, group): `cig` planes of `hp` rows of `rs` floats.
struct Geo {
    cig: usize,
    cog: usize,
    kk: usize,
    oh: usize,
    ow: usize,
    ow8: usize,
    rs: usize,
    plane: usize,
    /// per `k = (ci*kh + i)*kw + j`: `ci*plane + i*dh*rs + j*dw` (non-decreasing)
    koff: Vec<usize>,
    /// the unpadded input already has this layout
    direct: bool,
}

impl Geo {
    fn new(c: &Conv2d) -> Self {
        let (oh, ow) = (c.out_h(), c.out_w());
        let ow8 = ow.div_ceil(8) * 8;
        let rs = ow8 + (c.kw - 1) * c.dil.1;
        let plane = (c.h + 2 * c.pad.0) * rs;
        let mut koff = Vec::with_capacity(c.cin_g() * c.kh * c.kw);
        for ci in 0..c.cin_g() {
            for i in 0..c.kh {
                for j in 0..c.kw {
                    koff.push(ci * plane + i * c.dil.0 * rs + j * c.dil.1);
                }
            }
        }
        Geo { cig: c.cin_g(), cog: c.cout_g(), kk: c.cin_g() * c.kh * c.kw, oh, ow, ow8, rs, plane, koff, direct: c.pad == (0, 0) && ow8 == ow }
    }

    /// The segments of the 16-pixel AVX-512 kernels, if they apply (`wide`): `(16, 0)` when
    /// rows are a multiple of 16 pixels (16 along a row), `(16, rs)` for maps 8 pixels wide with
    /// an even number of rows (two rows at once: their outputs are contiguous, their inputs two
    /// runs of 8 one padded row apart); else `(8, 0)`.
    fn segment(&self, wide: bool) -> (usize, usize) {
        match (wide, self.ow8) {
            (true, w) if w.is_multiple_of(16) => (16, 0),
            (true, 8) if self.ow == 8 && self.oh.is_multiple_of(2) => (16, self.rs),
            _ => (8, 0),
        }
    }

    fn xlen(&self) -> usize {
        self.cig * self.plane
    }

    /// Writes one (image, group) input `x` (`cig x h x w`) into `xp` (`xlen()` floats).
    fn pad(&self, c: &Conv2d, x: &[f32], xp: &mut [f32]) {
        let (ph, pw, rs) = (c.pad.0, c.pad.1, self.rs);
        for (src, dst) in x.chunks_exact(c.h * c.w).zip(xp.chunks_exact_mut(self.plane)) {
            zero(&mut dst[..ph * rs]);
            for (sr, d) in src.chunks_exact(c.w).zip(dst[ph * rs..].chunks_exact_mut(rs)) {
                zero(&mut d[..pw]);
                copy(&mut d[pw..pw + c.w], sr);
                zero(&mut d[pw + c.w..]);
            }
            zero(&mut dst[(ph + c.h) * rs..]);
        }
    }
}

/// `d.fill(0.0)`; the short runs at row ends as plain stores (no libc call per row).
fn zero(d: &mut [f32]) {
    match d.len() {
        0 => {}
        1 => d[0] = 0.0,
        2 => d.copy_from_slice(&[0.0; 2]),
        3 => d.copy_from_slice(&[0.0; 3]),
        4 => d.copy_from_slice(&[0.0; 4]),
        _ => d.fill(0.0),
    }
}

/// `d.copy_from_slice(s)`; the usual row lengths as fixed-size copies, which compile to a few
/// vector moves (a libc `memcpy` call per 32-float row costs more than the copy).
fn copy(d: &mut [f32], s: &[f32]) {
    fn fixed<const N: usize>(d: &mut [f32], s: &[f32]) {
        let d: &mut [f32; N] = d.try_into().unwrap();
        *d = *<&[f32; N]>::try_from(s).unwrap();
    }
    match s.len() {
        8 => fixed::<8>(d, s),
        16 => fixed::<16>(d, s),
        32 => fixed::<32>(d, s),
        _ => d.copy_from_slice(s),
    }
}

/// Splits `m` channels into the fewest blocks of at most `mr`, of near-equal sizes
/// (`(start, size)`; 16 -> 6, 5, 5 rather than 6, 6, 4; 32 -> 6, 6, 5, 5, 5, 5).
fn blocks(m: usize, mr: usize) -> Vec<(usize, usize)> {
    let nb = m.div_ceil(mr);
    let (q, r) = (m / nb, m % nb);
    let mut c0 = 0;
    (0..nb)
        .map(|b| {
            let sz = q + (b < r) as usize;
            c0 += sz;
            (c0 - sz, sz)
        })
        .collect()
}

/// `y = conv(x, w)` (no bias) for a `supported` `c`.
pub(super) fn forward(c: &Conv2d, x: &[f32], w: &[f32], y: &mut [f32]) {
    let g = Geo::new(c);
    let (p, hw) = (g.oh * g.ow, c.h * c.w);
    let (xs, ys) = (c.c_in * hw, c.c_out * p);
    let blk = blocks(g.cog, simd::FWD_MR);
    // Weights per group and block: `[k][mr]`, the block of channels c0.. starting at c0*kk.
    let mut wpk = take(w.len());
    for gi in 0..c.groups {
        let (wg, pg) = (&w[gi * g.cog * g.kk..][..g.cog * g.kk], &mut wpk[gi * g.cog * g.kk..][..g.cog * g.kk]);
        for &(c0, mr) in &blk {
            for k in 0..g.kk {
                for r in 0..mr {
                    pg[c0 * g.kk + k * mr + r] = wg[(c0 + r) * g.kk + k];
                }
            }
        }
    }
    // Whole segments (x offset, y offset), and each row's partial one; 16 pixels wide with
    // AVX-512 where they apply (the same bits as 8-pixel segments)
    let (seg, xr) = g.segment(simd::wide() && g.ow.is_multiple_of(8));
    let mut segs = Vec::new();
    let mut tails = Vec::new();
    let pairs = if xr > 0 { 2 } else { 1 };
    for oy in (0..g.oh).step_by(pairs) {
        for s in (0..g.ow).step_by(seg / pairs) {
            let o = (oy * g.rs + s, oy * g.ow + s);
            if s + seg / pairs <= g.ow {
                segs.push(o);
            } else {
                tails.push(o);
            }
        }
    }
    let tail_len = g.ow % 8;
    let per_image = |ni: usize, yi: &mut [f32], xp: &mut [f32]| {
        for gi in 0..c.groups {
            let xg = &x[ni * xs + gi * g.cig * hw..][..g.cig * hw];
            let src: &[f32] = if g.direct {
                xg
            } else {
                g.pad(c, xg, xp);
                xp
            };
            let yg = &mut yi[gi * g.cog * p..][..g.cog * p];
            let wg = &wpk[gi * g.cog * g.kk..][..g.cog * g.kk];
            for &(c0, mr) in &blk {
                let wb = &wg[c0 * g.kk..][..mr * g.kk];
                let yb = &mut yg[c0 * p..];
                if seg == 16 {
                    simd::fwd_segs16(mr, wb, &g.koff, src, xr, &segs, yb, p);
                } else {
                    simd::fwd_segs(mr, wb, &g.koff, src, &segs, yb, p);
                }
                let mut tmp = [0.0f32; simd::FWD_MR * 8];
                for &(xo, yo) in &tails {
                    simd::fwd(mr, wb, &g.koff, src, &[xo], &mut tmp, &[0], 8);
                    for r in 0..mr {
                        yb[r * p + yo..][..tail_len].copy_from_slice(&tmp[r * 8..][..tail_len]);
                    }
                }
            }
        }
    };
    let xp_len = if g.direct { 0 } else { g.xlen() };
    y.par_chunks_mut(ys).enumerate().for_each(|(ni, yi)| {
        let mut xp = take(xp_len);
        per_image(ni, yi, &mut xp);
        give(xp);
    });
    give(wpk);
}

/// Segments per dW reduction block: each tile's final horizontal sums are amortized over
/// them, and a block of 4 channels of `dy` (16 KiB) stays in L1 across all taps.
const DW_BLOCK: usize = 128;
/// At least this many images per dW partial sum.
const DW_CHUNK: usize = 4;

/// `dw = dW(x, dy)` (overwritten) for a `supported` `c`.
pub(super) fn backward_dw(c: &Conv2d, x: &[f32], dy: &[f32], dw: &mut [f32]) {
    let g = Geo::new(c);
    let (p, hw) = (g.oh * g.ow, c.h * c.w);
    let (xs, ys) = (c.c_in * hw, c.c_out * p);
    let dy_direct = g.ow8 == g.ow;
    let dy_row = g.ow8;
    let dy_plane = g.oh * g.ow8;
    // 16-pixel segments with AVX-512 where they apply (two rows at once need `dy` unpadded)
    let (seg, xr) = match g.segment(simd::wide()) {
        (16, xr) if xr > 0 && !dy_direct => (8, 0),
        m => m,
    };
    let pairs = if xr > 0 { 2 } else { 1 };
    let seg_img = g.oh * g.ow8 / seg;
    // Images per reduction pass, and per partial sum (chunks depend on the shape only, not on
    // the thread count, and are summed in order: deterministic).
    let sb = (2 * DW_BLOCK).div_ceil(seg_img).clamp(1, 16);
    let chunk_imgs = sb * DW_CHUNK.div_ceil(sb);
    let blk = blocks(g.cog, simd::DW_MR);
    let dw_len = dw.len();
    let chunk = |i0: usize, i1: usize| -> Vec<f32> {
        let mut out = take(dw_len);
        zero(&mut out);
        let (mut xp, mut dyp, mut segs) = (take(0), take(0), Segs::default());
        for b0 in (i0..i1).step_by(sb) {
            let b1 = (b0 + sb).min(i1);
            for gi in 0..c.groups {
                if !g.direct {
                    xp.resize((b1 - b0) * g.xlen(), 0.0);
                    for (k, ni) in (b0..b1).enumerate() {
                        g.pad(c, &x[ni * xs + gi * g.cig * hw..][..g.cig * hw], &mut xp[k * g.xlen()..][..g.xlen()]);
                    }
                }
                if !dy_direct {
                    dyp.resize((b1 - b0) * g.cog * dy_plane, 0.0);
                    for (k, ni) in (b0..b1).enumerate() {
                        let src = &dy[ni * ys + gi * g.cog * p..][..g.cog * p];
                        let dst = &mut dyp[k * g.cog * dy_plane..][..g.cog * dy_plane];
                        for (sr, d) in src.chunks_exact(g.ow).zip(dst.chunks_exact_mut(dy_row)) {
                            copy(&mut d[..g.ow], sr);
                            zero(&mut d[g.ow..]);
                        }
                    }
                }
                let (xb, dyb): (&[f32], &[f32]) = (if g.direct { x } else { &xp }, if dy_direct { dy } else { &dyp });
                let (dys, dyr) = if dy_direct { (p, g.ow) } else { (dy_plane, dy_row) };
                segs.clear();
                for (k, ni) in (b0..b1).enumerate() {
                    let xo = if g.direct { ni * xs + gi * g.cig * hw } else { k * g.xlen() };
                    let dyo = if dy_direct { ni * ys + gi * g.cog * p } else { k * g.cog * dy_plane };
                    for oy in (0..g.oh).step_by(pairs) {
                        for s in (0..g.ow8).step_by(seg / pairs) {
                            segs.push(xo + oy * g.rs + s, dyo + oy * dyr + s);
                        }
                    }
                }
                let og = &mut out[gi * g.cog * g.kk..][..g.cog * g.kk];
                // the same pixels per block whatever the segment width
                let block = DW_BLOCK * 8 / seg;
                for s0 in (0..segs.len()).step_by(block) {
                    let range = s0..(s0 + block).min(segs.len());
                    for &(c0, mr) in &blk {
                        for k0 in (0..g.kk).step_by(simd::DW_KT) {
                            let k1 = (k0 + simd::DW_KT).min(g.kk);
                            let ob = &mut og[c0 * g.kk + k0..];
                            simd::dw(seg, mr, &dyb[c0 * dys..], dys, xb, xr, &g.koff[k0..k1], &segs, range.clone(), ob, g.kk);
                        }
                    }
                }
            }
        }
        give(xp);
        give(dyp);
        out
    };
    let starts: Vec<usize> = (0..c.n).step_by(chunk_imgs).collect();
    let parts: Vec<Vec<f32>> = starts.par_iter().map(|&i0| chunk(i0, (i0 + chunk_imgs).min(c.n))).collect();
    dw.fill(0.0);
    for part in parts {
        dw.iter_mut().zip(&part).for_each(|(d, v)| *d += v);
        give(part);
    }
}

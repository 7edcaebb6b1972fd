//! x86-64 AVX2+FMA microkernels of the direct convolution ([`super::conv_direct`]), chosen at
//! run time ([`available`]). The public functions are safe: they check that every access lies
//! inside the given slices, then run the `#[target_feature]` kernel. Tile sizes are const
//! generics; the drivers dispatch over the few sizes they use ([`fwd`], [`dw`]).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Whether this CPU can run the kernels here (x86-64 with AVX2 and FMA).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Largest output-channel block of [`fwd`] and of [`dw`].
pub const FWD_MR: usize = 6;
pub const DW_MR: usize = 4;
/// Largest tap block of [`dw`].
pub const DW_KT: usize = 3;

/// Forward tile: for `r < mr` and each of the `xo.len()` (1 or 2) segments `v`,
/// `y[yo[v] + r*ys ..][..8] = sum_k w[k*mr + r] * x[xo[v] + off[k] ..][..8]`.
/// `1 <= mr <= FWD_MR`; `off` in any order (its largest entry bounds the reads).
#[allow(clippy::too_many_arguments)]
pub fn fwd(mr: usize, w: &[f32], off: &[usize], x: &[f32], xo: &[usize], y: &mut [f32], yo: &[usize], ys: usize) {
    assert!((1..=FWD_MR).contains(&mr) && (1..=2).contains(&xo.len()) && xo.len() == yo.len());
    assert!(w.len() >= off.len() * mr);
    // the largest offset, whatever the order (one pass over `off`, against `off.len() * mr` FMAs)
    let last = off.iter().copied().max().unwrap_or(0);
    assert!(xo.iter().all(|&o| o + last + 8 <= x.len()), "simd::fwd: x out of bounds");
    assert!(yo.iter().all(|&o| o + (mr - 1) * ys + 8 <= y.len()), "simd::fwd: y out of bounds");
    assert!(available());
    let (xp, yp) = (x.as_ptr(), y.as_mut_ptr());
    macro_rules! go {
        ($($m:literal)*) => {
            match (mr, xo.len()) {
                $(($m, 1) => unsafe { fwd_tile::<$m, 1>(w.as_ptr(), off, xp, [xo[0]], yp, [yo[0]], ys) },
                  ($m, _) => unsafe { fwd_tile::<$m, 2>(w.as_ptr(), off, xp, [xo[0], xo[1]], yp, [yo[0], yo[1]], ys) },)*
                _ => unreachable!(),
            }
        };
    }
    // SAFETY (all arms): AVX2+FMA checked by `available`; the reads `x[xo[v] + off[k]..][..8]`
    // (off[k] <= last, the maximum), `w[..off.len()*mr]` and the writes `y[yo[v] + r*ys..][..8]` (r < mr)
    // were bounds-checked above.
    go!(1 2 3 4 5 6)
}

/// [`fwd`] over a list of whole segments `(x offset, y offset)`, two at a time (the last one
/// alone if their number is odd); one bounds check for the whole list.
pub fn fwd_segs(mr: usize, w: &[f32], off: &[usize], x: &[f32], segs: &[(usize, usize)], y: &mut [f32], ys: usize) {
    assert!((1..=FWD_MR).contains(&mr));
    assert!(w.len() >= off.len() * mr);
    // the largest offset, whatever the order (one pass over `off`, against `off.len() * mr` FMAs)
    let last = off.iter().copied().max().unwrap_or(0);
    let (mx, my) = segs.iter().fold((0, 0), |(a, b), &(xo, yo)| (a.max(xo), b.max(yo)));
    assert!(segs.is_empty() || (mx + last + 8 <= x.len() && my + (mr - 1) * ys + 8 <= y.len()), "simd::fwd_segs: out of bounds");
    assert!(available());
    let (xp, yp) = (x.as_ptr(), y.as_mut_ptr());
    macro_rules! go {
        ($($m:literal)*) => {
            match mr {
                // SAFETY: AVX2+FMA checked by `available`; every segment's reads
                // `x[xo + off[k]..][..8]` and writes `y[yo + r*ys..][..8]` (r < mr) lie below
                // the maxima checked above, and `w` holds `off.len()*mr` floats.
                $($m => unsafe { fwd_list::<$m>(w.as_ptr(), off, xp, segs, yp, ys) },)*
                _ => unreachable!(),
            }
        };
    }
    go!(1 2 3 4 5 6)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fwd_list<const MR: usize>(w: *const f32, off: &[usize], x: *const f32, segs: &[(usize, usize)], y: *mut f32, ys: usize) {
    let mut it = segs.chunks_exact(2);
    for p in &mut it {
        // SAFETY: per `fwd_segs`'s checks.
        unsafe { fwd_tile::<MR, 2>(w, off, x, [p[0].0, p[1].0], y, [p[0].1, p[1].1], ys) };
    }
    for p in it.remainder() {
        // SAFETY: per `fwd_segs`'s checks.
        unsafe { fwd_tile::<MR, 1>(w, off, x, [p.0], y, [p.1], ys) };
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn fwd_list<const MR: usize>(_: *const f32, _: &[usize], _: *const f32, _: &[(usize, usize)], _: *mut f32, _: usize) {
    unreachable!("simd kernels need x86-64")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn fwd_tile<const MR: usize, const NV: usize>(w: *const f32, off: &[usize], x: *const f32, xo: [usize; NV], y: *mut f32, yo: [usize; NV], ys: usize) {
    let mut acc = [[_mm256_setzero_ps(); NV]; MR];
    let mut wp = w;
    for &o in off {
        let mut b = [_mm256_setzero_ps(); NV];
        for v in 0..NV {
            // SAFETY: in bounds per `fwd`'s checks.
            b[v] = unsafe { _mm256_loadu_ps(x.add(xo[v] + o)) };
        }
        for row in acc.iter_mut() {
            // SAFETY: `wp` walks `w[..off.len()*MR]`.
            let a = unsafe { _mm256_broadcast_ss(&*wp) };
            wp = unsafe { wp.add(1) };
            for v in 0..NV {
                row[v] = _mm256_fmadd_ps(a, b[v], row[v]);
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        for v in 0..NV {
            // SAFETY: in bounds per `fwd`'s checks.
            unsafe { _mm256_storeu_ps(y.add(yo[v] + r * ys), row[v]) };
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::too_many_arguments)]
unsafe fn fwd_tile<const MR: usize, const NV: usize>(_: *const f32, _: &[usize], _: *const f32, _: [usize; NV], _: *mut f32, _: [usize; NV], _: usize) {
    unreachable!("simd kernels need x86-64")
}

/// A list of 8-pixel segments `(x offset, dy offset)` for [`dw`], with the largest of each.
#[derive(Default)]
pub struct Segs {
    v: Vec<(usize, usize)>,
    max: (usize, usize),
}

impl Segs {
    pub fn clear(&mut self) {
        self.v.clear();
        self.max = (0, 0);
    }
    pub fn push(&mut self, xo: usize, dyo: usize) {
        self.v.push((xo, dyo));
        self.max = (self.max.0.max(xo), self.max.1.max(dyo));
    }
    pub fn len(&self) -> usize {
        self.v.len()
    }
}

/// Weight-gradient tile: for `r < mr`, `t < off.len()` (at most `DW_KT`),
/// `out[r*ldo + t] += sum over the segments (xo, dyo) of `segs.v[range]` and lanes l < 8 of
/// dy[dyo + r*dys + l] * x[xo + off[t] + l]`; `1 <= mr <= DW_MR`.
#[allow(clippy::too_many_arguments)]
pub fn dw(mr: usize, dy: &[f32], dys: usize, x: &[f32], off: &[usize], segs: &Segs, range: std::ops::Range<usize>, out: &mut [f32], ldo: usize) {
    let kt = off.len();
    assert!((1..=DW_MR).contains(&mr) && (1..=DW_KT).contains(&kt));
    assert!((mr - 1) * ldo + kt <= out.len(), "simd::dw: out out of bounds");
    let last = off.iter().copied().max().unwrap();
    assert!(segs.max.0 + last + 8 <= x.len() && segs.max.1 + (mr - 1) * dys + 8 <= dy.len(), "simd::dw: input out of bounds");
    let segs = &segs.v[range];
    assert!(available());
    let mut acc = [[0.0f32; DW_KT]; DW_MR];
    let (xp, dp) = (x.as_ptr(), dy.as_ptr());
    macro_rules! go {
        ($(($m:literal, $t:literal))*) => {
            match (mr, kt) {
                $(($m, $t) => {
                    let mut o = [0usize; $t];
                    o.copy_from_slice(off);
                    // SAFETY: AVX2+FMA checked by `available`; every read was bounds-checked above.
                    let a = unsafe { dw_tile::<$m, $t>(dp, dys, xp, o, segs) };
                    for r in 0..$m {
                        acc[r][..$t].copy_from_slice(&a[r]);
                    }
                })*
                _ => unreachable!(),
            }
        };
    }
    go!((1, 1)(1, 2)(1, 3)(2, 1)(2, 2)(2, 3)(3, 1)(3, 2)(3, 3)(4, 1)(4, 2)(4, 3));
    for r in 0..mr {
        for t in 0..kt {
            out[r * ldo + t] += acc[r][t];
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dw_tile<const MR: usize, const KT: usize>(dy: *const f32, dys: usize, x: *const f32, off: [usize; KT], segs: &[(usize, usize)]) -> [[f32; KT]; MR] {
    let mut acc = [[_mm256_setzero_ps(); KT]; MR];
    for &(xo, dyo) in segs {
        let mut xv = [_mm256_setzero_ps(); KT];
        for t in 0..KT {
            // SAFETY: in bounds per `dw`'s checks.
            xv[t] = unsafe { _mm256_loadu_ps(x.add(xo + off[t])) };
        }
        for (r, row) in acc.iter_mut().enumerate() {
            // SAFETY: in bounds per `dw`'s checks.
            let d = unsafe { _mm256_loadu_ps(dy.add(dyo + r * dys)) };
            for t in 0..KT {
                row[t] = _mm256_fmadd_ps(d, xv[t], row[t]);
            }
        }
    }
    let mut out = [[0.0f32; KT]; MR];
    for r in 0..MR {
        for t in 0..KT {
            out[r][t] = hsum(acc[r][t]);
        }
    }
    out
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn dw_tile<const MR: usize, const KT: usize>(_: *const f32, _: usize, _: *const f32, _: [usize; KT], _: &[(usize, usize)]) -> [[f32; KT]; MR] {
    unreachable!("simd kernels need x86-64")
}

/// Sum of the 8 lanes (a fixed order: deterministic).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    _mm_cvtss_f32(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `fwd` with offsets in any order reads within bounds and computes the sum; an `x` too
    /// short for the largest offset (not the last one) is refused, not read past.
    #[test]
    fn fwd_takes_unsorted_offsets() {
        if !available() {
            return;
        }
        let off = [9usize, 0, 4];
        let w: Vec<f32> = (0..off.len() * 2).map(|i| i as f32 * 0.5 - 1.0).collect();
        let x: Vec<f32> = (0..9 + 8).map(|i| (i as f32).sin()).collect();
        let mut y = vec![0.0f32; 8 + 8];
        fwd(2, &w, &off, &x, &[0], &mut y, &[0], 8);
        for r in 0..2 {
            for l in 0..8 {
                let want: f32 = off.iter().enumerate().map(|(k, &o)| w[k * 2 + r] * x[o + l]).sum();
                assert!((y[r * 8 + l] - want).abs() < 1e-5, "row {r} lane {l}: {} vs {want}", y[r * 8 + l]);
            }
        }
        let short = &x[..9 + 7];
        assert!(std::panic::catch_unwind(|| fwd(2, &w, &off, short, &[0], &mut [0.0; 16], &[0], 8)).is_err());
    }
}

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

/// Whether this CPU also has AVX-512F, for the 16-pixel kernels ([`fwd_segs16`], [`dw`] with 16-pixel segments).
/// `NASC_NO_AVX512=1` turns them off (to compare, or on a CPU that slows its clock for them).
pub fn wide() -> bool {
    static WIDE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WIDE.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            available() && is_x86_feature_detected!("avx512f") && std::env::var_os("NASC_NO_AVX512").is_none_or(|v| v.is_empty() || v == "0")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
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
/// `out[r*ldo + t] += sum over the segments (xo, dyo) of `segs.v[range]` and lanes l < width of
/// dy[dyo + r*dys + l] * x[xo + off[t] + l]`; `1 <= mr <= DW_MR`. `width` 8: AVX2 (8-pixel
/// segments); 16: AVX-512F (needs [`wide`]), `dy` contiguous and `x` contiguous, or with
/// `xr > 0` two runs of 8 at `xo` and `xo + xr` as in [`fwd_segs16`] (deterministic, fixed lane
/// order; not the same bits as 8-pixel segments).
#[allow(clippy::too_many_arguments)]
pub fn dw(width: usize, mr: usize, dy: &[f32], dys: usize, x: &[f32], xr: usize, off: &[usize], segs: &Segs, range: std::ops::Range<usize>, out: &mut [f32], ldo: usize) {
    let kt = off.len();
    assert!((1..=DW_MR).contains(&mr) && (1..=DW_KT).contains(&kt));
    assert!((mr - 1) * ldo + kt <= out.len(), "simd::dw: out out of bounds");
    assert!(width == 8 && xr == 0 || width == 16, "simd::dw: segments of {width} pixels");
    let last = off.iter().copied().max().unwrap();
    let reach = if xr == 0 { width } else { 16.max(xr + 8) };
    assert!(segs.max.0 + last + reach <= x.len() && segs.max.1 + (mr - 1) * dys + width <= dy.len(), "simd::dw: input out of bounds");
    let segs = &segs.v[range];
    assert!(if width == 16 { wide() } else { available() });
    let mut acc = [[0.0f32; DW_KT]; DW_MR];
    let (xp, dp) = (x.as_ptr(), dy.as_ptr());
    macro_rules! go {
        ($(($m:literal, $t:literal))*) => {
            match (mr, kt) {
                $(($m, $t) => {
                    let mut o = [0usize; $t];
                    o.copy_from_slice(off);
                    // SAFETY: AVX2+FMA (`available`) or AVX-512F (`wide`) checked above; every
                    // read was bounds-checked above.
                    let a = unsafe {
                        match (width, xr) {
                            (8, _) => dw_tile::<$m, $t>(dp, dys, xp, o, segs),
                            (_, 0) => dw_tile16::<$m, $t, false>(dp, dys, xp, 0, o, segs),
                            _ => dw_tile16::<$m, $t, true>(dp, dys, xp, xr, o, segs),
                        }
                    };
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

/// [`fwd_segs`] with 16-pixel segments and AVX-512F (needs [`wide`]): the same sums in the same
/// order per output pixel, so the same bits as the 8-pixel kernels. `xr == 0`: a segment's 16
/// input pixels are contiguous; else they are two runs of 8, at `xo` and `xo + xr` (two 8-pixel
/// rows of a padded plane whose outputs are contiguous: 8x8 maps).
#[allow(clippy::too_many_arguments)]
pub fn fwd_segs16(mr: usize, w: &[f32], off: &[usize], x: &[f32], xr: usize, segs: &[(usize, usize)], y: &mut [f32], ys: usize) {
    assert!((1..=FWD_MR).contains(&mr));
    assert!(w.len() >= off.len() * mr);
    let last = off.iter().copied().max().unwrap_or(0);
    let (mx, my) = segs.iter().fold((0, 0), |(a, b), &(xo, yo)| (a.max(xo), b.max(yo)));
    let reach = if xr == 0 { 16 } else { 16.max(xr + 8) };
    assert!(segs.is_empty() || (mx + last + reach <= x.len() && my + (mr - 1) * ys + 16 <= y.len()), "simd::fwd_segs16: out of bounds");
    assert!(wide());
    let (xp, yp) = (x.as_ptr(), y.as_mut_ptr());
    macro_rules! go {
        ($($m:literal)*) => {
            match (mr, xr) {
                // SAFETY: AVX-512F checked by `wide`; every segment's reads
                // `x[xo + off[k]..][..reach]` and writes `y[yo + r*ys..][..16]` (r < mr) lie
                // below the maxima checked above, and `w` holds `off.len()*mr` floats.
                $(($m, 0) => unsafe { fwd_list16::<$m, false>(w.as_ptr(), off, xp, 0, segs, yp, ys) },
                  ($m, _) => unsafe { fwd_list16::<$m, true>(w.as_ptr(), off, xp, xr, segs, yp, ys) },)*
                _ => unreachable!(),
            }
        };
    }
    go!(1 2 3 4 5 6)
}

/// 16 floats at `x`, or with `SPLIT` 8 at `x` then 8 at `x + xr`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn load16<const SPLIT: bool>(x: *const f32, xr: usize) -> __m512 {
    if SPLIT {
        // SAFETY: the caller's bounds cover both runs.
        let (lo, hi) = unsafe { (_mm256_loadu_ps(x), _mm256_loadu_ps(x.add(xr))) };
        _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1))
    } else {
        // SAFETY: the caller's bounds cover the 16 floats.
        unsafe { _mm512_loadu_ps(x) }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn fwd_list16<const MR: usize, const SPLIT: bool>(w: *const f32, off: &[usize], x: *const f32, xr: usize, segs: &[(usize, usize)], y: *mut f32, ys: usize) {
    let mut it = segs.chunks_exact(2);
    for p in &mut it {
        // SAFETY: per `fwd_segs16`'s checks.
        unsafe { fwd_tile16::<MR, 2, SPLIT>(w, off, x, xr, [p[0].0, p[1].0], y, [p[0].1, p[1].1], ys) };
    }
    for p in it.remainder() {
        // SAFETY: per `fwd_segs16`'s checks.
        unsafe { fwd_tile16::<MR, 1, SPLIT>(w, off, x, xr, [p.0], y, [p.1], ys) };
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::too_many_arguments)]
unsafe fn fwd_list16<const MR: usize, const SPLIT: bool>(_: *const f32, _: &[usize], _: *const f32, _: usize, _: &[(usize, usize)], _: *mut f32, _: usize) {
    unreachable!("simd kernels need x86-64")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn fwd_tile16<const MR: usize, const NV: usize, const SPLIT: bool>(
    w: *const f32,
    off: &[usize],
    x: *const f32,
    xr: usize,
    xo: [usize; NV],
    y: *mut f32,
    yo: [usize; NV],
    ys: usize,
) {
    let mut acc = [[_mm512_setzero_ps(); NV]; MR];
    let mut wp = w;
    for &o in off {
        let mut b = [_mm512_setzero_ps(); NV];
        for v in 0..NV {
            // SAFETY: in bounds per `fwd_segs16`'s checks.
            b[v] = unsafe { load16::<SPLIT>(x.add(xo[v] + o), xr) };
        }
        for row in acc.iter_mut() {
            // SAFETY: `wp` walks `w[..off.len()*MR]`.
            let a = _mm512_set1_ps(unsafe { *wp });
            wp = unsafe { wp.add(1) };
            for v in 0..NV {
                row[v] = _mm512_fmadd_ps(a, b[v], row[v]);
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        for v in 0..NV {
            // SAFETY: in bounds per `fwd_segs16`'s checks.
            unsafe { _mm512_storeu_ps(y.add(yo[v] + r * ys), row[v]) };
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::too_many_arguments)]
unsafe fn fwd_tile16<const MR: usize, const NV: usize, const SPLIT: bool>(
    _: *const f32,
    _: &[usize],
    _: *const f32,
    _: usize,
    _: [usize; NV],
    _: *mut f32,
    _: [usize; NV],
    _: usize,
) {
    unreachable!("simd kernels need x86-64")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn dw_tile16<const MR: usize, const KT: usize, const SPLIT: bool>(
    dy: *const f32,
    dys: usize,
    x: *const f32,
    xr: usize,
    off: [usize; KT],
    segs: &[(usize, usize)],
) -> [[f32; KT]; MR] {
    let mut acc = [[_mm512_setzero_ps(); KT]; MR];
    for &(xo, dyo) in segs {
        let mut xv = [_mm512_setzero_ps(); KT];
        for t in 0..KT {
            // SAFETY: in bounds per `dw`'s checks.
            xv[t] = unsafe { load16::<SPLIT>(x.add(xo + off[t]), xr) };
        }
        for (r, row) in acc.iter_mut().enumerate() {
            // SAFETY: in bounds per `dw`'s checks.
            let d = unsafe { _mm512_loadu_ps(dy.add(dyo + r * dys)) };
            for t in 0..KT {
                row[t] = _mm512_fmadd_ps(d, xv[t], row[t]);
            }
        }
    }
    let mut out = [[0.0f32; KT]; MR];
    for r in 0..MR {
        for t in 0..KT {
            out[r][t] = _mm512_reduce_add_ps(acc[r][t]);
        }
    }
    out
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn dw_tile16<const MR: usize, const KT: usize, const SPLIT: bool>(
    _: *const f32,
    _: usize,
    _: *const f32,
    _: usize,
    _: [usize; KT],
    _: &[(usize, usize)],
) -> [[f32; KT]; MR] {
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

    /// The 16-pixel AVX-512 kernels against the 8-pixel ones on the same data: the forward
    /// gives the same bits (the same sums in the same order per pixel), the weight gradient the
    /// same sums within rounding.
    #[test]
    fn wide_kernels_agree_with_the_8_pixel_ones() {
        if !wide() {
            eprintln!("no AVX-512F here: the 16-pixel kernels are not used");
            return;
        }
        let mut seed = 7u64;
        let mut rnd = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        };
        let off = [0usize, 1, 2, 34, 35, 36, 68, 69, 70];
        let x: Vec<f32> = (0..34 * 40).map(|_| rnd()).collect();
        for mr in 1..=FWD_MR {
            let w: Vec<f32> = (0..off.len() * mr).map(|_| rnd()).collect();
            // rows of 32 pixels: two 16-pixel segments or four 8-pixel ones each
            let s16: Vec<(usize, usize)> = (0..5).flat_map(|r| [0, 16].map(move |s| (r * 34 + s, r * 32 + s))).collect();
            let s8: Vec<(usize, usize)> = (0..5).flat_map(|r| [0, 8, 16, 24].map(move |s| (r * 34 + s, r * 32 + s))).collect();
            let (mut a, mut b) = (vec![0.0f32; 160 * mr], vec![0.0f32; 160 * mr]);
            fwd_segs16(mr, &w, &off, &x, 0, &s16, &mut a, 160);
            fwd_segs(mr, &w, &off, &x, &s8, &mut b, 160);
            assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()), "fwd mr {mr}");
        }
        let dy: Vec<f32> = (0..4 * 160).map(|_| rnd()).collect();
        for mr in 1..=DW_MR {
            for kt in 1..=DW_KT {
                let (mut g16, mut g8) = (Segs::default(), Segs::default());
                for r in 0..5 {
                    for s in [0, 16] {
                        g16.push(r * 34 + s, r * 32 + s);
                    }
                    for s in [0, 8, 16, 24] {
                        g8.push(r * 34 + s, r * 32 + s);
                    }
                }
                let (mut a, mut b) = (vec![0.0f32; 4 * kt], vec![0.0f32; 4 * kt]);
                dw(16, mr, &dy, 160, &x, 0, &off[..kt], &g16, 0..g16.len(), &mut a, kt);
                dw(8, mr, &dy, 160, &x, 0, &off[..kt], &g8, 0..g8.len(), &mut b, kt);
                for (p, q) in a.iter().zip(&b) {
                    assert!((p - q).abs() <= 1e-5 * (1.0 + q.abs()), "dw mr {mr} kt {kt}: {p} vs {q}");
                }
                assert!(a[..mr * kt].iter().any(|v| *v != 0.0));
            }
        }
        // a segment reaching past `x` is refused, not read
        let short = &x[..2 * 34 + 16 + 1];
        assert!(std::panic::catch_unwind(|| fwd_segs16(1, &[1.0; 9], &off, short, 0, &[(34, 0)], &mut [0.0; 16], 16)).is_err());
    }
}

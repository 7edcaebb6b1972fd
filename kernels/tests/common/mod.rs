#![allow(dead_code)]
//! Helpers shared by the integration tests: a seeded RNG and the standard test shapes.

use nasc_kernels::shape::*;

/// SplitMix64: tiny, seeded, good enough for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let u = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * u
    }
    pub fn vec(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
    /// Uniform values at least `gap` away from every kink.
    pub fn vec_away(&mut self, n: usize, lo: f32, hi: f32, kinks: &[f32], gap: f32) -> Vec<f32> {
        (0..n)
            .map(|_| loop {
                let v = self.uniform(lo, hi);
                if kinks.iter().all(|k| (v - k).abs() >= gap) {
                    break v;
                }
            })
            .collect()
    }
    /// `n` distinct values spaced `gap` apart, in random order (max pooling without ties).
    pub fn distinct(&mut self, n: usize, gap: f32) -> Vec<f32> {
        let mut v: Vec<f32> = (0..n).map(|i| (i as f32 - n as f32 / 2.0) * gap).collect();
        for i in (1..n).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
        v
    }
    pub fn labels(&mut self, n: usize, k: usize) -> Vec<u32> {
        (0..n).map(|_| (self.next_u64() % k as u64) as u32).collect()
    }
}

#[allow(clippy::too_many_arguments)]
fn conv(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, k: (usize, usize), s: (usize, usize), p: (usize, usize), d: (usize, usize), g: usize, bias: bool) -> Conv2d {
    Conv2d { n, c_in, h, w, c_out, kh: k.0, kw: k.1, stride: s, pad: p, dil: d, groups: g, bias }
}

/// Conv configurations covering odd sizes, stride 2, dilation 2, groups, depthwise, 1xk/kx1,
/// pointwise, and both threading paths (n = 1 and n >= threads).
pub fn conv_cases() -> Vec<(&'static str, Conv2d)> {
    vec![
        ("3x3 s1 p1 bias", conv(2, 3, 7, 6, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1, true)),
        ("3x3 s2 p1", conv(3, 3, 9, 7, 5, (3, 3), (2, 2), (1, 1), (1, 1), 1, false)),
        ("3x3 dil2 p2", conv(2, 2, 9, 8, 3, (3, 3), (1, 1), (2, 2), (2, 2), 1, false)),
        ("5x5 dil2 s2 p4", conv(1, 3, 11, 9, 2, (5, 5), (2, 2), (4, 4), (2, 2), 1, true)),
        ("groups2 s2", conv(2, 4, 7, 7, 6, (3, 3), (2, 2), (1, 1), (1, 1), 2, true)),
        ("depthwise 3x3 s2 dil2", conv(2, 3, 9, 9, 3, (3, 3), (2, 2), (2, 2), (2, 2), 3, false)),
        ("depthwise x2 5x5", conv(3, 2, 7, 5, 4, (5, 5), (1, 1), (2, 2), (1, 1), 2, true)),
        ("1x5", conv(2, 3, 5, 9, 4, (1, 5), (1, 1), (0, 2), (1, 1), 1, false)),
        ("3x1 s(2,1)", conv(2, 3, 9, 5, 4, (3, 1), (2, 1), (1, 0), (1, 1), 1, false)),
        ("1x1 pointwise", conv(5, 6, 5, 3, 7, (1, 1), (1, 1), (0, 0), (1, 1), 1, true)),
        ("1x1 s2", conv(2, 4, 7, 7, 3, (1, 1), (2, 2), (0, 0), (1, 1), 1, false)),
    ]
}

pub fn pool_cases() -> Vec<(&'static str, Pool2d)> {
    let p = |n, c, h, w, k, s, pad, kind| Pool2d { n, c, h, w, k, stride: s, pad, kind };
    vec![
        ("avg3 s1 p1 excl", p(2, 3, 7, 6, (3, 3), (1, 1), (1, 1), PoolKind::Avg { count_include_pad: false })),
        ("avg3 s1 p1 incl", p(2, 3, 7, 6, (3, 3), (1, 1), (1, 1), PoolKind::Avg { count_include_pad: true })),
        ("avg3 s2 p1 excl", p(2, 2, 9, 7, (3, 3), (2, 2), (1, 1), PoolKind::Avg { count_include_pad: false })),
        ("avg2 s2", p(3, 2, 7, 9, (2, 2), (2, 2), (0, 0), PoolKind::Avg { count_include_pad: true })),
        ("max3 s1 p1", p(2, 3, 7, 6, (3, 3), (1, 1), (1, 1), PoolKind::Max)),
        ("max3 s2 p1", p(2, 2, 9, 7, (3, 3), (2, 2), (1, 1), PoolKind::Max)),
        ("max2 s2", p(1, 3, 7, 5, (2, 2), (2, 2), (0, 0), PoolKind::Max)),
    ]
}

/// Max abs error scaled by the reference's magnitude: `max|a-b| / max(1, max|b|)`.
pub fn rel_err(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let err = a.iter().zip(b).fold(0.0f32, |m, (x, y)| if x.is_nan() != y.is_nan() { f32::INFINITY } else { m.max((x - y).abs()) });
    err / scale
}

/// Convolutions on maps no larger than the kernel (a 7x7 depthwise on the 1x1 map at the end of
/// a MobileNetV3-style network), for every kernel size 1, 3, 5, 7 and strides 1 and 2, padded
/// as the network builder pads them: "same" padding (`Pad4::same`; an asymmetric one becomes
/// an explicitly padded input and no conv padding, as in `model.rs`) and the symmetric `k/2` of
/// an explicit `pad`. Three channel layouts each: depthwise, depthwise with multiplier 2, and
/// dense.
pub fn small_map_cases() -> Vec<(String, Conv2d)> {
    use nasc_kernels::graph::Pad4;
    let mut v = Vec::new();
    for k in [1usize, 3, 5, 7] {
        for s in [1usize, 2] {
            let mut sizes = vec![(1, 1), (2, 2), (1, 2), (3, 2), (k, k)];
            sizes.dedup();
            for (h, w) in sizes {
                for same in [true, false] {
                    let (ph, pw, hp, wp) = if same {
                        let p = Pad4::same(h, w, (k, k), s, 1);
                        if p.is_symmetric() {
                            (p.top, p.left, h, w)
                        } else {
                            (0, 0, h + p.top + p.bottom, w + p.left + p.right)
                        }
                    } else {
                        (k / 2, k / 2, h, w)
                    };
                    for (what, c_in, c_out, g) in [("depthwise", 3, 3, 3), ("depthwise x2", 2, 4, 2), ("dense", 3, 5, 1)] {
                        let name = format!("{what} k{k} s{s} {h}x{w} {}", if same { "same" } else { "pad k/2" });
                        v.push((name, conv(2, c_in, hp, wp, c_out, (k, k), (s, s), (ph, pw), (1, 1), g, g == 1)));
                    }
                }
            }
        }
    }
    v
}

//! Vectorizable reductions: 16 independent partial sums, so LLVM can keep them in SIMD lanes
//! (a plain `iter().sum()` over f32 is one serial add chain it may not reorder). Callers sum
//! these per-plane results in f64.

const L: usize = 16;

/// `sum(a)`.
pub fn sum(a: &[f32]) -> f32 {
    let mut acc = [0.0f32; L];
    let c = a.chunks_exact(L);
    let tail: f32 = c.remainder().iter().sum();
    for u in c {
        for k in 0..L {
            acc[k] += u[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `sum(a * b)`.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f32; L];
    let (ca, cb) = (a.chunks_exact(L), b.chunks_exact(L));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(&x, &y)| x * y).sum();
    for (u, v) in ca.zip(cb) {
        for k in 0..L {
            acc[k] += u[k] * v[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `(sum(a - s), sum((a - s)^2))` in one pass: a batch's mean and variance from one read of
/// the data (shifted by `s`, a value of the data, so the squares do not cancel).
pub fn sum_and_sq_dev(a: &[f32], s: f32) -> (f32, f32) {
    let (mut acc, mut acc2) = ([0.0f32; L], [0.0f32; L]);
    let c = a.chunks_exact(L);
    let (mut t, mut t2) = (0.0f32, 0.0f32);
    for &x in c.remainder() {
        t += x - s;
        t2 += (x - s) * (x - s);
    }
    for u in c {
        for k in 0..L {
            let d = u[k] - s;
            acc[k] += d;
            acc2[k] += d * d;
        }
    }
    (acc.iter().sum::<f32>() + t, acc2.iter().sum::<f32>() + t2)
}

/// `sum(dy * (x - m))`.
pub fn dot_dev(dy: &[f32], x: &[f32], m: f32) -> f32 {
    debug_assert_eq!(dy.len(), x.len());
    let mut acc = [0.0f32; L];
    let (ca, cb) = (dy.chunks_exact(L), x.chunks_exact(L));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(&g, &v)| g * (v - m)).sum();
    for (u, v) in ca.zip(cb) {
        for k in 0..L {
            acc[k] += u[k] * (v[k] - m);
        }
    }
    acc.iter().sum::<f32>() + tail
}

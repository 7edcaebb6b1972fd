//! The paper's search-space statistics (§4.4, §5.2-5.4), computed against true accuracies:
//! size, mean and max accuracy, the shrink index, architectural diversity (cosine distance of
//! encodings), and FLOPs histograms.
//!
//! **Shrink index.** The paper calls a network good when its accuracy reaches a threshold kept
//! constant across the compared spaces, and asks that at least 20% of sampled networks be good.
//! With p = the fraction of good networks in a space, P_good = P(at least k of n uniform samples
//! are good) = the binomial tail (Theorem 1), here with n = 10, k = 2 (20%); the threshold is the
//! original space's top-decile accuracy (so p = 0.1 in the original space). The shrink index is
//! P_good(shrunk) - P_good(original): the paper's equation (2) writes the difference the other
//! way round, but its Table 1 reports positive indices for spaces that improved.
use crate::predict::encode::cosine_distance;
use crate::predict::OneHot;
use crate::svg::{self, Series};
use nasc_compiler::Candidate;

/// Samples and good samples of the shrink index's binomial tail (20% of 10).
pub const SI_SAMPLES: u64 = 10;
pub const SI_GOOD: u64 = 2;

/// Statistics of one space (a member list) against true accuracies.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceStats {
    pub size: usize,
    pub mean_acc: f64,
    pub max_acc: f64,
    /// Fraction of members with accuracy >= the good threshold.
    pub p: f64,
    /// P(at least SI_GOOD of SI_SAMPLES uniform members are good).
    pub p_good: f64,
}

/// `acc[i]` is the true accuracy of member i.
pub fn space_stats(acc: &[f64], good_threshold: f64) -> SpaceStats {
    let n = acc.len();
    let mean = if n == 0 { f64::NAN } else { acc.iter().sum::<f64>() / n as f64 };
    let max = acc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let p = if n == 0 { 0.0 } else { acc.iter().filter(|a| **a >= good_threshold).count() as f64 / n as f64 };
    SpaceStats { size: n, mean_acc: mean, max_acc: max, p, p_good: binomial_tail(SI_SAMPLES, SI_GOOD, p) }
}

/// P(X >= k) for X ~ Binomial(n, p).
pub fn binomial_tail(n: u64, k: u64, p: f64) -> f64 {
    let mut total = 0.0;
    for i in k..=n {
        let mut c = 1.0;
        for j in 0..i {
            c = c * (n - j) as f64 / (j + 1) as f64;
        }
        total += c * p.powi(i as i32) * (1.0 - p).powi((n - i) as i32);
    }
    total
}

/// The shrink index: P_good(shrunk) - P_good(original).
pub fn shrink_index(original: &SpaceStats, shrunk: &SpaceStats) -> f64 {
    shrunk.p_good - original.p_good
}

/// The accuracy at quantile `q` (0..=1) of `acc`, nearest-rank: the value with a fraction of at
/// least `1 - q` of the values at or above it (q = 0.9: the top-decile threshold).
pub fn quantile(acc: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = acc.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let idx = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[idx]
}

/// Architectural diversity: (max, mean) pairwise cosine distance of the members' one-hot
/// encodings. Exact over all pairs (O(n^2)); callers cap n.
pub fn cosine_diversity(enc: &OneHot, members: &[Candidate]) -> (f64, f64) {
    let act: Vec<Vec<usize>> = members.iter().map(|c| enc.active(c)).collect();
    let (mut max, mut sum, mut pairs) = (0.0f64, 0.0, 0u64);
    for i in 0..act.len() {
        for j in i + 1..act.len() {
            let d = cosine_distance(&act[i], &act[j]);
            max = max.max(d);
            sum += d;
            pairs += 1;
        }
    }
    (max, if pairs == 0 { 0.0 } else { sum / pairs as f64 })
}

/// Fractions of `values` in `bins` equal bins over [lo, hi] (the last bin closed).
pub fn histogram(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    let mut h = vec![0.0; bins.max(1)];
    let n = values.len().max(1) as f64;
    let w = (hi - lo) / bins.max(1) as f64;
    for v in values {
        let b = if w > 0.0 { (((v - lo) / w).floor() as isize).clamp(0, bins.max(1) as isize - 1) as usize } else { 0 };
        h[b] += 1.0 / n;
    }
    h
}

/// An SVG of the FLOPs histograms (fraction of the space per bin) of the original and the
/// shrunk space, drawn as step lines over common bins.
pub fn flops_histogram_svg(title: &str, original: &[f64], shrunk: &[f64], bins: usize) -> String {
    let lo = original.iter().chain(shrunk).copied().fold(f64::INFINITY, f64::min);
    let hi = original.iter().chain(shrunk).copied().fold(f64::NEG_INFINITY, f64::max);
    let w = if hi > lo { (hi - lo) / bins as f64 } else { 1.0 };
    let series = |name: &str, v: &[f64], color: &'static str| {
        let h = histogram(v, lo, hi, bins);
        let mut pts: Vec<(f64, f64)> = h.iter().enumerate().map(|(i, f)| (lo + i as f64 * w, *f)).collect();
        pts.push((lo + bins as f64 * w, *h.last().unwrap_or(&0.0)));
        Series::step(format!("{name} ({} archs)", v.len()), pts, color)
    };
    svg::chart(title, "FLOPs", "fraction of the space", &[series("original", original, "#888888"), series("shrunk", shrunk, "#d62728")])
}

/// The histograms as text rows: `lo..hi  original%  shrunk%`.
pub fn flops_histogram_text(original: &[f64], shrunk: &[f64], bins: usize) -> String {
    let lo = original.iter().chain(shrunk).copied().fold(f64::INFINITY, f64::min);
    let hi = original.iter().chain(shrunk).copied().fold(f64::NEG_INFINITY, f64::max);
    let (a, b) = (histogram(original, lo, hi, bins), histogram(shrunk, lo, hi, bins));
    let w = (hi - lo) / bins as f64;
    let mut s = String::new();
    for i in 0..bins {
        s += &format!("{:>9} ..{:>9}  {:>5.1}%  {:>5.1}%\n", svg::fmt_tick(lo + i as f64 * w), svg::fmt_tick(lo + (i + 1) as f64 * w), a[i] * 100.0, b[i] * 100.0);
    }
    s
}

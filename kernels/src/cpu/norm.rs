//! Batch normalization on the CPU (per-channel statistics in f64, parallel over channels).

use super::reduce::{dot_dev, sum, sum_and_sq_dev};
use crate::shape::BatchNorm;
use rayon::prelude::*;

fn planes<'a>(b: &BatchNorm, x: &'a [f32], ch: usize) -> impl Iterator<Item = &'a [f32]> + 'a {
    let (c, hw) = (b.c, b.hw);
    (0..b.n).map(move |ni| &x[(ni * c + ch) * hw..][..hw])
}

/// Training-mode forward: normalizes with the batch mean and biased variance, writes `y`,
/// `save_mean[c]` and `save_invstd[c] = 1/sqrt(var + eps)` (for the backward pass), and updates
/// `running_mean`/`running_var` in place with momentum, using the unbiased variance for the
/// running variance (PyTorch).
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_train_forward(
    b: &BatchNorm,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    running_mean: &mut [f32],
    running_var: &mut [f32],
    y: &mut [f32],
    save_mean: &mut [f32],
    save_invstd: &mut [f32],
) {
    assert_eq!(x.len(), b.len());
    assert_eq!(y.len(), b.len());
    for s in [gamma, beta, &*running_mean, &*running_var, &*save_mean, &*save_invstd] {
        assert_eq!(s.len(), b.c);
    }
    let cnt = (b.n * b.hw) as f64;
    let stats: Vec<(f64, f64)> = (0..b.c)
        .into_par_iter()
        .map(|ch| {
            // one read of the channel: sums shifted by its first value (no cancellation in the
            // squares), accumulated in f32 per plane and f64 across planes
            let shift = planes(b, x, ch).next().and_then(|p| p.first()).copied().unwrap_or(0.0);
            let (s1, s2) = planes(b, x, ch).map(|p| sum_and_sq_dev(p, shift)).fold((0.0f64, 0.0f64), |(a, q), (u, v)| (a + u as f64, q + v as f64));
            let m1 = s1 / cnt;
            (shift as f64 + m1, (s2 / cnt - m1 * m1).max(0.0))
        })
        .collect();
    let m = b.momentum as f64;
    for (ch, &(mean, var)) in stats.iter().enumerate() {
        save_mean[ch] = mean as f32;
        save_invstd[ch] = (1.0 / (var + b.eps as f64).sqrt()) as f32;
        let unbiased = if cnt > 1.0 { var * cnt / (cnt - 1.0) } else { var };
        running_mean[ch] = ((1.0 - m) * running_mean[ch] as f64 + m * mean) as f32;
        running_var[ch] = ((1.0 - m) * running_var[ch] as f64 + m * unbiased) as f32;
    }
    let (sm, si) = (&*save_mean, &*save_invstd);
    y.par_chunks_mut(b.hw).enumerate().for_each(|(plane, yp)| {
        let ch = plane % b.c;
        let xp = &x[plane * b.hw..][..b.hw];
        let scale = gamma[ch] * si[ch];
        let shift = beta[ch] - sm[ch] * scale;
        yp.iter_mut().zip(xp).for_each(|(yv, &xv)| *yv = xv * scale + shift);
    });
}

/// Training-mode backward: `dx` (overwritten), `dgamma`, `dbeta` (overwritten) from the saved
/// batch statistics.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_train_backward(
    b: &BatchNorm,
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    save_mean: &[f32],
    save_invstd: &[f32],
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    assert_eq!(x.len(), b.len());
    assert_eq!(dy.len(), b.len());
    assert_eq!(dx.len(), b.len());
    let sums: Vec<(f64, f64)> = (0..b.c)
        .into_par_iter()
        .map(|ch| {
            let (mean, inv) = (save_mean[ch] as f64, save_invstd[ch] as f64);
            let mut sdy = 0.0;
            let mut sdyx = 0.0;
            for (xp, dyp) in planes(b, x, ch).zip(planes(b, dy, ch)) {
                sdy += sum(dyp) as f64;
                sdyx += dot_dev(dyp, xp, mean as f32) as f64;
            }
            (sdy, sdyx * inv)
        })
        .collect();
    for (ch, &(sdy, sdyx)) in sums.iter().enumerate() {
        dbeta[ch] = sdy as f32;
        dgamma[ch] = sdyx as f32;
    }
    let cnt = (b.n * b.hw) as f32;
    dx.par_chunks_mut(b.hw).enumerate().for_each(|(plane, dxp)| {
        let ch = plane % b.c;
        let xp = &x[plane * b.hw..][..b.hw];
        let dyp = &dy[plane * b.hw..][..b.hw];
        let (mean, inv) = (save_mean[ch], save_invstd[ch]);
        let (mdy, mdyx) = (sums[ch].0 as f32 / cnt, sums[ch].1 as f32 / cnt);
        let k = gamma[ch] * inv;
        for ((d, &xv), &g) in dxp.iter_mut().zip(xp).zip(dyp) {
            let xhat = (xv - mean) * inv;
            *d = k * (g - mdy - xhat * mdyx);
        }
    });
}

/// Eval-mode forward with the running statistics.
pub fn batchnorm_eval_forward(b: &BatchNorm, x: &[f32], gamma: &[f32], beta: &[f32], running_mean: &[f32], running_var: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), b.len());
    assert_eq!(y.len(), b.len());
    y.par_chunks_mut(b.hw).enumerate().for_each(|(plane, yp)| {
        let ch = plane % b.c;
        let xp = &x[plane * b.hw..][..b.hw];
        let scale = gamma[ch] / (running_var[ch] + b.eps).sqrt();
        let shift = beta[ch] - running_mean[ch] * scale;
        yp.iter_mut().zip(xp).for_each(|(yv, &xv)| *yv = xv * scale + shift);
    });
}

/// Eval-mode backward (running statistics are constants): `dx`, `dgamma`, `dbeta` overwritten.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_eval_backward(
    b: &BatchNorm,
    x: &[f32],
    dy: &[f32],
    gamma: &[f32],
    running_mean: &[f32],
    running_var: &[f32],
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    let inv: Vec<f32> = running_var.iter().map(|&v| 1.0 / (v + b.eps).sqrt()).collect();
    let sums: Vec<(f64, f64)> = (0..b.c)
        .into_par_iter()
        .map(|ch| {
            let (mut s0, mut s1) = (0.0, 0.0);
            for (xp, dyp) in planes(b, x, ch).zip(planes(b, dy, ch)) {
                s0 += sum(dyp) as f64;
                s1 += dot_dev(dyp, xp, running_mean[ch]) as f64;
            }
            (s0, s1 * inv[ch] as f64)
        })
        .collect();
    for (ch, &(s0, s1)) in sums.iter().enumerate() {
        dbeta[ch] = s0 as f32;
        dgamma[ch] = s1 as f32;
    }
    dx.par_chunks_mut(b.hw).enumerate().for_each(|(plane, dxp)| {
        let ch = plane % b.c;
        let k = gamma[ch] * inv[ch];
        dxp.iter_mut().zip(&dy[plane * b.hw..][..b.hw]).for_each(|(d, &g)| *d = g * k);
    });
}

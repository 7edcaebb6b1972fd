//! Linear layer and softmax cross-entropy on the CPU.

use super::gemm::{sgemm, Mat};
use crate::shape::Linear;
use rayon::prelude::*;

/// `y = x W^T + b`, `x: [n, inp]`, `w: [out, inp]`, `y: [n, out]`.
pub fn linear_forward(l: &Linear, x: &[f32], w: &[f32], b: Option<&[f32]>, y: &mut [f32]) {
    assert_eq!(x.len(), l.n * l.inp);
    assert_eq!(w.len(), l.out * l.inp);
    assert_eq!(y.len(), l.n * l.out);
    assert_eq!(b.is_some(), l.bias, "linear: bias slice must match l.bias");
    sgemm(l.n, l.out, l.inp, Mat::rm(x, l.inp), Mat::rm_t(w, l.inp), y, l.out, false, true);
    if let Some(b) = b {
        y.par_chunks_mut(l.out).for_each(|r| r.iter_mut().zip(b).for_each(|(v, &bv)| *v += bv));
    }
}

/// Gradients of [`linear_forward`]: `dx = dy W`, `dw = dy^T x`, `db = sum_n dy` (overwritten).
#[allow(clippy::too_many_arguments)]
pub fn linear_backward(l: &Linear, x: &[f32], w: &[f32], dy: &[f32], dx: Option<&mut [f32]>, dw: &mut [f32], db: Option<&mut [f32]>) {
    assert_eq!(dy.len(), l.n * l.out);
    assert_eq!(dw.len(), l.out * l.inp);
    if let Some(dx) = dx {
        assert_eq!(dx.len(), l.n * l.inp);
        sgemm(l.n, l.inp, l.out, Mat::rm(dy, l.out), Mat::rm(w, l.inp), dx, l.inp, false, true);
    }
    sgemm(l.out, l.inp, l.n, Mat::rm_t(dy, l.out), Mat::rm(x, l.inp), dw, l.inp, false, true);
    if let Some(db) = db {
        assert_eq!(db.len(), l.out);
        db.par_iter_mut().enumerate().for_each(|(o, d)| {
            *d = (0..l.n).map(|i| dy[i * l.out + o] as f64).sum::<f64>() as f32;
        });
    }
}

/// Softmax cross-entropy with integer labels, mean over the batch (PyTorch
/// `F.cross_entropy(reduction="mean")`). Writes `dlogits = (softmax - onehot) / n` and returns
/// the loss.
pub fn softmax_xent(n: usize, k: usize, logits: &[f32], labels: &[u32], dlogits: &mut [f32]) -> f32 {
    assert_eq!(logits.len(), n * k);
    assert_eq!(labels.len(), n);
    assert_eq!(dlogits.len(), n * k);
    let inv_n = 1.0 / n as f32;
    let losses: Vec<f64> = dlogits
        .par_chunks_mut(k)
        .enumerate()
        .map(|(i, d)| {
            let z = &logits[i * k..(i + 1) * k];
            let lab = labels[i] as usize;
            assert!(lab < k, "label {lab} out of range for {k} classes");
            let m = z.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let s: f32 = z.iter().map(|&v| (v - m).exp()).sum();
            let lse = m + s.ln();
            for (j, (dv, &zv)) in d.iter_mut().zip(z).enumerate() {
                let p = (zv - m).exp() / s;
                *dv = (p - if j == lab { 1.0 } else { 0.0 }) * inv_n;
            }
            (lse - z[lab]) as f64
        })
        .collect();
    (losses.iter().sum::<f64>() / n as f64) as f32
}

//! Optimizer updates on the CPU (in place, parallel over chunks).

use crate::shape::{AdamW, Sgd};
use rayon::prelude::*;

const CHUNK: usize = 1 << 14;

/// One SGD step (see [`Sgd`] for the exact PyTorch-equivalent update). `buf` is the momentum
/// buffer (zero-initialized, same length as `p`).
pub fn sgd_step(o: &Sgd, lr: f32, p: &mut [f32], g: &[f32], buf: &mut [f32]) {
    assert_eq!(p.len(), g.len());
    assert_eq!(p.len(), buf.len());
    p.par_chunks_mut(CHUNK).zip(g.par_chunks(CHUNK)).zip(buf.par_chunks_mut(CHUNK)).for_each(|((pc, gc), bc)| {
        for ((pv, &gv), bv) in pc.iter_mut().zip(gc).zip(bc.iter_mut()) {
            let mut d = gv + o.weight_decay * *pv;
            if o.momentum != 0.0 {
                *bv = o.momentum * *bv + d;
                d = if o.nesterov { d + o.momentum * *bv } else { *bv };
            }
            *pv -= lr * d;
        }
    });
}

/// One AdamW step; `step` is the 1-based step count after this update (PyTorch's `state['step']`).
#[allow(clippy::too_many_arguments)]
pub fn adamw_step(o: &AdamW, lr: f32, step: u32, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    assert!(step >= 1);
    assert_eq!(p.len(), g.len());
    assert_eq!(p.len(), m.len());
    assert_eq!(p.len(), v.len());
    let bc1 = 1.0 - o.beta1.powi(step as i32);
    let bc2 = 1.0 - o.beta2.powi(step as i32);
    let step_size = lr / bc1;
    let bc2_sqrt = bc2.sqrt();
    let decay = 1.0 - lr * o.weight_decay;
    p.par_chunks_mut(CHUNK).zip(g.par_chunks(CHUNK)).zip(m.par_chunks_mut(CHUNK).zip(v.par_chunks_mut(CHUNK))).for_each(|((pc, gc), (mc, vc))| {
        for (((pv, &gv), mv), vv) in pc.iter_mut().zip(gc).zip(mc.iter_mut()).zip(vc.iter_mut()) {
            *pv *= decay;
            *mv = o.beta1 * *mv + (1.0 - o.beta1) * gv;
            *vv = o.beta2 * *vv + (1.0 - o.beta2) * gv * gv;
            let denom = vv.sqrt() / bc2_sqrt + o.eps;
            *pv -= step_size * *mv / denom;
        }
    });
}

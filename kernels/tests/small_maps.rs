//! Convolutions on maps smaller than their kernel (issue 14: a k=7 depthwise on a 1x1 map
//! panicked in `cpu/depthwise.rs`): every kernel size 1, 3, 5, 7, strides 1 and 2, padded as
//! the network builder pads them (`common::small_map_cases`). The CPU paths (depthwise, direct
//! AVX2, im2col) against the im2col + GEMM reference, forward and backward, and both against
//! an independent direct-loop oracle. The WGSL kernel runs the same cases in `gpu_vs_cpu.rs`.

mod common;
use common::*;
use nasc_kernels::cpu;
use nasc_kernels::shape::Conv2d;

/// Naive direct loops: `(y, dx, dw)`, bias left out.
fn oracle(c: &Conv2d, x: &[f32], w: &[f32], dy: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (oh, ow) = (c.out_h(), c.out_w());
    let (cig, cog) = (c.cin_g(), c.cout_g());
    let mut y = vec![0.0f32; c.y_len()];
    let mut dx = vec![0.0f32; c.x_len()];
    let mut dw = vec![0.0f32; c.w_len()];
    for n in 0..c.n {
        for co in 0..c.c_out {
            let g = co / cog;
            for oy in 0..oh {
                for ox in 0..ow {
                    let yi = ((n * c.c_out + co) * oh + oy) * ow + ox;
                    for cl in 0..cig {
                        let ci = g * cig + cl;
                        for i in 0..c.kh {
                            for j in 0..c.kw {
                                let iy = (oy * c.stride.0 + i * c.dil.0) as isize - c.pad.0 as isize;
                                let ix = (ox * c.stride.1 + j * c.dil.1) as isize - c.pad.1 as isize;
                                if iy < 0 || ix < 0 || iy >= c.h as isize || ix >= c.w as isize {
                                    continue;
                                }
                                let xi = ((n * c.c_in + ci) * c.h + iy as usize) * c.w + ix as usize;
                                let wi = ((co * cig + cl) * c.kh + i) * c.kw + j;
                                y[yi] += w[wi] * x[xi];
                                dx[xi] += w[wi] * dy[yi];
                                dw[wi] += x[xi] * dy[yi];
                            }
                        }
                    }
                }
            }
        }
    }
    (y, dx, dw)
}

#[test]
fn convs_on_maps_smaller_than_the_kernel() {
    let mut rng = Rng(14);
    let cases = small_map_cases();
    assert!(cases.len() >= 200, "{} cases", cases.len());
    let (mut depthwise, mut smaller) = (0, 0);
    for (name, c) in cases {
        depthwise += (c.cin_g() == 1) as usize;
        smaller += (c.h < c.kh || c.w < c.kw) as usize;
        let x = rng.vec(c.x_len(), -1.0, 1.0);
        let w = rng.vec(c.w_len(), -0.5, 0.5);
        let b = rng.vec(c.c_out, -0.5, 0.5);
        let dy = rng.vec(c.y_len(), -1.0, 1.0);
        let bias = c.bias.then_some(&b[..]);
        let mut outs = Vec::new();
        for reference in [false, true] {
            let (mut y, mut dx, mut dw, mut db) = (vec![0.0; c.y_len()], vec![0.0; c.x_len()], vec![0.0; c.w_len()], vec![0.0; c.c_out]);
            let dbo = c.bias.then_some(&mut db[..]);
            if reference {
                cpu::conv2d_forward_reference(&c, &x, &w, bias, &mut y);
                cpu::conv2d_backward_reference(&c, &x, &w, &dy, Some(&mut dx), &mut dw, dbo);
            } else {
                cpu::conv2d_forward(&c, &x, &w, bias, &mut y);
                cpu::conv2d_backward(&c, &x, &w, &dy, Some(&mut dx), &mut dw, dbo);
            }
            outs.push((y, dx, dw, db));
        }
        let (f, r) = (&outs[0], &outs[1]);
        for (what, a, e) in [("y", &f.0, &r.0), ("dx", &f.1, &r.1), ("dw", &f.2, &r.2), ("db", &f.3, &r.3)] {
            let err = rel_err(a, e);
            assert!(err <= 1e-5, "{name}: {what} fast vs im2col reference rel err {err:e}");
        }
        let (mut oy, odx, odw) = oracle(&c, &x, &w, &dy);
        if c.bias {
            let p = c.out_h() * c.out_w();
            oy.iter_mut().enumerate().for_each(|(i, v)| *v += b[(i / p) % c.c_out]);
        }
        for (what, a, e) in [("y", &r.0, &oy), ("dx", &r.1, &odx), ("dw", &r.2, &odw)] {
            let err = rel_err(a, e);
            assert!(err <= 1e-5, "{name}: {what} im2col reference vs direct loops rel err {err:e}");
        }
    }
    assert!(depthwise >= 100 && smaller >= 100, "{depthwise} depthwise, {smaller} smaller than the kernel");
}

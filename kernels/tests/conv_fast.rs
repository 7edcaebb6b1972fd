//! The direct (AVX2+FMA) convolution path against the im2col + GEMM reference path, forward
//! and backward, on odd shapes: every stride-1 case of `conv_cases`, plus partial 8-pixel
//! segments, channel counts that leave partial kernel blocks, groups, dilation, padding larger
//! than the kernel reach, batches that are not a multiple of the dW chunk, and the NB201 shapes.
//! On a CPU with AVX-512F the 16-pixel kernels run where rows are a multiple of 16 pixels or
//! maps are 8 pixels wide with an even number of rows (`NASC_NO_AVX512=1` turns them off).
//! Also: the fast path gives bit-identical results with 1 and 3 threads, and the im2col path
//! the same bits on every run.
//! On a CPU without AVX2+FMA both sides take the reference path (the test still runs).

mod common;
use common::*;
use nasc_kernels::cpu;
use nasc_kernels::shape::Conv2d;

#[allow(clippy::too_many_arguments)]
fn conv(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, k: (usize, usize), p: (usize, usize), d: (usize, usize), g: usize, bias: bool) -> Conv2d {
    Conv2d { n, c_in, h, w, c_out, kh: k.0, kw: k.1, stride: (1, 1), pad: p, dil: d, groups: g, bias }
}

fn cases() -> Vec<(String, Conv2d)> {
    let mut v: Vec<(String, Conv2d)> = conv_cases().into_iter().filter(|(_, c)| c.stride == (1, 1)).map(|(n, c)| (n.to_string(), c)).collect();
    let extra = [
        ("nb201 3x3 16ch 32x32", conv(5, 16, 32, 32, 16, (3, 3), (1, 1), (1, 1), 1, false)),
        ("nb201 3x3 64ch 8x8", conv(3, 64, 8, 8, 64, (3, 3), (1, 1), (1, 1), 1, false)),
        ("nb201 1x1 32ch 16x16", conv(2, 32, 16, 16, 32, (1, 1), (0, 0), (1, 1), 1, false)),
        ("stem 3->16 odd w 13", conv(9, 3, 11, 13, 16, (3, 3), (1, 1), (1, 1), 1, true)),
        ("cout 7 cin 5 w 21", conv(4, 5, 6, 21, 7, (3, 3), (1, 1), (1, 1), 1, false)),
        ("cout 11 w 9 5x3", conv(3, 4, 7, 9, 11, (5, 3), (2, 1), (1, 1), 1, true)),
        ("groups 2 w 17", conv(2, 6, 5, 17, 10, (3, 3), (1, 1), (1, 1), 2, false)),
        ("groups 3 dil 2 w 12", conv(1, 6, 9, 12, 9, (3, 3), (2, 2), (2, 2), 3, true)),
        ("pad beyond reach 1x1 p1", conv(2, 4, 5, 6, 3, (1, 1), (1, 1), (1, 1), 1, false)),
        ("pad beyond reach 3x3 p2", conv(2, 3, 6, 7, 5, (3, 3), (2, 2), (1, 1), 1, true)),
        ("no pad 3x3 w 10", conv(3, 4, 8, 10, 6, (3, 3), (0, 0), (1, 1), 1, false)),
        ("w 8 no pad 1x1 n 1", conv(1, 8, 3, 8, 5, (1, 1), (0, 0), (1, 1), 1, false)),
        ("w 3 narrow", conv(6, 2, 4, 3, 2, (3, 3), (1, 1), (1, 1), 1, false)),
        // AVX-512: two 8-pixel rows at once (even rows), and its fallback (odd rows)
        ("8x8 pairs 5x5 dil 1", conv(2, 5, 8, 8, 7, (5, 5), (2, 2), (1, 1), 1, true)),
        ("8 wide odd rows 7", conv(2, 4, 7, 8, 6, (3, 3), (1, 1), (1, 1), 1, false)),
        ("8x6 1x1 unpadded pairs", conv(3, 9, 6, 8, 13, (1, 1), (0, 0), (1, 1), 1, false)),
        ("w 16 dil 2 groups 2", conv(2, 4, 10, 16, 6, (3, 3), (2, 2), (2, 2), 2, false)),
    ];
    v.extend(extra.into_iter().map(|(n, c)| (n.to_string(), c)));
    v
}

struct Out {
    y: Vec<f32>,
    dx: Vec<f32>,
    dw: Vec<f32>,
    db: Vec<f32>,
}

fn run(c: &Conv2d, x: &[f32], w: &[f32], b: &[f32], dy: &[f32], reference: bool) -> Out {
    let mut o = Out { y: vec![0.0; c.y_len()], dx: vec![0.0; c.x_len()], dw: vec![0.0; c.w_len()], db: vec![0.0; c.c_out] };
    let bias = c.bias.then_some(b);
    let db = c.bias.then_some(&mut o.db[..]);
    if reference {
        cpu::conv2d_forward_reference(c, x, w, bias, &mut o.y);
        cpu::conv2d_backward_reference(c, x, w, dy, Some(&mut o.dx), &mut o.dw, db);
    } else {
        cpu::conv2d_forward(c, x, w, bias, &mut o.y);
        cpu::conv2d_backward(c, x, w, dy, Some(&mut o.dx), &mut o.dw, db);
    }
    o
}

#[test]
fn direct_conv_matches_reference() {
    let mut rng = Rng(7);
    let mut n_fast = 0;
    for (name, c) in cases() {
        let x = rng.vec(c.x_len(), -1.0, 1.0);
        let w = rng.vec(c.w_len(), -0.5, 0.5);
        let b = rng.vec(c.c_out, -0.5, 0.5);
        let dy = rng.vec(c.y_len(), -1.0, 1.0);
        let f = run(&c, &x, &w, &b, &dy, false);
        let r = run(&c, &x, &w, &b, &dy, true);
        let fast = cpu::conv2d_fast_path(&c);
        n_fast += fast as usize;
        for (what, a, e) in [("y", &f.y, &r.y), ("dx", &f.dx, &r.dx), ("dw", &f.dw, &r.dw), ("db", &f.db, &r.db)] {
            let err = rel_err(a, e);
            assert!(err <= 1e-5, "{name} (fast path {fast}): {what} rel err {err:e}");
        }
    }
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        assert!(n_fast >= 17, "only {n_fast} cases took the direct path");
    }
}

#[test]
fn direct_conv_same_bits_any_thread_count() {
    let mut rng = Rng(8);
    for (name, c) in cases() {
        let x = rng.vec(c.x_len(), -1.0, 1.0);
        let w = rng.vec(c.w_len(), -0.5, 0.5);
        let b = rng.vec(c.c_out, -0.5, 0.5);
        let dy = rng.vec(c.y_len(), -1.0, 1.0);
        let on = |t: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
            pool.install(|| run(&c, &x, &w, &b, &dy, false))
        };
        let (a, z) = (on(1), on(3));
        assert!(a.y == z.y && a.dx == z.dx && a.dw == z.dw && a.db == z.db, "{name}: results depend on the thread count");
    }
}

/// The im2col path (stride 2 here) sums dW over images in fixed chunks: repeated runs on a
/// pool of 5 threads give the same bits (a work-stealing reduction did not).
#[test]
fn im2col_weight_gradient_is_deterministic() {
    let mut rng = Rng(9);
    let c = Conv2d { n: 61, c_in: 16, h: 16, w: 16, c_out: 16, kh: 3, kw: 3, stride: (2, 2), pad: (1, 1), dil: (1, 1), groups: 1, bias: true };
    let x = rng.vec(c.x_len(), -1.0, 1.0);
    let w = rng.vec(c.w_len(), -0.5, 0.5);
    let b = rng.vec(c.c_out, -0.5, 0.5);
    let dy = rng.vec(c.y_len(), -1.0, 1.0);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(5).build().unwrap();
    let first = pool.install(|| run(&c, &x, &w, &b, &dy, false));
    for _ in 0..300 {
        let again = pool.install(|| run(&c, &x, &w, &b, &dy, false));
        assert!(again.dw == first.dw && again.dx == first.dx && again.db == first.db, "the weight gradient changed between runs");
    }
    let r = run(&c, &x, &w, &b, &dy, true);
    let err = first.dw.iter().zip(&r.dw).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(err < 1e-3, "against the reference: {err}");
}

//! Finite-difference gradient checks of every CPU backward pass.
//!
//! Each op's output `y` is reduced to `L = sum(r * y)` (in f64) with a fixed random `r`; the
//! analytic gradients from the backward pass with `dy = r` are compared to central differences
//! `(L(x + e) - L(x - e)) / 2e` with `e = 1e-2` in f32 inputs. Tolerance, per element:
//! `|analytic - numeric| <= 2e-3 * max(1, max|numeric|) + 1e-2 * |numeric|`.
//! Piecewise ops get inputs at least 0.05 away from their kinks, and max pooling gets distinct
//! inputs spaced 0.05 apart, so no perturbation crosses a kink or flips an argmax.

mod common;
use common::*;
use nasc_kernels::cpu;
use nasc_kernels::shape::*;

const EPS: f32 = 1e-2;

/// Checks `analytic[k]` against central differences of `loss` w.r.t. `inputs[k]` for each `k`
/// in `which`.
fn fd_check(name: &str, inputs: &mut [Vec<f32>], which: &[usize], analytic: &[Vec<f32>], loss: &dyn Fn(&[Vec<f32>]) -> f64) {
    for (wi, &k) in which.iter().enumerate() {
        let mut num = vec![0.0f64; inputs[k].len()];
        for j in 0..inputs[k].len() {
            let orig = inputs[k][j];
            inputs[k][j] = orig + EPS;
            let lp = loss(inputs);
            inputs[k][j] = orig - EPS;
            let lm = loss(inputs);
            inputs[k][j] = orig;
            num[j] = (lp - lm) / (2.0 * EPS as f64);
        }
        let scale = num.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let a = &analytic[wi];
        assert_eq!(a.len(), num.len());
        for j in 0..num.len() {
            let tol = 2e-3 * scale + 1e-2 * num[j].abs();
            let err = (a[j] as f64 - num[j]).abs();
            assert!(err <= tol, "{name}: input {k} element {j}: analytic {} numeric {} (err {err:e} > tol {tol:e})", a[j], num[j]);
        }
    }
}

fn dot(r: &[f32], y: &[f32]) -> f64 {
    r.iter().zip(y).map(|(&a, &b)| a as f64 * b as f64).sum()
}

#[test]
fn conv2d_gradients() {
    let mut rng = Rng(1);
    for (name, c) in conv_cases() {
        let x = rng.vec(c.x_len(), -1.0, 1.0);
        let w = rng.vec(c.w_len(), -0.5, 0.5);
        let b = rng.vec(c.c_out, -0.5, 0.5);
        let r = rng.vec(c.y_len(), -1.0, 1.0);
        let (mut dx, mut dw, mut db) = (vec![0.0; c.x_len()], vec![0.0; c.w_len()], vec![0.0; c.c_out]);
        cpu::conv2d_backward(&c, &x, &w, &r, Some(&mut dx), &mut dw, c.bias.then_some(&mut db[..]));
        let mut inputs = vec![x, w, b];
        let loss = |inp: &[Vec<f32>]| {
            let mut y = vec![0.0; c.y_len()];
            cpu::conv2d_forward(&c, &inp[0], &inp[1], c.bias.then_some(&inp[2][..]), &mut y);
            dot(&r, &y)
        };
        if c.bias {
            fd_check(name, &mut inputs, &[0, 1, 2], &[dx, dw, db], &loss);
        } else {
            fd_check(name, &mut inputs, &[0, 1], &[dx, dw], &loss);
        }
    }
}

#[test]
fn conv2d_matches_naive() {
    // The GEMM/direct paths against a plain 7-loop convolution.
    let mut rng = Rng(2);
    for (name, c) in conv_cases() {
        let x = rng.vec(c.x_len(), -1.0, 1.0);
        let w = rng.vec(c.w_len(), -1.0, 1.0);
        let b = rng.vec(c.c_out, -1.0, 1.0);
        let mut y = vec![0.0; c.y_len()];
        cpu::conv2d_forward(&c, &x, &w, c.bias.then_some(&b[..]), &mut y);
        let (oh, ow) = (c.out_h(), c.out_w());
        let mut r = vec![0.0f32; c.y_len()];
        for ni in 0..c.n {
            for co in 0..c.c_out {
                let g = co / c.cout_g();
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut s = if c.bias { b[co] as f64 } else { 0.0 };
                        for cl in 0..c.cin_g() {
                            let ci = g * c.cin_g() + cl;
                            for i in 0..c.kh {
                                for j in 0..c.kw {
                                    let iy = (oy * c.stride.0 + i * c.dil.0) as isize - c.pad.0 as isize;
                                    let ix = (ox * c.stride.1 + j * c.dil.1) as isize - c.pad.1 as isize;
                                    if iy >= 0 && ix >= 0 && (iy as usize) < c.h && (ix as usize) < c.w {
                                        let xv = x[((ni * c.c_in + ci) * c.h + iy as usize) * c.w + ix as usize];
                                        let wv = w[((co * c.cin_g() + cl) * c.kh + i) * c.kw + j];
                                        s += xv as f64 * wv as f64;
                                    }
                                }
                            }
                        }
                        r[((ni * c.c_out + co) * oh + oy) * ow + ox] = s as f32;
                    }
                }
            }
        }
        assert!(rel_err(&y, &r) < 1e-5, "{name}: {}", rel_err(&y, &r));
    }
}

#[test]
fn batchnorm_gradients() {
    let mut rng = Rng(3);
    for (n, c, hw) in [(2, 3, 5), (4, 2, 1), (3, 1, 7)] {
        let b = BatchNorm::new(n, c, hw);
        let x = rng.vec(b.len(), -2.0, 2.0);
        let gamma = rng.vec(c, 0.5, 1.5);
        let beta = rng.vec(c, -0.5, 0.5);
        let r = rng.vec(b.len(), -1.0, 1.0);
        let fwd = |x: &[f32], g: &[f32], be: &[f32]| {
            let (mut rm, mut rv, mut y, mut sm, mut si) = (vec![0.0; c], vec![1.0; c], vec![0.0; b.len()], vec![0.0; c], vec![0.0; c]);
            cpu::batchnorm_train_forward(&b, x, g, be, &mut rm, &mut rv, &mut y, &mut sm, &mut si);
            (y, sm, si)
        };
        let (_, sm, si) = fwd(&x, &gamma, &beta);
        let (mut dx, mut dg, mut db) = (vec![0.0; b.len()], vec![0.0; c], vec![0.0; c]);
        cpu::batchnorm_train_backward(&b, &x, &r, &gamma, &sm, &si, &mut dx, &mut dg, &mut db);
        let mut inputs = vec![x.clone(), gamma.clone(), beta.clone()];
        fd_check("bn train", &mut inputs, &[0, 1, 2], &[dx, dg, db], &|inp| dot(&r, &fwd(&inp[0], &inp[1], &inp[2]).0));

        // eval mode
        let rm = rng.vec(c, -0.5, 0.5);
        let rv = rng.vec(c, 0.5, 2.0);
        let (mut dx, mut dg, mut db) = (vec![0.0; b.len()], vec![0.0; c], vec![0.0; c]);
        cpu::batchnorm_eval_backward(&b, &x, &r, &gamma, &rm, &rv, &mut dx, &mut dg, &mut db);
        let mut inputs = vec![x.clone(), gamma.clone(), beta.clone()];
        fd_check("bn eval", &mut inputs, &[0, 1, 2], &[dx, dg, db], &|inp| {
            let mut y = vec![0.0; b.len()];
            cpu::batchnorm_eval_forward(&b, &inp[0], &inp[1], &inp[2], &rm, &rv, &mut y);
            dot(&r, &y)
        });
    }
}

#[test]
fn batchnorm_running_stats() {
    // Running averages use the unbiased variance, normalization the biased one (PyTorch).
    let b = BatchNorm::new(2, 1, 2);
    let x = [1.0, 2.0, 3.0, 6.0];
    let (mut rm, mut rv, mut y, mut sm, mut si) = (vec![0.0], vec![1.0], vec![0.0; 4], vec![0.0], vec![0.0]);
    cpu::batchnorm_train_forward(&b, &x, &[1.0], &[0.0], &mut rm, &mut rv, &mut y, &mut sm, &mut si);
    // mean 3, biased var 3.5, unbiased 14/3
    assert!((sm[0] - 3.0).abs() < 1e-6);
    assert!((si[0] - 1.0 / (3.5f32 + 1e-5).sqrt()).abs() < 1e-6);
    assert!((rm[0] - 0.3).abs() < 1e-6);
    assert!((rv[0] - (0.9 + 0.1 * 14.0 / 3.0)).abs() < 1e-6);
    assert!((y[3] - 3.0 / (3.5f32 + 1e-5).sqrt()).abs() < 1e-5);
}

#[test]
fn activation_gradients() {
    let mut rng = Rng(4);
    for a in Act::ALL {
        let x = rng.vec_away(37, -5.0, 8.0, &[0.0, 6.0, -3.0, 3.0], 0.05);
        let r = rng.vec(37, -1.0, 1.0);
        let mut dx = vec![0.0; 37];
        cpu::act_backward(a, &x, &r, &mut dx);
        let mut inputs = vec![x];
        fd_check(&format!("{a:?}"), &mut inputs, &[0], &[dx], &|inp| {
            let mut y = vec![0.0; 37];
            cpu::act_forward(a, &inp[0], &mut y);
            dot(&r, &y)
        });
    }
}

#[test]
fn pool_gradients() {
    let mut rng = Rng(5);
    for (name, p) in pool_cases() {
        let x = if p.kind == PoolKind::Max { rng.distinct(p.x_len(), 0.05) } else { rng.vec(p.x_len(), -1.0, 1.0) };
        let r = rng.vec(p.y_len(), -1.0, 1.0);
        let mut dx = vec![0.0; p.x_len()];
        cpu::pool2d_backward(&p, &x, &r, &mut dx);
        let mut inputs = vec![x];
        fd_check(name, &mut inputs, &[0], &[dx], &|inp| {
            let mut y = vec![0.0; p.y_len()];
            cpu::pool2d_forward(&p, &inp[0], &mut y);
            dot(&r, &y)
        });
    }
}

#[test]
fn pool_values() {
    // avg 3x3 pad 1 on a 2x2 ones image: corner windows hold 4 real pixels out of 9.
    let mk = |kind| Pool2d { n: 1, c: 1, h: 2, w: 2, k: (3, 3), stride: (1, 1), pad: (1, 1), kind };
    let mut y = vec![0.0; 4];
    cpu::pool2d_forward(&mk(PoolKind::Avg { count_include_pad: true }), &[1.0; 4], &mut y);
    assert!(y.iter().all(|&v| (v - 4.0 / 9.0).abs() < 1e-6), "{y:?}");
    cpu::pool2d_forward(&mk(PoolKind::Avg { count_include_pad: false }), &[1.0; 4], &mut y);
    assert!(y.iter().all(|&v| (v - 1.0).abs() < 1e-6), "{y:?}");
    cpu::pool2d_forward(&mk(PoolKind::Max), &[1.0, -2.0, 3.0, -4.0], &mut y);
    assert_eq!(y, vec![3.0; 4]);
}

#[test]
fn global_avg_linear_gradients() {
    let mut rng = Rng(6);
    let (n, c, hw) = (3, 5, 7);
    let x = rng.vec(n * c * hw, -1.0, 1.0);
    let r = rng.vec(n * c, -1.0, 1.0);
    let mut dx = vec![0.0; x.len()];
    cpu::global_avg_backward(n, c, hw, &r, &mut dx);
    fd_check("gap", &mut [x], &[0], &[dx], &|inp| {
        let mut y = vec![0.0; n * c];
        cpu::global_avg_forward(n, c, hw, &inp[0], &mut y);
        dot(&r, &y)
    });
    for (n, inp, out, bias) in [(3, 7, 5, true), (1, 4, 3, false), (9, 13, 10, true)] {
        let l = Linear { n, inp, out, bias };
        let x = rng.vec(n * inp, -1.0, 1.0);
        let w = rng.vec(out * inp, -1.0, 1.0);
        let b = rng.vec(out, -1.0, 1.0);
        let r = rng.vec(n * out, -1.0, 1.0);
        let (mut dx, mut dw, mut db) = (vec![0.0; n * inp], vec![0.0; out * inp], vec![0.0; out]);
        cpu::linear_backward(&l, &x, &w, &r, Some(&mut dx), &mut dw, bias.then_some(&mut db[..]));
        let mut inputs = vec![x, w, b];
        let which: &[usize] = if bias { &[0, 1, 2] } else { &[0, 1] };
        let an = if bias { vec![dx, dw, db] } else { vec![dx, dw] };
        fd_check("linear", &mut inputs, which, &an, &|inp| {
            let mut y = vec![0.0; n * out];
            cpu::linear_forward(&l, &inp[0], &inp[1], bias.then_some(&inp[2][..]), &mut y);
            dot(&r, &y)
        });
    }
}

#[test]
fn structural_op_gradients() {
    let mut rng = Rng(7);
    // channel_mul (squeeze-excite scaling)
    let (n, c, hw) = (2, 3, 5);
    let x = rng.vec(n * c * hw, -1.0, 1.0);
    let s = rng.vec(n * c, -1.0, 1.0);
    let r = rng.vec(n * c * hw, -1.0, 1.0);
    let (mut dx, mut ds) = (vec![0.0; x.len()], vec![0.0; s.len()]);
    cpu::channel_mul_backward(n, c, hw, &x, &s, &r, &mut dx, &mut ds);
    fd_check("channel_mul", &mut [x, s], &[0, 1], &[dx, ds], &|inp| {
        let mut y = vec![0.0; n * c * hw];
        cpu::channel_mul_forward(n, c, hw, &inp[0], &inp[1], &mut y);
        dot(&r, &y)
    });
    // concat
    let chans = [2, 3, 1];
    let xs: Vec<Vec<f32>> = chans.iter().map(|&ch| rng.vec(n * ch * hw, -1.0, 1.0)).collect();
    let r = rng.vec(n * 6 * hw, -1.0, 1.0);
    let mut dxs: Vec<Vec<f32>> = chans.iter().map(|&ch| vec![0.0; n * ch * hw]).collect();
    {
        let mut refs: Vec<&mut [f32]> = dxs.iter_mut().map(|v| &mut v[..]).collect();
        cpu::concat_backward(n, hw, &chans, &r, &mut refs);
    }
    let mut inputs = xs.clone();
    fd_check("concat", &mut inputs, &[0, 1, 2], &dxs, &|inp| {
        let mut y = vec![0.0; n * 6 * hw];
        let refs: Vec<&[f32]> = inp.iter().map(|v| &v[..]).collect();
        cpu::concat_forward(n, hw, &chans, &refs, &mut y);
        dot(&r, &y)
    });
    // mean of branches, add, identity, zero: backward = scale / copy / zeros
    let len = 11;
    let xs: Vec<Vec<f32>> = (0..3).map(|_| rng.vec(len, -1.0, 1.0)).collect();
    let r = rng.vec(len, -1.0, 1.0);
    let mut g = vec![0.0; len];
    cpu::scale(1.0 / 3.0, &r, &mut g);
    let mut inputs = xs.clone();
    fd_check("mean", &mut inputs, &[0, 1, 2], &[g.clone(), g.clone(), g], &|inp| {
        let mut y = vec![0.0; len];
        let refs: Vec<&[f32]> = inp.iter().map(|v| &v[..]).collect();
        cpu::mean_forward(&refs, &mut y);
        dot(&r, &y)
    });
    let mut inputs = xs[..2].to_vec();
    fd_check("add", &mut inputs, &[0, 1], &[r.clone(), r.clone()], &|inp| {
        let mut y = vec![0.0; len];
        cpu::add(&inp[0], &inp[1], &mut y);
        dot(&r, &y)
    });
    let mut inputs = xs[..1].to_vec();
    fd_check("identity", &mut inputs, &[0], std::slice::from_ref(&r), &|inp| {
        let mut y = vec![0.0; len];
        cpu::identity(&inp[0], &mut y);
        dot(&r, &y)
    });
    fd_check("zero", &mut inputs, &[0], &[vec![0.0; len]], &|_| {
        let mut y = vec![1.0; len];
        cpu::zero(&mut y);
        dot(&r, &y)
    });
}

#[test]
fn softmax_xent_gradient_and_value() {
    let mut rng = Rng(8);
    for (n, k) in [(5, 7), (1, 3), (8, 10)] {
        let z = rng.vec(n * k, -3.0, 3.0);
        let lab = rng.labels(n, k);
        let mut dz = vec![0.0; n * k];
        let loss = cpu::softmax_xent(n, k, &z, &lab, &mut dz);
        // reference loss in f64
        let mut refl = 0.0f64;
        for i in 0..n {
            let row = &z[i * k..(i + 1) * k];
            let lse = row.iter().map(|&v| (v as f64).exp()).sum::<f64>().ln();
            refl += lse - row[lab[i] as usize] as f64;
        }
        assert!((loss as f64 - refl / n as f64).abs() < 1e-5);
        fd_check("xent", &mut [z], &[0], &[dz], &|inp| {
            let mut d = vec![0.0; n * k];
            cpu::softmax_xent(n, k, &inp[0], &lab, &mut d) as f64
        });
    }
}

#[test]
fn optimizers_follow_pytorch() {
    // Three steps against a straightforward f64 transcription of torch.optim's algorithms.
    let mut rng = Rng(9);
    let len = 23;
    for (mom, nest, wd) in [(0.9, false, 5e-4), (0.9, true, 1e-3), (0.0, false, 0.0)] {
        let o = Sgd { momentum: mom, nesterov: nest, weight_decay: wd };
        let mut p = rng.vec(len, -1.0, 1.0);
        let mut buf = vec![0.0; len];
        let mut rp: Vec<f64> = p.iter().map(|&v| v as f64).collect();
        let mut rb: Option<Vec<f64>> = None;
        for t in 0..3 {
            let lr = cosine_lr(0.1, 0.0, t, 10);
            let g = rng.vec(len, -1.0, 1.0);
            cpu::sgd_step(&o, lr, &mut p, &g, &mut buf);
            let mut d: Vec<f64> = g.iter().zip(&rp).map(|(&g, &p)| g as f64 + wd as f64 * p).collect();
            if mom != 0.0 {
                let b = match rb.take() {
                    None => d.clone(),
                    Some(b) => b.iter().zip(&d).map(|(b, d)| mom as f64 * b + d).collect(),
                };
                d = if nest { d.iter().zip(&b).map(|(d, b)| d + mom as f64 * b).collect() } else { b.clone() };
                rb = Some(b);
            }
            rp.iter_mut().zip(&d).for_each(|(p, d)| *p -= lr as f64 * d);
        }
        for (a, b) in p.iter().zip(&rp) {
            assert!((*a as f64 - b).abs() < 1e-5, "sgd {a} vs {b}");
        }
    }
    let o = AdamW::default();
    let mut p = rng.vec(len, -1.0, 1.0);
    let (mut m, mut v) = (vec![0.0; len], vec![0.0; len]);
    let mut rp: Vec<f64> = p.iter().map(|&v| v as f64).collect();
    let (mut rm, mut rv) = (vec![0.0f64; len], vec![0.0f64; len]);
    let lr = 1e-2;
    for t in 1..=3u32 {
        let g = rng.vec(len, -1.0, 1.0);
        cpu::adamw_step(&o, lr, t, &mut p, &g, &mut m, &mut v);
        let (b1, b2) = (o.beta1 as f64, o.beta2 as f64);
        for i in 0..len {
            let gi = g[i] as f64;
            rp[i] *= 1.0 - lr as f64 * o.weight_decay as f64;
            rm[i] = b1 * rm[i] + (1.0 - b1) * gi;
            rv[i] = b2 * rv[i] + (1.0 - b2) * gi * gi;
            let mh = rm[i] / (1.0 - b1.powi(t as i32));
            let vh = rv[i] / (1.0 - b2.powi(t as i32));
            rp[i] -= lr as f64 * mh / (vh.sqrt() + o.eps as f64);
        }
    }
    for (a, b) in p.iter().zip(&rp) {
        assert!((*a as f64 - b).abs() < 1e-5, "adamw {a} vs {b}");
    }
    assert_eq!(cosine_lr(0.1, 0.0, 0, 10), 0.1);
    assert!((cosine_lr(0.1, 0.0, 5, 10) - 0.05).abs() < 1e-7);
    assert!(cosine_lr(0.1, 0.0, 10, 10).abs() < 1e-7);
}

//! Differential tests: every wgpu kernel, forward and backward, against its CPU twin on random
//! odd shapes (stride 2, dilation 2, groups, depthwise, 1xk/kx1, pointwise).
//!
//! Tolerance: `max|gpu - cpu| / max(1, max|cpu|) <= 1e-4` for every output (f32 on both sides;
//! the CPU reduces in f64 or in GEMM order, the GPU in its own order).
//!
//! These run on whatever adapter `Gpu::new` picks (lavapipe on CPU-only machines: `apt-get
//! install mesa-vulkan-drivers`). With no adapter they FAIL, unless `NASC_SKIP_GPU_TESTS=1` is
//! set, which turns them into no-ops.

mod common;
use common::*;
use nasc_kernels::backend::{CpuBackend, Ops};
use nasc_kernels::gpu::{Gpu, GpuTensor};
use nasc_kernels::shape::*;
use std::sync::OnceLock;

const TOL: f32 = 1e-4;

fn gpu() -> Option<&'static Gpu> {
    static G: OnceLock<Option<Gpu>> = OnceLock::new();
    G.get_or_init(|| {
        if std::env::var("NASC_SKIP_GPU_TESTS").as_deref() == Ok("1") {
            eprintln!("NASC_SKIP_GPU_TESTS=1: skipping the wgpu differential tests");
            return None;
        }
        match Gpu::new() {
            Ok(g) => {
                eprintln!("wgpu adapter: {}", g.adapter_name());
                Some(g)
            }
            Err(e) => panic!("{e}\nThe GPU differential tests need a wgpu adapter; set NASC_SKIP_GPU_TESTS=1 to skip them."),
        }
    })
    .as_ref()
}

fn check(what: &str, g: &Gpu, t: &GpuTensor, cpu: &[f32]) {
    let v = g.read(t);
    let e = rel_err(&v, cpu);
    assert!(e <= TOL, "{what}: gpu vs cpu scaled error {e:e} > {TOL:e}\n gpu {:?}\n cpu {:?}", &v[..v.len().min(8)], &cpu[..cpu.len().min(8)]);
}

#[test]
fn conv2d_forward_backward() {
    let Some(g) = gpu() else { return };
    let c0 = CpuBackend;
    let mut rng = Rng(11);
    for (name, c) in conv_cases() {
        let x = rng.vec(c.x_len(), -1.0, 1.0);
        let w = rng.vec(c.w_len(), -1.0, 1.0);
        let bv = rng.vec(c.c_out, -1.0, 1.0);
        let dy = rng.vec(c.y_len(), -1.0, 1.0);
        let (gx, gw, gb, gdy) = (g.upload(&x), g.upload(&w), g.upload(&bv), g.upload(&dy));
        let bias_c = c.bias.then_some(&bv);
        let y = c0.conv2d_forward(&c, &x, &w, bias_c);
        check(&format!("conv {name} fwd"), g, &g.conv2d_forward(&c, &gx, &gw, c.bias.then_some(&gb)), &y);
        let (dx, dw, db) = c0.conv2d_backward(&c, &x, &w, &dy, true);
        let (gdx, gdw, gdb) = g.conv2d_backward(&c, &gx, &gw, &gdy, true);
        check(&format!("conv {name} dx"), g, gdx.as_ref().unwrap(), dx.as_ref().unwrap());
        check(&format!("conv {name} dw"), g, &gdw, &dw);
        assert_eq!(db.is_some(), gdb.is_some());
        if let (Some(db), Some(gdb)) = (db, gdb) {
            check(&format!("conv {name} db"), g, &gdb, &db);
        }
        let (none, _, _) = g.conv2d_backward(&c, &gx, &gw, &gdy, false);
        assert!(none.is_none());
    }
}

/// Issue 14: every kernel size 1, 3, 5, 7 at strides 1 and 2 on maps no larger than the kernel,
/// padded as the network builder pads them (the CPU side is checked against im2col and direct
/// loops in `small_maps.rs`).
#[test]
fn conv2d_on_maps_smaller_than_the_kernel() {
    let Some(g) = gpu() else { return };
    let c0 = CpuBackend;
    let mut rng = Rng(12);
    for (name, c) in small_map_cases() {
        let x = rng.vec(c.x_len(), -1.0, 1.0);
        let w = rng.vec(c.w_len(), -1.0, 1.0);
        let bv = rng.vec(c.c_out, -1.0, 1.0);
        let dy = rng.vec(c.y_len(), -1.0, 1.0);
        let (gx, gw, gb, gdy) = (g.upload(&x), g.upload(&w), g.upload(&bv), g.upload(&dy));
        let y = c0.conv2d_forward(&c, &x, &w, c.bias.then_some(&bv));
        check(&format!("conv {name} fwd"), g, &g.conv2d_forward(&c, &gx, &gw, c.bias.then_some(&gb)), &y);
        let (dx, dw, db) = c0.conv2d_backward(&c, &x, &w, &dy, true);
        let (gdx, gdw, gdb) = g.conv2d_backward(&c, &gx, &gw, &gdy, true);
        check(&format!("conv {name} dx"), g, gdx.as_ref().unwrap(), dx.as_ref().unwrap());
        check(&format!("conv {name} dw"), g, &gdw, &dw);
        if let (Some(db), Some(gdb)) = (db, gdb) {
            check(&format!("conv {name} db"), g, &gdb, &db);
        }
    }
}

#[test]
fn batchnorm_train_and_eval() {
    let Some(g) = gpu() else { return };
    let c0 = CpuBackend;
    let mut rng = Rng(12);
    for (n, c, hw) in [(2, 3, 25), (5, 4, 1), (3, 2, 300), (1, 3, 7)] {
        let b = BatchNorm { momentum: 0.2, ..BatchNorm::new(n, c, hw) };
        let x = rng.vec(b.len(), -2.0, 3.0);
        let gamma = rng.vec(c, 0.5, 1.5);
        let beta = rng.vec(c, -0.5, 0.5);
        let dy = rng.vec(b.len(), -1.0, 1.0);
        let rm0 = rng.vec(c, -0.5, 0.5);
        let rv0 = rng.vec(c, 0.5, 1.5);
        let (mut rm, mut rv) = (rm0.clone(), rv0.clone());
        let (y, sm, si) = c0.batchnorm_train_forward(&b, &x, &gamma, &beta, &mut rm, &mut rv);
        let (gx, gg, gbeta, gdy) = (g.upload(&x), g.upload(&gamma), g.upload(&beta), g.upload(&dy));
        let (mut grm, mut grv) = (g.upload(&rm0), g.upload(&rv0));
        let (gy, gsm, gsi) = g.batchnorm_train_forward(&b, &gx, &gg, &gbeta, &mut grm, &mut grv);
        check("bn y", g, &gy, &y);
        check("bn mean", g, &gsm, &sm);
        check("bn invstd", g, &gsi, &si);
        check("bn running mean", g, &grm, &rm);
        check("bn running var", g, &grv, &rv);
        let (dx, dg, db) = c0.batchnorm_train_backward(&b, &x, &dy, &gamma, &sm, &si);
        let (gdx, gdg, gdb) = g.batchnorm_train_backward(&b, &gx, &gdy, &gg, &gsm, &gsi);
        check("bn dx", g, &gdx, &dx);
        check("bn dgamma", g, &gdg, &dg);
        check("bn dbeta", g, &gdb, &db);
        let ye = c0.batchnorm_eval_forward(&b, &x, &gamma, &beta, &rm, &rv);
        check("bn eval y", g, &g.batchnorm_eval_forward(&b, &gx, &gg, &gbeta, &grm, &grv), &ye);
        let (dx, dg, db) = c0.batchnorm_eval_backward(&b, &x, &dy, &gamma, &rm, &rv);
        let (gdx, gdg, gdb) = g.batchnorm_eval_backward(&b, &gx, &gdy, &gg, &grm, &grv);
        check("bn eval dx", g, &gdx, &dx);
        check("bn eval dgamma", g, &gdg, &dg);
        check("bn eval dbeta", g, &gdb, &db);
    }
}

#[test]
fn activations() {
    let Some(g) = gpu() else { return };
    let c0 = CpuBackend;
    let mut rng = Rng(13);
    let mut x = rng.vec(1001, -8.0, 9.0);
    x.extend_from_slice(&[-3.0, 0.0, 3.0, 6.0, -6.0, 30.0, -30.0]);
    let dy = rng.vec(x.len(), -1.0, 1.0);
    let (gx, gdy) = (g.upload(&x), g.upload(&dy));
    for a in Act::ALL {
        check(&format!("{a:?} fwd"), g, &g.act_forward(a, &gx), &c0.act_forward(a, &x));
        check(&format!("{a:?} bwd"), g, &g.act_backward(a, &gx, &gdy), &c0.act_backward(a, &x, &dy));
    }
}

#[test]
fn pooling() {
    let Some(g) = gpu() else { return };
    let c0 = CpuBackend;
    let mut rng = Rng(14);
    for (name, p) in pool_cases() {
        let x = rng.vec(p.x_len(), -1.0, 1.0);
        let dy = rng.vec(p.y_len(), -1.0, 1.0);
        let (gx, gdy) = (g.upload(&x), g.upload(&dy));
        check(&format!("{name} fwd"), g, &g.pool2d_forward(&p, &gx), &c0.pool2d_forward(&p, &x));
        check(&format!("{name} bwd"), g, &g.pool2d_backward(&p, &gx, &gdy), &c0.pool2d_backward(&p, &x, &dy));
    }
    for (n, c, hw) in [(2, 3, 49), (3, 5, 1), (1, 2, 700)] {
        let x = rng.vec(n * c * hw, -1.0, 1.0);
        let dy = rng.vec(n * c, -1.0, 1.0);
        check("gap fwd", g, &g.global_avg_forward(n, c, hw, &g.upload(&x)), &c0.global_avg_forward(n, c, hw, &x));
        check("gap bwd", g, &g.global_avg_backward(n, c, hw, &g.upload(&dy)), &c0.global_avg_backward(n, c, hw, &dy));
    }
}

#[test]
fn linear_and_xent() {
    let Some(g) = gpu() else { return };
    let c0 = CpuBackend;
    let mut rng = Rng(15);
    for (n, inp, out, bias) in [(3, 7, 5, true), (1, 4, 3, false), (9, 33, 10, true)] {
        let l = Linear { n, inp, out, bias };
        let x = rng.vec(n * inp, -1.0, 1.0);
        let w = rng.vec(out * inp, -1.0, 1.0);
        let bv = rng.vec(out, -1.0, 1.0);
        let dy = rng.vec(n * out, -1.0, 1.0);
        let (gx, gw, gb, gdy) = (g.upload(&x), g.upload(&w), g.upload(&bv), g.upload(&dy));
        check("linear fwd", g, &g.linear_forward(&l, &gx, &gw, bias.then_some(&gb)), &c0.linear_forward(&l, &x, &w, bias.then_some(&bv)));
        let (dx, dw, db) = c0.linear_backward(&l, &x, &w, &dy, true);
        let (gdx, gdw, gdb) = g.linear_backward(&l, &gx, &gw, &gdy, true);
        check("linear dx", g, gdx.as_ref().unwrap(), dx.as_ref().unwrap());
        check("linear dw", g, &gdw, &dw);
        if let (Some(db), Some(gdb)) = (db, gdb) {
            check("linear db", g, &gdb, &db);
        }
    }
    for (n, k) in [(5, 7), (1, 3), (300, 10)] {
        let z = rng.vec(n * k, -4.0, 4.0);
        let lab = rng.labels(n, k);
        let (loss, d) = c0.softmax_xent(n, k, &z, &lab);
        let (gl, gd) = Ops::softmax_xent(g, n, k, &g.upload(&z), &lab);
        check("xent loss", g, &gl, &loss);
        check("xent dlogits", g, &gd, &d);
    }
}

#[test]
fn structural_ops() {
    let Some(g) = gpu() else { return };
    let c0 = CpuBackend;
    let mut rng = Rng(16);
    let len = 1234;
    let a = rng.vec(len, -1.0, 1.0);
    let bv = rng.vec(len, -1.0, 1.0);
    let cv = rng.vec(len, -1.0, 1.0);
    let (ga, gb, gc) = (g.upload(&a), g.upload(&bv), g.upload(&cv));
    check("add", g, &g.add(&ga, &gb), &c0.add(&a, &bv));
    check("scale", g, &g.scale(0.3, &ga), &c0.scale(0.3, &a));
    check("identity", g, &Ops::identity(g, &ga), &a);
    check("zeros", g, &g.zeros(len), &vec![0.0; len]);
    check("mean", g, &g.mean_forward(&[&ga, &gb, &gc]), &c0.mean_forward(&[&a, &bv, &cv]));
    let mut gy = g.upload(&a);
    let mut y = a.clone();
    g.axpy(-0.7, &gb, &mut gy);
    c0.axpy(-0.7, &bv, &mut y);
    check("axpy", g, &gy, &y);
    // concat / split
    let (n, hw) = (3, 11);
    let chans = [2, 5, 1];
    let xs: Vec<Vec<f32>> = chans.iter().map(|&c| rng.vec(n * c * hw, -1.0, 1.0)).collect();
    let gxs: Vec<GpuTensor> = xs.iter().map(|v| g.upload(v)).collect();
    let y = c0.concat_forward(n, hw, &chans, &xs.iter().collect::<Vec<_>>());
    check("concat fwd", g, &g.concat_forward(n, hw, &chans, &gxs.iter().collect::<Vec<_>>()), &y);
    let dy = rng.vec(y.len(), -1.0, 1.0);
    let parts = c0.concat_backward(n, hw, &chans, &dy);
    let gparts = g.concat_backward(n, hw, &chans, &g.upload(&dy));
    for (p, gp) in parts.iter().zip(&gparts) {
        check("concat bwd", g, gp, p);
    }
    // channel scaling (squeeze-excite)
    let (n, c, hw) = (2, 3, 37);
    let x = rng.vec(n * c * hw, -1.0, 1.0);
    let s = rng.vec(n * c, -1.0, 1.0);
    let dy = rng.vec(n * c * hw, -1.0, 1.0);
    let (gx, gs, gdy) = (g.upload(&x), g.upload(&s), g.upload(&dy));
    check("cmul fwd", g, &g.channel_mul_forward(n, c, hw, &gx, &gs), &c0.channel_mul_forward(n, c, hw, &x, &s));
    let (dx, ds) = c0.channel_mul_backward(n, c, hw, &x, &s, &dy);
    let (gdx, gds) = g.channel_mul_backward(n, c, hw, &gx, &gs, &gdy);
    check("cmul dx", g, &gdx, &dx);
    check("cmul ds", g, &gds, &ds);
}

#[test]
fn optimizers() {
    let Some(g) = gpu() else { return };
    let c0 = CpuBackend;
    let mut rng = Rng(17);
    let len = 777;
    for o in [
        Sgd { momentum: 0.9, nesterov: false, weight_decay: 5e-4 },
        Sgd { momentum: 0.9, nesterov: true, weight_decay: 1e-3 },
        Sgd { momentum: 0.0, nesterov: false, weight_decay: 0.0 },
    ] {
        let mut p = rng.vec(len, -1.0, 1.0);
        let mut buf = vec![0.0; len];
        let (mut gp, mut gbuf) = (g.upload(&p), g.zeros(len));
        for t in 0..3 {
            let lr = cosine_lr(0.1, 0.001, t, 5);
            let gr = rng.vec(len, -1.0, 1.0);
            c0.sgd_step(&o, lr, &mut p, &gr, &mut buf);
            g.sgd_step(&o, lr, &mut gp, &g.upload(&gr), &mut gbuf);
        }
        check("sgd p", g, &gp, &p);
        check("sgd buf", g, &gbuf, &buf);
    }
    let o = AdamW { weight_decay: 0.05, ..AdamW::default() };
    let mut p = rng.vec(len, -1.0, 1.0);
    let (mut m, mut v) = (vec![0.0; len], vec![0.0; len]);
    let (mut gp, mut gm, mut gv) = (g.upload(&p), g.zeros(len), g.zeros(len));
    for t in 1..=3 {
        let gr = rng.vec(len, -1.0, 1.0);
        c0.adamw_step(&o, 1e-2, t, &mut p, &gr, &mut m, &mut v);
        g.adamw_step(&o, 1e-2, t, &mut gp, &g.upload(&gr), &mut gm, &mut gv);
    }
    check("adamw p", g, &gp, &p);
    check("adamw m", g, &gm, &m);
    check("adamw v", g, &gv, &v);
}

#[test]
fn pipeline_cache_and_batching() {
    let Some(g) = gpu() else { return };
    // A fresh device so other tests' work does not count.
    let g2 = Gpu::new().unwrap();
    let _ = g;
    let c = Conv2d { pad: (1, 1), ..Conv2d::new(2, 3, 8, 8, 4, 3) };
    let x = g2.upload(&vec![0.5; c.x_len()]);
    let w = g2.upload(&vec![0.1; c.w_len()]);
    for _ in 0..20 {
        let y = g2.conv2d_forward(&c, &x, &w, None);
        let _ = g2.conv2d_backward(&c, &x, &w, &y, true);
    }
    let out = g2.conv2d_forward(&c, &x, &w, None);
    let v = g2.read(&out);
    assert!((v[8 + 1 + 9] - 0.5 * 0.1 * 27.0).abs() < 1e-5);
    let s = g2.stats();
    assert_eq!(s.pipelines_compiled, 3, "{s:?}");
    assert!(s.submissions <= 2, "60+ dispatches should need one submission: {s:?}");
    assert!(s.buffers_reused > 0, "{s:?}");
}

#[test]
fn backend_enum_runs_a_training_step_on_both() {
    // conv -> bn -> relu6 -> gap -> linear -> xent, backward, SGD: the `Backend` enum's
    // dispatch on both backends, compared end to end.
    use nasc_kernels::backend::{Backend, OnBackend};
    let Some(g) = gpu() else { return };
    let mut rng = Rng(18);
    let (n, k) = (3, 4);
    let c = Conv2d { pad: (1, 1), stride: (2, 2), bias: true, ..Conv2d::new(n, 2, 7, 7, 5, 3) };
    let bn = BatchNorm::new(n, 5, c.out_h() * c.out_w());
    let l = Linear { n, inp: 5, out: k, bias: true };
    let x = rng.vec(c.x_len(), -1.0, 1.0);
    let w = rng.vec(c.w_len(), -0.5, 0.5);
    let b = rng.vec(5, -0.1, 0.1);
    let lw = rng.vec(k * 5, -0.5, 0.5);
    let lb = rng.vec(k, -0.1, 0.1);
    let labels = rng.labels(n, k);
    struct Step<'a> {
        c: Conv2d,
        bn: BatchNorm,
        l: Linear,
        n: usize,
        k: usize,
        data: [&'a [f32]; 5],
        labels: &'a [u32],
    }
    impl OnBackend for Step<'_> {
        type Out = Vec<Vec<f32>>;
        fn run<B: Ops>(self, be: &B) -> Vec<Vec<f32>> {
            let Step { c, bn, l, n, k, data: [x, w, b, lw, lb], labels } = self;
            let up = |v: &[f32]| be.upload(v);
            let (xt, mut wt, bt, lwt, lbt) = (up(x), up(w), up(b), up(lw), up(lb));
            let (gamma, beta) = (be.full(5, 1.0), be.zeros(5));
            let (mut rm, mut rv) = (be.zeros(5), be.full(5, 1.0));
            let y = be.conv2d_forward(&c, &xt, &wt, Some(&bt));
            let (z, sm, si) = be.batchnorm_train_forward(&bn, &y, &gamma, &beta, &mut rm, &mut rv);
            let a = be.act_forward(Act::Relu6, &z);
            let p = be.global_avg_forward(n, 5, bn.hw, &a);
            let logits = be.linear_forward(&l, &p, &lwt, Some(&lbt));
            let (loss, dlog) = be.softmax_xent(n, k, &logits, labels);
            let (dp, _dlw, _dlb) = be.linear_backward(&l, &p, &lwt, &dlog, true);
            let da = be.global_avg_backward(n, 5, bn.hw, &dp.unwrap());
            let dz = be.act_backward(Act::Relu6, &z, &da);
            let (dy, _, _) = be.batchnorm_train_backward(&bn, &y, &dz, &gamma, &sm, &si);
            let (_, dw, _) = be.conv2d_backward(&c, &xt, &wt, &dy, false);
            let mut buf = be.zeros(c.w_len());
            be.sgd_step(&Sgd { momentum: 0.9, nesterov: true, weight_decay: 5e-4 }, 0.1, &mut wt, &dw, &mut buf);
            vec![be.download(&loss), be.download(&wt), be.download(&rv)]
        }
    }
    let run = |be: &Backend| be.run(Step { c, bn, l, n, k, data: [&x, &w, &b, &lw, &lb], labels: &labels });
    let cpu = run(&Backend::cpu());
    let wg = run(&Backend::Wgpu(g.clone()));
    for (what, (a, b)) in ["loss", "updated conv weight", "running var"].iter().zip(wg.iter().zip(&cpu)) {
        let e = rel_err(a, b);
        assert!(e <= TOL, "{what}: {e:e}");
    }
    assert!(cpu[0][0].is_finite() && cpu[0][0] > 0.0);
}

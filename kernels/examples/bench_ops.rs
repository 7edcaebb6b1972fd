//! Micro benchmark: conv2d forward (and backward) GFLOP/s on the CPU backend, and on wgpu when
//! an adapter opens. Shapes are the NB201 CIFAR network's convolutions (C = 16/32/64 at
//! 32/16/8 px) at batch 64, plus a raw GEMM of one im2col-shaped product.
//!
//!   cargo run -p nasc-kernels --release --example bench_ops [-- --quick --no-gpu --cpu-time]
//!   cargo run -p nasc-kernels --release --no-default-features --features mm --example bench_ops
//!
//! The GEMM engine is chosen at build time (default `gemm`; `--features mm` with
//! `--no-default-features` for matrixmultiply). `RAYON_NUM_THREADS` sets the thread count.
//! `--cpu-time` divides process CPU time by the thread count instead of using the wall clock
//! (use it on a shared, loaded machine; it overstates speed when threads sit idle).

use nasc_kernels::cpu;
use nasc_kernels::gpu::Gpu;
use nasc_kernels::shape::Conv2d;
use std::time::Instant;

/// Process CPU time (user + system) in seconds, from /proc (Linux); `None` elsewhere.
fn cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let f: Vec<&str> = s[s.rfind(')')? + 2..].split_whitespace().collect();
    Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
}

/// Seconds per call: wall clock, or with `--cpu-time` process CPU time divided by the thread
/// count (robust on a loaded machine: other processes' time is not counted).
fn time<F: FnMut()>(mut f: F, min_secs: f64) -> f64 {
    f(); // warm up
    let use_cpu = std::env::args().any(|a| a == "--cpu-time") && cpu_secs().is_some();
    let now = || if use_cpu { cpu_secs().unwrap() / rayon::current_num_threads() as f64 } else { START.with(|s| s.elapsed().as_secs_f64()) };
    let mut iters = 0u32;
    let t0 = now();
    while iters < 3 || now() - t0 < min_secs {
        f();
        iters += 1;
    }
    (now() - t0) / iters as f64
}

thread_local! { static START: Instant = Instant::now(); }

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let no_gpu = args.iter().any(|a| a == "--no-gpu");
    let min = if quick { 0.2 } else { 1.0 };
    let n = if quick { 16 } else { 64 };
    println!("CPU: {} threads, GEMM engine: {}", rayon::current_num_threads(), cpu::gemm::engine());

    // raw GEMM: [16 x 144] x [144 x 1024] (one image of a 16->16 3x3 conv at 32x32) and a square one
    for (m, k, nn) in [(16usize, 144usize, 1024usize), (64, 576, 64), (256, 256, 256)] {
        let a = vec![0.5f32; m * k];
        let b = vec![0.25f32; k * nn];
        let mut c = vec![0.0f32; m * nn];
        for par in [false, true] {
            let s = time(|| cpu::gemm::sgemm(m, nn, k, cpu::gemm::Mat::rm(&a, k), cpu::gemm::Mat::rm(&b, nn), &mut c, nn, false, par), min / 2.0);
            println!("gemm {m}x{k}x{nn} {}: {:.2} GFLOP/s", if par { "parallel" } else { "1 thread" }, 2.0 * (m * k * nn) as f64 / s / 1e9);
        }
    }

    let mut cases = vec![];
    for (c, hw) in [(16, 32), (32, 16), (64, 8)] {
        cases.push((format!("3x3 {c}->{c} {hw}px"), Conv2d { pad: (1, 1), ..Conv2d::new(n, c, hw, hw, c, 3) }));
        cases.push((format!("1x1 {c}->{c} {hw}px"), Conv2d::new(n, c, hw, hw, c, 1)));
    }
    cases.push(("3x3 s2 16->32 32px".into(), Conv2d { pad: (1, 1), stride: (2, 2), ..Conv2d::new(n, 16, 32, 32, 32, 3) }));
    cases.push(("dw3x3 32 16px".into(), Conv2d { pad: (1, 1), groups: 32, ..Conv2d::new(n, 32, 16, 16, 32, 3) }));
    println!("\nconv2d, batch {n}: forward / backward (dx+dw) GFLOP/s");
    for (name, c) in &cases {
        let x = vec![0.1f32; c.x_len()];
        let w = vec![0.01f32; c.w_len()];
        let mut y = vec![0.0f32; c.y_len()];
        let (mut dx, mut dw) = (vec![0.0; c.x_len()], vec![0.0; c.w_len()]);
        let tf = time(|| cpu::conv2d_forward(c, &x, &w, None, &mut y), min);
        let tb = time(|| cpu::conv2d_backward(c, &x, &w, &y, Some(&mut dx), &mut dw, None), min);
        println!("  cpu  {name:<22} fwd {:7.2} GFLOP/s ({:7.3} ms)   bwd {:7.2} GFLOP/s ({:7.3} ms)", c.flops() / tf / 1e9, tf * 1e3, 2.0 * c.flops() / tb / 1e9, tb * 1e3);
    }
    if no_gpu {
        return;
    }
    match Gpu::new() {
        Err(e) => println!("\nwgpu: {e}"),
        Ok(g) => {
            println!("\nwgpu: {}", g.adapter_name());
            for (name, c) in &cases {
                let x = g.upload(&vec![0.1f32; c.x_len()]);
                let w = g.upload(&vec![0.01f32; c.w_len()]);
                let reps = 5;
                let tf = time(
                    || {
                        for _ in 0..reps {
                            drop(g.conv2d_forward(c, &x, &w, None));
                        }
                        g.sync();
                    },
                    min,
                ) / reps as f64;
                let dy = g.upload(&vec![0.01f32; c.y_len()]);
                let tb = time(
                    || {
                        for _ in 0..reps {
                            drop(g.conv2d_backward(c, &x, &w, &dy, true));
                        }
                        g.sync();
                    },
                    min,
                ) / reps as f64;
                println!("  wgpu {name:<22} fwd {:7.2} GFLOP/s ({:7.3} ms)   bwd {:7.2} GFLOP/s ({:7.3} ms)", c.flops() / tf / 1e9, tf * 1e3, 2.0 * c.flops() / tb / 1e9, tb * 1e3);
            }
        }
    }
}

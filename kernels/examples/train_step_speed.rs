//! Training-step throughput of an NB201-like network (the best CIFAR-10 cell's op mix, two
//! stages) on the CPU: `Model<CpuBackend>`, per step forward, backward and optimizer times.
//! `cargo run -p nasc-kernels --release --example train_step_speed -- [batch] [C] [N] [side]`

// the network builders the kernel tests use
#[path = "../tests/nets/mod.rs"]
mod nets;

use nasc_kernels::backend::CpuBackend;
use nasc_kernels::model::{Model, Optim};
use nasc_kernels::rng::Rng;
use nasc_kernels::shape::Sgd;
use std::time::Instant;

fn main() {
    let a: Vec<usize> = std::env::args().skip(1).map(|s| s.parse().unwrap()).collect();
    let (batch, c, ncell, side) = (a.first().copied().unwrap_or(64), a.get(1).copied().unwrap_or(16), a.get(2).copied().unwrap_or(5), a.get(3).copied().unwrap_or(32));
    let g = nets::nb201_cells(c, ncell, side, 10);
    let mut rng = Rng::new(0);
    let x: Vec<f32> = (0..batch * 3 * side * side).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let labels: Vec<u32> = (0..batch).map(|i| (i % 10) as u32).collect();
    let o = Sgd { momentum: 0.9, nesterov: true, weight_decay: 5e-4 };
    let steps = 5;
    nasc_kernels::cpu::retain_freed_memory();
    let mut m = Model::new(CpuBackend, g, &mut Rng::new(1)).unwrap();
    let mut ips = Vec::new();
    for s in 0..=steps {
        let t = Instant::now();
        let logits = m.forward(&x, batch, true);
        let t1 = t.elapsed().as_secs_f64();
        let (_, dl) = m.loss(&logits, &labels);
        m.backward(dl);
        let t2 = t.elapsed().as_secs_f64();
        m.step(&Optim::Sgd(o), 0.1);
        let t3 = t.elapsed().as_secs_f64();
        println!("Model step {s}: fwd {:.3}s bwd {:.3}s opt {:.3}s  {:.1} img/s", t1, t2 - t1, t3 - t2, batch as f64 / t3);
        if s > 0 {
            ips.push(batch as f64 / t3);
        }
    }
    ips.sort_by(f64::total_cmp);
    println!("median of steps 1-{steps}: {:.1} img/s", ips[ips.len() / 2]);
}

//! The backend-generic `Model` against the CPU `Net` (same loss, gradients, running statistics
//! and updated weights), and one full training step of an NB201-like candidate on wgpu against
//! the CPU backend (lavapipe in CI; `NASC_SKIP_GPU_TESTS=1` skips the wgpu part).

mod nets;
use nasc_kernels::backend::{CpuBackend, Ops};
use nasc_kernels::cpu;
use nasc_kernels::gpu::Gpu;
use nasc_kernels::graph::Graph;
use nasc_kernels::model::{Model, Optim};
use nasc_kernels::net::Net;
use nasc_kernels::rng::Rng;
use nasc_kernels::shape::{Act, Sgd};
use nets::*;

fn scaled_err(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let m = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / m
}

fn data(g: &Graph, n: usize, seed: u64) -> (Vec<f32>, Vec<u32>) {
    let mut rng = Rng::new(seed);
    let len = n * g.input_shape().iter().product::<usize>();
    let classes = g.classes();
    ((0..len).map(|_| rng.uniform(-1.0, 1.0)).collect(), (0..n).map(|_| rng.below(classes) as u32).collect())
}

const SGD: Optim = Optim::Sgd(Sgd { momentum: 0.9, nesterov: true, weight_decay: 5e-4 });

/// Loss, gradients, updated weights and running stats after one SGD step of a model.
fn one_step<B: Ops>(m: &mut Model<B>, x: &[f32], labels: &[u32]) -> (f32, Vec<f32>, Vec<f32>, Vec<f32>) {
    let logits = m.forward(x, labels.len(), true);
    let (loss, d) = m.loss(&logits, labels);
    m.backward(d);
    m.step(&SGD, 0.1);
    (loss, m.grads_host(), m.params_host(), m.stats_host())
}

#[test]
fn model_on_cpu_backend_equals_net() {
    for (g, n) in [(wide(), 3), (tiny(Act::Relu), 4), (nb201_like(4, 8, 5), 2), (shared_act(), 3), (gated(), 3)] {
        let (x, labels) = data(&g, n, 9);
        let mut net = Net::new(g.clone(), &mut Rng::new(3)).unwrap();
        let mut model = Model::new(CpuBackend, g, &mut Rng::new(3)).unwrap();
        assert_eq!(model.params_host(), net.params);
        let k = net.classes();
        let logits = net.forward(&x, n, true).to_vec();
        let mut d = vec![0.0; n * k];
        let loss = cpu::softmax_xent(n, k, &logits, &labels, &mut d);
        net.backward(&d);
        let mut buf = vec![0.0; net.params.len()];
        let Optim::Sgd(o) = SGD else { unreachable!() };
        let mut p = net.params.clone();
        cpu::sgd_step(&o, 0.1, &mut p, &net.grads, &mut buf);
        let (ml, mg, mp, ms) = one_step(&mut model, &x, &labels);
        assert!((ml - loss).abs() <= 1e-5 * loss.abs().max(1.0), "loss {ml} vs {loss}");
        assert!(scaled_err(&mg, &net.grads) < 1e-5, "grads differ: {}", scaled_err(&mg, &net.grads));
        assert!(scaled_err(&mp, &p) < 1e-6);
        assert!(scaled_err(&ms, &net.stats) < 1e-6);
    }
}

#[test]
fn nb201_training_step_wgpu_equals_cpu() {
    if std::env::var("NASC_SKIP_GPU_TESTS").as_deref() == Ok("1") {
        eprintln!("NASC_SKIP_GPU_TESTS=1: skipping");
        return;
    }
    let gpu = Gpu::new().unwrap_or_else(|e| panic!("{e}\nset NASC_SKIP_GPU_TESTS=1 to skip the wgpu tests"));
    eprintln!("wgpu adapter: {}", gpu.adapter_name());
    for (g, n) in [(nb201_like(4, 8, 10), 4), (wide(), 3), (gated(), 3)] {
        let (x, labels) = data(&g, n, 5);
        let mut mc = Model::new(CpuBackend, g.clone(), &mut Rng::new(1)).unwrap();
        let mut mg = Model::new(gpu.clone(), g, &mut Rng::new(1)).unwrap();
        for step in 0..2 {
            let (lc, gc, pc, sc) = one_step(&mut mc, &x, &labels);
            let (lg, gg, pg, sg) = one_step(&mut mg, &x, &labels);
            eprintln!("step {step}: loss cpu {lc} wgpu {lg}; grads {:.1e}, weights {:.1e}", scaled_err(&gg, &gc), scaled_err(&pg, &pc));
            assert!((lc - lg).abs() <= 1e-4 * lc.abs().max(1.0), "loss cpu {lc} vs wgpu {lg}");
            assert!(scaled_err(&gg, &gc) < 1e-3, "grads differ by {}", scaled_err(&gg, &gc));
            assert!(scaled_err(&pg, &pc) < 1e-4, "weights differ by {}", scaled_err(&pg, &pc));
            assert!(scaled_err(&sg, &sc) < 1e-4, "running stats differ by {}", scaled_err(&sg, &sc));
        }
    }
}

/// Dropout: in training about `p` of the values are zeroed and the rest scaled by `1/(1-p)`,
/// the masks change with the optimizer step, and eval mode is the identity.
#[test]
fn dropout_masks_scale_change_per_step_and_vanish_in_eval() {
    use nasc_kernels::graph::{Node, Op};
    let g = Graph { nodes: vec![Node { op: Op::Input, inputs: vec![], shape: [8, 16, 16] }, Node { op: Op::Dropout { p: 0.25 }, inputs: vec![0], shape: [8, 16, 16] }], output: 1 };
    let n = 4;
    let x = vec![1.0f32; n * 8 * 16 * 16];
    let mut m = Model::new(CpuBackend, g, &mut Rng::new(7)).unwrap();
    let y0 = CpuBackend.download(&m.forward(&x, n, true));
    let zeros = y0.iter().filter(|v| **v == 0.0).count() as f64 / y0.len() as f64;
    assert!((zeros - 0.25).abs() < 0.03, "dropped fraction {zeros}");
    assert!(y0.iter().all(|v| *v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    assert_eq!(CpuBackend.download(&m.forward(&x, n, true)), y0, "one step, one mask");
    m.step(&SGD, 0.1);
    assert_ne!(CpuBackend.download(&m.forward(&x, n, true)), y0, "a new step draws new masks");
    assert_eq!(CpuBackend.download(&m.forward(&x, n, false)), x, "eval mode is the identity");
}

/// The executable graph refuses a product of shapes that do not broadcast, a product without
/// two inputs and a dropout probability outside [0, 1), with the node named.
#[test]
fn bad_products_and_dropouts_are_refused() {
    use nasc_kernels::graph::{Node, Op};
    let input = Node { op: Op::Input, inputs: vec![], shape: [4, 5, 5] };
    let gap = Node { op: Op::Gap, inputs: vec![0], shape: [4, 1, 1] };
    let g = |extra: Node| Graph { nodes: vec![input.clone(), gap.clone(), Node { op: Op::Gap, inputs: vec![0], shape: [4, 1, 1] }, extra], output: 3 };
    let bad_gate = Graph {
        nodes: vec![
            input.clone(),
            Node { op: Op::Conv { out: 2, k: (1, 1), stride: 1, groups: 1, dilation: 1, pad: Default::default(), bias: false }, inputs: vec![0], shape: [2, 5, 5] },
            gap.clone(),
            Node { op: Op::Mul, inputs: vec![1, 2], shape: [2, 5, 5] },
        ],
        output: 3,
    };
    let e = bad_gate.validate().unwrap_err().to_string();
    assert!(e.contains("node 3: mul needs equal shapes or a [c, 1, 1] side"), "{e}");
    let e = g(Node { op: Op::Mul, inputs: vec![0], shape: [4, 5, 5] }).validate().unwrap_err().to_string();
    assert!(e.contains("takes 2 input(s), has 1"), "{e}");
    let e = g(Node { op: Op::Dropout { p: 1.0 }, inputs: vec![0], shape: [4, 5, 5] }).validate().unwrap_err().to_string();
    assert!(e.contains("dropout probability 1 is not in [0, 1)"), "{e}");
    assert!(g(Node { op: Op::Mul, inputs: vec![2, 0], shape: [4, 5, 5] }).validate().is_ok(), "a [c, 1, 1] gate first broadcasts");
}

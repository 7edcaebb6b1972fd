//! The `Model` on the CPU backend against independent host computations (its initialization
//! against stored hashes of every value, the loss against `cpu::softmax_xent` of its logits, the
//! SGD update against `cpu::sgd_step` of its gradients, the BN running statistics against the
//! batch statistics of the BN inputs; its gradients are checked against finite differences in
//! `model_gradcheck.rs`), and one full training step of an NB201-like candidate on wgpu against
//! the CPU backend (lavapipe in CI; `NASC_SKIP_GPU_TESTS=1` skips the wgpu part).

mod nets;
use nasc_kernels::backend::{CpuBackend, Ops};
use nasc_kernels::cpu;
use nasc_kernels::gpu::Gpu;
use nasc_kernels::graph::Graph;
use nasc_kernels::model::{Model, Optim};
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

/// FNV-1a of the values' bits.
fn fnv(v: &[f32]) -> u64 {
    v.iter().flat_map(|x| x.to_bits().to_le_bytes()).fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

/// Every seed gives the parameters it gave before the layout and initialization moved to
/// `init.rs` (hashes recorded from the former `Net::new`, which `Model::new` used): stored runs,
/// weights files and NSE checkpoints depend on them.
#[test]
fn initialization_is_bit_identical_to_the_recorded_one() {
    let cases: [(&str, Graph, u64, u64, usize); 8] = [
        ("tiny", tiny(Act::Relu), 0, 0x2b3a225a353fa6dd, 247),
        ("tiny", tiny(Act::Relu), 42, 0x92d345dcd4ad1f6e, 247),
        ("wide", wide(), 3, 0x5956f9913ef9d912, 1048),
        ("gated", gated(), 1, 0x3687b2fafe57c5df, 405),
        ("nb201_like", nb201_like(4, 8, 10), 3, 0xe4ae1793f322f3dc, 2742),
        ("nb201_cells", nb201_cells(8, 2, 16, 10), 1, 0x29495e0d69adb50a, 16530),
        ("nb201_cells", nb201_cells(8, 2, 16, 10), 42, 0xb24ad40fb15b75f1, 16530),
        ("shared_act", shared_act(), 0, 0x467fc97f2630b839, 255),
    ];
    for (name, g, seed, hash, np) in cases {
        let m = Model::new(CpuBackend, g.clone(), &mut Rng::new(seed)).unwrap();
        let init = nasc_kernels::init::init(&g, &mut Rng::new(seed)).unwrap();
        assert_eq!(m.params_host(), init.params, "{name}: Model::new uploads init's values");
        assert_eq!(m.stats_host(), init.stats, "{name}");
        assert_eq!((init.params.len(), fnv(&init.params)), (np, hash), "{name} seed {seed}: parameters changed");
        let bn: Vec<usize> = (0..g.nodes.len()).filter(|&i| g.nodes[i].op == nasc_kernels::graph::Op::Bn).collect();
        let want: Vec<f32> = bn.iter().flat_map(|&i| [vec![0.0; g.nodes[i].shape[0]], vec![1.0; g.nodes[i].shape[0]]].concat()).collect();
        assert_eq!(init.stats, want, "{name}: running mean 0, var 1");
    }
}

#[test]
fn model_step_loss_and_statistics_match_host_computations() {
    use nasc_kernels::graph::Op;
    for (g, n) in [(wide(), 3), (tiny(Act::Relu), 4), (nb201_like(4, 8, 5), 2), (shared_act(), 3), (gated(), 3)] {
        let (x, labels) = data(&g, n, 9);
        let mut model = Model::new(CpuBackend, g.clone(), &mut Rng::new(3)).unwrap();
        let (p0, s0) = (model.params_host(), model.stats_host());
        let k = model.classes();
        let logits = model.forward(&x, n, true);
        let mut d = vec![0.0; n * k];
        let loss = cpu::softmax_xent(n, k, &logits, &labels, &mut d);
        // BN running statistics: momentum 0.1 towards the batch mean and unbiased variance
        let mom = nasc_kernels::shape::BatchNorm::new(1, 1, 1).momentum as f64;
        let s1 = model.stats_host();
        for i in (0..g.nodes.len()).filter(|&i| g.nodes[i].op == Op::Bn && model.plan().live[i]) {
            let j = g.nodes[i].inputs[0];
            let [c, h, w] = g.nodes[j].shape;
            let zero = vec![0.0; n * c * h * w];
            let xin = model.output_of(j).cloned().unwrap_or(zero);
            let r = model.node_stats(i);
            for ch in 0..c {
                let v: Vec<f64> = (0..n).flat_map(|b| xin[(b * c + ch) * h * w..][..h * w].iter().map(|&v| v as f64)).collect();
                let m = v.iter().sum::<f64>() / v.len() as f64;
                let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64;
                let (em, ev) = ((1.0 - mom) * s0[r.start + ch] as f64 + mom * m, (1.0 - mom) * s0[r.start + c + ch] as f64 + mom * var);
                assert!((s1[r.start + ch] as f64 - em).abs() < 1e-5 * em.abs().max(1.0), "node {i} channel {ch}: running mean");
                assert!((s1[r.start + c + ch] as f64 - ev).abs() < 1e-5 * ev.abs().max(1.0), "node {i} channel {ch}: running var");
            }
        }
        let (ml, dl) = model.loss(&logits, &labels);
        assert!((ml - loss).abs() <= 1e-6 * loss.abs().max(1.0), "loss {ml} vs {loss}");
        assert!(scaled_err(&dl, &d) < 1e-6, "dlogits");
        model.backward(dl);
        let mg = model.grads_host();
        model.step(&SGD, 0.1);
        let Optim::Sgd(o) = SGD else { unreachable!() };
        let (mut p, mut buf) = (p0.clone(), vec![0.0; p0.len()]);
        cpu::sgd_step(&o, 0.1, &mut p, &mg, &mut buf);
        assert_eq!(model.params_host(), p, "the step is SGD on the flat gradients");
        assert_eq!(model.stats_host(), s1, "backward and step leave the statistics");
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

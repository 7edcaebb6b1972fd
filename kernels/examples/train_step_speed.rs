//! Training-step throughput of an NB201-like network (the best CIFAR-10 cell's op mix, two
//! stages) on the CPU: the in-place `Net` against the backend-generic `Model<CpuBackend>`.
//! `cargo run -p nasc-kernels --release --example train_step_speed -- [batch] [C] [N] [side]`

use nasc_kernels::backend::CpuBackend;
use nasc_kernels::cpu;
use nasc_kernels::graph::{Graph, Node, Op, Pad4};
use nasc_kernels::model::{Model, Optim};
use nasc_kernels::net::Net;
use nasc_kernels::rng::Rng;
use nasc_kernels::shape::{Act, Sgd};
use std::time::Instant;

fn node(op: Op, inputs: &[usize], shape: [usize; 3]) -> Node {
    Node { op, inputs: inputs.to_vec(), shape }
}

fn conv(out: usize, k: usize, stride: usize, pad: usize) -> Op {
    Op::Conv { out, k: (k, k), stride, groups: 1, dilation: 1, pad: Pad4::sym(pad, pad), bias: false }
}

/// Appends a node, returns its index.
type Push<'a> = &'a mut dyn FnMut(Op, &[usize], [usize; 3]) -> usize;

/// An NB201-like network: stem conv-bn, one cell with all five edge ops
/// (`|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|`),
/// a residual reduction block, the cell again at the reduced size, bn-relu-gap-linear head.
fn nb201(c: usize, n_cells: usize, side: usize, classes: usize) -> Graph {
    let mut nodes = vec![node(Op::Input, &[], [3, side, side])];
    let mut push = |op: Op, ins: &[usize], shape: [usize; 3]| {
        nodes.push(node(op, ins, shape));
        nodes.len() - 1
    };
    let s = [c, side, side];
    let x = push(conv(c, 3, 1, 1), &[0], s);
    let mut x = push(Op::Bn, &[x], s);
    let avg = Op::Pool { max: false, k: (3, 3), stride: 1, pad: Pad4::sym(1, 1), count_include_pad: false };
    let cell = |push: Push, x: usize, s: [usize; 3]| {
        let rcb = |push: Push, x: usize, k: usize| {
            let r = push(Op::Act(Act::Relu), &[x], s);
            let cv = push(conv(s[0], k, 1, k / 2), &[r], s);
            push(Op::Bn, &[cv], s)
        };
        let n1 = rcb(push, x, 3);
        let e1 = push(Op::Identity, &[x], s);
        let e2 = push(avg.clone(), &[n1], s);
        let n2 = push(Op::Add, &[e1, e2], s);
        let e3 = push(Op::Zero, &[x], s);
        let e4 = rcb(push, n1, 1);
        let e5 = rcb(push, n2, 3);
        push(Op::Add, &[e3, e4, e5], s)
    };
    for _ in 0..n_cells {
        x = cell(&mut push, x, s);
    }
    // reduction: relu-conv3x3 s2-bn, relu-conv3x3-bn; shortcut avgpool 2 s2 + conv1x1
    let (c2, h2) = (2 * c, side / 2);
    let s2 = [c2, h2, h2];
    let r = push(Op::Act(Act::Relu), &[x], s);
    let a = push(conv(c2, 3, 2, 1), &[r], s2);
    let a = push(Op::Bn, &[a], s2);
    let r = push(Op::Act(Act::Relu), &[a], s2);
    let a = push(conv(c2, 3, 1, 1), &[r], s2);
    let a = push(Op::Bn, &[a], s2);
    let p = push(Op::Pool { max: false, k: (2, 2), stride: 2, pad: Pad4::sym(0, 0), count_include_pad: false }, &[x], [c, h2, h2]);
    let sc = push(conv(c2, 1, 1, 0), &[p], s2);
    x = push(Op::Add, &[a, sc], s2);
    for _ in 0..n_cells {
        x = cell(&mut push, x, s2);
    }
    let b = push(Op::Bn, &[x], s2);
    let r = push(Op::Act(Act::Relu), &[b], s2);
    let gp = push(Op::Gap, &[r], [c2, 1, 1]);
    let out = push(Op::Linear { out: classes, bias: true }, &[gp], [classes, 1, 1]);
    Graph { nodes, output: out }
}

fn main() {
    let a: Vec<usize> = std::env::args().skip(1).map(|s| s.parse().unwrap()).collect();
    let (batch, c, ncell, side) = (a.first().copied().unwrap_or(64), a.get(1).copied().unwrap_or(16), a.get(2).copied().unwrap_or(5), a.get(3).copied().unwrap_or(32));
    let g = nb201(c, ncell, side, 10);
    let mut rng = Rng::new(0);
    let x: Vec<f32> = (0..batch * 3 * side * side).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let labels: Vec<u32> = (0..batch).map(|i| (i % 10) as u32).collect();
    let o = Sgd { momentum: 0.9, nesterov: true, weight_decay: 5e-4 };
    let steps = 5;
    let mut net = Net::new(g.clone(), &mut Rng::new(1)).unwrap();
    let mut buf = vec![0.0; net.params.len()];
    let mut d = vec![0.0; batch * 10];
    for s in 0..=steps {
        if s == 1 {
            eprint!("");
        }
        let t = Instant::now();
        let logits = net.forward(&x, batch, true).to_vec();
        let t1 = t.elapsed().as_secs_f64();
        cpu::softmax_xent(batch, 10, &logits, &labels, &mut d);
        net.backward(&d);
        let t2 = t.elapsed().as_secs_f64();
        let mut p = std::mem::take(&mut net.params);
        cpu::sgd_step(&o, 0.1, &mut p, &net.grads, &mut buf);
        net.params = p;
        let t3 = t.elapsed().as_secs_f64();
        println!("Net   step {s}: fwd {:.3}s bwd {:.3}s opt {:.3}s  {:.1} img/s", t1, t2 - t1, t3 - t2, batch as f64 / t3);
    }
    nasc_kernels::cpu::retain_freed_memory();
    let mut m = Model::new(CpuBackend, g, &mut Rng::new(1)).unwrap();
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
    }
}

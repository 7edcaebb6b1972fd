#![allow(dead_code)]
//! Small graphs shared by the network tests.

use nasc_kernels::graph::{Graph, Node, Op, Pad4};
use nasc_kernels::shape::Act;

pub fn node(op: Op, inputs: &[usize], shape: [usize; 3]) -> Node {
    Node { op, inputs: inputs.to_vec(), shape }
}

pub fn conv(out: usize, k: usize, stride: usize, pad: usize) -> Op {
    Op::Conv { out, k: (k, k), stride, groups: 1, dilation: 1, pad: Pad4::sym(pad, pad), bias: false }
}

/// conv-bn-act, a residual add (the activation feeds two ops), gap, linear.
pub fn tiny(act: Act) -> Graph {
    Graph {
        nodes: vec![
            node(Op::Input, &[], [2, 5, 5]),
            node(conv(4, 3, 1, 1), &[0], [4, 5, 5]),
            node(Op::Bn, &[1], [4, 5, 5]),
            node(Op::Act(act), &[2], [4, 5, 5]),
            node(conv(4, 3, 1, 1), &[3], [4, 5, 5]),
            node(Op::Bn, &[4], [4, 5, 5]),
            node(Op::Add, &[5, 3], [4, 5, 5]),
            node(Op::Gap, &[6], [4, 1, 1]),
            node(Op::Linear { out: 3, bias: true }, &[7], [3, 1, 1]),
        ],
        output: 8,
    }
}

/// Every other op: strided/grouped/dilated/1xk conv with bias, asymmetric ("same") padding,
/// pooling (max, avg without pad counting), squeeze-excite, concat, mean with a zero branch,
/// identity, swish, an add whose zero operand is pruned, and BN reading a zero tensor.
pub fn wide() -> Graph {
    let same = Pad4::same(6, 6, (3, 3), 2, 1);
    assert!(!same.is_symmetric());
    Graph {
        nodes: vec![
            node(Op::Input, &[], [2, 6, 6]),
            node(Op::Conv { out: 4, k: (3, 3), stride: 2, groups: 1, dilation: 1, pad: same, bias: true }, &[0], [4, 3, 3]),
            node(Op::Act(Act::Swish), &[1], [4, 3, 3]),
            node(Op::Conv { out: 4, k: (1, 3), stride: 1, groups: 2, dilation: 1, pad: Pad4::sym(0, 1), bias: false }, &[2], [4, 3, 3]),
            node(Op::Pool { max: true, k: (3, 3), stride: 1, pad: Pad4::sym(1, 1), count_include_pad: false }, &[2], [4, 3, 3]),
            node(Op::Pool { max: false, k: (2, 2), stride: 1, pad: Pad4::same(3, 3, (2, 2), 1, 1), count_include_pad: false }, &[3], [4, 3, 3]),
            node(Op::Zero, &[2], [4, 3, 3]),
            node(Op::Mean, &[4, 5, 6], [4, 3, 3]),
            node(Op::Se { mid: 2, act: Act::Relu, gate: Act::HSigmoid }, &[7], [4, 3, 3]),
            node(Op::Identity, &[8], [4, 3, 3]),
            node(Op::Add, &[9, 6], [4, 3, 3]),
            node(Op::Bn, &[6], [4, 3, 3]),
            node(Op::Concat, &[10, 11, 2], [12, 3, 3]),
            node(Op::Conv { out: 6, k: (3, 3), stride: 1, groups: 1, dilation: 2, pad: Pad4::sym(2, 2), bias: false }, &[12], [6, 3, 3]),
            node(Op::Act(Act::HSwish), &[13], [6, 3, 3]),
            node(Op::Linear { out: 5, bias: false }, &[14], [5, 1, 1]),
        ],
        output: 15,
    }
}

/// Gates and dropout (EfficientNet-style): squeeze-excite with swish and a sigmoid gate, a
/// `[c, 1, 1]` gate times a map (gate first), a product of two maps, a map squared (one value on
/// both sides), dropout, linear.
pub fn gated() -> Graph {
    Graph {
        nodes: vec![
            node(Op::Input, &[], [2, 5, 5]),
            node(conv(4, 3, 1, 1), &[0], [4, 5, 5]),
            node(Op::Bn, &[1], [4, 5, 5]),
            node(Op::Act(Act::Swish), &[2], [4, 5, 5]),
            node(Op::Se { mid: 2, act: Act::Swish, gate: Act::Sigmoid }, &[3], [4, 5, 5]),
            node(Op::Gap, &[4], [4, 1, 1]),
            node(Op::Act(Act::Sigmoid), &[5], [4, 1, 1]),
            node(Op::Mul, &[6, 4], [4, 5, 5]),
            node(Op::Mul, &[7, 3], [4, 5, 5]),
            node(Op::Mul, &[8, 8], [4, 5, 5]),
            node(Op::Dropout { p: 0.3 }, &[9], [4, 5, 5]),
            node(Op::Linear { out: 3, bias: true }, &[10], [3, 1, 1]),
        ],
        output: 11,
    }
}

/// Appends a node, returns its index.
type Push<'a> = &'a mut dyn FnMut(Op, &[usize], [usize; 3]) -> usize;

/// An NB201-like network with one cell per stage ([`nb201_cells`]).
pub fn nb201_like(c: usize, side: usize, classes: usize) -> Graph {
    nb201_cells(c, 1, side, classes)
}

/// An NB201-like network: stem conv-bn, `n_cells` cells with all five edge ops
/// (`|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|`),
/// a residual reduction block, `n_cells` cells at the reduced size, bn-relu-gap-linear head.
/// Also the network of `examples/train_step_speed.rs`.
pub fn nb201_cells(c: usize, n_cells: usize, side: usize, classes: usize) -> Graph {
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

/// The same ReLU (and the same pooling) applied twice to one value, each copy feeding its own
/// conv, as NB201 cells do (the `Model` computes each once).
pub fn shared_act() -> Graph {
    let avg = Op::Pool { max: false, k: (3, 3), stride: 1, pad: Pad4::sym(1, 1), count_include_pad: false };
    Graph {
        nodes: vec![
            node(Op::Input, &[], [2, 6, 5]),
            node(conv(4, 3, 1, 1), &[0], [4, 6, 5]),
            node(Op::Bn, &[1], [4, 6, 5]),
            node(Op::Act(Act::Relu), &[2], [4, 6, 5]),
            node(Op::Act(Act::Relu), &[2], [4, 6, 5]),
            node(conv(4, 3, 1, 1), &[3], [4, 6, 5]),
            node(conv(4, 1, 1, 0), &[4], [4, 6, 5]),
            node(avg.clone(), &[2], [4, 6, 5]),
            node(avg, &[2], [4, 6, 5]),
            node(Op::Add, &[5, 6, 7, 8], [4, 6, 5]),
            node(Op::Gap, &[9], [4, 1, 1]),
            node(Op::Linear { out: 3, bias: true }, &[10], [3, 1, 1]),
        ],
        output: 11,
    }
}

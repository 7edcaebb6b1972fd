//! Whole-network gradients (backward through the graph, with accumulation where a tensor feeds
//! several ops) against central finite differences of the loss, on the CPU backend.

use nasc_kernels::cpu;
mod nets;
use nasc_kernels::graph::Graph;
use nasc_kernels::net::Net;
use nasc_kernels::rng::Rng;
use nasc_kernels::shape::Act;
use nets::*;

fn loss(net: &mut Net, x: &[f32], labels: &[u32]) -> f64 {
    let n = labels.len();
    let k = net.classes();
    let logits = net.forward(x, n, true).to_vec();
    let mut d = vec![0.0; n * k];
    cpu::softmax_xent(n, k, &logits, labels, &mut d) as f64
}

/// Checks every parameter's gradient; `max_fail` is the fraction of parameters allowed to miss
/// (ReLU nets: a kink within +-h of some unit's input spoils that parameter's difference quotient;
/// after BN that happens for a few percent of the parameters whatever h is).
#[allow(clippy::needless_range_loop)]
fn check(g: Graph, n: usize, seed: u64, max_fail: f64) {
    let mut rng = Rng::new(seed);
    let mut net = Net::new(g, &mut rng).unwrap();
    // move BN's affine parameters off their init so their gradients are generic
    for v in net.params.iter_mut() {
        *v += rng.uniform(-0.3, 0.3);
    }
    let len = n * net.graph.input_shape().iter().product::<usize>();
    let x: Vec<f32> = (0..len).map(|_| rng.uniform(-1.5, 1.5)).collect();
    let labels: Vec<u32> = (0..n).map(|_| rng.below(net.classes()) as u32).collect();
    let k = net.classes();
    let logits = net.forward(&x, n, true).to_vec();
    let mut d = vec![0.0; n * k];
    cpu::softmax_xent(n, k, &logits, &labels, &mut d);
    net.backward(&d);
    let an = net.grads.clone();
    let h = 1e-3f32;
    let mut worst = 0.0f64;
    let mut fails = 0usize;
    for i in 0..net.params.len() {
        let p0 = net.params[i];
        net.params[i] = p0 + h;
        let lp = loss(&mut net, &x, &labels);
        net.params[i] = p0 - h;
        let lm = loss(&mut net, &x, &labels);
        net.params[i] = p0;
        let fd = (lp - lm) / (2.0 * h as f64);
        // relative error with an absolute floor (f32 forward passes: the difference quotient carries
        // about 1e-4 of rounding noise)
        let err = (fd - an[i] as f64).abs() / (fd.abs().max(an[i].abs() as f64) + 5e-2);
        if err >= 2e-2 {
            fails += 1;
            eprintln!("param {i} ({:?}): analytic {} vs finite difference {fd}", net.param_info.iter().find(|p| p.range.contains(&i)), an[i]);
        } else {
            worst = worst.max(err);
        }
    }
    let np = net.params.len();
    eprintln!("{np} params, {fails} off, worst relative error of the others {worst:.2e}");
    assert!(fails as f64 <= max_fail * np as f64, "{fails} of {np} parameters fail the gradient check");
}

#[test]
fn gradcheck_conv_bn_relu_add_gap_linear() {
    check(tiny(Act::Relu), 3, 1, 0.08);
}

#[test]
fn gradcheck_conv_bn_swish_add_gap_linear_strict() {
    check(tiny(Act::Swish), 3, 1, 0.0);
}

/// Squeeze-excite with swish/sigmoid, broadcast and element-wise products, dropout (its masks
/// are fixed while `dropout_step` is).
#[test]
fn gradcheck_gates_and_dropout() {
    check(gated(), 3, 4, 0.0);
}

#[test]
fn gradcheck_every_op() {
    check(wide(), 3, 2, 0.0);
}

#[test]
fn zero_pruning_plan() {
    let g = wide();
    let p = g.plan();
    assert!(p.zero[6] && !p.live[6]);
    assert!(!p.zero[10] && p.live[10]);
    assert!(p.live.iter().skip(1).filter(|&&l| l).count() >= 13);
}

//! Whole-network gradients of the `Model` (backward through the graph, with accumulation where a
//! tensor feeds several ops, shared add gradients, repeated ops computed once) against central
//! finite differences of the loss, on the CPU backend; and the gradients it taps at node outputs
//! (`Model::backward_tapped`, NSE's gate gradients) against finite differences of a scaling of
//! that output.

use nasc_kernels::backend::CpuBackend;
use nasc_kernels::cpu;
mod nets;
use nasc_kernels::graph::{Graph, Node, Op};
use nasc_kernels::model::Model;
use nasc_kernels::rng::Rng;
use nasc_kernels::shape::Act;
use nets::*;

fn loss(net: &mut Model<CpuBackend>, x: &[f32], labels: &[u32]) -> f64 {
    let n = labels.len();
    let k = net.classes();
    let logits = net.forward(x, n, true);
    let mut d = vec![0.0; n * k];
    cpu::softmax_xent(n, k, &logits, labels, &mut d) as f64
}

/// Checks every parameter's gradient; `max_fail` is the fraction of parameters allowed to miss
/// (ReLU nets: a kink within +-h of some unit's input spoils that parameter's difference quotient;
/// after BN that happens for a few percent of the parameters whatever h is).
#[allow(clippy::needless_range_loop)]
fn check(g: Graph, n: usize, seed: u64, max_fail: f64) {
    let mut rng = Rng::new(seed);
    let mut net = Model::new(CpuBackend, g, &mut rng).unwrap();
    // move BN's affine parameters off their init so their gradients are generic
    let mut params = net.params_host();
    for v in params.iter_mut() {
        *v += rng.uniform(-0.3, 0.3);
    }
    net.set_params(&params);
    let len = n * net.graph().input_shape().iter().product::<usize>();
    let x: Vec<f32> = (0..len).map(|_| rng.uniform(-1.5, 1.5)).collect();
    let labels: Vec<u32> = (0..n).map(|_| rng.below(net.classes()) as u32).collect();
    let logits = net.forward(&x, n, true);
    let (_, d) = net.loss(&logits, &labels);
    net.backward(d);
    let an = net.grads_host();
    let stats = net.stats_host();
    let h = 1e-3f32;
    let mut worst = 0.0f64;
    let mut fails = 0usize;
    for i in 0..params.len() {
        let p0 = params[i];
        params[i] = p0 + h;
        net.set_params(&params);
        let lp = loss(&mut net, &x, &labels);
        params[i] = p0 - h;
        net.set_params(&params);
        let lm = loss(&mut net, &x, &labels);
        params[i] = p0;
        // training forwards move the running statistics, which the loss does not read
        net.set_stats(&stats);
        let fd = (lp - lm) / (2.0 * h as f64);
        // relative error with an absolute floor (f32 forward passes: the difference quotient carries
        // about 1e-4 of rounding noise)
        let err = (fd - an[i] as f64).abs() / (fd.abs().max(an[i].abs() as f64) + 5e-2);
        if err >= 2e-2 {
            fails += 1;
            eprintln!("param {i} ({:?}): analytic {} vs finite difference {fd}", net.param_info().iter().find(|p| p.range.contains(&i)), an[i]);
        } else {
            worst = worst.max(err);
        }
    }
    let np = params.len();
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
/// are fixed between optimizer steps, and the check takes none).
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

/// The gradients tapped at node outputs (NSE reads them at each layer's output): summed over
/// the batch and the pixels, the gradient at a BN node's output is its beta's gradient (checked
/// against finite differences above); an add passes its own unchanged to its inputs; a node
/// that aliases its input, and one the output does not depend on, get none.
#[test]
fn tapped_gradients_are_the_gradients_at_node_outputs() {
    let mut g = tiny(Act::Swish);
    // node 9: an identity of the add (aliases it); node 10: a BN nothing reads
    g.nodes.push(Node { op: Op::Identity, inputs: vec![6], shape: [4, 5, 5] });
    g.nodes.push(Node { op: Op::Bn, inputs: vec![1], shape: [4, 5, 5] });
    let mut rng = Rng::new(5);
    let mut net = Model::new(CpuBackend, g, &mut rng).unwrap();
    let n = 3;
    let x: Vec<f32> = (0..n * 2 * 5 * 5).map(|_| rng.uniform(-1.5, 1.5)).collect();
    let labels = [0u32, 2, 1];
    let logits = net.forward(&x, n, true);
    let (_, d) = net.loss(&logits, &labels);
    let taps = [2, 5, 6, 9, 10, 8];
    let dys = net.backward_tapped(d.clone(), &taps);
    let grads = net.grads_host();
    for (k, bn) in [(0, 2), (1, 5)] {
        let dy = dys[k].as_ref().expect("a BN output gets a gradient");
        let beta = net.node_params(bn).start + 4;
        for ch in 0..4 {
            let s: f64 = (0..n).flat_map(|b| dy[(b * 4 + ch) * 25..][..25].iter().map(|&v| v as f64)).sum();
            assert!((s - grads[beta + ch] as f64).abs() < 1e-5, "node {bn} channel {ch}: {s} vs dbeta {}", grads[beta + ch]);
        }
    }
    assert_eq!(dys[2], dys[1], "the add hands its gradient on unchanged");
    assert_eq!(dys[3], None, "an identity aliases its input");
    assert_eq!(dys[4], None, "nothing reads node 10");
    assert_eq!(dys[5].as_deref(), Some(&d[..]), "the output node's gradient is dlogits");
    assert!(net.output_of(10).is_none(), "node 10 is dead");
    // made live, it is computed (and still gets no gradient)
    net.set_live(10);
    let logits = net.forward(&x, n, true);
    let (_, d) = net.loss(&logits, &labels);
    let dys = net.backward_tapped(d, &[10]);
    assert!(net.output_of(10).is_some_and(|y| y.len() == n * 100));
    assert_eq!(dys[0], None);
}

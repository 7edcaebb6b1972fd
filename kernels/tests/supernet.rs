//! NSE's supernet (issue 19) on the CPU backend: shared-weight steps against finite
//! differences, the straight-through gate gradients against finite differences of a scaled
//! layer output, the pair probability's derivative, sampling rules, dropping with Lock &
//! Rehearse, BN recalibration, the Pareto front, whole rounds on the embedded digits, and the
//! weight steps, indicator steps and recalibrated evaluations on the WGSL kernels against the
//! CPU ones.

use nasc_kernels::backend::Ops;
use nasc_kernels::data;
use nasc_kernels::nse::{self, NseConfig, NseData, NseState};
use nasc_kernels::nse_ckpt;
use nasc_kernels::rng::Rng;
use nasc_kernels::shape::Sgd;
use nasc_kernels::supernet::{pair_prob, prob, Arch, BranchOp, MacsPenalty, Supernet, SupernetSpec};

fn spec() -> SupernetSpec {
    SupernetSpec {
        input: [3, 8, 8],
        stem: 4,
        // layer 0 keeps its shape (identity path), layer 1 is a reduction layer
        layers: vec![(4, 1), (6, 2)],
        head: 8,
        classes: 3,
        pool: vec![BranchOp::Dw { k: 3, t: 1, d: 1 }, BranchOp::Dw { k: 3, t: 2, d: 2 }, BranchOp::Ssc { k: 3, t: 1 }, BranchOp::PoolNeck { k: 3, max: false, t: 1 }],
    }
}

fn batch(seed: u64, n: usize, spec: &SupernetSpec) -> (Vec<f32>, Vec<u32>) {
    let mut rng = Rng::new(seed);
    let len = n * spec.input.iter().product::<usize>();
    ((0..len).map(|_| rng.uniform(-1.5, 1.5)).collect(), (0..n).map(|_| rng.below(spec.classes) as u32).collect())
}

fn all_active(s: &SupernetSpec) -> Vec<Vec<usize>> {
    s.layers.iter().map(|_| (0..s.pool.len()).collect()).collect()
}

fn loss(net: &mut Supernet, x: &[f32], y: &[u32], arch: &Arch) -> f64 {
    net.grads(x, y, arch).0 as f64
}

#[test]
fn names_round_trip() {
    for op in spec().pool.iter().chain([BranchOp::Ssc { k: 5, t: 4 }, BranchOp::PoolNeck { k: 5, max: true, t: 3 }].iter()) {
        assert_eq!(BranchOp::parse(&op.name()), Some(*op), "{}", op.name());
    }
    for bad in ["", "dw", "dw4_e1", "dw3_e0", "conv3", "dil1_e3", "avgneck2_e1", "avgneck3", "ssc3_ex"] {
        assert_eq!(BranchOp::parse(bad), None, "{bad}");
    }
}

#[test]
fn shared_weight_step_matches_finite_differences() {
    let s = spec();
    let mut net = Supernet::new(s.clone(), all_active(&s), 3).unwrap();
    let (x, y) = batch(1, 6, &s);
    let arch: Arch = vec![vec![0, 2], vec![1, 3]];
    let sgd = Sgd { momentum: 0.0, nesterov: false, weight_decay: 0.0 };
    let mut rng = Rng::new(9);
    // (layer, op) pieces of the arch, and one unselected piece that must not move
    for &(l, o) in &[(0usize, 0usize), (0, 2), (1, 1), (1, 3)] {
        let before = net.ops[l][o].params.clone();
        let untouched = net.ops[1][0].params.clone();
        net.train_step(&x, &y, &arch, &sgd, 1.0);
        let an: Vec<f32> = before.iter().zip(&net.ops[l][o].params).map(|(b, a)| b - a).collect();
        assert_eq!(net.ops[1][0].params, untouched, "an unselected op moved");
        assert!(net.ops[1][0].momentum.iter().all(|&m| m == 0.0));
        // undo the whole step: restore every piece by re-running from a fresh supernet
        let mut fresh = Supernet::new(s.clone(), all_active(&s), 3).unwrap();
        let h = 1e-3f32;
        let mut fails = 0;
        let picks: Vec<usize> = (0..8).map(|_| rng.below(before.len())).collect();
        for &i in &picks {
            let p0 = fresh.ops[l][o].params[i];
            fresh.ops[l][o].params[i] = p0 + h;
            let lp = loss(&mut fresh, &x, &y, &arch);
            fresh.ops[l][o].params[i] = p0 - h;
            let lm = loss(&mut fresh, &x, &y, &arch);
            fresh.ops[l][o].params[i] = p0;
            let fd = (lp - lm) / (2.0 * h as f64);
            let err = (fd - an[i] as f64).abs() / (fd.abs().max(an[i].abs() as f64) + 5e-2);
            if err > 2e-2 {
                fails += 1;
                eprintln!("piece ({l}, {o}) param {i}: analytic {} vs finite difference {fd}", an[i]);
            }
        }
        assert!(fails <= 1, "{fails} of 8 gradients of piece ({l}, {o}) missed");
        net = fresh;
    }
}

#[test]
fn gate_gradient_matches_finite_differences() {
    // in the reduction layer (no identity) scaling the final BN's gamma and beta of every
    // selected branch by (1 + e) scales the layer output: dL/de = <dL/dY, Y_a>
    let s = spec();
    let mut net = Supernet::new(s.clone(), all_active(&s), 5).unwrap();
    for row in &mut net.ops {
        for sh in row {
            let mut r = Rng::new(sh.params.len() as u64);
            sh.params.iter_mut().for_each(|v| *v += r.uniform(-0.2, 0.2));
        }
    }
    let (x, y) = batch(2, 5, &s);
    let a: Arch = vec![vec![1], vec![0, 2]];
    let b: Arch = vec![vec![1], vec![3]];
    let (_, g) = net.gates(&x, &y, &a, &b, &[false, true]);
    let cout = s.layers[1].0;
    let scale = |net: &mut Supernet, f: f32| {
        for &o in &a[1] {
            let p = &mut net.ops[1][o].params;
            let n = p.len();
            p[n - 2 * cout..].iter_mut().for_each(|v| *v *= f);
        }
    };
    let h = 1e-3f32;
    scale(&mut net, 1.0 + h);
    let lp = loss(&mut net, &x, &y, &a);
    scale(&mut net, 1.0 / (1.0 + h) * (1.0 - h));
    let lm = loss(&mut net, &x, &y, &a);
    let fd = (lp - lm) / (2.0 * h as f64);
    let (ga, gb) = g[1];
    assert!((fd - ga).abs() <= 2e-2 * fd.abs().max(ga.abs()) + 1e-4, "gate a: analytic {ga} vs finite difference {fd}");
    assert!(gb.is_finite() && gb != ga);
    assert_eq!(g[0], (0.0, 0.0), "a layer without two configurations has no gate gradient");
    // the same configuration twice: both gates read the same output
    let (_, g2) = net.gates(&x, &y, &a, &a, &[false, true]);
    assert!((g2[1].0 - g2[1].1).abs() <= 1e-9 * g2[1].0.abs().max(1.0));
}

#[test]
fn pair_probability_derivative_matches_finite_differences() {
    let mut rng = Rng::new(4);
    for _ in 0..20 {
        let theta: Vec<f32> = (0..5).map(|_| rng.uniform(-3.0, 3.0)).collect();
        let active = vec![0, 2, 3, 4];
        let a: Vec<usize> = active.iter().copied().filter(|_| rng.below(2) == 0).collect();
        let mut b: Vec<usize> = active.iter().copied().filter(|_| rng.below(2) == 0).collect();
        if a == b {
            b = if b.contains(&2) { vec![] } else { vec![2] };
        }
        let (pa, d) = pair_prob(&theta, &active, &a, &b);
        assert!((0.0..=1.0).contains(&pa));
        for (i, &o) in active.iter().enumerate() {
            let h = 1e-2f32;
            let mut t = theta.clone();
            t[o] = theta[o] + h;
            let up = pair_prob(&t, &active, &a, &b).0;
            t[o] = theta[o] - h;
            let dn = pair_prob(&t, &active, &a, &b).0;
            let fd = (up - dn) / (2.0 * h as f64);
            assert!((fd - d[i]).abs() <= 1e-3 * fd.abs().max(1e-3), "op {o}: {} vs {fd}", d[i]);
        }
    }
    assert!((prob(0.0) - 0.5).abs() < 1e-6 && prob(-100.0) > 0.0 && prob(100.0) < 1.0);
}

#[test]
fn uniform_sampling_follows_the_rules() {
    let s = spec();
    let net = Supernet::new(s.clone(), vec![vec![0, 1, 2], vec![2, 3]], 0).unwrap();
    let mut rng = Rng::new(8);
    let (mut on, mut empty0) = (0usize, 0usize);
    let n = 4000;
    for _ in 0..n {
        let a = net.sample_uniform(&mut rng);
        assert!(!a[1].is_empty(), "a reduction layer selects at least one op");
        assert!(a[0].iter().all(|o| [0, 1, 2].contains(o)) && a[1].iter().all(|o| [2, 3].contains(o)));
        on += a[0].len();
        empty0 += a[0].is_empty() as usize;
    }
    let frac = on as f64 / (3 * n) as f64;
    assert!((frac - 0.5).abs() < 0.03, "normal layer: ops on {frac}");
    assert!((empty0 as f64 / n as f64 - 0.125).abs() < 0.03, "normal layer may be empty (identity only)");
}

#[test]
fn dropping_keeps_locked_ops_and_a_reduction_layers_last() {
    let s = spec();
    let mut net = Supernet::new(s.clone(), vec![vec![0, 1, 2], vec![1, 2, 3]], 0).unwrap();
    net.theta[0] = vec![-3.0, -1.0, -2.5, 0.0];
    net.theta[1] = vec![0.0, -4.0, -3.0, -5.0];
    let dropped = net.drop_unfit(-2.0, &[vec![2], vec![]]);
    assert_eq!(net.active[0], vec![1, 2], "op 0 dropped, op 2 locked");
    assert_eq!(net.active[1], vec![2], "the reduction layer keeps its best op");
    assert_eq!(dropped, vec![(0, 0), (1, 3), (1, 1)]);
}

#[test]
fn recalibration_is_the_mean_of_batch_statistics() {
    let s = spec();
    let mut net = Supernet::new(s.clone(), all_active(&s), 1).unwrap();
    let arch: Arch = vec![vec![0], vec![2]];
    let (b1, b2) = (batch(3, 7, &s), batch(4, 7, &s));
    let one = net.recalibrated(&arch, std::slice::from_ref(&b1));
    let two = net.recalibrated(&arch, &[b1.clone(), b2.clone()]);
    let other = net.recalibrated(&arch, std::slice::from_ref(&b2));
    let (one_s, two_s, other_s) = (one.stats_host(), two.stats_host(), other.stats_host());
    for i in 0..one_s.len() {
        let mean = (one_s[i] + other_s[i]) / 2.0;
        assert!((two_s[i] - mean).abs() <= 1e-4 * mean.abs().max(1.0), "stat {i}");
    }
    // the stem BN (node 2) reads the stem conv (node 1): its batch mean and unbiased variance
    let mut plain = net.recalibrated(&arch, &[]);
    plain.forward(&b1.0, 7, true);
    let conv = plain.output_of(1).unwrap().to_vec();
    let [c, h, w] = plain.graph().nodes[1].shape;
    let st = one.node_stats(2);
    for ch in 0..c {
        let v: Vec<f64> = (0..7).flat_map(|i| conv[(i * c + ch) * h * w..][..h * w].iter().map(|&x| x as f64)).collect();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64;
        assert!((one_s[st.start + ch] as f64 - m).abs() < 1e-4, "mean of channel {ch}");
        assert!((one_s[st.start + c + ch] as f64 - var).abs() < 1e-3 * var.max(1.0), "var of channel {ch}");
    }
}

#[test]
fn pareto_front_of_accuracy_and_macs() {
    let pts = [(0.5, 10.0), (0.6, 12.0), (0.55, 12.0), (0.6, 12.0), (0.4, 9.0), (0.7, 20.0), (0.3, 9.5)];
    assert_eq!(nse::pareto(&pts), vec![0, 1, 4, 5]);
}

#[test]
fn the_front_leaves_extra_samples_out_unless_nothing_is_in_the_band() {
    // (accuracy, macs); the extra samples sit under the band
    let pts = [(0.50, 10.0), (0.60, 12.0), (0.55, 8.0), (0.40, 7.0)];
    // the extra (0.55, 8) takes part, dominating (0.50, 10), but is left out itself
    assert_eq!(nse::front_of(&pts, &[false, false, true, false]), vec![1, 3]);
    // an extra sample dominating every in-band point: the front of the in-band points alone
    let pts = [(0.50, 10.0), (0.45, 11.0), (0.70, 8.0)];
    assert_eq!(nse::front_of(&pts, &[false, false, true]), vec![0]);
    // nothing in the band (flags all set): the front of every sample, never empty
    assert_eq!(nse::front_of(&pts, &[true, true, true]), vec![2]);
    assert!(nse::front_of(&[], &[]).is_empty());
}

/// One round on the digits with the MACs band at `target ± band` (fractions of the full
/// supernet's MACs) and the extra band under it.
fn digits_round(target: f64, band: f64, extra_band: f64) -> (nse::RoundRecord, Vec<String>) {
    let splits = data::digits();
    let spec = digits_spec();
    let mut state = NseState::new(spec.layers.len(), spec.pool.len(), 3, 5);
    let mut net = Supernet::new(spec, state.active.clone(), 5).unwrap();
    let all: Arch = (0..3).map(|_| (0..5).collect()).collect();
    let full = net.arch_macs(&all);
    let cfg = NseConfig {
        k: 3,
        epochs: 1,
        batch: 64,
        samples: 6,
        extra_samples: 2,
        recal_batches: 1,
        band: (full * band) as f32,
        extra_band: (full * extra_band) as f32,
        penalty: MacsPenalty { alpha: 1e-5, beta: 2.0, target: (full * target) as f32 },
        max_rounds: 1,
        ..NseConfig::paper()
    };
    let d = NseData { train: &splits.train, val: &splits.val, mean: &splits.mean, std: &splits.std, augment: splits.augment };
    let mut lines = Vec::new();
    let rec = nse::run_round(&mut net, &mut state, &cfg, &d, 5, &mut |l| lines.push(l.to_string()), &mut |_, _| true).unwrap();
    assert_eq!(state.locked, rec.aggregated);
    (rec, lines)
}

#[test]
fn a_band_out_of_reach_still_gives_a_front() {
    // the band above the largest sub-network, nothing under it either: fallback samples anywhere
    let (rec, lines) = digits_round(3.0, 0.1, 0.1);
    assert!(!rec.front.is_empty(), "{lines:?}");
    assert!(rec.aggregated.iter().all(|l| !l.is_empty()), "every layer inherits an op: {:?}", rec.aggregated);
    assert!(rec.samples.iter().all(|(_, outside)| *outside));
    assert!(lines.iter().any(|l| l.contains("no sub-network of the simplified space in the MACs band") && l.contains("outside it")), "{lines:?}");
    // the band above every sub-network but the extra band under it covering them: the front
    // comes from the samples under the band
    let (rec, lines) = digits_round(3.0, 0.1, 3.0);
    assert!(!rec.front.is_empty(), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("under it")), "{lines:?}");
    assert_eq!(rec.samples.len(), 2, "the 2 extra samples");
    assert!(rec.samples.iter().all(|(_, outside)| *outside));
}

fn digits_spec() -> SupernetSpec {
    SupernetSpec {
        input: [1, 8, 8],
        stem: 8,
        layers: vec![(8, 1), (12, 2), (12, 1)],
        head: 16,
        classes: 10,
        pool: vec![
            BranchOp::Dw { k: 3, t: 1, d: 1 },
            BranchOp::Dw { k: 3, t: 2, d: 1 },
            BranchOp::Dw { k: 3, t: 1, d: 2 },
            BranchOp::Ssc { k: 3, t: 1 },
            BranchOp::PoolNeck { k: 3, max: false, t: 1 },
        ],
    }
}

/// Two rounds on the digits; `kills`: after which checkpoints (counted from 1) the run is
/// "killed": the checkpoint is encoded, everything dropped, and a new supernet decodes it.
fn digits_run(lock: bool, kills: &[usize]) -> (NseState, Supernet) {
    let splits = data::digits();
    let spec = digits_spec();
    let mut state = NseState::new(spec.layers.len(), spec.pool.len(), 3, 7);
    let mut net = Supernet::new(spec.clone(), state.active.clone(), 7).unwrap();
    let all: Arch = (0..3).map(|_| (0..5).collect()).collect();
    let mid = net.arch_macs(&all) / 2.0;
    let cfg = NseConfig {
        k: 3,
        epochs: 2,
        batch: 64,
        lr: 0.1,
        samples: 6,
        extra_samples: 2,
        recal_batches: 2,
        band: (mid * 0.6) as f32,
        extra_band: (mid * 0.3) as f32,
        penalty: MacsPenalty { alpha: 1e-5, beta: 2.0, target: mid as f32 },
        max_rounds: 2,
        lock_rehearse: lock,
        ..NseConfig::paper()
    };
    let d = NseData { train: &splits.train, val: &splits.val, mean: &splits.mean, std: &splits.std, augment: splits.augment };
    let mut calls = 0;
    let mut saved: Option<Vec<u8>> = None;
    while !state.finished {
        let rec = nse::run_round(&mut net, &mut state, &cfg, &d, 7, &mut |_| {}, &mut |st, n| {
            calls += 1;
            if kills.contains(&calls) {
                saved = Some(nse_ckpt::encode(st, n));
                return false;
            }
            true
        });
        if let Some(bytes) = saved.take() {
            // "killed": a fresh process reads the checkpoint back
            assert!(rec.is_none() || state.cursor.is_none());
            net = Supernet::new(spec.clone(), vec![vec![]; 3], 99).unwrap();
            state = nse_ckpt::decode(&bytes, &mut net).unwrap();
            continue;
        }
        let rec = rec.expect("not killed");
        assert!(!rec.front.is_empty(), "round {}: empty front", rec.round);
        assert!(rec.train_loss.is_finite());
        for (l, layer) in state.active.iter().enumerate() {
            assert!(layer.len() <= 3);
            assert!(state.locked[l].iter().all(|o| layer.contains(o)), "the aggregated ops are inherited");
        }
    }
    (state, net)
}

fn untimed(s: &NseState) -> NseState {
    let mut s = s.clone();
    s.history.iter_mut().for_each(|r| r.seconds = 0.0);
    s
}

#[test]
fn rounds_on_digits_are_deterministic_and_inherit_the_front() {
    let (s1, n1) = digits_run(true, &[]);
    assert_eq!(s1.round, 2);
    assert_eq!(s1.history.len(), 2);
    let (s2, n2) = digits_run(true, &[]);
    assert_eq!(untimed(&s1), untimed(&s2));
    assert_eq!(n1.theta, n2.theta);
    assert!(s1.history[1].front.iter().all(|s| (0.0..=1.0).contains(&s.accuracy)));
    assert!(s1.history.iter().all(|r| r.theta.len() == 3 && r.theta.iter().flatten().any(|&t| t != 0.0)), "the indicators moved");
    // killed inside round 1 (after epoch 1), at its end, and inside round 2: the same run
    let (s3, n3) = digits_run(true, &[1, 3, 5]);
    assert_eq!(untimed(&s1), untimed(&s3));
    assert_eq!(n1.theta, n3.theta);
    assert_eq!(n1.ops, n3.ops);
    assert_eq!(n1.fixed, n3.fixed);
}

#[test]
fn checkpoints_are_refused_when_damaged_or_foreign() {
    let spec = digits_spec();
    let state = NseState::new(3, 5, 3, 1);
    let net = Supernet::new(spec.clone(), state.active.clone(), 1).unwrap();
    let bytes = nse_ckpt::encode(&state, &net);
    let mut other = Supernet::new(spec.clone(), vec![vec![]; 3], 2).unwrap();
    assert_eq!(nse_ckpt::decode(&bytes, &mut other).unwrap(), state);
    assert_eq!(other.ops, net.ops);
    for cut in [0, 5, 8, 40, bytes.len() / 2, bytes.len() - 1] {
        let e = nse_ckpt::decode(&bytes[..cut], &mut other).unwrap_err();
        assert!(matches!(e, nse_ckpt::CheckpointError::NotACheckpoint | nse_ckpt::CheckpointError::Truncated), "cut {cut}: {e}");
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(nse_ckpt::decode(&long, &mut other).unwrap_err().to_string().contains("trailing"));
    let mut spec2 = spec.clone();
    spec2.head = 17;
    let mut foreign = Supernet::new(spec2, vec![vec![]; 3], 2).unwrap();
    let e = nse_ckpt::decode(&bytes, &mut foreign).unwrap_err();
    assert!(e.to_string().starts_with("the nse checkpoint belongs to another supernet"), "{e}");
    assert_eq!(foreign.theta, vec![vec![0.0; 5]; 3], "a refused checkpoint leaves the supernet alone");
}

#[test]
fn hyper_parameters_are_set_by_name_and_checked() {
    let mut c = NseConfig::paper();
    for (k, v) in [("k", "4"), ("epochs", "3"), ("lr", "0.05"), ("threshold", "-1.5"), ("lock_rehearse", "false"), ("sample_prob", "0.25"), ("target", "3.1")] {
        c.set(k, v).unwrap();
    }
    assert_eq!((c.k, c.epochs, c.lr, c.threshold, c.lock_rehearse, c.sample_prob, c.penalty.target), (4, 3, 0.05, -1.5, false, Some(0.25), 3.1));
    for k in nse::CONFIG_KEYS {
        let e = c.set(k, "not a value").unwrap_err();
        assert!(e.to_string().starts_with(&format!("nse setting `{k}` = `not a value`: expected")), "{e}");
    }
    let e = c.set("epoch", "3").unwrap_err();
    assert!(e.to_string().contains("nse has no setting `epoch`") && e.to_string().contains("epochs"), "{e}");
    for (k, v) in [("k", "0"), ("batch", "0"), ("lr", "-1"), ("momentum", "1"), ("beta", "0.5"), ("sample_prob", "0"), ("lr", "NaN")] {
        assert!(c.set(k, v).is_err(), "{k}={v} accepted");
    }
    c.set("sample_prob", "none").unwrap();
    assert_eq!(c.sample_prob, None);
}

/// The supernet on the WGSL kernels (lavapipe in CI) against the CPU backend, the kernels'
/// oracle: the same sub-networks and batches from the same weights give the same losses, after
/// three weight steps (momentum included) the same shared weights and BN statistics, then the
/// same gate inner products and indicators after three indicator steps, and the same
/// recalibrated statistics, logits and accuracy of a sampled sub-network.
#[test]
fn wgpu_supernet_steps_equal_the_cpu_steps() {
    if std::env::var("NASC_SKIP_GPU_TESTS").as_deref() == Ok("1") {
        eprintln!("NASC_SKIP_GPU_TESTS=1: skipping");
        return;
    }
    let gpu = nasc_kernels::gpu::Gpu::new().unwrap_or_else(|e| panic!("{e}\nset NASC_SKIP_GPU_TESTS=1 to skip the wgpu tests"));
    eprintln!("wgpu adapter: {}", gpu.adapter_name());
    let s = spec();
    let mut cpu = Supernet::new(s.clone(), all_active(&s), 5).unwrap();
    let mut dev = Supernet::new(s.clone(), all_active(&s), 5).unwrap();
    dev.set_device(Some(gpu.clone()));
    let sgd = Sgd { momentum: 0.9, nesterov: true, weight_decay: 4e-5 };
    let mut rng = Rng::new(2);
    for step in 0..3 {
        let arch = cpu.sample_uniform(&mut rng);
        let (x, y) = batch(10 + step, 5, &s);
        let lc = cpu.train_step(&x, &y, &arch, &sgd, 0.1);
        let lg = dev.train_step(&x, &y, &arch, &sgd, 0.1);
        assert!((lc - lg).abs() <= 1e-4 * lc.abs().max(1.0), "step {step}: loss cpu {lc} vs wgpu {lg}");
    }
    let flat =
        |n: &Supernet, f: fn(&nasc_kernels::supernet::Shared) -> &Vec<f32>| -> Vec<f32> { n.fixed.iter().chain(n.ops.iter().flatten()).flat_map(|p| f(p).clone()).collect() };
    for (what, f) in [("weights", (|p| &p.params) as fn(&nasc_kernels::supernet::Shared) -> &Vec<f32>), ("statistics", |p| &p.stats), ("momentum", |p| &p.momentum)] {
        let (a, b) = (flat(&cpu, f), flat(&dev, f));
        let scale = a.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        let err = a.iter().zip(&b).fold(0f32, |m, (p, q)| m.max((p - q).abs())) / scale;
        assert!(err < 1e-4, "{what} differ by {err:.2e} (relative to their largest)");
    }
    // indicator steps: the gates' inner products, then three Adam steps of the indicators
    let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-3);
    let (x, y) = batch(20, 6, &s);
    let (a, b): (Arch, Arch) = (vec![vec![0, 2], vec![1, 3]], vec![vec![1], vec![0, 3]]);
    let (lc, gc) = cpu.gates(&x, &y, &a, &b, &[true, true]);
    let (lg, gg) = dev.gates(&x, &y, &a, &b, &[true, true]);
    assert!(close(lc as f64, lg as f64, 1e-4), "gates' loss: cpu {lc} vs wgpu {lg}");
    for (l, (c, g)) in gc.iter().zip(&gg).enumerate() {
        // a layer's two products on the scale of the larger (the forwarded one is near 0 where
        // BN follows: the loss does not change when the layer output is scaled)
        let scale = c.0.abs().max(c.1.abs());
        assert!(scale > 1e-6, "layer {l}: no gate gradient {c:?}");
        assert!((c.0 - g.0).abs() <= 1e-3 * scale && (c.1 - g.1).abs() <= 1e-3 * scale, "layer {l}: gates cpu {c:?} vs wgpu {g:?}");
    }
    let pen = MacsPenalty { alpha: 1e-5, beta: 2.0, target: 0.01 };
    let (mut rc, mut rg) = (Rng::new(4), Rng::new(4));
    for step in 0..3 {
        let (x, y) = batch(30 + step, 6, &s);
        let (tc, tg) = (cpu.theta_step(&x, &y, &mut rc, &pen), dev.theta_step(&x, &y, &mut rg, &pen));
        assert!(close(tc.loss as f64, tg.loss as f64, 1e-4) && close(tc.macs, tg.macs, 1e-6), "indicator step {step}: cpu {tc:?} vs wgpu {tg:?}");
    }
    assert!(cpu.theta.iter().flatten().any(|&t| t != 0.0), "the indicators did not move");
    for (l, (c, g)) in cpu.theta.iter().zip(&dev.theta).enumerate() {
        for (o, (tc, tg)) in c.iter().zip(g).enumerate() {
            assert!((tc - tg).abs() < 1e-3, "indicator of op {o} in layer {l}: cpu {tc} vs wgpu {tg}");
        }
    }
    // recalibrated evaluation of a sampled sub-network
    let arch = cpu.sample_uniform(&mut Rng::new(6));
    let recal = [batch(40, 6, &s), batch(41, 6, &s)];
    let val = [batch(42, 8, &s), batch(43, 8, &s)];
    let mut nc = cpu.recalibrated(&arch, &recal);
    let mut ng = cpu.recalibrated_on(gpu.clone(), &arch, &recal);
    let (sc, sg) = (nc.stats_host(), ng.stats_host());
    let scale = sc.iter().fold(0f32, |m, v| m.max(v.abs()));
    let err = sc.iter().zip(&sg).fold(0f32, |m, (p, q)| m.max((p - q).abs())) / scale;
    assert!(err < 1e-4, "recalibrated statistics differ by {err:.2e}");
    let (lc, lg) = (nc.forward(&val[0].0, 8, false), ng.forward(&val[0].0, 8, false));
    let lg = gpu.download(&lg);
    let err = lc.iter().zip(&lg).fold(0f32, |m, (p, q)| m.max((p - q).abs()));
    assert!(err < 1e-4 * lc.iter().fold(1f32, |m, v| m.max(v.abs())), "eval logits differ by {err:.2e}");
    let (ac, ag) = (cpu.evaluate(&arch, &recal, &val), dev.evaluate(&arch, &recal, &val));
    assert!((ac - ag).abs() <= 1.0 / 16.0 + 1e-12, "accuracy cpu {ac} vs wgpu {ag}");
}

//! The plain-Rust networks: gradients against central finite differences (parameters and
//! inputs, both output activations), and Adam against a hand-computed update.
use nasc_compiler::rng::Rng;
use nasc_runtime::nn::{uniform, Activation, Adam, Mlp, Tape};

const SIZES: [usize; 4] = [5, 7, 6, 4];
const BATCH: usize = 3;

fn randv(n: usize, scale: f64, rng: &mut Rng) -> Vec<f32> {
    (0..n).map(|_| ((2.0 * uniform(rng) - 1.0) * scale) as f32).collect()
}

/// L = sum(c * y) in f64, and the ReLU on/off pattern of the hidden layers.
fn loss(m: &Mlp, x: &[f32], c: &[f32]) -> (f64, Vec<bool>) {
    let mut t = Tape::default();
    let y = m.forward(x, BATCH, &mut t).to_vec();
    let l = y.iter().zip(c).map(|(a, b)| *a as f64 * *b as f64).sum();
    let pattern = (1..m.sizes().len() - 1).flat_map(|l| t.layer_output(l).iter().map(|v| *v > 0.0).collect::<Vec<_>>()).collect();
    (l, pattern)
}

/// Compare analytic and central-difference derivatives; coordinates where the step flips a ReLU
/// are skipped (the loss has a kink there), but at least 90% must be checked.
fn check(name: &str, analytic: &[f32], mut f: impl FnMut(usize, f32) -> (f64, Vec<bool>)) {
    let h = 3e-3f32;
    let mut checked = 0;
    for (k, &ak) in analytic.iter().enumerate() {
        let (lp, pp) = f(k, h);
        let (lm, pm) = f(k, -h);
        let (_, p0) = f(k, 0.0);
        if pp != p0 || pm != p0 {
            continue;
        }
        checked += 1;
        let fd = (lp - lm) / (2.0 * h as f64);
        let a = ak as f64;
        assert!((fd - a).abs() <= 1e-3 * (1.0 + a.abs()), "{name}[{k}]: analytic {a}, finite difference {fd}");
    }
    assert!(checked * 10 >= analytic.len() * 9, "{name}: only {checked} of {} coordinates away from a ReLU kink", analytic.len());
}

#[test]
fn gradients_match_finite_differences() {
    for (seed, act) in [(1, Activation::Identity), (2, Activation::Sigmoid), (3, Activation::Sigmoid)] {
        let mut rng = Rng::new(seed);
        let m = Mlp::new(&SIZES, act, &mut rng).unwrap();
        let x = randv(BATCH * SIZES[0], 1.5, &mut rng);
        let c = randv(BATCH * SIZES[3], 1.0, &mut rng);
        let mut t = Tape::default();
        m.forward(&x, BATCH, &mut t);
        // gradients accumulate into the buffer: start from a known offset
        let mut g = vec![0.25f32; m.n_params()];
        let mut dx = vec![0.0f32; x.len()];
        m.backward(&mut t, &c, Some(&mut g), Some(&mut dx));
        let g: Vec<f32> = g.iter().map(|v| v - 0.25).collect();
        assert!(g.iter().any(|v| v.abs() > 1e-3) && dx.iter().any(|v| v.abs() > 1e-3));
        check(&format!("dparams ({act:?})"), &g, |k, d| {
            let mut p = m.params().to_vec();
            p[k] += d;
            loss(&Mlp::from_params(m.sizes(), act, p).unwrap(), &x, &c)
        });
        check(&format!("dinput ({act:?})"), &dx, |k, d| {
            let mut xx = x.clone();
            xx[k] += d;
            loss(&m, &xx, &c)
        });
        // input gradients alone, and parameter gradients alone, give the same values
        let mut t2 = Tape::default();
        m.forward(&x, BATCH, &mut t2);
        let mut dx2 = vec![0.0f32; x.len()];
        m.backward(&mut t2, &c, None, Some(&mut dx2));
        assert_eq!(dx, dx2);
        m.forward(&x, BATCH, &mut t2);
        let mut g2 = vec![0.0f32; m.n_params()];
        m.backward(&mut t2, &c, Some(&mut g2), None);
        let diff = g.iter().zip(&g2).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(diff < 1e-6, "{diff}");
    }
}

#[test]
fn forward_is_deterministic_and_batch_rows_are_independent() {
    let mut rng = Rng::new(9);
    let m = Mlp::new(&[30, 128, 128, 128, 30], Activation::Sigmoid, &mut rng).unwrap();
    let x = randv(8 * 30, 1.0, &mut rng);
    let mut t = Tape::default();
    let all = m.forward(&x, 8, &mut t).to_vec();
    for b in 0..8 {
        let one = m.forward(&x[b * 30..(b + 1) * 30], 1, &mut t).to_vec();
        assert_eq!(one, all[b * 30..(b + 1) * 30].to_vec());
    }
    assert!(all.iter().all(|v| *v > 0.0 && *v < 1.0));
    let m2 = Mlp::new(&[30, 128, 128, 128, 30], Activation::Sigmoid, &mut Rng::new(9)).unwrap();
    assert_eq!(m, m2);
}

#[test]
fn adam_matches_a_hand_computed_update() {
    // lr 0.1, betas (0.9, 0.99), eps 1e-8; gradients g1 = (0.5, -0.1), g2 = (-0.2, 0.3).
    // step 1: m = (0.05, -0.01), v = (0.0025, 0.0001); m^ = g1, v^ = g1^2 -> p -= 0.1 * sign(g1)
    //         -> p = (0.9, -1.9)
    // step 2: m = (0.025, 0.021), v = (0.002875, 0.000999); 1 - b1^2 = 0.19, 1 - b2^2 = 0.0199
    //         p -= 0.1 * (m / 0.19) / sqrt(v / 0.0199) = (0.0346173632, 0.0493298229)
    //         -> p = (0.8653826368, -1.9493298229)
    let mut p = [1.0f32, -2.0];
    let mut a = Adam::new(2, 0.1, 0.9, 0.99, 1e-8);
    a.step(&mut p, &[0.5, -0.1]);
    assert!((p[0] - 0.9).abs() < 1e-6 && (p[1] + 1.9).abs() < 1e-6, "{p:?}");
    a.step(&mut p, &[-0.2, 0.3]);
    assert!((p[0] - 0.865_382_6).abs() < 1e-6 && (p[1] + 1.949_329_8).abs() < 1e-6, "{p:?}");
    assert!((a.m[0] - 0.025).abs() < 1e-7 && (a.v[1] - 0.000999).abs() < 1e-8);
    assert_eq!(a.t, 2);
    // state round trip
    let mut b = Adam::new(2, 0.1, 0.9, 0.99, 1e-8);
    b.restore(&a.state()).unwrap();
    assert_eq!(a, b);
    assert!(Adam::new(3, 0.1, 0.9, 0.99, 1e-8).restore(&a.state()).is_err());
}

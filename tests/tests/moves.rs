//! Sampling and neighbors are uniform (chi-square at fixed seeds) and always valid.
use nasc_compiler::decision::{DecisionKind, Slot};
use nasc_compiler::rng::Rng;
use nasc_tests::compile_zoo;
use std::collections::HashMap;

/// Upper 0.1% point of chi-square with `df` degrees of freedom (Wilson-Hilferty).
fn chi2_critical(df: f64) -> f64 {
    let z = 3.090_232; // standard normal 0.999 quantile
    df * (1.0 - 2.0 / (9.0 * df) + z * (2.0 / (9.0 * df)).sqrt()).powi(3)
}

fn chi2(counts: &[u64]) -> f64 {
    let n: u64 = counts.iter().sum();
    let e = n as f64 / counts.len() as f64;
    counts.iter().map(|c| (*c as f64 - e).powi(2) / e).sum()
}

#[test]
fn sampling_is_uniform_per_decision_and_valid() {
    for spec in ["nb201", "nas_bench_macro", "channel_bench_macro_resnet"] {
        let s = compile_zoo(spec, &[]);
        let mut rng = Rng::new(2024);
        let n = 60_000;
        let mut counts: Vec<Vec<u64>> = s.decisions().iter().map(|d| vec![0; d.arity()]).collect();
        for _ in 0..n {
            let c = s.sample_one(&mut rng);
            assert!(s.check_valid(&c).is_ok());
            for (d, slot) in c.0.iter().enumerate() {
                if let Slot::Opt(v) = slot {
                    counts[d][*v as usize] += 1;
                }
            }
        }
        for (d, c) in counts.iter().enumerate() {
            let x = chi2(c);
            assert!(x < chi2_critical(c.len() as f64 - 1.0), "{spec}: decision {d} chi2 {x}");
        }
    }
}

#[test]
fn single_edits_are_uniform() {
    let s = compile_zoo("nb201", &[]);
    let mut rng = Rng::new(99);
    let start = s.sample_one(&mut rng);
    let mut seen: HashMap<(usize, Slot), u64> = HashMap::new();
    for _ in 0..48_000 {
        let n = s.neighbor(&start, 1, &mut rng).unwrap();
        let d = (0..n.0.len()).find(|d| n.0[*d] != start.0[*d]).unwrap();
        *seen.entry((d, n.0[d])).or_default() += 1;
    }
    // 6 edges x 4 other ops
    assert_eq!(seen.len(), 24);
    let counts: Vec<u64> = seen.values().copied().collect();
    let x = chi2(&counts);
    assert!(x < chi2_critical(23.0), "chi2 {x}");
}

#[test]
fn subset_edits_respect_size_bounds() {
    let s = compile_zoo("darts", &[]);
    let mut rng = Rng::new(5);
    for _ in 0..3_000 {
        let c = s.sample_one(&mut rng);
        for k in 1..=2 {
            if let Some(n) = s.neighbor(&c, k, &mut rng) {
                assert!(s.check_valid(&n).is_ok());
                assert_eq!(s.edit_distance(&c, &n), k);
                for (d, slot) in n.0.iter().enumerate() {
                    if let (DecisionKind::Subset { min, max, .. }, Slot::Members(m)) = (&s.decisions()[d].kind, slot) {
                        assert!((*min..=*max).contains(&m.count_ones()));
                    }
                }
            }
        }
    }
}

//! Fuzz the compiled space: every input that parses and compiles to a space is compiled by both
//! backends (the plan interpreter and the cranelift JIT with every function on compiled code),
//! and they must agree bit for bit on samples and the RNG counter, metrics and feasibility,
//! neighbors (with and without feasibility asked) and both discretizations. Seed the corpus with
//! the zoo specs (`specs/*.nas`) so mutations stay mostly valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nasc_compiler::compiled::{Backend, CompiledSpace};
use nasc_compiler::rng::Rng;
use nasc_compiler::{NoFiles, Options};
use std::sync::Arc;

/// Candidates compared per input (small: the fuzzer wants many inputs per second).
const N: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (spec, diags) = nasc_grammar::parse(text);
    if diags.iter().any(|d| d.is_error()) {
        return;
    }
    let opts = Options { overrides: Vec::new(), loader: &NoFiles, default_name: "fuzz".into() };
    let Some(space) = nasc_compiler::compile(&spec, &opts).0 else { return };
    let space = Arc::new(space);
    let Ok(a) = CompiledSpace::new(space.clone(), Backend::Interp, &[]) else { return };
    let b = CompiledSpace::verified(space.clone(), &[]).expect("the JIT compiles every space the interpreter accepts").all_jit();
    let nd = a.n_dec();
    // samples: same rows, same counter
    let (mut ra, mut rb) = (Rng::new(data.len() as u64), Rng::new(data.len() as u64));
    let mut rows = vec![0u64; N * nd];
    let mut jrows = vec![0u64; N * nd];
    a.sample_batch(&mut ra, &mut rows);
    b.sample_batch(&mut rb, &mut jrows);
    assert_eq!(rows, jrows, "samples differ");
    assert_eq!(ra.counter, rb.counter, "sampling RNG counters differ");
    // metrics bit for bit, feasibility equal
    let nm = a.n_metrics();
    let (mut ma, mut mb) = (vec![0.0; N * nm], vec![0.0; N * nm]);
    let (mut fa, mut fb) = (vec![0u8; N], vec![0u8; N]);
    a.eval_batch(&rows, &mut ma, &mut fa);
    b.eval_batch(&rows, &mut mb, &mut fb);
    assert!(ma.iter().zip(&mb).all(|(x, y)| x.to_bits() == y.to_bits()), "metrics differ");
    assert_eq!(fa, fb, "feasibility differs");
    // neighbors at distance 1..=3, every fourth asking for a feasible one
    if nd > 0 {
        for i in 0..N {
            let row = &rows[i * nd..(i + 1) * nd];
            let (k, feas) = (1 + i % 3, i % 4 == 0);
            assert_eq!(a.neighbor(row, k, feas, &mut ra), b.neighbor(row, k, feas, &mut rb), "neighbor {i} differs");
            assert_eq!(ra.counter, rb.counter, "neighbor RNG counters differ");
        }
    }
    // discretizations of alphas with ties
    let shape = space.alpha_rows();
    for _ in 0..16 {
        let alpha: Vec<Vec<f64>> = shape.iter().map(|(_, m)| (0..*m).map(|_| ra.below(4) as f64 - 1.5).collect()).collect();
        assert_eq!(a.discretize_argmax(&alpha), b.discretize_argmax(&alpha), "argmax discretization differs");
        assert_eq!(a.discretize_darts(&alpha), b.discretize_darts(&alpha), "DARTS discretization differs");
    }
});

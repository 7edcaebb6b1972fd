//! The JIT against its oracle, the plan interpreter, and both against `Space` (the compiler's
//! own evaluator): metrics bit-identical, feasibility equal, samples identical;
//! discretization; prefix bounds.
use nasc_compiler::compiled::{Backend, CompiledSpace};
use nasc_compiler::rng::Rng;
use nasc_tests::{compile_zoo, ZOO};
use std::sync::Arc;

fn extra(text: &str) -> Vec<nasc_grammar::ast::Expr> {
    let (spec, d) = nasc_grammar::parse(&format!("constraint {text};"));
    assert!(d.is_empty());
    spec.items.into_iter().filter_map(|i| if let nasc_grammar::ast::Item::Constraint { expr, .. } = i { Some(expr) } else { None }).collect()
}

#[test]
fn jit_equals_interpreter_on_100k_candidates_per_spec() {
    for name in ZOO {
        let space = Arc::new(compile_zoo(name, &[]));
        // an extra run-time constraint at the median FLOPs of a sample, so it splits the sample
        let probe = CompiledSpace::new(space.clone(), Backend::Interp, &[]).unwrap();
        let fl = probe.metric_names().iter().position(|m| m == "flops").unwrap();
        let mut prng = Rng::new(1);
        let mut fls: Vec<f64> = (0..1001).map(|_| probe.metrics(&probe.sample(&mut prng))[fl]).collect();
        fls.sort_by(f64::total_cmp);
        let ex = extra(&format!("flops <= {}", fls[500]));
        let a = CompiledSpace::new(space.clone(), Backend::Interp, &ex).unwrap();
        let b = CompiledSpace::verified(space.clone(), &ex).unwrap().all_jit();
        let (nd, nm) = (a.n_dec(), a.n_metrics());
        let n = 100_000;
        // sampling: the JIT's compiled sampling program (one batch call) draws the same rows as
        // the interpreter (one row at a time) and as `Space::sample_one`, with the same counter
        let mut rng = Rng::new(11);
        let mut rows = Vec::with_capacity(n * nd);
        for _ in 0..n {
            rows.extend(a.sample(&mut rng));
        }
        let mut jrng = Rng::new(11);
        let mut jrows = vec![0u64; n * nd];
        b.sample_batch(&mut jrng, &mut jrows);
        assert_eq!(jrng.counter, rng.counter, "{name}: RNG counter after {n} samples");
        if let Some(i) = (0..n).find(|&i| rows[i * nd..(i + 1) * nd] != jrows[i * nd..(i + 1) * nd]) {
            panic!("{name}: sample {i} differs: interp {:?} jit {:?}", &rows[i * nd..(i + 1) * nd], &jrows[i * nd..(i + 1) * nd]);
        }
        let mut srng = Rng::new(11);
        for i in (0..n).take(2000) {
            let c = space.sample_one(&mut srng);
            assert_eq!(a.encode(&c), rows[i * nd..(i + 1) * nd], "{name}: sample {i} vs Space::sample_one");
            space.check_valid(&c).unwrap();
        }
        let (mut ma, mut mb) = (vec![0.0; n * nm], vec![0.0; n * nm]);
        let (mut fa, mut fb) = (vec![0u8; n], vec![0u8; n]);
        a.eval_batch(&rows, &mut ma, &mut fa);
        b.eval_batch(&rows, &mut mb, &mut fb);
        for i in 0..n * nm {
            assert_eq!(ma[i].to_bits(), mb[i].to_bits(), "{name}: metric {} of candidate {}", i % nm, i / nm);
        }
        assert_eq!(fa, fb, "{name}: feasibility");
        let feasible = fa.iter().filter(|f| **f == 1).count();
        assert!(feasible > 0 && feasible < n, "{name}: the extra constraint splits the sample ({feasible})");
        // and both equal the compiler's evaluator on a subsample
        for i in (0..n).step_by(997) {
            let c = a.decode(&rows[i * nd..(i + 1) * nd]);
            for (k, (_, v)) in space.evaluate(&c).into_iter().enumerate() {
                match v {
                    Some(x) => assert_eq!(x.to_bits(), ma[i * nm + k].to_bits()),
                    None => assert!(ma[i * nm + k].is_nan()),
                }
            }
            assert_eq!(space.feasible(&c, &ex), fa[i] == 1);
        }
    }
}

#[test]
fn prefix_bounds_equal_brute_force() {
    for name in ["nas_bench_macro", "nb201"] {
        let space = Arc::new(compile_zoo(name, &[]));
        let cs = CompiledSpace::verified(space.clone(), &[]).unwrap().all_jit();
        let fl = cs.metric_names().iter().position(|m| m == "flops").unwrap();
        // brute force over the whole space
        let all: Vec<Vec<u64>> = enumerate(&cs);
        assert_eq!(all.len().to_string(), space.size().to_string());
        let mut rng = Rng::new(3);
        for _ in 0..20 {
            let row = cs.sample(&mut rng);
            for len in 0..=cs.n_dec() {
                let (lo, hi) = cs.prefix_bounds(&row, len, fl).unwrap();
                let vals: Vec<f64> = all.iter().filter(|r| r[..len] == row[..len]).map(|r| cs.metrics(r)[fl]).collect();
                let blo = vals.iter().cloned().fold(f64::INFINITY, f64::min);
                let bhi = vals.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                assert!((lo - blo).abs() < 1e-6 * blo.abs().max(1.0) && (hi - bhi).abs() < 1e-6 * bhi.abs().max(1.0), "{name} prefix {len}");
            }
        }
    }
}

/// Every candidate of a choice-only space.
fn enumerate(cs: &CompiledSpace) -> Vec<Vec<u64>> {
    let cards: Vec<u64> = cs.space.decisions().iter().map(|d| d.arity() as u64).collect();
    let mut out = vec![vec![]];
    for c in cards {
        out = out.into_iter().flat_map(|r: Vec<u64>| (0..c).map(move |v| [r.clone(), vec![v]].concat())).collect();
    }
    out
}

#[test]
fn discretize_argmax_picks_the_row_maxima() {
    let space = Arc::new(compile_zoo("nb201", &[]));
    let cs = CompiledSpace::new(space.clone(), Backend::Interp, &[]).unwrap();
    let mut rng = Rng::new(5);
    for _ in 0..1000 {
        let alpha: Vec<Vec<f64>> = space.alpha_rows().iter().map(|(_, n)| (0..*n).map(|_| rng.next_u64() as f64 / u64::MAX as f64).collect()).collect();
        let row = cs.discretize_argmax(&alpha);
        for (d, a) in alpha.iter().enumerate() {
            let m = a.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(a[row[d] as usize], m);
        }
        // DARTS rule never picks `none` (option 0)
        let dr = cs.discretize_darts(&alpha);
        assert!(dr.iter().all(|v| *v != 0));
    }
}

/// Metrics whose sums are not exact integers (a linear combination with fractional weights:
/// tables summed in order, per-member terms of the large subsets of nse one by one) and
/// exact ones (per-chunk member tables, summed in four lanes by the JIT): both backends and
/// `Space::evaluate` agree bit for bit.
#[test]
fn inexact_and_exact_additive_metrics_agree_across_backends() {
    for name in ["nse_multibranch_27ops", "darts", "mobilenet_v2_layernas"] {
        let text = std::fs::read_to_string(nasc_tests::root().join("specs").join(format!("{name}.nas"))).unwrap() + "\nmetric lin = params * 0.37 + flops / 7;\n";
        let (spec, d) = nasc_grammar::parse(&text);
        assert!(d.is_empty(), "{name}: {d:?}");
        let opts = nasc_compiler::Options { overrides: vec![], loader: &nasc_compiler::NoFiles, default_name: name.into() };
        let space = Arc::new(nasc_compiler::compile(&spec, &opts).0.unwrap());
        let a = CompiledSpace::new(space.clone(), Backend::Interp, &[]).unwrap();
        let b = CompiledSpace::verified(space.clone(), &[]).unwrap().all_jit();
        let lin = a.metric_names().iter().position(|m| m == "lin").unwrap();
        assert!(matches!(a.plan.metrics[lin], nasc_compiler::compiled::plan::PMetric::Additive { exact: false, .. }), "{name}: lin is additive, not exact");
        let (nd, nm, n) = (a.n_dec(), a.n_metrics(), 20_000);
        let mut rows = vec![0u64; n * nd];
        a.sample_batch(&mut Rng::new(9), &mut rows);
        let (mut ma, mut mb) = (vec![0.0; n * nm], vec![0.0; n * nm]);
        let (mut fa, mut fb) = (vec![0u8; n], vec![0u8; n]);
        a.eval_batch(&rows, &mut ma, &mut fa);
        b.eval_batch(&rows, &mut mb, &mut fb);
        for i in 0..n * nm {
            assert_eq!(ma[i].to_bits(), mb[i].to_bits(), "{name}: metric {} of candidate {}", i % nm, i / nm);
        }
        let mut fractional = 0;
        for i in (0..n).step_by(101) {
            let c = a.decode(&rows[i * nd..(i + 1) * nd]);
            for (k, (_, v)) in space.evaluate(&c).into_iter().enumerate() {
                if let Some(x) = v {
                    assert_eq!(x.to_bits(), ma[i * nm + k].to_bits(), "{name}: metric {k} of candidate {i} vs Space::evaluate");
                }
            }
            fractional += usize::from(ma[i * nm + lin].fract() != 0.0);
        }
        assert!(fractional > 10, "{name}: {fractional} fractional values of lin");
    }
}

/// Rows outside the space (slots past their domains, absent where a decision exists, masks
/// of the wrong size) read no table out of bounds: both backends read such a slot's position
/// as 0 and agree bit for bit.
#[test]
fn invalid_rows_stay_in_bounds_and_agree() {
    for name in ZOO {
        let space = Arc::new(compile_zoo(name, &[]));
        let a = CompiledSpace::new(space.clone(), Backend::Interp, &[]).unwrap();
        let b = CompiledSpace::verified(space.clone(), &[]).unwrap().all_jit();
        let (nd, nm, n) = (a.n_dec(), a.n_metrics(), 5_000);
        let mut rows = vec![0u64; n * nd];
        a.sample_batch(&mut Rng::new(6), &mut rows);
        let mut rng = Rng::new(7);
        for v in rows.iter_mut() {
            match rng.below(6) {
                0 => *v = u64::MAX,
                1 => *v = rng.next_u64(),
                2 => *v += 1 + rng.below(70_000),
                _ => {}
            }
        }
        let (mut ma, mut mb) = (vec![0.0; n * nm], vec![0.0; n * nm]);
        let (mut fa, mut fb) = (vec![0u8; n], vec![0u8; n]);
        a.eval_batch(&rows, &mut ma, &mut fa);
        b.eval_batch(&rows, &mut mb, &mut fb);
        for i in 0..n * nm {
            assert_eq!(ma[i].to_bits(), mb[i].to_bits(), "{name}: metric {} of invalid row {}", i % nm, i / nm);
        }
        assert_eq!(fa, fb, "{name}");
    }
}

/// Discretization: the JIT's compiled discretizers against the interpreter's program on random
/// alphas (with ties and negative weights) of every zoo spec; both rules give valid rows.
#[test]
fn jit_discretizations_equal_interpreter_on_random_alphas() {
    for name in ZOO {
        let space = Arc::new(compile_zoo(name, &[]));
        let a = CompiledSpace::new(space.clone(), Backend::Interp, &[]).unwrap();
        let b = CompiledSpace::verified(space.clone(), &[]).unwrap().all_jit();
        let mut rng = Rng::new(21);
        let shape = space.alpha_rows();
        let mut distinct = std::collections::HashSet::new();
        for i in 0..5_000 {
            // a few values only (ties), or continuous ones
            let alpha: Vec<Vec<f64>> =
                shape.iter().map(|(_, n)| (0..*n).map(|_| if i % 2 == 0 { rng.below(5) as f64 - 2.0 } else { rng.next_u64() as f64 / u64::MAX as f64 - 0.3 }).collect()).collect();
            for (rule, (ra, rb)) in [("argmax", (a.discretize_argmax(&alpha), b.discretize_argmax(&alpha))), ("darts", (a.discretize_darts(&alpha), b.discretize_darts(&alpha)))] {
                assert_eq!(ra, rb, "{name}: {rule} of alpha {i}");
                space.check_valid(&a.decode(&ra)).unwrap_or_else(|e| panic!("{name}: {rule} of alpha {i}: {e}"));
                distinct.insert(ra);
            }
        }
        assert!(distinct.len() > 100, "{name}: {} distinct discretizations", distinct.len());
    }
}

/// A random valid spec: layers of conv with choice widths/kernels, optional conditional
/// depth, a subset of branches, expression metrics and constraints.
fn random_spec(rng: &mut Rng) -> String {
    let r = |rng: &mut Rng, n: u64| rng.below(n) as i64;
    let layers = 1 + r(rng, 4);
    let mut s = String::from("input [3, 16, 16];\n");
    s += &format!("choice depth in [{}];\n", (1..=layers).map(|x| x.to_string()).collect::<Vec<_>>().join(", "));
    for i in 0..layers {
        let base = r(rng, 3);
        let widths: Vec<String> = (0..1 + r(rng, 3)).map(|j| (8 * (1 + j + base)).to_string()).collect();
        s += &format!("choice w{i} in [{}] when depth > {i};\n", widths.join(", "));
        s += &format!("choice k{i} in [1, 3, 5] default 3 when depth > {i};\n");
    }
    s += "block b3(x) = dwconv(x, 3);\nblock b5(x) = dwconv(x, 5);\nblock p1(x) = conv(x, x.c, 1);\n";
    s += &format!("subset br of [b3, b5, p1] size {}..=3;\n", r(rng, 2));
    s += "network {\n  let x = input |> conv(8, 3) |> bn |> relu;\n";
    for i in 0..layers {
        s += &format!("  if depth > {i} {{ x = x |> conv(w{i}, k{i}, stride = {}) |> bn |> relu; }}\n", 1 + r(rng, 2));
    }
    s += "  x = x + sum([op(x) for op in br]);\n  return x |> gap |> linear(10);\n}\n";
    s += "metric params;\nmetric flops;\n";
    s += &format!("metric mix = params / 1K + flops / {}M + w0 * {} - (if depth > 1 {{ 3 }} else {{ 1.5 }});\n", 1 + r(rng, 9), r(rng, 5));
    s += "metric m2 = max(params, flops div 7) % 1000 + min(w0, 12) ** 2;\n";
    let c = r(rng, 3);
    if c > 0 {
        s += &format!("constraint mix <= {};\nconstraint depth in 1..={};\n", 50 * c, layers);
    }
    s
}

/// The fuzz target run as a test: random valid specs, both backends, bit-identical metrics,
/// feasibility and samples, identical neighbors (also with feasibility asked) and
/// discretizations.
#[test]
fn random_specs_agree_across_backends() {
    let mut rng = Rng::new(77);
    for case in 0..60 {
        let text = random_spec(&mut rng);
        let (spec, d) = nasc_grammar::parse(&text);
        assert!(d.is_empty(), "case {case}: {d:?}\n{text}");
        let opts = nasc_compiler::Options { overrides: vec![], loader: &nasc_compiler::NoFiles, default_name: "r".into() };
        let (space, d) = nasc_compiler::compile(&spec, &opts);
        let space = Arc::new(space.unwrap_or_else(|| panic!("case {case}: {d:?}\n{text}")));
        let a = CompiledSpace::new(space.clone(), Backend::Interp, &[]).unwrap();
        let b = CompiledSpace::verified(space.clone(), &[]).unwrap().all_jit();
        let n = 2_000;
        let mut rows = Vec::new();
        let mut jrng = rng.clone();
        for _ in 0..n {
            rows.extend(a.sample(&mut rng));
        }
        let mut jrows = vec![0u64; rows.len()];
        b.sample_batch(&mut jrng, &mut jrows);
        assert_eq!(rows, jrows, "case {case}: samples differ\n{text}");
        assert_eq!(rng.counter, jrng.counter, "case {case}");
        let nm = a.n_metrics();
        let (mut ma, mut mb) = (vec![0.0; n * nm], vec![0.0; n * nm]);
        let (mut fa, mut fb) = (vec![0u8; n], vec![0u8; n]);
        a.eval_batch(&rows, &mut ma, &mut fa);
        b.eval_batch(&rows, &mut mb, &mut fb);
        for i in 0..n * nm {
            assert_eq!(ma[i].to_bits(), mb[i].to_bits(), "case {case} metric {}\n{text}", i % nm);
        }
        assert_eq!(fa, fb, "case {case}\n{text}");
        for i in (0..n).step_by(97) {
            let c = a.decode(&rows[i * a.n_dec()..(i + 1) * a.n_dec()]);
            assert_eq!(space.feasible(&c, &[]), fa[i] == 1, "case {case}\n{text}");
        }
        // neighbors (conditional depth, a subset) and discretizations
        let nd = a.n_dec();
        let (mut ra, mut rb, mut rs) = (Rng::new(case), Rng::new(case), Rng::new(case));
        for i in 0..n {
            let row = &rows[i * nd..(i + 1) * nd];
            let k = 1 + i % 3;
            let na = a.neighbor(row, k, i % 4 == 0, &mut ra);
            assert_eq!(na, b.neighbor(row, k, i % 4 == 0, &mut rb), "case {case}: neighbor {i}\n{text}");
            assert_eq!(ra.counter, rb.counter, "case {case}");
            if i % 4 != 0 {
                assert_eq!(na, space.neighbor(&a.decode(row), k, &mut rs).map(|c| a.encode(&c)), "case {case}: neighbor {i} vs Space\n{text}");
            }
            rs.counter = ra.counter;
        }
        let mut arng = Rng::new(1000 + case);
        for _ in 0..200 {
            let alpha: Vec<Vec<f64>> = space.alpha_rows().iter().map(|(_, m)| (0..*m).map(|_| arng.below(4) as f64 - 1.5).collect()).collect();
            assert_eq!(a.discretize_argmax(&alpha), b.discretize_argmax(&alpha), "case {case}\n{text}");
            assert_eq!(a.discretize_darts(&alpha), b.discretize_darts(&alpha), "case {case}\n{text}");
        }
    }
}

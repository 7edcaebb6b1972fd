//! The compiled neighbor program: the JIT against the plan interpreter and both against
//! `Space::neighbor` (same neighbors, same RNG counter), exact distance, validity, uniform
//! single edits, subset size bounds; the subset move helpers against `Space::subset_moves`.
use nasc_compiler::compiled::neighbor::{subset_move, subset_move_count};
use nasc_compiler::compiled::{Backend, CompiledSpace};
use nasc_compiler::decision::{DecisionKind, Slot};
use nasc_compiler::rng::Rng;
use nasc_tests::{compile_zoo, ZOO};
use std::collections::HashMap;
use std::sync::Arc;

fn both(name: &str) -> (CompiledSpace, CompiledSpace) {
    let space = Arc::new(compile_zoo(name, &[]));
    (CompiledSpace::new(space.clone(), Backend::Interp, &[]).unwrap(), CompiledSpace::verified(space, &[]).unwrap().all_jit())
}

#[test]
fn jit_neighbors_equal_interpreter_and_space_on_100k_calls_per_spec() {
    for name in ZOO {
        let (a, b) = both(name);
        let space = a.space.clone();
        let mut rng = Rng::new(5);
        let starts: Vec<Vec<u64>> = (0..1000).map(|_| a.sample(&mut rng)).collect();
        let (mut ra, mut rb, mut rs) = (Rng::new(17), Rng::new(17), Rng::new(17));
        let mut found = [0usize; 5];
        for i in 0..100_000 {
            let row = &starts[i % starts.len()];
            let k = i % 5; // 0..=4, k = 0 included
            let na = a.neighbor(row, k, false, &mut ra);
            let nb = b.neighbor(row, k, false, &mut rb);
            assert_eq!(na, nb, "{name}: call {i} (k = {k}) from {row:?}");
            assert_eq!(ra.counter, rb.counter, "{name}: RNG counter after call {i}");
            if i % 50 == 0 {
                let ns = space.neighbor(&a.decode(row), k, &mut rs).map(|c| a.encode(&c));
                assert_eq!(na, ns, "{name}: call {i} (k = {k}) vs Space::neighbor");
                assert_eq!(ra.counter, rs.counter, "{name}: RNG counter vs Space::neighbor");
            } else {
                rs.counter = ra.counter;
            }
            if let Some(n) = &na {
                found[k] += 1;
                let (c, nc) = (a.decode(row), a.decode(n));
                space.check_valid(&nc).unwrap();
                assert_eq!(space.edit_distance(&c, &nc), k, "{name}: call {i}");
            }
        }
        // every spec has neighbors at distance 1 from every start
        assert_eq!(found[1], 20_000, "{name}: distance-1 neighbors found");
        // with feasibility asked: a neighbor meets the constraint
        let ex = {
            let (spec, _) = nasc_grammar::parse("constraint params <= 1e30;");
            spec.items.into_iter().filter_map(|i| if let nasc_grammar::ast::Item::Constraint { expr, .. } = i { Some(expr) } else { None }).collect::<Vec<_>>()
        };
        let fa = CompiledSpace::new(space.clone(), Backend::Interp, &ex).unwrap();
        let fb = CompiledSpace::verified(space.clone(), &ex).unwrap().all_jit();
        let (mut ra, mut rb) = (Rng::new(3), Rng::new(3));
        for row in starts.iter().take(200) {
            let (na, nb) = (fa.neighbor(row, 2, true, &mut ra), fb.neighbor(row, 2, true, &mut rb));
            assert_eq!(na, nb, "{name}: feasible neighbor");
            if let Some(n) = na {
                assert!(fa.feasible(&n));
            }
        }
    }
}

#[test]
fn compiled_single_edits_are_uniform_on_both_backends() {
    let (a, b) = both("nb201");
    for cs in [&a, &b] {
        let mut rng = Rng::new(99);
        let start = cs.sample(&mut rng);
        let mut seen: HashMap<(usize, u64), u64> = HashMap::new();
        for _ in 0..48_000 {
            let n = cs.neighbor(&start, 1, false, &mut rng).unwrap();
            let diff: Vec<usize> = (0..n.len()).filter(|d| n[*d] != start[*d]).collect();
            assert_eq!(diff.len(), 1);
            *seen.entry((diff[0], n[diff[0]])).or_default() += 1;
        }
        // 6 edges x 4 other ops, each about 2,000 times: chi-square with 23 df at 0.1%
        assert_eq!(seen.len(), 24, "{:?}", cs.backend);
        let e = 48_000.0 / 24.0;
        let x: f64 = seen.values().map(|c| (*c as f64 - e).powi(2) / e).sum();
        assert!(x < 49.7, "{:?}: chi2 {x}", cs.backend);
    }
}

#[test]
fn compiled_subset_edits_respect_size_bounds_on_both_backends() {
    for name in ["darts", "nse_multibranch_27ops"] {
        let (a, b) = both(name);
        for cs in [&a, &b] {
            let s = &cs.space;
            let mut rng = Rng::new(5);
            let mut subset_edits = 0;
            for _ in 0..2_000 {
                let row = cs.sample(&mut rng);
                for k in 1..=3 {
                    let Some(n) = cs.neighbor(&row, k, false, &mut rng) else { continue };
                    let (c, nc) = (cs.decode(&row), cs.decode(&n));
                    assert!(s.check_valid(&nc).is_ok());
                    assert_eq!(s.edit_distance(&c, &nc), k);
                    for (d, slot) in nc.0.iter().enumerate() {
                        if let (DecisionKind::Subset { min, max, .. }, Slot::Members(m)) = (&s.decisions()[d].kind, slot) {
                            assert!((*min..=*max).contains(&m.count_ones()));
                            subset_edits += usize::from(c.0[d] != *slot);
                        }
                    }
                }
            }
            assert!(subset_edits > 100, "{name}: {subset_edits} subset edits");
        }
    }
}

#[test]
fn subset_move_helpers_list_space_subset_moves() {
    for name in ["darts", "nse_multibranch_27ops"] {
        let s = compile_zoo(name, &[]);
        let mut rng = Rng::new(8);
        let mut checked = 0;
        for _ in 0..300 {
            let c = s.sample_one(&mut rng);
            for (d, slot) in c.0.iter().enumerate() {
                let (DecisionKind::Subset { pool, min, max, .. }, Slot::Members(m)) = (&s.decisions()[d].kind, *slot) else { continue };
                let moves = s.subset_moves(d, m);
                let n = pool.len() as u64;
                assert_eq!(subset_move_count(n, *min, *max, m), moves.len() as u64);
                for (t, mv) in moves.iter().enumerate() {
                    assert_eq!(subset_move(n, *min, *max, m, t as u64), *mv, "{name}: decision {d} mask {m:b} move {t}");
                }
                checked += 1;
            }
        }
        assert!(checked > 0, "{name}");
    }
}

#[test]
fn the_path_rule_runs_every_function_compiled() {
    use nasc_compiler::compiled::Paths;
    for name in ["nb201", "darts", "nse_multibranch_27ops"] {
        let (a, b) = both(name);
        assert_eq!(a.paths, Paths { eval: Backend::Interp, sample: Backend::Interp, neighbor: Backend::Interp, discretize: Backend::Interp });
        let jit = CompiledSpace::new(b.space.clone(), Backend::Jit, &[]).unwrap();
        assert_eq!(jit.paths, Paths { eval: Backend::Jit, sample: Backend::Jit, neighbor: Backend::Jit, discretize: Backend::Jit }, "{name}");
        assert_eq!(jit.paths.describe(), "eval jit, sample jit, neighbor jit, discretize jit");
    }
}

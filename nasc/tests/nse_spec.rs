//! NSE's round subsets written as specs (`nasc_kernels::nse_spec`): every subset of the scaled
//! reproduction's supernet compiles, has the size the subset implies, and the spec's `flops`
//! and `params` of sampled architectures equal the supernet's MACs and the sub-network's
//! parameter count (the spec language and the supernet build the same networks).

use nasc_compiler::{Candidate, Slot};
use nasc_kernels::init::Layout;
use nasc_kernels::nse_spec::{subset_spec, SpecError};
use nasc_kernels::rng::Rng;
use nasc_kernels::supernet::{Arch, BranchOp, Supernet, SupernetSpec};
use std::path::Path;

fn spec() -> SupernetSpec {
    let dw = |k, t| BranchOp::Dw { k, t, d: 1 };
    SupernetSpec {
        input: [3, 32, 32],
        stem: 16,
        layers: vec![(16, 1), (24, 2), (24, 1), (32, 2), (32, 1)],
        head: 64,
        classes: 10,
        pool: vec![
            dw(3, 1),
            dw(5, 3),
            dw(7, 6),
            BranchOp::Dw { k: 3, t: 1, d: 2 },
            BranchOp::Dw { k: 3, t: 3, d: 3 },
            BranchOp::Ssc { k: 3, t: 1 },
            BranchOp::Ssc { k: 5, t: 2 },
            BranchOp::PoolNeck { k: 3, max: false, t: 6 },
            BranchOp::PoolNeck { k: 5, max: true, t: 1 },
        ],
    }
}

#[test]
fn round_subsets_compile_to_the_same_networks() {
    let s = spec();
    let np = s.pool.len();
    let mut rng = Rng::new(5);
    let net = Supernet::new(s.clone(), vec![vec![]; 5], 0).unwrap();
    for case in 0..6 {
        // a random subset of up to 4 ops per layer (a normal layer may have none)
        let active: Vec<Vec<usize>> = (0..5)
            .map(|l| {
                let mut ops: Vec<usize> = (0..np).collect();
                rng.shuffle(&mut ops);
                let lo = if s.has_identity(l) { 0 } else { 1 };
                ops.truncate(lo + rng.below(5 - lo));
                ops
            })
            .collect();
        let text = subset_spec(&s, &active, "nse_round", &format!("case {case}")).unwrap();
        let space = nasc_runtime::spec::compile_text(&text, Path::new("."), "nse_round", &[]).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let size: u64 = active.iter().enumerate().map(|(l, ops)| (1u64 << ops.len()) - u64::from(!s.has_identity(l))).product();
        assert_eq!(space.size().to_string(), size.to_string(), "{text}");
        for _ in 0..5 {
            let mut sub = Supernet::new(s.clone(), active.clone(), 0).unwrap();
            sub.active = active.clone();
            let arch: Arch = sub.sample_uniform(&mut rng);
            let slots = space
                .decisions()
                .iter()
                .map(|d| {
                    let l: usize = d.name.trim_start_matches("layer").parse().unwrap();
                    Slot::Members(arch[l].iter().map(|o| 1u64 << active[l].iter().position(|a| a == o).unwrap()).sum())
                })
                .collect();
            let m = space.evaluate(&Candidate(slots));
            let get = |k: &str| m.iter().find(|(n, _)| n == k).and_then(|(_, v)| *v).unwrap();
            assert_eq!(get("flops"), (net.arch_macs(&arch) * 1e6).round(), "flops of {arch:?}\n{text}");
            let params = Layout::new(&s.graph(&arch)).unwrap().num_params();
            assert_eq!(get("params"), params as f64, "params of {arch:?}\n{text}");
        }
    }
}

#[test]
fn subsets_that_cannot_be_specs_are_refused() {
    let s = spec();
    let mut active = vec![vec![0]; 5];
    active[1].clear();
    assert_eq!(subset_spec(&s, &active, "x", "t"), Err(SpecError::EmptyReduction(1)));
    assert!(matches!(subset_spec(&s, &active[..4], "x", "t"), Err(SpecError::Shape(_))));
    let bad = vec![vec![99]; 5];
    assert!(subset_spec(&s, &bad, "x", "t").unwrap_err().to_string().contains("op 99"));
}

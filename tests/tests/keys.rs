//! Canonical keys and neighbors of the interpreter (the reference backend).
use nasc_compiler::rng::Rng;
use nasc_tests::{compile_zoo, table};
use std::collections::{HashMap, HashSet};

/// The key partitions NB201 exactly as NATS-Bench's `unique_str` (6,466 classes).
#[test]
fn nb201_key_partition_equals_unique_str() {
    let rows = table("nb201_cost.csv");
    let s = compile_zoo("nb201", &[]);
    let tracer = s.tracer();
    let mut by_key: HashMap<String, HashSet<String>> = HashMap::new();
    let mut by_unique: HashMap<String, HashSet<String>> = HashMap::new();
    for r in &rows {
        let c = s.parse_name(&r["arch_str"]).expect("arch string parses");
        let k = tracer.trace(&c).expect("trace").key();
        by_key.entry(k.clone()).or_default().insert(r["unique_str"].clone());
        by_unique.entry(r["unique_str"].clone()).or_default().insert(k);
    }
    assert_eq!(by_unique.len(), 6_466);
    assert_eq!(by_key.len(), 6_466, "number of key classes");
    assert!(by_key.values().all(|u| u.len() == 1), "a key class spans two unique_str classes");
    assert!(by_unique.values().all(|k| k.len() == 1), "a unique_str class spans two keys");
}

/// The trace of a candidate is its network: params recomputed from the graph agree.
#[test]
fn nb201_trace_has_the_benchmark_structure() {
    let s = compile_zoo("nb201", &[]);
    let c = s.parse_name("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|").unwrap();
    let g = s.graph_of(&c).unwrap();
    let convs = g.nodes.iter().filter(|n| matches!(n.op, nasc_compiler::graph::OpKind::Conv { .. })).count();
    // stem 1 + 15 cells x 5 conv3x3 + 2 reductions x 3 convs
    assert_eq!(convs, 1 + 15 * 5 + 2 * 3);
    assert_eq!(g.nodes[g.output.index()].shape, [10, 1, 1]);
}

#[test]
fn neighbors_differ_in_exactly_k_decisions() {
    for spec in ["nb201", "nas_bench_macro", "channel_bench_macro_mobilenet"] {
        let s = compile_zoo(spec, &[]);
        let mut rng = Rng::new(7);
        for _ in 0..2_000 {
            let c = s.sample_one(&mut rng);
            for k in 1..=3 {
                let n = s.neighbor(&c, k, &mut rng).expect("neighbor");
                assert!(s.check_valid(&n).is_ok());
                assert_eq!(s.edit_distance(&c, &n), k, "{spec}");
            }
        }
    }
}

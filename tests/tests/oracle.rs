//! An independent oracle for the derived metrics: trace one candidate's network (the graph the
//! key and the trainer are built from) and count its params and FLOPs node by node, then compare
//! with what the compiled space says for that candidate (the cost tables, the compiled plan and
//! the JIT) and with the space's exact bounds. The specs are random: subsets iterated by loops
//! whose bodies assign (each member in or out changes the tensor that flows on), subsets joined
//! by `sum`, loops over a decided depth with conditional decisions, `if` on decisions, blocks.
use nasc_compiler::compiled::{Backend, CompiledSpace};
use nasc_compiler::graph::{NetGraph, OpKind};
use nasc_compiler::rng::Rng;
use nasc_compiler::{Candidate, NoFiles, Options, Space};
use std::sync::Arc;

/// (params, flops) of a traced network, flops as the default `count flops { conv, linear }`.
fn count(g: &NetGraph) -> (i64, i64) {
    let (mut params, mut flops) = (0i64, 0i64);
    for n in &g.nodes {
        let input = n.inputs.first().map(|i| g.nodes[i.index()].shape);
        let [c, h, w] = n.shape;
        match &n.op {
            OpKind::Conv { out, k, groups, bias, .. } => {
                let cin = input.expect("conv input")[0];
                let weights = out * (cin / groups) * k.0 * k.1;
                params += weights + if *bias { *out } else { 0 };
                flops += weights * h * w;
            }
            OpKind::Bn => params += 2 * c,
            OpKind::Linear { out, bias } => {
                let [ic, ih, iw] = input.expect("linear input");
                params += ic * ih * iw * out + if *bias { *out } else { 0 };
                flops += ic * ih * iw * out;
            }
            OpKind::Se { mid, .. } => {
                params += 2 * c * mid + mid + c;
                flops += 2 * c * mid;
            }
            _ => {}
        }
        let _ = w;
    }
    (params, flops)
}

fn compile(text: &str) -> Result<Space, String> {
    let (spec, diags) = nasc_grammar::parse(text);
    if !diags.is_empty() {
        return Err(format!("parse: {diags:?}"));
    }
    let opts = Options { overrides: Vec::new(), loader: &NoFiles, default_name: "oracle".into() };
    let (space, diags) = nasc_compiler::compile(&spec, &opts);
    match space {
        Some(s) if !diags.iter().any(|d| d.is_error()) => Ok(s),
        _ => Err(format!("{:?}", diags.iter().map(|d| (&d.code, &d.message)).collect::<Vec<_>>())),
    }
}

fn metric(values: &[(String, Option<f64>)], name: &str) -> f64 {
    values.iter().find(|(n, _)| n == name).and_then(|(_, v)| *v).expect("metric value")
}

/// Compare every metric source with the oracle on `n` sampled candidates; returns the number
/// of distinct (params, flops) pairs seen.
fn check_space(label: &str, text: &str, n: usize, seed: u64) -> usize {
    let space = compile(text).unwrap_or_else(|e| panic!("{label}: does not compile: {e}\n{text}"));
    let space = Arc::new(space);
    let compiled: Vec<CompiledSpace> = [Backend::Interp, Backend::Jit].into_iter().filter_map(|b| CompiledSpace::new(space.clone(), b, &[]).ok()).collect();
    let bounds = |name: &str| -> (f64, f64) {
        let j = space.explain_json();
        let m = &j["metrics"][name];
        (m["min"].as_f64().unwrap_or(f64::NAN), m["max"].as_f64().unwrap_or(f64::NAN))
    };
    let (pmin, pmax) = bounds("params");
    let (fmin, fmax) = bounds("flops");
    assert!(pmin.is_finite() && pmax.is_finite() && pmin <= pmax, "{label}: params bounds {pmin} {pmax}\n{text}");
    let tracer = space.tracer();
    let mut rng = Rng::new(seed);
    let mut seen = std::collections::BTreeSet::new();
    let mut hit = (false, false);
    for _ in 0..n {
        let c: Candidate = space.sample_one(&mut rng);
        space.check_valid(&c).unwrap_or_else(|e| panic!("{label}: sampled an invalid candidate: {e}"));
        let g = tracer.trace(&c).unwrap_or_else(|e| panic!("{label}: trace of {}: {e}", space.name_of(&c)));
        let (p, f) = count(&g);
        let v = space.evaluate(&c);
        let name = space.name_of(&c);
        assert_eq!(metric(&v, "params"), p as f64, "{label}: params of {name}\n{text}");
        assert_eq!(metric(&v, "flops"), f as f64, "{label}: flops of {name}\n{text}");
        assert!(pmin <= p as f64 && p as f64 <= pmax, "{label}: params {p} of {name} outside [{pmin}, {pmax}]");
        assert!(fmin <= f as f64 && f as f64 <= fmax, "{label}: flops {f} of {name} outside [{fmin}, {fmax}]");
        hit.0 |= p as f64 == pmin;
        hit.1 |= p as f64 == pmax;
        for cs in &compiled {
            let row = cs.encode(&c);
            let m = cs.metrics(&row);
            let names = cs.metric_names();
            for (k, want) in [("params", p), ("flops", f)] {
                let i = names.iter().position(|x| x == k).expect("metric");
                assert_eq!(m[i], want as f64, "{label}: {k} of {name} ({:?})\n{text}", cs.backend);
            }
            assert_eq!(cs.decode(&row), c, "{label}: row round trip");
        }
        seen.insert((p, f));
    }
    // with enough draws the exact bounds are reached (small spaces)
    if *space.size() <= num_bigint::BigUint::from(50u32) && n >= 2000 {
        assert!(hit.0 && hit.1, "{label}: bounds [{pmin}, {pmax}] not reached by any of {n} samples\n{text}");
    }
    seen.len()
}

/// The cases: one conv per member of a subset, the tensor flowing from member to member.
#[test]
fn subset_loop_counts_the_network_it_builds() {
    for (pool, size) in [(2, "1"), (3, "1"), (3, "1..=3"), (5, "0..=5"), (40, "1"), (63, "1"), (63, "2"), (12, "0..=12")] {
        let text = format!(
            "input [3, 8, 8];\nsubset keep of range({pool}) size {size};\nnetwork {{ let x = input; for k in keep {{ x = x |> conv(8, 3); }} return x; }}\nmetric params; metric flops;\n"
        );
        check_space(&format!("pool {pool} size {size}"), &text, 300, pool as u64);
    }
    // the exact numbers of the report: keep={1} is one conv 3->8
    let s =
        compile("input [3, 8, 8];\nsubset keep of range(2) size 1;\nnetwork { let x = input; for k in keep { x = x |> conv(8, 3); } return x; }\nmetric params; metric flops;\n")
            .unwrap();
    for name in ["keep={0}", "keep={1}"] {
        let c = s.parse_name(name).expect("name parses");
        assert_eq!(metric(&s.evaluate(&c), "params"), 216.0, "{name}");
        assert_eq!(metric(&s.evaluate(&c), "flops"), 13_824.0, "{name}");
    }
    let j = s.explain_json();
    assert_eq!(j["metrics"]["params"]["max"].as_f64(), Some(216.0));
}

/// A 63-member pool (the largest) with a loop that assigns: bounds finite, samples exact.
#[test]
fn largest_pool_has_finite_bounds_and_exact_samples() {
    let text = "input [3, 8, 8];\nsubset keep of range(63) size 1..=2;\nnetwork { let x = input; for k in keep { x = x |> conv(k % 4 + 2, 1); } return x |> gap |> linear(10); }\nmetric params; metric flops;\n";
    check_space("pool 63", text, 400, 5);
    let (spec, _) = nasc_grammar::parse("input [3, 8, 8];\nsubset keep of range(64) size 1;\nnetwork = input;\n");
    let opts = Options { overrides: Vec::new(), loader: &NoFiles, default_name: "x".into() };
    let (s, d) = nasc_compiler::compile(&spec, &opts);
    assert!(s.is_none() && d.iter().any(|d| d.code == "E0406" && d.message.contains("at most 63")), "{d:?}");
}

/// A random spec: stages that mix the constructs whose costs depend on the tensor flowing in.
fn random_spec(rng: &mut Rng) -> String {
    let mut pick = |n: usize| rng.below(n as u64) as usize;
    let mut decl = String::from("input [3, 8, 8];\nblock cb(x, c) { let y = x |> conv(c, 3) |> bn; return y |> relu; }\nblock pw(x, c) = x |> conv(c, 1);\nlet OPS = [cb, pw];\n");
    let mut body = String::from("  let x = input |> conv(4, 3);\n");
    let stages = 1 + pick(3);
    for s in 0..stages {
        match pick(6) {
            0 => {
                // a subset looped over, the body assigning (sometimes under an `if`)
                let pool = 1 + pick(6);
                let lo = pick(pool + 1);
                let hi = lo + pick(pool + 1 - lo);
                decl += &format!("subset s{s} of range({pool}) size {lo}..={hi};\n");
                if pick(2) == 0 {
                    body += &format!("  for j in s{s} {{ x = x |> conv(4 + 2 * j, {}); }}\n", [1, 3][pick(2)]);
                } else {
                    body += &format!("  for j in s{s} {{ if j % 2 == 0 {{ x = cb(x, 6); }} else {{ let t = x |> conv(5, 1); x = t |> bn; }} }}\n");
                }
            }
            1 => {
                // a subset of ops joined by `sum` (guarded costs, no assignment in a loop)
                decl += &format!("subset b{s} of OPS size 1..=2;\n");
                body += &format!("  x = sum([op(x, 8) for op in b{s}]);\n");
            }
            2 => {
                // a decided depth and conditional widths
                decl += &format!("choice d{s} in [0, 1, 2, 3];\nchoice e{s}[i in 0..3] in [4, 8] when d{s} > i;\n");
                body += &format!("  for i in 0..d{s} {{ x = x |> conv(e{s}[i], 3) |> bn |> relu; }}\n");
            }
            3 => {
                // `if` on a choice; an op choice
                decl += &format!("choice w{s} in [4, 6, 8];\nchoice o{s} in OPS;\n");
                body += &format!("  if w{s} > 4 {{ x = x |> conv(w{s}, 1); }}\n  x = o{s}(x, 8);\n");
            }
            4 => {
                // a subset loop nested in a loop, and a subset read by `in`
                let pool = 2 + pick(3);
                decl += &format!("subset m{s} of range({pool}) size 0..={pool};\n");
                body += &format!("  for r in 0..2 {{ for j in m{s} {{ x = x |> conv(3 + r + j, 1); }} }}\n  if 0 in m{s} {{ x = x |> se(2); }}\n");
            }
            _ => {
                // a subset looped over inside a block
                decl += &format!("subset k{s} of [1, 3] size 0..=2;\nblock lp{s}(x) {{ let y = x; for k in k{s} {{ y = y |> dwconv(k) |> conv(6, 1); }} return y; }}\n");
                body += &format!("  x = lp{s}(x);\n");
            }
        }
    }
    format!("{decl}network {{\n{body}  return x |> gap |> linear(10);\n}}\nmetric params; metric flops;\n")
}

#[test]
fn random_specs_match_the_traced_networks() {
    let mut rng = Rng::new(2026);
    let mut distinct = 0;
    for i in 0..60 {
        let text = random_spec(&mut rng);
        distinct += check_space(&format!("random spec {i}"), &text, 150, i);
    }
    assert!(distinct > 300, "{distinct} distinct (params, flops) pairs: the specs are too uniform");
}

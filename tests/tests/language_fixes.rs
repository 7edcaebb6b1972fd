//! Regression tests for language gaps found while writing the zoo (specs/repro/).
use nasc_tests::root;

fn size_of(file: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(root().join(file)).map_err(|e| e.to_string())?;
    let (spec, d) = nasc_grammar::parse(&text);
    if !d.is_empty() {
        return Err(format!("{d:?}"));
    }
    let opts = nasc_compiler::Options { overrides: vec![], loader: &nasc_compiler::NoFiles, default_name: "t".into() };
    let (s, d) = nasc_compiler::compile(&spec, &opts);
    s.map(|s| s.size().to_string()).ok_or_else(|| d.iter().map(|x| x.message.clone()).collect::<Vec<_>>().join("; "))
}

#[test]
fn make_divisible_takes_two_arguments() {
    assert_eq!(size_of("specs/repro/01_make_divisible_two_args.nas").unwrap(), "2");
}

#[test]
fn for_over_a_subset_guards_its_members() {
    assert_eq!(size_of("specs/repro/02_for_over_subset_when_guard.nas").unwrap(), "12");
}

#[test]
fn plain_list_plus_subset_list() {
    assert_eq!(size_of("specs/repro/04_list_plus_subset_list.nas").unwrap(), "7");
}

fn compile_src(src: &str) -> nasc_compiler::Space {
    let (spec, d) = nasc_grammar::parse(src);
    assert!(d.is_empty(), "{d:?}");
    let opts = nasc_compiler::Options { overrides: vec![], loader: &nasc_compiler::NoFiles, default_name: "t".into() };
    let (s, d) = nasc_compiler::compile(&spec, &opts);
    s.unwrap_or_else(|| panic!("{d:?}"))
}

/// `silu` (PyTorch's name) is `swish`: the same op, counted and built the same way.
#[test]
fn silu_is_swish() {
    let net = |act: &str| format!("space t;\ninput [3, 8, 8];\nchoice w in [8, 16];\nnetwork = input |> conv(w, 3) |> bn |> {act} |> gap |> linear(10);\n");
    let (silu, swish) = (compile_src(&net("silu")), compile_src(&net("swish")));
    assert_eq!(silu.explain_text(), swish.explain_text());
    assert!(swish.explain_text().contains("swish"));
}

/// `let x = x |> conv(...)` inside a loop declares a new `x`: warned (W0303), not silent.
#[test]
fn an_unused_let_is_warned() {
    let src = "space t;\ninput [3, 8, 8];\nnetwork {\n  let x = input |> conv(8, 3);\n  for i in 0..2 { let x = x |> conv(8, 3); }\n  let _spare = x |> relu;\n  let y = x |> relu;\n  y = y |> relu;\n  return y;\n}\n";
    let (spec, d) = nasc_grammar::parse(src);
    assert!(d.is_empty(), "{d:?}");
    let opts = nasc_compiler::Options { overrides: vec![], loader: &nasc_compiler::NoFiles, default_name: "t".into() };
    let (s, d) = nasc_compiler::compile(&spec, &opts);
    assert!(s.is_some(), "a warning does not stop the compile");
    let w: Vec<_> = d.iter().map(|d| (d.code, d.message.as_str(), &src[d.primary.span.start..d.primary.span.end])).collect();
    assert_eq!(w, vec![("W0303", "`x` is never read", "x")]);
    assert!(!d[0].is_error());
    assert_eq!(src[..d[0].primary.span.start].lines().count(), 5, "the loop's `let x`");
}

/// Booleans are options (`choice se in [false, true]`): `if`/`when` read them, they count,
/// name and parse back, and the JIT agrees with the interpreter.
#[test]
fn boolean_options() {
    let src = "space t;\ninput [3, 8, 8];\nchoice gate[2] in [false, true] default false;\nchoice k in [3, 5] when gate[0];\nname n = \"{gate[*]}-{k}\";\nnetwork {\n  let x = input |> conv(8, 3);\n  for i in 0..2 {\n    x = x |> conv(8, 3);\n    if gate[i] { x = x |> se(2); }\n  }\n  return x |> gap |> linear(10);\n}\n";
    let s = compile_src(src);
    assert_eq!(s.size().to_string(), "6", "gate[0] false: 2; gate[0] true: 2 x 2 kernels");
    let mut params = std::collections::BTreeMap::new();
    for c in s.sample(200, 3, &[]).expect("samples") {
        let name = s.name_of(&c);
        assert_eq!(s.parse_name(&name).expect("parses back"), c, "{name}");
        params.insert(s.canonical(&c), nasc_tests::metric(&s, &c, "params"));
    }
    // conv 3->8 (216), two conv 8->8 (576 each), gap, linear 8->10 (90); se(2) is 8*2+2 + 2*8+8 = 42
    assert_eq!(params.get("gate[0]=false,gate[1]=false"), Some(&(216.0 + 1152.0 + 90.0)));
    assert_eq!(params.get("gate[0]=false,gate[1]=true"), Some(&(216.0 + 1152.0 + 90.0 + 42.0)));
    assert_eq!(params.get("gate[0]=true,gate[1]=true,k=5"), Some(&(216.0 + 1152.0 + 90.0 + 84.0)));
    assert_eq!(params.len(), 6, "{params:?}");
    let c = s.parse_name("truefalse-5").expect("the spec's name format");
    assert_eq!(s.canonical(&c), "gate[0]=true,gate[1]=false,k=5");
    // the JIT agrees with its oracle, the plan interpreter, on every candidate
    use nasc_compiler::compiled::{Backend, CompiledSpace};
    let s = std::sync::Arc::new(s);
    let a = CompiledSpace::new(s.clone(), Backend::Interp, &[]).expect("interpreter");
    let b = CompiledSpace::verified(s.clone(), &[]).expect("jit").all_jit();
    let rows: Vec<u64> = s.sample(200, 4, &[]).expect("samples").iter().flat_map(|c| a.encode(c)).collect();
    let n = rows.len() / a.n_dec();
    let (mut ma, mut mb) = (vec![0.0; n * a.n_metrics()], vec![0.0; n * a.n_metrics()]);
    let (mut fa, mut fb) = (vec![0u8; n], vec![0u8; n]);
    a.eval_batch(&rows, &mut ma, &mut fa);
    b.eval_batch(&rows, &mut mb, &mut fb);
    assert_eq!(ma.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), mb.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
    assert_eq!(fa, fb);
}

/// Tensor products (`a * b`) write custom gates: squeeze-excite written out with `*` is the same
/// network as `se(mid, act = "silu", gate = "sigmoid")` (params, flops, op counts); a zero side
/// gives zero; `se`'s activation and gate are part of the op (the default is MobileNetV3's).
#[test]
fn tensor_products_write_gates() {
    let net = |body: &str| {
        format!("space t;\ninput [3, 8, 8];\nchoice w in [8, 16];\nnetwork {{\n  let x = input |> conv(w, 3) |> bn |> silu;\n  {body}\n  return x |> dropout(0.2) |> gap |> linear(10);\n}}\n")
    };
    let se = compile_src(&net("x = x |> se(4, act = silu, gate = \"sigmoid\");"));
    let manual = compile_src(&net("x = x * (x |> gap |> conv(4, 1, bias = true) |> silu |> conv(x.c, 1, bias = true) |> sigmoid);"));
    for c in se.sample(10, 1, &[]).expect("samples") {
        for m in ["params", "flops"] {
            assert_eq!(nasc_tests::metric(&se, &c, m), nasc_tests::metric(&manual, &c, m), "{m} of {}", se.name_of(&c));
        }
    }
    let (a, d) = (se.default_candidate(), compile_src(&net("x = x |> se(4);")));
    let b = d.default_candidate();
    let ops = |s: &nasc_compiler::Space, c| s.graph_of(c).expect("graph").summary().into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert!(ops(&se, &a).contains(&"se/4/swish/sigmoid".to_string()), "{:?}", ops(&se, &a));
    assert!(ops(&d, &b).contains(&"se/4".to_string()), "{:?}", ops(&d, &b));
    assert!(ops(&se, &a).contains(&"dropout/0.2".to_string()), "{:?}", ops(&se, &a));
    assert!(ops(&manual, &manual.default_candidate()).contains(&"mul".to_string()));
    assert_ne!(se.key(&a), d.key(&b), "the gate is part of the op");
    // a product with the empty sum is the empty sum: the branch vanishes from the key and counts
    let z = compile_src(&net("x = x + x * sum([]);"));
    let plain = compile_src(&net(""));
    let c = z.default_candidate();
    assert_eq!(nasc_tests::metric(&z, &c, "params"), nasc_tests::metric(&plain, &plain.default_candidate(), "params"));
}

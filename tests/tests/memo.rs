//! Memoized block calls (compiler/src/interp/memo.rs) and lazy decision values
//! (`Value::Lazy`: a decision bound to a variable is read where the variable is used) against
//! the reference evaluation, which runs every block call in every world and reads every
//! decision where it is bound: the compiled spaces must be the same (metric tables, validity,
//! size, IR summary), and so must the diagnostics of specs with errors.
use nasc_compiler::{Options, Space};
use nasc_runtime::loader::FsLoader;
use nasc_tests::root;
use std::path::{Path, PathBuf};

/// What of a space the evaluation determines, as comparable text.
fn fingerprint(s: &Space) -> String {
    format!(
        "size {}\nir {} nodes {} edges {:?}\nmetrics {:?}\nvalidity {:?}\nwhens {:?}",
        s.size(),
        s.ir().nodes,
        s.ir().edges,
        s.ir().ops,
        s.metrics(),
        s.validity(),
        s.when_results()
    )
}

/// Compile `text` both ways; the fingerprints (or the diagnostics) must be equal. Returns
/// whether the spec compiled.
fn same_both_ways(name: &str, text: &str, dir: &Path) -> bool {
    let (spec, diags) = nasc_grammar::parse(text);
    if !diags.is_empty() {
        return false;
    }
    let loader = FsLoader::with_roots(dir.to_path_buf(), Vec::new());
    let opts = Options { overrides: Vec::new(), loader: &loader, default_name: name.into() };
    let (memo, d1) = nasc_compiler::compile(&spec, &opts);
    let (reference, d2) = nasc_compiler::compile_reference(&spec, &opts);
    assert_eq!(format!("{d1:?}"), format!("{d2:?}"), "{name}: diagnostics differ");
    match (memo, reference) {
        (Some(a), Some(b)) => {
            assert_eq!(fingerprint(&a), fingerprint(&b), "{name}: spaces differ");
            true
        }
        (None, None) => false,
        _ => panic!("{name}: compiled one way only"),
    }
}

#[test]
fn every_spec_file_compiles_the_same_with_the_memo() {
    let mut compiled = 0;
    let mut files = 0;
    for dir in ["specs", "specs/repro", "specs/err"] {
        let dir = root().join(dir);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir).expect("spec dir").filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "nas")) {
            let text = std::fs::read_to_string(&p).expect("spec");
            files += 1;
            if same_both_ways(&p.display().to_string(), &text, &dir) {
                compiled += 1;
            }
        }
    }
    assert!(files > 90, "{files} spec files");
    assert!(compiled >= 15, "{compiled} compiled");
}

/// Specs aimed at what a recorded call must not get wrong: a block that returns its argument
/// (its node is renamed on replay), a list argument (`concat`), a block that reads a decision
/// or a subset (never recorded), a default argument that reads a decision, and the same
/// block at two call sites with the same arguments.
#[test]
fn calls_that_read_their_world_or_return_arguments() {
    let specs = [
        // identity block on different tensors of equal shape, in many worlds
        "input [3, 8, 8];
         choice a in [0, 1, 2];
         choice b in [0, 1, 2];
         block same(x) = x;
         block c1(x) = conv(x, 8, 1);
         let OPS = [same, c1];
         choice op[i in 0..3] in OPS;
         network {
           let all = [input |> conv(8, 3), input |> conv(8, 5), input |> conv(8, 1)];
           let y = all[a] |> op[0]();
           let z = all[b] |> op[1]();
           return (y + z) |> op[2]() |> gap |> linear(10);
         }
         metric params; metric flops;",
        // a list argument, and a block that reads a decision inside
        "input [3, 8, 8];
         choice w in [4, 8];
         choice k in [1, 3];
         block cat(xs) = concat(xs) |> conv(8, 1);
         block rd(x) = conv(x, w, k);
         network {
           let p = input |> conv(w, 3);
           let q = input |> conv(8, k);
           let y = cat([p, q]);
           let z = rd(y) |> rd();
           return z |> gap |> linear(10);
         }
         metric params; metric flops;",
        // a default that reads a decision; a subset iterated inside a block
        "input [3, 8, 8];
         choice w in [4, 8, 16];
         block b3(x) = dwconv(x, 3);
         block b5(x) = dwconv(x, 5);
         subset br of [b3, b5] size 1..=2;
         block dflt(x, c = w) = conv(x, c, 1);
         block branches(x) = sum([op(x) for op in br]);
         network {
           let x = input |> conv(8, 3);
           let y = dflt(x) |> dflt(8) |> branches();
           let z = dflt(y, 8) |> branches();
           return z |> gap |> linear(10);
         }
         metric params; metric flops;",
        // replay at another call path: the same block with the same arguments in every
        // iteration of a loop and at two call sites, with a loop inside a nested block (its
        // instances' paths under the call), and with other arguments (another shape)
        "input [3, 16, 16];
         block inner(x, c) {
           let y = x;
           for i in 0..2 { y = y |> conv(c, 3) |> bn; }
           return y;
         }
         block b1(x) = inner(x, 8) |> relu;
         block b2(x) = x |> conv(8, 1);
         choice op[i in 0..4] in [b1, b2];
         network {
           let x = input |> conv(8, 3);
           for i in 0..4 { x = x |> op[i](); }
           let z = b1(x) + b1(x);
           let y = x |> conv(16, 1) |> op[0]() |> op[1]();
           return (z + y) |> gap |> linear(10);
         }
         metric params; metric flops;",
    ];
    for (i, text) in specs.iter().enumerate() {
        assert!(same_both_ways(&format!("case {i}"), text, &root()), "case {i} did not compile");
    }
}

/// Lazy decision values: bound by `let`, by assignment, by an `if` expression, as a block
/// argument passed on to another block, read in a loop, unused, read twice (the world must
/// not fork twice), read after the worlds merged, and a conditional decision (read at once).
/// Narrowed choices: worlds merged on some of a choice's options.
#[test]
fn decisions_bound_to_variables_and_arguments() {
    let specs = [
        // a let-bound decision read in a later statement, twice, and one never read
        "input [3, 16, 16];
         choice k in [1, 3, 5];
         choice w in [8, 16];
         choice unused in [1, 2, 3];
         network {
           let kk = k;
           let ww = w;
           let u = unused;
           let x = input |> conv(8, 3);
           let y = x |> conv(ww, kk);
           let z = y |> conv(ww, kk) |> conv(8, 1);
           return (x + z) |> gap |> linear(10);
         }
         metric params; metric flops;",
        // block arguments, passed on to a nested block, read in only one branch; an `if`
        // expression choosing a decision; an assignment of a decision to a variable
        "input [3, 16, 16];
         choice e[l in 0..3] in [6, 4, 2] default 6;
         choice k[l in 0..4] in [7, 5, 3] default 3;
         choice f in [8, 16, 24];
         block inner(x, k) = x |> dwconv(k);
         block ir(x, out, k, t) {
           let y = x;
           if t != 1 { y = y |> conv(x.c * t, 1) |> bn; }
           y = inner(y, k);
           y = y |> conv(out, 1);
           return if x.c == out { x + y } else { y };
         }
         network {
           let x = input |> conv(16, 3);
           let t = 1;
           for l in 0..4 {
             t = if l == 0 { 1 } else { e[l - 1] };
             x = ir(x, f, k[l], t);
           }
           return x |> gap |> linear(10);
         }
         metric params; metric flops;",
        // a decision variable used as a loop bound and as an index, inside an expression
        // call; a conditional decision (read where it is bound)
        "input [3, 8, 8];
         choice n in [1, 2, 3];
         choice c in [4, 8];
         choice extra in [4, 8] when n > 1;
         block rep(x, n, c) {
           let y = x;
           for i in 0..n { y = y |> conv(c, 3); }
           return y;
         }
         network {
           let m = n;
           let cs = [c, 8, 16];
           let y = rep(input, m, cs[m - 1]) |> rep(1, c);
           if n > 1 {
             let e = extra;
             y = y |> conv(e, 1);
           }
           return y |> gap |> linear(10);
         }
         metric params; metric flops;",
        // narrowed choices (`Lit::In`): `if n > b` and `when n > b` keep the options of `n`
        // that pass as one world; a `when` that reads a conditional decision (its table rows
        // come from narrowed worlds); a choice of more than 64 options (never narrowed)
        "input [3, 8, 8];
         choice n in [1, 2, 3, 4];
         choice k[b in 0..4] in [1, 3, 5] when n > b;
         choice w[b in 0..4] in [4, 8] when n > b && k[b] == 3;
         choice big in [i for i in 0..70];
         network {
           let y = input |> conv(8, 3);
           for b in 0..4 {
             if n > b {
               y = y |> conv(8, k[b]);
               if k[b] == 3 { y = y |> conv(w[b], 1) |> conv(8, 1); }
             }
           }
           if big > 30 && n != 2 { y = y |> conv(8, 1); }
           if big % 7 == 0 { y = y |> conv(16, 1); }
           return y |> gap |> linear(10);
         }
         metric params; metric flops;",
    ];
    for (i, text) in specs.iter().enumerate() {
        assert!(same_both_ways(&format!("lazy case {i}"), text, &root()), "lazy case {i} did not compile");
    }
    // a conditional decision bound outside its condition is an error where it is bound,
    // even though the variable is read only where the decision exists
    let bound_outside = "input [3, 8, 8];
         choice n in [1, 2];
         choice extra in [4, 8] when n > 1;
         network {
           let e = extra;
           let y = input |> conv(8, 3);
           if n > 1 { y = y |> conv(e, 1); }
           return y |> gap |> linear(10);
         }
         metric params;";
    assert!(!same_both_ways("bound outside", bound_outside, &root()), "a conditional decision bound outside its `when` compiled");
    let (spec, _) = nasc_grammar::parse(bound_outside);
    let opts = Options { overrides: Vec::new(), loader: &nasc_compiler::NoFiles, default_name: "x".into() };
    let (_, diags) = nasc_compiler::compile(&spec, &opts);
    assert!(diags.iter().any(|d| d.code == "E0404"), "{diags:?}");
}

/// A random valid spec exercising what the fast evaluation changes: decisions bound lazily
/// (by `let` and as block arguments, used or not), `if`/`when` on some options of a choice
/// (narrowed worlds), block calls at statement level and inside expressions (replayed across
/// loop iterations), conditional decisions and a subset.
fn random_spec(rng: &mut nasc_compiler::rng::Rng) -> String {
    let mut r = |n: u64| rng.below(n) as i64;
    let layers = 1 + r(4);
    let mut s = String::from("input [3, 16, 16];\n");
    s += &format!("choice n in [{}];\n", (1..=layers).map(|x| x.to_string()).collect::<Vec<_>>().join(", "));
    let base = r(2);
    let widths: Vec<String> = (0..1 + r(3)).map(|j| (8 * (1 + j + base)).to_string()).collect();
    s += &format!("choice w[i in 0..{layers}] in [{}];\n", widths.join(", "));
    s += &format!("choice k[i in 0..{layers}] in [1, 3, 5] default 3;\n");
    s += &format!("choice e[i in 0..{layers}] in [2, 4, 6] when n > i;\n");
    s += "block ba(x, c) = x |> conv(c, 1) |> bn;\n";
    s += "block bb(x, c) {\n  let y = x;\n  for j in 0..2 { y = y |> dwconv(3) |> relu; }\n  return y |> conv(c, 1);\n}\n";
    s += "block bc(x, c) = if x.c == c { x } else { conv(x, c, 1) };\n";
    s += &format!("choice op[i in 0..{layers}] in [ba, bb, bc];\n");
    s += "block mix(x, c, k, t, unused) {\n  let y = x;\n  if t > 2 { y = y |> conv(x.c * t div 2, 1) |> relu; }\n  y = y |> dwconv(k);\n  return y |> conv(c, 1);\n}\n";
    if r(2) == 0 {
        s += "block b3(x) = dwconv(x, 3);\nblock p1(x) = conv(x, x.c, 1);\nsubset br of [b3, p1] size 0..=2;\n";
    }
    let subset = s.contains("subset br");
    s += "network {\n  let x = input |> conv(8, 3);\n";
    for i in 0..layers {
        let kk = if r(2) == 0 { format!("k[{i}]") } else { "kk".into() };
        s += &format!("  let kk = k[{i}];\n  let ww = w[{i}];\n");
        let c = if r(2) == 0 { "ww".to_string() } else { format!("w[{i}]") };
        let t = if r(2) == 0 { format!("e[{i}]") } else { "2".into() };
        let unused = if r(2) == 0 { format!("k[{}]", (i + 1) % layers) } else { "0".into() };
        s += &format!("  if n > {i} {{\n    x = mix(x, {c}, {kk}, {t}, {unused});\n  }}\n");
        s += &format!("  x = x |> op[{i}]({});\n", [8, 16][r(2) as usize]);
        if r(3) == 0 {
            s += &format!("  if n >= {} && k[{i}] != 5 {{ x = x |> relu; }}\n", 1 + r(layers as u64));
        }
    }
    if subset {
        s += "  x = x + sum([op(x) for op in br]);\n";
    }
    s += "  return x |> gap |> linear(10);\n}\nmetric params;\nmetric flops;\n";
    s
}

/// Compile `text` both ways and compare what the space computes: size, `when` results,
/// validity, metric bounds, IR nodes per op, and every metric and feasibility of 500 sampled
/// candidates. Where worlds merge differs (lazy decisions fork later), a metric's tables may
/// be split differently among scopes, and the template IR's edges may differ: worlds merge on
/// shapes, not IR nodes, so the template keeps the dataflow of the worlds it kept (in both
/// evaluations).
fn same_semantics(name: &str, text: &str) {
    let (spec, diags) = nasc_grammar::parse(text);
    assert!(diags.is_empty(), "{name}: {diags:?}\n{text}");
    let opts = Options { overrides: Vec::new(), loader: &nasc_compiler::NoFiles, default_name: name.into() };
    let (fast, d1) = nasc_compiler::compile(&spec, &opts);
    let (reference, d2) = nasc_compiler::compile_reference(&spec, &opts);
    assert_eq!(format!("{d1:?}"), format!("{d2:?}"), "{name}: diagnostics differ\n{text}");
    let (a, b) = match (fast, reference) {
        (Some(a), Some(b)) => (a, b),
        _ => panic!("{name} did not compile both ways: {d1:?}\n{text}"),
    };
    assert_eq!(a.size(), b.size(), "{name}\n{text}");
    assert_eq!(format!("{:?}", a.when_results()), format!("{:?}", b.when_results()), "{name}\n{text}");
    assert_eq!(format!("{:?}", a.validity()), format!("{:?}", b.validity()), "{name}\n{text}");
    assert_eq!((a.ir().nodes, &a.ir().ops), (b.ir().nodes, &b.ir().ops), "{name}\n{text}");
    let bounds = |s: &Space| s.metrics().iter().map(|m| format!("{} {:?}", m.name, m.bounds)).collect::<Vec<_>>();
    assert_eq!(bounds(&a), bounds(&b), "{name}\n{text}");
    let cands = a.sample(500, 7, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
    for c in &cands {
        assert_eq!(a.evaluate(c), b.evaluate(c), "{name}: {}\n{text}", a.name_of(c));
        assert_eq!(a.feasible(c, &[]), b.feasible(c, &[]), "{name}\n{text}");
    }
}

#[test]
fn random_specs_compile_the_same_as_the_reference() {
    let mut rng = nasc_compiler::rng::Rng::new(2026);
    for case in 0..60 {
        let text = random_spec(&mut rng);
        same_semantics(&format!("random case {case}"), &text);
    }
}

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
    s.map(|s| s.size.to_string()).ok_or_else(|| d.iter().map(|x| x.message.clone()).collect::<Vec<_>>().join("; "))
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

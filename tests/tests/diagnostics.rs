//! Every compiler error path: a small spec per diagnostic code, asserting the code reported.
use nasc_compiler::{Loader, Options};
use std::path::PathBuf;

struct Fixtures;
impl Loader for Fixtures {
    fn load(&self, p: &str) -> Result<String, String> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        std::fs::read_to_string(dir.join(p)).map_err(|e| e.to_string())
    }
}

const BASE: &str = "input [3, 8, 8];\nchoice w in [8, 16] default 8;\n";

fn codes_with(src: &str, sets: &[(&str, &str)]) -> Vec<&'static str> {
    let (spec, mut diags) = nasc_grammar::parse(src);
    if diags.is_empty() {
        let opts = Options { overrides: sets.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(), loader: &Fixtures, default_name: "t".into() };
        let (_, d) = nasc_compiler::compile(&spec, &opts);
        diags = d;
    }
    let mut c: Vec<_> = diags.iter().map(|d| d.code).collect();
    c.sort();
    c.dedup();
    c
}

fn codes(src: &str) -> Vec<&'static str> {
    codes_with(src, &[])
}

fn net(body: &str) -> String {
    format!("{BASE}network {{ let x = input; {body} }}\n")
}

#[test]
fn a_correct_spec_compiles_and_counts() {
    let src = format!("{BASE}network = input |> conv(w, 3) |> bn |> relu;\nmetric lat = lookup(\"lut.csv\", \"ms\");\nconstraint flops <= 1M;\n");
    assert_eq!(codes(&src), Vec::<&str>::new());
}

#[test]
fn each_error_has_its_code() {
    let cases: Vec<(String, &str)> = vec![
        (net("return x |> conv(w, 3) |> bnn;"), "E0101"),
        (format!("{BASE}param a = 1;\nparam a = 2;\nnetwork = input;"), "E0102"),
        (format!("{BASE}block f(x, c) = conv(x, c, 3);\nnetwork = input |> f(1, 2);"), "E0103"),
        (net("return conv(x, 4, 3, stride = \"two\");"), "E0104"),
        (net("return conv(x, 4, 3, strid = 2);"), "E0105"),
        (net("return x |> 3;"), "E0106"),
        (net("return x + conv(x, 4, 1);"), "E0201"),
        (net("return conv(x, 4, 3, groups = 3);"), "E0202"),
        (format!("{BASE}block c(x) {{ node a = b; node b = a; return x; }}\nnetwork = c(input);"), "E0301"),
        (format!("{BASE}block c(x) {{ node a = x; node b = x; return a; }}\nnetwork = c(input);"), "E0302"),
        (format!("{BASE}choice e in [];\nnetwork = input;"), "E0401"),
        (format!("{BASE}choice e in [1, 3] default 5;\nnetwork = input;"), "E0402"),
        (format!("{BASE}subset s of [1, 2] size 3;\nnetwork = input;"), "E0403"),
        (format!("{BASE}choice d in [1, 2];\nchoice k in [3, 5] when d > 1;\nnetwork = conv(input, 4, k);"), "E0404"),
        (format!("{BASE}choice e[2] in [1, 3];\nnetwork = conv(input, 4, e[5]);"), "E0405"),
        (format!("{BASE}subset s of range(70) size 1;\nnetwork = input;"), "E0406"),
        (format!("{BASE}network = input;\nconstraint latency <= 3;"), "E0501"),
        (format!("{BASE}network = input;\nmaximize accuracy;"), "E0502"),
        (format!("{BASE}count flops {{ conv, convs }}\nnetwork = input;"), "E0503"),
        (format!("{BASE}let a = b;\nlet b = a;\nnetwork = input;"), "E0504"),
        (format!("{BASE}network = input;\nmetric lat = lookup(\"missing.csv\", \"ms\");"), "E0601"),
        (format!("{BASE}network = input;\nmetric lat = lookup(\"bad_lut.csv\", \"ms\");"), "E0602"),
        (format!("{BASE}network = input;\nmetric lat = lookup(\"unknown_lut.csv\", \"ms\");"), "E0603"),
        (format!("{BASE}network = input;\nname n = \"{{w}}{{zz}}\";"), "E0701"),
        (net("return conv(x, 4, 3 div 0);"), "E0801"),
        (format!("{BASE}block f(x) = f(x);\nnetwork = f(input);"), "E0802"),
        (BASE.to_string(), "E0901"),
    ];
    for (src, code) in cases {
        let got = codes(&src);
        assert!(got.contains(&code), "expected {code}, got {got:?} for:\n{src}");
    }
}

#[test]
fn unknown_set_is_an_error() {
    let src = format!("{BASE}param a = 1;\nnetwork = input;");
    assert_eq!(codes_with(&src, &[("b", "2")]), vec!["E0902"]);
    assert_eq!(codes_with(&src, &[("a", "2")]), Vec::<&str>::new());
}

#[test]
fn every_static_error_is_reported_in_one_run() {
    let src = format!("{BASE}param a = 1;\nparam a = 2;\nnetwork = input |> cnov(4, 3);\nconstraint latncy <= 1;\n");
    assert_eq!(codes(&src), vec!["E0101", "E0102", "E0501"]);
}

#[test]
fn did_you_mean_is_offered() {
    let (spec, _) = nasc_grammar::parse(&net("return x |> conv(w, 3) |> relu6x;"));
    let opts = Options { overrides: vec![], loader: &Fixtures, default_name: "t".into() };
    let (_, d) = nasc_compiler::compile(&spec, &opts);
    assert_eq!(d[0].help.as_deref(), Some("did you mean `relu6`?"));
}

/// Lookup CSVs are read as CSV (quoted fields, blank lines skipped); errors keep `file` line N.
#[test]
fn lookup_csv_quoted_fields_and_line_numbers() {
    struct Text(&'static str);
    impl Loader for Text {
        fn load(&self, _: &str) -> Result<String, String> {
            Ok(self.0.to_string())
        }
    }
    let compile = |csv: &'static str| {
        let src = format!("{BASE}network = input |> conv(w, 3);\nmetric lat = lookup(\"t.csv\", \"ms\");\n");
        let (spec, d) = nasc_grammar::parse(&src);
        assert!(d.is_empty());
        let opts = Options { overrides: vec![], loader: &Text(csv), default_name: "t".into() };
        nasc_compiler::compile(&spec, &opts)
    };
    let (space, d) = compile("\"decision\",\"option\",ms,\"note, quoted\"\r\n\"w\",8,\"1.5\",\"a, \"\"b\"\"\"\n\n  w ,\"16\", 2.5 ,\n");
    assert!(d.is_empty(), "{d:?}");
    assert!(space.is_some());
    let (_, d) = compile("decision,option,ms\nw,8,1.5\n\nw,\"16\"\n");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "E0602");
    assert!(d[0].message.contains("`t.csv` line 4: expected 3 fields, found 2"), "{}", d[0].message);
    let (_, d) = compile("decision,option,ms\nw,\"8\nx\",1.5\nw,16,2\n");
    assert_eq!(d[0].code, "E0603");
    assert!(d[0].message.contains("line 2:"), "{}", d[0].message);
}

//! Candidate names read back: for every spec in specs/ and for random specs with conditional
//! families and subsets, sample -> name -> parse gives the same genotype (in the spec's format
//! and in the canonical form); a name a format prints for two candidates is refused, naming
//! both, and a template that prints two candidates the same way is E0701.
use nasc_compiler::{Candidate, NoFiles, Options, Space};
use nasc_tests::{compile_zoo, root};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestRunner};

fn round_trip(what: &str, s: &Space, c: &Candidate) -> Result<(), String> {
    let name = s.name_of(c);
    match s.parse_name(&name) {
        Ok(back) if &back == c => {}
        Ok(back) => return Err(format!("{what}: `{name}` reads as `{}`, not `{}`", s.canonical(&back), s.canonical(c))),
        Err(e) => return Err(format!("{what}: `{name}` does not parse back: {e}")),
    }
    let canon = s.canonical(c);
    match s.parse_name(&canon) {
        Ok(back) if &back == c => Ok(()),
        Ok(back) => Err(format!("{what}: canonical `{canon}` reads as `{}`", s.canonical(&back))),
        Err(e) => Err(format!("{what}: canonical `{canon}` does not parse back: {e}")),
    }
}

#[test]
fn every_spec_file_names_its_samples_so_that_they_parse_back() {
    let mut paths: Vec<_> =
        std::fs::read_dir(root().join("specs")).expect("specs/").filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "nas")).collect();
    paths.sort();
    assert!(paths.len() >= 13, "{paths:?}");
    for p in paths {
        let stem = p.file_stem().and_then(|s| s.to_str()).expect("stem").to_string();
        let s = compile_zoo(&stem, &[]);
        for seed in 0..3 {
            for c in s.sample(100, seed, &[]).expect("samples") {
                round_trip(&stem, &s, &c).unwrap_or_else(|e| panic!("{e}"));
            }
        }
        round_trip(&stem, &s, &s.default_candidate()).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn the_mobilenet_v3_space_names_parse_back_without_separators() {
    // the issue's space: the packed name, 300 samples (296 of 300 failed before)
    let s = compile_zoo("mbv3_space", &[]);
    let mut lengths = std::collections::BTreeSet::new();
    for c in s.sample(300, 14, &[]).expect("samples") {
        lengths.insert(s.name_of(&c).len());
        round_trip("mbv3_space", &s, &c).unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(lengths.len() > 5, "names of many lengths: {lengths:?}");
    // a bad digit is pointed at
    let c = s.default_candidate();
    let name = s.name_of(&c);
    assert!(name.starts_with("44444:3333"), "{name}");
    let bad = name.replacen("44444:3", "44444:4", 1);
    let e = s.parse_name(&bad).unwrap_err().to_string();
    assert!(e.contains("at byte 6 found `4"), "{e}");
    assert!(e.contains("expected a value of `k[0][0]` (`3`, `5`, `7`)"), "{e}");
}

#[test]
fn the_issue_examples() {
    let s = space("choice d[u in 0..2] in [1, 2]; choice k[u in 0..2][j in 0..2] in [3, 5] when d[u] > j; name a = \"{d[*]}{k[*]}\";").expect("compiles");
    assert_eq!(s.canonical(&s.parse_name("12533").expect("parses")), "d[0]=1,d[1]=2,k[0][0]=5,k[1][0]=3,k[1][1]=3");
    let e = space("choice w[2] in [1, 11]; name n = \"{w[*]}\";").err().expect("refused");
    assert!(e.contains("E0701") && e.contains("`w[0]=1,w[1]=11` and `w[0]=11,w[1]=1` are both named `111`"), "{e}");
    let s = space("").expect("compiles");
    assert_eq!(s.name_of(&s.default_candidate()), "-");
    assert_eq!(s.parse_name("-").expect("parses"), s.default_candidate());
    let nb = compile_zoo("nb201", &[]);
    let e = nb.parse_name("|nor_conv_3x4~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|").unwrap_err().to_string();
    assert!(
        e.contains(
            "at byte 1 found `nor_conv_3x4`, expected a value of `edge[0]` (`none`, `skip_connect`, `nor_conv_1x1`, `nor_conv_3x3`, `avg_pool_3x3`); did you mean `nor_conv_3x3`?"
        ),
        "{e}"
    );
}

const NET: &str = "input [3, 8, 8];\nnetwork { return input |> conv(4, 1); }\n";

/// Compile decisions and items over a fixed network; errors as `CODE message` lines.
fn space(items: &str) -> Result<Space, String> {
    let text = format!("{items}\n{NET}");
    let (spec, diags) = nasc_grammar::parse(&text);
    if !diags.is_empty() {
        return Err(format!("{diags:?}"));
    }
    let opts = Options { overrides: Vec::new(), loader: &NoFiles, default_name: "t".into() };
    let (space, diags) = nasc_compiler::compile(&spec, &opts);
    let errors: Vec<String> = diags.iter().filter(|d| d.is_error()).map(|d| format!("{} {}", d.code, d.message)).collect();
    match space {
        Some(s) if errors.is_empty() => Ok(s),
        _ => Err(errors.join("\n")),
    }
}

/// A random space: a depth family `d[u]`, a conditional family `k[u][j] when d[u] > j`, an
/// unconditional family `w[i]`, maybe a subset; a template over the choice families in some
/// order with or without separators (none when there is a subset: the canonical form only).
#[derive(Debug, Clone)]
struct Gen {
    units: usize,
    depths: Vec<i64>,
    kopts: Vec<i64>,
    wcount: usize,
    wopts: Vec<i64>,
    subset: bool,
    order: Vec<usize>,
    seps: Vec<bool>,
}

impl Gen {
    fn text(&self) -> String {
        let list = |v: &[i64]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ");
        let maxd = self.depths.iter().max().copied().unwrap_or(1);
        let mut t =
            format!("choice d[u in 0..{}] in [{}];\nchoice k[u in 0..{}][j in 0..{maxd}] in [{}] when d[u] > j;\n", self.units, list(&self.depths), self.units, list(&self.kopts));
        if self.wcount > 0 {
            t += &format!("choice w[{}] in [{}];\n", self.wcount, list(&self.wopts));
        }
        if self.subset {
            t += "subset s of range(3) size 0..=2;\n";
        } else {
            let fams: Vec<&str> = self.order.iter().map(|i| ["{d[*]}", "{k[*]}", "{w[*]}"][*i]).filter(|f| self.wcount > 0 || *f != "{w[*]}").collect();
            let mut tpl = String::new();
            for (i, f) in fams.iter().enumerate() {
                if i > 0 && self.seps[i] {
                    tpl.push('.');
                }
                tpl.push_str(f);
            }
            t += &format!("name n = \"{tpl}\";\n");
        }
        t
    }
}

fn gen() -> impl Strategy<Value = Gen> {
    let pool = prop::sample::subsequence(vec![1i64, 2, 3, 5, 7, 11, 13, 33], 1..=3);
    (
        1usize..=3,
        prop::sample::subsequence(vec![1i64, 2, 3], 1..=3),
        pool.clone(),
        0usize..=2,
        pool,
        prop::bool::weighted(0.25),
        Just(vec![0usize, 1, 2]).prop_shuffle(),
        prop::collection::vec(any::<bool>(), 3),
    )
        .prop_map(|(units, depths, kopts, wcount, wopts, subset, order, seps)| Gen { units, depths, kopts, wcount, wopts, subset, order, seps })
}

/// The name the generated template prints (written here from the canonical form).
fn print(g: &Gen, s: &Space, c: &Candidate) -> String {
    let canon = s.canonical(c);
    let pairs: Vec<(&str, &str)> = canon.split(',').filter_map(|p| p.split_once('=')).collect();
    let fams: Vec<&str> = g.order.iter().map(|i| ["d", "k", "w"][*i]).filter(|f| g.wcount > 0 || *f != "w").collect();
    let mut out = String::new();
    for (i, f) in fams.iter().enumerate() {
        if i > 0 && g.seps[i] {
            out.push('.');
        }
        for (n, v) in &pairs {
            if n.split('[').next() == Some(*f) {
                out.push_str(v);
            }
        }
    }
    if out.is_empty() {
        "-".into()
    } else {
        out
    }
}

/// The backquoted pieces of a message.
fn quoted(msg: &str) -> Vec<String> {
    msg.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

fn check(g: Gen) -> Result<(), TestCaseError> {
    let text = g.text();
    let s = match space(&text) {
        Ok(s) => s,
        Err(e) => {
            // only a template that prints two candidates the same way is refused: check the
            // witnesses in the space without the template
            prop_assert!(e.starts_with("E0701 the template prints two candidates the same way"), "{text}\n{e}");
            let plain = space(&text.lines().filter(|l| !l.starts_with("name")).collect::<Vec<_>>().join("\n")).expect("compiles without the name");
            let q = quoted(&e);
            let (a, b) = (plain.parse_name(&q[0]).expect("witness a"), plain.parse_name(&q[1]).expect("witness b"));
            prop_assert_ne!(&a, &b);
            for w in [&a, &b] {
                prop_assert_eq!(&print(&g, &plain, w), &q[2], "{}\n{}", text, e);
            }
            return Ok(());
        }
    };
    for c in s.sample(60, 5, &[]).map_err(|e| TestCaseError::fail(e.to_string()))? {
        let name = s.name_of(&c);
        match s.parse_name(&name) {
            Ok(back) => {
                prop_assert_eq!(&back, &c, "{}\n`{}`", text, name);
                if !g.subset {
                    prop_assert_eq!(&print(&g, &s, &c), &name);
                }
            }
            Err(e) => {
                let e = e.to_string();
                // refused only when ambiguous; both readings are candidates printed as `name`
                prop_assert!(e.contains("is ambiguous in the `n` format"), "{text}\n{e}");
                let q = quoted(&e);
                prop_assert_eq!(&q[0], &name);
                let readings: Vec<Candidate> = q[2..4].iter().map(|n| s.parse_name(n).expect("a reading")).collect();
                // (`c` may be a third reading: the reader stops at the second)
                prop_assert_ne!(&readings[0], &readings[1]);
                for r in &readings {
                    prop_assert_eq!(&s.name_of(r), &name);
                }
            }
        }
        let back = s.parse_name(&s.canonical(&c)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &c);
    }
    Ok(())
}

#[test]
fn random_spaces_name_their_samples_so_that_they_parse_back() {
    let mut r = TestRunner::new(Config { cases: 300, failure_persistence: None, rng_algorithm: RngAlgorithm::ChaCha, rng_seed: RngSeed::Fixed(0x6e61_6d65), ..Config::default() });
    if let Err(e) = r.run(&gen(), check) {
        panic!("{e}");
    }
}

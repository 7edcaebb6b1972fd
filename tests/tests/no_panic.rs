//! The front-end never panics or hangs, and every diagnostic points into the text.
//!
//! Three input families, each run for a fixed number of cases from a fixed seed (reproducible
//! in CI): (a) random bytes and strings, (b) mutations of every valid spec in `specs/*.nas`
//! (token and char-range deletes, inserts, duplicates, swaps, digit flips, truncations), and
//! (c) random sequences of the language's tokens and item fragments. Each input is parsed and,
//! when it has no syntax error, compiled. Each case runs on its own thread (with the stack the
//! `nasc` binary's main thread has) under a time limit, so a hang fails the test with its input
//! instead of stalling CI; cases slower than [`SLOW`] are listed on stderr.
use nasc_compiler::{Loader, Options};
use nasc_grammar::diag::{Diagnostic, Source};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestRunner};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Cases per strategy.
const STRING_CASES: u32 = 2_000;
const MUTATION_CASES: u32 = 2_000;
const SEQUENCE_CASES: u32 = 2_000;
/// A case that takes longer than this fails the test as a hang (generous: a loaded 2-core CI
/// machine can stall a 20 ms case for many seconds).
const HANG: Duration = Duration::from_secs(60);
/// A case that takes longer than this is reported on stderr.
const SLOW: Duration = Duration::from_secs(2);
/// The stack of the thread a case runs on (the `nasc` binary runs on a main thread of this size).
const STACK: usize = 8 << 20;

/// Lookup tables served from memory: a good one, a malformed one; any other path is missing.
const LUT: &str = "decision,option,ms\nw,8,1.5\nw,16,2.5\nk,3,0.5\nk,5,0.7\n";
const BAD_LUT: &str = "decision,option,ms\nw,8,1.5\nw,16\n";

struct Memory;
impl Loader for Memory {
    fn load(&self, p: &str) -> Result<String, String> {
        aux_text(p).map(str::to_string).ok_or_else(|| format!("no file `{p}`"))
    }
}

fn aux_text(p: &str) -> Option<&'static str> {
    match p {
        "lut.csv" => Some(LUT),
        "bad_lut.csv" => Some(BAD_LUT),
        _ => None,
    }
}

/// Every label of `d` lies within its text and on char boundaries.
fn check_spans(text: &str, d: &Diagnostic) -> Result<(), String> {
    for l in std::iter::once(&d.primary).chain(d.secondary.iter()) {
        let t = match &l.source {
            Source::Spec => text,
            Source::Aux(p) => match aux_text(p) {
                Some(t) => t,
                None => return Err(format!("{}: label in unknown file `{p}`", d.code)),
            },
        };
        let (s, e) = (l.span.start, l.span.end);
        if s > e || e > t.len() || !t.is_char_boundary(s) || !t.is_char_boundary(e) {
            return Err(format!("{} `{}`: bad span {s}..{e} (text of {} bytes) for label `{}`", d.code, d.message, t.len(), l.message));
        }
    }
    // errors are E0xxx, warnings (W0303, an unused binding) W0xxx
    if d.code.len() != 5 || !(d.code.starts_with("E0") || (d.code.starts_with("W0") && !d.is_error())) {
        return Err(format!("bad code `{}`", d.code));
    }
    Ok(())
}

/// Parse, then compile if there is no syntax error; check every diagnostic.
fn front_end(text: &str) -> Result<(), String> {
    let (spec, diags) = nasc_grammar::parse(text);
    for d in &diags {
        check_spans(text, d)?;
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Ok(());
    }
    PARSED.fetch_add(1, Ordering::Relaxed);
    let opts = Options { overrides: vec![], loader: &Memory, default_name: "fuzz".into() };
    let (space, diags) = nasc_compiler::compile(&spec, &opts);
    for d in &diags {
        check_spans(text, d)?;
    }
    let failed = diags.iter().any(Diagnostic::is_error);
    if !failed {
        COMPILED.fetch_add(1, Ordering::Relaxed);
    }
    if failed == space.is_some() {
        return Err(format!("compile returned a space: {}, but error diagnostics: {failed}", space.is_some()));
    }
    Ok(())
}

/// Inputs without syntax errors, and inputs that compiled to a space (over all tests: a rough
/// measure of how deep the inputs reach).
static PARSED: AtomicUsize = AtomicUsize::new(0);
static COMPILED: AtomicUsize = AtomicUsize::new(0);

static SLOW_CASES: Mutex<Vec<(Duration, String)>> = Mutex::new(Vec::new());

/// `NASC_NO_PANIC_COLLECT=1`: do not stop (and shrink) at the first failure; collect every
/// failure, and list one shortest input per distinct failure (panic location or message) at the
/// end. For hunting several bugs in one long local run.
fn collect_mode() -> bool {
    std::env::var_os("NASC_NO_PANIC_COLLECT").is_some_and(|v| v != "0")
}

/// Failures collected in [`collect_mode`]: (kind, input).
static FAILURES: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// The name of the threads cases run on; their panics are recorded, not printed.
const CASE_THREAD: &str = "front-end-case";

thread_local! {
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// A panic hook that keeps the message of a panic on a case thread (to report it with the
/// input, once, instead of a backtrace per shrinking step) and prints any other panic as usual.
fn quiet_case_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some(CASE_THREAD) {
                let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
                let msg = info.payload().downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| info.payload().downcast_ref::<String>().cloned()).unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("panicked at {at}: {msg}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Run [`front_end`] on a thread under the time limit; a panic or a hang is a failure.
fn run_case(text: String) -> Result<(), TestCaseError> {
    quiet_case_panics();
    let (tx, rx) = mpsc::channel();
    let input = text.clone();
    let start = Instant::now();
    let spawned = std::thread::Builder::new().name(CASE_THREAD.into()).stack_size(STACK).spawn(move || {
        let r = std::panic::catch_unwind(|| front_end(&input)).map_err(|_| LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "panicked".into()));
        let _ = tx.send(r);
    });
    if spawned.is_err() {
        return Err(TestCaseError::fail("cannot start a thread"));
    }
    let (kind, detail) = match rx.recv_timeout(HANG) {
        Ok(Ok(Ok(()))) => {
            let took = start.elapsed();
            if took > SLOW {
                SLOW_CASES.lock().unwrap_or_else(|e| e.into_inner()).push((took, text));
            }
            return Ok(());
        }
        Ok(Ok(Err(msg))) => (msg.split(':').next().unwrap_or("").to_string(), msg),
        Ok(Err(panic)) => {
            let kind = panic.split(": ").next().unwrap_or("").to_string();
            (kind, format!("the front-end {panic}"))
        }
        Err(_) => ("hang".to_string(), format!("the front-end did not finish within {HANG:?}")),
    };
    if collect_mode() {
        FAILURES.lock().unwrap_or_else(|e| e.into_inner()).push((kind, text));
        return Ok(());
    }
    Err(TestCaseError::fail(format!("{detail}\ninput: {text:?}")))
}

/// `NASC_NO_PANIC_SEED=N` shifts every seed (to explore further in local runs; CI uses the
/// fixed seeds).
fn seeded(seed: u64) -> u64 {
    seed ^ std::env::var("NASC_NO_PANIC_SEED").ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

/// `NASC_NO_PANIC_SCALE=N` multiplies every case count (for long local runs).
fn scaled(cases: u32) -> u32 {
    let scale = std::env::var("NASC_NO_PANIC_SCALE").ok().and_then(|v| v.parse::<u32>().ok()).unwrap_or(1);
    cases.saturating_mul(scale.max(1))
}

fn runner(seed: u64, cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: scaled(cases),
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seeded(seed)),
        max_shrink_iters: 2_000,
        ..Config::default()
    })
}

fn run<S: Strategy>(seed: u64, cases: u32, strategy: S, to_text: impl Fn(S::Value) -> String) {
    let mut r = runner(seed, cases);
    let result = r.run(&strategy, |v| run_case(to_text(v)));
    let slow = std::mem::take(&mut *SLOW_CASES.lock().unwrap_or_else(|e| e.into_inner()));
    for (took, text) in &slow {
        eprintln!("slow case ({took:?}): {text:?}");
    }
    eprintln!("so far, over all tests: {} inputs parsed without syntax errors, {} compiled", PARSED.load(Ordering::Relaxed), COMPILED.load(Ordering::Relaxed));
    if let Err(e) = result {
        panic!("{e}");
    }
    let mut failures = std::mem::take(&mut *FAILURES.lock().unwrap_or_else(|e| e.into_inner()));
    if !failures.is_empty() {
        let total = failures.len();
        failures.sort_by_key(|(kind, text)| (kind.clone(), text.len()));
        failures.dedup_by(|a, b| a.0 == b.0);
        for (kind, text) in &failures {
            eprintln!("FAILURE {kind}\n  shortest input: {text:?}");
        }
        panic!("{total} failing inputs, {} distinct failures (listed above)", failures.len());
    }
}

// ---------------------------------------------------------------------------------------------
// The vocabulary

const KEYWORDS: &[&str] = &[
    "space",
    "param",
    "let",
    "input",
    "count",
    "choice",
    "subset",
    "in",
    "of",
    "size",
    "default",
    "when",
    "block",
    "network",
    "metric",
    "external",
    "constraint",
    "minimize",
    "maximize",
    "name",
    "node",
    "for",
    "if",
    "else",
    "return",
    "true",
    "false",
    "div",
];
const NAMES: &[&str] = &[
    "x",
    "y",
    "c",
    "k",
    "w",
    "s",
    "n1",
    "n2",
    "edge",
    "depth",
    "conv",
    "dwconv",
    "bn",
    "relu",
    "relu6",
    "swish",
    "hswish",
    "se",
    "gap",
    "linear",
    "avgpool",
    "maxpool",
    "zero",
    "identity",
    "add",
    "concat",
    "sum",
    "mean",
    "range",
    "len",
    "min",
    "max",
    "abs",
    "floor",
    "ceil",
    "round",
    "int",
    "make_divisible",
    "lookup",
    "params",
    "flops",
    "accuracy",
    "stride",
    "groups",
    "padding",
    "dilation",
    "bias",
    "flops",
    "conv_bias",
    "linear_bias",
    "act",
    "pool",
    "index",
    "inputs",
    "_",
];
const LITERALS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "5",
    "8",
    "16",
    "300M",
    "1K",
    "15_625",
    "0.5",
    "1e-3",
    "2.5e6",
    "1.5M",
    "1e999",
    "99999999999999999999",
    "-1",
    "9223372036854775807",
    "\"\"",
    "\"same\"",
    "\"lut.csv\"",
    "\"bad_lut.csv\"",
    "\"ms\"",
    "\"{w}\"",
    "\"{edge[0]}-{k:index}\"",
    "\"{w[*]:index1}\"",
    "\"\\n\"",
    "\"\\q\"",
    "\"{{}}\"",
];
const PUNCT: &[&str] = &[
    ";", ",", "(", ")", "[", "]", "{", "}", "=", ".", "..", "..=", "|>", "||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "**", "/", "%", "!", ".c", ".h", ".w", "//",
    "#", "/*", "*/", "\"", "@", "é", "\n",
];
/// Fragments that make random sequences reach the compiler more often.
const FRAGMENTS: &[&str] = &[
    "input [3, 8, 8];",
    "choice w in [8, 16] default 8;",
    "choice k[2] in [3, 5];",
    "choice d in [1, 2, 3];",
    "choice e[j in 0..3] in [1, 2] when d > j;",
    "subset s of [1, 2, 3] size 0..=2;",
    "subset t[j in 0..2] of range(j + 2) size 2;",
    "param C = 4;",
    "let L = [1, 2, 3];",
    "block f(x, c = 4) = x |> conv(c, 3) |> bn;",
    "block g(x) { node a = x |> relu; node b = a + x; return b; }",
    "network = input |> conv(w, 3);",
    "network { let x = input; for i in 0..2 { x = f(x); } return x |> gap |> linear(10); }",
    "x = x |> conv(w, k[0]) |> bn;",
    "if d > 1 { x = x + x; } else { x = f(x); }",
    "for i in s { x = x |> conv(w, 3); }",
    "return x;",
    "metric params;",
    "metric lat = lookup(\"lut.csv\", \"ms\");",
    "metric acc = external;",
    "metric m = params / 1M + lat;",
    "constraint flops <= 1M;",
    "constraint params in 1..1M;",
    "maximize acc;",
    "minimize lat;",
    "count flops { conv, linear }",
    "name n = \"{w}-{k[*]:index}\";",
    "space t;",
];

fn vocabulary() -> Vec<&'static str> {
    [KEYWORDS, NAMES, LITERALS, PUNCT, FRAGMENTS].concat()
}

// ---------------------------------------------------------------------------------------------
// (a) random bytes and strings

#[test]
fn random_strings_never_panic() {
    let strategy = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        "\\PC{0,200}",
        "[a-z0-9_ \\n\\t;,(){}\\[\\]=.+*/%<>!|&\"#@\\\\-]{0,300}",
        // ASCII soup that starts like an item, to get past the first token more often.
        "(input|choice|network|block|param|let|metric|constraint) [a-z0-9 \\n;,(){}\\[\\]=.+*<>|\"-]{0,200}",
    ];
    run(0x6e61_7363_0001, STRING_CASES, strategy, |s| s);
}

// ---------------------------------------------------------------------------------------------
// (b) mutations of the valid specs

/// Split a spec into tokens (identifier/number runs, whitespace runs, single other chars), so
/// that concatenating them gives the text back.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let class = |c: char| {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            0
        } else if c.is_whitespace() {
            1
        } else {
            2
        }
    };
    for c in text.chars() {
        match out.last_mut() {
            Some(last) if class(c) != 2 && last.chars().last().map(class) == Some(class(c)) => last.push(c),
            _ => out.push(c.to_string()),
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    DeleteTokens(prop::sample::Index, usize),
    InsertToken(prop::sample::Index, prop::sample::Index),
    DuplicateTokens(prop::sample::Index, usize, prop::sample::Index),
    SwapTokens(prop::sample::Index, prop::sample::Index),
    DeleteChars(prop::sample::Index, usize),
    DuplicateChars(prop::sample::Index, usize, prop::sample::Index),
    SwapCharRanges(prop::sample::Index, prop::sample::Index, usize),
    FlipDigit(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    use prop::sample::Index;
    prop_oneof![
        (any::<Index>(), 1..4usize).prop_map(|(a, n)| Mutation::DeleteTokens(a, n)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, t)| Mutation::InsertToken(a, t)),
        (any::<Index>(), 1..12usize, any::<Index>()).prop_map(|(a, n, b)| Mutation::DuplicateTokens(a, n, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapTokens(a, b)),
        (any::<Index>(), 1..40usize).prop_map(|(a, n)| Mutation::DeleteChars(a, n)),
        (any::<Index>(), 1..200usize, any::<Index>()).prop_map(|(a, n, b)| Mutation::DuplicateChars(a, n, b)),
        (any::<Index>(), any::<Index>(), 1..30usize).prop_map(|(a, b, n)| Mutation::SwapCharRanges(a, b, n)),
        (any::<Index>(), 0..10u8).prop_map(|(a, d)| Mutation::FlipDigit(a, d)),
        any::<Index>().prop_map(Mutation::Truncate),
    ]
}

/// The largest char boundary `<= i`.
fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn char_range(s: &str, at: &prop::sample::Index, n: usize) -> (usize, usize) {
    if s.is_empty() {
        return (0, 0);
    }
    let a = floor_boundary(s, at.index(s.len()));
    (a, floor_boundary(s, a + n))
}

fn apply(text: &str, muts: &[Mutation], vocab: &[&str]) -> String {
    let mut s = text.to_string();
    for m in muts {
        match m {
            Mutation::DeleteTokens(..) | Mutation::InsertToken(..) | Mutation::DuplicateTokens(..) | Mutation::SwapTokens(..) => {
                let mut t = tokens(&s);
                let len = t.len();
                match m {
                    Mutation::DeleteTokens(a, n) if len > 0 => {
                        let a = a.index(len);
                        t.drain(a..(a + n).min(len));
                    }
                    Mutation::InsertToken(a, tok) => {
                        let a = if len == 0 { 0 } else { a.index(len + 1) };
                        t.insert(a.min(len), vocab[tok.index(vocab.len())].to_string());
                    }
                    Mutation::DuplicateTokens(a, n, to) if len > 0 => {
                        let a = a.index(len);
                        let part: Vec<String> = t[a..(a + n).min(len)].to_vec();
                        let to = to.index(len + 1);
                        t.splice(to..to, part);
                    }
                    Mutation::SwapTokens(a, b) if len > 0 => t.swap(a.index(len), b.index(len)),
                    _ => {}
                }
                s = t.concat();
            }
            Mutation::DeleteChars(at, n) => {
                let (a, b) = char_range(&s, at, *n);
                s.replace_range(a..b, "");
            }
            Mutation::DuplicateChars(at, n, to) => {
                let (a, b) = char_range(&s, at, *n);
                let part = s[a..b].to_string();
                let to = floor_boundary(&s, to.index(s.len() + 1));
                s.insert_str(to, &part);
            }
            Mutation::SwapCharRanges(x, y, n) => {
                let (a0, a1) = char_range(&s, x, *n);
                let (b0, b1) = char_range(&s, y, *n);
                let ((a0, a1), (b0, b1)) = if a0 <= b0 { ((a0, a1), (b0, b1)) } else { ((b0, b1), (a0, a1)) };
                if a1 <= b0 {
                    s = format!("{}{}{}{}{}", &s[..a0], &s[b0..b1], &s[a1..b0], &s[a0..a1], &s[b1..]);
                }
            }
            Mutation::FlipDigit(at, d) => {
                let digits: Vec<usize> = s.char_indices().filter(|(_, c)| c.is_ascii_digit()).map(|(i, _)| i).collect();
                if !digits.is_empty() {
                    let i = digits[at.index(digits.len())];
                    s.replace_range(i..i + 1, &d.to_string());
                }
            }
            Mutation::Truncate(at) => {
                let a = floor_boundary(&s, at.index(s.len() + 1));
                s.truncate(a);
            }
        }
    }
    s
}

/// `*.nas` files of a folder of the repository, sorted by name.
fn spec_files(dir: &str) -> Vec<(String, String)> {
    let dir = nasc_tests::root().join(dir);
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "nas"))
        .map(|p| (p.file_name().unwrap_or_default().to_string_lossy().into_owned(), std::fs::read_to_string(&p).expect("spec")))
        .collect();
    out.sort();
    out
}

#[test]
fn mutated_specs_never_panic() {
    // The valid specs (each must pass as it is), and the malformed corpus of specs/err.
    let valid = spec_files("specs");
    assert!(!valid.is_empty(), "no specs in specs/");
    for (name, text) in &valid {
        assert_eq!(front_end(text), Ok(()), "{name}");
    }
    let broken = spec_files("specs/err");
    let (nv, nb) = (valid.len(), broken.len());
    let specs: Vec<String> = valid.into_iter().chain(broken).map(|(_, t)| t).collect();
    let vocab = vocabulary();
    // Three in four cases mutate a valid spec.
    let base = if nb == 0 { (0..nv).boxed() } else { prop_oneof![3 => 0..nv, 1 => nv..nv + nb].boxed() };
    let strategy = (base, prop::collection::vec(mutation(), 1..5));
    run(0x6e61_7363_0002, MUTATION_CASES, strategy, |(i, muts)| apply(&specs[i], &muts, &vocab));
}

// ---------------------------------------------------------------------------------------------
// (c) random token sequences

#[test]
fn random_token_sequences_never_panic() {
    let vocab = vocabulary();
    let n = vocab.len();
    // A sequence of pieces, each an item fragment or a short run of random tokens, so that many
    // inputs are nearly valid and reach the compiler.
    let piece = prop_oneof![
        3 => prop::sample::select(FRAGMENTS).prop_map(str::to_string),
        2 => prop::collection::vec(0..n, 1..8).prop_map(move |t| t.iter().map(|i| vocabulary()[*i]).collect::<Vec<_>>().join(" ")),
    ];
    let strategy = (prop::collection::vec(piece, 0..24), prop::collection::vec(0..n, 0..40), prop::sample::select(vec![" ", "", "\n", " \n  "]), any::<bool>());
    run(
        0x6e61_7363_0003,
        SEQUENCE_CASES,
        strategy,
        move |(pieces, toks, sep, flat)| {
            if flat {
                toks.iter().map(|i| vocab[*i]).collect::<Vec<_>>().join(sep)
            } else {
                pieces.join(sep)
            }
        },
    );
}

/// Inputs found by these tests that used to panic in the compiler: a decision read while the
/// compiler evaluates a constant expression (a domain, a default, a family's index range, a
/// subset size, the input shape). Each is now a diagnostic (E0104 "this must not depend on a
/// decision").
#[test]
fn decisions_in_constant_expressions_are_diagnostics() {
    let head = "input [3, 8, 8];\nchoice d in [1, 2];\n";
    let tail = "\nnetwork = input |> conv(4, 3);\n";
    let cases = [
        "choice e in [3, 4] default d;",
        "choice e in [d, 5];",
        "choice e[d] in [3, 4];",
        "choice e[j in 0..d] in [3, 4];",
        "subset s of [1, 2, 3] size d;",
        "subset s of [1, d] size 1;",
    ];
    let mut failed = Vec::new();
    for c in cases {
        if let Err(e) = run_case(format!("{head}{c}{tail}")) {
            failed.push(format!("{c}: {e}"));
        }
    }
    if let Err(e) = run_case("input [d, 8, 8];\nchoice d in [1, 2];\nnetwork = input |> conv(4, 3);\n".into()) {
        failed.push(format!("input [d, 8, 8]: {e}"));
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The mutation helpers themselves: token splitting is lossless and mutations keep valid UTF-8
/// (a `String` cannot hold anything else; this checks they do not panic on multi-byte text).
#[test]
fn mutations_handle_multibyte_text() {
    let text = "param é = 1; // ünïcode ✓\nlet x = [1, 2];";
    assert_eq!(tokens(text).concat(), text);
    let vocab = vocabulary();
    let mut r = runner(7, 500);
    r.run(&prop::collection::vec(mutation(), 1..6), |m| {
        let _ = apply(text, &m, &vocab);
        Ok(())
    })
    .expect("mutations");
}

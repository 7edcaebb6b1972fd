//! Every file of the fuzz seed corpus (`fuzz/seeds/front_end/*.nas`: inputs that once panicked,
//! aborted, hung or read files they should not) goes through parse and compile on its own
//! thread under a time limit, and gives the diagnostic its first line names (`// expect: E0801`)
//! or compiles (`// expect: ok`). At the end the process's peak memory must be bounded: the
//! limits of the front end apply before its allocations.
use nasc_compiler::{NoFiles, Options};
use nasc_grammar::diag::{Diagnostic, Source};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Per file (generous for a loaded 2-core machine: every file takes under 1 s alone).
const LIMIT: Duration = Duration::from_secs(20);

fn corpus() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/front_end");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("fuzz/seeds/front_end")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "nas"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).expect("corpus file")))
        .collect();
    out.sort();
    out
}

/// (error codes, compiled) of one input; every label inside the text.
fn front_end(text: &str) -> Result<(Vec<String>, bool), String> {
    let (spec, mut diags) = nasc_grammar::parse(text);
    let mut compiled = false;
    if !diags.iter().any(Diagnostic::is_error) {
        let opts = Options { overrides: vec![], loader: &NoFiles, default_name: "corpus".into() };
        let (space, d) = nasc_compiler::compile(&spec, &opts);
        compiled = space.is_some();
        diags.extend(d);
    }
    for d in &diags {
        let l = &d.primary;
        if matches!(l.source, Source::Spec) && (l.span.start > l.span.end || l.span.end > text.len()) {
            return Err(format!("{}: span {:?} outside the text", d.code, l.span));
        }
        if d.message.chars().next().is_some_and(char::is_uppercase) {
            return Err(format!("{}: message not lowercase: {}", d.code, d.message));
        }
    }
    Ok((diags.iter().filter(|d| d.is_error()).map(|d| d.code.to_string()).collect(), compiled))
}

#[test]
fn every_corpus_file_is_a_diagnostic_in_time() {
    let files = corpus();
    assert!(files.len() >= 25, "{} corpus files", files.len());
    let mut failures = Vec::new();
    for (name, text) in files {
        let expect = text.lines().next().and_then(|l| l.strip_prefix("// expect: ")).unwrap_or_else(|| panic!("{name}: no `// expect:` line")).trim().to_string();
        let (tx, rx) = mpsc::channel();
        let t0 = Instant::now();
        let t = text.clone();
        std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(move || {
                let _ = tx.send(front_end(&t));
            })
            .expect("thread");
        match rx.recv_timeout(LIMIT) {
            Err(mpsc::RecvTimeoutError::Timeout) => failures.push(format!("{name}: no answer in {LIMIT:?}")),
            Err(mpsc::RecvTimeoutError::Disconnected) => failures.push(format!("{name}: panicked")),
            Ok(Err(e)) => failures.push(format!("{name}: {e}")),
            Ok(Ok((codes, compiled))) => {
                let ok = if expect == "ok" { compiled && codes.is_empty() } else { !compiled && codes.first() == Some(&expect) };
                if !ok {
                    failures.push(format!("{name}: expected {expect}, got errors {codes:?} (compiled: {compiled})"));
                }
            }
        }
        eprintln!("{name}: {:?}", t0.elapsed());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // peak resident memory of this test process (Linux): the bombs stop before allocating
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let kb: u64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0);
        assert!(kb < 1_500_000, "peak memory {kb} kB");
    }
}

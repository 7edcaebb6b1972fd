//! The malformed-spec corpus: `nasc check specs/err/NN_*.nas` for every file, exit code 1, an
//! error code in the output, and the rendered diagnostics snapshotted (one snapshot per file,
//! named after its stem). Review every new or changed snapshot by eye: it must show a specific
//! diagnostic with a correct span.
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root: specs are passed relative to it so that paths in the output are stable.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repository root").to_path_buf()
}

/// Every `specs/err/*.nas`, sorted by name.
fn corpus() -> Vec<String> {
    let dir = root().join("specs/err");
    let mut files: Vec<String> =
        std::fs::read_dir(&dir).expect("specs/err").filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned())).filter(|n| n.ends_with(".nas")).collect();
    files.sort();
    files
}

/// Run `nasc check specs/err/FILE` from the repository root: (exit code, stdout, stderr).
/// A run that takes longer than the limit is killed and fails the test (a hang).
fn check(file: &str) -> (Option<i32>, String, String) {
    let limit = Duration::from_secs(60);
    let mut child = Command::new(env!("CARGO_BIN_EXE_nasc"))
        .args(["check", &format!("specs/err/{file}")])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .env("COLUMNS", "100")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nasc");
    // Drain both pipes on threads so that a large output cannot block the child.
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for nasc") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{file}: `nasc check` did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status.code(), out.join().unwrap_or_default(), err.join().unwrap_or_default())
}

/// The first line of the spec: a `//` comment saying what is wrong.
fn description(file: &str) -> String {
    let text = std::fs::read_to_string(root().join("specs/err").join(file)).expect("spec");
    let first = text.lines().next().unwrap_or("");
    assert!(first.starts_with("//"), "{file}: the first line must be a `//` comment saying what is wrong");
    first.trim_start_matches('/').trim().to_string()
}

fn has_error_code(text: &str) -> bool {
    text.match_indices("[E0").any(|(i, _)| {
        let code = &text.as_bytes()[i + 1..];
        code.len() >= 6 && code[1..5].iter().all(u8::is_ascii_digit) && code[5] == b']'
    })
}

#[test]
fn every_malformed_spec_fails_with_a_snapshotted_diagnostic() {
    let files = corpus();
    assert!(files.len() >= 45, "the corpus has only {} specs", files.len());
    for file in &files {
        let stem = file.trim_end_matches(".nas");
        assert!(stem.len() > 3 && stem.as_bytes()[..2].iter().all(u8::is_ascii_digit) && stem.as_bytes()[2] == b'_', "{file}: corpus files are named `NN_short_description.nas`");
        let about = description(file);
        let (code, stdout, stderr) = check(file);
        let mut shown = stdout;
        if !stderr.is_empty() {
            shown.push_str("--- stderr ---\n");
            shown.push_str(&stderr);
        }
        assert_eq!(code, Some(1), "{file}: `nasc check` must exit with 1, got {code:?}:\n{shown}");
        assert!(has_error_code(&shown), "{file}: no error code `[E0...]` in the output:\n{shown}");
        assert!(!shown.contains("internal parser error"), "{file}: internal error:\n{shown}");
        insta::with_settings!({ description => about, omit_expression => true, prepend_module_to_snapshot => true }, {
            insta::assert_snapshot!(stem, shown);
        });
    }
}

/// Every error code of the grammar and the compiler appears in at least one snapshot, except
/// `E0902` (an unknown `--set` parameter), which needs a command-line override.
#[test]
fn the_corpus_covers_every_error_code() {
    let mut codes = std::collections::BTreeSet::new();
    for dir in ["grammar/src", "compiler/src"] {
        collect_codes(&root().join(dir), &mut codes);
    }
    assert!(codes.len() > 20, "found only {codes:?}");
    let mut seen = String::new();
    for file in corpus() {
        let (_, stdout, stderr) = check(&file);
        seen.push_str(&stdout);
        seen.push_str(&stderr);
    }
    let missing: Vec<&String> = codes.iter().filter(|c| *c != "E0902" && !seen.contains(&format!("[{c}]"))).collect();
    assert!(missing.is_empty(), "error codes with no case in specs/err: {missing:?}");
}

fn collect_codes(dir: &Path, codes: &mut std::collections::BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_codes(&p, codes);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            for (i, _) in text.match_indices("\"E0") {
                let code = &text[i + 1..];
                if code.len() > 6 && code[1..5].bytes().all(|b| b.is_ascii_digit()) && code.as_bytes()[5] == b'"' {
                    codes.insert(code[..5].to_string());
                }
            }
        }
    }
}

//! `nasc search` as a process: killed with SIGKILL or stopped with Ctrl-C (SIGINT) at a known
//! trial count and resumed, it produces the same trial sequence as an uninterrupted run.
mod common;
use nasc_runtime::store::{SqliteStore, StoredRun};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NASC: &str = env!("CARGO_BIN_EXE_nasc");

fn spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/nb201.nas")
}

fn args(store: &Path) -> Vec<String> {
    // regularized evolution on the zero-cost evaluator: fast enough to be killed mid-run
    ["search", spec().to_str().unwrap(), "--strategy", "re", "--evaluator", "instant", "--budget", "120000", "--seed", "7", "--quiet", "--store", store.to_str().unwrap()]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn seq(run: &StoredRun) -> Vec<(u64, u64, String, Option<f64>, f64)> {
    run.trials.iter().map(|t| (t.id, t.seq, t.genotype.clone(), t.reward, t.sim_end)).collect()
}

fn assert_same(a: &StoredRun, b: &StoredRun, ctx: &str) {
    let (x, y) = (seq(a), seq(b));
    if let Some(i) = (0..x.len().min(y.len())).find(|&i| x[i] != y[i]) {
        panic!("{ctx}: sequences differ at {i}: {:?} vs {:?}", x[i], y[i]);
    }
    assert_eq!(x.len(), y.len(), "{ctx}: lengths differ");
}

/// Start a search that holds after the commit reaching `at` trials (`NASC_TEST_HOLD_AFTER_TRIALS`),
/// send it `signal` once the store shows those trials, then resume it to the end. The process is
/// certainly still running when signalled, so the interrupt and the resume are always exercised.
fn interrupted(store: &Path, signal: &str, at: u64) -> (StoredRun, Option<i32>) {
    let mut child = Command::new(NASC).args(args(store)).env("NASC_TEST_HOLD_AFTER_TRIALS", at.to_string()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // the deadline only turns a broken hold into a failure instead of a hang
    let t = Instant::now();
    while !SqliteStore::read(store).is_ok_and(|r| r.trials.len() as u64 >= at) {
        assert!(child.try_wait().unwrap().is_none(), "the search ended before holding at {at} trials");
        assert!(t.elapsed() < Duration::from_secs(120), "no {at} trials in the store after 120 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    let ok = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    let out = child.wait_with_output().unwrap();
    if signal == "-INT" {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("interrupted: stopped cleanly"), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let code = out.status.code();
    let partial = SqliteStore::read(store).unwrap();
    eprintln!("{signal} at {at} trials: {} trials committed, status {}", partial.trials.len(), partial.status);
    assert!(partial.trials.len() as u64 >= at && partial.trials.len() < 120_000, "{} trials", partial.trials.len());
    if signal == "-INT" {
        assert_eq!(partial.status, "stopped");
    }
    let mut resume = args(store);
    resume.push("--resume".into());
    let out = Command::new(NASC).args(&resume).output().unwrap();
    assert!(out.status.success(), "resume failed: {}", String::from_utf8_lossy(&out.stderr));
    (SqliteStore::read(store).unwrap(), code)
}

#[test]
fn killed_or_interrupted_search_resumes_to_the_same_sequence() {
    let dir = std::env::temp_dir().join(format!("nasc-search-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let reference_path = dir.join("reference.db");
    let out = Command::new(NASC).args(args(&reference_path)).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let reference = SqliteStore::read(&reference_path).unwrap();
    assert_eq!(reference.trials.len(), 120_000);
    assert_eq!(reference.status, "finished");

    // fixed trial counts, not moments: the interrupt always lands mid-run (commits come every
    // 4,096 trials or 50 ms, so the count held at is at most 4,095 more)
    let at = 20_000;
    let (killed, code) = interrupted(&dir.join("killed.db"), "-KILL", at);
    assert!(code.is_none(), "SIGKILL leaves no exit code");
    assert_same(&killed, &reference, &format!("kill -9 at {at} trials"));
    assert_eq!(killed.status, "finished");

    let at = 50_000;
    let (stopped, code) = interrupted(&dir.join("stopped.db"), "-INT", at);
    assert_eq!(code, Some(130), "Ctrl-C exits 130");
    assert_same(&stopped, &reference, &format!("Ctrl-C at {at} trials"));

    // the existing store is never overwritten; a foreign spec is refused
    let out = Command::new(NASC).args(args(&reference_path)).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let macro_spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/nas_bench_macro.nas");
    let out = Command::new(NASC).args(["search", macro_spec.to_str().unwrap(), "--resume", "--store", reference_path.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("different spec"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(SqliteStore::read(&reference_path).unwrap().trials.len(), 120_000);

    // report --format json
    let out = Command::new(NASC).args(["report", reference_path.to_str().unwrap(), "--format", "json", "--plots", dir.join("plots").to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["trials"], 120_000);
    assert_eq!(j["status"], "finished");
    assert!(j["best"]["candidate"].as_str().unwrap().starts_with('|'));
    assert!(j["best"]["reward"].as_f64().is_some() && j["best"]["reported"].as_f64().is_some());
    assert!(j["best"]["metrics"].is_object());
    for f in ["best_vs_trials.svg", "best_vs_time.svg"] {
        assert!(std::fs::read_to_string(dir.join("plots").join(f)).unwrap().starts_with("<svg"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `nasc report` reads a run row by row: its peak memory on a 300,000-trial run (plots and
/// JSON) is that on a 10,000-trial one, within a few MB (before the one-pass summary: 1.35 GB at
/// 1M trials).
#[test]
fn report_memory_does_not_grow_with_the_run() {
    let dir = std::env::temp_dir().join(format!("nasc-report-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut peaks = Vec::new();
    for n in [10_000u64, 300_000] {
        let store = dir.join(format!("{n}.db"));
        let out =
            Command::new(NASC).args(["search", spec().to_str().unwrap(), "--strategy", "rs", "--budget", &n.to_string(), "--store", store.to_str().unwrap()]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let plots = dir.join(format!("plots{n}"));
        let child = Command::new(NASC)
            .args(["report", store.to_str().unwrap(), "--format", "json", "--plots", plots.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (kb, status) = peak_rss_reading(child);
        assert!(status.0.success());
        let j: serde_json::Value = serde_json::from_slice(&status.1).unwrap();
        assert_eq!(j["trials"], n);
        assert_eq!(j["top"].as_array().unwrap().len(), 10);
        for f in std::fs::read_dir(&plots).unwrap() {
            let len = f.unwrap().metadata().unwrap().len();
            assert!(len < 200_000, "a plot of {len} bytes");
        }
        eprintln!("nasc report on {n} trials: peak resident memory {kb} kB");
        peaks.push(kb);
    }
    assert!(peaks[1] < peaks[0] + 8 * 1024, "peak memory grew with the run: {peaks:?} kB");
    let _ = std::fs::remove_dir_all(&dir);
}

/// [`common::peak_rss`] of a child whose stdout is piped, read on a thread meanwhile.
fn peak_rss_reading(mut child: std::process::Child) -> (u64, (std::process::ExitStatus, Vec<u8>)) {
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).unwrap();
        v
    });
    let (kb, status) = common::peak_rss(child);
    (kb, (status, reader.join().unwrap()))
}

#[test]
fn default_search_works_out_of_the_box() {
    let dir = std::env::temp_dir().join(format!("nasc-search-default-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(NASC).arg("search").arg(spec()).current_dir(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("budget reached") && text.contains("best: |"), "{text}");
    assert!(dir.join("nasc-runs/nb201-re-s0.db").is_file());
    // a second run gets a new numbered store; --resume picks the latest
    let out = Command::new(NASC).arg("search").arg(spec()).current_dir(&dir).output().unwrap();
    assert!(out.status.success());
    assert!(dir.join("nasc-runs/nb201-re-s0-2.db").is_file());
    let out = Command::new(NASC).arg("search").arg(spec()).arg("--resume").current_dir(&dir).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nb201-re-s0-2.db"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every refusal of a strategy option is a clear message with exit status 2, and no store file
/// is made for it.
#[test]
fn strategy_option_errors() {
    let dir = std::env::temp_dir().join(format!("nasc-search-errors-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("s.db");
    let cases: &[(&[&str], &str)] = &[
        (&["--strategy", "foo"], "unknown strategy `foo`"),
        (&["--strategy-config", "{oops"], "not JSON"),
        (&["--strategy", "re", "--strategy-config", "{\"population\":0}"], "population must be at least 1"),
        (&["--strategy", "re", "--strategy-config", "{\"popsize\":5}"], "bad `re` strategy config"),
        (&["--strategy", "rs", "--population", "10"], "apply to `--strategy re` only"),
        (&["--strategy", "re", "--strategy-config", "{}", "--sample-size", "3"], "not together with --strategy-config"),
        (&["--strategy", "l2nas", "--strategy-config", "{\"tau\":\"x\"}"], "bad `l2nas` strategy config: invalid type"),
        (&["--strategy", "layernas", "--strategy-config", "[1,2]"], "expected a JSON object of the strategy's settings"),
    ];
    for (extra, want) in cases {
        let mut a: Vec<String> = ["search", spec().to_str().unwrap(), "--evaluator", "instant", "--budget", "100", "--quiet", "--store", store.to_str().unwrap()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        let out = Command::new(NASC).args(&a).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(want), "{extra:?}: expected `{want}` in:\n{err}");
        assert!(!err.contains("panicked"), "{extra:?}: {err}");
        assert!(!store.exists(), "{extra:?}: a refused run made a store");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

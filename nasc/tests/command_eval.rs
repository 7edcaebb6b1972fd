//! `nasc search --evaluator command:...` end to end with the stdlib-only Python evaluator
//! (examples/python/evaluator.py): searches with two strategies and a constraint, the trial
//! document and its environment, step values in the store and the report, every failure path
//! (exit 1, a signal, a hang past the timeout, garbage, nothing, NaN, huge output with bounded
//! memory), Ctrl-C and kill -9 then --resume giving the same run, and the reproduce commands of
//! `nasc report` (a `train:` trial retrained exactly on the CPU, a `command:` trial rerun).
mod common;
use common::peak_rss;
use nasc_runtime::store::{spec_hash, SqliteStore, StoredRun};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const NASC: &str = env!("CARGO_BIN_EXE_nasc");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nasc-command-eval-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The Python evaluator in `mode`, as an evaluator string.
fn python(opts: &str, mode: &str) -> String {
    let script = root().join("examples/python/evaluator.py");
    format!("command{opts}:python3 '{}' {mode}", script.display())
}

fn search_args(store: &Path, evaluator: &str, strategy: &str, budget: u32, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["search", "specs/digits_tiny.nas", "--strategy", strategy, "--evaluator", evaluator, "--budget", &budget.to_string(), "--seed", "3", "--quiet"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(["--store".to_string(), store.display().to_string()]);
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn nasc(args: &[String]) -> Output {
    Command::new(NASC).args(args).current_dir(root()).env("RAYON_NUM_THREADS", "2").output().expect("run nasc")
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn report_json(store: &Path) -> Value {
    let out = nasc(&["report".into(), store.display().to_string(), "--format".into(), "json".into(), "--trials".into()]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// The reward evaluator.py gives a network (its `reward_of`).
fn reward_of(graph: &Value) -> f64 {
    let nodes = graph["nodes"].as_array().unwrap();
    let params: f64 = nodes.iter().map(|n| n["params"].as_f64().unwrap()).sum();
    let r = 1.0 - 1.0 / (1.0 + params.ln_1p() / 4.0 + 0.02 * nodes.len() as f64);
    (r * 1e6).round() / 1e6
}

#[test]
fn searches_with_two_strategies_a_constraint_and_workers() {
    let dir = tmp("search");
    let text_sha = spec_hash(&std::fs::read_to_string(root().join("specs/digits_tiny.nas")).unwrap(), &[]);
    let runs = [("rs", &["--constraint", "params<=12000"][..]), ("re", &["--constraint", "params<=12000", "--population", "4"][..]), ("rs", &["--workers", "3"][..])];
    for (i, (strategy, extra)) in runs.into_iter().enumerate() {
        let store = dir.join(format!("{strategy}-{i}.db"));
        let out = nasc(&search_args(&store, &python("", ""), strategy, 7, extra));
        assert!(out.status.success(), "{strategy}: {}", text(&out));
        let run = SqliteStore::read(&store).unwrap();
        assert_eq!(run.trials.len(), 7);
        assert_eq!(run.meta.metric_names, ["params", "flops", "seconds"]);
        let j = report_json(&store);
        let trials = j["all_trials"].as_array().unwrap();
        assert_eq!(trials.len(), 7);
        for (t, tj) in run.trials.iter().zip(trials) {
            assert_eq!(t.status, "ok", "{strategy}: trial {}: {:?}", t.id, t.error);
            let params = t.metrics["params"].as_f64().unwrap();
            if extra.contains(&"--constraint") {
                assert!(params <= 12000.0, "{strategy}: trial {} has {params} params", t.id);
            }
            // the document the child read
            let tdir = dir.join(format!("{strategy}-{i}.trials/{}", t.id));
            let doc = read_json(&tdir.join("trial.json"));
            assert_eq!(doc["trial"], t.id);
            assert_eq!(doc["seed"], nasc_runtime::runner::trial_seed(3, t.id));
            assert_eq!(doc["candidate"], t.name.as_str());
            assert_eq!(doc["graph"]["params"], doc["metrics"]["params"]);
            assert_eq!(doc["metrics"]["params"].as_f64(), Some(params));
            assert_eq!(doc["decisions"].as_object().unwrap().len(), 5);
            assert!(doc["genotype"].as_str().unwrap().contains("tail="), "{doc}");
            assert_eq!(doc["space"]["name"], "digits_tiny");
            assert_eq!(doc["space"]["spec_sha256"], text_sha.as_str());
            assert_eq!(doc["space"]["spec_hash"], run.meta.spec_hash.as_str());
            assert!(tdir.join("log.txt").is_file(), "the child wrote into NASC_TRIAL_DIR");
            // the result and the steps
            let r = reward_of(&doc["graph"]);
            assert_eq!(t.reward, Some(r));
            assert_eq!(t.reported, Some(((r - 0.01) * 1e6).round() / 1e6));
            let extra = t.extra.as_ref().unwrap();
            let steps = extra["steps"].as_array().unwrap();
            assert_eq!(steps.len(), 3);
            assert_eq!(steps[2]["step"], 3);
            assert_eq!(extra["metrics"]["graph_params"].as_f64(), Some(params));
            assert!(t.metrics["seconds"].as_f64().unwrap() > 0.0);
            // and in the report
            assert_eq!(tj["extra"], *extra);
            assert_eq!(tj["seed"], doc["seed"]);
            assert!(tj["reproduce"].as_str().unwrap().contains("trial.json"), "{tj}");
        }
    }
}

/// Search with the evaluator in `mode` (2 trials, `opts` evaluator options), all failed.
fn failed_run(dir: &Path, mode: &str, opts: &str) -> (StoredRun, Value) {
    let store = dir.join(format!("{mode}.db"));
    let out = nasc(&search_args(&store, &python(opts, mode), "rs", 2, &[]));
    assert!(out.status.success(), "{mode}: {}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("2 trials (2 failed)") && stdout.contains("failed trials (2;"), "{mode}: {stdout}");
    let run = SqliteStore::read(&store).unwrap();
    assert_eq!(run.status, "finished");
    assert!(run.trials.iter().all(|t| t.status == "failed" && t.reward.is_none()), "{mode}");
    (run, report_json(&store))
}

/// Processes whose environment names a trial folder under `dir` (what a killed process group
/// must not leave behind).
fn leftovers(dir: &Path) -> Vec<String> {
    let needle = format!("NASC_TRIAL_DIR={}", dir.display());
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(env) = std::fs::read(e.path().join("environ")) else { continue };
        if String::from_utf8_lossy(&env).contains(&needle) {
            v.push(String::from_utf8_lossy(&std::fs::read(e.path().join("cmdline")).unwrap_or_default()).replace('\0', " "));
        }
    }
    v
}

#[test]
fn every_failure_is_recorded_and_the_search_goes_on() {
    let dir = tmp("failures");
    let cases = [
        ("fail", "", &["exit status 1", "stderr:", "CUDA out of memory (pretend)"][..]),
        ("crash", "", &["killed by signal 11 (SIGSEGV)", "about to crash"][..]),
        ("garbage", "", &["no result line", "4 other stdout lines; the last: `reward: 0.9`"][..]),
        ("nothing", "", &["no result line", "stdout was empty"][..]),
        ("nan", "", &["no result line", "`{\"reward\": NaN}`"][..]),
    ];
    for (mode, opts, wants) in cases {
        let (run, j) = failed_run(&dir, mode, opts);
        for t in &run.trials {
            let e = t.error.as_deref().unwrap();
            for w in wants {
                assert!(e.contains(w), "{mode}: `{w}` not in: {e}");
            }
        }
        assert_eq!(j["failures"].as_array().unwrap().len(), 2);
        assert_eq!(j["failures"][0]["error"], run.trials[0].error.as_deref().unwrap());
    }

    // a hang past the timeout: the child and the grandchild holding its stdout are killed; the
    // step printed before the hang is kept with the failed trial
    let t0 = Instant::now();
    let (run, _) = failed_run(&dir, "hang", "[timeout=1]");
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(15), "{took:?}");
    for t in &run.trials {
        assert!(t.error.as_deref().unwrap().starts_with("timed out after 1 s"), "{:?}", t.error);
        assert_eq!(t.extra.as_ref().unwrap()["steps"][0]["value"], 0.1);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(leftovers(&dir), Vec::<String>::new(), "processes of killed trials are still running");

    // failures among successes: the search goes on and the strategy is told
    let store = dir.join("mixed.db");
    let out = nasc(&search_args(&store, &python("", "odd-fails"), "re", 6, &["--population", "2"]));
    assert!(out.status.success(), "{}", text(&out));
    let run = SqliteStore::read(&store).unwrap();
    assert_eq!(run.trials.len(), 6);
    for t in &run.trials {
        assert_eq!(t.status == "ok", t.id % 2 == 0, "trial {}: {:?}", t.id, t.error);
    }
    let report = String::from_utf8(nasc(&["report".into(), store.display().to_string()]).stdout).unwrap();
    assert!(report.contains("6 trials (3 failed)") && report.contains("| exit status 1"), "{report}");
}

/// `--workers 4` on a SQLite store keeps 4 children running at once: 12 trials of 0.4 s take
/// well under half the wall time of 1 worker, and every trial id is finished once.
#[test]
fn workers_run_children_at_once_on_sqlite() {
    let dir = tmp("parallel");
    let mut walls = Vec::new();
    for w in ["1", "4"] {
        let store = dir.join(format!("w{w}.db"));
        let t = Instant::now();
        let out = nasc(&search_args(&store, &python("", "ok --sleep 0.4"), "re", 12, &["--workers", w, "--population", "4"]));
        walls.push(t.elapsed().as_secs_f64());
        assert!(out.status.success(), "{}", text(&out));
        let run = SqliteStore::read(&store).unwrap();
        let mut ids: Vec<u64> = run.trials.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..12).collect::<Vec<u64>>());
        assert!(run.trials.iter().all(|t| t.status == "ok"), "{:?}", run.trials.iter().map(|t| &t.error).collect::<Vec<_>>());
    }
    eprintln!("12 trials of 0.4 s: 1 worker {:.2} s, 4 workers {:.2} s", walls[0], walls[1]);
    assert!(walls[1] < walls[0] / 2.0, "4 workers took {:.2} s, 1 worker {:.2} s", walls[1], walls[0]);
}

#[test]
fn huge_output_keeps_memory_bounded() {
    let dir = tmp("huge");
    let store = dir.join("huge.db");
    let child = Command::new(NASC).args(search_args(&store, &python("", "huge"), "rs", 1, &[])).current_dir(root()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let (peak_kb, status) = peak_rss(child);
    assert!(status.success());
    let run = SqliteStore::read(&store).unwrap();
    let t = &run.trials[0];
    // 30 MB on each stream, an 8 MB line: the result line after them is still found
    assert_eq!(t.status, "ok", "{:?}", t.error);
    let doc = read_json(&dir.join("huge.trials/0/trial.json"));
    assert_eq!(t.reward, Some(reward_of(&doc["graph"])));
    // nasc kept none of it: its peak is that of a small search
    eprintln!("peak resident memory of nasc with 60 MB of child output: {peak_kb} kB");
    assert!(peak_kb > 0 && peak_kb < 48 * 1024, "{peak_kb} kB");
}

/// One trial as compared across runs: id, seq, genotype, reward, error.
type TrialRow = (u64, u64, String, Option<f64>, Option<String>);

fn sequence(run: &StoredRun) -> Vec<TrialRow> {
    run.trials.iter().map(|t| (t.id, t.seq, t.genotype.clone(), t.reward, t.error.clone())).collect()
}

#[test]
fn interrupted_or_killed_search_resumes_to_the_same_run() {
    let dir = tmp("resume");
    // evolution with failures in the mix; each trial takes 0.3 s, so a signal lands in a child
    let ev = python("", "odd-fails --sleep 0.3");
    let args = |store: &Path| search_args(store, &ev, "re", 8, &["--population", "3"]);
    let reference = dir.join("reference.db");
    let out = nasc(&args(&reference));
    assert!(out.status.success(), "{}", text(&out));
    let reference = SqliteStore::read(&reference).unwrap();
    assert_eq!(reference.trials.len(), 8);
    for (signal, after) in [("-INT", 450), ("-KILL", 700), ("-INT", 1100)] {
        let store = dir.join(format!("run{signal}{after}.db"));
        let mut child = Command::new(NASC).args(args(&store)).current_dir(root()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(after));
        assert!(child.try_wait().unwrap().is_none(), "the search ended before {after} ms");
        let ok = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
        assert!(ok.success());
        let t0 = Instant::now();
        let out = child.wait_with_output().unwrap();
        if signal == "-INT" {
            // the running child was stopped at once, not waited for
            assert!(t0.elapsed() < Duration::from_millis(250), "{:?}", t0.elapsed());
            assert!(String::from_utf8_lossy(&out.stdout).contains("interrupted: stopped cleanly"), "{}", text(&out));
            assert_eq!(out.status.code(), Some(130));
            let partial = SqliteStore::read(&store).unwrap();
            assert_eq!(partial.status, "stopped");
            assert!(partial.trials.len() < 8);
            // an interrupted trial is not recorded as failed
            assert!(partial.trials.iter().all(|t| t.status == "ok" || t.id % 2 == 1), "{:?}", sequence(&partial));
        }
        // a resumed run keeps its stored configuration
        let resume: Vec<String> =
            ["search", "specs/digits_tiny.nas", "--resume", "--quiet", "--store"].iter().map(|s| s.to_string()).chain([store.display().to_string()]).collect();
        let out = nasc(&resume);
        assert!(out.status.success(), "{}", text(&out));
        let resumed = SqliteStore::read(&store).unwrap();
        assert_eq!(sequence(&resumed), sequence(&reference), "{signal} after {after} ms");
        assert!(resumed.trials.iter().all(|t| t.extra.is_some() == (t.status == "ok")));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(leftovers(&dir), Vec::<String>::new());
}

/// The words of a reproduce command, as sh splits them.
fn sh_words(cmd: &str) -> Vec<String> {
    let out = Command::new("sh").args(["-c", &format!("set -- {cmd}; for w in \"$@\"; do printf '%s\\0' \"$w\"; done")]).output().unwrap();
    assert!(out.status.success(), "{cmd}");
    String::from_utf8(out.stdout).unwrap().split('\0').filter(|w| !w.is_empty()).map(String::from).collect()
}

#[test]
fn reproduce_commands_give_the_same_results() {
    let dir = tmp("repro");
    // train: the command retrains the trial with its seed: the same accuracies, exactly
    let store = dir.join("train.db");
    let ev = "train:dataset=digits,epochs=1,batch=16,backend=cpu,limit=400,lr=0.05";
    let out = nasc(&search_args(&store, ev, "rs", 2, &["--set", "classes=10"]));
    assert!(out.status.success(), "{}", text(&out));
    let j = report_json(&store);
    for t in j["all_trials"].as_array().unwrap() {
        let cmd = t["reproduce"].as_str().unwrap();
        let seed = t["seed"].as_u64().unwrap();
        assert!(cmd.starts_with("nasc train specs/digits_tiny.nas --candidate ") && cmd.contains(&format!("--seed {seed} ")) && cmd.contains("--set classes=10"), "{cmd}");
        let mut words = sh_words(cmd);
        assert_eq!(words[0], "nasc");
        words.remove(0);
        words.extend(["--format".into(), "json".into()]);
        let out = nasc(&words);
        assert!(out.status.success(), "{cmd}: {}", text(&out));
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        // `nasc train --format json` gives fractions, a search's reward is percent: bit for bit
        let pct = |k: &str| r[k].as_f64().map(|v| 100.0 * v);
        assert_eq!(pct("val_accuracy"), t["reward"].as_f64(), "{cmd}");
        assert_eq!(pct("test_accuracy"), t["reported"].as_f64(), "{cmd}");
        assert_eq!(r["candidate"], t["candidate"]);
    }
    let report = String::from_utf8(nasc(&["report".into(), store.display().to_string()]).stdout).unwrap();
    assert!(report.contains("  reproduce: nasc train specs/digits_tiny.nas --candidate"), "{report}");

    // command: the line, run by sh in the search's folder, prints the trial's result again
    let store = dir.join("cmd.db");
    let out = nasc(&search_args(&store, &python("[timeout=30]", ""), "rs", 2, &[]));
    assert!(out.status.success(), "{}", text(&out));
    let j = report_json(&store);
    assert!(j["run"]["evaluator"].as_str().unwrap().starts_with("command[timeout=30]:python3 "));
    for t in j["all_trials"].as_array().unwrap() {
        let cmd = t["reproduce"].as_str().unwrap();
        let out = Command::new("sh").args(["-c", cmd]).current_dir(root()).output().unwrap();
        assert!(out.status.success(), "{cmd}: {}", text(&out));
        let last: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
        assert_eq!(last["reward"], t["reward"], "{cmd}");
    }
}

#[test]
fn bad_command_evaluators_are_refused_up_front() {
    let dir = tmp("bad");
    for (ev, want) in [
        ("command:", "no program given"),
        ("command:no-such-program-for-nasc --x", "cannot find program `no-such-program-for-nasc` on PATH"),
        ("command[timeout=-1]:python3 x.py", "`timeout=-1`: expected a positive number of seconds"),
        ("command[tiemout=5]:python3 x.py", "has no option `tiemout`"),
        ("command:python3 'x.py", "unterminated single quote"),
    ] {
        let store = dir.join("bad.db");
        let out = nasc(&search_args(&store, ev, "rs", 2, &[]));
        assert_eq!(out.status.code(), Some(2), "{ev}: {}", text(&out));
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains(want), "{ev}: {e}");
        assert!(!store.exists(), "{ev}: a store was made");
    }
}

//! `nasc search --strategy popnas` end to end on `specs/popnas_cell.nas` with the `instant`
//! evaluator (accuracy: a hash; time: the cell's FLOPs): the run grows to B blocks and stops,
//! `nasc report --format json` has the per-step statistics, a run killed by its budget resumes
//! into the same trials, and bad setups are refused before a store is made.
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const NASC: &str = env!("CARGO_BIN_EXE_nasc");
const CONFIG: &str = r#"{"blocks":3,"k":5,"j":2,"ops":["conv_3x3","dconv_3x3","maxpool_2x2"],"predictor":{"folds":2,"epochs":3,"cells":6,"filters":4,"embedding":4}}"#;

fn spec(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs").join(name).display().to_string()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nasc-popnas-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn nasc(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(NASC).args(args).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn report(store: &str) -> Value {
    let (code, out, err) = nasc(&["report", store, "--format", "json", "--trials"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn run(store: &str, budget: &str, resume: bool) -> (i32, String) {
    run_with(store, budget, resume, "1")
}

fn run_with(store: &str, budget: &str, resume: bool, workers: &str) -> (i32, String) {
    let s = spec("popnas_cell.nas");
    let mut a = vec!["search", s.as_str(), "--budget", budget, "--quiet", "--store", store, "--workers", workers];
    if resume {
        a.push("--resume");
    } else {
        a.extend(["--strategy", "popnas", "--strategy-config", CONFIG, "--evaluator", "instant", "--objective", "max:reward,min:flops"]);
    }
    let (code, _, err) = nasc(&a);
    (code, err)
}

#[test]
fn popnas_run_reports_its_steps_and_resumes() {
    let d = tmp("run");
    let whole = d.join("whole.db").display().to_string();
    let (code, err) = run(&whole, "1000", false);
    assert_eq!(code, 0, "{err}");
    let r = report(&whole);
    assert_eq!(r["status"], "exhausted", "the search ends after the step of 3 blocks");
    let p = &r["popnas"];
    assert_eq!(p["finished"], true);
    let steps = p["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    // 3 ops x 2 lookbacks: 6 * 7 / 2 single-block cells, 36 - 21 specular encodings pruned
    assert_eq!((steps[0]["trained"].as_u64(), steps[0]["pruned"].as_u64()), (Some(21), Some(15)));
    for s in &steps[1..] {
        assert!(s["front"].as_u64().unwrap() <= 5, "{s}");
        assert!(s["pruned"].as_u64().unwrap() > 0, "{s}");
        assert!(s["time_spearman"].is_number() && s["acc_spearman"].is_number() && s["time_mape"].is_number(), "{s}");
    }
    assert_eq!(p["trained"].as_u64().unwrap(), r["trials"].as_u64().unwrap());
    assert!(r["pareto"].as_array().is_some_and(|f| !f.is_empty()));
    let (code, text, _) = nasc(&["report", &whole]);
    assert_eq!(code, 0);
    assert!(text.contains("popnas steps") && text.contains("  b=3: "), "{text}");
    // stopped by its budget inside b = 2, then resumed: the same trials
    let part = d.join("part.db").display().to_string();
    assert_eq!(run(&part, "24", false).0, 0);
    let (code, err) = run(&part, "1000", true);
    assert_eq!(code, 0, "{err}");
    let cands = |r: &Value| r["all_trials"].as_array().map(|a| a.iter().map(|t| t["candidate"].clone()).collect::<Vec<_>>());
    let (a, b) = (report(&whole), report(&part));
    assert_eq!(a["trials"], b["trials"]);
    assert_eq!(cands(&a), cands(&b));
    // the same steps (but for the wall seconds the predictors took)
    let steps = |r: &Value| {
        let mut s = r["popnas"]["steps"].clone();
        s.as_array_mut().unwrap().iter_mut().for_each(|x| x["predictor_seconds"] = Value::Null);
        s
    };
    assert_eq!(steps(&a), steps(&b));
}

#[test]
fn bad_popnas_setups_are_refused_before_a_store_is_made() {
    let d = tmp("bad");
    let store = d.join("x.db").display().to_string();
    let cell = spec("popnas_cell.nas");
    let nb201 = spec("nb201.nas");
    for (file, args, want) in [
        (&cell, vec!["--objective", "max:reward"], "mode `popnas` needs two objectives"),
        (&cell, vec!["--objective", "min:flops,max:reward"], "the first objective must be the accuracy"),
        (&cell, vec!["--objective", "max:reward,min:flops", "--strategy-config", r#"{"ops":["conv3x3"]}"#], "unknown op `conv3x3`"),
        (&cell, vec!["--objective", "max:reward,min:flops", "--strategy-config", r#"{"mode":"both"}"#], "`mode` must be `popnas` or `pnas`, not `both`"),
        (&cell, vec!["--objective", "max:reward,min:flops", "--strategy-config", r#"{"blocks":6}"#], "no cell of 6 blocks"),
        (&nb201, vec!["--objective", "max:reward,min:flops"], "has no decision `blocks`"),
    ] {
        let mut a = vec!["search", file.as_str(), "--strategy", "popnas", "--evaluator", "instant", "--budget", "10", "--quiet", "--store", store.as_str()];
        a.extend(args.iter().copied());
        let (code, _, stderr) = nasc(&a);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(!Path::new(&store).exists(), "{args:?} made a store");
    }
    // PNAS mode needs only the accuracy
    let pnas = r#"{"mode":"pnas","blocks":1,"ops":["conv_3x3"]}"#;
    let (code, _, stderr) = nasc(&["search", &cell, "--strategy", "popnas", "--strategy-config", pnas, "--evaluator", "instant", "--quiet", "--store", &store]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report(&store)["trials"], 3);
}

/// With several workers a step's children are evaluated at once and the next step waits for
/// their results: the same steps and the same trained cells as one worker (in another order),
/// and the run ends when the search does, not when a step has fewer children than workers.
#[test]
fn several_workers_run_a_step_at_once() {
    let d = tmp("workers");
    let one = d.join("one.db").display().to_string();
    let four = d.join("four.db").display().to_string();
    assert_eq!(run_with(&one, "1000", false, "1").0, 0);
    let (code, err) = run_with(&four, "1000", false, "4");
    assert_eq!(code, 0, "{err}");
    let (a, b) = (report(&one), report(&four));
    assert_eq!(b["run"]["workers"], 4);
    assert_eq!((a["status"].as_str(), b["status"].as_str()), (Some("exhausted"), Some("exhausted")));
    assert_eq!(a["trials"], b["trials"]);
    let sorted = |r: &Value| {
        let mut c: Vec<String> = r["all_trials"].as_array().unwrap().iter().map(|t| t["candidate"].as_str().unwrap().to_string()).collect();
        c.sort();
        c
    };
    assert_eq!(sorted(&a), sorted(&b));
    assert_eq!(b["popnas"]["steps"].as_array().map(Vec::len), Some(3));
    // four workers take less simulated time than one (a step's children overlap)
    assert!(b["sim_time"].as_f64().unwrap() < a["sim_time"].as_f64().unwrap(), "{} vs {}", b["sim_time"], a["sim_time"]);
}

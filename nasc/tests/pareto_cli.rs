//! Objectives on the command line: `nasc search --objective/--scalarize` (bad names and
//! single-objective strategies refused up front, exit 2, no store made), a multi-objective
//! NSGA-II run on NB201 whose `nasc report --format json` has the Pareto front and hypervolume,
//! the `pareto.svg` plot, and a resumed run that keeps its objectives.
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const NASC: &str = env!("CARGO_BIN_EXE_nasc");

fn spec() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/nb201.nas").display().to_string()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nasc-pareto-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn nasc(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(NASC).args(args).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn bad_objectives_are_refused_before_a_store_is_made() {
    let d = tmp("bad");
    let s = spec();
    let store = d.join("x.db").display().to_string();
    for (args, want) in [
        (
            vec!["--objective", "max:reward,min:flops"],
            "strategy `re` optimizes one objective, and this run has 2 (max:reward, min:flops); use a strategy that handles several objectives (rs, nsga2, popnas), or give `--scalarize`",
        ),
        (vec!["--objective", "max:reward,min:flop", "--strategy", "nsga2"], "unknown objective `flop`"),
        (vec!["--objective", "max:reward,min:flop", "--strategy", "nsga2"], "did you mean `flops`?"),
        (vec!["--objective", "up:reward"], "direction `up` is neither `max` nor `min`"),
        (vec!["--objective", "max:reward", "--objective", "min:flops", "--scalarize", "avg:reward"], "unknown scalarization `avg`"),
        (vec!["--objective", "max:reward,min:flops,min:params", "--scalarize", "cap:flops<=10M"], "2 objectives are left uncapped (`reward`, `params`)"),
        (vec!["--strategy", "nsga2", "--strategy-config", "{\"population\": 1}"], "population must be at least 2"),
    ] {
        let mut a = vec!["search", s.as_str(), "--budget", "10", "--quiet", "--store", store.as_str()];
        a.extend(args.iter().copied());
        let (code, _, stderr) = nasc(&a);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(!Path::new(&store).exists(), "{args:?} made a store");
    }
}

#[test]
fn nsga2_run_reports_its_front_and_resumes_with_its_objectives() {
    let d = tmp("run");
    let s = spec();
    let store = d.join("run.db").display().to_string();
    let (code, _, stderr) = nasc(&["search", &s, "--strategy", "nsga2", "--objective", "max:accuracy,min:flops", "--dedup", "--budget", "150", "--quiet", "--store", &store]);
    assert_eq!(code, 0, "{stderr}");
    // resuming with other objectives is refused; with none given, the stored ones are kept
    let (code, _, stderr) = nasc(&["search", &s, "--resume", "--store", &store, "--objective", "max:accuracy", "--budget", "300", "--quiet"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot change when resuming"), "{stderr}");
    let (code, _, stderr) = nasc(&["search", &s, "--resume", "--store", &store, "--budget", "300", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    let plots = d.join("plots").display().to_string();
    let (code, stdout, stderr) = nasc(&["report", &store, "--format", "json", "--reference", "accuracy=80,flops=222.32M", "--plots", &plots]);
    assert_eq!(code, 0, "{stderr}");
    let j: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["trials"], 300);
    assert_eq!(j["objectives"], serde_json::json!(["max:accuracy", "min:flops"]));
    let front = j["pareto"].as_array().unwrap();
    assert!(front.len() >= 5, "{front:?}");
    let pts: Vec<(f64, f64)> = front.iter().map(|p| (p["objectives"]["accuracy"].as_f64().unwrap(), p["objectives"]["flops"].as_f64().unwrap())).collect();
    for (i, a) in pts.iter().enumerate() {
        for (k, b) in pts.iter().enumerate() {
            assert!(i == k || !(b.0 >= a.0 && b.1 <= a.1 && b != a), "front member {a:?} dominated by {b:?}");
        }
    }
    // the NB201 check's reference point: the true front's hypervolume is 7.885e8
    let hv = j["hypervolume"]["value"].as_f64().unwrap();
    assert!(hv > 0.8 * 7.885e8 && hv <= 7.8853e8, "{hv}");
    assert_eq!(j["hypervolume"]["reference"]["flops"], 222.32e6);
    let svg = std::fs::read_to_string(d.join("plots/pareto.svg")).unwrap();
    assert!(svg.contains("Pareto front") && svg.contains("<path"), "{svg}");
    let (code, text, _) = nasc(&["report", &store]);
    assert_eq!(code, 0);
    assert!(text.contains("objectives: max:accuracy, min:flops") && text.contains(&format!("pareto front: {} trials", front.len())), "{text}");
    // a bad reference point
    let (code, _, stderr) = nasc(&["report", &store, "--reference", "accuracy=80"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("lacks objective `flops`"), "{stderr}");
}

#[test]
fn a_scalarized_run_uses_a_single_objective_strategy() {
    let d = tmp("scalar");
    let s = spec();
    let store = d.join("s.db").display().to_string();
    let (code, _, stderr) =
        nasc(&["search", &s, "--objective", "max:accuracy,min:flops", "--scalarize", "sum:1*accuracy-1e-7*flops", "--budget", "60", "--quiet", "--store", &store]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = nasc(&["report", &store, "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let j: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["scalarize"], "sum:1*accuracy-1e-7*flops");
    assert!(!j["pareto"].as_array().unwrap().is_empty());
}

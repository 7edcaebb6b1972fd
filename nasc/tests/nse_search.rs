//! `nasc search SPEC --strategy nse` end to end on the embedded digits (specs/nse_small.nas at
//! 8x8x1): two rounds into a SQLite store that `nasc report` reads (every evaluated sub-network
//! a trial, the Pareto front of reward and MACs), the round specs written beside it and
//! searchable by another strategy, a run killed after each of its commits and resumed giving
//! the same trials and checkpoint as an uninterrupted run, and every refusal up front.
use nasc_kernels::nse_ckpt;
use nasc_kernels::supernet::{BranchOp, Supernet, SupernetSpec};
use nasc_runtime::store::SqliteStore;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NASC: &str = env!("CARGO_BIN_EXE_nasc");
/// Two short rounds on the digits: tiny, but every part of a round runs.
const CONFIG: &str =
    r#"{"epochs": 1, "batch": 64, "lr": 0.05, "samples": 6, "extra_samples": 2, "recal_batches": 2, "max_rounds": 2, "target": 0.19, "band": 0.06, "extra_band": 0.06}"#;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nasc-nse-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn nasc(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(NASC);
    c.current_dir(root()).args(args).env("XDG_RUNTIME_DIR", std::env::temp_dir()).env("RAYON_NUM_THREADS", "2");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn search(store: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    search_on(store, "train:dataset=digits", extra, env)
}

fn search_on(store: &Path, evaluator: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let s = store.display().to_string();
    let mut args =
        vec!["search", "specs/nse_small.nas", "--set", "side=8", "--set", "channels=1", "--strategy", "nse", "--evaluator", evaluator, "--seed", "4", "--quiet", "--store", &s];
    args.extend(extra);
    nasc(&args, env)
}

/// (name, reward bits, metrics) of every trial, in order.
fn trials(store: &Path) -> Vec<(String, u64, String)> {
    SqliteStore::read(store).unwrap().trials.iter().map(|t| (t.name.clone(), t.reward.unwrap().to_bits(), format!("{:?}", t.metrics))).collect()
}

/// A checkpoint with its timings (wall seconds) zeroed: what a resumed run must reproduce bit
/// for bit (state, weights, statistics, momentum, indicators, Adam).
fn checkpoint(bytes: &[u8]) -> Vec<u8> {
    let dw = |k, t, d| BranchOp::Dw { k, t, d };
    let ssc = |k, t| BranchOp::Ssc { k, t };
    let pool = vec![
        dw(3, 1, 1),
        dw(3, 3, 1),
        dw(5, 1, 1),
        dw(5, 3, 1),
        dw(7, 1, 1),
        dw(7, 3, 1),
        dw(3, 1, 2),
        dw(3, 3, 2),
        dw(3, 1, 3),
        dw(3, 3, 3),
        ssc(3, 1),
        ssc(5, 1),
        ssc(3, 2),
        ssc(5, 2),
        BranchOp::PoolNeck { k: 3, max: false, t: 6 },
        BranchOp::PoolNeck { k: 5, max: true, t: 6 },
    ];
    let spec = SupernetSpec { input: [1, 8, 8], stem: 16, layers: vec![(16, 1), (24, 2), (24, 1), (32, 2), (32, 1)], head: 64, classes: 10, pool };
    let mut net = Supernet::new(spec, vec![vec![]; 5], 0).unwrap();
    let mut state = nse_ckpt::decode(bytes, &mut net).unwrap();
    state.history.iter_mut().for_each(|r| r.seconds = 0.0);
    if let Some(c) = &mut state.cursor {
        c.seconds = 0.0;
    }
    nse_ckpt::encode(&state, &net)
}

#[test]
fn rounds_fill_a_store_that_report_reads_and_write_searchable_round_specs() {
    let d = tmp("run");
    let store = d.join("run.db");
    let o = search(&store, &["--strategy-config", CONFIG, "--format", "json"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rounds = j["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "{j}");
    assert!(j["finished"].as_bool().unwrap());
    // every evaluated sub-network is a trial, with the spec's metrics and the supernet's MACs
    let run = SqliteStore::read(&store).unwrap();
    let evaluated: u64 = rounds.iter().map(|r| r["evaluated"].as_u64().unwrap()).sum();
    assert_eq!(run.trials.len() as u64, evaluated);
    assert!(evaluated >= 8, "{evaluated}");
    assert_eq!(run.meta.strategy, "nse");
    assert_eq!(run.meta.evaluator, "nse:dataset=digits,valid_fraction=0.1");
    let names = &run.meta.metric_names;
    let (fi, mi) = (names.iter().position(|n| n == "flops").unwrap(), names.iter().position(|n| n == "macs").unwrap());
    for t in &run.trials {
        let r = t.reward.unwrap();
        assert!((0.0..=100.0).contains(&r), "{r}");
        // the spec's flops are the supernet's MACs (conv and linear multiply-adds)
        let (flops, macs) = (t.metrics.get(names[fi].as_str()).and_then(Value::as_f64).unwrap(), t.metrics.get(names[mi].as_str()).and_then(Value::as_f64).unwrap());
        assert_eq!(flops, (macs * 1e6).round(), "{}", t.name);
    }
    // the report reads it: two objectives, a Pareto front of trials
    let r = nasc(&["report", &store.display().to_string(), "--format", "json"], &[]);
    assert!(r.status.success(), "{}", text(&r));
    let rep: Value = serde_json::from_slice(&r.stdout).unwrap();
    let front = rep["pareto"]["front"].as_array().or_else(|| rep["pareto"].as_array()).unwrap_or_else(|| panic!("{rep}"));
    assert!(!front.is_empty());
    // the round specs: in the store's folder, and searchable by any strategy
    let specs: Vec<String> = j["round_specs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert!(specs.iter().any(|s| s.ends_with("round-2.nas")), "{specs:?}");
    let r2 = specs.iter().find(|s| s.ends_with("round-2.nas")).unwrap();
    let o = nasc(&["search", r2, "--strategy", "rs", "--evaluator", "instant", "--budget", "5", "--quiet", "--store", &d.join("r2.db").display().to_string()], &[]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_killed_run_resumes_to_the_same_run() {
    let d = tmp("resume");
    let whole = d.join("whole.db");
    let o = search(&whole, &["--strategy-config", CONFIG], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let want = trials(&whole);
    let ckpt = |p: &Path| checkpoint(&SqliteStore::read_blob(p, "nse/checkpoint").unwrap().unwrap());
    // killed after its 1st commit (epoch 1 of round 1), after its 2nd (the end of round 1) and
    // after its 3rd (inside round 2): each time resumed to the end
    for n in ["1", "2", "3"] {
        let store = d.join(format!("cut{n}.db"));
        let o = search(&store, &["--strategy-config", CONFIG], &[("NASC_TEST_EXIT_AFTER_COMMITS", n)]);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o));
        let o = search(&store, &["--resume"], &[]);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(trials(&store), want, "cut after commit {n}");
        assert!(ckpt(&store) == ckpt(&whole), "cut after commit {n}: the checkpoints differ");
    }
    // a finished run resumed stays as it is
    let o = search(&whole, &["--resume"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(trials(&whole), want);
}

#[test]
fn requests_that_cannot_work_are_refused_up_front() {
    let d = tmp("refuse");
    let store = d.join("x.db");
    let s = store.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["search", "specs/nb201.nas", "--strategy", "nse", "--store", &s], "decision `edge[0]` is a `choice`"),
        (vec!["search", "specs/nse_small.nas", "--strategy", "nse", "--store", &s], "try `--set side=8`"),
        (
            vec!["search", "specs/nse_small.nas", "--set", "side=8", "--set", "channels=1", "--strategy", "nse", "--evaluator", "nb201", "--store", &s],
            "--evaluator train:dataset=NAME",
        ),
        (
            vec!["search", "specs/nse_small.nas", "--set", "side=8", "--set", "channels=1", "--strategy", "nse", "--evaluator", "train:epochs=3", "--store", &s],
            "`epochs` is NSE's own setting",
        ),
        (vec!["search", "specs/nse_small.nas", "--set", "side=8", "--set", "channels=1", "--strategy", "nse", "--budget", "5", "--store", &s], "does not take --budget"),
        (
            vec!["search", "specs/nse_small.nas", "--set", "side=8", "--set", "channels=1", "--strategy", "nse", "--strategy-config", r#"{"epoch": 2}"#, "--store", &s],
            "nse has no setting `epoch`",
        ),
        (
            vec!["search", "specs/nse_small.nas", "--set", "side=8", "--set", "channels=1", "--strategy", "nse", "--strategy-config", r#"{"k": 9}"#, "--store", &s],
            "exceeds the spec's subset size (4)",
        ),
        // the paper's 300M MACs target misses this small supernet: refused with a target that fits
        (vec!["search", "specs/nse_small.nas", "--set", "side=8", "--set", "channels=1", "--strategy", "nse", "--store", &s], "misses every sub-network of this supernet"),
        (
            vec!["search", "specs/nse_small.nas", "--set", "side=8", "--set", "channels=1", "--strategy", "nse", "--strategy-config", r#"{"lr": -1}"#, "--store", &s],
            "nse setting `lr` = `-1`",
        ),
    ];
    for (args, want) in cases {
        let o = nasc(&args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(want), "{args:?}: want `{want}` in: {}", text(&o));
        assert!(!store.exists(), "{args:?} made a store");
    }
    // resuming another strategy's store as nse
    let other = d.join("rs.db");
    let o = nasc(
        &[
            "search",
            "specs/nse_small.nas",
            "--set",
            "side=8",
            "--set",
            "channels=1",
            "--strategy",
            "rs",
            "--evaluator",
            "instant",
            "--budget",
            "3",
            "--quiet",
            "--store",
            &other.display().to_string(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = search(&other, &["--resume"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("holds a `rs` run, not an nse run"), "{}", text(&o));
}

/// `backend=wgpu`: the sub-networks on the WGSL kernels (lavapipe in CI; the weight and
/// indicator steps and the evaluations are checked against the CPU ones in
/// kernels/tests/supernet.rs); the run completes into a store like a CPU one.
#[test]
fn the_supernet_runs_on_wgpu() {
    if std::env::var("NASC_SKIP_GPU_TESTS").as_deref() == Ok("1") {
        eprintln!("NASC_SKIP_GPU_TESTS=1: skipping");
        return;
    }
    let d = tmp("wgpu");
    let store = d.join("gpu.db");
    let cfg = r#"{"epochs": 1, "batch": 64, "samples": 4, "extra_samples": 1, "recal_batches": 1, "max_rounds": 1, "target": 0.19, "band": 0.06, "extra_band": 0.06}"#;
    let o = search_on(&store, "train:dataset=digits,limit=256,backend=wgpu", &["--strategy-config", cfg], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let run = SqliteStore::read(&store).unwrap();
    assert!(run.trials.len() >= 4, "{} trials", run.trials.len());
    assert!(run.trials.iter().all(|t| t.reward.is_some_and(|r| (0.0..=100.0).contains(&r))));
}

//! `nasc search --evaluator train:...`: real training as a search's evaluator. A short run on the
//! embedded digits finishes with a sane report; a trial whose loss becomes infinite is recorded
//! as failed and the search goes on; bad options are explained; a run resumes with its stored
//! evaluator.
use nasc_runtime::store::SqliteStore;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NASC: &str = env!("CARGO_BIN_EXE_nasc");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nasc-train-search-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn nasc(args: &[&str]) -> Output {
    Command::new(NASC).args(args).current_dir(root()).env("RAYON_NUM_THREADS", "2").output().expect("run nasc")
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn search_with_the_train_evaluator_on_digits() {
    let dir = tmp("digits");
    let store = dir.join("run.db");
    let ev = "train:dataset=digits,epochs=2,batch=32,backend=cpu";
    let out = nasc(&[
        "search",
        "specs/digits_tiny.nas",
        "--strategy",
        "rs",
        "--evaluator",
        ev,
        "--budget",
        "3",
        "--seed",
        "1",
        "--quiet",
        "--format",
        "json",
        "--store",
        store.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(j["trials"], 3, "{j}");
    assert_eq!(j["failed"], 0, "{j}");
    let best = &j["best"];
    let (reward, reported) = (best["reward"].as_f64().unwrap(), best["reported"].as_f64().unwrap());
    // one accuracy scale (percent), labelled in the report
    assert_eq!(j["reward_is"], "digits validation accuracy (held-out split), %", "{j}");
    assert_eq!(j["reported_is"], "digits test accuracy, %", "{j}");
    // 2 epochs on the digits: well above chance (10%) on both splits
    assert!(reward > 50.0 && reward <= 100.0, "validation accuracy {reward}%");
    assert!(reported > 50.0 && reported <= 100.0, "test accuracy {reported}%");
    let m = &best["metrics"];
    let secs = m["train_seconds"].as_f64().unwrap();
    assert!(secs > 0.0, "{m}");
    // the time in units of the speed probe: many probes' worth (a probe takes well under a
    // millisecond on any machine that trains this in seconds)
    let probes = m["train_probes"].as_f64().unwrap();
    assert!(probes.is_finite() && probes > 10.0, "{m}");
    assert!(m["images_per_s"].as_f64().unwrap() > 0.0, "{m}");
    assert!(m["params"].as_f64().unwrap() > 0.0, "{m}");
    let run = SqliteStore::read(&store).unwrap();
    assert_eq!(run.meta.evaluator, "train:dataset=digits,epochs=2,batch=32,backend=cpu,valid_fraction=0.1,optimizer=sgd");
    assert!(run.meta.metric_names.iter().any(|n| n == "test_loss"));
    // the simulated clock advanced by the trials' wall seconds
    assert!(run.trials.iter().all(|t| t.reward.is_some() && t.sim_end > t.sim_start), "{:?}", run.trials.iter().map(|t| (t.sim_start, t.sim_end)).collect::<Vec<_>>());

    // resuming with a larger budget keeps the stored evaluator (the same options spelled
    // differently are accepted; different ones are refused)
    let out = nasc(&[
        "search",
        "specs/digits_tiny.nas",
        "--resume",
        "--store",
        store.to_str().unwrap(),
        "--budget",
        "4",
        "--quiet",
        "--evaluator",
        "train:backend=cpu,epochs=2,dataset=digits",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(SqliteStore::read(&store).unwrap().trials.len(), 4);
    let out = nasc(&[
        "search",
        "specs/digits_tiny.nas",
        "--resume",
        "--store",
        store.to_str().unwrap(),
        "--budget",
        "5",
        "--quiet",
        "--evaluator",
        "train:dataset=digits,epochs=3,backend=cpu",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("differs from the stored run's train:dataset=digits,epochs=2"), "{}", text(&out));

    // text report
    let out = nasc(&["report", store.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("4 trials (0 failed)") && t.contains("images_per_s"), "{t}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A space where one option doubles the features 140 times: its activations overflow f32 and
/// its loss is infinite at the first step, whatever the learning rate.
const OVERFLOW_SPEC: &str = "space overflow_mix;
param classes = 10;
param side = 8;
input [1, side, side];
block tame(x) = identity(x);
block wild(x) {
  let y = x;
  for i in 0..140 { y = y + y; }
  return y;
}
choice width in [4, 8] default 4;
choice head in [tame, wild] default tame;
network {
  let x = input |> conv(width, 3) |> bn |> relu |> head;
  return x |> gap |> linear(classes);
}
metric params;
metric accuracy = external;
maximize accuracy;
";

#[test]
fn a_diverging_trial_fails_and_the_search_goes_on() {
    let dir = tmp("nan");
    let spec = dir.join("overflow.nas");
    std::fs::write(&spec, OVERFLOW_SPEC).unwrap();
    let store = dir.join("run.db");
    let out = nasc(&[
        "search",
        spec.to_str().unwrap(),
        "--strategy",
        "rs",
        "--evaluator",
        "train:dataset=digits,epochs=1,backend=cpu,limit=256",
        "--budget",
        "8",
        "--seed",
        "3",
        "--quiet",
        "--format",
        "json",
        "--store",
        store.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(j["trials"], 8, "{j}");
    let run = SqliteStore::read(&store).unwrap();
    let (failed, ok): (Vec<_>, Vec<_>) = run.trials.iter().partition(|t| t.status != "ok");
    assert!(!failed.is_empty() && !ok.is_empty(), "want both failed and finished trials: {:?}", run.trials.iter().map(|t| (&t.genotype, &t.status)).collect::<Vec<_>>());
    assert_eq!(j["failed"].as_u64().unwrap() as usize, failed.len());
    for t in &failed {
        let e = t.error.as_deref().unwrap_or("");
        assert!(e.contains("training failed") && e.contains("training diverged"), "{e}");
        assert!(t.reward.is_none());
    }
    // every failed trial is the overflowing option, every finished one the tame one
    let space_text = std::fs::read_to_string(&spec).unwrap();
    assert!(space_text.contains("wild"));
    for t in &ok {
        assert!(t.reward.unwrap() > 0.0);
    }
    let best = j["best"]["reward"].as_f64().unwrap();
    assert!(best > 0.1, "{best}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_absurd_learning_rate_fails_every_trial_but_the_run_finishes() {
    let dir = tmp("lr");
    let store = dir.join("run.db");
    let out = nasc(&[
        "search",
        "specs/digits_tiny.nas",
        "--strategy",
        "rs",
        "--evaluator",
        "train:dataset=digits,epochs=1,backend=cpu,lr=1e30,limit=256",
        "--budget",
        "3",
        "--quiet",
        "--store",
        store.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("budget reached") && t.contains("3 trials (3 failed)"), "{}", text(&out));
    let run = SqliteStore::read(&store).unwrap();
    assert!(run.trials.iter().all(|t| t.error.as_deref().is_some_and(|e| e.contains("training diverged"))), "{:?}", run.trials.iter().map(|t| &t.error).collect::<Vec<_>>());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes a small MNIST-layout IDX folder of 12x12 grey images (an input-shape mismatch).
fn idx_folder(dir: &Path) -> PathBuf {
    let d = dir.join("idx12");
    std::fs::create_dir_all(&d).unwrap();
    let images = |n: u32| {
        let mut b = vec![0, 0, 8, 3];
        for v in [n, 12, 12] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend((0..n * 144).map(|i| (i * 7 % 256) as u8));
        b
    };
    let labels = |n: u32| {
        let mut b = vec![0, 0, 8, 1];
        b.extend_from_slice(&n.to_be_bytes());
        b.extend((0..n).map(|i| (i % 10) as u8));
        b
    };
    std::fs::write(d.join("train-images-idx3-ubyte"), images(40)).unwrap();
    std::fs::write(d.join("train-labels-idx1-ubyte"), labels(40)).unwrap();
    std::fs::write(d.join("t10k-images-idx3-ubyte"), images(10)).unwrap();
    std::fs::write(d.join("t10k-labels-idx1-ubyte"), labels(10)).unwrap();
    d
}

#[test]
fn bad_train_options_are_explained() {
    let dir = tmp("opts");
    let idx = idx_folder(&dir);
    for (ev, want) in [
        ("train:epochs=0", "option `epochs=0`: expected a positive integer"),
        ("train:backend=tpu", "option `backend=tpu`: expected cpu, wgpu or auto"),
        ("train:valid_fraction=2", "option `valid_fraction=2`"),
        ("train:lr=abc", "option `lr=abc`: expected a positive number"),
        ("train:epoch=1", "evaluator `train` has no option `epoch`"),
        ("train:dataset=no-such-dataset", "unknown dataset `no-such-dataset`"),
        ("train:dataset=IDX,backend=cpu", "try `--set side=12`"),
        ("trian:dataset=digits", "unknown evaluator `trian` (known: nb201, nas-bench-macro, channel-bench-macro-mobilenet, channel-bench-macro-resnet, instant, train)"),
    ] {
        let ev = ev.replace("IDX", idx.to_str().unwrap());
        let store = dir.join("x.db");
        let _ = std::fs::remove_file(&store);
        let out = Command::new(NASC)
            .args(["search", "specs/digits_tiny.nas", "--evaluator", &ev, "--budget", "1", "--quiet", "--store", store.to_str().unwrap()])
            .current_dir(root())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{ev}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{ev}: want `{want}` in {err}");
        assert!(!store.exists(), "{ev}: a store was created");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 14: a search whose network has more outputs than the dataset has classes is refused up
/// front (it trained 1000 outputs on 10 classes), naming the `--set` to use; so is a dataset
/// without test images.
#[test]
fn class_mismatch_and_empty_test_set_are_refused_up_front() {
    let dir = tmp("fit");
    let idx = idx_folder(&dir);
    let empty = |n: u32, magic: u8, dims: &[u32]| {
        let mut b = vec![0, 0, 8, magic];
        b.extend_from_slice(&n.to_be_bytes());
        for d in dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    };
    std::fs::write(idx.join("t10k-images-idx3-ubyte"), empty(0, 3, &[12, 12])).unwrap();
    std::fs::write(idx.join("t10k-labels-idx1-ubyte"), empty(0, 1, &[])).unwrap();
    let idx_ev = format!("train:dataset={},backend=cpu", idx.display());
    for (spec, sets, ev, want) in [
        ("specs/ofa_mbv3.nas", vec!["--set", "side=8"], "train:dataset=digits,backend=cpu", "the network has 1000 outputs but `digits` has 10 classes (try `--set classes=10`)"),
        ("specs/digits_tiny.nas", vec!["--set", "side=12"], idx_ev.as_str(), "has no test images"),
    ] {
        let store = dir.join("x.db");
        let mut args = vec!["search", spec, "--evaluator", ev, "--budget", "1", "--quiet", "--store", store.to_str().unwrap()];
        args.extend(sets);
        let out = nasc(&args);
        assert_eq!(out.status.code(), Some(2), "{spec}: {}", text(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains(want), "{spec}: want `{want}` in {}", text(&out));
        assert!(!store.exists(), "{spec}: a store was created");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--time-budget` with a training evaluator counts wall seconds of evaluation: the trial that
/// passes the budget was really trained, so it is kept (not dropped as a benchmark's simulated
/// trial would be), the run stops after it, and the report says "wall", not "simulated".
#[test]
fn a_time_budget_keeps_the_trial_that_passes_it() {
    let dir = tmp("time");
    let store = dir.join("run.db");
    let out = nasc(&[
        "search",
        "specs/digits_tiny.nas",
        "--evaluator",
        "train:dataset=digits,epochs=1,backend=cpu,limit=300",
        "--time-budget",
        "0.05",
        "--quiet",
        "--format",
        "json",
        "--store",
        store.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["clock"], "wall", "{j}");
    // the run's clock ends past the budget: the trial that passed it is recorded (a simulated
    // clock never ends past its budget)
    assert!(j["trials"].as_u64().unwrap() >= 1 && j["failed"] == 0, "{j}");
    assert!(j["sim_time"].as_f64().unwrap() > 0.05, "{j}");
    let rep = nasc(&["report", store.to_str().unwrap()]);
    let t = text(&rep);
    assert!(t.contains("budget 0.05 s of evaluation (wall clock), evaluation time"), "{t}");
    assert!(!t.contains("simulated"), "{t}");
    let _ = std::fs::remove_dir_all(&dir);
}

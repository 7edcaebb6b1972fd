//! `nasc train` end to end: the README quickstart on the embedded digits, JSON output, and the
//! input-shape error.
use std::process::Command;

fn nasc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nasc"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("run nasc")
}

#[test]
fn quickstart_trains_digits_tiny_to_json() {
    let out = nasc(&["train", "specs/digits_tiny.nas", "--dataset", "digits", "--epochs", "3", "--backend", "cpu", "--format", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().last().expect("a JSON line");
    let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
    let acc = v["test_accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc));
    assert!(acc > 0.8, "test accuracy {acc} after 3 epochs");
    assert!(v["images_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(v["backend"], "cpu");
    assert_eq!(v["history"].as_array().unwrap().len(), 3);
}

#[test]
fn named_candidate_text_output() {
    // the canonical name of a non-default candidate, from `nasc sample`
    let s = nasc(&["sample", "specs/digits_tiny.nas", "-n", "1", "--seed", "4"]);
    let name = String::from_utf8_lossy(&s.stdout).lines().next().unwrap().split('\t').next().unwrap().to_string();
    let out = nasc(&["train", "specs/digits_tiny.nas", "--candidate", &name, "--epochs", "1", "--backend", "cpu", "--limit", "300"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("epoch 1/1") && stdout.contains("test accuracy"), "{stdout}");
}

#[test]
fn input_shape_mismatch_is_explained() {
    let out = nasc(&["train", "specs/digits_tiny.nas", "--set", "side=16", "--epochs", "1", "--backend", "cpu"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[1, 16, 16]") && err.contains("--set side=8"), "{err}");
}

/// A zoo network (NAS-Bench-201, the best CIFAR-10 cell, made small with `--set`) trained on a
/// real dataset learns: test accuracy well above chance (10%).
#[test]
fn nb201_cell_learns_digits() {
    let arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
    let out = nasc(&[
        "train", "specs/nb201.nas", "--candidate", arch, "--dataset", "digits", "--set", "side=8", "--set", "C=8", "--set", "N=1", "--epochs", "3",
        "--backend", "cpu", "--format", "json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let acc = v["test_accuracy"].as_f64().unwrap();
    eprintln!("nb201 (C=8, N=1) on digits, 3 epochs: test accuracy {acc}, {} img/s", v["images_per_s"]);
    assert!(acc > 0.5, "test accuracy {acc}");
}

#[test]
fn diverging_trial_fails_cleanly() {
    let out = nasc(&["train", "specs/digits_tiny.nas", "--lr", "1e30", "--backend", "cpu", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(v["status"], "failed");
    assert!(v["error"].as_str().unwrap().contains("diverged"));
}

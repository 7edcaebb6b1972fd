//! `nasc train` end to end: the README quickstart on the embedded digits, JSON output, and the
//! input-shape error.
use std::process::Command;

fn nasc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nasc")).args(args).current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).output().expect("run nasc")
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
        "train",
        "specs/nb201.nas",
        "--candidate",
        arch,
        "--dataset",
        "digits",
        "--set",
        "side=8",
        "--set",
        "C=8",
        "--set",
        "N=1",
        "--epochs",
        "3",
        "--backend",
        "cpu",
        "--format",
        "json",
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

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("nasc-train-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An MNIST-layout IDX folder of 8x8 grey images, labels 0..9, with `test` test images.
fn idx_folder(dir: &std::path::Path, train: u32, test: u32) -> std::path::PathBuf {
    let images = |n: u32| {
        let mut b = vec![0, 0, 8, 3];
        for v in [n, 8, 8] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend((0..n * 64).map(|i| (i * 7 % 256) as u8));
        b
    };
    let labels = |n: u32| {
        let mut b = vec![0, 0, 8, 1];
        b.extend_from_slice(&n.to_be_bytes());
        b.extend((0..n).map(|i| (i % 10) as u8));
        b
    };
    std::fs::write(dir.join("train-images-idx3-ubyte"), images(train)).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), labels(train)).unwrap();
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), images(test)).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), labels(test)).unwrap();
    dir.to_path_buf()
}

/// A CIFAR-10 binary folder (3x32x32, labels 0..9) of `n` training and `n` test images.
fn cifar_folder(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let rec = |i: usize| {
        let mut r = vec![(i % 10) as u8];
        r.extend((0..3072).map(|j| ((i * 31 + j * 7) % 256) as u8));
        r
    };
    let all: Vec<u8> = (0..n).flat_map(rec).collect();
    std::fs::write(dir.join("data_batch_1.bin"), &all).unwrap();
    std::fs::write(dir.join("test_batch.bin"), &all).unwrap();
    dir.to_path_buf()
}

/// Issue 14: the MobileNetV3-style space ends with k=7 depthwise convs on 1x1/2x2 maps once its
/// side adapts to the 8x8 digits (that panicked in the CPU depthwise kernel); its 1000 classes
/// adapt to the dataset's 10 as its side does, noted on stderr and listed in the JSON.
#[test]
fn ofa_mbv3_trains_on_digits_with_side_and_classes_adapted() {
    let out = nasc(&["train", "specs/ofa_mbv3.nas", "--set", "classes=10", "--dataset", "digits", "--limit", "64", "--backend", "cpu"]);
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("test accuracy"));
    assert!(stderr(&out).contains("note: using `--set side=8`"), "{}", stderr(&out));
    // without `--set classes`: adapted
    let out = nasc(&["train", "specs/ofa_mbv3.nas", "--dataset", "digits", "--limit", "64", "--backend", "cpu", "--format", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(v["adapted"], serde_json::json!({"side": 8, "classes": 10}), "{v}");
    assert_eq!(v["status"], "ok");
}

/// A class count the user set, or a literal one, that does not match the dataset is refused up
/// front and the error names `--set classes=10`.
#[test]
fn wrong_class_count_is_refused_with_the_set_to_use() {
    let out = nasc(&["train", "specs/ofa_mbv3.nas", "--set", "classes=1000", "--dataset", "digits", "--limit", "64", "--backend", "cpu"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("the network has 1000 outputs but `digits` has 10 classes (try `--set classes=10`)"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("epoch"), "training started");
    let dir = tmp("literal-classes");
    let spec = dir.join("lit.nas");
    std::fs::write(&spec, "input [1, 8, 8];\nnetwork {\n  return input |> conv(4, 3) |> gap |> linear(1000);\n}\n").unwrap();
    let out = nasc(&["train", spec.to_str().unwrap(), "--dataset", "digits", "--backend", "cpu"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("1000 outputs") && err.contains("declare `param classes = 1000;`") && err.contains("`--set classes=10`"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Input channels: a parameter adapts to a colour dataset; a literal one is an error that says
/// how to make it a parameter. (Grey images on a colour network are replicated, as before.)
#[test]
fn input_channels_adapt_when_a_parameter_else_error() {
    let dir = tmp("channels");
    let data = cifar_folder(&dir, 40);
    let spec = dir.join("ch.nas");
    let text = "param ch = 1;\nparam side = 8;\nparam classes = 10;\ninput [ch, side, side];\nnetwork {\n  return input |> conv(4, 3) |> gap |> linear(classes);\n}\n";
    std::fs::write(&spec, text).unwrap();
    let out = nasc(&["train", spec.to_str().unwrap(), "--dataset", data.to_str().unwrap(), "--backend", "cpu", "--format", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(v["adapted"], serde_json::json!({"side": 32, "ch": 3}), "{v}");
    let out = nasc(&["train", "specs/digits_tiny.nas", "--dataset", data.to_str().unwrap(), "--backend", "cpu"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("is [1, 32, 32] but") && err.contains("declare `param channels = 1;`") && err.contains("`--set channels=3`"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 14: hyper-parameters no training can use are refused before anything runs.
#[test]
fn bad_hyper_parameters_are_refused() {
    for (flag, value, want) in [
        ("--lr", "nan", "`--lr NaN`: expected a positive finite number"),
        ("--lr", "inf", "`--lr inf`: expected a positive finite number"),
        ("--lr", "0", "`--lr 0`: expected a positive finite number"),
        ("--lr", "-0.1", "`--lr -0.1`: expected a positive finite number"),
        ("--epochs", "0", "`--epochs 0`: expected at least 1"),
        ("--batch", "0", "`--batch 0`: expected at least 1"),
        ("--val-fraction", "1", "`--val-fraction 1`: expected a number in [0, 1)"),
        ("--val-fraction", "nan", "`--val-fraction NaN`: expected a number in [0, 1)"),
        ("--limit", "0", "`--limit 0`: expected at least 1 training image"),
    ] {
        let out = nasc(&["train", "specs/digits_tiny.nas", "--backend", "cpu", &format!("{flag}={value}")]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{flag} {value}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{flag} {value}: {}", String::from_utf8_lossy(&out.stdout));
    }
    let out = nasc(&["train", "specs/digits_tiny.nas", "--backend", "cpu", "--lr", "nan", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(v["status"], "error");
}

/// Issue 14: a dataset without test images printed `test accuracy NaN%` and exited 0.
#[test]
fn empty_test_set_is_refused() {
    let dir = tmp("no-test");
    let data = idx_folder(&dir, 40, 0);
    let out = nasc(&["train", "specs/digits_tiny.nas", "--dataset", data.to_str().unwrap(), "--backend", "cpu"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("has no test images"), "{}", stderr(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("NaN"));
    // the same folder with test images trains
    let data = idx_folder(&dir, 40, 10);
    let out = nasc(&["train", "specs/digits_tiny.nas", "--dataset", data.to_str().unwrap(), "--backend", "cpu"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

//! `nasc export`, `nasc infer` and `nasc train --save` end to end. The ONNX models are checked
//! with onnxruntime (Python; `.ci/run` installs it into a venv and sets `NASC_ONNX_PYTHON`):
//! on sampled candidates of every spec in specs/ its output equals nasc's CPU forward in eval
//! mode, and a model trained on the embedded digits gives the accuracy `nasc train` reported.
//! Without onnxruntime those tests fail with how to install it, unless
//! `NASC_SKIP_ONNX_TESTS=1`.
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../src/export/onnx_pb.rs"]
#[allow(dead_code)]
mod onnx_pb;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn nasc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nasc")).args(args).current_dir(root()).output().expect("run nasc")
}

fn ok(args: &[&str]) -> String {
    let o = nasc(args);
    assert!(o.status.success(), "nasc {}: {}{}", args.join(" "), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr of a failing run (exit code `code`).
fn err(args: &[&str], code: i32) -> String {
    let o = nasc(args);
    let e = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(code), "nasc {}: {e}", args.join(" "));
    e
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nasc-export-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A Python with onnxruntime and numpy, `None` when `NASC_SKIP_ONNX_TESTS=1` and there is none;
/// else the test fails saying how to get one.
fn python() -> Option<String> {
    let works = |py: &str| Command::new(py).args(["-c", "import onnxruntime, numpy"]).output().is_ok_and(|o| o.status.success());
    if let Ok(py) = std::env::var("NASC_ONNX_PYTHON") {
        assert!(works(&py), "NASC_ONNX_PYTHON={py} cannot import onnxruntime and numpy: install them (`{py} -m pip install onnxruntime numpy`)");
        return Some(py);
    }
    if works("python3") {
        return Some("python3".into());
    }
    if std::env::var("NASC_SKIP_ONNX_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("skipped: no onnxruntime (NASC_SKIP_ONNX_TESTS=1)");
        return None;
    }
    panic!(
        "the ONNX export tests need onnxruntime: `python3 -m venv target/ci-venv && target/ci-venv/bin/pip install onnxruntime numpy`, then run with \
         NASC_ONNX_PYTHON=target/ci-venv/bin/python (.ci/run does this); or set NASC_SKIP_ONNX_TESTS=1 to skip them"
    );
}

/// Runs each `[model, input, reference]` case in onnxruntime: per case the max abs difference
/// between its `logits` and the reference and the reference's max abs value.
const COMPARE: &str = r#"
import json, sys
import numpy as np, onnxruntime as ort
out = []
for model, x, ref in json.load(open(sys.argv[1])):
    so = ort.SessionOptions()
    so.log_severity_level = 3
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    assert [i.name for i in s.get_inputs()] == ["input"] and [o.name for o in s.get_outputs()] == ["logits"]
    assert s.get_inputs()[0].shape[0] == "N", s.get_inputs()[0].shape
    y = s.run(["logits"], {"input": np.load(x)})[0]
    r = np.load(ref)
    assert y.shape == r.shape, (y.shape, r.shape)
    out.append([float(np.abs(y - r).max()), float(np.abs(r).max())])
print(json.dumps(out))
"#;

/// Accuracy of a model on `x.npy` with labels `y.npy` in onnxruntime: `[correct, total]`
/// (ties go to the first maximum, as nasc's evaluation does).
const ACCURACY: &str = r#"
import json, sys
import numpy as np, onnxruntime as ort
model, x, labels = sys.argv[1:4]
so = ort.SessionOptions()
so.log_severity_level = 3
s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
y = s.run(["logits"], {"input": np.load(x)})[0]
l = np.load(labels).astype(np.int64)
print(json.dumps([int((y.argmax(axis=1) == l).sum()), int(l.shape[0])]))
"#;

fn run_py(py: &str, script: &str, args: &[&str]) -> Value {
    let o = Command::new(py).arg("-c").arg(script).args(args).output().expect("run python");
    assert!(o.status.success(), "python: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("python printed {:?}: {e}", String::from_utf8_lossy(&o.stdout)))
}

/// A float32 `.npy` file.
fn write_npy(path: &Path, shape: &[usize], data: &[f32]) {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut h = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}", dims.join(", "));
    while (h.len() + 11) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h.as_bytes());
    b.extend(data.iter().flat_map(|x| x.to_le_bytes()));
    std::fs::write(path, b).unwrap();
}

/// Deterministic normal-ish inputs (sum of uniforms), splitmix64.
fn random_inputs(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    let mut next = || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    };
    (0..n).map(|_| (next() + next() + next() - 1.5) * 2.0).collect()
}

/// Metrics of candidates (`nasc metrics`), one JSON object each.
fn metrics(spec: &str, sets: &[String], names: &[String]) -> Vec<Value> {
    let mut args: Vec<&str> = vec!["metrics", spec];
    for s in sets {
        args.extend(["--set", s]);
    }
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_nasc")).args(&args).current_dir(root()).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(names.join("\n").as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Trainable elements among an ONNX model's initializers (`n{i}.*` but the running statistics).
fn onnx_trainable(path: &Path) -> (u64, onnx_pb::ModelProto) {
    use prost::Message;
    let m = onnx_pb::ModelProto::decode(std::fs::read(path).unwrap().as_slice()).expect("a valid ONNX protobuf");
    let g = m.graph.as_ref().unwrap();
    let n = g.initializer.iter().filter(|t| t.name.starts_with('n') && !t.name.contains(".running_")).map(|t| t.dims.iter().product::<i64>() as u64).sum();
    (n, m)
}

/// Per-image forward MACs above which a candidate runs at a smaller `side` (when its spec has
/// one) or on one image; above `TOO_HEAVY` without a `side` it is skipped.
const HEAVY: f64 = 300e6;
const TOO_HEAVY: f64 = 2.5e9;

/// Rewrites a weights file with every tensor perturbed (BN statistics and affine parameters far
/// from their initial identity, conv/linear weights scaled up), so the check sees every tensor.
fn perturb(path: &Path, seed: u64) {
    use safetensors::tensor::{Dtype, SafeTensors, TensorView};
    let bytes = std::fs::read(path).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut out: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (k, (name, t)) in st.tensors().into_iter().enumerate() {
        let v: Vec<f32> = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let r = random_inputs(v.len(), seed * 7919 + k as u64);
        let w: Vec<f32> = v
            .iter()
            .zip(&r)
            .map(|(&x, &u)| match name.rsplit('.').next().unwrap() {
                "running_var" => 0.5 + u.abs(),
                "running_mean" | "bias" => 0.3 * u,
                _ if name.ends_with("bn.weight") => 1.0 + 0.3 * u,
                _ => 1.5 * x,
            })
            .collect();
        out.push((name, t.shape().to_vec(), w.iter().flat_map(|x| x.to_le_bytes()).collect()));
    }
    let views: Vec<(String, TensorView)> = out.iter().map(|(n, s, b)| (n.clone(), TensorView::new(Dtype::F32, s.clone(), b).unwrap())).collect();
    std::fs::write(path, safetensors::tensor::serialize(views, header.metadata().clone()).unwrap()).unwrap();
}

#[test]
fn onnx_matches_the_cpu_forward_on_every_spec() {
    let Some(py) = python() else { return };
    let dir = tmp("zoo");
    let mut specs: Vec<String> =
        std::fs::read_dir(root().join("specs")).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.ends_with(".nas")).collect();
    specs.sort();
    // tensor products, squeeze-excite's activation and gate, dropout
    specs.push("repro/06_tensor_gates.nas".into());
    let (mut cases, mut skipped, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for file in &specs {
        let spec = format!("specs/{file}");
        let stem = file.trim_end_matches(".nas").replace('/', "_");
        let stem = stem.as_str();
        let text = std::fs::read_to_string(root().join(&spec)).unwrap();
        let has_side = text.lines().any(|l| l.trim_start().starts_with("param side"));
        let sample: Vec<String> = ok(&["sample", &spec, "-n", "2", "--seed", "11", "--format", "json"])
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["candidate"].as_str().unwrap().to_string())
            .collect();
        let mut names = vec![None];
        names.extend(sample.into_iter().map(Some));
        names.dedup();
        for (k, name) in names.iter().enumerate() {
            let cand_args: Vec<&str> = name.as_deref().map(|n| vec!["--candidate", n]).unwrap_or_default();
            // the candidate's cost (the default's: through `export --format json`)
            let doc: Value = {
                let out = dir.join(format!("{stem}-{k}.json"));
                let mut a = vec!["export", &spec, "--format", "json", "--out", out.to_str().unwrap()];
                a.extend(&cand_args);
                ok(&a);
                serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
            };
            let genotype = doc["genotype"].as_str().unwrap().to_string();
            let m = &metrics(&spec, &[], std::slice::from_ref(&genotype))[0];
            let flops = m["flops"].as_f64().unwrap();
            // the torchvision anchors run at full size, one image; heavy candidates at a smaller side
            let anchor = matches!(stem, "resnet18" | "mobilenet_v3_large");
            let mut sets: Vec<String> = Vec::new();
            let mut n = 2;
            if flops > HEAVY {
                let side = doc["input_shape"][1].as_u64().unwrap() as f64;
                let s = ((side * (HEAVY / flops).sqrt()) / 16.0).floor() as u64 * 16;
                if has_side && s >= 32 && !anchor {
                    sets.push(format!("side={s}"));
                } else if flops <= TOO_HEAVY {
                    n = 1;
                } else {
                    skipped.push(format!("{stem} {} ({:.0} MMACs)", doc["candidate"], flops / 1e6));
                    continue;
                }
            }
            let mut common: Vec<&str> = vec![&spec];
            for s in &sets {
                common.extend(["--set", s]);
            }
            common.extend(["--candidate", &genotype]);
            // the initialized weights (seed 3), perturbed, then exported and run from the file
            let weights = dir.join(format!("{stem}-{k}.safetensors"));
            let mut a = vec!["export"];
            a.extend(&common);
            a.extend(["--format", "safetensors", "--seed", "3", "--out", weights.to_str().unwrap()]);
            ok(&a);
            perturb(&weights, k as u64 + 1);
            let model = dir.join(format!("{stem}-{k}.onnx"));
            let mut a = vec!["export"];
            a.extend(&common);
            a.extend(["--format", "onnx", "--weights", weights.to_str().unwrap(), "--out", model.to_str().unwrap()]);
            ok(&a);
            // every trainable tensor is an initializer: their elements are the spec's `params`
            let params = metrics(&spec, &sets, std::slice::from_ref(&genotype))[0]["params"].as_f64().unwrap() as u64;
            let (trainable, proto) = onnx_trainable(&model);
            assert_eq!(trainable, params, "{spec} {genotype} {sets:?}");
            assert_eq!(proto.opset_import[0].version, 17);
            let inshape: Vec<usize> = doc["input_shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
            let side = sets.first().map(|s| s[5..].parse::<usize>().unwrap());
            let (c, h, w) = (inshape[0], side.unwrap_or(inshape[1]), side.unwrap_or(inshape[2]));
            let n = if anchor { 1 } else { n };
            let x = dir.join(format!("{stem}-{k}.x.npy"));
            write_npy(&x, &[n, c, h, w], &random_inputs(n * c * h * w, k as u64 + 1));
            let y = dir.join(format!("{stem}-{k}.y.npy"));
            let mut a = vec!["infer"];
            a.extend(&common);
            a.extend(["--weights", weights.to_str().unwrap(), "--input", x.to_str().unwrap(), "--out", y.to_str().unwrap()]);
            ok(&a);
            cases.push(serde_json::json!([model, x, y]));
            labels.push(format!("{stem} {} {sets:?}", doc["candidate"]));
        }
    }
    let list = dir.join("cases.json");
    std::fs::write(&list, serde_json::to_string(&cases).unwrap()).unwrap();
    let res = run_py(&py, COMPARE, &[list.to_str().unwrap()]);
    let mut worst: f64 = 0.0;
    for (r, label) in res.as_array().unwrap().iter().zip(&labels) {
        let (diff, scale) = (r[0].as_f64().unwrap(), r[1].as_f64().unwrap());
        eprintln!("{label}: max abs diff {diff:.3e} (logits up to {scale:.3})");
        assert!(diff <= 1e-4 * scale.max(1.0), "{label}: onnxruntime differs from nasc's forward by {diff} (logits up to {scale})");
        worst = worst.max(diff / scale.max(1.0));
    }
    eprintln!("{} candidates of {} specs checked, worst relative difference {worst:.3e}; skipped: {skipped:?}", labels.len(), specs.len());
    assert!(labels.len() >= 2 * specs.len(), "only {} candidates checked", labels.len());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The embedded digits test split, normalized as `nasc train` evaluates it: `[n, 1, 8, 8]`
/// images and their labels.
fn digits_test() -> (Vec<f32>, Vec<f32>, usize) {
    use nasc_kernels::data::{batch, load, Augment, LoadOptions};
    let s = load("digits", &LoadOptions { val_fraction: 0.1, data_dir: None }).unwrap();
    let idx: Vec<usize> = (0..s.test.len()).collect();
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    batch::fill(&s.test, &idx, &s.mean, &s.std, Augment::default(), &mut nasc_kernels::rng::Rng::new(0), &mut x, &mut labels);
    (x, labels.iter().map(|&l| l as f32).collect(), idx.len())
}

/// A model trained with `nasc train --save` and exported with `--weights` gives, in
/// onnxruntime, exactly the test accuracy that `nasc train` reported; `nasc infer` agrees.
#[test]
fn trained_digits_model_keeps_its_accuracy_in_onnxruntime() {
    let py = python();
    let dir = tmp("digits");
    let w = dir.join("w.safetensors");
    let spec = "specs/digits_tiny.nas";
    let cand = "kernel[0]=3,kernel[1]=5,width[0]=16,width[1]=32,tail=res";
    let out =
        ok(&["train", spec, "--candidate", cand, "--dataset", "digits", "--epochs", "3", "--backend", "cpu", "--seed", "5", "--format", "json", "--save", w.to_str().unwrap()]);
    let r: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(r["saved"], w.to_str().unwrap());
    let acc = r["test_accuracy"].as_f64().unwrap();
    assert!(acc > 0.5, "{r}");
    let model = dir.join("m.onnx");
    let msg = ok(&["export", spec, "--candidate", cand, "--format", "onnx", "--weights", w.to_str().unwrap(), "--out", model.to_str().unwrap()]);
    assert!(msg.contains("loaded from"), "{msg}");
    let (x, labels, n) = digits_test();
    let (xp, lp) = (dir.join("x.npy"), dir.join("labels.npy"));
    write_npy(&xp, &[n, 1, 8, 8], &x);
    write_npy(&lp, &[n], &labels);
    // nasc's own forward of the saved weights gives the reported accuracy
    let yp = dir.join("y.npy");
    ok(&["infer", spec, "--candidate", cand, "--weights", w.to_str().unwrap(), "--input", xp.to_str().unwrap(), "--out", yp.to_str().unwrap()]);
    let y = std::fs::read(&yp).unwrap();
    let logits: Vec<f32> = y[128..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    let hits = logits
        .chunks(10)
        .zip(&labels)
        .filter(|(row, &l)| {
            let best = (1..10).fold(0, |b, j| if row[j] > row[b] { j } else { b });
            best == l as usize
        })
        .count();
    assert_eq!(hits as f64 / n as f64, acc, "nasc infer with the saved weights");
    let Some(py) = py else { return };
    let res = run_py(&py, ACCURACY, &[model.to_str().unwrap(), xp.to_str().unwrap(), lp.to_str().unwrap()]);
    let (correct, total) = (res[0].as_u64().unwrap(), res[1].as_u64().unwrap());
    eprintln!("nasc train: test accuracy {acc}; onnxruntime: {correct}/{total}");
    assert_eq!(total as usize, n);
    assert_eq!(correct as f64 / total as f64, acc, "onnxruntime's accuracy differs from nasc train's");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Weights are checked against the network they are loaded into; bad input is an error, not
/// a panic.
#[test]
fn weights_that_do_not_fit_are_refused_by_name() {
    let dir = tmp("errors");
    let w = dir.join("w.safetensors");
    let ws = w.to_str().unwrap();
    let spec = "specs/digits_tiny.nas";
    let cand = "kernel[0]=3,kernel[1]=3,width[0]=8,width[1]=8,tail=pool";
    ok(&["export", spec, "--candidate", cand, "--format", "safetensors", "--out", ws]);
    let out = dir.join("m.onnx");
    let os = out.to_str().unwrap();
    // another candidate
    let e = err(&["export", spec, "--format", "onnx", "--weights", ws, "--out", os], 2);
    assert!(e.contains("holds the weights of candidate `kernel[0]=3,kernel[1]=3,width[0]=8,width[1]=8,tail=pool`, not `kernel[0]=3,kernel[1]=3,width[0]=16"), "{e}");
    // other --set values
    let e = err(&["export", spec, "--set", "side=16", "--candidate", cand, "--format", "onnx", "--weights", ws, "--out", os], 2);
    assert!(e.contains("different `--set` values") && e.contains("they were saved with no `--set`"), "{e}");
    // another spec
    let e = err(&["export", "specs/tiny.nas", "--format", "onnx", "--weights", ws, "--out", os], 2);
    assert!(e.contains("was saved for a different spec text"), "{e}");
    // not a weights file, a safetensors file without nasc's metadata, a truncated file
    std::fs::write(dir.join("junk"), b"hello").unwrap();
    let e = err(&["export", spec, "--candidate", cand, "--format", "onnx", "--weights", dir.join("junk").to_str().unwrap(), "--out", os], 2);
    assert!(e.contains("is not a safetensors file"), "{e}");
    let bare = safetensors::tensor::serialize(Vec::<(String, safetensors::tensor::TensorView)>::new(), None).unwrap();
    std::fs::write(dir.join("bare"), bare).unwrap();
    let e = err(&["export", spec, "--candidate", cand, "--format", "onnx", "--weights", dir.join("bare").to_str().unwrap(), "--out", os], 2);
    assert!(e.contains("without nasc's metadata"), "{e}");
    let full = std::fs::read(&w).unwrap();
    std::fs::write(dir.join("cut"), &full[..full.len() - 8]).unwrap();
    let e = err(&["export", spec, "--candidate", cand, "--format", "onnx", "--weights", dir.join("cut").to_str().unwrap(), "--out", os], 2);
    assert!(e.contains("not a valid safetensors file") || e.contains("not a safetensors file"), "{e}");
    // unknown candidate, weights with the graph document, --save into a missing folder
    let e = err(&["export", spec, "--candidate", "kernel[0]=4", "--format", "onnx", "--out", os], 2);
    assert!(e.contains("candidate `kernel[0]=4`"), "{e}");
    let e = err(&["export", spec, "--candidate", cand, "--format", "json", "--weights", ws, "--out", os], 2);
    assert!(e.contains("holds no weights"), "{e}");
    let e = err(&["train", spec, "--backend", "cpu", "--limit", "10", "--save", "/nonexistent-dir/w.safetensors"], 2);
    assert!(e.contains("`--save /nonexistent-dir/w.safetensors`"), "{e}");
    // inputs of the wrong shape for infer
    let xp = dir.join("x.npy");
    write_npy(&xp, &[2, 1, 9, 9], &[0.0; 162]);
    let e = err(&["infer", spec, "--candidate", cand, "--input", xp.to_str().unwrap(), "--out", dir.join("y.npy").to_str().unwrap()], 2);
    assert!(e.contains("the network takes [N, 1, 8, 8]"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The graph document of `export --format json` is the trial document's `graph`, with the
/// candidate; an ONNX model names its inputs, outputs and every parameter as documented.
#[test]
fn json_and_onnx_structure() {
    let dir = tmp("structure");
    let j = dir.join("g.json");
    ok(&["export", "specs/nb201.nas", "--format", "json", "--out", j.to_str().unwrap()]);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    assert_eq!(doc["version"], 1);
    assert!(doc["candidate"].as_str().unwrap().starts_with('|'));
    let m = dir.join("m.onnx");
    ok(&["export", "specs/mobilenet_v3_large.nas", "--format", "onnx", "--out", m.to_str().unwrap()]);
    let (params, proto) = onnx_trainable(&m);
    assert_eq!(params, 5_483_032);
    let g = proto.graph.unwrap();
    let ops: std::collections::BTreeSet<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
    for op in ["Conv", "BatchNormalization", "HardSwish", "Relu", "HardSigmoid", "Mul", "GlobalAveragePool", "Gemm", "Sum", "Flatten"] {
        assert!(ops.contains(op), "{op} missing from {ops:?}");
    }
    assert!(g.initializer.iter().any(|t| t.name.ends_with(".se.fc1.weight") && t.dims.len() == 4));
    assert!(g.initializer.iter().any(|t| t.name.ends_with(".bn.running_var")));
    assert_eq!(g.output[0].name, "logits");
    let _ = std::fs::remove_dir_all(&dir);
}

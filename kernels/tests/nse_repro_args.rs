//! `examples/nse_repro` refuses bad arguments before any work: a clear message on stderr and
//! exit status 2, never a panic. The example is built by `cargo test` beside this test binary.

use std::path::PathBuf;
use std::process::Command;

fn example() -> PathBuf {
    // target/PROFILE/deps/nse_repro_args-HASH -> target/PROFILE/examples/nse_repro
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let bin = dir.join("examples").join(format!("nse_repro{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} not built: run `cargo test -p nasc-kernels` (it builds the examples)", bin.display());
    bin
}

/// Runs the example with `args`; its exit code and stderr.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(example()).args(args).output().unwrap();
    assert!(o.stdout.is_empty(), "{args:?} printed results: {}", String::from_utf8_lossy(&o.stdout));
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn bad_arguments_are_refused_with_exit_status_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["nsee", "0"], "nse_repro: unknown variant `nsee`: expected `nse`, `nolr`, `oneshot` or `speed`"),
        (&["nse", "zero"], "nse_repro: seed `zero`: expected a whole number"),
        (&["nse", "-1"], "nse_repro: seed `-1`: expected a whole number"),
        (&["nse", "0", "epochs"], "nse_repro: `epochs`: expected key=value"),
        (&["nse", "0", "epoch=3"], "nse_repro: unknown key `epoch`: expected one of train, val, test, epochs,"),
        (&["nse", "0", "epochs=three"], "nse_repro: `epochs=three`: not a number"),
        (&["oneshot", "1", "lr=NaN"], "nse_repro: `lr=NaN`: not a number"),
        (&["nolr", "2", "k=0"], "nse_repro: `k` must be at least 1"),
        (&["nse", "0", "k=17"], "nse_repro: `k=17`: the pool has 16 ops; use at most 16 (`oneshot` runs all of them)"),
        (&["nse", "0", "retrain=0"], "nse_repro: `retrain` must be at least 1 (top=0 skips the retraining)"),
        (&["speed", "0", "steps=0"], "nse_repro: `steps` must be at least 1"),
    ];
    for (args, want) in cases {
        let (code, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.starts_with(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_missing_data_folder_is_refused_with_the_folders_tried() {
    let missing = std::env::temp_dir().join("nasc-no-such-data-folder");
    let data = format!("data={}", missing.display());
    let (code, err) = run(&["nse", "0", &data, "train=8", "val=8", "test=8"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with("nse_repro: dataset folder `") && err.contains("not found"), "{err}");
}

//! `examples/nse_repro` keeps each retraining's result beside its checkpoint (`CKPT.retrained`):
//! a resumed run prints the kept result instead of retraining, a recomputed retraining equals the
//! kept one, and a line torn by a kill is ended and the retraining run again. Runs a tiny search
//! on the CIFAR-10 copy of the shared data folder; skipped (with a message) where it is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

fn example() -> PathBuf {
    // target/PROFILE/deps/nse_repro_retrained-HASH -> target/PROFILE/examples/nse_repro
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    dir.join("examples").join(format!("nse_repro{}", std::env::consts::EXE_SUFFIX))
}

/// One tiny run with its checkpoint at `ckpt`: the `result` lines' fields (round, test_acc,
/// retrain_s, arch) and stderr.
fn run(ckpt: &Path) -> (Vec<[String; 4]>, String) {
    let ck = format!("ckpt={}", ckpt.display());
    let args = ["nse", "3", "train=96", "val=32", "test=64", "epochs=1", "rounds=1", "k=2", "samples=2", "extra=1", "retrain=1", "top=2", &ck];
    let o = Command::new(example()).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    let field = |l: &str, k: &str| l.split('\t').find_map(|f| f.strip_prefix(k)).unwrap_or_else(|| panic!("no `{k}` in {l}")).to_string();
    let results = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.starts_with("result\t"))
        .map(|l| [field(l, "round="), field(l, "test_acc="), field(l, "retrain_s="), field(l, "arch=")])
        .collect();
    (results, err)
}

#[test]
fn retrainings_are_kept_beside_the_checkpoint_and_reused() {
    let data = nasc_kernels::data::load("cifar10", &nasc_kernels::data::LoadOptions::default());
    if let Err(e) = data {
        eprintln!("skipping: {e}");
        return;
    }
    drop(data);
    assert!(example().exists(), "{} not built: run `cargo test -p nasc-kernels` (it builds the examples)", example().display());
    let dir = std::env::temp_dir().join(format!("nasc-nse-retrained-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ckpt = dir.join("run.ckpt");
    let kept = dir.join("run.ckpt.retrained");

    // a fresh run: one kept line per retraining
    let (first, err) = run(&ckpt);
    assert!(!first.is_empty(), "no result lines: {err}");
    assert!(!err.contains("kept from"), "{err}");
    let text = std::fs::read_to_string(&kept).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), first.len(), "{text}");

    // the kept result is what a resumed run prints: change it on disk and it shows
    let forged: String = lines.iter().map(|l| format!("0.123456\t7.0\t{}\n", l.splitn(3, '\t').nth(2).unwrap())).collect();
    std::fs::write(&kept, &forged).unwrap();
    let (resumed, err) = run(&ckpt);
    assert_eq!(resumed.len(), first.len());
    assert_eq!(err.matches("kept from").count(), first.len(), "{err}");
    for (r, f) in resumed.iter().zip(&first) {
        assert_eq!((&r[0], r[1].as_str(), r[2].as_str(), &r[3]), (&f[0], "0.1235", "7.0", &f[3]));
    }
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), forged, "a reused retraining is not written again");

    // a line torn by a kill (no newline, key cut short) matches nothing: every retraining runs
    // again, the same as the first time, and its line starts on a line of its own
    let torn = &lines[0][..lines[0].len() - 3];
    std::fs::write(&kept, torn).unwrap();
    let (again, err) = run(&ckpt);
    assert!(!err.contains("kept from"), "{err}");
    for (a, f) in again.iter().zip(&first) {
        assert_eq!((&a[0], &a[1], &a[3]), (&f[0], &f[1], &f[3]), "a retraining is deterministic");
    }
    let text = std::fs::read_to_string(&kept).unwrap();
    let after: Vec<&str> = text.lines().collect();
    assert_eq!(after[0], torn);
    assert_eq!(after.len(), first.len() + 1, "{text}");
    for (a, l) in after[1..].iter().zip(&lines) {
        assert_eq!(a.splitn(3, '\t').nth(2), l.splitn(3, '\t').nth(2));
        assert_eq!(a.split('\t').next(), l.split('\t').next());
    }
    std::fs::remove_dir_all(&dir).ok();
}

//! `nasc search --strategy lissnas` saves its shrunk space in the store, and `nasc search
//! --space-from STORE` searches only that space (also after `--resume`); every refusal is a clear
//! error with exit status 2.
use nasc_runtime::store::{SpaceRole, SqliteStore};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NASC: &str = env!("CARGO_BIN_EXE_nasc");

fn spec(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs").join(name).to_string_lossy().into_owned()
}

fn nasc(args: &[&str]) -> Output {
    Command::new(NASC).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A scratch folder removed when dropped.
struct Dir(PathBuf);
impl Dir {
    fn path(&self) -> &Path {
        &self.0
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn space_from_round_trip_and_errors() {
    let base = std::env::temp_dir().join(format!("nasc-space-from-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let dir = Dir(base);
    let nb201 = spec("nb201.nas");
    let liss = dir.path().join("liss.db");
    let o = nasc(&["search", &nb201, "--strategy", "lissnas", "--budget", "100", "--seed", "1", "--quiet", "--store", p(&liss)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("members saved in"), "{}", text(&o));
    let shrunk = SqliteStore::read_space(&liss, SpaceRole::Shrunk).unwrap().expect("a shrunk space");
    let members: HashSet<String> = shrunk.members.iter().cloned().collect();
    assert!(shrunk.size > 100 && shrunk.size < 15_625);

    // random search restricted to it, then resumed with a larger budget: every trial is a member
    let rs = dir.path().join("rs.db");
    let o = nasc(&["search", &nb201, "--strategy", "rs", "--space-from", p(&liss), "--budget", "40", "--seed", "2", "--store", p(&rs)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&format!("searching a shrunk space of {} members", shrunk.size)), "{}", text(&o));
    let o = nasc(&["search", &nb201, "--resume", "--budget", "80", "--quiet", "--store", p(&rs)]);
    assert!(o.status.success(), "{}", text(&o));
    let run = SqliteStore::read(&rs).unwrap();
    assert_eq!(run.trials.len(), 80);
    assert!(run.trials.iter().all(|t| members.contains(&t.genotype)), "a trial outside the shrunk space");
    assert_eq!(SqliteStore::read_space(&rs, SpaceRole::Input).unwrap().unwrap().members, shrunk.members);

    let err = |args: &[&str], want: &str| {
        let o = nasc(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(want), "{args:?}: expected `{want}` in\n{}", text(&o));
    };
    let new = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    // a store without a shrunk space (the RS run's)
    err(&["search", &nb201, "--space-from", p(&rs), "--budget", "5", "--quiet", "--store", &new("a.db")], "holds no shrunk space");
    // other --set overrides: another spec hash
    err(&["--set", "classes=100", "search", &nb201, "--space-from", p(&liss), "--budget", "5", "--quiet", "--store", &new("b.db")], "made from a different spec");
    // another spec
    err(&["search", &spec("nas_bench_macro.nas"), "--space-from", p(&liss), "--budget", "5", "--quiet", "--store", &new("c.db")], "made from a different spec");
    // not a store, and no file
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "junk junk junk junk").unwrap();
    err(&["search", &nb201, "--space-from", p(&junk), "--budget", "5", "--quiet", "--store", &new("d.db")], "not a nasc run store");
    err(&["search", &nb201, "--space-from", &new("none.db"), "--budget", "5", "--quiet", "--store", &new("e.db")], "no such file");
    // resuming: the restriction cannot be added or changed
    let whole = dir.path().join("whole.db");
    assert!(nasc(&["search", &nb201, "--strategy", "rs", "--budget", "5", "--quiet", "--store", p(&whole)]).status.success());
    err(&["search", &nb201, "--resume", "--space-from", p(&liss), "--budget", "10", "--quiet", "--store", p(&whole)], "cannot be added when resuming");
    let liss2 = dir.path().join("liss2.db");
    assert!(nasc(&["search", &nb201, "--strategy", "lissnas", "--budget", "100", "--seed", "5", "--quiet", "--store", p(&liss2)]).status.success());
    err(&["search", &nb201, "--resume", "--space-from", p(&liss2), "--budget", "90", "--quiet", "--store", p(&rs)], "differs from the space the stored run searches");
    // none of the refused runs created a store
    for n in ["a.db", "b.db", "c.db", "d.db", "e.db"] {
        assert!(!dir.path().join(n).exists(), "{n} was created");
    }
}

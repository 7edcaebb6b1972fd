//! A store from another spec, a file that is not a store, or an existing file given for a new
//! run is refused with a clear error and never modified.
mod common;
use common::*;
use nasc_runtime::store::{spec_hash, SqliteStore, StoreError};
use nasc_runtime::Budget;

#[test]
fn foreign_corrupt_and_existing_stores_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let s = Setup::new("nb201.nas", "rs", "nb201", 0, Budget::Trials(30));
    let path = dir.path().join("run.db");
    s.run_sqlite(&path);
    let before = std::fs::read(&path).unwrap();

    // another spec
    let (_, other) = space("nas_bench_macro.nas", &[]);
    let e = SqliteStore::resume(&path, &spec_hash(&other, &[])).err().expect("foreign spec refused");
    assert!(matches!(&e, StoreError::SpecMismatch { stored_path, .. } if stored_path.ends_with("nb201.nas")), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("different spec"), "{e}");
    // the same spec with other --set overrides is another spec too
    let (_, text) = space("nb201.nas", &[]);
    let e = SqliteStore::resume(&path, &spec_hash(&text, &[("classes".into(), "100".into())])).err().unwrap().to_string();
    assert!(e.contains("different spec"), "{e}");
    // an existing file is never overwritten by a new run
    let (sp, text) = space("nb201.nas", &[]);
    let e = SqliteStore::create(&path, &s.meta(&sp, &text)).err().unwrap().to_string();
    assert!(e.contains("already exists"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(SqliteStore::resume(&path, &spec_hash(&text, &[])).is_ok());

    // garbage bytes
    let junk = dir.path().join("junk.db");
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&junk, &bytes).unwrap();
    let e = SqliteStore::resume(&junk, &spec_hash(&text, &[])).err().unwrap().to_string();
    assert!(e.contains("not a nasc run store") || e.contains("not a database"), "{e}");
    assert_eq!(std::fs::read(&junk).unwrap(), bytes);
    assert!(SqliteStore::read(&junk).is_err());

    // a truncated store
    let cut = dir.path().join("cut.db");
    std::fs::write(&cut, &before[..before.len().min(3000)]).unwrap();
    assert!(SqliteStore::resume(&cut, &spec_hash(&text, &[])).is_err());

    // an empty file, and a SQLite database of something else
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let e = SqliteStore::resume(&empty, &spec_hash(&text, &[])).err().unwrap().to_string();
    assert!(e.contains("not a nasc run store"), "{e}");
    assert_eq!(std::fs::read(&empty).unwrap().len(), 0);
    let other_db = dir.path().join("other.db");
    rusqlite::Connection::open(&other_db).unwrap().execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);").unwrap();
    let e = SqliteStore::resume(&other_db, &spec_hash(&text, &[])).err().unwrap().to_string();
    assert!(e.contains("not a nasc run store"), "{e}");

    // a missing file
    assert!(SqliteStore::resume(&dir.path().join("missing.db"), "x").err().unwrap().to_string().contains("no such file"));
}

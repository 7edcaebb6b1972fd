//! Store integrity: damaged rows are refused by name (row checksums, format 2), format 1 stores
//! stay readable and get checksums when resumed, one writer at a time (the run lock), whole
//! creation (`STORE.creating`), and a folder given as a store.
mod common;
use common::*;
use nasc_runtime::store::{lock_path, spec_hash, SqliteStore, StoreError, StoredRun, FORMAT};
use nasc_runtime::Budget;
use rusqlite::Connection;
use std::path::Path;

fn same_run(a: &StoredRun, b: &StoredRun) -> bool {
    a.meta == b.meta && a.status == b.status && a.created == b.created && a.trials == b.trials && a.checkpoint == b.checkpoint
}

/// A finished 40-trial run (evaluator metrics, failed trials none) at `path`.
fn stored(path: &Path) -> StoredRun {
    let s = Setup::new("nb201.nas", "re", "nb201", 3, Budget::Trials(40));
    s.run_sqlite(path).0
}

fn sql(path: &Path, q: &str) {
    Connection::open(path).unwrap().execute_batch(q).unwrap();
}

#[test]
fn a_changed_row_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let run = stored(&path);
    let id = run.trials[17].id;
    let cases = [
        (format!("UPDATE trials SET reward = reward + 1 WHERE id = {id}"), format!("trial {id} ")),
        (format!("UPDATE trials SET candidate = 'x' || candidate WHERE id = {id}"), format!("trial {id} ")),
        (format!("UPDATE trials SET metrics = '{{}}' WHERE id = {id}"), format!("trial {id} ")),
        (format!("UPDATE trials SET sum = NULL WHERE id = {id}"), format!("trial {id} ")),
        ("UPDATE checkpoints SET state = replace(state, '\"clock\"', '\"clock\" ')".to_string(), "checkpoint".to_string()),
        ("UPDATE run SET budget = '{\"trials\":41}'".to_string(), "configuration".to_string()),
        ("UPDATE run SET status = 'running'".to_string(), "configuration".to_string()),
        ("UPDATE run SET spec_text = spec_text || ' '".to_string(), "configuration".to_string()),
        // a row gone: the checkpoint counts the trials it follows
        ("DELETE FROM trials WHERE seq = 39".to_string(), "40 trials, but 39".to_string()),
    ];
    for (q, want) in cases {
        let p = dir.path().join("case.db");
        std::fs::copy(&path, &p).unwrap();
        sql(&p, &q);
        let e = SqliteStore::read(&p).err().unwrap_or_else(|| panic!("`{q}` was not detected")).to_string();
        assert!(e.contains("damaged run store") && e.contains(&want), "`{q}`: {e}");
        // resuming is refused the same way, before anything is written
        let e = SqliteStore::resume(&p, &run.meta.spec_hash).err().unwrap().to_string();
        assert!(e.contains("damaged run store"), "{e}");
        std::fs::remove_file(&p).unwrap();
    }
    // the `updated` time is not covered (every commit rewrites it), and reads the same
    let p = dir.path().join("case.db");
    std::fs::copy(&path, &p).unwrap();
    sql(&p, "UPDATE run SET updated = updated + 5");
    assert!(same_run(&SqliteStore::read(&p).unwrap(), &run));
}

#[test]
fn flipped_bytes_are_never_served_as_other_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let run = stored(&path);
    let bytes = std::fs::read(&path).unwrap();
    let p = dir.path().join("flipped.db");
    let (mut refused, mut same) = (0, 0);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..400 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut b = bytes.clone();
        let at = (x % b.len() as u64) as usize;
        b[at] ^= 1 << ((x >> 32) % 8);
        std::fs::write(&p, &b).unwrap();
        match SqliteStore::read(&p) {
            Err(_) => refused += 1,
            Ok(r) => {
                assert!(same_run(&r, &run), "a flip at byte {at} was served as changed data");
                same += 1;
            }
        }
    }
    eprintln!("400 single-bit flips: {refused} refused, {same} read unchanged (free space, the `updated` time)");
    assert!(refused > 0);
}

#[test]
fn a_format_1_store_is_read_and_gets_checksums_when_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let run = stored(&path);
    // what an older nasc wrote: no checksum columns, format 1
    sql(&path, "ALTER TABLE run DROP COLUMN sum; ALTER TABLE trials DROP COLUMN sum; ALTER TABLE checkpoints DROP COLUMN sum; UPDATE run SET format = 1;");
    assert!(same_run(&SqliteStore::read(&path).unwrap(), &run));
    let (store, resumed) = SqliteStore::resume(&path, &run.meta.spec_hash).unwrap();
    drop(store);
    assert!(same_run(&resumed, &run));
    let format: i64 = Connection::open(&path).unwrap().query_row("SELECT format FROM run", [], |r| r.get(0)).unwrap();
    assert_eq!(format, FORMAT);
    assert!(same_run(&SqliteStore::read(&path).unwrap(), &run));
    // and now a change is caught
    sql(&path, "UPDATE trials SET reward = 1 WHERE seq = 3");
    let e = SqliteStore::read(&path).err().unwrap().to_string();
    assert!(e.contains(&format!("trial {} ", run.trials[3].id)), "{e}");
    // a format this nasc does not know is refused
    let p = dir.path().join("future.db");
    stored(&p);
    sql(&p, "UPDATE run SET format = 9");
    assert!(SqliteStore::read(&p).err().unwrap().to_string().contains("format 9 is not supported"));
}

#[test]
fn one_writer_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let s = Setup::new("nb201.nas", "rs", "nb201", 0, Budget::Trials(10));
    let (space, text) = space("nb201.nas", &[]);
    let hash = spec_hash(&text, &[]);
    let first = SqliteStore::create(&path, &s.meta(&space, &text)).unwrap();
    assert!(lock_path(&path).exists());
    // a second writer is refused, naming the holder; reading is fine
    let e = SqliteStore::resume(&path, &hash).err().unwrap().to_string();
    assert!(e.contains("is in use by another nasc process (pid ") && e.contains(&std::process::id().to_string()), "{e}");
    let e = SqliteStore::create(&path, &s.meta(&space, &text)).err().unwrap().to_string();
    assert!(e.contains("already exists"), "{e}");
    assert!(SqliteStore::read(&path).is_ok());
    drop(first);
    assert!(!lock_path(&path).exists(), "the lock file is removed with the lock");
    let (second, _) = SqliteStore::resume(&path, &hash).unwrap();
    assert!(SqliteStore::resume(&path, &hash).err().unwrap().to_string().contains("in use"));
    drop(second);
    // a lock file left by a killed process (no one holds its lock) is no obstacle
    std::fs::write(lock_path(&path), "999999").unwrap();
    assert!(SqliteStore::resume(&path, &hash).is_ok());
}

#[test]
fn creation_is_whole_and_a_folder_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let s = Setup::new("nb201.nas", "rs", "nb201", 0, Budget::Trials(10));
    let (space, text) = space("nb201.nas", &[]);
    let meta = s.meta(&space, &text);
    // the leftover of a creation killed half way: not a store, and cleared by the next create
    let path = dir.path().join("run.db");
    std::fs::write(dir.path().join("run.db.creating"), b"SQLite format 3\0half").unwrap();
    let e = SqliteStore::resume(&path, &meta.spec_hash).err().unwrap().to_string();
    assert!(e.contains("no such file"), "{e}");
    drop(SqliteStore::create(&path, &meta).unwrap());
    assert!(!dir.path().join("run.db.creating").exists());
    let run = SqliteStore::read(&path).unwrap();
    assert_eq!((run.status.as_str(), run.trials.len()), ("running", 0));
    assert!(SqliteStore::resume(&path, &meta.spec_hash).is_ok());
    // a folder
    let folder = dir.path().join("runs");
    std::fs::create_dir(&folder).unwrap();
    for e in [SqliteStore::create(&folder, &meta).err().unwrap(), SqliteStore::resume(&folder, &meta.spec_hash).err().unwrap(), SqliteStore::read(&folder).err().unwrap()] {
        assert!(matches!(e, StoreError::IsFolder { .. }), "{e:?}");
        let e = e.to_string();
        assert!(e.contains("is a folder") && !e.contains("already exists") && !e.contains("no such file"), "{e}");
    }
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0, "nothing written into the folder");
}

//! A store keeps only its latest checkpoint (L2NAS's state is about 1.4 MB: a run of 1,000
//! trials left 279 of them, 402 MB), and a run resumed from it is the same run.
mod common;
use common::*;
use nasc_runtime::store::{spec_hash, SqliteStore};
use nasc_runtime::Budget;
use std::time::Duration;

#[test]
fn only_the_latest_checkpoint_is_kept_and_resume_still_matches() {
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new("nb201.nas", "l2nas", "nb201:dataset=cifar10,epochs=12", 0, Budget::Trials(120));
    // commit after every trial: 120 checkpoints written
    setup.cfg.commit_every = 1;
    setup.cfg.commit_interval = Duration::ZERO;
    let path = dir.path().join("run.db");
    let (run, _) = setup.run_sqlite(&path);
    assert_eq!(run.trials.len(), 120);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (n, trials): (i64, i64) = conn.query_row("SELECT COUNT(*), MAX(trials) FROM checkpoints", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!((n, trials), (1, 120));
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 10 << 20, "store of {size} bytes");
    drop(conn);
    // the same run, stopped after 50 trials (no finish) and resumed from its one checkpoint
    let p2 = dir.path().join("resumed.db");
    let (space, text) = space("nb201.nas", &[]);
    {
        let mut store = SqliteStore::create(&p2, &setup.meta(&space, &text)).unwrap();
        let mut r = setup.runner(&space, &mut store);
        for _ in 0..50 {
            assert!(r.step().unwrap());
        }
    }
    let (mut store, stored) = SqliteStore::resume(&p2, &spec_hash(&text, &[])).unwrap();
    assert_eq!(stored.checkpoint.as_ref().map(|c| c.0), Some(50));
    setup.resume(&space, &mut store, &stored).run().unwrap();
    drop(store);
    assert_same(&run, &SqliteStore::read(&p2).unwrap(), "resumed from the only checkpoint");
}

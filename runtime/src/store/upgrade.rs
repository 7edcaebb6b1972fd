//! Bringing an older store to the current format when it is resumed (format 1 -> 2: row
//! checksums; 2 -> 3: the trials' `extra` column; 3 -> 4: the run's `objectives` column).
use super::{reseal_run, row_sum, CHECKPOINT_COLS, CHECKPOINT_REAL, FORMAT, TRIAL_COLS, TRIAL_REAL};
use rusqlite::{params, Connection};

/// Whether `table` has a column `col`.
fn has_column(conn: &Connection, table: &str, col: &str) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(names.iter().any(|n| n == col))
}

/// Bring a format 1 to 3 store (read and found sound) to format 4, in one transaction: to a
/// format 1 store a checksum on every row, then the `extra` column of the trials and the
/// `objectives` column of the run (NULL in the old rows, which is not hashed: their checksums
/// stay valid).
pub(super) fn upgrade(conn: &Connection, from: i64) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN")?;
    let done = (|| {
        if from < 2 {
            add_checksums(conn)?;
        }
        if !has_column(conn, "trials", "extra")? {
            conn.execute_batch("ALTER TABLE trials ADD COLUMN extra TEXT")?;
        }
        if !has_column(conn, "run", "objectives")? {
            conn.execute_batch("ALTER TABLE run ADD COLUMN objectives TEXT")?;
        }
        conn.execute("UPDATE run SET format = ?1 WHERE id = 1", params![FORMAT])?;
        reseal_run(conn)
    })();
    match done {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// A checksum on every row of a format 1 store (inside [`upgrade`]'s transaction).
fn add_checksums(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("ALTER TABLE run ADD COLUMN sum INTEGER; ALTER TABLE trials ADD COLUMN sum INTEGER; ALTER TABLE checkpoints ADD COLUMN sum INTEGER;")?;
    {
        let n = TRIAL_COLS.split(',').count();
        let sums: Vec<(i64, i64)> =
            conn.prepare(&format!("SELECT {TRIAL_COLS} FROM trials"))?.query_map([], |r| Ok((r.get(0)?, row_sum("trials", r, n, TRIAL_REAL)?)))?.collect::<Result<_, _>>()?;
        for (id, sum) in sums {
            conn.execute("UPDATE trials SET sum = ?1 WHERE id = ?2", params![sum, id])?;
        }
        let n = CHECKPOINT_COLS.split(',').count();
        let sums: Vec<(i64, i64)> = conn
            .prepare(&format!("SELECT {CHECKPOINT_COLS} FROM checkpoints"))?
            .query_map([], |r| Ok((r.get(0)?, row_sum("checkpoints", r, n, CHECKPOINT_REAL)?)))?
            .collect::<Result<_, _>>()?;
        for (t, sum) in sums {
            conn.execute("UPDATE checkpoints SET sum = ?1 WHERE trials = ?2", params![sum, t])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use serde_json::json;

    const SPEC: &str = "space t; input [3, 8, 8]; choice c in [4, 8]; network { return input |> conv(c, 3) |> gap |> linear(10); } metric params;";

    fn setup(dir: &Path) -> (SearchSpace, RunMeta, PathBuf) {
        let space = crate::spec::compile_text(SPEC, dir, "t", &[]).unwrap();
        let space = SearchSpace::new(space, vec![]).unwrap();
        let meta = RunMeta {
            spec_path: "t.nas".into(),
            spec_text: SPEC.into(),
            spec_hash: spec_hash(SPEC, &[]),
            space: "t".into(),
            sets: vec![],
            constraints: vec![],
            strategy: "rs".into(),
            strategy_config: json!({}),
            evaluator: "instant".into(),
            seed: 0,
            workers: 1,
            dedup: false,
            budget: Budget::Trials(4),
            metric_names: vec!["params".into()],
            objectives: None,
        };
        (space, meta, dir.join("run.db"))
    }

    fn trial(space: &SearchSpace, id: u64, extra: Option<Value>) -> TrialRecord {
        let candidate = space.inner().default_candidate();
        let metrics = space.metrics(&candidate);
        TrialRecord {
            id,
            seq: id,
            candidate,
            key: None,
            reward: Some(0.5),
            reported: None,
            metrics,
            error: None,
            extra: extra.map(Box::new),
            sim_start: 0.0,
            sim_end: 0.0,
            wall: 0.0,
        }
    }

    fn sql(path: &Path, q: &str) {
        Connection::open(path).unwrap().execute_batch(q).unwrap();
    }

    #[test]
    fn extra_is_stored_checked_and_format_2_stores_are_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let (space, meta, path) = setup(dir.path());
        let steps = json!({"steps": [{"step": 1, "value": 0.25}], "metrics": {"f1": 0.5}});
        {
            let mut s = SqliteStore::create(&path, &meta).unwrap();
            s.append(&space, trial(&space, 0, None)).unwrap();
            s.append(&space, trial(&space, 1, Some(steps.clone()))).unwrap();
            s.commit(2, 0.0, &json!({})).unwrap();
        }
        let run = SqliteStore::read(&path).unwrap();
        assert_eq!(run.trials[0].extra, None);
        assert_eq!(run.trials[1].extra, Some(steps.clone()));
        // a changed `extra` is caught, and so is one added to a row without
        for q in ["UPDATE trials SET extra = '{}' WHERE id = 1", "UPDATE trials SET extra = '{}' WHERE id = 0", "UPDATE trials SET extra = NULL WHERE id = 1"] {
            let p = dir.path().join("case.db");
            std::fs::copy(&path, &p).unwrap();
            sql(&p, q);
            let e = SqliteStore::read(&p).err().unwrap_or_else(|| panic!("`{q}` was not detected"));
            assert!(matches!(e, StoreError::Read { source: ReadError::Damaged(_), .. }), "{e}");
            assert!(e.to_string().contains("damaged run store"), "{e}");
            std::fs::remove_file(&p).unwrap();
        }

        // what nasc wrote before format 3: no `extra` column
        let p2 = dir.path().join("two.db");
        {
            let mut s = SqliteStore::create(&p2, &meta).unwrap();
            s.append(&space, trial(&space, 0, None)).unwrap();
            s.commit(1, 0.0, &json!({})).unwrap();
        }
        let conn = Connection::open(&p2).unwrap();
        conn.execute_batch("ALTER TABLE trials DROP COLUMN extra; UPDATE run SET format = 2;").unwrap();
        reseal_run(&conn).unwrap();
        drop(conn);
        let before = SqliteStore::read(&p2).unwrap();
        assert_eq!(before.trials.len(), 1);
        let (mut s, resumed) = SqliteStore::resume(&p2, &meta.spec_hash).unwrap();
        assert_eq!(resumed.trials, before.trials);
        s.append(&space, trial(&space, 1, Some(steps.clone()))).unwrap();
        s.commit(2, 0.0, &json!({})).unwrap();
        drop(s);
        let format: i64 = Connection::open(&p2).unwrap().query_row("SELECT format FROM run", [], |r| r.get(0)).unwrap();
        assert_eq!(format, FORMAT);
        let after = SqliteStore::read(&p2).unwrap();
        assert_eq!(after.trials[0], before.trials[0]);
        assert_eq!(after.trials[1].extra, Some(steps));
    }

    #[test]
    fn objectives_are_stored_checked_and_format_3_stores_are_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let (space, mut meta, path) = setup(dir.path());
        let obj = json!({"objectives": [{"name": "params", "sense": "min", "source": {"metric": "params"}}], "scalarize": null});
        meta.objectives = Some(obj.clone());
        {
            let mut s = SqliteStore::create(&path, &meta).unwrap();
            s.append(&space, trial(&space, 0, None)).unwrap();
            s.commit(1, 0.0, &json!({})).unwrap();
        }
        assert_eq!(SqliteStore::read(&path).unwrap().meta.objectives, Some(obj));
        for q in ["UPDATE run SET objectives = NULL", "UPDATE run SET objectives = '{}'"] {
            let p = dir.path().join("case.db");
            std::fs::copy(&path, &p).unwrap();
            sql(&p, q);
            let e = SqliteStore::read(&p).err().unwrap_or_else(|| panic!("`{q}` was not detected"));
            assert!(matches!(e, StoreError::Read { source: ReadError::Damaged(_), .. }), "{e}");
            assert!(e.to_string().contains("damaged run store"), "{e}");
            std::fs::remove_file(&p).unwrap();
        }
        // what nasc wrote before format 4: no `objectives` column
        meta.objectives = None;
        let p3 = dir.path().join("three.db");
        {
            let mut s = SqliteStore::create(&p3, &meta).unwrap();
            s.append(&space, trial(&space, 0, None)).unwrap();
            s.commit(1, 0.0, &json!({})).unwrap();
        }
        let conn = Connection::open(&p3).unwrap();
        conn.execute_batch("ALTER TABLE run DROP COLUMN objectives; UPDATE run SET format = 3;").unwrap();
        reseal_run(&conn).unwrap();
        drop(conn);
        let before = SqliteStore::read(&p3).unwrap();
        assert_eq!(before.meta.objectives, None);
        let (mut s, _) = SqliteStore::resume(&p3, &meta.spec_hash).unwrap();
        s.append(&space, trial(&space, 1, None)).unwrap();
        s.commit(2, 0.0, &json!({})).unwrap();
        drop(s);
        let after = SqliteStore::read(&p3).unwrap();
        assert_eq!(after.trials.len(), 2);
        assert_eq!(after.meta.objectives, None);
        let format: i64 = Connection::open(&p3).unwrap().query_row("SELECT format FROM run", [], |r| r.get(0)).unwrap();
        assert_eq!(format, FORMAT);
    }
}

//! Reading a SQLite run store: whole, or trial by trial for reports whose memory must not grow
//! with the run ([`super::SqliteStore::scan`]).
use super::*;

/// Open a store for reading and read it whole. A store that SQLite cannot open read-only in the
/// usual way (WAL mode wants to create its `-shm` file next to it: a read-only folder or disk)
/// is read as an immutable file, unless it holds uncommitted WAL data.
pub(super) fn open_read(path: &Path) -> Result<(Connection, StoredRun, i64), StoreError> {
    let mut trials = Vec::new();
    let (conn, mut run, format) = open_scan(path, &mut |_, t| trials.push(t))?;
    run.trials = trials;
    Ok((conn, run, format))
}

/// [`open_read`], handing each trial to `each` in completion order instead of keeping it (the
/// run comes back with no trials).
pub(super) fn open_scan(path: &Path, each: &mut dyn FnMut(&RunMeta, StoredTrial)) -> Result<(Connection, StoredRun, i64), StoreError> {
    not_a_folder(path)?;
    if !path.is_file() {
        return Err(StoreError::NoFile { path: path.to_path_buf() });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut handed = 0u64;
    let first = Connection::open_with_flags(path, flags).map_err(ReadError::Open).and_then(|c| {
        read_run(&c, &mut |m, t| {
            handed += 1;
            each(m, t)
        })
        .map(|(run, f)| (c, run, f))
    });
    match first {
        Ok(x) => Ok(x),
        // (a retry after trials were handed out would hand them out twice)
        Err(e) if handed == 0 && e.is_readonly_open() => {
            let mut wal = path.as_os_str().to_os_string();
            wal.push("-wal");
            if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
                return Err(StoreError::UnmergedWal { path: path.to_path_buf(), wal: wal.into(), source: e });
            }
            let uri = format!("file:{}?immutable=1", uri_path(path));
            let conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI).map_err(sql(path))?;
            let (run, f) = read_run(&conn, each).map_err(|source| StoreError::Read { path: path.to_path_buf(), source })?;
            Ok((conn, run, f))
        }
        Err(source) => Err(StoreError::Read { path: path.to_path_buf(), source }),
    }
}

/// Read a whole run and its format; in a format 2 store every row's checksum is checked. One
/// read transaction: a run being written is seen as of one commit (its trials and their
/// checkpoint together).
fn read_run(conn: &Connection, each: &mut dyn FnMut(&RunMeta, StoredTrial)) -> Result<(StoredRun, i64), ReadError> {
    conn.execute_batch("BEGIN").map_err(ReadError::NotAStore)?;
    let r = read_run_in(conn, each);
    let _ = conn.execute_batch("COMMIT");
    r
}

fn read_run_in(conn: &Connection, each: &mut dyn FnMut(&RunMeta, StoredTrial)) -> Result<(StoredRun, i64), ReadError> {
    let has_run: Option<String> =
        conn.query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'run'", [], |r| r.get(0)).optional().map_err(ReadError::NotAStore)?;
    if has_run.is_none() {
        return Err(ReadError::NoRunTable);
    }
    let bad = ReadError::Unreadable;
    let with_objectives = run_has_objectives(conn).map_err(bad)?;
    let objectives_col = if with_objectives { ", objectives" } else { "" };
    let (format, meta, status, created): (i64, RunMeta, String, f64) = conn
        .query_row(
            &format!("SELECT format, spec_path, spec_text, spec_hash, space, sets, constraints, strategy, strategy_config, evaluator, seed, workers, dedup, budget, metric_names, status, created{objectives_col} FROM run WHERE id = 1"),
            [],
            |r| {
                let js = |i: usize| -> rusqlite::Result<Value> { Ok(serde_json::from_str(&r.get::<_, String>(i)?).unwrap_or(Value::Null)) };
                let sets: Vec<(String, String)> = serde_json::from_value(js(5)?).unwrap_or_default();
                let constraints: Vec<String> = serde_json::from_value(js(6)?).unwrap_or_default();
                let metric_names: Vec<String> = serde_json::from_value(js(14)?).unwrap_or_default();
                Ok((
                    r.get(0)?,
                    RunMeta {
                        spec_path: r.get(1)?,
                        spec_text: r.get(2)?,
                        spec_hash: r.get(3)?,
                        space: r.get(4)?,
                        sets,
                        constraints,
                        strategy: r.get(7)?,
                        strategy_config: js(8)?,
                        evaluator: r.get(9)?,
                        seed: r.get::<_, i64>(10)? as u64,
                        workers: r.get::<_, i64>(11)? as usize,
                        dedup: r.get::<_, i64>(12)? != 0,
                        budget: budget_from(&js(13)?).unwrap_or(Budget::Trials(0)),
                        metric_names,
                        objectives: if with_objectives { r.get::<_, Option<String>>(17)?.and_then(|t| serde_json::from_str(&t).ok()) } else { None },
                    },
                    r.get(15)?,
                    r.get(16)?,
                ))
            },
        )
        .map_err(bad)?;
    if !(1..=FORMAT).contains(&format) {
        return Err(ReadError::Format { format, known: FORMAT });
    }
    let checked = format >= 2;
    if checked {
        let n = RUN_COLS.split(',').count() + usize::from(with_objectives);
        let (sum, stored): (i64, Option<i64>) =
            conn.query_row(&format!("SELECT {RUN_COLS}{objectives_col}, sum FROM run WHERE id = 1"), [], |r| Ok((run_sum(r, with_objectives)?, r.get(n)?))).map_err(bad)?;
        if stored != Some(sum) {
            return Err(ReadError::Damaged(Damaged::Run));
        }
    }
    let n_trial = TRIAL_COLS.split(',').count();
    let sum_col = if checked { ", sum" } else { "" };
    // `extra` right after the checksummed columns (then `sum`)
    let extra_col = if format >= 3 { ", extra" } else { "" };
    let n_sum = n_trial + usize::from(format >= 3);
    let mut stmt = conn.prepare(&format!("SELECT {TRIAL_COLS}{extra_col}{sum_col} FROM trials ORDER BY seq")).map_err(bad)?;
    let rows = stmt
        .query_map([], |r| {
            let metrics: String = r.get(5)?;
            let ok = !checked || r.get::<_, Option<i64>>(n_sum)? == Some(trial_sum(r, format)?);
            let extra = match format >= 3 {
                true => r.get::<_, Option<String>>(n_trial)?.map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s))),
                false => None,
            };
            Ok((
                ok,
                StoredTrial {
                    id: r.get::<_, i64>(0)? as u64,
                    seq: r.get::<_, i64>(1)? as u64,
                    name: r.get(2)?,
                    genotype: r.get(3)?,
                    key: r.get(4)?,
                    metrics: match serde_json::from_str(&metrics) {
                        Ok(Value::Object(m)) => m,
                        _ => Map::new(),
                    },
                    reward: r.get(6)?,
                    reported: r.get(7)?,
                    status: r.get(8)?,
                    error: r.get(9)?,
                    extra,
                    sim_start: r.get(10)?,
                    sim_end: r.get(11)?,
                    wall: r.get(12)?,
                },
            ))
        })
        .map_err(bad)?;
    // a damaged row is named before a gap in the sequence (a flipped `seq` makes both)
    let (mut count, mut gap) = (0u64, None);
    for row in rows {
        let (ok, t) = row.map_err(bad)?;
        if !ok {
            return Err(ReadError::Damaged(Damaged::Trial { id: t.id, seq: t.seq, candidate: t.name }));
        }
        if t.seq != count && gap.is_none() {
            gap = Some(count);
        }
        count += 1;
        if gap.is_none() {
            each(&meta, t);
        }
    }
    if let Some(i) = gap {
        return Err(ReadError::Gap { seq: i });
    }
    let n_cp = CHECKPOINT_COLS.split(',').count();
    let row: Option<(u64, String, bool)> = conn
        .query_row(&format!("SELECT {CHECKPOINT_COLS}{sum_col} FROM checkpoints ORDER BY trials DESC LIMIT 1"), [], |r| {
            let ok = !checked || r.get::<_, Option<i64>>(n_cp)? == Some(row_sum("checkpoints", r, n_cp, CHECKPOINT_REAL)?);
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(3)?, ok))
        })
        .optional()
        .map_err(bad)?;
    let checkpoint = match row {
        None => None,
        Some((n, _, false)) => return Err(ReadError::Damaged(Damaged::Checkpoint { trials: n })),
        Some((n, s, true)) => Some((n, serde_json::from_str(&s).map_err(ReadError::Checkpoint)?)),
    };
    // trials and their checkpoint are committed together: a missing row shows here
    if let Some((n, _)) = &checkpoint {
        if *n != count && checked {
            return Err(ReadError::CheckpointCount { checkpoint: *n, readable: count });
        }
    }
    Ok((StoredRun { meta, status, created, trials: Vec::new(), checkpoint }, format))
}

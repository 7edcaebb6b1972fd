//! Trials under leases: how workers claim, heartbeat, finish and give back trials of a run.
//!
//! - **Claim.** A worker takes `queued` trials with `FOR UPDATE SKIP LOCKED` (two workers never
//!   wait on, or take, the same row): the trial becomes `running` with the worker's id, its
//!   attempt count goes up and its heartbeat is the database's clock. When none is queued, the
//!   worker asks the strategy for new trials under the run row's lock, within the budget.
//! - **Heartbeat.** While a worker evaluates, its process refreshes the heartbeat of every trial
//!   it holds ([`heartbeat`]).
//! - **Expiry.** A `running` trial whose heartbeat is older than the run's lease timeout
//!   (database clock only: workers' clocks never matter) is re-queued, at most `max_retries`
//!   times; after that it is finished as failed, and the strategy is told so.
//! - **Finish.** A result is accepted only while its worker still holds the trial with the same
//!   attempt number: a worker that lost its lease gets its result refused ([`Outcome::refused`])
//!   and goes on. Accepted results get the next completion numbers (`seq`), are told to the
//!   strategy in that order, and are committed with the strategy's new state in one transaction.
//! - **Duplicates.** A run that skips duplicates (`--dedup`) asks under the run's lock with the
//!   keys of every trial asked so far: each process keeps them in a [`Dedup`] cache and reads only
//!   the trials added since its last ask (ids are handed out under the same lock, so the ids below
//!   `next_id` are exactly the asked trials). Keys are stored with the trials.
use super::{budget_from, Conn, PgError};
use crate::budget::Budget;
use crate::eval::EvalResult;
use crate::objective::Objectives;
use crate::space::{decode, encode, SearchSpace};
use crate::strategy::{AskCtx, Seen, Strategy, Told};
use nasc_compiler::Candidate;
use postgres::Transaction;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// A trial a worker holds: evaluate it, then hand its [`Finished`] to [`exchange`].
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: u64,
    /// The attempt that this lease is (1 for the first claim).
    pub attempt: i32,
    pub candidate: Candidate,
}

/// A trial's result, ready to be written and told.
#[derive(Debug, Clone)]
pub struct Finished {
    pub id: u64,
    pub attempt: i32,
    pub candidate: Candidate,
    pub reward: Option<f64>,
    pub reported: Option<f64>,
    /// The run's metric values (space metrics, then the evaluator's) as stored JSON.
    pub metrics: String,
    /// What the strategy is told: the objectives' scalar and vector.
    pub told: Option<f64>,
    pub vector: Option<Vec<f64>>,
    pub error: Option<String>,
    pub extra: Option<String>,
}

/// What the process knows about the run to build [`Finished`] records.
pub struct RunView<'a> {
    pub run: &'a str,
    pub space: &'a SearchSpace,
    /// The run's metric names: the space's, then the evaluator's.
    pub metric_names: &'a [String],
    /// How many of them are the space's.
    pub n_space: usize,
    pub objectives: &'a Objectives,
}

fn num_json(x: f64) -> Value {
    super::super::num_json(x)
}

impl RunView<'_> {
    /// The record of trial `c`'s evaluation (or failure).
    pub fn finished(&self, c: &Claimed, result: Result<EvalResult, String>, extra: Option<Value>) -> Finished {
        let mut metrics = if self.n_space > 0 { self.space.metrics(&c.candidate) } else { Vec::new() };
        metrics.truncate(self.n_space);
        let (reward, reported, error) = match result {
            Ok(r) => {
                metrics.extend(r.metrics);
                (Some(r.reward), Some(r.reported).filter(|x| x.is_finite()), None)
            }
            Err(e) => (None, None, Some(e)),
        };
        metrics.resize(self.metric_names.len(), f64::NAN);
        let told = self.objectives.scalar(reward, reported, &metrics);
        let vector = self.objectives.vector(reward, reported, &metrics);
        let mut m = Map::new();
        for (n, v) in self.metric_names.iter().zip(&metrics) {
            m.insert(n.clone(), num_json(*v));
        }
        Finished {
            id: c.id,
            attempt: c.attempt,
            candidate: c.candidate.clone(),
            reward,
            reported,
            metrics: Value::Object(m).to_string(),
            told,
            vector,
            error,
            extra: extra.map(|x| x.to_string()),
        }
    }
}

/// The strategy as this process last saw it, with the run's state version it matches (None:
/// restore it from the database before use).
pub struct StrategyCache {
    pub strategy: Box<dyn Strategy>,
    pub version: Option<i64>,
    /// The asked trials' keys, when the run skips duplicates.
    pub dedup: Option<Dedup>,
}

impl StrategyCache {
    /// A cache to be restored from the database before first use; `dedup`: the run skips
    /// duplicates.
    pub fn new(strategy: Box<dyn Strategy>, dedup: bool) -> Self {
        StrategyCache { strategy, version: None, dedup: dedup.then(Dedup::default) }
    }
}

/// The keys of a run's asked trials as this process last read them: every trial with an id below
/// `upto`. `dirty`: an ask whose transaction did not commit may have added keys of trials that
/// do not exist; the cache is read again from scratch.
#[derive(Default)]
pub struct Dedup {
    seen: Seen,
    upto: i64,
    dirty: bool,
}

impl Dedup {
    /// Bring the keys up to `next_id` (the run is locked).
    fn sync(&mut self, tx: &mut Transaction, run: &str, space: &SearchSpace, next_id: i64) -> Result<(), PgError> {
        if self.dirty {
            *self = Dedup::default();
        }
        if self.upto >= next_id {
            return Ok(());
        }
        let rows = tx.query("SELECT id, genotype, key FROM nasc_trials WHERE run = $1 AND id >= $2", &[&run, &self.upto]).map_err(sql(run, "read the asked trials' keys"))?;
        for r in rows {
            let id = r.get::<_, i64>(0) as u64;
            let c = decode(r.get(1)).map_err(|why| PgError::BadTrial { run: run.to_string(), id, why: why.to_string() })?;
            let key = r.get::<_, Option<String>>(2).unwrap_or_else(|| space.key(&c));
            self.seen.insert(c, key);
        }
        self.upto = next_id;
        Ok(())
    }
}

/// What an [`exchange`] did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Trials now held by this worker.
    pub claimed: Vec<Claimed>,
    /// Results refused: the worker no longer held the trial (its lease expired).
    pub refused: Vec<u64>,
    /// Trials re-queued because their lease expired.
    pub requeued: Vec<u64>,
    /// Trials failed because their lease expired more than `max_retries` times.
    pub expired: Vec<u64>,
    /// The run's status after the exchange (`running`, `finished`, `exhausted`).
    pub status: String,
    /// Finished trials after the exchange.
    pub done: u64,
    /// The budget in trials (0 for a time budget).
    pub budget: u64,
    /// Whether a result told in this exchange reached the run's `--target`.
    pub target_reached: bool,
}

/// One worker's side of an exchange.
pub struct Request<'a> {
    pub worker: &'a str,
    pub results: &'a [Finished],
    /// How many trials to claim.
    pub want: usize,
    /// Look for expired leases.
    pub check_expired: bool,
}

fn sql<'a>(run: &'a str, what: &'static str) -> impl Fn(postgres::Error) -> PgError + 'a {
    move |e| PgError::Sql { run: run.to_string(), what, source: e }
}

/// Claim up to `want` queued trials (`FOR UPDATE SKIP LOCKED`).
fn claim_queued(tx: &mut Transaction, run: &str, worker: &str, want: usize) -> Result<Vec<Claimed>, PgError> {
    if want == 0 {
        return Ok(Vec::new());
    }
    let rows = tx
        .query(
            "UPDATE nasc_trials t SET state = 'running', worker = $2, heartbeat = clock_timestamp(), attempts = t.attempts + 1
             WHERE t.run = $1 AND t.id IN (SELECT id FROM nasc_trials WHERE run = $1 AND state = 'queued' ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING t.id, t.attempts, t.genotype",
            &[&run, &worker, &(want as i64)],
        )
        .map_err(sql(run, "claim queued trials"))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id = r.get::<_, i64>(0) as u64;
        let candidate = decode(r.get(2)).map_err(|why| PgError::BadTrial { run: run.to_string(), id, why: why.to_string() })?;
        out.push(Claimed { id, attempt: r.get(1), candidate });
    }
    out.sort_by_key(|c| c.id);
    Ok(out)
}

/// Write accepted results as finished trials numbered from `seq0`, in order.
fn write_finished(tx: &mut Transaction, run: &str, rows: &[&Finished], seq0: i64, now: f64) -> Result<(), PgError> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = rows.iter().map(|f| f.id as i64).collect();
    let seqs: Vec<i64> = (0..rows.len() as i64).map(|i| seq0 + i).collect();
    let metrics: Vec<&str> = rows.iter().map(|f| f.metrics.as_str()).collect();
    let rewards: Vec<Option<f64>> = rows.iter().map(|f| f.reward).collect();
    let reported: Vec<Option<f64>> = rows.iter().map(|f| f.reported).collect();
    let status: Vec<&str> = rows.iter().map(|f| if f.error.is_some() { "failed" } else { "ok" }).collect();
    let errors: Vec<Option<&str>> = rows.iter().map(|f| f.error.as_deref()).collect();
    let extra: Vec<Option<&str>> = rows.iter().map(|f| f.extra.as_deref()).collect();
    tx.execute(
        "UPDATE nasc_trials t SET state = 'finished', worker = NULL, heartbeat = NULL, seq = v.seq, metrics = v.metrics, reward = v.reward, reported = v.reported,
           status = v.status, error = v.error, extra = v.extra, sim_time = $10, wall_time = $10
         FROM unnest($2::int8[], $3::int8[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::text[], $9::text[]) AS v(id, seq, metrics, reward, reported, status, error, extra)
         WHERE t.run = $1 AND t.id = v.id",
        &[&run, &ids, &seqs, &metrics, &rewards, &reported, &status, &errors, &extra, &now],
    )
    .map_err(sql(run, "finish trials"))?;
    Ok(())
}

/// The run row, locked.
struct Head {
    status: String,
    version: i64,
    next_id: i64,
    done: i64,
    budget: Budget,
    target: Option<f64>,
    lease: f64,
    max_retries: i32,
    exhausted: bool,
    now: f64,
}

fn lock_run(tx: &mut Transaction, run: &str) -> Result<Head, PgError> {
    let r = tx
        .query_opt(
            "SELECT status, version, next_id, done, budget, lease_seconds, max_retries, exhausted, extract(epoch FROM clock_timestamp()) - created, target FROM nasc_runs WHERE name = $1 FOR UPDATE",
            &[&run],
        )
        .map_err(sql(run, "lock the run"))?
        .ok_or_else(|| PgError::BadRun { run: run.to_string(), why: "the run was deleted".into() })?;
    let budget_text: String = r.get(4);
    let budget = match serde_json::from_str(&budget_text).ok().as_ref().and_then(budget_from) {
        Some(b) => b,
        _ => return Err(PgError::BadRun { run: run.to_string(), why: format!("budget `{budget_text}` is neither a number of trials nor of seconds") }),
    };
    Ok(Head {
        status: r.get(0),
        version: r.get(1),
        next_id: r.get(2),
        done: r.get(3),
        budget,
        lease: r.get(5),
        max_retries: r.get(6),
        exhausted: r.get(7),
        now: r.get::<_, f64>(8),
        target: r.get(9),
    })
}

/// The run's trials not finished (queued or running).
fn open_trials(tx: &mut Transaction, run: &str) -> Result<i64, PgError> {
    Ok(tx.query_one("SELECT count(*) FROM nasc_trials WHERE run = $1 AND state <> 'finished'", &[&run]).map_err(sql(run, "count open trials"))?.get(0))
}

/// Bring the cached strategy to the run's state `version`.
fn sync_strategy(tx: &mut Transaction, run: &str, cache: &mut StrategyCache, version: i64) -> Result<(), PgError> {
    if cache.version == Some(version) {
        return Ok(());
    }
    cache.version = None;
    let text: String = tx.query_one("SELECT strategy_state FROM nasc_runs WHERE name = $1", &[&run]).map_err(sql(run, "read the strategy state"))?.get(0);
    let state: Value = serde_json::from_str(&text).map_err(|e| PgError::BadRun { run: run.to_string(), why: format!("unreadable strategy state: {e}") })?;
    cache.strategy.restore(&state).map_err(|why| PgError::BadRun { run: run.to_string(), why: format!("strategy state: {why}") })?;
    cache.version = Some(version);
    Ok(())
}

/// Report results, handle expired leases and claim new trials, in one transaction (retried on
/// serialization failures, deadlocks and lost connections).
pub fn exchange(conn: &mut Conn, view: &RunView, cache: &mut StrategyCache, req: &Request) -> Result<Outcome, PgError> {
    let run = view.run;
    let r = conn.retry(|c| {
        let mut tx = c.transaction().map_err(sql(run, "begin"))?;
        // nothing to report: take queued trials without the run's lock
        if req.results.is_empty() && !req.check_expired {
            let claimed = claim_queued(&mut tx, run, req.worker, req.want)?;
            if !claimed.is_empty() {
                tx.commit().map_err(sql(run, "claim queued trials"))?;
                return Ok(Outcome { claimed, status: "running".into(), ..Outcome::default() });
            }
        }
        let mut h = lock_run(&mut tx, run)?;
        let mut out = Outcome::default();
        let mut changed = false;
        // results still held by this worker under the same attempt
        let mut accepted: Vec<&Finished> = Vec::new();
        if !req.results.is_empty() {
            let ids: Vec<i64> = req.results.iter().map(|f| f.id as i64).collect();
            let attempts: Vec<i32> = req.results.iter().map(|f| f.attempt).collect();
            let held: HashSet<i64> = tx
                .query(
                    "SELECT id FROM nasc_trials WHERE run = $1 AND state = 'running' AND worker = $2 AND (id, attempts) IN (SELECT * FROM unnest($3::int8[], $4::int4[])) FOR UPDATE",
                    &[&run, &req.worker, &ids, &attempts],
                )
                .map_err(sql(run, "check the leases of results"))?
                .iter()
                .map(|r| r.get(0))
                .collect();
            for f in req.results {
                if held.contains(&(f.id as i64)) {
                    accepted.push(f);
                } else {
                    out.refused.push(f.id);
                }
            }
        }
        // leases that expired: re-queue, or fail after max_retries
        let mut failed: Vec<Finished> = Vec::new();
        if req.check_expired || req.results.is_empty() {
            let rows = tx
                .query(
                    "SELECT id, attempts, genotype FROM nasc_trials WHERE run = $1 AND state = 'running' AND heartbeat < clock_timestamp() - make_interval(secs => $2) ORDER BY id FOR UPDATE SKIP LOCKED",
                    &[&run, &h.lease],
                )
                .map_err(sql(run, "find expired leases"))?;
            let mut requeue: Vec<i64> = Vec::new();
            for r in rows {
                let id: i64 = r.get(0);
                let attempts: i32 = r.get(1);
                if attempts > h.max_retries {
                    let candidate = decode(r.get(2)).map_err(|why| PgError::BadTrial { run: run.to_string(), id: id as u64, why: why.to_string() })?;
                    let c = Claimed { id: id as u64, attempt: attempts, candidate };
                    let why = format!("the lease expired on each of {attempts} attempts (the workers died, or lost the database for over {} s); not retried (max_retries {})", h.lease, h.max_retries);
                    failed.push(view.finished(&c, Err(why), None));
                } else {
                    requeue.push(id);
                }
            }
            if !requeue.is_empty() {
                tx.execute("UPDATE nasc_trials SET state = 'queued', worker = NULL, heartbeat = NULL WHERE run = $1 AND id = ANY($2)", &[&run, &requeue]).map_err(sql(run, "re-queue expired trials"))?;
                out.requeued = requeue.iter().map(|i| *i as u64).collect();
            }
            out.expired = failed.iter().map(|f| f.id).collect();
        }
        let finishing: Vec<&Finished> = accepted.iter().copied().chain(failed.iter()).collect();
        if !finishing.is_empty() {
            write_finished(&mut tx, run, &finishing, h.done, h.now)?;
            sync_strategy(&mut tx, run, cache, h.version)?;
            let told: Vec<Told> = finishing.iter().map(|f| Told { id: f.id, candidate: &f.candidate, reward: f.told, objectives: f.vector.as_deref() }).collect();
            cache.strategy.tell(&told);
            h.done += finishing.len() as i64;
            changed = true;
            // `--target`: a told reward that reaches it finishes the run (trials still running
            // elsewhere are accepted when they report)
            if let Some(t) = h.target.filter(|_| h.status == "running") {
                if finishing.iter().any(|f| f.told.is_some_and(|r| r >= t)) {
                    h.status = "finished".into();
                    out.target_reached = true;
                }
            }
        }
        // a trial budget counts finished trials; a time budget is wall seconds since the run was
        // created (database clock): no new trial after it, finished once none is open
        let within = match h.budget {
            Budget::Trials(n) => (h.done as u64) < n,
            Budget::Time(t) => h.now < t,
        };
        // queued trials (re-queued after a lost lease) are run even past a time budget: they
        // were asked, and the run finishes only when none is open
        if h.status == "running" {
            out.claimed = claim_queued(&mut tx, run, req.worker, req.want)?;
        }
        if h.status == "running" && within {
            let room = match h.budget {
                Budget::Trials(n) => n.saturating_sub(h.next_id as u64) as usize,
                Budget::Time(_) => usize::MAX,
            };
            let k = req.want.saturating_sub(out.claimed.len()).min(room);
            if k > 0 && !h.exhausted {
                sync_strategy(&mut tx, run, cache, h.version)?;
                let dedup = cache.dedup.is_some();
                let seen = match &mut cache.dedup {
                    Some(d) => {
                        d.sync(&mut tx, run, view.space, h.next_id)?;
                        d.dirty = true;
                        Some(&mut d.seen)
                    }
                    None => None,
                };
                let mut ctx = AskCtx::new(view.space, seen);
                let cands = cache.strategy.ask(&mut ctx, k);
                let keys: Vec<Option<String>> = if dedup {
                    if ctx.accepted_keys.len() != cands.len() {
                        return Err(PgError::BadRun {
                            run: run.to_string(),
                            why: format!("strategy `{}` returned candidates it did not accept (AskCtx::accept) on a run that skips duplicates", cache.strategy.name()),
                        });
                    }
                    ctx.accepted_keys.into_iter().map(Some).collect()
                } else {
                    vec![None; cands.len()]
                };
                if let (Some(d), true) = (&mut cache.dedup, cands.is_empty()) {
                    // nothing accepted, no key added: the cache still matches the database
                    d.dirty = false;
                }
                // fewer candidates than asked is not the end while trials are open: a strategy
                // that chooses from results (POPNAS's steps) waits for them; it is exhausted when
                // it has nothing to give and no trial is open (as in the runner)
                if cands.is_empty() {
                    if out.claimed.is_empty() && open_trials(&mut tx, run)? == 0 {
                        h.exhausted = true;
                        changed = true;
                    } else if !changed {
                        // nothing asked or told: the state is not written; the cached strategy
                        // (which may have moved, e.g. its RNG) is restored from the database
                        // next time
                        cache.version = None;
                    }
                }
                if !cands.is_empty() {
                    let ids: Vec<i64> = (0..cands.len() as i64).map(|i| h.next_id + i).collect();
                    let names: Vec<String> = cands.iter().map(|c| view.space.display_name(c)).collect();
                    let genotypes: Vec<String> = cands.iter().map(encode).collect();
                    tx.execute(
                        "INSERT INTO nasc_trials (run, id, state, candidate, genotype, key, attempts, worker, heartbeat, sim_start)
                         SELECT $1, v.id, 'running', v.candidate, v.genotype, v.key, 1, $2, clock_timestamp(), $6 FROM unnest($3::int8[], $4::text[], $5::text[], $7::text[]) AS v(id, candidate, genotype, key)",
                        &[&run, &req.worker, &ids, &names, &genotypes, &h.now, &keys],
                    )
                    .map_err(sql(run, "add asked trials"))?;
                    for (i, c) in cands.into_iter().enumerate() {
                        out.claimed.push(Claimed { id: ids[i] as u64, attempt: 1, candidate: c });
                    }
                    h.next_id += ids.len() as i64;
                    changed = true;
                }
            }
        }
        if h.status == "running" {
            let spent = match h.budget {
                Budget::Trials(n) => h.done as u64 >= n,
                Budget::Time(t) => h.now >= t && open_trials(&mut tx, run)? == 0,
            };
            if spent {
                h.status = "finished".into();
                changed = true;
            } else if h.exhausted && open_trials(&mut tx, run)? == 0 {
                h.status = "exhausted".into();
                changed = true;
            }
        }
        if changed {
            let (state, version) = match cache.version {
                Some(v) if v == h.version => (Some(cache.strategy.state().to_string()), h.version + 1),
                _ => (None, h.version),
            };
            tx.execute(
                "UPDATE nasc_runs SET strategy_state = COALESCE($2, strategy_state), version = $3, next_id = $4, done = $5, status = $6, exhausted = $7, updated = extract(epoch FROM clock_timestamp()) WHERE name = $1",
                &[&run, &state, &version, &h.next_id, &h.done, &h.status, &h.exhausted],
            )
            .map_err(sql(run, "update the run"))?;
            // the cache matches the new version once the transaction commits
            cache.version = None;
            tx.commit().map_err(sql(run, "commit"))?;
            if state.is_some() {
                cache.version = Some(version);
            }
            if let Some(d) = &mut cache.dedup {
                if d.dirty {
                    d.dirty = false;
                    d.upto = h.next_id;
                }
            }
        } else {
            tx.commit().map_err(sql(run, "commit"))?;
        }
        out.status = h.status;
        out.done = h.done as u64;
        out.budget = match h.budget {
            Budget::Trials(n) => n,
            Budget::Time(_) => 0,
        };
        Ok(out)
    });
    if r.is_err() {
        cache.version = None;
    }
    r
}

/// Refresh the heartbeat of every running trial held by `workers`; returns how many.
pub fn heartbeat(conn: &mut Conn, run: &str, workers: &[String]) -> Result<u64, PgError> {
    conn.retry(|c| {
        c.execute("UPDATE nasc_trials SET heartbeat = clock_timestamp() WHERE run = $1 AND state = 'running' AND worker = ANY($2)", &[&run, &workers])
            .map_err(sql(run, "heartbeat"))
    })
}

/// Give back the trials `worker` holds and will not evaluate (a clean stop): queued again, the
/// attempt not counted.
pub fn release(conn: &mut Conn, run: &str, worker: &str) -> Result<u64, PgError> {
    conn.retry(|c| {
        c.execute(
            "UPDATE nasc_trials SET state = 'queued', worker = NULL, heartbeat = NULL, attempts = attempts - 1 WHERE run = $1 AND state = 'running' AND worker = $2",
            &[&run, &worker],
        )
        .map_err(sql(run, "give back trials"))
    })
}

//! Explicit spaces of PostgreSQL runs: `nasc_spaces` (schema version 3) is the SQLite store's
//! `spaces` table with the run's name in the key. A run made with `--space-from` keeps its `input`
//! space there, written in the transaction that creates the run, so every worker that joins it
//! searches the same members. A `lissnas` run's shrunk space is read from its strategy state
//! ([`load_shrunk`]), as `nasc search --space-from postgresql://...#RUN` does.
use super::{short_hash, Conn, PgError};
use crate::space::{decode, encode};
use crate::store::{SavedSpace, SpaceRole};
use crate::strategy::lissnas::{self, ShrunkSpace};
use nasc_compiler::Candidate;
use postgres::Transaction;
use serde_json::Value;

fn sql<'a>(run: &'a str, what: &'static str) -> impl Fn(postgres::Error) -> PgError + 'a {
    move |e| PgError::Sql { run: run.to_string(), what, source: e }
}

/// Save (or replace) run `run`'s explicit space of `role`, members sorted and distinct, inside
/// the caller's transaction.
pub fn save_space(tx: &mut Transaction, run: &str, role: SpaceRole, spec_hash: &str, members: &[Candidate], stats: &Value) -> Result<(), PgError> {
    let mut m: Vec<&Candidate> = members.iter().collect();
    m.sort_unstable();
    m.dedup();
    let list = Value::Array(m.iter().map(|c| Value::String(encode(c))).collect());
    tx.execute(
        "INSERT INTO nasc_spaces (run, role, spec_hash, size, members, stats, created) VALUES ($1, $2, $3, $4, $5, $6, extract(epoch FROM clock_timestamp()))
         ON CONFLICT (run, role) DO UPDATE SET spec_hash = EXCLUDED.spec_hash, size = EXCLUDED.size, members = EXCLUDED.members, stats = EXCLUDED.stats, created = EXCLUDED.created",
        &[&run, &role.as_str(), &spec_hash, &(m.len() as i64), &list.to_string(), &stats.to_string()],
    )
    .map_err(sql(run, "save the run's space"))?;
    Ok(())
}

/// Run `run`'s explicit space of `role`, if it has one.
pub fn read_space(conn: &mut Conn, run: &str, role: SpaceRole) -> Result<Option<SavedSpace>, PgError> {
    let row = conn.retry(|c| {
        c.query_opt("SELECT spec_hash, size, members, stats FROM nasc_spaces WHERE run = $1 AND role = $2", &[&run, &role.as_str()]).map_err(sql(run, "read the run's space"))
    })?;
    let Some(r) = row else { return Ok(None) };
    let (spec_hash, size, members, stats): (String, i64, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
    let bad = |why: String| PgError::BadRun { run: run.to_string(), why: format!("corrupt {} space: {why}", role.as_str()) };
    let members: Vec<String> = serde_json::from_str(&members).map_err(|e| bad(e.to_string()))?;
    if members.len() as i64 != size {
        return Err(bad(format!("{} members, size says {size}", members.len())));
    }
    Ok(Some(SavedSpace { spec_hash, size: size as usize, members, stats: serde_json::from_str(&stats).unwrap_or(Value::Null) }))
}

/// The members of a saved space.
pub fn members(run: &str, saved: &SavedSpace) -> Result<Vec<Candidate>, PgError> {
    saved.members.iter().map(|g| decode(g)).collect::<Result<Vec<_>, _>>().map_err(|why| PgError::BadRun { run: run.to_string(), why: format!("corrupt space member: {why}") })
}

/// The shrunk space of `lissnas` run `run`, for a run of the spec that hashes to `spec_hash`
/// (`--space-from postgresql://...#RUN`). Refused: another strategy's run, a run still
/// shrinking, a first step that did not shrink, a run of another spec.
pub fn load_shrunk(conn: &mut Conn, run: &str, spec_hash: &str) -> Result<Vec<Candidate>, PgError> {
    let url = conn.url().to_string();
    let row = conn.retry(|c| c.query_opt("SELECT strategy, spec_hash, spec_path, strategy_state FROM nasc_runs WHERE name = $1", &[&run]).map_err(sql(run, "read the run")))?;
    let Some(r) = row else { return Err(PgError::NoRun { run: run.to_string(), url }) };
    let (strategy, stored_hash, stored_path, state): (String, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
    let none = |why: &str| Err(PgError::NoShrunkSpace { run: run.to_string(), why: why.to_string() });
    if strategy != "lissnas" {
        return none(&format!("it is a `{strategy}` run; only a `lissnas` run shrinks its space"));
    }
    if stored_hash != spec_hash {
        return Err(PgError::SpecMismatch { run: run.to_string(), stored_path, stored_hash: short_hash(&stored_hash), hash: short_hash(spec_hash) });
    }
    let state: Value = serde_json::from_str(&state).map_err(|e| PgError::BadRun { run: run.to_string(), why: format!("unreadable strategy state: {e}") })?;
    match lissnas::shrunk_space(&state).map_err(|e| PgError::BadRun { run: run.to_string(), why: format!("strategy state: {e}") })? {
        ShrunkSpace::StillShrinking => none("it stopped before its first shrinking step was accepted"),
        ShrunkSpace::NotShrunk => none("its first step did not raise the mean predicted accuracy, so its output is the whole space"),
        ShrunkSpace::Shrunk { members, .. } | ShrunkSpace::Partial { members, .. } => Ok(members),
    }
}

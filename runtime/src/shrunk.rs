//! The caller's side of LISSNAS's output: the strategy returns its shrunk space
//! ([`lissnas::shrunk_space`], read from the run's latest checkpoint) and this saves it into the
//! run's store, so that `nasc search --space-from` can use it. Strategies never see the store.
use crate::error::RunError;
use crate::store::{SpaceRole, SqliteStore, StoredRun};
use crate::strategy::lissnas::{self, ShrunkSpace};
use serde_json::json;

/// What [`save_shrunk_space`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    /// The run's strategy is not `lissnas`.
    NotLissnas,
    /// The run stopped before the shrinking ended.
    StillShrinking,
    /// The first step did not raise the mean predicted accuracy: the output is the whole space.
    NotShrunk,
    /// The shrunk space (this many members) is saved.
    Saved(usize),
    /// The run stopped while shrinking after this many accepted steps: the last accepted space
    /// (this many members) is saved, marked incomplete.
    SavedPartial { members: usize, accepted: usize },
}

/// Save the shrunk space of a stored `lissnas` run (from its latest checkpoint) into its store,
/// with the steps' statistics, so that `nasc search --space-from` can use it.
pub fn save_shrunk_space(store: &mut SqliteStore, run: &StoredRun) -> Result<SaveOutcome, RunError> {
    if run.meta.strategy != "lissnas" {
        return Ok(SaveOutcome::NotLissnas);
    }
    let Some((_, ck)) = &run.checkpoint else {
        return Ok(SaveOutcome::StillShrinking);
    };
    let st = ck.get("strategy").ok_or(RunError::NoStrategyState)?;
    match lissnas::shrunk_space(st).map_err(RunError::Restore)? {
        ShrunkSpace::StillShrinking => Ok(SaveOutcome::StillShrinking),
        ShrunkSpace::NotShrunk => Ok(SaveOutcome::NotShrunk),
        ShrunkSpace::Shrunk { members, steps, queries } => {
            save(store, run, &members, steps, queries, None)?;
            Ok(SaveOutcome::Saved(members.len()))
        }
        ShrunkSpace::Partial { members, steps, queries, accepted } => {
            save(store, run, &members, steps, queries, Some(accepted))?;
            Ok(SaveOutcome::SavedPartial { members: members.len(), accepted })
        }
    }
}

/// Saves a shrunk space with its statistics; `partial`: the accepted steps of a shrinking the
/// budget ended (the space is then marked `"complete": false`).
fn save(store: &mut SqliteStore, run: &StoredRun, members: &[nasc_compiler::Candidate], steps: serde_json::Value, queries: usize, partial: Option<usize>) -> Result<(), RunError> {
    let stats = json!({
        "method": "lissnas",
        "size": members.len(),
        "complete": partial.is_none(),
        "accepted_steps": partial,
        "steps": steps,
        "queries": queries,
        "seed": run.meta.seed,
        "config": run.meta.strategy_config,
        "evaluator": run.meta.evaluator,
    });
    Ok(store.save_space(SpaceRole::Shrunk, &run.meta.spec_hash, members, &stats)?)
}

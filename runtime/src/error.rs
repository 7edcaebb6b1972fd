//! The typed errors of the runtime beyond the store's (`store::StoreError`): a run that
//! cannot go on ([`RunError`], which wraps the others). Each variant keeps what the user needs;
//! messages are lowercase with user input in backticks, and callers render them (`to_string`,
//! or `?` through `From<_> for String`).
use crate::store::StoreError;

/// Why a run (new or resumed) cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored run's objectives cannot be read.
    #[error("{0}")]
    Objectives(String),
    /// The checkpoint's strategy state cannot be restored.
    #[error("{0}")]
    Restore(String),
    /// A stored candidate that does not decode.
    #[error("{0}")]
    Decode(String),
    #[error("the store has trials but no checkpoint")]
    NoCheckpoint,
    #[error("the store's checkpoint ({checkpoint} trials) does not match its {trials} trials")]
    CheckpointMismatch { checkpoint: u64, trials: usize },
    /// The checkpoint has no strategy state (saving a LISSNAS run's shrunk space).
    #[error("checkpoint lacks the strategy state")]
    NoStrategyState,
    #[error("unreadable checkpoint: {0}")]
    Checkpoint(#[source] serde_json::Error),
    /// Trial `id` is in flight in the checkpoint, neither failed nor with a reward.
    #[error("checkpoint: in-flight trial without result")]
    NoResult { id: u64 },
    #[error("evaluator `{evaluator}` returned {results} results for {candidates} candidates")]
    ResultCount { evaluator: String, results: usize, candidates: usize },
    #[error("strategy `{strategy}` returned candidates it did not accept")]
    Unaccepted { strategy: String },
    #[error("internal: a peeked trial was gone")]
    PeekedGone,
    /// The real parallel workers' threads are gone.
    #[error("every evaluation thread has stopped")]
    PoolStopped,
}

impl From<RunError> for String {
    fn from(e: RunError) -> String {
        e.to_string()
    }
}

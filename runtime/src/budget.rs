//! The budget of a run: when the runner stops. Its own module so that evaluators (their default
//! budget), the store (the run's budget) and reports read it without importing the runner.

/// When a run stops: after a number of trials, or when the simulated clock would pass a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    Trials(u64),
    /// Simulated seconds: a trial that would finish after this is not counted (NB201 protocol).
    Time(f64),
}

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Budget::Trials(n) => write!(f, "{n} trials"),
            Budget::Time(s) => write!(f, "{s} simulated s"),
        }
    }
}

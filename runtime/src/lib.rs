//! nasc-runtime: the search machinery every strategy shares.
//!
//! - [`space::SearchSpace`]: the door to the compiled space (sampling, feasibility, names,
//!   keys, neighbors, metrics; LayerNAS reaches `CompiledSpace`'s public prefix API through
//!   [`space::SearchSpace::compiled`], never the compiler's internals).
//! - [`strategy`]: ask/tell strategies with serializable state (random search, regularized
//!   evolution).
//! - [`eval`]: evaluators; tabular NAS-Bench-201 / NAS-Bench-Macro / Channel-Bench-Macro from
//!   embedded tables, with simulated training time.
//! - [`store`]: the durable SQLite trial store (and an in-memory one).
//! - [`budget::Budget`]: when a run stops (trials or simulated seconds).
//! - [`runner::Runner`]: budget, seeds, simulated parallel workers, stop conditions, exact resume.
//! - [`report`]: summaries (text, JSON) and hand-written SVG plots of a stored run.
pub mod budget;
pub mod compare;
pub mod constraint;
pub mod error;
pub mod eval;
pub mod loader;
pub mod nn;
pub mod objective;
pub mod pareto;
pub mod predict;
pub mod report;
pub mod runner;
pub mod shrunk;
pub mod space;
pub mod spec;
pub mod store;
pub mod strategy;
pub mod svg;
pub mod worker;

pub use budget::Budget;
pub use runner::{RunConfig, Runner, StopReason, Summary};
pub use space::SearchSpace;

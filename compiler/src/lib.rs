//! nasc-compiler: name resolution and checks, the abstract evaluator that lowers a spec into a
//! petgraph IR and exact cost tables, and the passes over them (shape inference, derived
//! params/FLOPs, constant folding, exact space size, metric bounds). No IO, no panics on input.
pub mod check;
pub mod compile;
pub mod compiled;
pub mod decision;
pub mod deps;
pub mod error;
pub mod factors;
pub mod front;
pub mod graph;
pub mod ids;
pub mod interp;
pub mod ir;
pub mod metrics;
pub mod moves;
pub mod naming;
pub mod program;
pub mod rng;
pub mod simplify;
pub mod space;

pub use compile::{compile, compile_reference, Loader, NoFiles, Options};
pub use decision::{Candidate, Slot};
pub use error::{BuildError, CandidateError, CostError, Expected, JitError, Mismatch, NameError, PlanError, SampleError, TraceError};
pub use space::Space;

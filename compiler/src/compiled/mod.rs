//! `CompiledSpace`: the functions every strategy calls, behind one safe API with two backends,
//! the reference interpreter over the lowered `Plan` and a cranelift JIT (`jit`, the only
//! module with `unsafe`). Rows are `u64` slots (see `plan`); batches are rows laid end to end.
//!
//! The JIT compiles metrics and feasibility (the hot path), the sampling program, the neighbor
//! program and the discretizers; the interpreter runs the same plan programs, and both give
//! the same bits for the same inputs and seed. A JIT-compiled space runs each function on the
//! faster implementation (`Paths::choose`). Keys, names and prefix bounds run the same Rust
//! code in both backends.
pub mod discretize;
pub mod interp;
mod jit;
pub mod neighbor;
pub mod plan;
pub mod prefix;

use crate::decision::Candidate;
use crate::error::{BuildError, NameError};
use crate::rng::Rng;
use crate::space::Space;
use nasc_grammar::ast::Expr;
use plan::{decode_slot, encode_slot, Plan, ABSENT};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Interp,
    Jit,
}

/// Which implementation runs each function of a space. Under `Backend::Jit` every function
/// is compiled, and the faster one is chosen per function by a fixed rule (`Paths::choose`);
/// under `Backend::Interp` everything is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paths {
    pub eval: Backend,
    pub sample: Backend,
    pub neighbor: Backend,
    pub discretize: Backend,
}

impl Paths {
    /// The rule: under `Backend::Jit`, the compiled code for every function. Metrics +
    /// feasibility, sampling and neighbors measured faster compiled than interpreted on every
    /// zoo spec (README, Performance); the discretizers are not timed (called once per L2NAS
    /// episode). Sampling was the exception (interpreted where at least half of the decisions
    /// were subsets) while the compiled sampler called back into Rust for each subset draw;
    /// with the draw inlined it is faster there too (nse 1.9 vs 1.4 M/s).
    pub fn choose(_plan: &Plan, backend: Backend) -> Paths {
        Paths { eval: backend, sample: backend, neighbor: backend, discretize: backend }
    }

    /// E.g. `eval jit, sample interp, neighbor jit, discretize jit`.
    pub fn describe(&self) -> String {
        let n = |b: Backend| if b == Backend::Jit { "jit" } else { "interp" };
        format!("eval {}, sample {}, neighbor {}, discretize {}", n(self.eval), n(self.sample), n(self.neighbor), n(self.discretize))
    }
}

pub struct CompiledSpace {
    pub space: Arc<Space>,
    pub plan: Plan,
    pub backend: Backend,
    /// the implementation each function runs (see `Paths::choose`)
    pub paths: Paths,
    jit: Option<jit::JitFns>,
}

impl CompiledSpace {
    /// Lower `space` with `extra` run-time constraints and compile it for `backend`.
    pub fn new(space: Arc<Space>, backend: Backend, extra: &[Expr]) -> Result<Self, BuildError> {
        Self::build(space, backend, extra, false)
    }

    /// `new` with `Backend::Jit`, running cranelift's IR verifier on every compiled function
    /// (an error if one is malformed). The differential tests and the fuzz target compile
    /// this way; `new` skips the verifier, which is about 40% of the JIT's compile time.
    pub fn verified(space: Arc<Space>, extra: &[Expr]) -> Result<Self, BuildError> {
        Self::build(space, Backend::Jit, extra, true)
    }

    fn build(space: Arc<Space>, backend: Backend, extra: &[Expr], verify: bool) -> Result<Self, BuildError> {
        let plan = Plan::new(&space, extra)?;
        let jit = match backend {
            Backend::Jit => Some(jit::JitFns::compile(&plan, verify)?),
            Backend::Interp => None,
        };
        let paths = Paths::choose(&plan, backend);
        Ok(CompiledSpace { space, plan, backend, paths, jit })
    }

    /// The same space with every function on the compiled code (`Backend::Jit` only; the
    /// differential tests use it to test the compiled functions the rule does not choose).
    pub fn all_jit(mut self) -> Self {
        if self.jit.is_some() {
            self.paths = Paths { eval: Backend::Jit, sample: Backend::Jit, neighbor: Backend::Jit, discretize: Backend::Jit };
        }
        self
    }

    /// The compiled code of a function when its path is the JIT.
    fn jit_for(&self, path: Backend) -> Option<&jit::JitFns> {
        match path {
            Backend::Jit => self.jit.as_ref(),
            Backend::Interp => None,
        }
    }

    pub fn n_dec(&self) -> usize {
        self.plan.n_dec
    }
    pub fn n_metrics(&self) -> usize {
        self.plan.n_metrics()
    }
    pub fn metric_names(&self) -> &[String] {
        &self.plan.metric_names
    }

    pub fn encode(&self, c: &Candidate) -> Vec<u64> {
        c.0.iter().map(|s| encode_slot(*s)).collect()
    }
    pub fn decode(&self, row: &[u64]) -> Candidate {
        Candidate(self.space.decisions.iter().zip(row).map(|(d, v)| decode_slot(&d.kind, *v)).collect())
    }
    /// The candidate's name in the spec's format, and back.
    pub fn name_of(&self, row: &[u64]) -> String {
        self.space.name_of(&self.decode(row))
    }
    pub fn parse_name(&self, name: &str) -> Result<Vec<u64>, NameError> {
        self.space.parse_name(name).map(|c| self.encode(&c))
    }

    /// Metrics of `rows.len() / n_dec` candidates into `out` (`n_metrics` per candidate).
    pub fn metrics_batch(&self, rows: &[u64], out: &mut [f64]) {
        let (nd, nm) = (self.n_dec().max(1), self.n_metrics());
        let n = (rows.len() / nd).min(out.len().checked_div(nm).unwrap_or(usize::MAX));
        match self.jit_for(self.paths.eval) {
            Some(j) => {
                j.metrics_batch(rows, n, out);
            }
            None => {
                for i in 0..n {
                    interp::metrics(&self.plan, &rows[i * nd..(i + 1) * nd], &mut out[i * nm..(i + 1) * nm]);
                }
            }
        }
    }

    /// Metrics and feasibility (spec and run-time constraints) of a batch.
    pub fn eval_batch(&self, rows: &[u64], metrics: &mut [f64], feasible: &mut [u8]) {
        let (nd, nm) = (self.n_dec().max(1), self.n_metrics());
        let n = (rows.len() / nd).min(feasible.len()).min(metrics.len().checked_div(nm).unwrap_or(usize::MAX));
        match self.jit_for(self.paths.eval) {
            Some(j) => {
                j.eval_batch(rows, n, metrics, feasible);
            }
            None => {
                for i in 0..n {
                    let row = &rows[i * nd..(i + 1) * nd];
                    let m = &mut metrics[i * nm..(i + 1) * nm];
                    interp::metrics(&self.plan, row, m);
                    feasible[i] = u8::from(interp::feasible(&self.plan, row, m));
                }
            }
        }
    }

    pub fn metrics(&self, row: &[u64]) -> Vec<f64> {
        let mut out = vec![0.0; self.n_metrics()];
        self.metrics_batch(row, &mut out);
        out
    }

    pub fn feasible(&self, row: &[u64]) -> bool {
        let mut m = vec![0.0; self.n_metrics()];
        let mut f = [0u8];
        self.eval_batch(row, &mut m, &mut f);
        f[0] == 1
    }

    /// A uniform random valid candidate (each existing decision uniform over its values).
    /// Both backends run the plan's sampling program, so the same `rng` gives the same row
    /// (and the same row as `Space::sample_one`).
    pub fn sample(&self, rng: &mut Rng) -> Vec<u64> {
        let mut row = vec![0; self.plan.n_dec];
        self.sample_batch(rng, &mut row);
        row
    }

    /// Fill `out` (whole rows) with consecutive samples from `rng`.
    pub fn sample_batch(&self, rng: &mut Rng, out: &mut [u64]) {
        let n_dec = self.plan.n_dec;
        if n_dec == 0 {
            return;
        }
        let whole = out.len() / n_dec * n_dec;
        let out = &mut out[..whole];
        match self.jit_for(self.paths.sample) {
            Some(j) => {
                j.sample_batch(rng, out);
            }
            None => out.chunks_exact_mut(n_dec).for_each(|row| interp::sample_row(&self.plan, rng, row)),
        }
    }

    /// A uniform random feasible candidate by rejection (None after `tries` draws).
    pub fn sample_feasible(&self, rng: &mut Rng, tries: usize) -> Option<Vec<u64>> {
        (0..tries).map(|_| self.sample(rng)).find(|r| self.feasible(r))
    }

    /// A valid neighbor at edit distance `k` (see `moves`); `feasible` asks for a feasible one
    /// (up to 256 neighbors are drawn). Both backends run the plan's neighbor program, so the
    /// same `rng` gives the same neighbor (and the same as `Space::neighbor`); `row` must be a
    /// row of this space (`n_dec` slots).
    pub fn neighbor(&self, row: &[u64], k: usize, feasible: bool, rng: &mut Rng) -> Option<Vec<u64>> {
        if row.len() != self.plan.n_dec {
            return None;
        }
        let mut out = vec![ABSENT; self.plan.n_dec];
        for _ in 0..if feasible { 256 } else { 1 } {
            let found = match self.jit_for(self.paths.neighbor) {
                Some(j) => j.neighbor(row, k, rng, &mut out),
                None => neighbor::neighbor_row(&self.plan, row, k, rng, &mut out),
            };
            if !found {
                return None;
            }
            if !feasible || self.feasible(&out) {
                return Some(out);
            }
        }
        None
    }

    /// The canonical key (see `graph::NetGraph::key`).
    pub fn key(&self, row: &[u64]) -> String {
        self.space.key(&self.decode(row))
    }
}

//! LISSNAS: Locality-based Iterative Search Space Shrinkage (Gopal et al., IJCAI 2023).
//!
//! Two ways in:
//! - [`shrink`]: shrink a space with a real-evaluation oracle and get the shrunk space (an
//!   explicit sorted candidate set) with the steps' statistics ([`stats`] computes the paper's
//!   statistics against true accuracies).
//! - [`Lissnas`], registered as strategy `lissnas`: its first asks are the queries the
//!   shrinking needs (see [`shrink`](mod@shrink) for the procedure); once the shrunk space is
//!   known, the rest of the budget searches inside it. Inner search (`inner`):
//!   - `rs` (default): uniform random search over the shrunk space's members, without repeats
//!     (a member already queried is not asked again); the paper searches its shrunk spaces with
//!     one-shot NAS, which has no tabular counterpart, and argues a shrunk space helps any
//!     search, so plain random search is the neutral choice;
//!   - `greedy`: the members in order of the predictor's accuracy (retrained on every result told
//!     so far at each ask).
//!
//!   When every member has been asked, or the shrinking did not shrink, the inner search
//!   samples the whole space uniformly.
//!
//! The shrunk space is part of the strategy state ([`shrunk_space`] reads it back). The strategy
//! never writes the store: `nasc search` saves the space in the run's store (`crate::shrunk`),
//! from where `nasc search --space-from` restricts any other strategy to it.
//!
//! Hyper-parameters (the paper gives only the >= 1000 samples, the XGBoost predictor and the 1/3
//! edit-distance threshold; the rest are this implementation's choices, see docs/lissnas.md):
//! `init_queries` 40, `samples` 1000, `seeds` 100, `neighbors` 20, `edit_fraction` 1/3,
//! `iter_queries` 10, `max_iters` 10, predictor = XGBoost's defaults.
pub mod shrink;
pub mod stats;

pub use shrink::{shrink, Shrinker, Shrunk, StepStat};

use super::{AskCtx, StateError, Strategy, Told, MAX_TRIES};
use crate::predict::gbdt::GbdtError;
use crate::predict::GbdtConfig;
use crate::space::{decode, encode};
use nasc_compiler::Candidate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LissnasConfig {
    /// Uniform random real queries the first predictor is trained on.
    pub init_queries: usize,
    /// Random candidates scored by the predictor to stand for the whole space (paper: >= 1000).
    pub samples: usize,
    /// Seeds (best predicted members) per step.
    pub seeds: usize,
    /// Neighbor draws per seed.
    pub neighbors: usize,
    /// Neighbors lie within this fraction of the total edit distance (paper: 1/3).
    pub edit_fraction: f64,
    /// Real queries per accepted step (the best predicted new members).
    pub iter_queries: usize,
    /// At most this many accepted steps.
    pub max_iters: usize,
    /// Search inside the shrunk space: `rs` or `greedy`.
    pub inner: String,
    pub predictor: GbdtConfig,
}

impl Default for LissnasConfig {
    fn default() -> Self {
        LissnasConfig {
            init_queries: 40,
            samples: 1000,
            seeds: 100,
            neighbors: 20,
            edit_fraction: 1.0 / 3.0,
            iter_queries: 10,
            max_iters: 10,
            inner: "rs".into(),
            predictor: GbdtConfig::default(),
        }
    }
}

/// Why a [`LissnasConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LissnasConfigError {
    #[error("lissnas: `init_queries` must be at least 2 (the predictor needs data), not {0}")]
    InitQueries(usize),
    #[error("lissnas: `samples` and `seeds` must be at least 1")]
    SamplesSeeds,
    #[error("lissnas: `edit_fraction` must be in (0, 1], not `{0}`")]
    EditFraction(f64),
    #[error("lissnas: unknown inner search `{0}` (known: rs, greedy)")]
    Inner(String),
    /// The predictor's settings.
    #[error(transparent)]
    Predictor(#[from] GbdtError),
}

impl From<LissnasConfigError> for String {
    fn from(e: LissnasConfigError) -> String {
        e.to_string()
    }
}

impl LissnasConfig {
    pub fn validate(&self) -> Result<(), LissnasConfigError> {
        if self.init_queries < 2 {
            return Err(LissnasConfigError::InitQueries(self.init_queries));
        }
        if self.samples == 0 || self.seeds == 0 {
            return Err(LissnasConfigError::SamplesSeeds);
        }
        if !(self.edit_fraction > 0.0 && self.edit_fraction <= 1.0) {
            return Err(LissnasConfigError::EditFraction(self.edit_fraction));
        }
        if self.inner != "rs" && self.inner != "greedy" {
            return Err(LissnasConfigError::Inner(self.inner.clone()));
        }
        Ok(self.predictor.validate()?)
    }
}

/// The checkpointed state: the shrinker's ([`Shrinker::state`]) and the inner search's pool.
#[derive(Serialize, Deserialize)]
struct LissnasState {
    shrinker: Value,
    inner_pool: Option<Vec<String>>,
}

pub struct Lissnas {
    shrinker: Shrinker,
    /// Members of the shrunk space not asked yet, in the order the inner search asks them
    /// (for `rs`: drawn lazily, so kept as a pool).
    inner_pool: Option<Vec<Candidate>>,
}

impl Lissnas {
    pub fn new(cfg: LissnasConfig, seed: u64) -> Self {
        Lissnas { shrinker: Shrinker::new(cfg, seed), inner_pool: None }
    }

    /// The shrunk space once the shrinking has ended: Some(Some(members)) or Some(None) (not
    /// shrunk); None while shrinking.
    pub fn shrunk(&self) -> Option<Option<&[Candidate]>> {
        self.shrinker.result.as_ref().map(|r| r.as_deref())
    }

    pub fn history(&self) -> &[StepStat] {
        &self.shrinker.history
    }

    fn start_inner(&mut self) {
        if self.inner_pool.is_none() {
            let members = self.shrinker.result.clone().flatten().unwrap_or_default();
            self.inner_pool = Some(members.into_iter().filter(|c| !self.shrinker.was_asked(c)).collect());
        }
    }

    fn inner_next(&mut self, ctx: &mut AskCtx) -> Option<Candidate> {
        self.start_inner();
        let greedy = self.shrinker.cfg.inner == "greedy";
        let model = if greedy { self.shrinker.predictor(ctx.space) } else { None };
        loop {
            let pool = self.inner_pool.as_mut().expect("started");
            if pool.is_empty() {
                break;
            }
            let i = match &model {
                Some((m, enc)) => {
                    let mut best = 0;
                    let mut bv = f64::NEG_INFINITY;
                    for (j, c) in pool.iter().enumerate() {
                        let v = m.predict(&enc.dense(c));
                        if v > bv {
                            (best, bv) = (j, v);
                        }
                    }
                    best
                }
                None => self.shrinker.rng.below(pool.len() as u64) as usize,
            };
            let c = pool.swap_remove(i);
            if !self.shrinker.was_asked(&c) && ctx.accept(&c) {
                self.shrinker.mark_asked(&c);
                return Some(c);
            }
        }
        // the shrunk space is used up (or there is none): the whole space
        for _ in 0..MAX_TRIES {
            let c = ctx.space.sample(&mut self.shrinker.rng);
            if !self.shrinker.was_asked(&c) && ctx.accept(&c) {
                self.shrinker.mark_asked(&c);
                return Some(c);
            }
        }
        ctx.random_accepted(&mut self.shrinker.rng, MAX_TRIES)
    }
}

/// The shrunk space recorded in a `lissnas` strategy state (as stored in a run's checkpoint):
/// None while shrinking, Some(None) if it did not shrink, else the sorted members.
pub fn shrunk_from_state(state: &Value) -> Result<Option<Option<Vec<Candidate>>>, StateError> {
    Ok(shrink::output_of(shrinker_state(state)?)?.result)
}

fn shrinker_state(state: &Value) -> Result<&Value, StateError> {
    state.get("shrinker").ok_or(StateError::NoShrinker)
}

impl Strategy for Lissnas {
    fn name(&self) -> &'static str {
        "lissnas"
    }
    fn config(&self) -> Value {
        serde_json::to_value(&self.shrinker.cfg).unwrap_or(Value::Null)
    }
    fn ask(&mut self, ctx: &mut AskCtx, n: usize) -> Vec<Candidate> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let c = if !self.shrinker.finished() {
                let space = ctx.space;
                let mut accept = |c: &Candidate| ctx.accept(c);
                match self.shrinker.next_query(space, &mut accept) {
                    Some(c) => Some(c),
                    // a step waits for the results in flight: ask nothing for now
                    None if !self.shrinker.finished() => break,
                    None => self.inner_next(ctx),
                }
            } else {
                self.inner_next(ctx)
            };
            match c {
                Some(c) => out.push(c),
                None => break,
            }
        }
        out
    }
    fn tell(&mut self, results: &[Told]) {
        for r in results {
            self.shrinker.tell(r.candidate, r.reward);
        }
    }
    fn state(&self) -> Value {
        let st = LissnasState { shrinker: self.shrinker.state(), inner_pool: self.inner_pool.as_ref().map(|p| p.iter().map(encode).collect()) };
        serde_json::to_value(st).unwrap_or(Value::Null)
    }
    fn restore(&mut self, state: &Value) -> Result<(), StateError> {
        let st: LissnasState = super::state_from("lissnas", state)?;
        self.shrinker.restore(&st.shrinker)?;
        self.inner_pool = st.inner_pool.map(|p| p.iter().map(|x| decode(x)).collect::<Result<_, _>>()).transpose()?;
        Ok(())
    }
}

/// The shrunk space a `lissnas` run ends with, as its strategy state records it. The strategy
/// only returns it; the caller saves it (`crate::shrunk::save_shrunk_space`).
#[derive(Debug, Clone, PartialEq)]
pub enum ShrunkSpace {
    /// The run stopped before the shrinking ended.
    StillShrinking,
    /// The first step did not raise the mean predicted accuracy: the output is the whole space.
    NotShrunk,
    /// The shrunk space: its sorted members, the steps' statistics and the real queries made.
    Shrunk { members: Vec<Candidate>, steps: Value, queries: usize },
    /// The run stopped (its budget) while shrinking, after `accepted` accepted steps: the last
    /// accepted space S_t, with the same statistics.
    Partial { members: Vec<Candidate>, steps: Value, queries: usize, accepted: usize },
}

/// The shrunk space recorded in a `lissnas` strategy state (as stored in a run's checkpoint).
pub fn shrunk_space(state: &Value) -> Result<ShrunkSpace, StateError> {
    let out = shrink::output_of(shrinker_state(state)?)?;
    let steps = serde_json::to_value(&out.history).unwrap_or(Value::Null);
    let queries = out.queries;
    Ok(match (out.result, out.current) {
        (None, None) => ShrunkSpace::StillShrinking,
        (None, Some(mut members)) => {
            members.sort();
            let accepted = out.history.iter().filter(|s| s.accepted).count();
            ShrunkSpace::Partial { members, steps, queries, accepted }
        }
        (Some(None), _) => ShrunkSpace::NotShrunk,
        (Some(Some(members)), _) => ShrunkSpace::Shrunk { members, steps, queries },
    })
}

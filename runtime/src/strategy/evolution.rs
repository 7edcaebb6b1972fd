//! Regularized (aging) evolution, Real et al. 2019, Algorithm 1, in its asynchronous form.
//!
//! The first `population` candidates asked are uniform random. After that each ask draws
//! `sample_size` members of the population uniformly *with replacement* (as Algorithm 1 and the
//! NAS-Bench-201 reference code do), takes the one with the highest reward as parent (the first
//! drawn on ties) and mutates it: a neighbor at edit distance `mutation_distance` (each changed
//! decision takes a different value, like the NB201 code's "switch one op to another").
//! Each told result joins the population; when it exceeds `population`, the oldest member dies.
//! Infeasible or (when asked) duplicate children are redrawn; after 100 failed mutations of one
//! parent a random accepted candidate is used instead.
use super::{state_from, stream_seed, AskCtx, StateError, Strategy, Told, MAX_TRIES};
use crate::space::{decode, encode};
use nasc_compiler::rng::Rng;
use nasc_compiler::Candidate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;

/// The checkpointed state: the RNG position, the asks so far and the population, oldest first,
/// as `[canonical genotype, reward]` pairs.
#[derive(Serialize, Deserialize)]
struct State {
    rng_counter: u64,
    asked: u64,
    population: Vec<(String, f64)>,
}

/// Hyper-parameters. Defaults follow the NAS-Bench-201 REA baseline (see runtime/README.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EvolutionConfig {
    pub population: usize,
    pub sample_size: usize,
    pub mutation_distance: usize,
}

impl Default for EvolutionConfig {
    fn default() -> Self {
        EvolutionConfig { population: 10, sample_size: 3, mutation_distance: 1 }
    }
}

/// Why an [`EvolutionConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvolutionConfigError {
    #[error("population must be at least 1")]
    Population,
    #[error("sample size must be at least 1")]
    SampleSize,
    #[error("mutation distance must be at least 1")]
    MutationDistance,
}

impl From<EvolutionConfigError> for String {
    fn from(e: EvolutionConfigError) -> String {
        e.to_string()
    }
}

impl EvolutionConfig {
    pub fn validate(&self) -> Result<(), EvolutionConfigError> {
        if self.population == 0 {
            return Err(EvolutionConfigError::Population);
        }
        if self.sample_size == 0 {
            return Err(EvolutionConfigError::SampleSize);
        }
        if self.mutation_distance == 0 {
            return Err(EvolutionConfigError::MutationDistance);
        }
        Ok(())
    }
}

pub struct Evolution {
    cfg: EvolutionConfig,
    rng: Rng,
    asked: u64,
    population: VecDeque<(Candidate, f64)>,
}

impl Evolution {
    pub fn new(cfg: EvolutionConfig, seed: u64) -> Self {
        Evolution { cfg, rng: Rng::new(stream_seed(seed, 1)), asked: 0, population: VecDeque::new() }
    }

    /// The current population, oldest first.
    pub fn population(&self) -> impl Iterator<Item = &(Candidate, f64)> {
        self.population.iter()
    }

    fn tournament(&mut self) -> usize {
        let n = self.population.len() as u64;
        let mut best = self.rng.below(n) as usize;
        for _ in 1..self.cfg.sample_size {
            let i = self.rng.below(n) as usize;
            if self.population[i].1 > self.population[best].1 {
                best = i;
            }
        }
        best
    }
}

impl Strategy for Evolution {
    fn name(&self) -> &'static str {
        "re"
    }
    fn config(&self) -> Value {
        serde_json::to_value(&self.cfg).unwrap_or(Value::Null)
    }
    fn ask(&mut self, ctx: &mut AskCtx, n: usize) -> Vec<Candidate> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let mut child = None;
            if self.asked >= self.cfg.population as u64 && !self.population.is_empty() {
                let parent = self.tournament();
                for _ in 0..100 {
                    let p = &self.population[parent].0;
                    match ctx.space.neighbor(p, self.cfg.mutation_distance, &mut self.rng) {
                        Some(c) if ctx.accept(&c) => {
                            child = Some(c);
                            break;
                        }
                        Some(_) => {}
                        None => break,
                    }
                }
            }
            let child = match child {
                Some(c) => c,
                None => match ctx.random_accepted(&mut self.rng, MAX_TRIES) {
                    Some(c) => c,
                    None => break,
                },
            };
            self.asked += 1;
            out.push(child);
        }
        out
    }
    fn tell(&mut self, results: &[Told]) {
        for r in results {
            if let Some(reward) = r.reward {
                self.population.push_back((r.candidate.clone(), reward));
                if self.population.len() > self.cfg.population {
                    self.population.pop_front();
                }
            }
        }
    }
    fn state(&self) -> Value {
        let population = self.population.iter().map(|(c, r)| (encode(c), *r)).collect();
        serde_json::to_value(State { rng_counter: self.rng.counter, asked: self.asked, population }).unwrap_or(Value::Null)
    }
    fn restore(&mut self, state: &Value) -> Result<(), StateError> {
        let s: State = state_from("evolution", state)?;
        let population = s.population.into_iter().map(|(c, r)| Ok((decode(&c)?, r))).collect::<Result<_, StateError>>()?;
        self.rng = Rng { seed: self.rng.seed, counter: s.rng_counter };
        self.asked = s.asked;
        self.population = population;
        Ok(())
    }
}

//! NSGA-II (Deb, Pratap, Agarwal & Meyarivan 2002) as an asynchronous ask/tell strategy.
//!
//! Objectives come from [`Told::objectives`] (every entry maximized); a trial told without them
//! counts as the one objective `reward`, and a failed trial (no objectives, no reward) is dropped.
//!
//! - The first `population` candidates asked are uniform random; told results fill the
//!   population.
//! - A child: two parents by binary tournament (lower non-dominated rank wins, then the larger
//!   crowding distance, then the first drawn), uniform crossover of their decisions with
//!   probability `crossover` (a child that is not a valid candidate, e.g. one that mixes a
//!   conditional decision with a parent where it does not exist, falls back to the first
//!   parent), then with probability `mutation` a neighbor at edit distance `mutation_distance`
//!   (the space's `neighbor`). A child equal to a population member, infeasible or (when the run
//!   skips duplicates) a repeat is redrawn; after 100 draws a random accepted candidate is used.
//! - Replacement: `generational` (the paper: once `population` children are told, the
//!   population and the children are sorted into fronts and the best `population` kept, the
//!   last front cut by crowding distance) or `steady` (each told child joins the population and
//!   the worst member, last front, smallest crowding distance, oldest first, leaves at once: the
//!   steady-state NSGA-II of Durillo et al. 2009), which suits asynchronous workers and small
//!   budgets. The default is chosen on the NB201 check in docs/pareto.md.
use super::{state_from, stream_seed, AskCtx, StateError, Strategy, Told, MAX_TRIES};
use crate::pareto::{crowded_cmp, crowding_distance, nondominated_sort};
use crate::space::{decode, encode, DecodeError};
use nasc_compiler::rng::Rng;
use nasc_compiler::{Candidate, Slot};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Hyper-parameters (defaults: docs/pareto.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Nsga2Config {
    pub population: usize,
    /// Probability of uniform crossover (else the child starts as a copy of the first parent).
    pub crossover: f64,
    /// Probability of mutating the child.
    pub mutation: f64,
    pub mutation_distance: usize,
    /// `generational` or `steady`.
    pub replacement: String,
}

impl Default for Nsga2Config {
    fn default() -> Self {
        Nsga2Config { population: 50, crossover: 0.9, mutation: 1.0, mutation_distance: 1, replacement: "steady".into() }
    }
}

/// Why an [`Nsga2Config`] cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Nsga2ConfigError {
    #[error("population must be at least 2, not `{0}`")]
    Population(usize),
    /// `name`: `crossover` or `mutation`.
    #[error("{name} must be a probability in [0, 1], not `{value}`")]
    Probability { name: &'static str, value: f64 },
    #[error("mutation distance must be at least 1")]
    MutationDistance,
    #[error("replacement must be `generational` or `steady`, not `{0}`")]
    Replacement(String),
}

impl From<Nsga2ConfigError> for String {
    fn from(e: Nsga2ConfigError) -> String {
        e.to_string()
    }
}

impl Nsga2Config {
    pub fn validate(&self) -> Result<(), Nsga2ConfigError> {
        if self.population < 2 {
            return Err(Nsga2ConfigError::Population(self.population));
        }
        for (name, p) in [("crossover", self.crossover), ("mutation", self.mutation)] {
            if !(0.0..=1.0).contains(&p) {
                return Err(Nsga2ConfigError::Probability { name, value: p });
            }
        }
        if self.mutation_distance == 0 {
            return Err(Nsga2ConfigError::MutationDistance);
        }
        if self.replacement != "generational" && self.replacement != "steady" {
            return Err(Nsga2ConfigError::Replacement(self.replacement.clone()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Member {
    candidate: Candidate,
    objectives: Vec<f64>,
}

pub struct Nsga2 {
    cfg: Nsga2Config,
    rng: Rng,
    asked: u64,
    /// The population, in the order members joined.
    population: Vec<Member>,
    /// Generational replacement: children told since the last generation.
    children: Vec<Member>,
    /// Rank and crowding distance of each population member (recomputed after a change).
    order: Option<(Vec<usize>, Vec<f64>)>,
}

impl Nsga2 {
    pub fn new(cfg: Nsga2Config, seed: u64) -> Self {
        Nsga2 { cfg, rng: Rng::new(stream_seed(seed, 1)), asked: 0, population: Vec::new(), children: Vec::new(), order: None }
    }

    /// The population's candidates and objective vectors, in the order they joined.
    pub fn population(&self) -> impl Iterator<Item = (&Candidate, &[f64])> {
        self.population.iter().map(|m| (&m.candidate, m.objectives.as_slice()))
    }

    fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Rank and crowding distance of every member of `members`.
    fn rank_crowding(members: &[Member]) -> (Vec<usize>, Vec<f64>) {
        let pts: Vec<&[f64]> = members.iter().map(|m| m.objectives.as_slice()).collect();
        let mut rank = vec![usize::MAX; members.len()];
        let mut crowd = vec![0.0; members.len()];
        for (k, f) in nondominated_sort(&pts).iter().enumerate() {
            for (&i, d) in f.iter().zip(crowding_distance(&pts, f)) {
                rank[i] = k;
                crowd[i] = d;
            }
        }
        (rank, crowd)
    }

    fn tournament(&mut self) -> usize {
        if self.order.is_none() {
            self.order = Some(Self::rank_crowding(&self.population));
        }
        let n = self.population.len() as u64;
        let a = self.rng.below(n) as usize;
        let b = self.rng.below(n) as usize;
        let (rank, crowd) = self.order.as_ref().expect("computed above");
        if crowded_cmp(rank[b], crowd[b], rank[a], crowd[a]).is_lt() {
            b
        } else {
            a
        }
    }

    fn child(&mut self, ctx: &mut AskCtx) -> Option<Candidate> {
        let p1 = self.tournament();
        let p2 = self.tournament();
        let mut c = self.population[p1].candidate.clone();
        if self.uniform() < self.cfg.crossover {
            let other = &self.population[p2].candidate;
            let mut x = c.clone();
            for (i, s) in x.0.iter_mut().enumerate() {
                if self.rng.next_u64() & 1 == 1 {
                    if let Some(o) = other.0.get(i) {
                        *s = *o;
                    }
                }
            }
            if x.0.iter().any(|s| !matches!(s, Slot::Absent)) && ctx.space.inner().check_valid(&x).is_ok() {
                c = x;
            }
        }
        if self.uniform() < self.cfg.mutation {
            c = ctx.space.neighbor(&c, self.cfg.mutation_distance, &mut self.rng)?;
        }
        Some(c)
    }

    fn join(&mut self, m: Member) {
        self.order = None;
        if self.population.len() < self.cfg.population {
            self.population.push(m);
            return;
        }
        if self.cfg.replacement == "steady" {
            self.population.push(m);
            let (rank, crowd) = Self::rank_crowding(&self.population);
            // the worst: the last front, the smallest crowding distance, the oldest
            let worst = (0..self.population.len()).max_by(|&a, &b| crowded_cmp(rank[a], crowd[a], rank[b], crowd[b]).then(b.cmp(&a))).expect("not empty");
            self.population.remove(worst);
            return;
        }
        self.children.push(m);
        if self.children.len() >= self.cfg.population {
            let mut all = std::mem::take(&mut self.population);
            all.append(&mut self.children);
            let pts: Vec<&[f64]> = all.iter().map(|m| m.objectives.as_slice()).collect();
            let mut keep: Vec<usize> = Vec::new();
            for f in nondominated_sort(&pts) {
                if keep.len() + f.len() <= self.cfg.population {
                    keep.extend(&f);
                    continue;
                }
                let d = crowding_distance(&pts, &f);
                let mut by: Vec<usize> = (0..f.len()).collect();
                by.sort_by(|&a, &b| d[b].total_cmp(&d[a]).then(f[a].cmp(&f[b])));
                keep.extend(by.iter().take(self.cfg.population - keep.len()).map(|&k| f[k]));
                break;
            }
            keep.sort_unstable();
            self.population = keep.into_iter().map(|i| all[i].clone()).collect();
        }
    }
}

/// The checkpointed state: the RNG position, the asks so far, the population and the children
/// told since the last generation, each member as `[canonical genotype, objectives]`.
#[derive(Serialize, Deserialize)]
struct State {
    rng_counter: u64,
    asked: u64,
    population: Vec<(String, Vec<f64>)>,
    children: Vec<(String, Vec<f64>)>,
}

fn members_out(ms: &[Member]) -> Vec<(String, Vec<f64>)> {
    ms.iter().map(|m| (encode(&m.candidate), m.objectives.clone())).collect()
}

fn members_in(ms: Vec<(String, Vec<f64>)>) -> Result<Vec<Member>, DecodeError> {
    ms.into_iter().map(|(c, objectives)| Ok(Member { candidate: decode(&c)?, objectives })).collect()
}

impl Strategy for Nsga2 {
    fn name(&self) -> &'static str {
        "nsga2"
    }
    fn config(&self) -> Value {
        serde_json::to_value(&self.cfg).unwrap_or(Value::Null)
    }
    fn ask(&mut self, ctx: &mut AskCtx, n: usize) -> Vec<Candidate> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let mut child = None;
            if self.asked >= self.cfg.population as u64 && self.population.len() >= 2 {
                for _ in 0..100 {
                    match self.child(ctx) {
                        Some(c) if !self.population.iter().any(|m| m.candidate == c) && ctx.accept(&c) => {
                            child = Some(c);
                            break;
                        }
                        _ => {}
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
            let objectives = match (r.objectives, r.reward) {
                (Some(o), _) if !o.is_empty() && o.iter().all(|v| v.is_finite()) => o.to_vec(),
                (None, Some(x)) if x.is_finite() => vec![x],
                _ => continue,
            };
            if self.population.first().is_some_and(|m| m.objectives.len() != objectives.len()) {
                continue;
            }
            self.join(Member { candidate: r.candidate.clone(), objectives });
        }
    }
    fn state(&self) -> Value {
        let s = State { rng_counter: self.rng.counter, asked: self.asked, population: members_out(&self.population), children: members_out(&self.children) };
        serde_json::to_value(s).unwrap_or(Value::Null)
    }
    fn restore(&mut self, state: &Value) -> Result<(), StateError> {
        let s: State = state_from("nsga2", state)?;
        let (population, children) = (members_in(s.population)?, members_in(s.children)?);
        self.rng = Rng { seed: self.rng.seed, counter: s.rng_counter };
        self.asked = s.asked;
        self.population = population;
        self.children = children;
        self.order = None;
        Ok(())
    }
}

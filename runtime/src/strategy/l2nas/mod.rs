//! L2NAS (Mills et al., CIKM 2021): learning to optimize the continuous relaxation alpha of an
//! architecture with a DDPG-like actor-critic.
//!
//! Each step (one asked architecture):
//! - state s_t: the mean one-hot encoding of the top-K distinct architectures seen so far
//!   (zeros before the first result);
//! - action alpha_t: with probability epsilon_t (cosine-annealed) or during the random warm-up, a
//!   Uniform(0, 1) vector; otherwise mu(s_t) + Uniform(-xi, xi) noise (Eq. 4);
//! - the architecture is Discretize(alpha_t): Algorithm 1 (argmax per decision row) or
//!   Algorithm 2 (DARTS cells), through `CompiledSpace::discretize_*`;
//! - when told its reward, (s_t, alpha_t, r_t) with r_t = 100^acc (Eq. 3) or the rescaled Eq. 7
//!   joins the replay buffer, the top-K history is updated, and the critic and actor train on C
//!   batches (see [`agent::Agent::train`]).
//!
//! alpha has one row per decision, as wide as its arity (`SearchSpace::arities`), concatenated.
//! Decisions that do not exist in the resulting architecture (`when`) are skipped by the
//! discretizer; a subset row keeps the members whose weight exceeds 0.5 (at least its `min`,
//! at most its `max`).
//!
//! If the discretized architecture is not accepted (a constraint, or duplicate skipping), the
//! step takes random actions until one is (the paper has neither constraints nor duplicate
//! skipping). The whole state (networks, Adam moments, replay buffer, top-K history, actions
//! in flight, RNG counter) serializes for exact resume.
use super::{rng_from_state, stream_seed, AskCtx, StateError, Strategy, Told, MAX_TRIES};
use crate::nn::{b64_to_f32s, f32s_to_b64, uniform, NnError};
use crate::space::{decode, encode, CompileError, SearchSpace};
use agent::AgentState;
use nasc_compiler::rng::Rng;
use nasc_compiler::{Candidate, Slot};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The checkpointed state: candidates as `space::encode` strings, vectors as base64 f32s.
#[derive(Serialize, Deserialize)]
struct L2nasState {
    rng_counter: u64,
    asked: u64,
    random_actions: u64,
    arities: Vec<usize>,
    /// [`Agent::state`], once the networks exist.
    agent: Option<AgentState>,
    /// The top-K: (reward, candidate).
    top: Vec<(f64, String)>,
    /// Actions asked and not told yet: (trial id, candidate, state, action).
    pending: Vec<(u64, String, String, String)>,
}

pub mod agent;
pub mod config;

pub use agent::{Agent, Transition};
pub use config::{DiscretizeKind, L2nasConfig, L2nasConfigError, RewardKind};

/// Why L2NAS cannot ask on a space, or restore its networks from a state.
#[derive(Debug, Clone, thiserror::Error)]
pub enum L2nasError {
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// A network, an optimizer state or a serialized array of the agent.
    #[error(transparent)]
    Nn(#[from] NnError),
    #[error("l2nas: the space has no decisions to relax")]
    NoDecisions,
    #[error("l2nas: no agent")]
    NoAgent,
    #[error("l2nas state is for actions of width {state}, this space has {space}")]
    ActionWidth { state: usize, space: usize },
    #[error("l2nas state is for decision arities {state:?}, this space has {space:?}")]
    Arities { state: Vec<usize>, space: Vec<usize> },
    #[error("l2nas state: replay buffer arrays disagree in length")]
    ReplayLengths,
    #[error("l2nas state: bad pending action")]
    BadPending,
}

impl From<L2nasError> for String {
    fn from(e: L2nasError) -> String {
        e.to_string()
    }
}

/// An action in flight: the candidate, the state it was taken in and the continuous action.
#[derive(Clone, Debug)]
struct Pending {
    candidate: Candidate,
    state: Vec<f32>,
    alpha: Vec<f32>,
}

pub struct L2nas {
    cfg: L2nasConfig,
    seed: u64,
    /// Exploration draws, action noise and replay sampling.
    rng: Rng,
    /// Steps taken (actions asked); the epsilon schedule's t.
    asked: u64,
    /// Steps whose action was random (epsilon or warm-up, or a redraw of a rejected one).
    random_actions: u64,
    /// Decision arities, known from the first ask (or a restored state).
    arities: Vec<usize>,
    agent: Option<Agent>,
    /// The best distinct architectures seen, best first (ties: earlier first), at most K.
    top: Vec<(f64, Candidate)>,
    pending: BTreeMap<u64, Pending>,
    /// A problem met while asking (the space could not be compiled); the run then ends.
    pub error: Option<L2nasError>,
}

impl L2nas {
    pub fn new(cfg: L2nasConfig, seed: u64) -> Self {
        L2nas {
            cfg,
            seed,
            rng: Rng::new(stream_seed(seed, 1)),
            asked: 0,
            random_actions: 0,
            arities: Vec::new(),
            agent: None,
            top: Vec::new(),
            pending: BTreeMap::new(),
            error: None,
        }
    }

    pub fn config_ref(&self) -> &L2nasConfig {
        &self.cfg
    }
    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.asked
    }
    /// Steps that took a random action.
    pub fn random_actions(&self) -> u64 {
        self.random_actions
    }
    /// The agent (None before the first ask).
    pub fn agent(&self) -> Option<&Agent> {
        self.agent.as_ref()
    }
    pub fn agent_mut(&mut self) -> Option<&mut Agent> {
        self.agent.as_mut()
    }
    /// The top-K history, best first.
    pub fn top(&self) -> &[(f64, Candidate)] {
        &self.top
    }

    fn dim(&self) -> usize {
        self.arities.iter().sum()
    }

    /// The one-hot (subsets: multi-hot) encoding alpha^d of a candidate.
    pub fn one_hot(arities: &[usize], c: &Candidate) -> Vec<f32> {
        let mut v = vec![0.0f32; arities.iter().sum()];
        let mut at = 0;
        for (a, slot) in arities.iter().zip(&c.0) {
            match slot {
                Slot::Opt(o) if (*o as usize) < *a => v[at + *o as usize] = 1.0,
                Slot::Members(m) => (0..*a).filter(|j| *j < 64 && m >> j & 1 == 1).for_each(|j| v[at + j] = 1.0),
                _ => {}
            }
            at += a;
        }
        v
    }

    /// The state s_t: the mean of alpha^d over the top-K history (zeros while it is empty).
    pub fn state_vector(&self) -> Vec<f32> {
        let mut s = vec![0.0f32; self.dim()];
        for (_, c) in &self.top {
            for (x, h) in s.iter_mut().zip(Self::one_hot(&self.arities, c)) {
                *x += h;
            }
        }
        if !self.top.is_empty() {
            let n = self.top.len() as f32;
            s.iter_mut().for_each(|x| *x /= n);
        }
        s
    }

    fn ensure_agent(&mut self, space: &SearchSpace) -> Result<(), L2nasError> {
        let arities = space.arities();
        if self.agent.is_some() {
            if arities != self.arities {
                return Err(L2nasError::Arities { state: self.arities.clone(), space: arities });
            }
            return Ok(());
        }
        self.arities = arities;
        // the networks' initialization has its own stream, so it does not depend on when it happens
        let mut init = Rng::new(stream_seed(self.seed, 2));
        self.agent = Some(Agent::new(&self.cfg, self.dim(), &mut init)?);
        Ok(())
    }

    fn random_action(&mut self) -> Vec<f32> {
        (0..self.dim()).map(|_| uniform(&mut self.rng) as f32).collect()
    }

    /// Discretize(alpha) into a candidate. Rows are passed centered (alpha - 0.5): the argmax of
    /// a row is unchanged, and a subset member counts as chosen when its weight exceeds 0.5.
    fn discretize(&self, space: &SearchSpace, alpha: &[f32]) -> Result<Candidate, CompileError> {
        let compiled = space.compiled()?;
        let mut rows = Vec::with_capacity(self.arities.len());
        let mut at = 0;
        for a in &self.arities {
            rows.push(alpha[at..at + a].iter().map(|x| *x as f64 - 0.5).collect::<Vec<f64>>());
            at += a;
        }
        let row = match self.cfg.discretize {
            DiscretizeKind::Argmax => compiled.discretize_argmax(&rows),
            DiscretizeKind::Darts => compiled.discretize_darts(&rows),
        };
        Ok(compiled.decode(&row))
    }

    fn ask_one(&mut self, ctx: &mut AskCtx, state: &[f32], actor_out: &mut Option<Vec<f32>>) -> Result<Option<Candidate>, L2nasError> {
        let t = self.asked;
        let explore = t < self.cfg.warmup || uniform(&mut self.rng) < self.cfg.epsilon(t);
        let mut alpha = if explore {
            self.random_actions += 1;
            self.random_action()
        } else {
            let agent = self.agent.as_mut().ok_or(L2nasError::NoAgent)?;
            let mu = actor_out.get_or_insert_with(|| agent.act(state)).clone();
            let xi = self.cfg.noise;
            mu.into_iter().map(|m| m + ((2.0 * uniform(&mut self.rng) - 1.0) * xi) as f32).collect()
        };
        let mut c = self.discretize(ctx.space, &alpha)?;
        let mut tries = 0;
        while !ctx.accept(&c) {
            tries += 1;
            if tries > MAX_TRIES {
                return Ok(None);
            }
            if tries == 1 && !explore {
                self.random_actions += 1;
            }
            alpha = self.random_action();
            c = self.discretize(ctx.space, &alpha)?;
        }
        self.pending.insert(t, Pending { candidate: c.clone(), state: state.to_vec(), alpha });
        self.asked += 1;
        Ok(Some(c))
    }

    /// Insert a result into the top-K history of distinct architectures.
    fn update_top(&mut self, reward: f64, c: &Candidate) {
        if let Some(i) = self.top.iter().position(|(_, x)| x == c) {
            if reward <= self.top[i].0 {
                return;
            }
            self.top.remove(i);
        }
        let at = self.top.iter().position(|(r, _)| *r < reward).unwrap_or(self.top.len());
        if at < self.cfg.top_k {
            self.top.insert(at, (reward, c.clone()));
            self.top.truncate(self.cfg.top_k);
        }
    }
}

impl Strategy for L2nas {
    fn name(&self) -> &'static str {
        "l2nas"
    }
    fn config(&self) -> Value {
        serde_json::to_value(&self.cfg).unwrap_or(Value::Null)
    }
    fn ask(&mut self, ctx: &mut AskCtx, n: usize) -> Vec<Candidate> {
        let mut out = Vec::with_capacity(n);
        if let Err(e) = self.ensure_agent(ctx.space) {
            self.error = Some(e);
            return out;
        }
        // every action of one ask sees the same state; the actor runs at most once
        let state = self.state_vector();
        let mut actor_out = None;
        while out.len() < n {
            match self.ask_one(ctx, &state, &mut actor_out) {
                Ok(Some(c)) => out.push(c),
                Ok(None) => break,
                Err(e) => {
                    self.error = Some(e);
                    break;
                }
            }
        }
        out
    }
    fn tell(&mut self, results: &[Told]) {
        for r in results {
            let pending = match self.pending.remove(&r.id) {
                Some(p) if &p.candidate == r.candidate => Some(p),
                other => {
                    // ids not from this strategy's asks: match the oldest action with this candidate
                    if let Some(p) = other {
                        self.pending.insert(r.id, p);
                    }
                    let k = self.pending.iter().find(|(_, p)| &p.candidate == r.candidate).map(|(k, _)| *k);
                    k.and_then(|k| self.pending.remove(&k))
                }
            };
            let Some(reward) = r.reward else { continue };
            if self.agent.is_none() {
                continue;
            }
            let (state, alpha) = match pending {
                Some(p) => (p.state, p.alpha),
                None => (self.state_vector(), Self::one_hot(&self.arities, r.candidate)),
            };
            let rl = self.cfg.transform(reward) as f32;
            let capacity = self.cfg.replay_capacity;
            self.update_top(reward, r.candidate);
            let agent = self.agent.as_mut().expect("checked above");
            agent.remember(Transition { state, alpha, reward: rl }, capacity);
            agent.train(&self.cfg, &mut self.rng);
        }
    }
    fn state(&self) -> Value {
        let st = L2nasState {
            rng_counter: self.rng.counter,
            asked: self.asked,
            random_actions: self.random_actions,
            arities: self.arities.clone(),
            agent: self.agent.as_ref().map(Agent::state),
            top: self.top.iter().map(|(r, c)| (*r, encode(c))).collect(),
            pending: self.pending.iter().map(|(id, p)| (*id, encode(&p.candidate), f32s_to_b64(&p.state), f32s_to_b64(&p.alpha))).collect(),
        };
        serde_json::to_value(st).unwrap_or(Value::Null)
    }
    fn restore(&mut self, state: &Value) -> Result<(), StateError> {
        let st: L2nasState = super::state_from("l2nas", state)?;
        let rng = rng_from_state(self.rng.seed, state)?;
        let dim: usize = st.arities.iter().sum();
        let agent = match &st.agent {
            None => None,
            Some(a) => {
                let mut agent = Agent::new(&self.cfg, dim, &mut Rng::new(stream_seed(self.seed, 2)))?;
                agent.restore(a)?;
                Some(agent)
            }
        };
        let top = st.top.iter().map(|(r, c)| Ok((*r, decode(c)?))).collect::<Result<Vec<_>, StateError>>()?;
        let mut pending = BTreeMap::new();
        for (id, c, s, a) in &st.pending {
            let f32s = |t: &str| b64_to_f32s(t).map_err(|e| StateError::L2nas(e.into()));
            let (candidate, s, alpha) = (decode(c)?, f32s(s)?, f32s(a)?);
            if s.len() != dim || alpha.len() != dim {
                return Err(L2nasError::BadPending.into());
            }
            pending.insert(*id, Pending { candidate, state: s, alpha });
        }
        self.rng = rng;
        self.asked = st.asked;
        self.random_actions = st.random_actions;
        self.arities = st.arities;
        self.agent = agent;
        self.top = top;
        self.pending = pending;
        Ok(())
    }
}

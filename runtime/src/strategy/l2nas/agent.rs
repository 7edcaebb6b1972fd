//! The L2NAS agent: actor mu(s), critic Q(alpha), their Adam optimizers, the replay buffer of
//! (s, alpha, r) and the quantile-driven training step (Section 2.3).
use super::config::L2nasConfig;
use super::L2nasError;
use crate::nn::{b64_to_f32s, f32s_to_b64, Activation, Adam, Mlp, Tape};
use nasc_compiler::rng::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;

/// The agent's checkpointed state: networks and replay buffer as base64 f32s, Adam's moments.
#[derive(Serialize, Deserialize)]
pub struct AgentState {
    dim: usize,
    updates: u64,
    actor: String,
    critic: String,
    actor_adam: Value,
    critic_adam: Value,
    replay: ReplayState,
}

/// The replay buffer, flattened: `states` and `alphas` of `dim` values per transition.
#[derive(Serialize, Deserialize)]
struct ReplayState {
    states: String,
    alphas: String,
    rewards: String,
}

/// One experience: the state the action was taken in, the continuous action, the RL reward.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    pub state: Vec<f32>,
    pub alpha: Vec<f32>,
    pub reward: f32,
}

/// Buffers reused across training steps (not part of the state).
#[derive(Default)]
struct Scratch {
    critic_tape: Tape,
    actor_tape: Tape,
    alphas: Vec<f32>,
    states: Vec<f32>,
    rewards: Vec<f32>,
    dq: Vec<f32>,
    da: Vec<f32>,
    g_actor: Vec<f32>,
    g_critic: Vec<f32>,
}

pub struct Agent {
    /// Width of alpha (and of the state): the sum of the decisions' arities.
    pub dim: usize,
    pub actor: Mlp,
    pub critic: Mlp,
    pub actor_opt: Adam,
    pub critic_opt: Adam,
    pub replay: VecDeque<Transition>,
    /// Batches trained on so far.
    pub updates: u64,
    scratch: Scratch,
}

impl Agent {
    /// Fresh networks for actions of width `dim`, initialized from `rng`.
    pub fn new(cfg: &L2nasConfig, dim: usize, rng: &mut Rng) -> Result<Self, L2nasError> {
        if dim == 0 {
            return Err(L2nasError::NoDecisions);
        }
        let mut sizes = vec![dim];
        sizes.extend(&cfg.hidden);
        sizes.push(dim);
        // actor: state -> alpha in (0, 1) (sigmoid output); critic: alpha -> scalar (identity)
        let actor = Mlp::new(&sizes, Activation::Sigmoid, rng)?;
        *sizes.last_mut().expect("sizes") = 1;
        let critic = Mlp::new(&sizes, Activation::Identity, rng)?;
        let [b1, b2] = cfg.betas;
        Ok(Agent {
            dim,
            actor_opt: Adam::new(actor.n_params(), cfg.actor_lr, b1, b2, cfg.adam_eps),
            critic_opt: Adam::new(critic.n_params(), cfg.critic_lr, b1, b2, cfg.adam_eps),
            actor,
            critic,
            replay: VecDeque::new(),
            updates: 0,
            scratch: Scratch::default(),
        })
    }

    /// mu(s): the actor's action for one state.
    pub fn act(&mut self, state: &[f32]) -> Vec<f32> {
        self.actor.forward(state, 1, &mut self.scratch.actor_tape).to_vec()
    }

    /// Q(alpha) for a batch of actions (`n x dim`).
    pub fn critic_values(&mut self, alphas: &[f32]) -> Vec<f32> {
        let n = alphas.len() / self.dim;
        self.critic.forward(alphas, n, &mut self.scratch.critic_tape).to_vec()
    }

    /// Store a transition (dropping the oldest beyond `capacity`).
    pub fn remember(&mut self, t: Transition, capacity: Option<usize>) {
        self.replay.push_back(t);
        if let Some(cap) = capacity {
            while self.replay.len() > cap {
                self.replay.pop_front();
            }
        }
    }

    /// One step's training: C = min(floor(|R| / |B_R|), C_max) batches, each drawn uniformly
    /// with replacement from the replay buffer; per batch one critic update with the check loss
    /// (Eq. 5) and then one actor update by gradient ascent on Q(mu(s)) (Eq. 6). Nothing happens
    /// before the buffer holds |B_R| transitions.
    pub fn train(&mut self, cfg: &L2nasConfig, rng: &mut Rng) {
        let n = self.replay.len();
        let b = cfg.batch_size;
        if n < b {
            return;
        }
        let c = (n / b).min(cfg.c_max);
        for _ in 0..c {
            self.train_batch(cfg, rng);
        }
    }

    fn train_batch(&mut self, cfg: &L2nasConfig, rng: &mut Rng) {
        let (b, d) = (cfg.batch_size, self.dim);
        let n = self.replay.len() as u64;
        let s = &mut self.scratch;
        s.alphas.clear();
        s.states.clear();
        s.rewards.clear();
        for _ in 0..b {
            let t = &self.replay[rng.below(n) as usize];
            s.alphas.extend_from_slice(&t.alpha);
            s.states.extend_from_slice(&t.state);
            s.rewards.push(t.reward);
        }
        let inv_b = 1.0 / b as f32;
        let tau = cfg.tau as f32;

        // critic: L = 1/|B| sum rho_tau(r - Q(alpha)), rho_tau(u) = u (tau - 1[u <= 0]);
        // dL/dQ = -(tau - 1[u <= 0]) / |B|
        let q = self.critic.forward(&s.alphas, b, &mut s.critic_tape);
        s.dq.clear();
        s.dq.extend(q.iter().zip(&s.rewards).map(|(q, r)| -(tau - if r - q <= 0.0 { 1.0 } else { 0.0 }) * inv_b));
        s.g_critic.clear();
        s.g_critic.resize(self.critic.n_params(), 0.0);
        self.critic.backward(&mut s.critic_tape, &s.dq, Some(&mut s.g_critic), None);
        self.critic_opt.step(self.critic.params_mut(), &s.g_critic);

        // actor: maximize 1/|B| sum Q(mu(s)), i.e. descend on its negation; the gradient flows
        // through the (just updated) critic into the actor's output
        let a = self.actor.forward(&s.states, b, &mut s.actor_tape);
        s.alphas.clear();
        s.alphas.extend_from_slice(a);
        self.critic.forward(&s.alphas, b, &mut s.critic_tape);
        s.dq.clear();
        s.dq.resize(b, -inv_b);
        s.da.clear();
        s.da.resize(b * d, 0.0);
        self.critic.backward(&mut s.critic_tape, &s.dq, None, Some(&mut s.da));
        s.g_actor.clear();
        s.g_actor.resize(self.actor.n_params(), 0.0);
        self.actor.backward(&mut s.actor_tape, &s.da, Some(&mut s.g_actor), None);
        self.actor_opt.step(self.actor.params_mut(), &s.g_actor);
        self.updates += 1;
    }

    pub fn state(&self) -> AgentState {
        let mut states = Vec::with_capacity(self.replay.len() * self.dim);
        let mut alphas = Vec::with_capacity(self.replay.len() * self.dim);
        let mut rewards = Vec::with_capacity(self.replay.len());
        for t in &self.replay {
            states.extend_from_slice(&t.state);
            alphas.extend_from_slice(&t.alpha);
            rewards.push(t.reward);
        }
        AgentState {
            dim: self.dim,
            updates: self.updates,
            actor: f32s_to_b64(self.actor.params()),
            critic: f32s_to_b64(self.critic.params()),
            actor_adam: self.actor_opt.state(),
            critic_adam: self.critic_opt.state(),
            replay: ReplayState { states: f32s_to_b64(&states), alphas: f32s_to_b64(&alphas), rewards: f32s_to_b64(&rewards) },
        }
    }

    /// Restore [`Agent::state`] into an agent built with the same configuration and width.
    pub fn restore(&mut self, st: &AgentState) -> Result<(), L2nasError> {
        let dim = st.dim;
        if dim != self.dim {
            return Err(L2nasError::ActionWidth { state: dim, space: self.dim });
        }
        let actor = Mlp::from_params(self.actor.sizes(), Activation::Sigmoid, b64_to_f32s(&st.actor)?)?;
        let critic = Mlp::from_params(self.critic.sizes(), Activation::Identity, b64_to_f32s(&st.critic)?)?;
        let mut actor_opt = self.actor_opt.clone();
        actor_opt.restore(&st.actor_adam)?;
        let mut critic_opt = self.critic_opt.clone();
        critic_opt.restore(&st.critic_adam)?;
        let (states, alphas, rewards) = (b64_to_f32s(&st.replay.states)?, b64_to_f32s(&st.replay.alphas)?, b64_to_f32s(&st.replay.rewards)?);
        if states.len() != rewards.len() * dim || alphas.len() != rewards.len() * dim {
            return Err(L2nasError::ReplayLengths);
        }
        let replay =
            (0..rewards.len()).map(|i| Transition { state: states[i * dim..(i + 1) * dim].to_vec(), alpha: alphas[i * dim..(i + 1) * dim].to_vec(), reward: rewards[i] }).collect();
        self.updates = st.updates;
        self.actor = actor;
        self.critic = critic;
        self.actor_opt = actor_opt;
        self.critic_opt = critic_opt;
        self.replay = replay;
        Ok(())
    }
}

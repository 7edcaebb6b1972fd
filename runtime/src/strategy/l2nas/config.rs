//! L2NAS hyper-parameters. Defaults are the paper's NAS-Bench-201 settings (Section 3.4 and 4.1
//! of Mills et al., CIKM 2021), except the actor's learning rate (see `actor_lr`).
use serde::{Deserialize, Serialize};

/// How an evaluator's reward (an accuracy) becomes the RL reward.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RewardKind {
    /// Eq. 3: r = 100^acc.
    Exp,
    /// Eq. 7: r = 100^(acc / Acc(Env)) / 100 - 1 (`acc_env` required).
    Rescaled,
}

/// How a continuous action becomes an architecture.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DiscretizeKind {
    /// Algorithm 1 (NAS-Bench-201, OFA): the argmax of every row.
    Argmax,
    /// Algorithm 2 (DARTS-like cells): two strongest non-zero inputs per node.
    Darts,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct L2nasConfig {
    /// Hidden layer widths of both the actor and the critic (paper: 3 x 128 on NAS-Bench-201,
    /// 3 x 256 on DARTS and OFA).
    pub hidden: Vec<usize>,
    /// K: the state is the mean one-hot encoding of the K best distinct architectures seen.
    pub top_k: usize,
    /// tau: the quantile the critic's check loss targets.
    pub tau: f64,
    /// |B_R|: transitions per training batch (drawn from the replay buffer with replacement).
    pub batch_size: usize,
    /// C_max: at most this many batches per step (C = min(floor(|R| / |B_R|), C_max)).
    pub c_max: usize,
    /// xi: the actor's action gets Uniform(-xi, xi) noise on every entry.
    pub noise: f64,
    /// epsilon-greedy: epsilon starts at `eps_start` and is annealed by a cosine schedule to
    /// `eps_end` at step `eps_steps` (then stays there).
    pub eps_start: f64,
    pub eps_end: f64,
    pub eps_steps: u64,
    /// Random warm-up W: the first `warmup` steps take random actions (paper: 0 on NAS-Bench-201,
    /// 3000 on DARTS/OFA, where epsilon is 0: set `eps_start` = `eps_end` = 0).
    pub warmup: u64,
    /// Adam learning rates of the actor and the critic. The paper states 1e-8 and 1e-4; with
    /// 1e-8 the actor cannot move (Adam moves a weight by at most about lr per update: 1e-4 in
    /// 10,000 updates), the search degenerates to its epsilon-random actions, and it falls well
    /// short of the paper's Table 1, so the actor's default is 1e-4 (docs/l2nas.md has both).
    pub actor_lr: f64,
    pub critic_lr: f64,
    /// Adam (beta1, beta2) and epsilon.
    pub betas: [f64; 2],
    pub adam_eps: f64,
    /// The reward function (Eq. 3 or Eq. 7).
    pub reward: RewardKind,
    /// Acc(Env) of Eq. 7, in the evaluator's reward units (e.g. 94.37 for a percent accuracy).
    pub acc_env: Option<f64>,
    /// The evaluator's reward for a perfect accuracy: 100 for the tabular benchmarks, which
    /// report percentages (acc = reward / acc_scale in Eq. 3).
    pub acc_scale: f64,
    /// The replay buffer keeps only the last this many transitions (paper: unbounded on
    /// NAS-Bench-201, 5000 on DARTS); None = unbounded.
    pub replay_capacity: Option<usize>,
    pub discretize: DiscretizeKind,
}

impl Default for L2nasConfig {
    fn default() -> Self {
        L2nasConfig {
            hidden: vec![128, 128, 128],
            top_k: 64,
            tau: 0.9,
            batch_size: 8,
            c_max: 10,
            noise: 1e-4,
            eps_start: 1.0,
            eps_end: 0.05,
            eps_steps: 175,
            warmup: 0,
            actor_lr: 1e-4,
            critic_lr: 1e-4,
            betas: [0.9, 0.99],
            adam_eps: 1e-8,
            reward: RewardKind::Exp,
            acc_env: None,
            acc_scale: 100.0,
            replay_capacity: None,
            discretize: DiscretizeKind::Argmax,
        }
    }
}

/// Why an [`L2nasConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum L2nasConfigError {
    #[error("l2nas: `{name}` must be in [0, 1], got `{value}`")]
    Unit { name: &'static str, value: f64 },
    #[error("l2nas: `{name}` must be a positive number, got `{value}`")]
    Positive { name: &'static str, value: f64 },
    #[error("l2nas: hidden layer widths must be positive, got `{0:?}`")]
    Hidden(Vec<usize>),
    #[error("l2nas: `top_k` must be at least 1")]
    TopK,
    #[error("l2nas: `batch_size` must be at least 1")]
    BatchSize,
    #[error("l2nas: Adam betas must be below 1, got `{0:?}`")]
    Betas([f64; 2]),
    #[error("l2nas: `noise` must be a non-negative number, got `{0}`")]
    Noise(f64),
    #[error("l2nas: learning rates must be non-negative numbers, got `{actor}` and `{critic}`")]
    LearningRates { actor: f64, critic: f64 },
    #[error("l2nas: the `rescaled` reward (Eq. 7) needs `acc_env`")]
    RescaledNeedsAccEnv,
    #[error("l2nas: `replay_capacity` must be at least 1")]
    ReplayCapacity,
}

impl From<L2nasConfigError> for String {
    fn from(e: L2nasConfigError) -> String {
        e.to_string()
    }
}

fn check_unit(name: &'static str, v: f64) -> Result<(), L2nasConfigError> {
    if !(0.0..=1.0).contains(&v) {
        return Err(L2nasConfigError::Unit { name, value: v });
    }
    Ok(())
}

fn check_positive(name: &'static str, v: f64) -> Result<(), L2nasConfigError> {
    if !(v.is_finite() && v > 0.0) {
        return Err(L2nasConfigError::Positive { name, value: v });
    }
    Ok(())
}

impl L2nasConfig {
    pub fn validate(&self) -> Result<(), L2nasConfigError> {
        if self.hidden.contains(&0) {
            return Err(L2nasConfigError::Hidden(self.hidden.clone()));
        }
        if self.top_k == 0 {
            return Err(L2nasConfigError::TopK);
        }
        if self.batch_size == 0 {
            return Err(L2nasConfigError::BatchSize);
        }
        check_unit("tau", self.tau)?;
        check_unit("eps_start", self.eps_start)?;
        check_unit("eps_end", self.eps_end)?;
        check_unit("betas[0]", self.betas[0])?;
        check_unit("betas[1]", self.betas[1])?;
        if self.betas.iter().any(|b| *b >= 1.0) {
            return Err(L2nasConfigError::Betas(self.betas));
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(L2nasConfigError::Noise(self.noise));
        }
        if ![self.actor_lr, self.critic_lr].into_iter().all(|lr| lr.is_finite() && lr >= 0.0) {
            return Err(L2nasConfigError::LearningRates { actor: self.actor_lr, critic: self.critic_lr });
        }
        check_positive("adam_eps", self.adam_eps)?;
        check_positive("acc_scale", self.acc_scale)?;
        match (self.reward, self.acc_env) {
            (RewardKind::Rescaled, None) => return Err(L2nasConfigError::RescaledNeedsAccEnv),
            (_, Some(a)) => check_positive("acc_env", a)?,
            _ => {}
        }
        if self.replay_capacity == Some(0) {
            return Err(L2nasConfigError::ReplayCapacity);
        }
        Ok(())
    }

    /// epsilon at step `t` (0-based): cosine annealing from `eps_start` to `eps_end` over
    /// `eps_steps` steps, then constant.
    pub fn epsilon(&self, t: u64) -> f64 {
        if t >= self.eps_steps {
            return self.eps_end;
        }
        let x = t as f64 / self.eps_steps as f64;
        self.eps_end + 0.5 * (self.eps_start - self.eps_end) * (1.0 + (std::f64::consts::PI * x).cos())
    }

    /// The RL reward of an evaluator reward.
    pub fn transform(&self, reward: f64) -> f64 {
        match self.reward {
            RewardKind::Exp => 100f64.powf(reward / self.acc_scale),
            RewardKind::Rescaled => 100f64.powf(reward / self.acc_env.unwrap_or(self.acc_scale)) / 100.0 - 1.0,
        }
    }
}

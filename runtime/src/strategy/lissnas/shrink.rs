//! The LISSNAS shrinking procedure (Gopal et al., §4.3 and Figure 3) as a query state machine,
//! shared by the [`shrink`] function and the `lissnas` strategy.
//!
//! 1. **Queries for the predictor.** `init_queries` uniform random (feasible) candidates are
//!    queried (evaluated for real); a gradient-boosted-trees predictor (XGBoost's rules, see
//!    [`crate::predict::gbdt`]) is trained on every result told so far, on one-hot encodings.
//! 2. **Seed search.** S_0 is the whole space, represented by `samples` (>= 1000, the paper's
//!    minimum) uniform random feasible candidates scored by the predictor; in later iterations
//!    the pool is the current space S_t itself. The `seeds` best predicted members are the seeds.
//! 3. **Neighbor generation.** Each seed gets `neighbors` draws of `SearchSpace::neighbor` at an
//!    edit distance drawn uniformly from 1..=k_max, k_max = max(1, floor(edit_fraction *
//!    decisions)) (the paper's threshold: 1/3 of the total available edit distance). Seeds and
//!    feasible neighbors, deduplicated and sorted, form S_{t+1}.
//! 4. **Iterate while the mean predicted accuracy increases.** If mean_pred(S_{t+1}) >
//!    mean_pred(S_t) (both under the same, current predictor), S_{t+1} becomes the space, its
//!    `iter_queries` best predicted not-yet-queried members are queried ("selectively query
//!    pockets of likely well-performing networks"), the predictor is retrained, and the loop
//!    goes back to seed selection. Otherwise the previous space S_t is the output (S_0, i.e. no
//!    shrinking, if the very first step does not improve). At most `max_iters` accepted steps.
//!
//! With several workers (simulated, or processes sharing a PostgreSQL run) a step waits for
//! every result in flight: [`Shrinker::next_query`] asks nothing while a shrinking query is
//! still unanswered, so each step's predictor is trained on every query asked before it, as in
//! the paper's sequential procedure (the workers idle at step boundaries).
use super::{LissnasConfig, LissnasConfigError};
use crate::predict::{Gbdt, OneHot};
use crate::space::{decode, encode, DecodeError, SearchSpace};
use crate::strategy::StateError;
use nasc_compiler::rng::{splitmix64, Rng};
use nasc_compiler::Candidate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashSet, VecDeque};

/// Draws tried before the initial random queries or the pool give up on finding new candidates.
const DRAW_TRIES: usize = 100_000;

/// What one shrinking step saw (predicted accuracies are the predictor's at that step).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepStat {
    /// 0 for the step from the whole space.
    pub iteration: usize,
    /// Real queries the predictor of this step was trained on.
    pub trained_on: usize,
    /// Size of the pool seeds were chosen from (the samples for S_0, else |S_t|).
    pub pool: usize,
    pub pool_mean_pred: f64,
    pub seeds: usize,
    /// |S_{t+1}|.
    pub next_size: usize,
    pub next_mean_pred: f64,
    /// Whether S_{t+1} was kept (its mean predicted accuracy increased).
    pub accepted: bool,
}

/// The procedure's state; serializes to JSON for exact resume.
pub struct Shrinker {
    pub cfg: LissnasConfig,
    pub rng: Rng,
    /// Base seed of the predictor's subsampling stream.
    predictor_seed: u64,
    /// Initial random queries still to draw.
    init_left: usize,
    /// Chosen queries not asked yet.
    queue: VecDeque<Candidate>,
    /// Every candidate asked (never queried twice).
    asked: HashSet<Candidate>,
    asked_order: Vec<Candidate>,
    /// Results told (failed evaluations are left out), in the order told.
    pub queried: Vec<(Candidate, f64)>,
    /// S_t; None = the whole space.
    current: Option<Vec<Candidate>>,
    pub iteration: usize,
    pub history: Vec<StepStat>,
    /// Set when the procedure ended: Some(the output space) (None inside = not shrunk).
    pub result: Option<Option<Vec<Candidate>>>,
    shrink_asked: usize,
    /// Results told, failures included (asked minus told: queries in flight).
    told: usize,
}

/// The shrinker's checkpointed state (candidates as `space::encode` strings).
#[derive(Serialize, Deserialize)]
struct ShrinkerState {
    rng_counter: u64,
    init_left: usize,
    /// Chosen queries not asked yet.
    queue: Vec<String>,
    /// Every candidate asked, in order.
    asked: Vec<String>,
    /// Results told: (candidate, reward).
    queried: Vec<(String, f64)>,
    /// S_t; None = the whole space.
    current: Option<Vec<String>>,
    iteration: usize,
    shrink_asked: usize,
    history: Vec<StepStat>,
    /// Set when the shrinking ended: `members` None = not shrunk.
    result: Option<ResultState>,
    /// Results told (failures included); absent in states written before it existed, which
    /// are read as having every asked query answered.
    #[serde(default)]
    told: Option<usize>,
}

#[derive(Serialize, Deserialize)]
struct ResultState {
    members: Option<Vec<String>>,
}

/// What a checkpointed shrinker state says of its output (read without building a shrinker).
pub struct Output {
    /// None while shrinking; Some(None) if the space was not shrunk; else the members.
    pub result: Option<Option<Vec<Candidate>>>,
    /// The last accepted space S_t (None: the whole space).
    pub current: Option<Vec<Candidate>>,
    pub history: Vec<StepStat>,
    /// Real queries told.
    pub queries: usize,
}

/// The output recorded in a [`Shrinker::state`] value.
pub fn output_of(st: &Value) -> Result<Output, StateError> {
    let st: ShrinkerState = crate::strategy::state_from("lissnas", st)?;
    let dec = |v: &[String]| v.iter().map(|x| decode(x)).collect::<Result<Vec<_>, DecodeError>>();
    Ok(Output {
        result: st.result.map(|r| r.members.as_deref().map(dec).transpose()).transpose()?,
        current: st.current.as_deref().map(dec).transpose()?,
        history: st.history,
        queries: st.queried.len(),
    })
}

impl Shrinker {
    pub fn new(cfg: LissnasConfig, seed: u64) -> Self {
        let init_left = cfg.init_queries;
        Shrinker {
            cfg,
            rng: Rng::new(splitmix64(seed, 11)),
            predictor_seed: splitmix64(seed, 12),
            init_left,
            queue: VecDeque::new(),
            asked: HashSet::new(),
            asked_order: Vec::new(),
            queried: Vec::new(),
            current: None,
            iteration: 0,
            history: Vec::new(),
            result: None,
            shrink_asked: 0,
            told: 0,
        }
    }

    fn finish(&mut self) {
        self.result = Some(self.current.clone());
        self.shrink_asked = self.asked_order.len();
    }

    /// Candidates asked by the shrinking (the first `shrink_asked` asks); 0 while shrinking.
    pub fn shrink_asked(&self) -> usize {
        self.shrink_asked
    }

    pub fn finished(&self) -> bool {
        self.result.is_some()
    }

    pub fn was_asked(&self, c: &Candidate) -> bool {
        self.asked.contains(c)
    }

    /// Record a candidate as asked (also for the inner search, so nothing is queried twice).
    pub fn mark_asked(&mut self, c: &Candidate) {
        if self.asked.insert(c.clone()) {
            self.asked_order.push(c.clone());
        }
    }

    /// Record a finished query.
    pub fn tell(&mut self, c: &Candidate, reward: Option<f64>) {
        self.told += 1;
        if let Some(r) = reward.filter(|r| r.is_finite()) {
            self.queried.push((c.clone(), r));
        }
    }

    /// The maximum edit distance of a neighbor: max(1, floor(edit_fraction * decisions)).
    pub fn k_max(&self, space: &SearchSpace) -> usize {
        ((self.cfg.edit_fraction * space.num_decisions() as f64 + 1e-9).floor() as usize).max(1)
    }

    /// The predictor trained on every result told so far (None with fewer than 2).
    pub fn predictor(&self, space: &SearchSpace) -> Option<(Gbdt, OneHot)> {
        if self.queried.len() < 2 {
            return None;
        }
        let enc = OneHot::new(space);
        let x: Vec<Vec<f64>> = self.queried.iter().map(|(c, _)| enc.dense(c)).collect();
        let y: Vec<f64> = self.queried.iter().map(|(_, r)| *r).collect();
        let seed = splitmix64(self.predictor_seed, self.queried.len() as u64);
        Gbdt::fit(&x, &y, &self.cfg.predictor, seed).ok().map(|m| (m, enc))
    }

    /// Queries asked and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.asked_order.len().saturating_sub(self.told)
    }

    /// The next query; None once the procedure has ended ([`Shrinker::finished`]) or while a
    /// step waits for results in flight. `accept` must pass for a returned
    /// candidate (it is called at most once per candidate returned).
    pub fn next_query(&mut self, space: &SearchSpace, accept: &mut dyn FnMut(&Candidate) -> bool) -> Option<Candidate> {
        loop {
            if self.result.is_some() {
                return None;
            }
            if self.init_left > 0 {
                self.init_left -= 1;
                match self.random_new(space, accept) {
                    Some(c) => return Some(c),
                    None => {
                        // the space has no new feasible candidates: stop where we are
                        self.finish();
                        return None;
                    }
                }
            }
            while let Some(c) = self.queue.pop_front() {
                if !self.asked.contains(&c) && accept(&c) {
                    self.mark_asked(&c);
                    return Some(c);
                }
            }
            if self.in_flight() > 0 {
                // the next step needs every result asked so far
                return None;
            }
            if self.queried.len() < 2 {
                // nothing to train on yet (the queries failed): one more random query
                self.init_left = 1;
                continue;
            }
            self.step(space);
        }
    }

    fn random_new(&mut self, space: &SearchSpace, accept: &mut dyn FnMut(&Candidate) -> bool) -> Option<Candidate> {
        for _ in 0..DRAW_TRIES {
            let c = space.sample(&mut self.rng);
            if !self.asked.contains(&c) && accept(&c) {
                self.mark_asked(&c);
                return Some(c);
            }
        }
        None
    }

    /// `samples` distinct uniform random feasible candidates (fewer if the space is smaller).
    fn pool_sample(&mut self, space: &SearchSpace) -> Vec<Candidate> {
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(self.cfg.samples);
        let mut misses = 0;
        while out.len() < self.cfg.samples && misses < DRAW_TRIES {
            let c = space.sample(&mut self.rng);
            if space.feasible(&c) && seen.insert(c.clone()) {
                out.push(c);
                misses = 0;
            } else {
                misses += 1;
            }
        }
        out
    }

    /// One shrinking step (seed search, neighbor generation, mean test).
    fn step(&mut self, space: &SearchSpace) {
        if self.iteration >= self.cfg.max_iters {
            self.finish();
            return;
        }
        let Some((model, enc)) = self.predictor(space) else {
            self.finish();
            return;
        };
        let pred = |c: &Candidate| model.predict(&enc.dense(c));
        let pool = match &self.current {
            Some(s) => s.clone(),
            None => self.pool_sample(space),
        };
        if pool.is_empty() {
            self.finish();
            return;
        }
        let pool_pred: Vec<f64> = pool.iter().map(pred).collect();
        let pool_mean = pool_pred.iter().sum::<f64>() / pool.len() as f64;
        let mut order: Vec<usize> = (0..pool.len()).collect();
        order.sort_by(|&a, &b| pool_pred[b].total_cmp(&pool_pred[a]).then(pool[a].cmp(&pool[b])));
        let seeds: Vec<Candidate> = order.iter().take(self.cfg.seeds).map(|&i| pool[i].clone()).collect();
        let k_max = self.k_max(space);
        let mut next: Vec<Candidate> = seeds.clone();
        for s in &seeds {
            for _ in 0..self.cfg.neighbors {
                let k = 1 + self.rng.below(k_max as u64) as usize;
                if let Some(n) = space.neighbor(s, k, &mut self.rng) {
                    if space.feasible(&n) {
                        next.push(n);
                    }
                }
            }
        }
        next.sort_unstable();
        next.dedup();
        let next_pred: Vec<f64> = next.iter().map(pred).collect();
        let next_mean = next_pred.iter().sum::<f64>() / next.len() as f64;
        let accepted = next_mean > pool_mean;
        self.history.push(StepStat {
            iteration: self.iteration,
            trained_on: self.queried.len(),
            pool: pool.len(),
            pool_mean_pred: pool_mean,
            seeds: seeds.len(),
            next_size: next.len(),
            next_mean_pred: next_mean,
            accepted,
        });
        if !accepted {
            self.finish();
            return;
        }
        let mut order: Vec<usize> = (0..next.len()).collect();
        order.sort_by(|&a, &b| next_pred[b].total_cmp(&next_pred[a]).then(next[a].cmp(&next[b])));
        self.queue = order.iter().map(|&i| &next[i]).filter(|c| !self.asked.contains(*c)).take(self.cfg.iter_queries).cloned().collect();
        self.current = Some(next);
        self.iteration += 1;
        if self.iteration >= self.cfg.max_iters && self.queue.is_empty() {
            self.finish();
        }
    }

    pub fn state(&self) -> Value {
        let enc = |v: &[Candidate]| v.iter().map(encode).collect::<Vec<_>>();
        let st = ShrinkerState {
            rng_counter: self.rng.counter,
            init_left: self.init_left,
            queue: self.queue.iter().map(encode).collect(),
            asked: enc(&self.asked_order),
            queried: self.queried.iter().map(|(c, r)| (encode(c), *r)).collect(),
            current: self.current.as_deref().map(enc),
            iteration: self.iteration,
            shrink_asked: self.shrink_asked,
            history: self.history.clone(),
            result: self.result.as_ref().map(|r| ResultState { members: r.as_deref().map(enc) }),
            told: Some(self.told),
        };
        serde_json::to_value(st).unwrap_or(Value::Null)
    }

    pub fn restore(&mut self, st: &Value) -> Result<(), StateError> {
        let st: ShrinkerState = crate::strategy::state_from("lissnas", st)?;
        let dec = |v: &[String]| v.iter().map(|x| decode(x)).collect::<Result<Vec<_>, DecodeError>>();
        self.rng.counter = st.rng_counter;
        self.init_left = st.init_left;
        self.queue = dec(&st.queue)?.into();
        self.asked_order = dec(&st.asked)?;
        self.asked = self.asked_order.iter().cloned().collect();
        self.queried = st.queried.iter().map(|(c, r)| Ok((decode(c)?, *r))).collect::<Result<_, DecodeError>>()?;
        self.current = st.current.as_deref().map(dec).transpose()?;
        self.shrink_asked = st.shrink_asked;
        self.iteration = st.iteration;
        self.history = st.history;
        self.result = st.result.map(|r| r.members.as_deref().map(dec).transpose()).transpose()?;
        self.told = st.told.unwrap_or(self.asked_order.len());
        Ok(())
    }
}

/// The output of [`shrink`].
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The shrunk space, sorted; None when the first step did not raise the mean predicted
    /// accuracy (the output is then the original space).
    pub members: Option<Vec<Candidate>>,
    /// One entry per shrinking step.
    pub history: Vec<StepStat>,
    /// Every real query with its result, in order.
    pub queries: Vec<(Candidate, f64)>,
    /// The predictor trained on all the queries.
    pub predictor: Option<Gbdt>,
}

/// Shrink `space` with LISSNAS. `oracle` is the real (expensive) evaluation, e.g. a benchmark
/// lookup or a training; None is a failed evaluation. Deterministic for a given seed.
pub fn shrink(space: &SearchSpace, cfg: &LissnasConfig, seed: u64, oracle: &mut dyn FnMut(&Candidate) -> Option<f64>) -> Result<Shrunk, LissnasConfigError> {
    cfg.validate()?;
    let mut s = Shrinker::new(cfg.clone(), seed);
    while let Some(c) = s.next_query(space, &mut |c| space.feasible(c)) {
        let r = oracle(&c);
        s.tell(&c, r);
    }
    let predictor = s.predictor(space).map(|p| p.0);
    Ok(Shrunk { members: s.result.clone().flatten(), history: s.history.clone(), queries: s.queried.clone(), predictor })
}

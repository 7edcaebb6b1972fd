//! LayerNAS (Fan et al., "LayerNAS: Neural Architecture Search in Polynomial Complexity"),
//! Algorithm 1, as an ask/tell strategy.
//!
//! **Layers.** A layer is one decision of the spec, in spec order. A model "on layer i" is
//! `(s_0..s_{i-1}, x_i, o_{i+1}..)`: decisions before `i` as its parent had them, decision `i`
//! set by `apply_search_option`, every later decision at the spec's `default`
//! (`CompiledSpace::complete_with_defaults`; conditional decisions that come into existence take
//! their default too).
//!
//! **The loop (our reading of Algorithm 1).**
//! 1. `M_0 = {∀ M_0}`: every option of decision 0 with the rest at defaults is evaluated.
//! 2. For layer `l = 1, 2, ..`: `select` takes parents from the stored set `M_{l-1}` (R of them:
//!    by default every stored model once, in random order; with `parents_per_layer = R`, R
//!    uniform draws with replacement). `apply_search_option` gives each parent T options of
//!    decision `l` (by default all of them, in random order — the paper uses random selection;
//!    with `options_per_parent = T`, T distinct random ones). Each child is evaluated (the
//!    runner's evaluator, through ask/tell) and kept if it is among the `per_bucket` best of its
//!    bucket `φ(child)` of `M_l`. The defaults give the paper's count Σ|M_i|·|S_i|.
//! 3. After the last layer, `l` wraps to 1 ("if l == L then l = 1") and the loop repeats until a
//!    whole pass finds no new candidate ("until no available candidates"); then `ask` returns
//!    nothing and the runner ends the run as `exhausted`, budget left or not. With the default
//!    R and T a second pass regenerates the same children, so the search is one pass.
//! - A child already evaluated (for instance a parent with its default option re-applied) is not
//!   trained again: its known reward enters `M_l` without a trial. The parent itself thus joins
//!   `M_l`, as the DP of section 4.2 needs (option "keep the default").
//! - A layer's children are generated when the previous layer's queue runs dry. With one
//!   worker every result of the previous layer is in by then (exactly Algorithm 1). With W
//!   simulated workers the next layer starts from the set as it is, and late results still
//!   enter their layer's set (an asynchronous variant).
//!
//! **φ.**
//! - Topology mode: the canonical key (`SearchSpace::key`, isomorphism-aware), or with
//!   `phi = "unique"` the canonical genotype (every candidate its own bucket).
//! - Size mode: Eq. 4, `⌊(Cost − min Cost(M_i)) / (max Cost(M_i) − min Cost(M_i)) · H⌋` with
//!   `H = buckets`, where `min/max Cost(M_i)` are the exact extremes over all layer-i models (the
//!   metric's min-sum / max-sum with later decisions pinned to defaults). On the last layer the
//!   admissible models are exactly those in the target, so there the range is the target range.
//!   `select`'s filter: a child is never evaluated when no completion of its prefix
//!   `0..=l` can land in the target range (`CompiledSpace::prefix_bounds`, exact).
//! - Each bucket keeps the `per_bucket` best models (3 in the paper's experiments); ties keep the
//!   earlier one.
mod config;
pub mod cost;

pub use config::{Fill, LayerNasConfig, LayerNasConfigError, Mode, TopologyPhi};
pub use cost::CostModel;

use super::{stream_seed, AskCtx, StateError, Strategy, Told};
use crate::space::{decode, encode, CompileError};
use nasc_compiler::compiled::CompiledSpace;
use nasc_compiler::rng::Rng;
use nasc_compiler::{Candidate, Slot};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};

/// One child to consider: its parent (None for the all-defaults root of layer 0) and itself,
/// both in `space::encode` form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Job {
    parent: Option<String>,
    child: String,
}

/// A stored model of a layer's set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Member {
    cand: String,
    reward: f64,
}

/// φ's input, computed when a candidate is asked (the space is not at hand in `tell`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
enum Phi {
    Label(String),
    Cost(f64),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Known {
    reward: Option<f64>,
    phi: Phi,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Inflight {
    parent: Option<String>,
    /// The layers whose sets the result enters.
    layers: Vec<usize>,
    phi: Phi,
}

/// The whole mutable state (serialized as is).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct Dyn {
    rng_counter: u64,
    started: bool,
    /// The decision whose options the queued children apply.
    layer: usize,
    pass: u64,
    /// Candidates asked in the current pass.
    pass_new: u64,
    done: bool,
    queue: VecDeque<Job>,
    /// `M_i`: per layer, bucket label -> best models, best first.
    sets: Vec<BTreeMap<String, Vec<Member>>>,
    evaluated: BTreeMap<String, Known>,
    inflight: BTreeMap<String, Inflight>,
    cost: Option<CostModel>,
    /// The row later decisions are filled from (`fill = "largest"`); None: the spec's defaults.
    #[serde(default)]
    fill: Option<Vec<u64>>,
    /// The row that minimizes the fill metric, used to repair a completion that violates the
    /// run's constraints.
    #[serde(default)]
    cheap: Option<Vec<u64>>,
    /// Children whose completion was repaired to meet the constraints.
    #[serde(default)]
    repaired: u64,
    asked: u64,
    reused: u64,
    dropped: u64,
    rejected: u64,
}

/// Counters of a LayerNAS search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerNasStats {
    /// Candidates asked (trials).
    pub asked: u64,
    /// Children already evaluated, entered into a set without a trial.
    pub reused: u64,
    /// Children dropped by the prefix filter (size mode).
    pub dropped: u64,
    /// Children refused by `AskCtx::accept` (infeasible or duplicate), or with no feasible
    /// completion.
    pub rejected: u64,
    /// Children whose completion was changed to meet the run's constraints.
    pub repaired: u64,
    /// Completed passes over the layers.
    pub pass: u64,
    /// The layer being searched.
    pub layer: usize,
}

pub struct LayerNas {
    cfg: LayerNasConfig,
    rng: Rng,
    d: Dyn,
    error: Option<LayerNasError>,
}

/// Why a LayerNAS search cannot start on a space (its cost model, its fill).
#[derive(Debug, Clone, thiserror::Error)]
pub enum LayerNasError {
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// `metrics`: the space's derived metrics.
    #[error("layernas: unknown metric `{name}` (metrics: {})", .metrics.join(", "))]
    UnknownMetric { name: String, metrics: Vec<String> },
    #[error("layernas: metric `{name}` is not a sum of per-decision costs; size mode needs an additive metric such as `flops` or `params`")]
    NotAdditive { name: String },
    /// `target` and `global`: the target range and the space's (min, max) cost.
    #[error("layernas: target `{name}` range [{}, {}] contains no model of the space (its models cost {} to {})", .target.0, .target.1, .global.0, .global.1)]
    EmptyTarget { name: String, target: (f64, f64), global: (f64, f64) },
    /// `metrics`: the compiled space's metrics.
    #[error("layernas: unknown `fill_metric` `{name}` (metrics: {})", .metrics.join(", "))]
    UnknownFillMetric { name: String, metrics: Vec<String> },
    #[error("layernas: `fill_metric` `{name}` is not a sum of per-decision costs; `fill = \"largest\"` needs an additive metric such as `flops`")]
    FillNotAdditive { name: String },
}

impl From<LayerNasError> for String {
    fn from(e: LayerNasError) -> String {
        e.to_string()
    }
}

/// One stored set of a layer: its bucket label and its models, best first, with their rewards.
pub type StoredSet = (String, Vec<(Candidate, f64)>);

impl LayerNas {
    pub fn new(cfg: LayerNasConfig, seed: u64) -> Self {
        LayerNas { cfg, rng: Rng::new(stream_seed(seed, 1)), d: Dyn::default(), error: None }
    }

    pub fn stats(&self) -> LayerNasStats {
        let d = &self.d;
        LayerNasStats { asked: d.asked, reused: d.reused, dropped: d.dropped, rejected: d.rejected, repaired: d.repaired, pass: d.pass, layer: d.layer }
    }

    /// Why the search could not start (bad metric or target for the space), if it could not.
    pub fn error(&self) -> Option<&LayerNasError> {
        self.error.as_ref()
    }

    /// The size-mode cost model (after the first `ask`).
    pub fn cost_model(&self) -> Option<&CostModel> {
        self.d.cost.as_ref()
    }

    /// The stored sets `M_i`: per layer, (bucket label, models best first with their rewards).
    pub fn sets(&self) -> Vec<Vec<StoredSet>> {
        self.d.sets.iter().map(|set| set.iter().map(|(k, ms)| (k.clone(), ms.iter().filter_map(|m| Some((decode(&m.cand).ok()?, m.reward))).collect())).collect()).collect()
    }

    /// For a candidate asked and not yet told: its parent (None for layer 0, whose parent is the
    /// all-defaults model) and the layer (decision) its option was applied to.
    pub fn origin(&self, c: &Candidate) -> Option<(Option<Candidate>, usize)> {
        let f = self.d.inflight.get(&encode(c))?;
        let parent = f.parent.as_ref().and_then(|p| decode(p).ok());
        Some((parent, *f.layers.first()?))
    }

    fn init(&mut self, ctx: &AskCtx) -> Result<(), LayerNasError> {
        if self.d.sets.len() == ctx.space.num_decisions().max(1) {
            return Ok(());
        }
        self.d.sets = vec![BTreeMap::new(); ctx.space.num_decisions().max(1)];
        if self.cfg.mode == Mode::Size {
            self.d.cost = Some(CostModel::new(ctx.space, &self.cfg)?);
        }
        let cs = ctx.space.compiled()?;
        let names = cs.metric_names();
        let metric = match &self.cfg.fill_metric {
            Some(m) => Some(names.iter().position(|n| n == m).ok_or_else(|| LayerNasError::UnknownFillMetric { name: m.clone(), metrics: names.to_vec() })?),
            None => names.iter().position(|n| n == "flops").or_else(|| names.iter().position(|n| n == "params")),
        };
        if let Some(m) = metric {
            let root = cs.encode(&ctx.space.inner().default_candidate());
            if self.cfg.effective_fill() == Fill::Largest {
                self.d.fill = cs.extreme_completion(&root, 0, m, true);
                if self.d.fill.is_none() && self.cfg.fill_metric.is_some() {
                    return Err(LayerNasError::FillNotAdditive { name: names[m].clone() });
                }
            }
            self.d.cheap = cs.extreme_completion(&root, 0, m, false);
        }
        Ok(())
    }

    /// The child `c` (decisions `0..len` set) completed with the fill; when that violates the
    /// run's constraints, each later decision in turn takes its most expensive option that
    /// still has a feasible completion (the rest at the cheapest model's options). None when
    /// no completion found this way is feasible; the flag says whether it was repaired.
    fn complete(&self, ctx: &AskCtx, cs: &CompiledSpace, row: &[u64], len: usize) -> Option<(Vec<u64>, bool)> {
        let full = match &self.d.fill {
            Some(f) => cs.complete_with(row, len, f),
            None => cs.complete_with_defaults(row, len),
        };
        if ctx.space.feasible(&cs.decode(&full)) {
            return Some((full, false));
        }
        let cheap = self.d.cheap.as_ref()?;
        let order = self.d.fill.as_ref().unwrap_or(&full);
        let mut cur = row.to_vec();
        cur.resize(cs.n_dec(), 0);
        for d in len..cs.n_dec() {
            // options of d, the fill's first, then the rest in their order
            let mut opts = cs.slot_options(d);
            if let Some(p) = opts.iter().position(|o| *o == order[d]) {
                let o = opts.remove(p);
                opts.insert(0, o);
            }
            let mut chosen = None;
            for o in opts {
                cur[d] = o;
                let trial = cs.complete_with(&cur, d + 1, cheap);
                if ctx.space.feasible(&cs.decode(&trial)) {
                    chosen = Some(o);
                    break;
                }
            }
            cur[d] = chosen?;
        }
        Some((cs.complete_with(&cur, cs.n_dec(), cheap), true))
    }

    fn label(&self, layer: usize, phi: &Phi) -> String {
        match (phi, &self.d.cost) {
            (Phi::Label(s), _) => s.clone(),
            (Phi::Cost(c), Some(m)) if layer < m.ranges.len() => format!("{:05}", m.bucket(layer, *c, self.cfg.buckets)),
            (Phi::Cost(_), _) => "00000".into(),
        }
    }

    /// Keep `cand` in bucket `label` of `M_layer` if it is among the `per_bucket` best.
    fn insert(&mut self, layer: usize, label: String, cand: String, reward: f64) {
        let k = self.cfg.per_bucket;
        let Some(set) = self.d.sets.get_mut(layer) else { return };
        let b = set.entry(label).or_default();
        if b.iter().any(|m| m.cand == cand) {
            return;
        }
        if b.len() >= k {
            if b.last().is_none_or(|w| reward <= w.reward) {
                return;
            }
            b.pop();
        }
        let pos = b.iter().position(|m| reward > m.reward).unwrap_or(b.len());
        b.insert(pos, Member { cand, reward });
    }

    /// The options of decision `l` to apply to `parent` (random order; T of them if set).
    fn options(&mut self, ctx: &AskCtx, parent: &Candidate, l: usize) -> Vec<Slot> {
        if parent.0.get(l).is_none_or(|s| *s == Slot::Absent) {
            return Vec::new();
        }
        let t = self.cfg.options_per_parent;
        match &ctx.space.inner().domains().values[l] {
            Some(vals) => {
                let mut v: Vec<Slot> = vals.iter().copied().filter(|s| *s != Slot::Absent).collect();
                shuffle(&mut v, &mut self.rng);
                v.truncate(t.unwrap_or(usize::MAX));
                v
            }
            // a subset too large to enumerate: T (or 16) random member sets
            None => (0..t.unwrap_or(16)).map(|_| ctx.space.sample(&mut self.rng).0[l]).filter(|s| *s != Slot::Absent).collect(),
        }
    }

    /// Queue the children of layer `l`.
    fn generate(&mut self, ctx: &AskCtx, cs: &CompiledSpace, l: usize) {
        let n = ctx.space.num_decisions();
        let parents: Vec<Option<String>> = if l == 0 { vec![None] } else { self.d.sets[l - 1].values().flat_map(|b| b.iter().map(|m| Some(m.cand.clone()))).collect() };
        let selected: Vec<Option<String>> = match self.cfg.parents_per_layer {
            None => {
                let mut p = parents;
                shuffle(&mut p, &mut self.rng);
                p
            }
            Some(_) if parents.is_empty() => Vec::new(),
            Some(r) => (0..r).map(|_| parents[self.rng.below(parents.len() as u64) as usize].clone()).collect(),
        };
        let root = match &self.d.fill {
            Some(f) => cs.decode(&cs.complete_with(f, 0, f)),
            None => ctx.space.inner().default_candidate(),
        };
        for p in selected {
            let parent = match &p {
                None => root.clone(),
                Some(s) => match decode(s) {
                    Ok(c) => c,
                    Err(_) => continue,
                },
            };
            if n == 0 {
                self.d.queue.push_back(Job { parent: None, child: encode(&parent) });
                continue;
            }
            for o in self.options(ctx, &parent, l) {
                let mut c = parent.clone();
                c.0[l] = o;
                let Some((row, repaired)) = self.complete(ctx, cs, &cs.encode(&c), l + 1) else {
                    self.d.rejected += 1;
                    continue;
                };
                self.d.repaired += repaired as u64;
                self.d.queue.push_back(Job { parent: p.clone(), child: encode(&cs.decode(&row)) });
            }
        }
    }

    /// Move to the next layer (wrapping to layer 1 after the last); false when a whole pass
    /// found no new candidate.
    fn advance(&mut self, ctx: &AskCtx, cs: &CompiledSpace) -> bool {
        if !self.d.started {
            self.d.started = true;
            self.d.layer = 0;
            self.generate(ctx, cs, 0);
            return true;
        }
        let mut next = self.d.layer + 1;
        if next >= ctx.space.num_decisions() {
            if self.d.pass_new == 0 {
                return false;
            }
            self.d.pass += 1;
            self.d.pass_new = 0;
            next = 1;
            if next >= ctx.space.num_decisions() {
                return false;
            }
        }
        self.d.layer = next;
        self.generate(ctx, cs, next);
        true
    }

    /// Consider one child: reuse a known result, filter, accept, or ask it.
    fn process(&mut self, ctx: &mut AskCtx, cs: &CompiledSpace, job: Job) -> Option<Candidate> {
        let l = self.d.layer;
        if let Some(k) = self.d.evaluated.get(&job.child) {
            let (reward, label) = (k.reward, self.label(l, &k.phi));
            if let Some(r) = reward {
                self.insert(l, label, job.child, r);
            }
            self.d.reused += 1;
            return None;
        }
        if let Some(f) = self.d.inflight.get_mut(&job.child) {
            if !f.layers.contains(&l) {
                f.layers.push(l);
            }
            return None;
        }
        let c = decode(&job.child).ok()?;
        let row = cs.encode(&c);
        if let Some(m) = &self.d.cost {
            if !m.admissible(cs, &row, l + 1) {
                self.d.dropped += 1;
                return None;
            }
        }
        if !ctx.accept(&c) {
            self.d.rejected += 1;
            return None;
        }
        let phi = match (self.cfg.mode, &self.d.cost) {
            (Mode::Size, Some(m)) => Phi::Cost(cs.metrics(&row)[m.metric]),
            (_, _) => Phi::Label(match self.cfg.phi {
                TopologyPhi::Key => ctx.space.key(&c),
                TopologyPhi::Unique => ctx.space.canonical(&c),
            }),
        };
        self.d.inflight.insert(job.child, Inflight { parent: job.parent, layers: vec![l], phi });
        self.d.asked += 1;
        self.d.pass_new += 1;
        Some(c)
    }
}

/// Fisher-Yates with the strategy's RNG.
fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

impl Strategy for LayerNas {
    fn name(&self) -> &'static str {
        "layernas"
    }
    fn config(&self) -> Value {
        serde_json::to_value(&self.cfg).unwrap_or(Value::Null)
    }
    fn ask(&mut self, ctx: &mut AskCtx, n: usize) -> Vec<Candidate> {
        if self.d.done || self.error.is_some() {
            return Vec::new();
        }
        let cs = match self.init(ctx).and_then(|_| ctx.space.compiled().map_err(LayerNasError::from)) {
            Ok(cs) => cs,
            Err(e) => {
                eprintln!("{e}");
                self.error = Some(e);
                return Vec::new();
            }
        };
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            if let Some(job) = self.d.queue.pop_front() {
                if let Some(c) = self.process(ctx, cs, job) {
                    out.push(c);
                }
            } else if !self.advance(ctx, cs) {
                self.d.done = true;
                break;
            }
        }
        out
    }
    fn tell(&mut self, results: &[Told]) {
        for r in results {
            let s = encode(r.candidate);
            let Some(f) = self.d.inflight.remove(&s) else { continue };
            let reward = r.reward.filter(|x| x.is_finite());
            self.d.evaluated.insert(s.clone(), Known { reward, phi: f.phi.clone() });
            if let Some(rw) = reward {
                for l in f.layers {
                    let label = self.label(l, &f.phi);
                    self.insert(l, label, s.clone(), rw);
                }
            }
        }
    }
    fn state(&self) -> Value {
        let mut d = self.d.clone();
        d.rng_counter = self.rng.counter;
        serde_json::to_value(&d).unwrap_or(Value::Null)
    }
    fn restore(&mut self, state: &Value) -> Result<(), StateError> {
        let d: Dyn = serde_json::from_value(state.clone()).map_err(|source| StateError::Unreadable { strategy: "layernas", source })?;
        self.rng = Rng { seed: self.rng.seed, counter: d.rng_counter };
        self.d = d;
        Ok(())
    }
}

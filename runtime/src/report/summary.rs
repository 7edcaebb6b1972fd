//! What a report shows of a run, gathered in one pass over its trials ([`Summary::push`]) so
//! that `nasc report` reads a store of any size in memory bounded by what it shows: the counts,
//! the best-so-far improvements, the top trials, the latest failures, the Pareto front, and for
//! plots a bounded sample of the trials' points (see [`Sample`]). Only `--trials`, which prints
//! every trial, keeps them all.
use super::front::{FrontScan, RunFront};
use super::ReportError;
use crate::error::ObjectiveError;
use crate::objective::Objectives;
use crate::store::{RunMeta, StoredRun, StoredTrial};
use crate::svg::{pareto_front, Sample};
use serde_json::Value;
use std::collections::VecDeque;

/// Trials in a report's `top`.
pub const TOP: usize = 10;
/// Failed trials a report keeps (the latest ones).
pub const FAILURES_KEPT: usize = 10;

/// What to gather beyond the summary.
#[derive(Default, Clone)]
pub struct Gather {
    /// Keep every trial (`--trials`).
    pub all_trials: bool,
    /// Gather plot data: reward against each of these metrics (`pareto_<metric>.svg`; none
    /// named: the run's params/flops/latency metrics).
    pub plot_metrics: Option<Vec<String>>,
}

/// Reward against one metric: a sample of the points and their exact front.
pub struct MetricPlot {
    pub metric: String,
    pub points: Sample,
    /// Candidates for the front (min metric, max reward): cut back to the front past `limit`.
    front: Vec<(f64, f64)>,
    limit: usize,
}

impl MetricPlot {
    /// The exact front of every point seen, sorted by the metric.
    pub fn front(&self) -> Vec<(f64, f64)> {
        pareto_front(&self.front)
    }
}

/// One point of a best-so-far curve: (trial number from 1, time, best reward, its reported).
pub type Corner = (f64, f64, f64, Option<f64>);

pub struct Summary {
    pub trials: u64,
    pub failed: u64,
    /// The last trial's simulated (or evaluation) time and wall time.
    pub sim: f64,
    pub wall: f64,
    metric_names: Vec<String>,
    /// The single non-default objective the run maximized, if any (see [`super::scores`]).
    scorer: Option<Objectives>,
    best_score: f64,
    /// Trials that improved the best score, in order.
    pub improvements: Vec<StoredTrial>,
    /// The best `TOP` distinct candidates: (score, trial), best first, earliest on ties.
    top: Vec<(f64, StoredTrial)>,
    /// The latest failed trials, oldest first.
    pub failures: VecDeque<StoredTrial>,
    front: Result<FrontScan, ObjectiveError>,
    /// Every trial, with [`Gather::all_trials`].
    pub all: Option<Vec<StoredTrial>>,
    plots: Option<Plots>,
}

/// Plot data: best-so-far corners by reward, reward vs each metric, and the objectives' points.
pub struct Plots {
    best: Option<(f64, Option<f64>)>,
    /// The improvements of the reward (a step line needs only its corners), then the last trial.
    pub corners: Vec<Corner>,
    last: Option<(f64, f64, bool)>,
    pub metrics: Vec<MetricPlot>,
    /// Two objectives: a sample of the trials' raw (second, first) objective values.
    pub objectives: Sample,
}

impl Plots {
    /// The best-so-far corners, ending at the last trial.
    pub fn curve(&self) -> Vec<Corner> {
        let mut c = self.corners.clone();
        if let (Some((x, time, false)), Some((r, rep))) = (self.last, self.best) {
            c.push((x, time, r, rep));
        }
        c
    }
}

impl Summary {
    pub fn new(meta: &RunMeta, g: &Gather) -> Self {
        let scorer = Objectives::of_run(meta).ok().filter(|o| !o.is_multi() && !o.is_default());
        let plots = g.plot_metrics.as_ref().map(|ms| super::plot_metrics(meta, ms)).map(|ms| Plots {
            best: None,
            corners: Vec::new(),
            last: None,
            metrics: ms.iter().map(|m| MetricPlot { metric: m.clone(), points: Sample::new(), front: Vec::new(), limit: SLACK }).collect(),
            objectives: Sample::new(),
        });
        Summary {
            trials: 0,
            failed: 0,
            sim: 0.0,
            wall: 0.0,
            metric_names: meta.metric_names.clone(),
            scorer,
            best_score: f64::NEG_INFINITY,
            improvements: Vec::new(),
            top: Vec::new(),
            failures: VecDeque::new(),
            front: FrontScan::new(meta),
            all: g.all_trials.then(Vec::new),
            plots,
        }
    }

    /// The summary of a run read whole.
    pub fn of(run: &StoredRun, g: &Gather) -> Self {
        let mut s = Summary::new(&run.meta, g);
        for t in &run.trials {
            s.push(t.clone());
        }
        s
    }

    /// Read a SQLite run row by row into its summary (the run comes back without trials).
    pub fn scan(path: &std::path::Path, g: &Gather) -> Result<(StoredRun, Summary), crate::store::StoreError> {
        let mut sum: Option<Summary> = None;
        let run = crate::store::SqliteStore::scan(path, &mut |m, t| sum.get_or_insert_with(|| Summary::new(m, g)).push(t))?;
        let sum = sum.unwrap_or_else(|| Summary::new(&run.meta, g));
        Ok((run, sum))
    }

    /// A trial's score: its reward, or the single non-default objective's scalar.
    fn score(&self, t: &StoredTrial) -> Option<f64> {
        match &self.scorer {
            Some(o) => {
                let metrics: Vec<f64> = self.metric_names.iter().map(|n| t.metrics.get(n).and_then(Value::as_f64).unwrap_or(f64::NAN)).collect();
                t.reward.and(o.scalar(t.reward, t.reported, &metrics))
            }
            None => t.reward,
        }
    }

    /// Take the next trial (in completion order).
    pub fn push(&mut self, t: StoredTrial) {
        self.trials += 1;
        (self.sim, self.wall) = (t.sim_end, t.wall);
        let vector = self.front.as_mut().ok().and_then(|f| f.push(&t));
        if let Some(p) = &mut self.plots {
            p.push(&t, vector.as_deref(), self.front.as_ref().ok().map(FrontScan::objectives));
        }
        if t.status != "ok" {
            self.failed += 1;
            if self.failures.len() == FAILURES_KEPT {
                self.failures.pop_front();
            }
            self.failures.push_back(t.clone());
        }
        if let Some(s) = self.score(&t) {
            self.offer_top(s, &t);
            if self.improvements.is_empty() || s > self.best_score {
                self.best_score = s;
                self.improvements.push(t.clone());
            }
        }
        if let Some(all) = &mut self.all {
            all.push(t);
        }
    }

    /// Keep the best `TOP` distinct candidates (by key, else name): per candidate its best
    /// score, earliest on ties, as sorting every trial by (score desc, seq) would.
    fn offer_top(&mut self, s: f64, t: &StoredTrial) {
        let key = |t: &StoredTrial| t.key.clone().unwrap_or_else(|| t.name.clone());
        let k = key(t);
        if let Some(i) = self.top.iter().position(|(_, u)| key(u) == k) {
            if s <= self.top[i].0 {
                return;
            }
            self.top.remove(i);
        } else if self.top.len() == TOP && self.top.last().is_some_and(|(w, _)| s <= *w) {
            return;
        }
        // after every kept trial with a score at least as high (they came earlier)
        let at = self.top.partition_point(|(w, _)| *w >= s);
        self.top.insert(at, (s, t.clone()));
        self.top.truncate(TOP);
    }

    /// The best trial: highest score, earliest on ties.
    pub fn best(&self) -> Option<&StoredTrial> {
        self.improvements.last()
    }

    /// The top `k` (at most [`TOP`]) distinct candidates by score.
    pub fn top(&self, k: usize) -> Vec<&StoredTrial> {
        self.top.iter().take(k).map(|(_, t)| t).collect()
    }

    /// The latest `n` failed trials (at most [`FAILURES_KEPT`]), oldest first.
    pub fn failures(&self, n: usize) -> Vec<&StoredTrial> {
        self.failures.iter().skip(self.failures.len().saturating_sub(n)).collect()
    }

    /// The run's Pareto front over its objectives.
    pub fn front(&self, reference: Option<&[f64]>) -> Result<RunFront, ReportError> {
        match &self.front {
            Ok(f) => f.clone().finish(reference),
            Err(e) => Err(e.clone().into()),
        }
    }

    pub fn plots(&self) -> Option<&Plots> {
        self.plots.as_ref()
    }
}

impl Plots {
    fn push(&mut self, t: &StoredTrial, vector: Option<&[f64]>, objectives: Option<&Objectives>) {
        let x = (t.seq + 1) as f64;
        let mut improved = false;
        if let Some(r) = t.reward {
            if self.best.is_none_or(|b| r > b.0) {
                self.best = Some((r, t.reported));
                self.corners.push((x, t.sim_end, r, t.reported));
                improved = true;
            }
        }
        self.last = Some((x, t.sim_end, improved));
        for m in &mut self.metrics {
            if let (Some(v), Some(r)) = (t.metrics.get(&m.metric).and_then(Value::as_f64), t.reward) {
                m.points.push((v, r));
                if v.is_finite() && r.is_finite() {
                    m.front.push((v, r));
                    if m.front.len() > m.limit {
                        m.front = pareto_front(&m.front);
                        m.limit = 2 * m.front.len() + SLACK;
                    }
                }
            }
        }
        if let (Some(v), Some(o)) = (vector, objectives) {
            if let [y, x] = o.list.as_slice() {
                self.objectives.push((x.raw(v[1]), y.raw(v[0])));
            }
        }
    }
}

/// Candidates kept for a reward-vs-metric front before a cut.
const SLACK: usize = 4096;

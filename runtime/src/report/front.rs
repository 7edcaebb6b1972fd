//! The Pareto front of a stored run over its objectives, found in one pass over the trials
//! ([`FrontScan`]) with memory bounded by the front, not by the run: candidates are kept until
//! they are twice the last front (plus 1,024), then cut back to the front of what is kept. The
//! front of (front(A) + B) is the front of (A + B), so the result equals
//! [`crate::pareto::front`] over every trial, in the same (completion) order.
use super::ReportError;
use crate::error::ObjectiveError;
use crate::objective::{Objectives, MAX_HV_FRONT};
use crate::store::{RunMeta, StoredRun, StoredTrial};
use serde_json::{json, Value};

/// A trial on the front: who it is and its objective vector (oriented: every entry maximized).
#[derive(Debug, Clone)]
pub struct FrontMember {
    pub id: u64,
    pub seq: u64,
    pub name: String,
    pub vector: Vec<f64>,
}

/// The Pareto front of a stored run over its objectives.
#[derive(Debug, Clone)]
pub struct RunFront {
    pub objectives: Objectives,
    /// The non-dominated successful trials, by id.
    pub front: Vec<FrontMember>,
    /// The hypervolume reference point (oriented) and the hypervolume of the front.
    pub reference: Vec<f64>,
    pub hypervolume: f64,
}

/// Finds a run's front trial by trial.
#[derive(Clone)]
pub struct FrontScan {
    objectives: Objectives,
    metric_names: Vec<String>,
    /// The front of the trials seen up to the last cut, then the trials after it.
    kept: Vec<FrontMember>,
    limit: usize,
    /// Per objective, the least and greatest value over the successful trials.
    lo: Vec<f64>,
    hi: Vec<f64>,
}

/// Kept candidates past the last front's size before the next cut.
const SLACK: usize = 1024;

impl FrontScan {
    pub fn new(meta: &RunMeta) -> Result<Self, ObjectiveError> {
        let objectives = Objectives::of_run(meta)?;
        let k = objectives.list.len();
        Ok(FrontScan { objectives, metric_names: meta.metric_names.clone(), kept: Vec::new(), limit: SLACK, lo: vec![f64::INFINITY; k], hi: vec![f64::NEG_INFINITY; k] })
    }

    pub fn objectives(&self) -> &Objectives {
        &self.objectives
    }

    /// Take one trial; its objective vector (None: failed, or a value missing).
    pub fn push(&mut self, t: &StoredTrial) -> Option<Vec<f64>> {
        let metrics: Vec<f64> = self.metric_names.iter().map(|n| t.metrics.get(n).and_then(Value::as_f64).unwrap_or(f64::NAN)).collect();
        let v = self.objectives.vector(t.reward, t.reported, &metrics)?;
        for (j, x) in v.iter().enumerate() {
            self.lo[j] = self.lo[j].min(*x);
            self.hi[j] = self.hi[j].max(*x);
        }
        if crate::pareto::finite(&v) {
            self.kept.push(FrontMember { id: t.id, seq: t.seq, name: t.name.clone(), vector: v.clone() });
            if self.kept.len() > self.limit {
                self.cut();
            }
        }
        Some(v)
    }

    fn cut(&mut self) {
        let pts: Vec<&[f64]> = self.kept.iter().map(|m| m.vector.as_slice()).collect();
        let keep = crate::pareto::front(&pts);
        let mut old = std::mem::take(&mut self.kept).into_iter().map(Some).collect::<Vec<_>>();
        self.kept = keep.into_iter().filter_map(|i| old[i].take()).collect();
        self.limit = 2 * self.kept.len() + SLACK;
    }

    /// The front; `reference` (raw values, one per objective) or the default reference point:
    /// per objective, the worst value over the successful trials, moved 10% of the objective's
    /// range further (1 when all trials agree), so every front member adds volume.
    pub fn finish(mut self, reference: Option<&[f64]>) -> Result<RunFront, ReportError> {
        self.cut();
        let objectives = self.objectives;
        let mut front = self.kept;
        front.sort_by_key(|m| m.id);
        let k = objectives.list.len();
        let reference: Vec<f64> = match reference {
            Some(r) if r.len() == k => r.iter().zip(&objectives.list).map(|(v, o)| o.sense.orient(*v)).collect(),
            Some(r) => return Err(ReportError::ReferenceLength { got: r.len(), objectives: objectives.texts() }),
            None => (0..k)
                .map(|j| {
                    let (lo, hi) = (self.lo[j], self.hi[j]);
                    if !lo.is_finite() {
                        0.0
                    } else if hi > lo {
                        lo - 0.1 * (hi - lo)
                    } else {
                        lo - 1.0
                    }
                })
                .collect(),
        };
        // exact HSO costs about front^(objectives - 1): bounded here, NaN (JSON null) beyond;
        // dominated trials add no volume, so the front's is the run's
        let bounded = k <= 3 || front.len() <= MAX_HV_FRONT[usize::from(k > 4)];
        let mut by_seq: Vec<&FrontMember> = front.iter().collect();
        by_seq.sort_by_key(|m| m.seq);
        let pts: Vec<&[f64]> = by_seq.iter().map(|m| m.vector.as_slice()).collect();
        let hypervolume = if bounded { crate::pareto::hypervolume(&pts, &reference) } else { f64::NAN };
        Ok(RunFront { objectives, front, reference, hypervolume })
    }
}

impl RunFront {
    /// The front of a run read whole.
    pub fn of(run: &StoredRun, reference: Option<&[f64]>) -> Result<Self, ReportError> {
        let mut s = FrontScan::new(&run.meta)?;
        for t in &run.trials {
            s.push(t);
        }
        s.finish(reference)
    }

    /// A front member's raw objective values by name.
    pub fn raw_of(&self, v: &[f64]) -> Value {
        let mut o = serde_json::Map::new();
        for (x, ob) in v.iter().zip(&self.objectives.list) {
            o.insert(ob.name.clone(), json!(ob.sense.orient(*x)));
        }
        Value::Object(o)
    }

    /// The report's JSON: `objectives`, `pareto` (every front trial with its raw objective
    /// values) and `hypervolume` (value and reference point, raw).
    pub fn json(&self) -> Value {
        let pareto: Vec<Value> = self.front.iter().map(|m| json!({"id": m.id, "seq": m.seq, "candidate": m.name, "objectives": self.raw_of(&m.vector)})).collect();
        json!({
            "objectives": self.objectives.texts(),
            "scalarize": self.objectives.scalarize_text,
            "pareto": pareto,
            "hypervolume": {"value": self.hypervolume.is_finite().then_some(self.hypervolume), "reference": self.raw_of(&self.reference)},
        })
    }
}

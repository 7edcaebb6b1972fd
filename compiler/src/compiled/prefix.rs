//! LayerNAS support: the metrics of a prefix completed with defaults, and the exact min and max
//! of a metric over every valid completion of a prefix.
use super::plan::{encode_slot, ABSENT};
use super::CompiledSpace;
use crate::decision::{Candidate, Slot};
use crate::factors::{self, Table};
use crate::ids::DecisionId;
use crate::metrics::Form;

impl CompiledSpace {
    /// The candidate with decisions `0..len` from `row` and the rest at their defaults (those
    /// that exist given the prefix); decision order is the spec's (LayerNAS's layer order).
    pub fn complete_with_defaults(&self, row: &[u64], len: usize) -> Vec<u64> {
        let s = &self.space;
        let mut c = Candidate(vec![Slot::Absent; s.decisions.len()]);
        for d in 0..s.decisions.len() {
            if d < len {
                c.0[d] = super::plan::decode_slot(&s.decisions[d].kind, row[d]);
            } else if s.exists(d, &c) {
                c.0[d] = s.default_slot(d);
            }
        }
        c.0.iter().map(|x| encode_slot(*x)).collect()
    }

    /// Metrics of the prefix `0..len` of `row` completed with defaults.
    pub fn prefix_metrics(&self, row: &[u64], len: usize) -> Vec<f64> {
        self.metrics(&self.complete_with_defaults(row, len))
    }

    /// Exact (min, max) of metric `metric` over the valid completions of the prefix `0..len`
    /// of `row`; None for metrics that are not sums of per-decision terms.
    pub fn prefix_bounds(&self, row: &[u64], len: usize, metric: usize) -> Option<(f64, f64)> {
        let s = &self.space;
        let Form::Additive(a) = &s.metrics.get(metric)?.form else { return None };
        let mut a = a.clone();
        // members of fixed large subsets are constants now
        let mut constant = a.constant;
        a.members.retain(|(d, j, c)| {
            if d.index() < len {
                let v = row[d.index()];
                if v != ABSENT && (v >> j) & 1 == 1 {
                    constant += c;
                }
                false
            } else {
                true
            }
        });
        a.constant = constant;
        let mut validity = s.validity.clone();
        for d in 0..len.min(s.decisions.len()) {
            let id = DecisionId(d as u32);
            let slot = super::plan::decode_slot(&s.decisions[d].kind, row[d]);
            let Some(p) = s.domains.position(id, slot) else { continue };
            let mut t = Table::new(vec![id], &s.domains, false)?;
            t.data[p] = true;
            validity.push(t);
        }
        factors::bounds(&a, &s.decisions, &s.domains, &validity)
    }
}

//! LayerNAS support: the metrics of a prefix completed with defaults, the exact min and max of a
//! metric over every valid completion of a prefix, and over the models of one layer (Eq. 4).
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
        for (d, dec) in s.decisions.iter().enumerate() {
            if d < len {
                c.0[d] = super::plan::decode_slot(&dec.kind, row[d]);
            } else if s.exists(d, &c) {
                c.0[d] = s.default_slot(d);
            }
        }
        c.0.iter().map(|x| encode_slot(*x)).collect()
    }

    /// The candidate with decisions `0..len` from `row` and each later decision that exists set
    /// from `fill` when `fill` holds an option of it there, else at its default (LayerNAS's
    /// completion of a partial model with a chosen fill instead of the spec's defaults).
    pub fn complete_with(&self, row: &[u64], len: usize, fill: &[u64]) -> Vec<u64> {
        let s = &self.space;
        let mut c = Candidate(vec![Slot::Absent; s.decisions.len()]);
        for d in 0..s.decisions.len() {
            if d < len {
                c.0[d] = super::plan::decode_slot(&s.decisions[d].kind, row.get(d).copied().unwrap_or(ABSENT));
            } else if s.exists(d, &c) {
                let f = fill.get(d).map(|v| super::plan::decode_slot(&s.decisions[d].kind, *v));
                c.0[d] = match f {
                    Some(f) if f != Slot::Absent && s.domains.position(DecisionId(d as u32), f).is_some() => f,
                    _ => s.default_slot(d),
                };
            }
        }
        c.0.iter().map(|x| encode_slot(*x)).collect()
    }

    /// The options of decision `d` that a row may hold (absent included where the decision is
    /// conditional); for a subset too large to enumerate, its default and absent.
    pub fn slot_options(&self, d: usize) -> Vec<u64> {
        let s = &self.space;
        match s.domains.values.get(d) {
            Some(Some(v)) => v.iter().map(|x| encode_slot(*x)).collect(),
            Some(None) if s.when_results[d].is_some() => vec![encode_slot(s.default_slot(d)), ABSENT],
            Some(None) => vec![encode_slot(s.default_slot(d))],
            None => Vec::new(),
        }
    }

    /// The valid completion of the prefix `0..len` of `row` with the largest (`largest`) or
    /// smallest value of the additive metric `metric`: decisions are fixed in order, each to
    /// the option whose exact best value over the remaining completions is best (ties: the
    /// first option), which is exact. None when the metric is not additive or the prefix has no
    /// valid completion.
    pub fn extreme_completion(&self, row: &[u64], len: usize, metric: usize, largest: bool) -> Option<Vec<u64>> {
        let n = self.space.decisions.len();
        let mut cur: Vec<u64> = (0..n).map(|d| if d < len { row.get(d).copied().unwrap_or(ABSENT) } else { ABSENT }).collect();
        self.prefix_bounds(&cur, len, metric)?;
        for d in len..n {
            let mut best: Option<(f64, u64)> = None;
            for o in self.slot_options(d) {
                cur[d] = o;
                let Some((lo, hi)) = self.prefix_bounds(&cur, d + 1, metric) else { continue };
                let v = if largest { hi } else { -lo };
                if best.is_none_or(|(b, _)| v > b) {
                    best = Some((v, o));
                }
            }
            cur[d] = best?.1;
        }
        Some(cur)
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
        for (d, (dec, &r)) in s.decisions.iter().zip(row).take(len).enumerate() {
            let id = DecisionId(d as u32);
            let slot = super::plan::decode_slot(&dec.kind, r);
            let Some(p) = s.domains.position(id, slot) else { continue };
            let mut t = Table::new(vec![id], &s.domains, false)?;
            t.data[p] = true;
            validity.push(t);
        }
        factors::bounds(&a, &s.decisions, &s.domains, &validity)
    }

    /// Exact (min, max) of metric `metric` over the models of layer `l` (LayerNAS Eq. 4):
    /// decisions `0..=l` free, every later decision at its default (or absent where it does not
    /// exist). None when the metric is not additive or a later decision has no enumerable domain.
    pub fn layer_bounds(&self, metric: usize, l: usize) -> Option<(f64, f64)> {
        let s = &self.space;
        let Form::Additive(a) = &s.metrics.get(metric)?.form else { return None };
        let mut a = a.clone();
        let mut constant = a.constant;
        let mut ok = true;
        a.members.retain(|(d, j, c)| {
            if d.index() > l {
                match s.default_slot(d.index()) {
                    Slot::Members(m) => {
                        if (m >> j) & 1 == 1 {
                            constant += c;
                        }
                    }
                    _ => ok = false,
                }
                false
            } else {
                true
            }
        });
        if !ok || s.decisions.iter().skip(l + 1).any(|d| d.conditional && s.domains.values[d.id.index()].is_none()) {
            return None;
        }
        a.constant = constant;
        let mut validity = s.validity.clone();
        for d in (l + 1)..s.decisions.len() {
            let id = s.decisions[d].id;
            if s.domains.values[d].is_none() {
                continue;
            }
            let mut t = Table::new(vec![id], &s.domains, false)?;
            for slot in [s.default_slot(d), Slot::Absent] {
                if let Some(p) = s.domains.position(id, slot) {
                    t.data[p] = true;
                }
            }
            validity.push(t);
        }
        factors::bounds(&a, &s.decisions, &s.domains, &validity)
    }
}

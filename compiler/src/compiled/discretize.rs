//! Discretization of a continuous relaxation: one row of weights per decision (its options,
//! or its pool members), as `Space::alpha_rows` describes.
use super::plan::{encode_slot, ABSENT};
use super::CompiledSpace;
use crate::decision::{Candidate, DecisionKind, OptValue, Slot};
use crate::deps::Lit;

fn argmax(row: &[f64], skip: &dyn Fn(usize) -> bool) -> usize {
    let mut best: Option<usize> = None;
    for (i, v) in row.iter().enumerate() {
        if skip(i) {
            continue;
        }
        if best.is_none_or(|b| *v > row[b]) {
            best = Some(i);
        }
    }
    best.unwrap_or(0)
}

/// Members by decreasing weight (ties: lower index first).
fn ranked(w: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..w.len()).collect();
    idx.sort_by(|a, b| w[*b].total_cmp(&w[*a]).then(a.cmp(b)));
    idx
}

impl CompiledSpace {
    /// The subset member `(S, i)` a conditional decision belongs to (`when i in S`), if any.
    fn attached(&self, d: usize) -> Option<(usize, u32)> {
        let rows = self.space.when_results[d].as_ref()?;
        let mut at = None;
        for (ctx, _) in rows {
            for l in ctx.iter() {
                match *l {
                    Lit::Member(s, j, _) if at.is_none_or(|x| x == (s.index(), j)) => at = Some((s.index(), j)),
                    _ => return None,
                }
            }
        }
        at
    }

    fn is_zero_op(&self, d: usize, o: usize) -> bool {
        match &self.space.decisions[d].kind {
            DecisionKind::Choice { options, .. } => matches!(options.get(o), Some(OptValue::Op(n)) if n == "none" || n == "zero"),
            _ => false,
        }
    }

    fn build(&self, pick: &dyn Fn(usize, &Candidate) -> Slot) -> Vec<u64> {
        let s = &self.space;
        let mut c = Candidate(vec![Slot::Absent; s.decisions.len()]);
        for d in 0..s.decisions.len() {
            if s.exists(d, &c) {
                c.0[d] = pick(d, &c);
            }
        }
        c.0.iter().map(|x| encode_slot(*x)).collect()
    }

    fn subset_top(&self, d: usize, w: &[f64], positive_extra: bool) -> Slot {
        let DecisionKind::Subset { min, max, .. } = &self.space.decisions[d].kind else { return Slot::Absent };
        let mut m = 0u64;
        for (k, j) in ranked(w).into_iter().enumerate() {
            if (k as u32) < *min || (positive_extra && (k as u32) < *max && w[j] > 0.0) {
                m |= 1 << j;
            }
        }
        Slot::Members(m)
    }

    /// L2NAS Algorithm 1: the argmax of every row; a subset takes its `min` strongest members
    /// and further members with positive weight up to its `max`.
    pub fn discretize_argmax(&self, alpha: &[Vec<f64>]) -> Vec<u64> {
        self.build(&|d, _| match &self.space.decisions[d].kind {
            DecisionKind::Choice { .. } => Slot::Opt(argmax(&alpha[d], &|_| false) as u32),
            DecisionKind::Subset { .. } => self.subset_top(d, &alpha[d], true),
        })
    }

    /// The DARTS rule (L2NAS Algorithm 2): an input-selection subset keeps its `min` inputs
    /// whose op rows have the strongest non-zero op; each kept edge takes its strongest
    /// non-zero op. Other decisions: argmax without zero ops.
    pub fn discretize_darts(&self, alpha: &[Vec<f64>]) -> Vec<u64> {
        let n = self.space.decisions.len();
        let attached: Vec<Option<(usize, u32)>> = (0..n).map(|d| self.attached(d)).collect();
        self.build(&|d, _| match &self.space.decisions[d].kind {
            DecisionKind::Choice { options, .. } => {
                let all_zero = (0..options.len()).all(|o| self.is_zero_op(d, o));
                Slot::Opt(argmax(&alpha[d], &|o| !all_zero && self.is_zero_op(d, o)) as u32)
            }
            DecisionKind::Subset { pool, .. } => {
                let mut w = vec![f64::NEG_INFINITY; pool.len()];
                let mut any = false;
                for (e, at) in attached.iter().enumerate() {
                    if let Some((s, j)) = at {
                        if *s == d && (*j as usize) < w.len() {
                            any = true;
                            let row = &alpha[e];
                            let best = (0..row.len()).filter(|o| !self.is_zero_op(e, *o)).map(|o| row[o]).fold(f64::NEG_INFINITY, f64::max);
                            w[*j as usize] = w[*j as usize].max(best);
                        }
                    }
                }
                if any {
                    self.subset_top(d, &w, false)
                } else {
                    self.subset_top(d, &alpha[d], true)
                }
            }
        })
    }

    /// Whether a row's slot is absent (helper for callers of the discretizers).
    pub fn is_absent(slot: u64) -> bool {
        slot == ABSENT
    }
}

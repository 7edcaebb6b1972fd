//! Local moves in a space: neighbors at edit distance k.
//!
//! One edit changes one existing decision: a choice to another of its options (uniform); a
//! subset by one add, one remove or one swap of members (uniform over the moves its size
//! bounds allow, in a fixed order: removes, adds, swaps). Decisions that come into existence
//! because of an edit (a larger depth) take their default; decisions that cease to exist are
//! dropped; neither counts as an edit. A neighbor at distance k differs from its origin in
//! exactly k decisions that exist in both.
use crate::decision::{Candidate, DecisionKind, Slot};
use crate::rng::Rng;
use crate::space::Space;

/// Attempts before `neighbor` gives up (edits that remove other edited decisions are redrawn).
pub(crate) const NEIGHBOR_TRIES: usize = 64;

impl Space {
    /// Whether decision `d` can be edited in `c` (it exists and has another value).
    fn editable(&self, d: usize, c: &Candidate) -> bool {
        match (&self.decisions[d].kind, c.0[d]) {
            (_, Slot::Absent) => false,
            (DecisionKind::Choice { options, .. }, _) => options.len() > 1,
            (DecisionKind::Subset { .. }, Slot::Members(m)) => !self.subset_moves(d, m).is_empty(),
            _ => false,
        }
    }

    /// The one-edit moves of a subset value, as new member masks, in a fixed order.
    pub fn subset_moves(&self, d: usize, m: u64) -> Vec<u64> {
        let DecisionKind::Subset { pool, min, max, .. } = &self.decisions[d].kind else { return Vec::new() };
        let n = pool.len().min(64);
        let k = m.count_ones();
        let mut out = Vec::new();
        if k > *min {
            out.extend((0..n).filter(|j| m >> j & 1 == 1).map(|j| m & !(1u64 << j)));
        }
        if k < *max {
            out.extend((0..n).filter(|j| m >> j & 1 == 0).map(|j| m | 1u64 << j));
        }
        for o in (0..n).filter(|j| m >> j & 1 == 1) {
            for i in (0..n).filter(|j| m >> j & 1 == 0) {
                out.push((m & !(1u64 << o)) | 1u64 << i);
            }
        }
        out
    }

    /// The default value of decision `d` (used when an edit makes it exist).
    pub fn default_slot(&self, d: usize) -> Slot {
        match &self.decisions[d].kind {
            DecisionKind::Choice { default, .. } => Slot::Opt(*default),
            DecisionKind::Subset { default, min, .. } => Slot::Members(if default.count_ones() >= *min { *default } else { 1u64.checked_shl(*min).map_or(u64::MAX, |x| x - 1) }),
        }
    }

    /// A valid candidate differing from `c` in exactly `k` decisions (see the module docs), or
    /// None when `c` has fewer than `k` editable decisions or no such edit was found.
    pub fn neighbor(&self, c: &Candidate, k: usize, rng: &mut Rng) -> Option<Candidate> {
        let editable: Vec<usize> = (0..self.decisions.len()).filter(|&d| self.editable(d, c)).collect();
        if editable.len() < k || k == 0 {
            return if k == 0 { Some(c.clone()) } else { None };
        }
        for _ in 0..NEIGHBOR_TRIES {
            // k distinct positions of `editable` (Floyd's algorithm)
            let n = editable.len() as u64;
            let mut picked: Vec<usize> = Vec::with_capacity(k);
            for j in (n - k as u64)..n {
                let t = rng.below(j + 1) as usize;
                let pick = if picked.contains(&editable[t]) { editable[j as usize] } else { editable[t] };
                picked.push(pick);
            }
            picked.sort_unstable();
            let mut out = Candidate(vec![Slot::Absent; self.decisions.len()]);
            let mut changed = 0;
            for d in 0..self.decisions.len() {
                if !self.exists(d, &out) {
                    continue;
                }
                let old = c.0[d];
                out.0[d] = match old {
                    Slot::Absent => self.default_slot(d),
                    _ if picked.binary_search(&d).is_ok() => {
                        changed += 1;
                        match (&self.decisions[d].kind, old) {
                            (DecisionKind::Choice { options, .. }, Slot::Opt(v)) => {
                                let mut w = rng.below(options.len() as u64 - 1) as u32;
                                if w >= v {
                                    w += 1;
                                }
                                Slot::Opt(w)
                            }
                            (_, Slot::Members(m)) => {
                                let moves = self.subset_moves(d, m);
                                Slot::Members(moves[rng.below(moves.len() as u64) as usize])
                            }
                            _ => old,
                        }
                    }
                    _ => old,
                };
            }
            if changed == k && self.check_valid(&out).is_ok() {
                return Some(out);
            }
        }
        None
    }

    /// Number of decisions that exist in both `a` and `b` and differ.
    pub fn edit_distance(&self, a: &Candidate, b: &Candidate) -> usize {
        a.0.iter().zip(b.0.iter()).filter(|(x, y)| **x != Slot::Absent && **y != Slot::Absent && x != y).count()
    }
}

//! Per-instance term minimization: an op instance's terms, tagged with whole world contexts,
//! are merged where equal-cost terms differ in one decision and cover all its alternatives,
//! so a cost depends only on the decisions it really depends on (small table scopes).
use crate::deps::{Deps, Lit};
use crate::interp::world::GroupCover;
use crate::interp::RawTerm;
use crate::program::Cost;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// The costs of a term, as one bucket key.
type CostKey = [i64; 9];

fn cost_hash(c: &Cost) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    cost_key(c).hash(&mut h);
    // rotate so a cost hash never cancels a literal hash of the same value by xor
    h.finish().rotate_left(29)
}

fn cost_key(c: &Cost) -> CostKey {
    let mut key = [0i64; 9];
    key[0] = c.params;
    key[1..].copy_from_slice(&c.terms);
    key
}

pub fn simplify(raw: &[RawTerm], cover: &dyn GroupCover) -> Vec<(Deps, Cost)> {
    minimize_instances(raw, cover, true)
}

/// `simplify` without the grid fast path: the reference it is tested against.
pub fn simplify_reference(raw: &[RawTerm], cover: &dyn GroupCover) -> Vec<(Deps, Cost)> {
    minimize_instances(raw, cover, false)
}

fn minimize_instances(raw: &[RawTerm], cover: &dyn GroupCover, grids: bool) -> Vec<(Deps, Cost)> {
    let mut by_inst: BTreeMap<u32, FxHashMap<&Deps, Cost>> = BTreeMap::new();
    for t in raw {
        by_inst.entry(t.inst).or_default().insert(&t.tag, t.cost);
    }
    let mut out = Vec::new();
    for (_, terms) in by_inst {
        let mut terms: Vec<(Deps, Cost)> = terms.into_iter().map(|(d, c)| (d.clone(), c)).collect();
        match Grid::new(&terms, cover).filter(|_| grids) {
            Some(grid) => terms = grid.minimize(),
            None => terms.sort_by(|a, b| a.0.cmp(&b.0)),
        }
        while merge_one_group(&mut terms, cover) {}
        out.extend(terms);
    }
    out
}

/// The common case, done without hashing or sorting: an instance whose terms are every
/// combination of the options of the same choices (`Is` literals only), as a dense array in
/// mixed radix (the first choice slowest, so index order is the terms' sorted order).
/// `minimize` gives what `merge_one_group` to a fixpoint gives: on a full grid, a group either
/// merges in every class (the cost does not depend on that choice: the grid loses it) or in
/// none; a partial merge is left to `merge_one_group`, from the grid's terms at that point.
struct Grid {
    /// (choice, number of options), by increasing choice
    dims: Vec<(crate::ids::DecisionId, usize)>,
    costs: Vec<Cost>,
}

impl Grid {
    fn new(terms: &[(Deps, Cost)], cover: &dyn GroupCover) -> Option<Grid> {
        let first = &terms.first()?.0;
        let mut dims = Vec::with_capacity(first.0.len());
        for l in first.iter() {
            let Lit::Is(d, _) = *l else { return None };
            if dims.last().is_some_and(|(p, _)| *p == d) {
                return None;
            }
            dims.push((d, cover.choice_arity(d)?));
        }
        let size = dims.iter().try_fold(1usize, |acc, (_, a)| acc.checked_mul(*a))?;
        if size != terms.len() {
            return None;
        }
        let mut costs: Vec<Option<Cost>> = vec![None; size];
        for (t, c) in terms {
            if t.0.len() != dims.len() {
                return None;
            }
            let mut idx = 0usize;
            for (l, (d, a)) in t.iter().zip(&dims) {
                match *l {
                    Lit::Is(x, v) if x == *d && (v as usize) < *a => idx = idx * a + v as usize,
                    _ => return None,
                }
            }
            if costs[idx].replace(*c).is_some() {
                return None;
            }
        }
        Some(Grid { dims, costs: costs.into_iter().collect::<Option<Vec<_>>>()? })
    }

    /// (stride, arity) of dimension `k`.
    fn stride(&self, k: usize) -> (usize, usize) {
        (self.dims[k + 1..].iter().map(|(_, a)| a).product(), self.dims[k].1)
    }

    /// How many of dimension `k`'s classes (the other choices fixed) have one cost.
    fn constant_classes(&self, k: usize) -> (usize, usize) {
        let (stride, arity) = self.stride(k);
        let block = stride * arity;
        let (mut constant, mut classes) = (0, 0);
        for base in (0..self.costs.len()).step_by(block) {
            for off in 0..stride {
                let c0 = cost_key(&self.costs[base + off]);
                classes += 1;
                if (1..arity).all(|v| cost_key(&self.costs[base + off + v * stride]) == c0) {
                    constant += 1;
                }
            }
        }
        (constant, classes)
    }

    /// The grid without dimension `k` (its option 0 slice).
    fn drop_dim(&mut self, k: usize) {
        let (stride, arity) = self.stride(k);
        let block = stride * arity;
        let mut costs = Vec::with_capacity(self.costs.len() / arity);
        for base in (0..self.costs.len()).step_by(block) {
            costs.extend_from_slice(&self.costs[base..base + stride]);
        }
        self.costs = costs;
        self.dims.remove(k);
    }

    fn terms(&self) -> Vec<(Deps, Cost)> {
        let mut out = Vec::with_capacity(self.costs.len());
        for (idx, c) in self.costs.iter().enumerate() {
            let mut lits = vec![Lit::Is(crate::ids::DecisionId(0), 0); self.dims.len()];
            let mut rem = idx;
            for (k, (d, a)) in self.dims.iter().enumerate().rev() {
                lits[k] = Lit::Is(*d, (rem % a) as u32);
                rem /= a;
            }
            out.push((Deps(lits), *c));
        }
        out
    }

    fn minimize(mut self) -> Vec<(Deps, Cost)> {
        'pass: loop {
            // groups from the highest choice down, as `merge_one_group` takes them
            for k in (0..self.dims.len()).rev() {
                if self.dims[k].1 < 2 {
                    continue; // one option: a class of one term never merges
                }
                let (constant, classes) = self.constant_classes(k);
                if constant == classes {
                    self.drop_dim(k);
                    continue 'pass;
                }
                if constant > 0 {
                    break 'pass; // a partial merge: left to merge_one_group
                }
            }
            break;
        }
        self.terms()
    }
}

/// Merges the terms of the highest group where any merge is possible; false if none is.
/// Terms are bucketed by a hash of their literals outside the group and their costs, and a
/// bucket is split where literals differ (no allocation per term); the merged terms are added
/// in the order of their (rest, cost) keys and the terms stay sorted, so the result does not
/// depend on the hash.
fn merge_one_group(terms: &mut Vec<(Deps, Cost)>, cover: &dyn GroupCover) -> bool {
    if terms.len() < 2 {
        return false;
    }
    let mut groups: Vec<(crate::ids::DecisionId, u32)> = terms.iter().flat_map(|(t, _)| t.iter().map(|l| l.group())).collect();
    groups.sort_unstable();
    groups.dedup();
    for g in groups.into_iter().rev() {
        // (hash of the rest and the costs, index) of the terms in group g, sorted: terms that
        // can merge are adjacent (16-byte keys: sorting is most of this pass)
        let mut keyed: Vec<(u64, usize)> = terms
            .iter()
            .enumerate()
            .filter(|(_, (t, _))| t.iter().any(|l| l.group() == g))
            .map(|(i, (t, c))| (t.hash_without_group(g) ^ cost_hash(c), i))
            .collect();
        if keyed.len() < 2 {
            continue;
        }
        keyed.sort_unstable();
        let mut merged: Vec<((Deps, CostKey), Vec<usize>)> = Vec::new();
        for run in keyed.chunk_by(|a, b| a.0 == b.0) {
            if run.len() < 2 {
                continue;
            }
            // split the run where the costs or the literals outside g really differ (collisions)
            let mut subs: Vec<Vec<usize>> = Vec::new();
            for &(_, i) in run {
                let same = |s: &&mut Vec<usize>| terms[s[0]].1 == terms[i].1 && terms[s[0]].0.eq_without_group(&terms[i].0, g);
                match subs.iter_mut().find(same) {
                    Some(s) => s.push(i),
                    None => subs.push(vec![i]),
                }
            }
            for members in subs {
                let lits: Vec<Lit> = members.iter().filter_map(|&i| terms[i].0.iter().find(|l| l.group() == g).copied()).collect();
                if members.len() >= 2 && cover.covers(&lits) {
                    let (t, c) = &terms[members[0]];
                    merged.push(((t.without_group(g), cost_key(c)), members));
                }
            }
        }
        if merged.is_empty() {
            continue;
        }
        merged.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut remove = vec![false; terms.len()];
        let mut added = Vec::with_capacity(merged.len());
        for ((rest, _), members) in merged {
            let c = terms[members[0]].1;
            for &i in &members {
                remove[i] = true;
            }
            added.push((rest, c));
        }
        // both the kept terms and the added ones are sorted: merge them (kept first on ties,
        // as a stable sort of kept ++ added would)
        let old = std::mem::take(terms);
        let mut kept = old.into_iter().zip(remove).filter(|(_, r)| !r).map(|(t, _)| t).peekable();
        let mut added = added.into_iter().peekable();
        loop {
            let take_kept = match (kept.peek(), added.peek()) {
                (Some(k), Some(a)) => k.0 <= a.0,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let next = if take_kept { kept.next() } else { added.next() };
            terms.extend(next);
        }
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::DecisionId;
    use crate::rng::Rng;

    /// Choices with the given numbers of options (no subsets).
    struct Choices(Vec<usize>);

    impl GroupCover for Choices {
        fn covers(&self, lits: &[Lit]) -> bool {
            let Some(Lit::Is(d, _)) = lits.first() else { return false };
            (0..self.0[d.index()] as u32).all(|v| lits.contains(&Lit::Is(*d, v)))
        }
        fn choice_arity(&self, d: DecisionId) -> Option<usize> {
            self.0.get(d.index()).copied()
        }
    }

    /// Random instances: full grids over random choices whose cost depends on a random subset
    /// of them (some only on part of the grid, so merges are partial), some with a term
    /// missing or an extra literal (not grids).
    fn random_terms(rng: &mut Rng, arities: &[usize]) -> Vec<RawTerm> {
        let mut raw = Vec::new();
        for inst in 0..40u32 {
            let mut dims: Vec<usize> = (0..arities.len()).filter(|_| rng.below(2) == 0).collect();
            dims.truncate(4);
            let size: usize = dims.iter().map(|&d| arities[d]).product();
            let depends: Vec<bool> = dims.iter().map(|_| rng.below(3) == 0).collect();
            let partial = rng.below(4) == 0;
            let broken = rng.below(6);
            for idx in 0..size {
                let mut rem = idx;
                let mut lits = Vec::new();
                let mut cost = Cost::default();
                for (k, &d) in dims.iter().enumerate().rev() {
                    let v = rem % arities[d];
                    rem /= arities[d];
                    lits.push(Lit::Is(DecisionId(d as u32), v as u32));
                    if depends[k] || (partial && k == 0 && idx % 3 == 0) {
                        cost.params += (v as i64 + 1) * (k as i64 + 7);
                    }
                }
                lits.sort();
                if broken == 0 && idx == size / 2 {
                    continue; // a missing term: not a full grid
                }
                if broken == 1 && idx == 0 {
                    lits.push(Lit::Absent(DecisionId(arities.len() as u32)));
                }
                raw.push(RawTerm { inst, tag: Deps(lits), cost });
            }
        }
        raw
    }

    #[test]
    fn grid_path_equals_reference() {
        let mut rng = Rng::new(7);
        for _ in 0..200 {
            let arities: Vec<usize> = (0..6).map(|_| 1 + rng.below(4) as usize).collect();
            let raw = random_terms(&mut rng, &arities);
            let mut cover = Choices(arities.clone());
            cover.0.push(1);
            let fast = simplify(&raw, &cover);
            let reference = simplify_reference(&raw, &cover);
            assert_eq!(fast.len(), reference.len());
            for (a, b) in fast.iter().zip(&reference) {
                assert_eq!(a.0, b.0);
                assert_eq!(a.1, b.1);
            }
        }
    }

    #[test]
    fn independent_choice_is_dropped() {
        // cost depends on choice 0 only: the terms over choices 0 and 1 become 0's
        let cover = Choices(vec![2, 3]);
        let mut raw = Vec::new();
        for a in 0..2u32 {
            for b in 0..3u32 {
                let cost = Cost { params: 10 + a as i64, ..Cost::default() };
                raw.push(RawTerm { inst: 0, tag: Deps(vec![Lit::Is(DecisionId(0), a), Lit::Is(DecisionId(1), b)]), cost });
            }
        }
        let out = simplify(&raw, &cover);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, Deps(vec![Lit::Is(DecisionId(0), 0)]));
        assert_eq!(out[1].1.params, 11);
    }
}

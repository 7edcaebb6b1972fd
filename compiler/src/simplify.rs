//! Per-instance term minimization: an op instance's terms, tagged with whole world contexts,
//! are merged where equal-cost terms differ in one decision and cover all its alternatives,
//! so a cost depends only on the decisions it really depends on (small table scopes).
use crate::deps::{Deps, Lit};
use crate::interp::world::{covering_classes, GroupCover};
use crate::interp::RawTerm;
use crate::program::Cost;
use rustc_hash::FxHashMap;

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

pub fn simplify(raw: &[RawTerm], cover: &(dyn GroupCover + Sync)) -> Vec<(Deps, Cost)> {
    minimize_instances(raw, cover, true)
}

/// `simplify` without the grid fast path: the reference it is tested against.
pub fn simplify_reference(raw: &[RawTerm], cover: &(dyn GroupCover + Sync)) -> Vec<(Deps, Cost)> {
    minimize_instances(raw, cover, false)
}

/// Below this many terms, minimization stays on one thread.
const PARALLEL_TERMS: usize = 4096;

fn minimize_instances(raw: &[RawTerm], cover: &(dyn GroupCover + Sync), grids: bool) -> Vec<(Deps, Cost)> {
    // the terms of each instance, in order of instance and then of evaluation
    let mut order: Vec<u32> = (0..raw.len() as u32).collect();
    order.sort_by_key(|&i| raw[i as usize].inst);
    // instances are independent: the second half (by terms, at an instance boundary) on a
    // second thread; the output is the two halves in order, as on one thread
    let mut cut = order.len() / 2;
    while cut > 0 && cut < order.len() && raw[order[cut - 1] as usize].inst == raw[order[cut] as usize].inst {
        cut += 1;
    }
    if raw.len() < PARALLEL_TERMS || cut >= order.len() {
        return minimize_runs(raw, &order, cover, grids);
    }
    let (a, b) = order.split_at(cut);
    std::thread::scope(|s| {
        let second = s.spawn(|| minimize_runs(raw, b, cover, grids));
        let mut out = minimize_runs(raw, a, cover, grids);
        match second.join() {
            Ok(rest) => out.extend(rest),
            // (minimization does not panic; were it to, the one-thread path gives the same)
            Err(_) => out.extend(minimize_runs(raw, b, cover, grids)),
        }
        out
    })
}

/// Minimize the instances of `order` (indices into `raw`, grouped by instance).
fn minimize_runs(raw: &[RawTerm], order: &[u32], cover: &dyn GroupCover, grids: bool) -> Vec<(Deps, Cost)> {
    let mut out = Vec::new();
    let mut tags = Vec::new();
    for run in order.chunk_by(|a, b| raw[*a as usize].inst == raw[*b as usize].inst) {
        // tags as conjunctions of `Is` literals (a world may have narrowed a choice to a set)
        let mut expanded: Vec<(Deps, Cost)> = Vec::new();
        if run.iter().any(|&i| raw[i as usize].tag.iter().any(|l| matches!(l, Lit::In(..)))) {
            for &i in run {
                tags.clear();
                raw[i as usize].tag.expand_sets_into(&mut tags);
                expanded.extend(tags.drain(..).map(|t| (t, raw[i as usize].cost)));
            }
        }
        let items: Vec<(&Deps, Cost)> =
            if expanded.is_empty() { run.iter().map(|&i| (&raw[i as usize].tag, raw[i as usize].cost)).collect() } else { expanded.iter().map(|(t, c)| (t, *c)).collect() };
        let grid = if grids { Grid::new(&items, cover) } else { None };
        let mut terms = match grid {
            Some(grid) => match grid.minimize() {
                (terms, true) => {
                    out.extend(terms);
                    continue;
                }
                (terms, false) => terms,
            },
            None => {
                // a later term of the same tag replaces an earlier one
                let mut by_tag: FxHashMap<&Deps, Cost> = FxHashMap::default();
                for (t, c) in items {
                    by_tag.insert(t, c);
                }
                let mut terms: Vec<(Deps, Cost)> = by_tag.into_iter().map(|(d, c)| (d.clone(), c)).collect();
                terms.sort_by(|a, b| a.0.cmp(&b.0));
                terms
            }
        };
        while merge_one_group(&mut terms, cover) {}
        out.extend(terms);
    }
    out
}

/// The common case, done without hashing or sorting: an instance whose terms are every
/// combination of some options of the same choices (`Is` literals only; a choice may show only
/// some of its options, e.g. the one op an instance belongs to), as a dense array in mixed
/// radix (the first choice slowest, so index order is the terms' sorted order). `minimize`
/// gives what `merge_one_group` to a fixpoint gives: a choice can merge only where all its
/// options are present, and then on a full grid it merges in every class (the cost does not
/// depend on it: the grid loses it) or in none; a partial merge is left to `merge_one_group`,
/// from the grid's terms at that point.
struct Grid {
    /// (choice, the options present, increasing; whether they are all its options)
    dims: Vec<(crate::ids::DecisionId, Vec<u32>, bool)>,
    costs: Vec<Cost>,
}

impl Grid {
    fn new(terms: &[(&Deps, Cost)], cover: &dyn GroupCover) -> Option<Grid> {
        let first = terms.first()?.0;
        let mut dims: Vec<(crate::ids::DecisionId, Vec<u32>, bool)> = Vec::with_capacity(first.0.len());
        for l in first.iter() {
            let Lit::Is(d, _) = *l else { return None };
            if dims.last().is_some_and(|(p, _, _)| *p == d) {
                return None;
            }
            dims.push((d, Vec::new(), false));
        }
        // the options present per choice
        let mut present: Vec<Vec<bool>> = Vec::with_capacity(dims.len());
        for (d, _, _) in &dims {
            present.push(vec![false; cover.choice_arity(*d)?]);
        }
        for (t, _) in terms {
            if t.0.len() != dims.len() {
                return None;
            }
            for (k, l) in t.iter().enumerate() {
                match *l {
                    Lit::Is(x, v) if x == dims[k].0 && (v as usize) < present[k].len() => present[k][v as usize] = true,
                    _ => return None,
                }
            }
        }
        // position of each option in its dimension
        let mut pos: Vec<Vec<usize>> = Vec::with_capacity(dims.len());
        for (k, p) in present.iter().enumerate() {
            dims[k].1 = (0..p.len() as u32).filter(|v| p[*v as usize]).collect();
            dims[k].2 = dims[k].1.len() == p.len();
            let mut at = vec![usize::MAX; p.len()];
            for (i, v) in dims[k].1.iter().enumerate() {
                at[*v as usize] = i;
            }
            pos.push(at);
        }
        let size = dims.iter().try_fold(1usize, |acc, (_, vals, _)| acc.checked_mul(vals.len()))?;
        if size > terms.len() {
            return None;
        }
        // every cell once; a later term of the same tag replaces an earlier one
        let mut costs: Vec<Option<Cost>> = vec![None; size];
        for (t, c) in terms {
            let mut idx = 0usize;
            for (k, l) in t.iter().enumerate() {
                if let Lit::Is(_, v) = *l {
                    idx = idx * dims[k].1.len() + pos[k][v as usize];
                }
            }
            costs[idx] = Some(*c);
        }
        Some(Grid { dims, costs: costs.into_iter().collect::<Option<Vec<_>>>()? })
    }

    /// (stride, arity) of dimension `k`.
    fn stride(&self, k: usize) -> (usize, usize) {
        (self.dims[k + 1..].iter().map(|(_, vals, _)| vals.len()).product(), self.dims[k].1.len())
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
            for (k, (d, vals, _)) in self.dims.iter().enumerate().rev() {
                lits[k] = Lit::Is(*d, vals[rem % vals.len()]);
                rem /= vals.len();
            }
            out.push((Deps(lits), *c));
        }
        out
    }

    /// The minimized terms, sorted, and whether they are final (no partial merge pending).
    fn minimize(mut self) -> (Vec<(Deps, Cost)>, bool) {
        let mut done = true;
        'pass: loop {
            // groups from the highest choice down, as `merge_one_group` takes them
            for k in (0..self.dims.len()).rev() {
                if !self.dims[k].2 || self.dims[k].1.len() < 2 {
                    continue; // options missing: never covered; one option: a class of one term
                }
                let (constant, classes) = self.constant_classes(k);
                if constant == classes {
                    self.drop_dim(k);
                    continue 'pass;
                }
                if constant > 0 {
                    done = false; // a partial merge: left to merge_one_group
                    break 'pass;
                }
            }
            break;
        }
        (self.terms(), done)
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
        let mut keyed: Vec<(u64, usize)> =
            terms.iter().enumerate().filter(|(_, (t, _))| t.iter().any(|l| l.group() == g)).map(|(i, (t, c))| (t.hash_without_group(g) ^ cost_hash(c), i)).collect();
        if keyed.len() < 2 {
            continue;
        }
        keyed.sort_unstable();
        // split where the costs or the literals outside g really differ (hash collisions)
        let same = |a: usize, b: usize| terms[a].1 == terms[b].1 && terms[a].0.eq_without_group(&terms[b].0, g);
        let lit = |i: usize| terms[i].0.iter().find(|l| l.group() == g).copied();
        let mut merged: Vec<((Deps, CostKey), Vec<usize>)> = covering_classes(&keyed, same, lit, cover)
            .into_iter()
            .map(|(members, _)| {
                let (t, c) = &terms[members[0]];
                ((t.without_group(g), cost_key(c)), members)
            })
            .collect();
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

    /// Random instances: grids over random choices (some showing only some options) whose cost depends on a random subset
    /// of them (some only on part of the grid, so merges are partial), some with a term
    /// missing or an extra literal (not grids), some with a tag twice.
    fn random_terms(rng: &mut Rng, arities: &[usize]) -> Vec<RawTerm> {
        let mut raw = Vec::new();
        for inst in 0..40u32 {
            let mut dims: Vec<usize> = (0..arities.len()).filter(|_| rng.below(2) == 0).collect();
            dims.truncate(4);
            // the options present per choice: all of them, or (one time in three) some
            let values: Vec<Vec<u32>> = dims
                .iter()
                .map(|&d| {
                    let all: Vec<u32> = (0..arities[d] as u32).collect();
                    if rng.below(3) == 0 {
                        let some: Vec<u32> = all.iter().copied().filter(|_| rng.below(2) == 0).collect();
                        if some.is_empty() {
                            vec![all[0]]
                        } else {
                            some
                        }
                    } else {
                        all
                    }
                })
                .collect();
            let size: usize = values.iter().map(Vec::len).product();
            let depends: Vec<bool> = dims.iter().map(|_| rng.below(3) == 0).collect();
            let partial = rng.below(4) == 0;
            let broken = rng.below(6);
            for idx in 0..size {
                let mut rem = idx;
                let mut lits = Vec::new();
                let mut cost = Cost::default();
                for (k, &d) in dims.iter().enumerate().rev() {
                    let v = values[k][rem % values[k].len()];
                    rem /= values[k].len();
                    lits.push(Lit::Is(DecisionId(d as u32), v));
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
                if broken == 2 && idx == 0 {
                    // the same tag twice: the later cost counts
                    raw.push(RawTerm { inst, tag: Deps(lits.clone()), cost: Cost { params: 999, ..Cost::default() } });
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

    /// Above `PARALLEL_TERMS` the instances are minimized on two threads: the result equals
    /// one thread's, and narrowed choices (`Lit::In`) give what their expansion gives.
    #[test]
    fn two_threads_and_narrowed_tags_equal_one_thread() {
        let mut rng = Rng::new(11);
        let arities = vec![4usize, 3, 4, 2, 3, 4];
        let mut raw = Vec::new();
        while raw.len() < 3 * PARALLEL_TERMS {
            let base = raw.len() as u32;
            raw.extend(random_terms(&mut rng, &arities).into_iter().map(|mut t| {
                t.inst += base;
                t
            }));
        }
        let mut cover = Choices(arities.clone());
        cover.0.push(1);
        let mut order: Vec<u32> = (0..raw.len() as u32).collect();
        order.sort_by_key(|&i| raw[i as usize].inst);
        let one = minimize_runs(&raw, &order, &cover, true);
        assert_eq!(simplify(&raw, &cover), one);
        // narrow choice 0 to options {1, 3} in some terms: the same as both options spelled out
        let mut narrowed = Vec::new();
        let mut spelled = Vec::new();
        for t in raw.iter().take(2000) {
            if t.inst % 2 == 0 && t.tag.0.first().is_some_and(|l| matches!(l, Lit::Is(DecisionId(0), _))) {
                let mut n = t.tag.clone();
                n.0[0] = Lit::In(DecisionId(0), 0b1010);
                n.0.sort();
                narrowed.push(RawTerm { inst: t.inst, tag: n, cost: t.cost });
                for v in [1, 3] {
                    let mut s = t.tag.clone();
                    s.0[0] = Lit::Is(DecisionId(0), v);
                    s.0.sort();
                    spelled.push(RawTerm { inst: t.inst, tag: s, cost: t.cost });
                }
            } else {
                narrowed.push(t.clone());
                spelled.push(t.clone());
            }
        }
        assert!(narrowed.len() < spelled.len());
        assert_eq!(simplify(&narrowed, &cover), simplify(&spelled, &cover));
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

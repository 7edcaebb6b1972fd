//! Literals over decisions and dependency sets.
//!
//! The evaluator tags every value with the literals it was derived from; a cost term is
//! tagged with a conjunction of literals and counts for a candidate iff all of them hold.
use crate::ids::DecisionId;
use serde::Serialize;

/// A fact about one decision in a world / a condition in a cost tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Lit {
    /// choice `d` takes option `v`
    Is(DecisionId, u32),
    /// conditional decision `d` does not exist
    Absent(DecisionId),
    /// conditional subset `d` exists
    Present(DecisionId),
    /// subset `d` contains (true) / does not contain (false) pool member `j`
    Member(DecisionId, u32, bool),
    /// choice `d` takes one of the options in the bit mask (two or more of them, not all).
    /// Only evaluation worlds narrow a choice this way (`merge_worlds`); cost tags and
    /// condition results are expanded to `Is` literals (`Deps::expand_sets`) before the
    /// factor tables see them.
    In(DecisionId, u64),
}

impl Lit {
    pub fn decision(self) -> DecisionId {
        match self {
            Lit::Is(d, _) | Lit::Absent(d) | Lit::Present(d) | Lit::Member(d, _, _) | Lit::In(d, _) => d,
        }
    }
    /// Literals in the same group are alternatives of one another (merging covers a group).
    pub fn group(self) -> (DecisionId, u32) {
        match self {
            Lit::Is(d, _) | Lit::Absent(d) | Lit::Present(d) | Lit::In(d, _) => (d, u32::MAX),
            Lit::Member(d, j, _) => (d, j),
        }
    }
}

/// A sorted, duplicate-free conjunction of literals.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
pub struct Deps(pub Vec<Lit>);

impl Deps {
    pub fn none() -> Self {
        Deps(Vec::new())
    }
    pub fn one(l: Lit) -> Self {
        Deps(vec![l])
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn union(&self, other: &Deps) -> Deps {
        if other.0.is_empty() {
            return self.clone();
        }
        if self.0.is_empty() {
            return other.clone();
        }
        let mut v = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.0.len() {
            match self.0[i].cmp(&other.0[j]) {
                std::cmp::Ordering::Less => {
                    v.push(self.0[i]);
                    i += 1
                }
                std::cmp::Ordering::Greater => {
                    v.push(other.0[j]);
                    j += 1
                }
                std::cmp::Ordering::Equal => {
                    v.push(self.0[i]);
                    i += 1;
                    j += 1
                }
            }
        }
        v.extend_from_slice(&self.0[i..]);
        v.extend_from_slice(&other.0[j..]);
        Deps(v)
    }
    pub fn add(&mut self, l: Lit) {
        if let Err(pos) = self.0.binary_search(&l) {
            self.0.insert(pos, l);
        }
    }
    pub fn without_group(&self, g: (DecisionId, u32)) -> Deps {
        Deps(self.0.iter().copied().filter(|l| l.group() != g).collect())
    }
    /// A hash of the literals outside group `g` (equal for sets that are equal outside it).
    pub fn hash_without_group(&self, g: (DecisionId, u32)) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        for l in self.0.iter().filter(|l| l.group() != g) {
            l.hash(&mut h);
        }
        h.finish()
    }
    /// `self.without_group(g) == other.without_group(g)`, without building either.
    pub fn eq_without_group(&self, other: &Deps, g: (DecisionId, u32)) -> bool {
        self.0.iter().filter(|l| l.group() != g).eq(other.0.iter().filter(|l| l.group() != g))
    }
    pub fn iter(&self) -> impl Iterator<Item = &Lit> {
        self.0.iter()
    }
    /// The conjunctions of `Is` literals whose disjunction is `self`: one per combination of
    /// the options of its `In` literals (just `self` when it has none), in sorted order.
    pub fn expand_sets(&self) -> Vec<Deps> {
        let mut out = Vec::new();
        self.expand_sets_into(&mut out);
        out
    }

    /// `expand_sets`, appended to `out`.
    pub fn expand_sets_into(&self, out: &mut Vec<Deps>) {
        let sets: Vec<(DecisionId, u64)> = self.0.iter().filter_map(|l| if let Lit::In(d, m) = *l { Some((d, m)) } else { None }).collect();
        if sets.is_empty() {
            out.push(self.clone());
            return;
        }
        let base: Vec<Lit> = self.0.iter().copied().filter(|l| !matches!(l, Lit::In(..))).collect();
        // odometer over the options of each set, lowest option first, first set slowest
        let mut at: Vec<u64> = sets.iter().map(|(_, m)| *m & m.wrapping_neg()).collect();
        loop {
            let mut v = Vec::with_capacity(base.len() + sets.len());
            v.extend_from_slice(&base);
            v.extend(sets.iter().zip(&at).map(|((d, _), bit)| Lit::Is(*d, bit.trailing_zeros())));
            v.sort_unstable();
            out.push(Deps(v));
            let mut k = sets.len();
            loop {
                if k == 0 {
                    return;
                }
                k -= 1;
                // the next option of set k above the current one, or wrap to its first
                let rest = sets[k].1 & !((at[k] << 1) - 1);
                if rest != 0 {
                    at[k] = rest & rest.wrapping_neg();
                    break;
                }
                at[k] = sets[k].1 & sets[k].1.wrapping_neg();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_sets_is_the_product_of_the_narrowed_choices() {
        let d = |i| DecisionId(i);
        let t = Deps(vec![Lit::Is(d(0), 1), Lit::Member(d(3), 0, true), Lit::In(d(1), 0b101), Lit::In(d(2), 0b110)]);
        let e = t.expand_sets();
        assert_eq!(e.len(), 4);
        for x in &e {
            assert!(x.0.windows(2).all(|p| p[0] < p[1]), "{x:?} not sorted");
            assert!(x.0.contains(&Lit::Is(d(0), 1)) && x.0.contains(&Lit::Member(d(3), 0, true)));
            assert!(!x.0.iter().any(|l| matches!(l, Lit::In(..))));
        }
        assert!(e.contains(&Deps(vec![Lit::Is(d(0), 1), Lit::Is(d(1), 0), Lit::Is(d(2), 1), Lit::Member(d(3), 0, true)])));
        assert!(e.contains(&Deps(vec![Lit::Is(d(0), 1), Lit::Is(d(1), 2), Lit::Is(d(2), 2), Lit::Member(d(3), 0, true)])));
        let plain = Deps(vec![Lit::Is(d(0), 1)]);
        assert_eq!(plain.expand_sets(), vec![plain]);
    }
}

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
}

impl Lit {
    pub fn decision(self) -> DecisionId {
        match self {
            Lit::Is(d, _) | Lit::Absent(d) | Lit::Present(d) | Lit::Member(d, _, _) => d,
        }
    }
    /// Literals in the same group are alternatives of one another (merging covers a group).
    pub fn group(self) -> (DecisionId, u32) {
        match self {
            Lit::Is(d, _) | Lit::Absent(d) | Lit::Present(d) => (d, u32::MAX),
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
}

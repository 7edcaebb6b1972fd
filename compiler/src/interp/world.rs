//! Worlds: partial assignments of decisions under which evaluation proceeds, and their merging.
use super::value::Value;
use crate::deps::{Deps, Lit};

/// Local variables of one block activation.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub vars: Vec<(String, Value)>,
}

impl Frame {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
    }
    pub fn set(&mut self, name: &str, v: Value) -> bool {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = v;
            true
        } else {
            false
        }
    }
    pub fn push(&mut self, name: &str, v: Value) {
        self.vars.push((name.to_string(), v));
    }
}

/// One branch of the evaluation: the decisions fixed so far (`ctx`), the guards of
/// conditional elements being evaluated (`guards`), and the local frames.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub ctx: Deps,
    pub guards: Deps,
    pub frames: Vec<Frame>,
}

impl World {
    pub fn frame(&mut self) -> &mut Frame {
        if self.frames.is_empty() {
            self.frames.push(Frame::default());
        }
        let n = self.frames.len() - 1;
        &mut self.frames[n]
    }
    pub fn lookup(&self, name: &str) -> Option<&Value> {
        self.frames.last().and_then(|f| f.get(name))
    }
    /// The tag of a cost computed now: everything this world has fixed, plus guards.
    pub fn tag(&self) -> Deps {
        self.ctx.union(&self.guards)
    }
    fn same_env(&self, other: &World) -> bool {
        self.guards == other.guards
            && self.frames.len() == other.frames.len()
            && self.frames.iter().zip(other.frames.iter()).all(|(a, b)| {
                a.vars.len() == b.vars.len()
                    && a.vars.iter().zip(b.vars.iter()).all(|((n1, v1), (n2, v2))| n1 == n2 && v1.same(v2))
            })
    }
}

/// Alternatives of a literal group, used to decide whether a set of worlds covers it.
pub trait GroupCover {
    /// Whether `lits` (one per world, all in one group) cover every alternative of the group.
    fn covers(&self, lits: &[Lit]) -> bool;
}

/// Merge worlds that differ only in one literal group, have equal environments, and together
/// cover the group: the merged world forgets that decision. Repeats to a fixpoint.
pub fn merge_worlds(mut worlds: Vec<World>, cover: &dyn GroupCover) -> Vec<World> {
    use std::collections::HashMap;
    loop {
        if worlds.len() < 2 {
            return worlds;
        }
        let mut merged_any = false;
        // candidate groups: every group that appears in some world's ctx
        let mut groups: Vec<(crate::ids::DecisionId, u32)> =
            worlds.iter().flat_map(|w| w.ctx.iter().map(|l| l.group())).collect();
        groups.sort();
        groups.dedup();
        for g in groups.into_iter().rev() {
            // bucket worlds by ctx without g
            let mut buckets: HashMap<Deps, Vec<usize>> = HashMap::new();
            for (i, w) in worlds.iter().enumerate() {
                if w.ctx.iter().any(|l| l.group() == g) {
                    buckets.entry(w.ctx.without_group(g)).or_default().push(i);
                }
            }
            let mut remove = vec![false; worlds.len()];
            let mut added = Vec::new();
            let mut keys: Vec<_> = buckets.into_iter().collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            for (rest, idxs) in keys {
                if idxs.len() < 2 {
                    continue;
                }
                // split by environment equality
                let mut classes: Vec<Vec<usize>> = Vec::new();
                for &i in &idxs {
                    match classes.iter_mut().find(|c| worlds[c[0]].same_env(&worlds[i])) {
                        Some(c) => c.push(i),
                        None => classes.push(vec![i]),
                    }
                }
                for class in classes {
                    let lits: Vec<Lit> = class
                        .iter()
                        .filter_map(|&i| worlds[i].ctx.iter().find(|l| l.group() == g).copied())
                        .collect();
                    if class.len() >= 2 && cover.covers(&lits) {
                        let mut w = worlds[class[0]].clone();
                        w.ctx = rest.clone();
                        for &i in &class {
                            remove[i] = true;
                        }
                        added.push(w);
                        merged_any = true;
                    }
                }
            }
            if merged_any {
                let mut next: Vec<World> =
                    worlds.into_iter().zip(remove).filter(|(_, r)| !r).map(|(w, _)| w).collect();
                next.extend(added);
                worlds = next;
                break;
            }
        }
        if !merged_any {
            return worlds;
        }
    }
}

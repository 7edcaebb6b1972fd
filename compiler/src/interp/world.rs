//! Worlds: partial assignments of decisions under which evaluation proceeds, and their merging.
use super::value::Value;
use crate::deps::{Deps, Lit};
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// Local variables of one block activation. Names are shared (`Rc<str>`): worlds are cloned
/// at every fork and every attempt, and a clone must not copy strings.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub vars: Vec<(Rc<str>, Value)>,
}

impl Frame {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.iter().rev().find(|(n, _)| &**n == name).map(|(_, v)| v)
    }
    pub fn set(&mut self, name: &str, v: Value) -> bool {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| &**n == name) {
            slot.1 = v;
            true
        } else {
            false
        }
    }
    pub fn push(&mut self, name: &str, v: Value) {
        self.vars.push((Rc::from(name), v));
    }
    /// `push` with a shared name (`Interp::name`).
    pub fn push_name(&mut self, name: Rc<str>, v: Value) {
        self.vars.push((name, v));
    }
    fn same(&self, other: &Frame) -> bool {
        self.vars.len() == other.vars.len() && self.vars.iter().zip(other.vars.iter()).all(|((n1, v1), (n2, v2))| n1 == n2 && v1.same(v2))
    }
}

/// One branch of the evaluation: the decisions fixed so far (`ctx`), the guards of
/// conditional elements being evaluated (`guards`), and the local frames. Frames are shared
/// between worlds and copied on write (`frame()`), so a clone of a world copies only its
/// literals and the frames' pointers.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub ctx: Deps,
    pub guards: Deps,
    pub frames: Vec<Rc<Frame>>,
}

impl World {
    /// The innermost frame, for writing (copied first if another world shares it).
    pub fn frame(&mut self) -> &mut Frame {
        if self.frames.is_empty() {
            self.frames.push(Rc::default());
        }
        let n = self.frames.len() - 1;
        Rc::make_mut(&mut self.frames[n])
    }
    pub fn push_frame(&mut self, f: Frame) {
        self.frames.push(Rc::new(f));
    }
    pub fn lookup(&self, name: &str) -> Option<&Value> {
        self.frames.last().and_then(|f| f.get(name))
    }
    /// The tag of a cost computed now: everything this world has fixed, plus guards.
    pub fn tag(&self) -> Deps {
        self.ctx.union(&self.guards)
    }
    fn same_env(&self, other: &World) -> bool {
        self.guards == other.guards && self.frames.len() == other.frames.len() && self.frames.iter().zip(other.frames.iter()).all(|(a, b)| Rc::ptr_eq(a, b) || a.same(b))
    }
    /// A hash of the environment, equal for worlds with `same_env`; frames shared between
    /// worlds are hashed once (`cache`, by address).
    fn env_hash(&self, cache: &mut FxHashMap<*const Frame, u64>) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        self.guards.hash(&mut h);
        for f in &self.frames {
            let fh = *cache.entry(Rc::as_ptr(f)).or_insert_with(|| {
                let mut h = rustc_hash::FxHasher::default();
                f.vars.len().hash(&mut h);
                for (n, v) in &f.vars {
                    n.hash(&mut h);
                    v.same_hash(&mut h);
                }
                h.finish()
            });
            fh.hash(&mut h);
        }
        h.finish()
    }
}

/// Environment classes: worlds with the same class id have `same_env`; ids are dense.
fn env_classes(worlds: &[World]) -> Vec<u32> {
    let mut by_hash: FxHashMap<u64, Vec<(usize, u32)>> = FxHashMap::default();
    let mut ids = Vec::with_capacity(worlds.len());
    let mut next = 0u32;
    let mut cache = FxHashMap::default();
    for (i, w) in worlds.iter().enumerate() {
        let reps = by_hash.entry(w.env_hash(&mut cache)).or_default();
        let id = match reps.iter().find(|(r, _)| worlds[*r].same_env(w)) {
            Some((_, id)) => *id,
            None => {
                reps.push((i, next));
                next += 1;
                next - 1
            }
        };
        ids.push(id);
    }
    ids
}

/// Alternatives of a literal group, used to decide whether a set of worlds covers it.
pub trait GroupCover {
    /// Whether `lits` (one per world, all in one group) cover every alternative of the group.
    fn covers(&self, lits: &[Lit]) -> bool;
    /// The number of options of choice `d` (None for a subset): `Is(d, v)` literals for every
    /// `v` below it cover `d`'s group.
    fn choice_arity(&self, d: crate::ids::DecisionId) -> Option<usize>;
    /// The one literal that holds iff one of `lits` does, when they do not cover their group
    /// but narrow a choice to some of its options (`Is`/`In` of a choice of at most 64
    /// options): `Is` of the one option, or `In` of several. None by default: only the
    /// evaluator's worlds narrow (term minimization keeps `Is` literals for the tables).
    fn narrowed(&self, _lits: &[Lit]) -> Option<Lit> {
        None
    }
}

/// `GroupCover::narrowed` for covers that narrow choices: the union of the `Is`/`In`
/// literals of one choice of at most 64 options.
pub fn narrowed_choice(cover: &dyn GroupCover, lits: &[Lit]) -> Option<Lit> {
    let d = lits.first()?.decision();
    if cover.choice_arity(d)? > 64 {
        return None;
    }
    let mut mask = 0u64;
    for l in lits {
        match *l {
            Lit::Is(x, v) if x == d && v < 64 => mask |= 1 << v,
            Lit::In(x, m) if x == d => mask |= m,
            _ => return None,
        }
    }
    Some(if mask.count_ones() == 1 { Lit::Is(d, mask.trailing_zeros()) } else { Lit::In(d, mask) })
}

/// The classes that merge on group `g`, shared by world merging and term minimization:
/// `keyed` is sorted so that items that can merge are adjacent (equal keys: a hash of what
/// must agree besides `g`); each run of equal keys is split where `same` says two items do
/// not really agree (hash collisions), in order of first item; a class merges when it has two
/// or more items and their literals of `g` (`lit`) cover the group (the merged item drops
/// the group: `None`) or narrow a choice (`GroupCover::narrowed`, which only the
/// evaluator's cover does: the merged item has that literal).
pub fn covering_classes<K: PartialEq>(
    keyed: &[(K, usize)],
    same: impl Fn(usize, usize) -> bool,
    lit: impl Fn(usize) -> Option<Lit>,
    cover: &dyn GroupCover,
) -> Vec<(Vec<usize>, Option<Lit>)> {
    let mut out = Vec::new();
    for run in keyed.chunk_by(|a, b| a.0 == b.0) {
        if run.len() < 2 {
            continue;
        }
        let mut subs: Vec<Vec<usize>> = Vec::new();
        for &(_, i) in run {
            match subs.iter_mut().find(|s| same(s[0], i)) {
                Some(s) => s.push(i),
                None => subs.push(vec![i]),
            }
        }
        for class in subs {
            if class.len() < 2 {
                continue;
            }
            let lits: Vec<Lit> = class.iter().filter_map(|&i| lit(i)).collect();
            if cover.covers(&lits) {
                out.push((class, None));
            } else if let Some(l) = cover.narrowed(&lits) {
                out.push((class, Some(l)));
            }
        }
    }
    out
}

/// Merge worlds that differ only in one literal group and have equal environments: when they
/// cover the group the merged world forgets that decision, and when they narrow a choice to
/// some of its options it keeps the set (`Lit::In`). Repeats to a fixpoint.
pub fn merge_worlds(mut worlds: Vec<World>, cover: &dyn GroupCover) -> Vec<World> {
    if worlds.len() < 2 {
        return worlds;
    }
    let mut env = env_classes(&worlds);
    loop {
        let mut merged_any = false;
        // only worlds that share their environment with another can merge
        let mut class_size = vec![0u32; env.iter().max().map_or(0, |m| *m as usize + 1)];
        for e in &env {
            class_size[*e as usize] += 1;
        }
        let live: Vec<usize> = (0..worlds.len()).filter(|&i| class_size[env[i] as usize] >= 2).collect();
        if live.len() < 2 {
            return worlds;
        }
        // candidate groups: every group that appears in some live world's ctx
        let mut groups: Vec<(crate::ids::DecisionId, u32)> = live.iter().flat_map(|&i| worlds[i].ctx.iter().map(|l| l.group())).collect();
        groups.sort_unstable();
        groups.dedup();
        for g in groups.into_iter().rev() {
            // (environment class, hash of ctx without g, index) of the worlds in group g,
            // sorted: worlds that can merge are adjacent
            let mut keyed: Vec<((u32, u64), usize)> =
                live.iter().filter(|&&i| worlds[i].ctx.iter().any(|l| l.group() == g)).map(|&i| ((env[i], worlds[i].ctx.hash_without_group(g)), i)).collect();
            if keyed.len() < 2 {
                continue;
            }
            keyed.sort_unstable();
            // classes: same environment and the same ctx without g; (rest, first index, members)
            let same = |a: usize, b: usize| worlds[a].ctx.eq_without_group(&worlds[b].ctx, g);
            let lit = |i: usize| worlds[i].ctx.iter().find(|l| l.group() == g).copied();
            let mut merged: Vec<(Deps, usize, Vec<usize>)> = covering_classes(&keyed, same, lit, cover)
                .into_iter()
                .map(|(class, narrowed)| {
                    let mut rest = worlds[class[0]].ctx.without_group(g);
                    if let Some(l) = narrowed {
                        rest.add(l);
                    }
                    (rest, class[0], class)
                })
                .collect();
            // in the order of (ctx without g, first world): independent of the hash
            merged.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
            let mut remove = vec![false; worlds.len()];
            let mut added = Vec::new();
            for (rest, first, class) in merged {
                let mut w = worlds[first].clone();
                w.ctx = rest;
                for &i in &class {
                    remove[i] = true;
                }
                added.push((w, env[first]));
                merged_any = true;
            }
            if merged_any {
                let mut next = Vec::with_capacity(worlds.len());
                let mut next_env = Vec::with_capacity(worlds.len());
                for ((w, e), r) in worlds.into_iter().zip(env).zip(remove) {
                    if !r {
                        next.push(w);
                        next_env.push(e);
                    }
                }
                for (w, e) in added {
                    next.push(w);
                    next_env.push(e);
                }
                worlds = next;
                env = next_env;
                break;
            }
        }
        if !merged_any || worlds.len() < 2 {
            return worlds;
        }
    }
}

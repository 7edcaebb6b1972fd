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

fn cost_key(c: &Cost) -> CostKey {
    let mut key = [0i64; 9];
    key[0] = c.params;
    key[1..].copy_from_slice(&c.terms);
    key
}

pub fn simplify(raw: &[RawTerm], cover: &dyn GroupCover) -> Vec<(Deps, Cost)> {
    let mut by_inst: BTreeMap<u32, FxHashMap<&Deps, Cost>> = BTreeMap::new();
    for t in raw {
        by_inst.entry(t.inst).or_default().insert(&t.tag, t.cost);
    }
    let mut out = Vec::new();
    for (_, terms) in by_inst {
        let mut terms: Vec<(Deps, Cost)> = terms.into_iter().map(|(d, c)| (d.clone(), c)).collect();
        terms.sort_by(|a, b| a.0.cmp(&b.0));
        while merge_one_group(&mut terms, cover) {}
        out.extend(terms);
    }
    out
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
        // (hash of the rest, costs, index) of the terms in group g, sorted: equal keys are adjacent
        let mut keyed: Vec<(u64, CostKey, usize)> =
            terms.iter().enumerate().filter(|(_, (t, _))| t.iter().any(|l| l.group() == g)).map(|(i, (t, c))| (t.hash_without_group(g), cost_key(c), i)).collect();
        if keyed.len() < 2 {
            continue;
        }
        keyed.sort_unstable();
        let mut merged: Vec<((Deps, CostKey), Vec<usize>)> = Vec::new();
        for run in keyed.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1) {
            if run.len() < 2 {
                continue;
            }
            // split the run where the literals outside g really differ (hash collisions)
            let mut subs: Vec<Vec<usize>> = Vec::new();
            for &(_, _, i) in run {
                match subs.iter_mut().find(|s| terms[s[0]].0.eq_without_group(&terms[i].0, g)) {
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
        let old = std::mem::take(terms);
        terms.extend(old.into_iter().zip(remove).filter(|(_, r)| !r).map(|(t, _)| t));
        terms.extend(added);
        terms.sort_by(|a, b| a.0.cmp(&b.0));
        return true;
    }
    false
}

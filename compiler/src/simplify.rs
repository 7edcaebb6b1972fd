//! Per-instance term minimization: an op instance's terms, tagged with whole world contexts,
//! are merged where equal-cost terms differ in one decision and cover all its alternatives,
//! so a cost depends only on the decisions it really depends on (small table scopes).
use crate::deps::{Deps, Lit};
use crate::interp::world::GroupCover;
use crate::interp::RawTerm;
use crate::program::Cost;
use std::collections::{BTreeMap, HashMap};

pub fn simplify(raw: &[RawTerm], cover: &dyn GroupCover) -> Vec<(Deps, Cost)> {
    let mut by_inst: BTreeMap<u32, HashMap<Deps, Cost>> = BTreeMap::new();
    for t in raw {
        by_inst.entry(t.inst).or_default().insert(t.tag.clone(), t.cost);
    }
    let mut out = Vec::new();
    for (_, terms) in by_inst {
        let mut terms: Vec<(Deps, Cost)> = terms.into_iter().collect();
        terms.sort_by(|a, b| a.0.cmp(&b.0));
        loop {
            let mut changed = false;
            let mut groups: Vec<(crate::ids::DecisionId, u32)> = terms.iter().flat_map(|(t, _)| t.iter().map(|l| l.group())).collect();
            groups.sort();
            groups.dedup();
            for g in groups.into_iter().rev() {
                let mut buckets: BTreeMap<(Deps, [i64; 9]), Vec<(usize, Lit)>> = BTreeMap::new();
                for (i, (t, c)) in terms.iter().enumerate() {
                    if let Some(l) = t.iter().find(|l| l.group() == g) {
                        let mut key = [0i64; 9];
                        key[0] = c.params;
                        key[1..].copy_from_slice(&c.terms);
                        buckets.entry((t.without_group(g), key)).or_default().push((i, *l));
                    }
                }
                let mut remove = vec![false; terms.len()];
                let mut added = Vec::new();
                for ((rest, _), members) in buckets {
                    let lits: Vec<Lit> = members.iter().map(|m| m.1).collect();
                    if members.len() >= 2 && cover.covers(&lits) {
                        let c = terms[members[0].0].1;
                        for (i, _) in &members {
                            remove[*i] = true;
                        }
                        added.push((rest, c));
                    }
                }
                if !added.is_empty() {
                    terms = terms.into_iter().zip(remove).filter(|(_, r)| !r).map(|(t, _)| t).collect();
                    terms.extend(added);
                    terms.sort_by(|a, b| a.0.cmp(&b.0));
                    changed = true;
                    break;
                }
            }
            if !changed {
                break;
            }
        }
        out.extend(terms);
    }
    out
}

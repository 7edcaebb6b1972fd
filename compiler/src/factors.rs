//! Exact tables over decisions: cost tables (a metric is a constant plus a sum of tables),
//! validity factors of conditional decisions, and variable elimination for the exact space
//! size (sum-product over big integers) and each metric's min and max (min-sum / max-sum).
use crate::decision::{Candidate, DecisionInfo, DecisionKind, Slot};
use crate::deps::{Deps, Lit};
use crate::error::CostError;
use crate::ids::DecisionId;
use num_bigint::BigUint;
use num_traits::{One, Zero};
use std::collections::{BTreeMap, HashMap};

/// Subsets with more valid values than this are not enumerated (their terms must be per member).
pub const MAX_ENUM_SUBSET: usize = 4096;
/// Largest intermediate table of variable elimination.
pub const MAX_TABLE: usize = 20_000_000;

/// The enumerable values of each decision (its table domain), or None for a large subset.
#[derive(Debug, Clone)]
pub struct Domains {
    pub values: Vec<Option<Vec<Slot>>>,
    pos: Vec<rustc_hash::FxHashMap<Slot, usize>>,
}

impl Domains {
    pub fn new(decisions: &[DecisionInfo]) -> Self {
        let mut values = Vec::new();
        let mut pos = Vec::new();
        for d in decisions {
            let mut v: Option<Vec<Slot>> = match &d.kind {
                DecisionKind::Choice { options, .. } => Some((0..options.len() as u32).map(Slot::Opt).collect()),
                DecisionKind::Subset { pool, min, max, .. } => {
                    if subset_count(pool.len(), *min, *max) > BigUint::from(MAX_ENUM_SUBSET) {
                        None
                    } else {
                        // by size, then by mask: only the valid masks are generated (a pool of
                        // 63 with size 1 has 63 of them, out of 2^63 masks)
                        let mut masks: Vec<u64> = Vec::new();
                        for k in *min..=(*max).min(pool.len() as u32) {
                            let start = len_masks(pool.len(), k, &mut masks);
                            masks[start..].sort_unstable();
                        }
                        Some(masks.into_iter().map(Slot::Members).collect())
                    }
                }
            };
            if d.conditional {
                if let Some(v) = v.as_mut() {
                    v.push(Slot::Absent)
                }
            }
            pos.push(v.as_ref().map(|v| v.iter().enumerate().map(|(i, s)| (*s, i)).collect()).unwrap_or_default());
            values.push(v);
        }
        Domains { values, pos }
    }
    pub fn card(&self, d: DecisionId) -> Option<usize> {
        self.values[d.index()].as_ref().map(|v| v.len())
    }
    pub fn position(&self, d: DecisionId, s: Slot) -> Option<usize> {
        self.pos[d.index()].get(&s).copied()
    }
}

/// Append every `k`-member mask of an `n` pool (n <= 64) to `out`; returns where they start.
fn len_masks(n: usize, k: u32, out: &mut Vec<u64>) -> usize {
    let start = out.len();
    let n = n.min(64) as u32;
    if k > n {
        return start;
    }
    // members chosen so far, as positions in increasing order
    let mut pos: Vec<u32> = (0..k).collect();
    loop {
        out.push(pos.iter().fold(0u64, |m, j| m | 1u64 << j));
        // advance the last position that can still move right
        let mut i = k as usize;
        loop {
            if i == 0 {
                return start;
            }
            i -= 1;
            if pos[i] < n - (k - i as u32) {
                break;
            }
        }
        pos[i] += 1;
        for t in i + 1..k as usize {
            pos[t] = pos[t - 1] + 1;
        }
    }
}

/// Number of subsets of an `n` pool with size in `min..=max`.
pub fn subset_count(n: usize, min: u32, max: u32) -> BigUint {
    let mut total = <BigUint as Zero>::zero();
    for k in min..=max.min(n as u32) {
        total += binom(n as u64, k as u64);
    }
    total
}

pub fn binom(n: u64, k: u64) -> BigUint {
    let mut r = <BigUint as One>::one();
    for i in 0..k {
        r = r * BigUint::from(n - i) / BigUint::from(i + 1);
    }
    r
}

/// Whether a literal holds for a slot of its decision.
pub fn lit_holds(l: &Lit, s: Slot) -> bool {
    match (*l, s) {
        (Lit::Is(_, v), Slot::Opt(o)) => v == o,
        (Lit::Absent(_), Slot::Absent) => true,
        (Lit::Present(_), s) => s != Slot::Absent,
        (Lit::Member(_, j, b), Slot::Members(m)) => ((m >> j) & 1 == 1) == b,
        (Lit::In(_, m), Slot::Opt(o)) => o < 64 && (m >> o) & 1 == 1,
        _ => false,
    }
}

pub fn tag_holds(tag: &Deps, c: &Candidate) -> bool {
    tag.iter().all(|l| c.0.get(l.decision().index()).is_some_and(|s| lit_holds(l, *s)))
}

/// A dense table over a scope of decisions.
#[derive(Debug, Clone, PartialEq)]
pub struct Table<T> {
    pub scope: Vec<DecisionId>,
    pub card: Vec<usize>,
    pub data: Vec<T>,
}

impl<T: Clone> Table<T> {
    pub fn new(scope: Vec<DecisionId>, dom: &Domains, fill: T) -> Option<Self> {
        let card: Vec<usize> = scope.iter().map(|d| dom.card(*d)).collect::<Option<_>>()?;
        let size = card.iter().try_fold(1usize, |a, c| a.checked_mul(*c).filter(|s| *s <= MAX_TABLE))?;
        Some(Table { scope, card, data: vec![fill; size] })
    }
    pub fn index_of(&self, c: &Candidate, dom: &Domains) -> Option<usize> {
        let mut idx = 0;
        for (d, k) in self.scope.iter().zip(&self.card) {
            idx = idx * k + dom.position(*d, *c.0.get(d.index())?)?;
        }
        Some(idx)
    }
    /// Every (flat index, per-var positions) of the table, with positions filtered by `allowed`.
    fn for_each_allowed(&self, allowed: &[Vec<usize>], mut f: impl FnMut(usize)) {
        let n = self.scope.len();
        if allowed.iter().any(|a| a.is_empty()) {
            return;
        }
        let mut ix = vec![0usize; n];
        loop {
            let mut flat = 0;
            for i in 0..n {
                flat = flat * self.card[i] + allowed[i][ix[i]];
            }
            f(flat);
            let mut i = n;
            loop {
                if i == 0 {
                    return;
                }
                i -= 1;
                ix[i] += 1;
                if ix[i] < allowed[i].len() {
                    break;
                }
                ix[i] = 0;
            }
        }
    }
}

/// Positions of a decision's domain allowed by the literals of a tag on it, into `out`.
fn allowed_into(d: DecisionId, tag: &Deps, dom: &Domains, out: &mut Vec<usize>) {
    out.clear();
    let vals = dom.values[d.index()].as_deref().unwrap_or(&[]);
    // the usual case: one `Is` literal (a choice's option `v` is at position `v`)
    let mut on_d = tag.iter().filter(|l| l.decision() == d);
    if let (Some(Lit::Is(_, v)), None) = (on_d.next(), on_d.next()) {
        if vals.get(*v as usize) == Some(&Slot::Opt(*v)) {
            out.push(*v as usize);
            return;
        }
    }
    out.extend((0..vals.len()).filter(|&i| tag.iter().filter(|l| l.decision() == d).all(|l| lit_holds(l, vals[i]))));
}

/// A metric that is a constant plus a sum of tables plus per-member terms of large subsets.
#[derive(Debug, Clone, Default)]
pub struct Additive {
    pub constant: f64,
    pub tables: Vec<Table<f64>>,
    /// (subset, member, cost): counts when the member is chosen.
    pub members: Vec<(DecisionId, u32, f64)>,
}

impl Additive {
    /// Build from tagged terms. Returns an error message for terms it cannot tabulate.
    pub fn from_terms(terms: &[(Deps, f64)], dom: &Domains) -> Result<Additive, CostError> {
        Self::from_terms_by(terms, |c| *c, dom)
    }

    /// `from_terms` of terms whose cost is `cost` of what they carry.
    pub fn from_terms_by<C>(terms: &[(Deps, C)], cost: impl Fn(&C) -> f64, dom: &Domains) -> Result<Additive, CostError> {
        let mut out = Additive::default();
        let mut by_scope: BTreeMap<Vec<DecisionId>, Table<f64>> = BTreeMap::new();
        // buffers reused across terms (terms are many; the sums keep their order)
        let mut scope: Vec<DecisionId> = Vec::new();
        let mut idxs: Vec<usize> = Vec::new();
        let mut al: Vec<Vec<usize>> = Vec::new();
        for (tag, c) in terms {
            let cost = &cost(c);
            if *cost == 0.0 {
                continue;
            }
            let mut large = tag.iter().filter(|l| dom.values[l.decision().index()].is_none());
            if let Some(first) = large.next() {
                match (first, large.next(), tag.0.len()) {
                    (Lit::Member(d, j, true), None, 1) => {
                        out.members.push((*d, *j, *cost));
                        continue;
                    }
                    _ => return Err(CostError::LargeSubsetWithOthers),
                }
            }
            scope.clear();
            scope.extend(tag.iter().map(|l| l.decision()));
            scope.dedup();
            if scope.is_empty() {
                out.constant += cost;
                continue;
            }
            if !by_scope.contains_key(scope.as_slice()) {
                let t = Table::new(scope.clone(), dom, 0.0).ok_or(CostError::TableTooLarge)?;
                by_scope.insert(scope.clone(), t);
            }
            let Some(table) = by_scope.get_mut(scope.as_slice()) else { continue };
            al.resize_with(al.len().max(scope.len()), Vec::new);
            for (d, a) in scope.iter().zip(al.iter_mut()) {
                allowed_into(*d, tag, dom, a);
            }
            idxs.clear();
            table.for_each_allowed(&al[..scope.len()], |i| idxs.push(i));
            for &i in &idxs {
                table.data[i] += cost;
            }
        }
        out.tables = by_scope.into_values().collect();
        merge_members(&mut out.members);
        Ok(out)
    }

    pub fn eval(&self, c: &Candidate, dom: &Domains) -> f64 {
        let mut v = self.constant;
        for t in &self.tables {
            if let Some(i) = t.index_of(c, dom) {
                v += t.data[i];
            }
        }
        for (d, j, cost) in &self.members {
            if let Some(Slot::Members(m)) = c.0.get(d.index()) {
                if (m >> j) & 1 == 1 {
                    v += cost;
                }
            }
        }
        v
    }

    pub fn scale(&self, k: f64) -> Additive {
        Additive {
            constant: self.constant * k,
            tables: self.tables.iter().map(|t| Table { data: t.data.iter().map(|x| x * k).collect(), ..t.clone() }).collect(),
            members: self.members.iter().map(|(d, j, c)| (*d, *j, c * k)).collect(),
        }
    }

    pub fn plus(&self, other: &Additive) -> Additive {
        let mut out = self.clone();
        out.constant += other.constant;
        out.tables.extend(other.tables.iter().cloned());
        out.members.extend(other.members.iter().cloned());
        merge_members(&mut out.members);
        out
    }
}

/// Sort per-member terms by (subset, member) and add up the costs of each member (in their
/// order), as the tables add up the terms of one scope: one term per chosen member.
fn merge_members(m: &mut Vec<(DecisionId, u32, f64)>) {
    m.sort_by_key(|a| (a.0, a.1));
    let mut out: Vec<(DecisionId, u32, f64)> = Vec::with_capacity(m.len());
    for (d, j, c) in m.drain(..) {
        match out.last_mut() {
            Some(last) if (last.0, last.1) == (d, j) => last.2 += c,
            _ => out.push((d, j, c)),
        }
    }
    *m = out;
}

// ------------------------------------------------------------------ variable elimination

trait Semiring: Clone {
    fn zero() -> Self;
    fn one() -> Self;
    fn plus(&self, o: &Self) -> Self;
    fn times(&self, o: &Self) -> Self;
}

impl Semiring for BigUint {
    fn zero() -> Self {
        Zero::zero()
    }
    fn one() -> Self {
        One::one()
    }
    fn plus(&self, o: &Self) -> Self {
        self + o
    }
    fn times(&self, o: &Self) -> Self {
        self * o
    }
}

#[derive(Clone, Copy, Debug)]
struct MinPlus(f64);
impl Semiring for MinPlus {
    fn zero() -> Self {
        MinPlus(f64::INFINITY)
    }
    fn one() -> Self {
        MinPlus(0.0)
    }
    fn plus(&self, o: &Self) -> Self {
        MinPlus(self.0.min(o.0))
    }
    fn times(&self, o: &Self) -> Self {
        MinPlus(self.0 + o.0)
    }
}

/// Sum out every variable of the factors; `None` if an intermediate table is too large.
fn eliminate<T: Semiring>(mut factors: Vec<Table<T>>, cards: &HashMap<DecisionId, usize>) -> Option<T> {
    loop {
        let mut vars: Vec<DecisionId> = factors.iter().flat_map(|f| f.scope.iter().copied()).collect();
        vars.sort();
        vars.dedup();
        if vars.is_empty() {
            break;
        }
        // greedy: the variable whose elimination makes the smallest table
        let mut best: Option<(usize, DecisionId, Vec<DecisionId>)> = None;
        for v in &vars {
            let mut scope: Vec<DecisionId> = factors.iter().filter(|f| f.scope.contains(v)).flat_map(|f| f.scope.iter().copied()).collect();
            scope.sort();
            scope.dedup();
            let size = scope.iter().try_fold(1usize, |a, d| a.checked_mul(cards[d])).unwrap_or(usize::MAX);
            if best.as_ref().is_none_or(|b| size < b.0) {
                best = Some((size, *v, scope));
            }
        }
        let (size, v, scope) = best?;
        if size > MAX_TABLE {
            return None;
        }
        let (touch, keep): (Vec<_>, Vec<_>) = factors.into_iter().partition(|f| f.scope.contains(&v));
        factors = keep;
        let new_scope: Vec<DecisionId> = scope.iter().copied().filter(|d| *d != v).collect();
        let new_card: Vec<usize> = new_scope.iter().map(|d| cards[d]).collect();
        let new_size: usize = new_card.iter().product();
        let mut data = vec![T::zero(); new_size];
        let card: Vec<usize> = scope.iter().map(|d| cards[d]).collect();
        let vpos = scope.iter().position(|d| *d == v)?;
        // strides of each touched factor in the joint scope
        let maps: Vec<Vec<(usize, usize)>> = touch
            .iter()
            .map(|f| {
                let mut strides = vec![0usize; f.scope.len()];
                let mut s = 1;
                for i in (0..f.scope.len()).rev() {
                    strides[i] = s;
                    s *= f.card[i];
                }
                f.scope.iter().enumerate().map(|(i, d)| (scope.iter().position(|x| x == d).unwrap_or(0), strides[i])).collect()
            })
            .collect();
        let mut ix = vec![0usize; scope.len()];
        for _ in 0..size {
            let mut prod = T::one();
            for (f, m) in touch.iter().zip(&maps) {
                let mut fi = 0;
                for (p, s) in m {
                    fi += ix[*p] * s;
                }
                prod = prod.times(&f.data[fi]);
            }
            let mut out = 0;
            for (i, d) in ix.iter().enumerate() {
                if i != vpos {
                    out = out * card[i] + d;
                }
            }
            data[out] = data[out].plus(&prod);
            for i in (0..scope.len()).rev() {
                ix[i] += 1;
                if ix[i] < card[i] {
                    break;
                }
                ix[i] = 0;
            }
        }
        factors.push(Table { scope: new_scope, card: new_card, data });
    }
    let mut total = T::one();
    for f in factors {
        total = total.times(&f.data[0]);
    }
    Some(total)
}

/// Validity factor of conditional decision `d` from its `when` results: `(ctx, holds)` worlds.
pub fn validity_table(d: DecisionId, results: &[(Deps, bool)], dom: &Domains) -> Option<Table<bool>> {
    let mut scope: Vec<DecisionId> = results.iter().flat_map(|(c, _)| c.iter().map(|l| l.decision())).collect();
    scope.push(d);
    scope.sort();
    scope.dedup();
    let mut t = Table::new(scope.clone(), dom, false)?;
    let vals: Vec<&[Slot]> = scope.iter().map(|x| dom.values[x.index()].as_deref().unwrap_or(&[])).collect();
    let n = scope.len();
    let mut ix = vec![0usize; n];
    for flat in 0..t.data.len() {
        let slot = |x: DecisionId| scope.iter().position(|s| *s == x).map(|p| vals[p][ix[p]]);
        let holds = results.iter().find(|(ctx, _)| ctx.iter().all(|l| slot(l.decision()).is_some_and(|s| lit_holds(l, s)))).map(|(_, h)| *h);
        let me = slot(d).unwrap_or(Slot::Absent);
        t.data[flat] = match holds {
            Some(true) => me != Slot::Absent,
            Some(false) => me == Slot::Absent,
            None => false,
        };
        for i in (0..n).rev() {
            ix[i] += 1;
            if ix[i] < t.card[i] {
                break;
            }
            ix[i] = 0;
        }
    }
    Some(t)
}

/// Exact number of candidates.
pub fn count(decisions: &[DecisionInfo], dom: &Domains, validity: &[Table<bool>]) -> Option<BigUint> {
    let mut in_factor = vec![false; decisions.len()];
    let mut factors: Vec<Table<BigUint>> = Vec::new();
    for v in validity {
        for d in &v.scope {
            in_factor[d.index()] = true;
        }
        factors.push(Table {
            scope: v.scope.clone(),
            card: v.card.clone(),
            data: v.data.iter().map(|b| if *b { <BigUint as One>::one() } else { <BigUint as Zero>::zero() }).collect(),
        });
    }
    let cards: HashMap<DecisionId, usize> = decisions.iter().filter_map(|d| dom.card(d.id).map(|c| (d.id, c))).collect();
    let mut total = eliminate(factors, &cards)?;
    for d in decisions {
        if in_factor[d.index()] {
            continue;
        }
        total *= match &d.kind {
            DecisionKind::Choice { options, .. } => BigUint::from(options.len()),
            DecisionKind::Subset { pool, min, max, .. } => subset_count(pool.len(), *min, *max),
        };
    }
    Some(total)
}

/// Exact (min, max) of an additive metric over the valid candidates; `None` if too entangled.
pub fn bounds(m: &Additive, decisions: &[DecisionInfo], dom: &Domains, validity: &[Table<bool>]) -> Option<(f64, f64)> {
    let cards: HashMap<DecisionId, usize> = decisions.iter().filter_map(|d| dom.card(d.id).map(|c| (d.id, c))).collect();
    let mut res = [0.0f64; 2];
    for (k, sign) in [1.0f64, -1.0].iter().enumerate() {
        let mut factors: Vec<Table<MinPlus>> = Vec::new();
        for v in validity {
            factors.push(Table { scope: v.scope.clone(), card: v.card.clone(), data: v.data.iter().map(|b| if *b { MinPlus(0.0) } else { MinPlus(f64::INFINITY) }).collect() });
        }
        for t in &m.tables {
            factors.push(Table { scope: t.scope.clone(), card: t.card.clone(), data: t.data.iter().map(|x| MinPlus(sign * x)).collect() });
        }
        let mut best = eliminate(factors, &cards)?.0;
        // large subsets: independent; the best subset of allowed size per subset
        let mut by_subset: BTreeMap<DecisionId, Vec<f64>> = BTreeMap::new();
        for (d, j, c) in &m.members {
            let e = by_subset.entry(*d).or_insert_with(|| vec![0.0; decisions[d.index()].arity()]);
            e[*j as usize] += sign * c;
        }
        for (d, mut costs) in by_subset {
            let DecisionKind::Subset { min, max, .. } = decisions[d.index()].kind else { return None };
            costs.sort_by(|a, b| a.total_cmp(b));
            let mut acc = 0.0;
            let mut b = f64::INFINITY;
            for k in 0..=costs.len() {
                if k as u32 >= min && k as u32 <= max {
                    b = b.min(acc);
                }
                if k < costs.len() {
                    acc += costs[k];
                }
            }
            best += b;
        }
        res[k] = sign * (best + sign * m.constant);
    }
    Some((res[0], res[1]))
}

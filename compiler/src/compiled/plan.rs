//! The lowered form of a space's metrics and constraints that both backends execute: slot
//! positions, dense cost tables with strides, per-member terms, and numeric expressions.
//!
//! A candidate is a row of `u64` slots: a choice's option index, a subset's member mask, or
//! `ABSENT` for a conditional decision that does not exist. Metrics are `f64`; a metric nasc
//! cannot compute (external, or an expression over an absent decision) is NaN.
use crate::decision::{DecisionKind, Slot};
use crate::deps::Lit;
use crate::error::PlanError;
use crate::factors::Table;
use crate::metrics::Form;
use crate::space::Space;
use nasc_grammar::ast::{BinOp, Expr, ExprKind, UnOp};
use std::collections::HashMap;

/// The slot of a decision that does not exist in a candidate.
pub const ABSENT: u64 = u64::MAX;

pub fn encode_slot(s: Slot) -> u64 {
    match s {
        Slot::Absent => ABSENT,
        Slot::Opt(v) => v as u64,
        Slot::Members(m) => m,
    }
}

pub fn decode_slot(kind: &DecisionKind, v: u64) -> Slot {
    match (kind, v) {
        (_, ABSENT) => Slot::Absent,
        (DecisionKind::Choice { .. }, v) => Slot::Opt(v as u32),
        (DecisionKind::Subset { .. }, m) => Slot::Members(m),
    }
}

/// How a slot maps to its position in table domains.
#[derive(Debug, Clone)]
///
/// `card` is the size of the decision's table domain: a slot outside the decision's domain (an
/// invalid row) gives a position of `card` or more, which both backends read as position 0,
/// so no row can index outside a table.
pub enum PosMap {
    /// position = option index; ABSENT -> `absent`.
    Choice { absent: u32, card: u32 },
    /// position = dense[mask]; ABSENT -> `absent`.
    Subset { dense: Vec<u32>, absent: u32, card: u32 },
    /// not used by any table
    None,
}

#[derive(Debug, Clone)]
pub struct PTable {
    /// (decision, stride)
    pub scope: Vec<(usize, u64)>,
    pub data: Vec<f64>,
}

#[derive(Debug, Clone)]
pub enum PExpr {
    Const(f64),
    Metric(usize),
    /// the numeric value of a choice's option (NaN when absent or not numeric)
    Option {
        dec: usize,
        values: Vec<f64>,
    },
    Neg(Box<PExpr>),
    Not(Box<PExpr>),
    Bin(BinOp, Box<PExpr>, Box<PExpr>),
    If(Box<PExpr>, Box<PExpr>, Box<PExpr>),
    /// min, max (binary, folded), abs, floor, ceil, round
    Call(&'static str, Vec<PExpr>),
    InRange {
        v: Box<PExpr>,
        lo: Box<PExpr>,
        hi: Box<PExpr>,
        inclusive: bool,
    },
}

#[derive(Debug, Clone)]
pub enum PMetric {
    /// constant + tables + per-member terms (in order) + per-chunk member tables: `chunks` are
    /// (subset, shift, table) with a 256-entry table of the summed costs of the members of
    /// bits `shift..shift + CHUNK_BITS` (only where every partial sum is an exact integer, so the order
    /// of the additions cannot change the result; see `chunk_members`)
    /// `exact`: every value is an integer and every partial sum is exact (`exact_integer_sums`),
    /// so the additions may be reassociated (the JIT sums such a metric as a balanced tree)
    /// without changing a bit: the result is -0.0 exactly when every added value is -0.0, in
    /// any order, and otherwise the same exact integer.
    Additive {
        constant: f64,
        tables: Vec<usize>,
        members: Vec<(usize, u32, f64)>,
        chunks: Vec<(usize, u32, usize)>,
        exact: bool,
    },
    Expr(PExpr),
    /// external or not computable: NaN
    Nan,
}

/// A test of an earlier decision's slot (an existence condition's literal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PLit {
    Is(usize, u64),
    Absent(usize),
    Present(usize),
    /// subset `d` has (true) / lacks (false) member `j`
    Member(usize, u32, bool),
}

impl PLit {
    pub fn holds(self, row: &[u64]) -> bool {
        match self {
            PLit::Is(d, v) => row[d] == v,
            PLit::Absent(d) => row[d] == ABSENT,
            PLit::Present(d) => row[d] != ABSENT,
            PLit::Member(d, j, b) => row[d] != ABSENT && ((row[d] >> j) & 1 == 1) == b,
        }
    }
}

/// How a decision's value is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum PDraw {
    /// uniform option index below n (one RNG draw)
    Choice(u64),
    /// uniform size weighted by C(pool, k), then k members by Floyd (1 + k draws); see
    /// `space::draw_subset`
    Subset { pool: u64, min: u32, max: u32, weights: Vec<f64> },
}

/// One step of the sampling program: decisions are drawn in spec order.
#[derive(Debug, Clone, PartialEq)]
pub struct PSample {
    pub draw: PDraw,
    /// None: always exists. Otherwise the first row whose literals all hold decides whether
    /// the decision exists; when no row holds it does not.
    pub when: Option<Vec<(Vec<PLit>, bool)>>,
}

/// One decision's discretization step.
#[derive(Debug, Clone)]
pub enum PDisc {
    /// options at `off..off + n` of the flat alpha; `zero`: the zero ops (`none`, `zero`),
    /// skipped by the DARTS rule unless every option is one
    Choice { off: usize, n: usize, zero: Vec<bool> },
    /// members at `off..off + n`; `attached`: (member, off, zero ops) of the choices that exist
    /// exactly when that member is chosen (`when j in S`), whose rows the DARTS rule ranks by
    Subset { off: usize, n: usize, min: u32, max: u32, attached: Vec<(u32, usize, Vec<bool>)> },
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub n_dec: usize,
    /// the sampling program (one step per decision, in order)
    pub sample: Vec<PSample>,
    /// whether each decision has a `when` (may be ABSENT)
    pub conditional: Vec<bool>,
    /// each decision's default slot (taken when an edit makes it exist)
    pub defaults: Vec<u64>,
    /// the discretization program (one step per decision)
    pub disc: Vec<PDisc>,
    pub pos: Vec<PosMap>,
    pub tables: Vec<PTable>,
    pub metrics: Vec<PMetric>,
    pub metric_names: Vec<String>,
    pub constraints: Vec<PExpr>,
}

/// Largest subset pool with a dense mask -> position map.
const MAX_DENSE_POOL: usize = 16;

impl Plan {
    /// Lower a space (and extra run-time constraints). Constraints that cannot be lowered
    /// (they read an external metric) are skipped, as `Space::feasible` skips them.
    pub fn new(space: &Space, extra: &[Expr]) -> Result<Plan, PlanError> {
        let n_dec = space.decisions.len();
        let mut pos = vec![PosMap::None; n_dec];
        for d in &space.decisions {
            let Some(values) = &space.domains.values[d.index()] else { continue };
            let absent = values.iter().position(|s| *s == Slot::Absent).unwrap_or(values.len()) as u32;
            let card = values.len() as u32;
            pos[d.index()] = match &d.kind {
                DecisionKind::Choice { .. } => PosMap::Choice { absent, card },
                DecisionKind::Subset { pool, .. } => {
                    if pool.len() > MAX_DENSE_POOL {
                        return Err(PlanError::PoolTooLarge { subset: d.name.clone(), pool: pool.len(), max: MAX_DENSE_POOL });
                    }
                    let mut dense = vec![u32::MAX; 1 << pool.len()];
                    for (i, s) in values.iter().enumerate() {
                        if let Slot::Members(m) = s {
                            dense[*m as usize] = i as u32;
                        }
                    }
                    PosMap::Subset { dense, absent, card }
                }
            };
        }
        let mut tables = Vec::new();
        let mut metrics = Vec::new();
        let mut names = Vec::new();
        let fams = families(space);
        for (i, m) in space.metrics.iter().enumerate() {
            let pm = match &m.form {
                Form::Additive(a) => {
                    let members: Vec<(usize, u32, f64)> = a.members.iter().map(|(d, j, c)| (d.index(), *j, *c)).collect();
                    let exact = exact_integer_sums(a.constant, a.tables.iter().flat_map(|t| t.data.iter()), &members);
                    let merged;
                    let src: &[Table<f64>] = if exact {
                        merged = merge_overlapping(absorb_subscopes(&a.tables));
                        &merged
                    } else {
                        &a.tables
                    };
                    let tabs = src.iter().map(|t| push_table(&mut tables, t)).collect();
                    let (members, chunks) = if exact { (Vec::new(), chunk_members(&members, &mut tables)) } else { (members, Vec::new()) };
                    PMetric::Additive { constant: a.constant, tables: tabs, members, chunks, exact }
                }
                Form::External => PMetric::Nan,
                Form::Nonlinear(e) => lower(e, space, &fams, &names, i).map(PMetric::Expr).unwrap_or(PMetric::Nan),
            };
            metrics.push(pm);
            names.push(m.name.clone());
        }
        let constraints = space.constraints.iter().chain(extra).filter_map(|e| lower(e, space, &fams, &names, names.len())).collect();
        let conditional = space.decisions.iter().map(|d| d.conditional).collect();
        // `when` rows are conjunctions of single-option literals (the compiler expands narrowed
        // choices before it stores them)
        let plit = |l: &Lit| match *l {
            Lit::Is(x, v) => Ok(PLit::Is(x.index(), v as u64)),
            Lit::Absent(x) => Ok(PLit::Absent(x.index())),
            Lit::Present(x) => Ok(PLit::Present(x.index())),
            Lit::Member(x, j, b) => Ok(PLit::Member(x.index(), j, b)),
            Lit::In(..) => Err(PlanError::WhenNarrows),
        };
        let mut sample = Vec::with_capacity(space.decisions.len());
        for d in &space.decisions {
            let when = match space.when_results[d.index()].as_ref() {
                Some(rows) => Some(rows.iter().map(|(ctx, h)| Ok((ctx.iter().map(plit).collect::<Result<Vec<_>, PlanError>>()?, *h))).collect::<Result<Vec<_>, PlanError>>()?),
                None => None,
            };
            let draw = match &d.kind {
                DecisionKind::Choice { options, .. } => PDraw::Choice(options.len() as u64),
                DecisionKind::Subset { pool, min, max, .. } => {
                    PDraw::Subset { pool: pool.len() as u64, min: *min, max: *max, weights: crate::space::subset_size_weights(pool.len() as u64, *min, *max) }
                }
            };
            sample.push(PSample { draw, when });
        }
        let defaults = (0..n_dec).map(|d| encode_slot(space.default_slot(d))).collect();
        let disc = super::discretize::lower(space);
        Ok(Plan { n_dec, sample, conditional, defaults, disc, pos, tables, metrics, metric_names: names, constraints })
    }

    pub fn n_metrics(&self) -> usize {
        self.metrics.len()
    }
}

fn push_table(tables: &mut Vec<PTable>, t: &Table<f64>) -> usize {
    let mut strides = vec![1u64; t.card.len()];
    for i in (0..t.card.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * t.card[i + 1] as u64;
    }
    tables.push(PTable { scope: t.scope.iter().map(|d| d.index()).zip(strides).collect(), data: t.data.clone() });
    tables.len() - 1
}

/// The tables of a metric with exact integer sums, each table whose scope is within another's
/// added into that one (cell by cell): fewer lookups, no table grows, same sums (exact
/// integers add up to the same value in any grouping, -0.0 exactly when every term is -0.0).
/// A table goes into a larger scope, or into an earlier table of the same scope; the kept
/// tables stay in their order.
fn absorb_subscopes(ts: &[Table<f64>]) -> Vec<Table<f64>> {
    let mut out: Vec<Option<Table<f64>>> = ts.iter().cloned().map(Some).collect();
    let mut order: Vec<usize> = (0..ts.len()).collect();
    order.sort_by_key(|&i| (ts[i].scope.len(), std::cmp::Reverse(i)));
    for t in order {
        // present: a table is taken only when it is itself processed
        let Some(small) = out[t].as_ref() else { continue };
        // each dimension of `small` as (dimension in the target); the cards must agree
        let target = (0..out.len()).find_map(|u| {
            let big = out[u].as_ref().filter(|b| u != t && (b.scope.len() > small.scope.len() || u < t))?;
            let dims: Option<Vec<usize>> = small.scope.iter().zip(&small.card).map(|(d, c)| big.scope.iter().position(|e| e == d).filter(|&k| big.card[k] == *c)).collect();
            Some((u, dims?))
        });
        let Some((u, dims)) = target else { continue };
        let Some(small) = out[t].take() else { continue };
        let Some(big) = out[u].as_mut() else {
            out[t] = Some(small);
            continue;
        };
        let mut strides = vec![1usize; big.card.len()];
        for i in (0..big.card.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * big.card[i + 1];
        }
        for (k, cell) in big.data.iter_mut().enumerate() {
            let idx = dims.iter().zip(&small.card).fold(0usize, |acc, (&dim, &c)| acc * c + k / strides[dim] % big.card[dim]);
            *cell += small.data[idx];
        }
    }
    out.into_iter().flatten().collect()
}

/// Largest table (entries) that `merge_overlapping` makes: on mobilenet_v2_layernas, 1,024
/// (13 lookups per metric) measured faster than 256 (17) and than no merging (23), in the
/// cache and streamed; a row reads one entry per table, so the bigger tables cost few lines.
pub const MERGE_MAX: usize = 1024;

/// After `absorb_subscopes`: a table and a later one that share a decision, whose joined scope
/// has at most MERGE_MAX entries, become one table (the first's scope, then the other
/// decisions of the second) whose cells are the sums of both; greedy, in order. Exact sums
/// only (as there: the grouping of the additions does not change them).
fn merge_overlapping(mut ts: Vec<Table<f64>>) -> Vec<Table<f64>> {
    let mut i = 0;
    while i < ts.len() {
        let mut j = i + 1;
        while j < ts.len() {
            match join(&ts[i], &ts[j]) {
                Some(t) => {
                    ts[i] = t;
                    ts.remove(j);
                    j = i + 1;
                }
                None => j += 1,
            }
        }
        i += 1;
    }
    ts
}

/// `a` and `b` as one table (see `merge_overlapping`), or None.
fn join(a: &Table<f64>, b: &Table<f64>) -> Option<Table<f64>> {
    if !a.scope.iter().any(|d| b.scope.contains(d)) {
        return None;
    }
    let (mut scope, mut card) = (a.scope.clone(), a.card.clone());
    for (d, c) in b.scope.iter().zip(&b.card) {
        match scope.iter().position(|e| e == d) {
            Some(k) if card[k] != *c => return None,
            Some(_) => {}
            None => {
                scope.push(*d);
                card.push(*c);
            }
        }
    }
    let size = card.iter().try_fold(1usize, |acc, c| acc.checked_mul(*c).filter(|s| *s <= MERGE_MAX))?;
    // every decision of `a` and `b` is in the joined scope
    let index_in = |t: &Table<f64>, cell: &[usize]| t.scope.iter().zip(&t.card).fold(0usize, |acc, (d, c)| acc * c + scope.iter().position(|e| e == d).map_or(0, |k| cell[k]));
    let mut data = Vec::with_capacity(size);
    let mut cell = vec![0usize; card.len()];
    for _ in 0..size {
        data.push(a.data[index_in(a, &cell)] + b.data[index_in(b, &cell)]);
        for k in (0..card.len()).rev() {
            cell[k] += 1;
            if cell[k] < card[k] {
                break;
            }
            cell[k] = 0;
        }
    }
    Some(Table { scope, card, data })
}

/// Whether every value is an integer and the sum of their magnitudes stays below 2^53: then
/// every partial sum of a metric is exact and the order of its additions does not matter.
fn exact_integer_sums<'a>(constant: f64, cells: impl Iterator<Item = &'a f64>, members: &'a [(usize, u32, f64)]) -> bool {
    let mut bound = constant.abs();
    let int = |x: f64| x.is_finite() && x.fract() == 0.0;
    if !int(constant) {
        return false;
    }
    for x in cells.chain(members.iter().map(|m| &m.2)) {
        if !int(*x) {
            return false;
        }
        bound += x.abs();
    }
    bound < (1u64 << 53) as f64
}

/// Width of the member chunks of a subset mask (bytes: on nse, 4-bit chunks measured slower,
/// their extra loads cost more than the smaller tables save).
pub const CHUNK_BITS: u32 = 8;
pub const CHUNK_MASK: u64 = (1 << CHUNK_BITS) - 1;

/// Per-member terms as per-chunk tables: for each subset and each CHUNK_BITS-bit chunk of its
/// mask that has a member with a cost, 2^CHUNK_BITS entries (the summed costs of the members
/// set in that chunk).
fn chunk_members(members: &[(usize, u32, f64)], tables: &mut Vec<PTable>) -> Vec<(usize, u32, usize)> {
    let mut out: Vec<(usize, u32, usize)> = Vec::new();
    // ((subset, first bit of the chunk), (bit in the chunk, cost) of its members)
    type Group = ((usize, u32), Vec<(u32, f64)>);
    let mut groups: Vec<Group> = Vec::new();
    for &(d, j, c) in members {
        let key = (d, j / CHUNK_BITS * CHUNK_BITS);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push((j % CHUNK_BITS, c)),
            None => groups.push((key, vec![(j % CHUNK_BITS, c)])),
        }
    }
    for ((d, shift), bits) in groups {
        // -0.0 + x == x for every x, so the entry of no members adds nothing
        let data = (0..1u32 << CHUNK_BITS).map(|byte| bits.iter().filter(|(b, _)| byte >> b & 1 == 1).fold(-0.0, |a, (_, c)| a + c)).collect();
        tables.push(PTable { scope: Vec::new(), data });
        out.push((d, shift, tables.len() - 1));
    }
    out
}

fn families(space: &Space) -> HashMap<&str, Vec<(&[i64], usize)>> {
    let mut m: HashMap<&str, Vec<(&[i64], usize)>> = HashMap::new();
    for d in &space.decisions {
        m.entry(d.family.as_str()).or_default().push((&d.index, d.index()));
    }
    m
}

fn option_values(space: &Space, d: usize) -> Option<Vec<f64>> {
    match &space.decisions[d].kind {
        DecisionKind::Choice { options, .. } => Some(options.iter().map(|o| o.as_f64().unwrap_or(f64::NAN)).collect()),
        DecisionKind::Subset { .. } => None,
    }
}

/// Lower an expression as `eval_expr` reads it; None where it would be None for every candidate.
fn lower(e: &Expr, space: &Space, fams: &HashMap<&str, Vec<(&[i64], usize)>>, metrics: &[String], visible: usize) -> Option<PExpr> {
    let rec = |x: &Expr| lower(x, space, fams, metrics, visible);
    Some(match &e.kind {
        ExprKind::Int(i) => PExpr::Const(*i as f64),
        ExprKind::Float(f) => PExpr::Const(*f),
        ExprKind::Bool(b) => PExpr::Const(if *b { 1.0 } else { 0.0 }),
        ExprKind::Name(n) => {
            if let Some(i) = metrics.iter().take(visible).position(|m| m == n) {
                PExpr::Metric(i)
            } else if let Some(c) = space.consts.get(n) {
                PExpr::Const(*c)
            } else {
                let (_, d) = fams.get(n.as_str())?.iter().find(|(i, _)| i.is_empty())?;
                PExpr::Option { dec: *d, values: option_values(space, *d)? }
            }
        }
        ExprKind::Index { .. } => {
            let mut idx = Vec::new();
            let mut cur = e;
            while let ExprKind::Index { base, index } = &cur.kind {
                match rec(index)? {
                    PExpr::Const(v) => idx.push(v as i64),
                    _ => return None,
                }
                cur = base;
            }
            idx.reverse();
            let ExprKind::Name(n) = &cur.kind else { return None };
            let (_, d) = fams.get(n.as_str())?.iter().find(|(i, _)| *i == idx.as_slice())?;
            PExpr::Option { dec: *d, values: option_values(space, *d)? }
        }
        ExprKind::Unary { op: UnOp::Neg, operand } => PExpr::Neg(Box::new(rec(operand)?)),
        ExprKind::Unary { op: UnOp::Not, operand } => PExpr::Not(Box::new(rec(operand)?)),
        ExprKind::Binary { op: BinOp::In, lhs, rhs } => {
            let ExprKind::Range { lo, hi, inclusive } = &rhs.kind else { return None };
            PExpr::InRange { v: Box::new(rec(lhs)?), lo: Box::new(rec(lo)?), hi: Box::new(rec(hi)?), inclusive: *inclusive }
        }
        ExprKind::Binary { op, lhs, rhs } => PExpr::Bin(*op, Box::new(rec(lhs)?), Box::new(rec(rhs)?)),
        ExprKind::IfElse { cond, then, els } => PExpr::If(Box::new(rec(cond)?), Box::new(rec(then)?), Box::new(rec(els)?)),
        ExprKind::Call { callee, args } => {
            let ExprKind::Name(n) = &callee.kind else { return None };
            let f: &'static str = match n.as_str() {
                "min" => "min",
                "max" => "max",
                "abs" => "abs",
                "floor" => "floor",
                "ceil" => "ceil",
                "round" => "round",
                _ => return None,
            };
            let vals: Vec<PExpr> = args.iter().map(|a| rec(&a.value)).collect::<Option<_>>()?;
            if vals.is_empty() {
                return None;
            }
            PExpr::Call(f, vals)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deps::Deps;
    use crate::ids::DecisionId;
    use crate::{compile, NoFiles, Options};

    /// The plan takes `when` rows of single-option literals; a row that narrows a choice to a set
    /// (only evaluation worlds do; the compiler expands them) is refused, not dropped. (A unit
    /// test: it edits the space's `when` rows, which only the compiler crate can.)
    #[test]
    fn a_narrowed_when_row_is_refused_by_the_plan() {
        let text = "input [3, 8, 8];\nchoice n in [1, 2, 3];\nchoice w in [4, 8] when n > 1;\nnetwork { let x = input |> conv(8, 3); if n > 1 { x = x |> conv(w, 1); } return x |> gap |> linear(10); }\nmetric params;\n";
        let (spec, d) = nasc_grammar::parse(text);
        assert!(d.is_empty(), "{d:?}");
        let opts = Options { overrides: vec![], loader: &NoFiles, default_name: "w".into() };
        let mut space = compile(&spec, &opts).0.expect("compiles");
        assert!(Plan::new(&space, &[]).is_ok());
        let n = DecisionId(0);
        let rows = space.when_results[1].as_mut().expect("`w` has a when");
        rows.push((Deps(vec![Lit::In(n, 0b110)]), true));
        let err = Plan::new(&space, &[]).expect_err("refused").to_string();
        assert!(err.contains("narrows a choice"), "{err}");
    }
}

//! The reference backend: executes a `Plan` directly. The JIT must agree with it bit for bit.
use super::plan::{PDraw, PExpr, PMetric, PSample, Plan, PosMap, ABSENT, CHUNK_MASK};
use crate::rng::Rng;
use crate::space::draw_subset_weighted;
use nasc_grammar::ast::BinOp;

pub fn position(pm: &PosMap, slot: u64) -> u64 {
    // out of the domain (an invalid row): position 0, as the JIT reads it
    let clamp = |p: u64, card: u32| if p < card as u64 { p } else { 0 };
    match pm {
        PosMap::Choice { absent, card } => clamp(if slot == ABSENT { *absent as u64 } else { slot }, *card),
        PosMap::Subset { dense, absent, card } => {
            let p = if slot == ABSENT { *absent as u64 } else { usize::try_from(slot).ok().and_then(|m| dense.get(m)).map_or(u64::MAX, |p| *p as u64) };
            clamp(p, *card)
        }
        PosMap::None => 0,
    }
}

/// Shared scalar helpers (the JIT calls the same functions, so results are identical).
pub extern "C" fn h_min(a: f64, b: f64) -> f64 {
    a.min(b)
}
pub extern "C" fn h_max(a: f64, b: f64) -> f64 {
    a.max(b)
}
pub extern "C" fn h_round(a: f64) -> f64 {
    a.round()
}
pub extern "C" fn h_pow(a: f64, b: f64) -> f64 {
    crate::metrics::binop(BinOp::Pow, a, b).unwrap_or(f64::NAN)
}
pub extern "C" fn h_rem(a: f64, b: f64) -> f64 {
    crate::metrics::binop(BinOp::Mod, a, b).unwrap_or(f64::NAN)
}

fn t(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

pub fn eval_expr(e: &PExpr, row: &[u64], metrics: &[f64]) -> f64 {
    let rec = |x: &PExpr| eval_expr(x, row, metrics);
    match e {
        PExpr::Const(c) => *c,
        PExpr::Metric(i) => metrics[*i],
        PExpr::Option { dec, values } => {
            let s = row[*dec];
            if s == ABSENT {
                f64::NAN
            } else {
                values.get(s as usize).copied().unwrap_or(f64::NAN)
            }
        }
        PExpr::Neg(a) => -rec(a),
        PExpr::Not(a) => t(rec(a) == 0.0),
        PExpr::Bin(op, a, b) => {
            // `in` is lowered to comparisons when the plan is built
            crate::metrics::binop(*op, rec(a), rec(b)).unwrap_or(f64::NAN)
        }
        PExpr::If(c, a, b) => {
            if rec(c) != 0.0 {
                rec(a)
            } else {
                rec(b)
            }
        }
        PExpr::Call(f, args) => {
            let first = rec(&args[0]);
            match *f {
                "min" => args[1..].iter().fold(first, |acc, x| h_min(acc, rec(x))),
                "max" => args[1..].iter().fold(first, |acc, x| h_max(acc, rec(x))),
                "abs" => first.abs(),
                "floor" => first.floor(),
                "ceil" => first.ceil(),
                _ => h_round(first),
            }
        }
        PExpr::InRange { v, lo, hi, inclusive } => {
            let (v, a, b) = (rec(v), rec(lo), rec(hi));
            t(v >= a && (v < b || (*inclusive && v <= b)))
        }
    }
}

/// All metrics of one candidate row.
pub fn metrics(plan: &Plan, row: &[u64], out: &mut [f64]) {
    for (i, m) in plan.metrics.iter().enumerate() {
        out[i] = match m {
            PMetric::Additive { constant, tables, members, chunks, .. } => {
                let mut v = *constant;
                for &ti in tables {
                    let t = &plan.tables[ti];
                    let mut idx = 0u64;
                    for &(d, stride) in &t.scope {
                        idx += position(&plan.pos[d], row[d]) * stride;
                    }
                    v += t.data[idx as usize];
                }
                for &(d, j, c) in members {
                    let s = row[d];
                    if s != ABSENT && (s >> j) & 1 == 1 {
                        v += c;
                    }
                }
                for &(d, shift, ti) in chunks {
                    // an absent subset reads entry 0 (no members: -0.0, which adds nothing)
                    let m = if row[d] == ABSENT { 0 } else { row[d] };
                    v += plan.tables[ti].data[((m >> shift) & CHUNK_MASK) as usize];
                }
                v
            }
            PMetric::Expr(e) => eval_expr(e, row, &out[..i]),
            PMetric::Nan => f64::NAN,
        };
    }
}

/// Whether every constraint holds, given the row's metrics.
pub fn feasible(plan: &Plan, row: &[u64], metrics: &[f64]) -> bool {
    plan.constraints.iter().all(|c| eval_expr(c, row, metrics) != 0.0)
}

/// Whether a decision exists given the earlier slots of `row` (its existence condition).
pub fn exists(step: &PSample, row: &[u64]) -> bool {
    match &step.when {
        None => true,
        Some(rows) => rows.iter().find(|(lits, _)| lits.iter().all(|l| l.holds(row))).is_some_and(|(_, h)| *h),
    }
}

/// The reference sampling program: one valid candidate row from `rng` (decisions in order; a
/// decision whose existence condition fails stays `ABSENT`).
pub fn sample_row(plan: &Plan, rng: &mut Rng, row: &mut [u64]) {
    row.fill(ABSENT);
    for (d, step) in plan.sample.iter().enumerate() {
        if exists(step, row) {
            row[d] = match &step.draw {
                PDraw::Choice(n) => rng.below(*n),
                PDraw::Subset { pool, min, weights, .. } => draw_subset_weighted(*pool, *min, weights, rng),
            };
        }
    }
}

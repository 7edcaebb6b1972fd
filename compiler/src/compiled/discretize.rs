//! Discretization of a continuous relaxation: one row of weights per decision (its options,
//! or its pool members), as `Space::alpha_rows` describes, laid end to end (`flatten`).
//!
//! Lowered into a plan program (`PDisc` per decision, declared in `plan` with the plan's other
//! types) that the interpreter runs here and the JIT compiles (`jit/discretize.rs`: choice
//! argmaxes inlined, subsets through `subset_pick`).
//! Decisions are decided in order; one whose existence condition fails stays `ABSENT`.
pub use super::plan::PDisc;
use super::plan::{Plan, ABSENT};
use super::CompiledSpace;
use crate::decision::{DecisionKind, OptValue};
use crate::deps::Lit;
use crate::space::Space;

fn zero_ops(space: &Space, d: usize) -> Vec<bool> {
    match &space.decisions[d].kind {
        DecisionKind::Choice { options, .. } => options.iter().map(|o| matches!(o, OptValue::Op(n) if n == "none" || n == "zero")).collect(),
        DecisionKind::Subset { pool, .. } => vec![false; pool.len()],
    }
}

/// The subset member `(S, i)` a conditional decision belongs to (`when i in S`), if any.
fn attached(space: &Space, d: usize) -> Option<(usize, u32)> {
    let rows = space.when_results[d].as_ref()?;
    let mut at = None;
    for (ctx, _) in rows {
        for l in ctx.iter() {
            match *l {
                Lit::Member(s, j, _) if at.is_none_or(|x| x == (s.index(), j)) => at = Some((s.index(), j)),
                _ => return None,
            }
        }
    }
    at
}

/// The discretization program of a space.
pub fn lower(space: &Space) -> Vec<PDisc> {
    let mut offs = Vec::with_capacity(space.decisions.len());
    let mut off = 0;
    for d in &space.decisions {
        offs.push(off);
        off += d.arity();
    }
    let att: Vec<Option<(usize, u32)>> = (0..space.decisions.len()).map(|d| attached(space, d)).collect();
    space
        .decisions
        .iter()
        .enumerate()
        .map(|(d, dec)| match &dec.kind {
            DecisionKind::Choice { options, .. } => PDisc::Choice { off: offs[d], n: options.len(), zero: zero_ops(space, d) },
            DecisionKind::Subset { pool, min, max, .. } => PDisc::Subset {
                off: offs[d],
                n: pool.len(),
                min: *min,
                max: *max,
                attached: att
                    .iter()
                    .enumerate()
                    .filter_map(|(e, a)| match a {
                        Some((s, j)) if *s == d && (*j as usize) < pool.len() && matches!(space.decisions[e].kind, DecisionKind::Choice { .. }) => {
                            Some((*j, offs[e], zero_ops(space, e)))
                        }
                        _ => None,
                    })
                    .collect(),
            },
        })
        .collect()
}

/// The options a choice's argmax considers: all, or (DARTS rule) the non-zero ops unless
/// every option is a zero op.
pub fn choice_candidates(zero: &[bool], darts: bool) -> Vec<usize> {
    let all_zero = zero.iter().all(|z| *z);
    (0..zero.len()).filter(|o| !(darts && !all_zero && zero[*o])).collect()
}

/// The first index of the largest weight among `cand` (0 when `cand` is empty).
fn argmax(row: &[f64], cand: &[usize]) -> u64 {
    let mut best: Option<usize> = None;
    for &i in cand {
        if best.is_none_or(|b| row[i] > row[b]) {
            best = Some(i);
        }
    }
    best.unwrap_or(0) as u64
}

/// The `min` strongest members (ties: lower index first), and with `positive_extra` further
/// members of positive weight up to `max`.
fn subset_top(w: &[f64], min: u32, max: u32, positive_extra: bool) -> u64 {
    let mut idx: Vec<usize> = (0..w.len().min(64)).collect();
    idx.sort_by(|a, b| w[*b].total_cmp(&w[*a]).then(a.cmp(b)));
    let mut m = 0u64;
    for (k, j) in idx.into_iter().enumerate() {
        if (k as u32) < min || (positive_extra && (k as u32) < max && w[j] > 0.0) {
            m |= 1 << j;
        }
    }
    m
}

/// A subset's value (shared by both backends): argmax rule, the `min` strongest members and
/// positive ones up to `max`; DARTS rule with attached op rows: each member weighs the best
/// non-zero op of its attached rows, and the `min` strongest are kept.
pub fn subset_pick(p: &PDisc, alpha: &[f64], darts: bool) -> u64 {
    let PDisc::Subset { off, n, min, max, attached } = p else { return 0 };
    if darts && !attached.is_empty() {
        let mut w = vec![f64::NEG_INFINITY; *n];
        for (j, aoff, zero) in attached {
            let best = (0..zero.len()).filter(|o| !zero[*o]).map(|o| alpha[aoff + o]).fold(f64::NEG_INFINITY, f64::max);
            w[*j as usize] = w[*j as usize].max(best);
        }
        subset_top(&w, *min, *max, false)
    } else {
        subset_top(&alpha[*off..off + n], *min, *max, true)
    }
}

/// The reference discretization program over a flat alpha (`flatten`) into `out`.
pub fn run(plan: &Plan, alpha: &[f64], darts: bool, out: &mut [u64]) {
    out.fill(ABSENT);
    for (d, p) in plan.disc.iter().enumerate() {
        if !super::interp::exists(&plan.sample[d], out) {
            continue;
        }
        out[d] = match p {
            PDisc::Choice { off, n, zero } => argmax(&alpha[*off..off + n], &choice_candidates(zero, darts)),
            PDisc::Subset { .. } => subset_pick(p, alpha, darts),
        };
    }
}

impl CompiledSpace {
    /// The rows laid end to end, each cut or padded (with -inf) to its decision's arity.
    fn flatten(&self, alpha: &[Vec<f64>]) -> Vec<f64> {
        let mut flat = Vec::new();
        for (d, dec) in self.space.decisions.iter().enumerate() {
            let row = alpha.get(d).map(Vec::as_slice).unwrap_or(&[]);
            flat.extend((0..dec.arity()).map(|i| row.get(i).copied().unwrap_or(f64::NEG_INFINITY)));
        }
        flat
    }

    fn discretize(&self, alpha: &[Vec<f64>], darts: bool) -> Vec<u64> {
        let flat = self.flatten(alpha);
        let mut out = vec![ABSENT; self.plan.n_dec];
        // `flat` always has the compiled layout, so the JIT call does not refuse it
        if !self.jit_for(self.paths.discretize).is_some_and(|j| j.discretize(&flat, darts, &mut out)) {
            run(&self.plan, &flat, darts, &mut out);
        }
        out
    }

    /// L2NAS Algorithm 1: the argmax of every row; a subset takes its `min` strongest members
    /// and further members with positive weight up to its `max`.
    pub fn discretize_argmax(&self, alpha: &[Vec<f64>]) -> Vec<u64> {
        self.discretize(alpha, false)
    }

    /// The DARTS rule (L2NAS Algorithm 2): an input-selection subset keeps its `min` inputs
    /// whose op rows have the strongest non-zero op; each kept edge takes its strongest
    /// non-zero op. Other decisions: argmax without zero ops.
    pub fn discretize_darts(&self, alpha: &[Vec<f64>]) -> Vec<u64> {
        self.discretize(alpha, true)
    }

    /// Whether a row's slot is absent (helper for callers of the discretizers).
    pub fn is_absent(slot: u64) -> bool {
        slot == ABSENT
    }
}

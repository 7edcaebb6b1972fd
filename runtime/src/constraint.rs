//! Checks of a command-line constraint (`nasc search --constraint`) beyond its grammar: it must
//! be a condition (a comparison, `in`, `and`/`or`/`!` of conditions), compare numbers (no
//! strings), have no constant part that divides by zero, and, against the compiled space's metric
//! bounds, be possible (an impossible one is an error) and not trivially true (a warning).
use crate::error::{ConstraintError, ConstraintShape};
use crate::SearchSpace;
use nasc_grammar::ast::{BinOp, Expr, ExprKind, UnOp};

fn is_comparison(op: BinOp) -> bool {
    matches!(op, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In)
}

/// The value of a constant arithmetic expression (literals only), or None where it has names.
/// Err for a division by zero or an overflow.
fn constant(e: &Expr) -> Result<Option<f64>, ConstraintShape> {
    Ok(match &e.kind {
        ExprKind::Int(i) => Some(*i as f64),
        ExprKind::Float(x) => Some(*x),
        ExprKind::Unary { op: UnOp::Neg, operand } => constant(operand)?.map(|x| -x),
        ExprKind::Binary { op, lhs, rhs } => {
            let (a, b) = (constant(lhs)?, constant(rhs)?);
            let (Some(a), Some(b)) = (a, b) else { return Ok(None) };
            let v = match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div | BinOp::IntDiv | BinOp::Mod if b == 0.0 => return Err(ConstraintShape::DividesByZero),
                BinOp::Div => a / b,
                BinOp::IntDiv => (a / b).floor(),
                BinOp::Mod => a.rem_euclid(b),
                BinOp::Pow => a.powf(b),
                _ => return Ok(None),
            };
            if !v.is_finite() {
                return Err(ConstraintShape::NotFinite);
            }
            Some(v)
        }
        _ => None,
    })
}

/// Refuse strings and constant divisions by zero anywhere in `e`.
fn check_values(e: &Expr) -> Result<(), ConstraintShape> {
    match &e.kind {
        ExprKind::Str(s) => Err(ConstraintShape::Str(s.clone())),
        ExprKind::Binary { lhs, rhs, .. } => {
            constant(e)?;
            check_values(lhs)?;
            check_values(rhs)
        }
        ExprKind::Unary { operand, .. } => check_values(operand),
        ExprKind::Range { lo, hi, .. } => {
            check_values(lo)?;
            check_values(hi)
        }
        ExprKind::List(items) => items.iter().try_for_each(check_values),
        ExprKind::Call { args, .. } => args.iter().try_for_each(|a| check_values(&a.value)),
        ExprKind::IfElse { cond, then, els } => {
            check_values(cond)?;
            check_values(then)?;
            check_values(els)
        }
        _ => Ok(()),
    }
}

/// Refuse what is not a condition.
fn check_condition(e: &Expr) -> Result<(), ConstraintShape> {
    match &e.kind {
        ExprKind::Binary { op: BinOp::And | BinOp::Or, lhs, rhs } => {
            check_condition(lhs)?;
            check_condition(rhs)
        }
        ExprKind::Unary { op: UnOp::Not, operand } => check_condition(operand),
        ExprKind::Binary { op, .. } if is_comparison(*op) => Ok(()),
        ExprKind::Bool(_) => Ok(()),
        _ => Err(ConstraintShape::NotACondition),
    }
}

/// The shape checks of a parsed command-line constraint; errors name the constraint.
pub fn check(text: &str, e: &Expr) -> Result<(), ConstraintError> {
    check_condition(e).and_then(|()| check_values(e)).map_err(|why| ConstraintError::Shape { text: text.to_string(), why })
}

fn fmt(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        // digits grouped by thousands, as people read metric sizes
        let s = (x.abs() as u64).to_string();
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(ch);
        }
        if x < 0.0 {
            out.insert(0, '-');
        }
        out
    } else {
        format!("{x}")
    }
}

/// What the bounds of the metrics say about a comparison: Some(false) impossible, Some(true)
/// always true, None unknown; with the metric's description.
fn compare(space: &SearchSpace, e: &Expr) -> Option<(bool, String)> {
    let ExprKind::Binary { op, lhs, rhs } = &e.kind else { return None };
    let metric = |x: &Expr| match &x.kind {
        ExprKind::Name(n) => space.inner().metrics().iter().find(|m| m.name == *n).and_then(|m| m.bounds.map(|b| (n.clone(), b))),
        _ => None,
    };
    let (lo, hi, name, exact, op, rhs) = if let Some((n, b)) = metric(lhs) {
        (b.min, b.max, n, b.exact, *op, rhs)
    } else if let Some((n, b)) = metric(rhs) {
        // `x OP metric` is `metric OP' x`
        let flipped = match op {
            BinOp::Lt => BinOp::Gt,
            BinOp::Le => BinOp::Ge,
            BinOp::Gt => BinOp::Lt,
            BinOp::Ge => BinOp::Le,
            BinOp::Eq | BinOp::Ne => *op,
            _ => return None,
        };
        (b.min, b.max, n, b.exact, flipped, lhs)
    } else {
        return None;
    };
    let what = format!("`{name}` is {} {} to {} over the space", if exact { "exactly" } else { "within" }, fmt(lo), fmt(hi));
    let verdict = if let (BinOp::In, ExprKind::Range { lo: a, hi: b, inclusive }) = (op, &rhs.kind) {
        let (a, b) = (constant(a).ok()??, constant(b).ok()??);
        let out = b < lo || a > hi || (!inclusive && b <= lo);
        let all = a <= lo && (hi < b || (*inclusive && hi <= b));
        if out {
            false
        } else if all {
            true
        } else {
            return None;
        }
    } else {
        let x = constant(rhs).ok()??;
        // the bounds hold for every candidate (exact ones are attained; interval ones are
        // conservative), so "impossible" and "always" are certain either way
        match op {
            BinOp::Le if x < lo => false,
            BinOp::Lt if x <= lo => false,
            BinOp::Ge if x > hi => false,
            BinOp::Gt if x >= hi => false,
            BinOp::Eq if x < lo || x > hi => false,
            BinOp::Le if hi <= x => true,
            BinOp::Lt if hi < x => true,
            BinOp::Ge if lo >= x => true,
            BinOp::Gt if lo > x => true,
            BinOp::Ne if x < lo || x > hi => true,
            _ => return None,
        }
    };
    Some((verdict, what))
}

/// Check a command-line constraint against the metric bounds of the compiled space: an error
/// when no candidate can meet it (one comparison of an `and`), a warning (Ok(Some)) when every
/// candidate does.
pub fn check_bounds(space: &SearchSpace, text: &str, e: &Expr) -> Result<Option<String>, ConstraintError> {
    let mut parts = Vec::new();
    fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
        match &e.kind {
            ExprKind::Binary { op: BinOp::And, lhs, rhs } => {
                conjuncts(lhs, out);
                conjuncts(rhs, out);
            }
            _ => out.push(e),
        }
    }
    conjuncts(e, &mut parts);
    let mut always = Vec::new();
    for p in &parts {
        match compare(space, p) {
            Some((false, what)) => return Err(ConstraintError::ExcludesAll { text: text.to_string(), what }),
            Some((true, what)) => always.push(what),
            None => {}
        }
    }
    Ok((always.len() == parts.len()).then(|| format!("constraint `{text}` holds for every candidate ({}); it changes nothing", always.join("; "))))
}

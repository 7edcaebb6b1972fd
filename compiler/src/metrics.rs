//! Metrics: derived (params, flops), lookup tables from CSV, and expressions. A metric that is
//! a linear combination of additive parts stays additive (exact bounds); anything else is
//! evaluated per candidate and bounded by interval arithmetic.
use crate::compile::Loader;
use crate::decision::{Candidate, DecisionInfo, DecisionKind, Slot};
use crate::deps::{Deps, Lit};
use crate::factors::{self, Additive, Domains, Table};
use crate::interp::value::Value;
use crate::program::Program;
use nasc_grammar::ast::*;
use nasc_grammar::diag::Diagnostic;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MetricKind {
    Derived,
    External,
    Expr,
}

#[derive(Debug, Clone)]
pub enum Form {
    Additive(Additive),
    Nonlinear(Expr),
    /// Measured by an evaluator; unknown to the compiler.
    External,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bounds {
    pub min: f64,
    pub max: f64,
    /// true when min and max are attained by some candidate (exact); false for interval bounds.
    pub exact: bool,
}

#[derive(Debug, Clone)]
pub struct MetricInfo {
    pub name: String,
    pub kind: MetricKind,
    pub form: Form,
    pub bounds: Option<Bounds>,
}

pub struct MetricCtx<'a> {
    pub prog: &'a Program<'a>,
    pub decisions: &'a [DecisionInfo],
    pub domains: &'a Domains,
    pub validity: &'a [Table<bool>],
    pub loader: &'a dyn Loader,
}

pub fn build(spec: &Spec, ctx: &MetricCtx, base: HashMap<String, Additive>) -> (Vec<MetricInfo>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut out: Vec<MetricInfo> = Vec::new();
    let mut known: HashMap<String, Form> = base.iter().map(|(k, v)| (k.clone(), Form::Additive(v.clone()))).collect();
    let declared: Vec<&MetricDef> = spec.items.iter().filter_map(|i| if let Item::Metric(m) = i { Some(m) } else { None }).collect();
    for derived in ["params", "flops"] {
        if !declared.iter().any(|m| m.name.name == derived) {
            out.push(MetricInfo { name: derived.into(), kind: MetricKind::Derived, form: Form::Additive(base[derived].clone()), bounds: None });
        }
    }
    // metrics may reference metrics declared later: resolve in dependency order
    let mut pending: Vec<&MetricDef> = declared.clone();
    let mut guard = 0;
    while !pending.is_empty() && guard <= declared.len() + 1 {
        guard += 1;
        let mut next = Vec::new();
        for m in pending {
            let deps_ready = match &m.value {
                MetricValue::Expr(e) => crate::check::free_names(e).iter().all(|n| known.contains_key(n) || !declared.iter().any(|d| d.name.name == *n)),
                _ => true,
            };
            if !deps_ready {
                next.push(m);
                continue;
            }
            let (kind, form) = match &m.value {
                MetricValue::Derived => (MetricKind::Derived, Form::Additive(base.get(&m.name.name).cloned().unwrap_or_default())),
                MetricValue::External => (MetricKind::External, Form::External),
                MetricValue::Expr(e) => match form_of(e, ctx, &known) {
                    Ok(f) => (MetricKind::Expr, f),
                    Err(d) => {
                        diags.push(d);
                        (MetricKind::Expr, Form::Nonlinear(e.clone()))
                    }
                },
            };
            known.insert(m.name.name.clone(), form.clone());
            out.push(MetricInfo { name: m.name.name.clone(), kind, form, bounds: None });
        }
        pending = next;
    }
    for m in pending {
        diags.push(Diagnostic::error("E0504", format!("metric `{}` is defined in terms of itself", m.name.name), m.name.span, "cyclic metric"));
    }
    // bounds
    let forms: HashMap<String, Form> = out.iter().map(|m| (m.name.clone(), m.form.clone())).collect();
    for m in &mut out {
        m.bounds = bounds_of(&m.form, ctx, &forms);
    }
    (out, diags)
}

fn bounds_of(f: &Form, ctx: &MetricCtx, forms: &HashMap<String, Form>) -> Option<Bounds> {
    match f {
        Form::Additive(a) => match factors::bounds(a, ctx.decisions, ctx.domains, ctx.validity) {
            Some((min, max)) => Some(Bounds { min, max, exact: true }),
            None => {
                // independent per-table bounds: valid, not exact
                let mut lo = a.constant;
                let mut hi = a.constant;
                for t in &a.tables {
                    lo += t.data.iter().cloned().fold(f64::INFINITY, f64::min);
                    hi += t.data.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                }
                Some(Bounds { min: lo, max: hi, exact: false })
            }
        },
        Form::External => None,
        Form::Nonlinear(e) => interval(e, ctx, forms).map(|(min, max)| Bounds { min, max, exact: false }),
    }
}

fn interval(e: &Expr, ctx: &MetricCtx, forms: &HashMap<String, Form>) -> Option<(f64, f64)> {
    match &e.kind {
        ExprKind::Int(i) => Some((*i as f64, *i as f64)),
        ExprKind::Float(f) => Some((*f, *f)),
        ExprKind::Name(n) => {
            if let Some(f) = forms.get(n) {
                return bounds_of(f, ctx, forms).map(|b| (b.min, b.max));
            }
            ctx.prog.consts.get(n).and_then(|v| v.as_f64()).map(|x| (x, x))
        }
        ExprKind::Unary { op: UnOp::Neg, operand } => interval(operand, ctx, forms).map(|(a, b)| (-b, -a)),
        ExprKind::Binary { op, lhs, rhs } => {
            let (a, b) = interval(lhs, ctx, forms)?;
            let (c, d) = interval(rhs, ctx, forms)?;
            let corners = |f: &dyn Fn(f64, f64) -> f64| {
                let v = [f(a, c), f(a, d), f(b, c), f(b, d)];
                (v.iter().cloned().fold(f64::INFINITY, f64::min), v.iter().cloned().fold(f64::NEG_INFINITY, f64::max))
            };
            match op {
                BinOp::Add => Some((a + c, b + d)),
                BinOp::Sub => Some((a - d, b - c)),
                BinOp::Mul => Some(corners(&|x, y| x * y)),
                BinOp::Div if c > 0.0 || d < 0.0 => Some(corners(&|x, y| x / y)),
                BinOp::Pow if a >= 0.0 => Some(corners(&|x, y| x.powf(y))),
                _ => None,
            }
        }
        _ => None,
    }
}

fn constant(f: &Form) -> Option<f64> {
    match f {
        Form::Additive(a) if a.tables.is_empty() && a.members.is_empty() => Some(a.constant),
        _ => None,
    }
}

fn form_of(e: &Expr, ctx: &MetricCtx, known: &HashMap<String, Form>) -> Result<Form, Diagnostic> {
    let nl = || Ok(Form::Nonlinear(e.clone()));
    let konst = |x: f64| Ok(Form::Additive(Additive { constant: x, ..Additive::default() }));
    match &e.kind {
        ExprKind::Int(i) => konst(*i as f64),
        ExprKind::Float(f) => konst(*f),
        ExprKind::Name(n) => {
            if let Some(f) = known.get(n) {
                return Ok(match f {
                    Form::External => Form::Nonlinear(e.clone()),
                    other => other.clone(),
                });
            }
            if let Some(v) = ctx.prog.consts.get(n).and_then(Value::as_f64) {
                return konst(v);
            }
            if let Some(fam) = ctx.prog.families.get(n) {
                if fam.ndims == 0 {
                    if let Some(d) = fam.instances.get(&Vec::new()) {
                        return decision_form(*d, ctx, e.span);
                    }
                }
            }
            nl()
        }
        ExprKind::Index { .. } => {
            let mut idx = Vec::new();
            let mut cur = e;
            while let ExprKind::Index { base, index } = &cur.kind {
                match index.kind {
                    ExprKind::Int(i) => idx.push(i),
                    _ => return nl(),
                }
                cur = base;
            }
            idx.reverse();
            if let ExprKind::Name(n) = &cur.kind {
                if let Some(d) = ctx.prog.families.get(n).and_then(|f| f.instances.get(&idx)) {
                    return decision_form(*d, ctx, e.span);
                }
            }
            nl()
        }
        ExprKind::Unary { op: UnOp::Neg, operand } => match form_of(operand, ctx, known)? {
            Form::Additive(a) => Ok(Form::Additive(a.scale(-1.0))),
            _ => nl(),
        },
        ExprKind::Binary { op, lhs, rhs } => {
            let a = form_of(lhs, ctx, known)?;
            let b = form_of(rhs, ctx, known)?;
            match (op, &a, &b) {
                (BinOp::Add, Form::Additive(x), Form::Additive(y)) => Ok(Form::Additive(x.plus(y))),
                (BinOp::Sub, Form::Additive(x), Form::Additive(y)) => Ok(Form::Additive(x.plus(&y.scale(-1.0)))),
                (BinOp::Mul, Form::Additive(x), _) if constant(&b).is_some() => Ok(Form::Additive(x.scale(constant(&b).unwrap_or(1.0)))),
                (BinOp::Mul, _, Form::Additive(y)) if constant(&a).is_some() => Ok(Form::Additive(y.scale(constant(&a).unwrap_or(1.0)))),
                (BinOp::Div, Form::Additive(x), _) if constant(&b).is_some_and(|c| c != 0.0) => Ok(Form::Additive(x.scale(1.0 / constant(&b).unwrap_or(1.0)))),
                _ => nl(),
            }
        }
        ExprKind::Call { callee, args } if matches!(&callee.kind, ExprKind::Name(n) if n == "lookup") => lookup(e, args, ctx).map(Form::Additive),
        _ => nl(),
    }
}

fn decision_form(d: crate::ids::DecisionId, ctx: &MetricCtx, span: Span) -> Result<Form, Diagnostic> {
    let info = &ctx.decisions[d.index()];
    let DecisionKind::Choice { options, .. } = &info.kind else {
        return Err(Diagnostic::error("E0104", format!("subset `{}` has no numeric value", info.name), span, "used in a metric"));
    };
    let mut terms = Vec::new();
    for (i, o) in options.iter().enumerate() {
        let v = o.as_f64().ok_or_else(|| Diagnostic::error("E0104", format!("`{}` has non-numeric options; it cannot be used in a metric", info.name), span, "not a number"))?;
        terms.push((Deps::one(Lit::Is(d, i as u32)), v));
    }
    Additive::from_terms(&terms, ctx.domains).map(Form::Additive).map_err(|m| Diagnostic::error("E0801", m.to_string(), span, "here"))
}

/// `lookup("file.csv", "column")`: a per-decision table with columns decision, option, COLUMN.
fn lookup(call: &Expr, args: &[Arg], ctx: &MetricCtx) -> Result<Additive, Diagnostic> {
    let strs: Vec<(&str, Span)> = args.iter().filter_map(|a| if let ExprKind::Str(s) = &a.value.kind { Some((s.as_str(), a.value.span)) } else { None }).collect();
    if args.len() != 2 || strs.len() != 2 {
        return Err(Diagnostic::error("E0103", "`lookup` takes two strings: a CSV path and a column", call.span, "here").with_help("e.g. `lookup(\"latency.csv\", \"ms\")`"));
    }
    let (path, pspan) = strs[0];
    let (col, cspan) = strs[1];
    let text = ctx
        .loader
        .load(path)
        .map_err(|why| Diagnostic::error("E0601", format!("cannot read lookup table `{path}`: {why}"), pspan, "this file").with_help("the path is relative to the spec file"))?;
    let aux = |msg: String, start: usize, end: usize, label: &str| Diagnostic::error("E0602", msg, Span::new(start, end), label.to_string()).in_aux(path);
    // CSV as RFC 4180 (quoted fields may hold commas, quotes and line breaks), fields trimmed; a
    // row is named by the line it starts on and spans to that line's end
    let rows = csv_rows(&text).map_err(|(msg, line, start)| aux(format!("`{path}` line {line}: {msg}"), start, line_end(&text, start), "malformed CSV"))?;
    let Some((_, _, header)) = rows.first() else {
        return Err(aux(format!("`{path}` is empty"), 0, 0, "expected a header line"));
    };
    let cols: Vec<&str> = header.iter().collect();
    let find = |name: &str| cols.iter().position(|c| *c == name);
    // a file whose first line is not a lookup header is not a lookup table: nothing of it is
    // shown (a spec may name any file; its content must not reach the output)
    let (Some(di), Some(oi)) = (find("decision"), find("option")) else {
        return Err(Diagnostic::error(
            "E0602",
            format!("`{path}` is not a lookup table: its first line must be a CSV header with columns `decision` and `option`"),
            pspan,
            "this file",
        )
        .with_help("e.g. `decision,option,ms` followed by one row per option"));
    };
    let Some(vi) = find(col) else {
        return Err(Diagnostic::error("E0602", format!("`{path}` has no column `{col}`"), cspan, "no such column").with_note(format!("columns: {}", cols.join(", "))));
    };
    let by_name: HashMap<&str, &DecisionInfo> = ctx.decisions.iter().map(|d| (d.name.as_str(), d)).collect();
    let mut terms = Vec::new();
    for &(line_no, start, ref record) in rows.iter().skip(1) {
        let end = line_end(&text, start);
        let fields: Vec<&str> = record.iter().collect();
        if fields.len() == 1 && fields[0].is_empty() {
            continue;
        }
        if fields.len() != cols.len() {
            return Err(aux(format!("`{path}` line {}: expected {} fields, found {}", line_no, cols.len(), fields.len()), start, end, "malformed row"));
        }
        let Some(d) = by_name.get(fields[di]) else {
            return Err(Diagnostic::error("E0603", format!("`{path}` line {}: unknown decision `{}`", line_no, fields[di]), Span::new(start, end), "no such decision").in_aux(path));
        };
        let DecisionKind::Choice { options, .. } = &d.kind else {
            return Err(
                Diagnostic::error("E0603", format!("`{path}` line {}: `{}` is a subset; lookups apply to choices", line_no, d.name), Span::new(start, end), "here").in_aux(path)
            );
        };
        let Some(oix) = options.iter().position(|o| o.display() == fields[oi]) else {
            return Err(Diagnostic::error(
                "E0603",
                format!("`{path}` line {}: `{}` is not an option of `{}`", line_no, fields[oi], d.name),
                Span::new(start, end),
                "no such option",
            )
            .in_aux(path));
        };
        let v: f64 = fields[vi].parse().map_err(|_| aux(format!("`{path}` line {}: `{}` is not a number", line_no, fields[vi]), start, end, "expected a number"))?;
        if !v.is_finite() {
            return Err(aux(format!("`{path}` line {}: value must be finite", line_no), start, end, "not finite"));
        }
        terms.push((Deps::one(Lit::Is(d.id, oix as u32)), v));
    }
    Additive::from_terms(&terms, ctx.domains).map_err(|m| Diagnostic::error("E0801", m.to_string(), call.span, "here"))
}

/// A CSV record with the line (1-based) and byte offset it starts at.
type CsvRow = (u64, usize, csv::StringRecord);

/// The records of a CSV text with the line (1-based) and byte offset each starts at, fields
/// trimmed; blank lines are skipped. An error names its message, line and byte offset.
fn csv_rows(text: &str) -> Result<Vec<CsvRow>, (String, u64, usize)> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(rows),
            Ok(true) => {
                // the reader's position is before the blank lines it skipped: step past them
                let (mut line, mut byte) = record.position().map_or((1, 0), |p| (p.line(), p.byte() as usize));
                while let Some(rest) = text.get(byte..) {
                    let eol = if rest.starts_with("\r\n") { 2 } else { usize::from(rest.starts_with(['\n', '\r'])) };
                    if eol == 0 {
                        break;
                    }
                    (line, byte) = (line + 1, byte + eol);
                }
                rows.push((line, byte, record.clone()));
            }
            Err(e) => {
                let pos = e.position().map_or((0, 0), |p| (p.line(), p.byte() as usize));
                return Err((e.to_string(), pos.0, pos.1.min(text.len())));
            }
        }
    }
}

/// The byte offset where the line starting at or containing `start` ends (before `\r\n`).
fn line_end(text: &str, start: usize) -> usize {
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    if end > start && text.as_bytes()[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// Evaluate a metric expression for one candidate, given the values of other metrics.
pub fn eval_expr(
    e: &Expr,
    c: &Candidate,
    values: &HashMap<&str, f64>,
    consts: &HashMap<String, f64>,
    decisions: &[DecisionInfo],
    families: &HashMap<String, Vec<(Vec<i64>, usize)>>,
) -> Option<f64> {
    let rec = |x: &Expr| eval_expr(x, c, values, consts, decisions, families);
    match &e.kind {
        ExprKind::Int(i) => Some(*i as f64),
        ExprKind::Float(f) => Some(*f),
        ExprKind::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        ExprKind::Name(n) => values.get(n.as_str()).copied().or_else(|| consts.get(n).copied()).or_else(|| {
            let fam = families.get(n)?;
            let (_, d) = fam.iter().find(|(i, _)| i.is_empty())?;
            slot_value(&decisions[*d], c.0[*d])
        }),
        ExprKind::Index { .. } => {
            let mut idx = Vec::new();
            let mut cur = e;
            while let ExprKind::Index { base, index } = &cur.kind {
                idx.push(rec(index)? as i64);
                cur = base;
            }
            idx.reverse();
            let ExprKind::Name(n) = &cur.kind else { return None };
            let (_, d) = families.get(n)?.iter().find(|(i, _)| *i == idx)?;
            slot_value(&decisions[*d], c.0[*d])
        }
        ExprKind::Unary { op, operand } => {
            let v = rec(operand)?;
            Some(match op {
                UnOp::Neg => -v,
                UnOp::Not => {
                    if v == 0.0 {
                        1.0
                    } else {
                        0.0
                    }
                }
            })
        }
        ExprKind::Binary { op: BinOp::In, lhs, rhs } => {
            let v = rec(lhs)?;
            let ExprKind::Range { lo, hi, inclusive } = &rhs.kind else { return None };
            let (a, b) = (rec(lo)?, rec(hi)?);
            Some(if v >= a && (v < b || (*inclusive && v <= b)) { 1.0 } else { 0.0 })
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let (a, b) = (rec(lhs)?, rec(rhs)?);
            binop(*op, a, b)
        }
        ExprKind::IfElse { cond, then, els } => {
            if rec(cond)? != 0.0 {
                rec(then)
            } else {
                rec(els)
            }
        }
        ExprKind::Call { callee, args } => {
            let ExprKind::Name(n) = &callee.kind else { return None };
            let vals: Option<Vec<f64>> = args.iter().map(|a| rec(&a.value)).collect();
            let vals = vals?;
            match n.as_str() {
                "min" => vals.into_iter().reduce(f64::min),
                "max" => vals.into_iter().reduce(f64::max),
                "abs" => vals.first().map(|v| v.abs()),
                "floor" => vals.first().map(|v| v.floor()),
                "ceil" => vals.first().map(|v| v.ceil()),
                "round" => vals.first().map(|v| v.round()),
                _ => None,
            }
        }
        _ => None,
    }
}

fn slot_value(d: &DecisionInfo, s: Slot) -> Option<f64> {
    match (&d.kind, s) {
        (DecisionKind::Choice { options, .. }, Slot::Opt(v)) => options.get(v as usize)?.as_f64(),
        _ => None,
    }
}

/// A binary operator on numbers, as metrics and constraints evaluate it (booleans are 1 and 0);
/// `None` for `in`, which needs its right side unevaluated. The one table the metric evaluator,
/// the plan interpreter and (through `h_rem`/`h_pow`'s semantics) the JIT share.
pub fn binop(op: BinOp, a: f64, b: f64) -> Option<f64> {
    let t = |x: bool| if x { 1.0 } else { 0.0 };
    Some(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::IntDiv => (a / b).floor(),
        BinOp::Mod => a.rem_euclid(b),
        BinOp::Pow => a.powf(b),
        BinOp::Eq => t(a == b),
        BinOp::Ne => t(a != b),
        BinOp::Lt => t(a < b),
        BinOp::Le => t(a <= b),
        BinOp::Gt => t(a > b),
        BinOp::Ge => t(a >= b),
        BinOp::And => t(a != 0.0 && b != 0.0),
        BinOp::Or => t(a != 0.0 || b != 0.0),
        BinOp::In => return None,
    })
}

//! The front end of a compile, shared with the tracer: fold constants, expand decisions into
//! their instances, and resolve the input. [`Tracer`] re-runs it to trace single candidates, so
//! `space.rs` depends on this module and not on `compile.rs` (which builds the `Space`).
use crate::check;
use crate::decision::{Candidate, DecisionInfo, DecisionKind, OptValue, Slot, WhenGuard};
use crate::deps::Lit;
use crate::error::TraceError;
use crate::graph::NetGraph;
use crate::ids::DecisionId;
use crate::interp::value::{OpRef, Value};
use crate::interp::world::{Frame, World};
use crate::interp::{Interp, Interrupt};
use crate::program::{Family, Program};
use nasc_grammar::ast::*;
use nasc_grammar::diag::Diagnostic;
use std::collections::HashMap;

fn parse_override(v: &str) -> Value {
    let t = v.trim();
    let (num, mult) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 1_000i64),
        Some('M') => (&t[..t.len() - 1], 1_000_000),
        Some('G') => (&t[..t.len() - 1], 1_000_000_000),
        _ => (t, 1),
    };
    if let Ok(i) = num.replace('_', "").parse::<i64>() {
        if let Some(x) = i.checked_mul(mult) {
            return Value::Int(x);
        }
    }
    if let Ok(f) = num.parse::<f64>() {
        return Value::Float(f * mult as f64);
    }
    match t {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::Str(std::rc::Rc::from(t)),
    }
}

fn interrupt_to_diag(i: Interrupt, span: Span) -> Diagnostic {
    match i {
        Interrupt::Error(d) => d,
        _ => Diagnostic::error("E0104", "this must not depend on a decision", span, "depends on a decision")
            .with_help("parameters, lets, decision domains and the input shape are fixed for the whole space"),
    }
}

/// Evaluate a decision-free expression (constants, domains) with optional index bindings.
fn eval_const(prog: &Program, e: &Expr, bindings: &[(String, i64)]) -> Result<Value, Diagnostic> {
    let mut it = Interp::new(prog, &[], &[]);
    let mut w = World::default();
    let mut f = Frame::default();
    for (n, v) in bindings {
        f.push(n, Value::Int(*v));
    }
    w.push_frame(f);
    it.eval(&mut w, e).map_err(|i| interrupt_to_diag(i, e.span))
}

pub(crate) struct Front<'s> {
    pub prog: Program<'s>,
    pub decisions: Vec<DecisionInfo>,
    pub whens: Vec<Option<WhenGuard>>,
    pub shape: [i64; 3],
    pub input_span: Span,
    pub network: &'s Body,
    pub space_name: String,
}

/// Fold constants, expand decisions and resolve the input: the part of a compile that a
/// trace of one candidate repeats.
pub(crate) fn front<'s>(spec: &'s Spec, overrides: &[(String, String)], default_name: &str, diags: &mut Vec<Diagnostic>) -> Option<Front<'s>> {
    let mut prog = Program::default();
    let mut space_name = default_name.to_string();
    for item in &spec.items {
        match item {
            Item::Block(b) => {
                prog.blocks.insert(b.name.name.clone(), b);
            }
            Item::Network { body, .. } => prog.network = Some(body),
            Item::Space(id) => space_name = id.name.clone(),
            _ => {}
        }
    }
    // constant folding: params (with overrides) and lets, in dependency order
    let pending: Vec<(&Ident, &Expr, bool)> = spec
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Param { name, value, .. } => Some((name, value, true)),
            Item::Let { name, value, .. } => Some((name, value, false)),
            _ => None,
        })
        .collect();
    // (Kahn's algorithm over the names each definition reads: linear in the definitions, in
    // any source order; the first definition left unresolved is reported as cyclic)
    let index: HashMap<&str, usize> = pending.iter().enumerate().map(|(i, (n, _, _))| (n.name.as_str(), i)).collect();
    let mut waiting = vec![0usize; pending.len()];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); pending.len()];
    for (i, (_, value, _)) in pending.iter().enumerate() {
        let mut deps: Vec<usize> = check::free_names(value).iter().filter_map(|n| index.get(n.as_str()).copied()).collect();
        deps.sort_unstable();
        deps.dedup();
        waiting[i] = deps.len();
        for j in deps {
            users[j].push(i);
        }
    }
    let mut ready: std::collections::BTreeSet<usize> = (0..pending.len()).filter(|i| waiting[*i] == 0).collect();
    let mut done = vec![false; pending.len()];
    while let Some(i) = ready.pop_first() {
        let (name, value, is_param) = pending[i];
        let v = match overrides.iter().find(|(n, _)| *n == name.name) {
            Some((_, raw)) if is_param => Ok(parse_override(raw)),
            _ => eval_const(&prog, value, &[]),
        };
        match v {
            Ok(v) => {
                prog.consts.insert(name.name.clone(), v);
            }
            Err(d) => {
                diags.push(d);
                return None;
            }
        }
        done[i] = true;
        for &u in &users[i] {
            waiting[u] -= 1;
            if waiting[u] == 0 {
                ready.insert(u);
            }
        }
    }
    if let Some(i) = done.iter().position(|d| !d) {
        let (name, _, _) = pending[i];
        diags.push(Diagnostic::error("E0504", format!("`{}` is defined in terms of itself", name.name), name.span, "cyclic definition"));
        return None;
    }
    // decisions
    let mut decisions: Vec<DecisionInfo> = Vec::new();
    let mut whens: Vec<Option<WhenGuard>> = Vec::new();
    let mut options = 0usize;
    for item in &spec.items {
        if let Item::Decision(d) = item {
            if let Err(e) = expand_decision(&mut prog, d, &mut decisions, &mut whens, &mut options) {
                diags.push(e);
                // a limit stops the expansion (the next family would only repeat it)
                if e_is_limit(diags.last()) {
                    break;
                }
            }
        }
    }
    if diags.iter().any(|d| d.is_error()) {
        return None;
    }
    // the input and the network, over worlds
    let input_item = spec.items.iter().find_map(|i| if let Item::Input { dims, span } = i { Some((dims, *span)) } else { None });
    let (dims, input_span) = input_item?;
    let mut shape = [0i64; 3];
    for (k, e) in dims.iter().enumerate().take(3) {
        match eval_const(&prog, e, &[]) {
            Ok(Value::Int(i)) if i > 0 => shape[k] = i,
            Ok(v) => {
                diags.push(Diagnostic::error("E0104", format!("an input dimension must be a positive int, found {}", v.type_name()), e.span, "here"));
                return None;
            }
            Err(d) => {
                diags.push(d);
                return None;
            }
        }
    }
    let network = prog.network?;
    Some(Front { prog, decisions, whens, shape, input_span, network, space_name })
}

fn e_is_limit(d: Option<&Diagnostic>) -> bool {
    d.is_some_and(|d| d.code == "E0801")
}

fn to_opt(v: &Value, span: Span) -> Result<OptValue, Diagnostic> {
    Ok(match v {
        Value::Int(i) => OptValue::Int(*i),
        Value::Float(f) => OptValue::Float(*f),
        Value::Str(s) => OptValue::Str(s.to_string()),
        Value::Bool(b) => OptValue::Bool(*b),
        Value::Op(OpRef::Block(b)) => OptValue::Op(b.to_string()),
        Value::Op(OpRef::Builtin(b)) => OptValue::Op(b.to_string()),
        other => return Err(Diagnostic::error("E0104", format!("an option must be a number, a string, a boolean or an op, found {}", other.type_name()), span, "in this domain")),
    })
}

/// Most options of one decision, and most indices of one family dimension.
pub const MAX_DOMAIN: i64 = 100_000;
/// Most decision instances of a space (all families together).
pub const MAX_DECISIONS: usize = 100_000;
/// Most options of all decisions together.
pub const MAX_OPTIONS: usize = 2_000_000;

fn list_of(v: &Value, span: Span) -> Result<Vec<Value>, Diagnostic> {
    match v {
        Value::List(l) => Ok(l.to_vec()),
        Value::Range(a, b) => {
            // `b - a` may not fit an int (`-1..9223372036854775807`)
            if b.checked_sub(*a).is_none_or(|n| n > MAX_DOMAIN) {
                return Err(Diagnostic::error("E0801", format!("the range `{a}..{b}` is too large for a domain (at most {MAX_DOMAIN} values)"), span, "here"));
            }
            Ok((*a..*b).map(Value::Int).collect())
        }
        other => Err(Diagnostic::error("E0104", format!("expected a list or range, found {}", other.type_name()), span, "here")),
    }
}

fn too_many_decisions(d: &Decision) -> Diagnostic {
    Diagnostic::error("E0801", format!("decision family `{}` has too many instances", d.name.name), d.span, "here")
        .with_note(format!("a space has at most {MAX_DECISIONS} decisions"))
}

fn expand_decision(prog: &mut Program, d: &Decision, out: &mut Vec<DecisionInfo>, whens: &mut Vec<Option<WhenGuard>>, options: &mut usize) -> Result<(), Diagnostic> {
    // enumerate index tuples; a dim range may read earlier index variables
    let mut tuples: Vec<Vec<(String, i64)>> = vec![Vec::new()];
    let mut plain: Vec<Vec<i64>> = vec![Vec::new()];
    for dim in &d.dims {
        let mut nt = Vec::new();
        let mut np = Vec::new();
        for (t, p) in tuples.iter().zip(&plain) {
            let r = eval_const(prog, &dim.range, t)?;
            let vals: Vec<i64> = match r {
                // checked before anything is allocated (`d[100000000000]`)
                Value::Int(n) if dim.var.is_none() && n > MAX_DOMAIN => {
                    return Err(Diagnostic::error(
                        "E0801",
                        format!("decision family `{}` has too many instances: a dimension of {n} (at most {MAX_DOMAIN})", d.name.name),
                        dim.range.span,
                        "too many indices",
                    ));
                }
                Value::Int(n) if dim.var.is_none() => (0..n).collect(),
                other => list_of(&other, dim.range.span)?
                    .into_iter()
                    .map(|v| match v {
                        Value::Int(i) => Ok(i),
                        o => Err(Diagnostic::error("E0104", format!("an index must be an int, found {}", o.type_name()), dim.range.span, "here")),
                    })
                    .collect::<Result<_, _>>()?,
            };
            if vals.is_empty() {
                return Err(Diagnostic::error("E0401", format!("decision family `{}` has an empty index range", d.name.name), dim.span, "no indices")
                    .with_help("a family needs at least one index"));
            }
            if nt.len().saturating_add(vals.len()) > MAX_DECISIONS || out.len().saturating_add(nt.len() + vals.len()) > MAX_DECISIONS {
                return Err(too_many_decisions(d));
            }
            for v in vals {
                let mut t2 = t.clone();
                if let Some(var) = &dim.var {
                    t2.push((var.name.clone(), v));
                }
                let mut p2 = p.clone();
                p2.push(v);
                nt.push(t2);
                np.push(p2);
            }
        }
        tuples = nt;
        plain = np;
    }
    let mut fam = Family { ndims: d.dims.len(), instances: Default::default(), span: d.name.span };
    for (t, p) in tuples.iter().zip(&plain) {
        let id = DecisionId(out.len() as u32);
        let name = format!("{}{}", d.name.name, p.iter().map(|i| format!("[{i}]")).collect::<String>());
        let dom = eval_const(prog, &d.domain, t)?;
        let opts: Vec<OptValue> = list_of(&dom, d.domain.span)?.iter().map(|v| to_opt(v, d.domain.span)).collect::<Result<_, _>>()?;
        *options += opts.len();
        if opts.len() as i64 > MAX_DOMAIN || *options > MAX_OPTIONS {
            return Err(Diagnostic::error(
                "E0801",
                format!("too many options: `{name}` has {} (at most {MAX_DOMAIN} per decision and {MAX_OPTIONS} in all)", opts.len()),
                d.domain.span,
                "here",
            ));
        }
        if opts.is_empty() {
            return Err(Diagnostic::error("E0401", format!("empty choice: `{name}` has no options"), d.domain.span, "this domain is empty").with_help("list at least one option"));
        }
        // (hashed: a 100,000-option domain compared pairwise took seconds)
        let mut seen: std::collections::HashSet<(u8, u64, &str)> = std::collections::HashSet::with_capacity(opts.len());
        for o in &opts {
            let key = match o {
                OptValue::Int(i) => (0, *i as u64, ""),
                OptValue::Float(f) if f.is_nan() => continue,
                OptValue::Float(f) => (1, if *f == 0.0 { 0 } else { f.to_bits() }, ""),
                OptValue::Str(s) => (2, 0, s.as_str()),
                OptValue::Op(s) => (3, 0, s.as_str()),
                OptValue::Bool(b) => (4, *b as u64, ""),
            };
            if !seen.insert(key) {
                return Err(Diagnostic::error("E0102", format!("option `{}` appears twice in `{name}`", o.display()), d.domain.span, "duplicate option"));
            }
        }
        let default_idx = match &d.default {
            None => None,
            Some(e) => {
                let v = eval_const(prog, e, t)?;
                let o = to_opt(&v, e.span)?;
                match opts.iter().position(|x| *x == o || (x.as_f64().is_some() && x.as_f64() == o.as_f64())) {
                    Some(i) => Some((i, e.span)),
                    None => {
                        return Err(Diagnostic::error("E0402", format!("default `{}` is not among the options of `{name}`", o.display()), e.span, "not an option")
                            .with_label(d.domain.span, "options declared here")
                            .with_help(format!("options: {}", opts.iter().map(|o| format!("`{}`", o.display())).collect::<Vec<_>>().join(", "))))
                    }
                }
            }
        };
        let kind = match d.kind {
            nasc_grammar::ast::DecisionKind::Choice => DecisionKind::Choice { options: opts, default: default_idx.map_or(0, |x| x.0 as u32) },
            nasc_grammar::ast::DecisionKind::Subset => {
                // members are bits of a u64 whose all-ones value means "absent" in compiled plans
                if opts.len() > 63 {
                    return Err(Diagnostic::error("E0406", format!("the pool of `{name}` has {} members; at most 63 are supported", opts.len()), d.domain.span, "pool too large"));
                }
                let (lo, hi) = match &d.size {
                    None => (0, opts.len() as i64),
                    Some(e) => match eval_const(prog, e, t)? {
                        Value::Int(k) => (k, k),
                        Value::Range(a, b) => (a, b.saturating_sub(1)),
                        other => return Err(Diagnostic::error("E0403", format!("a subset size must be an int or a range, found {}", other.type_name()), e.span, "here")),
                    },
                };
                if lo < 0 || hi < lo || lo > opts.len() as i64 {
                    let sp = d.size.as_ref().map_or(d.span, |e| e.span);
                    return Err(Diagnostic::error("E0403", format!("invalid subset size {lo}..={hi} for a pool of {}", opts.len()), sp, "no subset has this size")
                        .with_help(format!("use a size within 0..={}", opts.len())));
                }
                let hi = hi.min(opts.len() as i64);
                let default = default_idx.map_or(0u64, |(i, _)| 1u64 << i);
                DecisionKind::Subset { pool: opts, min: lo as u32, max: hi as u32, default }
            }
        };
        out.push(DecisionInfo { id, family: d.name.name.clone(), index: p.clone(), name, kind, conditional: d.when.is_some(), span: d.name.span });
        whens.push(d.when.as_ref().map(|e| WhenGuard { expr: e.clone(), bindings: t.clone() }));
        fam.instances.insert(p.clone(), id);
    }
    prog.families.insert(d.name.name.clone(), fam);
    Ok(())
}

/// Runs the network of single candidates (trace mode) to get their graphs.
pub struct Tracer<'s> {
    front: Option<Front<'s>>,
}

impl<'s> Tracer<'s> {
    pub fn new(spec: &'s Spec, overrides: &[(String, String)]) -> Self {
        let mut diags = Vec::new();
        Tracer { front: front(spec, overrides, "", &mut diags).filter(|_| !diags.iter().any(|d| d.is_error())) }
    }

    /// The network graph of candidate `c` (which must be valid).
    pub fn trace(&self, c: &Candidate) -> Result<NetGraph, TraceError> {
        let f = self.front.as_ref().ok_or(TraceError::NotCompiled)?;
        if c.0.len() != f.decisions.len() {
            return Err(TraceError::Length { expected: f.decisions.len(), found: c.0.len() });
        }
        let mut interp = Interp::new(&f.prog, &f.decisions, &f.whens);
        interp.trace = Some(Vec::new());
        let mut w0 = World::default();
        for (i, slot) in c.0.iter().enumerate() {
            let d = DecisionId(i as u32);
            match slot {
                Slot::Absent => w0.ctx.add(Lit::Absent(d)),
                Slot::Opt(v) => w0.ctx.add(Lit::Is(d, *v)),
                Slot::Members(m) => {
                    if f.decisions[i].conditional {
                        w0.ctx.add(Lit::Present(d));
                    }
                    for j in 0..f.decisions[i].arity() {
                        w0.ctx.add(Lit::Member(d, j as u32, m >> j & 1 == 1));
                    }
                }
            }
        }
        let input = interp.input_tensor(f.shape[0], f.shape[1], f.shape[2], f.input_span);
        let mut f0 = Frame::default();
        f0.push("input", input);
        w0.push_frame(f0);
        let outs = interp.exec_body_multi(f.network, vec![w0]).map_err(TraceError::Eval)?;
        let nodes = interp.trace.take().unwrap_or_default();
        let scopes = std::mem::take(&mut interp.scopes);
        match outs.as_slice() {
            [(_, Some(Value::Tensor(t)))] => Ok(NetGraph { nodes, output: t.node, scopes }),
            [(_, _)] => Err(TraceError::NotATensor),
            _ => Err(TraceError::Unfixed),
        }
    }
}

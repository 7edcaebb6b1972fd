//! Expression evaluation and statement execution in one world (the world-set driver is in
//! `driver.rs`).
use super::trace::tensor_nodes;
use super::value::{OpRef, Value};
use super::world::{Frame, World};
use super::{Interp, Interrupt, MAX_CALL_DEPTH, R};
use crate::decision::DecisionKind;
use crate::deps::Lit;
use crate::ids::DecisionId;
use nasc_grammar::ast::{Arg, BinOp, Body, Expr, ExprKind, Span, Stmt, UnOp};
use nasc_grammar::diag::{did_you_mean, Diagnostic};
use std::rc::Rc;

fn err<T>(code: &'static str, msg: impl Into<String>, span: Span, label: impl Into<String>) -> R<T> {
    Err(Interrupt::Error(Diagnostic::error(code, msg, span, label)))
}

fn type_err<T>(what: &str, v: &Value, span: Span) -> R<T> {
    err("E0104", format!("expected {what}, found {}", v.type_name()), span, format!("this is {}", v.a_type_name()))
}

fn overflow(span: Span) -> Interrupt {
    Interrupt::Error(Diagnostic::error("E0801", "integer overflow", span, "this overflows a 64-bit integer"))
}

/// Elements of an iterable: (guard, value).
type Items = Vec<(Option<Lit>, Value)>;

impl<'a> Interp<'a> {
    // ---------------------------------------------------------------- expressions

    pub fn eval(&mut self, w: &mut World, e: &Expr) -> R<Value> {
        self.step(e.span)?;
        match &e.kind {
            ExprKind::Int(i) => Ok(Value::Int(*i)),
            ExprKind::Float(f) => Ok(Value::Float(*f)),
            ExprKind::Str(s) => Ok(Value::Str(Rc::from(s.as_str()))),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Name(n) => self.lookup(w, n, e.span, false),
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(self.eval(w, it)?);
                }
                Ok(Value::List(Rc::new(out)))
            }
            ExprKind::Comprehension { body, var, iter, cond } => {
                let it = self.eval(w, iter)?;
                let items = self.items(w, &it, iter.span)?;
                let mut out: Vec<(Option<Lit>, Value)> = Vec::new();
                for (g, v) in items {
                    let saved = w.guards.clone();
                    if let Some(l) = g {
                        w.guards.add(l);
                    }
                    {
                        let n = self.name(&var.name);
                        w.frame().push_name(n, v);
                    }
                    let keep = match cond {
                        Some(c) => self.truthy(w, c)?,
                        None => true,
                    };
                    let r = if keep { Some(self.eval(w, body)?) } else { None };
                    w.frame().vars.pop();
                    w.guards = saved;
                    if let Some(r) = r {
                        if out.len() >= BIG_LIST {
                            self.charge(if out.len() == BIG_LIST { BIG_LIST as u64 + 1 } else { 1 }, e.span)?;
                        }
                        out.push((g, r));
                    }
                }
                Ok(cond_or_plain(out))
            }
            ExprKind::Range { lo, hi, inclusive } => {
                let a = self.int(w, lo)?;
                let b = self.int(w, hi)?;
                let b = if *inclusive { b.checked_add(1).ok_or_else(|| overflow(hi.span))? } else { b };
                range_len(a, b, e.span)?;
                Ok(Value::Range(a, b))
            }
            ExprKind::Index { base, index } => {
                let b = self.eval(w, base)?;
                let i = self.int(w, index)?;
                self.index(w, b, i, base.span, e.span, false)
            }
            ExprKind::Field { base, field } => {
                let b = self.eval(w, base)?;
                match (&b, field.name.as_str()) {
                    (Value::Tensor(t), "c") => Ok(Value::Int(t.c)),
                    (Value::Tensor(t), "h") => Ok(Value::Int(t.h)),
                    (Value::Tensor(t), "w") => Ok(Value::Int(t.w)),
                    (Value::Tensor(_), f) => err("E0101", format!("a tensor has no field `{f}`"), field.span, "expected `c`, `h` or `w`"),
                    _ => type_err("a tensor", &b, base.span),
                }
            }
            ExprKind::Call { callee, args } => {
                let f = self.eval(w, callee)?;
                let lazy = matches!(f, Value::Op(OpRef::Block(_)));
                let args = self.args(w, args, lazy)?;
                self.call_traced(w, callee, f, args, e.span)
            }
            ExprKind::Pipe { input, func } => {
                let x = self.eval(w, input)?;
                let (f, callee, mut args) = match &func.kind {
                    ExprKind::Call { callee, args } => {
                        let f = self.eval(w, callee)?;
                        let lazy = matches!(f, Value::Op(OpRef::Block(_)));
                        (f, &**callee, self.args(w, args, lazy)?)
                    }
                    _ => (self.eval(w, func)?, &**func, Vec::new()),
                };
                args.insert(0, (None, x, input.span));
                self.call_traced(w, callee, f, args, e.span)
            }
            ExprKind::Unary { op, operand } => {
                let v = self.eval(w, operand)?;
                match (op, v) {
                    (UnOp::Neg, Value::Int(i)) => Ok(Value::Int(i.checked_neg().ok_or_else(|| overflow(e.span))?)),
                    (UnOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
                    (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                    (UnOp::Neg, v) => type_err("a number", &v, operand.span),
                    (UnOp::Not, v) => type_err("a bool", &v, operand.span),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(w, *op, lhs, rhs, e.span),
            ExprKind::IfElse { cond, then, els } => {
                if self.truthy(w, cond)? {
                    self.eval(w, then)
                } else {
                    self.eval(w, els)
                }
            }
        }
    }

    /// Evaluate call arguments; `lazy`: a block's, where an argument that is a decision is
    /// bound unread (`eval_lazy`).
    pub(super) fn args(&mut self, w: &mut World, args: &[Arg], lazy: bool) -> R<super::builtins::Args> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            let v = if lazy { self.eval_lazy(w, &a.value)? } else { self.eval(w, &a.value)? };
            out.push((a.name.as_ref().map(|n| (n.name.clone(), n.span)), v, a.value.span));
        }
        Ok(out)
    }

    /// The value of an expression about to be bound to a variable: like `eval`, except that
    /// an unfixed choice decision (`k`, `k[l]`, a variable holding one, or either branch of an
    /// `if` whose condition is known) stays unread as `Value::Lazy`. The world then forks
    /// where the variable is used rather than where it is bound, and worlds that bound it
    /// but never used it can merge again. Conditional decisions are read at once (reading
    /// one where it may not exist is an error at the binding).
    pub(crate) fn eval_lazy(&mut self, w: &mut World, e: &Expr) -> R<Value> {
        match &e.kind {
            ExprKind::Name(n) => {
                self.step(e.span)?;
                self.lookup(w, n, e.span, true)
            }
            ExprKind::Index { base, index } => {
                self.step(e.span)?;
                let b = self.eval(w, base)?;
                let i = self.int(w, index)?;
                self.index(w, b, i, base.span, e.span, true)
            }
            ExprKind::IfElse { cond, then, els } => {
                self.step(e.span)?;
                if self.truthy(w, cond)? {
                    self.eval_lazy(w, then)
                } else {
                    self.eval_lazy(w, els)
                }
            }
            _ => self.eval(w, e),
        }
    }

    /// Decision `d` unread (`Value::Lazy`) when it is an unconditional choice this world does
    /// not fix; otherwise its value (or a fork).
    fn lazy_decision(&mut self, w: &mut World, d: DecisionId, span: Span) -> R<Value> {
        let lazy = !self.eager
            && self
                .decisions
                .get(d.index())
                .is_some_and(|info| !info.conditional && matches!(info.kind, DecisionKind::Choice { .. }) && !w.ctx.iter().any(|l| matches!(*l, Lit::Is(x, _) if x == d)));
        if lazy {
            Ok(Value::Lazy(d))
        } else {
            self.decision_value(w, d, span)
        }
    }

    pub(crate) fn truthy(&mut self, w: &mut World, e: &Expr) -> R<bool> {
        match self.eval(w, e)? {
            Value::Bool(b) => Ok(b),
            v => type_err("a bool", &v, e.span),
        }
    }

    pub(crate) fn int(&mut self, w: &mut World, e: &Expr) -> R<i64> {
        match self.eval(w, e)? {
            Value::Int(i) => Ok(i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(f as i64),
            v => type_err("an int", &v, e.span),
        }
    }

    /// The value of a name; `lazy`: a decision it names or holds stays unread where it can
    /// (`eval_lazy`).
    fn lookup(&mut self, w: &mut World, name: &str, span: Span, lazy: bool) -> R<Value> {
        if let Some(v) = w.lookup(name) {
            if let (Value::Lazy(d), false) = (v, lazy) {
                let d = *d;
                return self.decision_value(w, d, span);
            }
            return Ok(v.clone());
        }
        if let Some(v) = self.prog.consts.get(name) {
            return Ok(v.clone());
        }
        if self.prog.blocks.contains_key(name) {
            return Ok(Value::Op(OpRef::Block(self.name(name))));
        }
        if let Some(b) = super::builtins::builtin_op(name) {
            return Ok(Value::Op(b));
        }
        if let Some(f) = self.prog.families.get(name) {
            if f.ndims == 0 {
                let d = f.instances.get(&Vec::new()).copied();
                if let Some(d) = d {
                    return if lazy { self.lazy_decision(w, d, span) } else { self.decision_value(w, d, span) };
                }
            }
            return Ok(Value::Family(self.name(name), Vec::new()));
        }
        let mut candidates: Vec<&str> = w.frames.last().map(|f| f.vars.iter().map(|(n, _)| &**n).collect()).unwrap_or_default();
        candidates.extend(self.prog.consts.keys().map(|s| s.as_str()));
        candidates.extend(self.prog.blocks.keys().map(|s| s.as_str()));
        candidates.extend(self.prog.families.keys().map(|s| s.as_str()));
        candidates.extend(super::builtins::TENSOR_OPS.iter().copied());
        let mut d = Diagnostic::error("E0101", format!("unknown name `{name}`"), span, "not found in this scope");
        if let Some(m) = did_you_mean(name, candidates) {
            d = d.with_help(format!("did you mean `{m}`?"));
        }
        Err(Interrupt::Error(d))
    }

    /// `b[i]`; `lazy`: a decision it names stays unread where it can (`eval_lazy`).
    fn index(&mut self, w: &mut World, b: Value, i: i64, bspan: Span, span: Span, lazy: bool) -> R<Value> {
        match b {
            Value::List(l) => {
                let n = l.len() as i64;
                let j = if i < 0 { i + n } else { i };
                if j < 0 || j >= n {
                    return err("E0405", format!("index {i} out of range for a list of {n}"), span, "out of range");
                }
                Ok(l[j as usize].clone())
            }
            Value::Range(lo, hi) => {
                if i < 0 || lo.checked_add(i).is_none_or(|x| x >= hi) {
                    return err("E0405", format!("index {i} out of range"), span, "out of range");
                }
                Ok(Value::Int(lo + i))
            }
            Value::Family(name, mut idx) => {
                idx.push(i);
                let fam = &self.prog.families[&*name];
                if idx.len() < fam.ndims {
                    return Ok(Value::Family(name, idx));
                }
                match fam.instances.get(&idx).copied() {
                    Some(d) if lazy => self.lazy_decision(w, d, span),
                    Some(d) => self.decision_value(w, d, span),
                    None => err("E0405", format!("`{}{}` is not a decision of this space", name, idx.iter().map(|i| format!("[{i}]")).collect::<String>()), span, "no such index"),
                }
            }
            other => type_err("a list or a decision family", &other, bspan),
        }
    }

    /// Iterate a list, range or subset.
    pub(crate) fn items(&mut self, w: &World, v: &Value, span: Span) -> R<Items> {
        match v {
            Value::List(l) => Ok(l.iter().map(|x| (None, x.clone())).collect()),
            Value::Range(a, b) => {
                let n = range_len(*a, *b, span)?;
                if n > 10_000_000 {
                    return err("E0801", format!("range too large to iterate: {n} elements (at most 10000000)"), span, "here");
                }
                self.charge_big(n as u64, span)?;
                Ok((*a..*b).map(|i| (None, Value::Int(i))).collect())
            }
            Value::CondList(l) => Ok({
                self.read_world();
                l.iter()
                    .filter(|(g, _)| !w.ctx.iter().any(|c| matches!((c, g), (Lit::Member(d, j, false), Some(Lit::Member(e, k, _))) if d == e && j == k)))
                    .map(|(g, x)| (*g, x.clone()))
                    .collect()
            }),
            other => type_err("a list, range or subset", other, span),
        }
    }

    fn binary(&mut self, w: &mut World, op: BinOp, lhs: &Expr, rhs: &Expr, span: Span) -> R<Value> {
        if matches!(op, BinOp::And | BinOp::Or) {
            let a = self.truthy(w, lhs)?;
            if (op == BinOp::And && !a) || (op == BinOp::Or && a) {
                return Ok(Value::Bool(a));
            }
            return Ok(Value::Bool(self.truthy(w, rhs)?));
        }
        let a = self.eval(w, lhs)?;
        let b = self.eval(w, rhs)?;
        if op == BinOp::In {
            return self.member(w, &a, &b, rhs.span);
        }
        use Value::*;
        match (op, &a, &b) {
            (BinOp::Add, Tensor(_) | Zero, Tensor(_) | Zero) => {
                let args = vec![(None, a, lhs.span), (None, b, rhs.span)];
                self.path.push(rhs.span.start as u32);
                let r = self.call_builtin(w, "add", args, span);
                self.path.pop();
                r
            }
            (BinOp::Mul, Tensor(_) | Zero, Tensor(_) | Zero) => {
                self.path.push(rhs.span.start as u32);
                let r = self.mul_op(w, &a, &b, (lhs.span, rhs.span), span);
                self.path.pop();
                r
            }
            (BinOp::Add, List(x), List(y)) => {
                self.charge_big((x.len() + y.len()) as u64, span)?;
                Ok(List(Rc::new(x.iter().chain(y.iter()).cloned().collect())))
            }
            (BinOp::Add, a @ (List(_) | CondList(_)), b @ (List(_) | CondList(_))) => {
                let part = |v: &Value| -> Vec<(Option<Lit>, Value)> {
                    match v {
                        List(l) => l.iter().map(|x| (None, x.clone())).collect(),
                        CondList(l) => l.to_vec(),
                        _ => Vec::new(),
                    }
                };
                let n = |v: &Value| match v {
                    List(l) => l.len(),
                    CondList(l) => l.len(),
                    _ => 0,
                };
                self.charge_big((n(a) + n(b)) as u64, span)?;
                Ok(cond_or_plain([part(a), part(b)].concat()))
            }
            (BinOp::Add, Str(x), Str(y)) => Ok(Str(Rc::from(format!("{x}{y}").as_str()))),
            (BinOp::Eq | BinOp::Ne, Str(_) | Op(_) | Bool(_), _) | (BinOp::Eq | BinOp::Ne, _, Str(_) | Op(_) | Bool(_)) => {
                let eq = a.same(&b);
                Ok(Bool(if op == BinOp::Eq { eq } else { !eq }))
            }
            (_, Int(x), Int(y)) => {
                let (x, y) = (*x, *y);
                Ok(match op {
                    BinOp::Add => Int(x.checked_add(y).ok_or_else(|| overflow(span))?),
                    BinOp::Sub => Int(x.checked_sub(y).ok_or_else(|| overflow(span))?),
                    BinOp::Mul => Int(x.checked_mul(y).ok_or_else(|| overflow(span))?),
                    BinOp::Div => {
                        if y == 0 {
                            return err("E0801", "division by zero", span, "the divisor is 0");
                        }
                        Float(x as f64 / y as f64)
                    }
                    BinOp::IntDiv | BinOp::Mod => {
                        if y == 0 {
                            return err("E0801", "division by zero", span, "the divisor is 0");
                        }
                        if op == BinOp::IntDiv {
                            Int(x.checked_div_euclid(y).ok_or_else(|| overflow(span))?)
                        } else {
                            Int(x.checked_rem_euclid(y).ok_or_else(|| overflow(span))?)
                        }
                    }
                    BinOp::Pow => {
                        if y < 0 {
                            Float((x as f64).powf(y as f64))
                        } else {
                            Int(u32::try_from(y).ok().and_then(|e| x.checked_pow(e)).ok_or_else(|| overflow(span))?)
                        }
                    }
                    BinOp::Eq => Bool(x == y),
                    BinOp::Ne => Bool(x != y),
                    BinOp::Lt => Bool(x < y),
                    BinOp::Le => Bool(x <= y),
                    BinOp::Gt => Bool(x > y),
                    BinOp::Ge => Bool(x >= y),
                    _ => return type_err("bools", &a, lhs.span),
                })
            }
            (_, Int(_) | Float(_), Int(_) | Float(_)) => {
                let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
                Ok(match op {
                    BinOp::Add => Float(x + y),
                    BinOp::Sub => Float(x - y),
                    BinOp::Mul => Float(x * y),
                    BinOp::Div => {
                        if y == 0.0 {
                            return err("E0801", "division by zero", span, "the divisor is 0");
                        }
                        Float(x / y)
                    }
                    BinOp::IntDiv => {
                        if y == 0.0 {
                            return err("E0801", "division by zero", span, "the divisor is 0");
                        }
                        Float((x / y).floor())
                    }
                    BinOp::Mod => {
                        if y == 0.0 {
                            return err("E0801", "division by zero", span, "the divisor is 0");
                        }
                        Float(x.rem_euclid(y))
                    }
                    BinOp::Pow => Float(x.powf(y)),
                    BinOp::Eq => Bool(x == y),
                    BinOp::Ne => Bool(x != y),
                    BinOp::Lt => Bool(x < y),
                    BinOp::Le => Bool(x <= y),
                    BinOp::Gt => Bool(x > y),
                    BinOp::Ge => Bool(x >= y),
                    _ => return type_err("bools", &a, lhs.span),
                })
            }
            (BinOp::Add, Tensor(_), _) | (BinOp::Add, _, Tensor(_)) => err("E0104", format!("cannot add {} and {}", a.a_type_name(), b.a_type_name()), span, "mismatched operands"),
            (BinOp::Mul, Tensor(_), _) | (BinOp::Mul, _, Tensor(_)) => {
                err("E0104", format!("cannot multiply {} and {}", a.a_type_name(), b.a_type_name()), span, "`*` on tensors needs two tensors")
            }
            _ => {
                let bad = if a.as_f64().is_none() { (&a, lhs.span) } else { (&b, rhs.span) };
                type_err("a number", bad.0, bad.1)
            }
        }
    }

    fn member(&mut self, w: &mut World, x: &Value, coll: &Value, span: Span) -> R<Value> {
        match coll {
            Value::List(l) => Ok(Value::Bool(l.iter().any(|y| y.same(x)))),
            Value::Range(a, b) => match x {
                Value::Int(i) => Ok(Value::Bool(i >= a && i < b)),
                _ => Ok(Value::Bool(false)),
            },
            Value::CondList(l) => {
                self.read_world();
                for (g, y) in l.iter() {
                    if y.same(x) {
                        match *g {
                            None => return Ok(Value::Bool(true)),
                            Some(Lit::Member(d, j, _)) => {
                                // a guard is a fact inside the code it guards (`for i in subset`)
                                if w.ctx.iter().chain(w.guards.iter()).any(|c| *c == Lit::Member(d, j, true)) {
                                    return Ok(Value::Bool(true));
                                }
                                if w.ctx.iter().any(|c| *c == Lit::Member(d, j, false)) {
                                    continue;
                                }
                                return Err(Interrupt::ForkMember(d, j));
                            }
                            Some(_) => {}
                        }
                    }
                }
                Ok(Value::Bool(false))
            }
            other => type_err("a list, range or subset", other, span),
        }
    }

    // ---------------------------------------------------------------- calls

    pub(crate) fn call(&mut self, w: &mut World, f: Value, args: super::builtins::Args, fspan: Span, span: Span) -> R<Value> {
        match f {
            Value::Op(OpRef::Builtin(name)) => {
                // builtins that materialize a range (`min`, `max`) are charged for it first
                for (_, v, s) in &args {
                    if let Value::Range(a, b) = v {
                        let n = range_len(*a, *b, *s)?;
                        if matches!(name, "min" | "max") {
                            self.charge(n as u64, *s)?;
                        }
                    }
                }
                // the callee's position identifies the call site (nested pipes share their start)
                self.path.push(fspan.start as u32);
                let r = self.call_builtin(w, name, args, span);
                self.path.pop();
                if let Ok(Value::Range(a, b)) = &r {
                    range_len(*a, *b, span)?;
                }
                r
            }
            Value::Op(OpRef::Block(name)) => {
                let Some(def) = self.prog.blocks.get(&*name).copied() else {
                    return err("E0101", format!("unknown block `{name}`"), fspan, "not found");
                };
                if self.depth >= MAX_CALL_DEPTH {
                    return err("E0802", format!("blocks nest deeper than {MAX_CALL_DEPTH} calls (is `{name}` recursive?)"), span, "in this call");
                }
                let site = fspan.start as u32;
                if let Some(v) = self.memo_replay(w, &name, site, &args) {
                    self.check_size(span)?;
                    return Ok(v);
                }
                let rec = self.memo_begin(w, &name, &args);
                let key_args = if rec.is_some() { Some(args.clone()) } else { None };
                let r = self.call_block(w, def, &name, args, fspan, span);
                if let (Some(rec), Some(a)) = (rec, key_args) {
                    self.memo_end(rec, &name, &a, r.as_ref().ok());
                }
                r
            }
            other => err("E0106", format!("a {} is not callable", other.type_name()), fspan, "not an op or block"),
        }
    }

    /// Run a block's body in a new frame, in world `w`.
    fn call_block(&mut self, w: &mut World, def: &nasc_grammar::ast::BlockDef, name: &str, args: super::builtins::Args, fspan: Span, span: Span) -> R<Value> {
        let inputs = tensor_nodes(&args);
        let first = self.trace_len();
        let frame = self.bind_params(w, def, name, args, span)?;
        self.depth += 1;
        self.path.push(fspan.start as u32);
        w.push_frame(frame);
        let r = self.exec_body_single(w, &def.body);
        w.frames.pop();
        self.path.pop();
        self.depth -= 1;
        match r? {
            Some(v) => {
                self.record_block(name, inputs, first, &v);
                Ok(v)
            }
            None => err("E0104", format!("block `{name}` returns nothing"), def.span, "add `return EXPR;` at the end"),
        }
    }

    pub(super) fn bind_params(&mut self, w: &mut World, def: &nasc_grammar::ast::BlockDef, name: &str, args: super::builtins::Args, span: Span) -> R<Frame> {
        let mut frame = Frame::default();
        let mut given: Vec<Option<Value>> = vec![None; def.params.len()];
        let mut pos = 0;
        for (kw, v, s) in args {
            match kw {
                None => {
                    if pos >= def.params.len() {
                        return Err(Interrupt::Error(
                            Diagnostic::error("E0103", format!("too many arguments to `{name}`: it takes {}", def.params.len()), s, "unexpected argument")
                                .with_label(def.name.span, "defined here"),
                        ));
                    }
                    given[pos] = Some(v);
                    pos += 1;
                }
                Some((k, ks)) => match def.params.iter().position(|p| p.name.name == k) {
                    Some(i) => given[i] = Some(v),
                    None => {
                        let mut d =
                            Diagnostic::error("E0105", format!("`{name}` has no parameter `{k}`"), ks, "unknown keyword argument").with_label(def.name.span, "defined here");
                        if let Some(m) = did_you_mean(&k, def.params.iter().map(|p| p.name.name.as_str())) {
                            d = d.with_help(format!("did you mean `{m}`?"));
                        }
                        return Err(Interrupt::Error(d));
                    }
                },
            }
        }
        for (p, g) in def.params.iter().zip(given) {
            let v = match g {
                Some(v) => v,
                None => match &p.default {
                    Some(e) => self.eval(w, e)?,
                    None => {
                        return Err(Interrupt::Error(
                            Diagnostic::error("E0103", format!("missing argument `{}` to `{name}`", p.name.name), span, "in this call")
                                .with_label(p.name.span, "parameter declared here"),
                        ))
                    }
                },
            };
            frame.push_name(self.name(&p.name.name), v);
        }
        Ok(frame)
    }

    // ---------------------------------------------------------------- statements, one world

    pub(crate) fn exec_body_single(&mut self, w: &mut World, body: &Body) -> R<Option<Value>> {
        for i in self.order(&body.stmts) {
            self.exec_stmt_single(w, &body.stmts[i])?;
        }
        match &body.ret {
            Some(e) => Ok(Some(self.eval(w, e)?)),
            None => Ok(None),
        }
    }

    /// Statement order: `node` statements run together, in dependency order, at the first one.
    pub(crate) fn order(&mut self, stmts: &[Stmt]) -> Vec<usize> {
        let key = stmts.as_ptr() as usize;
        if let Some(o) = self.node_orders.get(&key) {
            return o.clone();
        }
        let o = crate::check::stmt_order(stmts);
        self.node_orders.insert(key, o.clone());
        o
    }

    fn exec_stmts_single(&mut self, w: &mut World, stmts: &[Stmt]) -> R<()> {
        let mark = w.frame().vars.len();
        for i in self.order(stmts) {
            self.exec_stmt_single(w, &stmts[i])?;
        }
        w.frame().vars.truncate(mark);
        Ok(())
    }

    fn exec_stmt_single(&mut self, w: &mut World, s: &Stmt) -> R<()> {
        match s {
            Stmt::Let { .. } | Stmt::Assign { .. } | Stmt::Node { .. } => self.exec_simple(w, s),
            Stmt::For { var, iter, body, span } => {
                let it = self.eval(w, iter)?;
                let items = self.items(w, &it, iter.span)?;
                let fork_members = super::driver::assigns(body);
                for (k, (g, v)) in items.into_iter().enumerate() {
                    // a body that assigns runs in the worlds where the member is in (see the
                    // world-set driver's `for`), not under a guard
                    let g = match g {
                        Some(Lit::Member(d, j, true)) if fork_members => {
                            self.read_world();
                            let has = |b: bool| w.ctx.iter().chain(w.guards.iter()).any(|c| *c == Lit::Member(d, j, b));
                            if has(true) {
                                None
                            } else if has(false) {
                                continue;
                            } else {
                                return Err(Interrupt::ForkMember(d, j));
                            }
                        }
                        g => g,
                    };
                    let saved = w.guards.clone();
                    if let Some(l) = g {
                        w.guards.add(l);
                    }
                    self.path.push(span.start as u32);
                    self.path.push(k as u32);
                    {
                        let n = self.name(&var.name);
                        w.frame().push_name(n, v);
                    }
                    let r = self.exec_stmts_single(w, body);
                    w.frame().vars.pop();
                    self.path.truncate(self.path.len() - 2);
                    w.guards = saved;
                    r?;
                }
                Ok(())
            }
            Stmt::If { cond, then, els, .. } => {
                if self.truthy(w, cond)? {
                    self.exec_stmts_single(w, then)
                } else {
                    self.exec_stmts_single(w, els)
                }
            }
        }
    }

    pub(super) fn exec_simple(&mut self, w: &mut World, s: &Stmt) -> R<()> {
        match s {
            Stmt::Let { name, value, .. } | Stmt::Node { name, value, .. } => {
                let v = self.eval_lazy(w, value)?;
                {
                    let n = self.name(&name.name);
                    w.frame().push_name(n, v);
                }
                Ok(())
            }
            Stmt::Assign { name, value, span } => {
                let v = self.eval_lazy(w, value)?;
                if !w.frame().set(&name.name, v) {
                    return err("E0101", format!("cannot assign to `{}`: no such local", name.name), *span, "not declared").map_err(|e| match e {
                        Interrupt::Error(d) => Interrupt::Error(d.with_help(format!("declare it first with `let {} = ...;`", name.name))),
                        other => other,
                    });
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// A list whose elements may carry guards: a plain list when none does.
fn cond_or_plain(items: Vec<(Option<Lit>, Value)>) -> Value {
    if items.iter().any(|(g, _)| g.is_some()) {
        Value::CondList(Rc::new(items))
    } else {
        Value::List(Rc::new(items.into_iter().map(|(_, v)| v).collect()))
    }
}

/// The number of elements of `a..b` (0 when `b <= a`); an error where it does not fit an int.
pub(crate) fn range_len(a: i64, b: i64, span: Span) -> R<i64> {
    match b.checked_sub(a) {
        Some(n) => Ok(n.max(0)),
        None => err("E0801", format!("the range `{a}..{b}` has more elements than an int can count"), span, "range too large"),
    }
}

/// Lists shorter than this are not charged to the work budget (a spec's lists of ops and
/// widths, built in every world, are short; the bombs are long lists).
const BIG_LIST: usize = 1024;

impl Interp<'_> {
    /// Charge a list of `n` elements when it is a long one.
    fn charge_big(&mut self, n: u64, span: Span) -> R<()> {
        if n >= BIG_LIST as u64 {
            self.charge(n, span)?;
        }
        Ok(())
    }
}

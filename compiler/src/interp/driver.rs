//! The world-set driver: statements run over a set of worlds, split where a statement needs a
//! decision a world does not fix and merged again after every statement.
use super::trace::tensor_nodes;
use super::value::Value;
use super::world::{merge_worlds, Frame, World};
use super::{Interp, Interrupt, MAX_CALL_DEPTH, MAX_WORLDS, R};
use crate::decision::WhenGuard;
use crate::deps::Lit;
use nasc_grammar::ast::{Arg, Body, Expr, ExprKind, Span, Stmt};
use nasc_grammar::diag::Diagnostic;

impl Interp<'_> {
    /// `x = block(args)` / `x = a |> block(args)` at statement level: run the block's body with
    /// the world-set driver, so worlds split inside it merge again after each of its statements.
    fn inline_call(&mut self, s: &Stmt, name: &nasc_grammar::ast::Ident, value: &Expr, worlds: &[World]) -> Result<Option<Vec<World>>, Diagnostic> {
        let (callee, args, piped): (&Expr, &[Arg], Option<&Expr>) = match &value.kind {
            ExprKind::Call { callee, args } => (callee, args, None),
            ExprKind::Pipe { input, func } => match &func.kind {
                ExprKind::Call { callee, args } => (callee, args, Some(&**input)),
                _ => (&**func, &[][..], Some(&**input)),
            },
            _ => return Ok(None),
        };
        let ExprKind::Name(bname) = &callee.kind else { return Ok(None) };
        let Some(def) = self.prog.blocks.get(bname.as_str()).copied() else { return Ok(None) };
        if worlds.iter().any(|w| w.lookup(bname).is_some()) || self.depth >= MAX_CALL_DEPTH {
            return Ok(None);
        }
        // evaluate the arguments and bind the block's frame in every world
        let first = self.trace_len();
        let mut inputs = Vec::new();
        let mut bind = |this: &mut Self, w: &mut World| -> R<()> {
            let mut vals = this.args(w, args, true)?;
            if let Some(p) = piped {
                let x = this.eval(w, p)?;
                vals.insert(0, (None, x, p.span));
            }
            inputs = tensor_nodes(&vals);
            let frame = this.bind_params(w, def, bname, vals, value.span)?;
            w.push_frame(frame);
            Ok(())
        };
        let bound: Vec<World> = self.attempt_all(worlds.to_vec(), &mut bind)?.into_iter().map(|(w, _)| w).collect();
        self.depth += 1;
        self.path.push(callee.span.start as u32);
        let res = self.exec_body_multi(&def.body, bound);
        self.path.pop();
        self.depth -= 1;
        let mut out = Vec::new();
        for (mut w, v) in res? {
            w.frames.pop();
            let Some(v) = v else {
                return Err(Diagnostic::error("E0104", format!("block `{bname}` returns nothing"), def.span, "add `return EXPR;` at the end"));
            };
            self.record_block(bname, inputs.clone(), first, &v);
            match s {
                Stmt::Assign { span, .. } => {
                    if !w.frame().set(&name.name, v) {
                        return Err(Diagnostic::error("E0101", format!("cannot assign to `{}`: no such local", name.name), *span, "not declared"));
                    }
                }
                _ => {
                    let n = self.name(&name.name);
                    w.frame().push_name(n, v)
                }
            }
            out.push(w);
        }
        Ok(Some(merge_worlds(out, self)))
    }

    /// Run `f` in every world, splitting a world whenever `f` needs a decision it does not fix.
    pub(crate) fn attempt_all<T>(&mut self, worlds: Vec<World>, f: &mut dyn FnMut(&mut Self, &mut World) -> R<T>) -> Result<Vec<(World, T)>, Diagnostic> {
        let mut out = Vec::new();
        let mut stack: Vec<World> = worlds.into_iter().rev().collect();
        while let Some(mut w) = stack.pop() {
            // `f` changes only the world's frames and guards (never its ctx). An attempt that
            // needs a decision is undone by truncation: `f` pushes frames and variables, and
            // sets a variable only once nothing can interrupt it (a snapshot of the frames
            // would make the next push copy the innermost frame: quadratic in its variables)
            let nframes = w.frames.len();
            let nvars = w.frames.last().map_or(0, |f| f.vars.len());
            let guards = w.guards.clone();
            let mark = self.terms.len();
            let path_mark = self.path.len();
            let depth = self.depth;
            match f(self, &mut w) {
                Ok(t) => out.push((w, t)),
                Err(Interrupt::Error(d)) => return Err(d),
                Err(fork) => {
                    self.terms.truncate(mark);
                    self.path.truncate(path_mark);
                    self.depth = depth;
                    w.frames.truncate(nframes);
                    if w.frames.last().is_some_and(|f| f.vars.len() > nvars) {
                        w.frame().vars.truncate(nvars);
                    }
                    w.guards = guards;
                    let children = self.split(w, fork)?;
                    for c in children.into_iter().rev() {
                        stack.push(c);
                    }
                    if stack.len() + out.len() > MAX_WORLDS {
                        return Err(too_many_worlds(Span::default()));
                    }
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn eval_when(&mut self, worlds: Vec<World>, g: &WhenGuard) -> Result<Vec<(World, bool)>, Diagnostic> {
        let mut f = |this: &mut Self, w: &mut World| {
            let mut frame = Frame::default();
            for (n, v) in &g.bindings {
                frame.push(n, Value::Int(*v));
            }
            w.push_frame(frame);
            let r = this.truthy(w, &g.expr);
            w.frames.pop();
            r
        };
        self.attempt_all(worlds, &mut f)
    }

    /// Execute statements over a set of worlds; worlds are split where needed and merged
    /// back after every statement.
    pub fn exec_stmts_multi(&mut self, stmts: &[Stmt], worlds: Vec<World>) -> Result<Vec<World>, Diagnostic> {
        self.exec_stmts_multi_scoped(stmts, worlds, true)
    }

    /// Run a body's statements over worlds, then its return expression in each world.
    pub fn exec_body_multi(&mut self, body: &Body, worlds: Vec<World>) -> Result<Vec<(World, Option<Value>)>, Diagnostic> {
        let worlds = self.exec_stmts_multi_scoped(&body.stmts, worlds, false)?;
        match &body.ret {
            None => Ok(worlds.into_iter().map(|w| (w, None)).collect()),
            Some(e) => {
                let mut f = |this: &mut Self, w: &mut World| this.eval(w, e).map(Some);
                self.attempt_all(worlds, &mut f)
            }
        }
    }

    fn exec_stmts_multi_scoped(&mut self, stmts: &[Stmt], worlds: Vec<World>, scoped: bool) -> Result<Vec<World>, Diagnostic> {
        let marks: Vec<usize> = worlds.iter().map(|w| w.frames.last().map_or(0, |f| f.vars.len())).collect();
        let mark = marks.first().copied().unwrap_or(0);
        let mut worlds = worlds;
        for i in self.order(stmts) {
            worlds = self.exec_stmt_multi(&stmts[i], worlds)?;
            worlds = merge_worlds(worlds, self);
        }
        if scoped {
            for w in &mut worlds {
                w.frame().vars.truncate(mark);
            }
        }
        Ok(worlds)
    }

    fn exec_stmt_multi(&mut self, s: &Stmt, worlds: Vec<World>) -> Result<Vec<World>, Diagnostic> {
        match s {
            Stmt::Let { name, value, .. } | Stmt::Assign { name, value, .. } | Stmt::Node { name, value, .. } => {
                if let Some(out) = self.inline_call(s, name, value, &worlds)? {
                    return Ok(out);
                }
                let mut f = |this: &mut Self, w: &mut World| this.exec_simple(w, s);
                Ok(self.attempt_all(worlds, &mut f)?.into_iter().map(|(w, _)| w).collect())
            }
            Stmt::If { cond, then, els, .. } => {
                let before = worlds.len();
                let mut f = |this: &mut Self, w: &mut World| this.truthy(w, cond);
                let mut yes = Vec::new();
                let mut no = Vec::new();
                for (w, b) in self.attempt_all(worlds, &mut f)? {
                    if b {
                        yes.push(w)
                    } else {
                        no.push(w)
                    }
                }
                // the condition's reads split the worlds; merge back what it did not tell apart
                // (`blocks > 2` narrows `blocks` to the options that pass, not to one each)
                let (yes, no) = if yes.len() + no.len() > before { (merge_worlds(yes, self), merge_worlds(no, self)) } else { (yes, no) };
                let mut out = if yes.is_empty() { yes } else { self.exec_stmts_multi(then, yes)? };
                if !no.is_empty() {
                    out.extend(self.exec_stmts_multi(els, no)?);
                }
                Ok(out)
            }
            Stmt::For { var, iter, body, span } => {
                let mut f = |this: &mut Self, w: &mut World| {
                    let v = this.eval(w, iter)?;
                    this.items(w, &v, iter.span)
                };
                let mut out = Vec::new();
                let n = self.name(&var.name);
                // a body that assigns to a variable changes the world after the iteration: a
                // subset's member is then forked on (in: the body runs; out: it does not), not
                // run under a guard (a guard tags costs only, the assignment would leak into
                // the worlds where the member is out)
                let fork_members = assigns(body);
                for (w, items) in self.attempt_all(worlds, &mut f)? {
                    let mut ws = vec![w];
                    for (k, (g, v)) in items.into_iter().enumerate() {
                        let mut skipped = Vec::new();
                        let g = match g {
                            Some(Lit::Member(d, j, true)) if fork_members => {
                                let mut run = Vec::new();
                                for w in ws {
                                    if w.ctx.iter().chain(w.guards.iter()).any(|c| *c == Lit::Member(d, j, true)) {
                                        run.push(w);
                                    } else if w.ctx.iter().any(|c| *c == Lit::Member(d, j, false)) {
                                        skipped.push(w);
                                    } else {
                                        for c in self.split(w, Interrupt::ForkMember(d, j))? {
                                            if c.ctx.iter().any(|l| *l == Lit::Member(d, j, true)) {
                                                run.push(c);
                                            } else {
                                                skipped.push(c);
                                            }
                                        }
                                    }
                                }
                                self.read_world();
                                if run.len() + skipped.len() > MAX_WORLDS {
                                    return Err(too_many_worlds(*span));
                                }
                                ws = run;
                                None
                            }
                            g => g,
                        };
                        let saved: Vec<_> = ws.iter().map(|w| w.guards.clone()).collect();
                        for w in &mut ws {
                            if let Some(l) = g {
                                w.guards.add(l);
                            }
                            w.frame().push_name(n.clone(), v.clone());
                        }
                        self.path.push(span.start as u32);
                        self.path.push(k as u32);
                        let r = if ws.is_empty() { Ok(ws) } else { self.exec_stmts_multi(body, ws) };
                        self.path.truncate(self.path.len() - 2);
                        ws = r?;
                        // guards are restored to the loop's (a split world inherits its parent's)
                        let g0 = saved.first().cloned().unwrap_or_default();
                        for w in &mut ws {
                            w.frame().vars.pop();
                            w.guards = g0.clone();
                        }
                        ws.extend(skipped);
                        ws = merge_worlds(ws, self);
                    }
                    out.extend(ws);
                }
                Ok(out)
            }
        }
    }
}

fn too_many_worlds(span: Span) -> Diagnostic {
    Diagnostic::error("E0801", "the space is too entangled to evaluate: too many decision combinations are live at once", span, "here")
}

/// Whether statements assign to a variable (at any depth), other than by appending to a list
/// (`branches = branches + [op(x)]`, how DARTS collects a subset's branches: those stay under
/// the member's guard, as before; forking there multiplies the worlds by the subsets).
pub(super) fn assigns(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match s {
        Stmt::Assign { name, value, .. } => !is_append(&name.name, value),
        Stmt::For { body, .. } => assigns(body),
        Stmt::If { then, els, .. } => assigns(then) || assigns(els),
        Stmt::Let { .. } | Stmt::Node { .. } => false,
    })
}

/// `x = x + [...]`.
fn is_append(name: &str, value: &Expr) -> bool {
    matches!(&value.kind, ExprKind::Binary { op: nasc_grammar::ast::BinOp::Add, lhs, rhs }
        if matches!(&lhs.kind, ExprKind::Name(n) if n == name) && matches!(rhs.kind, ExprKind::List(_)))
}

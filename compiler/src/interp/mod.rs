//! The abstract evaluator: runs the network program over shapes, forking into worlds where a
//! decision's value is needed, and records every op instance's cost as a term tagged with the
//! literals that hold in its world. Costs become exact per-scope tables in `factors`.
pub mod builtins;
mod driver;
mod exec;
mod memo;
mod trace;
pub mod value;
pub mod world;

use crate::decision::{DecisionInfo, DecisionKind, OptValue, WhenGuard};
use crate::deps::{Deps, Lit};
use crate::graph::{GraphNode, OpKind, Scope};
use crate::ids::{DecisionId, NodeId};
use crate::ir::IrBuilder;
use crate::program::{Cost, Program};
use nasc_grammar::ast::Span;
use nasc_grammar::diag::Diagnostic;
use rustc_hash::FxHashMap;
use std::rc::Rc;
use value::{OpRef, Tensor, Value};
use world::{GroupCover, World};

/// Why evaluation of a statement stopped.
#[derive(Debug)]
pub enum Interrupt {
    /// The value of this decision is needed: split the world on it.
    Fork(DecisionId),
    /// Whether pool member `j` is in subset `d` is needed.
    ForkMember(DecisionId, u32),
    Error(Diagnostic),
}

pub type R<T> = Result<T, Interrupt>;

/// A cost term: op instance `inst` costs `cost` when all literals of `tag` hold.
#[derive(Debug, Clone)]
pub struct RawTerm {
    pub inst: u32,
    pub tag: Deps,
    pub cost: Cost,
}

/// Limits that keep evaluation of hostile specs bounded.
pub const MAX_STEPS: u64 = 200_000_000;
pub const MAX_CALL_DEPTH: usize = 64;
pub const MAX_WORLDS: usize = 2_000_000;
/// Op instances of the network template (a static op under a loop iteration and call path),
/// and the ops of one traced candidate: exponential block recursion stops here, not at 4 GB
/// (the largest zoo spec has 4,585).
pub const MAX_INSTANCES: usize = 200_000;
/// Cost terms recorded (an op instance in each world it runs in; darts.nas records over 5M
/// in the reference evaluation).
pub const MAX_TERMS: usize = 50_000_000;
/// Elements of long lists (at least 1,024: iterated ranges, comprehensions, list
/// concatenation) materialized: charged before the allocation, never refunded.
pub const MAX_CELLS: u64 = 5_000_000;

pub struct Interp<'a> {
    pub prog: &'a Program<'a>,
    pub decisions: &'a [DecisionInfo],
    pub whens: &'a [Option<WhenGuard>],
    pub terms: Vec<RawTerm>,
    pub ir: IrBuilder,
    /// instance path -> instance id
    instances: FxHashMap<Vec<u32>, u32>,
    pub path: Vec<u32>,
    depth: usize,
    steps: u64,
    node_orders: FxHashMap<usize, Vec<usize>>,
    /// Trace mode (one fixed candidate): every executed op becomes a node of this graph.
    pub trace: Option<Vec<GraphNode>>,
    /// Trace mode: the calls made (blocks and decisions' op options).
    pub scopes: Vec<Scope>,
    memo: memo::Memo,
    /// variable, block and family names, shared by every frame and value that holds them
    names: std::cell::RefCell<FxHashMap<String, Rc<str>>>,
    /// read decisions where they are bound (no `Value::Lazy`; the reference evaluation)
    eager: bool,
    /// list elements materialized so far (`MAX_CELLS`)
    cells: u64,
}

impl GroupCover for Interp<'_> {
    fn narrowed(&self, lits: &[Lit]) -> Option<Lit> {
        // the reference evaluation keeps one world per option
        if self.eager {
            return None;
        }
        world::narrowed_choice(self, lits)
    }
    fn choice_arity(&self, d: DecisionId) -> Option<usize> {
        DecisionCover(self.decisions).choice_arity(d)
    }
    fn covers(&self, lits: &[Lit]) -> bool {
        DecisionCover(self.decisions).covers(lits)
    }
}

/// The alternatives of each decision's literal groups (a `GroupCover` that can be shared
/// between threads: term minimization runs on two).
#[derive(Clone, Copy)]
pub struct DecisionCover<'a>(pub &'a [DecisionInfo]);

impl GroupCover for DecisionCover<'_> {
    fn choice_arity(&self, d: DecisionId) -> Option<usize> {
        let info = self.0.get(d.index())?;
        (!info.is_subset()).then(|| info.arity())
    }
    fn covers(&self, lits: &[Lit]) -> bool {
        let Some(first) = lits.first() else { return false };
        let Some(d) = self.0.get(first.decision().index()) else { return false };
        match first {
            Lit::Member(..) => lits.iter().any(|l| matches!(l, Lit::Member(_, _, true))) && lits.iter().any(|l| matches!(l, Lit::Member(_, _, false))),
            Lit::Present(_) => lits.iter().any(|l| matches!(l, Lit::Absent(_))),
            Lit::Is(..) | Lit::Absent(_) | Lit::In(..) => {
                let mut seen = vec![false; d.arity()];
                let mut absent = false;
                let mut present = false;
                for l in lits {
                    match l {
                        Lit::Is(_, v) => {
                            if let Some(s) = seen.get_mut(*v as usize) {
                                *s = true
                            }
                        }
                        Lit::In(_, m) => {
                            for (v, s) in seen.iter_mut().enumerate().take(64) {
                                *s |= m >> v & 1 == 1;
                            }
                        }
                        Lit::Absent(_) => absent = true,
                        Lit::Present(_) => present = true,
                        _ => {}
                    }
                }
                if d.is_subset() {
                    absent && present
                } else {
                    seen.iter().all(|s| *s)
                }
            }
        }
    }
}

impl<'a> Interp<'a> {
    pub fn new(prog: &'a Program<'a>, decisions: &'a [DecisionInfo], whens: &'a [Option<WhenGuard>]) -> Self {
        Interp {
            prog,
            decisions,
            whens,
            terms: Vec::new(),
            ir: IrBuilder::default(),
            instances: FxHashMap::default(),
            path: Vec::new(),
            depth: 0,
            steps: 0,
            node_orders: FxHashMap::default(),
            trace: None,
            scopes: Vec::new(),
            memo: memo::Memo::default(),
            names: Default::default(),
            eager: false,
            cells: 0,
        }
    }

    /// The shared copy of a name.
    pub(crate) fn name(&self, n: &str) -> Rc<str> {
        let mut names = self.names.borrow_mut();
        if let Some(r) = names.get(n) {
            return r.clone();
        }
        let r: Rc<str> = Rc::from(n);
        names.insert(n.to_string(), r.clone());
        r
    }

    pub fn instance_count(&self) -> usize {
        self.instances.len()
    }

    pub(crate) fn step(&mut self, span: Span) -> R<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(Interrupt::Error(
                Diagnostic::error("E0801", "evaluation limit exceeded: the network is too large to evaluate", span, "while evaluating this")
                    .with_note(format!("nasc stops after {MAX_STEPS} evaluation steps")),
            ));
        }
        Ok(())
    }

    /// Charge `n` list elements to the work budget, before they are allocated.
    pub(crate) fn charge(&mut self, n: u64, span: Span) -> R<()> {
        self.cells = self.cells.saturating_add(n);
        if self.cells > MAX_CELLS {
            return Err(Interrupt::Error(
                Diagnostic::error("E0801", "the spec builds too many list elements to evaluate", span, "while building this")
                    .with_note(format!("nasc stops after {MAX_CELLS} list elements (ranges iterated, comprehensions, joined lists)")),
            ));
        }
        Ok(())
    }

    /// Whether the network template (or a traced network) and its cost terms are within limits.
    pub(crate) fn check_size(&self, span: Span) -> R<()> {
        let ops = self.trace.as_ref().map_or(self.instances.len(), |t| t.len());
        if ops > MAX_INSTANCES {
            return Err(Interrupt::Error(Diagnostic::error("E0801", "the network has too many ops to evaluate", span, "while evaluating this").with_note(format!(
                "nasc stops at {MAX_INSTANCES} op instances (an op under each loop iteration and call path); is a block called recursively more than once per call?"
            ))));
        }
        if self.terms.len() > MAX_TERMS {
            return Err(Interrupt::Error(
                Diagnostic::error("E0801", "the space is too entangled to evaluate: too many op costs across decision combinations", span, "while evaluating this")
                    .with_note(format!("nasc stops at {MAX_TERMS} cost terms")),
            ));
        }
        Ok(())
    }

    /// Record a tensor op: its IR node, its cost term, and the output tensor.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tensor_op(&mut self, w: &mut World, op: &'static str, kind: OpKind, span: Span, inputs: &[&Tensor], cost: Cost, shape: (i64, i64, i64)) -> R<Value> {
        self.check_size(span)?;
        if let Some(trace) = &mut self.trace {
            let node = NodeId(trace.len() as u32);
            trace.push(GraphNode { op: kind, inputs: inputs.iter().map(|t| t.node).collect(), shape: [shape.0, shape.1, shape.2] });
            return Ok(Value::Tensor(Tensor { c: shape.0, h: shape.1, w: shape.2, node }));
        }
        let path = std::mem::take(&mut self.path);
        let (inst, node) = self.instance(&path, op, span);
        self.path = path;
        for t in inputs {
            self.edge(t.node, node);
        }
        if !cost.is_zero() {
            self.terms.push(RawTerm { inst, tag: w.tag(), cost });
        }
        Ok(Value::Tensor(Tensor { c: shape.0, h: shape.1, w: shape.2, node }))
    }

    /// The network's input tensor.
    pub fn input_tensor(&mut self, c: i64, h: i64, w: i64, span: Span) -> Value {
        if let Some(trace) = &mut self.trace {
            let node = NodeId(trace.len() as u32);
            trace.push(GraphNode { op: OpKind::Input, inputs: Vec::new(), shape: [c, h, w] });
            return Value::Tensor(Tensor { c, h, w, node });
        }
        let node = self.ir.node(u32::MAX, "input", span);
        Value::Tensor(Tensor { c, h, w, node })
    }

    pub(crate) fn opt_value(&self, o: &OptValue) -> Value {
        match o {
            OptValue::Int(i) => Value::Int(*i),
            OptValue::Float(f) => Value::Float(*f),
            OptValue::Str(s) => Value::Str(Rc::from(s.as_str())),
            OptValue::Bool(b) => Value::Bool(*b),
            OptValue::Op(name) => {
                if self.prog.blocks.contains_key(name) {
                    Value::Op(OpRef::Block(self.name(name)))
                } else {
                    builtins::builtin_op(name).map(Value::Op).unwrap_or(Value::Str(Rc::from(name.as_str())))
                }
            }
        }
    }

    /// The value of decision `d` in world `w` (or a request to fork on it).
    pub(crate) fn decision_value(&self, w: &World, d: DecisionId, span: Span) -> R<Value> {
        self.read_world();
        // constant evaluation has no decisions: reading one is "depends on a decision"
        let Some(info) = self.decisions.get(d.index()) else { return Err(Interrupt::Fork(d)) };
        let absent = || {
            Interrupt::Error(
                Diagnostic::error("E0404", format!("decision `{}` is used where it may not exist", info.name), span, "used here")
                    .with_label(info.span, "declared here with a `when` condition")
                    .with_help("guard this use with the same condition as the decision's `when`"),
            )
        };
        match &info.kind {
            DecisionKind::Choice { options, .. } => {
                for l in w.ctx.iter() {
                    match *l {
                        Lit::Is(x, v) if x == d => return Ok(self.opt_value(&options[v as usize])),
                        Lit::Absent(x) if x == d => return Err(absent()),
                        _ => {}
                    }
                }
                Err(Interrupt::Fork(d))
            }
            DecisionKind::Subset { pool, .. } => {
                if info.conditional {
                    if w.ctx.iter().any(|l| *l == Lit::Absent(d)) {
                        return Err(absent());
                    }
                    if !w.ctx.iter().any(|l| *l == Lit::Present(d)) {
                        return Err(Interrupt::Fork(d));
                    }
                }
                let mut items = Vec::new();
                for (j, o) in pool.iter().enumerate() {
                    if w.ctx.iter().any(|l| *l == Lit::Member(d, j as u32, false)) {
                        continue;
                    }
                    items.push((Some(Lit::Member(d, j as u32, true)), self.opt_value(o)));
                }
                Ok(Value::CondList(Rc::new(items)))
            }
        }
    }

    /// Split world `w` on the decision a statement needs. Children partition `w`.
    pub(crate) fn split(&mut self, w: World, on: Interrupt) -> Result<Vec<World>, Diagnostic> {
        match on {
            Interrupt::Error(d) => Err(d),
            Interrupt::ForkMember(d, j) => {
                let mut out = Vec::new();
                for b in [true, false] {
                    let mut c = w.clone();
                    c.ctx.add(Lit::Member(d, j, b));
                    if self.consistent(&c.ctx, d) {
                        out.push(c);
                    }
                }
                Ok(out)
            }
            Interrupt::Fork(d) => {
                // a world that narrowed `d` to some options (so `d` exists) splits on those
                let narrowed = w.ctx.iter().find_map(|l| match *l {
                    Lit::In(x, m) if x == d => Some(m),
                    _ => None,
                });
                if let Some(mask) = narrowed {
                    let mut c = w;
                    c.ctx.0.retain(|l| !matches!(*l, Lit::In(x, _) if x == d));
                    return Ok((0..64u32)
                        .filter(|v| mask >> v & 1 == 1)
                        .map(|v| {
                            let mut x = c.clone();
                            x.ctx.add(Lit::Is(d, v));
                            x
                        })
                        .collect());
                }
                let info = &self.decisions[d.index()];
                let mut base = vec![w];
                let mut out = Vec::new();
                if info.conditional {
                    if let Some(g) = self.whens[d.index()].clone() {
                        let worlds = std::mem::take(&mut base);
                        for (mut c, holds) in self.eval_when(worlds, &g)? {
                            if holds {
                                base.push(c);
                            } else {
                                c.ctx.add(Lit::Absent(d));
                                out.push(c);
                            }
                        }
                        // the condition's reads split the world; merge back what it did not tell apart
                        if base.len() + out.len() > 1 {
                            base = world::merge_worlds(base, self);
                            out = world::merge_worlds(out, self);
                        }
                    }
                }
                let info = &self.decisions[d.index()];
                for c in base {
                    match &info.kind {
                        DecisionKind::Choice { options, .. } => {
                            for v in 0..options.len() {
                                let mut x = c.clone();
                                x.ctx.add(Lit::Is(d, v as u32));
                                out.push(x);
                            }
                        }
                        DecisionKind::Subset { .. } => {
                            let mut x = c;
                            x.ctx.add(Lit::Present(d));
                            out.push(x);
                        }
                    }
                }
                Ok(out)
            }
        }
    }

    /// Whether the member literals of subset `d` in `ctx` can still be completed within its size bounds.
    fn consistent(&self, ctx: &Deps, d: DecisionId) -> bool {
        if let DecisionKind::Subset { pool, min, max, .. } = &self.decisions[d.index()].kind {
            let t = ctx.iter().filter(|l| matches!(l, Lit::Member(x, _, true) if *x == d)).count() as u32;
            let f = ctx.iter().filter(|l| matches!(l, Lit::Member(x, _, false) if *x == d)).count() as u32;
            let absent = ctx.iter().any(|l| *l == Lit::Absent(d));
            if absent {
                return t == 0 && f == 0;
            }
            return t <= *max && (pool.len() as u32 - f) >= *min;
        }
        true
    }
}

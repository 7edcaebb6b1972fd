//! A compiled space: decisions, exact tables for every metric, size, bounds, names, sampling.
use crate::decision::{Candidate, DecisionInfo, DecisionKind, Slot};
use crate::deps::Deps;
use crate::error::{CandidateError, NameError, SampleError, TraceError};
use crate::factors::{binom, lit_holds, Domains, Table};
use crate::ir::IrSummary;
use crate::metrics::{eval_expr, Form, MetricInfo, MetricKind};
use crate::naming::{self, NameFormat};
use crate::rng::Rng;
use nasc_grammar::ast::{Direction, Expr};
use num_bigint::BigUint;
use num_traits::ToPrimitive;
use serde_json::{json, Value as Json};
use std::collections::HashMap;

/// A compiled space. Only the compiler builds one (its fields are private to this crate);
/// other crates read it through the accessors below and its methods, and none changes it.
pub struct Space {
    pub(crate) name: String,
    pub(crate) input: [i64; 3],
    pub(crate) decisions: Vec<DecisionInfo>,
    pub(crate) domains: Domains,
    pub(crate) validity: Vec<Table<bool>>,
    /// For each conditional decision, its `when` as (context, holds) rows over earlier decisions.
    pub(crate) when_results: Vec<Option<Vec<(Deps, bool)>>>,
    pub(crate) size: BigUint,
    pub(crate) metrics: Vec<MetricInfo>,
    pub(crate) constraints: Vec<Expr>,
    pub(crate) objectives: Vec<(Direction, String)>,
    pub(crate) formats: Vec<NameFormat>,
    pub(crate) flops_rule: Vec<String>,
    pub(crate) ir: IrSummary,
    pub(crate) consts: HashMap<String, f64>,
    /// The spec and overrides it was compiled from (to trace single candidates).
    pub(crate) spec: nasc_grammar::ast::Spec,
    pub(crate) overrides: Vec<(String, String)>,
}

/// Read-only accessors, named after the fields, for the fields other crates read. The input
/// shape, the naming formats, the FLOPs rule and the spec and overrides have none (`explain_json`
/// reports the first three; `tracer` uses the last two).
impl Space {
    /// The space's name (`space NAME { ... }`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Every decision, in decision order (a candidate's slots follow it).
    pub fn decisions(&self) -> &[DecisionInfo] {
        &self.decisions
    }
    /// Each decision's values (the domains the exact tables are indexed by).
    pub fn domains(&self) -> &Domains {
        &self.domains
    }
    /// The validity factors, one per conditional decision (from its `when`): which slot
    /// combinations are valid.
    pub fn validity(&self) -> &[Table<bool>] {
        &self.validity
    }
    /// For each conditional decision, its `when` as (context, holds) rows over earlier decisions.
    pub fn when_results(&self) -> &[Option<Vec<(Deps, bool)>>] {
        &self.when_results
    }
    /// The exact number of valid candidates.
    pub fn size(&self) -> &BigUint {
        &self.size
    }
    /// Every metric (derived, expression and external), in metric order. Not a candidate's
    /// values: those are `evaluate`'s.
    pub fn metrics(&self) -> &[MetricInfo] {
        &self.metrics
    }
    /// The spec's constraints (run-time ones are passed separately, as `extra`).
    pub fn constraints(&self) -> &[Expr] {
        &self.constraints
    }
    /// The spec's objectives: direction and metric name.
    pub fn objectives(&self) -> &[(Direction, String)] {
        &self.objectives
    }
    /// Node and edge counts of the IR, and nodes per op kind.
    pub fn ir(&self) -> &IrSummary {
        &self.ir
    }
    /// The spec's numeric parameters and constants by name.
    pub fn consts(&self) -> &HashMap<String, f64> {
        &self.consts
    }
}

impl Space {
    fn families(&self) -> HashMap<String, Vec<(Vec<i64>, usize)>> {
        let mut m: HashMap<String, Vec<(Vec<i64>, usize)>> = HashMap::new();
        for d in &self.decisions {
            m.entry(d.family.clone()).or_default().push((d.index.clone(), d.id.index()));
        }
        m
    }

    /// Whether conditional decision `d` exists given the earlier slots of `c`.
    pub(crate) fn exists(&self, d: usize, c: &Candidate) -> bool {
        match &self.when_results[d] {
            None => true,
            Some(rows) => rows.iter().find(|(ctx, _)| ctx.iter().all(|l| lit_holds(l, c.0[l.decision().index()]))).is_some_and(|(_, h)| *h),
        }
    }

    /// A well-formed candidate: every existing decision set within its domain, absent ones absent.
    pub fn check_valid(&self, c: &Candidate) -> Result<(), CandidateError> {
        if c.0.len() != self.decisions.len() {
            return Err(CandidateError::Length { expected: self.decisions.len(), found: c.0.len() });
        }
        for d in &self.decisions {
            let s = c.0[d.index()];
            let exists = self.exists(d.index(), c);
            match (exists, s) {
                (false, Slot::Absent) => {}
                (false, _) => return Err(CandidateError::NotPresent { decision: d.name.clone() }),
                (true, Slot::Absent) => return Err(CandidateError::Missing { decision: d.name.clone() }),
                (true, Slot::Opt(v)) => {
                    if !matches!(&d.kind, DecisionKind::Choice { options, .. } if (v as usize) < options.len()) {
                        return Err(CandidateError::BadValue { decision: d.name.clone() });
                    }
                }
                (true, Slot::Members(m)) => match &d.kind {
                    DecisionKind::Subset { pool, min, max, .. } => {
                        let k = m.count_ones();
                        if (pool.len() < 64 && m >> pool.len() != 0) || k < *min || k > *max {
                            return Err(CandidateError::SubsetSize { decision: d.name.clone(), min: *min, max: *max, found: k });
                        }
                    }
                    _ => return Err(CandidateError::BadValue { decision: d.name.clone() }),
                },
            }
        }
        Ok(())
    }

    /// Values of every metric (None for external metrics), in metric order.
    pub fn evaluate(&self, c: &Candidate) -> Vec<(String, Option<f64>)> {
        let fams = self.families();
        let mut values: HashMap<&str, f64> = HashMap::new();
        let mut out = Vec::new();
        for m in &self.metrics {
            let v = match &m.form {
                Form::Additive(a) => Some(a.eval(c, &self.domains)),
                Form::External => None,
                Form::Nonlinear(e) => eval_expr(e, c, &values, &self.consts, &self.decisions, &fams),
            };
            if let Some(x) = v {
                values.insert(m.name.as_str(), x);
            }
            out.push((m.name.clone(), v));
        }
        out
    }

    /// Whether the spec's constraints (and `extra` ones) hold; constraints on external metrics are skipped.
    pub fn feasible(&self, c: &Candidate, extra: &[Expr]) -> bool {
        let fams = self.families();
        let vals = self.evaluate(c);
        let values: HashMap<&str, f64> = vals.iter().filter_map(|(n, v)| v.map(|x| (n.as_str(), x))).collect();
        self.constraints.iter().chain(extra).all(|e| eval_expr(e, c, &values, &self.consts, &self.decisions, &fams) != Some(0.0))
    }

    /// The candidate's name in the spec's naming format (the first `name` item), else canonical.
    pub fn name_of(&self, c: &Candidate) -> String {
        match self.formats.first() {
            Some(f) => f.print(c, &self.decisions),
            None => naming::canonical(c, &self.decisions),
        }
    }

    /// A tracer for this space: the network graph of single candidates.
    pub fn tracer(&self) -> crate::front::Tracer<'_> {
        crate::front::Tracer::new(&self.spec, &self.overrides)
    }

    /// The candidate's network graph (ops, attributes, shapes).
    pub fn graph_of(&self, c: &Candidate) -> Result<crate::graph::NetGraph, TraceError> {
        self.tracer().trace(c)
    }

    /// The canonical key: equal for candidates that compute the same network up to
    /// isomorphism (see `NetGraph::key`). Use `tracer()` for many candidates.
    pub fn key(&self, c: &Candidate) -> String {
        self.tracer().trace(c).map(|g| g.key()).unwrap_or_else(|e| format!("!{e}"))
    }

    pub fn canonical(&self, c: &Candidate) -> String {
        naming::canonical(c, &self.decisions)
    }

    /// Parse a name in any of the spec's formats or the canonical form, and validate it
    /// (`naming::parse_name`: conditional decisions read by their guards, ambiguous names refused).
    pub fn parse_name(&self, text: &str) -> Result<Candidate, NameError> {
        naming::parse_name(text, &self.formats, &self.decisions, &self.when_results, &|c| self.check_valid(c))
    }

    /// A uniform random valid candidate: each existing decision uniform over its values.
    pub fn sample_one(&self, rng: &mut Rng) -> Candidate {
        let mut c = Candidate(vec![Slot::Absent; self.decisions.len()]);
        for d in &self.decisions {
            if !self.exists(d.index(), &c) {
                continue;
            }
            c.0[d.index()] = match &d.kind {
                DecisionKind::Choice { options, .. } => Slot::Opt(rng.below(options.len() as u64) as u32),
                DecisionKind::Subset { pool, min, max, .. } => Slot::Members(draw_subset(pool.len() as u64, *min, *max, rng)),
            };
        }
        c
    }

    /// `n` random valid and feasible candidates from `seed` (rejection sampling, bounded).
    pub fn sample(&self, n: usize, seed: u64, extra: &[Expr]) -> Result<Vec<Candidate>, SampleError> {
        let mut rng = Rng::new(seed);
        let mut out = Vec::with_capacity(n);
        let mut tries = 0u64;
        while out.len() < n {
            let c = self.sample_one(&mut rng);
            tries += 1;
            if self.feasible(&c, extra) {
                out.push(c);
                tries = 0;
            } else if tries > 100_000 {
                return Err(SampleError::NoFeasible { draws: 100_000 });
            }
        }
        Ok(out)
    }

    /// The default candidate (every decision at its default; conditional ones when they exist).
    pub fn default_candidate(&self) -> Candidate {
        let mut c = Candidate(vec![Slot::Absent; self.decisions.len()]);
        for d in &self.decisions {
            if self.exists(d.index(), &c) {
                c.0[d.index()] = match &d.kind {
                    DecisionKind::Choice { default, .. } => Slot::Opt(*default),
                    DecisionKind::Subset { default, min, .. } => Slot::Members(if default.count_ones() >= *min { *default } else { (1u64 << *min) - 1 }),
                };
            }
        }
        c
    }

    /// Shape of the continuous relaxation: one row per decision (choice: its options;
    /// subset: one weight per pool member; DARTS input selection: rows of inputs).
    pub fn alpha_rows(&self) -> Vec<(String, usize)> {
        self.decisions.iter().map(|d| (d.name.clone(), d.arity())).collect()
    }

    pub fn explain_json(&self) -> Json {
        let decisions: Vec<Json> = self
            .decisions
            .iter()
            .map(|d| {
                let (kind, opts, extra) = match &d.kind {
                    DecisionKind::Choice { options, default } => ("choice", options, json!({"default": options[*default as usize].display()})),
                    DecisionKind::Subset { pool, min, max, .. } => ("subset", pool, json!({"min_size": min, "max_size": max})),
                };
                let mut o = json!({
                    "name": d.name,
                    "kind": kind,
                    "options": opts.iter().map(|o| o.display()).collect::<Vec<_>>(),
                    "conditional": d.conditional,
                });
                if let (Some(a), Some(b)) = (o.as_object_mut(), extra.as_object()) {
                    a.extend(b.clone());
                }
                o
            })
            .collect();
        let mut metrics = serde_json::Map::new();
        for m in &self.metrics {
            let kind = match m.kind {
                MetricKind::Derived => "derived",
                MetricKind::External => "external",
                MetricKind::Expr => "expr",
            };
            metrics.insert(
                m.name.clone(),
                match m.bounds {
                    Some(b) => json!({"kind": kind, "min": b.min, "max": b.max, "exact": b.exact}),
                    None => json!({"kind": kind, "min": null, "max": null, "exact": false}),
                },
            );
        }
        let (rows, total): (Vec<Json>, usize) = {
            let r = self.alpha_rows();
            let t = r.iter().map(|x| x.1).sum();
            (r.into_iter().map(|(n, k)| json!([n, k])).collect(), t)
        };
        json!({
            "space": self.name,
            "input": self.input,
            "size": self.size.to_string(),
            "size_sci": sci(&self.size),
            "decisions": decisions,
            "metrics": metrics,
            "flops_rule": self.flops_rule,
            "constraints": self.constraints.len(),
            "objectives": self.objectives.iter().map(|(d, m)| json!({"direction": if *d == Direction::Minimize {"minimize"} else {"maximize"}, "metric": m})).collect::<Vec<_>>(),
            "alpha": {"rows": rows, "total": total},
            "names": self.formats.iter().map(|f| json!({"name": f.name, "template": f.template})).collect::<Vec<_>>(),
            "ir": self.ir,
        })
    }

    pub fn explain_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "space {}", self.name);
        let _ = writeln!(s, "input [{}, {}, {}]", self.input[0], self.input[1], self.input[2]);
        let _ = writeln!(s, "size {} ({})", self.size, sci(&self.size));
        let _ = writeln!(s, "decisions ({}):", self.decisions.len());
        for d in &self.decisions {
            let cond = if d.conditional { " (conditional)" } else { "" };
            match &d.kind {
                DecisionKind::Choice { options, default } => {
                    let _ = writeln!(
                        s,
                        "  {} choice of {}: {} [default {}]{cond}",
                        d.name,
                        options.len(),
                        options.iter().map(|o| o.display()).collect::<Vec<_>>().join(" "),
                        options[*default as usize].display()
                    );
                }
                DecisionKind::Subset { pool, min, max, .. } => {
                    let _ = writeln!(s, "  {} subset of {} (size {min}..={max}): {}{cond}", d.name, pool.len(), pool.iter().map(|o| o.display()).collect::<Vec<_>>().join(" "));
                }
            }
        }
        let _ = writeln!(s, "metrics:");
        for m in &self.metrics {
            match m.bounds {
                Some(b) => {
                    let _ = writeln!(s, "  {:<12} min {} max {}{}", m.name, num(b.min), num(b.max), if b.exact { "" } else { " (interval bound)" });
                }
                None => {
                    let _ = writeln!(s, "  {:<12} external", m.name);
                }
            }
        }
        let _ = writeln!(s, "flops counts: {}", self.flops_rule.join(", "));
        let rows = self.alpha_rows();
        let total: usize = rows.iter().map(|r| r.1).sum();
        let mut shapes: Vec<(usize, usize)> = Vec::new();
        for (_, k) in &rows {
            match shapes.last_mut() {
                Some((n, kk)) if kk == k => *n += 1,
                _ => shapes.push((1, *k)),
            }
        }
        let _ = writeln!(s, "alpha: {} rows, {} weights ({})", rows.len(), total, shapes.iter().map(|(n, k)| format!("{n}x{k}")).collect::<Vec<_>>().join(" + "));
        for f in &self.formats {
            let _ = writeln!(s, "name {} = \"{}\"", f.name, f.template);
        }
        let _ = writeln!(s, "ir: {} nodes, {} edges ({})", self.ir.nodes, self.ir.edges, self.ir.ops.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "));
        s
    }
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Scientific notation of a big integer, 4 significant digits.
pub fn sci(n: &BigUint) -> String {
    let s = n.to_string();
    if s.len() <= 4 {
        return format!("{s}e0");
    }
    let digits: String = s.chars().take(4).collect();
    format!("{}.{}e{}", &digits[..1], &digits[1..], s.len() - 1)
}

/// A uniform random subset of a pool of `n` with `min..=max` members: the size k drawn with
/// weight C(n, k) (so every valid subset is equally likely), then k distinct members by
/// Floyd's algorithm. Uses 1 + k draws of `rng`. The sampling program of every backend calls this.
pub fn draw_subset(n: u64, min: u32, max: u32, rng: &mut Rng) -> u64 {
    draw_subset_weighted(n, min, &subset_size_weights(n, min, max), rng)
}

/// The size weights C(n, k) for k in `min..=max`, as `draw_subset` uses them.
pub fn subset_size_weights(n: u64, min: u32, max: u32) -> Vec<f64> {
    (min..=max).map(|k| binom(n, k as u64).to_f64().unwrap_or(f64::MAX)).collect()
}

/// `draw_subset` with the size weights computed once (`subset_size_weights`).
pub fn draw_subset_weighted(n: u64, min: u32, weights: &[f64], rng: &mut Rng) -> u64 {
    let total: f64 = weights.iter().sum();
    let mut r = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
    let mut k = min;
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            k = min + i as u32;
            break;
        }
        r -= w;
        k = min + i as u32;
    }
    let mut m = 0u64;
    for j in (n - k as u64)..n {
        let t = rng.below(j + 1);
        if m >> t & 1 == 1 {
            m |= 1 << j;
        } else {
            m |= 1 << t;
        }
    }
    m
}

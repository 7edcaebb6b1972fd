//! The pipeline: check -> fold constants -> expand decisions -> evaluate the network over
//! worlds -> minimize terms -> tables -> size and bounds. No IO: files come through `Loader`.
use crate::check;
use crate::deps::Deps;
use crate::error::CostError;
use crate::factors::{self, Additive, Domains};
use crate::front::{front, Front};
use crate::interp::value::Value;
use crate::interp::world::{Frame, World};
use crate::interp::Interp;
use crate::metrics;
use crate::naming::NameFormat;
use crate::program::{term_index, Cost};
use crate::space::Space;
use nasc_grammar::ast::*;
use nasc_grammar::diag::Diagnostic;
use std::collections::HashMap;

/// Reads files a spec names (lookup CSVs), relative to the spec. Implemented by the runner.
pub trait Loader {
    fn load(&self, path: &str) -> Result<String, String>;
}

/// A loader with no files (every lookup is an error).
pub struct NoFiles;
impl Loader for NoFiles {
    fn load(&self, path: &str) -> Result<String, String> {
        Err(format!("no file `{path}` (no loader)"))
    }
}

pub struct Options<'a> {
    /// `--set NAME=VALUE` overrides.
    pub overrides: Vec<(String, String)>,
    pub loader: &'a dyn Loader,
    /// The space's name when the spec has no `space` item (the file stem).
    pub default_name: String,
}

pub fn compile(spec: &Spec, opts: &Options) -> (Option<Space>, Vec<Diagnostic>) {
    compile_with(spec, opts, true)
}

/// `compile` with every block call evaluated in every world (no memoized calls) and every
/// decision read where it is bound (no lazy decision values): the reference the memo and the
/// lazy reads are tested against.
#[doc(hidden)]
pub fn compile_reference(spec: &Spec, opts: &Options) -> (Option<Space>, Vec<Diagnostic>) {
    compile_with(spec, opts, false)
}

fn compile_with(spec: &Spec, opts: &Options, memo: bool) -> (Option<Space>, Vec<Diagnostic>) {
    let override_names: Vec<String> = opts.overrides.iter().map(|(n, _)| n.clone()).collect();
    let mut diags = check::check(spec, &override_names);
    if diags.iter().any(|d| d.is_error()) {
        return (None, diags);
    }
    let Some(Front { prog, decisions, whens, shape, input_span, network, space_name }) = front(spec, &opts.overrides, &opts.default_name, &mut diags) else {
        return (None, diags);
    };
    let mut interp = Interp::new(&prog, &decisions, &whens);
    if !memo {
        interp.reference_mode();
    }
    let input = interp.input_tensor(shape[0], shape[1], shape[2], input_span);
    let mut w0 = World::default();
    let mut f0 = Frame::default();
    f0.push("input", input);
    w0.push_frame(f0);
    let outs = match interp.exec_body_multi(network, vec![w0]) {
        Ok(o) => o,
        Err(d) => {
            diags.push(d);
            return (None, diags);
        }
    };
    for (_, v) in &outs {
        match v {
            Some(Value::Tensor(_)) => {}
            Some(other) => {
                diags.push(Diagnostic::error("E0104", format!("the network must return a tensor, found {}", other.type_name()), network.span, "in this network"));
                return (None, diags);
            }
            None => {
                diags.push(Diagnostic::error("E0104", "the network returns nothing", network.span, "add `return x;` at the end"));
                return (None, diags);
            }
        }
    }
    // when-guards as validity tables; a guard may only read earlier decisions
    let domains = Domains::new(&decisions);
    let mut when_results: Vec<Option<Vec<(Deps, bool)>>> = vec![None; decisions.len()];
    let mut validity = Vec::new();
    for d in &decisions {
        let Some(g) = whens[d.id.index()].clone() else { continue };
        let res = match interp.eval_when(vec![World::default()], &g) {
            Ok(r) => r,
            Err(e) => {
                diags.push(e);
                return (None, diags);
            }
        };
        // worlds may narrow a choice to a set of options: the table rows are `Is` literals
        let res: Vec<(Deps, bool)> = res.into_iter().flat_map(|(w, b)| w.ctx.expand_sets().into_iter().map(move |c| (c, b))).collect();
        if let Some(later) = res.iter().flat_map(|(c, _)| c.iter()).find(|l| l.decision() >= d.id) {
            diags.push(
                Diagnostic::error(
                    "E0404",
                    format!("the `when` of `{}` reads `{}`, which is not declared before it", d.name, decisions[later.decision().index()].name),
                    g.expr.span,
                    "reads a later decision",
                )
                .with_help("declare the decisions a condition reads before the conditional decision"),
            );
            return (None, diags);
        }
        match factors::validity_table(d.id, &res, &domains) {
            Some(t) => validity.push(t),
            None => {
                diags.push(Diagnostic::error("E0801", format!("the condition of `{}` is too entangled to tabulate", d.name), g.expr.span, "here"));
                return (None, diags);
            }
        }
        when_results[d.id.index()] = Some(res);
    }
    // costs -> derived metrics
    // (tags with narrowed choices are expanded to `Is` literals there)
    let terms = crate::simplify::simplify(&interp.terms, &crate::interp::DecisionCover(&decisions));
    let rule: Vec<String> = spec
        .items
        .iter()
        .find_map(|i| if let Item::Count { terms, .. } = i { Some(terms.iter().map(|t| t.name.clone()).collect()) } else { None })
        .unwrap_or_else(|| vec!["conv".to_string(), "linear".to_string()]);
    let rule_idx: Vec<usize> = rule.iter().filter_map(|t| term_index(t)).collect();
    // the two tables are independent: flops on a second thread
    let params_of = |c: &Cost| c.params as f64;
    let flops_of = |c: &Cost| rule_idx.iter().map(|i| c.terms[*i]).sum::<i64>() as f64;
    let (params, flops) = std::thread::scope(|s| {
        let flops = s.spawn(|| Additive::from_terms_by(&terms, flops_of, &domains));
        let params = Additive::from_terms_by(&terms, params_of, &domains);
        (params, flops.join().unwrap_or(Err(CostError::Panicked { table: "flops" })))
    });
    let mut base: HashMap<String, Additive> = HashMap::new();
    for (name, t) in [("params", params), ("flops", flops)] {
        match t {
            Ok(a) => {
                base.insert(name.to_string(), a);
            }
            Err(msg) => {
                diags.push(Diagnostic::error("E0801", format!("cannot tabulate `{name}`: {msg}"), network.span, "in this network"));
                return (None, diags);
            }
        }
    }
    let ir = crate::ir::summarize(&interp.ir.graph);
    drop(interp);
    let size = match factors::count(&decisions, &domains, &validity) {
        Some(s) => s,
        None => {
            diags.push(Diagnostic::error("E0801", "the space is too entangled to count exactly", Span::default(), "here"));
            return (None, diags);
        }
    };
    // metrics, constraints, objectives, names
    let ctx = metrics::MetricCtx { prog: &prog, decisions: &decisions, domains: &domains, validity: &validity, loader: opts.loader };
    let (metric_list, mut mdiags) = metrics::build(spec, &ctx, base);
    diags.append(&mut mdiags);
    let mut formats = Vec::new();
    for item in &spec.items {
        if let Item::Name { name, template, .. } = item {
            match NameFormat::parse(&name.name, template, &prog, &decisions) {
                Ok(f) => formats.push(f),
                Err(d) => diags.push(d),
            }
        }
    }
    let constraints: Vec<Expr> = spec.items.iter().filter_map(|i| if let Item::Constraint { expr, .. } = i { Some(expr.clone()) } else { None }).collect();
    let objectives: Vec<(Direction, String)> =
        spec.items.iter().filter_map(|i| if let Item::Objective { direction, metric, .. } = i { Some((*direction, metric.name.clone())) } else { None }).collect();
    if diags.iter().any(|d| d.is_error()) {
        return (None, diags);
    }
    let consts = prog.consts.iter().filter_map(|(k, v)| v.as_f64().map(|f| (k.clone(), f))).collect();
    let space = Space {
        name: space_name,
        input: shape,
        decisions,
        domains,
        validity,
        when_results,
        size,
        metrics: metric_list,
        constraints,
        objectives,
        formats,
        flops_rule: rule,
        ir,
        consts,
        spec: spec.clone(),
        overrides: opts.overrides.clone(),
    };
    (Some(space), diags)
}

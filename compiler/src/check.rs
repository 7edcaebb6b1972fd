//! Static checks over the AST, reporting every error at once: duplicate and unknown names
//! (with "did you mean"), block arity, cycles among a cell's `node`s, unreachable nodes,
//! unknown count terms, constraints and objectives on unknown metrics, missing items.
use crate::interp::builtins::{is_builtin, SCALAR_FNS, TENSOR_OPS};
use crate::program::TERMS;
use nasc_grammar::ast::*;
use nasc_grammar::diag::{did_you_mean, Diagnostic};
use petgraph::graph::DiGraph;
use std::collections::{HashMap, HashSet};

/// Names of a spec by kind, collected once.
pub struct Names<'a> {
    pub globals: HashMap<&'a str, Span>,
    pub blocks: HashMap<&'a str, &'a BlockDef>,
    pub metrics: HashMap<&'a str, Span>,
}

pub const DERIVED_METRICS: [&str; 2] = ["params", "flops"];

pub fn check(spec: &Spec, overrides: &[String]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut globals: HashMap<&str, Span> = HashMap::new();
    let mut blocks = HashMap::new();
    let mut metrics: HashMap<&str, Span> = HashMap::new();
    let mut names_items: HashMap<&str, Span> = HashMap::new();
    let mut has_network = None;
    let mut has_input: Option<Span> = None;
    let mut has_space: Option<Span> = None;
    let mut has_count: Option<Span> = None;
    let dup = |diags: &mut Vec<Diagnostic>, map: &mut HashMap<&'_ str, Span>, id: &Ident, what: &str| {
        if let Some(prev) = map.get(id.name.as_str()) {
            diags.push(
                Diagnostic::error("E0102", format!("duplicate {what} `{}`", id.name), id.span, "defined again here")
                    .with_label(*prev, "first defined here")
                    .with_help("rename one of them"),
            );
        }
    };
    for item in &spec.items {
        match item {
            Item::Param { name, .. } | Item::Let { name, .. } => {
                dup(&mut diags, &mut globals, name, "name");
                globals.entry(&name.name).or_insert(name.span);
            }
            Item::Decision(d) => {
                dup(&mut diags, &mut globals, &d.name, "name");
                globals.entry(&d.name.name).or_insert(d.name.span);
            }
            Item::Block(b) => {
                dup(&mut diags, &mut globals, &b.name, "name");
                if is_builtin(&b.name.name).is_some() {
                    diags.push(Diagnostic::error("E0102", format!("block `{}` shadows a builtin", b.name.name), b.name.span, "builtin name").with_help("choose another name"));
                }
                globals.entry(&b.name.name).or_insert(b.name.span);
                blocks.insert(b.name.name.as_str(), b);
            }
            Item::Metric(m) => {
                dup(&mut diags, &mut metrics, &m.name, "metric");
                metrics.entry(&m.name.name).or_insert(m.name.span);
                if matches!(m.value, MetricValue::Derived) && !DERIVED_METRICS.contains(&m.name.name.as_str()) {
                    let mut d = Diagnostic::error("E0501", format!("`{}` is not a derived metric", m.name.name), m.name.span, "nasc derives only `params` and `flops`")
                        .with_help("give it a value: `metric NAME = EXPR;` or `metric NAME = external;`");
                    if let Some(s) = did_you_mean(&m.name.name, DERIVED_METRICS) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    diags.push(d);
                }
            }
            Item::Name { name, template, .. } => {
                dup(&mut diags, &mut names_items, name, "name format");
                names_items.entry(&name.name).or_insert(name.span);
                let _ = template;
            }
            Item::Network { span, .. } => {
                if let Some(prev) = has_network {
                    diags.push(Diagnostic::error("E0102", "duplicate `network`", *span, "second network").with_label(prev, "first network"));
                }
                has_network = Some(*span);
            }
            Item::Input { span, .. } => {
                if let Some(prev) = has_input {
                    diags.push(
                        Diagnostic::error("E0102", "duplicate `input`", *span, "second input")
                            .with_label(prev, "first input")
                            .with_help("a spec has one input shape; remove one of them"),
                    );
                }
                has_input = Some(*span);
            }
            Item::Space(id) => {
                if let Some(prev) = has_space {
                    diags.push(Diagnostic::error("E0102", format!("duplicate `space` name `{}`", id.name), id.span, "named again here").with_label(prev, "first named here"));
                }
                has_space = Some(id.span);
            }
            Item::Count { metric, terms, span } => {
                if let Some(prev) = has_count.filter(|_| metric.name == "flops") {
                    diags.push(
                        Diagnostic::error("E0102", "duplicate `count` rule", *span, "second rule")
                            .with_label(prev, "first rule")
                            .with_help("list every term in one `count flops { ... };`"),
                    );
                }
                if metric.name == "flops" {
                    has_count = Some(*span);
                }
                if metric.name != "flops" {
                    diags.push(Diagnostic::error("E0503", format!("a counting rule applies to `flops`, not `{}`", metric.name), metric.span, "not a counted metric"));
                }
                for t in terms {
                    if !TERMS.contains(&t.name.as_str()) {
                        let mut d =
                            Diagnostic::error("E0503", format!("unknown count term `{}`", t.name), t.span, "not a cost term").with_note(format!("terms: {}", TERMS.join(", ")));
                        if let Some(s) = did_you_mean(&t.name, TERMS) {
                            d = d.with_help(format!("did you mean `{s}`?"));
                        }
                        diags.push(d);
                    }
                }
            }
            _ => {}
        }
    }
    for o in overrides {
        if !globals.contains_key(o.as_str()) || !spec.items.iter().any(|i| matches!(i, Item::Param { name, .. } if name.name == *o)) {
            let params: Vec<&str> = spec.items.iter().filter_map(|i| if let Item::Param { name, .. } = i { Some(name.name.as_str()) } else { None }).collect();
            let mut d = Diagnostic::error("E0902", format!("`--set {o}=…`: the spec has no parameter `{o}`"), Span::default(), "in this spec")
                .with_note(format!("parameters: {}", if params.is_empty() { "(none)".to_string() } else { params.join(", ") }));
            if let Some(s) = did_you_mean(o, params.iter().copied()) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
        }
    }
    if has_network.is_none() {
        diags.push(
            Diagnostic::error("E0901", "the spec has no `network`", Span::new(0, 0), "expected a `network { ... }` item")
                .with_help("add `network { let x = input |> ...; return x; }`"),
        );
    }
    if has_input.is_none() {
        diags.push(Diagnostic::error("E0901", "the spec has no `input`", Span::new(0, 0), "expected an `input [c, h, w];` item").with_help("add e.g. `input [3, 32, 32];`"));
    }
    let names = Names { globals, blocks, metrics };
    // names in bodies and expressions
    for item in &spec.items {
        match item {
            Item::Block(b) => {
                let mut scope: Vec<String> = b.params.iter().map(|p| p.name.name.clone()).collect();
                for p in &b.params {
                    if let Some(d) = &p.default {
                        check_expr(d, &scope, &names, &mut diags);
                    }
                }
                check_body(&b.body, &mut scope, &names, &mut diags);
            }
            Item::Network { body, .. } => {
                let mut scope = vec!["input".to_string()];
                check_body(body, &mut scope, &names, &mut diags);
            }
            Item::Param { value, .. } | Item::Let { value, .. } => check_expr(value, &[], &names, &mut diags),
            Item::Input { dims, span } => {
                if dims.len() != 3 {
                    diags.push(Diagnostic::error("E0103", format!("`input` takes 3 dimensions [c, h, w], found {}", dims.len()), *span, "here"));
                }
                for d in dims {
                    check_expr(d, &[], &names, &mut diags);
                }
            }
            Item::Decision(d) => {
                let mut scope = Vec::new();
                for dim in &d.dims {
                    check_expr(&dim.range, &scope, &names, &mut diags);
                    if let Some(v) = &dim.var {
                        scope.push(v.name.clone());
                    }
                }
                for e in [Some(&d.domain), d.size.as_ref(), d.default.as_ref(), d.when.as_ref()].into_iter().flatten() {
                    check_expr(e, &scope, &names, &mut diags);
                }
            }
            Item::Metric(m) => {
                if let MetricValue::Expr(e) = &m.value {
                    check_metric_expr(e, &names, &mut diags);
                }
            }
            Item::Constraint { expr, .. } => check_metric_expr(expr, &names, &mut diags),
            Item::Objective { metric, .. } if !names.metrics.contains_key(metric.name.as_str()) && !DERIVED_METRICS.contains(&metric.name.as_str()) => {
                let mut d = Diagnostic::error("E0502", format!("objective on unknown metric `{}`", metric.name), metric.span, "no such metric")
                    .with_help(format!("declare it, e.g. `metric {} = external;`", metric.name));
                if let Some(s) = did_you_mean(&metric.name, names.metrics.keys().copied().chain(DERIVED_METRICS)) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                diags.push(d);
            }
            _ => {}
        }
    }
    diags
}

fn unknown(name: &str, span: Span, scope: &[String], names: &Names, extra: &[&str]) -> Diagnostic {
    let mut d = Diagnostic::error("E0101", format!("unknown name `{name}`"), span, "not found in this scope");
    let cands =
        scope.iter().map(|s| s.as_str()).chain(names.globals.keys().copied()).chain(TENSOR_OPS.iter().copied()).chain(SCALAR_FNS.iter().copied()).chain(extra.iter().copied());
    if let Some(s) = did_you_mean(name, cands) {
        d = d.with_help(format!("did you mean `{s}`?"));
    }
    d
}

fn check_body(body: &Body, scope: &mut Vec<String>, names: &Names, diags: &mut Vec<Diagnostic>) {
    let mark = scope.len();
    check_stmts(&body.stmts, scope, names, diags, body.ret.as_ref());
    scope.truncate(mark);
}

fn check_stmts(stmts: &[Stmt], scope: &mut Vec<String>, names: &Names, diags: &mut Vec<Diagnostic>, ret: Option<&Expr>) {
    let mark = scope.len();
    // node statements: cycle and reachability
    let nodes: Vec<(&Ident, &Expr)> = stmts.iter().filter_map(|s| if let Stmt::Node { name, value, .. } = s { Some((name, value)) } else { None }).collect();
    if !nodes.is_empty() {
        check_nodes(&nodes, stmts, ret, diags);
        for (n, _) in &nodes {
            scope.push(n.name.clone());
        }
    }
    for s in stmts {
        match s {
            Stmt::Let { name, value, .. } => {
                check_expr_in(value, scope, names, diags);
                scope.push(name.name.clone());
            }
            Stmt::Node { value, .. } => check_expr_in(value, scope, names, diags),
            Stmt::Assign { name, value, span } => {
                check_expr_in(value, scope, names, diags);
                if !scope.iter().rev().any(|s| *s == name.name) {
                    diags.push(
                        Diagnostic::error("E0101", format!("cannot assign to `{}`: no such local", name.name), *span, "not declared")
                            .with_help(format!("declare it first with `let {} = ...;`", name.name)),
                    );
                }
            }
            Stmt::For { var, iter, body, .. } => {
                check_expr_in(iter, scope, names, diags);
                scope.push(var.name.clone());
                check_stmts(body, scope, names, diags, None);
                scope.pop();
            }
            Stmt::If { cond, then, els, .. } => {
                check_expr_in(cond, scope, names, diags);
                check_stmts(then, scope, names, diags, None);
                check_stmts(els, scope, names, diags, None);
            }
        }
    }
    if let Some(r) = ret {
        check_expr_in(r, scope, names, diags);
    }
    unused_lets(stmts, ret, diags);
    scope.truncate(mark);
}

/// A warning (`W0303`) for each `let` of a body that nothing after it reads: the usual shape is
/// `let x = x |> conv(...);` inside a loop, which declares a new `x` instead of updating the
/// outer one, so the work is dead (and still counted). Names starting with `_` are exempt.
fn unused_lets(stmts: &[Stmt], ret: Option<&Expr>, diags: &mut Vec<Diagnostic>) {
    for (i, s) in stmts.iter().enumerate() {
        let Stmt::Let { name, .. } = s else { continue };
        if name.name.starts_with('_') {
            continue;
        }
        let mut read = false;
        let mut shadowed = false;
        for later in &stmts[i + 1..] {
            match later {
                // a later `let` of the same name reads the old one only in its value
                Stmt::Let { name: n, value, .. } if n.name == name.name => {
                    read = free_names(value).contains(&name.name);
                    shadowed = true;
                }
                // an assignment is an update of this binding, not dead work
                Stmt::Assign { name: n, .. } if n.name == name.name => read = true,
                other => read = stmt_names(other).contains(&name.name),
            }
            if read || shadowed {
                break;
            }
        }
        if !read && !shadowed {
            read = ret.is_some_and(|r| free_names(r).contains(&name.name));
        }
        if !read {
            diags.push(
                Diagnostic::warning("W0303", format!("`{}` is never read", name.name), name.span, "this binding is never used")
                    .with_help(format!("to update an outer `{0}`, write `{0} = ...;` without `let`; to keep it unused on purpose, name it `_{0}`", name.name)),
            );
        }
    }
}

fn check_nodes(nodes: &[(&Ident, &Expr)], stmts: &[Stmt], ret: Option<&Expr>, diags: &mut Vec<Diagnostic>) {
    let mut g = DiGraph::<usize, ()>::new();
    let idx: Vec<_> = (0..nodes.len()).map(|i| g.add_node(i)).collect();
    let pos: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, (n, _))| (n.name.as_str(), i)).collect();
    for (i, (_, e)) in nodes.iter().enumerate() {
        for f in free_names(e) {
            if let Some(&j) = pos.get(f.as_str()) {
                g.add_edge(idx[j], idx[i], ());
            }
        }
    }
    for scc in petgraph::algo::tarjan_scc(&g) {
        let cyclic = scc.len() > 1 || scc.iter().any(|n| g.contains_edge(*n, *n));
        if cyclic {
            let mut members: Vec<usize> = scc.iter().map(|n| g[*n]).collect();
            members.sort();
            let first = nodes[members[0]].0;
            let path = members.iter().map(|m| format!("`{}`", nodes[*m].0.name)).collect::<Vec<_>>().join(" -> ");
            let mut d = Diagnostic::error("E0301", format!("cycle in cell: {path} -> `{}`", first.name), first.span, "this node depends on itself");
            for m in &members[1..] {
                d = d.with_label(nodes[*m].0.span, "part of the cycle");
            }
            diags.push(d.with_help("a cell must be a DAG: one of these nodes must not read the others"));
        }
    }
    // reachability: a node must be read by another statement or the return value
    let mut used: HashSet<String> = HashSet::new();
    for s in stmts {
        match s {
            Stmt::Node { value, name, .. } => used.extend(free_names(value).into_iter().filter(|n| *n != name.name)),
            other => used.extend(stmt_names(other)),
        }
    }
    if let Some(r) = ret {
        used.extend(free_names(r));
    }
    for (n, _) in nodes {
        if !used.contains(&n.name) {
            diags.push(
                Diagnostic::error("E0302", format!("node `{}` is unreachable: it does not reach the output", n.name), n.span, "never read")
                    .with_help("connect it to a later node or the return value, or remove it"),
            );
        }
    }
}

fn stmt_names(s: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    match s {
        Stmt::Let { value, .. } | Stmt::Assign { value, .. } | Stmt::Node { value, .. } => out.extend(free_names(value)),
        Stmt::For { iter, body, .. } => {
            out.extend(free_names(iter));
            body.iter().for_each(|b| out.extend(stmt_names(b)));
        }
        Stmt::If { cond, then, els, .. } => {
            out.extend(free_names(cond));
            then.iter().chain(els.iter()).for_each(|b| out.extend(stmt_names(b)));
        }
    }
    out
}

/// Names an expression reads (comprehension variables excluded).
pub fn free_names(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    walk(e, &mut Vec::new(), &mut |n, bound| {
        if !bound.iter().any(|b| b == n) {
            out.push(n.to_string())
        }
    });
    out
}

fn walk(e: &Expr, bound: &mut Vec<String>, f: &mut dyn FnMut(&str, &[String])) {
    match &e.kind {
        ExprKind::Name(n) => f(n, bound),
        ExprKind::List(l) => l.iter().for_each(|x| walk(x, bound, f)),
        ExprKind::Comprehension { body, var, iter, cond } => {
            walk(iter, bound, f);
            bound.push(var.name.clone());
            walk(body, bound, f);
            if let Some(c) = cond {
                walk(c, bound, f);
            }
            bound.pop();
        }
        ExprKind::Range { lo, hi, .. } => {
            walk(lo, bound, f);
            walk(hi, bound, f)
        }
        ExprKind::Index { base, index } => {
            walk(base, bound, f);
            walk(index, bound, f)
        }
        ExprKind::Field { base, .. } => walk(base, bound, f),
        ExprKind::Call { callee, args } => {
            walk(callee, bound, f);
            args.iter().for_each(|a| walk(&a.value, bound, f));
        }
        ExprKind::Pipe { input, func } => {
            walk(input, bound, f);
            walk(func, bound, f)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            walk(lhs, bound, f);
            walk(rhs, bound, f)
        }
        ExprKind::Unary { operand, .. } => walk(operand, bound, f),
        ExprKind::IfElse { cond, then, els } => {
            walk(cond, bound, f);
            walk(then, bound, f);
            walk(els, bound, f)
        }
        _ => {}
    }
}

fn check_expr(e: &Expr, scope: &[String], names: &Names, diags: &mut Vec<Diagnostic>) {
    let mut local: Vec<String> = scope.to_vec();
    check_expr_in(e, &mut local, names, diags);
}

fn check_expr_in(e: &Expr, scope: &mut Vec<String>, names: &Names, diags: &mut Vec<Diagnostic>) {
    match &e.kind {
        ExprKind::Name(n) => {
            // (the scope is searched from its end: a body's statements read recent names)
            if !scope.iter().rev().any(|s| s == n) && !names.globals.contains_key(n.as_str()) && is_builtin(n).is_none() {
                diags.push(unknown(n, e.span, scope, names, &[]));
            }
        }
        ExprKind::Comprehension { body, var, iter, cond } => {
            check_expr_in(iter, scope, names, diags);
            scope.push(var.name.clone());
            check_expr_in(body, scope, names, diags);
            if let Some(c) = cond {
                check_expr_in(c, scope, names, diags);
            }
            scope.pop();
        }
        ExprKind::Call { callee, args } => {
            check_expr_in(callee, scope, names, diags);
            for a in args {
                check_expr_in(&a.value, scope, names, diags);
            }
            check_arity(callee, args.len(), 0, e.span, scope, names, diags);
        }
        ExprKind::Pipe { input, func } => {
            check_expr_in(input, scope, names, diags);
            match &func.kind {
                ExprKind::Call { callee, args } => {
                    check_expr_in(callee, scope, names, diags);
                    for a in args {
                        check_expr_in(&a.value, scope, names, diags);
                    }
                    check_arity(callee, args.len(), 1, func.span, scope, names, diags);
                }
                _ => {
                    check_expr_in(func, scope, names, diags);
                    check_arity(func, 0, 1, func.span, scope, names, diags);
                }
            }
        }
        _ => {
            let mut children = Vec::new();
            match &e.kind {
                ExprKind::List(l) => children.extend(l.iter()),
                ExprKind::Range { lo, hi, .. } => children.extend([&**lo, &**hi]),
                ExprKind::Index { base, index } => children.extend([&**base, &**index]),
                ExprKind::Field { base, .. } => children.push(base),
                ExprKind::Binary { lhs, rhs, .. } => children.extend([&**lhs, &**rhs]),
                ExprKind::Unary { operand, .. } => children.push(operand),
                ExprKind::IfElse { cond, then, els } => children.extend([&**cond, &**then, &**els]),
                _ => {}
            }
            for c in children {
                check_expr_in(c, scope, names, diags);
            }
        }
    }
}

/// Argument count of a call to a block named statically (`f(...)` / `x |> f(...)`).
fn check_arity(callee: &Expr, nargs: usize, piped: usize, span: Span, scope: &[String], names: &Names, diags: &mut Vec<Diagnostic>) {
    let ExprKind::Name(n) = &callee.kind else { return };
    if scope.iter().any(|s| s == n) {
        return;
    }
    if let Some(b) = names.blocks.get(n.as_str()) {
        let given = nargs + piped;
        let required = b.params.iter().filter(|p| p.default.is_none()).count();
        if given < required || given > b.params.len() {
            let want = if required == b.params.len() { format!("{required}") } else { format!("{required} to {}", b.params.len()) };
            let sig = b.params.iter().map(|p| p.name.name.as_str()).collect::<Vec<_>>().join(", ");
            let mut d = Diagnostic::error("E0103", format!("wrong number of arguments to `{n}`: expected {want}, found {given}"), span, format!("{given} argument(s) given"))
                .with_label(b.name.span, format!("`{n}({sig})` defined here"));
            if piped == 1 {
                d = d.with_note("the piped value `x |> f(...)` counts as the first argument");
            }
            diags.push(d);
        }
    }
}

fn check_metric_expr(e: &Expr, names: &Names, diags: &mut Vec<Diagnostic>) {
    walk(e, &mut Vec::new(), &mut |n, bound| {
        if bound.iter().any(|b| b == n) || n == "lookup" {
            return;
        }
        if names.metrics.contains_key(n) || DERIVED_METRICS.contains(&n) || names.globals.contains_key(n) || is_builtin(n).is_some() {
            return;
        }
        let mut d = Diagnostic::error("E0501", format!("unknown metric `{n}`"), find_name_span(e, n).unwrap_or(e.span), "no metric, parameter or decision of this name");
        let cands = names.metrics.keys().copied().chain(DERIVED_METRICS);
        if let Some(s) = did_you_mean(n, cands) {
            d = d.with_help(format!("did you mean `{s}`?"));
        } else {
            d = d.with_help(format!("declare it, e.g. `metric {n} = external;`"));
        }
        diags.push(d);
    });
}

fn find_name_span(e: &Expr, name: &str) -> Option<Span> {
    let mut found = None;
    fn rec(e: &Expr, name: &str, found: &mut Option<Span>) {
        if found.is_some() {
            return;
        }
        if let ExprKind::Name(n) = &e.kind {
            if n == name {
                *found = Some(e.span);
            }
        }
        match &e.kind {
            ExprKind::Binary { lhs, rhs, .. } => {
                rec(lhs, name, found);
                rec(rhs, name, found)
            }
            ExprKind::Unary { operand, .. } => rec(operand, name, found),
            ExprKind::Call { callee, args } => {
                rec(callee, name, found);
                args.iter().for_each(|a| rec(&a.value, name, found))
            }
            ExprKind::Range { lo, hi, .. } => {
                rec(lo, name, found);
                rec(hi, name, found)
            }
            ExprKind::Index { base, index } => {
                rec(base, name, found);
                rec(index, name, found)
            }
            ExprKind::List(l) => l.iter().for_each(|x| rec(x, name, found)),
            _ => {}
        }
    }
    rec(e, name, &mut found);
    found
}

/// Execution order of a statement list: `node`s run together at the first one, in dependency order.
pub fn stmt_order(stmts: &[Stmt]) -> Vec<usize> {
    let node_idx: Vec<usize> = (0..stmts.len()).filter(|i| matches!(stmts[*i], Stmt::Node { .. })).collect();
    if node_idx.is_empty() {
        return (0..stmts.len()).collect();
    }
    let names: HashMap<&str, usize> = node_idx.iter().filter_map(|i| if let Stmt::Node { name, .. } = &stmts[*i] { Some((name.name.as_str(), *i)) } else { None }).collect();
    let mut g = DiGraph::<usize, ()>::new();
    let gi: HashMap<usize, _> = node_idx.iter().map(|i| (*i, g.add_node(*i))).collect();
    for i in &node_idx {
        if let Stmt::Node { value, .. } = &stmts[*i] {
            for f in free_names(value) {
                if let Some(j) = names.get(f.as_str()) {
                    if j != i {
                        g.add_edge(gi[j], gi[i], ());
                    }
                }
            }
        }
    }
    let topo: Vec<usize> = match petgraph::algo::toposort(&g, None) {
        Ok(order) => order.into_iter().map(|n| g[n]).collect(),
        Err(_) => node_idx.clone(),
    };
    let mut out = Vec::with_capacity(stmts.len());
    let mut placed = false;
    for (i, st) in stmts.iter().enumerate() {
        if matches!(st, Stmt::Node { .. }) {
            if !placed {
                out.extend(topo.iter().copied());
                placed = true;
            }
        } else {
            out.push(i);
        }
    }
    out
}

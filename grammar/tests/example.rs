//! The NAS-Bench-201 example parses into the expected structure.
mod common;

use common::{check_nested_spans, parse_ok, sexpr};
use nasc_grammar::ast::*;

const NB201: &str = include_str!("data/nb201_example.nas");

fn slice(span: Span) -> &'static str {
    &NB201[span.start..span.end]
}

#[test]
fn nb201_item_kinds() {
    let spec = parse_ok(NB201);
    assert_eq!(spec.span, Span::new(0, NB201.len()));
    let kinds: Vec<&str> = spec
        .items
        .iter()
        .map(|item| match item {
            Item::Space(_) => "space",
            Item::Param { .. } => "param",
            Item::Let { .. } => "let",
            Item::Input { .. } => "input",
            Item::Count { .. } => "count",
            Item::Decision(d) if d.kind == DecisionKind::Choice => "choice",
            Item::Decision(_) => "subset",
            Item::Block(_) => "block",
            Item::Network { .. } => "network",
            Item::Metric(_) => "metric",
            Item::Constraint { .. } => "constraint",
            Item::Objective { .. } => "objective",
            Item::Name { .. } => "name",
        })
        .collect();
    let expected = "space param param param param input count block block block block block block choice \
                    block block network metric metric metric metric constraint constraint objective name \
                    choice subset subset";
    assert_eq!(kinds.join(" "), expected);
}

#[test]
fn nb201_header_items() {
    let spec = parse_ok(NB201);
    let Item::Space(name) = &spec.items[0] else { panic!() };
    assert_eq!(name.name, "nb201");
    assert_eq!(slice(name.span), "nb201");
    let Item::Param { name, value, span } = &spec.items[2] else { panic!() };
    assert_eq!((name.name.as_str(), &value.kind), ("C", &ExprKind::Int(16)));
    assert_eq!(slice(*span), "param C = 16;");
    let Item::Input { dims, .. } = &spec.items[5] else { panic!() };
    assert_eq!(dims.iter().map(sexpr).collect::<Vec<_>>(), ["3", "side", "side"]);
    let Item::Count { metric, terms, span } = &spec.items[6] else { panic!() };
    assert_eq!(metric.name, "flops");
    assert_eq!(terms.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["conv", "linear", "linear_bias"]);
    assert_eq!(slice(*span), "count flops { conv, linear, linear_bias }");
}

#[test]
fn nb201_expression_blocks() {
    let spec = parse_ok(NB201);
    let Item::Block(rcb) = &spec.items[7] else { panic!() };
    assert_eq!(rcb.name.name, "rcb");
    let params: Vec<_> = rcb.params.iter().map(|p| (p.name.name.as_str(), p.default.as_ref().map(sexpr))).collect();
    assert_eq!(params, [("x", None), ("c", None), ("k", None), ("s", Some("1".to_string()))]);
    assert!(rcb.body.stmts.is_empty());
    let ret = rcb.body.ret.as_ref().unwrap();
    assert_eq!(sexpr(ret), "(|> (|> (|> x relu) (call conv c k stride=s)) bn)");
    assert_eq!(slice(ret.span), "x |> relu |> conv(c, k, stride = s) |> bn");
    let Item::Block(b) = &spec.items[10] else { panic!() };
    assert_eq!(sexpr(b.body.ret.as_ref().unwrap()), "(call rcb x (. x c) 1)");
}

#[test]
fn nb201_decisions() {
    let spec = parse_ok(NB201);
    let Item::Decision(edge) = &spec.items[13] else { panic!() };
    assert_eq!(edge.kind, DecisionKind::Choice);
    assert_eq!(edge.name.name, "edge");
    assert_eq!(edge.dims.len(), 1);
    assert!(edge.dims[0].var.is_none());
    assert_eq!(edge.dims[0].range.kind, ExprKind::Int(6));
    assert_eq!(slice(edge.dims[0].span), "[6]");
    assert_eq!(sexpr(&edge.domain), "[none skip_connect nor_conv_1x1 nor_conv_3x3 avg_pool_3x3]");
    assert_eq!(edge.default.as_ref().map(sexpr).as_deref(), Some("none"));
    assert!(edge.when.is_none() && edge.size.is_none());

    let Item::Decision(k) = &spec.items[25] else { panic!() };
    let dims: Vec<_> = k.dims.iter().map(|d| (d.var.as_ref().unwrap().name.as_str(), sexpr(&d.range))).collect();
    assert_eq!(dims, [("u", "(.. 0 5)".to_string()), ("j", "(.. 0 4)".to_string())]);
    assert_eq!(sexpr(k.when.as_ref().unwrap()), "(> (idx depth u) j)");
    assert_eq!(sexpr(k.default.as_ref().unwrap()), "3");

    let Item::Decision(inputs) = &spec.items[26] else { panic!() };
    assert_eq!(inputs.kind, DecisionKind::Subset);
    assert_eq!(sexpr(&inputs.domain), "(call range (+ j 2))");
    assert_eq!(sexpr(inputs.size.as_ref().unwrap()), "2");
    let Item::Decision(branch) = &spec.items[27] else { panic!() };
    assert_eq!(sexpr(branch.size.as_ref().unwrap()), "(..= 0 5)");
    assert_eq!(slice(branch.span), "subset branch[l in 0..22] of POOL size 0..=5;");
}

#[test]
fn nb201_statement_bodies() {
    let spec = parse_ok(NB201);
    let Item::Block(cell) = &spec.items[14] else { panic!() };
    assert_eq!(cell.body.stmts.len(), 3);
    let Stmt::Node { name, value, span } = &cell.body.stmts[0] else { panic!() };
    assert_eq!(name.name, "n3");
    assert_eq!(slice(name.span), "n3");
    assert_eq!(sexpr(value), "(+ (+ (|> x (idx edge 3)) (|> n1 (idx edge 4))) (|> n2 (idx edge 5)))");
    assert_eq!(slice(value.span), "(x |> edge[3]) + (n1 |> edge[4]) + (n2 |> edge[5])");
    assert!(slice(*span).starts_with("node n3 =") && slice(*span).ends_with(';'));
    assert_eq!(sexpr(cell.body.ret.as_ref().unwrap()), "n3");
    assert!(slice(cell.body.span).starts_with('{') && slice(cell.body.span).ends_with('}'));

    let Item::Block(red) = &spec.items[15] else { panic!() };
    let Stmt::Let { value, .. } = &red.body.stmts[1] else { panic!() };
    assert_eq!(sexpr(value), "(|> (|> x (call avgpool 2 stride=2 padding=0)) (call conv c 1))");
    assert_eq!(sexpr(red.body.ret.as_ref().unwrap()), "(+ main short)");

    let Item::Network { body, .. } = &spec.items[16] else { panic!() };
    assert_eq!(body.stmts.len(), 2);
    let Stmt::Let { value, .. } = &body.stmts[0] else { panic!() };
    assert_eq!(sexpr(value), "(|> (|> input (call conv C 3)) bn)");
    let Stmt::For { var, iter, body: for_body, .. } = &body.stmts[1] else { panic!() };
    assert_eq!((var.name.as_str(), sexpr(iter)), ("s", "(.. 0 3)".to_string()));
    assert_eq!(for_body.len(), 2);
    let Stmt::If { cond, then, els, .. } = &for_body[0] else { panic!() };
    assert_eq!(sexpr(cond), "(> s 0)");
    assert!(els.is_empty());
    let Stmt::Assign { name, value, .. } = &then[0] else { panic!() };
    assert_eq!(name.name, "x");
    assert_eq!(sexpr(value), "(call reduction x (* C (** 2 s)))");
    let Stmt::For { iter, body: inner, .. } = &for_body[1] else { panic!() };
    assert_eq!(sexpr(iter), "(.. 0 N)");
    assert!(matches!(&inner[0], Stmt::Assign { .. }));
    assert_eq!(sexpr(body.ret.as_ref().unwrap()), "(|> (|> (|> (|> x bn) relu) gap) (call linear classes))");
}

#[test]
fn nb201_metrics_constraints_objectives_names() {
    let spec = parse_ok(NB201);
    let metric = |i: usize| match &spec.items[i] {
        Item::Metric(m) => m.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(metric(17).value, MetricValue::Derived);
    assert_eq!(metric(18).name.name, "flops");
    assert_eq!(metric(19).value, MetricValue::External);
    let MetricValue::Expr(e) = metric(20).value else { panic!() };
    assert_eq!(sexpr(&e), "(/ flops 1000000)");
    let Item::Constraint { expr, .. } = &spec.items[21] else { panic!() };
    assert_eq!(sexpr(expr), "(<= flops 300000000)");
    let Item::Constraint { expr, .. } = &spec.items[22] else { panic!() };
    assert_eq!(sexpr(expr), "(in params (.. 0 2000000))");
    let Item::Objective { direction, metric, span } = &spec.items[23] else { panic!() };
    assert_eq!((*direction, metric.name.as_str(), slice(*span)), (Direction::Maximize, "accuracy", "maximize accuracy;"));
    let Item::Name { name, template, .. } = &spec.items[24] else { panic!() };
    assert_eq!(name.name, "arch");
    assert_eq!(template.value, "|{edge[0]}~0|+|{edge[1]}~0|{edge[2]}~1|+|{edge[3]}~0|{edge[4]}~1|{edge[5]}~2|");
    assert_eq!(slice(template.span), format!("\"{}\"", template.value));
}

#[test]
fn nb201_spans_nest_and_names_slice_back() {
    let spec = parse_ok(NB201);
    fn walk_stmts(stmts: &[Stmt]) {
        for s in stmts {
            match s {
                Stmt::Let { name, value, .. } | Stmt::Assign { name, value, .. } | Stmt::Node { name, value, .. } => {
                    assert_eq!(slice(name.span), name.name);
                    check_nested_spans(value, NB201);
                }
                Stmt::For { var, iter, body, .. } => {
                    assert_eq!(slice(var.span), var.name);
                    check_nested_spans(iter, NB201);
                    walk_stmts(body);
                }
                Stmt::If { cond, then, els, .. } => {
                    check_nested_spans(cond, NB201);
                    walk_stmts(then);
                    walk_stmts(els);
                }
            }
        }
    }
    for item in &spec.items {
        match item {
            Item::Param { name, value, .. } | Item::Let { name, value, .. } => {
                assert_eq!(slice(name.span), name.name);
                check_nested_spans(value, NB201);
            }
            Item::Block(b) => {
                assert_eq!(slice(b.name.span), b.name.name);
                for p in &b.params {
                    assert_eq!(slice(p.name.span), p.name.name);
                }
                walk_stmts(&b.body.stmts);
                if let Some(r) = &b.body.ret {
                    check_nested_spans(r, NB201);
                }
            }
            Item::Network { body, .. } => walk_stmts(&body.stmts),
            Item::Decision(d) => {
                assert_eq!(slice(d.name.span), d.name.name);
                check_nested_spans(&d.domain, NB201);
            }
            _ => {}
        }
    }
}

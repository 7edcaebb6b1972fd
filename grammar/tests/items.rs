//! Items and statements beyond the NAS-Bench-201 example.
mod common;

use common::{diags, parse_ok, sexpr};
use nasc_grammar::ast::*;

#[test]
fn block_and_network_forms() {
    let src = "block f(x, c = 2,) { let y = x; return y; }\n\
               block g(x) { node a = x; }\n\
               network = input |> f;\n";
    let spec = parse_ok(src);
    let Item::Block(f) = &spec.items[0] else { panic!() };
    assert_eq!(f.params.len(), 2);
    assert_eq!(f.body.stmts.len(), 1);
    assert_eq!(f.body.ret.as_ref().map(sexpr).as_deref(), Some("y"));
    let Item::Block(g) = &spec.items[1] else { panic!() };
    assert!(g.body.ret.is_none());
    let Item::Network { body, span } = &spec.items[2] else { panic!() };
    assert!(body.stmts.is_empty());
    assert_eq!(body.ret.as_ref().map(sexpr).as_deref(), Some("(|> input f)"));
    assert_eq!(&src[span.start..span.end], "network = input |> f;");
}

#[test]
fn else_if_nests_in_els() {
    let src = "network { if a { x = 1; } else if b { x = 2; } else { x = 3; } return x; }";
    let spec = parse_ok(src);
    let Item::Network { body, .. } = &spec.items[0] else { panic!() };
    let Stmt::If { cond, then, els, span } = &body.stmts[0] else { panic!() };
    assert_eq!(sexpr(cond), "a");
    assert_eq!(then.len(), 1);
    assert_eq!(span.start, src.find("if a").unwrap());
    let [Stmt::If { cond: c2, els: e2, span: s2, .. }] = els.as_slice() else { panic!("{els:?}") };
    assert_eq!(sexpr(c2), "b");
    assert_eq!(s2.start, src.find("if b").unwrap(), "the nested if starts at its `if`");
    assert_eq!(s2.end, span.end);
    assert!(matches!(e2.as_slice(), [Stmt::Assign { .. }]));
}

#[test]
fn decisions_optional_clauses() {
    let spec = parse_ok(
        "choice a in [1, 2];\n\
         choice b[3] in [1, 2] when a > 1;\n\
         choice c[n in 0..N] in [\"x\", \"y\"] default \"y\";\n\
         subset d[j in 0..4] of range(j + 2) size 1..3 default [0] when j in inputs[0];\n",
    );
    let ds: Vec<&Decision> = spec
        .items
        .iter()
        .map(|i| match i {
            Item::Decision(d) => d,
            _ => panic!(),
        })
        .collect();
    assert!(ds[0].dims.is_empty() && ds[0].default.is_none() && ds[0].when.is_none());
    assert_eq!(ds[1].when.as_ref().map(sexpr).as_deref(), Some("(> a 1)"));
    assert_eq!(ds[2].dims[0].var.as_ref().map(|v| v.name.as_str()), Some("n"));
    assert_eq!(ds[3].size.as_ref().map(sexpr).as_deref(), Some("(.. 1 3)"));
    assert_eq!(ds[3].default.as_ref().map(sexpr).as_deref(), Some("[0]"));
    assert_eq!(ds[3].when.as_ref().map(sexpr).as_deref(), Some("(in j (idx inputs 0))"));
}

#[test]
fn dims_with_a_param_name() {
    let spec = parse_ok("choice w[N] in [1];");
    let Item::Decision(d) = &spec.items[0] else { panic!() };
    assert!(d.dims[0].var.is_none());
    assert_eq!(sexpr(&d.dims[0].range), "N");
}

#[test]
fn other_items() {
    let spec = parse_ok(
        "let table = [1, 2];\nminimize latency;\nconstraint a && b;\ncount flops {}\ncount flops { conv, };\n\
         metric lat = lookup(\"lat.csv\", \"ms\");\n",
    );
    assert!(matches!(&spec.items[0], Item::Let { name, .. } if name.name == "table"));
    assert!(matches!(&spec.items[1], Item::Objective { direction: Direction::Minimize, .. }));
    assert!(matches!(&spec.items[3], Item::Count { terms, .. } if terms.is_empty()));
    assert!(matches!(&spec.items[4], Item::Count { terms, .. } if terms.len() == 1));
    let Item::Metric(m) = &spec.items[5] else { panic!() };
    let MetricValue::Expr(e) = &m.value else { panic!() };
    assert_eq!(sexpr(e), "(call lookup \"lat.csv\" \"ms\")");
}

#[test]
fn misplaced_return_is_reported_and_item_kept() {
    let (spec, d) = nasc_grammar::parse("block f(x) { return x; let y = 1; }\nnetwork { for i in L { return 1; } return 2; }");
    assert_eq!(spec.items.len(), 2);
    assert_eq!(d.len(), 2);
    assert!(d.iter().all(|d| d.code == "E0001" && d.message.contains("return")));
    let Item::Network { body, .. } = &spec.items[1] else { panic!() };
    assert_eq!(body.ret.as_ref().map(sexpr).as_deref(), Some("2"));
}

#[test]
fn empty_and_trivia_only_files() {
    for src in ["", "   \n\t", "// only a comment", "/* block */", "# hash\n"] {
        let (spec, d) = nasc_grammar::parse(src);
        assert!(spec.items.is_empty() && d.is_empty(), "{src:?}");
    }
    assert!(diags("\u{feff}param a = 1;").is_empty());
}

#[test]
fn crlf_line_endings() {
    let src = "// header\r\nparam a = 1;\r\nblock f(x) {\r\n  # comment\r\n  return x;\r\n}\r\n";
    let spec = parse_ok(src);
    assert_eq!(spec.items.len(), 2);
    let (spec, d) = nasc_grammar::parse("param a = ;\r\nparam b = 2;\r\n");
    assert_eq!((spec.items.len(), d.len()), (1, 1));
}

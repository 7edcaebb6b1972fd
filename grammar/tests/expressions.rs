//! Expression precedence, associativity, literals and spans.
mod common;

use common::{check_nested_spans, diags, expr, parse_ok, sx};
use nasc_grammar::ast::*;

#[test]
fn pipe_is_lowest_and_left_associative() {
    assert_eq!(sx("x |> f |> g(1)"), "(|> (|> x f) (call g 1))");
    assert_eq!(sx("a + b |> f"), "(|> (+ a b) f)");
    assert_eq!(sx("a || b |> f"), "(|> (|| a b) f)");
    assert_eq!(sx("x |> edge[3]"), "(|> x (idx edge 3))");
    assert_eq!(sx("x |> f(a, k = 2)"), "(|> x (call f a k=2))");
}

#[test]
fn logic_and_comparison_levels() {
    assert_eq!(sx("a || b && c"), "(|| a (&& b c))");
    assert_eq!(sx("a && b || c && d"), "(|| (&& a b) (&& c d))");
    assert_eq!(sx("a < b && c >= d"), "(&& (< a b) (>= c d))");
    assert_eq!(sx("a == b + 1"), "(== a (+ b 1))");
    assert_eq!(sx("x != 0 || !y"), "(|| (!= x 0) (not y))");
    assert_eq!(sx("i in inputs[j]"), "(in i (idx inputs j))");
    assert_eq!(sx("params in 1M..5M"), "(in params (.. 1000000 5000000))");
    assert_eq!(sx("a <= b"), "(<= a b)");
    assert_eq!(sx("a > b"), "(> a b)");
}

#[test]
fn ranges_bind_looser_than_arithmetic() {
    assert_eq!(sx("0..n + 1"), "(.. 0 (+ n 1))");
    assert_eq!(sx("0..=5"), "(..= 0 5)");
    assert_eq!(sx("a - 1..b * 2"), "(.. (- a 1) (* b 2))");
    assert_eq!(sx("0.5..1.5"), "(.. 0.5 1.5)");
    assert_eq!(sx("x.c..6"), "(.. (. x c) 6)");
}

#[test]
fn arithmetic_levels_and_div() {
    assert_eq!(sx("1 + 2 * 3 - 4"), "(- (+ 1 (* 2 3)) 4)");
    assert_eq!(sx("a / b div c % d"), "(% (div (/ a b) c) d)");
    assert_eq!(sx("a div 2 + 1"), "(+ (div a 2) 1)");
    assert_eq!(sx("divisor div division"), "(div divisor division)");
}

#[test]
fn power_is_right_associative_and_binds_tighter_than_unary() {
    assert_eq!(sx("2 ** 3 ** 2"), "(** 2 (** 3 2))");
    assert_eq!(sx("-a ** b"), "(neg (** a b))");
    assert_eq!(sx("2 ** -1"), "(** 2 (neg 1))");
    assert_eq!(sx("2 ** -x ** y"), "(** 2 (neg (** x y)))");
    assert_eq!(sx("a * b ** c"), "(* a (** b c))");
    assert_eq!(sx("-a * b"), "(* (neg a) b)");
    assert_eq!(sx("!!a"), "(not (not a))");
    assert_eq!(sx("- -a"), "(neg (neg a))");
    assert_eq!(sx("f(x) ** 2"), "(** (call f x) 2)");
}

#[test]
fn postfix_chains() {
    assert_eq!(sx("f(a)(b)[0].c"), "(. (idx (call (call f a) b) 0) c)");
    assert_eq!(sx("edge[0](x)"), "(call (idx edge 0) x)");
    assert_eq!(sx("k[u][j]"), "(idx (idx k u) j)");
    assert_eq!(sx("f()"), "(call f)");
    assert_eq!(sx("f(1, 2,)"), "(call f 1 2)");
}

#[test]
fn primaries() {
    assert_eq!(sx("[]"), "[]");
    assert_eq!(sx("[1, 2, 3,]"), "[1 2 3]");
    assert_eq!(sx("[[1], [2, 3]]"), "[[1] [2 3]]");
    assert_eq!(sx("[x * 2 for x in range(4)]"), "[(* x 2) for x in (call range 4)]");
    assert_eq!(sx("[x for x in L if x > 1]"), "[x for x in L if (> x 1)]");
    assert_eq!(sx("[i in L for i in M]"), "[(in i L) for i in M]");
    assert_eq!(sx("if a { 1 } else { 2 }"), "(if a 1 2)");
    assert_eq!(sx("if a { 1 } else if b { 2 } else { 3 }"), "(if a 1 (if b 2 3))");
    assert_eq!(sx("1 + if a { 1 } else { 2 }"), "(+ 1 (if a 1 2))");
    assert_eq!(sx("(a + b) * c"), "(* (+ a b) c)");
    assert_eq!(sx("true && false"), "(&& true false)");
    assert_eq!(sx("input"), "input");
    assert_eq!(sx(r#""a\"b\\c\nd\te""#), r#""a\"b\\c\nd\te""#);
    assert_eq!(sx("lookup(\"lat.csv\", \"ms\")"), "(call lookup \"lat.csv\" \"ms\")");
}

#[test]
fn keywords_are_not_identifier_prefixes() {
    assert_eq!(
        sx("index + inputs + network2 + iffy + of_ + size1 + names + trueish + default_k"),
        "(+ (+ (+ (+ (+ (+ (+ (+ index inputs) network2) iffy) of_) size1) names) trueish) default_k)"
    );
    let spec = parse_ok("param index = 1; param inputs = 2; let network2 = 3; param div2 = 4;");
    assert_eq!(spec.items.len(), 4);
}

#[test]
fn numbers() {
    let n = |s: &str| expr(s).0.kind;
    assert_eq!(n("42"), ExprKind::Int(42));
    assert_eq!(n("15_625"), ExprKind::Int(15_625));
    assert_eq!(n("4K"), ExprKind::Int(4_000));
    assert_eq!(n("300M"), ExprKind::Int(300_000_000));
    assert_eq!(n("2G"), ExprKind::Int(2_000_000_000));
    assert_eq!(n("9_223_372_036G"), ExprKind::Int(9_223_372_036_000_000_000));
    assert_eq!(n("0.5"), ExprKind::Float(0.5));
    assert_eq!(n("1e-3"), ExprKind::Float(1e-3));
    assert_eq!(n("2.5e6"), ExprKind::Float(2.5e6));
    assert_eq!(n("1.5M"), ExprKind::Float(1_500_000.0));
    assert_eq!(n("1e3K"), ExprKind::Float(1e6));
    assert_eq!(n("9223372036854775807"), ExprKind::Int(i64::MAX));
    // A range, not a float.
    assert_eq!(sx("0..6"), "(.. 0 6)");
    assert_eq!(sx("1..2M"), "(.. 1 2000000)");
}

#[test]
fn number_overflow_is_a_diagnostic() {
    for src in ["param a = 99999999999999999999;", "param a = 9999999999G;", "param a = 9223372036854775808;", "param a = 1e999;", "param a = 9223372036854775807K;"] {
        let d = diags(src);
        assert_eq!(d.len(), 1, "{src}: {d:?}");
        assert_eq!(d[0].code, "E0003");
        let span = d[0].primary.span;
        assert!(src[span.start..span.end].starts_with(|c: char| c.is_ascii_digit()), "{src}: {span:?}");
    }
}

#[test]
fn chained_comparisons_and_ranges_are_errors() {
    for src in ["param a = 1 < 2 < 3;", "param a = a == b != c;", "param a = x in L in M;", "param a = 0..1..2;", "param a = 0..1..=2;", "param a = a < b + c <= d;"] {
        let d = diags(src);
        assert_eq!(d.len(), 1, "{src}: {d:?}");
        assert_eq!(d[0].code, "E0001");
        assert!(d[0].message.contains("cannot be chained"), "{}", d[0].message);
    }
    // Parenthesized, they are fine.
    assert_eq!(sx("(a < b) == c"), "(== (< a b) c)");
    assert_eq!(sx("(0..1)..2"), "(.. (.. 0 1) 2)");
}

#[test]
fn comments() {
    let spec = parse_ok("# hash comment\nparam a = 1; // line\n/* block\n comment */ param b = /* inline */ 2; # tail\n");
    assert_eq!(spec.items.len(), 2);
    assert_eq!(sx("a /* c */ + // c\n b"), "(+ a b)");
}

#[test]
fn spans_slice_back_to_source() {
    let (e, src) = expr("(x |> edge[3]) + foo(bar, k = -2 ** y).c");
    check_nested_spans(&e, &src);
    let slice = |s: Span| &src[s.start..s.end];
    assert_eq!(slice(e.span), "(x |> edge[3]) + foo(bar, k = -2 ** y).c");
    let ExprKind::Binary { lhs, rhs, .. } = &e.kind else { panic!() };
    assert_eq!(slice(lhs.span), "x |> edge[3]");
    let ExprKind::Field { base, field } = &rhs.kind else { panic!() };
    assert_eq!(slice(field.span), "c");
    let ExprKind::Call { callee, args } = &base.kind else { panic!() };
    assert_eq!(slice(callee.span), "foo");
    assert_eq!(slice(args[1].span), "k = -2 ** y");
    assert_eq!(slice(args[1].name.as_ref().unwrap().span), "k");
    assert_eq!(slice(args[1].value.span), "-2 ** y");
    // A parenthesized name keeps the name's own span; its parent covers the parentheses.
    let (e, src) = expr("(x) + 1");
    let ExprKind::Binary { lhs, .. } = &e.kind else { panic!() };
    assert_eq!(&src[lhs.span.start..lhs.span.end], "x");
    assert_eq!(&src[e.span.start..e.span.end], "(x) + 1");
}

#[test]
fn unicode_in_strings_and_comments() {
    let spec = parse_ok("// ünïcödé ✓\nname n = \"{edge[0]}→✓\";\n");
    let Item::Name { template, .. } = &spec.items[0] else { panic!() };
    assert_eq!(template.value, "{edge[0]}→✓");
}

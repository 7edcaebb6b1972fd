//! Syntax diagnostics, error recovery and robustness.
mod common;

use common::diags;
use nasc_grammar::ast::*;
use nasc_grammar::diag::Diagnostic;

fn one(src: &str) -> Diagnostic {
    let d = diags(src);
    assert_eq!(d.len(), 1, "{src:?}: {d:#?}");
    d.into_iter().next().unwrap()
}

fn text(src: &str, span: Span) -> &str {
    &src[span.start..span.end]
}

#[test]
fn recovery_reports_every_broken_item_and_keeps_the_good_ones() {
    let src = "space s;\n\
               param a = ;\n\
               param b = 2;\n\
               block f(x) {\n  let y = x +;\n  let z = 1;\n  return z;\n}\n\
               choice c in [1, 2] default\n\
               metric params;\n\
               maximize acc;\n";
    let (spec, d) = nasc_grammar::parse(src);
    assert_eq!(d.len(), 3, "{d:#?}");
    assert!(d.iter().all(|d| d.code == "E0001" && d.message.starts_with("syntax error: expected")));
    let names: Vec<String> = spec
        .items
        .iter()
        .map(|i| match i {
            Item::Space(n) => n.name.clone(),
            Item::Param { name, .. } => name.name.clone(),
            Item::Metric(m) => m.name.name.clone(),
            Item::Objective { metric, .. } => metric.name.clone(),
            other => panic!("unexpected item {other:?}"),
        })
        .collect();
    assert_eq!(names, ["s", "b", "params", "acc"]);
    // Sorted by position, each inside its broken item.
    assert!(d.windows(2).all(|w| w[0].primary.span.start <= w[1].primary.span.start));
    assert_eq!(d[0].message, "syntax error: expected an expression");
    assert_eq!(text(src, d[0].primary.span), ";");
    assert_eq!(d[1].message, "syntax error: expected an expression");
    assert_eq!(d[2].message, "syntax error: expected an expression");
}

#[test]
fn missing_semicolon_points_after_the_previous_token() {
    let src = "param N = 5\nparam side = 32;\n";
    let (spec, d) = nasc_grammar::parse(src);
    assert_eq!(spec.items.len(), 1, "the next item is kept");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "syntax error: expected `;`");
    assert_eq!(d[0].primary.span, Span::new(11, 12));
    assert_eq!(d[0].primary.message, "expected `;`");
    assert_eq!(d[0].help.as_deref(), Some("add `;` at the end of the item"));
    assert_eq!(text(src, d[0].secondary[0].span), "param");
}

#[test]
fn floor_division_written_as_a_comment_hints_div() {
    let (_, d) = nasc_grammar::parse("let a = 72 // 4;\nparam b = 1;\n");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "syntax error: expected `;`");
    assert_eq!(d[0].help.as_deref(), Some("`//` starts a comment, so `// 4;` was ignored; integer division is `div` (e.g. `72 div 4`)"));
    // a real comment after a missing `;` keeps the usual help
    let (_, d) = nasc_grammar::parse("let a = 72 // the width\nparam b = 1;\n");
    assert_eq!(d[0].help.as_deref(), Some("add `;` at the end of the item"));
}

#[test]
fn expected_lists_are_human() {
    let d = one("choice x in [1, 2] foo;");
    assert_eq!(d.message, "syntax error: expected `;`, `default` or `when`");
    assert_eq!(d.primary.message, "expected `;`, `default` or `when`");
    assert_eq!(one("param a = f(1 2);").message, "syntax error: expected `)` or `,`");
    assert_eq!(one("param a = (1 + 2;").message, "syntax error: expected `)`");
    assert_eq!(one("choice x;").message, "syntax error: expected `[` or `in`");
    assert_eq!(one("subset x of L;").message, "syntax error: expected `size`");
    assert_eq!(one("param = 1;").message, "syntax error: expected an identifier");
    assert_eq!(one("block f(x) = x").message, "syntax error: expected `;`");
    assert_eq!(one("block f(x)").message, "syntax error: expected `=` or `{`");
    assert_eq!(one("name n = x;").message, "syntax error: expected a string");
    assert_eq!(one("network { let = 1; return 1; }").message, "syntax error: expected an identifier");
    let d = one("parm x = 1;");
    assert!(d.message.starts_with("syntax error: expected an item (space, param, let,"), "{}", d.message);
    assert_eq!(d.help.as_deref(), Some("did you mean `param`?"));
}

#[test]
fn keyword_used_as_a_name() {
    let src = "let block = 3;";
    let d = one(src);
    assert_eq!(d.message, "syntax error: expected an identifier, found keyword `block`");
    assert_eq!(text(src, d.primary.span), "block");
    assert!(d.help.is_some());
    assert!(one("block f(in) = 1;").message.ends_with("found keyword `in`"));
}

#[test]
fn missing_closing_brace() {
    let src = "block f(x) {\n  let y = x;\n\nnetwork = input;\n";
    let (spec, d) = nasc_grammar::parse(src);
    assert_eq!(spec.items.len(), 1, "the network is kept");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "syntax error: expected `}` or a statement");
    assert_eq!(d[0].help.as_deref(), Some("a `}` may be missing before this item"));
}

#[test]
fn indented_lets_inside_a_broken_block_do_not_resync() {
    let src = "block f(x) {\n  let a = ;\n  let b = x;\n  return b;\n}\nparam p = 1;\n";
    let (spec, d) = nasc_grammar::parse(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(spec.items.len(), 1);
}

#[test]
fn unterminated_string() {
    let src = "name a = \"abc\nparam b = 2;\n";
    let (spec, d) = nasc_grammar::parse(src);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, "E0002");
    assert_eq!(d[0].message, "unterminated string literal");
    assert_eq!(d[0].primary.span, Span::new(9, 10));
    assert_eq!(spec.items.len(), 1, "the next line is parsed");
    let d = one("param a = \"abc\\");
    assert_eq!(d.code, "E0002");
}

#[test]
fn unterminated_block_comment() {
    let src = "param a = 1;\n/* never closed\nparam b = 2;\n";
    let (spec, d) = nasc_grammar::parse(src);
    assert_eq!(spec.items.len(), 1);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "E0002");
    assert_eq!(d[0].message, "unterminated block comment");
    assert_eq!(text(src, d[0].primary.span), "/*");
    // Inside an item, too: only the lexical error is reported.
    let d = one("param a = 1 + /* oops");
    assert_eq!(d.code, "E0002");
}

#[test]
fn unknown_escape() {
    let d = one(r#"param a = "x\qy";"#);
    assert_eq!(d.code, "E0002");
    assert!(d.message.contains(r"\q"));
}

#[test]
fn floor_division_is_div_and_double_slash_is_a_comment() {
    // `a // b;` comments out `b;`, so the item lacks its `;`.
    let (_, d) = nasc_grammar::parse("param a = 7 // 2;\nparam b = 1;");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "syntax error: expected `;`");
}

fn nested(open: &str, close: &str, n: usize) -> String {
    format!("param a = {}1{};\nparam b = 2;\n", open.repeat(n), close.repeat(n))
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let limit = nasc_grammar::parse::MAX_NESTING;
    for (open, close) in [("(", ")"), ("[", "]"), ("f(", ")"), ("-(", ")"), ("if c { ", " } else { 0 }")] {
        let (spec, d) = nasc_grammar::parse(&nested(open, close, limit));
        assert!(d.is_empty(), "{open}: {d:?}");
        assert_eq!(spec.items.len(), 2);
    }
    let body = format!("network {{ {}{} return 1; }}", "for i in x { ".repeat(limit - 1), "}".repeat(limit - 1));
    assert!(diags(&body).is_empty());
}

#[test]
fn nesting_beyond_the_limit_is_one_diagnostic() {
    for n in [257, 300, 100_000] {
        let (spec, d) = nasc_grammar::parse(&nested("(", ")", n));
        assert_eq!(d.len(), 1, "{n}: {d:?}");
        assert_eq!(d[0].code, "E0001");
        assert!(d[0].message.contains("nested too deeply"));
        assert_eq!(spec.items.len(), 1, "the next item is kept");
    }
    let unclosed = format!("param a = {}", "[".repeat(100_000));
    assert_eq!(diags(&unclosed).len(), 1);
}

#[test]
fn long_operator_chains_are_capped_not_crashing() {
    for src in [
        format!("param a = 1{};", " + 1".repeat(100_000)),
        format!("param a = 1{};", " ** 1".repeat(100_000)),
        format!("param a = {}1;", "-".repeat(100_000)),
        format!("param a = 1{};", " |> f".repeat(100_000)),
        format!("network {{ if a {{}} {} return 1; }}", "else if b {} ".repeat(10_000)),
        format!("param a = x{};", ".c".repeat(100_000)),
    ] {
        let d = diags(&src);
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("too deeply") || d[0].message.contains("else if"), "{}", d[0].message);
    }
    // Moderate chains are fine.
    assert!(diags(&format!("param a = 1{};", " + 1".repeat(400))).is_empty());
}

/// A small deterministic generator (no dependency on a property-testing crate).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

#[test]
fn never_panics_on_truncated_or_mutated_input() {
    let example = include_str!("data/nb201_example.nas");
    // Every prefix (at char boundaries).
    for end in (0..=example.len()).filter(|i| example.is_char_boundary(*i)) {
        let (_, _) = nasc_grammar::parse(&example[..end]);
    }
    // Random byte-level edits, kept valid UTF-8.
    let pieces =
        ["(", ")", "[", "]", "{", "}", ";", "\"", "/*", "*/", "//", "#", "..", "|>", "**", "1e", "9G", "div", "let", "block", "\n", " ", "é", "\\", "=", "return", "else if", "0x"];
    let mut rng = Lcg(7);
    for _ in 0..600 {
        let mut s = example.to_string();
        for _ in 0..(1 + rng.next() % 4) {
            let mut at = rng.next() % (s.len() + 1);
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            if rng.next().is_multiple_of(2) {
                s.insert_str(at, pieces[rng.next() % pieces.len()]);
            } else {
                let mut to = (at + rng.next() % 8).min(s.len());
                while !s.is_char_boundary(to) {
                    to -= 1;
                }
                s.replace_range(at..to, "");
            }
        }
        let (spec, d) = nasc_grammar::parse(&s);
        for diag in &d {
            let span = diag.primary.span;
            assert!(span.start <= span.end && span.end <= s.len(), "{span:?} in {s:?}");
            assert!(s.is_char_boundary(span.start) && s.is_char_boundary(span.end), "{span:?} in {s:?}");
            for l in &diag.secondary {
                assert!(s.is_char_boundary(l.span.start) && s.is_char_boundary(l.span.end) && l.span.end <= s.len());
            }
        }
        assert!(spec.span.end == s.len());
    }
}

#[test]
fn glued_number_suffix() {
    let src = "param a = 3x;";
    let d = one(src);
    assert_eq!(d.message, "syntax error: invalid number literal `3x`");
    assert_eq!(text(src, d.primary.span), "3x");
    assert_eq!(one("param a = 1Mb;").message, "syntax error: invalid number literal `1Mb`");
}

#[test]
fn expression_statement_gets_help() {
    let d = one("block f(x) { x |> relu; }");
    assert_eq!(d.message, "syntax error: expected `=`");
    assert!(d.help.as_deref().is_some_and(|h| h.contains("let x")));
}

#[test]
fn many_broken_items_are_all_reported() {
    let src: String = (0..500).map(|i| format!("param p{i} = ;\nparam q{i} = {i};\n")).collect();
    let (spec, d) = nasc_grammar::parse(&src);
    assert_eq!(d.len(), 500);
    assert_eq!(spec.items.len(), 500);
}

#[test]
fn shallow_and_medium_nesting_in_a_test_thread() {
    for n in [1, 31, 32, 33, 64] {
        for (open, close) in [("(", ")"), ("f(", ")"), ("if c { ", " } else { 0 }")] {
            assert!(diags(&nested(open, close, n)).is_empty(), "{open} x{n}");
        }
    }
}

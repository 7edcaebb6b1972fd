//! Helpers shared by the parser tests.
#![allow(dead_code)]

use nasc_grammar::ast::*;
use nasc_grammar::diag::Diagnostic;

/// Parse and require no diagnostics.
pub fn parse_ok(src: &str) -> Spec {
    let (spec, diags) = nasc_grammar::parse(src);
    assert!(diags.is_empty(), "unexpected diagnostics for {src:?}: {diags:#?}");
    spec
}

/// Parse and return the diagnostics.
pub fn diags(src: &str) -> Vec<Diagnostic> {
    nasc_grammar::parse(src).1
}

/// The expression `e` of `param x = e;`, with the source it was parsed from.
pub fn expr(e: &str) -> (Expr, String) {
    let src = format!("param x = {e};");
    let spec = parse_ok(&src);
    match spec.items.into_iter().next() {
        Some(Item::Param { value, .. }) => (value, src),
        other => panic!("expected a param, got {other:?}"),
    }
}

/// The S-expression of `e` (parsed as in [`expr`]).
pub fn sx(e: &str) -> String {
    sexpr(&expr(e).0)
}

fn bin(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::IntDiv => "div",
        BinOp::Mod => "%",
        BinOp::Pow => "**",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::And => "&&",
        BinOp::Or => "||",
        BinOp::In => "in",
    }
}

/// A compact, fully parenthesized rendering of an expression.
pub fn sexpr(e: &Expr) -> String {
    let list = |es: &[Expr]| es.iter().map(sexpr).collect::<Vec<_>>().join(" ");
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Float(v) => format!("{v:?}"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Name(n) => n.clone(),
        ExprKind::List(items) => format!("[{}]", list(items)),
        ExprKind::Comprehension { body, var, iter, cond } => match cond {
            Some(c) => format!("[{} for {} in {} if {}]", sexpr(body), var.name, sexpr(iter), sexpr(c)),
            None => format!("[{} for {} in {}]", sexpr(body), var.name, sexpr(iter)),
        },
        ExprKind::Range { lo, hi, inclusive } => {
            format!("({} {} {})", if *inclusive { "..=" } else { ".." }, sexpr(lo), sexpr(hi))
        }
        ExprKind::Index { base, index } => format!("(idx {} {})", sexpr(base), sexpr(index)),
        ExprKind::Field { base, field } => format!("(. {} {})", sexpr(base), field.name),
        ExprKind::Call { callee, args } => {
            let mut s = format!("(call {}", sexpr(callee));
            for a in args {
                match &a.name {
                    Some(n) => s.push_str(&format!(" {}={}", n.name, sexpr(&a.value))),
                    None => s.push_str(&format!(" {}", sexpr(&a.value))),
                }
            }
            s + ")"
        }
        ExprKind::Pipe { input, func } => format!("(|> {} {})", sexpr(input), sexpr(func)),
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", bin(*op), sexpr(lhs), sexpr(rhs))
        }
        ExprKind::Unary { op, operand } => {
            format!("({} {})", if *op == UnOp::Neg { "neg" } else { "not" }, sexpr(operand))
        }
        ExprKind::IfElse { cond, then, els } => {
            format!("(if {} {} {})", sexpr(cond), sexpr(then), sexpr(els))
        }
    }
}

/// Every span in an expression tree must lie inside its parent's span.
pub fn check_nested_spans(e: &Expr, src: &str) {
    assert!(e.span.start <= e.span.end && e.span.end <= src.len(), "bad span {:?}", e.span);
    let children: Vec<&Expr> = match &e.kind {
        ExprKind::List(items) => items.iter().collect(),
        ExprKind::Comprehension { body, iter, cond, .. } => {
            let mut v = vec![&**body, &**iter];
            v.extend(cond.as_deref());
            v
        }
        ExprKind::Range { lo, hi, .. } => vec![lo, hi],
        ExprKind::Index { base, index } => vec![base, index],
        ExprKind::Field { base, .. } => vec![base],
        ExprKind::Call { callee, args } => {
            let mut v = vec![&**callee];
            v.extend(args.iter().map(|a| &a.value));
            v
        }
        ExprKind::Pipe { input, func } => vec![input, func],
        ExprKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
        ExprKind::Unary { operand, .. } => vec![operand],
        ExprKind::IfElse { cond, then, els } => vec![cond, then, els],
        _ => vec![],
    };
    for c in children {
        assert!(e.span.start <= c.span.start && c.span.end <= e.span.end, "child {:?} outside {:?}", c.span, e.span);
        check_nested_spans(c, src);
    }
    if let ExprKind::Name(n) = &e.kind {
        assert_eq!(&src[e.span.start..e.span.end], n);
    }
}

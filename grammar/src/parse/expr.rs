//! Building expressions: operator precedence, associativity, literals.
//!
//! The grammar parses an expression flat, `operand (binop operand)*`, where an operand is
//! `prefix* primary postfix*`. Here `**` chains are folded first (right associative, binding
//! tighter than the prefix operators: `-a ** b` is `-(a ** b)`, `2 ** -1` is allowed), then the
//! other binary operators by precedence climbing (shunting-yard, no recursion), rejecting
//! chained comparisons and chained ranges.
//!
//! Every node's nesting depth is tracked and capped at [`MAX_EXPR_DEPTH`] so that the AST (and
//! every recursive pass over it, dropping included) stays shallow.

use pest::iterators::Pair;

use super::build::{internal_error, BuildResult, Builder};
use super::grammar::Rule;
use crate::ast::*;
use crate::diag::Diagnostic;

/// The deepest expression tree the parser builds.
pub const MAX_EXPR_DEPTH: usize = 512;

/// An expression, the height of its tree, and its outer span: its own span widened to the
/// parentheses around it, if any. A node's own span never includes redundant parentheses
/// around it (so a name's span is exactly the name), but always covers its children's outer
/// spans (so `(a + b) * c` spans all of its text).
struct Sub {
    expr: Expr,
    depth: usize,
    outer: Span,
}

/// A binary operator of precedence levels 1 to 7 (`**` is handled apart).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Infix {
    Pipe,
    Range { inclusive: bool },
    Bin(BinOp),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Assoc {
    Left,
    Non,
}

impl Infix {
    fn from_rule(rule: Rule) -> Option<Infix> {
        Some(match rule {
            Rule::op_pipe => Infix::Pipe,
            Rule::op_or => Infix::Bin(BinOp::Or),
            Rule::op_and => Infix::Bin(BinOp::And),
            Rule::op_eq => Infix::Bin(BinOp::Eq),
            Rule::op_ne => Infix::Bin(BinOp::Ne),
            Rule::op_lt => Infix::Bin(BinOp::Lt),
            Rule::op_le => Infix::Bin(BinOp::Le),
            Rule::op_gt => Infix::Bin(BinOp::Gt),
            Rule::op_ge => Infix::Bin(BinOp::Ge),
            Rule::op_in => Infix::Bin(BinOp::In),
            Rule::op_range => Infix::Range { inclusive: false },
            Rule::op_range_incl => Infix::Range { inclusive: true },
            Rule::op_add => Infix::Bin(BinOp::Add),
            Rule::op_sub => Infix::Bin(BinOp::Sub),
            Rule::op_mul => Infix::Bin(BinOp::Mul),
            Rule::op_div => Infix::Bin(BinOp::Div),
            Rule::op_intdiv => Infix::Bin(BinOp::IntDiv),
            Rule::op_mod => Infix::Bin(BinOp::Mod),
            _ => return None,
        })
    }

    /// Precedence (higher binds tighter) and associativity, as in `docs/LANGUAGE.md`.
    fn precedence(self) -> (u8, Assoc) {
        match self {
            Infix::Pipe => (1, Assoc::Left),
            Infix::Bin(BinOp::Or) => (2, Assoc::Left),
            Infix::Bin(BinOp::And) => (3, Assoc::Left),
            Infix::Bin(BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In) => (4, Assoc::Non),
            Infix::Range { .. } => (5, Assoc::Non),
            Infix::Bin(BinOp::Add | BinOp::Sub) => (6, Assoc::Left),
            Infix::Bin(BinOp::Mul | BinOp::Div | BinOp::IntDiv | BinOp::Mod) => (7, Assoc::Left),
            Infix::Bin(BinOp::Pow) => (9, Assoc::Left),
        }
    }
}

/// One operand of the flat list: prefix operators (outermost first) and the postfix expression.
struct Operand {
    prefixes: Vec<(UnOp, Span)>,
    base: Sub,
}

impl Builder<'_> {
    /// Build an `expr` pair.
    pub fn expr(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Expr> {
        Ok(self.expr_sub(pair)?.expr)
    }

    fn too_deep(&self, span: Span) -> Box<Diagnostic> {
        Box::new(
            Diagnostic::error("E0001", format!("syntax error: expression nested too deeply (more than {MAX_EXPR_DEPTH} levels)"), span, "this expression is too deep")
                .with_help("split the expression with `let` bindings"),
        )
    }

    /// Wrap a node whose children have heights `depths`.
    fn node(&self, kind: ExprKind, span: Span, depths: &[usize]) -> BuildResult<Sub> {
        let depth = 1 + depths.iter().copied().max().unwrap_or(0);
        if depth > MAX_EXPR_DEPTH {
            return Err(self.too_deep(span));
        }
        Ok(Sub { expr: Expr { kind, span }, depth, outer: span })
    }

    fn expr_sub(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Sub> {
        let span = self.span(&pair);
        if pair.as_rule() != Rule::expr {
            return Err(internal_error(span, "an expression"));
        }
        let mut inner = pair.into_inner();
        let first = inner.next().ok_or_else(|| internal_error(span, "an operand"))?;
        // Fold `**` chains into units, keeping the other operators between units.
        let mut units: Vec<Sub> = Vec::new();
        let mut ops: Vec<(Infix, Span)> = Vec::new();
        let mut chain = vec![self.operand(first)?];
        while let Some(op) = inner.next() {
            let operand = inner.next().ok_or_else(|| internal_error(span, "an operand"))?;
            let operand = self.operand(operand)?;
            if op.as_rule() == Rule::op_pow {
                chain.push(operand);
                continue;
            }
            let infix = Infix::from_rule(op.as_rule()).ok_or_else(|| internal_error(span, "an operator"))?;
            units.push(self.fold_pow(std::mem::replace(&mut chain, vec![operand]))?);
            ops.push((infix, self.span(&op)));
        }
        units.push(self.fold_pow(chain)?);
        self.climb(units, ops, span)
    }

    /// `p0 a0 ** p1 a1 ** p2 a2` is `p0 (a0 ** p1 (a1 ** p2 a2))`.
    fn fold_pow(&mut self, chain: Vec<Operand>) -> BuildResult<Sub> {
        let mut acc: Option<Sub> = None;
        for part in chain.into_iter().rev() {
            let value = match acc {
                None => part.base,
                Some(rhs) => {
                    let lhs = part.base;
                    let span = lhs.outer.join(rhs.outer);
                    let depths = [lhs.depth, rhs.depth];
                    let kind = ExprKind::Binary { op: BinOp::Pow, lhs: Box::new(lhs.expr), rhs: Box::new(rhs.expr) };
                    self.node(kind, span, &depths)?
                }
            };
            acc = Some(self.apply_prefixes(part.prefixes, value)?);
        }
        acc.ok_or_else(|| internal_error(Span::default(), "an operand"))
    }

    fn apply_prefixes(&mut self, prefixes: Vec<(UnOp, Span)>, mut value: Sub) -> BuildResult<Sub> {
        for (op, op_span) in prefixes.into_iter().rev() {
            let span = op_span.join(value.outer);
            let depth = value.depth;
            value = self.node(ExprKind::Unary { op, operand: Box::new(value.expr) }, span, &[depth])?;
        }
        Ok(value)
    }

    /// Precedence climbing over `units[0] ops[0] units[1] ...` with an explicit stack.
    fn climb(&mut self, units: Vec<Sub>, ops: Vec<(Infix, Span)>, span: Span) -> BuildResult<Sub> {
        let mut values: Vec<Sub> = Vec::with_capacity(units.len());
        let mut stack: Vec<(Infix, Span)> = Vec::new();
        let mut units = units.into_iter();
        values.push(units.next().ok_or_else(|| internal_error(span, "an operand"))?);
        for ((op, op_span), unit) in ops.into_iter().zip(units) {
            let (prec, _) = op.precedence();
            while let Some(&(top, top_span)) = stack.last() {
                let (top_prec, top_assoc) = top.precedence();
                if top_prec == prec && top_assoc == Assoc::Non {
                    return Err(chained_error(top, top_span, op_span));
                }
                if top_prec < prec {
                    break;
                }
                stack.pop();
                self.reduce(&mut values, top, span)?;
            }
            stack.push((op, op_span));
            values.push(unit);
        }
        while let Some((top, _)) = stack.pop() {
            self.reduce(&mut values, top, span)?;
        }
        match (values.pop(), values.is_empty()) {
            (Some(v), true) => Ok(v),
            _ => Err(internal_error(span, "a single expression")),
        }
    }

    fn reduce(&mut self, values: &mut Vec<Sub>, op: Infix, span: Span) -> BuildResult<()> {
        let (Some(rhs), Some(lhs)) = (values.pop(), values.pop()) else {
            return Err(internal_error(span, "two operands"));
        };
        let node_span = lhs.outer.join(rhs.outer);
        let depths = [lhs.depth, rhs.depth];
        let (lhs, rhs) = (Box::new(lhs.expr), Box::new(rhs.expr));
        let kind = match op {
            Infix::Pipe => ExprKind::Pipe { input: lhs, func: rhs },
            Infix::Range { inclusive } => ExprKind::Range { lo: lhs, hi: rhs, inclusive },
            Infix::Bin(op) => ExprKind::Binary { op, lhs, rhs },
        };
        values.push(self.node(kind, node_span, &depths)?);
        Ok(())
    }

    /// An `operand` pair: prefix operators, a primary and postfix operations.
    fn operand(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Operand> {
        let span = self.span(&pair);
        let mut prefixes = Vec::new();
        let mut base: Option<Sub> = None;
        for part in pair.into_inner() {
            match (part.as_rule(), base.take()) {
                (Rule::op_neg, None) => prefixes.push((UnOp::Neg, self.span(&part))),
                (Rule::op_not, None) => prefixes.push((UnOp::Not, self.span(&part))),
                (_, None) => base = Some(self.primary(part)?),
                (_, Some(b)) => base = Some(self.postfix(b, part)?),
            }
        }
        let base = base.ok_or_else(|| internal_error(span, "a primary expression"))?;
        Ok(Operand { prefixes, base })
    }

    /// Apply one postfix operation (call, index, field) to `base`.
    fn postfix(&mut self, base: Sub, pair: Pair<'_, Rule>) -> BuildResult<Sub> {
        let span = base.outer.join(self.span(&pair));
        let rule = pair.as_rule();
        let mut c = self.children(pair);
        match rule {
            Rule::call_args => {
                let mut args = Vec::new();
                let mut depths = vec![base.depth];
                while let Some(arg) = c.next_if(Rule::arg) {
                    let arg_span = self.span(&arg);
                    let mut ac = self.children(arg);
                    let name = match ac.next_if(Rule::arg_name) {
                        Some(n) => Some(self.ident(&self.children(n).expect(Rule::ident)?)),
                        None => None,
                    };
                    let value = self.expr_sub(ac.expect(Rule::expr)?)?;
                    depths.push(value.depth);
                    args.push(Arg { name, value: value.expr, span: arg_span });
                }
                self.node(ExprKind::Call { callee: Box::new(base.expr), args }, span, &depths)
            }
            Rule::index => {
                let index = self.expr_sub(c.expect(Rule::expr)?)?;
                let depths = [base.depth, index.depth];
                self.node(ExprKind::Index { base: Box::new(base.expr), index: Box::new(index.expr) }, span, &depths)
            }
            Rule::field => {
                let field = self.ident(&c.expect(Rule::ident)?);
                let depth = base.depth;
                self.node(ExprKind::Field { base: Box::new(base.expr), field }, span, &[depth])
            }
            _ => Err(internal_error(span, "a call, index or field")),
        }
    }

    fn leaf(&self, kind: ExprKind, span: Span) -> Sub {
        Sub { expr: Expr { kind, span }, depth: 1, outer: span }
    }

    /// A primary expression.
    fn primary(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Sub> {
        let span = self.span(&pair);
        Ok(match pair.as_rule() {
            Rule::number => {
                let kind = self.number(pair)?;
                self.leaf(kind, span)
            }
            Rule::string => {
                let lit = self.str_lit(pair);
                self.leaf(ExprKind::Str(lit.value), span)
            }
            Rule::kw_true => self.leaf(ExprKind::Bool(true), span),
            Rule::kw_false => self.leaf(ExprKind::Bool(false), span),
            Rule::kw_input | Rule::ident => self.leaf(ExprKind::Name(pair.as_str().to_string()), span),
            Rule::paren_expr => {
                // No node for the parentheses; only the outer span covers them.
                let mut inner = self.expr_sub(self.children(pair).expect(Rule::expr)?)?;
                inner.outer = span;
                inner
            }
            Rule::list_expr => self.list(pair)?,
            Rule::if_expr => self.if_expr(pair)?,
            _ => return Err(internal_error(span, "an expression")),
        })
    }

    /// `[a, b]`, `[]` or `[body for var in iter if cond]`.
    fn list(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Sub> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        let Some(first) = c.next_if(Rule::expr) else {
            return self.node(ExprKind::List(Vec::new()), span, &[]);
        };
        let first = self.expr_sub(first)?;
        let tail = c.expect_any()?;
        match tail.as_rule() {
            Rule::comp_tail => {
                let mut tc = self.children(tail);
                let var = self.ident(&tc.expect(Rule::ident)?);
                let iter = self.expr_sub(tc.expect(Rule::expr)?)?;
                let cond = match tc.next_if(Rule::comp_cond) {
                    Some(cc) => Some(self.expr_sub(self.children(cc).expect(Rule::expr)?)?),
                    None => None,
                };
                let depths = [first.depth, iter.depth, cond.as_ref().map_or(0, |c| c.depth)];
                let kind = ExprKind::Comprehension { body: Box::new(first.expr), var, iter: Box::new(iter.expr), cond: cond.map(|c| Box::new(c.expr)) };
                self.node(kind, span, &depths)
            }
            _ => {
                let mut depths = vec![first.depth];
                let mut items = vec![first.expr];
                let mut tc = self.children(tail);
                while let Some(e) = tc.next_if(Rule::expr) {
                    let e = self.expr_sub(e)?;
                    depths.push(e.depth);
                    items.push(e.expr);
                }
                self.node(ExprKind::List(items), span, &depths)
            }
        }
    }

    /// `if c { a } else if d { b } else { e }`, nesting `else if` in `els`.
    fn if_expr(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Sub> {
        let span = self.span(&pair);
        // (start of the `if`, condition, value) per branch, then the final `else` value.
        let mut branches: Vec<(usize, Sub, Sub)> = Vec::new();
        let mut start = span.start;
        let mut cond: Option<Sub> = None;
        let mut els: Option<Sub> = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::kw_if => start = self.span(&part).start,
                Rule::expr => cond = Some(self.expr_sub(part)?),
                Rule::expr_block => {
                    let value = self.expr_sub(self.children(part).expect(Rule::expr)?)?;
                    match cond.take() {
                        Some(c) => branches.push((start, c, value)),
                        None => els = Some(value),
                    }
                }
                _ => {}
            }
        }
        let mut acc = els.ok_or_else(|| internal_error(span, "an `else` branch"))?;
        while let Some((start, cond, then)) = branches.pop() {
            let depths = [cond.depth, then.depth, acc.depth];
            let kind = ExprKind::IfElse { cond: Box::new(cond.expr), then: Box::new(then.expr), els: Box::new(acc.expr) };
            acc = self.node(kind, Span::new(start, span.end), &depths)?;
        }
        Ok(acc)
    }

    /// A number literal: `42`, `15_625`, `300M` (an int), `0.5`, `1e-3`, `1.5M` (a float).
    fn number(&mut self, pair: Pair<'_, Rule>) -> BuildResult<ExprKind> {
        let span = self.span(&pair);
        let lit = pair.into_inner().next().ok_or_else(|| internal_error(span, "a number"))?;
        let is_float = lit.as_rule() == Rule::float_lit;
        let mut body = "";
        let mut suffix = None;
        for part in lit.into_inner() {
            match part.as_rule() {
                Rule::si_suffix => suffix = Some(part.as_str()),
                _ => body = part.as_str(),
            }
        }
        let digits: String = body.chars().filter(|c| *c != '_').collect();
        let scale: i64 = match suffix {
            Some("K") => 1_000,
            Some("M") => 1_000_000,
            Some("G") => 1_000_000_000,
            _ => 1,
        };
        if is_float {
            let value = digits.parse::<f64>().map(|v| v * scale as f64);
            return match value {
                Ok(v) if v.is_finite() => Ok(ExprKind::Float(v)),
                _ => {
                    self.diags
                        .push(Diagnostic::error("E0003", "float literal out of range", span, "this number is too large").with_note("floats are 64-bit (at most about 1.8e308)"));
                    Ok(ExprKind::Float(f64::MAX))
                }
            };
        }
        match digits.parse::<i64>().ok().and_then(|v| v.checked_mul(scale)) {
            Some(v) => Ok(ExprKind::Int(v)),
            None => {
                self.diags.push(
                    Diagnostic::error("E0003", "integer literal out of range", span, "this number is too large")
                        .with_note(format!("integers are 64-bit signed (at most {})", i64::MAX))
                        .with_help("write it as a float (e.g. `1e20`) if an approximate value is fine"),
                );
                Ok(ExprKind::Int(i64::MAX))
            }
        }
    }

    /// A string literal, unescaped. Unknown escapes are reported (`E0002`) and kept verbatim.
    pub fn str_lit(&mut self, pair: Pair<'_, Rule>) -> StrLit {
        let span = self.span(&pair);
        let mut value = String::new();
        for part in pair.into_inner() {
            let text = part.as_str();
            if part.as_rule() != Rule::str_escape {
                value.push_str(text);
                continue;
            }
            match text.chars().nth(1) {
                Some('"') => value.push('"'),
                Some('\\') => value.push('\\'),
                Some('n') => value.push('\n'),
                Some('t') => value.push('\t'),
                _ => {
                    let escape_span = self.span(&part);
                    self.diags.push(
                        Diagnostic::error("E0002", format!("unknown escape `{text}` in string literal"), escape_span, "unknown escape")
                            .with_help("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`"),
                    );
                    value.push_str(text);
                }
            }
        }
        StrLit { value, span }
    }
}

/// `a < b < c` or `a..b..c`.
fn chained_error(first: Infix, first_span: Span, second_span: Span) -> Box<Diagnostic> {
    let (what, help) = match first {
        Infix::Range { .. } => ("range operators", "add parentheses to say which range is meant"),
        _ => ("comparison operators", "combine comparisons with `&&` (`a < b && b < c`), or add parentheses"),
    };
    Box::new(Diagnostic::error("E0001", format!("syntax error: {what} cannot be chained"), second_span, "second operator").with_label(first_span, "first operator").with_help(help))
}

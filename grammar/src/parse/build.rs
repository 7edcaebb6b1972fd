//! Building AST items and statements from pest pairs. Expressions are in `expr.rs`.

use pest::iterators::Pair;

use super::grammar::Rule;
use super::scan::{Scan, MAX_NESTING};
use crate::ast::*;
use crate::diag::Diagnostic;

/// The result of building one node. An `Err` drops the item being built (the diagnostic says
/// why); non-fatal problems are pushed to [`Builder::diags`] instead.
pub type BuildResult<T> = Result<T, Box<Diagnostic>>;

/// Builds AST nodes from the pairs of one item, shifting spans by the item's offset.
pub struct Builder<'a> {
    /// The whole spec.
    src: &'a str,
    /// Its pre-scan (for trimming trailing comments off spans).
    scan: &'a Scan,
    /// Byte offset of the parsed text within the spec.
    pub off: usize,
    /// Non-fatal diagnostics found while building (literal overflow, bad escapes, misplaced
    /// `return`).
    pub diags: Vec<Diagnostic>,
}

/// Whether a rule is a bare token (punctuation or a keyword that carries no information once
/// the enclosing rule is known); such pairs are skipped by [`Children`].
fn is_bare_token(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::semi
            | Rule::comma
            | Rule::lparen
            | Rule::rparen
            | Rule::lbracket
            | Rule::rbracket
            | Rule::lbrace
            | Rule::rbrace
            | Rule::assign
            | Rule::dot
            | Rule::call_open
            | Rule::index_open
            | Rule::kw_space
            | Rule::kw_param
            | Rule::kw_let
            | Rule::kw_count
            | Rule::kw_choice
            | Rule::kw_subset
            | Rule::kw_in
            | Rule::kw_of
            | Rule::kw_size
            | Rule::kw_default
            | Rule::kw_when
            | Rule::kw_block
            | Rule::kw_network
            | Rule::kw_metric
            | Rule::kw_constraint
            | Rule::kw_name
            | Rule::kw_node
            | Rule::kw_for
            | Rule::kw_if
            | Rule::kw_else
            | Rule::kw_return
    )
}

/// The significant children of a pair, consumed in order.
pub struct Children<'i> {
    pairs: std::vec::IntoIter<Pair<'i, Rule>>,
    peeked: Option<Pair<'i, Rule>>,
    /// The parent's span, for internal errors.
    span: Span,
}

impl<'i> Children<'i> {
    /// The next child, whatever its rule.
    pub fn next(&mut self) -> Option<Pair<'i, Rule>> {
        self.peeked.take().or_else(|| self.pairs.next())
    }
    /// The next child if it has rule `rule`.
    pub fn next_if(&mut self, rule: Rule) -> Option<Pair<'i, Rule>> {
        let pair = self.next()?;
        if pair.as_rule() == rule {
            Some(pair)
        } else {
            self.peeked = Some(pair);
            None
        }
    }
    /// The next child, which must have rule `rule` (the grammar guarantees it).
    pub fn expect(&mut self, rule: Rule) -> BuildResult<Pair<'i, Rule>> {
        self.next_if(rule).ok_or_else(|| internal_error(self.span, &format!("{rule:?}")))
    }
    /// The next child, which must exist.
    pub fn expect_any(&mut self) -> BuildResult<Pair<'i, Rule>> {
        let span = self.span;
        self.next().ok_or_else(|| internal_error(span, "a child"))
    }
}

/// A diagnostic for a parse tree that does not have the shape the grammar promises (a bug).
pub fn internal_error(span: Span, what: &str) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::error("E0001", "internal parser error", span, format!("expected {what} here"))
            .with_note("this is a bug in nasc; please report it with the spec that triggers it"),
    )
}

/// A `return` statement, kept apart until its position in the body is known.
enum Piece {
    Stmt(Stmt),
    Return { value: Expr, span: Span },
}

impl<'a> Builder<'a> {
    pub fn new(src: &'a str, scan: &'a Scan, off: usize) -> Self {
        Builder { src, scan, off, diags: Vec::new() }
    }

    /// The spec span of a pair, without trailing whitespace and comments (pest includes the
    /// trivia skipped before a trailing optional part that turned out absent).
    pub fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let (start, end) = (s.start() + self.off, s.end() + self.off);
        let last = self.src.as_bytes().get(end.wrapping_sub(1)).copied();
        let end = match last {
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'/') => self.scan.prev_token_end(self.src, end).max(start),
            _ => end,
        };
        Span::new(start, end)
    }

    /// The significant children of `pair` (bare tokens skipped).
    pub fn children<'i>(&self, pair: Pair<'i, Rule>) -> Children<'i> {
        let span = self.span(&pair);
        let pairs: Vec<_> = pair.into_inner().filter(|p| !is_bare_token(p.as_rule())).collect();
        Children { pairs: pairs.into_iter(), peeked: None, span }
    }

    pub fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: self.span(pair) }
    }

    fn expect_ident(&self, children: &mut Children<'_>) -> BuildResult<Ident> {
        Ok(self.ident(&children.expect(Rule::ident)?))
    }

    /// Build one item from an `item` pair.
    pub fn item(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Item> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().ok_or_else(|| internal_error(span, "an item"))?;
        let rule = inner.as_rule();
        let span = self.span(&inner);
        let mut c = self.children(inner);
        let item = match rule {
            Rule::space_item => Item::Space(self.expect_ident(&mut c)?),
            Rule::param_item => {
                let name = self.expect_ident(&mut c)?;
                Item::Param { name, value: self.expr(c.expect(Rule::expr)?)?, span }
            }
            Rule::let_item => {
                let name = self.expect_ident(&mut c)?;
                Item::Let { name, value: self.expr(c.expect(Rule::expr)?)?, span }
            }
            Rule::input_item => {
                c.next_if(Rule::kw_input);
                let mut dims = Vec::new();
                while let Some(e) = c.next_if(Rule::expr) {
                    dims.push(self.expr(e)?);
                }
                Item::Input { dims, span }
            }
            Rule::count_item => {
                let metric = self.expect_ident(&mut c)?;
                let mut terms = Vec::new();
                while let Some(t) = c.next_if(Rule::ident) {
                    terms.push(self.ident(&t));
                }
                Item::Count { metric, terms, span }
            }
            Rule::choice_item => Item::Decision(self.decision(DecisionKind::Choice, c, span)?),
            Rule::subset_item => Item::Decision(self.decision(DecisionKind::Subset, c, span)?),
            Rule::block_item => {
                let name = self.expect_ident(&mut c)?;
                let params = self.params(c.expect(Rule::params)?)?;
                let body = self.body(c.expect_any()?)?;
                Item::Block(BlockDef { name, params, body, span })
            }
            Rule::network_item => Item::Network { body: self.body(c.expect_any()?)?, span },
            Rule::metric_item => {
                let name = self.expect_ident(&mut c)?;
                let value = match c.next() {
                    None => MetricValue::Derived,
                    Some(p) if p.as_rule() == Rule::kw_external => MetricValue::External,
                    Some(p) => MetricValue::Expr(self.expr(p)?),
                };
                Item::Metric(MetricDef { name, value, span })
            }
            Rule::constraint_item => Item::Constraint { expr: self.expr(c.expect(Rule::expr)?)?, span },
            Rule::objective_item => {
                let direction = match c.expect_any()?.as_rule() {
                    Rule::kw_minimize => Direction::Minimize,
                    _ => Direction::Maximize,
                };
                Item::Objective { direction, metric: self.expect_ident(&mut c)?, span }
            }
            Rule::name_item => {
                let name = self.expect_ident(&mut c)?;
                let template = self.str_lit(c.expect(Rule::string)?);
                Item::Name { name, template, span }
            }
            _ => return Err(internal_error(span, "an item")),
        };
        Ok(item)
    }

    /// `choice NAME DIMS in D [default E] [when C];` / `subset NAME DIMS of P size S ...;`
    fn decision(&mut self, kind: DecisionKind, mut c: Children<'_>, span: Span) -> BuildResult<Decision> {
        let name = self.expect_ident(&mut c)?;
        let mut dims = Vec::new();
        while let Some(dim) = c.next_if(Rule::dim) {
            let dim_span = self.span(&dim);
            let mut dc = self.children(dim);
            let var = match dc.next_if(Rule::dim_var) {
                Some(v) => Some(self.expect_ident(&mut self.children(v))?),
                None => None,
            };
            let range = self.expr(dc.expect(Rule::expr)?)?;
            dims.push(IndexDim { var, range, span: dim_span });
        }
        let domain = self.expr(c.expect(Rule::expr)?)?;
        let size = self.clause(&mut c, Rule::size_clause)?;
        let default = self.clause(&mut c, Rule::default_clause)?;
        let when = self.clause(&mut c, Rule::when_clause)?;
        Ok(Decision { kind, name, dims, domain, size, default, when, span })
    }

    /// The expression of an optional `size`/`default`/`when` clause.
    fn clause(&mut self, c: &mut Children<'_>, rule: Rule) -> BuildResult<Option<Expr>> {
        match c.next_if(rule) {
            Some(p) => {
                let e = self.children(p).expect(Rule::expr)?;
                Ok(Some(self.expr(e)?))
            }
            None => Ok(None),
        }
    }

    /// Block parameters `(x, c, k, s = 1)`.
    fn params(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Vec<Param>> {
        let mut params = Vec::new();
        let mut c = self.children(pair);
        while let Some(p) = c.next_if(Rule::block_param) {
            let span = self.span(&p);
            let mut pc = self.children(p);
            let name = self.expect_ident(&mut pc)?;
            let default = match pc.next_if(Rule::expr) {
                Some(e) => Some(self.expr(e)?),
                None => None,
            };
            params.push(Param { name, default, span });
        }
        Ok(params)
    }

    /// A block or network body: `{ stmts [return e;] }` or `= e;`.
    fn body(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Body> {
        let span = self.span(&pair);
        if pair.as_rule() == Rule::expr_body {
            let e = self.children(pair).expect(Rule::expr)?;
            return Ok(Body { stmts: Vec::new(), ret: Some(self.expr(e)?), span });
        }
        let pieces = self.pieces(pair)?;
        let count = pieces.len();
        let mut stmts = Vec::new();
        let mut ret = None;
        for (i, piece) in pieces.into_iter().enumerate() {
            match piece {
                Piece::Stmt(s) => stmts.push(s),
                Piece::Return { value, .. } if i + 1 == count => ret = Some(value),
                Piece::Return { span, .. } => self.diags.push(
                    Diagnostic::error("E0001", "syntax error: `return` must be the last statement of a body", span, "statements follow this `return`")
                        .with_help("move the `return` to the end of the body"),
                ),
            }
        }
        Ok(Body { stmts, ret, span })
    }

    /// The statements of a `for`/`if` block, where `return` is not allowed.
    fn nested_stmts(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Vec<Stmt>> {
        let mut stmts = Vec::new();
        for piece in self.pieces(pair)? {
            match piece {
                Piece::Stmt(s) => stmts.push(s),
                Piece::Return { span, .. } => self.diags.push(
                    Diagnostic::error("E0001", "syntax error: `return` is not allowed inside `for` or `if`", span, "`return` inside a nested block")
                        .with_help("assign the value to a variable and return it at the end of the body"),
                ),
            }
        }
        Ok(stmts)
    }

    /// The statements of a `stmt_block`, returns included.
    fn pieces(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Vec<Piece>> {
        let mut pieces = Vec::new();
        let mut c = self.children(pair);
        while let Some(stmt) = c.next_if(Rule::stmt) {
            pieces.push(self.stmt(stmt)?);
        }
        Ok(pieces)
    }

    fn stmt(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Piece> {
        let outer = self.span(&pair);
        let inner = pair.into_inner().next().ok_or_else(|| internal_error(outer, "a statement"))?;
        let rule = inner.as_rule();
        let span = self.span(&inner);
        if rule == Rule::if_stmt {
            return Ok(Piece::Stmt(self.if_stmt(inner)?));
        }
        let mut c = self.children(inner);
        let stmt = match rule {
            Rule::let_stmt | Rule::node_stmt | Rule::assign_stmt => {
                let name = self.expect_ident(&mut c)?;
                let value = self.expr(c.expect(Rule::expr)?)?;
                match rule {
                    Rule::let_stmt => Stmt::Let { name, value, span },
                    Rule::node_stmt => Stmt::Node { name, value, span },
                    _ => Stmt::Assign { name, value, span },
                }
            }
            Rule::return_stmt => return Ok(Piece::Return { value: self.expr(c.expect(Rule::expr)?)?, span }),
            Rule::for_stmt => {
                let var = self.expect_ident(&mut c)?;
                let iter = self.expr(c.expect(Rule::expr)?)?;
                let body = self.nested_stmts(c.expect(Rule::stmt_block)?)?;
                Stmt::For { var, iter, body, span }
            }
            _ => return Err(internal_error(span, "a statement")),
        };
        Ok(Piece::Stmt(stmt))
    }

    /// `if c { } else if d { } else { }`: the `else if` chain nests in `els`.
    fn if_stmt(&mut self, pair: Pair<'_, Rule>) -> BuildResult<Stmt> {
        let span = self.span(&pair);
        let mut c = self.children(pair);
        // (start of the `if`, condition, then-branch) for the `if` and each `else if`.
        let mut branches = Vec::new();
        let cond = self.expr(c.expect(Rule::expr)?)?;
        let then = self.nested_stmts(c.expect(Rule::stmt_block)?)?;
        branches.push((span.start, cond, then));
        while let Some(else_if) = c.next_if(Rule::else_if) {
            if branches.len() > MAX_NESTING {
                return Err(Box::new(
                    Diagnostic::error("E0001", format!("syntax error: more than {MAX_NESTING} `else if` branches"), self.span(&else_if), "too many branches")
                        .with_help("split the chain, e.g. with a nested `if` or a lookup list"),
                ));
            }
            // The nested `if` starts at its `if` keyword, after the `else`.
            let start = else_if.clone().into_inner().find(|p| p.as_rule() == Rule::kw_if).map_or(self.span(&else_if).start, |p| self.span(&p).start);
            let mut ec = self.children(else_if);
            let cond = self.expr(ec.expect(Rule::expr)?)?;
            let then = self.nested_stmts(ec.expect(Rule::stmt_block)?)?;
            branches.push((start, cond, then));
        }
        let mut els = match c.next_if(Rule::else_block) {
            Some(e) => {
                let block = self.children(e).expect(Rule::stmt_block)?;
                self.nested_stmts(block)?
            }
            None => Vec::new(),
        };
        let mut result = None;
        while let Some((start, cond, then)) = branches.pop() {
            let stmt = Stmt::If { cond, then, els, span: Span::new(start, span.end) };
            if branches.is_empty() {
                result = Some(stmt);
                break;
            }
            els = vec![stmt];
        }
        result.ok_or_else(|| internal_error(span, "an `if` statement"))
    }
}

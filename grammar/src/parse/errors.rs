//! Turning pest errors into [`Diagnostic`]s: human names for grammar rules, the "found" token,
//! label placement and help.

use super::grammar::Rule;
use super::scan::{char_len, Scan, ITEM_KEYWORDS};
use crate::ast::Span;
use crate::diag::{did_you_mean, Diagnostic};

/// Every keyword of the language (`docs/LANGUAGE.md`, Lexical).
pub const KEYWORDS: [&str; 28] = [
    "space",
    "param",
    "let",
    "input",
    "count",
    "choice",
    "subset",
    "in",
    "of",
    "size",
    "default",
    "when",
    "block",
    "network",
    "metric",
    "external",
    "constraint",
    "minimize",
    "maximize",
    "name",
    "node",
    "for",
    "if",
    "else",
    "return",
    "true",
    "false",
    "div",
];

/// How a rule shows up in an "expected ..." list.
enum Expected {
    /// Worth naming.
    Named(&'static str),
    /// A binary operator or postfix opener: always a possible continuation after an operand,
    /// so it is only mentioned when nothing else was expected.
    Continuation,
    /// Never named (parts of tokens).
    Hidden,
}

/// The human description of a rule in an "expected ..." list.
fn expected(rule: Rule) -> Expected {
    use Expected::*;
    match rule {
        Rule::semi => Named("`;`"),
        Rule::comma => Named("`,`"),
        Rule::lparen => Named("`(`"),
        Rule::rparen => Named("`)`"),
        Rule::lbracket | Rule::dim => Named("`[`"),
        Rule::rbracket => Named("`]`"),
        Rule::lbrace | Rule::stmt_block | Rule::expr_block => Named("`{`"),
        Rule::rbrace => Named("`}`"),
        Rule::assign | Rule::expr_body => Named("`=`"),
        Rule::kw_space => Named("`space`"),
        Rule::kw_param => Named("`param`"),
        Rule::kw_let => Named("`let`"),
        Rule::kw_input => Named("`input`"),
        Rule::kw_count => Named("`count`"),
        Rule::kw_choice => Named("`choice`"),
        Rule::kw_subset => Named("`subset`"),
        Rule::kw_in => Named("`in`"),
        Rule::kw_of => Named("`of`"),
        Rule::kw_size | Rule::size_clause => Named("`size`"),
        Rule::kw_default | Rule::default_clause => Named("`default`"),
        Rule::kw_when | Rule::when_clause => Named("`when`"),
        Rule::kw_block => Named("`block`"),
        Rule::kw_network => Named("`network`"),
        Rule::kw_metric => Named("`metric`"),
        Rule::kw_external => Named("`external`"),
        Rule::kw_constraint => Named("`constraint`"),
        Rule::kw_minimize => Named("`minimize`"),
        Rule::kw_maximize => Named("`maximize`"),
        Rule::kw_name => Named("`name`"),
        Rule::kw_node => Named("`node`"),
        Rule::kw_for | Rule::comp_tail => Named("`for`"),
        Rule::kw_if | Rule::comp_cond => Named("`if`"),
        Rule::kw_else | Rule::else_if | Rule::else_block => Named("`else`"),
        Rule::kw_return => Named("`return`"),
        Rule::kw_true => Named("`true`"),
        Rule::kw_false => Named("`false`"),
        Rule::kw_div => Named("`div`"),
        Rule::ident | Rule::dim_var | Rule::arg_name | Rule::block_param => Named("an identifier"),
        Rule::number | Rule::int_lit | Rule::float_lit | Rule::float_body => Named("a number"),
        Rule::string => Named("a string"),
        Rule::expr | Rule::operand | Rule::arg | Rule::paren_expr | Rule::list_expr | Rule::if_expr | Rule::list_tail => Named("an expression"),
        Rule::stmt | Rule::let_stmt | Rule::node_stmt | Rule::assign_stmt | Rule::return_stmt | Rule::for_stmt | Rule::if_stmt => Named("a statement"),
        Rule::params => Named("`(`"),
        Rule::item
        | Rule::space_item
        | Rule::param_item
        | Rule::let_item
        | Rule::input_item
        | Rule::count_item
        | Rule::choice_item
        | Rule::subset_item
        | Rule::block_item
        | Rule::network_item
        | Rule::metric_item
        | Rule::constraint_item
        | Rule::objective_item
        | Rule::name_item => Named(ITEM_LIST),
        Rule::op_pipe
        | Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_lt
        | Rule::op_ge
        | Rule::op_gt
        | Rule::op_in
        | Rule::op_range_incl
        | Rule::op_range
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_pow
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_intdiv
        | Rule::op_mod
        | Rule::call_open
        | Rule::index_open
        | Rule::call_args
        | Rule::index
        | Rule::field
        | Rule::dot => Continuation,
        Rule::op_neg | Rule::op_not => Named("an expression"),
        _ => Hidden,
    }
}

const ITEM_LIST: &str = "an item (space, param, let, input, count, choice, subset, block, network, metric, \
                         constraint, minimize, maximize, name)";

/// Join descriptions as `a`, `a or b`, `a, b or c`.
pub fn human_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// What the parser found at an error position.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    EndOfFile,
    Keyword(String),
    Ident(String),
    Number(String),
    String,
    Punct(String),
}

impl Found {
    fn describe(&self) -> String {
        match self {
            Found::EndOfFile => "end of file".into(),
            Found::Keyword(k) => format!("keyword `{k}`"),
            Found::Ident(i) => format!("`{i}`"),
            Found::Number(n) => format!("`{n}`"),
            Found::String => "a string".into(),
            Found::Punct(p) => format!("`{p}`"),
        }
    }
}

/// The token at `pos` (before `end`) and its span.
pub fn found_token(src: &str, pos: usize, end: usize) -> (Found, Span) {
    let bytes = src.as_bytes();
    if pos >= end || pos >= bytes.len() {
        return (Found::EndOfFile, Span::new(pos.min(src.len()), pos.min(src.len())));
    }
    let word_end = |from: usize| {
        let mut j = from;
        while j < end && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
        j
    };
    let c = bytes[pos];
    if c.is_ascii_alphabetic() || c == b'_' {
        let j = word_end(pos);
        let word = &src[pos..j];
        let found = if KEYWORDS.contains(&word) { Found::Keyword(word.into()) } else { Found::Ident(word.into()) };
        return (found, Span::new(pos, j));
    }
    if c.is_ascii_digit() {
        let j = word_end(pos);
        return (Found::Number(src[pos..j].into()), Span::new(pos, j));
    }
    if c == b'"' {
        let mut j = pos + 1;
        while j < end && bytes[j] != b'"' && bytes[j] != b'\n' {
            j += if bytes[j] == b'\\' { 2 } else { 1 };
        }
        let j = (j + 1).min(end);
        // Only ASCII stops the loop, but an escape may skip into a multi-byte char.
        let j = (j..=end).find(|k| src.is_char_boundary(*k)).unwrap_or(end);
        return (Found::String, Span::new(pos, j));
    }
    for op in ["..=", "|>", "||", "&&", "==", "!=", "<=", ">=", "..", "**"] {
        if src[pos..end].starts_with(op) {
            return (Found::Punct(op.into()), Span::new(pos, pos + op.len()));
        }
    }
    let len = char_len(src, pos);
    (Found::Punct(src[pos..pos + len].into()), Span::new(pos, pos + len))
}

/// Context for converting a pest error.
pub struct ErrorContext<'a> {
    pub src: &'a str,
    pub scan: &'a Scan,
    /// Where the failing item starts.
    pub item_start: usize,
    /// Where the parseable text ends (the end of the file, or an unterminated block comment).
    pub end: usize,
}

/// A syntax error (`E0001`) at `pos` where pest expected one of `positives`.
pub fn syntax_error(ctx: &ErrorContext<'_>, pos: usize, positives: &[Rule]) -> Diagnostic {
    let mut named: Vec<String> = Vec::new();
    let mut continuation = false;
    for rule in positives {
        match expected(*rule) {
            Expected::Named(name) => named.push(name.to_string()),
            Expected::Continuation => continuation = true,
            Expected::Hidden => {}
        }
    }
    if named.is_empty() && continuation {
        named.push("an operator".into());
    }
    named.sort();
    named.dedup();
    let (found, found_span) = found_token(ctx.src, pos, ctx.end);
    let ident_expected = named.iter().any(|n| n == "an identifier");

    if let Some(diag) = invalid_number_suffix(ctx.src, pos, &found, found_span) {
        return diag;
    }
    let list = human_list(&named);
    if let Found::Punct(p) = &found {
        if !is_token(p) {
            // A character that starts no token at all: say so, rather than suggesting what
            // could have come before it.
            let help = match p.as_str() {
                "|" => "did you mean `||` (or) or `|>` (pipe)?".to_string(),
                "&" => "did you mean `&&` (and)?".to_string(),
                _ if p.chars().all(char::is_alphanumeric) => "names are ASCII: letters, digits and `_`".to_string(),
                _ => format!("`{p}` is not an operator or punctuation of the language"),
            };
            return Diagnostic::error("E0001", format!("syntax error: unexpected character `{p}`"), found_span, "not a token of the language").with_help(help);
        }
    }
    let mut message = if named.is_empty() { format!("syntax error: unexpected {}", found.describe()) } else { format!("syntax error: expected {list}") };
    if let (true, Found::Keyword(k)) = (ident_expected, &found) {
        message.push_str(&format!(", found keyword `{k}`"));
    }
    let label = if named.is_empty() { "unexpected token".to_string() } else { format!("expected {list}") };

    // Point right after the previous token when the unexpected one is on a later line (the
    // usual shape of a missing `;` or `}`), else at the unexpected token.
    let prev_end = ctx.scan.prev_token_end(ctx.src, pos);
    let line_break_between = prev_end < pos && ctx.src[prev_end..pos].contains('\n');
    let mut diag = if line_break_between && prev_end >= ctx.item_start {
        let span = Span::new(prev_end, prev_end + char_len(ctx.src, prev_end));
        Diagnostic::error("E0001", message, span, label).with_label(found_span, format!("unexpected {}", found.describe()))
    } else {
        Diagnostic::error("E0001", message, found_span, label)
    };

    // Help, where a fix is obvious.
    let in_braces = ctx.scan.relative_brace_depth(ctx.item_start, pos) > 0;
    if let (true, Found::Keyword(k)) = (ident_expected, &found) {
        diag = diag.with_help(format!("`{k}` is a keyword; choose another name"));
    } else if named.len() == 1 && named[0] == "`;`" || named.iter().any(|n| n == "`;`") && line_break_between {
        let what = if in_braces { "statement" } else { "item" };
        diag = match comment_after(ctx.src, prev_end) {
            // `let a = 72 // 4;`: the `//` began a comment that swallowed the rest of the line
            Some(rest) if rest.trim_end().ends_with(';') => {
                diag.with_help(format!("`//` starts a comment, so `//{}` was ignored; integer division is `div` (e.g. `72 div 4`)", rest.trim_end()))
            }
            _ => diag.with_help(format!("add `;` at the end of the {what}")),
        };
    } else if named.iter().any(|n| n == "`}`") && matches!(&found, Found::Keyword(k) if ITEM_KEYWORDS.contains(&k.as_str())) {
        diag = diag.with_help("a `}` may be missing before this item");
    } else if in_braces && named.len() == 1 && named[0] == "`=`" {
        diag = diag.with_help("a statement is `let x = ...;`, `x = ...;`, `node x = ...;`, `for`, `if` or `return ...;`");
    } else if named.iter().any(|n| n == ITEM_LIST) {
        if let Found::Ident(word) = &found {
            if let Some(kw) = did_you_mean(word, ITEM_KEYWORDS) {
                diag = diag.with_help(format!("did you mean `{kw}`?"));
            } else if followed_by_assign(ctx, found_span.end) {
                diag = diag.with_help(format!("statements belong inside a `block` or `network` body; a top-level constant is `let {word} = ...;` or `param {word} = ...;`"));
            }
        }
    } else if matches!(&found, Found::Punct(p) if p == ",") && named.iter().any(|n| n == "`]`") && in_decision_dims(ctx, pos) {
        diag = diag.with_help("the options of a decision follow `in` (`choice k in [3, 5]`, `subset s of [a, b] size 1`); `k[N]` declares a family of N decisions");
    }
    diag
}

/// The text of a `//` comment that follows `at` on the same line (after spaces), if any.
fn comment_after(src: &str, at: usize) -> Option<&str> {
    let line = src.get(at..)?.split('\n').next()?;
    line.trim_start_matches([' ', '\t']).strip_prefix("//")
}

/// Whether `p` (a [`Found::Punct`]) is a token of the language. Every multi-char operator is
/// found whole; a lone `|` or `&`, and any character outside the set below, is not a token.
fn is_token(p: &str) -> bool {
    p.chars().count() > 1 || matches!(p, ";" | "," | "(" | ")" | "[" | "]" | "{" | "}" | "=" | "." | "+" | "-" | "*" | "/" | "%" | "<" | ">" | "!" | "\"")
}

/// Whether the next token at or after `pos` is `=` (and not `==`).
fn followed_by_assign(ctx: &ErrorContext<'_>, pos: usize) -> bool {
    let next = ctx.scan.skip_trivia(ctx.src, pos);
    let rest = ctx.src.get(next..ctx.end.max(next)).unwrap_or("");
    rest.starts_with('=') && !rest.starts_with("==")
}

/// Whether `pos` is inside the index dimensions of a `choice`/`subset` item, before its `in`
/// or `of`: the item's text up to `pos` is the keyword, a name and `[...]` groups, and `pos` is
/// inside one of these brackets.
fn in_decision_dims(ctx: &ErrorContext<'_>, pos: usize) -> bool {
    let Some(text) = ctx.src.get(ctx.item_start..pos) else {
        return false;
    };
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'(' | b')' | b'{' | b'}' | b'"' | b'#' | b';' => return false,
            b'/' if bytes.get(i + 1).is_some_and(|n| *n == b'/' || *n == b'*') => return false,
            _ if (c.is_ascii_alphabetic() || c == b'_') && depth == 0 => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                words.push(&text[start..i]);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    depth == 1 && words.len() == 2 && matches!(words[0], "choice" | "subset")
}

/// `3x` or `1Mb`: letters glued to a number literal.
fn invalid_number_suffix(src: &str, pos: usize, found: &Found, found_span: Span) -> Option<Diagnostic> {
    if !matches!(found, Found::Ident(_) | Found::Keyword(_)) {
        return None;
    }
    let bytes = src.as_bytes();
    let mut start = pos;
    while start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || matches!(bytes[start - 1], b'_' | b'.')) {
        start -= 1;
    }
    if start == pos || !bytes[start].is_ascii_digit() {
        return None;
    }
    let literal = &src[start..found_span.end];
    Some(
        Diagnostic::error("E0001", format!("syntax error: invalid number literal `{literal}`"), Span::new(start, found_span.end), "invalid suffix")
            .with_help("a number may end with the suffix `K`, `M` or `G` only"),
    )
}

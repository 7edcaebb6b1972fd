//! The parser: `parse(src) -> (Spec, Vec<Diagnostic>)`.
//!
//! The file is parsed item by item. A lexical pre-scan ([`scan`]) first reports unterminated
//! strings and block comments and too-deep bracket nesting, and finds the places where items
//! start lines. Each item is then parsed by pest from its start offset; on a syntax error a
//! diagnostic is emitted and parsing resumes at the next item keyword that starts a line, so
//! that every broken item of a file is reported in one run and every good item is kept.

mod build;
mod errors;
mod expr;
mod grammar;
mod scan;

use pest::error::{ErrorVariant, InputLocation};
use pest::Parser;

use crate::ast::{Span, Spec};
use crate::diag::Diagnostic;
use build::Builder;
use errors::{syntax_error, ErrorContext};
use grammar::{NascParser, Rule};

pub use errors::KEYWORDS;
pub use expr::MAX_EXPR_DEPTH;
pub use scan::{ITEM_KEYWORDS, MAX_NESTING};

/// Specs nested at most this deep (brackets) are parsed on the caller's stack; deeper ones on a
/// dedicated thread with a [`DEEP_STACK`]-byte stack, since parsing recurses per bracket level.
const INLINE_DEPTH: usize = 32;

/// The stack size of the thread that parses deeply nested specs.
const DEEP_STACK: usize = 64 << 20;

/// Parse a spec. Returns the AST of every item that parsed (recovering after syntax errors at
/// the next item keyword) and one diagnostic per syntax error, sorted by position. Never
/// panics.
pub fn parse(src: &str) -> (Spec, Vec<Diagnostic>) {
    let scan = scan::scan(src, MAX_NESTING);
    if scan.max_depth <= INLINE_DEPTH {
        return parse_scanned(src, &scan);
    }
    let outcome = std::thread::scope(|scope| {
        std::thread::Builder::new().name("nasc-parse".into()).stack_size(DEEP_STACK).spawn_scoped(scope, || parse_scanned(src, &scan)).ok().map(|handle| handle.join())
    });
    match outcome {
        Some(Ok(result)) => result,
        Some(Err(_)) => {
            let diag = Diagnostic::error("E0001", "internal parser error", Span::new(0, 0), "the parser failed here")
                .with_note("this is a bug in nasc; please report it with the spec that triggers it");
            (Spec { items: Vec::new(), span: Span::new(0, src.len()) }, vec![diag])
        }
        // No thread could be started: parse here, with the nesting limit this stack allows.
        None => parse_scanned(src, &scan::scan(src, INLINE_DEPTH)),
    }
}

/// Parse `src` item by item, given its pre-scan.
fn parse_scanned(src: &str, scan: &scan::Scan) -> (Spec, Vec<Diagnostic>) {
    let mut diags = scan.diags.clone();
    let mut items = Vec::new();
    let end = scan.end;
    let mut pos = scan.skip_trivia(src, 0);
    while pos < end {
        // Never let pest see past a barrier (too-deep nesting, an unterminated comment), nor
        // past the start of the next item (which bounds the cost of a syntax error).
        let barrier = scan.next_barrier(pos).filter(|b| *b < end);
        let limit = barrier.unwrap_or(end).min(scan.next_hard_item_start(pos).unwrap_or(end));
        let text = src.get(pos..limit).unwrap_or("");
        match NascParser::parse(Rule::item, text) {
            Ok(mut pairs) => {
                let Some(pair) = pairs.next() else { break };
                let item_end = pos + pair.as_span().end();
                let mut builder = Builder::new(src, scan, pos);
                match builder.item(pair) {
                    Ok(item) => items.push(item),
                    Err(diag) => diags.push(*diag),
                }
                diags.append(&mut builder.diags);
                pos = scan.skip_trivia(src, item_end.max(pos + 1));
            }
            Err(err) => {
                let err_pos = pos
                    + match err.location {
                        InputLocation::Pos(p) => p,
                        InputLocation::Span((s, _)) => s,
                    };
                let ctx = ErrorContext { src, scan, item_start: pos, end };
                // An error caused by an already reported lexical problem is not reported again.
                let at_barrier = match barrier {
                    Some(b) => b == limit && scan.prev_token_end(src, b) <= err_pos,
                    None => limit == end && end < src.len() && scan.prev_token_end(src, end) <= err_pos,
                };
                if !at_barrier && !scan.bad_string_in(pos, err_pos) {
                    diags.push(match &err.variant {
                        ErrorVariant::ParsingError { positives, .. } => syntax_error(&ctx, err_pos, positives),
                        ErrorVariant::CustomError { message } => {
                            Diagnostic::error("E0001", "syntax error: the input is nested too deeply to parse", Span::new(err_pos, err_pos), message.clone())
                        }
                    });
                }
                pos = scan.resync(pos, err_pos).unwrap_or(end);
            }
        }
    }
    diags.sort_by_key(|d| (d.primary.span.start, d.primary.span.end));
    (Spec { items, span: Span::new(0, src.len()) }, diags)
}

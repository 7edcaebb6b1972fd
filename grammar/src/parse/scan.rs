//! A light lexical pre-scan of the whole file, run before pest.
//!
//! It finds what pest cannot report well or safely:
//! * unterminated string literals and block comments (`E0002`);
//! * bracket nesting deeper than [`MAX_NESTING`] (`E0001`), which would make the recursive
//!   descent parser (and everything downstream) recurse too deeply;
//! * the places where the parser may resynchronize after a syntax error: top-level item
//!   keywords that start a line.
//!
//! Positions are byte offsets. The scan only ever stops on ASCII bytes, so every position it
//! records is a char boundary.

use crate::ast::Span;
use crate::diag::Diagnostic;

/// The deepest bracket nesting (`(`, `[` and `{` together) the parser accepts.
pub const MAX_NESTING: usize = 256;

/// The keywords that start a top-level item.
pub const ITEM_KEYWORDS: [&str; 14] = ["space", "param", "let", "input", "count", "choice", "subset", "block", "network", "metric", "constraint", "minimize", "maximize", "name"];

/// An item keyword at the start of a line: a place to resume parsing after a syntax error.
#[derive(Debug, Clone, Copy)]
pub struct ItemStart {
    pub pos: usize,
    pub keyword: &'static str,
    /// Whether the keyword is in column 0.
    pub column0: bool,
}

/// The result of [`scan`].
#[derive(Debug, Default)]
pub struct Scan {
    /// Comment ranges `[start, end)` in source order (a line comment ends before its newline).
    pub comments: Vec<(usize, usize)>,
    /// Item keywords starting a line, in source order.
    pub item_starts: Vec<ItemStart>,
    /// `(position of a brace, brace depth after it)`, in source order.
    pub braces: Vec<(usize, i64)>,
    /// Positions where the parser must stop: the start of an unterminated block comment, and
    /// each bracket that goes deeper than [`MAX_NESTING`]. Sorted.
    pub barriers: Vec<usize>,
    /// Start positions of unterminated strings (already reported).
    pub bad_strings: Vec<usize>,
    /// Where parsing ends: the start of an unterminated block comment, or the end of the text.
    pub end: usize,
    /// The deepest bracket nesting seen (capped at the limit plus one).
    pub max_depth: usize,
    /// The lexical diagnostics found.
    pub diags: Vec<Diagnostic>,
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The byte length of the char starting at `pos` (1 at the end or off a boundary).
pub fn char_len(src: &str, pos: usize) -> usize {
    src.get(pos..).and_then(|rest| rest.chars().next()).map_or(1, char::len_utf8)
}

/// Scan `src`, accepting bracket nesting up to `max_nesting` levels. Never fails; problems
/// become diagnostics.
pub fn scan(src: &str, max_nesting: usize) -> Scan {
    let bytes = src.as_bytes();
    let n = bytes.len();
    let mut out = Scan { end: n, ..Scan::default() };
    let mut depth: usize = 0;
    let mut deep_reported = false;
    let mut brace_depth: i64 = 0;
    let mut line_start = 0usize;
    let mut at_line_start = true;
    let mut i = 0usize;
    while i < n {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        match c {
            b'\n' => {
                i += 1;
                line_start = i;
                at_line_start = true;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => i = out.line_comment(bytes, i),
            b'/' if next == Some(b'/') => i = out.line_comment(bytes, i),
            b'/' if next == Some(b'*') => match find(bytes, i + 2, b"*/") {
                Some(close) => {
                    out.comments.push((i, close + 2));
                    i = close + 2;
                }
                None => {
                    out.comments.push((i, n));
                    out.barriers.push(i);
                    out.end = i;
                    out.diags.push(
                        Diagnostic::error("E0002", "unterminated block comment", Span::new(i, i + 2), "this comment is never closed").with_help("close the comment with `*/`"),
                    );
                    break;
                }
            },
            b'"' => {
                at_line_start = false;
                i = out.string(src, i);
            }
            b'(' | b'[' | b'{' => {
                at_line_start = false;
                depth += 1;
                if c == b'{' {
                    brace_depth += 1;
                    out.braces.push((i, brace_depth));
                }
                out.max_depth = out.max_depth.max(depth);
                if depth == max_nesting + 1 {
                    out.barriers.push(i);
                }
                if depth == max_nesting + 1 && !deep_reported {
                    // One report per region of deep nesting (until the depth is back to 0).
                    deep_reported = true;
                    out.diags.push(
                        Diagnostic::error(
                            "E0001",
                            format!("syntax error: brackets nested too deeply (more than {max_nesting} levels)"),
                            Span::new(i, i + 1),
                            format!("nesting level {} starts here", max_nesting + 1),
                        )
                        .with_help("simplify the expression, e.g. by splitting it with `let`"),
                    );
                }
                i += 1;
            }
            b')' | b']' | b'}' => {
                at_line_start = false;
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    deep_reported = false;
                }
                if c == b'}' {
                    brace_depth -= 1;
                    out.braces.push((i, brace_depth));
                }
                i += 1;
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i + 1;
                while j < n && is_ident_byte(bytes[j]) {
                    j += 1;
                }
                if at_line_start {
                    let word = &src[i..j];
                    if let Some(keyword) = ITEM_KEYWORDS.iter().find(|k| **k == word) {
                        out.item_starts.push(ItemStart { pos: i, keyword, column0: i == line_start });
                    }
                }
                at_line_start = false;
                i = j;
            }
            _ => {
                at_line_start = false;
                i += 1;
            }
        }
    }
    out
}

/// The first index `>= from` where `needle` occurs.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from > bytes.len() {
        return None;
    }
    bytes[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

impl Scan {
    /// Record a line comment starting at `i`; returns where it ends (at the line break).
    fn line_comment(&mut self, bytes: &[u8], i: usize) -> usize {
        let mut j = i;
        while j < bytes.len() && bytes[j] != b'\n' && bytes[j] != b'\r' {
            j += 1;
        }
        self.comments.push((i, j));
        j
    }

    /// Skip a string literal starting at the quote at `i`; returns the position after it.
    fn string(&mut self, src: &str, i: usize) -> usize {
        let bytes = src.as_bytes();
        let mut j = i + 1;
        loop {
            match bytes.get(j) {
                None | Some(b'\n') | Some(b'\r') => {
                    self.bad_strings.push(i);
                    self.diags.push(
                        Diagnostic::error("E0002", "unterminated string literal", Span::new(i, i + 1), "this string is never closed")
                            .with_help("close the string with `\"` on the same line (write a line break as `\\n`)"),
                    );
                    return j;
                }
                Some(b'"') => return j + 1,
                Some(b'\\') => {
                    // An escape; a backslash before a line break leaves the string unterminated.
                    match bytes.get(j + 1) {
                        Some(b'\n') | Some(b'\r') | None => j += 1,
                        Some(_) => j += 1 + char_len(src, j + 1),
                    }
                }
                Some(_) => j += 1,
            }
        }
    }

    /// The comment that starts exactly at `pos`, if any.
    fn comment_at(&self, pos: usize) -> Option<(usize, usize)> {
        self.comments.binary_search_by_key(&pos, |c| c.0).ok().map(|i| self.comments[i])
    }

    /// The comment that ends exactly at `pos`, if any.
    fn comment_ending_at(&self, pos: usize) -> Option<(usize, usize)> {
        // Comments are disjoint and sorted, so their ends are sorted too.
        self.comments.binary_search_by_key(&pos, |c| c.1).ok().map(|i| self.comments[i])
    }

    /// The first position `>= pos` that is not whitespace or comment.
    pub fn skip_trivia(&self, src: &str, mut pos: usize) -> usize {
        let bytes = src.as_bytes();
        loop {
            while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b'\r' | b'\n') {
                pos += 1;
            }
            if src[pos.min(src.len())..].starts_with('\u{FEFF}') {
                pos += '\u{FEFF}'.len_utf8();
                continue;
            }
            match self.comment_at(pos) {
                Some((_, end)) if end > pos => pos = end,
                _ => return pos.min(bytes.len()),
            }
        }
    }

    /// The end of the last token before `pos`: `pos` moved back over whitespace and comments.
    pub fn prev_token_end(&self, src: &str, mut pos: usize) -> usize {
        let bytes = src.as_bytes();
        pos = pos.min(bytes.len());
        loop {
            while pos > 0 && matches!(bytes[pos - 1], b' ' | b'\t' | b'\r' | b'\n') {
                pos -= 1;
            }
            match self.comment_ending_at(pos) {
                Some((start, _)) if start < pos => pos = start,
                _ => return pos,
            }
        }
    }

    /// The first line-start keyword after `pos` that can only start an item (every item
    /// keyword except `let`, a statement too, and `input`, an expression too). No item
    /// extends past it, so the parser is never given text beyond it.
    pub fn next_hard_item_start(&self, pos: usize) -> Option<usize> {
        let first = self.item_starts.partition_point(|s| s.pos <= pos);
        self.item_starts[first..].iter().find(|s| s.keyword != "let" && s.keyword != "input").map(|s| s.pos)
    }

    /// The first barrier at or after `pos`.
    pub fn next_barrier(&self, pos: usize) -> Option<usize> {
        let i = self.barriers.partition_point(|b| *b < pos);
        self.barriers.get(i).copied()
    }

    /// The brace depth just before `pos`.
    fn brace_depth_at(&self, pos: usize) -> i64 {
        let i = self.braces.partition_point(|(p, _)| *p < pos);
        if i == 0 {
            0
        } else {
            self.braces[i - 1].1
        }
    }

    /// The brace depth at `pos` relative to the start of the item at `item_start`.
    pub fn relative_brace_depth(&self, item_start: usize, pos: usize) -> i64 {
        self.brace_depth_at(pos) - self.brace_depth_at(item_start)
    }

    /// Where to resume after a syntax error at `err_pos` in the item starting at `item_start`:
    /// the first item keyword that starts a line at or after `err_pos` (and after
    /// `item_start`). A `let` (which is also a statement) only counts when it is in column 0 or
    /// outside the braces opened by the broken item.
    pub fn resync(&self, item_start: usize, err_pos: usize) -> Option<usize> {
        let first = self.item_starts.partition_point(|s| s.pos < err_pos);
        self.item_starts[first..]
            .iter()
            .filter(|s| s.pos > item_start && s.pos < self.end)
            .find(|s| s.keyword != "let" || s.column0 || self.relative_brace_depth(item_start, s.pos) <= 0)
            .map(|s| s.pos)
    }

    /// Whether an unterminated string (already reported) starts in `[from, to]`.
    pub fn bad_string_in(&self, from: usize, to: usize) -> bool {
        let i = self.bad_strings.partition_point(|p| *p < from);
        self.bad_strings.get(i).is_some_and(|p| *p <= to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_item_starts_outside_comments_and_strings() {
        let src = "param a = 1;\n  let b = 2; space x;\n// param c\n/* let\nlet */ name n = \"\nparam p;\n";
        let s = scan(src, MAX_NESTING);
        let kws: Vec<_> = s.item_starts.iter().map(|i| (i.keyword, i.column0)).collect();
        // The `name` after the comment counts as starting its line; the string is unterminated
        // so the `param` on the next line is a fresh item start.
        assert_eq!(kws, vec![("param", true), ("let", false), ("name", false), ("param", true)]);
        assert_eq!(s.bad_strings.len(), 1);
        assert_eq!(s.diags.len(), 1);
    }

    #[test]
    fn unterminated_block_comment_ends_the_file() {
        let s = scan("param a = 1;\n/* oops\nparam b = 2;\n", MAX_NESTING);
        assert_eq!(s.end, 13);
        assert_eq!(s.diags[0].code, "E0002");
        assert!(s.item_starts.iter().all(|i| i.pos < 13));
    }

    #[test]
    fn deep_nesting_is_a_barrier() {
        let src = format!("param a = {}1{};", "(".repeat(300), ")".repeat(300));
        let s = scan(&src, MAX_NESTING);
        assert_eq!(s.barriers, vec![10 + MAX_NESTING]);
    }

    #[test]
    fn trivia_skipping() {
        let src = "a /* c */ // d\n  b";
        let s = scan(src, MAX_NESTING);
        assert_eq!(s.skip_trivia(src, 1), 17);
        assert_eq!(s.prev_token_end(src, 17), 1);
    }
}

//! Parser (to be written): `parse(src) -> (Option<Spec>, Vec<Diagnostic>)`.
use crate::ast::Spec;
use crate::diag::Diagnostic;

/// Parse a spec. Returns the AST of every item that parsed (recovering after syntax errors at
/// the next item keyword) and one diagnostic per syntax error. Never panics.
pub fn parse(_src: &str) -> (Spec, Vec<Diagnostic>) {
    unimplemented!()
}

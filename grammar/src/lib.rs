//! nasc-grammar: the spec language's pest grammar, its AST (with byte spans) and syntax
//! diagnostics. No IO, never panics on any input.

pub mod ast;
pub mod diag;
pub mod parse;

pub use parse::parse;

//! The pest parser generated from `nasc.pest`.

/// The generated parser. Parse one item with `NascParser::parse(Rule::item, text)`.
#[derive(pest_derive::Parser)]
#[grammar = "nasc.pest"]
pub struct NascParser;

//! Debug helper: parse a file (or stdin) and print the diagnostics and item count.
use std::io::Read;
fn main() {
    let mut src = String::new();
    match std::env::args().nth(1) {
        Some(path) => src = std::fs::read_to_string(path).unwrap_or_default(),
        None => { let _ = std::io::stdin().read_to_string(&mut src); }
    }
    let (spec, diags) = nasc_grammar::parse(&src);
    println!("items: {}", spec.items.len());
    for d in &diags {
        let s = d.primary.span;
        println!("{} {} @{}..{} {:?} label={:?} help={:?} sec={:?}", d.code, d.message, s.start, s.end,
            src.get(s.start..s.end), d.primary.message, d.help, d.secondary.iter().map(|l| (&l.message, src.get(l.span.start..l.span.end))).collect::<Vec<_>>());
    }
    if std::env::var("AST").is_ok() { println!("{:#?}", spec.items); }
}

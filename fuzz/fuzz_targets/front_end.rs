//! Fuzz the front-end: parse arbitrary UTF-8 and, when it has no syntax error, compile it.
//! Any panic (or crash, or hang under `-timeout`) is a bug: the grammar and the compiler promise
//! never to panic on input. Every diagnostic must also point into the text, on char boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nasc_compiler::{Loader, Options};
use nasc_grammar::diag::{Diagnostic, Source};

/// Lookup tables served from memory: a good one and a malformed one; other paths are missing.
const LUT: &str = "decision,option,ms\nw,8,1.5\nw,16,2.5\nk,3,0.5\nk,5,0.7\n";
const BAD_LUT: &str = "decision,option,ms\nw,8,1.5\nw,16\n";

fn aux_text(path: &str) -> Option<&'static str> {
    match path {
        "lut.csv" => Some(LUT),
        "bad_lut.csv" => Some(BAD_LUT),
        _ => None,
    }
}

struct Memory;
impl Loader for Memory {
    fn load(&self, path: &str) -> Result<String, String> {
        aux_text(path).map(str::to_string).ok_or_else(|| format!("no file `{path}`"))
    }
}

fn check_spans(text: &str, d: &Diagnostic) {
    for l in std::iter::once(&d.primary).chain(d.secondary.iter()) {
        let t = match &l.source {
            Source::Spec => text,
            Source::Aux(p) => aux_text(p).unwrap_or_else(|| panic!("{}: label in unknown file `{p}`", d.code)),
        };
        let (s, e) = (l.span.start, l.span.end);
        assert!(s <= e && e <= t.len() && t.is_char_boundary(s) && t.is_char_boundary(e), "{} `{}`: bad span {s}..{e} in a text of {} bytes", d.code, d.message, t.len());
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (spec, diags) = nasc_grammar::parse(text);
    diags.iter().for_each(|d| check_spans(text, d));
    if diags.iter().any(Diagnostic::is_error) {
        return;
    }
    let opts = Options { overrides: Vec::new(), loader: &Memory, default_name: "fuzz".into() };
    let (space, diags) = nasc_compiler::compile(&spec, &opts);
    diags.iter().for_each(|d| check_spans(text, d));
    assert_eq!(space.is_some(), !diags.iter().any(Diagnostic::is_error), "a space iff no error");
});

//! The one place diagnostics are rendered (ariadne, no color, ASCII, byte offsets).
use ariadne::{CharSet, Config, IndexType, Label, Report, ReportKind};
use nasc_grammar::diag::{Diagnostic, Severity, Source};
use std::path::Path;

/// Render diagnostics of one spec file to a string.
pub fn render(path: &str, text: &str, diags: &[Diagnostic]) -> String {
    let dir = Path::new(path).parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let mut out = Vec::new();
    for d in diags {
        let mut files: Vec<(String, String)> = vec![(path.to_string(), text.to_string())];
        let file_of = |s: &Source| -> String {
            match s {
                Source::Spec => path.to_string(),
                Source::Aux(p) => dir.join(p).display().to_string(),
            }
        };
        for l in std::iter::once(&d.primary).chain(d.secondary.iter()) {
            if let Source::Aux(p) = &l.source {
                let full = dir.join(p);
                let name = full.display().to_string();
                if !files.iter().any(|(n, _)| *n == name) {
                    files.push((name, std::fs::read_to_string(&full).unwrap_or_default()));
                }
            }
        }
        let clamp = |file: &str, s: usize, e: usize| {
            let len = files.iter().find(|(n, _)| n == file).map_or(0, |(_, t)| t.len());
            let s = s.min(len);
            let e = e.max(s).min(len);
            s..e.max(s)
        };
        let kind = if d.severity == Severity::Error { ReportKind::Error } else { ReportKind::Warning };
        let pfile = file_of(&d.primary.source);
        let prange = clamp(&pfile, d.primary.span.start, d.primary.span.end);
        let mut r = Report::build(kind, pfile.clone(), prange.start)
            .with_config(Config::default().with_color(false).with_char_set(CharSet::Ascii).with_index_type(IndexType::Byte))
            .with_code(d.code)
            .with_message(&d.message)
            .with_label(Label::new((pfile.clone(), prange)).with_message(&d.primary.message));
        for l in &d.secondary {
            let f = file_of(&l.source);
            let range = clamp(&f, l.span.start, l.span.end);
            r = r.with_label(Label::new((f, range)).with_message(&l.message));
        }
        if let Some(h) = &d.help {
            r = r.with_help(h);
        }
        for n in &d.notes {
            r = r.with_note(n);
        }
        let _ = r.finish().write(ariadne::sources(files.clone()), &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

//! The one place diagnostics are rendered: as text (ariadne, no color, ASCII, byte offsets) and
//! as JSON for scripts (`nasc check --format json`).
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

/// 1-based line and column (in characters) of byte offset `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Diagnostics of one spec file as JSON objects: file, code, severity, message, line and
/// column (1-based) and byte span of the primary label, its label, secondary labels, help, notes.
pub fn to_json(path: &str, text: &str, diags: &[Diagnostic]) -> Vec<serde_json::Value> {
    let dir = Path::new(path).parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let label = |l: &nasc_grammar::diag::Label| {
        let (file, (line, column)) = match &l.source {
            Source::Spec => (path.to_string(), line_col(text, l.span.start)),
            Source::Aux(p) => {
                let full = dir.join(p);
                (full.display().to_string(), line_col(&std::fs::read_to_string(&full).unwrap_or_default(), l.span.start))
            }
        };
        serde_json::json!({"file": file, "line": line, "column": column, "span": [l.span.start, l.span.end], "label": l.message})
    };
    diags
        .iter()
        .map(|d| {
            let mut o = label(&d.primary);
            o["code"] = d.code.into();
            o["severity"] = if d.severity == Severity::Error { "error" } else { "warning" }.into();
            o["message"] = d.message.clone().into();
            o["secondary"] = d.secondary.iter().map(label).collect::<Vec<_>>().into();
            o["help"] = d.help.clone().into();
            o["notes"] = d.notes.clone().into();
            o
        })
        .collect()
}

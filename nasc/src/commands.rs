//! The subcommands.
use crate::error::CliError;
use crate::render::render;
use crate::Format;
use nasc_compiler::{Options, Space};
use nasc_grammar::diag::Diagnostic;
use serde_json::json;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// Parse and compile one spec file: (space if it compiled, rendered diagnostics, any error).
pub fn load(path: &str, sets: &[(String, String)]) -> Result<(Option<Space>, String, bool), CliError> {
    let (space, text, diags) = load_diags(path, sets)?;
    let failed = diags.iter().any(Diagnostic::is_error);
    Ok((space, render(path, &text, &diags), failed))
}

/// Parse and compile a spec: the space (when it compiled), the spec's text and its diagnostics.
pub fn load_diags(path: &str, sets: &[(String, String)]) -> Result<(Option<Space>, String, Vec<Diagnostic>), CliError> {
    let text = crate::zoo::read(path)?;
    let (spec, mut diags) = nasc_grammar::parse(&text);
    let stem = Path::new(path).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = Path::new(path).parent().map(Path::to_path_buf).unwrap_or_default();
    let mut space = None;
    if !diags.iter().any(Diagnostic::is_error) {
        let loader = crate::loader::for_spec(dir);
        let opts = Options { overrides: sets.to_vec(), loader: &loader, default_name: stem };
        let (s, mut d) = nasc_compiler::compile(&spec, &opts);
        diags.append(&mut d);
        space = s;
    }
    Ok((space, text, diags))
}

pub fn open(path: &str, sets: &[(String, String)]) -> Result<Space, u8> {
    match load(path, sets) {
        Err(e) => {
            eprintln!("error: {e}");
            Err(2)
        }
        Ok((space, rendered, failed)) => {
            eprint!("{rendered}");
            match space {
                Some(s) if !failed => Ok(s),
                _ => {
                    eprintln!("error: `{path}` has errors");
                    Err(1)
                }
            }
        }
    }
}

pub fn check(files: &[String], sets: &[(String, String)], format: Format) -> u8 {
    if files.is_empty() {
        eprintln!("error: no files given");
        return 2;
    }
    if format == Format::Json {
        return check_json(files, sets);
    }
    let mut code = 0;
    for f in files {
        match load(f, sets) {
            Err(e) => {
                // an IO error is a usage error (2) and outranks a spec with errors (1)
                eprintln!("error: {e}");
                code = 2;
            }
            Ok((space, rendered, failed)) => {
                print!("{rendered}");
                if failed {
                    code = code.max(1);
                    println!("{f}: failed");
                } else if let Some(s) = space {
                    println!("{f}: ok ({} decisions, size {})", s.decisions().len(), s.size());
                }
            }
        }
    }
    code
}

/// `nasc check --format json`: one document, `{"schema_version": 1, "ok": bool, "files": [...]}`;
/// each file has its diagnostics and, when it compiled, its decision count and size, or the
/// error that kept it from being read. Exit codes as in text mode.
fn check_json(files: &[String], sets: &[(String, String)]) -> u8 {
    let mut code = 0;
    let mut docs = Vec::new();
    for f in files {
        match load_diags(f, sets) {
            Err(e) => {
                code = 2;
                docs.push(json!({"file": f, "ok": false, "error": e.to_string(), "diagnostics": []}));
            }
            Ok((space, text, diags)) => {
                let failed = diags.iter().any(Diagnostic::is_error);
                if failed {
                    code = code.max(1);
                }
                let mut o = json!({"file": f, "ok": !failed, "diagnostics": crate::render::to_json(f, &text, &diags)});
                if let (false, Some(s)) = (failed, space) {
                    o["decisions"] = s.decisions().len().into();
                    o["size"] = s.size().to_string().into();
                }
                docs.push(o);
            }
        }
    }
    println!("{}", json!({"schema_version": 1, "ok": code == 0, "files": docs}));
    code
}

pub fn explain(file: &str, sets: &[(String, String)], format: Format) -> u8 {
    let s = match open(file, sets) {
        Ok(s) => s,
        Err(c) => return c,
    };
    match format {
        Format::Text => print!("{}", s.explain_text()),
        Format::Json => println!("{}", serde_json::to_string_pretty(&s.explain_json()).unwrap_or_default()),
    }
    0
}

fn metric_obj(s: &Space, c: &nasc_compiler::Candidate, name: &str) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    o.insert("candidate".into(), json!(name));
    for (m, v) in s.evaluate(c) {
        o.insert(m, v.map_or(serde_json::Value::Null, |x| if x.fract() == 0.0 && x.abs() < 9e15 { json!(x as i64) } else { json!(x) }));
    }
    o.insert("canonical".into(), json!(s.canonical(c)));
    o.insert("key".into(), json!(s.key(c)));
    o.insert("feasible".into(), json!(s.feasible(c, &[])));
    serde_json::Value::Object(o)
}

pub fn sample(file: &str, sets: &[(String, String)], n: usize, seed: u64, format: Format) -> u8 {
    let s = match open(file, sets) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let cands = match s.sample(n, seed, &[]) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for c in &cands {
        let name = s.name_of(c);
        let line = match format {
            Format::Json => metric_obj(&s, c, &name).to_string(),
            Format::Text => metric_text(&s, c, &name),
        };
        if writeln!(out, "{line}").is_err() {
            return 0;
        }
    }
    0
}

/// A candidate as a text line: its name, then `metric=value` fields, tab-separated.
fn metric_text(s: &Space, c: &nasc_compiler::Candidate, name: &str) -> String {
    let ms: Vec<String> = s.evaluate(c).into_iter().filter_map(|(m, v)| v.map(|x| format!("{m}={}", fmt_num(x)))).collect();
    format!("{name}\t{}", ms.join("\t"))
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

pub fn metrics(file: &str, sets: &[(String, String)], candidates: &str, format: Format) -> u8 {
    let s = match open(file, sets) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let reader: Box<dyn BufRead> = if candidates == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else if Path::new(candidates).is_dir() {
        eprintln!("error: cannot read `{candidates}`: is a folder; --candidates takes a file of names, one per line, or `-` for stdin");
        return 2;
    } else {
        match std::fs::File::open(candidates) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("error: cannot read `{candidates}`: {}", e.to_string().to_lowercase());
                return 2;
            }
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut code = 0;
    for (i, line) in reader.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            // not valid UTF-8: that line is skipped; any other read error ends the input (a
            // reader that failed once, e.g. on a folder, fails forever)
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                if writeln!(out, "{}", json!({"line": i + 1, "error": "unreadable line: not valid utf-8"})).is_err() {
                    return 1;
                }
                code = 1;
                continue;
            }
            Err(e) => {
                eprintln!("error: cannot read `{candidates}` (line {}): {}", i + 1, e.to_string().to_lowercase());
                return 2;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let text = match (s.parse_name(&line), format) {
            (Ok(c), Format::Json) => metric_obj(&s, &c, line.trim()).to_string(),
            (Ok(c), Format::Text) => metric_text(&s, &c, line.trim()),
            (Err(e), Format::Json) => {
                code = 1;
                json!({"line": i + 1, "candidate": line.trim(), "error": e.to_string()}).to_string()
            }
            (Err(e), Format::Text) => {
                code = 1;
                format!("{}\terror (line {}): {e}", line.trim(), i + 1)
            }
        };
        if writeln!(out, "{text}").is_err() {
            return code;
        }
    }
    code
}

fn snap_path(file: &str) -> PathBuf {
    let p = Path::new(file);
    let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    p.parent().unwrap_or(Path::new("")).join("snapshots").join(format!("{stem}.snap"))
}

/// insta's `.snap` format: a YAML-ish header then the content.
fn snap_text(file: &str, body: &str) -> String {
    format!("---\nsource: {file}\nexpression: nasc explain\n---\n{body}")
}

fn snap_body(text: &str) -> &str {
    match text.strip_prefix("---\n").and_then(|t| t.find("\n---\n").map(|i| &t[i + 5..])) {
        Some(b) => b,
        None => text,
    }
}

pub fn snapshot(files: &[String], sets: &[(String, String)], accept: bool) -> u8 {
    let mut code = 0;
    for f in files {
        let s = match open(f, sets) {
            Ok(s) => s,
            Err(c) => {
                code = code.max(c);
                continue;
            }
        };
        let body = s.explain_text();
        let path = snap_path(f);
        let old = std::fs::read_to_string(&path).ok();
        let same = old.as_deref().map(snap_body) == Some(body.as_str());
        let new_path = path.with_extension("snap.new");
        if same {
            let _ = std::fs::remove_file(&new_path);
            println!("{f}: unchanged");
            continue;
        }
        if accept {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Err(e) = std::fs::write(&path, snap_text(f, &body)) {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                code = 2;
                continue;
            }
            let _ = std::fs::remove_file(&new_path);
            println!("{f}: snapshot written to {}", path.display());
            continue;
        }
        code = code.max(1);
        match &old {
            None => println!("{f}: no snapshot at {} (run `nasc snapshot --accept {f}`)", path.display()),
            Some(o) => {
                println!("{f}: the space changed ({}):", path.display());
                let diff = similar::TextDiff::from_lines(snap_body(o), body.as_str());
                print!("{}", diff.unified_diff().context_radius(2).header("snapshot", "current"));
            }
        }
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(&new_path, snap_text(f, &body));
    }
    code
}

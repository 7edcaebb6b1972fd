//! ARCHITECTURE.md's code map stays complete: every source file of the repository (Rust,
//! WGSL, specs, scripts) and every CLI command is named in it. A file is covered by its path
//! (relative to its section's folder), by a brace list (`src/{a,b}.rs`), a glob
//! (`shaders/*.wgsl`) or a folder entry (`src/gpu/`).
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `a{b,c}d` -> [abd, acd] (one level of braces, repeated).
fn expand(tok: &str) -> Vec<String> {
    match (tok.find('{'), tok.find('}')) {
        (Some(i), Some(j)) if i < j => tok[i + 1..j].split(',').flat_map(|alt| expand(&format!("{}{}{}", &tok[..i], alt, &tok[j + 1..]))).collect(),
        _ => vec![tok.to_string()],
    }
}

/// Does the glob `pat` (only `*`, not crossing `/`) match `path`?
fn glob(pat: &str, path: &str) -> bool {
    match pat.split_once('*') {
        None => pat == path,
        Some((pre, post)) => path.len() >= pre.len() + post.len() && path.starts_with(pre) && path.ends_with(post) && !path[pre.len()..path.len() - post.len()].contains('/'),
    }
}

/// The code map's entries as repository-relative patterns.
fn entries(doc: &str) -> Vec<String> {
    let map = doc.split("## Code map").nth(1).expect("ARCHITECTURE.md has a `## Code map` section");
    let map = map.split("\n## ").next().unwrap();
    let mut out = Vec::new();
    let mut prefix = String::new();
    for line in map.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            // the section's folder: its first backticked token, if it looks like a path
            prefix = h.split('`').nth(1).filter(|t| t.ends_with('/')).unwrap_or("").to_string();
            continue;
        }
        // an entry is a list item's backticked path followed by `:` or `,` (`- \`a.rs\`,
        // \`b.rs\`: what they do. \`c.rs\`: ...`); paths inside descriptions do not count
        let Some(item) = line.trim_start().strip_prefix("- ") else { continue };
        let parts: Vec<&str> = item.split('`').collect();
        for (i, tok) in parts.iter().enumerate() {
            let next = parts.get(i + 1).copied().unwrap_or("");
            if i % 2 == 0 || tok.contains(' ') || tok.is_empty() || !(next.starts_with(':') || next.starts_with(',')) {
                continue;
            }
            for t in expand(tok) {
                let t = t.trim_start_matches("./").to_string();
                // relative to the section's folder, or already from the repository root
                out.push(format!("{prefix}{t}"));
                out.push(t);
            }
        }
    }
    out
}

fn covered(path: &str, entries: &[String]) -> bool {
    entries.iter().any(|e| e == path || (e.ends_with('/') && path.starts_with(e.as_str())) || (e.contains('*') && glob(e, path)))
}

/// Every tracked source file: `git ls-files` (so build outputs and untracked scratch files are
/// not counted), filtered to the kinds the code map describes.
fn sources() -> Vec<String> {
    let out = Command::new("git").arg("ls-files").current_dir(root()).output().expect("git runs");
    assert!(out.status.success(), "git ls-files failed");
    let mut files: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    // files not yet added (a new module in a working tree) count too
    let untracked = Command::new("git").args(["ls-files", "--others", "--exclude-standard"]).current_dir(root()).output().expect("git runs");
    files.extend(String::from_utf8_lossy(&untracked.stdout).lines().map(str::to_string));
    files.retain(|f| {
        let kind = [".rs", ".wgsl", ".nas", ".py", ".sh", ".pest"].iter().any(|e| f.ends_with(e));
        // snapshot and corpus data are covered by their folders' entries
        kind && !f.contains("/snapshots/") && root().join(f).exists()
    });
    files.sort();
    files.dedup();
    files
}

#[test]
fn every_source_file_is_in_the_code_map() {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let e = entries(&doc);
    let files = sources();
    assert!(files.len() > 100, "only {} source files found", files.len());
    let missing: Vec<&String> = files.iter().filter(|f| !covered(f, &e)).collect();
    assert!(
        missing.is_empty(),
        "{} source files are missing from ARCHITECTURE.md's code map:\n  {}",
        missing.len(),
        missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn every_cli_command_is_in_the_code_map() {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let map = doc.split("## Code map").nth(1).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nasc")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    let cmds: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .expect("a command list")
        .split("\n\n")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(cmds.len() >= 10, "{cmds:?}");
    let missing: Vec<&&str> = cmds.iter().filter(|c| !map.contains(&format!("`nasc {c}`"))).collect();
    assert!(missing.is_empty(), "CLI commands missing from ARCHITECTURE.md's code map: {missing:?}");
}

#[test]
fn the_matchers_work() {
    assert_eq!(expand("src/{a,b}.rs"), vec!["src/a.rs", "src/b.rs"]);
    assert!(glob("shaders/*.wgsl", "shaders/conv.wgsl"));
    assert!(!glob("shaders/*.wgsl", "shaders/x/conv.wgsl"));
    let e = entries("## Code map\n### `kernels/` (crate)\n- `src/gpu/`: host, see `src/d.rs`\n- `src/{a,b}.rs`, `src/e.rs`: x\n## Invariants\n- `src/c.rs`\n");
    assert!(covered("kernels/src/gpu/context.rs", &e));
    assert!(covered("kernels/src/b.rs", &e));
    assert!(covered("kernels/src/e.rs", &e));
    assert!(!covered("kernels/src/c.rs", &e), "entries after the code map do not count");
    assert!(!covered("kernels/src/d.rs", &e), "a path in an entry's description is not an entry");
}

/// User-facing docs (READMEs, docs/, the zoo specs' headers) never point at `../shared`, which
/// users do not have: data is named in the repository's own terms.
#[test]
fn user_docs_do_not_point_outside_the_repository() {
    let out = Command::new("git").arg("ls-files").current_dir(root()).output().expect("git runs");
    assert!(out.status.success(), "git ls-files failed");
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let user_facing =
        |f: &str| f.ends_with("README.md") || (f.starts_with("docs/") && f.ends_with(".md")) || (f.starts_with("specs/") && f.ends_with(".nas") && f.matches('/').count() == 1);
    let files: Vec<&str> = listed.lines().filter(|f| user_facing(f)).collect();
    assert!(files.len() > 10 && files.contains(&"README.md") && files.contains(&"docs/LANGUAGE.md"), "{files:?}");
    let bad: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(root().join(f)).ok()?;
            let lines: Vec<String> = text.lines().enumerate().filter(|(_, l)| l.contains("../shared")).map(|(i, _)| format!("{f}:{}", i + 1)).collect();
            (!lines.is_empty()).then(|| lines.join(", "))
        })
        .collect();
    assert!(bad.is_empty(), "user docs point at ../shared: {bad:?}");
}

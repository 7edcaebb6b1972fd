//! Compile a spec for the runtime (tests, examples, benchmarks). The CLI compiles through the
//! runner's own loader so that diagnostics are rendered; this one returns them as plain text.
use nasc_compiler::{Loader, Options, Space};
use std::path::{Path, PathBuf};

struct FsLoader {
    dir: PathBuf,
}

impl Loader for FsLoader {
    fn load(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.dir.join(path)).map_err(|e| e.to_string())
    }
}

/// Compile spec `text` (lookup files relative to `dir`) with `--set` overrides.
pub fn compile_text(text: &str, dir: &Path, default_name: &str, sets: &[(String, String)]) -> Result<Space, String> {
    let (spec, diags) = nasc_grammar::parse(text);
    if let Some(d) = diags.iter().find(|d| d.is_error()) {
        return Err(format!("syntax error: {}", d.message));
    }
    let loader = FsLoader { dir: dir.to_path_buf() };
    let opts = Options { overrides: sets.to_vec(), loader: &loader, default_name: default_name.to_string() };
    let (space, diags) = nasc_compiler::compile(&spec, &opts);
    if let Some(d) = diags.iter().find(|d| d.is_error()) {
        return Err(format!("error: {}", d.message));
    }
    space.ok_or_else(|| "the spec did not compile".to_string())
}

/// Read and compile a spec file; returns the space and the text.
pub fn compile_file(path: &Path, sets: &[(String, String)]) -> Result<(Space, String), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok((compile_text(&text, &dir, &stem, sets)?, text))
}

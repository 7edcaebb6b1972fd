//! Compile a spec for the runtime (tests, examples, benchmarks). The CLI compiles through the
//! runner's own loader so that diagnostics are rendered; this one returns them as plain text.
use nasc_compiler::{Options, Space};
use std::path::{Path, PathBuf};

/// Why a spec does not compile: its first error, as plain text.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read `{}`: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The grammar's first error message.
    #[error("syntax error: {message}")]
    Syntax { message: String },
    /// The compiler's first error message.
    #[error("error: {message}")]
    Compile { message: String },
    #[error("the spec did not compile")]
    NoSpace,
}

impl From<SpecError> for String {
    fn from(e: SpecError) -> String {
        e.to_string()
    }
}

/// Compile spec `text` (lookup files relative to `dir`) with `--set` overrides.
pub fn compile_text(text: &str, dir: &Path, default_name: &str, sets: &[(String, String)]) -> Result<Space, SpecError> {
    let (spec, diags) = nasc_grammar::parse(text);
    if let Some(d) = diags.iter().find(|d| d.is_error()) {
        return Err(SpecError::Syntax { message: d.message.clone() });
    }
    let loader = crate::loader::FsLoader::with_roots(dir.to_path_buf(), Vec::new());
    let opts = Options { overrides: sets.to_vec(), loader: &loader, default_name: default_name.to_string() };
    let (space, diags) = nasc_compiler::compile(&spec, &opts);
    if let Some(d) = diags.iter().find(|d| d.is_error()) {
        return Err(SpecError::Compile { message: d.message.clone() });
    }
    space.ok_or(SpecError::NoSpace)
}

/// Read and compile a spec file; returns the space and the text.
pub fn compile_file(path: &Path, sets: &[(String, String)]) -> Result<(Space, String), SpecError> {
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read { path: path.to_path_buf(), source })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok((compile_text(&text, &dir, &stem, sets)?, text))
}

//! `--allow-path`: the folders, beyond a spec's own, that its lookups may read
//! ([`nasc_runtime::loader::FsLoader`] does the reading and the confinement).
use crate::error::CliError;
use nasc_runtime::loader::FsLoader;
use std::path::PathBuf;
use std::sync::OnceLock;

static ALLOWED: OnceLock<Vec<PathBuf>> = OnceLock::new();

/// The folders given with `--allow-path` (set once, at start-up). A folder that does not exist
/// is an error.
pub fn allow_paths(dirs: &[String]) -> Result<(), CliError> {
    let mut out = Vec::new();
    for d in dirs {
        let c = std::fs::canonicalize(d).map_err(|source| CliError::AllowPath { dir: d.clone(), source })?;
        if !c.is_dir() {
            return Err(CliError::AllowPathNotFolder { dir: d.clone() });
        }
        out.push(c);
    }
    let _ = ALLOWED.set(out);
    Ok(())
}

/// The loader of a spec in folder `dir`, with the folders allowed by `--allow-path`.
pub fn for_spec(dir: PathBuf) -> FsLoader {
    FsLoader::with_roots(dir, ALLOWED.get().cloned().unwrap_or_default())
}

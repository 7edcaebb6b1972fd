//! `--allow-path`: the folders, beyond a spec's own, that its lookups may read
//! ([`nasc_runtime::loader::FsLoader`] does the reading and the confinement).
use nasc_runtime::loader::FsLoader;
use std::path::PathBuf;
use std::sync::OnceLock;

static ALLOWED: OnceLock<Vec<PathBuf>> = OnceLock::new();

/// The folders given with `--allow-path` (set once, at start-up). A folder that does not exist
/// is an error.
pub fn allow_paths(dirs: &[String]) -> Result<(), String> {
    let mut out = Vec::new();
    for d in dirs {
        let c = std::fs::canonicalize(d).map_err(|e| format!("`--allow-path {d}`: {}", e.to_string().to_lowercase()))?;
        if !c.is_dir() {
            return Err(format!("`--allow-path {d}`: not a folder"));
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

//! The spec zoo built into the binary: `nasc search nb201` works from any folder, and
//! `nasc zoo` lists the specs (`nasc zoo NAME` prints one, to copy and edit).
//!
//! A path that names an existing file is always that file; a bare zoo name (`nb201`, or
//! `nb201.nas`) with no such file is the embedded spec. Lookup files are never embedded (no zoo
//! spec reads one).
use crate::error::CliError;

/// (name, text) of every spec in the repository's `specs/` folder.
pub const ZOO: [(&str, &str); 17] = [
    ("nb201", include_str!("../../specs/nb201.nas")),
    ("nas_bench_macro", include_str!("../../specs/nas_bench_macro.nas")),
    ("channel_bench_macro_mobilenet", include_str!("../../specs/channel_bench_macro_mobilenet.nas")),
    ("channel_bench_macro_resnet", include_str!("../../specs/channel_bench_macro_resnet.nas")),
    ("darts", include_str!("../../specs/darts.nas")),
    ("popnas_cell", include_str!("../../specs/popnas_cell.nas")),
    ("nse_multibranch_27ops", include_str!("../../specs/nse_multibranch_27ops.nas")),
    ("nse_small", include_str!("../../specs/nse_small.nas")),
    ("mobilenet_v2_layernas", include_str!("../../specs/mobilenet_v2_layernas.nas")),
    ("ofa_mbv3", include_str!("../../specs/ofa_mbv3.nas")),
    ("fairnas", include_str!("../../specs/fairnas.nas")),
    ("mbv3_space", include_str!("../../specs/mbv3_space.nas")),
    ("resnet18", include_str!("../../specs/resnet18.nas")),
    ("mobilenet_v3_large", include_str!("../../specs/mobilenet_v3_large.nas")),
    ("efficientnet_b0", include_str!("../../specs/efficientnet_b0.nas")),
    ("tiny", include_str!("../../specs/tiny.nas")),
    ("digits_tiny", include_str!("../../specs/digits_tiny.nas")),
];

/// The embedded spec a bare name refers to, if there is no file of that name.
pub fn embedded(path: &str) -> Option<&'static str> {
    if std::path::Path::new(path).exists() || path.contains('/') {
        return None;
    }
    let name = path.strip_suffix(".nas").unwrap_or(path);
    ZOO.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The text of a spec: the file at `path`, or the embedded zoo spec of that name.
pub fn read(path: &str) -> Result<String, CliError> {
    if let Some(t) = embedded(path) {
        return Ok(t.to_string());
    }
    std::fs::read_to_string(path).map_err(|source| CliError::SpecRead { path: path.to_string(), source })
}

/// What follows the IO error of a spec file that cannot be read: a bare name that is not found
/// names the nearest built-in spec, or where they are listed.
pub(crate) fn read_hint(path: &str, e: &std::io::Error) -> String {
    if e.kind() != std::io::ErrorKind::NotFound || path.contains('/') {
        return String::new();
    }
    let names: Vec<&str> = ZOO.iter().map(|(n, _)| *n).collect();
    match nasc_grammar::diag::did_you_mean(path.strip_suffix(".nas").unwrap_or(path), names.iter().copied()) {
        Some(n) => format!("; did you mean the built-in spec `{n}`? (`nasc zoo` lists them)"),
        None => "; `nasc zoo` lists the built-in specs".to_string(),
    }
}

/// The first comment line of a spec: what it is.
fn summary(text: &str) -> &str {
    text.lines().find_map(|l| l.trim().strip_prefix("//")).map(str::trim).unwrap_or("")
}

/// `nasc zoo`: the built-in specs, one per line; `nasc zoo NAME`: that spec's text.
pub fn zoo(name: Option<&str>) -> u8 {
    match name {
        None => {
            for (n, t) in ZOO {
                println!("{n:<30} {}", summary(t));
            }
            0
        }
        Some(n) => match ZOO.iter().find(|(z, _)| *z == n.strip_suffix(".nas").unwrap_or(n)) {
            Some((_, t)) => {
                print!("{t}");
                0
            }
            None => {
                let names: Vec<&str> = ZOO.iter().map(|(z, _)| *z).collect();
                let hint = nasc_grammar::diag::did_you_mean(n, names.iter().copied()).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
                eprintln!("error: no built-in spec `{n}`{hint} (`nasc zoo` lists them)");
                2
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spec of specs/ is built in, so the zoo cannot fall behind the folder.
    #[test]
    fn the_zoo_is_the_specs_folder() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
        let mut files: Vec<String> = std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".nas").map(String::from)).collect();
        files.sort();
        let mut names: Vec<String> = ZOO.iter().map(|(n, _)| n.to_string()).collect();
        names.sort();
        assert_eq!(files, names);
    }
}

//! Shared helpers for the integration tests: compile a zoo spec from specs/.
use nasc_compiler::{Options, Space};
use nasc_runtime::loader::FsLoader;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Compile `specs/NAME.nas` with overrides; panics (test failure) on any diagnostic, warnings
/// included (the shipped specs are warning-free).
pub fn compile_zoo(name: &str, sets: &[(&str, &str)]) -> Space {
    let path = root().join("specs").join(format!("{name}.nas"));
    let text = std::fs::read_to_string(&path).expect("spec file");
    let (spec, diags) = nasc_grammar::parse(&text);
    assert!(diags.is_empty(), "{name}: parse diagnostics {diags:?}");
    let loader = FsLoader::with_roots(path.parent().map(Path::to_path_buf).unwrap_or_default(), Vec::new());
    let opts = Options { overrides: sets.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(), loader: &loader, default_name: name.into() };
    let (space, diags) = nasc_compiler::compile(&spec, &opts);
    assert!(diags.is_empty(), "{name}: {diags:?}");
    space.expect("compiled space")
}

/// Rows of a CSV in tests/data as maps column -> value.
pub fn table(file: &str) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(root().join("tests/data").join(file)).expect("table");
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap_or("").split(',').map(String::from).collect();
    lines.map(|l| header.iter().cloned().zip(l.split(',').map(String::from)).collect()).collect()
}

pub fn metric(space: &Space, c: &nasc_compiler::Candidate, name: &str) -> f64 {
    space.evaluate(c).into_iter().find(|(n, _)| n == name).and_then(|(_, v)| v).expect("metric value")
}

/// The zoo specs of the issue (specs/NAME.nas).
pub const ZOO: [&str; 11] = [
    "nb201",
    "nas_bench_macro",
    "channel_bench_macro_mobilenet",
    "channel_bench_macro_resnet",
    "darts",
    "popnas_cell",
    "nse_multibranch_27ops",
    "nse_small",
    "mobilenet_v2_layernas",
    "ofa_mbv3",
    "fairnas",
];

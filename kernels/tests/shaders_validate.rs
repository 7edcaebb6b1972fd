//! Every `shaders/*.wgsl` file parses with naga's WGSL front end and passes naga's validator.
//! The directory is enumerated, so a new shader cannot be forgotten; the test also checks that
//! every shader is registered with the wgpu host (`nasc_kernels::gpu::SHADERS`).

use std::path::Path;

#[test]
fn every_wgsl_shader_parses_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("shaders dir") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let module = naga::front::wgsl::parse_str(&src).unwrap_or_else(|e| panic!("{}: parse error:\n{}", path.display(), e.emit_to_string(&src)));
        let mut v = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
        v.validate(&module).unwrap_or_else(|e| panic!("{}: validation error:\n{}", path.display(), e.emit_to_string(&src)));
        assert!(!module.entry_points.is_empty(), "{name}: no entry points");
        names.push(name);
    }
    names.sort();
    assert!(names.len() >= 8, "expected the kernel families, found {names:?}");
    let mut registered: Vec<String> = nasc_kernels::gpu::SHADERS.iter().map(|(n, _)| n.to_string()).collect();
    registered.sort();
    assert_eq!(names, registered, "shaders on disk and shaders registered in gpu::SHADERS differ");
}

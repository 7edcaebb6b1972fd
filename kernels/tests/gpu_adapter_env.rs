//! `NASC_WGPU_ADAPTER` selection (its own test binary: it sets the environment variable).

use nasc_kernels::gpu::{Gpu, GpuError};

#[test]
fn adapter_env_selects_by_name_or_index_and_reports_unknown_names() {
    if std::env::var("NASC_SKIP_GPU_TESTS").as_deref() == Ok("1") {
        return;
    }
    std::env::remove_var("NASC_WGPU_ADAPTER");
    let default = Gpu::new().unwrap_or_else(|e| panic!("{e}\nset NASC_SKIP_GPU_TESTS=1 to skip the GPU tests"));
    std::env::set_var("NASC_WGPU_ADAPTER", "no-such-adapter-xyz");
    match Gpu::new() {
        Err(GpuError::AdapterNotFound { wanted, available }) => {
            assert_eq!(wanted, "no-such-adapter-xyz");
            assert!(!available.is_empty());
            let msg = GpuError::AdapterNotFound { wanted, available }.to_string();
            assert!(msg.contains("NASC_WGPU_ADAPTER"), "{msg}");
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(g) => panic!("a bogus adapter name opened {}", g.adapter_name()),
    }
    // by a substring of the default adapter's name, case-insensitive
    let name = default.adapter_info().name;
    std::env::set_var("NASC_WGPU_ADAPTER", name.to_uppercase());
    assert_eq!(Gpu::new().unwrap().adapter_info().name, name);
    std::env::set_var("NASC_WGPU_ADAPTER", "0");
    assert!(Gpu::new().is_ok());
    std::env::remove_var("NASC_WGPU_ADAPTER");
}

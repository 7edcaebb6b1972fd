//! The WGSL sources, embedded at compile time. `tests/shaders_validate.rs` checks that this
//! list equals the `shaders/` directory.

/// (family name = file stem, WGSL source)
pub const SHADERS: &[(&str, &str)] = &[
    ("act", include_str!("../../shaders/act.wgsl")),
    ("batchnorm", include_str!("../../shaders/batchnorm.wgsl")),
    ("channels", include_str!("../../shaders/channels.wgsl")),
    ("conv2d", include_str!("../../shaders/conv2d.wgsl")),
    ("elementwise", include_str!("../../shaders/elementwise.wgsl")),
    ("linear", include_str!("../../shaders/linear.wgsl")),
    ("optim", include_str!("../../shaders/optim.wgsl")),
    ("pool", include_str!("../../shaders/pool.wgsl")),
    ("xent", include_str!("../../shaders/xent.wgsl")),
];

/// The source of one family.
pub fn source(name: &str) -> &'static str {
    SHADERS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no shader {name}")).1
}

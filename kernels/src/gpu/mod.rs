//! The wgpu backend.
mod shaders;
pub use shaders::{source, SHADERS};

//! The wgpu backend: WGSL compute shaders (`kernels/shaders/*.wgsl`, embedded), specialized by
//! WGSL `override` constants (one cached pipeline per kernel and constant set), a buffer pool,
//! and batched recording: ops only record compute passes into a shared command encoder, which
//! is submitted on [`Gpu::flush`], on a readback, or every 2048 recorded passes, so a training
//! step costs one or two submissions.

mod context;
mod ops;
mod shaders;

pub use context::{Gpu, GpuError, GpuStats, GpuTensor};
pub use shaders::{source, SHADERS};

//! nasc-kernels: the compute kernels of the nasc trainer.
pub mod backend;
pub mod cpu;
pub mod gpu;
pub mod shape;

pub use backend::{Backend, CpuBackend, Ops, ParamGrads, Tensor};
pub use gpu::{Gpu, GpuError, GpuTensor};

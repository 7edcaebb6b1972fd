//! nasc-kernels: the compute kernels of the nasc trainer.
pub mod backend;
pub mod cpu;
pub mod gpu;
pub mod shape;

pub use backend::{Backend, CpuBackend, Ops, ParamGrads, Tensor};
pub use gpu::{Gpu, GpuError, GpuTensor};
pub mod data;
pub mod graph;
pub mod model;
pub mod net;
mod net_ops;
pub mod rng;
pub mod train;

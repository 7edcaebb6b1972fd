//! nasc-kernels: the compute kernels of the nasc trainer.
pub mod cpu;
pub mod shape;
pub mod gpu;

//! The CPU backend: free functions over `f32` slices (outputs are caller-allocated and
//! overwritten unless a doc says "accumulate"), multi-threaded with rayon's global pool
//! (`RAYON_NUM_THREADS` sets its size). It is also the oracle the WGSL kernels are tested against.

pub mod act;
pub mod conv;
mod conv_direct;
mod depthwise;
pub mod gemm;
pub mod linear;
pub mod norm;
pub mod optim;
pub mod pool;
pub mod reduce;
mod simd;

pub use act::*;
pub use conv::*;
pub use linear::*;
pub use norm::*;
pub use optim::*;
pub use pool::*;

/// A raw pointer that may cross threads; used where parallel workers write provably
/// disjoint parts of one output slice.
#[derive(Clone, Copy)]
pub(crate) struct SendPtr(pub *mut f32);
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

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

/// Lets the process heap keep freed memory (glibc on Linux; a no-op elsewhere): raises the
/// size above which allocations get their own `mmap` to 32 MiB and the free memory the heap
/// keeps before returning it to the system to 1 GiB. A training step frees and reallocates
/// the same activation-sized buffers every step; with glibc's defaults many of them are fresh
/// mappings that page-fault (and get zeroed by the kernel) on first touch, every step.
/// Process-wide and idempotent. A library must not change a process's allocator behind its
/// back, so nothing in this crate calls it: the program that owns the process does, once,
/// before training on the CPU (the `nasc` runner's `train` command and `train` evaluator, the
/// `train_step_speed` example). Training is correct without it, only slower where steps
/// reallocate large buffers.
pub fn retain_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            extern "C" {
                fn mallopt(param: i32, value: i32) -> i32;
            }
            const M_TRIM_THRESHOLD: i32 = -1;
            const M_MMAP_THRESHOLD: i32 = -3;
            // SAFETY: glibc's `mallopt` only sets allocator parameters (thread-safe, takes the
            // arena locks); both values are in the ranges it accepts.
            unsafe {
                mallopt(M_MMAP_THRESHOLD, 32 << 20);
                mallopt(M_TRIM_THRESHOLD, 1 << 30);
            }
        });
    }
}

/// A raw pointer that may cross threads; used where parallel workers write provably
/// disjoint parts of one output slice.
#[derive(Clone, Copy)]
pub(crate) struct SendPtr(pub *mut f32);
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

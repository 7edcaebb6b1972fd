//! # nasc-kernels: the compute kernels of the nasc trainer
//!
//! Two backends with one op set, forward and backward, for every op the zoo's networks use:
//!
//! * [`cpu`]: free functions over `f32` slices, multi-threaded with rayon. Stride-1
//!   convolutions on x86-64 with AVX2+FMA run direct ("implicit GEMM": no im2col matrix)
//!   microkernels (`cpu/simd.rs`, `cpu/conv_direct.rs`, chosen at run time); others run as
//!   im2col + GEMM (the `gemm` crate; `matrixmultiply` with `--no-default-features --features
//!   mm`), which `cpu::conv2d_*_reference` always use, or direct loops for depthwise ones. It is
//!   also the oracle the GPU kernels are tested against, and its backward passes are checked
//!   against finite differences.
//! * [`gpu`]: WGSL compute shaders (`kernels/shaders/*.wgsl`, embedded in the binary) run
//!   through wgpu on any adapter (Vulkan, Metal, DX12; lavapipe/llvmpipe on CPU-only
//!   machines). Shapes and hyper-parameters are WGSL `override` constants, so every distinct
//!   layer gets one cached pipeline; buffers come from a pool; ops only record work, and a
//!   training step is submitted in one or two batches.
//!
//! The [`Ops`] trait gives both the same API: [`CpuBackend`] (tensors are `Vec<f32>`), [`Gpu`]
//! (tensors are [`GpuTensor`]s). A network executor is written once against `Ops` and runs on
//! either; the run-time choice [`Backend`] (`Backend::Cpu` | `Backend::Wgpu`) runs such generic
//! code ([`OnBackend`]) on one of them, so tensors of two backends never meet.
//!
//! ## Conventions
//! * Activations are NCHW `f32`, contiguous; conv weights OIHW with `I = c_in / groups`; linear
//!   weights `[out, in]`. Configurations live in [`shape`]: [`shape::Conv2d`],
//!   [`shape::Pool2d`] / [`shape::PoolKind`], [`shape::BatchNorm`], [`shape::Linear`],
//!   [`shape::Act`], [`shape::Sgd`], [`shape::AdamW`], [`shape::cosine_lr`].
//! * Semantics are PyTorch's throughout (zero padding, floor-mode pooling, `count_include_pad`,
//!   batch statistics with biased variance for normalization and unbiased for the running
//!   variance, derivative conventions at kinks, `F.cross_entropy` mean reduction,
//!   `torch.optim.SGD` with dampening 0 and `torch.optim.AdamW`).
//! * Backward functions return or overwrite gradients (never accumulate); gradient
//!   accumulation where a tensor feeds several ops is explicit with `axpy`.
//!
//! ## Ops (each on both backends)
//! | op | forward | backward |
//! |---|---|---|
//! | conv2d (stride, padding, dilation, groups/depthwise, 1xk, kx1, bias) | `conv2d_forward` | `conv2d_backward` → dx?, dw, db? |
//! | batch norm, training | `batchnorm_train_forward` (updates running stats) | `batchnorm_train_backward` |
//! | batch norm, eval | `batchnorm_eval_forward` | `batchnorm_eval_backward` |
//! | ReLU, ReLU6, swish, h-swish, sigmoid, h-sigmoid | `act_forward` | `act_backward` |
//! | avg pool (count_include_pad true/false), max pool | `pool2d_forward` | `pool2d_backward` |
//! | global average pool | `global_avg_forward` | `global_avg_backward` |
//! | linear | `linear_forward` | `linear_backward` |
//! | add | `add` | identity (pass `dy` on) |
//! | mean of branches | `mean_forward` | `scale(1/k, dy)` |
//! | concat (channels) | `concat_forward` | `concat_backward` (split) |
//! | zero / identity | `zeros` / `identity` | zeros / identity |
//! | squeeze-excite | composed: `global_avg` → 1x1 conv → act → 1x1 conv → `HSigmoid`/`Sigmoid` → `channel_mul_forward` | the parts' backwards with `channel_mul_backward` |
//! | softmax cross-entropy (mean over batch) | `softmax_xent` → (loss, dlogits) | (included) |
//! | SGD (momentum, Nesterov, weight decay) + cosine LR | `sgd_step`, [`shape::cosine_lr`] | |
//! | AdamW | `adamw_step` | |
//! | gradient accumulation, scaling | `axpy`, `scale` | |
//!
//! ## GPU selection and tests
//! [`Gpu::new`] prefers a discrete GPU, then integrated, virtual, other, and finally a CPU
//! adapter (lavapipe); `NASC_WGPU_ADAPTER` picks one by index or by a substring of its name,
//! and `WGPU_BACKEND` narrows the backends as in any wgpu program. The GPU-vs-CPU tests fail
//! with a clear message when no adapter exists, unless `NASC_SKIP_GPU_TESTS=1` is set (on
//! Debian/Ubuntu, `apt-get install mesa-vulkan-drivers` provides lavapipe).

pub mod backend;
pub mod cpu;
pub mod gpu;
pub mod shape;

pub use backend::{Backend, CpuBackend, OnBackend, Ops, ParamGrads};
pub use error::{DataError, GraphError, SetupError, SupernetError};
pub use gpu::{Gpu, GpuError, GpuStats, GpuTensor};

// The trainer (network graph, models on either backend, data, training loop).
pub mod data;
pub mod error;
pub mod graph;
pub mod init;
pub mod model;
mod net_ops;
pub mod rng;
pub mod speed;
pub mod train;

// NSE (issue 19): the multi-branch supernet and its rounds, on the CPU backend or the WGSL kernels.
pub mod nse;
pub mod nse_ckpt;
pub mod nse_spec;
pub mod supernet;

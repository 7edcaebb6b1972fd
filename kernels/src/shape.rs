//! Op configurations shared by the CPU and the wgpu backends.
//!
//! Layout conventions (PyTorch's): activations are NCHW `f32`, contiguous; conv weights are
//! OIHW with `I = c_in / groups`; linear weights are `[out, in]`; biases are `[channels]`.
//! Every config is a small `Copy` value; the wgpu backend turns its fields into WGSL `override`
//! constants, so equal configs share one compiled pipeline.

/// 2-D convolution, PyTorch `nn.Conv2d` semantics (zero padding, cross-correlation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2d {
    pub n: usize,
    pub c_in: usize,
    pub h: usize,
    pub w: usize,
    pub c_out: usize,
    pub kh: usize,
    pub kw: usize,
    /// (stride_h, stride_w)
    pub stride: (usize, usize),
    /// (pad_h, pad_w), symmetric zero padding
    pub pad: (usize, usize),
    /// (dilation_h, dilation_w)
    pub dil: (usize, usize),
    pub groups: usize,
    pub bias: bool,
}

impl Conv2d {
    /// A square-kernel convolution with stride/padding/dilation equal in both dims, groups 1,
    /// no bias. Adjust fields afterwards for anything else.
    pub fn new(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, k: usize) -> Self {
        Conv2d { n, c_in, h, w, c_out, kh: k, kw: k, stride: (1, 1), pad: (0, 0), dil: (1, 1), groups: 1, bias: false }
    }
    pub fn out_h(&self) -> usize {
        (self.h + 2 * self.pad.0 - self.dil.0 * (self.kh - 1) - 1) / self.stride.0 + 1
    }
    pub fn out_w(&self) -> usize {
        (self.w + 2 * self.pad.1 - self.dil.1 * (self.kw - 1) - 1) / self.stride.1 + 1
    }
    /// Input channels per group.
    pub fn cin_g(&self) -> usize {
        self.c_in / self.groups
    }
    /// Output channels per group.
    pub fn cout_g(&self) -> usize {
        self.c_out / self.groups
    }
    pub fn x_len(&self) -> usize {
        self.n * self.c_in * self.h * self.w
    }
    pub fn y_len(&self) -> usize {
        self.n * self.c_out * self.out_h() * self.out_w()
    }
    pub fn w_len(&self) -> usize {
        self.c_out * self.cin_g() * self.kh * self.kw
    }
    /// Multiply-accumulates of the forward pass times two.
    pub fn flops(&self) -> f64 {
        2.0 * self.y_len() as f64 * (self.cin_g() * self.kh * self.kw) as f64
    }
    /// Panics with a message when the configuration is not valid.
    pub fn validate(&self) {
        assert!(
            self.groups >= 1 && self.c_in.is_multiple_of(self.groups) && self.c_out.is_multiple_of(self.groups),
            "conv2d: channels {}->{} not divisible by groups {}",
            self.c_in,
            self.c_out,
            self.groups
        );
        assert!(self.stride.0 >= 1 && self.stride.1 >= 1 && self.dil.0 >= 1 && self.dil.1 >= 1);
        assert!(
            self.kh >= 1 && self.kw >= 1 && self.h + 2 * self.pad.0 > self.dil.0 * (self.kh - 1) && self.w + 2 * self.pad.1 > self.dil.1 * (self.kw - 1),
            "conv2d: kernel larger than padded input: {self:?}"
        );
    }
}

/// Pooling flavour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolKind {
    /// Average pooling; `count_include_pad` as in PyTorch (`true` there by default; NB201 uses
    /// `false`).
    Avg { count_include_pad: bool },
    /// Max pooling; padded positions never win (they count as -inf). The gradient goes to the
    /// first maximum in row-major window order, as PyTorch's CPU kernel.
    Max,
}

/// 2-D pooling, PyTorch `nn.AvgPool2d` / `nn.MaxPool2d` semantics (floor mode, no ceil).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool2d {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    /// window (kh, kw)
    pub k: (usize, usize),
    pub stride: (usize, usize),
    pub pad: (usize, usize),
    pub kind: PoolKind,
}

impl Pool2d {
    pub fn out_h(&self) -> usize {
        (self.h + 2 * self.pad.0 - self.k.0) / self.stride.0 + 1
    }
    pub fn out_w(&self) -> usize {
        (self.w + 2 * self.pad.1 - self.k.1) / self.stride.1 + 1
    }
    pub fn x_len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }
    pub fn y_len(&self) -> usize {
        self.n * self.c * self.out_h() * self.out_w()
    }
}

/// Batch normalization over `n` images of `c` channels with `hw` pixels each (`hw = 1` for
/// `BatchNorm1d` on `[n, c]`). Training mode normalizes with the batch mean and the biased
/// variance, and updates the running averages with the unbiased variance, as PyTorch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNorm {
    pub n: usize,
    pub c: usize,
    pub hw: usize,
    pub eps: f32,
    pub momentum: f32,
}

impl BatchNorm {
    /// PyTorch defaults: eps 1e-5, momentum 0.1.
    pub fn new(n: usize, c: usize, hw: usize) -> Self {
        BatchNorm { n, c, hw, eps: 1e-5, momentum: 0.1 }
    }
    pub fn len(&self) -> usize {
        self.n * self.c * self.hw
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Fully connected layer `y = x W^T + b`, `x: [n, in]`, `W: [out, in]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Linear {
    pub n: usize,
    pub inp: usize,
    pub out: usize,
    pub bias: bool,
}

/// Element-wise activations (PyTorch semantics, including the derivative at kinks:
/// ReLU'(0) = 0, ReLU6' is 1 on the open interval (0, 6), h-sigmoid' is 1/6 on (-3, 3),
/// h-swish' is `x/3 + 0.5` on [-3, 3]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Act {
    Relu,
    Relu6,
    /// SiLU: `x * sigmoid(x)`
    Swish,
    /// `x * relu6(x + 3) / 6`
    HSwish,
    Sigmoid,
    /// `relu6(x + 3) / 6`
    HSigmoid,
}

impl Act {
    pub const ALL: [Act; 6] = [Act::Relu, Act::Relu6, Act::Swish, Act::HSwish, Act::Sigmoid, Act::HSigmoid];
    /// Index used as the WGSL `override` constant `ACT`.
    pub fn code(self) -> u32 {
        match self {
            Act::Relu => 0,
            Act::Relu6 => 1,
            Act::Swish => 2,
            Act::HSwish => 3,
            Act::Sigmoid => 4,
            Act::HSigmoid => 5,
        }
    }
}

/// SGD, PyTorch `torch.optim.SGD` semantics with `dampening = 0`:
/// `g += wd * p; buf = momentum * buf + g; g = nesterov ? g + momentum * buf : buf; p -= lr * g`.
/// The momentum buffer starts at zero, which equals PyTorch's first-step `buf = g` when
/// dampening is 0. With `momentum == 0` the buffer is left untouched.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    pub momentum: f32,
    pub nesterov: bool,
    pub weight_decay: f32,
}

/// AdamW, PyTorch `torch.optim.AdamW` semantics (decoupled weight decay, bias correction,
/// `amsgrad = false`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamW {
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
}

impl Default for AdamW {
    /// PyTorch defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01.
    fn default() -> Self {
        AdamW { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01 }
    }
}

/// Cosine annealing as `torch.optim.lr_scheduler.CosineAnnealingLR` (closed form):
/// `eta_min + (base - eta_min) * (1 + cos(pi * t / t_max)) / 2`; `t` is clamped to `t_max`.
pub fn cosine_lr(base: f32, eta_min: f32, t: usize, t_max: usize) -> f32 {
    if t_max == 0 {
        return base;
    }
    let t = t.min(t_max) as f64;
    let c = (1.0 + (std::f64::consts::PI * t / t_max as f64).cos()) / 2.0;
    (eta_min as f64 + (base as f64 - eta_min as f64) * c) as f32
}

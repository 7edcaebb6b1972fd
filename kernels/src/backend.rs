//! One op API over both backends: the [`Ops`] trait (implemented by [`CpuBackend`] with
//! `Vec<f32>` tensors, by [`Gpu`] with [`GpuTensor`]s, and by the runtime-selected [`Backend`]
//! enum with [`Tensor`]s). Ops return freshly allocated outputs; in-place ops take `&mut`.
//! Every op's semantics are documented on the CPU function of the same name in [`crate::cpu`].

use crate::cpu;
use crate::gpu::{Gpu, GpuError, GpuTensor};
use crate::shape::*;
use std::borrow::Cow;

/// `(dx if requested, dw, db if the layer has a bias)`
pub type ParamGrads<T> = (Option<T>, T, Option<T>);

/// The op set shared by the backends.
#[allow(clippy::too_many_arguments)]
pub trait Ops {
    type T;
    /// "cpu" or "wgpu".
    fn kind(&self) -> &'static str;
    fn upload(&self, data: &[f32]) -> Self::T;
    fn download(&self, t: &Self::T) -> Vec<f32>;
    /// A host view of `t`: borrowed where the tensor already lives on the host (the CPU
    /// backend), else downloaded.
    fn host<'a>(&self, t: &'a Self::T) -> Cow<'a, [f32]> {
        Cow::Owned(self.download(t))
    }
    fn zeros(&self, len: usize) -> Self::T;
    fn full(&self, len: usize, v: f32) -> Self::T;
    fn len(&self, t: &Self::T) -> usize;
    /// Submits recorded work (no-op on the CPU).
    fn flush(&self) {}
    /// Hands back a tensor that is no longer needed, so a later op may reuse its memory
    /// (the CPU backend does, for outputs its ops overwrite entirely); the default drops it.
    fn recycle(&self, t: Self::T) {
        drop(t)
    }

    fn conv2d_forward(&self, c: &Conv2d, x: &Self::T, w: &Self::T, b: Option<&Self::T>) -> Self::T;
    fn conv2d_backward(&self, c: &Conv2d, x: &Self::T, w: &Self::T, dy: &Self::T, need_dx: bool) -> ParamGrads<Self::T>;
    /// Returns `(y, save_mean, save_invstd)`; updates the running statistics.
    fn batchnorm_train_forward(&self, b: &BatchNorm, x: &Self::T, gamma: &Self::T, beta: &Self::T, rm: &mut Self::T, rv: &mut Self::T) -> (Self::T, Self::T, Self::T);
    /// Returns `(dx, dgamma, dbeta)`.
    fn batchnorm_train_backward(&self, b: &BatchNorm, x: &Self::T, dy: &Self::T, gamma: &Self::T, mean: &Self::T, invstd: &Self::T) -> (Self::T, Self::T, Self::T);
    fn batchnorm_eval_forward(&self, b: &BatchNorm, x: &Self::T, gamma: &Self::T, beta: &Self::T, rm: &Self::T, rv: &Self::T) -> Self::T;
    /// Returns `(dx, dgamma, dbeta)`.
    fn batchnorm_eval_backward(&self, b: &BatchNorm, x: &Self::T, dy: &Self::T, gamma: &Self::T, rm: &Self::T, rv: &Self::T) -> (Self::T, Self::T, Self::T);
    fn act_forward(&self, a: Act, x: &Self::T) -> Self::T;
    fn act_backward(&self, a: Act, x: &Self::T, dy: &Self::T) -> Self::T;
    fn pool2d_forward(&self, p: &Pool2d, x: &Self::T) -> Self::T;
    fn pool2d_backward(&self, p: &Pool2d, x: &Self::T, dy: &Self::T) -> Self::T;
    fn global_avg_forward(&self, n: usize, c: usize, hw: usize, x: &Self::T) -> Self::T;
    fn global_avg_backward(&self, n: usize, c: usize, hw: usize, dy: &Self::T) -> Self::T;
    fn linear_forward(&self, l: &Linear, x: &Self::T, w: &Self::T, b: Option<&Self::T>) -> Self::T;
    fn linear_backward(&self, l: &Linear, x: &Self::T, w: &Self::T, dy: &Self::T, need_dx: bool) -> ParamGrads<Self::T>;
    fn add(&self, a: &Self::T, b: &Self::T) -> Self::T;
    /// `y += alpha * x` (gradient accumulation).
    fn axpy(&self, alpha: f32, x: &Self::T, y: &mut Self::T);
    fn scale(&self, alpha: f32, x: &Self::T) -> Self::T;
    /// The identity op (a copy; its backward is a copy too).
    fn identity(&self, x: &Self::T) -> Self::T {
        self.scale(1.0, x)
    }
    /// Mean of branches; backward: `scale(1/k, dy)` for each branch.
    fn mean_forward(&self, xs: &[&Self::T]) -> Self::T;
    fn concat_forward(&self, n: usize, hw: usize, chans: &[usize], xs: &[&Self::T]) -> Self::T;
    fn concat_backward(&self, n: usize, hw: usize, chans: &[usize], dy: &Self::T) -> Vec<Self::T>;
    fn channel_mul_forward(&self, n: usize, c: usize, hw: usize, x: &Self::T, s: &Self::T) -> Self::T;
    /// Returns `(dx, ds)`.
    fn channel_mul_backward(&self, n: usize, c: usize, hw: usize, x: &Self::T, s: &Self::T, dy: &Self::T) -> (Self::T, Self::T);
    /// Returns `(loss as a 1-element tensor, dlogits)`.
    fn softmax_xent(&self, n: usize, k: usize, logits: &Self::T, labels: &[u32]) -> (Self::T, Self::T);
    fn sgd_step(&self, o: &Sgd, lr: f32, p: &mut Self::T, g: &Self::T, buf: &mut Self::T);
    fn adamw_step(&self, o: &AdamW, lr: f32, step: u32, p: &mut Self::T, g: &Self::T, m: &mut Self::T, v: &mut Self::T);
}

/// The CPU backend as an [`Ops`] implementation (tensors are `Vec<f32>`).
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuBackend;

fn z(n: usize) -> Vec<f32> {
    vec![0.0; n]
}

thread_local! {
    /// Tensors handed back by [`Ops::recycle`] on this thread, by length.
    static RECYCLED: std::cell::RefCell<std::collections::HashMap<usize, Vec<Vec<f32>>>> = Default::default();
}

/// At most this many recycled tensors of one length are kept.
const RECYCLE_MAX: usize = 64;

/// An output tensor of `n` floats with unspecified contents, for ops that overwrite every
/// element: a recycled tensor of that length if there is one (no allocation, no zeroing, and
/// its memory is likely still cached), else a new zeroed one.
fn out(n: usize) -> Vec<f32> {
    RECYCLED.with(|r| r.borrow_mut().get_mut(&n).and_then(|v| v.pop())).unwrap_or_else(|| z(n))
}

impl Ops for CpuBackend {
    type T = Vec<f32>;
    fn kind(&self) -> &'static str {
        "cpu"
    }
    fn upload(&self, data: &[f32]) -> Vec<f32> {
        data.to_vec()
    }
    fn host<'a>(&self, t: &'a Vec<f32>) -> Cow<'a, [f32]> {
        Cow::Borrowed(t)
    }
    fn download(&self, t: &Vec<f32>) -> Vec<f32> {
        t.clone()
    }
    fn zeros(&self, len: usize) -> Vec<f32> {
        z(len)
    }
    fn full(&self, len: usize, v: f32) -> Vec<f32> {
        vec![v; len]
    }
    fn len(&self, t: &Vec<f32>) -> usize {
        t.len()
    }
    fn conv2d_forward(&self, c: &Conv2d, x: &Vec<f32>, w: &Vec<f32>, b: Option<&Vec<f32>>) -> Vec<f32> {
        let mut y = out(c.y_len());
        cpu::conv2d_forward(c, x, w, b.map(|v| &v[..]), &mut y);
        y
    }
    fn conv2d_backward(&self, c: &Conv2d, x: &Vec<f32>, w: &Vec<f32>, dy: &Vec<f32>, need_dx: bool) -> ParamGrads<Vec<f32>> {
        let mut dx = need_dx.then(|| out(c.x_len()));
        let mut dw = z(c.w_len());
        let mut db = c.bias.then(|| z(c.c_out));
        cpu::conv2d_backward(c, x, w, dy, dx.as_deref_mut(), &mut dw, db.as_deref_mut());
        (dx, dw, db)
    }
    fn batchnorm_train_forward(&self, b: &BatchNorm, x: &Vec<f32>, gamma: &Vec<f32>, beta: &Vec<f32>, rm: &mut Vec<f32>, rv: &mut Vec<f32>) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (mut y, mut m, mut i) = (out(b.len()), z(b.c), z(b.c));
        cpu::batchnorm_train_forward(b, x, gamma, beta, rm, rv, &mut y, &mut m, &mut i);
        (y, m, i)
    }
    fn batchnorm_train_backward(&self, b: &BatchNorm, x: &Vec<f32>, dy: &Vec<f32>, gamma: &Vec<f32>, mean: &Vec<f32>, invstd: &Vec<f32>) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (mut dx, mut dg, mut db) = (out(b.len()), z(b.c), z(b.c));
        cpu::batchnorm_train_backward(b, x, dy, gamma, mean, invstd, &mut dx, &mut dg, &mut db);
        (dx, dg, db)
    }
    fn batchnorm_eval_forward(&self, b: &BatchNorm, x: &Vec<f32>, gamma: &Vec<f32>, beta: &Vec<f32>, rm: &Vec<f32>, rv: &Vec<f32>) -> Vec<f32> {
        let mut y = z(b.len());
        cpu::batchnorm_eval_forward(b, x, gamma, beta, rm, rv, &mut y);
        y
    }
    fn batchnorm_eval_backward(&self, b: &BatchNorm, x: &Vec<f32>, dy: &Vec<f32>, gamma: &Vec<f32>, rm: &Vec<f32>, rv: &Vec<f32>) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (mut dx, mut dg, mut db) = (z(b.len()), z(b.c), z(b.c));
        cpu::batchnorm_eval_backward(b, x, dy, gamma, rm, rv, &mut dx, &mut dg, &mut db);
        (dx, dg, db)
    }
    fn act_forward(&self, a: Act, x: &Vec<f32>) -> Vec<f32> {
        let mut y = out(x.len());
        cpu::act_forward(a, x, &mut y);
        y
    }
    fn act_backward(&self, a: Act, x: &Vec<f32>, dy: &Vec<f32>) -> Vec<f32> {
        let mut dx = out(x.len());
        cpu::act_backward(a, x, dy, &mut dx);
        dx
    }
    fn pool2d_forward(&self, p: &Pool2d, x: &Vec<f32>) -> Vec<f32> {
        let mut y = z(p.y_len());
        cpu::pool2d_forward(p, x, &mut y);
        y
    }
    fn pool2d_backward(&self, p: &Pool2d, x: &Vec<f32>, dy: &Vec<f32>) -> Vec<f32> {
        let mut dx = z(p.x_len());
        cpu::pool2d_backward(p, x, dy, &mut dx);
        dx
    }
    fn global_avg_forward(&self, n: usize, c: usize, hw: usize, x: &Vec<f32>) -> Vec<f32> {
        let mut y = z(n * c);
        cpu::global_avg_forward(n, c, hw, x, &mut y);
        y
    }
    fn global_avg_backward(&self, n: usize, c: usize, hw: usize, dy: &Vec<f32>) -> Vec<f32> {
        let mut dx = z(n * c * hw);
        cpu::global_avg_backward(n, c, hw, dy, &mut dx);
        dx
    }
    fn linear_forward(&self, l: &Linear, x: &Vec<f32>, w: &Vec<f32>, b: Option<&Vec<f32>>) -> Vec<f32> {
        let mut y = z(l.n * l.out);
        cpu::linear_forward(l, x, w, b.map(|v| &v[..]), &mut y);
        y
    }
    fn linear_backward(&self, l: &Linear, x: &Vec<f32>, w: &Vec<f32>, dy: &Vec<f32>, need_dx: bool) -> ParamGrads<Vec<f32>> {
        let mut dx = need_dx.then(|| z(l.n * l.inp));
        let mut dw = z(l.out * l.inp);
        let mut db = l.bias.then(|| z(l.out));
        cpu::linear_backward(l, x, w, dy, dx.as_deref_mut(), &mut dw, db.as_deref_mut());
        (dx, dw, db)
    }
    fn add(&self, a: &Vec<f32>, b: &Vec<f32>) -> Vec<f32> {
        let mut y = out(a.len());
        cpu::add(a, b, &mut y);
        y
    }
    fn axpy(&self, alpha: f32, x: &Vec<f32>, y: &mut Vec<f32>) {
        cpu::axpy(alpha, x, y);
    }
    fn scale(&self, alpha: f32, x: &Vec<f32>) -> Vec<f32> {
        let mut y = out(x.len());
        cpu::scale(alpha, x, &mut y);
        y
    }
    fn identity(&self, x: &Vec<f32>) -> Vec<f32> {
        let mut y = out(x.len());
        y.copy_from_slice(x);
        y
    }
    fn recycle(&self, t: Vec<f32>) {
        if t.is_empty() {
            return;
        }
        RECYCLED.with(|r| {
            let mut r = r.borrow_mut();
            let v = r.entry(t.len()).or_default();
            if v.len() < RECYCLE_MAX {
                v.push(t);
            }
        });
    }
    fn mean_forward(&self, xs: &[&Vec<f32>]) -> Vec<f32> {
        let mut y = z(xs[0].len());
        let refs: Vec<&[f32]> = xs.iter().map(|v| &v[..]).collect();
        cpu::mean_forward(&refs, &mut y);
        y
    }
    fn concat_forward(&self, n: usize, hw: usize, chans: &[usize], xs: &[&Vec<f32>]) -> Vec<f32> {
        let mut y = z(n * hw * chans.iter().sum::<usize>());
        let refs: Vec<&[f32]> = xs.iter().map(|v| &v[..]).collect();
        cpu::concat_forward(n, hw, chans, &refs, &mut y);
        y
    }
    fn concat_backward(&self, n: usize, hw: usize, chans: &[usize], dy: &Vec<f32>) -> Vec<Vec<f32>> {
        let mut out: Vec<Vec<f32>> = chans.iter().map(|&c| z(n * c * hw)).collect();
        let mut refs: Vec<&mut [f32]> = out.iter_mut().map(|v| &mut v[..]).collect();
        cpu::concat_backward(n, hw, chans, dy, &mut refs);
        out
    }
    fn channel_mul_forward(&self, n: usize, c: usize, hw: usize, x: &Vec<f32>, s: &Vec<f32>) -> Vec<f32> {
        let mut y = z(n * c * hw);
        cpu::channel_mul_forward(n, c, hw, x, s, &mut y);
        y
    }
    fn channel_mul_backward(&self, n: usize, c: usize, hw: usize, x: &Vec<f32>, s: &Vec<f32>, dy: &Vec<f32>) -> (Vec<f32>, Vec<f32>) {
        let (mut dx, mut ds) = (z(n * c * hw), z(n * c));
        cpu::channel_mul_backward(n, c, hw, x, s, dy, &mut dx, &mut ds);
        (dx, ds)
    }
    fn softmax_xent(&self, n: usize, k: usize, logits: &Vec<f32>, labels: &[u32]) -> (Vec<f32>, Vec<f32>) {
        let mut d = z(n * k);
        let loss = cpu::softmax_xent(n, k, logits, labels, &mut d);
        (vec![loss], d)
    }
    fn sgd_step(&self, o: &Sgd, lr: f32, p: &mut Vec<f32>, g: &Vec<f32>, buf: &mut Vec<f32>) {
        cpu::sgd_step(o, lr, p, g, buf);
    }
    fn adamw_step(&self, o: &AdamW, lr: f32, step: u32, p: &mut Vec<f32>, g: &Vec<f32>, m: &mut Vec<f32>, v: &mut Vec<f32>) {
        cpu::adamw_step(o, lr, step, p, g, m, v);
    }
}

impl Ops for Gpu {
    type T = GpuTensor;
    fn kind(&self) -> &'static str {
        "wgpu"
    }
    fn upload(&self, data: &[f32]) -> GpuTensor {
        Gpu::upload(self, data)
    }
    fn download(&self, t: &GpuTensor) -> Vec<f32> {
        self.read(t)
    }
    fn zeros(&self, len: usize) -> GpuTensor {
        Gpu::zeros(self, len)
    }
    fn full(&self, len: usize, v: f32) -> GpuTensor {
        Gpu::full(self, len, v)
    }
    fn len(&self, t: &GpuTensor) -> usize {
        t.len()
    }
    fn flush(&self) {
        Gpu::flush(self)
    }
    fn conv2d_forward(&self, c: &Conv2d, x: &GpuTensor, w: &GpuTensor, b: Option<&GpuTensor>) -> GpuTensor {
        Gpu::conv2d_forward(self, c, x, w, b)
    }
    fn conv2d_backward(&self, c: &Conv2d, x: &GpuTensor, w: &GpuTensor, dy: &GpuTensor, need_dx: bool) -> ParamGrads<GpuTensor> {
        Gpu::conv2d_backward(self, c, x, w, dy, need_dx)
    }
    fn batchnorm_train_forward(
        &self,
        b: &BatchNorm,
        x: &GpuTensor,
        gamma: &GpuTensor,
        beta: &GpuTensor,
        rm: &mut GpuTensor,
        rv: &mut GpuTensor,
    ) -> (GpuTensor, GpuTensor, GpuTensor) {
        Gpu::batchnorm_train_forward(self, b, x, gamma, beta, rm, rv)
    }
    fn batchnorm_train_backward(&self, b: &BatchNorm, x: &GpuTensor, dy: &GpuTensor, gamma: &GpuTensor, mean: &GpuTensor, invstd: &GpuTensor) -> (GpuTensor, GpuTensor, GpuTensor) {
        Gpu::batchnorm_train_backward(self, b, x, dy, gamma, mean, invstd)
    }
    fn batchnorm_eval_forward(&self, b: &BatchNorm, x: &GpuTensor, gamma: &GpuTensor, beta: &GpuTensor, rm: &GpuTensor, rv: &GpuTensor) -> GpuTensor {
        Gpu::batchnorm_eval_forward(self, b, x, gamma, beta, rm, rv)
    }
    fn batchnorm_eval_backward(&self, b: &BatchNorm, x: &GpuTensor, dy: &GpuTensor, gamma: &GpuTensor, rm: &GpuTensor, rv: &GpuTensor) -> (GpuTensor, GpuTensor, GpuTensor) {
        Gpu::batchnorm_eval_backward(self, b, x, dy, gamma, rm, rv)
    }
    fn act_forward(&self, a: Act, x: &GpuTensor) -> GpuTensor {
        Gpu::act_forward(self, a, x)
    }
    fn act_backward(&self, a: Act, x: &GpuTensor, dy: &GpuTensor) -> GpuTensor {
        Gpu::act_backward(self, a, x, dy)
    }
    fn pool2d_forward(&self, p: &Pool2d, x: &GpuTensor) -> GpuTensor {
        Gpu::pool2d_forward(self, p, x)
    }
    fn pool2d_backward(&self, p: &Pool2d, x: &GpuTensor, dy: &GpuTensor) -> GpuTensor {
        Gpu::pool2d_backward(self, p, x, dy)
    }
    fn global_avg_forward(&self, n: usize, c: usize, hw: usize, x: &GpuTensor) -> GpuTensor {
        Gpu::global_avg_forward(self, n, c, hw, x)
    }
    fn global_avg_backward(&self, n: usize, c: usize, hw: usize, dy: &GpuTensor) -> GpuTensor {
        Gpu::global_avg_backward(self, n, c, hw, dy)
    }
    fn linear_forward(&self, l: &Linear, x: &GpuTensor, w: &GpuTensor, b: Option<&GpuTensor>) -> GpuTensor {
        Gpu::linear_forward(self, l, x, w, b)
    }
    fn linear_backward(&self, l: &Linear, x: &GpuTensor, w: &GpuTensor, dy: &GpuTensor, need_dx: bool) -> ParamGrads<GpuTensor> {
        Gpu::linear_backward(self, l, x, w, dy, need_dx)
    }
    fn add(&self, a: &GpuTensor, b: &GpuTensor) -> GpuTensor {
        Gpu::add(self, a, b)
    }
    fn axpy(&self, alpha: f32, x: &GpuTensor, y: &mut GpuTensor) {
        Gpu::axpy(self, alpha, x, y)
    }
    fn scale(&self, alpha: f32, x: &GpuTensor) -> GpuTensor {
        Gpu::scale(self, alpha, x)
    }
    fn identity(&self, x: &GpuTensor) -> GpuTensor {
        self.copy(x)
    }
    fn mean_forward(&self, xs: &[&GpuTensor]) -> GpuTensor {
        Gpu::mean_forward(self, xs)
    }
    fn concat_forward(&self, n: usize, hw: usize, chans: &[usize], xs: &[&GpuTensor]) -> GpuTensor {
        Gpu::concat_forward(self, n, hw, chans, xs)
    }
    fn concat_backward(&self, n: usize, hw: usize, chans: &[usize], dy: &GpuTensor) -> Vec<GpuTensor> {
        Gpu::concat_backward(self, n, hw, chans, dy)
    }
    fn channel_mul_forward(&self, n: usize, c: usize, hw: usize, x: &GpuTensor, s: &GpuTensor) -> GpuTensor {
        Gpu::channel_mul_forward(self, n, c, hw, x, s)
    }
    fn channel_mul_backward(&self, n: usize, c: usize, hw: usize, x: &GpuTensor, s: &GpuTensor, dy: &GpuTensor) -> (GpuTensor, GpuTensor) {
        Gpu::channel_mul_backward(self, n, c, hw, x, s, dy)
    }
    fn softmax_xent(&self, n: usize, k: usize, logits: &GpuTensor, labels: &[u32]) -> (GpuTensor, GpuTensor) {
        let lab = self.upload_u32(labels);
        Gpu::softmax_xent(self, n, k, logits, &lab)
    }
    fn sgd_step(&self, o: &Sgd, lr: f32, p: &mut GpuTensor, g: &GpuTensor, buf: &mut GpuTensor) {
        Gpu::sgd_step(self, o, lr, p, g, buf)
    }
    fn adamw_step(&self, o: &AdamW, lr: f32, step: u32, p: &mut GpuTensor, g: &GpuTensor, m: &mut GpuTensor, v: &mut GpuTensor) {
        Gpu::adamw_step(self, o, lr, step, p, g, m, v)
    }
}

/// A backend chosen at run time. It does not implement [`Ops`] itself (no enum of tensors whose
/// variants could be mixed): [`Backend::run`] dispatches once to code written generically over
/// [`Ops`], so a CPU tensor can never reach the wgpu backend or the reverse; that is a type
/// error, not a run-time failure.
#[derive(Clone)]
pub enum Backend {
    Cpu(CpuBackend),
    Wgpu(Gpu),
}

/// Code generic over the backend, run on the backend chosen at run time ([`Backend::run`]).
pub trait OnBackend {
    type Out;
    fn run<B: Ops>(self, backend: &B) -> Self::Out;
}

impl Backend {
    /// The CPU backend.
    pub fn cpu() -> Backend {
        Backend::Cpu(CpuBackend)
    }
    /// The wgpu backend on the adapter [`Gpu::new`] picks.
    pub fn wgpu() -> Result<Backend, GpuError> {
        Gpu::new().map(Backend::Wgpu)
    }
    /// `wgpu` when a hardware adapter opens (or `NASC_WGPU_ADAPTER` names one), else the CPU:
    /// a software adapter such as lavapipe is far slower than the native CPU backend.
    pub fn auto() -> Backend {
        match Gpu::new() {
            Ok(g) if g.adapter_info().device_type != wgpu::DeviceType::Cpu || std::env::var_os("NASC_WGPU_ADAPTER").is_some() => Backend::Wgpu(g),
            _ => Self::cpu(),
        }
    }
    /// A human-readable description ("cpu (N threads)" or the adapter).
    pub fn describe(&self) -> String {
        match self {
            Backend::Cpu(_) => format!("cpu ({} threads, {} GEMM)", rayon::current_num_threads(), cpu::gemm::engine()),
            Backend::Wgpu(g) => format!("wgpu: {}", g.adapter_name()),
        }
    }
    /// "cpu" or "wgpu".
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::Cpu(b) => b.kind(),
            Backend::Wgpu(b) => b.kind(),
        }
    }
    /// Runs `f` on this backend: every tensor `f` makes belongs to it.
    pub fn run<F: OnBackend>(&self, f: F) -> F::Out {
        match self {
            Backend::Cpu(b) => f.run(b),
            Backend::Wgpu(b) => f.run(b),
        }
    }
}

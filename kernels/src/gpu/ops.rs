//! The ops of the wgpu backend: each records one or a few dispatches and returns new tensors
//! (outputs come from the buffer pool). Semantics equal the CPU functions of the same name.

use super::context::{b, Gpu, GpuTensor, Work};
use crate::shape::*;

type C = (&'static str, f64);

fn conv_consts(c: &Conv2d) -> Vec<C> {
    vec![
        ("N", c.n as f64),
        ("CI", c.c_in as f64),
        ("H", c.h as f64),
        ("W", c.w as f64),
        ("CO", c.c_out as f64),
        ("KH", c.kh as f64),
        ("KW", c.kw as f64),
        ("SH", c.stride.0 as f64),
        ("SW", c.stride.1 as f64),
        ("PH", c.pad.0 as f64),
        ("PW", c.pad.1 as f64),
        ("DH", c.dil.0 as f64),
        ("DW", c.dil.1 as f64),
        ("G", c.groups as f64),
        ("OH", c.out_h() as f64),
        ("OW", c.out_w() as f64),
        ("HAS_BIAS", c.bias as u32 as f64),
    ]
}

fn bn_consts(bn: &BatchNorm) -> Vec<C> {
    vec![("N", bn.n as f64), ("C", bn.c as f64), ("HW", bn.hw as f64), ("EPS", bn.eps as f64), ("MOMENTUM", bn.momentum as f64)]
}

fn pool_consts(p: &Pool2d) -> Vec<C> {
    let kind = match p.kind {
        PoolKind::Avg { count_include_pad: false } => 0.0,
        PoolKind::Avg { count_include_pad: true } => 1.0,
        PoolKind::Max => 2.0,
    };
    vec![
        ("N", p.n as f64),
        ("C", p.c as f64),
        ("H", p.h as f64),
        ("W", p.w as f64),
        ("KH", p.k.0 as f64),
        ("KW", p.k.1 as f64),
        ("SH", p.stride.0 as f64),
        ("SW", p.stride.1 as f64),
        ("PH", p.pad.0 as f64),
        ("PW", p.pad.1 as f64),
        ("OH", p.out_h() as f64),
        ("OW", p.out_w() as f64),
        ("KIND", kind),
    ]
}

fn lin_consts(l: &Linear) -> Vec<C> {
    vec![("N", l.n as f64), ("IN", l.inp as f64), ("OUT", l.out as f64), ("HAS_BIAS", l.bias as u32 as f64)]
}

fn same_len(a: &GpuTensor, n: usize, what: &str) {
    assert_eq!(a.len(), n, "{what}: tensor has {} elements, expected {n}", a.len());
}

impl Gpu {
    /// See [`crate::cpu::conv2d_forward`].
    pub fn conv2d_forward(&self, c: &Conv2d, x: &GpuTensor, w: &GpuTensor, bias: Option<&GpuTensor>) -> GpuTensor {
        c.validate();
        same_len(x, c.x_len(), "conv2d x");
        same_len(w, c.w_len(), "conv2d w");
        assert_eq!(bias.is_some(), c.bias, "conv2d: bias tensor must match c.bias");
        let y = self.empty(c.y_len());
        let mut binds = vec![b(0, x), b(1, w), b(3, &y)];
        // The shader's layout always has the bias slot; without a bias it gets a (never read)
        // stand-in.
        binds.push(b(2, bias.unwrap_or(w)));
        let blocks = c.n * c.groups * c.cout_g().div_ceil(4) * c.out_h() * c.out_w();
        self.dispatch("conv2d", "forward", &conv_consts(c), &binds, None, Work::Threads(blocks, 256));
        y
    }

    /// See [`crate::cpu::conv2d_backward`]; returns `(dx if need_dx, dw, db if c.bias)`.
    pub fn conv2d_backward(&self, c: &Conv2d, x: &GpuTensor, w: &GpuTensor, dy: &GpuTensor, need_dx: bool) -> (Option<GpuTensor>, GpuTensor, Option<GpuTensor>) {
        same_len(dy, c.y_len(), "conv2d dy");
        let k = conv_consts(c);
        let dx = need_dx.then(|| {
            let dx = self.empty(c.x_len());
            let blocks = c.n * c.groups * c.cin_g().div_ceil(4) * c.h * c.w;
            self.dispatch("conv2d", "backward_input", &k, &[b(1, w), b(4, dy), b(5, &dx)], None, Work::Threads(blocks, 256));
            dx
        });
        let dw = self.empty(c.w_len());
        self.dispatch("conv2d", "backward_weight", &k, &[b(0, x), b(4, dy), b(6, &dw)], None, Work::Groups(c.w_len()));
        let db = c.bias.then(|| {
            let db = self.empty(c.c_out);
            self.dispatch("conv2d", "backward_bias", &k, &[b(4, dy), b(7, &db)], None, Work::Groups(c.c_out));
            db
        });
        (dx, dw, db)
    }

    /// See [`crate::cpu::batchnorm_train_forward`]; returns `(y, save_mean, save_invstd)` and
    /// updates the running statistics in place.
    pub fn batchnorm_train_forward(
        &self,
        bn: &BatchNorm,
        x: &GpuTensor,
        gamma: &GpuTensor,
        beta: &GpuTensor,
        running_mean: &mut GpuTensor,
        running_var: &mut GpuTensor,
    ) -> (GpuTensor, GpuTensor, GpuTensor) {
        same_len(x, bn.len(), "batchnorm x");
        assert!(bn.c <= 65535);
        let k = bn_consts(bn);
        let (mean, inv, y) = (self.empty(bn.c), self.empty(bn.c), self.empty(bn.len()));
        self.dispatch("batchnorm", "stats", &k, &[b(0, x), b(3, &mean), b(4, &inv), b(5, running_mean), b(6, running_var)], None, Work::Groups(bn.c));
        self.dispatch("batchnorm", "apply", &k, &[b(0, x), b(1, gamma), b(2, beta), b(3, &mean), b(4, &inv), b(7, &y)], None, Work::Threads(bn.len(), 256));
        (y, mean, inv)
    }

    /// See [`crate::cpu::batchnorm_train_backward`]; returns `(dx, dgamma, dbeta)`.
    pub fn batchnorm_train_backward(
        &self,
        bn: &BatchNorm,
        x: &GpuTensor,
        dy: &GpuTensor,
        gamma: &GpuTensor,
        save_mean: &GpuTensor,
        save_invstd: &GpuTensor,
    ) -> (GpuTensor, GpuTensor, GpuTensor) {
        let k = bn_consts(bn);
        let (dg, dbt, dx) = (self.empty(bn.c), self.empty(bn.c), self.empty(bn.len()));
        // `mean` and `invstd` are read_write in the shader; the saved tensors are not modified.
        self.dispatch("batchnorm", "backward_reduce", &k, &[b(0, x), b(8, dy), b(3, save_mean), b(4, save_invstd), b(9, &dg), b(10, &dbt)], None, Work::Groups(bn.c));
        self.dispatch(
            "batchnorm",
            "backward_train",
            &k,
            &[b(0, x), b(8, dy), b(1, gamma), b(3, save_mean), b(4, save_invstd), b(9, &dg), b(10, &dbt), b(11, &dx)],
            None,
            Work::Threads(bn.len(), 256),
        );
        (dx, dg, dbt)
    }

    fn eval_invstd(&self, bn: &BatchNorm, running_var: &GpuTensor) -> GpuTensor {
        let inv = self.empty(bn.c);
        // running_var is bound read_write but only read by this entry point.
        self.dispatch("batchnorm", "eval_invstd", &bn_consts(bn), &[b(6, running_var), b(4, &inv)], None, Work::Threads(bn.c, 64));
        inv
    }

    /// See [`crate::cpu::batchnorm_eval_forward`].
    pub fn batchnorm_eval_forward(&self, bn: &BatchNorm, x: &GpuTensor, gamma: &GpuTensor, beta: &GpuTensor, running_mean: &GpuTensor, running_var: &GpuTensor) -> GpuTensor {
        let inv = self.eval_invstd(bn, running_var);
        let y = self.empty(bn.len());
        self.dispatch("batchnorm", "apply", &bn_consts(bn), &[b(0, x), b(1, gamma), b(2, beta), b(3, running_mean), b(4, &inv), b(7, &y)], None, Work::Threads(bn.len(), 256));
        y
    }

    /// See [`crate::cpu::batchnorm_eval_backward`]; returns `(dx, dgamma, dbeta)`.
    #[allow(clippy::too_many_arguments)]
    pub fn batchnorm_eval_backward(
        &self,
        bn: &BatchNorm,
        x: &GpuTensor,
        dy: &GpuTensor,
        gamma: &GpuTensor,
        running_mean: &GpuTensor,
        running_var: &GpuTensor,
    ) -> (GpuTensor, GpuTensor, GpuTensor) {
        let k = bn_consts(bn);
        let inv = self.eval_invstd(bn, running_var);
        let (dg, dbt, dx) = (self.empty(bn.c), self.empty(bn.c), self.empty(bn.len()));
        self.dispatch("batchnorm", "backward_reduce", &k, &[b(0, x), b(8, dy), b(3, running_mean), b(4, &inv), b(9, &dg), b(10, &dbt)], None, Work::Groups(bn.c));
        self.dispatch("batchnorm", "backward_eval", &k, &[b(8, dy), b(1, gamma), b(4, &inv), b(11, &dx)], None, Work::Threads(bn.len(), 256));
        (dx, dg, dbt)
    }

    /// `act(x)`.
    pub fn act_forward(&self, a: Act, x: &GpuTensor) -> GpuTensor {
        let y = self.empty(x.len());
        self.dispatch("act", "forward", &[("ACT", a.code() as f64)], &[b(0, x), b(2, &y)], None, Work::Threads(x.len(), 256));
        y
    }

    /// `act'(x) * dy`.
    pub fn act_backward(&self, a: Act, x: &GpuTensor, dy: &GpuTensor) -> GpuTensor {
        same_len(dy, x.len(), "act dy");
        let dx = self.empty(x.len());
        self.dispatch("act", "backward", &[("ACT", a.code() as f64)], &[b(0, x), b(1, dy), b(3, &dx)], None, Work::Threads(x.len(), 256));
        dx
    }

    /// See [`crate::cpu::pool2d_forward`].
    pub fn pool2d_forward(&self, p: &Pool2d, x: &GpuTensor) -> GpuTensor {
        same_len(x, p.x_len(), "pool x");
        let y = self.empty(p.y_len());
        self.dispatch("pool", "forward", &pool_consts(p), &[b(0, x), b(2, &y)], None, Work::Threads(p.y_len(), 256));
        y
    }

    /// See [`crate::cpu::pool2d_backward`].
    pub fn pool2d_backward(&self, p: &Pool2d, x: &GpuTensor, dy: &GpuTensor) -> GpuTensor {
        same_len(dy, p.y_len(), "pool dy");
        let dx = self.empty(p.x_len());
        self.dispatch("pool", "backward", &pool_consts(p), &[b(0, x), b(1, dy), b(3, &dx)], None, Work::Threads(p.x_len(), 256));
        dx
    }

    fn ch_consts(n: usize, c: usize, hw: usize) -> Vec<C> {
        vec![("N", n as f64), ("C", c as f64), ("HW", hw as f64)]
    }

    /// Global average pooling `[n, c, hw] -> [n, c]`.
    pub fn global_avg_forward(&self, n: usize, c: usize, hw: usize, x: &GpuTensor) -> GpuTensor {
        same_len(x, n * c * hw, "gap x");
        let y = self.empty(n * c);
        self.dispatch("channels", "gap_fwd", &Self::ch_consts(n, c, hw), &[b(0, x), b(3, &y)], None, Work::Groups(n * c));
        y
    }

    /// Backward of global average pooling.
    pub fn global_avg_backward(&self, n: usize, c: usize, hw: usize, dy: &GpuTensor) -> GpuTensor {
        same_len(dy, n * c, "gap dy");
        let dx = self.empty(n * c * hw);
        self.dispatch("channels", "gap_bwd", &Self::ch_consts(n, c, hw), &[b(2, dy), b(3, &dx)], None, Work::Threads(n * c * hw, 256));
        dx
    }

    /// See [`crate::cpu::linear_forward`].
    pub fn linear_forward(&self, l: &Linear, x: &GpuTensor, w: &GpuTensor, bias: Option<&GpuTensor>) -> GpuTensor {
        same_len(x, l.n * l.inp, "linear x");
        same_len(w, l.out * l.inp, "linear w");
        assert_eq!(bias.is_some(), l.bias, "linear: bias tensor must match l.bias");
        let y = self.empty(l.n * l.out);
        let mut binds = vec![b(0, x), b(1, w), b(3, &y)];
        // The shader's layout always has the bias slot; without a bias it gets a (never read)
        // stand-in.
        binds.push(b(2, bias.unwrap_or(w)));
        self.dispatch("linear", "forward", &lin_consts(l), &binds, None, Work::Threads(l.n * l.out, 256));
        y
    }

    /// See [`crate::cpu::linear_backward`]; returns `(dx if need_dx, dw, db if l.bias)`.
    pub fn linear_backward(&self, l: &Linear, x: &GpuTensor, w: &GpuTensor, dy: &GpuTensor, need_dx: bool) -> (Option<GpuTensor>, GpuTensor, Option<GpuTensor>) {
        same_len(dy, l.n * l.out, "linear dy");
        let k = lin_consts(l);
        let dx = need_dx.then(|| {
            let dx = self.empty(l.n * l.inp);
            self.dispatch("linear", "backward_input", &k, &[b(1, w), b(4, dy), b(5, &dx)], None, Work::Threads(l.n * l.inp, 256));
            dx
        });
        let dw = self.empty(l.out * l.inp);
        self.dispatch("linear", "backward_weight", &k, &[b(0, x), b(4, dy), b(6, &dw)], None, Work::Threads(l.out * l.inp, 256));
        let db = l.bias.then(|| {
            let db = self.empty(l.out);
            self.dispatch("linear", "backward_bias", &k, &[b(4, dy), b(7, &db)], None, Work::Threads(l.out, 256));
            db
        });
        (dx, dw, db)
    }

    /// `a + b`.
    pub fn add(&self, a: &GpuTensor, bt: &GpuTensor) -> GpuTensor {
        same_len(bt, a.len(), "add");
        let y = self.empty(a.len());
        self.dispatch("elementwise", "add", &[], &[b(0, a), b(1, bt), b(2, &y)], None, Work::Threads(a.len(), 256));
        y
    }

    /// `y += alpha * x` in place.
    pub fn axpy(&self, alpha: f32, x: &GpuTensor, y: &mut GpuTensor) {
        same_len(x, y.len(), "axpy");
        self.dispatch("elementwise", "axpy", &[("ALPHA", alpha as f64)], &[b(0, x), b(2, y)], None, Work::Threads(x.len(), 256));
    }

    /// `alpha * x`.
    pub fn scale(&self, alpha: f32, x: &GpuTensor) -> GpuTensor {
        let y = self.empty(x.len());
        self.dispatch("elementwise", "scale", &[("ALPHA", alpha as f64)], &[b(0, x), b(2, &y)], None, Work::Threads(x.len(), 256));
        y
    }

    /// Mean of branches; its backward is `scale(1/k, dy)` for every branch.
    pub fn mean_forward(&self, xs: &[&GpuTensor]) -> GpuTensor {
        assert!(!xs.is_empty());
        let inv = 1.0 / xs.len() as f32;
        let mut y = self.scale(inv, xs[0]);
        for x in &xs[1..] {
            self.axpy(inv, x, &mut y);
        }
        y
    }

    /// Channel concatenation (see [`crate::cpu::concat_forward`]).
    pub fn concat_forward(&self, n: usize, hw: usize, chans: &[usize], xs: &[&GpuTensor]) -> GpuTensor {
        assert_eq!(chans.len(), xs.len());
        let ct: usize = chans.iter().sum();
        let y = self.empty(n * ct * hw);
        let mut off = 0;
        for (x, &c) in xs.iter().zip(chans) {
            same_len(x, n * c * hw, "concat input");
            let k = [("N", n as f64), ("C", c as f64), ("CT", ct as f64), ("OFF", off as f64), ("HW", hw as f64)];
            self.dispatch("channels", "concat_fwd", &k, &[b(0, x), b(3, &y)], None, Work::Threads(n * c * hw, 256));
            off += c;
        }
        y
    }

    /// Split of the concatenation's gradient.
    pub fn concat_backward(&self, n: usize, hw: usize, chans: &[usize], dy: &GpuTensor) -> Vec<GpuTensor> {
        let ct: usize = chans.iter().sum();
        same_len(dy, n * ct * hw, "concat dy");
        let mut off = 0;
        chans
            .iter()
            .map(|&c| {
                let dx = self.empty(n * c * hw);
                let k = [("N", n as f64), ("C", c as f64), ("CT", ct as f64), ("OFF", off as f64), ("HW", hw as f64)];
                self.dispatch("channels", "concat_bwd", &k, &[b(0, dy), b(3, &dx)], None, Work::Threads(n * c * hw, 256));
                off += c;
                dx
            })
            .collect()
    }

    /// Squeeze-excite scaling `x[n,c,p] * s[n,c]`.
    pub fn channel_mul_forward(&self, n: usize, c: usize, hw: usize, x: &GpuTensor, s: &GpuTensor) -> GpuTensor {
        same_len(x, n * c * hw, "channel_mul x");
        same_len(s, n * c, "channel_mul s");
        let y = self.empty(n * c * hw);
        self.dispatch("channels", "cmul_fwd", &Self::ch_consts(n, c, hw), &[b(0, x), b(1, s), b(3, &y)], None, Work::Threads(n * c * hw, 256));
        y
    }

    /// Backward of the channel scaling: `(dx, ds)`.
    #[allow(clippy::too_many_arguments)]
    pub fn channel_mul_backward(&self, n: usize, c: usize, hw: usize, x: &GpuTensor, s: &GpuTensor, dy: &GpuTensor) -> (GpuTensor, GpuTensor) {
        let k = Self::ch_consts(n, c, hw);
        let (dx, ds) = (self.empty(n * c * hw), self.empty(n * c));
        self.dispatch("channels", "cmul_bwd_x", &k, &[b(2, dy), b(1, s), b(3, &dx)], None, Work::Threads(n * c * hw, 256));
        self.dispatch("channels", "cmul_bwd_s", &k, &[b(0, x), b(2, dy), b(4, &ds)], None, Work::Groups(n * c));
        (dx, ds)
    }

    /// Softmax cross-entropy, mean over the batch: returns `(loss as a 1-element tensor,
    /// dlogits)`; reading the loss is left to the caller so a step needs no sync.
    pub fn softmax_xent(&self, n: usize, k: usize, logits: &GpuTensor, labels: &GpuTensor) -> (GpuTensor, GpuTensor) {
        same_len(logits, n * k, "xent logits");
        same_len(labels, n, "xent labels");
        let c = [("N", n as f64), ("K", k as f64)];
        let (d, rows, loss) = (self.empty(n * k), self.empty(n), self.empty(1));
        self.dispatch("xent", "rows", &c, &[b(0, logits), b(1, labels), b(2, &d), b(3, &rows)], None, Work::Threads(n, 64));
        self.dispatch("xent", "reduce", &c, &[b(3, &rows), b(4, &loss)], None, Work::Groups(1));
        (loss, d)
    }

    /// One SGD step in place (see [`Sgd`]).
    pub fn sgd_step(&self, o: &Sgd, lr: f32, p: &mut GpuTensor, g: &GpuTensor, buf: &mut GpuTensor) {
        same_len(g, p.len(), "sgd g");
        same_len(buf, p.len(), "sgd buf");
        let u = self.uniform(&[lr, 0.0, 0.0, 0.0]);
        let k = [("MOMENTUM", o.momentum as f64), ("NESTEROV", o.nesterov as u32 as f64), ("WD", o.weight_decay as f64)];
        self.dispatch("optim", "sgd", &k, &[b(0, p), b(1, g), b(2, buf)], Some((3, &u)), Work::Threads(p.len(), 256));
    }

    /// One AdamW step in place; `step` is 1-based (see [`AdamW`]).
    #[allow(clippy::too_many_arguments)]
    pub fn adamw_step(&self, o: &AdamW, lr: f32, step: u32, p: &mut GpuTensor, g: &GpuTensor, m: &mut GpuTensor, v: &mut GpuTensor) {
        assert!(step >= 1);
        same_len(g, p.len(), "adamw g");
        let bc1 = 1.0 - o.beta1.powi(step as i32);
        let bc2 = 1.0 - o.beta2.powi(step as i32);
        let u = self.uniform(&[lr, bc1, bc2.sqrt(), 0.0]);
        let k = [("BETA1", o.beta1 as f64), ("BETA2", o.beta2 as f64), ("EPS", o.eps as f64), ("WD", o.weight_decay as f64)];
        self.dispatch("optim", "adamw", &k, &[b(0, p), b(1, g), b(2, m), b(4, v)], Some((3, &u)), Work::Threads(p.len(), 256));
    }
}

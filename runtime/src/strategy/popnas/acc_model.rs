//! The accuracy predictor's network (POPNASv2 §3.3.1, the authors' `AttentionLSTMPredictor`):
//! the cell as a sequence of `B` blocks (padded with 0), each block's two inputs and two ops
//! embedded (`embedding` units each; index 0 is the padding) and concatenated into one vector;
//! two Conv1D of kernel 1 with ReLU give the query and the key of a dot-product attention
//! (Keras `Attention()([q, k])`: value = key, no scaling); a bidirectional LSTM (`cells` units
//! per direction, Keras gate order i, f, c, o, forget bias 1) reads the attention's output; the
//! last forward and the first backward hidden states go to one sigmoid unit. Loss: mean squared
//! error plus `l2` times the squared LSTM and output kernels (Keras `l2` regularizers).
//!
//! Forward and backward by hand in `f64`; `tests/popnas.rs` checks the gradient by finite
//! differences. [`Adam64`] is Keras's Adam (epsilon 1e-7) in `f64`.
use nasc_compiler::rng::Rng;

/// Sizes of the network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dims {
    /// Sequence length (B, the most blocks of a cell).
    pub len: usize,
    /// Input categories (0 = padding).
    pub n_in: usize,
    /// Op categories (0 = padding).
    pub n_op: usize,
    pub embedding: usize,
    pub filters: usize,
    pub cells: usize,
}

/// One encoded sample: per block position `[in1, op1, in2, op2]` categories.
pub type Seq = Vec<[usize; 4]>;

struct Off {
    ein: usize,
    eop: usize,
    wq: usize,
    bq: usize,
    wk: usize,
    bk: usize,
    /// Per direction: input kernel, recurrent kernel, bias.
    lstm: [(usize, usize, usize); 2],
    wd: usize,
    bd: usize,
    total: usize,
}

impl Dims {
    fn d(&self) -> usize {
        4 * self.embedding
    }
    fn off(&self) -> Off {
        let (e, f, h) = (self.embedding, self.filters, self.cells);
        let mut at = 0;
        let mut take = |n: usize| {
            let s = at;
            at += n;
            s
        };
        let ein = take(self.n_in * e);
        let eop = take(self.n_op * e);
        let wq = take(f * self.d());
        let bq = take(f);
        let wk = take(f * self.d());
        let bk = take(f);
        let mut lstm = [(0, 0, 0); 2];
        for l in &mut lstm {
            *l = (take(4 * h * f), take(4 * h * h), take(4 * h));
        }
        let wd = take(2 * h);
        let bd = take(1);
        Off { ein, eop, wq, bq, wk, bk, lstm, wd, bd, total: at }
    }
    pub fn n_params(&self) -> usize {
        self.off().total
    }
}

fn uniform(rng: &mut Rng, lim: f64) -> f64 {
    ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * lim
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The network: its sizes and flat parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct AccNet {
    pub dims: Dims,
    pub params: Vec<f64>,
}

/// What the backward pass needs from the forward pass of one sample.
#[derive(Default)]
struct Tape {
    e: Vec<Vec<f64>>,
    pq: Vec<Vec<f64>>,
    pk: Vec<Vec<f64>>,
    a: Vec<Vec<f64>>,
    z: Vec<Vec<f64>>,
    /// Per direction, per step (in processing order): gates i, f, g, o (activated), c, h.
    gates: [Vec<Vec<f64>>; 2],
    c: [Vec<Vec<f64>>; 2],
    h: [Vec<Vec<f64>>; 2],
    hcat: Vec<f64>,
    y: f64,
}

impl AccNet {
    /// Keras's initializers: embeddings uniform(-0.05, 0.05), kernels Glorot uniform (the
    /// recurrent kernel too, where Keras uses an orthogonal one), biases 0, forget bias 1.
    pub fn new(dims: Dims, rng: &mut Rng) -> Self {
        let o = dims.off();
        let mut p = vec![0.0; o.total];
        let (f, h, d) = (dims.filters, dims.cells, dims.d());
        for v in &mut p[o.ein..o.wq] {
            *v = uniform(rng, 0.05);
        }
        let glorot = |p: &mut [f64], fan_in: usize, fan_out: usize, rng: &mut Rng| {
            let lim = (6.0 / (fan_in + fan_out) as f64).sqrt();
            for v in p {
                *v = uniform(rng, lim);
            }
        };
        glorot(&mut p[o.wq..o.wq + f * d], d, f, rng);
        glorot(&mut p[o.wk..o.wk + f * d], d, f, rng);
        for &(wx, wh, b) in &o.lstm {
            glorot(&mut p[wx..wx + 4 * h * f], f, 4 * h, rng);
            glorot(&mut p[wh..wh + 4 * h * h], h, 4 * h, rng);
            for v in &mut p[b + h..b + 2 * h] {
                *v = 1.0;
            }
        }
        glorot(&mut p[o.wd..o.wd + 2 * h], 2 * h, 1, rng);
        AccNet { dims, params: p }
    }

    fn forward_tape(&self, x: &Seq, t: &mut Tape) -> f64 {
        let dm = self.dims;
        let o = dm.off();
        let p = &self.params;
        let (e, f, h, d, l) = (dm.embedding, dm.filters, dm.cells, dm.d(), dm.len);
        t.e = (0..l)
            .map(|s| {
                let cat = x.get(s).copied().unwrap_or([0; 4]);
                let mut v = Vec::with_capacity(d);
                for (k, &c) in cat.iter().enumerate() {
                    let base = if k % 2 == 0 { o.ein + c.min(dm.n_in - 1) * e } else { o.eop + c.min(dm.n_op - 1) * e };
                    v.extend_from_slice(&p[base..base + e]);
                }
                v
            })
            .collect();
        let lin = |w: usize, b: usize, x: &[f64]| -> Vec<f64> { (0..f).map(|r| p[b + r] + (0..d).map(|c| p[w + r * d + c] * x[c]).sum::<f64>()).collect() };
        t.pq = t.e.iter().map(|x| lin(o.wq, o.bq, x)).collect();
        t.pk = t.e.iter().map(|x| lin(o.wk, o.bk, x)).collect();
        let q: Vec<Vec<f64>> = t.pq.iter().map(|v| v.iter().map(|x| x.max(0.0)).collect()).collect();
        let k: Vec<Vec<f64>> = t.pk.iter().map(|v| v.iter().map(|x| x.max(0.0)).collect()).collect();
        t.a = q
            .iter()
            .map(|qt| {
                let s: Vec<f64> = k.iter().map(|ku| qt.iter().zip(ku).map(|(a, b)| a * b).sum()).collect();
                let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let ex: Vec<f64> = s.iter().map(|v| (v - m).exp()).collect();
                let z: f64 = ex.iter().sum();
                ex.iter().map(|v| v / z).collect()
            })
            .collect();
        t.z = t.a.iter().map(|at| (0..f).map(|c| (0..l).map(|u| at[u] * k[u][c]).sum()).collect()).collect();
        for dir in 0..2 {
            let (wx, wh, b) = o.lstm[dir];
            let (mut hp, mut cp) = (vec![0.0; h], vec![0.0; h]);
            t.gates[dir].clear();
            t.c[dir].clear();
            t.h[dir].clear();
            for s in 0..l {
                let xs = &t.z[if dir == 0 { s } else { l - 1 - s }];
                let mut g = vec![0.0; 4 * h];
                for (r, gr) in g.iter_mut().enumerate() {
                    let mut acc = p[b + r];
                    for (c, xv) in xs.iter().enumerate() {
                        acc += p[wx + r * f + c] * xv;
                    }
                    for (c, hv) in hp.iter().enumerate() {
                        acc += p[wh + r * h + c] * hv;
                    }
                    *gr = if (2 * h..3 * h).contains(&r) { acc.tanh() } else { sigmoid(acc) };
                }
                let c: Vec<f64> = (0..h).map(|j| g[h + j] * cp[j] + g[j] * g[2 * h + j]).collect();
                let hn: Vec<f64> = (0..h).map(|j| g[3 * h + j] * c[j].tanh()).collect();
                t.gates[dir].push(g);
                t.c[dir].push(c.clone());
                t.h[dir].push(hn.clone());
                hp = hn;
                cp = c;
            }
        }
        t.hcat = [t.h[0][l - 1].clone(), t.h[1][l - 1].clone()].concat();
        let out = p[o.bd] + (0..2 * h).map(|j| p[o.wd + j] * t.hcat[j]).sum::<f64>();
        t.y = sigmoid(out);
        t.y
    }

    /// The predicted value (in (0, 1)) of one sample.
    pub fn predict(&self, x: &Seq) -> f64 {
        let mut t = Tape::default();
        self.forward_tape(x, &mut t)
    }

    /// Add to `g` the gradient of `gy * y(x)` with respect to the parameters.
    fn backward(&self, x: &Seq, t: &Tape, gy: f64, g: &mut [f64]) {
        let dm = self.dims;
        let o = dm.off();
        let p = &self.params;
        let (e, f, h, d, l) = (dm.embedding, dm.filters, dm.cells, dm.d(), dm.len);
        let go = gy * t.y * (1.0 - t.y);
        g[o.bd] += go;
        let mut gh = vec![0.0; 2 * h];
        for j in 0..2 * h {
            g[o.wd + j] += go * t.hcat[j];
            gh[j] = go * p[o.wd + j];
        }
        let mut gz = vec![vec![0.0; f]; l];
        for dir in 0..2 {
            let (wx, wh, b) = o.lstm[dir];
            let mut dh: Vec<f64> = gh[dir * h..(dir + 1) * h].to_vec();
            let mut dc = vec![0.0; h];
            for s in (0..l).rev() {
                let pos = if dir == 0 { s } else { l - 1 - s };
                let gt = &t.gates[dir][s];
                let c = &t.c[dir][s];
                let zero = vec![0.0; h];
                let cp = if s > 0 { &t.c[dir][s - 1] } else { &zero };
                let hp = if s > 0 { &t.h[dir][s - 1] } else { &zero };
                let mut da = vec![0.0; 4 * h];
                for j in 0..h {
                    let (i, fg, gg, og) = (gt[j], gt[h + j], gt[2 * h + j], gt[3 * h + j]);
                    let tc = c[j].tanh();
                    let d_o = dh[j] * tc;
                    let dcj = dc[j] + dh[j] * og * (1.0 - tc * tc);
                    da[j] = dcj * gg * i * (1.0 - i);
                    da[h + j] = dcj * cp[j] * fg * (1.0 - fg);
                    da[2 * h + j] = dcj * i * (1.0 - gg * gg);
                    da[3 * h + j] = d_o * og * (1.0 - og);
                    dc[j] = dcj * fg;
                }
                let xs = &t.z[pos];
                let mut dhp = vec![0.0; h];
                for (r, &dr) in da.iter().enumerate() {
                    if dr == 0.0 {
                        continue;
                    }
                    g[b + r] += dr;
                    for c in 0..f {
                        g[wx + r * f + c] += dr * xs[c];
                        gz[pos][c] += dr * p[wx + r * f + c];
                    }
                    for c in 0..h {
                        g[wh + r * h + c] += dr * hp[c];
                        dhp[c] += dr * p[wh + r * h + c];
                    }
                }
                dh = dhp;
            }
        }
        // attention: z[t] = sum_u a[t][u] k[u], a[t] = softmax_u(q[t] . k[u])
        let q: Vec<Vec<f64>> = t.pq.iter().map(|v| v.iter().map(|x| x.max(0.0)).collect()).collect();
        let k: Vec<Vec<f64>> = t.pk.iter().map(|v| v.iter().map(|x| x.max(0.0)).collect()).collect();
        let mut gq = vec![vec![0.0; f]; l];
        let mut gk = vec![vec![0.0; f]; l];
        for s in 0..l {
            let ga: Vec<f64> = (0..l).map(|u| gz[s].iter().zip(&k[u]).map(|(a, b)| a * b).sum()).collect();
            let dot: f64 = (0..l).map(|u| t.a[s][u] * ga[u]).sum();
            for u in 0..l {
                let gs = t.a[s][u] * (ga[u] - dot);
                for c in 0..f {
                    gk[u][c] += t.a[s][u] * gz[s][c] + gs * q[s][c];
                    gq[s][c] += gs * k[u][c];
                }
            }
        }
        for s in 0..l {
            let mut ge = vec![0.0; d];
            for (w, bb, gv, pv) in [(o.wq, o.bq, &gq[s], &t.pq[s]), (o.wk, o.bk, &gk[s], &t.pk[s])] {
                for r in 0..f {
                    if pv[r] <= 0.0 {
                        continue;
                    }
                    let gr = gv[r];
                    g[bb + r] += gr;
                    for c in 0..d {
                        g[w + r * d + c] += gr * t.e[s][c];
                        ge[c] += gr * p[w + r * d + c];
                    }
                }
            }
            let cat = x.get(s).copied().unwrap_or([0; 4]);
            for (kk, &cv) in cat.iter().enumerate() {
                let base = if kk % 2 == 0 { o.ein + cv.min(dm.n_in - 1) * e } else { o.eop + cv.min(dm.n_op - 1) * e };
                for j in 0..e {
                    g[base + j] += ge[kk * e + j];
                }
            }
        }
    }

    /// The regularized kernels' ranges (LSTM input and recurrent kernels, the output kernel).
    fn l2_ranges(&self) -> Vec<std::ops::Range<usize>> {
        let o = self.dims.off();
        let (f, h) = (self.dims.filters, self.dims.cells);
        let mut r: Vec<std::ops::Range<usize>> = o.lstm.iter().flat_map(|&(wx, wh, _)| [wx..wx + 4 * h * f, wh..wh + 4 * h * h]).collect();
        r.push(o.wd..o.wd + 2 * h);
        r
    }

    /// The loss of a batch (mean squared error plus `l2` times the squared kernels) and, with
    /// `grad`, its gradient (overwritten).
    pub fn loss(&self, xs: &[&Seq], ys: &[f64], l2: f64, grad: Option<&mut [f64]>) -> f64 {
        let n = xs.len().max(1) as f64;
        let mut tape = Tape::default();
        let mut loss = 0.0;
        let mut g = grad;
        if let Some(g) = g.as_deref_mut() {
            g.iter_mut().for_each(|v| *v = 0.0);
        }
        for (x, &y) in xs.iter().zip(ys) {
            let yh = self.forward_tape(x, &mut tape);
            loss += (yh - y) * (yh - y) / n;
            if let Some(g) = g.as_deref_mut() {
                self.backward(x, &tape, 2.0 * (yh - y) / n, g);
            }
        }
        for r in self.l2_ranges() {
            for i in r {
                loss += l2 * self.params[i] * self.params[i];
                if let Some(g) = g.as_deref_mut() {
                    g[i] += 2.0 * l2 * self.params[i];
                }
            }
        }
        loss
    }
}

/// Adam in `f64` with Keras's defaults (beta 0.9 / 0.999, epsilon 1e-7).
#[derive(Debug, Clone)]
pub struct Adam64 {
    lr: f64,
    t: i32,
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam64 {
    pub fn new(n: usize, lr: f64) -> Self {
        Adam64 { lr, t: 0, m: vec![0.0; n], v: vec![0.0; n] }
    }
    pub fn step(&mut self, p: &mut [f64], g: &[f64]) {
        self.t += 1;
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-7);
        let lr = self.lr * (1.0 - b2.powi(self.t)).sqrt() / (1.0 - b1.powi(self.t));
        for i in 0..p.len() {
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g[i];
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g[i] * g[i];
            p[i] -= lr * self.m[i] / (self.v[i].sqrt() + eps);
        }
    }
}

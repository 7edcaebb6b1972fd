//! A dense multi-layer perceptron: ReLU on every hidden layer, a chosen activation on the output
//! layer; forward over a batch, backward to parameter gradients and input gradients.
use super::{uniform, NnError};
use nasc_compiler::rng::Rng;

/// The output layer's activation (hidden layers are always ReLU).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Identity,
    Sigmoid,
}

/// Layer `l` maps `sizes[l]` inputs to `sizes[l + 1]` outputs. Its parameters are stored as one
/// block in `params`: the weights input-major (`w[i * n_out + o]`, the weight from input `i` to
/// output `o`) followed by the `n_out` biases. All layers' blocks are concatenated in order, so a
/// gradient buffer has the same layout as `params`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    sizes: Vec<usize>,
    out: Activation,
    params: Vec<f32>,
    offsets: Vec<usize>,
}

/// The activations of a forward pass, kept for the backward pass, and scratch buffers. One tape
/// may be reused across calls (and networks); buffers only grow.
#[derive(Clone, Debug, Default)]
pub struct Tape {
    batch: usize,
    /// `acts[0]` the input, `acts[l + 1]` the output of layer `l` (after its activation).
    acts: Vec<Vec<f32>>,
    delta: Vec<f32>,
    next: Vec<f32>,
}

impl Tape {
    /// The values after layer `l`'s activation in the last forward pass (`l = 0`: the input).
    pub fn layer_output(&self, l: usize) -> &[f32] {
        self.acts.get(l).map_or(&[], |v| v.as_slice())
    }
}

/// Forward of one layer for outputs `o0..` in tiles of `T` (the accumulators stay in registers):
/// `out[b][o] = bias[o] + sum_i x[b][i] w[i][o]`, summed in input order. Returns the first
/// output not done (the start of the remainder that does not fill a tile).
#[allow(clippy::too_many_arguments)]
#[inline]
fn tiles<const T: usize>(x: &[f32], batch: usize, n_in: usize, n_out: usize, w: &[f32], bias: &[f32], out: &mut [f32], o0: usize) -> usize {
    let end = o0 + (n_out - o0) / T * T;
    for o in (o0..end).step_by(T) {
        for b in 0..batch {
            let mut acc = [0f32; T];
            acc.copy_from_slice(&bias[o..o + T]);
            for (i, &xi) in x[b * n_in..(b + 1) * n_in].iter().enumerate() {
                // a zero input (an inactive ReLU) adds nothing: skipping it is exact
                if xi != 0.0 {
                    let wr = &w[i * n_out + o..i * n_out + o + T];
                    for k in 0..T {
                        acc[k] += xi * wr[k];
                    }
                }
            }
            out[b * n_out + o..b * n_out + o + T].copy_from_slice(&acc);
        }
    }
    end
}

/// Weight gradients of input `i` for outputs `o0..` in tiles of `T`:
/// `row[o] += sum_b x[b][i] delta[b][o]`, summed in batch order. Returns the first output not done.
#[allow(clippy::too_many_arguments)]
#[inline]
fn grad_tiles<const T: usize>(x: &[f32], delta: &[f32], batch: usize, n_in: usize, n_out: usize, i: usize, row: &mut [f32], o0: usize) -> usize {
    let end = o0 + (n_out - o0) / T * T;
    for o in (o0..end).step_by(T) {
        let mut acc = [0f32; T];
        acc.copy_from_slice(&row[o..o + T]);
        for b in 0..batch {
            let xi = x[b * n_in + i];
            if xi != 0.0 {
                let d = &delta[b * n_out + o..b * n_out + o + T];
                for k in 0..T {
                    acc[k] += xi * d[k];
                }
            }
        }
        row[o..o + T].copy_from_slice(&acc);
    }
    end
}

/// Sum of `a[k] * b[k]` with eight independent partial sums (vectorizable, deterministic).
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// `y += a * x`.
#[inline]
fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    for (yo, xo) in y.iter_mut().zip(x) {
        *yo += a * xo;
    }
}

fn offsets_of(sizes: &[usize]) -> Vec<usize> {
    let mut off = Vec::with_capacity(sizes.len());
    let mut at = 0;
    off.push(0);
    for w in sizes.windows(2) {
        at += w[0] * w[1] + w[1];
        off.push(at);
    }
    off
}

impl Mlp {
    /// A network with layer widths `sizes` (input, hidden..., output), initialized as PyTorch's
    /// `nn.Linear` does: weights and biases uniform in ±1/sqrt(fan_in).
    pub fn new(sizes: &[usize], out: Activation, rng: &mut Rng) -> Result<Self, NnError> {
        Self::check_sizes(sizes)?;
        let offsets = offsets_of(sizes);
        let mut params = Vec::with_capacity(*offsets.last().unwrap_or(&0));
        for w in sizes.windows(2) {
            let bound = 1.0 / (w[0] as f64).sqrt();
            for _ in 0..w[0] * w[1] + w[1] {
                params.push(((2.0 * uniform(rng) - 1.0) * bound) as f32);
            }
        }
        Ok(Mlp { sizes: sizes.to_vec(), out, params, offsets })
    }

    /// A network with the given parameters (the layout of [`Mlp::params`]).
    pub fn from_params(sizes: &[usize], out: Activation, params: Vec<f32>) -> Result<Self, NnError> {
        Self::check_sizes(sizes)?;
        let offsets = offsets_of(sizes);
        let n = *offsets.last().unwrap_or(&0);
        if params.len() != n {
            return Err(NnError::Params { sizes: sizes.to_vec(), needs: n, got: params.len() });
        }
        Ok(Mlp { sizes: sizes.to_vec(), out, params, offsets })
    }

    fn check_sizes(sizes: &[usize]) -> Result<(), NnError> {
        if sizes.len() < 2 {
            return Err(NnError::NoLayers(sizes.to_vec()));
        }
        if sizes.contains(&0) {
            return Err(NnError::ZeroSize(sizes.to_vec()));
        }
        Ok(())
    }

    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }
    pub fn output_activation(&self) -> Activation {
        self.out
    }
    pub fn n_inputs(&self) -> usize {
        self.sizes[0]
    }
    pub fn n_outputs(&self) -> usize {
        *self.sizes.last().unwrap_or(&0)
    }
    pub fn n_params(&self) -> usize {
        self.params.len()
    }
    pub fn params(&self) -> &[f32] {
        &self.params
    }
    pub fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }

    fn layer(&self, l: usize) -> (&[f32], &[f32]) {
        let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
        let block = &self.params[self.offsets[l]..self.offsets[l + 1]];
        block.split_at(n_in * n_out)
    }

    /// Forward pass of `batch` inputs (`x` is `batch x n_inputs`, row-major). Returns the outputs
    /// (`batch x n_outputs`), which stay on the tape for [`Mlp::backward`].
    pub fn forward<'t>(&self, x: &[f32], batch: usize, tape: &'t mut Tape) -> &'t [f32] {
        assert_eq!(x.len(), batch * self.n_inputs(), "forward: input length");
        let layers = self.sizes.len() - 1;
        tape.batch = batch;
        tape.acts.resize_with(layers + 1, Vec::new);
        tape.acts[0].clear();
        tape.acts[0].extend_from_slice(x);
        for l in 0..layers {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let (w, bias) = self.layer(l);
            let (done, rest) = tape.acts.split_at_mut(l + 1);
            let (input, out) = (&done[l], &mut rest[0]);
            out.clear();
            out.resize(batch * n_out, 0.0);
            let mut o0 = tiles::<16>(input, batch, n_in, n_out, w, bias, out, 0);
            o0 = tiles::<4>(input, batch, n_in, n_out, w, bias, out, o0);
            tiles::<1>(input, batch, n_in, n_out, w, bias, out, o0);
            if l + 1 < layers {
                for v in out.iter_mut() {
                    *v = v.max(0.0);
                }
            } else if self.out == Activation::Sigmoid {
                for v in out.iter_mut() {
                    *v = 1.0 / (1.0 + (-*v).exp());
                }
            }
        }
        &tape.acts[layers]
    }

    /// Backward pass for the last [`Mlp::forward`] on `tape`, given `dy` = dLoss/dOutput
    /// (`batch x n_outputs`). Adds dLoss/dParams to `grads` (the layout of [`Mlp::params`]) if
    /// given, and writes dLoss/dInput (`batch x n_inputs`) to `dx` if given.
    pub fn backward(&self, tape: &mut Tape, dy: &[f32], mut grads: Option<&mut [f32]>, mut dx: Option<&mut [f32]>) {
        let batch = tape.batch;
        let layers = self.sizes.len() - 1;
        assert_eq!(dy.len(), batch * self.n_outputs(), "backward: output gradient length");
        if let Some(g) = &grads {
            assert_eq!(g.len(), self.params.len(), "backward: gradient buffer length");
        }
        if let Some(d) = &dx {
            assert_eq!(d.len(), batch * self.n_inputs(), "backward: input gradient length");
        }
        let Tape { acts, delta, next, .. } = tape;
        delta.clear();
        delta.extend_from_slice(dy);
        if self.out == Activation::Sigmoid {
            for (d, y) in delta.iter_mut().zip(&acts[layers]) {
                *d *= y * (1.0 - y);
            }
        }
        for l in (0..layers).rev() {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let (w, _) = self.layer(l);
            let input = &acts[l];
            if let Some(g) = grads.as_deref_mut() {
                let block = &mut g[self.offsets[l]..self.offsets[l + 1]];
                let (gw, gb) = block.split_at_mut(n_in * n_out);
                for b in 0..batch {
                    axpy(gb, 1.0, &delta[b * n_out..(b + 1) * n_out]);
                }
                for i in 0..n_in {
                    let row = &mut gw[i * n_out..(i + 1) * n_out];
                    let mut o0 = grad_tiles::<16>(input, delta, batch, n_in, n_out, i, row, 0);
                    o0 = grad_tiles::<4>(input, delta, batch, n_in, n_out, i, row, o0);
                    grad_tiles::<1>(input, delta, batch, n_in, n_out, i, row, o0);
                }
            }
            if l == 0 && dx.is_none() {
                break;
            }
            next.clear();
            next.resize(batch * n_in, 0.0);
            for i in 0..n_in {
                let wr = &w[i * n_out..(i + 1) * n_out];
                for b in 0..batch {
                    // below the first layer the input is a ReLU output: no gradient where it is 0
                    if l == 0 || input[b * n_in + i] > 0.0 {
                        next[b * n_in + i] = dot(wr, &delta[b * n_out..(b + 1) * n_out]);
                    }
                }
            }
            if l == 0 {
                if let Some(d) = dx.as_deref_mut() {
                    d.copy_from_slice(next);
                }
            }
            std::mem::swap(delta, next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_init_bounds() {
        let mut rng = Rng::new(1);
        let m = Mlp::new(&[3, 4, 2], Activation::Identity, &mut rng).unwrap();
        assert_eq!(m.n_params(), 3 * 4 + 4 + 4 * 2 + 2);
        let (w0, b0) = m.layer(0);
        assert!(w0.iter().chain(b0).all(|v| v.abs() <= 1.0 / 3f32.sqrt()));
        let (w1, b1) = m.layer(1);
        assert!(w1.iter().chain(b1).all(|v| v.abs() <= 0.5));
        assert!(Mlp::new(&[3], Activation::Identity, &mut rng).is_err());
        assert!(Mlp::new(&[3, 0, 1], Activation::Identity, &mut rng).is_err());
        assert!(Mlp::from_params(&[3, 4, 2], Activation::Identity, vec![0.0; 5]).is_err());
    }

    #[test]
    fn forward_matches_a_hand_computation() {
        // 2 -> 2 (ReLU) -> 1 (sigmoid)
        let p = vec![1.0, -1.0, 2.0, 0.5, /* b */ 0.0, 0.25, /* w2 */ 1.0, -2.0, /* b2 */ 0.5];
        let m = Mlp::from_params(&[2, 2, 1], Activation::Sigmoid, p).unwrap();
        let mut t = Tape::default();
        // h = relu([1*1 + 2*2 + 0, 1*-1 + 2*0.5 + 0.25]) = [5, 0.25]; z = 5 - 0.5 + 0.5 = 5
        let y = m.forward(&[1.0, 2.0, -1.0, 0.0], 2, &mut t).to_vec();
        assert!((y[0] - 1.0 / (1.0 + (-5.0f32).exp())).abs() < 1e-6);
        // second row: h = relu([-1, 1.25]) = [0, 1.25]; z = -2.5 + 0.5 = -2
        assert!((y[1] - 1.0 / (1.0 + 2.0f32.exp())).abs() < 1e-6);
    }
}

//! Adam (Kingma & Ba 2015), with PyTorch's `torch.optim.Adam` update (no weight decay, no
//! amsgrad): m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//! p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
use super::{b64_to_f32s, f32s_to_b64, NnError};
use serde_json::{json, Value};

#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Steps taken.
    pub t: u64,
    pub m: Vec<f32>,
    pub v: Vec<f32>,
}

impl Adam {
    /// An optimizer for `n` parameters with zeroed moments.
    pub fn new(n: usize, lr: f64, beta1: f64, beta2: f64, eps: f64) -> Self {
        Adam { lr, beta1, beta2, eps, t: 0, m: vec![0.0; n], v: vec![0.0; n] }
    }

    /// One update of `params` with gradients `grads` (same length as the moments).
    pub fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        assert_eq!(params.len(), self.m.len(), "adam: parameter count");
        assert_eq!(grads.len(), self.m.len(), "adam: gradient count");
        self.t += 1;
        let (b1, b2) = (self.beta1 as f32, self.beta2 as f32);
        let bc1 = 1.0 - self.beta1.powi(self.t.min(i32::MAX as u64) as i32);
        let bc2 = 1.0 - self.beta2.powi(self.t.min(i32::MAX as u64) as i32);
        let step = (self.lr / bc1) as f32;
        let sqrt_bc2 = bc2.sqrt() as f32;
        let eps = self.eps as f32;
        let n = params.len();
        let (p, g, m, v) = (&mut params[..n], &grads[..n], &mut self.m[..n], &mut self.v[..n]);
        for i in 0..n {
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            p[i] -= step * m[i] / (v[i].sqrt() / sqrt_bc2 + eps);
        }
    }

    /// The moments and step count (the hyper-parameters come from the configuration).
    pub fn state(&self) -> Value {
        json!({"t": self.t, "m": f32s_to_b64(&self.m), "v": f32s_to_b64(&self.v)})
    }

    /// Restore [`Adam::state`]; the moment vectors must have this optimizer's length.
    pub fn restore(&mut self, state: &Value) -> Result<(), NnError> {
        let t = state.get("t").and_then(Value::as_u64).ok_or(NnError::AdamLacks("t"))?;
        let get = |k: &'static str| -> Result<Vec<f32>, NnError> {
            let v = b64_to_f32s(state.get(k).and_then(Value::as_str).ok_or(NnError::AdamLacks(k))?)?;
            if v.len() != self.m.len() {
                return Err(NnError::AdamLength { key: k, got: v.len(), expected: self.m.len() });
            }
            Ok(v)
        };
        let (m, v) = (get("m")?, get("v")?);
        self.t = t;
        self.m = m;
        self.v = v;
        Ok(())
    }
}

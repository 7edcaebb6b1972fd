//! Small dense neural networks in plain Rust, for strategies that learn (L2NAS): a multi-layer
//! perceptron with ReLU hidden layers ([`mlp::Mlp`]), its forward and backward passes (gradients
//! with respect to the parameters and to the inputs), and Adam ([`adam::Adam`]).
//!
//! Everything is `f32` and single-threaded; the loops are written so that the compiler can
//! vectorize them without reassociating floating-point sums, so results are bit-identical from
//! run to run. Parameters and optimizer moments serialize losslessly ([`f32s_to_b64`]).
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use nasc_compiler::rng::Rng;

pub mod adam;
pub mod mlp;

pub use adam::Adam;
pub use mlp::{Activation, Mlp, Tape};

/// Why a network, an optimizer state or a serialized float array cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NnError {
    #[error("bad base64 float array: {}", .0.to_string().to_lowercase())]
    Base64(#[source] base64::DecodeError),
    #[error("bad base64 float array: byte count is not a multiple of 4")]
    ByteCount,
    #[error("a network needs an input and an output size, got {0:?}")]
    NoLayers(Vec<usize>),
    #[error("network layer sizes must be positive, got {0:?}")]
    ZeroSize(Vec<usize>),
    #[error("network of sizes {sizes:?} needs {needs} parameters, got {got}")]
    Params { sizes: Vec<usize>, needs: usize, got: usize },
    /// `key`: `t`, `m` or `v`.
    #[error("adam state lacks `{0}`")]
    AdamLacks(&'static str),
    #[error("adam state `{key}` has {got} values, expected {expected}")]
    AdamLength { key: &'static str, got: usize, expected: usize },
}

impl From<NnError> for String {
    fn from(e: NnError) -> String {
        e.to_string()
    }
}

/// A uniform draw in [0, 1) with 53 random bits.
pub fn uniform(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Lossless text form of an `f32` slice: its little-endian bytes in standard base64 (padded).
pub fn f32s_to_b64(v: &[f32]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    STANDARD.encode(bytes)
}

/// Inverse of [`f32s_to_b64`].
pub fn b64_to_f32s(s: &str) -> Result<Vec<f32>, NnError> {
    let bytes = STANDARD.decode(s).map_err(NnError::Base64)?;
    if !bytes.len().is_multiple_of(4) {
        return Err(NnError::ByteCount);
    }
    Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn base64_roundtrip_is_exact() {
        for n in 0..7 {
            let v: Vec<f32> = (0..n).map(|i| (i as f32 - 2.5) * 1.0e-3f32.powi(i) + f32::EPSILON * i as f32).collect();
            let s = f32s_to_b64(&v);
            let back = b64_to_f32s(&s).unwrap();
            assert_eq!(v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), back.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        }
        // a known encoding: 1.0f32 = 00 00 80 3f
        assert_eq!(f32s_to_b64(&[1.0]), "AACAPw==");
        assert!(b64_to_f32s("AACAPw=").is_err());
        assert!(b64_to_f32s("AAC*Pw==").is_err());
        assert!(b64_to_f32s("AACA").is_err());
    }
    #[test]
    fn uniform_is_in_unit_interval() {
        let mut r = Rng::new(7);
        let xs: Vec<f64> = (0..10_000).map(|_| uniform(&mut r)).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((m - 0.5).abs() < 0.01, "{m}");
    }
}

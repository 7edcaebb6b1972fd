//! Small dense neural networks in plain Rust, for strategies that learn (L2NAS): a multi-layer
//! perceptron with ReLU hidden layers ([`mlp::Mlp`]), its forward and backward passes (gradients
//! with respect to the parameters and to the inputs), and Adam ([`adam::Adam`]).
//!
//! Everything is `f32` and single-threaded; the loops are written so that the compiler can
//! vectorize them without reassociating floating-point sums, so results are bit-identical from
//! run to run. Parameters and optimizer moments serialize losslessly ([`f32s_to_b64`]).
use nasc_compiler::rng::Rng;

pub mod adam;
pub mod mlp;

pub use adam::Adam;
pub use mlp::{Activation, Mlp, Tape};

/// A uniform draw in [0, 1) with 53 random bits.
pub fn uniform(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Lossless text form of an `f32` slice: its little-endian bytes in standard base64 (padded).
pub fn f32s_to_b64(v: &[f32]) -> String {
    let mut bytes = Vec::with_capacity(v.len() * 4);
    for x in v {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    let chunks = bytes.chunks_exact(3);
    let rest = chunks.remainder();
    for c in chunks {
        let n = (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32;
        out.extend_from_slice(&[B64[(n >> 18) as usize], B64[(n >> 12 & 63) as usize], B64[(n >> 6 & 63) as usize], B64[(n & 63) as usize]]);
    }
    if !rest.is_empty() {
        let n = (rest[0] as u32) << 16 | (*rest.get(1).unwrap_or(&0) as u32) << 8;
        out.extend_from_slice(&[B64[(n >> 18) as usize], B64[(n >> 12 & 63) as usize]]);
        out.push(if rest.len() == 2 { B64[(n >> 6 & 63) as usize] } else { b'=' });
        out.push(b'=');
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Inverse of [`f32s_to_b64`].
pub fn b64_to_f32s(s: &str) -> Result<Vec<f32>, String> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(4) {
        return Err("bad base64 float array: length is not a multiple of 4".into());
    }
    let val = |c: u8| -> Result<u32, String> {
        match c {
            b'A'..=b'Z' => Ok((c - b'A') as u32),
            b'a'..=b'z' => Ok((c - b'a') as u32 + 26),
            b'0'..=b'9' => Ok((c - b'0') as u32 + 52),
            b'+' => Ok(62),
            b'/' => Ok(63),
            _ => Err(format!("bad base64 float array: unexpected character `{}`", c as char)),
        }
    };
    let mut bytes = Vec::with_capacity(s.len() / 4 * 3);
    for (q, quad) in s.chunks(4).enumerate() {
        let pad = quad.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && q + 1 != s.len() / 4) {
            return Err("bad base64 float array: misplaced padding".into());
        }
        let mut n = 0u32;
        for (k, c) in quad.iter().enumerate() {
            n |= if k >= 4 - pad { 0 } else { val(*c)? } << (18 - 6 * k);
        }
        let out = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        bytes.extend_from_slice(&out[..3 - pad]);
    }
    if bytes.len() % 4 != 0 {
        return Err("bad base64 float array: byte count is not a multiple of 4".into());
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

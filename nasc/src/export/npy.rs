//! NumPy `.npy` files of little-endian `float32`, C order (format versions 1.0 to 3.0): what
//! `nasc infer` reads and writes.
use crate::error::{ExportError, NpyError};

/// Reads a `float32` array: its shape and its elements.
pub fn read(path: &str) -> Result<(Vec<usize>, Vec<f32>), ExportError> {
    let b = std::fs::read(path).map_err(|source| ExportError::Read { path: path.to_string(), source })?;
    parse(&b).map_err(|source| ExportError::Npy { path: path.to_string(), source })
}

fn parse(b: &[u8]) -> Result<(Vec<usize>, Vec<f32>), NpyError> {
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err(NpyError::NotNpy);
    }
    let (hlen, start) = match b[6] {
        1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10usize),
        2 | 3 if b.len() >= 12 => (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12),
        v => return Err(NpyError::Version(v)),
    };
    let header = b.get(start..start.saturating_add(hlen)).ok_or(NpyError::TruncatedHeader)?;
    let header = std::str::from_utf8(header).map_err(|_| NpyError::HeaderNotText)?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}'"))? + key.len() + 2;
        Some(header[at..].trim_start().strip_prefix(':')?.trim_start())
    };
    let descr = field("descr").ok_or(NpyError::NoField("descr"))?;
    if !(descr.starts_with("'<f4'") || descr.starts_with("'float32'")) {
        return Err(NpyError::NotFloat32 { found: descr.split(',').next().unwrap_or(descr).to_string() });
    }
    if field("fortran_order").is_some_and(|f| f.starts_with("True")) {
        return Err(NpyError::Fortran);
    }
    let shape = field("shape").ok_or(NpyError::NoField("shape"))?;
    let inner = shape.strip_prefix('(').and_then(|s| s.split(')').next()).ok_or(NpyError::Shape)?;
    let dims: Vec<usize> =
        inner.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.parse::<usize>().map_err(|_| NpyError::Dimension { dim: s.to_string() })).collect::<Result<_, _>>()?;
    let n = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or(NpyError::TooLarge)?;
    let data = &b[start + hlen..];
    if data.len() != n.checked_mul(4).ok_or(NpyError::TooLarge)? {
        return Err(NpyError::DataSize { shape: dims, needs: n * 4, has: data.len() });
    }
    Ok((dims, data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()))
}

/// Writes a `float32` array (format version 1.0).
pub fn write(path: &str, shape: &[usize], data: &[f32]) -> Result<(), ExportError> {
    std::fs::write(path, encode(shape, data)).map_err(|source| ExportError::Write { path: path.to_string(), source })
}

pub fn encode(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut h = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
    // magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = Vec::with_capacity(10 + h.len() + 4 * data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out.extend(data.iter().flat_map(|x| x.to_le_bytes()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let b = encode(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
        assert_eq!(b.len() % 64, 24);
        assert_eq!(parse(&b).unwrap(), (vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.5]));
        assert_eq!(parse(&encode(&[4], &[0.0; 4])).unwrap().0, vec![4]);
        assert!(parse(b"hello").unwrap_err().to_string().contains("not a .npy"));
        assert!(parse(&b[..b.len() - 4]).unwrap_err().to_string().contains("needs 24 bytes"));
        let mut f8 = b.clone();
        let at = f8.windows(3).position(|w| w == b"<f4").unwrap();
        f8[at + 2] = b'8';
        assert!(parse(&f8).unwrap_err().to_string().contains("float32"), "{:?}", parse(&f8));
        let mut fortran = encode(&[2, 3], &[0.0; 6]);
        let at = fortran.windows(5).position(|w| w == b"False").unwrap();
        fortran[at..at + 5].copy_from_slice(b"True ");
        assert!(parse(&fortran).unwrap_err().to_string().contains("Fortran"));
    }
}

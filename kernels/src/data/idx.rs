//! IDX files (MNIST's format), raw or gzip-compressed (detected by the gzip magic).

use std::io::Read;
use std::path::Path;

/// Decompresses `bytes` when they start with the gzip magic.
pub fn maybe_gunzip(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).map_err(|e| format!("bad gzip data: {e}"))?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// A parsed IDX file of unsigned bytes: its dimensions and data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Parses an IDX file of unsigned bytes (type code 0x08), any number of dimensions.
pub fn parse(bytes: &[u8]) -> Result<Idx, String> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err("not an IDX file (bad magic)".into());
    }
    if bytes[2] != 0x08 {
        return Err(format!("IDX element type 0x{:02x} is not supported (only unsigned bytes, 0x08)", bytes[2]));
    }
    let nd = bytes[3] as usize;
    let header = 4 + 4 * nd;
    if nd == 0 || bytes.len() < header {
        return Err("truncated IDX header".into());
    }
    let dims: Vec<usize> = (0..nd).map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize).collect();
    let total = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or("IDX dimensions overflow")?;
    if bytes.len() - header != total {
        return Err(format!("IDX data has {} bytes, the header {dims:?} says {total}", bytes.len() - header));
    }
    Ok(Idx { dims, data: bytes[header..].to_vec() })
}

/// Reads and parses an IDX file (`.gz` or not).
pub fn read(path: &Path) -> Result<Idx, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    maybe_gunzip(bytes).and_then(|b| parse(&b)).map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Images `[n, rows, cols]` (or `[n, c, rows, cols]`) and labels `[n]` into a dataset.
pub fn dataset(images: Idx, labels: Idx) -> Result<super::Dataset, String> {
    let shape = match images.dims[..] {
        [_, h, w] => [1, h, w],
        [_, c, h, w] => [c, h, w],
        _ => return Err(format!("IDX images must have 3 or 4 dimensions, have {:?}", images.dims)),
    };
    if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
        return Err(format!("{} images but labels of shape {:?}", images.dims[0], labels.dims));
    }
    super::Dataset::new(shape, images.data, labels.data)
}

//! IDX files (MNIST's format), raw or gzip-compressed (detected by the gzip magic).

use crate::error::DataError;
use std::io::Read;
use std::path::Path;

/// The most bytes a data file may hold once decompressed (1 GiB: about 7 times CIFAR-10's
/// training images). A larger file is refused before it is inflated.
pub const MAX_DATA_BYTES: u64 = 1 << 30;

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Decompresses `bytes` when they start with the gzip magic, refusing output over
/// [`MAX_DATA_BYTES`] as soon as the decoder passes it (a small file cannot inflate to gigabytes).
pub fn maybe_gunzip(bytes: Vec<u8>) -> Result<Vec<u8>, DataError> {
    if !is_gzip(&bytes) {
        return Ok(bytes);
    }
    gunzip_at_most(&bytes, MAX_DATA_BYTES)
}

/// Decompresses gzip `bytes`, refusing output over `limit` bytes when the decoder passes it.
pub fn gunzip_at_most(bytes: &[u8], limit: u64) -> Result<Vec<u8>, DataError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).take(limit + 1).read_to_end(&mut out).map_err(DataError::Gzip)?;
    if out.len() as u64 > limit {
        return Err(DataError::TooLarge { limit_mib: limit >> 20 });
    }
    Ok(out)
}

/// A gzipped IDX file, inflated only as far as its header allows: the header is read first, the
/// data size it declares is checked against [`MAX_DATA_BYTES`], then exactly that much is read.
fn gunzip_idx(bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let mut dec = flate2::read::GzDecoder::new(bytes);
    let mut out = vec![0u8; 4];
    dec.read_exact(&mut out).map_err(|_| DataError::ShortMagic)?;
    let nd = out[3] as usize;
    out.resize(4 + 4 * nd, 0);
    dec.read_exact(&mut out[4..]).map_err(|_| DataError::TruncatedHeader)?;
    let total = (0..nd).try_fold(1u64, |a, i| a.checked_mul(u32::from_be_bytes(out[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as u64)).unwrap_or(u64::MAX);
    if total > MAX_DATA_BYTES {
        return Err(DataError::DeclaredTooLarge { declared: total, limit_mib: MAX_DATA_BYTES >> 20 });
    }
    // one byte more than declared, so that `parse` reports extra data
    dec.take(total + 1).read_to_end(&mut out).map_err(DataError::Gzip)?;
    Ok(out)
}

/// A parsed IDX file of unsigned bytes: its dimensions and data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Parses an IDX file of unsigned bytes (type code 0x08), any number of dimensions.
pub fn parse(bytes: &[u8]) -> Result<Idx, DataError> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(DataError::BadMagic);
    }
    if bytes[2] != 0x08 {
        return Err(DataError::ElementType { code: bytes[2] });
    }
    let nd = bytes[3] as usize;
    let header = 4 + 4 * nd;
    if nd == 0 || bytes.len() < header {
        return Err(DataError::TruncatedHeader);
    }
    let dims: Vec<usize> = (0..nd).map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize).collect();
    let total = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or(DataError::DimsOverflow)?;
    if bytes.len() - header != total {
        return Err(DataError::DataLength { found: bytes.len() - header, dims, expected: total });
    }
    Ok(Idx { dims, data: bytes[header..].to_vec() })
}

/// Reads and parses an IDX file (`.gz` or not).
pub fn read(path: &Path) -> Result<Idx, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Read { path: path.to_path_buf(), source })?;
    let raw = if is_gzip(&bytes) { gunzip_idx(&bytes) } else { Ok(bytes) };
    raw.and_then(|b| parse(&b)).map_err(|e| DataError::InFile { path: path.to_path_buf(), source: Box::new(e) })
}

/// Images `[n, rows, cols]` (or `[n, c, rows, cols]`) and labels `[n]` into a dataset.
pub fn dataset(images: Idx, labels: Idx) -> Result<super::Dataset, DataError> {
    let shape = match images.dims[..] {
        [_, h, w] => [1, h, w],
        [_, c, h, w] => [c, h, w],
        _ => return Err(DataError::ImageDims { dims: images.dims }),
    };
    if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
        return Err(DataError::LabelShape { images: images.dims[0], labels: labels.dims });
    }
    super::Dataset::new(shape, images.data, labels.data)
}

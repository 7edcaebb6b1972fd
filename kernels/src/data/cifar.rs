//! The CIFAR-10 binary format: records of `<1 byte label><1024 R><1024 G><1024 B>`.

use crate::error::DataError;
use std::path::Path;

const REC: usize = 1 + 3 * 32 * 32;

/// Parses concatenated CIFAR-10 binary records.
pub fn parse(bytes: &[u8]) -> Result<super::Dataset, DataError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(REC) {
        return Err(DataError::CifarRecords { bytes: bytes.len(), record: REC });
    }
    let n = bytes.len() / REC;
    let mut images = Vec::with_capacity(n * (REC - 1));
    let mut labels = Vec::with_capacity(n);
    for r in bytes.chunks_exact(REC) {
        labels.push(r[0]);
        images.extend_from_slice(&r[1..]);
    }
    super::Dataset::new([3, 32, 32], images, labels)
}

/// Reads and concatenates CIFAR-10 binary files.
pub fn read(paths: &[&Path]) -> Result<super::Dataset, DataError> {
    let mut all = Vec::new();
    for p in paths {
        let b = std::fs::read(p).map_err(|source| DataError::Read { path: p.to_path_buf(), source })?;
        let b = super::idx::maybe_gunzip(b)?;
        if !b.len().is_multiple_of(REC) {
            return Err(DataError::InFile { path: p.to_path_buf(), source: Box::new(DataError::CifarRecords { bytes: b.len(), record: REC }) });
        }
        all.extend_from_slice(&b);
    }
    parse(&all)
}

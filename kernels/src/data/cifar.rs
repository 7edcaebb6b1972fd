//! The CIFAR-10 binary format: records of `<1 byte label><1024 R><1024 G><1024 B>`.

use std::path::Path;

const REC: usize = 1 + 3 * 32 * 32;

/// Parses concatenated CIFAR-10 binary records.
pub fn parse(bytes: &[u8]) -> Result<super::Dataset, String> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(REC) {
        return Err(format!("{} bytes is not a whole number of {REC}-byte CIFAR-10 records", bytes.len()));
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
pub fn read(paths: &[&Path]) -> Result<super::Dataset, String> {
    let mut all = Vec::new();
    for p in paths {
        let b = std::fs::read(p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
        let b = super::idx::maybe_gunzip(b)?;
        if !b.len().is_multiple_of(REC) {
            return Err(format!("`{}`: {} bytes is not a whole number of {REC}-byte CIFAR-10 records", p.display(), b.len()));
        }
        all.extend_from_slice(&b);
    }
    parse(&all)
}

//! IDX (raw and gzip), CIFAR-10 binary, the embedded digits split, batches (normalization,
//! crop with zero padding, flip), and the real MNIST/CIFAR folders when they are present.

use nasc_kernels::data::{self, batch, cifar, idx, Augment, Dataset, LoadOptions};
use nasc_kernels::rng::Rng;
use std::io::Write;

fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

fn gz(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[test]
fn idx_raw_and_gzip() {
    let px: Vec<u8> = (0..2 * 3 * 4).map(|v| v as u8).collect();
    let raw = idx_bytes(&[2, 3, 4], &px);
    let a = idx::parse(&raw).unwrap();
    assert_eq!(a.dims, vec![2, 3, 4]);
    assert_eq!(a.data, px);
    assert_eq!(idx::parse(&idx::maybe_gunzip(gz(&raw)).unwrap()).unwrap(), a);
    let labels = idx::parse(&idx_bytes(&[2], &[7, 1])).unwrap();
    let ds = idx::dataset(a, labels).unwrap();
    assert_eq!(ds.shape, [1, 3, 4]);
    assert_eq!(ds.image(1), &px[12..]);
    assert!(idx::parse(&raw[..raw.len() - 1]).is_err());
    assert!(idx::parse(&[0, 0, 0x0d, 1, 0, 0, 0, 0]).is_err());
    // a folder of gzipped MNIST-style files, loaded by path
    let dir = std::env::temp_dir().join(format!("nasc-idx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let img: Vec<u8> = (0..20 * 4).map(|v| (v * 7 % 256) as u8).collect();
    let lab: Vec<u8> = (0..20).map(|v| (v % 3) as u8).collect();
    std::fs::write(dir.join("train-images-idx3-ubyte.gz"), gz(&idx_bytes(&[20, 2, 2], &img))).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte.gz"), gz(&idx_bytes(&[20], &lab))).unwrap();
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), idx_bytes(&[4, 2, 2], &img[..16])).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), idx_bytes(&[4], &lab[..4])).unwrap();
    let s = data::load(dir.to_str().unwrap(), &LoadOptions { val_fraction: 0.25, data_dir: None }).unwrap();
    assert_eq!((s.train.len(), s.val.len(), s.test.len(), s.classes), (15, 5, 4, 3));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cifar_records() {
    let mut b = Vec::new();
    for r in 0..3u8 {
        b.push(r);
        b.extend((0..3072).map(|i| (i as u8).wrapping_add(r)));
    }
    let ds = cifar::parse(&b).unwrap();
    assert_eq!((ds.len(), ds.shape, ds.labels.clone()), (3, [3, 32, 32], vec![0, 1, 2]));
    assert_eq!(ds.image(2)[1024], (1024u32 as u8).wrapping_add(2));
    assert!(cifar::parse(&b[..100]).is_err());
}

#[test]
fn digits_split_is_fixed() {
    let a = data::digits();
    let b = data::digits();
    assert_eq!((a.train.len(), a.val.len(), a.test.len(), a.classes), (1257, 180, 360, 10));
    assert_eq!(a.train, b.train);
    assert_eq!(a.train.shape, [1, 8, 8]);
    assert!(a.train.images.iter().all(|&v| v <= 16));
    assert!((a.mean[0] - 4.88).abs() < 0.2, "mean {}", a.mean[0]);
    // every class is in every split
    for s in [&a.train, &a.val, &a.test] {
        assert_eq!(s.classes(), 10);
    }
}

#[test]
fn batches_normalize_crop_and_flip() {
    // one 1x3x3 image 1..9
    let ds = Dataset::new([1, 3, 3], (1..=9).collect(), vec![4]).unwrap();
    let (mut x, mut l) = (Vec::new(), Vec::new());
    let mut rng = Rng::new(0);
    batch::fill(&ds, &[0], &[1.0], &[2.0], Augment::default(), &mut rng, &mut x, &mut l);
    assert_eq!(l, vec![4]);
    assert_eq!(x, (1..=9).map(|v| (v as f32 - 1.0) / 2.0).collect::<Vec<_>>());
    // flips only: every output is the image or its mirror, both occur
    let mirror: Vec<f32> = [3, 2, 1, 6, 5, 4, 9, 8, 7].iter().map(|&v| v as f32).collect();
    let plain: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let mut seen = (false, false);
    for _ in 0..40 {
        batch::fill(&ds, &[0], &[0.0], &[1.0], Augment { crop_pad: 0, flip: true }, &mut rng, &mut x, &mut l);
        if x == plain {
            seen.0 = true;
        } else {
            assert_eq!(x, mirror);
            seen.1 = true;
        }
    }
    assert!(seen.0 && seen.1);
    // crops: each output is the image shifted by (dy, dx) in [-1, 1]^2 with zero fill
    let mut shifts = std::collections::HashSet::new();
    for _ in 0..200 {
        batch::fill(&ds, &[0], &[0.0], &[1.0], Augment { crop_pad: 1, flip: false }, &mut rng, &mut x, &mut l);
        let found = (-1i32..=1).flat_map(|dy| (-1i32..=1).map(move |dx| (dy, dx))).find(|&(dy, dx)| {
            (0..9).all(|p| {
                let (y, xx) = (p as i32 / 3 + dy, p as i32 % 3 + dx);
                let want = if (0..3).contains(&y) && (0..3).contains(&xx) { (y * 3 + xx + 1) as f32 } else { 0.0 };
                x[p] == want
            })
        });
        shifts.insert(found.expect("a shifted copy"));
    }
    assert_eq!(shifts.len(), 9);
    // grey to RGB
    let y = batch::expand_channels(&[1.0, 2.0, 3.0, 4.0], 2, 1, 3, 2);
    assert_eq!(y, vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 4.0, 3.0, 4.0]);
}

/// The real datasets of the shared data folder, when this checkout has one beside it.
#[test]
fn real_datasets_when_present() {
    let opts = LoadOptions::default();
    match data::load("mnist", &opts) {
        Ok(s) => {
            assert_eq!((s.train.len() + s.val.len(), s.test.len(), s.train.shape), (60000, 10000, [1, 28, 28]));
            assert!((s.mean[0] - 33.3).abs() < 0.5);
        }
        Err(e) => eprintln!("skipping MNIST: {e}"),
    }
    match data::load("cifar10", &opts) {
        Ok(s) => {
            assert_eq!((s.test.len(), s.train.shape, s.augment), (10000, [3, 32, 32], Augment { crop_pad: 4, flip: true }));
            assert_eq!(s.train.len() + s.val.len(), 20000);
        }
        Err(e) => eprintln!("skipping CIFAR-10: {e}"),
    }
    assert!(data::load("no-such-dataset", &opts).is_err());
}

/// A gzip bomb is refused before it is inflated: an IDX header that declares more than the
/// limit (the file itself is tiny: refused after reading its header), data beyond the declared
/// size, and a gzip stream that inflates past the limit.
#[test]
fn gzip_bombs_are_refused_before_inflating() {
    let dir = std::env::temp_dir().join(format!("nasc-bomb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // header: 2^16 x 2^15 x 1 images = 2 GiB, followed by a few bytes
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&idx_bytes(&[1 << 16, 1 << 15, 1], &[0; 1024])).unwrap();
    let p = dir.join("bomb-idx3-ubyte.gz");
    std::fs::write(&p, e.finish().unwrap()).unwrap();
    let err = idx::read(&p).unwrap_err().to_string();
    assert!(err.contains("declares 2147483648 bytes") && err.contains("limit"), "{err}");
    // more data than the header declares
    let p = dir.join("long-idx1-ubyte.gz");
    std::fs::write(&p, gz(&idx_bytes(&[2], &[1, 2, 3]))).unwrap();
    let err = idx::read(&p).unwrap_err().to_string();
    assert!(err.contains("3 bytes, the header [2] says 2"), "{err}");
    // a stream that inflates past the limit stops there (4 MiB of zeros against 2 MiB; the
    // files' limit is idx::MAX_DATA_BYTES)
    let bomb = gz(&vec![0u8; 4 << 20]);
    assert!(bomb.len() < 64 << 10);
    let err = idx::gunzip_at_most(&bomb, 2 << 20).unwrap_err().to_string();
    assert!(err.contains("larger than 2 MiB"), "{err}");
    assert_eq!(idx::gunzip_at_most(&bomb, 4 << 20).unwrap().len(), 4 << 20);
    assert_eq!(idx::MAX_DATA_BYTES, 1 << 30);
    std::fs::remove_dir_all(&dir).unwrap();
}

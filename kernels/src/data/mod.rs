//! Datasets for the trainer: IDX (MNIST, Fashion-MNIST, digits; `.gz` or raw), the CIFAR-10
//! binary format, and the embedded default (scikit-learn's digits, `kernels/data/digits/`).
//! Images are kept as bytes; [`batch`] turns them into normalized, optionally augmented `f32`
//! batches.

pub mod batch;
pub mod cifar;
pub mod idx;

use crate::error::DataError;
use crate::rng::Rng;
use std::path::{Path, PathBuf};

/// Images (`u8`, NCHW) with labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `[c, h, w]` of one image.
    pub shape: [usize; 3],
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Dataset {
    pub fn new(shape: [usize; 3], images: Vec<u8>, labels: Vec<u8>) -> Result<Self, DataError> {
        let sz = shape.iter().product::<usize>();
        if sz == 0 || images.len() != sz * labels.len() {
            return Err(DataError::ImageBytes { bytes: images.len(), images: labels.len(), shape });
        }
        Ok(Dataset { shape, images, labels })
    }
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn image_len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn image(&self, i: usize) -> &[u8] {
        let l = self.image_len();
        &self.images[i * l..(i + 1) * l]
    }
    /// The images at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let mut images = Vec::with_capacity(idx.len() * self.image_len());
        for &i in idx {
            images.extend_from_slice(self.image(i));
        }
        Dataset { shape: self.shape, images, labels: idx.iter().map(|&i| self.labels[i]).collect() }
    }
    /// The first `n` images (all when `n >= len`).
    pub fn take(&self, n: usize) -> Dataset {
        self.subset(&(0..n.min(self.len())).collect::<Vec<_>>())
    }
    /// Number of classes: the largest label plus one.
    pub fn classes(&self) -> usize {
        self.labels.iter().copied().max().map_or(0, |m| m as usize + 1)
    }
}

/// Augmentation applied to training batches (torchvision's `RandomCrop(size, padding)` with
/// zero fill, then `RandomHorizontalFlip()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Augment {
    /// Random crop of the original size from the image zero-padded by this much (0: none).
    pub crop_pad: usize,
    /// Horizontal flip with probability 1/2.
    pub flip: bool,
}

/// Train, validation and test sets plus the normalization (per-channel mean and standard
/// deviation of the training pixels) and the dataset's standard augmentation.
#[derive(Clone, Debug)]
pub struct Splits {
    pub name: String,
    pub train: Dataset,
    pub val: Dataset,
    pub test: Dataset,
    pub classes: usize,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub augment: Augment,
}

/// Fixed seed of the deterministic train/validation(/test) splits.
const SPLIT_SEED: u64 = 0x5EED_0D16;

/// How to load a dataset.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Fraction of the training images held out for validation (a fixed-seed random subset).
    /// The embedded digits ignore it (their split is fixed: 1257/180/360).
    pub val_fraction: f64,
    /// Where the named datasets live (a folder holding `mnist/`, `fashion-mnist/`,
    /// `cifar10-jpeg/`...); default: `$NASC_DATA_DIR`, else the first `data/images` or
    /// `shared/data/images` found in the current folder or one of its ancestors.
    pub data_dir: Option<PathBuf>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { val_fraction: 0.1, data_dir: None }
    }
}

static DIGITS_IMAGES: &[u8] = include_bytes!("../../data/digits/digits-images-idx3-ubyte");
static DIGITS_LABELS: &[u8] = include_bytes!("../../data/digits/digits-labels-idx1-ubyte");

/// The embedded digits dataset (1797 images, 1x8x8, pixel values 0..16), unsplit.
pub fn digits_all() -> Dataset {
    idx::dataset(idx::parse(DIGITS_IMAGES).unwrap(), idx::parse(DIGITS_LABELS).unwrap()).expect("embedded digits")
}

/// The embedded digits, split deterministically: 1257 train, 180 validation, 360 test.
pub fn digits() -> Splits {
    let all = digits_all();
    let mut perm: Vec<usize> = (0..all.len()).collect();
    Rng::new(SPLIT_SEED).shuffle(&mut perm);
    let (test, rest) = perm.split_at(360);
    let (val, train) = rest.split_at(180);
    finish("digits", all.subset(train), all.subset(val), all.subset(test), Augment::default())
}

/// Splits `train` into train and validation (a fixed-seed random `frac` of it).
fn hold_out(train: Dataset, frac: f64) -> (Dataset, Dataset) {
    let n = train.len();
    let nv = ((n as f64 * frac.clamp(0.0, 0.9)).round() as usize).min(n.saturating_sub(1));
    if nv == 0 {
        let empty = Dataset { shape: train.shape, images: Vec::new(), labels: Vec::new() };
        return (train, empty);
    }
    let mut perm: Vec<usize> = (0..n).collect();
    Rng::new(SPLIT_SEED).shuffle(&mut perm);
    let (v, t) = perm.split_at(nv);
    let (mut v, mut t) = (v.to_vec(), t.to_vec());
    v.sort_unstable();
    t.sort_unstable();
    (train.subset(&t), train.subset(&v))
}

fn finish(name: &str, train: Dataset, val: Dataset, test: Dataset, augment: Augment) -> Splits {
    let [c, h, w] = train.shape;
    let hw = h * w;
    let mut sum = vec![0f64; c];
    let mut sq = vec![0f64; c];
    for img in train.images.chunks(c * hw) {
        for ch in 0..c {
            for &v in &img[ch * hw..(ch + 1) * hw] {
                sum[ch] += v as f64;
                sq[ch] += (v as f64) * (v as f64);
            }
        }
    }
    let cnt = (train.len() * hw).max(1) as f64;
    let mean: Vec<f32> = sum.iter().map(|s| (s / cnt) as f32).collect();
    let std: Vec<f32> = sq.iter().zip(&mean).map(|(q, &m)| ((q / cnt - (m as f64).powi(2)).max(0.0).sqrt() as f32).max(1e-3)).collect();
    let classes = train.classes().max(test.classes()).max(val.classes());
    Splits { name: name.to_string(), train, val, test, classes, mean, std, augment }
}

/// The folder of a named dataset.
fn find_dir(sub: &str, opts: &LoadOptions) -> Result<PathBuf, DataError> {
    let mut tried = Vec::new();
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(d) = &opts.data_dir {
        roots.push(d.clone());
    } else if let Ok(d) = std::env::var("NASC_DATA_DIR") {
        roots.push(PathBuf::from(d));
    } else if let Ok(cwd) = std::env::current_dir() {
        for a in cwd.ancestors() {
            roots.push(a.join("data/images"));
            roots.push(a.join("shared/data/images"));
        }
    }
    for r in roots {
        let p = r.join(sub);
        if p.is_dir() {
            return Ok(p);
        }
        tried.push(p.display().to_string());
    }
    Err(DataError::NoFolder { name: sub.to_string(), tried })
}

/// The first existing file among `names` (each also tried with `.gz`) in `dir`.
fn pick(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    for n in names {
        for cand in [dir.join(n), dir.join(format!("{n}.gz"))] {
            if cand.is_file() {
                return Some(cand);
            }
        }
    }
    None
}

/// MNIST-layout IDX files in `dir` (train + t10k), or one IDX image/label pair (split 70/10/20
/// like digits).
fn load_idx_dir(name: &str, dir: &Path, opts: &LoadOptions) -> Result<Splits, DataError> {
    let tr = (pick(dir, &["train-images-idx3-ubyte", "train-images.idx3-ubyte"]), pick(dir, &["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"]));
    let te = (pick(dir, &["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"]), pick(dir, &["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"]));
    if let ((Some(ti), Some(tl)), (Some(si), Some(sl))) = (tr, te) {
        let train = idx::dataset(idx::read(&ti)?, idx::read(&tl)?)?;
        let test = idx::dataset(idx::read(&si)?, idx::read(&sl)?)?;
        if train.shape != test.shape {
            return Err(DataError::SplitShapes { train: train.shape, test: test.shape });
        }
        let (train, val) = hold_out(train, opts.val_fraction);
        return Ok(finish(name, train, val, test, Augment::default()));
    }
    // a single pair: *images-idx3-ubyte + *labels-idx1-ubyte
    let list: Vec<PathBuf> = std::fs::read_dir(dir).map_err(|source| DataError::List { dir: dir.to_path_buf(), source })?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    let find = |k: &str| list.iter().find(|p| p.file_name().and_then(|f| f.to_str()).is_some_and(|f| f.contains(k))).cloned();
    match (find("images-idx3-ubyte"), find("labels-idx1-ubyte")) {
        (Some(i), Some(l)) => {
            let all = idx::dataset(idx::read(&i)?, idx::read(&l)?)?;
            let mut perm: Vec<usize> = (0..all.len()).collect();
            Rng::new(SPLIT_SEED).shuffle(&mut perm);
            let nt = all.len() / 5;
            let nv = all.len() / 10;
            let (test, rest) = perm.split_at(nt);
            let (val, train) = rest.split_at(nv);
            Ok(finish(name, all.subset(train), all.subset(val), all.subset(test), Augment::default()))
        }
        _ => Err(DataError::NoIdx { dir: dir.to_path_buf() }),
    }
}

/// CIFAR-10 binary batches in `dir`: every `data_batch_*.bin` for training, `test_batch.bin`.
fn load_cifar_dir(name: &str, dir: &Path, opts: &LoadOptions) -> Result<Splits, DataError> {
    let mut batches: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| DataError::List { dir: dir.to_path_buf(), source })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|f| f.to_str()).is_some_and(|f| f.starts_with("data_batch_") && f.ends_with(".bin")))
        .collect();
    batches.sort();
    let test = dir.join("test_batch.bin");
    if batches.is_empty() || !test.is_file() {
        return Err(DataError::NoCifar { dir: dir.to_path_buf() });
    }
    let train = cifar::read(&batches.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
    let test = cifar::read(&[test.as_path()])?;
    let (train, val) = hold_out(train, opts.val_fraction);
    Ok(finish(name, train, val, test, Augment { crop_pad: 4, flip: true }))
}

/// Loads `digits` (embedded), `mnist`, `fashion-mnist`, `cifar10`, or a folder holding IDX or
/// CIFAR-10 binary files.
pub fn load(spec: &str, opts: &LoadOptions) -> Result<Splits, DataError> {
    match spec {
        "digits" => Ok(digits()),
        "mnist" => load_idx_dir("mnist", &find_dir("mnist", opts)?, opts),
        "fashion-mnist" | "fashion_mnist" | "fmnist" => load_idx_dir("fashion-mnist", &find_dir("fashion-mnist", opts)?, opts),
        "cifar10" | "cifar-10" => {
            let dir = find_dir("cifar10-jpeg", opts).or_else(|_| find_dir("cifar10", opts))?;
            load_cifar_dir("cifar10", &dir, opts)
        }
        path => {
            let p = Path::new(path);
            if !p.is_dir() {
                return Err(DataError::UnknownDataset { spec: path.to_string() });
            }
            let name = p.file_name().and_then(|f| f.to_str()).unwrap_or(path).to_string();
            if p.join("test_batch.bin").is_file() {
                load_cifar_dir(&name, p, opts)
            } else {
                load_idx_dir(&name, p, opts)
            }
        }
    }
}

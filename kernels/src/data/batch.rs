//! Batches: seeded shuffling, augmentation (random crop with zero padding, horizontal flip) and
//! per-channel normalization, from the byte images of a [`Dataset`].

use super::{Augment, Dataset};
use crate::rng::Rng;

/// A random permutation of `0..n` (a new one every epoch from the same `rng`).
pub fn shuffled(n: usize, rng: &mut Rng) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut v);
    v
}

/// Fills `x` (`[idx.len(), c, h, w]`, normalized `(v - mean[c]) / std[c]`) and `labels` with the
/// images at `idx`. With augmentation, each image is shifted by a random crop of the image
/// zero-padded by `crop_pad` (padding is the raw value 0, as torchvision pads before
/// normalizing) and flipped left-right with probability 1/2.
#[allow(clippy::too_many_arguments)]
pub fn fill(ds: &Dataset, idx: &[usize], mean: &[f32], std: &[f32], aug: Augment, rng: &mut Rng, x: &mut Vec<f32>, labels: &mut Vec<u32>) {
    let [c, h, w] = ds.shape;
    let il = c * h * w;
    x.resize(idx.len() * il, 0.0);
    labels.clear();
    let inv: Vec<f32> = std.iter().map(|s| 1.0 / s).collect();
    for (b, &i) in idx.iter().enumerate() {
        labels.push(ds.labels[i] as u32);
        let img = ds.image(i);
        let out = &mut x[b * il..(b + 1) * il];
        let p = aug.crop_pad as isize;
        let (dy, dx) = if p > 0 { (rng.below(2 * aug.crop_pad + 1) as isize - p, rng.below(2 * aug.crop_pad + 1) as isize - p) } else { (0, 0) };
        let flip = aug.flip && rng.below(2) == 1;
        for ch in 0..c {
            let (m, s) = (mean[ch], inv[ch]);
            let src = &img[ch * h * w..(ch + 1) * h * w];
            let dst = &mut out[ch * h * w..(ch + 1) * h * w];
            for yy in 0..h {
                let sy = yy as isize + dy;
                for xx in 0..w {
                    let ox = if flip { w - 1 - xx } else { xx };
                    let sx = xx as isize + dx;
                    let v = if sy >= 0 && sy < h as isize && sx >= 0 && sx < w as isize { src[sy as usize * w + sx as usize] as f32 } else { 0.0 };
                    dst[yy * w + ox] = (v - m) * s;
                }
            }
        }
    }
}

/// Channel replication for a network that wants `c_net` channels from `c_data`-channel images
/// (1 -> 3: the grey value in every channel, as torchvision's `Grayscale(3)`).
pub fn expand_channels(x: &[f32], n: usize, c_data: usize, c_net: usize, hw: usize) -> Vec<f32> {
    assert!(c_data == 1 && c_net >= 1);
    let mut y = Vec::with_capacity(n * c_net * hw);
    for img in x.chunks(hw).take(n) {
        for _ in 0..c_net {
            y.extend_from_slice(img);
        }
    }
    y
}

//! The trainer's seeded random numbers (parameter init, shuffling, augmentation). Every consumer
//! takes an `&mut Rng` explicitly, so a run is reproducible from its seed.
//!
//! This is a second SplitMix64 next to the compiler's (`nasc_compiler::rng`), on purpose: the
//! kernels crate does not depend on the compiler (it builds and tests on its own, and the
//! runtime links it without the front end). The two are not interchangeable: this one mixes a
//! constant into the seed and derives purpose streams ([`Rng::derive`]), and the trainer's init,
//! shuffling and augmentation draws are pinned by tests (`training_is_reproducible_from_the_seed`)
//! to this stream. A search's per-trial training seed comes from the compiler's `splitmix64`
//! (`nasc/src/train_eval.rs`) and is then only used as this `Rng`'s seed.

/// SplitMix64 (Steele, Lea, Flood 2014): tiny and statistically sound for these uses.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x6a09_e667_f3bc_c909)
    }
    /// An independent stream derived from `seed` and a purpose tag (`stream`).
    pub fn derive(seed: u64, stream: u64) -> Self {
        let mut r = Rng::new(seed);
        r.0 ^= stream.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
        r.next_u64();
        r
    }
    /// The generator's position, for checkpoints ([`Rng::from_state`] continues from it).
    pub fn state(&self) -> u64 {
        self.0
    }
    /// A generator at a position [`Rng::state`] returned.
    pub fn from_state(state: u64) -> Self {
        Rng(state)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1) with 24 bits (every value exactly representable in f32).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.next_f32()
    }
    /// Uniform integer in [0, n) (Lemire's multiply-shift; n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

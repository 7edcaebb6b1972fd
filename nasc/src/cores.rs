//! Sharing the machine's cores between trials that run at once: each of W concurrent `train`
//! trials gets its own rayon pool of cores / W threads (the CPU trainer runs on rayon), so W
//! trainings do not each use a pool of every core and fight over them.

/// The cores each of `trials` concurrent trials gets (at least 1).
pub fn cores_per_trial(trials: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / trials.max(1)).max(1)
}

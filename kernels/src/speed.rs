//! A speed probe for timing trainings on machines whose speed drifts.
//!
//! On a shared or virtual machine the CPU's speed moves by 10-25% over seconds (measured on the
//! 2-core machines nasc is developed on: the same 36 trainings run twice had wall times that
//! correlate at Spearman 0.79, in streaks of slower and faster trials). POPNAS minimizes training
//! time, so that drift is noise in its objective. The trainer runs this fixed workload (a few
//! GEMMs through the CPU backend's engine, on the same thread pool) between training steps and
//! reports the training time in units of it (`train_probes`): a time measured with a clock that
//! slows down when the machine does.
use crate::cpu::gemm::{sgemm, Mat};
use std::time::Instant;

/// The side of the probe's square GEMMs.
const SIDE: usize = 128;
/// GEMMs per probe (about 0.2 ms in all on a 2-core AMD EPYC (Zen 4) VM).
const REPS: usize = 4;

/// Times the probe workload between training steps and keeps the sum.
#[derive(Debug)]
pub struct SpeedProbe {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    /// Probes run and their total seconds.
    pub runs: usize,
    pub seconds: f64,
}

impl Default for SpeedProbe {
    fn default() -> Self {
        let a: Vec<f32> = (0..SIDE * SIDE).map(|i| ((i * 7919) % 1009) as f32 / 1009.0 - 0.5).collect();
        let b = a.iter().rev().copied().collect();
        SpeedProbe { a, b, c: vec![0.0; SIDE * SIDE], runs: 0, seconds: 0.0 }
    }
}

impl SpeedProbe {
    /// Runs the workload once; returns its seconds (also added to the sums).
    pub fn run(&mut self) -> f64 {
        let t = Instant::now();
        for _ in 0..REPS {
            sgemm(SIDE, SIDE, SIDE, Mat::rm(&self.a, SIDE), Mat::rm(&self.b, SIDE), &mut self.c, SIDE, false, true);
            std::hint::black_box(&mut self.c);
        }
        let s = t.elapsed().as_secs_f64();
        self.runs += 1;
        self.seconds += s;
        s
    }

    /// Mean seconds of one probe (NaN before the first).
    pub fn mean(&self) -> f64 {
        if self.runs == 0 {
            f64::NAN
        } else {
            self.seconds / self.runs as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_sums_its_runs() {
        let mut p = SpeedProbe::default();
        assert!(p.mean().is_nan());
        let (a, b) = (p.run(), p.run());
        assert!(a > 0.0 && b > 0.0);
        assert_eq!(p.runs, 2);
        assert!((p.seconds - (a + b)).abs() < 1e-12 && (p.mean() - (a + b) / 2.0).abs() < 1e-12);
        // the workload is real: C = A B of the fixed inputs, the same on every run
        let c0 = p.c.clone();
        p.run();
        assert_eq!(p.c, c0);
        let want: f32 = (0..SIDE).map(|k| p.a[k] * p.b[k * SIDE]).sum();
        assert!((p.c[0] - want).abs() < 1e-3, "{} vs {want}", p.c[0]);
    }
}

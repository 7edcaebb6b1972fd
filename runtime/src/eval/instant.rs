//! A synthetic evaluator that costs nothing: reward = a hash of the candidate in [0, 1). Used to
//! measure the search overhead (ask + tell + store) without any evaluation cost.
use super::{EvalRequest, EvalResult, Evaluator};
use crate::space::SearchSpace;
use nasc_compiler::rng::splitmix64;
use nasc_compiler::Slot;

pub struct Instant;

/// The synthetic reward of a candidate.
#[inline]
pub fn score(slots: &[Slot]) -> f64 {
    let mut h = 0x5EED_u64;
    for s in slots {
        let v = match s {
            Slot::Absent => u64::MAX,
            Slot::Opt(v) => *v as u64,
            Slot::Members(m) => *m ^ 0xA5A5_A5A5,
        };
        h = splitmix64(h, v);
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}

impl Evaluator for Instant {
    fn name(&self) -> String {
        "instant".into()
    }
    fn metric_names(&self) -> Vec<String> {
        Vec::new()
    }
    fn evaluate(&mut self, _space: &SearchSpace, batch: &[EvalRequest]) -> Vec<Result<EvalResult, String>> {
        batch
            .iter()
            .map(|r| {
                let s = score(&r.candidate.0);
                Ok(EvalResult { reward: s, reported: s, metrics: Vec::new(), cost: 1.0 })
            })
            .collect()
    }
}

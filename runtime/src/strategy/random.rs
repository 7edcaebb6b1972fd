//! Random search: every candidate uniform over the valid space, infeasible ones skipped.
use super::{rng_from_state, stream_seed, AskCtx, Strategy, Told, MAX_TRIES};
use nasc_compiler::rng::Rng;
use nasc_compiler::Candidate;
use serde_json::{json, Value};

pub struct RandomSearch {
    rng: Rng,
}

impl RandomSearch {
    pub fn new(seed: u64) -> Self {
        RandomSearch { rng: Rng::new(stream_seed(seed, 1)) }
    }
}

impl Strategy for RandomSearch {
    fn name(&self) -> &'static str {
        "rs"
    }
    fn config(&self) -> Value {
        json!({})
    }
    fn ask(&mut self, ctx: &mut AskCtx, n: usize) -> Vec<Candidate> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match ctx.random_accepted(&mut self.rng, MAX_TRIES) {
                Some(c) => out.push(c),
                None => break,
            }
        }
        out
    }
    fn tell(&mut self, _results: &[Told]) {}
    fn state(&self) -> Value {
        json!({"rng_counter": self.rng.counter})
    }
    fn restore(&mut self, state: &Value) -> Result<(), String> {
        self.rng = rng_from_state(self.rng.seed, state)?;
        Ok(())
    }
}

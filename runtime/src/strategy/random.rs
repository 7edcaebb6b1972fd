//! Random search: every candidate uniform over the valid space, infeasible ones skipped.
use super::{state_from, stream_seed, AskCtx, StateError, Strategy, Told, MAX_TRIES};
use nasc_compiler::rng::Rng;
use nasc_compiler::Candidate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The checkpointed state.
#[derive(Serialize, Deserialize)]
struct State {
    rng_counter: u64,
}

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
        serde_json::to_value(State { rng_counter: self.rng.counter }).unwrap_or(Value::Null)
    }
    fn restore(&mut self, state: &Value) -> Result<(), StateError> {
        let s: State = state_from("rs", state)?;
        self.rng = Rng { seed: self.rng.seed, counter: s.rng_counter };
        Ok(())
    }
}

//! Search strategies as ask/tell state machines whose state serializes (serde JSON), so that a run
//! stops and resumes exactly.
use crate::error::StrategyError;
use crate::space::{DecodeError, SearchSpace};
use nasc_compiler::rng::{splitmix64, Rng};
use nasc_compiler::Candidate;
use serde_json::Value;
use std::collections::HashSet;

pub mod evolution;
pub mod l2nas;
pub mod layernas;
pub mod lissnas;
pub mod nsga2;
pub mod popnas;
pub mod random;

pub use evolution::{Evolution, EvolutionConfig, EvolutionConfigError};
pub use l2nas::{L2nas, L2nasConfig, L2nasConfigError, L2nasError};
pub use layernas::{LayerNas, LayerNasConfig, LayerNasConfigError, LayerNasError};
pub use lissnas::{Lissnas, LissnasConfig, LissnasConfigError};
pub use nsga2::{Nsga2, Nsga2Config, Nsga2ConfigError};
pub use popnas::{Popnas, PopnasConfig, PopnasConfigError, PopnasError};
pub use random::RandomSearch;

/// Why a strategy cannot be built from its name and configuration ([`make`]), or cannot run on a
/// space and objectives ([`check_run`]).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Name(#[from] StrategyError),
    /// `config`: the configuration's JSON text.
    #[error("bad `{name}` strategy config `{config}`: expected a JSON object of settings, e.g. `{{}}` for the defaults")]
    NotAnObject { name: String, config: String },
    /// Settings that do not read as the strategy's configuration (an unknown key, a wrong type).
    #[error("bad `{name}` strategy config: {source}")]
    Unreadable {
        name: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("strategy `{name}` is listed but not built")]
    NotBuilt { name: &'static str },
    #[error(transparent)]
    Evolution(#[from] EvolutionConfigError),
    #[error(transparent)]
    LayerNas(#[from] LayerNasConfigError),
    #[error(transparent)]
    L2nas(#[from] L2nasConfigError),
    #[error(transparent)]
    Lissnas(#[from] LissnasConfigError),
    #[error(transparent)]
    Nsga2(#[from] Nsga2ConfigError),
    #[error(transparent)]
    PopnasConfig(#[from] PopnasConfigError),
    /// `popnas` on a space or objectives it cannot use ([`check_run`]).
    #[error(transparent)]
    Popnas(#[from] PopnasError),
}

impl From<ConfigError> for String {
    fn from(e: ConfigError) -> String {
        e.to_string()
    }
}

/// Why a checkpointed strategy state cannot be restored ([`Strategy::restore`]).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// `key`: the missing key in backticks, as serde names it.
    #[error("{strategy} state lacks {key}")]
    Lacks {
        strategy: &'static str,
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{strategy} state: {source}")]
    Unreadable {
        strategy: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("bad popnas state: {0}")]
    Popnas(#[source] serde_json::Error),
    #[error("strategy state lacks `rng_counter`")]
    NoRngCounter,
    #[error("lissnas state lacks `shrinker`")]
    NoShrinker,
    /// A stored candidate that does not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    L2nas(#[from] L2nasError),
}

impl From<StateError> for String {
    fn from(e: StateError) -> String {
        e.to_string()
    }
}

/// Keys of every candidate asked so far (duplicate skipping). Not part of a strategy's state:
/// the runner rebuilds it from the store on resume.
#[derive(Default, Debug, Clone)]
pub struct Seen {
    keys: HashSet<String>,
    /// Candidates already judged, so that exact repeats are rejected without computing a key.
    cands: HashSet<Candidate>,
}

impl Seen {
    /// Record an asked candidate and its key; false if the key was asked before.
    pub fn insert(&mut self, candidate: Candidate, key: String) -> bool {
        self.cands.insert(candidate);
        self.keys.insert(key)
    }
    /// Whether this exact candidate was judged before.
    pub fn contains_candidate(&self, c: &Candidate) -> bool {
        self.cands.contains(c)
    }
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// What a strategy may consult while asking: the space, and the duplicate filter if the run skips
/// duplicates. Every candidate a strategy returns must have passed [`AskCtx::accept`], once.
pub struct AskCtx<'a> {
    pub space: &'a SearchSpace,
    pub seen: Option<&'a mut Seen>,
    /// Keys of the candidates accepted so far in this ask, in order (only when skipping
    /// duplicates), so the runner need not compute them again.
    pub accepted_keys: Vec<String>,
}

impl<'a> AskCtx<'a> {
    pub fn new(space: &'a SearchSpace, seen: Option<&'a mut Seen>) -> Self {
        AskCtx { space, seen, accepted_keys: Vec::new() }
    }
}

impl AskCtx<'_> {
    /// Whether `c` may be evaluated: feasible, and (when skipping duplicates) a key not asked
    /// before. An accepted candidate's key is recorded.
    pub fn accept(&mut self, c: &Candidate) -> bool {
        if !self.space.feasible(c) {
            return false;
        }
        match &mut self.seen {
            None => true,
            Some(seen) => {
                if seen.contains_candidate(c) {
                    return false;
                }
                let key = self.space.key(c);
                if seen.insert(c.clone(), key.clone()) {
                    self.accepted_keys.push(key);
                    true
                } else {
                    false
                }
            }
        }
    }

    /// A uniformly random accepted candidate, or None after `tries` rejected draws.
    pub fn random_accepted(&mut self, rng: &mut Rng, tries: u64) -> Option<Candidate> {
        for _ in 0..tries {
            let c = self.space.sample(rng);
            if self.accept(&c) {
                return Some(c);
            }
        }
        None
    }
}

/// One finished trial as the strategy sees it; `reward` is None for a failed evaluation (or,
/// under a `cap:` scalarization, one that breaks a cap). `reward` is what a single-objective
/// strategy maximizes (the run's one objective or its scalarization, see
/// [`crate::objective::Objectives::scalar`]); `objectives` is the trial's objective vector, every
/// entry maximized (None for a failed trial, or when the caller has no objectives), which
/// multi-objective strategies ([`MULTI_OBJECTIVE`]) read.
pub struct Told<'a> {
    pub id: u64,
    pub candidate: &'a Candidate,
    pub reward: Option<f64>,
    pub objectives: Option<&'a [f64]>,
}

/// An ask/tell search strategy. Rewards are maximized.
pub trait Strategy {
    /// Short name (`rs`, `re`).
    fn name(&self) -> &'static str;
    /// The configuration (hyper-parameters), as stored with the run.
    fn config(&self) -> Value;
    /// Up to `n` new candidates to evaluate; fewer (possibly none) when the strategy cannot
    /// produce more accepted candidates (the space is exhausted under the constraints/dedup).
    fn ask(&mut self, ctx: &mut AskCtx, n: usize) -> Vec<Candidate>;
    /// Results of finished trials, in the order they finished.
    fn tell(&mut self, results: &[Told]);
    /// The complete state; `restore` of it continues exactly.
    fn state(&self) -> Value;
    fn restore(&mut self, state: &Value) -> Result<(), StateError>;
}

/// Draws before a strategy gives up finding an accepted candidate.
pub const MAX_TRIES: u64 = 100_000;

/// The seed of a strategy's RNG stream, derived from the run seed.
pub fn stream_seed(seed: u64, stream: u64) -> u64 {
    splitmix64(seed, stream)
}

/// Every strategy: its short name and aliases. The one list that `make`, `canonical` and the
/// CLI's error messages use.
pub const KNOWN: &[(&str, &[&str])] =
    &[("rs", &["random"]), ("re", &["rea", "evolution"]), ("layernas", &[]), ("l2nas", &[]), ("lissnas", &[]), ("nsga2", &["nsga-ii", "nsga"]), ("popnas", &["popnasv2"])];

/// The strategies that handle several objectives (the others need one objective or
/// `--scalarize`).
pub const MULTI_OBJECTIVE: &[&str] = &["rs", "nsga2", "popnas"];

/// The short name of a strategy given by name or alias (`random` -> `rs`).
pub fn canonical(name: &str) -> Result<&'static str, StrategyError> {
    let lower = name.trim().to_lowercase();
    KNOWN
        .iter()
        .find(|(short, aliases)| *short == lower || aliases.contains(&lower.as_str()))
        .map(|(short, _)| *short)
        .ok_or_else(|| StrategyError::Unknown { name: name.to_string(), known: KNOWN.iter().map(|(s, _)| *s).collect() })
}

/// Parse a strategy config (null = all defaults; missing fields take defaults).
fn config<T: serde::de::DeserializeOwned + Default>(name: &'static str, config: &Value) -> Result<T, ConfigError> {
    if config.is_null() || config.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(T::default());
    }
    serde_json::from_value(config.clone()).map_err(|source| ConfigError::Unreadable { name, source })
}

/// Build a strategy by name or alias from a JSON config (missing fields take defaults).
pub fn make(name: &str, config_json: &Value, seed: u64) -> Result<Box<dyn Strategy>, ConfigError> {
    if !(config_json.is_null() || config_json.is_object()) {
        return Err(ConfigError::NotAnObject { name: name.to_string(), config: config_json.to_string() });
    }
    match canonical(name)? {
        "rs" => Ok(Box::new(RandomSearch::new(seed))),
        "re" => {
            let cfg: EvolutionConfig = config("re", config_json)?;
            cfg.validate()?;
            Ok(Box::new(Evolution::new(cfg, seed)))
        }
        "layernas" => {
            let cfg: LayerNasConfig = config("layernas", config_json)?;
            cfg.validate()?;
            Ok(Box::new(LayerNas::new(cfg, seed)))
        }
        "l2nas" => {
            let cfg: L2nasConfig = config("l2nas", config_json)?;
            cfg.validate()?;
            Ok(Box::new(L2nas::new(cfg, seed)))
        }
        "lissnas" => {
            let cfg: LissnasConfig = config("lissnas", config_json)?;
            cfg.validate()?;
            Ok(Box::new(Lissnas::new(cfg, seed)))
        }
        "nsga2" => {
            let cfg: Nsga2Config = config("nsga2", config_json)?;
            cfg.validate()?;
            Ok(Box::new(Nsga2::new(cfg, seed)))
        }
        "popnas" => {
            let cfg: PopnasConfig = config("popnas", config_json)?;
            cfg.validate()?;
            Ok(Box::new(Popnas::new(cfg, seed)))
        }
        other => Err(ConfigError::NotBuilt { name: other }),
    }
}

/// Checks of a new run that a strategy's config alone cannot make, before anything is created:
/// `popnas` needs the cell decisions and ops it is configured with, an accuracy and (in `popnas`
/// mode) a training-time objective. (With several workers a step's children run at once; the
/// next step waits for their results.)
pub fn check_run(name: &str, config_json: &Value, space: &SearchSpace, objectives: &[crate::objective::Objective]) -> Result<(), ConfigError> {
    if canonical(name)? == "popnas" {
        let cfg: PopnasConfig = config("popnas", config_json)?;
        popnas::check_space(space, &cfg)?;
        popnas::check_objectives(&cfg, objectives)?;
    }
    Ok(())
}

/// A strategy state (JSON, as checkpointed) read back into the strategy's serde struct. A
/// missing key reads "`name` state lacks `key`", as the hand-written readers said.
pub(crate) fn state_from<T: serde::de::DeserializeOwned>(strategy: &'static str, state: &Value) -> Result<T, StateError> {
    T::deserialize(state).map_err(|source| {
        let m = source.to_string();
        match m.strip_prefix("missing field ") {
            Some(key) => StateError::Lacks { strategy, key: key.to_string(), source },
            None => StateError::Unreadable { strategy, source },
        }
    })
}

pub(crate) fn rng_from_state(seed: u64, state: &Value) -> Result<Rng, StateError> {
    let counter = state.get("rng_counter").and_then(Value::as_u64).ok_or(StateError::NoRngCounter)?;
    Ok(Rng { seed, counter })
}

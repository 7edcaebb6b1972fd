//! The one place the runtime touches the compiled space.
//!
//! Every strategy, evaluator and the runner reach the space only through [`SearchSpace`], so the
//! compiled backend (today the compiler's `Space`, later the JIT's `CompiledSpace`) can be swapped
//! here without touching anything else.
use crate::error::ConstraintError;
use nasc_compiler::compiled::{Backend, CompiledSpace};
use nasc_compiler::decision::DecisionKind;
use nasc_compiler::error::{BuildError, NameError};
use nasc_compiler::metrics::MetricKind;
use nasc_compiler::rng::Rng;
use nasc_compiler::{Candidate, Slot, Space};
use nasc_grammar::ast::{Expr, Item};
use std::sync::{Arc, OnceLock};

/// Why a command-line constraint or a restriction cannot be used with the space.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpaceError {
    #[error("constraint `{text}`: unexpected `;`")]
    Semicolon { text: String },
    /// The spec grammar's first error message.
    #[error("constraint `{text}`: {message}")]
    Syntax { text: String, message: String },
    #[error(transparent)]
    Constraint(#[from] ConstraintError),
    #[error("constraint `{text}`: expected one expression such as `flops <= 120M`")]
    NotOneExpression { text: String },
    /// `metrics`: the derived metrics, which a constraint may use.
    #[error("constraint on `{name}`: an external metric is only known after evaluation; constraints must use derived metrics ({})", .metrics.join(", "))]
    ExternalMetric { name: String, metrics: Vec<String> },
    #[error("constraint uses unknown name `{name}` (metrics: {}){}", .metrics.join(", "), crate::error::hint(.suggestion))]
    UnknownName { name: String, metrics: Vec<String>, suggestion: Option<String> },
    #[error("the restricted space has no members")]
    NoMembers,
    /// `member`: the candidate's compact text ([`encode`]).
    #[error("restricted space member `{member}` is not a candidate of space `{space}`: {source}")]
    NotAMember {
        member: String,
        space: String,
        #[source]
        source: nasc_compiler::error::CandidateError,
    },
}

impl From<SpaceError> for String {
    fn from(e: SpaceError) -> String {
        e.to_string()
    }
}

/// Why the space cannot be JIT-compiled ([`SearchSpace::compiled`]; the one error is kept for
/// every later call).
#[derive(Debug, Clone, thiserror::Error)]
#[error(transparent)]
pub struct CompileError(Arc<BuildError>);

impl From<CompileError> for String {
    fn from(e: CompileError) -> String {
        e.to_string()
    }
}

/// Why a candidate's compact text ([`encode`]) does not decode: the slot that is neither `-`, an
/// option index nor `mHEX`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad slot `{slot}`")]
pub struct DecodeError {
    pub slot: String,
}

impl From<DecodeError> for String {
    fn from(e: DecodeError) -> String {
        e.to_string()
    }
}

/// Draws of the whole space's neighbor tried before a restricted space scans its members.
pub const RESTRICTED_NEIGHBOR_TRIES: usize = 32;

/// A compiled space plus the extra (command-line) constraints of a run.
pub struct SearchSpace {
    space: Arc<Space>,
    extra: Vec<Expr>,
    /// The lowered and JIT-compiled space (with the run's extra constraints), built on first use:
    /// prefix bounds (LayerNAS), discretization (L2NAS), batch metrics.
    compiled: OnceLock<Result<CompiledSpace, CompileError>>,
    /// Whether any constraint (spec or extra) exists; without one every valid candidate is feasible.
    constrained: bool,
    /// The derived (non-external) metrics, in spec order.
    metric_names: Vec<String>,
    /// An optional restriction to an explicit set of candidates (a shrunk space, e.g. LISSNAS's),
    /// sorted and without repeats: `sample` draws uniformly from it, `feasible` rejects anything
    /// outside it and `neighbor` stays inside it. The JIT-compiled space ([`SearchSpace::compiled`])
    /// does not see it.
    allowed: Option<Arc<Vec<Candidate>>>,
}

/// Parse a command-line constraint such as `flops<=120M` with the spec grammar.
///
/// The grammar crate has no public expression entry point, so the text is parsed as the spec
/// item `constraint TEXT;` and the expression taken from it.
pub fn parse_constraint(text: &str) -> Result<Expr, SpaceError> {
    if text.contains(';') {
        return Err(SpaceError::Semicolon { text: text.to_string() });
    }
    let (spec, diags) = nasc_grammar::parse(&format!("constraint {text};"));
    if let Some(d) = diags.iter().find(|d| d.is_error()) {
        return Err(SpaceError::Syntax { text: text.to_string(), message: d.message.clone() });
    }
    match spec.items.as_slice() {
        [Item::Constraint { expr, .. }] => {
            crate::constraint::check(text, expr)?;
            Ok(expr.clone())
        }
        _ => Err(SpaceError::NotOneExpression { text: text.to_string() }),
    }
}

impl SearchSpace {
    /// Wrap a compiled space; `extra` constraints are checked against its metric and decision names.
    pub fn new(space: Space, extra: Vec<Expr>) -> Result<Self, SpaceError> {
        let metric_names: Vec<String> = space.metrics().iter().filter(|m| m.kind != MetricKind::External).map(|m| m.name.clone()).collect();
        for e in &extra {
            for n in nasc_compiler::check::free_names(e) {
                let metric = space.metrics().iter().find(|m| m.name == n);
                if let Some(m) = metric {
                    if m.kind == MetricKind::External {
                        return Err(SpaceError::ExternalMetric { name: n, metrics: metric_names });
                    }
                    continue;
                }
                if space.consts().contains_key(&n) || space.decisions().iter().any(|d| d.family == n) {
                    continue;
                }
                let mut names: Vec<&str> = space.metrics().iter().map(|m| m.name.as_str()).collect();
                names.extend(space.consts().keys().map(String::as_str));
                names.extend(space.decisions().iter().map(|d| d.family.as_str()));
                let suggestion = nasc_grammar::diag::did_you_mean(&n, names).map(|s| s.to_string());
                return Err(SpaceError::UnknownName { name: n, metrics: metric_names, suggestion });
            }
        }
        let constrained = !space.constraints().is_empty() || !extra.is_empty();
        Ok(SearchSpace { space: Arc::new(space), extra, constrained, metric_names, compiled: OnceLock::new(), allowed: None })
    }

    /// Restrict the space to an explicit set of candidates (sorted and deduplicated here). Every
    /// member must be a valid candidate of the space, and the set must not be empty.
    pub fn restrict(mut self, members: Vec<Candidate>) -> Result<Self, SpaceError> {
        let mut members = members;
        members.sort_unstable();
        members.dedup();
        if members.is_empty() {
            return Err(SpaceError::NoMembers);
        }
        for c in &members {
            self.space.check_valid(c).map_err(|source| SpaceError::NotAMember { member: encode(c), space: self.space.name().to_string(), source })?;
        }
        self.allowed = Some(Arc::new(members));
        Ok(self)
    }

    /// The explicit member set of a restricted space (sorted), or None for the whole space.
    pub fn allowed(&self) -> Option<&[Candidate]> {
        self.allowed.as_deref().map(Vec::as_slice)
    }

    /// Whether `c` is in the restriction (always true without one).
    #[inline]
    pub fn is_member(&self, c: &Candidate) -> bool {
        self.allowed.as_ref().is_none_or(|a| a.binary_search(c).is_ok())
    }

    /// The same space without its restriction (the whole space the members came from).
    pub fn unrestricted(&self) -> SearchSpace {
        SearchSpace {
            space: self.space.clone(),
            extra: self.extra.clone(),
            compiled: OnceLock::new(),
            constrained: self.constrained,
            metric_names: self.metric_names.clone(),
            allowed: None,
        }
    }

    /// The compiled space (cranelift JIT backend, run-time constraints included), compiled on
    /// the first call. Its rows are `CompiledSpace::encode` of candidates. It is the whole
    /// space: a restriction ([`SearchSpace::restrict`]) is not compiled in, so callers that need
    /// membership check [`SearchSpace::feasible`] (L2NAS does, on every discretized candidate;
    /// LayerNAS's prefix bounds over the whole space remain valid bounds for a subset).
    pub fn compiled(&self) -> Result<&CompiledSpace, CompileError> {
        self.compiled.get_or_init(|| CompiledSpace::new(self.space.clone(), Backend::Jit, &self.extra).map_err(|e| CompileError(Arc::new(e)))).as_ref().map_err(|e| e.clone())
    }

    /// The compiled space (read-only access for reports and tests).
    pub fn inner(&self) -> &Space {
        &self.space
    }
    pub fn name(&self) -> &str {
        self.space.name()
    }
    pub fn num_decisions(&self) -> usize {
        self.space.decisions().len()
    }
    /// Names of the metrics [`SearchSpace::metrics`] returns.
    pub fn metric_names(&self) -> &[String] {
        &self.metric_names
    }
    /// A spec parameter or constant (e.g. `classes`), if numeric.
    pub fn constant(&self, name: &str) -> Option<f64> {
        self.space.consts().get(name).copied()
    }

    /// A uniform random valid candidate (feasibility not checked); in a restricted space a
    /// uniform member.
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> Candidate {
        match &self.allowed {
            None => self.space.sample_one(rng),
            Some(a) => a[rng.below(a.len() as u64) as usize].clone(),
        }
    }

    /// Whether every constraint (the spec's and the run's) holds, and `c` is in the restriction.
    #[inline]
    pub fn feasible(&self, c: &Candidate) -> bool {
        self.is_member(c) && (!self.constrained || self.space.feasible(c, &self.extra))
    }

    /// The candidate in the spec's naming format (the benchmark's key for the zoo specs).
    pub fn display_name(&self, c: &Candidate) -> String {
        self.space.name_of(c)
    }

    /// The canonical genotype string.
    pub fn canonical(&self, c: &Candidate) -> String {
        self.space.canonical(c)
    }

    /// The equivalence key (isomorphic candidates share it).
    pub fn key(&self, c: &Candidate) -> String {
        self.space.key(c)
    }

    /// A valid candidate at edit distance exactly `k` from `c` (None if there is none).
    ///
    /// In a restricted space the neighbor is a member: up to [`RESTRICTED_NEIGHBOR_TRIES`] draws of
    /// the whole space's neighbor are tried; if none is a member, a uniform member at edit
    /// distance exactly `k` is drawn (by a scan of the members), and if there is none either, a
    /// uniform member other than `c` (or `c` itself in a one-member space).
    pub fn neighbor(&self, c: &Candidate, k: usize, rng: &mut Rng) -> Option<Candidate> {
        let Some(a) = &self.allowed else {
            return self.space.neighbor(c, k, rng);
        };
        for _ in 0..RESTRICTED_NEIGHBOR_TRIES {
            match self.space.neighbor(c, k, rng) {
                Some(n) if a.binary_search(&n).is_ok() => return Some(n),
                Some(_) => {}
                None => break,
            }
        }
        let at_k: Vec<usize> = (0..a.len()).filter(|&i| self.edit_distance(c, &a[i]) == k).collect();
        if !at_k.is_empty() {
            return Some(a[at_k[rng.below(at_k.len() as u64) as usize]].clone());
        }
        let others: Vec<usize> = (0..a.len()).filter(|&i| a[i] != *c).collect();
        if others.is_empty() {
            return Some(a[0].clone());
        }
        Some(a[others[rng.below(others.len() as u64) as usize]].clone())
    }

    /// Number of decisions that exist in both candidates and differ.
    pub fn edit_distance(&self, a: &Candidate, b: &Candidate) -> usize {
        self.space.edit_distance(a, b)
    }

    /// Values of the derived metrics (in [`SearchSpace::metric_names`] order).
    pub fn metrics(&self, c: &Candidate) -> Vec<f64> {
        self.space.evaluate(c).into_iter().zip(self.space.metrics()).filter(|(_, m)| m.kind != MetricKind::External).map(|((_, v), _)| v.unwrap_or(f64::NAN)).collect()
    }

    /// Parse a candidate name (naming format or canonical).
    pub fn parse_name(&self, text: &str) -> Result<Candidate, NameError> {
        self.space.parse_name(text)
    }

    /// Number of options of every existing choice decision of `c` (subsets: pool size), for encodings.
    pub fn arities(&self) -> Vec<usize> {
        self.space
            .decisions()
            .iter()
            .map(|d| match &d.kind {
                DecisionKind::Choice { options, .. } => options.len(),
                DecisionKind::Subset { pool, .. } => pool.len(),
            })
            .collect()
    }
}

/// Compact, lossless text form of a candidate's slots (used in checkpoints): slots joined by `.`;
/// `-` absent, `N` an option index, `mHEX` a subset bitmask.
pub fn encode(c: &Candidate) -> String {
    let mut s = String::with_capacity(c.0.len() * 2);
    for (i, slot) in c.0.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        match slot {
            Slot::Absent => s.push('-'),
            Slot::Opt(v) => s.push_str(&v.to_string()),
            Slot::Members(m) => {
                s.push('m');
                s.push_str(&format!("{m:x}"));
            }
        }
    }
    s
}

/// Inverse of [`encode`].
pub fn decode(text: &str) -> Result<Candidate, DecodeError> {
    if text.is_empty() {
        return Ok(Candidate(Vec::new()));
    }
    text.split('.')
        .map(|p| {
            if p == "-" {
                Ok(Slot::Absent)
            } else if let Some(h) = p.strip_prefix('m') {
                u64::from_str_radix(h, 16).map(Slot::Members).map_err(|_| DecodeError { slot: p.to_string() })
            } else {
                p.parse::<u32>().map(Slot::Opt).map_err(|_| DecodeError { slot: p.to_string() })
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Candidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn encode_roundtrip() {
        let c = Candidate(vec![Slot::Opt(3), Slot::Absent, Slot::Members(0xf0), Slot::Opt(0)]);
        assert_eq!(encode(&c), "3.-.mf0.0");
        assert_eq!(decode(&encode(&c)).unwrap(), c);
    }
    #[test]
    fn constraint_parses() {
        assert!(parse_constraint("flops <= 120M").is_ok());
        assert!(parse_constraint("params in 1M..5M").is_ok());
        assert!(parse_constraint("flops <=").is_err());
        assert!(parse_constraint("a; constraint b").is_err());
        assert!(parse_constraint("flops <= 120M && params > 1 div 2").is_ok());
        assert!(parse_constraint("!(flops > 1M) || params in 1..=4").is_ok());
        for (bad, why) in [
            ("params", "not a condition"),
            ("params + 1", "not a condition"),
            ("flops <= 1M && params", "not a condition"),
            ("flops < 1 div 0", "divides by zero"),
            ("flops < 2 * (3 % 0)", "divides by zero"),
            ("flops < 1 / 0", "divides by zero"),
            ("flops <= \"abc\"", "is a string"),
            ("flops in [\"a\"]", "is a string"),
        ] {
            let e = parse_constraint(bad).err().unwrap_or_else(|| panic!("`{bad}` accepted")).to_string();
            assert!(e.contains(why) && e.starts_with(&format!("constraint `{bad}`")), "{bad}: {e}");
        }
    }
}

//! A run's objectives: which values of a trial are maximized or minimized, and how a
//! multi-objective run becomes one reward for a single-objective strategy.
//!
//! The objectives come from the spec's `maximize`/`minimize` items, or from `--objective`
//! (`max:reward,min:flops`), which replaces them. A spec without either has one objective, the
//! evaluator's reward. Names an objective may use:
//! - `reward`: the evaluator's reward, and `reported`: its reported value;
//! - any metric of the run, in the runner's metric order: the space's derived metrics (params,
//!   flops, lookups, expressions) and then the evaluator's metrics (`valid_acc`, `train_time_s`);
//! - the spec's first external metric (`metric accuracy = external;`) stands for the reward
//!   unless the evaluator reports a metric of that name; any other external metric must be one the
//!   evaluator reports.
//!
//! Unknown names are refused up front with the known names and a did-you-mean.
//!
//! `--scalarize` turns several objectives into one reward for a single-objective strategy:
//! - `sum:1*reward-1e-9*flops`: a weighted sum of raw values (maximized; the signs say which way
//!   each value should go); a term is `[+|-][WEIGHT*]NAME`, weights take `K`/`M`/`G` suffixes;
//! - `cap:flops<=100M[,params<1M...]`: hard caps; the reward is the one objective no cap names
//!   (oriented: a minimized one negated), and a trial that breaks a cap is told as failed.
//!
//! Objective vectors are oriented so that every entry is maximized (minimized values negated),
//! as [`crate::pareto`] expects.
use crate::error::{ObjectiveError, ScalarizeError};
use nasc_compiler::metrics::MetricKind;
use nasc_compiler::Space;
use nasc_grammar::ast::Direction;
use serde_json::{json, Value};

/// Which way an objective goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sense {
    Max,
    Min,
}

impl Sense {
    pub fn word(self) -> &'static str {
        match self {
            Sense::Max => "max",
            Sense::Min => "min",
        }
    }
    /// The value as maximized: minimized values negated (its own inverse).
    pub fn orient(self, v: f64) -> f64 {
        match self {
            Sense::Max => v,
            Sense::Min => -v,
        }
    }
}

/// Where a named value of a trial comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Reward,
    Reported,
    /// Index into the trial's metrics (the runner's metric order).
    Metric(usize),
}

/// One objective: a name as the user wrote it, its direction and its source.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub name: String,
    pub sense: Sense,
    pub source: Source,
}

impl Objective {
    /// The raw value of an oriented one (a minimized objective's negation undone).
    pub fn raw(&self, oriented: f64) -> f64 {
        self.sense.orient(oriented)
    }
    /// `max:NAME` / `min:NAME`, the form `--objective` takes and the store keeps.
    pub fn text(&self) -> String {
        format!("{}:{}", self.sense.word(), self.name)
    }
}

/// How the names of a run resolve to a trial's values.
#[derive(Debug, Clone)]
pub struct Names {
    /// The run's metric names, in the order of a trial's metrics.
    pub metrics: Vec<String>,
    /// The spec's external metric that stands for the reward (its first external metric, when
    /// the evaluator reports no metric of that name).
    pub reward_alias: Option<String>,
    /// The spec's other external metrics (refused unless the evaluator reports them).
    pub unreported: Vec<String>,
}

impl Names {
    /// The names of a run over `space` whose trials carry `metrics` (the runner's metric names).
    pub fn new(space: &Space, metrics: &[String]) -> Self {
        let external: Vec<&str> = space.metrics().iter().filter(|m| m.kind == MetricKind::External).map(|m| m.name.as_str()).collect();
        let mut reward_alias = None;
        let mut unreported = Vec::new();
        for (k, e) in external.iter().enumerate() {
            if metrics.iter().any(|m| m == e) || *e == "reward" || *e == "reported" {
                continue;
            }
            if k == 0 {
                reward_alias = Some(e.to_string());
            } else {
                unreported.push(e.to_string());
            }
        }
        Names { metrics: metrics.to_vec(), reward_alias, unreported }
    }

    /// Names without a spec (tests, tools): `reward`, `reported` and `metrics`.
    pub fn plain(metrics: &[String]) -> Self {
        Names { metrics: metrics.to_vec(), reward_alias: None, unreported: Vec::new() }
    }

    /// Every name an objective may use, in a stable order.
    pub fn known(&self) -> Vec<&str> {
        let mut v = vec!["reward", "reported"];
        v.extend(self.reward_alias.as_deref());
        v.extend(self.metrics.iter().map(String::as_str).filter(|m| *m != "reward" && *m != "reported"));
        v
    }

    /// The source of `name`, or an error listing the known names.
    pub fn resolve(&self, name: &str, evaluator: &str) -> Result<Source, ObjectiveError> {
        if let Some(i) = self.metrics.iter().position(|m| m == name) {
            return Ok(Source::Metric(i));
        }
        match name {
            "reward" => return Ok(Source::Reward),
            "reported" => return Ok(Source::Reported),
            _ => {}
        }
        if self.reward_alias.as_deref() == Some(name) {
            return Ok(Source::Reward);
        }
        let known = self.known();
        if self.unreported.iter().any(|u| u == name) {
            return Err(ObjectiveError::Unreported { name: name.to_string(), evaluator: evaluator.to_string(), known: known.iter().map(|k| k.to_string()).collect() });
        }
        let suggestion = nasc_grammar::diag::did_you_mean(name, known.iter().copied()).map(|s| s.to_string());
        Err(ObjectiveError::Unknown { name: name.to_string(), known: known.iter().map(|k| k.to_string()).collect(), suggestion })
    }
}

/// `--scalarize`: how several objectives become one reward.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalarize {
    /// Maximize the sum of weight x raw value.
    Sum(Vec<(f64, String, Source)>),
    /// Hard caps (name, source, op, bound); the reward is objective `primary` (oriented).
    Cap { caps: Vec<(String, Source, CapOp, f64)>, primary: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapOp {
    Le,
    Lt,
    Ge,
    Gt,
}

impl CapOp {
    fn holds(self, v: f64, b: f64) -> bool {
        match self {
            CapOp::Le => v <= b,
            CapOp::Lt => v < b,
            CapOp::Ge => v >= b,
            CapOp::Gt => v > b,
        }
    }
    fn text(self) -> &'static str {
        match self {
            CapOp::Le => "<=",
            CapOp::Lt => "<",
            CapOp::Ge => ">=",
            CapOp::Gt => ">",
        }
    }
}

/// The objectives of a run and its optional scalarization.
#[derive(Debug, Clone, PartialEq)]
pub struct Objectives {
    pub list: Vec<Objective>,
    pub scalarize: Option<Scalarize>,
    /// The `--scalarize` text as given (kept with the run).
    pub scalarize_text: Option<String>,
}

/// Parse `max:reward,min:flops` (also `maximize:`/`minimize:`; whitespace around items ignored).
pub fn parse_list(text: &str) -> Result<Vec<(Sense, String)>, ObjectiveError> {
    let mut out: Vec<(Sense, String)> = Vec::new();
    for item in text.split(',').map(str::trim) {
        let Some((dir, name)) = item.split_once(':') else {
            return Err(ObjectiveError::NotAnItem { item: item.to_string() });
        };
        let sense = match dir.trim().to_lowercase().as_str() {
            "max" | "maximize" => Sense::Max,
            "min" | "minimize" => Sense::Min,
            d => return Err(ObjectiveError::Direction { item: item.to_string(), direction: d.to_string() }),
        };
        let name = name.trim();
        if !valid_name(name) {
            return Err(ObjectiveError::NotAName { item: item.to_string(), name: name.to_string() });
        }
        if out.iter().any(|(_, n)| n == name) {
            return Err(ObjectiveError::GivenTwice { name: name.to_string() });
        }
        out.push((sense, name.to_string()));
    }
    Ok(out)
}

fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_') && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// A number with an optional `K`/`M`/`G` suffix (as in specs and `--constraint`).
fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    let (body, scale) = match s.chars().last()? {
        'K' => (&s[..s.len() - 1], 1e3),
        'M' => (&s[..s.len() - 1], 1e6),
        'G' => (&s[..s.len() - 1], 1e9),
        _ => (s, 1.0),
    };
    let v: f64 = body.replace('_', "").parse().ok()?;
    (v * scale).is_finite().then_some(v * scale)
}

impl Objectives {
    /// The run's objectives: `override_text` (`--objective`) if given, else the spec's
    /// `maximize`/`minimize` items, else `max:reward`; `scalarize` is `--scalarize`.
    pub fn new(space: &Space, names: &Names, evaluator: &str, override_text: Option<&str>, scalarize: Option<&str>) -> Result<Self, ObjectiveError> {
        let items: Vec<(Sense, String)> = match override_text {
            Some(t) => parse_list(t)?,
            None => space.objectives().iter().map(|(d, n)| (if *d == Direction::Minimize { Sense::Min } else { Sense::Max }, n.clone())).collect(),
        };
        Self::from_items(items, names, evaluator, scalarize)
    }

    /// The objectives from (direction, name) items (none: `max:reward`).
    pub fn from_items(mut items: Vec<(Sense, String)>, names: &Names, evaluator: &str, scalarize: Option<&str>) -> Result<Self, ObjectiveError> {
        if items.is_empty() {
            items.push((Sense::Max, "reward".into()));
        }
        let mut list: Vec<Objective> = Vec::new();
        for (sense, name) in items {
            let source = names.resolve(&name, evaluator)?;
            if let Some(o) = list.iter().find(|o| o.source == source) {
                return Err(ObjectiveError::SameValue { first: o.name.clone(), second: name });
            }
            list.push(Objective { name, sense, source });
        }
        let mut o = Objectives { list, scalarize: None, scalarize_text: None };
        if let Some(t) = scalarize {
            o.scalarize = Some(o.parse_scalarize(t, names, evaluator)?);
            o.scalarize_text = Some(t.trim().to_string());
        }
        Ok(o)
    }

    fn parse_scalarize(&self, text: &str, names: &Names, evaluator: &str) -> Result<Scalarize, ObjectiveError> {
        let bad = |why: ScalarizeError| ObjectiveError::Scalarize { text: text.to_string(), why };
        let name_err = |e: ObjectiveError| bad(ScalarizeError::Name(Box::new(e)));
        let (kind, body) = text.trim().split_once(':').ok_or_else(|| bad(ScalarizeError::Syntax))?;
        match kind.trim() {
            "sum" => {
                let mut terms = Vec::new();
                for (sign, term) in split_terms(body).map_err(bad)? {
                    let (w, name) = match term.split_once('*') {
                        Some((w, n)) => (number(w).ok_or_else(|| bad(ScalarizeError::Weight { weight: w.trim().to_string() }))?, n.trim()),
                        None => (1.0, term.trim()),
                    };
                    let source = names.resolve(name, evaluator).map_err(name_err)?;
                    terms.push((sign * w, name.to_string(), source));
                }
                if terms.is_empty() {
                    return Err(bad(ScalarizeError::NoTerms));
                }
                Ok(Scalarize::Sum(terms))
            }
            "cap" => {
                let mut caps = Vec::new();
                for item in body.split(',').map(str::trim) {
                    let (op, at) = [("<=", CapOp::Le), (">=", CapOp::Ge), ("<", CapOp::Lt), (">", CapOp::Gt)]
                        .iter()
                        .find_map(|(s, op)| item.find(s).map(|i| (*op, (i, s.len()))))
                        .ok_or_else(|| bad(ScalarizeError::CapSyntax { item: item.to_string() }))?;
                    let name = item[..at.0].trim();
                    let bound =
                        number(&item[at.0 + at.1..]).ok_or_else(|| bad(ScalarizeError::CapBound { item: item.to_string(), bound: item[at.0 + at.1..].trim().to_string() }))?;
                    let source = names.resolve(name, evaluator).map_err(name_err)?;
                    caps.push((name.to_string(), source, op, bound));
                }
                let free: Vec<usize> = (0..self.list.len()).filter(|&i| !caps.iter().any(|c| c.1 == self.list[i].source)).collect();
                match free.as_slice() {
                    [p] => Ok(Scalarize::Cap { caps, primary: *p }),
                    [] => Err(bad(ScalarizeError::AllCapped)),
                    more => Err(bad(ScalarizeError::Uncapped { uncapped: more.iter().map(|&i| self.list[i].name.clone()).collect() })),
                }
            }
            k => Err(bad(ScalarizeError::Unknown { kind: k.to_string() })),
        }
    }

    /// Whether a strategy sees several objectives (more than one and no scalarization).
    pub fn is_multi(&self) -> bool {
        self.list.len() > 1 && self.scalarize.is_none()
    }

    /// Whether the objectives are the default (the evaluator's reward, maximized, unscalarized).
    pub fn is_default(&self) -> bool {
        self.scalarize.is_none() && self.list.len() == 1 && self.list[0].sense == Sense::Max && self.list[0].source == Source::Reward
    }

    /// `max:NAME` items, as the store keeps them.
    pub fn texts(&self) -> Vec<String> {
        self.list.iter().map(Objective::text).collect()
    }

    /// The form the store keeps: every objective with its name, direction and source (a metric
    /// by name), and the `--scalarize` text; read back by [`Objectives::from_json`] without the
    /// spec.
    pub fn to_json(&self, metric_names: &[String]) -> Value {
        let list: Vec<Value> = self
            .list
            .iter()
            .map(|o| {
                let source = match o.source {
                    Source::Reward => json!("reward"),
                    Source::Reported => json!("reported"),
                    Source::Metric(i) => json!({"metric": metric_names.get(i)}),
                };
                json!({"name": o.name, "sense": o.sense.word(), "source": source})
            })
            .collect();
        json!({"objectives": list, "scalarize": self.scalarize_text})
    }

    /// Objectives stored by [`Objectives::to_json`], for a run whose trials carry `metric_names`.
    pub fn from_json(v: &Value, metric_names: &[String]) -> Result<Self, ObjectiveError> {
        let bad = || ObjectiveError::Stored { stored: v.to_string() };
        let mut items = Vec::new();
        let mut alias = None;
        for o in v.get("objectives").and_then(Value::as_array).ok_or_else(bad)? {
            let name = o.get("name").and_then(Value::as_str).ok_or_else(bad)?;
            let sense = match o.get("sense").and_then(Value::as_str) {
                Some("max") => Sense::Max,
                Some("min") => Sense::Min,
                _ => return Err(bad()),
            };
            let source = o.get("source").ok_or_else(bad)?;
            let resolved = match source.as_str() {
                Some("reward") => {
                    if name != "reward" {
                        alias = Some(name.to_string());
                    }
                    name.to_string()
                }
                Some("reported") => "reported".to_string(),
                Some(_) => return Err(bad()),
                None => source.get("metric").and_then(Value::as_str).ok_or_else(bad)?.to_string(),
            };
            items.push((sense, name.to_string(), resolved));
        }
        let names = Names { metrics: metric_names.to_vec(), reward_alias: alias, unreported: Vec::new() };
        let mut list = Vec::new();
        for (sense, name, resolved) in items {
            list.push(Objective { source: names.resolve(&resolved, "")?, name, sense });
        }
        let mut o = Objectives { list, scalarize: None, scalarize_text: None };
        if let Some(t) = v.get("scalarize").and_then(Value::as_str) {
            o.scalarize = Some(o.parse_scalarize(t, &names, "")?);
            o.scalarize_text = Some(t.to_string());
        }
        Ok(o)
    }

    /// The objectives a run was stored with (stores without: the evaluator's reward).
    pub fn of_run(m: &crate::store::RunMeta) -> Result<Self, ObjectiveError> {
        match &m.objectives {
            Some(v) => Objectives::from_json(v, &m.metric_names),
            None => Objectives::from_items(vec![], &Names::plain(&m.metric_names), &m.evaluator, None),
        }
    }

    /// Parse a hypervolume reference point `NAME=VALUE,...` (one value per objective, raw, with
    /// `K`/`M`/`G` suffixes), in objective order.
    pub fn parse_reference(&self, text: &str) -> Result<Vec<f64>, ObjectiveError> {
        let mut out = vec![None; self.list.len()];
        for item in text.split(',').map(str::trim) {
            let (name, v) = item.split_once('=').ok_or_else(|| ObjectiveError::ReferenceItem { item: item.to_string(), example: self.list[0].name.clone() })?;
            let name = name.trim();
            let Some(k) = self.list.iter().position(|o| o.name == name) else {
                let names: Vec<&str> = self.list.iter().map(|o| o.name.as_str()).collect();
                let suggestion = nasc_grammar::diag::did_you_mean(name, names.iter().copied()).map(|s| s.to_string());
                return Err(ObjectiveError::ReferenceName {
                    item: item.to_string(),
                    name: name.to_string(),
                    objectives: names.iter().map(|n| n.to_string()).collect(),
                    suggestion,
                });
            };
            out[k] = Some(number(v).ok_or_else(|| ObjectiveError::ReferenceValue { item: item.to_string(), value: v.trim().to_string() })?);
        }
        out.iter()
            .zip(&self.list)
            .map(|(v, o)| v.ok_or_else(|| ObjectiveError::ReferenceMissing { text: text.to_string(), name: o.name.clone(), objectives: self.texts() }))
            .collect()
    }

    /// Refuse a single-objective strategy on a multi-objective run.
    pub fn check_strategy(&self, strategy: &str) -> Result<(), ObjectiveError> {
        let short = crate::strategy::canonical(strategy)?;
        if self.is_multi() && !crate::strategy::MULTI_OBJECTIVE.contains(&short) {
            return Err(ObjectiveError::SingleObjective {
                strategy: short.to_string(),
                objectives: self.texts(),
                names: self.list.iter().map(|o| o.name.clone()).collect(),
                multi: crate::strategy::MULTI_OBJECTIVE.to_vec(),
            });
        }
        Ok(())
    }

    /// The objective vector of a trial (every entry maximized: minimized values negated), or
    /// None when a value is missing or not finite (a failed trial).
    pub fn vector(&self, reward: Option<f64>, reported: Option<f64>, metrics: &[f64]) -> Option<Vec<f64>> {
        self.list.iter().map(|o| value(o.source, reward, reported, metrics).map(|v| o.sense.orient(v))).collect()
    }

    /// The reward a single-objective strategy is told: the scalarization if any, else the one
    /// objective (oriented), else (several objectives) the evaluator's reward. None: a failed
    /// trial, or one that breaks a cap.
    pub fn scalar(&self, reward: Option<f64>, reported: Option<f64>, metrics: &[f64]) -> Option<f64> {
        match &self.scalarize {
            Some(Scalarize::Sum(terms)) => {
                let mut s = 0.0;
                for (w, _, src) in terms {
                    s += w * value(*src, reward, reported, metrics)?;
                }
                s.is_finite().then_some(s)
            }
            Some(Scalarize::Cap { caps, primary }) => {
                for (_, src, op, b) in caps {
                    if !op.holds(value(*src, reward, reported, metrics)?, *b) {
                        return None;
                    }
                }
                let o = &self.list[*primary];
                value(o.source, reward, reported, metrics).map(|v| o.sense.orient(v))
            }
            None if self.list.len() == 1 => {
                let o = &self.list[0];
                value(o.source, reward, reported, metrics).map(|v| o.sense.orient(v))
            }
            None => reward,
        }
    }

    /// Caps on the space's own metrics, as `--constraint` texts (they are known before a trial
    /// is evaluated, so a runner may skip candidates that break them). `n_space` is the number of
    /// the run's leading metrics that are the space's.
    pub fn cap_constraints(&self, n_space: usize) -> Vec<String> {
        match &self.scalarize {
            Some(Scalarize::Cap { caps, .. }) => {
                caps.iter().filter(|(_, src, _, _)| matches!(src, Source::Metric(i) if *i < n_space)).map(|(n, _, op, b)| format!("{n} {} {b}", op.text())).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// The largest front whose exact hypervolume a report computes with 4 objectives (HSO's cost
/// grows about as front^3 there: 1,500 points take 0.4 s), and with 5 or more.
pub const MAX_HV_FRONT: [usize; 2] = [2_000, 300];

fn value(src: Source, reward: Option<f64>, reported: Option<f64>, metrics: &[f64]) -> Option<f64> {
    let v = match src {
        Source::Reward => reward?,
        Source::Reported => reported?,
        Source::Metric(i) => *metrics.get(i)?,
    };
    v.is_finite().then_some(v)
}

/// Split `1*reward-1e-9*flops` into signed terms (a sign inside a number's exponent is not a
/// separator).
fn split_terms(body: &str) -> Result<Vec<(f64, String)>, ScalarizeError> {
    let mut out = Vec::new();
    let mut sign = 1.0;
    let mut seen_sign = false;
    let mut cur = String::new();
    let chars: Vec<char> = body.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let numeric = !cur.trim().is_empty() && cur.trim().chars().all(|x| x.is_ascii_digit() || matches!(x, '.' | 'e' | 'E' | '_'));
        let exponent = i >= 2 && matches!(chars[i - 1], 'e' | 'E') && chars[i - 2].is_ascii_digit() && numeric;
        if (c == '+' || c == '-') && !exponent {
            if !cur.trim().is_empty() {
                out.push((sign, cur.trim().to_string()));
            } else if seen_sign || !out.is_empty() {
                return Err(ScalarizeError::TwoSigns);
            }
            sign = if c == '-' { -1.0 } else { 1.0 };
            seen_sign = true;
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if cur.trim().is_empty() {
        return Err(ScalarizeError::MissingTerm);
    }
    out.push((sign, cur.trim().to_string()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names { metrics: vec!["params".into(), "flops".into(), "valid_acc".into()], reward_alias: Some("accuracy".into()), unreported: vec!["latency".into()] }
    }
    fn objs(o: &str, s: Option<&str>) -> Result<Objectives, ObjectiveError> {
        Objectives::from_items(parse_list(o)?, &names(), "ev", s)
    }

    #[test]
    fn parse_and_resolve() {
        let o = objs("max:accuracy, min:flops", None).unwrap();
        assert_eq!(o.list[0].source, Source::Reward);
        assert_eq!(o.list[1].source, Source::Metric(1));
        assert_eq!(o.texts(), vec!["max:accuracy", "min:flops"]);
        assert!(o.is_multi() && !o.is_default());
        assert_eq!(o.vector(Some(90.0), Some(1.0), &[5.0, 100.0, 3.0]), Some(vec![90.0, -100.0]));
        assert_eq!(o.vector(None, None, &[5.0, 100.0, f64::NAN]), None);
        assert_eq!(o.scalar(Some(90.0), None, &[5.0, 100.0, 3.0]), Some(90.0));
        assert!(Objectives::from_items(vec![], &names(), "ev", None).unwrap().is_default());
        let single = objs("min:params", None).unwrap();
        assert_eq!(single.scalar(Some(90.0), None, &[5.0, 100.0, 3.0]), Some(-5.0));
    }

    #[test]
    fn bad_objectives_are_refused_with_help() {
        let e = objs("max:acuracy", None).unwrap_err().to_string();
        assert!(e.contains("unknown objective `acuracy`") && e.contains("did you mean `accuracy`?") && e.contains("flops"), "{e}");
        assert!(objs("max:latency", None).unwrap_err().to_string().contains("not reported by the evaluator `ev`"));
        assert!(objs("up:reward", None).unwrap_err().to_string().contains("direction `up`"));
        assert!(objs("reward", None).unwrap_err().to_string().contains("expected `max:NAME`"));
        assert!(objs("max:reward,min:reward", None).unwrap_err().to_string().contains("given twice"));
        assert!(objs("max:reward,max:accuracy", None).unwrap_err().to_string().contains("same value"));
        assert!(objs("max:", None).unwrap_err().to_string().contains("not a metric name"));
    }

    #[test]
    fn weighted_sum() {
        let o = objs("max:reward,min:flops", Some("sum:1*reward-1e-9*flops")).unwrap();
        assert!(!o.is_multi());
        let v = o.scalar(Some(90.0), None, &[0.0, 2e9, 0.0]).unwrap();
        assert!((v - 88.0).abs() < 1e-9, "{v}");
        let o = objs("max:reward,min:flops", Some("sum: reward - 2K*params + 1E+1 * valid_acc")).unwrap();
        assert_eq!(o.scalar(Some(1.0), None, &[1.0, 0.0, 1.0]), Some(1.0 - 2000.0 + 10.0));
        for (bad, why) in [
            ("sum:", "a term is missing"),
            ("sum:reward+", "a term is missing"),
            ("sum:reward+-flops", "two signs"),
            ("sum:x*reward", "`x` is not a number"),
            ("sum:reward+flop", "did you mean `flops`"),
            ("avg:reward", "unknown scalarization `avg`"),
            ("reward", "expected `sum:"),
        ] {
            let e = objs("max:reward,min:flops", Some(bad)).unwrap_err().to_string();
            assert!(e.contains(why) && e.starts_with("--scalarize `"), "{bad}: {e}");
        }
    }

    #[test]
    fn hard_cap() {
        let o = objs("max:reward,min:flops", Some("cap:flops<=100M")).unwrap();
        assert_eq!(o.scalar(Some(90.0), None, &[0.0, 1e8, 0.0]), Some(90.0));
        assert_eq!(o.scalar(Some(90.0), None, &[0.0, 1.5e8, 0.0]), None);
        assert_eq!(o.cap_constraints(2), vec!["flops <= 100000000"]);
        assert_eq!(o.cap_constraints(1), Vec::<String>::new());
        let o = objs("max:reward,min:flops", Some("cap:reward>=90")).unwrap();
        assert_eq!(o.scalar(Some(91.0), None, &[0.0, 7.0, 0.0]), Some(-7.0));
        assert_eq!(o.scalar(Some(89.0), None, &[0.0, 7.0, 0.0]), None);
        assert!(objs("max:reward,min:flops", Some("cap:flops<=1M,reward>1")).unwrap_err().to_string().contains("every objective is capped"));
        assert!(objs("max:reward,min:flops,min:params", Some("cap:flops<=1M")).unwrap_err().to_string().contains("2 objectives are left uncapped (`reward`, `params`)"));
        assert!(objs("max:reward,min:flops", Some("cap:flops=1")).unwrap_err().to_string().contains("expected NAME<=BOUND"));
        assert!(objs("max:reward,min:flops", Some("cap:flops<=lots")).unwrap_err().to_string().contains("`lots` is not a number"));
    }

    #[test]
    fn stored_objectives_read_back() {
        let n = names().metrics;
        for (o, s) in [("max:accuracy,min:flops", None), ("max:reported,min:params", Some("sum:reward-1e-9*flops")), ("max:reward,min:flops", Some("cap:flops<=1M"))] {
            let a = objs(o, s).unwrap();
            let j = a.to_json(&n);
            let text = j.to_string();
            let b = Objectives::from_json(&serde_json::from_str(&text).unwrap(), &n).unwrap();
            assert_eq!(a, b, "{text}");
        }
        assert!(Objectives::from_json(&json!({"objectives": [{"name": "x", "sense": "up", "source": "reward"}]}), &n).is_err());
        let o = objs("max:accuracy,min:flops", None).unwrap();
        assert_eq!(o.parse_reference("flops=222.32M, accuracy=80").unwrap(), vec![80.0, 222.32e6]);
        assert!(o.parse_reference("accuracy=80").unwrap_err().to_string().contains("lacks objective `flops`"));
        assert!(o.parse_reference("flop=1,accuracy=80").unwrap_err().to_string().contains("did you mean `flops`?"));
        assert!(o.parse_reference("flops=x,accuracy=80").unwrap_err().to_string().contains("`x` is not a number"));
        assert!(Objectives::from_json(&json!({"objectives": [{"name": "x", "sense": "max", "source": {"metric": "gone"}}]}), &n).is_err());
    }

    #[test]
    fn strategies_must_handle_several_objectives() {
        let o = objs("max:reward,min:flops", None).unwrap();
        let e = o.check_strategy("re").unwrap_err().to_string();
        assert!(e.contains("strategy `re` optimizes one objective") && e.contains("nsga2") && e.contains("--scalarize"), "{e}");
        assert!(o.check_strategy("random").is_ok());
        assert!(o.check_strategy("nsga2").is_ok());
        assert!(objs("max:reward,min:flops", Some("cap:flops<=1M")).unwrap().check_strategy("re").is_ok());
        assert!(objs("min:flops", None).unwrap().check_strategy("layernas").is_ok());
    }
}

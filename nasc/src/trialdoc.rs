//! The trial document: what a `command:` evaluator's child reads on stdin (and finds as
//! `trial.json` in its trial folder). Its fields are documented in docs/command.md:
//! `version`, `trial` (id), `seed` (the trial's seed, also `NASC_SEED`), `candidate` (the spec's
//! name format), `genotype` (canonical `decision=option,...`), `decisions` (decision -> option:
//! a number or a name, a list for a subset, null when the decision does not exist), `metrics`
//! (every metric of the space by name; null when undefined), `space` (`name`, `spec_path`,
//! `spec_sha256` of the spec text, `spec_hash` of the text and the `--set` values, `sets`) and
//! `graph` (the network: [`crate::graphdoc::graph_json`]; null with `graph_error` when the
//! candidate's network cannot be built for execution).
use nasc_compiler::decision::{DecisionKind, OptValue};
use nasc_compiler::{Candidate, Slot};
use nasc_runtime::SearchSpace;
use serde_json::{json, Map, Value};

/// Version of the trial document; bumped when a field changes meaning.
pub const VERSION: u64 = 1;

/// What the trial document says about the run's spec (known to `nasc search`, not to a bare
/// evaluator: then the hashes are null).
#[derive(Clone, Debug, Default)]
pub struct SpecInfo {
    pub spec_path: Option<String>,
    /// sha256 of the spec text.
    pub spec_sha256: Option<String>,
    /// The store's spec hash: sha256 of the text and the `--set` values.
    pub spec_hash: Option<String>,
    pub sets: Vec<(String, String)>,
}

fn opt_json(o: &OptValue) -> Value {
    match o {
        OptValue::Int(i) => json!(i),
        OptValue::Float(f) => json!(f),
        OptValue::Bool(b) => json!(b),
        OptValue::Str(s) | OptValue::Op(s) => json!(s),
    }
}

/// Decision name -> its option in `c` (a subset: its members, in pool order; absent: null).
pub fn decisions(space: &SearchSpace, c: &Candidate) -> Value {
    let mut m = Map::new();
    for d in space.inner().decisions() {
        let v = match (&d.kind, c.0.get(d.index()).copied().unwrap_or(Slot::Absent)) {
            (DecisionKind::Choice { options, .. }, Slot::Opt(i)) => options.get(i as usize).map_or(Value::Null, opt_json),
            (DecisionKind::Subset { pool, .. }, Slot::Members(bits)) => Value::Array((0..pool.len()).filter(|j| (bits >> j) & 1 == 1).map(|j| opt_json(&pool[j])).collect()),
            _ => Value::Null,
        };
        m.insert(d.name.clone(), v);
    }
    Value::Object(m)
}

fn num(x: f64) -> Value {
    if !x.is_finite() {
        Value::Null
    } else if x.fract() == 0.0 && x.abs() < 9e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// The trial document of trial `id` (seed `seed`) evaluating `c`.
pub fn document(space: &SearchSpace, id: u64, seed: u64, c: &Candidate, info: &SpecInfo) -> Value {
    let metrics: Map<String, Value> = space.metric_names().iter().cloned().zip(space.metrics(c).into_iter().map(num)).collect();
    let s = space.inner();
    let graph = s.graph_of(c).map_err(crate::error::NetError::from).and_then(|net| crate::netconv::to_kernels(&net).map(|exec| crate::graphdoc::graph_json(&net, &exec)));
    let sets: Map<String, Value> = info.sets.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let mut doc = json!({
        "version": VERSION,
        "trial": id,
        "seed": seed,
        "candidate": space.display_name(c),
        "genotype": space.canonical(c),
        "decisions": decisions(space, c),
        "metrics": metrics,
        "space": {"name": space.name(), "spec_path": info.spec_path, "spec_sha256": info.spec_sha256, "spec_hash": info.spec_hash, "sets": sets},
        "graph": Value::Null,
    });
    match graph {
        Ok(g) => doc["graph"] = g,
        Err(e) => doc["graph_error"] = json!(e.to_string()),
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_fields_agree_with_the_space() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/digits_tiny.nas");
        let Ok((Some(space), _, false)) = crate::commands::load(path, &[]) else { panic!("digits_tiny compiles") };
        let space = SearchSpace::new(space, vec![]).unwrap();
        let c = space.inner().sample(1, 3, &[]).unwrap().remove(0);
        let d = document(&space, 7, 99, &c, &SpecInfo::default());
        assert_eq!((d["trial"].as_u64(), d["seed"].as_u64()), (Some(7), Some(99)));
        assert_eq!(d["genotype"], space.canonical(&c));
        assert_eq!(space.inner().parse_name(d["candidate"].as_str().unwrap()).unwrap(), c);
        assert_eq!(d["graph"]["params"], d["metrics"]["params"]);
        assert_eq!(d["decisions"].as_object().unwrap().len(), space.inner().decisions().len());
        assert!(["plain", "pool", "res"].contains(&d["decisions"]["tail"].as_str().unwrap()), "{}", d["decisions"]);
        assert!(d["decisions"]["kernel[0]"].is_i64());
        assert!(d["space"]["spec_sha256"].is_null());
    }
}

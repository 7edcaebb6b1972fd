//! The report's one-pass summary (report/summary.rs, report/front.rs, svg::Sample) against the
//! same quantities computed from every trial at once: best, top, history, failures, the Pareto
//! front and its hypervolume, the reward-vs-metric front, and the bounded plot sample.
use nasc_compiler::rng::Rng;
use nasc_runtime::budget::Budget;
use nasc_runtime::objective::{Names, Objectives, Sense};
use nasc_runtime::pareto::{front, hypervolume};
use nasc_runtime::report::{Gather, Summary};
use nasc_runtime::store::{RunMeta, StoredRun, StoredTrial};
use nasc_runtime::svg::{pareto_front, Sample, SAMPLE_CAP};
use serde_json::{json, Map, Value};

fn meta(objectives: Option<Value>) -> RunMeta {
    RunMeta {
        spec_path: "x.nas".into(),
        spec_text: String::new(),
        spec_hash: "0".repeat(64),
        space: "x".into(),
        sets: Vec::new(),
        constraints: Vec::new(),
        strategy: "rs".into(),
        strategy_config: Value::Null,
        evaluator: "instant".into(),
        seed: 1,
        workers: 1,
        dedup: false,
        budget: Budget::Trials(1_000_000),
        metric_names: vec!["params".into(), "flops".into()],
        objectives,
    }
}

/// `n` trials: rewards on a coarse grid (ties), about 5% failed, candidates drawn from 400 names
/// (repeats), params and flops loosely anti-correlated with the reward.
fn run(n: u64, objectives: Option<Value>, seed: u64) -> StoredRun {
    let mut rng = Rng::new(seed);
    let trials = (0..n)
        .map(|i| {
            let failed = rng.below(20) == 0;
            let r = rng.below(1000) as f64 / 10.0;
            let params = (r * 1000.0 + rng.below(40_000) as f64).round();
            let flops = (r * 3000.0 + rng.below(90_000) as f64).round();
            let mut metrics = Map::new();
            metrics.insert("params".into(), json!(params));
            metrics.insert("flops".into(), json!(flops));
            StoredTrial {
                id: i,
                seq: i,
                name: format!("c{}", rng.below(400)),
                genotype: String::new(),
                key: None,
                metrics,
                reward: (!failed).then_some(r),
                reported: (!failed).then_some(r - 1.0),
                status: if failed { "failed".into() } else { "ok".into() },
                error: failed.then(|| "boom".to_string()),
                extra: None,
                sim_start: i as f64,
                sim_end: i as f64 + 1.0,
                wall: i as f64 * 0.01,
            }
        })
        .collect();
    StoredRun { meta: meta(objectives), status: "finished".into(), created: 0.0, trials, checkpoint: None }
}

fn objectives_json(items: &[(Sense, &str)]) -> Value {
    let names: Vec<String> = vec!["params".into(), "flops".into()];
    let o = Objectives::from_items(items.iter().map(|(s, n)| (*s, n.to_string())).collect(), &Names::plain(&names), "instant", None).unwrap();
    o.to_json(&names)
}

#[test]
fn best_top_history_and_failures_match_a_sort_of_every_trial() {
    let r = run(20_000, None, 7);
    let s = Summary::of(&r, &Gather::default());
    // best: the highest reward, earliest on ties; history: every strict improvement
    let mut best: Option<&StoredTrial> = None;
    let mut history = Vec::new();
    for t in &r.trials {
        if let Some(x) = t.reward {
            if best.is_none_or(|b| x > b.reward.unwrap()) {
                best = Some(t);
                history.push(t.id);
            }
        }
    }
    assert_eq!(s.best().map(|t| t.id), best.map(|t| t.id));
    assert_eq!(s.improvements.iter().map(|t| t.id).collect::<Vec<_>>(), history);
    // top: sort every trial by (reward desc, seq), keep each candidate's first
    let mut all: Vec<&StoredTrial> = r.trials.iter().filter(|t| t.reward.is_some()).collect();
    all.sort_by(|a, b| b.reward.unwrap().total_cmp(&a.reward.unwrap()).then(a.seq.cmp(&b.seq)));
    let mut seen = std::collections::HashSet::new();
    let top: Vec<u64> = all.into_iter().filter(|t| seen.insert(t.name.clone())).take(10).map(|t| t.id).collect();
    assert_eq!(s.top(10).iter().map(|t| t.id).collect::<Vec<_>>(), top);
    // the latest failures, oldest first, and the counts
    let failed: Vec<u64> = r.trials.iter().filter(|t| t.status != "ok").map(|t| t.id).collect();
    assert_eq!(s.failed as usize, failed.len());
    assert_eq!(s.failures(3).iter().map(|t| t.id).collect::<Vec<_>>(), failed[failed.len() - 3..]);
    assert_eq!(s.failures(10).iter().map(|t| t.id).collect::<Vec<_>>(), failed[failed.len() - 10..]);
    assert_eq!((s.trials, s.sim, s.wall), (20_000, 20_000.0, 19_999.0 * 0.01));
}

#[test]
fn the_front_found_in_one_pass_is_the_front_of_every_trial() {
    // three objectives on 30,000 trials: a large front, so the kept candidates are cut many times
    let o = objectives_json(&[(Sense::Max, "reward"), (Sense::Min, "params"), (Sense::Min, "flops")]);
    for seed in [1, 2] {
        let r = run(30_000, Some(o.clone()), seed);
        let s = Summary::of(&r, &Gather::default());
        let f = s.front(None).unwrap();
        let pts: Vec<Vec<f64>> = r
            .trials
            .iter()
            .map(|t| match t.reward {
                Some(x) => vec![x, -t.metrics["params"].as_f64().unwrap(), -t.metrics["flops"].as_f64().unwrap()],
                None => vec![f64::NAN; 3],
            })
            .collect();
        let want: Vec<u64> = front(&pts).into_iter().map(|i| r.trials[i].id).collect();
        assert!(want.len() > 100, "front of {} trials", want.len());
        assert_eq!(f.front.iter().map(|m| m.id).collect::<Vec<_>>(), want);
        // the default reference point and the hypervolume, bit for bit
        let ok: Vec<&Vec<f64>> = pts.iter().filter(|p| p[0].is_finite()).collect();
        for j in 0..3 {
            let (lo, hi) = ok.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| (l.min(p[j]), h.max(p[j])));
            assert_eq!(f.reference[j], lo - 0.1 * (hi - lo));
        }
        assert_eq!(f.hypervolume, hypervolume(&pts, &f.reference));
        let j = f.json();
        assert_eq!(j["pareto"].as_array().unwrap().len(), want.len());
    }
}

#[test]
fn plot_data_is_bounded_and_exact_where_it_must_be() {
    let o = objectives_json(&[(Sense::Max, "reward"), (Sense::Min, "flops")]);
    let r = run(120_000, Some(o), 3);
    let s = Summary::of(&r, &Gather { all_trials: false, plot_metrics: Some(Vec::new()) });
    let p = s.plots().unwrap();
    // the default plot metrics, each front exact
    assert_eq!(p.metrics.iter().map(|m| m.metric.as_str()).collect::<Vec<_>>(), ["params", "flops"]);
    for m in &p.metrics {
        let all: Vec<(f64, f64)> = r.trials.iter().filter_map(|t| Some((t.metrics[&m.metric].as_f64()?, t.reward?))).collect();
        assert_eq!(m.front(), pareto_front(&all));
        let pts = m.points.points();
        assert!(pts.len() <= SAMPLE_CAP + 4, "{}", pts.len());
        // the sample covers the axes: every extreme point is in it
        let xmax = all.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let ymin = all.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        assert!(pts.iter().any(|p| p.0 == xmax) && pts.iter().any(|p| p.1 == ymin));
    }
    // best-so-far corners: the reward's improvements, then the last trial
    let curve = p.curve();
    assert_eq!(curve.len(), s.improvements.len() + 1);
    assert_eq!(curve.last().unwrap().0, 120_000.0);
    assert_eq!(p.objectives.seen as usize, r.trials.iter().filter(|t| t.reward.is_some()).count());
    // --trials keeps them all
    let every = Summary::of(&r, &Gather { all_trials: true, plot_metrics: None });
    assert_eq!(every.all.as_ref().map(Vec::len), Some(120_000));
    assert!(s.all.is_none());
}

#[test]
fn a_sample_is_every_point_up_to_its_cap_then_uniform_and_seeded() {
    let mut a = Sample::new();
    for i in 0..1000 {
        a.push((i as f64, 1.0));
    }
    assert_eq!(a.points().len(), 1000);
    let (mut b, mut c) = (Sample::new(), Sample::new());
    let n = 4 * SAMPLE_CAP as u64;
    for i in 0..n {
        b.push((i as f64, (i % 7) as f64));
        c.push((i as f64, (i % 7) as f64));
    }
    let (pb, pc) = (b.points(), c.points());
    assert_eq!(pb, pc, "the same points on every run");
    assert!(pb.len() <= SAMPLE_CAP + 4);
    // uniform: about a quarter of the kept points come from each quarter of the stream
    for q in 0..4 {
        let k = pb.iter().filter(|p| (p.0 as u64) * 4 / n == q).count() as f64 / SAMPLE_CAP as f64;
        assert!((k - 0.25).abs() < 0.01, "quarter {q}: {k}");
    }
}

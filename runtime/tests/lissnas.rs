//! LISSNAS: the shrunk space is a subset of the space, its statistics match hand computation,
//! the correlations match known values, the strategy resumes exactly, the shrunk space
//! round-trips through the store into a restricted `SearchSpace`, and every `--space-from`
//! error path is a clear error.
mod common;
use common::*;
use nasc_compiler::rng::Rng;
use nasc_compiler::{Candidate, Slot};
use nasc_runtime::eval::{self, EvalRequest};
use nasc_runtime::predict::{kendall_tau, pearson, OneHot};
use nasc_runtime::shrunk::{save_shrunk_space, SaveOutcome};
use nasc_runtime::store::{load_space_from, spec_hash, SpaceRole, SqliteStore};
use nasc_runtime::strategy::lissnas::{self, stats, LissnasConfig};
use nasc_runtime::strategy::AskCtx;
use nasc_runtime::{strategy, Budget, StopReason};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

fn nb201_rewards(space: &nasc_runtime::SearchSpace) -> HashMap<Candidate, f64> {
    let mut ev = eval::make("nb201:dataset=cifar10,epochs=12", space).unwrap();
    let mut out = HashMap::new();
    // every architecture: 5^6
    for i in 0..15_625u32 {
        let c = Candidate((0..6).map(|d| Slot::Opt(i / 5u32.pow(d) % 5)).collect());
        let r = ev.evaluate(space, &[EvalRequest { id: 0, candidate: &c, seed: 0 }]).pop().unwrap().unwrap();
        out.insert(c, r.reward);
    }
    out
}

#[test]
fn shrunk_space_is_a_sorted_subset_with_a_higher_mean() {
    let (space, _) = space("nb201.nas", &[]);
    let rewards = nb201_rewards(&space);
    let cfg = LissnasConfig::default();
    let mut calls = 0;
    let mut oracle = |c: &Candidate| {
        calls += 1;
        rewards.get(c).copied()
    };
    let sh = lissnas::shrink(&space, &cfg, 3, &mut oracle).unwrap();
    let m = sh.members.clone().expect("NB201 shrinks");
    assert!(m.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    assert!(m.iter().all(|c| rewards.contains_key(c)), "every member is an NB201 cell");
    assert!(m.len() < 15_625 / 4, "shrunk: {}", m.len());
    assert_eq!(calls, sh.queries.len());
    assert!(sh.queries.len() >= cfg.init_queries);
    // iterates while the mean predicted accuracy increases; the last step is the rejected one
    // (or max_iters was reached)
    let acc: Vec<bool> = sh.history.iter().map(|h| h.accepted).collect();
    assert!(acc[0]);
    assert!(acc[..acc.len() - 1].iter().all(|a| *a));
    for h in &sh.history {
        assert_eq!(h.accepted, h.next_mean_pred > h.pool_mean_pred);
    }
    assert_eq!(sh.history[0].pool, cfg.samples);
    // the true mean reward is higher than the whole space's
    let full = rewards.values().sum::<f64>() / rewards.len() as f64;
    let mean = m.iter().map(|c| rewards[c]).sum::<f64>() / m.len() as f64;
    assert!(mean > full + 2.0, "shrunk mean {mean} vs full {full}");
    // deterministic
    let mut oracle = |c: &Candidate| rewards.get(c).copied();
    let again = lissnas::shrink(&space, &cfg, 3, &mut oracle).unwrap();
    assert_eq!(again.members, sh.members);
    assert_eq!(again.history, sh.history);
}

#[test]
fn statistics_by_hand() {
    // a tiny "space" of 5 members with known accuracies
    let acc = [90.0, 80.0, 70.0, 95.0, 60.0];
    let s = stats::space_stats(&acc, 85.0);
    assert_eq!(s.size, 5);
    assert_eq!(s.mean_acc, 79.0);
    assert_eq!(s.max_acc, 95.0);
    assert_eq!(s.p, 0.4);
    // P(X >= 2), X ~ B(10, 0.4) = 1 - 0.6^10 - 10 * 0.4 * 0.6^9
    let want = 1.0 - 0.6f64.powi(10) - 10.0 * 0.4 * 0.6f64.powi(9);
    assert!((s.p_good - want).abs() < 1e-12);
    let full = stats::space_stats(&[90.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0, 20.0, 10.0, 0.0], 85.0);
    assert_eq!(full.p, 0.1);
    let want_full = 1.0 - 0.9f64.powi(10) - 10.0 * 0.1 * 0.9f64.powi(9);
    assert!((full.p_good - want_full).abs() < 1e-12);
    assert!((stats::shrink_index(&full, &s) - (want - want_full)).abs() < 1e-12);
    assert!((stats::binomial_tail(10, 0, 0.3) - 1.0).abs() < 1e-12);
    assert!((stats::binomial_tail(3, 3, 0.5) - 0.125).abs() < 1e-15);
    // nearest-rank quantile: top decile of 1..=10 is 9
    let v: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_eq!(stats::quantile(&v, 0.9), 9.0);
    assert_eq!(stats::quantile(&v, 1.0), 10.0);
    // diversity: three candidates of a 2-decision space with arities 3 and 2
    let enc = OneHot::from_arities(vec![3, 2]);
    let c = |a: u32, b: u32| Candidate(vec![Slot::Opt(a), Slot::Opt(b)]);
    let (max, mean) = stats::cosine_diversity(&enc, &[c(0, 0), c(0, 1), c(1, 1)]);
    // pairs: (00,01) share 1 of 2 -> 0.5; (00,11) share 0 -> 1; (01,11) share 1 -> 0.5
    assert_eq!(max, 1.0);
    assert!((mean - 2.0 / 3.0).abs() < 1e-15);
    // histogram fractions
    assert_eq!(stats::histogram(&[0.0, 1.0, 2.0, 3.0], 0.0, 4.0, 2), vec![0.5, 0.5]);
    assert_eq!(stats::histogram(&[0.0, 4.0], 0.0, 4.0, 4), vec![0.5, 0.0, 0.0, 0.5]);
    let svg = stats::flops_histogram_svg("t", &[1.0, 2.0, 3.0], &[2.0, 3.0], 4);
    assert!(svg.starts_with("<svg") && svg.contains("shrunk (2 archs)"));
}

#[test]
fn correlations_against_known_values() {
    // x = 1..5, y = (3, 4, 1, 2, 5): 6 concordant, 4 discordant pairs -> tau 0.2; Pearson 2/10
    let x = [1.0, 2.0, 3.0, 4.0, 5.0];
    let y = [3.0, 4.0, 1.0, 2.0, 5.0];
    assert!((kendall_tau(&x, &y) - 0.2).abs() < 1e-15);
    assert!((pearson(&x, &y) - 0.2).abs() < 1e-15);
    // tau-b with ties (scipy.stats.kendalltau gives 0.8): 4 concordant, 1 tie in x, 1 in y
    assert!((kendall_tau(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 3.0]) - 0.8).abs() < 1e-15);
    assert_eq!(kendall_tau(&x, &x), 1.0);
    assert_eq!(kendall_tau(&x, &[5.0, 4.0, 3.0, 2.0, 1.0]), -1.0);
    assert!((pearson(&x, &[2.0, 4.0, 6.0, 8.0, 10.0]) - 1.0).abs() < 1e-15);
    assert!(kendall_tau(&x, &[1.0; 5]).is_nan());
    assert!(pearson(&[1.0], &[1.0]).is_nan());
}

#[test]
fn restricted_space_samples_checks_and_stays_inside() {
    let (space, _) = space("nb201.nas", &[]);
    let mut rng = Rng::new(5);
    let members: Vec<Candidate> = (0..30).map(|_| space.sample(&mut rng)).collect();
    let r = space.unrestricted().restrict(members.clone()).unwrap();
    let set: std::collections::HashSet<_> = members.iter().cloned().collect();
    assert_eq!(r.allowed().unwrap().len(), set.len());
    for _ in 0..500 {
        let c = r.sample(&mut rng);
        assert!(set.contains(&c));
        assert!(r.feasible(&c));
        let n = r.neighbor(&c, 1, &mut rng).unwrap();
        assert!(set.contains(&n), "neighbor left the restricted space");
    }
    let outside = (0..).map(|_| space.sample(&mut rng)).find(|c| !set.contains(c)).unwrap();
    assert!(!r.feasible(&outside));
    assert!(space.feasible(&outside));
    // a neighbor at distance 1 inside, when one exists, is at distance 1
    let a = Candidate(vec![Slot::Opt(0); 6]);
    let mut b = a.clone();
    b.0[2] = Slot::Opt(3);
    let mut far = a.clone();
    for s in far.0.iter_mut() {
        *s = Slot::Opt(4);
    }
    let r2 = space.unrestricted().restrict(vec![a.clone(), b.clone(), far.clone()]).unwrap();
    for _ in 0..50 {
        assert_eq!(r2.neighbor(&a, 1, &mut rng).unwrap(), b);
    }
    assert!(space.unrestricted().restrict(vec![]).err().unwrap().to_string().contains("no members"));
    assert!(space.unrestricted().restrict(vec![Candidate(vec![Slot::Opt(9); 6])]).err().unwrap().to_string().contains("not a candidate"));
}

fn lissnas_setup(seed: u64, workers: usize) -> Setup {
    let mut s = Setup::new("nb201.nas", "lissnas", "nb201:dataset=cifar10,epochs=12", seed, Budget::Trials(130));
    // small enough to finish shrinking well inside the budget, so the inner search runs too
    s.strategy_config = json!({"init_queries": 20, "samples": 1000, "seeds": 50, "neighbors": 10, "iter_queries": 5, "max_iters": 6});
    s.cfg.workers = workers;
    s.cfg.commit_every = 7;
    s.cfg.commit_interval = Duration::from_secs(3600);
    s
}

#[test]
fn strategy_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (seed, workers, kill)) in [(1u64, 1usize, 23u64), (2, 3, 61), (4, 1, 101)].into_iter().enumerate() {
        let s = lissnas_setup(seed, workers);
        let full = dir.path().join(format!("full{i}.db"));
        let (reference, sum) = s.run_sqlite(&full);
        assert_eq!(sum.reason, StopReason::Budget);
        assert_eq!(reference.trials.len(), 130);
        let (space, text) = space(s.spec, &[]);
        let path = dir.path().join(format!("killed{i}.db"));
        {
            let mut store = SqliteStore::create(&path, &s.meta(&space, &text)).unwrap();
            let mut r = s.runner(&space, &mut store);
            for _ in 0..kill {
                assert!(r.step().unwrap());
            }
            // dropped: the uncommitted batch is lost
        }
        let (mut store, run) = SqliteStore::resume(&path, &spec_hash(&text, &[])).unwrap();
        s.resume(&space, &mut store, &run).run().unwrap();
        drop(store);
        let resumed = SqliteStore::read(&path).unwrap();
        assert_same(&reference, &resumed, &format!("lissnas setup {i} (kill at {kill})"));
        // the shrinking ended and the inner search ran: the final state holds the shrunk space
        let st = &reference.checkpoint.as_ref().unwrap().1["strategy"];
        let shrunk = lissnas::shrunk_from_state(st).unwrap().expect("shrinking ended").expect("shrunk");
        let q = st["shrinker"]["shrink_asked"].as_u64().unwrap();
        assert!(q > 20 && q < 100, "shrinking asked {q} of 130 trials");
        assert!(shrunk.len() > 130, "the shrunk space is not used up");
        // every trial asked after the shrinking is a new member of the shrunk space
        let set: std::collections::HashSet<String> = shrunk.iter().map(nasc_runtime::space::encode).collect();
        for t in reference.trials.iter().filter(|t| t.id >= q) {
            assert!(set.contains(&t.genotype), "inner trial {} outside the shrunk space", t.id);
        }
    }
}

#[test]
fn asks_are_accepted_and_never_repeat() {
    let (space, _) = space("nas_bench_macro.nas", &[]);
    let mut s = strategy::make("lissnas", &json!({"init_queries": 10, "seeds": 20, "neighbors": 5}), 9).unwrap();
    let mut seen = nasc_runtime::strategy::Seen::default();
    let mut all = std::collections::HashSet::new();
    let mut ev = eval::make("nas-bench-macro", &space).unwrap();
    for _ in 0..300 {
        let mut ctx = AskCtx::new(&space, Some(&mut seen));
        let c = s.ask(&mut ctx, 1);
        assert_eq!(c.len(), 1);
        assert!(all.insert(c[0].clone()), "repeated candidate");
        let r = ev.evaluate(&space, &[EvalRequest { id: 0, candidate: &c[0], seed: 0 }]).pop().unwrap().unwrap();
        s.tell(&[nasc_runtime::strategy::Told { id: 0, candidate: &c[0], reward: Some(r.reward), objectives: None }]);
    }
    // bad configurations are clear errors
    assert!(strategy::make("lissnas", &json!({"inner": "bo"}), 0).err().unwrap().to_string().contains("unknown inner search `bo`"));
    assert!(strategy::make("lissnas", &json!({"init_queries": 1}), 0).err().unwrap().to_string().contains("init_queries"));
    assert!(strategy::make("lissnas", &json!({"edit_fraction": 0}), 0).err().unwrap().to_string().contains("edit_fraction"));
    assert!(strategy::make("lissnas", &json!({"nope": 1}), 0).err().unwrap().to_string().contains("bad `lissnas` strategy config"));
}

fn finished_lissnas_store(dir: &Path, name: &str) -> (std::path::PathBuf, Vec<Candidate>) {
    let s = lissnas_setup(7, 1);
    let path = dir.join(name);
    let (run, _) = s.run_sqlite(&path);
    let (_space, text) = space(s.spec, &[]);
    let (mut store, run2) = SqliteStore::resume(&path, &spec_hash(&text, &[])).unwrap();
    assert_eq!(run.trials.len(), run2.trials.len());
    let out = save_shrunk_space(&mut store, &run2).unwrap();
    let SaveOutcome::Saved(n) = out else { panic!("not saved: {out:?}") };
    let st = &run2.checkpoint.as_ref().unwrap().1["strategy"];
    let members = lissnas::shrunk_from_state(st).unwrap().unwrap().unwrap();
    assert_eq!(n, members.len());
    (path, members)
}

#[test]
fn space_from_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (path, members) = finished_lissnas_store(dir.path(), "liss.db");
    let (space, text) = space("nb201.nas", &[]);
    let saved = SqliteStore::read_space(&path, SpaceRole::Shrunk).unwrap().unwrap();
    assert_eq!(saved.size, members.len());
    assert_eq!(saved.stats["method"], "lissnas");
    assert!(!saved.stats["steps"].as_array().unwrap().is_empty());
    let loaded = load_space_from(&path, &spec_hash(&text, &[])).unwrap();
    assert_eq!(loaded, members);
    // any strategy searches inside it
    let restricted = space.restrict(loaded).unwrap();
    let set: std::collections::HashSet<Candidate> = members.iter().cloned().collect();
    for strat in ["rs", "re"] {
        let mut store = nasc_runtime::store::MemStore::default();
        let st = strategy::make(strat, &serde_json::Value::Null, 3).unwrap();
        let ev = eval::make("nb201:dataset=cifar10,epochs=12", &restricted).unwrap();
        let mut cfg = nasc_runtime::RunConfig::new(3, Budget::Trials(60));
        cfg.space_metrics = false;
        nasc_runtime::Runner::new(&restricted, st, ev, &mut store, cfg).run().unwrap();
        assert_eq!(store.trials.len(), 60);
        assert!(store.trials.iter().all(|t| set.contains(&t.candidate)), "{strat} left the shrunk space");
    }
    // `input` role: saved and read back separately from `shrunk`
    let (mut st, _) = SqliteStore::resume(&path, &spec_hash(&text, &[])).unwrap();
    st.save_space(SpaceRole::Input, "h", &members[..3], &json!({})).unwrap();
    drop(st);
    assert_eq!(SqliteStore::read_space(&path, SpaceRole::Input).unwrap().unwrap().size, 3);
    assert_eq!(SqliteStore::read_space(&path, SpaceRole::Shrunk).unwrap().unwrap().size, members.len());
}

#[test]
fn space_from_error_paths() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = space("nb201.nas", &[]);
    let hash = spec_hash(&text, &[]);
    // no such file
    let e = load_space_from(&dir.path().join("missing.db"), &hash).unwrap_err().to_string();
    assert!(e.contains("no such file"), "{e}");
    // not a nasc store
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, just text").unwrap();
    let e = load_space_from(&junk, &hash).unwrap_err().to_string();
    assert!(e.contains("not a nasc run store") || e.contains("not a database"), "{e}");
    // a store without a shrunk space (an RS run)
    let rs = dir.path().join("rs.db");
    Setup::new("nb201.nas", "rs", "instant", 1, Budget::Trials(5)).run_sqlite(&rs);
    let e = load_space_from(&rs, &hash).unwrap_err().to_string();
    assert!(e.contains("holds no shrunk space"), "{e}");
    // a lissnas run stopped while shrinking saves nothing
    let s = lissnas_setup(7, 1);
    let early = dir.path().join("early.db");
    {
        let (space, text) = space(s.spec, &[]);
        let mut store = SqliteStore::create(&early, &s.meta(&space, &text)).unwrap();
        let mut r = s.runner(&space, &mut store);
        for _ in 0..5 {
            r.step().unwrap();
        }
        r.finish().unwrap();
    }
    let (mut st, run) = SqliteStore::resume(&early, &hash).unwrap();
    assert_eq!(save_shrunk_space(&mut st, &run).unwrap(), SaveOutcome::StillShrinking);
    let e = load_space_from(&early, &hash).unwrap_err().to_string();
    assert!(e.contains("holds no shrunk space"), "{e}");
    // a shrunk space of another spec (here: other `--set` overrides)
    let (path, _) = finished_lissnas_store(dir.path(), "liss.db");
    let other = spec_hash(&text, &[("classes".into(), "100".into())]);
    let e = load_space_from(&path, &other).unwrap_err().to_string();
    assert!(e.contains("made from a different spec"), "{e}");
    // non-lissnas runs: nothing to save
    let (mut st, run) = SqliteStore::resume(&rs, &hash).unwrap();
    assert_eq!(save_shrunk_space(&mut st, &run).unwrap(), SaveOutcome::NotLissnas);
}

/// A budget that ends the shrinking after an accepted step saves the last accepted space,
/// marked incomplete, and `--space-from` can search it (LISSNAS seed 3 at the default budget).
#[test]
fn a_budget_that_ends_the_shrinking_saves_the_last_accepted_space() {
    let dir = tempfile::tempdir().unwrap();
    let (space_, text) = space("nb201.nas", &[]);
    let hash = spec_hash(&text, &[]);
    let mut found = None;
    for budget in (26..=120).step_by(6) {
        let mut s = lissnas_setup(7, 1);
        s.cfg.budget = Budget::Trials(budget);
        let path = dir.path().join(format!("b{budget}.db"));
        s.run_sqlite(&path);
        let (mut st, run) = SqliteStore::resume(&path, &hash).unwrap();
        match save_shrunk_space(&mut st, &run).unwrap() {
            SaveOutcome::SavedPartial { members, accepted } => {
                assert!(accepted >= 1);
                let state = &run.checkpoint.as_ref().unwrap().1["strategy"]["shrinker"];
                assert!(state["result"].is_null(), "still shrinking");
                assert_eq!(state["current"].as_array().unwrap().len(), members);
                drop(st);
                let saved = SqliteStore::read_space(&path, SpaceRole::Shrunk).unwrap().unwrap();
                assert_eq!((saved.size, saved.stats["complete"].as_bool(), saved.stats["accepted_steps"].as_u64()), (members, Some(false), Some(accepted as u64)));
                let loaded = load_space_from(&path, &hash).unwrap();
                assert_eq!(loaded.len(), members);
                assert!(loaded.iter().all(|c| space_.parse_name(&space_.canonical(c)).as_ref() == Ok(c)), "members are candidates of the space");
                found = Some(budget);
                break;
            }
            SaveOutcome::StillShrinking => continue,
            other => panic!("budget {budget}: {other:?} before the partial case was seen"),
        }
    }
    assert!(found.is_some(), "no budget ended the shrinking between two accepted steps");
}

/// The checkpointed state is a serde struct: it round-trips, and a missing key or a damaged
/// candidate is a clear error.
#[test]
fn bad_states_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = finished_lissnas_store(dir.path(), "st.db");
    let run = SqliteStore::read(&path).unwrap();
    let st = run.checkpoint.as_ref().unwrap().1["strategy"].clone();
    let cfg = run.meta.strategy_config.clone();
    let mut s = strategy::make("lissnas", &cfg, 7).unwrap();
    s.restore(&st).unwrap();
    assert_eq!(s.state(), st, "restore then state is the identity");
    let mut missing = st.clone();
    missing["shrinker"].as_object_mut().unwrap().remove("queue");
    assert_eq!(s.restore(&missing).unwrap_err().to_string(), "lissnas state lacks `queue`");
    let mut damaged = st.clone();
    damaged["shrinker"]["asked"][0] = json!("not a genotype");
    assert!(s.restore(&damaged).is_err());
    assert!(s.restore(&json!({"inner_pool": null})).unwrap_err().to_string().contains("lacks `shrinker`"));
}

/// With batched asks (several workers), a shrinking step waits for every result in flight:
/// the strategy asks nothing while a query is unanswered, and each step's predictor is
/// trained on every query asked before it.
#[test]
fn batched_asks_wait_for_results_in_flight() {
    let (space, _) = space("nb201.nas", &[]);
    let cfg = json!({"init_queries": 20, "samples": 1000, "seeds": 50, "neighbors": 10, "iter_queries": 5, "max_iters": 6});
    let mut s = strategy::make("lissnas", &cfg, 3).unwrap();
    let mut ev = eval::make("nb201:dataset=cifar10,epochs=12", &space).unwrap();
    let mut reward = |c: &Candidate| ev.evaluate(&space, &[EvalRequest { id: 0, candidate: c, seed: 0 }]).pop().unwrap().unwrap().reward;
    let tell = |s: &mut Box<dyn strategy::Strategy>, c: &Candidate, r: Option<f64>| s.tell(&[nasc_runtime::strategy::Told { id: 0, candidate: c, reward: r, objectives: None }]);
    // the first batch: the 20 initial queries, nothing more although 64 were asked for
    let first = s.ask(&mut AskCtx::new(&space, None), 64);
    assert_eq!(first.len(), 20);
    for (k, c) in first.iter().enumerate() {
        // one result still out: no step, no extra query
        assert!(s.ask(&mut AskCtx::new(&space, None), 64).is_empty(), "asked with {} results in flight", 20 - k);
        // a failed evaluation counts as answered
        let r = if k == 3 { None } else { Some(reward(c)) };
        tell(&mut s, c, r);
    }
    // every result in: each ask runs the steps it needs, each trained on every successful
    // query asked before it (one failed)
    let history_len = |s: &dyn strategy::Strategy| s.state()["shrinker"]["history"].as_array().unwrap().len();
    let mut asked = 20;
    let mut steps = 0;
    let mut rounds = 0;
    while lissnas::shrunk_from_state(&s.state()).unwrap().is_none() {
        let batch = s.ask(&mut AskCtx::new(&space, None), 64);
        let history = s.state()["shrinker"]["history"].as_array().unwrap().clone();
        for (k, h) in history.iter().enumerate().skip(steps) {
            assert_eq!(h["trained_on"].as_u64().unwrap() as usize, asked - 1, "step {k} trained on results still in flight");
        }
        steps = history.len();
        // the queries of one step at most, never the inner search's while shrinking
        if lissnas::shrunk_from_state(&s.state()).unwrap().is_none() {
            assert!(batch.len() <= 5, "a batch of {} while shrinking", batch.len());
        } else {
            // the shrinking ended inside this ask: the inner search filled the batch
            assert_eq!(batch.len(), 64);
        }
        asked += batch.len();
        for c in &batch {
            let r = reward(c);
            tell(&mut s, c, Some(r));
        }
        rounds += 1;
        assert!(rounds < 50, "the shrinking did not end");
    }
    assert!(history_len(s.as_ref()) >= 2, "only {} steps", history_len(s.as_ref()));
    // once the shrinking ended, a batch is full (the inner search)
    assert_eq!(s.ask(&mut AskCtx::new(&space, None), 64).len(), 64);
}

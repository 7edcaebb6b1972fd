//! POPNASv2 (`runtime/src/strategy/popnas/`): growth from b = 1, equivalence pruning, the Pareto
//! front and the exploration step, PNAS mode, exact resume, config refusals, and the accuracy
//! predictor's gradient by finite differences. The evaluator is a deterministic function of the
//! cell (accuracy from per-op qualities, time from per-op costs), so the test is instant.
mod common;

use nasc_compiler::rng::Rng;
use nasc_compiler::Candidate;
use nasc_runtime::objective::{Objective, Sense, Source};
use nasc_runtime::strategy::popnas::acc_model::{AccNet, Dims, Seq};
use nasc_runtime::strategy::popnas::cell::{self, Block, Layout};
use nasc_runtime::strategy::popnas::{check_objectives, check_space, Popnas, PopnasConfig, State};
use nasc_runtime::strategy::{self, AskCtx, Strategy, Told};
use nasc_runtime::SearchSpace;
use serde_json::{json, Value};
use std::collections::HashSet;

const OPS: &[&str] = &["conv_3x3", "dconv_3x3", "maxpool_2x2", "identity_op"];

fn config(mode: &str) -> Value {
    json!({
        "mode": mode, "blocks": 3, "k": 6, "j": 3, "ops": OPS,
        "predictor": {"folds": 2, "epochs": 4, "embedding": 4, "filters": 4, "cells": 6, "augment": 6},
        "time_predictor": {"trees": 50}
    })
}

/// (accuracy, time) of a cell: ops have a quality and a cost; reading another block adds depth.
fn evaluate(layout: &Layout, c: &Candidate) -> (f64, f64) {
    let cell = layout.cell(c).expect("a cell of the layout");
    let quality = |o: u32| match layout.ops[o as usize].as_str() {
        "conv_3x3" => 0.05,
        "dconv_3x3" => 0.04,
        "maxpool_2x2" => 0.01,
        _ => 0.0,
    };
    let cost = |o: u32| match layout.ops[o as usize].as_str() {
        "conv_3x3" => 3.0,
        "dconv_3x3" => 5.0,
        "maxpool_2x2" => 1.0,
        _ => 0.5,
    };
    let mut acc: f64 = 0.5;
    let mut time = 2.0 + if cell.len() > 1 { cell.len() as f64 } else { 0.0 };
    for b in &cell {
        for (i, o) in [(b.0, b.1), (b.2, b.3)] {
            acc += quality(o) * if i >= 0 { 1.2 } else { 1.0 };
            time += cost(o);
        }
    }
    (acc.min(0.99), time)
}

/// Ask one candidate at a time and tell its result, until the strategy asks nothing or `stop`
/// trials were told; the asked candidates in order.
fn drive(s: &mut dyn Strategy, space: &SearchSpace, layout: &Layout, stop: usize) -> Vec<Candidate> {
    let mut asked = Vec::new();
    while asked.len() < stop {
        let mut ctx = AskCtx::new(space, None);
        let c = s.ask(&mut ctx, 1);
        let Some(c) = c.into_iter().next() else { break };
        let (a, t) = evaluate(layout, &c);
        let obj = [a, -t];
        s.tell(&[Told { id: asked.len() as u64, candidate: &c, reward: Some(a), objectives: Some(&obj) }]);
        asked.push(c);
    }
    asked
}

fn state(s: &dyn Strategy) -> State {
    serde_json::from_value(s.state()).expect("popnas state")
}

#[test]
fn popnas_grows_prunes_explores_and_finishes() {
    let (space, _) = common::space("popnas_cell.nas", &[]);
    let layout = Layout::of(&space).unwrap();
    let mut s = strategy::make("popnas", &config("popnas"), 7).unwrap();
    let asked = drive(s.as_mut(), &space, &layout, 10_000);
    let st = state(s.as_ref());
    assert!(st.finished);
    assert_eq!(st.steps.len(), 3);
    // b = 1: every single-block cell over 4 ops and 2 lookbacks, one per class: 8 * 9 / 2
    let s1 = &st.steps[0];
    assert_eq!((s1.b, s1.trained, s1.encodings, s1.pruned), (1, 36, 64, 28));
    for (k, s) in st.steps.iter().enumerate().skip(1) {
        assert_eq!(s.b, k + 1);
        assert!(s.front >= 1 && s.front <= 6, "{s:?}");
        assert!(s.pruned > 0, "equivalent expansions are pruned: {s:?}");
        assert_eq!(s.candidates + s.pruned, s.encodings);
        assert_eq!(s.trained, s.front + s.exploration);
        assert!(s.acc_spearman.is_some() && s.time_spearman.is_some() && s.time_mape.is_some(), "{s:?}");
    }
    // the exploration step runs before the last step only, and found something to explore here
    assert!(st.steps[1].exploration > 0, "{:?}", st.steps[1]);
    assert_eq!(st.steps[2].exploration, 0);
    // the time predictor ranks this additive time well
    assert!(st.steps[2].time_spearman.unwrap() > 0.8, "{:?}", st.steps[2]);
    // no two trained cells are equivalent; a step's cells have b blocks; candidates are the space's
    let keys: HashSet<String> = asked.iter().map(|c| cell::key(&layout.cell(c).unwrap())).collect();
    assert_eq!(keys.len(), asked.len());
    for e in &st.history {
        assert!(e.cell.len() <= 3);
        let c = layout.candidate(&e.cell, space.num_decisions()).unwrap();
        assert!(space.inner().check_valid(&c).is_ok());
        for b in &e.cell {
            for o in b.ops() {
                assert!(OPS.contains(&layout.ops[o as usize].as_str()));
            }
        }
    }
    assert_eq!(asked.len(), st.steps.iter().map(|s| s.trained).sum::<usize>());
    // the same seed gives the same run; another seed's predictors choose otherwise at some step
    let mut again = strategy::make("popnas", &config("popnas"), 7).unwrap();
    assert_eq!(drive(again.as_mut(), &space, &layout, 10_000), asked);
}

#[test]
fn per_block_time_target_extrapolates_to_more_blocks() {
    // trees fitted on the one-block cells cannot predict past their times: with the paper's
    // target the slowest two-block cells get the slowest one-block cells' times, too low; per
    // block they are predicted on the right scale (measured: MAPE 12.7% vs 2.3%)
    let (space, _) = common::space("popnas_cell.nas", &[]);
    let layout = Layout::of(&space).unwrap();
    let mut mape = Vec::new();
    for target in ["time", "per_block"] {
        let mut cfg = config("popnas");
        cfg["time_target"] = json!(target);
        let mut s = strategy::make("popnas", &cfg, 7).unwrap();
        drive(s.as_mut(), &space, &layout, 10_000);
        let st = state(s.as_ref());
        assert!(st.finished);
        mape.push(st.steps[1].time_mape.unwrap());
    }
    assert!(mape[1] < 0.5 * mape[0], "b = 2 time MAPE, time vs per_block: {mape:?}");
    assert!(mape[1] < 5.0, "{mape:?}");
}

#[test]
fn pnas_mode_trains_the_top_k() {
    let (space, _) = common::space("popnas_cell.nas", &[]);
    let layout = Layout::of(&space).unwrap();
    let mut s = strategy::make("popnas", &config("pnas"), 7).unwrap();
    let asked = drive(s.as_mut(), &space, &layout, 10_000);
    let st = state(s.as_ref());
    assert!(st.finished);
    assert_eq!(asked.len(), 36 + 6 + 6);
    for s in &st.steps[1..] {
        assert_eq!((s.front, s.exploration, s.trained), (6, 0, 6));
        assert!(s.explore_ops.is_empty() && s.explore_inputs.is_empty());
    }
}

#[test]
fn resume_continues_exactly() {
    let (space, _) = common::space("popnas_cell.nas", &[]);
    let layout = Layout::of(&space).unwrap();
    let mut whole = strategy::make("popnas", &config("popnas"), 3).unwrap();
    let reference = drive(whole.as_mut(), &space, &layout, 10_000);
    // stop inside b = 1, at the step boundary, inside b = 2 and inside b = 3; resume from JSON
    for cut in [10, 36, 40, reference.len() - 2] {
        let mut first = strategy::make("popnas", &config("popnas"), 3).unwrap();
        let mut seq = drive(first.as_mut(), &space, &layout, cut);
        let text = serde_json::to_string(&first.state()).unwrap();
        let mut second = strategy::make("popnas", &config("popnas"), 3).unwrap();
        second.restore(&serde_json::from_str(&text).unwrap()).unwrap();
        seq.extend(drive(second.as_mut(), &space, &layout, 10_000));
        assert_eq!(seq, reference, "cut at {cut}");
    }
    let mut bad = Popnas::new(PopnasConfig::default(), 0);
    assert!(bad.restore(&json!({"b": "x"})).unwrap_err().to_string().contains("bad popnas state"));
}

#[test]
fn bad_configs_are_refused() {
    for (cfg, want) in [
        (json!({"mode": "fast"}), "`mode` must be `popnas` or `pnas`, not `fast`"),
        (json!({"k": 0}), "`k` must be at least 1"),
        (json!({"blocks": 0}), "`blocks` must be at least 1"),
        (json!({"time_limit": -1.0}), "`time_limit` must be a positive number"),
        (json!({"ops": ["conv_3x3", "conv_3x3"]}), "op `conv_3x3` is listed twice"),
        (json!({"predictor": {"epochs": 0}}), "`predictor.epochs` must be at least 1"),
        (json!({"predictor": {"lr": 0.0}}), "`predictor.lr` must be a positive number"),
        (json!({"time_predictor": {"subsample": 2.0}}), "`time_predictor`"),
        (json!({"beam": 3}), "unknown field `beam`"),
        (json!({"time_target": "blocks"}), "unknown variant `blocks`, expected `time` or `per_block`"),
        (json!({"k": "many"}), "bad `popnas` strategy config"),
    ] {
        let e = strategy::make("popnas", &cfg, 0).err().unwrap_or_else(|| panic!("{cfg} accepted")).to_string();
        assert!(e.contains(want), "{cfg}: {e}");
    }
    let (space, _) = common::space("popnas_cell.nas", &[]);
    let cfg = PopnasConfig { ops: vec!["conv_3x4".into()], ..PopnasConfig::default() };
    let e = check_space(&space, &cfg).unwrap_err().to_string();
    assert!(e.contains("unknown op `conv_3x4`") && e.contains("did you mean `conv_3x3`"), "{e}");
    let e = check_space(&space, &PopnasConfig { blocks: 6, ..PopnasConfig::default() }).unwrap_err().to_string();
    assert!(e.contains("no cell of 6 blocks"), "{e}");
    assert!(check_space(&space, &PopnasConfig::default()).is_ok());
    let (nb201, _) = common::space("nb201.nas", &[]);
    assert!(check_space(&nb201, &PopnasConfig::default()).unwrap_err().to_string().contains("has no decision `blocks`"));
    let o = |name: &str, sense| Objective { name: name.into(), sense, source: Source::Reward };
    let two = [o("accuracy", Sense::Max), o("train_seconds", Sense::Min)];
    assert!(check_objectives(&PopnasConfig::default(), &two).is_ok());
    let e = check_objectives(&PopnasConfig::default(), &two[..1]).unwrap_err().to_string();
    assert!(e.contains("needs two objectives") && e.contains("max:accuracy"), "{e}");
    let pnas = PopnasConfig { mode: "pnas".into(), ..PopnasConfig::default() };
    assert!(check_objectives(&pnas, &two[..1]).is_ok());
    assert!(check_objectives(&pnas, &[o("train_seconds", Sense::Min)]).unwrap_err().to_string().contains("first objective must be the accuracy"));
}

/// The accuracy predictor's analytic gradient against central differences, on every parameter.
#[test]
fn accuracy_predictor_gradient_matches_finite_differences() {
    let dims = Dims { len: 3, n_in: 5, n_op: 5, embedding: 3, filters: 4, cells: 5 };
    let mut rng = Rng::new(11);
    let mut net = AccNet::new(dims, &mut rng);
    // larger weights than the init, so every gate and the attention are far from linear
    for p in &mut net.params {
        *p *= 3.0;
    }
    let xs: Vec<Seq> = vec![vec![[1, 2, 2, 3]], vec![[2, 1, 1, 4], [3, 2, 1, 3]], vec![[1, 4, 2, 4], [3, 1, 2, 2], [4, 3, 3, 1]]];
    let refs: Vec<&Seq> = xs.iter().collect();
    let ys = [0.3, 0.8, 0.55];
    let l2 = 1e-3;
    let mut g = vec![0.0; net.params.len()];
    net.loss(&refs, &ys, l2, Some(&mut g));
    let eps = 1e-6;
    let mut worst: f64 = 0.0;
    for (i, &gi) in g.iter().enumerate() {
        let p0 = net.params[i];
        net.params[i] = p0 + eps;
        let up = net.loss(&refs, &ys, l2, None);
        net.params[i] = p0 - eps;
        let down = net.loss(&refs, &ys, l2, None);
        net.params[i] = p0;
        let num = (up - down) / (2.0 * eps);
        let err = (num - gi).abs() / (1e-6 + num.abs().max(gi.abs()));
        if num.abs().max(gi.abs()) > 1e-7 {
            worst = worst.max(err);
        }
        assert!((num - gi).abs() < 1e-6 + 1e-4 * num.abs().max(gi.abs()), "param {i}: numeric {num}, analytic {gi}");
    }
    assert!(worst < 1e-4, "worst relative error {worst}");
    assert!(g.iter().filter(|v| **v != 0.0).count() > net.params.len() / 2, "most parameters get a gradient");
}

#[test]
fn reorderings_keep_the_network() {
    let (space, _) = common::space("popnas_cell.nas", &[]);
    let layout = Layout::of(&space).unwrap();
    let c = vec![Block(-1, 0, -2, 1), Block(-1, 2, -1, 3), Block(0, 4, 1, 5)];
    let r = cell::reorderings(&c, 100);
    assert_eq!(r.len(), 2);
    // equal keys mean the same network: the space's own canonical key (isomorphism) agrees
    let keys: HashSet<String> = r.iter().map(|x| space.key(&layout.candidate(x, space.num_decisions()).unwrap())).collect();
    assert_eq!(keys.len(), 1);
    let swapped = vec![Block(-2, 1, -1, 0), Block(-1, 3, -1, 2), Block(1, 5, 0, 4)];
    assert_eq!(cell::key(&swapped), cell::key(&c));
    assert_eq!(space.key(&layout.candidate(&swapped, space.num_decisions()).unwrap()), *keys.iter().next().unwrap());
}

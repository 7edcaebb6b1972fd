//! POPNASv2 (Falanti, Lomurno, Samele, Ardagna & Matteucci, IJCNN 2022), registered as strategy
//! `popnas`, and its PNAS mode (`mode: pnas`, the paper's baseline).
//!
//! The search grows cells block by block (Algorithm 1):
//! - b = 1: every single-block cell, one per equivalence class, is trained;
//! - each later step fits the accuracy predictor ([`acc`]) on every cell trained so far and the
//!   time predictor ([`time`]) on their measured times, expands every cell trained at the
//!   previous step by one block in every way, drops the expansions equivalent to an earlier one
//!   or to a trained cell ([`cell::key`]), scores the rest, and trains the Pareto front of
//!   (predicted accuracy, predicted time) capped at K ([`select::pareto_front`]) plus, before the
//!   last step, the exploration front of cells using under-used ops and inputs (at most J); PNAS
//!   mode trains the K most accurate predictions instead;
//! - the run ends after the step of B blocks (the strategy then asks nothing more: status
//!   `exhausted`).
//!
//! Objectives: the run's first objective is the accuracy (maximized) and the second the training
//! time (minimized), e.g. `--objective max:accuracy,min:train_seconds` with the `train:`
//! evaluator (or `min:train_probes`, the same time in units of the trainer's speed probe, on a
//! machine whose speed drifts). Accuracies above 1 are read as percentages for the sigmoid predictor.
//!
//! The spec must hold the cell as `specs/popnas_cell.nas` does ([`cell::Layout`]). Steps wait
//! for every result of the previous step, so runs use one worker. The state (steps, trained
//! cells, statistics) is plain data; the predictors are refitted from it, deterministically from
//! the run seed, at each step, so a resumed run asks the same cells.
pub mod acc;
pub mod acc_model;
pub mod cell;
pub mod config;
pub mod select;
pub mod stats;
pub mod time;

pub use config::{PopnasConfig, PopnasConfigError};

use super::{stream_seed, AskCtx, StateError, Strategy, Told};
use crate::objective::{Objective, Sense};
use crate::predict::gbdt::GbdtError;
use crate::space::{encode, SearchSpace};
use cell::{Block, Cell, Layout};
use nasc_compiler::Candidate;
use select::Scored;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use stats::{finite, StepStats};
use std::collections::HashSet;

/// One cell of a step, with its predictions and (once told) its measured values.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub cell: Cell,
    /// The candidate's lossless encoding (`space::encode`).
    pub candidate: String,
    pub pred_acc: Option<f64>,
    pub pred_time: Option<f64>,
    pub explore: bool,
    pub asked: bool,
    pub done: bool,
    pub acc: Option<f64>,
    pub time: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct State {
    /// The current step's block count (0 before the first ask).
    pub b: usize,
    pub step: Vec<Entry>,
    /// The finished entries of earlier steps.
    pub history: Vec<Entry>,
    pub steps: Vec<StepStats>,
    pub finished: bool,
    /// Accuracies above 1 seen: they are percentages (predictor targets divided by 100).
    pub percent: bool,
}

pub struct Popnas {
    cfg: PopnasConfig,
    seed: u64,
    st: State,
}

/// What a `popnas` space needs (the start of [`PopnasError::NoDecision`] and
/// [`PopnasError::NoBlockCount`]).
const NEED: &str = "popnas needs a cell space like specs/popnas_cell.nas: a choice `blocks` and per block c the choices `in1[c]`, `op1[c]`, `in2[c]`, `op2[c]`";

/// The objectives a `popnas` run takes, as an example.
const EXAMPLE: &str = "e.g. `--objective max:accuracy,min:train_seconds`";

/// Why `popnas` cannot search a space with a configuration and objectives, or a step cannot be
/// set up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PopnasError {
    /// `decision`: e.g. `blocks` or `in1[0]`.
    #[error("{}; space `{space}` has no decision `{decision}`", NEED)]
    NoDecision { space: String, decision: String },
    #[error("{}; `blocks` offers no positive count", NEED)]
    NoBlockCount,
    #[error("popnas: decision `{decision}` is a subset; expected a choice")]
    Subset { decision: String },
    #[error("popnas: decision `{decision}` has option `{option}`; expected integers")]
    NotIntegers { decision: String, option: String },
    #[error("popnas: `in1[{block}]` and `in2[{block}]` offer different inputs")]
    DifferentInputs { block: usize },
    #[error("popnas: input `{input}` of block {block} is neither a lookback (-1, -2) nor an earlier block")]
    BadInput { input: i64, block: usize },
    #[error("popnas: `{decision}` offers other ops than `op1[0]`")]
    OtherOps { decision: String },
    /// `ops`: the spec's ops.
    #[error("popnas: unknown op `{name}` in `ops` (the spec's ops: {}){}", .ops.join(", "), crate::error::hint(.suggestion))]
    UnknownOp { name: String, ops: Vec<String>, suggestion: Option<String> },
    /// `blocks` asks for a cell of `missing` blocks that the space does not have (it has at most
    /// `max`).
    #[error("popnas: `blocks` is {blocks} but space `{space}` has no cell of {missing} blocks (at most {max})")]
    Blocks { blocks: usize, space: String, missing: usize, max: usize },
    #[error("popnas: the first objective must be the accuracy, maximized ({})", EXAMPLE)]
    FirstObjective,
    /// `objectives`: the run's objectives as `max:NAME,...`.
    #[error("popnas: mode `popnas` needs two objectives, the accuracy (maximized) and the training time (minimized), not `{objectives}` ({}; or `mode` `pnas`)", EXAMPLE)]
    TwoObjectives { objectives: String },
    /// The time predictor could not be trained.
    #[error(transparent)]
    TimePredictor(#[from] GbdtError),
}

impl From<PopnasError> for String {
    fn from(e: PopnasError) -> String {
        e.to_string()
    }
}

/// The op indices a config allows in a layout.
fn op_ids(cfg: &PopnasConfig, layout: &Layout) -> Result<Vec<u32>, PopnasError> {
    if cfg.ops.is_empty() {
        return Ok((0..layout.ops.len() as u32).collect());
    }
    cfg.ops
        .iter()
        .map(|name| {
            layout.ops.iter().position(|o| o == name).map(|i| i as u32).ok_or_else(|| PopnasError::UnknownOp {
                name: name.clone(),
                ops: layout.ops.clone(),
                suggestion: nasc_grammar::diag::did_you_mean(name, layout.ops.iter().map(String::as_str)).map(str::to_string),
            })
        })
        .collect()
}

/// Check a config against a space before a run starts: the cell decisions exist, the ops are the
/// spec's, the space allows cells of 1..=B blocks.
pub fn check_space(space: &SearchSpace, cfg: &PopnasConfig) -> Result<(), PopnasError> {
    let layout = Layout::of(space)?;
    op_ids(cfg, &layout)?;
    if let Some(b) = (1..=cfg.blocks).find(|&b| !layout.allows(b)) {
        return Err(PopnasError::Blocks { blocks: cfg.blocks, space: space.name().to_string(), missing: b, max: layout.max_blocks() });
    }
    Ok(())
}

/// Check a run's objectives: the first is maximized (the accuracy); in `popnas` mode a second,
/// minimized one is the training time.
pub fn check_objectives(cfg: &PopnasConfig, list: &[Objective]) -> Result<(), PopnasError> {
    match list.first() {
        Some(o) if o.sense == Sense::Max => {}
        _ => return Err(PopnasError::FirstObjective),
    }
    if cfg.pnas() {
        return Ok(());
    }
    if list.len() != 2 || list[1].sense != Sense::Min {
        return Err(PopnasError::TwoObjectives { objectives: list.iter().map(Objective::text).collect::<Vec<_>>().join(",") });
    }
    Ok(())
}

/// The per-step statistics of a stored `popnas` strategy state (for `nasc report`).
pub fn report_json(strategy_state: &Value) -> Value {
    let steps = strategy_state.get("steps").cloned().unwrap_or(Value::Array(Vec::new()));
    let trained: usize = steps.as_array().map_or(0, |a| a.iter().filter_map(|s| s.get("trained").and_then(Value::as_u64)).sum::<u64>() as usize);
    let pruned: usize = steps.as_array().map_or(0, |a| a.iter().filter_map(|s| s.get("pruned").and_then(Value::as_u64)).sum::<u64>() as usize);
    json!({"steps": steps, "trained": trained, "pruned": pruned, "finished": strategy_state.get("finished").cloned().unwrap_or(Value::Null)})
}

/// The per-step statistics as text lines (for the text report).
pub fn report_text(strategy_state: &Value) -> String {
    let steps: Vec<StepStats> = strategy_state.get("steps").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default();
    let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
    let mut out = String::from("popnas steps (predictors scored on each step's cells before training):\n");
    for s in &steps {
        out += &format!(
            "  b={}: {} trained ({} front + {} exploration of {} scored; {} equivalent encodings pruned); accuracy spearman {} mape {}; time spearman {} mape {}\n",
            s.b,
            s.trained,
            s.front,
            s.exploration,
            s.candidates,
            s.pruned,
            f(s.acc_spearman),
            f(s.acc_mape),
            f(s.time_spearman),
            f(s.time_mape)
        );
    }
    out
}

impl Popnas {
    pub fn new(cfg: PopnasConfig, seed: u64) -> Self {
        Popnas { cfg, seed, st: State::default() }
    }

    /// The state as data (steps, trained cells, statistics).
    pub fn state_data(&self) -> &State {
        &self.st
    }

    fn entry(&self, layout: &Layout, space: &SearchSpace, cell: Cell, pred: Option<(f64, f64)>, explore: bool) -> Option<Entry> {
        let c = layout.candidate(&cell, space.num_decisions())?;
        space.inner().check_valid(&c).ok()?;
        Some(Entry { cell, candidate: encode(&c), pred_acc: pred.map(|p| p.0), pred_time: pred.map(|p| p.1), explore, asked: false, done: false, acc: None, time: None })
    }

    /// Close the current step's statistics.
    fn close_step(&mut self) {
        let Some(s) = self.st.steps.last_mut() else { return };
        let scale = if self.st.percent { 100.0 } else { 1.0 };
        let ok: Vec<&Entry> = self.st.step.iter().filter(|e| e.done && e.acc.is_some()).collect();
        s.trained = ok.len();
        s.failed = self.st.step.iter().filter(|e| e.asked && e.done && e.acc.is_none()).count();
        s.time_sum = ok.iter().filter_map(|e| e.time).sum();
        s.best_acc = ok.iter().filter_map(|e| e.acc).fold(None, |m, a| Some(m.map_or(a, |m: f64| m.max(a))));
        let pa: Vec<(f64, f64)> = ok.iter().filter_map(|e| Some((e.pred_acc? * scale, e.acc?))).collect();
        if !pa.is_empty() {
            let (p, t): (Vec<f64>, Vec<f64>) = pa.into_iter().unzip();
            s.acc_spearman = finite(stats::spearman(&p, &t));
            s.acc_mape = finite(stats::mape(&p, &t));
        }
        let pt: Vec<(f64, f64)> = ok.iter().filter_map(|e| Some((e.pred_time?, e.time?))).collect();
        if !pt.is_empty() {
            let (p, t): (Vec<f64>, Vec<f64>) = pt.into_iter().unzip();
            s.time_spearman = finite(stats::spearman(&p, &t));
            s.time_mape = finite(stats::mape(&p, &t));
        }
    }

    /// Finish the current step and set up the next one (or end the search).
    fn advance(&mut self, space: &SearchSpace) -> Result<(), PopnasError> {
        let layout = Layout::of(space)?;
        let ops = op_ids(&self.cfg, &layout)?;
        if self.st.b > 0 {
            self.close_step();
            let done = std::mem::take(&mut self.st.step);
            self.st.history.extend(done.into_iter().filter(|e| e.done && e.acc.is_some()));
        }
        if self.st.b >= self.cfg.blocks || !layout.allows(self.st.b + 1) {
            self.st.finished = true;
            return Ok(());
        }
        self.st.b += 1;
        let b = self.st.b;
        let started = std::time::Instant::now();
        let mut stats = StepStats { b, ..StepStats::default() };
        if b == 1 {
            let lookbacks: Vec<i64> = layout.inputs[0].iter().copied().filter(|&i| i < 0).collect();
            let (cells, pruned) = cell::single_blocks(&lookbacks, &ops);
            stats.encodings = cells.len() + pruned;
            stats.pruned = pruned;
            stats.candidates = cells.len();
            stats.front = cells.len();
            self.st.step = cells.into_iter().filter_map(|c| self.entry(&layout, space, c, None, false)).collect();
            self.st.steps.push(stats);
            return Ok(());
        }
        // the parents: the cells trained at the previous step
        let parents: Vec<&Cell> = self.st.history.iter().filter(|e| e.cell.len() == b - 1).map(|e| &e.cell).collect();
        let mut seen: HashSet<String> = self.st.history.iter().map(|e| cell::key(&e.cell)).collect();
        let inputs = &layout.inputs[b - 1];
        let (uniq, encodings, pruned) = cell::step_candidates(parents, &mut seen, inputs, &ops);
        stats.encodings += encodings;
        stats.pruned += pruned;
        // the predictors, fitted on every trained cell
        let trained: Vec<&Entry> = self.st.history.iter().collect();
        let scale = if self.st.percent { 100.0 } else { 1.0 };
        let cells: Vec<Cell> = trained.iter().map(|e| e.cell.clone()).collect();
        let accs: Vec<f64> = trained.iter().map(|e| (e.acc.unwrap_or(0.0) / scale).clamp(0.0, 1.0)).collect();
        let accp = acc::AccPredictor::fit(&self.cfg.predictor, self.cfg.blocks, layout.ops.len(), &cells, &accs, stream_seed(self.seed, 100 + b as u64));
        let timed: Vec<&Entry> = trained.iter().copied().filter(|e| e.time.is_some_and(f64::is_finite)).collect();
        let index = time::op_index(timed.iter().map(|e| (e.cell.as_slice(), e.time.unwrap_or(0.0))), layout.ops.len());
        let timed_cells: Vec<&[Block]> = timed.iter().map(|e| e.cell.as_slice()).collect();
        let times: Vec<f64> = timed.iter().map(|e| e.time.unwrap_or(0.0)).collect();
        let timep = if timed.is_empty() {
            None
        } else {
            Some(time::TimePredictor::fit(&timed_cells, &times, index, n_cells(space), self.cfg.time_target, &self.cfg.time_predictor, stream_seed(self.seed, 200 + b as u64))?)
        };
        let mut scored: Vec<Scored> = uniq
            .into_iter()
            .map(|c| {
                let t = timep.as_ref().map_or(0.0, |p| p.predict(&c));
                Scored { acc: accp.predict(&c), time: t, cell: c }
            })
            .collect();
        if let Some(limit) = self.cfg.time_limit.filter(|_| timep.is_some()) {
            scored.retain(|s| s.time <= limit);
        }
        stats.candidates = scored.len();
        let order = select::by_accuracy(&scored);
        let chosen = if self.cfg.pnas() { select::top_k(&order, self.cfg.k) } else { select::pareto_front(&scored, &order, self.cfg.k) };
        stats.front = chosen.len();
        let mut explore: Vec<usize> = Vec::new();
        if !self.cfg.pnas() && b < self.cfg.blocks && self.cfg.j > 0 {
            let front: Vec<&Cell> = chosen.iter().map(|&i| &scored[i].cell).collect();
            let (ops_exp, in_exp) = select::exploration_sets(&front, &ops, inputs);
            let taken: HashSet<usize> = chosen.iter().copied().collect();
            explore = select::exploration_front(&scored, &order, &taken, &ops_exp, &in_exp, self.cfg.j);
            stats.explore_ops = ops_exp.iter().map(|&o| layout.ops[o as usize].clone()).collect();
            stats.explore_inputs = in_exp;
        }
        stats.exploration = explore.len();
        let mut step = Vec::new();
        for (i, ex) in chosen.iter().map(|&i| (i, false)).chain(explore.iter().map(|&i| (i, true))) {
            let s = &scored[i];
            if let Some(e) = self.entry(&layout, space, s.cell.clone(), Some((s.acc, s.time)), ex) {
                step.push(e);
            }
        }
        self.st.step = step;
        stats.predictor_seconds = started.elapsed().as_secs_f64();
        self.st.steps.push(stats);
        Ok(())
    }
}

/// Cells in the network (the time predictor's `cells` feature): M (N + 1) - 1 from the spec's
/// `M` and `N` params, 0 when the spec has none.
pub fn n_cells(space: &SearchSpace) -> f64 {
    match (space.constant("M"), space.constant("N")) {
        (Some(m), Some(n)) => m * (n + 1.0) - 1.0,
        _ => 0.0,
    }
}

impl Strategy for Popnas {
    fn name(&self) -> &'static str {
        "popnas"
    }
    fn config(&self) -> Value {
        serde_json::to_value(&self.cfg).unwrap_or(Value::Null)
    }
    fn ask(&mut self, ctx: &mut AskCtx, n: usize) -> Vec<Candidate> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            if let Some(i) = self.st.step.iter().position(|e| !e.asked) {
                let e = &mut self.st.step[i];
                e.asked = true;
                match crate::space::decode(&e.candidate) {
                    Ok(c) if ctx.accept(&c) => out.push(c),
                    // infeasible under the run's constraints, or (with --dedup) a repeat
                    _ => e.done = true,
                }
                continue;
            }
            if self.st.finished || self.st.step.iter().any(|e| !e.done) {
                break;
            }
            if self.advance(ctx.space).is_err() {
                self.st.finished = true;
            }
        }
        out
    }
    fn tell(&mut self, results: &[Told]) {
        for r in results {
            let enc = encode(r.candidate);
            let Some(e) = self.st.step.iter_mut().find(|e| e.asked && !e.done && e.candidate == enc) else { continue };
            e.done = true;
            let acc = r.objectives.and_then(|o| o.first().copied()).or(r.reward).filter(|v| v.is_finite());
            let time = r.objectives.and_then(|o| o.get(1).copied()).map(|v| -v).filter(|v| v.is_finite());
            e.acc = acc;
            e.time = time;
            if acc.is_some_and(|a| a > 1.0) {
                self.st.percent = true;
            }
        }
    }
    fn state(&self) -> Value {
        serde_json::to_value(&self.st).unwrap_or(Value::Null)
    }
    fn restore(&mut self, state: &Value) -> Result<(), StateError> {
        self.st = serde_json::from_value(state.clone()).map_err(StateError::Popnas)?;
        Ok(())
    }
}

//! The `command` evaluator: `--evaluator 'command[timeout=SECONDS]:PROGRAM ARGS...'` runs one
//! child process per trial (the user's own training code). The text after the `:` is split into
//! words like a shell command line ([`split`]) but no shell runs. The protocol (documented in
//! docs/command.md):
//!
//! - stdin: the trial document ([`crate::trialdoc`]), also saved as `trial.json` in the trial's
//!   folder; environment: `NASC_TRIAL_ID`, `NASC_SEED`, `NASC_TRIAL_DIR` (a fresh folder per
//!   trial, `RUN.trials/ID/` next to the run's store `RUN.db`);
//! - stdout: JSON lines; the last one with a `reward` key is the result `{"reward": R,
//!   "reported": X?, "metrics": {...}?}`; `{"step": k, "value": v}` lines are intermediate
//!   values; other lines are ignored;
//! - a non-zero exit, a signal, the timeout, no result line or a reward that is not a finite
//!   number fail the trial with the exit status and the last 4 KB of stderr; the search goes on;
//! - the run's stop flag (Ctrl-C) kills the running children; the runner reruns their trials
//!   when the run resumes.
//!
//! The trial's metric is `seconds` (the child's wall time, also its cost on the runner's
//! clock); the result's `metrics` object and the step values go to the trial's `extra` data.
//! Trials of a batch (`--workers N`) run as concurrent children.
pub mod child;
pub mod split;

use crate::error::{EvaluatorError, TrialError};
use crate::trialdoc::{self, SpecInfo};
use child::{describe_status, End, Limits, Outcome};
use nasc_compiler::rng::splitmix64;
use nasc_runtime::eval::{EvalRequest, EvalResult, Evaluator};
use nasc_runtime::{Budget, SearchSpace};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Where a run's trials live and what the trial document says about its spec.
#[derive(Clone, Debug, Default)]
pub struct RunContext {
    /// The run's trial folders go under this (`RUN.trials` for the store `RUN.db`).
    pub trials_dir: Option<PathBuf>,
    pub spec: SpecInfo,
}

/// The trial folders of the run whose store is `store`: `RUN.trials` next to `RUN.db`.
pub fn trials_dir(store: &Path) -> PathBuf {
    store.with_extension("trials")
}

/// Whether an evaluator string names the command evaluator.
pub fn is_command(spec: &str) -> bool {
    let s = spec.trim_start();
    s.get(..7).is_some_and(|h| h.eq_ignore_ascii_case("command")) && matches!(s[7..].trim_start().chars().next(), Some(':') | Some('['))
}

/// The options and the command text of `command[OPTS]:TEXT`.
pub(crate) fn parse(spec: &str) -> Result<(Option<f64>, String), EvaluatorError> {
    let rest = spec.trim_start()[7..].trim_start();
    let (opts, text) = match rest.strip_prefix('[') {
        Some(r) => {
            let (o, t) = r.split_once(']').ok_or_else(|| EvaluatorError::Bracket { spec: spec.to_string() })?;
            let t = t.trim_start().strip_prefix(':').ok_or_else(|| EvaluatorError::Colon { spec: spec.to_string() })?;
            (o, t)
        }
        None => ("", rest.strip_prefix(':').unwrap_or(rest)),
    };
    let mut timeout = None;
    for part in opts.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| EvaluatorError::CommandOptionSyntax { part: part.to_string() })?;
        let bad = |expected| EvaluatorError::Timeout { value: v.trim().to_string(), expected };
        match k.trim().to_lowercase().as_str() {
            "timeout" => {
                let t: f64 = v.trim().parse().map_err(|_| bad("a number of seconds"))?;
                if !(t > 0.0 && t.is_finite() && t < 1e9) {
                    return Err(bad("a positive number of seconds"));
                }
                timeout = Some(t);
            }
            other => return Err(EvaluatorError::CommandOption { option: other.to_string() }),
        }
    }
    Ok((timeout, text.trim().to_string()))
}

/// Whether `prog` can be started: a path to a file, or a name found on `PATH`.
fn findable(prog: &str) -> bool {
    if prog.contains('/') {
        return Path::new(prog).is_file();
    }
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
}

pub struct CommandEval {
    /// The command text as given (after the `:`).
    text: String,
    argv: Vec<String>,
    limits: Limits,
    ctx: RunContext,
    stop: Option<Arc<AtomicBool>>,
    extra: HashMap<u64, Value>,
}

/// A trial ready to run: its folder holds `trial.json`.
struct Prepared {
    id: u64,
    seed: u64,
    dir: PathBuf,
}

impl CommandEval {
    pub fn new(spec: &str, ctx: RunContext) -> Result<CommandEval, EvaluatorError> {
        let (timeout, text) = parse(spec)?;
        let argv = split::split(&text).map_err(EvaluatorError::Split)?;
        let Some(prog) = argv.first() else {
            return Err(EvaluatorError::NoProgram);
        };
        if !findable(prog) {
            return Err(EvaluatorError::NoSuchProgram { program: prog.clone() });
        }
        let limits = Limits { timeout: timeout.map(Duration::from_secs_f64), ..Limits::default() };
        Ok(CommandEval { text, argv, limits, ctx, stop: None, extra: HashMap::new() })
    }

    fn root(&self) -> PathBuf {
        match &self.ctx.trials_dir {
            Some(d) => d.clone(),
            None => std::env::temp_dir().join(format!("nasc-trials-{}", std::process::id())),
        }
    }

    /// A fresh folder for the trial with its document (a rerun trial's old folder is cleared).
    fn prepare(&self, space: &SearchSpace, r: &EvalRequest) -> Result<Prepared, TrialError> {
        let seed = splitmix64(r.seed, r.id);
        let dir = self.root().join(r.id.to_string());
        let io = |what: &'static str, p: &Path, source: std::io::Error| TrialError::Io { what, path: p.to_path_buf(), source };
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| io("clear the trial folder", &dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| io("create the trial folder", &dir, e))?;
        let doc = trialdoc::document(space, r.id, seed, r.candidate, &self.ctx.spec);
        let file = dir.join("trial.json");
        std::fs::write(&file, serde_json::to_vec(&doc).unwrap_or_default()).map_err(|e| io("write", &file, e))?;
        Ok(Prepared { id: r.id, seed, dir })
    }

    fn run(&self, p: &Prepared) -> (Result<EvalResult, String>, Option<Value>) {
        let env = [("NASC_TRIAL_ID", p.id.to_string()), ("NASC_SEED", p.seed.to_string()), ("NASC_TRIAL_DIR", p.dir.display().to_string())];
        match child::run(&self.argv, &p.dir.join("trial.json"), &env, &self.limits, self.stop.as_deref()) {
            Ok(o) => judge(&o),
            Err(e) => (Err(e.to_string()), None),
        }
    }
}

/// The trial's result (or error) and extra data from what the child did.
fn judge(o: &Outcome) -> (Result<EvalResult, String>, Option<Value>) {
    let mut extra = Map::new();
    if !o.steps.is_empty() {
        extra.insert("steps".into(), Value::Array(o.steps.clone()));
    }
    if o.steps_dropped > 0 {
        extra.insert("steps_dropped".into(), json!(o.steps_dropped));
    }
    if let Some(m) = o.result.as_ref().and_then(|r| r.get("metrics")) {
        extra.insert("metrics".into(), m.clone());
    }
    let extra = (!extra.is_empty()).then_some(Value::Object(extra));
    let fail = |why: String| -> Result<EvalResult, String> {
        let mut e = why;
        if o.stderr_bytes > 0 {
            let kept = o.stderr.len() as u64;
            if kept < o.stderr_bytes {
                e += &format!("\nstderr (the last {kept} of {} bytes):\n{}", o.stderr_bytes, o.stderr.trim_end());
            } else {
                e += &format!("\nstderr:\n{}", o.stderr.trim_end());
            }
        }
        Err(e)
    };
    let result = match &o.end {
        End::Stopped => fail("stopped: the run was interrupted (the trial runs again when the run resumes)".into()),
        End::TimedOut(t) => fail(format!("timed out after {} s (the child and its process group were killed)", t.as_secs_f64())),
        End::Exited(s) if !s.success() => fail(describe_status(s)),
        End::Exited(_) => match &o.result {
            None => {
                let mut why = "exit status 0 but no result line: the last JSON object with a `reward` key on stdout is the result".to_string();
                match &o.last_other {
                    Some(l) => why += &format!(" ({} other stdout lines; the last: `{l}`)", o.other_lines),
                    None if o.long_lines > 0 => why += &format!(" ({} stdout lines over 1 MiB were skipped)", o.long_lines),
                    None if o.stdout_bytes > 0 => why += &format!(" ({} bytes on stdout, no JSON line)", o.stdout_bytes),
                    None => why += " (stdout was empty)",
                }
                fail(why)
            }
            Some(r) => {
                let number = |k: &str| -> Result<Option<f64>, String> {
                    match r.get(k) {
                        None | Some(Value::Null) => Ok(None),
                        Some(v) => v.as_f64().filter(|x| x.is_finite()).map(Some).ok_or_else(|| format!("the result's `{k}` is not a finite number: `{v}`")),
                    }
                };
                match (number("reward"), number("reported")) {
                    (Ok(Some(reward)), Ok(reported)) => Ok(EvalResult { reward, reported: reported.unwrap_or(f64::NAN), metrics: vec![o.seconds], cost: o.seconds }),
                    (Ok(None), _) => fail("the result's `reward` is null".into()),
                    (Err(e), _) | (_, Err(e)) => fail(e),
                }
            }
        },
    };
    (result, extra)
}

impl Evaluator for CommandEval {
    fn name(&self) -> String {
        match self.limits.timeout {
            Some(t) => format!("command[timeout={}]:{}", t.as_secs_f64(), self.text),
            None => format!("command:{}", self.text),
        }
    }
    fn metric_names(&self) -> Vec<String> {
        vec!["seconds".into()]
    }
    /// One child per trial; the trials of a batch run concurrently.
    fn evaluate(&mut self, space: &SearchSpace, batch: &[EvalRequest]) -> Vec<Result<EvalResult, String>> {
        let prepared: Vec<Result<Prepared, TrialError>> = batch.iter().map(|r| self.prepare(space, r)).collect();
        let this = &*self;
        let outcomes: Vec<(Result<EvalResult, String>, Option<Value>)> = if prepared.len() == 1 {
            prepared.iter().map(|p| p.as_ref().map_or_else(|e| (Err(e.to_string()), None), |p| this.run(p))).collect()
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = prepared.iter().map(|p| s.spawn(move || p.as_ref().map_or_else(|e| (Err(e.to_string()), None), |p| this.run(p)))).collect();
                handles.into_iter().map(|h| h.join().unwrap_or_else(|_| (Err("the trial's thread failed".into()), None))).collect()
            })
        };
        let mut results = Vec::with_capacity(batch.len());
        for (r, (result, extra)) in batch.iter().zip(outcomes) {
            if let Some(x) = extra {
                self.extra.insert(r.id, x);
            }
            results.push(result);
        }
        results
    }
    fn default_budget(&self) -> Budget {
        Budget::Trials(10)
    }
    fn take_extra(&mut self, id: u64) -> Option<Value> {
        self.extra.remove(&id)
    }
    fn watch_stop(&mut self, stop: Arc<AtomicBool>) {
        self.stop = Some(stop);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluator_strings() {
        assert!(is_command("command:python3 x.py") && is_command("COMMAND [timeout=3]:x") && is_command(" command:x"));
        assert!(!is_command("commandx:y") && !is_command("train:x") && !is_command("command"));
        assert_eq!(parse("command:python3 x.py --a 'b c'").unwrap(), (None, "python3 x.py --a 'b c'".into()));
        assert_eq!(parse("command[timeout=2.5]: sh -c 'exit 1'").unwrap(), (Some(2.5), "sh -c 'exit 1'".into()));
        for (s, want) in [
            ("command[timeout=0]:x", "`timeout=0`: expected a positive number"),
            ("command[timeout=abc]:x", "`timeout=abc`: expected a number"),
            ("command[retries=2]:x", "has no option `retries`"),
            ("command[timeout=2:x", "`[` without `]`"),
            ("command[timeout=2] x", "expected `:`"),
        ] {
            let e = parse(s).unwrap_err().to_string();
            assert!(e.contains(want), "{s}: {e}");
        }
    }

    #[test]
    fn names_round_trip_and_bad_commands_are_refused() {
        let e = CommandEval::new("command[timeout=60]:sh -c 'echo hi'", RunContext::default()).unwrap();
        assert_eq!(e.name(), "command[timeout=60]:sh -c 'echo hi'");
        assert_eq!(CommandEval::new(&e.name(), RunContext::default()).unwrap().name(), e.name());
        assert_eq!(e.argv, ["sh", "-c", "echo hi"]);
        for (s, want) in [
            ("command:", "no program given"),
            ("command:  ", "no program given"),
            ("command:no-such-program-nasc x", "cannot find program `no-such-program-nasc` on PATH"),
            ("command:./nope/x.py", "cannot find program `./nope/x.py`"),
            ("command:sh -c 'x", "unterminated single quote"),
        ] {
            let e = CommandEval::new(s, RunContext::default()).err().unwrap().to_string();
            assert!(e.contains(want), "{s}: {e}");
        }
    }

    /// The evaluator is moved into the runner and its trials run on threads.
    #[test]
    fn the_evaluator_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<CommandEval>();
    }
}

//! Real parallel evaluation for [`super::Runner::run_parallel`]: `workers` threads, each with its
//! own evaluator (made on that thread by the caller's factory), take trials from one queue and
//! send their results back as they finish. The runner tells the strategy in that order
//! (completion order) and asks for a new trial as soon as a thread is free, so `workers` trials
//! are always in flight; nothing waits for a whole batch.
use crate::error::RunError;
use crate::eval::{EvalFactory, EvalRequest, EvalResult};
use crate::space::SearchSpace;
use nasc_compiler::Candidate;
use serde_json::Value;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A trial handed to a thread.
pub(super) struct Job {
    pub id: u64,
    pub candidate: Candidate,
    pub seed: u64,
}

/// A finished evaluation: the trial, its result and its extra data.
pub(super) struct Done {
    pub id: u64,
    pub result: Result<EvalResult, String>,
    pub extra: Option<Value>,
}

/// The runner's end of the threads: where trials go and where results come back.
pub(super) struct Lanes {
    jobs: Sender<Job>,
    done: Receiver<Done>,
}

impl Lanes {
    /// Hand a trial to the first free thread.
    pub fn send(&self, job: Job) -> Result<(), RunError> {
        self.jobs.send(job).map_err(|_| RunError::PoolStopped)
    }

    /// The next finished evaluation, waiting up to `wait` (None: none finished by then).
    pub fn recv(&self, wait: Duration) -> Result<Option<Done>, RunError> {
        match self.done.recv_timeout(wait) {
            Ok(d) => Ok(Some(d)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(RunError::PoolStopped),
        }
    }

    /// A finished evaluation if one is waiting.
    pub fn try_recv(&self) -> Option<Done> {
        self.done.try_recv().ok()
    }
}

/// Start `n` evaluation threads in `scope`. A thread whose evaluator cannot be made fails each
/// trial it takes with that error. The threads end when the returned [`Lanes`] are dropped
/// (after the evaluation they are running, whose result is then dropped).
pub(super) fn start<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    n: usize,
    space: &'env SearchSpace,
    make: &'env EvalFactory<'env>,
    stop: Arc<AtomicBool>,
) -> Lanes {
    let (jobs, queue) = channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let (results, done) = channel::<Done>();
    for _ in 0..n {
        let (queue, results, stop) = (queue.clone(), results.clone(), stop.clone());
        scope.spawn(move || {
            let mut ev = make();
            if let Ok(e) = &mut ev {
                e.watch_stop(stop);
            }
            loop {
                // one thread at a time waits on the queue; a poisoned lock means another thread
                // panicked: stop taking trials
                let job = match queue.lock() {
                    Ok(q) => q.recv(),
                    Err(_) => return,
                };
                let Ok(job) = job else { return };
                let (result, extra) = match &mut ev {
                    Ok(e) => {
                        let req = [EvalRequest { id: job.id, candidate: &job.candidate, seed: job.seed }];
                        let r = e.evaluate(space, &req).pop().unwrap_or_else(|| Err(format!("evaluator `{}` returned no result", e.name())));
                        (r, e.take_extra(job.id))
                    }
                    Err(msg) => (Err(msg.clone()), None),
                };
                if results.send(Done { id: job.id, result, extra }).is_err() {
                    return;
                }
            }
        });
    }
    Lanes { jobs, done }
}

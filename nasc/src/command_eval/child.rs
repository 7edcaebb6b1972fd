//! One child process of the command evaluator: started in its own process group with stdin read
//! from the trial document's file (no pipe to write into: a child that never reads its stdin
//! cannot block or SIGPIPE the runner), stdout and stderr read concurrently by two threads with
//! bounded memory, stopped (its whole process group killed) at the timeout or when the run's stop
//! flag is set.
//!
//! Memory is bounded whatever the child prints: stderr keeps its last [`Limits::stderr_tail`]
//! bytes, a stdout line longer than [`Limits::max_line`] is skipped (counted), at most
//! [`Limits::max_steps`] step values are kept (the rest counted), and only the last result line
//! is kept.
use crate::error::TrialError;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What the readers keep.
#[derive(Clone, Debug)]
pub struct Limits {
    pub timeout: Option<Duration>,
    /// Bytes of stderr kept (the last ones).
    pub stderr_tail: usize,
    /// Longest stdout line read as a protocol line, in bytes.
    pub max_line: usize,
    /// Step values kept.
    pub max_steps: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { timeout: None, stderr_tail: 4096, max_line: 1 << 20, max_steps: 100_000 }
    }
}

/// How the child ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// It exited (or was killed by a signal) by itself.
    Exited(ExitStatus),
    /// Killed at the timeout.
    TimedOut(Duration),
    /// Killed because the run is stopping.
    Stopped,
}

/// Everything read from one child.
#[derive(Debug)]
pub struct Outcome {
    pub end: End,
    /// The last stdout line that is a JSON object with a `reward` key.
    pub result: Option<Map<String, Value>>,
    /// `{step, value}` objects, in order (at most `max_steps`).
    pub steps: Vec<Value>,
    pub steps_dropped: u64,
    /// Stdout lines that were not protocol lines (not JSON objects with `reward` or `step`), and
    /// the last of them (its first 200 characters).
    pub other_lines: u64,
    pub last_other: Option<String>,
    /// Stdout lines over `max_line` (skipped).
    pub long_lines: u64,
    pub stdout_bytes: u64,
    /// The last `stderr_tail` bytes of stderr (lossy UTF-8), and how many bytes came in all.
    pub stderr: String,
    pub stderr_bytes: u64,
    pub seconds: f64,
}

/// Stdout as the protocol reads it.
#[derive(Default)]
struct StdoutState {
    result: Option<Map<String, Value>>,
    steps: Vec<Value>,
    steps_dropped: u64,
    other_lines: u64,
    last_other: Option<String>,
    long_lines: u64,
    bytes: u64,
}

impl StdoutState {
    fn line(&mut self, line: &[u8], too_long: bool, max_steps: usize) {
        if too_long {
            self.long_lines += 1;
            return;
        }
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) if o.contains_key("reward") => self.result = Some(o),
            Ok(Value::Object(o)) if o.contains_key("step") => {
                if self.steps.len() < max_steps {
                    let mut s = Map::new();
                    s.insert("step".into(), o.get("step").cloned().unwrap_or(Value::Null));
                    s.insert("value".into(), o.get("value").cloned().unwrap_or(Value::Null));
                    self.steps.push(Value::Object(s));
                } else {
                    self.steps_dropped += 1;
                }
            }
            _ => {
                self.other_lines += 1;
                self.last_other = Some(text.chars().take(200).collect());
            }
        }
    }
}

/// Read `r` to its end as lines, each at most `max_line` bytes (longer ones are passed as
/// `too_long` with what fit); returns the bytes read.
fn read_lines(mut r: impl Read, max_line: usize, mut on_line: impl FnMut(&[u8], bool)) -> u64 {
    let mut buf = vec![0u8; 64 * 1024];
    let mut line: Vec<u8> = Vec::new();
    let mut too_long = false;
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        total += n as u64;
        let mut chunk = &buf[..n];
        loop {
            let nl = chunk.iter().position(|&b| b == b'\n');
            let part = &chunk[..nl.unwrap_or(chunk.len())];
            if !too_long {
                let room = max_line - line.len();
                if part.len() > room {
                    too_long = true;
                    line.clear();
                } else {
                    line.extend_from_slice(part);
                }
            }
            match nl {
                Some(i) => {
                    on_line(&line, too_long);
                    line.clear();
                    too_long = false;
                    chunk = &chunk[i + 1..];
                }
                None => break,
            }
        }
    }
    if !line.is_empty() || too_long {
        on_line(&line, too_long);
    }
    total
}

/// Read `r` to its end keeping the last `keep` bytes.
fn read_tail(mut r: impl Read, keep: usize) -> (Vec<u8>, u64) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut tail: VecDeque<u8> = VecDeque::with_capacity(keep + buf.len());
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        total += n as u64;
        let from = n.saturating_sub(keep);
        tail.extend(&buf[from..n]);
        while tail.len() > keep {
            tail.pop_front();
        }
    }
    (tail.into_iter().collect(), total)
}

/// Kill the child's whole process group (it leads one: `process_group(0)`), then the child.
fn kill_group(child: &mut Child) {
    let pid = child.id() as i32;
    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    let _ = child.kill();
}

/// Run `argv` with stdin from `stdin_file`, `env` added, in `cwd` (None: the runner's), until it
/// ends, times out or `stop` is set. Errors: the program cannot be started.
pub fn run(argv: &[String], stdin_file: &Path, env: &[(&str, String)], limits: &Limits, stop: Option<&AtomicBool>) -> Result<Outcome, TrialError> {
    let started = Instant::now();
    let (prog, args) = argv.split_first().ok_or(TrialError::EmptyCommand)?;
    let stdin = std::fs::File::open(stdin_file).map_err(|source| TrialError::Io { what: "open", path: stdin_file.to_path_buf(), source })?;
    let mut cmd = Command::new(prog);
    cmd.args(args).stdin(Stdio::from(stdin)).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|source| TrialError::Start { program: prog.clone(), source })?;
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let (tx, rx) = mpsc::channel::<()>();
    let (max_line, max_steps, keep) = (limits.max_line, limits.max_steps, limits.stderr_tail);
    let tx_out = tx.clone();
    let out_thread = std::thread::spawn(move || {
        let mut st = StdoutState::default();
        if let Some(out) = out {
            st.bytes = read_lines(out, max_line, |l, long| st.line(l, long, max_steps));
        }
        let _ = tx_out.send(());
        st
    });
    let err_thread = std::thread::spawn(move || {
        let r = err.map(|e| read_tail(e, keep)).unwrap_or_default();
        let _ = tx.send(());
        r
    });
    // wait for both pipes to close and the child to exit (the usual end), the timeout or a stop
    // (looked at every 50 ms); a child that exited while a process it left holds the pipes open
    // has 200 ms before its group is killed
    let deadline = limits.timeout.map(|t| started + t);
    let timed_out = End::TimedOut(limits.timeout.unwrap_or_default());
    let (mut closed, mut exited): (u32, Option<(ExitStatus, Instant)>) = (0, None);
    let mut nap = Duration::from_micros(100);
    let end = loop {
        if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            kill_group(&mut child);
            let _ = child.wait();
            break End::Stopped;
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            kill_group(&mut child);
            let _ = child.wait();
            break timed_out;
        }
        if closed >= 2 {
            if let Some((s, _)) = exited {
                break End::Exited(s);
            }
            match child.try_wait() {
                Ok(Some(s)) => break End::Exited(s),
                Ok(None) => {
                    // the child closed its output and goes on: poll, more slowly as it lasts
                    std::thread::sleep(nap);
                    nap = (nap * 2).min(Duration::from_millis(20));
                    continue;
                }
                Err(e) => {
                    kill_group(&mut child);
                    return Err(TrialError::Wait { program: prog.clone(), source: e });
                }
            }
        }
        let mut wait = Duration::from_millis(50);
        if let Some(d) = deadline {
            wait = wait.min(d - now);
        }
        match rx.recv_timeout(wait) {
            Ok(()) => closed += 1,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => closed = 2,
        }
        if closed < 2 {
            match exited {
                None => {
                    if let Ok(Some(s)) = child.try_wait() {
                        exited = Some((s, Instant::now()));
                    }
                }
                Some((s, at)) if at.elapsed() > Duration::from_millis(200) => {
                    kill_group(&mut child);
                    break End::Exited(s);
                }
                Some(_) => {}
            }
        }
    };
    let st = out_thread.join().map_err(|_| TrialError::Reader { stream: "stdout" })?;
    let (tail, stderr_bytes) = err_thread.join().map_err(|_| TrialError::Reader { stream: "stderr" })?;
    // the tail may start inside a UTF-8 sequence: skip its continuation bytes
    let start = tail.iter().position(|&b| (b & 0xC0) != 0x80).unwrap_or(tail.len());
    Ok(Outcome {
        end,
        result: st.result,
        steps: st.steps,
        steps_dropped: st.steps_dropped,
        other_lines: st.other_lines,
        last_other: st.last_other,
        long_lines: st.long_lines,
        stdout_bytes: st.bytes,
        stderr: String::from_utf8_lossy(&tail[start..]).into_owned(),
        stderr_bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `exit status 3`, `killed by signal 9 (SIGKILL)`.
pub fn describe_status(s: &ExitStatus) -> String {
    if let Some(c) = s.code() {
        return format!("exit status {c}");
    }
    match s.signal() {
        Some(sig) => {
            let name = nix::sys::signal::Signal::try_from(sig).map(|s| format!(" ({})", s.as_str())).unwrap_or_default();
            format!("killed by signal {sig}{name}")
        }
        None => "ended without an exit status".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<(String, bool)> {
        let mut v = Vec::new();
        read_lines(input, max, |l, long| v.push((String::from_utf8_lossy(l).into_owned(), long)));
        v
    }

    #[test]
    fn lines_are_capped() {
        assert_eq!(lines(b"ab\ncd", 10), [("ab".into(), false), ("cd".into(), false)]);
        assert_eq!(lines(b"abcdefghijkl\nx\n", 5), [(String::new(), true), ("x".into(), false)]);
        assert_eq!(lines(b"abcde\n", 5), [("abcde".into(), false)]);
        assert_eq!(lines(b"", 5), Vec::<(String, bool)>::new());
        // across reads
        let big = [b'a'; 200_000];
        let mut input = big.to_vec();
        input.extend(b"\n{\"reward\": 1}\n");
        let v = lines(&input, 1000);
        assert_eq!(v, [(String::new(), true), ("{\"reward\": 1}".into(), false)]);
    }

    #[test]
    fn tail_keeps_the_last_bytes() {
        let input: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let (t, n) = read_tail(&input[..], 4096);
        assert_eq!(n, 100_000);
        assert_eq!(t, &input[input.len() - 4096..]);
        assert_eq!(read_tail(&b"short"[..], 4096).0, b"short");
    }

    #[test]
    fn protocol_lines() {
        let mut st = StdoutState::default();
        for l in ["hello", "{\"step\": 1, \"value\": 0.5}", "{\"reward\": 0.1}", "[1,2]", "{\"step\": 2, \"value\": 0.7, \"x\": 1}", "{\"reward\": 0.9, \"reported\": 0.8}"] {
            st.line(l.as_bytes(), false, 1);
        }
        assert_eq!(st.result.unwrap()["reward"], 0.9);
        assert_eq!(st.steps, [serde_json::json!({"step": 1, "value": 0.5})]);
        assert_eq!((st.steps_dropped, st.other_lines, st.last_other.as_deref()), (1, 2, Some("[1,2]")));
    }
}

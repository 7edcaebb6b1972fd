//! `nasc`: the runner. Reads files, calls the compiler, renders diagnostics, prints results.
mod bench;
mod command_eval;
mod commands;
mod compare;
mod cores;
mod error;
mod export;
mod graphdoc;
mod loader;
mod netconv;
mod nse;
mod render;
mod report;
mod search;
mod train;
mod train_eval;
mod trialdoc;
mod worker;
mod zoo;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "nasc", version, about = "nasc: a search-space compiler for neural architecture search")]
struct Cli {
    /// Override a spec parameter, e.g. `--set classes=100` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", global = true)]
    set: Vec<String>,
    /// Let lookup files be read under DIR too (by default only under the spec's folder; repeatable).
    #[arg(long = "allow-path", value_name = "DIR", global = true)]
    allow_path: Vec<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check specs: print every diagnostic; exit 1 if any error, 2 if a file cannot be read.
    Check {
        /// The spec files.
        files: Vec<String>,
        /// `json`: one document with every diagnostic's code, message, line, column and span.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Decisions, exact size, metric ranges and the relaxation shape of a spec.
    Explain {
        /// The spec file.
        file: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// N random valid (and feasible) candidates, one per line: name and metrics.
    Sample {
        /// The spec file.
        file: String,
        /// How many candidates to print.
        #[arg(short = 'n', default_value_t = 10)]
        n: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Metrics of candidates read one per line (PATH or `-` for stdin): JSON lines, or text
    /// lines (name, then `metric=value` fields).
    Metrics {
        /// The spec file.
        file: String,
        /// A file of candidate names, one per line, or `-` for stdin.
        #[arg(long, default_value = "-")]
        candidates: String,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
    /// Candidates/s of metrics + feasibility: interpreter vs JIT (batch API, one thread).
    Bench {
        /// The spec file.
        file: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Compare each spec's `explain` output with its committed snapshot; `--accept` rewrites them.
    Snapshot {
        /// The spec files (each one's snapshot is `snapshots/STEM.snap` next to it).
        files: Vec<String>,
        /// Write the current output as the new snapshot instead of failing on a difference.
        #[arg(long)]
        accept: bool,
    },
    /// Search a spec with a strategy and an evaluator into a durable run store.
    Search(search::SearchArgs),
    /// Join a run in a PostgreSQL store: evaluate its trials until it is finished.
    Worker(worker::WorkerArgs),
    /// Run several strategies over several seeds; a mean ± sd table and a best-so-far plot.
    Compare(compare::CompareArgs),
    /// Summarize a stored run (best candidates, history) and write SVG plots.
    Report(report::ReportArgs),
    /// Train one candidate on a dataset (CPU or wgpu): per-epoch loss/accuracy, test accuracy, images/s.
    Train(train::TrainArgs),
    /// Write a candidate as an ONNX model (with initialized or trained weights) or as its graph document.
    Export(export::ExportArgs),
    /// Run a candidate (eval mode, CPU) on a `.npy` batch of inputs and write its logits as `.npy`.
    Infer(export::InferArgs),
    /// The specs built into nasc (usable by name anywhere, e.g. `nasc search nb201`); `nasc zoo NAME` prints one.
    Zoo {
        /// A built-in spec to print (to copy and edit).
        name: Option<String>,
    },
}

/// Restore the default action of SIGPIPE, which Rust ignores: output into a closed pipe
/// (`nasc search ... | head -1`) then ends the process quietly, as it does for other command-line
/// tools, instead of a panic in `println!`. A run's store is committed before its report is
/// printed, so nothing is lost.
#[cfg(unix)]
fn default_sigpipe() {
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    // SIGPIPE is 13 and SIG_DFL is 0 on every unix Rust supports
    // SAFETY: setting a signal's action to its default has no preconditions
    unsafe {
        signal(13, 0);
    }
}

#[cfg(not(unix))]
fn default_sigpipe() {}

/// The `--set NAME=VALUE` overrides, in order; a malformed or repeated one is an error.
fn parse_sets(raw: &[String]) -> Result<Vec<(String, String)>, error::CliError> {
    let mut sets: Vec<(String, String)> = Vec::new();
    for s in raw {
        match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                let k = k.trim();
                if let Some((_, old)) = sets.iter().find(|(n, _)| n == k) {
                    return Err(error::CliError::SetTwice { given: s.clone(), name: k.to_string(), old: old.clone() });
                }
                sets.push((k.to_string(), v.trim().to_string()));
            }
            _ => return Err(error::CliError::SetSyntax { given: s.clone() }),
        }
    }
    Ok(sets)
}

fn main() -> ExitCode {
    default_sigpipe();
    let cli = Cli::parse();
    if let Err(e) = loader::allow_paths(&cli.allow_path) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let sets = match parse_sets(&cli.set) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let code = match cli.cmd {
        Cmd::Check { files, format } => commands::check(&files, &sets, format),
        Cmd::Explain { file, format } => commands::explain(&file, &sets, format),
        Cmd::Sample { file, n, seed, format } => commands::sample(&file, &sets, n, seed, format),
        Cmd::Metrics { file, candidates, format } => commands::metrics(&file, &sets, &candidates, format),
        Cmd::Bench { file, format } => bench::bench(&file, &sets, format),
        Cmd::Snapshot { files, accept } => commands::snapshot(&files, &sets, accept),
        Cmd::Search(a) => search::search(a, &sets),
        Cmd::Worker(a) => worker::worker_cmd(a),
        Cmd::Compare(a) => compare::compare_cmd(a, &sets),
        Cmd::Report(a) => report::report(a),
        Cmd::Train(a) => train::train_cmd(a, &sets),
        Cmd::Export(a) => export::export_cmd(a, &sets),
        Cmd::Infer(a) => export::infer_cmd(a, &sets),
        Cmd::Zoo { name } => zoo::zoo(name.as_deref()),
    };
    ExitCode::from(code)
}

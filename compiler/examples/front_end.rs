//! Times the front end (parse + check + evaluation + tables) of spec files, N runs each:
//! `cargo run --release -p nasc-compiler --example front_end -- FILE... [--runs N] [--jit]`.
//! Prints the minimum and the median in ms (`--jit`: also of the JIT compile of every
//! function; `NASC_EACH=1`: every run's time). Used to profile the compiler.
use nasc_compiler::compiled::{Backend, CompiledSpace};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 10usize;
    let mut jit = false;
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--jit" {
            jit = true;
        } else if a == "--runs" {
            runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(runs);
        } else {
            files.push(a.clone());
        }
    }
    for f in files {
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read `{f}`: {e}");
                std::process::exit(2);
            }
        };
        let mut times = Vec::new();
        let mut jit_times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let (spec, _) = nasc_grammar::parse(&text);
            let opts = nasc_compiler::Options { overrides: Vec::new(), loader: &nasc_compiler::NoFiles, default_name: "x".into() };
            let (space, diags) = nasc_compiler::compile(&spec, &opts);
            std::hint::black_box(&space);
            let Some(space) = space else {
                eprintln!("error: `{f}` did not compile: {} diagnostics", diags.len());
                std::process::exit(1);
            };
            times.push(t.elapsed().as_secs_f64() * 1e3);
            if jit {
                let t = Instant::now();
                match CompiledSpace::new(Arc::new(space), Backend::Jit, &[]) {
                    Ok(c) => {
                        std::hint::black_box(c.all_jit());
                    }
                    Err(e) => {
                        eprintln!("error: cannot compile `{f}`: {e}");
                        std::process::exit(1);
                    }
                }
                jit_times.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        for (what, mut times) in [("front end", times), ("jit", jit_times)] {
            if times.is_empty() {
                continue;
            }
            if std::env::var_os("NASC_EACH").is_some() {
                eprintln!("{what}, each run: {times:.1?}");
            }
            times.sort_by(|a, b| a.total_cmp(b));
            println!("{f}: {what}: min {:.2} ms, median {:.2} ms ({runs} runs)", times[0], times[times.len() / 2]);
        }
    }
}

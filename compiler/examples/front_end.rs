//! Times the front end (parse + check + evaluation + tables) of spec files, N runs each:
//! `cargo run --release -p nasc-compiler --example front_end -- FILE... [--runs N]`.
//! Prints the minimum and the median in ms. Used to profile the compiler front end.
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 10usize;
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--runs" {
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
        for _ in 0..runs {
            let t = Instant::now();
            let (spec, _) = nasc_grammar::parse(&text);
            let opts = nasc_compiler::Options { overrides: Vec::new(), loader: &nasc_compiler::NoFiles, default_name: "x".into() };
            let (space, diags) = nasc_compiler::compile(&spec, &opts);
            std::hint::black_box(&space);
            if space.is_none() {
                eprintln!("error: `{f}` did not compile: {} diagnostics", diags.len());
                std::process::exit(1);
            }
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!("{f}: min {:.2} ms, median {:.2} ms ({runs} runs)", times[0], times[times.len() / 2]);
    }
}

//! `nasc bench`: candidates/s of metrics + feasibility through the batch API, interpreter vs
//! JIT, one thread (batches of BATCH rows, and of CHUNK rows that stay in the cache);
//! samples/s of the sampling program and neighbors/s on both (the JIT side with every
//! function compiled); the compile time of the spec; the paths a JIT-compiled space runs
//! (`Paths::choose`: the faster implementation per function, by a fixed rule).
use crate::commands::load;
use crate::Format;
use nasc_compiler::compiled::{Backend, CompiledSpace};
use nasc_compiler::rng::Rng;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// Candidates per batch, and the wall time each backend is measured for. A batch of BATCH
/// rows is larger than the caches on most specs (on mobilenet_v2_layernas, 40 slots a row:
/// 21 MB), so it measures rows streamed from memory; CHUNK rows (the first CHUNK of the same
/// rows, one eval_batch call each) stay in the cache, as a search's small populations do.
/// Both are reported.
const BATCH: usize = 65_536;
const CHUNK: usize = 4_096;
const MEASURE_S: f64 = 1.0;

fn per_second(cs: &CompiledSpace, rows: &[u64]) -> f64 {
    let n = rows.len() / cs.n_dec().max(1);
    let mut m = vec![0.0; n * cs.n_metrics()];
    let mut f = vec![0u8; n];
    cs.eval_batch(rows, &mut m, &mut f); // warm up
    let start = Instant::now();
    let mut done = 0usize;
    while start.elapsed().as_secs_f64() < MEASURE_S {
        cs.eval_batch(rows, &mut m, &mut f);
        done += n;
    }
    std::hint::black_box(&m);
    done as f64 / start.elapsed().as_secs_f64()
}

/// Neighbors/s at distance 1 (one call per neighbor) from the rows of `rows`, in turn.
fn neighbors_per_second(cs: &CompiledSpace, rows: &[u64]) -> f64 {
    let nd = cs.n_dec().max(1);
    let n = rows.len() / nd;
    let mut rng = Rng::new(2);
    let start = Instant::now();
    let mut done = 0usize;
    while start.elapsed().as_secs_f64() < MEASURE_S / 4.0 {
        for i in 0..1024 {
            let r = (done + i) % n.max(1);
            std::hint::black_box(cs.neighbor(&rows[r * nd..(r + 1) * nd], 1, false, &mut rng));
        }
        done += 1024;
    }
    done as f64 / start.elapsed().as_secs_f64()
}

/// Samples/s of the sampling program (batches of BATCH rows).
fn samples_per_second(cs: &CompiledSpace) -> f64 {
    let mut rows = vec![0u64; BATCH * cs.n_dec()];
    let mut rng = Rng::new(1);
    cs.sample_batch(&mut rng, &mut rows); // warm up
    let start = Instant::now();
    let mut done = 0usize;
    while start.elapsed().as_secs_f64() < MEASURE_S {
        cs.sample_batch(&mut rng, &mut rows);
        done += BATCH;
    }
    std::hint::black_box(&rows);
    done as f64 / start.elapsed().as_secs_f64()
}

pub fn bench(file: &str, sets: &[(String, String)], format: Format) -> u8 {
    let t0 = Instant::now();
    let space = match load(file, sets) {
        Ok((Some(s), _, false)) => s,
        Ok((_, rendered, _)) => {
            eprint!("{rendered}");
            eprintln!("error: `{file}` has errors");
            return 1;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let front_ms = t0.elapsed().as_secs_f64() * 1e3;
    let space = Arc::new(space);
    let t1 = Instant::now();
    let jit = match CompiledSpace::new(space.clone(), Backend::Jit, &[]) {
        Ok(c) => c.all_jit(),
        Err(e) => {
            eprintln!("error: cannot compile `{file}`: {e}");
            return 1;
        }
    };
    let jit_ms = t1.elapsed().as_secs_f64() * 1e3;
    let interp = match CompiledSpace::new(space.clone(), Backend::Interp, &[]) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot lower `{file}`: {e}");
            return 1;
        }
    };
    if jit.n_dec() == 0 {
        // a fixed network (resnet18.nas): one candidate, nothing to sample, evaluate in bulk
        // or step to; only the compile times mean something
        let compile_ms = front_ms + jit_ms;
        match format {
            Format::Json => println!("{}", json!({"spec": file, "decisions": 0, "metrics": jit.n_metrics(), "compile_ms": compile_ms, "front_end_ms": front_ms, "jit_ms": jit_ms})),
            Format::Text => {
                println!("{file}: 0 decisions (a fixed network: one candidate, no search throughput to measure), {} metrics", jit.n_metrics());
                println!("  compile      {compile_ms:>8.2} ms (front end {front_ms:.2} ms, jit {jit_ms:.2} ms)");
            }
        }
        return 0;
    }
    let mut rng = Rng::new(0);
    let mut rows = vec![0u64; BATCH * jit.n_dec()];
    jit.sample_batch(&mut rng, &mut rows);
    let interp_per_s = per_second(&interp, &rows);
    let jit_per_s = per_second(&jit, &rows);
    let chunk = &rows[..CHUNK.min(BATCH) * jit.n_dec()];
    let interp_chunk_per_s = per_second(&interp, chunk);
    let jit_chunk_per_s = per_second(&jit, chunk);
    let interp_sample_per_s = samples_per_second(&interp);
    let jit_sample_per_s = samples_per_second(&jit);
    let interp_neighbor_per_s = neighbors_per_second(&interp, &rows);
    let jit_neighbor_per_s = neighbors_per_second(&jit, &rows);
    // the paths a JIT-compiled space uses (measured above: every function compiled)
    let paths = nasc_compiler::compiled::Paths::choose(&jit.plan, Backend::Jit).describe();
    let compile_ms = front_ms + jit_ms;
    match format {
        Format::Json => println!(
            "{}",
            json!({"spec": file, "decisions": jit.n_dec(), "metrics": jit.n_metrics(), "batch": BATCH,
                   "interp_per_s": interp_per_s, "jit_per_s": jit_per_s, "speedup": jit_per_s / interp_per_s,
                   "chunk": CHUNK, "interp_chunk_per_s": interp_chunk_per_s, "jit_chunk_per_s": jit_chunk_per_s,
                   "interp_sample_per_s": interp_sample_per_s, "jit_sample_per_s": jit_sample_per_s,
                   "interp_neighbor_per_s": interp_neighbor_per_s, "jit_neighbor_per_s": jit_neighbor_per_s, "paths": paths,
                   "compile_ms": compile_ms, "front_end_ms": front_ms, "jit_ms": jit_ms})
        ),
        Format::Text => {
            println!("{file}: {} decisions, {} metrics, batches of {BATCH}, one thread", jit.n_dec(), jit.n_metrics());
            println!("  interpreter  {:>8.2} M candidates/s (metrics + feasibility)", interp_per_s / 1e6);
            println!("  jit          {:>8.2} M candidates/s ({:.1}x)", jit_per_s / 1e6, jit_per_s / interp_per_s);
            println!(
                "  in cache     {:>8.2} M/s interpreter, {:.2} M/s jit ({:.1}x; batches of {CHUNK}, the same rows' first {CHUNK})",
                interp_chunk_per_s / 1e6,
                jit_chunk_per_s / 1e6,
                jit_chunk_per_s / interp_chunk_per_s
            );
            println!("  sampling     {:>8.2} M/s interpreter, {:.2} M/s jit ({:.1}x)", interp_sample_per_s / 1e6, jit_sample_per_s / 1e6, jit_sample_per_s / interp_sample_per_s);
            println!(
                "  neighbors    {:>8.2} M/s interpreter, {:.2} M/s jit ({:.1}x; distance 1, one call each)",
                interp_neighbor_per_s / 1e6,
                jit_neighbor_per_s / 1e6,
                jit_neighbor_per_s / interp_neighbor_per_s
            );
            println!("  compile      {compile_ms:>8.2} ms (front end {front_ms:.2} ms, jit {jit_ms:.2} ms)");
            println!("  paths        {paths} (rule: the compiled code for every function, measured faster; see Paths::choose)");
        }
    }
    0
}

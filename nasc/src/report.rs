//! `nasc report`: summarize a stored run (text or JSON) and write SVG plots.
use crate::Format;
use nasc_runtime::report;
use nasc_runtime::store::SqliteStore;
use std::path::Path;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The run's SQLite file (written by `nasc search`).
    pub store: String,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write SVG plots into this folder: best-so-far vs trials and vs simulated time, and a
    /// Pareto front of reward against each `--pareto` metric.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<String>,
    /// Metric for a Pareto plot (repeatable; default: the run's params/flops/latency metrics).
    #[arg(long, value_name = "METRIC")]
    pub pareto: Vec<String>,
}

pub fn report(a: ReportArgs) -> u8 {
    let run = match SqliteStore::read(Path::new(&a.store)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    match a.format {
        Format::Text => print!("{}", report::text(&run)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report::json(&run)).unwrap_or_default()),
    }
    if let Some(dir) = &a.plots {
        match report::plots(&run, Path::new(dir), &a.pareto) {
            Ok(files) => {
                for f in files {
                    eprintln!("wrote {}", f.display());
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    0
}

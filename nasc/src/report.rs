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
    /// Needs --plots.
    #[arg(long, value_name = "METRIC", requires = "plots")]
    pub pareto: Vec<String>,
}

/// Every `--pareto` metric must be one of the run's.
fn check_pareto(names: &[String], pareto: &[String]) -> Result<(), String> {
    for m in pareto {
        if !names.contains(m) {
            let hint = nasc_grammar::diag::did_you_mean(m, names.iter().map(String::as_str)).map_or(String::new(), |s| format!("; did you mean `{s}`?"));
            return Err(format!("--pareto `{m}`: the run has no such metric (metrics: {}){hint}", names.join(", ")));
        }
    }
    Ok(())
}

pub fn report(a: ReportArgs) -> u8 {
    let path = Path::new(&a.store);
    let run = match SqliteStore::read(path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // refuse a bad request before printing anything
    if let Err(e) = check_pareto(&run.meta.metric_names, &a.pareto) {
        eprintln!("error: {e}");
        return 2;
    }
    match a.format {
        Format::Text => print!("{}", report::text(&run)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report::json(&run, path)).unwrap_or_default()),
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

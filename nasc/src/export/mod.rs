//! `nasc export` (a candidate as an ONNX model or as the graph document) and `nasc infer` (the
//! CPU forward of a candidate in eval mode on a `.npy` batch: what an exported model must
//! reproduce). Weights are PyTorch's default initialization from `--seed` (the trainer's:
//! `nasc train --seed S` starts from the same values) or a `nasc train --save` file.
pub mod npy;
pub mod onnx;
mod onnx_pb;
pub mod weights;

use crate::error::{CliError, ExportError, NetError};
use crate::netconv;
use clap::{Args, ValueEnum};
use nasc_compiler::graph::NetGraph;
use nasc_kernels::backend::CpuBackend;
use nasc_kernels::graph::Graph;
use nasc_kernels::model::Model;
use nasc_kernels::rng::Rng;
use serde_json::json;
use weights::Meta;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum ExportFormat {
    /// ONNX (opset 17), the inference network with its weights
    Onnx,
    /// the graph document (the trial document's `graph`)
    Json,
    /// the weights file of `nasc train --save` (safetensors), here of the initialized network
    /// or re-saved from `--weights`
    Safetensors,
}

/// Write a candidate's network as an ONNX model, as the graph document, or its weights.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The spec file.
    pub file: String,
    /// The candidate, in any of the spec's name formats or canonical form (default: the
    /// spec's default candidate).
    #[arg(long)]
    pub candidate: Option<String>,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Weights saved by `nasc train --save` (default: initialized from `--seed`).
    #[arg(long)]
    pub weights: Option<String>,
    /// Seeds the initialization when no `--weights` are given (as `nasc train --seed`).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The output file (`-`: stdout).
    #[arg(long)]
    pub out: String,
}

/// Run a candidate (eval mode, CPU) on a batch of inputs from a `.npy` file.
#[derive(Args, Debug)]
pub struct InferArgs {
    /// The spec file.
    pub file: String,
    /// The candidate (default: the spec's default candidate).
    #[arg(long)]
    pub candidate: Option<String>,
    /// Weights saved by `nasc train --save` (default: initialized from `--seed`).
    #[arg(long)]
    pub weights: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// A float32 `.npy` array `[N, C, H, W]` (the network's input shape).
    #[arg(long)]
    pub input: String,
    /// Where the logits go: a float32 `.npy` array `[N, classes]`.
    #[arg(long)]
    pub out: String,
}

/// A candidate of a compiled spec: its networks and what ties weights to it.
pub struct Resolved {
    pub net: NetGraph,
    pub exec: Graph,
    pub meta: Meta,
}

/// Compiles `file` with `sets` (diagnostics shown) and builds `candidate`'s network.
pub fn resolve(file: &str, sets: &[(String, String)], candidate: Option<&str>) -> Result<Resolved, u8> {
    let space = crate::commands::open(file, sets)?;
    let fail = |e: CliError, c: u8| {
        eprintln!("error: {e}");
        c
    };
    let cand = match candidate {
        None | Some("default") => space.default_candidate(),
        Some(name) => space.parse_name(name).map_err(|source| fail(CliError::Candidate { name: name.to_string(), source }, 2))?,
    };
    let text = crate::zoo::read(file).map_err(|e| fail(e, 2))?;
    let net = space.graph_of(&cand).map_err(|e| fail(NetError::from(e).into(), 1))?;
    let exec = netconv::to_kernels(&net).map_err(|e| fail(e.into(), 1))?;
    let meta = Meta {
        spec: file.to_string(),
        spec_sha256: nasc_runtime::store::spec_hash(&text, sets),
        sets: sets.to_vec(),
        candidate: space.name_of(&cand),
        genotype: space.canonical(&cand),
        input_shape: exec.input_shape(),
        classes: exec.classes(),
    };
    Ok(Resolved { net, exec, meta })
}

/// The network with the trainer's initialization from `seed`, or the weights of `path`;
/// with a description of where the values come from.
pub fn load_net(r: &Resolved, weights: Option<&str>, seed: u64) -> Result<(Model<CpuBackend>, String), ExportError> {
    let mut net = Model::new(CpuBackend, r.exec.clone(), &mut Rng::derive(seed, 1)).map_err(NetError::Invalid)?;
    match weights {
        Some(path) => {
            weights::load(path, &mut net, &r.meta)?;
            Ok((net, format!("loaded from {path}")))
        }
        None => Ok((net, format!("initialized from seed {seed}"))),
    }
}

fn write_out(out: &str, bytes: &[u8]) -> Result<(), ExportError> {
    if out == "-" {
        use std::io::Write;
        let mut o = std::io::stdout().lock();
        o.write_all(bytes).and_then(|_| o.flush()).map_err(ExportError::Stdout)
    } else {
        std::fs::write(out, bytes).map_err(|source| ExportError::Write { path: out.to_string(), source })
    }
}

pub fn export_cmd(a: ExportArgs, sets: &[(String, String)]) -> u8 {
    let r = match resolve(&a.file, sets, a.candidate.as_deref()) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let run = || -> Result<String, ExportError> {
        match a.format {
            ExportFormat::Json => {
                if a.weights.is_some() {
                    return Err(ExportError::GraphWeights);
                }
                let mut doc = crate::graphdoc::graph_json(&r.net, &r.exec);
                doc["candidate"] = json!(r.meta.candidate);
                doc["genotype"] = json!(r.meta.genotype);
                doc["spec_sha256"] = json!(r.meta.spec_sha256);
                let text = serde_json::to_string(&doc)? + "\n";
                write_out(&a.out, text.as_bytes())?;
                Ok(format!("the graph document of {} ({} nodes)", r.meta.candidate, r.exec.nodes.len()))
            }
            ExportFormat::Onnx => {
                let (net, from) = load_net(&r, a.weights.as_deref(), a.seed)?;
                let bytes = onnx::build(&net, &r.meta, &from);
                write_out(&a.out, &bytes)?;
                Ok(format!("{} as ONNX (opset {}, {} parameters, weights {from})", r.meta.candidate, onnx::OPSET, net.num_params()))
            }
            ExportFormat::Safetensors => {
                if a.out == "-" {
                    return Err(ExportError::SafetensorsStdout);
                }
                let (net, from) = load_net(&r, a.weights.as_deref(), a.seed)?;
                weights::save(&a.out, &net, &r.meta)?;
                Ok(format!("the weights of {} ({} parameters, {from})", r.meta.candidate, net.num_params()))
            }
        }
    };
    match run() {
        Ok(what) => {
            if a.out != "-" {
                println!("wrote {}: {what}", a.out);
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// Images per forward call of `nasc infer` (bounds the activations' memory).
const INFER_BATCH: usize = 64;

pub fn infer_cmd(a: InferArgs, sets: &[(String, String)]) -> u8 {
    let r = match resolve(&a.file, sets, a.candidate.as_deref()) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let run = || -> Result<String, ExportError> {
        let (shape, x) = npy::read(&a.input)?;
        let want = r.meta.input_shape;
        if shape.len() != 4 || shape[1..] != want || shape[0] == 0 {
            return Err(ExportError::InputShape { path: a.input.clone(), shape, want });
        }
        let (mut net, from) = load_net(&r, a.weights.as_deref(), a.seed)?;
        let (n, per) = (shape[0], want.iter().product::<usize>());
        let mut logits = Vec::with_capacity(n * r.meta.classes);
        for start in (0..n).step_by(INFER_BATCH) {
            let m = INFER_BATCH.min(n - start);
            logits.extend_from_slice(&net.forward(&x[start * per..(start + m) * per], m, false));
        }
        npy::write(&a.out, &[n, r.meta.classes], &logits)?;
        Ok(format!("wrote {}: logits [{n}, {}] of {} (eval mode, cpu, weights {from})", a.out, r.meta.classes, r.meta.candidate))
    };
    match run() {
        Ok(msg) => {
            println!("{msg}");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

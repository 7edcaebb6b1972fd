//! A round's search-space subset as a nasc spec, so that any strategy can search it
//! (`nasc search round-3.nas --strategy re ...`): one `subset` per layer over that layer's
//! active ops (at least one op in a layer without identity), the supernet's macro-architecture,
//! and every op written with the language's builtins so that the spec's `flops` equal
//! [`Supernet::arch_macs`] and its `params` the sub-network's (checked in
//! `nasc/tests/nse_spec.rs`).

use crate::supernet::{BranchOp, SupernetSpec};
use std::fmt::Write;

/// Why a subset cannot be written as a spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecError {
    /// `active` does not have one op list per layer, or names an op outside the pool.
    Shape(String),
    /// A layer without identity has no op (it would have no output).
    EmptyReduction(usize),
    /// A pool with more members than a subset may have (63).
    TooMany(usize),
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpecError::Shape(s) => write!(f, "cannot write the subset as a spec: {s}"),
            SpecError::EmptyReduction(l) => write!(f, "layer {l} has no identity and no active op"),
            SpecError::TooMany(l) => write!(f, "layer {l} has more than 63 active ops"),
        }
    }
}

impl std::error::Error for SpecError {}

fn op_block(op: BranchOp) -> String {
    let name = op.name();
    match op {
        BranchOp::Dw { k, t, d } => format!("block {name}(x, out, s) = expand(x, {t}) |> dwconv({k}, stride = s, dilation = {d}) |> bn |> relu |> conv(out, 1) |> bn;"),
        BranchOp::Ssc { k, t } => format!(
            "block {name}(x, out, s) {{\n  let y = expand(x, {t});\n  return y |> conv(y.c, [1, {k}], stride = s) |> bn |> relu |> conv(y.c, [{k}, 1]) |> bn |> relu |> conv(out, 1) |> bn;\n}}"
        ),
        BranchOp::PoolNeck { k, max, t } => {
            let pool = if max { "maxpool" } else { "avgpool" };
            format!("block {name}(x, out, s) = expand(x |> {pool}({k}, stride = s), {t}) |> conv(1, 1) |> bn |> relu |> conv(out, 1) |> bn;")
        }
    }
}

/// The spec of the subset `active` (per layer, pool indices) of `spec`'s supernet, named
/// `name`; `title` goes into its first comment line.
pub fn subset_spec(spec: &SupernetSpec, active: &[Vec<usize>], name: &str, title: &str) -> Result<String, SpecError> {
    if active.len() != spec.layers.len() {
        return Err(SpecError::Shape(format!("{} op lists for {} layers", active.len(), spec.layers.len())));
    }
    if let Some(&o) = active.iter().flatten().find(|&&o| o >= spec.pool.len()) {
        return Err(SpecError::Shape(format!("op {o} is not in the pool of {}", spec.pool.len())));
    }
    let mut used: Vec<usize> = active.iter().flatten().copied().collect();
    used.sort_unstable();
    used.dedup();
    let mut s = String::new();
    let [c, h, w] = spec.input;
    let _ = writeln!(s, "// {title}");
    let _ = writeln!(s, "// A search-space subset written by NSE (docs/nse.md): one subset of ops per layer; a layer");
    let _ = writeln!(s, "// outputs the mean of its selected ops, plus its input when it keeps its shape.");
    let _ = writeln!(s, "space {name};\n");
    let _ = writeln!(s, "input [{c}, {h}, {w}];");
    let _ = writeln!(s, "count flops {{ conv, linear }}\n");
    let _ = writeln!(s, "block cbr(x, c, k, s = 1) = x |> conv(c, k, stride = s) |> bn |> relu;");
    let _ = writeln!(s, "block expand(x, t) = if t == 1 {{ x }} else {{ cbr(x, x.c * t, 1) }};");
    for &o in &used {
        let _ = writeln!(s, "{}", op_block(spec.pool[o]));
    }
    let _ = writeln!(s);
    for (l, ops) in active.iter().enumerate() {
        if ops.is_empty() {
            if !spec.has_identity(l) {
                return Err(SpecError::EmptyReduction(l));
            }
            continue;
        }
        if ops.len() > 63 {
            return Err(SpecError::TooMany(l));
        }
        let min = if spec.has_identity(l) { 0 } else { 1 };
        let names: Vec<String> = ops.iter().map(|&o| spec.pool[o].name()).collect();
        let _ = writeln!(s, "subset layer{l} of [{}] size {min}..={};", names.join(", "), ops.len());
    }
    let _ = writeln!(s, "\nnetwork {{");
    let _ = writeln!(s, "  let x = input |> cbr({}, 3, 2);", spec.stem);
    for (l, &(cout, stride)) in spec.layers.iter().enumerate() {
        let ops = if active[l].is_empty() { "[]".to_string() } else { format!("[op(x, {cout}, {stride}) for op in layer{l}]") };
        let ins = if spec.has_identity(l) { format!("[x] + {ops}") } else { ops };
        let _ = writeln!(s, "  x = mean({ins});");
    }
    let _ = writeln!(s, "  return x |> cbr({}, 1) |> gap |> linear({});", spec.head, spec.classes);
    let _ = writeln!(s, "}}\n");
    let _ = writeln!(s, "metric params;\nmetric flops;\nmetric accuracy = external;\nmaximize accuracy;");
    Ok(s)
}

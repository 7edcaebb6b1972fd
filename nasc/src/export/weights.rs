//! A network's tensors by name, and `nasc train --save` files: safetensors holding every
//! parameter and BN running statistic of a candidate, with metadata tying them to the spec.
//!
//! Names follow PyTorch's `state_dict` with the node index as the module path: `n{i}.conv.weight`
//! `[out, c/groups, kh, kw]`, `n{i}.conv.bias`, `n{i}.bn.weight` (gamma), `n{i}.bn.bias` (beta),
//! `n{i}.bn.running_mean`, `n{i}.bn.running_var`, `n{i}.linear.weight` `[out, c*h*w]`,
//! `n{i}.linear.bias`, `n{i}.se.fc1.weight` `[mid, c, 1, 1]`, `n{i}.se.fc1.bias`,
//! `n{i}.se.fc2.weight` `[c, mid, 1, 1]`, `n{i}.se.fc2.bias`; `i` is the node's index in the
//! graph document (`nasc export --format json`). docs/export.md is the reference.
use crate::error::ExportError;
use nasc_kernels::backend::Ops;
use nasc_kernels::graph::{Graph, Op};
use nasc_kernels::init::Layout;
use nasc_kernels::model::Model;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::ops::Range;

/// The `format` metadata value of a weights file, and its version.
pub const FORMAT: &str = "nasc.weights";
pub const FORMAT_VERSION: &str = "1";

/// Where a tensor lives in a network's flat vectors ([`Layout`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Src {
    /// A learnable parameter: a range of the flat parameters (`Model::params_host`).
    Param(Range<usize>),
    /// A BN running statistic: a range of the flat statistics (`Model::stats_host`).
    Stat(Range<usize>),
}

/// One named tensor of a network.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub src: Src,
}

impl Tensor {
    /// The tensor's values in the flat `params` and `stats`.
    pub fn data<'a>(&self, params: &'a [f32], stats: &'a [f32]) -> &'a [f32] {
        match &self.src {
            Src::Param(r) => &params[r.clone()],
            Src::Stat(r) => &stats[r.clone()],
        }
    }
}

/// Every tensor of graph `g` (laid out by `layout`) in node order (per node: its parameters,
/// then its running statistics), named and shaped as the module doc says.
pub fn tensors(g: &Graph, layout: &Layout) -> Vec<Tensor> {
    let mut out = Vec::with_capacity(layout.slots.len() + 2 * g.nodes.len());
    let mut infos = layout.slots.iter().peekable();
    for (i, node) in g.nodes.iter().enumerate() {
        let cin = node.inputs.first().map(|&j| g.nodes[j].shape).unwrap_or([0; 3]);
        while let Some(p) = infos.next_if(|p| p.node == i) {
            let (name, shape) = match (&node.op, p.name) {
                (Op::Conv { out, k, groups, .. }, "weight") => ("conv.weight", vec![*out, cin[0] / groups, k.0, k.1]),
                (Op::Conv { out, .. }, _) => ("conv.bias", vec![*out]),
                (Op::Linear { out, .. }, "weight") => ("linear.weight", vec![*out, cin.iter().product()]),
                (Op::Linear { out, .. }, _) => ("linear.bias", vec![*out]),
                (Op::Bn, "gamma") => ("bn.weight", vec![cin[0]]),
                (Op::Bn, _) => ("bn.bias", vec![cin[0]]),
                (Op::Se { mid, .. }, "fc1.weight") => ("se.fc1.weight", vec![*mid, cin[0], 1, 1]),
                (Op::Se { mid, .. }, "fc1.bias") => ("se.fc1.bias", vec![*mid]),
                (Op::Se { mid, .. }, "fc2.weight") => ("se.fc2.weight", vec![cin[0], *mid, 1, 1]),
                (Op::Se { .. }, _) => ("se.fc2.bias", vec![cin[0]]),
                (op, n) => unreachable!("{op:?} has no parameter {n}"),
            };
            debug_assert_eq!(shape.iter().product::<usize>(), p.range.len(), "n{i}.{name}");
            out.push(Tensor { name: format!("n{i}.{name}"), shape, src: Src::Param(p.range.clone()) });
        }
        let s = layout.node_stats(i);
        if !s.is_empty() {
            let c = s.len() / 2;
            out.push(Tensor { name: format!("n{i}.bn.running_mean"), shape: vec![c], src: Src::Stat(s.start..s.start + c) });
            out.push(Tensor { name: format!("n{i}.bn.running_var"), shape: vec![c], src: Src::Stat(s.start + c..s.end) });
        }
    }
    out
}

/// What ties a weights file to one network of one spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    /// The spec file as given (informative; the hash is what is checked).
    pub spec: String,
    /// `runtime::store::spec_hash` of the spec text and the `--set` values.
    pub spec_sha256: String,
    pub sets: Vec<(String, String)>,
    /// The candidate in the spec's name format, and canonical.
    pub candidate: String,
    pub genotype: String,
    pub input_shape: [usize; 3],
    pub classes: usize,
}

/// `--set` values as messages show them.
pub(crate) fn sets_text(sets: &[(String, String)]) -> String {
    if sets.is_empty() {
        "no `--set`".into()
    } else {
        sets.iter().map(|(k, v)| format!("`--set {k}={v}`")).collect::<Vec<_>>().join(" ")
    }
}

impl Meta {
    fn to_map(&self, params: usize) -> HashMap<String, String> {
        let mut m = HashMap::new();
        m.insert("format".into(), FORMAT.into());
        m.insert("format_version".into(), FORMAT_VERSION.into());
        m.insert("spec".into(), self.spec.clone());
        m.insert("spec_sha256".into(), self.spec_sha256.clone());
        m.insert("sets".into(), serde_json::to_string(&self.sets).unwrap_or_default());
        m.insert("candidate".into(), self.candidate.clone());
        m.insert("genotype".into(), self.genotype.clone());
        m.insert("input_shape".into(), serde_json::to_string(&self.input_shape).unwrap_or_default());
        m.insert("classes".into(), self.classes.to_string());
        m.insert("params".into(), params.to_string());
        m
    }
}

fn le_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes `net`'s tensors and `meta` to `path` (safetensors, F32).
pub fn save<B: Ops>(path: &str, net: &Model<B>, meta: &Meta) -> Result<(), ExportError> {
    let ts = tensors(net.graph(), net.layout());
    let (params, stats) = (net.params_host(), net.stats_host());
    let bytes: Vec<Vec<u8>> = ts.iter().map(|t| le_bytes(t.data(&params, &stats))).collect();
    let mut views = Vec::with_capacity(ts.len());
    for (t, b) in ts.iter().zip(&bytes) {
        views.push((t.name.clone(), TensorView::new(Dtype::F32, t.shape.clone(), b).map_err(|source| ExportError::Tensor { tensor: t.name.clone(), source })?));
    }
    let data = safetensors::tensor::serialize(views, Some(meta.to_map(net.num_params()))).map_err(ExportError::Encode)?;
    std::fs::write(path, data).map_err(|source| ExportError::Write { path: path.to_string(), source })
}

/// Reads `path` into `net`'s parameters and running statistics after checking that the file
/// is a nasc weights file of the network `want` describes: the same spec text and `--set`
/// values, candidate, input shape and classes, and every tensor present with its shape.
pub fn load<B: Ops>(path: &str, net: &mut Model<B>, want: &Meta) -> Result<(), ExportError> {
    let p = || path.to_string();
    let bytes = std::fs::read(path).map_err(|source| ExportError::Read { path: p(), source })?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|source| ExportError::NotSafetensors { path: p(), source })?;
    let meta = header.metadata().clone().unwrap_or_default();
    let get = |k: &str| meta.get(k).map(String::as_str).unwrap_or("");
    if get("format") != FORMAT {
        return Err(ExportError::NoMetadata { path: p() });
    }
    if get("format_version") != FORMAT_VERSION {
        return Err(ExportError::Version { path: p(), version: get("format_version").to_string() });
    }
    if get("spec_sha256") != want.spec_sha256 {
        return Err(ExportError::OtherSpec {
            path: p(),
            saved_sha256: get("spec_sha256").to_string(),
            saved_spec: get("spec").to_string(),
            saved_sets: serde_json::from_str(get("sets")).unwrap_or_default(),
            want_sha256: want.spec_sha256.clone(),
            want_spec: want.spec.clone(),
            want_sets: want.sets.clone(),
        });
    }
    if get("genotype") != want.genotype {
        return Err(ExportError::OtherCandidate { path: p(), saved: get("candidate").to_string(), want: want.candidate.clone() });
    }
    let shape = serde_json::to_string(&want.input_shape).unwrap_or_default();
    if get("input_shape") != shape {
        return Err(ExportError::OtherInput { path: p(), saved: get("input_shape").to_string(), want: shape });
    }
    if get("classes") != want.classes.to_string() {
        return Err(ExportError::OtherClasses { path: p(), saved: get("classes").to_string(), want: want.classes });
    }
    let st = SafeTensors::deserialize(&bytes).map_err(|source| ExportError::InvalidSafetensors { path: p(), source })?;
    let expected = tensors(net.graph(), net.layout());
    let names: std::collections::HashSet<&str> = expected.iter().map(|t| t.name.as_str()).collect();
    if let Some(extra) = st.names().into_iter().find(|n| !names.contains(n)) {
        return Err(ExportError::ExtraTensor { path: p(), tensor: extra.to_string() });
    }
    let (mut params, mut stats) = (vec![0.0; net.num_params()], vec![0.0; net.layout().num_stats()]);
    for t in &expected {
        let v = st.tensor(&t.name).map_err(|_| ExportError::MissingTensor { path: p(), tensor: t.name.clone() })?;
        if v.dtype() != Dtype::F32 || v.shape() != t.shape.as_slice() {
            return Err(ExportError::TensorShape { path: p(), tensor: t.name.clone(), dtype: v.dtype(), shape: v.shape().to_vec(), want: t.shape.clone() });
        }
        let vals: Vec<f32> = v.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if let Some(&value) = vals.iter().find(|x| !x.is_finite()) {
            return Err(ExportError::NonFinite { path: p(), tensor: t.name.clone(), value });
        }
        match &t.src {
            Src::Param(r) => params[r.clone()].copy_from_slice(&vals),
            Src::Stat(r) => stats[r.clone()].copy_from_slice(&vals),
        }
    }
    net.set_params(&params);
    net.set_stats(&stats);
    Ok(())
}

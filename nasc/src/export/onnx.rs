//! A candidate's inference network as an ONNX model (opset 17, IR version 8): BN in eval mode
//! with its running statistics, input `input` `[N, C, H, W]` and output `logits`
//! `[N, classes]` with a symbolic batch dimension `N`. Every tensor of [`super::weights`] is an
//! initializer under its name. The graph computes what `Model::forward` computes in eval mode,
//! with the same zero rules (docs/export.md has the op mapping):
//!
//! - nodes that are identically zero ([`nasc_kernels::graph::Graph::plan`]) are not computed;
//!   an op that reads one and does not keep zero (bn, a biased conv or linear, sigmoid,
//!   h-sigmoid, concat) reads a zero tensor built with `ConstantOfShape` from the batch size;
//!   add/mean skip zero operands (mean still divides by all of them);
//! - nodes the output does not depend on are not emitted, but their parameters stay as
//!   initializers, so the file holds every parameter the spec's `params` counts.
use super::onnx_pb::*;
use super::weights::{tensors, Meta};
use nasc_kernels::backend::Ops;
use nasc_kernels::graph::{Op, Pad4};
use nasc_kernels::model::Model;
use nasc_kernels::shape::Act;
use prost::Message;
use std::collections::HashMap;

pub const OPSET: i64 = 17;
pub const IR_VERSION: i64 = 8;

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto { name: name.into(), ints: v.to_vec(), r#type: attr_type::INTS, ..Default::default() }
}
fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto { name: name.into(), i: Some(v), r#type: attr_type::INT, ..Default::default() }
}
fn float(name: &str, v: f32) -> AttributeProto {
    AttributeProto { name: name.into(), f: Some(v), r#type: attr_type::FLOAT, ..Default::default() }
}

fn f32_tensor(name: &str, dims: &[usize], data: &[f32]) -> TensorProto {
    TensorProto { dims: dims.iter().map(|&d| d as i64).collect(), data_type: data_type::FLOAT, name: name.into(), raw_data: data.iter().flat_map(|x| x.to_le_bytes()).collect() }
}
fn i64_tensor(name: &str, dims: &[usize], data: &[i64]) -> TensorProto {
    TensorProto { dims: dims.iter().map(|&d| d as i64).collect(), data_type: data_type::INT64, name: name.into(), raw_data: data.iter().flat_map(|x| x.to_le_bytes()).collect() }
}

fn value_info(name: &str, dims: &[Option<usize>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Some(v) => DimValue::DimValue(*v as i64),
                None => DimValue::DimParam("N".into()),
            }),
        })
        .collect();
    ValueInfoProto { name: name.into(), r#type: Some(TypeProto { tensor_type: Some(TypeProtoTensor { elem_type: data_type::FLOAT, shape: Some(TensorShapeProto { dim }) }) }) }
}

/// ONNX `pads` of a 2-D op: `[top, left, bottom, right]`.
/// An activation as ONNX nodes on value `x`, its result named `out`.
fn act_node(b: &mut Builder, a: Act, x: &str, out: &str) -> String {
    match a {
        Act::Relu => b.node("Relu", &[x], out, vec![]),
        Act::Relu6 => {
            let (lo, hi) = (b.scalar(0.0), b.scalar(6.0));
            b.node("Clip", &[x, &lo, &hi], out, vec![])
        }
        Act::Swish => {
            let s = b.node("Sigmoid", &[x], &format!("{out}.sigmoid"), vec![]);
            b.node("Mul", &[x, &s], out, vec![])
        }
        Act::HSwish => b.node("HardSwish", &[x], out, vec![]),
        Act::Sigmoid => b.node("Sigmoid", &[x], out, vec![]),
        Act::HSigmoid => b.node("HardSigmoid", &[x], out, vec![float("alpha", 1.0 / 6.0), float("beta", 0.5)]),
    }
}

fn pads(p: &Pad4) -> Vec<i64> {
    [p.top, p.left, p.bottom, p.right].iter().map(|&v| v as i64).collect()
}

#[derive(Default)]
struct Builder {
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    consts: HashMap<String, ()>,
    zeros: HashMap<[usize; 3], String>,
    batch: Option<String>,
}

impl Builder {
    fn node(&mut self, op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> String {
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: output.into(),
            op_type: op.into(),
            attribute,
            domain: String::new(),
        });
        output.into()
    }
    /// A named constant initializer, added once.
    fn constant(&mut self, t: TensorProto) -> String {
        let name = t.name.clone();
        if self.consts.insert(name.clone(), ()).is_none() {
            self.inits.push(t);
        }
        name
    }
    fn scalar(&mut self, v: f32) -> String {
        self.constant(f32_tensor(&format!("const.{v}"), &[], &[v]))
    }
    /// An all-zero `[N, c, h, w]` tensor (one per shape).
    fn zero(&mut self, shape: [usize; 3]) -> String {
        if let Some(z) = self.zeros.get(&shape) {
            return z.clone();
        }
        let batch = match &self.batch {
            Some(b) => b.clone(),
            None => {
                let b = self.node("Shape", &["input"], "batch", vec![int("start", 0), int("end", 1)]);
                self.batch = Some(b.clone());
                b
            }
        };
        let [c, h, w] = shape;
        let tag = format!("zero.{c}x{h}x{w}");
        let rest = self.constant(i64_tensor(&format!("{tag}.chw"), &[3], &[c as i64, h as i64, w as i64]));
        let dims = self.node("Concat", &[&batch, &rest], &format!("{tag}.shape"), vec![int("axis", 0)]);
        let value = AttributeProto { name: "value".into(), t: Some(f32_tensor("", &[1], &[0.0])), r#type: attr_type::TENSOR, ..Default::default() };
        let z = self.node("ConstantOfShape", &[&dims], &tag, vec![value]);
        self.zeros.insert(shape, z.clone());
        z
    }
}

/// The ONNX model of `net` (eval mode) with its current parameters and running statistics;
/// `meta` and `weights` (where the values come from) go into the model's metadata.
pub fn build<B: Ops>(net: &Model<B>, meta: &Meta, weights: &str) -> Vec<u8> {
    let g = net.graph();
    let plan = net.plan();
    let mut b = Builder::default();
    let all = tensors(g, net.layout());
    let (params, stats) = (net.params_host(), net.stats_host());
    for t in &all {
        b.inits.push(f32_tensor(&t.name, &t.shape, t.data(&params, &stats)));
    }
    let names: std::collections::HashSet<&str> = all.iter().map(|t| t.name.as_str()).collect();
    let p = |i: usize, s: &str| -> String {
        let n = format!("n{i}.{s}");
        debug_assert!(names.contains(n.as_str()), "{n}");
        n
    };
    // the value holding each node's output (None: identically zero, or not computed)
    let mut val: Vec<Option<String>> = vec![None; g.nodes.len()];
    for (i, node) in g.nodes.iter().enumerate() {
        if i == 0 {
            val[0] = Some("input".into());
            continue;
        }
        if !plan.live[i] {
            continue;
        }
        let out = format!("v{i}");
        // input k's value, a zero tensor where it is zero
        let arg = |b: &mut Builder, k: usize| -> String {
            let j = node.inputs[k];
            match &val[j] {
                Some(v) => v.clone(),
                None => b.zero(g.nodes[j].shape),
            }
        };
        let v = match &node.op {
            Op::Input => unreachable!("only node 0 is the input"),
            Op::Conv { k, stride, groups, dilation, pad, bias, .. } => {
                let x = arg(&mut b, 0);
                let w = p(i, "conv.weight");
                // (a conv without bias has no `conv.bias` initializer)
                let bb = if *bias { p(i, "conv.bias") } else { String::new() };
                let ins: Vec<&str> = if *bias { vec![&x, &w, &bb] } else { vec![&x, &w] };
                let attrs = vec![
                    ints("kernel_shape", &[k.0 as i64, k.1 as i64]),
                    ints("strides", &[*stride as i64; 2]),
                    ints("dilations", &[*dilation as i64; 2]),
                    int("group", *groups as i64),
                    ints("pads", &pads(pad)),
                ];
                b.node("Conv", &ins, &out, attrs)
            }
            Op::Bn => {
                let x = arg(&mut b, 0);
                let ins = [x, p(i, "bn.weight"), p(i, "bn.bias"), p(i, "bn.running_mean"), p(i, "bn.running_var")];
                b.node("BatchNormalization", &ins.iter().map(String::as_str).collect::<Vec<_>>(), &out, vec![float("epsilon", 1e-5), float("momentum", 0.9)])
            }
            Op::Act(a) => {
                let x = arg(&mut b, 0);
                act_node(&mut b, *a, &x, &out)
            }
            Op::Pool { max, k, stride, pad, count_include_pad } => {
                let x = arg(&mut b, 0);
                let mut attrs = vec![ints("kernel_shape", &[k.0 as i64, k.1 as i64]), ints("strides", &[*stride as i64; 2]), ints("pads", &pads(pad))];
                if *max {
                    b.node("MaxPool", &[&x], &out, attrs)
                } else {
                    attrs.push(int("count_include_pad", *count_include_pad as i64));
                    b.node("AveragePool", &[&x], &out, attrs)
                }
            }
            Op::Gap => {
                let x = arg(&mut b, 0);
                b.node("GlobalAveragePool", &[&x], &out, vec![])
            }
            Op::Linear { bias, .. } => {
                let x = arg(&mut b, 0);
                let flat = b.node("Flatten", &[&x], &format!("{out}.flat"), vec![int("axis", 1)]);
                let (w, bb) = (p(i, "linear.weight"), p(i, "linear.bias"));
                let ins: Vec<&str> = if *bias { vec![&flat, &w, &bb] } else { vec![&flat, &w] };
                let y = b.node("Gemm", &ins, &format!("{out}.gemm"), vec![int("transB", 1)]);
                let axes = b.constant(i64_tensor("const.axes23", &[2], &[2, 3]));
                b.node("Unsqueeze", &[&y, &axes], &out, vec![])
            }
            Op::Se { act, gate, .. } => {
                let x = arg(&mut b, 0);
                let s = b.node("GlobalAveragePool", &[&x], &format!("{out}.squeeze"), vec![]);
                let one = || vec![ints("kernel_shape", &[1, 1])];
                let z = b.node("Conv", &[&s, &p(i, "se.fc1.weight"), &p(i, "se.fc1.bias")], &format!("{out}.fc1"), one());
                let r = act_node(&mut b, *act, &z, &format!("{out}.act"));
                let u = b.node("Conv", &[&r, &p(i, "se.fc2.weight"), &p(i, "se.fc2.bias")], &format!("{out}.fc2"), one());
                let gate = act_node(&mut b, *gate, &u, &format!("{out}.gate"));
                b.node("Mul", &[&x, &gate], &out, vec![])
            }
            Op::Identity => arg(&mut b, 0),
            // inference: dropout is the identity
            Op::Dropout { .. } => arg(&mut b, 0),
            // ONNX broadcasts a [N, C, 1, 1] side over the other's pixels
            Op::Mul => {
                let (x, y) = (arg(&mut b, 0), arg(&mut b, 1));
                b.node("Mul", &[&x, &y], &out, vec![])
            }
            Op::Add | Op::Mean => {
                let nz: Vec<String> = node.inputs.iter().filter_map(|&j| val[j].clone()).collect();
                let nz: Vec<&str> = nz.iter().map(String::as_str).collect();
                let scale = node.op == Op::Mean && node.inputs.len() > 1;
                let s = match (nz.len(), scale) {
                    (1, _) => nz[0].to_string(),
                    (_, false) => b.node("Sum", &nz, &out, vec![]),
                    (_, true) => b.node("Sum", &nz, &format!("{out}.sum"), vec![]),
                };
                if scale {
                    let k = b.scalar(1.0 / node.inputs.len() as f32);
                    b.node("Mul", &[&s, &k], &out, vec![])
                } else {
                    s
                }
            }
            Op::Concat => {
                let xs: Vec<String> = (0..node.inputs.len()).map(|k| arg(&mut b, k)).collect();
                b.node("Concat", &xs.iter().map(String::as_str).collect::<Vec<_>>(), &out, vec![int("axis", 1)])
            }
            Op::Zero => unreachable!("zero nodes are not live"),
        };
        val[i] = Some(v);
    }
    let last = match &val[g.output] {
        Some(v) => v.clone(),
        None => b.zero(g.nodes[g.output].shape),
    };
    b.node("Flatten", &[&last], "logits", vec![int("axis", 1)]);
    let [c, h, w] = g.input_shape();
    let graph = GraphProto {
        name: meta.candidate.clone(),
        node: b.nodes,
        initializer: b.inits,
        doc_string: format!("candidate `{}` of `{}`", meta.candidate, meta.spec),
        input: vec![value_info("input", &[None, Some(c), Some(h), Some(w)])],
        output: vec![value_info("logits", &[None, Some(g.classes())])],
    };
    let kv = |k: &str, v: String| StringStringEntryProto { key: k.into(), value: v };
    let model = ModelProto {
        ir_version: IR_VERSION,
        producer_name: "nasc".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!("nasc export of candidate `{}` of `{}`", meta.candidate, meta.spec),
        graph: Some(graph),
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: OPSET }],
        metadata_props: vec![
            kv("spec", meta.spec.clone()),
            kv("spec_sha256", meta.spec_sha256.clone()),
            kv("sets", serde_json::to_string(&meta.sets).unwrap_or_default()),
            kv("candidate", meta.candidate.clone()),
            kv("genotype", meta.genotype.clone()),
            kv("weights", weights.into()),
        ],
    };
    model.encode_to_vec()
}

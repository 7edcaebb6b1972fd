//! A candidate's network as data: the `graph` of the trial document (`--evaluator command:`) and
//! of `nasc export --format json`. Built from the trainer's executable graph (explicit padding on
//! each side, the pooling divisor rule), so a script that follows it computes what nasc's CPU
//! backend computes. The format is documented in README.md ("The graph document").
//!
//! Nodes are in execution order (inputs before users), node 0 the input; `op` names follow
//! PyTorch: `input`, `conv` (`nn.Conv2d`, zero padding `[top, bottom, left, right]`), `bn`
//! (`nn.BatchNorm2d`, eps 1e-5, momentum 0.1), the activations `relu`, `relu6`, `swish` (SiLU),
//! `hswish`, `sigmoid`, `hsigmoid`, `maxpool`/`avgpool`, `gap` (global average pooling to
//! `[c, 1, 1]`), `linear` (over the flattened `c*h*w` input; output `[out, 1, 1]`), `se`
//! (squeeze-excite: gap, 1x1 conv c->mid with bias, relu, 1x1 conv mid->c with bias, hsigmoid,
//! scale), `zero` (all zeros of its shape), `identity`, `add` (sum of the inputs), `mean` (their
//! mean), `concat` (along channels).
use nasc_compiler::graph::NetGraph;
use nasc_kernels::graph::{Graph, Op, Pad4};
use nasc_kernels::shape::Act;
use serde_json::{json, Map, Value};

/// Version of the graph document; bumped when a field changes meaning.
pub const VERSION: u64 = 1;

fn act_name(a: Act) -> &'static str {
    match a {
        Act::Relu => "relu",
        Act::Relu6 => "relu6",
        Act::Swish => "swish",
        Act::HSwish => "hswish",
        Act::Sigmoid => "sigmoid",
        Act::HSigmoid => "hsigmoid",
    }
}

fn pad(p: &Pad4) -> Value {
    json!([p.top, p.bottom, p.left, p.right])
}

/// Learnable parameters of node `i` (what `nn.Module.parameters()` counts for it).
pub fn node_params(g: &Graph, i: usize) -> u64 {
    let n = &g.nodes[i];
    let in_shape = n.inputs.first().map(|&j| g.nodes[j].shape).unwrap_or([0; 3]);
    let (c, out) = (in_shape[0] as u64, n.shape[0] as u64);
    match &n.op {
        Op::Conv { k, groups, bias, .. } => out * (c / *groups as u64) * (k.0 * k.1) as u64 + if *bias { out } else { 0 },
        Op::Bn => 2 * out,
        Op::Linear { out, bias } => {
            let inp: u64 = in_shape.iter().map(|&x| x as u64).product();
            *out as u64 * inp + if *bias { *out as u64 } else { 0 }
        }
        Op::Se { mid, .. } => {
            let m = *mid as u64;
            c * m + m + m * c + c
        }
        _ => 0,
    }
}

/// The innermost scope (block call or decision option) of each node, if any.
fn scopes(g: &NetGraph) -> Vec<Option<&str>> {
    let mut best: Vec<Option<(u32, &str)>> = vec![None; g.nodes.len()];
    for s in &g.scopes {
        let width = s.end.saturating_sub(s.first);
        for i in s.first..s.end.min(g.nodes.len() as u32) {
            let slot = &mut best[i as usize];
            if slot.is_none_or(|(w, _)| width < w) {
                *slot = Some((width, s.name.as_str()));
            }
        }
    }
    best.into_iter().map(|b| b.map(|(_, n)| n)).collect()
}

/// The graph document of a network: `exec` is `net` converted for execution
/// ([`crate::netconv::to_kernels`]), so both have the same nodes.
pub fn graph_json(net: &NetGraph, exec: &Graph) -> Value {
    let scope = scopes(net);
    let mut nodes = Vec::with_capacity(exec.nodes.len());
    let mut edges = Vec::new();
    let mut total = 0u64;
    for (i, n) in exec.nodes.iter().enumerate() {
        let mut o = Map::new();
        o.insert("id".into(), json!(i));
        let attrs: Value = match &n.op {
            Op::Input => json!({"op": "input"}),
            Op::Conv { out, k, stride, groups, dilation, pad: p, bias } => {
                json!({"op": "conv", "out_channels": out, "kernel": [k.0, k.1], "stride": stride, "groups": groups, "dilation": dilation, "padding": pad(p), "bias": bias})
            }
            Op::Bn => json!({"op": "bn", "eps": 1e-5, "momentum": 0.1}),
            Op::Act(a) => json!({"op": act_name(*a)}),
            Op::Pool { max, k, stride, pad: p, count_include_pad } => {
                json!({"op": if *max { "maxpool" } else { "avgpool" }, "kernel": [k.0, k.1], "stride": stride, "padding": pad(p), "count_include_pad": count_include_pad})
            }
            Op::Gap => json!({"op": "gap"}),
            Op::Linear { out, bias } => json!({"op": "linear", "out_features": out, "bias": bias}),
            Op::Se { mid, act, gate } => json!({"op": "se", "mid": mid, "act": act_name(*act), "gate": act_name(*gate)}),
            Op::Mul => json!({"op": "mul"}),
            Op::Dropout { p } => json!({"op": "dropout", "p": (*p as f64 * 1e6).round() / 1e6}),
            Op::Zero => json!({"op": "zero"}),
            Op::Identity => json!({"op": "identity"}),
            Op::Add => json!({"op": "add"}),
            Op::Mean => json!({"op": "mean"}),
            Op::Concat => json!({"op": "concat"}),
        };
        if let Value::Object(a) = attrs {
            o.extend(a);
        }
        o.insert("inputs".into(), json!(n.inputs));
        o.insert("input_shapes".into(), Value::Array(n.inputs.iter().map(|&j| json!(exec.nodes[j].shape)).collect()));
        o.insert("shape".into(), json!(n.shape));
        let p = node_params(exec, i);
        total += p;
        o.insert("params".into(), json!(p));
        if let Some(s) = scope.get(i).copied().flatten() {
            o.insert("scope".into(), json!(s));
        }
        for &j in &n.inputs {
            edges.push(json!([j, i]));
        }
        nodes.push(Value::Object(o));
    }
    json!({
        "version": VERSION,
        "input_shape": exec.input_shape(),
        "output": exec.output,
        "output_shape": exec.nodes[exec.output].shape,
        "params": total,
        "nodes": nodes,
        "edges": edges,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// For every zoo spec's default and sampled candidates the document's parameter count equals
    /// the compiler's `params` metric, every edge points backwards, and shapes chain.
    #[test]
    fn zoo_documents_agree_with_the_compiler() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs");
        let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "nas")).collect();
        files.sort();
        let mut n = 0;
        for f in files {
            let path = f.to_string_lossy().into_owned();
            let Ok((Some(space), _, false)) = crate::commands::load(&path, &[]) else { continue };
            let Some(pi) = space.evaluate(&space.default_candidate()).iter().position(|(m, _)| m == "params") else { continue };
            let mut cands = vec![space.default_candidate()];
            cands.extend(space.sample(3, 7, &[]).unwrap_or_default());
            for c in cands {
                let net = space.graph_of(&c).unwrap();
                let exec = crate::netconv::to_kernels(&net).unwrap();
                let doc = graph_json(&net, &exec);
                let want = space.evaluate(&c)[pi].1.unwrap();
                assert_eq!(doc["params"].as_f64().unwrap(), want, "{path} {}", space.name_of(&c));
                let nodes = doc["nodes"].as_array().unwrap();
                assert_eq!(nodes.len(), exec.nodes.len());
                for e in doc["edges"].as_array().unwrap() {
                    assert!(e[0].as_u64() < e[1].as_u64());
                }
                for (i, node) in nodes.iter().enumerate() {
                    for (k, &j) in exec.nodes[i].inputs.iter().enumerate() {
                        assert_eq!(node["input_shapes"][k], nodes[j]["shape"]);
                    }
                }
                n += 1;
            }
        }
        assert!(n >= 10, "only {n} candidates");
    }
}

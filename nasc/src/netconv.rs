//! The compiler's network graph of a candidate -> the trainer's executable graph (the kernels
//! crate does not depend on the compiler). "same" padding becomes explicit TensorFlow padding
//! (the odd pixel at the bottom/right); average pooling does not count padded pixels
//! (`count_include_pad = false`, as NAS-Bench-201's cells); squeeze-excite, zero, identity,
//! add/mean/concat map one to one.
use crate::error::NetError;
use nasc_compiler::graph::{NetGraph, OpKind};
use nasc_compiler::{Candidate, Space};
use nasc_kernels::graph::{Graph, Node, Op, Pad4};
use nasc_kernels::shape::Act;

fn u(v: i64, what: &'static str) -> Result<usize, NetError> {
    usize::try_from(v).map_err(|_| NetError::Negative { what, value: v })
}

fn act(name: &str) -> Result<Act, NetError> {
    Ok(match name {
        "relu" => Act::Relu,
        "relu6" => Act::Relu6,
        "swish" => Act::Swish,
        "hswish" => Act::HSwish,
        "sigmoid" => Act::Sigmoid,
        "hsigmoid" => Act::HSigmoid,
        other => return Err(NetError::Activation { name: other.to_string() }),
    })
}

/// The trainer's network of candidate `c` of `space`: traced by the compiler, then converted.
pub fn network(space: &Space, c: &Candidate) -> Result<Graph, NetError> {
    to_kernels(&space.graph_of(c)?)
}

/// Converts a candidate's network; the result is validated (shapes recomputed and compared).
pub fn to_kernels(g: &NetGraph) -> Result<Graph, NetError> {
    let mut nodes = Vec::with_capacity(g.nodes.len());
    for (i, n) in g.nodes.iter().enumerate() {
        let shape = [u(n.shape[0], "channels")?, u(n.shape[1], "height")?, u(n.shape[2], "width")?];
        let inputs: Vec<usize> = n.inputs.iter().map(|id| id.index()).collect();
        let in_hw = inputs.first().map(|&j| (g.nodes[j].shape[1].max(1) as usize, g.nodes[j].shape[2].max(1) as usize));
        let op = match &n.op {
            OpKind::Input => Op::Input,
            OpKind::Conv { out, k, stride, groups, dilation, pad, same, bias } => {
                let k = (u(k.0, "kernel")?, u(k.1, "kernel")?);
                let (s, d) = (u(*stride, "stride")?, u(*dilation, "dilation")?);
                let pad = if *same {
                    let (h, w) = in_hw.ok_or(NetError::NoInput { node: i, op: "conv" })?;
                    Pad4::same(h, w, k, s, d)
                } else {
                    Pad4::sym(u(pad.0, "padding")?, u(pad.1, "padding")?)
                };
                Op::Conv { out: u(*out, "channels")?, k, stride: s, groups: u(*groups, "groups")?, dilation: d, pad, bias: *bias }
            }
            OpKind::Bn => Op::Bn,
            OpKind::Act(a) => Op::Act(act(a)?),
            OpKind::Pool { max, k, stride, pad, same } => {
                let k = (u(k.0, "kernel")?, u(k.1, "kernel")?);
                let s = u(*stride, "stride")?;
                let pad = if *same {
                    let (h, w) = in_hw.ok_or(NetError::NoInput { node: i, op: "pooling" })?;
                    Pad4::same(h, w, k, s, 1)
                } else {
                    Pad4::sym(u(pad.0, "padding")?, u(pad.1, "padding")?)
                };
                Op::Pool { max: *max, k, stride: s, pad, count_include_pad: false }
            }
            OpKind::Gap => Op::Gap,
            OpKind::Linear { out, bias } => Op::Linear { out: u(*out, "outputs")?, bias: *bias },
            OpKind::Se { mid, act: a, gate } => Op::Se { mid: u(*mid, "squeeze width")?, act: act(a)?, gate: act(gate)? },
            OpKind::Mul => Op::Mul,
            OpKind::Dropout { ppm } => Op::Dropout { p: *ppm as f32 / 1e6 },
            OpKind::Zero => Op::Zero,
            OpKind::Identity => Op::Identity,
            OpKind::Add => Op::Add,
            OpKind::Mean => Op::Mean,
            OpKind::Concat => Op::Concat,
        };
        nodes.push(Node { op, inputs, shape });
    }
    let graph = Graph { nodes, output: g.output.index() };
    graph.validate().map_err(NetError::Invalid)?;
    Ok(graph)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every zoo spec's default candidate and a few random ones convert to a valid executable
    /// graph (shapes recomputed by the trainer agree with the compiler's).
    #[test]
    fn zoo_candidates_convert() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs");
        let mut n = 0;
        let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "nas")).collect();
        files.sort();
        for f in files {
            let path = f.to_string_lossy().into_owned();
            let Ok((Some(space), _, false)) = crate::commands::load(&path, &[]) else { continue };
            let mut cands = vec![space.default_candidate()];
            cands.extend(space.sample(3, 1, &[]).unwrap_or_default());
            for c in cands {
                let g = space.graph_of(&c).unwrap_or_else(|e| panic!("{path}: {e}"));
                let k = to_kernels(&g).unwrap_or_else(|e| panic!("{path} {}: {e}", space.name_of(&c)));
                assert_eq!(k.nodes.len(), g.nodes.len());
                n += 1;
            }
        }
        assert!(n >= 10, "only {n} candidates converted");
    }

    #[test]
    fn same_padding_is_tensorflow_style() {
        assert_eq!(Pad4::same(7, 7, (3, 3), 2, 1), Pad4 { top: 1, bottom: 1, left: 1, right: 1 });
        assert_eq!(Pad4::same(8, 8, (3, 3), 2, 1), Pad4 { top: 0, bottom: 1, left: 0, right: 1 });
        assert_eq!(Pad4::same(8, 8, (1, 1), 1, 1), Pad4::default());
    }
}

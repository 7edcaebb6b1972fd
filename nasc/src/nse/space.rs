//! A spec read as an NSE supernet (`nasc search SPEC --strategy nse`): every decision a
//! `subset` of NSE ops (named as `BranchOp::name` writes them: `dw3_e6`, `dil2_e3`, `ssc5_e1`,
//! `avgneck3_e6`, `maxneck5_e1`), one per multi-branch layer in order, inside the supernet's
//! macro-architecture (a stride-2 3x3 conv stem, one `mean` per layer, a 1x1 conv head, global
//! average pooling, a linear classifier), as `specs/nse_*.nas` write it.
//!
//! The macro-architecture is read from the network of one candidate (the layers' widths and
//! strides at their `mean` nodes, the stem's and head's widths, the classes), and the reading is
//! then checked: for several candidates (one op per layer, every layer full, random ones), the
//! spec's network and the supernet's sub-network have the same layers with the same shapes and
//! the same parameter count. A spec that is not such a supernet is refused with what differs.
use crate::error::{NetError, NotSupernet};
use crate::netconv;
use nasc_compiler::decision::{DecisionKind, OptValue};
use nasc_compiler::{Candidate, Slot, Space};
use nasc_kernels::graph::{Graph, Op};
use nasc_kernels::init::Layout;
use nasc_kernels::rng::Rng;
use nasc_kernels::supernet::{Arch, BranchOp, SupernetSpec};

/// The supernet a spec describes, and how its candidates map to the supernet's archs.
#[derive(Clone, Debug)]
pub struct NseSpace {
    pub spec: SupernetSpec,
    /// Per layer (decision), the pool indices it may use, in the decision's order.
    pub allowed: Vec<Vec<usize>>,
    /// The largest subset every layer allows (the default K).
    pub max_k: usize,
}

/// The NSE op names, as a refusal lists them.
pub(crate) const NAMES: &str = "`dwK_eT`, `dilD_eT`, `sscK_eT`, `avgneckK_eT`, `maxneckK_eT`";

/// The candidate of `arch`: each layer's subset as the members of its decision.
pub fn candidate(ns: &NseSpace, arch: &Arch) -> Candidate {
    let slots = arch.iter().zip(&ns.allowed).map(|(ops, allowed)| Slot::Members(ops.iter().filter_map(|o| allowed.iter().position(|a| a == o)).map(|p| 1u64 << p).sum())).collect();
    Candidate(slots)
}

/// The arch of `c` (a candidate of the space `ns` was read from): the inverse of [`candidate`].
#[cfg(test)]
pub fn arch(ns: &NseSpace, c: &Candidate) -> Arch {
    c.0.iter()
        .zip(&ns.allowed)
        .map(|(slot, allowed)| match slot {
            Slot::Members(m) => {
                let mut v: Vec<usize> = (0..allowed.len()).filter(|p| m >> p & 1 == 1).map(|p| allowed[p]).collect();
                v.sort_unstable();
                v
            }
            _ => Vec::new(),
        })
        .collect()
}

fn network(space: &Space, c: &Candidate) -> Result<Graph, NetError> {
    netconv::network(space, c)
}

/// A graph's layers as compared: each node's op without its padding (the spec may pad "same",
/// the supernet symmetrically; the shapes agree) and its shape, sorted.
fn signature(g: &Graph) -> Vec<String> {
    let mut v: Vec<String> = g
        .nodes
        .iter()
        .map(|n| match &n.op {
            Op::Conv { out, k, stride, groups, dilation, bias, .. } => format!("conv {out} {k:?} s{stride} g{groups} d{dilation} b{bias} {:?}", n.shape),
            Op::Pool { max, k, stride, .. } => format!("pool {max} {k:?} s{stride} {:?}", n.shape),
            op => format!("{op:?} {:?}", n.shape),
        })
        .collect();
    v.sort_unstable();
    v
}

/// Reads the supernet of `space` (see the module documentation).
pub fn read(space: &Space) -> Result<NseSpace, NotSupernet> {
    if space.decisions().is_empty() {
        return Err(NotSupernet::NoDecisions);
    }
    let mut pool: Vec<BranchOp> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut allowed = Vec::new();
    let mut bounds = Vec::new();
    for d in space.decisions() {
        let DecisionKind::Subset { pool: opts, min, max, .. } = &d.kind else {
            return Err(NotSupernet::Choice { decision: d.name.clone() });
        };
        if d.conditional {
            return Err(NotSupernet::Conditional { decision: d.name.clone() });
        }
        let mut ids = Vec::new();
        for o in opts {
            let name = match o {
                OptValue::Op(n) => n,
                other => return Err(NotSupernet::NotAnOp { decision: d.name.clone(), option: other.display().to_string() }),
            };
            let op = BranchOp::parse(name).ok_or_else(|| NotSupernet::UnknownOp { decision: d.name.clone(), op: name.clone() })?;
            let i = match names.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    names.push(name.clone());
                    pool.push(op);
                    pool.len() - 1
                }
            };
            ids.push(i);
        }
        allowed.push(ids);
        bounds.push((*min as usize, *max as usize));
    }
    // the macro-architecture, from the network with each layer's first op
    let first: Vec<Vec<usize>> = allowed.iter().map(|a| vec![a[0]]).collect();
    let probe_ns = NseSpace { spec: SupernetSpec { input: [0; 3], stem: 0, layers: vec![], head: 0, classes: 0, pool: pool.clone() }, allowed: allowed.clone(), max_k: 0 };
    let c0 = candidate(&probe_ns, &first);
    let g = network(space, &c0).map_err(NotSupernet::Network)?;
    let input = g.input_shape();
    let stem = match g.nodes.iter().find(|n| matches!(n.op, Op::Conv { .. })) {
        Some(n) => n.shape,
        None => return Err(NotSupernet::NoStem),
    };
    // each layer: its width at its `mean`, its stride the largest stride of the ops before it
    // (shapes alone cannot tell a stride on a 1x1 map)
    let stem_at = g.nodes.iter().position(|n| matches!(n.op, Op::Conv { .. })).unwrap_or(0);
    let mut layers = Vec::new();
    let mut stride = 1;
    for n in &g.nodes[stem_at + 1..] {
        match n.op {
            Op::Conv { stride: s, .. } | Op::Pool { stride: s, .. } => stride = stride.max(s),
            Op::Mean => {
                layers.push((n.shape[0], stride));
                stride = 1;
            }
            _ => {}
        }
    }
    if layers.len() != allowed.len() {
        return Err(NotSupernet::Layers { means: layers.len(), decisions: allowed.len() });
    }
    if let Some(&(_, stride)) = layers.iter().find(|l| !(1..=2).contains(&l.1)) {
        return Err(NotSupernet::Stride { stride });
    }
    let last_mean = g.nodes.iter().rposition(|n| matches!(n.op, Op::Mean)).unwrap_or(0);
    let head = g.nodes[last_mean..].iter().find(|n| matches!(n.op, Op::Conv { .. })).map(|n| n.shape[0]).unwrap_or(0);
    let classes = g.classes();
    let spec = SupernetSpec { input, stem: stem[0], layers, head, classes, pool };
    spec.check().map_err(NotSupernet::Supernet)?;
    for (l, &(min, _)) in bounds.iter().enumerate() {
        let want = usize::from(!spec.has_identity(l));
        if min != want {
            let kind = if want == 0 { "a normal layer (it keeps its shape: the identity path is always on)" } else { "a reduction layer (no identity path)" };
            return Err(NotSupernet::SubsetStart { decision: space.decisions()[l].name.clone(), kind, want, min });
        }
    }
    let max_k = bounds.iter().map(|b| b.1).min().unwrap_or(0);
    let ns = NseSpace { spec, allowed, max_k };
    // the check: the spec's networks are the supernet's sub-networks
    let full: Arch = ns.allowed.iter().map(|a| a.iter().copied().take(max_k).collect()).collect();
    let mut archs = vec![first, full];
    let mut rng = Rng::new(17);
    for _ in 0..4 {
        archs.push(
            ns.allowed
                .iter()
                .enumerate()
                .map(|(l, a)| {
                    let lo = usize::from(!ns.spec.has_identity(l));
                    let mut v = a.clone();
                    rng.shuffle(&mut v);
                    v.truncate(lo + rng.below(max_k.min(a.len()) + 1 - lo));
                    v
                })
                .collect(),
        );
    }
    for a in &mut archs {
        a.iter_mut().for_each(|ops| ops.sort_unstable());
        let c = candidate(&ns, a);
        let name = space.name_of(&c);
        let theirs = network(space, &c).map_err(|source| NotSupernet::CandidateNetwork { candidate: name.clone(), source })?;
        let ours = ns.spec.graph(a);
        if signature(&theirs) != signature(&ours) {
            return Err(NotSupernet::Differs {
                candidate: name,
                theirs: theirs.nodes.len(),
                ours: ours.nodes.len(),
                stem: ns.spec.stem,
                layers: ns.spec.layers.clone(),
                head: ns.spec.head,
                classes: ns.spec.classes,
            });
        }
        let p = |g: Graph| Layout::new(&g).map(|l| l.num_params());
        let (spec, supernet) = (p(theirs)?, p(ours)?);
        if spec != supernet {
            return Err(NotSupernet::ParamCount { candidate: name, spec, supernet });
        }
    }
    Ok(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Space {
        let text = include_str!("../../../specs/nse_small.nas");
        let sets = [("side".to_string(), "8".to_string()), ("channels".to_string(), "1".to_string())];
        nasc_runtime::spec::compile_text(text, std::path::Path::new("."), "nse_small", &sets).unwrap()
    }

    #[test]
    fn the_small_spec_is_the_reproductions_supernet() {
        let ns = read(&small()).unwrap();
        assert_eq!((ns.spec.input, ns.spec.stem, ns.spec.head, ns.spec.classes), ([1, 8, 8], 16, 64, 10));
        assert_eq!(ns.spec.layers, vec![(16, 1), (24, 2), (24, 1), (32, 2), (32, 1)]);
        assert_eq!(ns.spec.pool.len(), 16);
        assert_eq!(ns.max_k, 4);
        assert!(ns.allowed.iter().all(|a| a == &(0..16).collect::<Vec<_>>()));
    }

    #[test]
    fn candidates_and_archs_round_trip_through_names() {
        let space = small();
        let ns = read(&space).unwrap();
        let mut rng = nasc_compiler::rng::Rng::new(3);
        for _ in 0..200 {
            let c = space.sample_one(&mut rng);
            let a = arch(&ns, &c);
            assert_eq!(candidate(&ns, &a), c);
            let name = space.name_of(&c);
            assert_eq!(arch(&ns, &space.parse_name(&name).unwrap()), a, "{name}");
        }
    }
}

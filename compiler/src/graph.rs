//! The network of one candidate: the ops its program executes, in execution order, with their
//! attributes and shapes (what the trainer builds and the canonical key is computed from).
use crate::ids::NodeId;
use serde::Serialize;

/// An op with its attributes (shapes are on the node).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum OpKind {
    Input,
    Conv {
        out: i64,
        k: (i64, i64),
        stride: i64,
        groups: i64,
        dilation: i64,
        pad: (i64, i64),
        same: bool,
        bias: bool,
    },
    Bn,
    /// relu, relu6, sigmoid, swish, hswish, hsigmoid
    Act(&'static str),
    Pool {
        max: bool,
        k: (i64, i64),
        stride: i64,
        pad: (i64, i64),
        same: bool,
    },
    Gap,
    Linear {
        out: i64,
        bias: bool,
    },
    /// Squeeze-excite: gap, 1x1 conv c->mid (bias), `act`, 1x1 conv mid->c (bias), `gate`,
    /// scale the input (MobileNetV3: relu, hsigmoid; EfficientNet: swish, sigmoid).
    Se {
        mid: i64,
        act: &'static str,
        gate: &'static str,
    },
    /// Element-wise product of two tensors of one shape, or of a tensor and a `[c, 1, 1]`
    /// tensor broadcast over its pixels (`a * b`).
    Mul,
    /// Dropout with probability `ppm` / 1e6: the identity when counting and in eval mode.
    Dropout {
        ppm: u32,
    },
    Zero,
    Identity,
    /// add / sum (element-wise, commutative)
    Add,
    Mean,
    Concat,
}

impl OpKind {
    /// A short signature: the op and the attributes that change what it computes.
    pub fn signature(&self) -> String {
        match self {
            OpKind::Input => "input".into(),
            OpKind::Conv { out, k, stride, groups, dilation, pad, same, bias } => {
                let mut s = format!("conv{}x{}/{out}", k.0, k.1);
                if *stride != 1 {
                    s += &format!("s{stride}");
                }
                if *groups != 1 {
                    s += &format!("g{groups}");
                }
                if *dilation != 1 {
                    s += &format!("d{dilation}");
                }
                if *same {
                    s += "psame";
                } else if *pad != (dilation * (k.0 - 1) / 2, dilation * (k.1 - 1) / 2) {
                    s += &format!("p{}x{}", pad.0, pad.1);
                }
                if *bias {
                    s += "b";
                }
                s
            }
            OpKind::Bn => "bn".into(),
            OpKind::Act(a) => (*a).into(),
            OpKind::Pool { max, k, stride, pad, same } => {
                let mut s = format!("{}{}x{}", if *max { "maxpool" } else { "avgpool" }, k.0, k.1);
                if *stride != 1 {
                    s += &format!("s{stride}");
                }
                if *same {
                    s += "psame";
                } else {
                    s += &format!("p{}x{}", pad.0, pad.1);
                }
                s
            }
            OpKind::Gap => "gap".into(),
            OpKind::Linear { out, bias } => format!("linear/{out}{}", if *bias { "b" } else { "" }),
            OpKind::Se { mid, act, gate } => {
                if (*act, *gate) == ("relu", "hsigmoid") {
                    format!("se/{mid}")
                } else {
                    format!("se/{mid}/{act}/{gate}")
                }
            }
            OpKind::Mul => "mul".into(),
            OpKind::Dropout { ppm } => format!("dropout/{}", *ppm as f64 / 1e6),
            OpKind::Zero => "zero".into(),
            OpKind::Identity => "identity".into(),
            OpKind::Add => "add".into(),
            OpKind::Mean => "mean".into(),
            OpKind::Concat => "concat".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphNode {
    pub op: OpKind,
    pub inputs: Vec<NodeId>,
    /// Output shape `[c, h, w]`.
    pub shape: [i64; 3],
}

/// A call the program made: a block (`cell(x)`) or a decision's op option (`x |> edge[3]`).
/// The nodes it executed are `first..end`; `inputs` are its tensor arguments in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scope {
    pub name: String,
    pub option: bool,
    pub inputs: Vec<NodeId>,
    pub output: NodeId,
    pub first: u32,
    pub end: u32,
}

/// A candidate's network: nodes in execution order (inputs before users); node 0 is the input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetGraph {
    pub nodes: Vec<GraphNode>,
    pub output: NodeId,
    /// Calls, in the order they returned (inner before outer).
    pub scopes: Vec<Scope>,
}

/// Keys longer than this are replaced by a digest where they become an op's input.
const MAX_KEY: usize = 192;

/// A stable 128-bit digest (two FNV-1a streams, finalized with splitmix64).
fn digest(s: &str) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    for byte in s.bytes() {
        a = (a ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(5);
    }
    format!("h{:016x}{:016x}", crate::rng::splitmix64(a, 1), crate::rng::splitmix64(b, 2))
}

fn short(s: &str) -> String {
    if s.len() > MAX_KEY {
        digest(s)
    } else {
        s.to_string()
    }
}

struct KeyState<'g> {
    keys: Vec<String>,
    /// operands of sum nodes (for flattening `a + b + c`)
    parts: Vec<Option<Vec<String>>>,
    scopes: Vec<&'g Scope>,
    next: usize,
}

impl NetGraph {
    /// The canonical key: equal for candidates whose networks compute the same function class.
    /// Rules (NAS-Bench-201 / NATS-Bench `get_unique_str`, generalized):
    /// * the network input is `0`; inside a call, its tensor arguments are `0`, `1`, ...;
    /// * `zero` is `#`, and a single-input op or call applied to `#` is `#`; `identity` is
    ///   its input;
    /// * a single-input op is `(in)@sig`; a decision's option applied to `in` is `(in)@name`
    ///   (`(0)@nor_conv_3x3`) unless its body computes `#` or its input; a block call is
    ///   `(in,...)@name{body}` with the body's key over its own arguments;
    /// * `add`/`sum` join their operands' keys sorted by `+`; operands that are sums written in
    ///   the same expression flatten, a sum reached through an identity is one operand joined
    ///   verbatim (as NATS-Bench does); `mean` and `concat` are multisets (`concat` up to a
    ///   permutation of channels, which the next learned op absorbs);
    /// * keys longer than 192 bytes are replaced by a stable 128-bit digest where they are used.
    pub fn key(&self) -> String {
        let mut scopes: Vec<(usize, &Scope)> = self.scopes.iter().enumerate().filter(|(_, s)| s.first < s.end && s.output.0 >= s.first && s.output.0 < s.end).collect();
        // outer calls first: by start, then longer, then later-returned
        scopes.sort_by(|(i, a), (j, b)| a.first.cmp(&b.first).then(b.end.cmp(&a.end)).then(j.cmp(i)));
        let mut st = KeyState { keys: vec![String::new(); self.nodes.len()], parts: vec![None; self.nodes.len()], scopes: scopes.into_iter().map(|(_, s)| s).collect(), next: 0 };
        self.key_range(0, self.nodes.len(), &mut st);
        short(&st.keys[self.output.index()])
    }

    fn key_range(&self, lo: usize, hi: usize, st: &mut KeyState) {
        let mut idx = lo;
        while idx < hi {
            // skip calls that do not nest in this range (malformed traces)
            while st.next < st.scopes.len() && (st.scopes[st.next].first as usize) < idx {
                st.next += 1;
            }
            if st.next < st.scopes.len() && st.scopes[st.next].first as usize == idx && st.scopes[st.next].end as usize <= hi {
                let sc = st.scopes[st.next];
                st.next += 1;
                let outer: Vec<String> = sc.inputs.iter().map(|i| st.keys[i.index()].clone()).collect();
                let saved: Vec<Option<Vec<String>>> = sc.inputs.iter().map(|i| st.parts[i.index()].take()).collect();
                for (j, i) in sc.inputs.iter().enumerate() {
                    st.keys[i.index()] = j.to_string();
                }
                self.key_range(idx, sc.end as usize, st);
                for ((i, k), p) in sc.inputs.iter().zip(outer.iter()).zip(saved) {
                    st.keys[i.index()] = k.clone();
                    st.parts[i.index()] = p;
                }
                let body = std::mem::take(&mut st.keys[sc.output.index()]);
                st.parts[sc.output.index()] = None;
                st.keys[sc.output.index()] = if body == "#" || (outer.len() == 1 && outer[0] == "#") {
                    "#".to_string()
                } else if let Some(j) = body.parse::<usize>().ok().filter(|j| *j < outer.len()) {
                    outer[j].clone()
                } else {
                    let ins: Vec<String> = outer.iter().map(|k| short(k)).collect();
                    if sc.option {
                        format!("({})@{}", ins.join(","), sc.name)
                    } else {
                        format!("({})@{}{{{}}}", ins.join(","), sc.name, short(&body))
                    }
                };
                idx = sc.end as usize;
                continue;
            }
            let n = &self.nodes[idx];
            let k = match &n.op {
                OpKind::Input => "0".to_string(),
                OpKind::Zero => "#".to_string(),
                OpKind::Identity => st.keys[n.inputs[0].index()].clone(),
                OpKind::Add => {
                    let mut parts: Vec<String> = Vec::new();
                    for i in &n.inputs {
                        match &st.parts[i.index()] {
                            Some(p) => parts.extend(p.iter().cloned()),
                            None => parts.push(st.keys[i.index()].clone()),
                        }
                    }
                    parts.sort_unstable();
                    let s = parts.join("+");
                    st.parts[idx] = Some(parts);
                    s
                }
                OpKind::Mul if n.inputs.iter().any(|i| st.keys[i.index()] == "#") => "#".to_string(),
                OpKind::Mean | OpKind::Concat | OpKind::Mul => {
                    let mut parts: Vec<String> = n.inputs.iter().map(|i| short(&st.keys[i.index()])).collect();
                    parts.sort_unstable();
                    format!("{}[{}]", n.op.signature(), parts.join(","))
                }
                op => {
                    let x = &st.keys[n.inputs[0].index()];
                    if x == "#" {
                        "#".to_string()
                    } else {
                        format!("({})@{}", short(x), op.signature())
                    }
                }
            };
            st.keys[idx] = k;
            idx += 1;
        }
    }

    /// Nodes per op signature, sorted (a stable summary for snapshots and tests).
    pub fn summary(&self) -> Vec<(String, usize)> {
        let mut m = std::collections::BTreeMap::new();
        for n in &self.nodes {
            *m.entry(n.op.signature()).or_insert(0usize) += 1;
        }
        m.into_iter().collect()
    }
}

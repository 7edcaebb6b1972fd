//! An executable network graph: ops with their attributes and output shapes, in execution order.
//! It mirrors the compiler's `NetGraph` (the kernels crate does not depend on the compiler; the
//! runner converts) and adds what execution needs: explicit, possibly asymmetric padding and the
//! pooling divisor rule. [`Graph::plan`] finds the zero tensors and the nodes that matter.

use crate::error::GraphError;
use crate::shape::Act;

/// Zero padding on each side (TensorFlow's "same" padding puts the odd pixel at the bottom/right).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Pad4 {
    pub top: usize,
    pub bottom: usize,
    pub left: usize,
    pub right: usize,
}

impl Pad4 {
    pub fn sym(ph: usize, pw: usize) -> Self {
        Pad4 { top: ph, bottom: ph, left: pw, right: pw }
    }
    /// TensorFlow "same": output side `ceil(in / stride)`, total padding
    /// `max((out - 1) * stride + dilation * (k - 1) + 1 - in, 0)`, the smaller half first.
    pub fn same(h: usize, w: usize, k: (usize, usize), stride: usize, dilation: usize) -> Self {
        let one = |n: usize, k: usize| {
            let out = n.div_ceil(stride);
            let total = ((out - 1) * stride + dilation * (k - 1) + 1).saturating_sub(n);
            (total / 2, total - total / 2)
        };
        let (top, bottom) = one(h, k.0);
        let (left, right) = one(w, k.1);
        Pad4 { top, bottom, left, right }
    }
    pub fn is_symmetric(&self) -> bool {
        self.top == self.bottom && self.left == self.right
    }
    pub fn is_zero(&self) -> bool {
        *self == Pad4::default()
    }
}

/// An op and its attributes. Shapes are on the node.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Input,
    /// `nn.Conv2d` (zero padding); weight `[out, c_in/groups, kh, kw]`.
    Conv {
        out: usize,
        k: (usize, usize),
        stride: usize,
        groups: usize,
        dilation: usize,
        pad: Pad4,
        bias: bool,
    },
    /// `nn.BatchNorm2d` (eps 1e-5, momentum 0.1, affine).
    Bn,
    Act(Act),
    /// Average or max pooling. Average pooling divides by the number of pixels of the window
    /// inside the image when `count_include_pad` is false (NB201, TF "same").
    Pool {
        max: bool,
        k: (usize, usize),
        stride: usize,
        pad: Pad4,
        count_include_pad: bool,
    },
    /// Global average pooling to `[c, 1, 1]`.
    Gap,
    /// `nn.Linear` over the flattened `c*h*w` input; output `[out, 1, 1]`.
    Linear {
        out: usize,
        bias: bool,
    },
    /// Squeeze-excite: gap, 1x1 conv c->mid (bias), `act`, 1x1 conv mid->c (bias), `gate`, scale
    /// (MobileNetV3: relu, h-sigmoid; EfficientNet: swish, sigmoid).
    Se {
        mid: usize,
        act: Act,
        gate: Act,
    },
    /// Element-wise product of two inputs: equal shapes, or one `[c, 1, 1]` broadcast over the
    /// other's pixels.
    Mul,
    /// Inverted dropout with probability `p` in training mode (kept values scaled by
    /// `1 / (1 - p)`); the identity in eval mode.
    Dropout {
        p: f32,
    },
    Zero,
    Identity,
    /// Element-wise sum of the inputs.
    Add,
    /// Element-wise mean of the inputs (zero inputs still count in the divisor).
    Mean,
    /// Concatenation along channels.
    Concat,
}

impl Op {
    /// Whether the op maps an all-zero input to an all-zero output (so a zero input makes the
    /// output zero and the op can be skipped).
    fn keeps_zero(&self) -> bool {
        match self {
            Op::Conv { bias, .. } | Op::Linear { bias, .. } => !bias,
            Op::Act(a) => !matches!(a, Act::Sigmoid | Act::HSigmoid),
            Op::Pool { .. } | Op::Gap | Op::Se { .. } | Op::Identity | Op::Zero | Op::Mul | Op::Dropout { .. } => true,
            Op::Input | Op::Bn | Op::Add | Op::Mean | Op::Concat => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub op: Op,
    /// Indices of earlier nodes.
    pub inputs: Vec<usize>,
    /// Output shape `[c, h, w]` of one image.
    pub shape: [usize; 3],
}

/// A network: nodes in execution order (inputs before users), node 0 the input.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub output: usize,
}

/// What executes: the result of [`Graph::plan`].
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// `zero[i]`: node `i`'s output is identically zero (computed as such, never materialized).
    pub zero: Vec<bool>,
    /// `live[i]`: node `i` is not zero and the output depends on it (only live nodes run).
    pub live: Vec<bool>,
}

fn conv_out(n: usize, k: usize, s: usize, d: usize, p0: usize, p1: usize) -> Option<usize> {
    let span = d * (k - 1) + 1;
    (n + p0 + p1 >= span && s >= 1).then(|| (n + p0 + p1 - span) / s + 1)
}

impl Graph {
    pub fn input_shape(&self) -> [usize; 3] {
        self.nodes[0].shape
    }
    /// Number of classes (the output's `c*h*w`).
    pub fn classes(&self) -> usize {
        self.nodes[self.output].shape.iter().product()
    }

    /// The shape node `i` must have, from its op and its inputs' shapes.
    fn infer(&self, i: usize) -> Result<[usize; 3], GraphError> {
        let node = &self.nodes[i];
        let ins: Vec<[usize; 3]> = node.inputs.iter().map(|&j| self.nodes[j].shape).collect();
        let arity = |k: usize| {
            if ins.len() == k {
                Ok(())
            } else {
                Err(GraphError::Arity { node: i, op: node.op.clone(), takes: k, has: ins.len() })
            }
        };
        Ok(match &node.op {
            Op::Input => {
                arity(0)?;
                if i != 0 {
                    return Err(GraphError::InputNotFirst { node: i });
                }
                node.shape
            }
            Op::Conv { out, k, stride, groups, dilation, pad, .. } => {
                arity(1)?;
                let [c, h, w] = ins[0];
                if *groups == 0 || c % groups != 0 || out % groups != 0 || k.0 == 0 || k.1 == 0 || *dilation == 0 {
                    return Err(GraphError::InvalidConv { node: i, cin: c, out: *out, groups: *groups, kernel: *k });
                }
                let ho = conv_out(h, k.0, *stride, *dilation, pad.top, pad.bottom);
                let wo = conv_out(w, k.1, *stride, *dilation, pad.left, pad.right);
                match (ho, wo) {
                    (Some(ho), Some(wo)) => [*out, ho, wo],
                    _ => return Err(GraphError::ConvTooLarge { node: i, h, w }),
                }
            }
            Op::Pool { k, stride, pad, .. } => {
                arity(1)?;
                let [c, h, w] = ins[0];
                if pad.top.max(pad.bottom) >= k.0 || pad.left.max(pad.right) >= k.1 {
                    return Err(GraphError::PoolPadding { node: i, pad: *pad, window: *k });
                }
                match (conv_out(h, k.0, *stride, 1, pad.top, pad.bottom), conv_out(w, k.1, *stride, 1, pad.left, pad.right)) {
                    (Some(ho), Some(wo)) => [c, ho, wo],
                    _ => return Err(GraphError::PoolTooLarge { node: i, h, w }),
                }
            }
            Op::Bn | Op::Act(_) | Op::Se { .. } | Op::Zero | Op::Identity | Op::Dropout { .. } => {
                arity(1)?;
                if let Op::Dropout { p } = node.op {
                    if !(0.0..1.0).contains(&p) {
                        return Err(GraphError::Dropout { node: i, p });
                    }
                }
                ins[0]
            }
            Op::Mul => {
                arity(2)?;
                let (a, b) = (ins[0], ins[1]);
                if a == b || (a[0] == b[0] && b[1..] == [1, 1]) {
                    a
                } else if a[0] == b[0] && a[1..] == [1, 1] {
                    b
                } else {
                    return Err(GraphError::MulShapes { node: i, a, b });
                }
            }
            Op::Gap => {
                arity(1)?;
                [ins[0][0], 1, 1]
            }
            Op::Linear { out, .. } => {
                arity(1)?;
                [*out, 1, 1]
            }
            Op::Add | Op::Mean => {
                if ins.is_empty() || ins.iter().any(|s| *s != ins[0]) {
                    return Err(GraphError::UnequalInputs { node: i, op: node.op.clone(), inputs: ins });
                }
                ins[0]
            }
            Op::Concat => {
                if ins.is_empty() || ins.iter().any(|s| s[1..] != ins[0][1..]) {
                    return Err(GraphError::ConcatSizes { node: i, inputs: ins });
                }
                [ins.iter().map(|s| s[0]).sum(), ins[0][1], ins[0][2]]
            }
        })
    }

    /// Checks order, arity and every shape.
    pub fn validate(&self) -> Result<(), GraphError> {
        if self.nodes.is_empty() || self.nodes[0].op != Op::Input {
            return Err(GraphError::NoInput);
        }
        if self.output >= self.nodes.len() {
            return Err(GraphError::NoOutput);
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if let Some(&j) = n.inputs.iter().find(|&&j| j >= i) {
                return Err(GraphError::NotEarlier { node: i, input: j });
            }
            if n.shape.contains(&0) {
                return Err(GraphError::EmptyShape { node: i, shape: n.shape });
            }
            let s = self.infer(i)?;
            if s != n.shape {
                return Err(GraphError::ShapeMismatch { node: i, op: n.op.clone(), declared: n.shape, computed: s });
            }
        }
        Ok(())
    }

    /// Zero tensors and live nodes. A node is zero when it is a `zero` op, an op that keeps zero
    /// applied to a zero, or an add/mean/concat of zeros only; zero nodes are never computed and
    /// pass no gradient. Ops that do not keep zero (bn, biased conv/linear, sigmoid) read a
    /// materialized zero tensor, as PyTorch's `x.mul(0)` would give them.
    pub fn plan(&self) -> Plan {
        let n = self.nodes.len();
        let mut zero = vec![false; n];
        for (i, node) in self.nodes.iter().enumerate() {
            zero[i] = match node.op {
                Op::Zero => true,
                Op::Add | Op::Mean | Op::Concat => node.inputs.iter().all(|&j| zero[j]),
                Op::Mul => node.inputs.iter().any(|&j| zero[j]),
                ref op if op.keeps_zero() => zero[node.inputs[0]],
                _ => false,
            };
        }
        let mut live = vec![false; n];
        live[self.output] = !zero[self.output];
        for i in (0..n).rev() {
            if live[i] {
                for &j in &self.nodes[i].inputs {
                    if !zero[j] {
                        live[j] = true;
                    }
                }
            }
        }
        Plan { zero, live }
    }
}

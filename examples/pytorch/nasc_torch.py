"""Build a PyTorch module from a nasc graph document, and load weights saved by `nasc train --save`.

The graph document is the `graph` field of the trial document that `nasc search --evaluator
command:...` writes to the child's stdin, and what `nasc export SPEC --candidate NAME --format
json` prints. Its nodes are in execution order (node 0 is the input); each has an `op`, its
attributes, `inputs` (earlier node ids), `input_shapes`, `shape` ([c, h, w] of one image) and
`params`. This module follows its semantics exactly, so the network computes what nasc's CPU
backend computes:

- conv: `nn.Conv2d`; padding is explicit `[top, bottom, left, right]` (TensorFlow "same"
  padding puts the odd pixel at the bottom/right), applied with `F.pad` when asymmetric.
- bn: `nn.BatchNorm2d` with the document's eps and momentum.
- relu, relu6, swish (= SiLU), hswish (= `nn.Hardswish`), sigmoid, hsigmoid (relu6(x + 3) / 6
  = `nn.Hardsigmoid`).
- maxpool / avgpool with explicit padding; average pooling divides by the pixels of the window
  inside the image when `count_include_pad` is false, by the whole window when it is true.
- gap (global average pooling to [c, 1, 1]), linear (over the flattened c*h*w input; output
  [out, 1, 1]), se (gap, 1x1 conv c->mid with bias, `act` (default relu), 1x1 conv mid->c
  with bias, `gate` (default hsigmoid), scale), mul (product of two inputs; a [c, 1, 1] side
  broadcasts), dropout (`nn.Dropout(p)`), zero (zeros of its shape), identity, add (sum of the
  inputs), mean (their mean; zero inputs count in the divisor), concat (along channels).

Only the nodes the output depends on run (as in nasc); every node's parameters exist, so
`sum(p.numel() for p in model.parameters())` equals the document's `params`.

Needs only `torch` (the safetensors reader is built in).
"""

import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["NascNet", "build", "load_graph", "load_nasc_safetensors", "load_nasc_tensors", "read_safetensors"]


def _pad_arg(p):
    """[top, bottom, left, right] -> the order F.pad wants (left, right, top, bottom)."""
    top, bottom, left, right = p
    return (left, right, top, bottom)


def _symmetric(p):
    return p[0] == p[1] and p[2] == p[3]


class Conv(nn.Conv2d):
    """`nn.Conv2d` with nasc's explicit, possibly asymmetric zero padding."""

    def __init__(self, cin, node):
        pad = node.get("padding", [0, 0, 0, 0])
        sym = _symmetric(pad)
        super().__init__(
            cin,
            node["out_channels"],
            tuple(node["kernel"]),
            stride=node.get("stride", 1),
            padding=(pad[0], pad[2]) if sym else 0,
            dilation=node.get("dilation", 1),
            groups=node.get("groups", 1),
            bias=node.get("bias", False),
        )
        self.explicit_pad = None if sym else _pad_arg(pad)

    def forward(self, x):
        if self.explicit_pad is not None:
            x = F.pad(x, self.explicit_pad)
        return super().forward(x)


class Pool(nn.Module):
    """Max or average pooling with explicit padding and nasc's divisor rule."""

    def __init__(self, node, in_shape):
        super().__init__()
        self.max = node["op"] == "maxpool"
        self.k = tuple(node["kernel"])
        self.stride = node.get("stride", 1)
        self.pad = list(node.get("padding", [0, 0, 0, 0]))
        self.count_include_pad = bool(node.get("count_include_pad", False))
        top, left = self.pad[0], self.pad[2]
        # PyTorch's own padding is symmetric and at most half the kernel.
        self.native = _symmetric(self.pad) and top <= self.k[0] // 2 and left <= self.k[1] // 2
        factor = None
        if not self.native and not self.max and not self.count_include_pad:
            # Pixels of each window inside the image, to turn a whole-window average into one
            # over the image's pixels (nasc's rule; an empty window gives 0).
            _, h, w = in_shape
            ones = F.pad(torch.ones(1, 1, h, w), _pad_arg(self.pad))
            count = F.avg_pool2d(ones, self.k, self.stride) * (self.k[0] * self.k[1])
            factor = (self.k[0] * self.k[1]) / count.clamp(min=1.0)
        self.register_buffer("factor", factor, persistent=False)

    def forward(self, x):
        if self.native:
            p = (self.pad[0], self.pad[2])
            if self.max:
                return F.max_pool2d(x, self.k, self.stride, p)
            return F.avg_pool2d(x, self.k, self.stride, p, count_include_pad=self.count_include_pad)
        if self.max:
            return F.max_pool2d(F.pad(x, _pad_arg(self.pad), value=-math.inf), self.k, self.stride)
        y = F.avg_pool2d(F.pad(x, _pad_arg(self.pad)), self.k, self.stride)
        return y if self.factor is None else y * self.factor


class Linear(nn.Linear):
    """`nn.Linear` over the flattened c*h*w input; output [n, out, 1, 1]."""

    def forward(self, x):
        return super().forward(x.flatten(1))[:, :, None, None]


class SE(nn.Module):
    """Squeeze-excite: gap, 1x1 conv c->mid (bias), act, 1x1 conv mid->c (bias), gate, scale."""

    def __init__(self, c, mid, act="relu", gate="hsigmoid"):
        super().__init__()
        self.fc1 = nn.Conv2d(c, mid, 1, bias=True)
        self.fc2 = nn.Conv2d(mid, c, 1, bias=True)
        self.act = _ACTS[act]()
        self.gate = _ACTS[gate]()

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * self.gate(self.fc2(self.act(self.fc1(s))))


class Gap(nn.Module):
    def forward(self, x):
        return x.mean((2, 3), keepdim=True)


_ACTS = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "swish": nn.SiLU,
    "hswish": nn.Hardswish,
    "sigmoid": nn.Sigmoid,
    "hsigmoid": nn.Hardsigmoid,
}

_NO_MODULE = {"input", "zero", "identity", "add", "mean", "concat", "mul"}

# The child name of each op's module: with it, a NascNet's state_dict names are nasc's tensor
# names (`n{i}.conv.weight`, `n{i}.bn.running_mean`, `n{i}.se.fc1.bias`...; docs/export.md).
_KIND = {"conv": "conv", "bn": "bn", "linear": "linear", "se": "se", "maxpool": "pool", "avgpool": "pool", "gap": "gap"}


def _module(node):
    op = node["op"]
    ins = node.get("input_shapes", [])
    c = ins[0][0] if ins else 0
    if op == "conv":
        return Conv(c, node)
    if op == "bn":
        return nn.BatchNorm2d(node["shape"][0], eps=node.get("eps", 1e-5), momentum=node.get("momentum", 0.1))
    if op in _ACTS:
        return _ACTS[op]()
    if op in ("maxpool", "avgpool"):
        return Pool(node, ins[0])
    if op == "gap":
        return Gap()
    if op == "linear":
        return Linear(ins[0][0] * ins[0][1] * ins[0][2], node["out_features"], bias=node.get("bias", True))
    if op == "se":
        return SE(c, node["mid"], node.get("act", "relu"), node.get("gate", "hsigmoid"))
    if op == "dropout":
        return nn.Dropout(node["p"])
    if op in _NO_MODULE:
        return None
    raise ValueError(f"node {node.get('id')}: unknown op {op!r} (graph document version 1 ops only)")


class NascNet(nn.Module):
    """The network of a graph document. Node i's module (if it has one) is `self.n{i}.<kind>`
    (kind: conv, bn, linear, se, pool, gap, act), so `state_dict()` names are nasc's tensor names:
    `n3.conv.weight`, `n4.bn.running_var`, `n9.se.fc1.weight`... (plus BatchNorm's
    `num_batches_tracked`, which nasc does not have). `forward` takes [n, c, h, w] images and
    returns [n, classes] logits."""

    def __init__(self, graph):
        super().__init__()
        if graph.get("version", 1) != 1:
            raise ValueError(f"graph document version {graph.get('version')} (this script reads version 1)")
        self.graph = graph
        nodes = graph["nodes"]
        for i, n in enumerate(nodes):
            if n.get("id", i) != i:
                raise ValueError(f"node {i} has id {n.get('id')}: nodes must be in order")
            for j in n["inputs"]:
                if not 0 <= j < i:
                    raise ValueError(f"node {i}: input {j} is not an earlier node")
        self.mods = []
        for i, n in enumerate(nodes):
            m = _module(n)
            if m is not None:
                holder = nn.Module()
                holder.add_module(_KIND.get(n["op"], "act"), m)
                self.add_module(f"n{i}", holder)
            self.mods.append(m)
        self.ops = [n["op"] for n in nodes]
        self.inputs = [list(n["inputs"]) for n in nodes]
        self.shapes = [tuple(n["shape"]) for n in nodes]
        self.output = graph.get("output", len(nodes) - 1)
        # Live nodes: those the output depends on (nasc runs only these), and each one's last user.
        live = [False] * len(nodes)
        live[self.output] = True
        for i in range(len(nodes) - 1, -1, -1):
            if live[i]:
                for j in self.inputs[i]:
                    live[j] = True
        self.live = live
        last = {}
        for i in range(len(nodes)):
            if live[i]:
                for j in self.inputs[i]:
                    last[j] = i
        self.frees = [[] for _ in nodes]
        for j, i in last.items():
            if j != self.output:
                self.frees[i].append(j)

    def node_params(self, i):
        """Learnable parameters of node i (compare with the document's `params` of the node)."""
        m = self.mods[i]
        return 0 if m is None else sum(p.numel() for p in m.parameters())

    def forward(self, x):
        vals = [None] * len(self.ops)
        for i, op in enumerate(self.ops):
            if not self.live[i]:
                continue
            ins = [vals[j] for j in self.inputs[i]]
            if op == "input":
                y = x
            elif op == "zero":
                y = x.new_zeros((x.shape[0],) + self.shapes[i])
            elif op == "identity":
                y = ins[0]
            elif op == "add":
                y = ins[0]
                for t in ins[1:]:
                    y = y + t
            elif op == "mean":
                y = ins[0]
                for t in ins[1:]:
                    y = y + t
                y = y / len(ins)
            elif op == "concat":
                y = torch.cat(ins, dim=1)
            elif op == "mul":
                y = ins[0] * ins[1]
            else:
                y = self.mods[i](ins[0])
            vals[i] = y
            for j in self.frees[i]:
                vals[j] = None
        return vals[self.output].flatten(1)


def build(graph):
    """A `NascNet` from a graph document (a dict, or a trial document with a `graph` field)."""
    if "nodes" not in graph and "graph" in graph:
        graph = graph["graph"]
    return NascNet(graph)


def load_graph(path):
    """Reads a graph document, or a trial document (its `graph`), from a JSON file."""
    with open(path) as f:
        doc = json.load(f)
    return doc["graph"] if "nodes" not in doc and "graph" in doc else doc


_DTYPES = {
    "F32": torch.float32,
    "F64": torch.float64,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "U8": torch.uint8,
}


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file: a dict name -> torch tensor and the header's
    `__metadata__` (a dict of strings). Stdlib + torch only."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    out = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        buf = bytearray(data[base + start : base + end])
        t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
    return out, meta


def load_nasc_safetensors(model, path, strict=True):
    """Loads weights saved by `nasc train --save PATH` into `model` (a `NascNet` of the same
    candidate: build it from `nasc export SPEC --candidate NAME --format json` with the same
    `--set` values). The file's tensor names are the model's state_dict names (docs/export.md).
    With `strict`, a tensor missing from the file or one the model lacks is an error (BatchNorm's
    `num_batches_tracked` is not in nasc's files and is left as it is). Returns the file's
    metadata (format, spec, spec_sha256, sets, candidate, genotype, input_shape, classes, params)."""
    tensors, meta = read_safetensors(path)
    load_nasc_tensors(model, tensors, strict=strict, what=path)
    return meta


def load_nasc_tensors(model, tensors, strict=True, what="weights"):
    """Copies a dict name -> tensor with nasc's names (a weights file's, or an ONNX export's
    initializers) into `model`; shapes must agree up to trailing 1x1 dimensions."""
    own = model.state_dict()
    new, missing = {}, []
    for key, want in own.items():
        if key.endswith("num_batches_tracked"):
            continue
        if key not in tensors:
            missing.append(key)
            continue
        t = torch.as_tensor(tensors[key])
        if t.numel() != want.numel():
            raise ValueError(f"{what}: {key} has shape {list(t.shape)}, the model wants {list(want.shape)}")
        new[key] = t.reshape(want.shape).to(want.dtype)
    if strict:
        if missing:
            raise KeyError(f"{what}: no tensor for {missing[:6]}{'...' if len(missing) > 6 else ''} (is it the same candidate and --set values?)")
        extra = sorted(k for k in tensors if k not in own)
        if extra:
            raise KeyError(f"{what}: tensors the model does not have: {extra[:6]}")
    model.load_state_dict(new, strict=False)

"""Checks of nasc_torch.py against nasc, run by hand where torch is installed (CI has no torch).

    python examples/pytorch/check.py [ops] [params] [forward] [weights] [onnx] [--nasc target/release/nasc]

- ops: each op against a direct reference written from the graph document's definitions
  (pooling divisor rule with symmetric and asymmetric padding, hsigmoid/hswish/swish, se,
  mean with zero inputs, linear over c*h*w), and a document with every op: params and shapes.
- params: for the default and 3 sampled candidates of every spec in specs/ that the trainer
  supports, `nasc export --format json`: the module's parameter count equals the document's
  `params`, per node and in all, and the forward pass gives the document's output shape.
- forward: for sampled candidates of every such spec, nasc's initialized weights (`nasc export
  --format safetensors`) loaded by name, BN given random affine parameters and running
  statistics measured on random images, written back as a nasc weights file: the module's
  eval-mode logits equal `nasc infer --weights`'s (nasc's CPU forward) and onnxruntime's on
  `nasc export --format onnx --weights` within 1e-4 (relative to the largest logit above 1), or,
  in very deep networks (DARTS, 800-node multi-branch), are as close to the module's float64
  logits as float32 allows (within twice torch float32's own distance to them).
- weights: `nasc train specs/digits_tiny.nas --dataset digits --backend cpu --save W`, loaded
  with load_nasc_safetensors: the test accuracy on the digits test split equals nasc's.
- onnx: the same weights exported with `nasc export --format onnx --weights W`: onnxruntime's
  logits equal the module's within 1e-4 (needs `pip install onnxruntime`).

With no check named, all run. Exit status 1 if any fails.
"""

import argparse
import copy
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import nasc_torch  # noqa: E402

FAILS = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        FAILS.append(what)


# ---------------------------------------------------------------- ops


def ref_pool(x, kind, k, stride, pad, cip):
    """Pooling by its definition: output side (h + top + bottom - k) // stride + 1; max over the
    window's pixels inside the image (-inf if none); average = sum of the pixels inside / (pixels
    inside if not cip, else the whole window within the padded extent)."""
    n, c, h, w = x.shape
    top, bottom, left, right = pad
    oh = (h + top + bottom - k[0]) // stride + 1
    ow = (w + left + right - k[1]) // stride + 1
    y = torch.empty(n, c, oh, ow, dtype=x.dtype)
    for oy in range(oh):
        ys = oy * stride - top
        for ox in range(ow):
            xs = ox * stride - left
            y0, x0 = max(ys, 0), max(xs, 0)
            y1, x1 = max(min(ys + k[0], h), y0), max(min(xs + k[1], w), x0)
            win = x[:, :, y0:y1, x0:x1]
            if kind == "maxpool":
                y[:, :, oy, ox] = win.amax((2, 3)) if win.numel() else -math.inf
            else:
                s = win.sum((2, 3))
                if cip:
                    div = (min(ys + k[0], h + bottom) - max(ys, -top)) * (min(xs + k[1], w + right) - max(xs, -left))
                else:
                    div = max((y1 - y0) * (x1 - x0), 1)
                y[:, :, oy, ox] = s / div
    return y


def node(i, op, inputs, input_shapes, shape, **attrs):
    return {"id": i, "op": op, **attrs, "inputs": inputs, "input_shapes": input_shapes, "shape": shape}


def check_ops():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 7, 8, dtype=torch.float64)
    cases = 0
    bad = []
    for kind in ("maxpool", "avgpool"):
        for k in ((3, 3), (2, 2), (3, 1), (5, 5)):
            for stride in (1, 2):
                for pad in ((0, 0, 0, 0), (1, 1, 1, 1), (0, 1, 0, 1), (1, 2, 0, 1), (2, 2, 2, 2), (3, 3, 3, 3)):
                    for cip in (False, True):
                        oh = (7 + pad[0] + pad[1] - k[0]) // stride + 1
                        ow = (8 + pad[2] + pad[3] - k[1]) // stride + 1
                        if oh <= 0 or ow <= 0:
                            continue
                        nd = node(1, kind, [0], [[3, 7, 8]], [3, oh, ow], kernel=list(k), stride=stride, padding=list(pad), count_include_pad=cip)
                        m = nasc_torch.Pool(nd, [3, 7, 8]).double()
                        got, want = m(x), ref_pool(x, kind, k, stride, pad, cip)
                        cases += 1
                        if got.shape != want.shape or not torch.allclose(got, want, atol=1e-12):
                            bad.append((kind, k, stride, pad, cip))
    check(not bad, f"pooling: {cases} cases (max/avg, kernels, strides, symmetric/asymmetric/large padding, count_include_pad) against the definition {bad[:3]}")

    t = torch.linspace(-5, 5, 1001, dtype=torch.float64)
    r6 = lambda v: v.clamp(0, 6)  # noqa: E731
    check(torch.allclose(torch.nn.Hardsigmoid()(t), r6(t + 3) / 6), "hsigmoid = relu6(x + 3) / 6 = nn.Hardsigmoid")
    check(torch.allclose(torch.nn.Hardswish()(t), t * r6(t + 3) / 6), "hswish = x * relu6(x + 3) / 6 = nn.Hardswish")
    check(torch.allclose(torch.nn.SiLU()(t), t / (1 + torch.exp(-t))), "swish = x * sigmoid(x) = nn.SiLU")

    # conv with asymmetric padding = conv of the zero-padded input
    nd = node(1, "conv", [0], [[3, 7, 8]], [4, 3, 4], out_channels=4, kernel=[3, 3], stride=2, groups=1, dilation=1, padding=[0, 1, 0, 1], bias=True)
    conv = nasc_torch.Conv(3, nd).double()
    want = F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.weight, conv.bias, stride=2)
    check(conv(x).shape == (2, 4, 3, 4) and torch.allclose(conv(x), want), "conv: asymmetric padding [0,1,0,1] (TensorFlow same, stride 2)")

    # a document with every op
    c, h, w = 4, 6, 6
    S = [c, h, w]
    nodes = [node(0, "input", [], [], [3, h, w])]

    def add(op, inputs, shape, **a):
        nodes.append(node(len(nodes), op, inputs, [nodes[j]["shape"] for j in inputs], shape, **a))
        return len(nodes) - 1

    a = add("conv", [0], S, out_channels=c, kernel=[3, 3], stride=1, groups=1, dilation=1, padding=[1, 1, 1, 1], bias=False)
    a = add("bn", [a], S, eps=1e-5, momentum=0.1)
    a = add("relu6", [a], S)
    b = add("conv", [a], S, out_channels=c, kernel=[3, 3], stride=1, groups=c, dilation=2, padding=[2, 2, 2, 2], bias=True)
    b = add("hswish", [b], S)
    b = add("se", [b], S, mid=2)
    z = add("zero", [a], S)
    m = add("mean", [a, b, z], S)
    p1 = add("maxpool", [m], [c, 3, 3], kernel=[3, 3], stride=2, padding=[0, 1, 0, 1], count_include_pad=False)
    p2 = add("avgpool", [m], [c, 3, 3], kernel=[3, 3], stride=2, padding=[0, 1, 0, 1], count_include_pad=False)
    q = add("concat", [p1, p2], [2 * c, 3, 3])
    q = add("swish", [q], [2 * c, 3, 3])
    r = add("identity", [q], [2 * c, 3, 3])
    r = add("add", [q, r], [2 * c, 3, 3])
    r = add("sigmoid", [r], [2 * c, 3, 3])
    g = add("gap", [r], [2 * c, 1, 1])
    lin = add("linear", [r], [5, 1, 1], out_features=5, bias=True)
    add("hsigmoid", [g], [2 * c, 1, 1])  # dead: the output does not depend on it
    out = lin
    want = {1: c * 3 * 9, 2: 2 * c, 4: c * 1 * 9 + c, 6: c * 2 + 2 + 2 * c + c, 17: 5 * (2 * c * 9) + 5}
    for n in nodes:
        n["params"] = want.get(n["id"], 0)
    doc = {"version": 1, "input_shape": [3, h, w], "output": out, "output_shape": [5, 1, 1], "params": sum(want.values()), "nodes": nodes, "edges": []}
    model = nasc_torch.build(doc)
    per = all(model.node_params(i) == n["params"] for i, n in enumerate(nodes))
    check(per and sum(p.numel() for p in model.parameters()) == doc["params"], f"a document with every op: params per node and in all ({doc['params']})")
    xx = torch.randn(3, 3, h, w)
    model.train()
    y = model(xx)
    model.eval()
    y2 = model(xx)
    check(y.shape == (3, 5) and y2.shape == (3, 5) and torch.isfinite(y).all(), "a document with every op: forward in train and eval mode, [n, 5] logits")

    # mean counts zero inputs; se by its definition
    with torch.no_grad():
        vals = {}
        model.eval()
        a_ = model.mods[3](model.mods[2](model.mods[1](xx)))
        b_ = model.mods[6](model.mods[5](model.mods[4](a_)))
        se = model.mods[6]
        bb = model.mods[5](model.mods[4](a_))
        s = bb.mean((2, 3))
        u = F.relu(s @ se.fc1.weight.flatten(1).T + se.fc1.bias) @ se.fc2.weight.flatten(1).T + se.fc2.bias
        check(torch.allclose(b_, bb * (u.add(3).clamp(0, 6) / 6)[:, :, None, None], atol=1e-6), "se = gap, 1x1 conv + bias, relu, 1x1 conv + bias, hsigmoid, scale")
        vals["mean"] = (a_ + b_) / 3
        p1_ = F.max_pool2d(F.pad(vals["mean"], (0, 1, 0, 1), value=-math.inf), 3, 2)
        full = model.forward(xx)
        r_ = torch.sigmoid(2 * F.silu(torch.cat([p1_, ref_pool(vals["mean"], "avgpool", (3, 3), 2, (0, 1, 0, 1), False)], 1)))
        lin_ = model.mods[17]
        check(torch.allclose(full, r_.flatten(1) @ lin_.weight.T + lin_.bias, atol=1e-5), "the every-op document end to end against the definitions (mean over 3 inputs with a zero)")


# ---------------------------------------------------------------- nasc helpers


def nasc(args, *cmd, check_rc=True, **kw):
    r = subprocess.run([args.nasc, *cmd], capture_output=True, text=True, cwd=ROOT, check=False, **kw)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"nasc {' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()[-600:]}")
    return r


def export_json(args, spec, cand, tmp, sets=()):
    out = os.path.join(tmp, "graph.json")
    extra = [a for s in sets for a in ("--set", s)]
    r = nasc(args, *extra, "export", spec, "--candidate", cand, "--format", "json", "--out", out, check_rc=False)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
    return nasc_torch.load_graph(out), None


def check_params(args):
    specs = sorted(os.path.join("specs", f) for f in os.listdir(os.path.join(ROOT, "specs")) if f.endswith(".nas"))
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            r = nasc(args, "sample", spec, "-n", "3", "--seed", "1", "--format", "json", check_rc=False)
            if r.returncode != 0:
                print(f"skip {spec}: sample failed")
                continue
            cands = [(json.loads(line)["candidate"], json.loads(line).get("params")) for line in r.stdout.splitlines() if line.strip()]
            for cand, want in cands:
                doc, err = export_json(args, spec, cand, tmp)
                if doc is None:
                    print(f"skip {spec} {cand[:60]}: {err}")
                    continue
                model = nasc_torch.build(doc)
                got = sum(p.numel() for p in model.parameters())
                per = [i for i, n in enumerate(doc["nodes"]) if model.node_params(i) != n["params"]]
                ok = got == doc["params"] and not per and (want is None or want == got)
                model.eval()
                with torch.no_grad():
                    y = model(torch.randn(2, *doc["input_shape"]))
                ok = ok and list(y.shape) == [2, math.prod(doc["output_shape"])] and bool(torch.isfinite(y).all())
                check(ok, f"params {spec} {cand[:50]}: torch {got}, document {doc['params']}, nasc sample {want}, nodes {len(doc['nodes'])}{' differing nodes ' + str(per[:5]) if per else ''}")
                total += 1
    check(total >= 10, f"params: {total} candidates checked")


def write_npy(path, a):
    """A float32 C-order .npy file (stdlib + torch)."""
    a = a.contiguous().float()
    dims = "".join(f"{d}, " for d in a.shape)
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + a.numpy().tobytes())


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    (hl,) = struct.unpack("<H", data[8:10])
    header = data[10 : 10 + hl].decode()
    shape = tuple(int(d) for d in header.split("(")[1].split(")")[0].split(",") if d.strip())
    return torch.frombuffer(bytearray(data[10 + hl :]), dtype=torch.float32).reshape(shape)


def write_safetensors(path, tensors, meta):
    """A safetensors file of float32 tensors with string metadata (stdlib + torch)."""
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def perturb_and_calibrate(model, x, seed):
    """Random BN affine parameters, then running statistics measured on `x` (train-mode passes,
    cumulative average), so that deep networks keep a signal in eval mode (nasc's initial
    running statistics, mean 0 and var 1, shrink it to the last layer's bias)."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(0.5 + torch.rand(bn.weight.shape, generator=g))
            bn.bias.copy_(0.2 * torch.randn(bn.bias.shape, generator=g))
            bn.reset_running_stats()
            bn.momentum = None
        model.train()
        model(x)
        for bn in bns:
            bn.momentum = 0.1
    model.eval()


def check_forward(args):
    """Sampled candidates of every spec: nasc's initialized weights (`nasc export --format
    safetensors`) loaded by name, BN made non-trivial (perturb_and_calibrate) and written back
    as a nasc weights file; the module's eval-mode logits against `nasc infer --weights` (nasc's
    CPU forward) and onnxruntime on `nasc export --format onnx --weights`, on random inputs."""
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
        print("note: onnxruntime is not installed; comparing with nasc infer only")
    specs = sorted(os.path.join("specs", f) for f in os.listdir(os.path.join(ROOT, "specs")) if f.endswith(".nas"))
    total, worst = 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            r = nasc(args, "sample", spec, "-n", str(args.n), "--seed", "2", "--format", "json", check_rc=False)
            if r.returncode != 0:
                continue
            for line in r.stdout.splitlines():
                cand = json.loads(line)["candidate"]
                doc, err = export_json(args, spec, cand, tmp)
                if doc is None:
                    print(f"skip {spec} {cand[:60]}: {err}")
                    continue
                init, w = os.path.join(tmp, "init.safetensors"), os.path.join(tmp, "w.safetensors")
                nasc(args, "export", spec, "--candidate", cand, "--format", "safetensors", "--out", init)
                model = nasc_torch.build(doc)
                meta = nasc_torch.load_nasc_safetensors(model, init)
                torch.manual_seed(total)
                perturb_and_calibrate(model, torch.randn(8, *doc["input_shape"]), total)
                write_safetensors(w, {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}, meta)
                x = torch.randn(3, *doc["input_shape"])
                xin, yout, onnx_path = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy"), os.path.join(tmp, "m.onnx")
                write_npy(xin, x)
                nasc(args, "infer", spec, "--candidate", cand, "--weights", w, "--input", xin, "--out", yout)
                want = read_npy(yout)
                with torch.no_grad():
                    got = model(x)
                    ref = copy.deepcopy(model).double()(x.double())  # float64: the rounding-free reference
                scale = max(1.0, float(want.abs().max()))
                own = float((got.double() - ref).abs().max())  # torch float32's own rounding error
                tol = max(1e-4 * scale, 2 * own)

                def close(other, name, got=got, ref=ref, scale=scale, tol=tol):
                    d, d64 = float((got - other).abs().max()), float((other.double() - ref).abs().max())
                    return d <= 1e-4 * scale or d64 <= tol, f"{name} {d:.2e} (to float64 {d64:.2e})", d / scale

                ok, part, rel = close(want, "vs nasc infer")
                worst = max(worst, rel)
                msg = f"forward {spec} {cand[:40]}: max |diff| torch {part}"
                if ort is not None:
                    nasc(args, "export", spec, "--candidate", cand, "--format", "onnx", "--weights", w, "--out", onnx_path)
                    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
                    o = torch.from_numpy(sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]).reshape(got.shape)
                    ok2, part, rel = close(o, "vs onnxruntime")
                    ok, worst, msg = ok and ok2, max(worst, rel), msg + ", " + part
                msg += f"; torch float32 to float64 {own:.2e}; logits up to {float(want.abs().max()):.2e}, spread across inputs {float((want - want.mean(0)).abs().max()):.2e}"
                check(ok, msg)
                total += 1
    check(total >= 10, f"forward: {total} candidates checked, largest difference {worst:.2e} (relative to max(1, |logits|))")


# ---------------------------------------------------------------- digits


def digits_test_split():
    """nasc's embedded digits test split (kernels/data/digits, the first 360 of a SplitMix64
    shuffle with seed 0x5EED0D16), normalized with the 1257 training images' mean and std."""
    d = os.path.join(ROOT, "kernels", "data", "digits")
    sys.path.insert(0, HERE)
    from evaluator import read_idx

    x = read_idx(os.path.join(d, "digits-images-idx3-ubyte")).reshape(-1, 1, 8, 8)
    y = read_idx(os.path.join(d, "digits-labels-idx1-ubyte")).long()
    M = (1 << 64) - 1
    state = [(0x5EED0D16 ^ 0x6A09E667F3BCC909) & M]

    def next_u64():
        state[0] = (state[0] + 0x9E3779B97F4A7C15) & M
        z = state[0]
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        return z ^ (z >> 31)

    perm = list(range(x.shape[0]))
    for i in range(len(perm) - 1, 0, -1):
        j = (next_u64() * (i + 1)) >> 64
        perm[i], perm[j] = perm[j], perm[i]
    test, train = perm[:360], perm[540:]
    xt = x[train].double()
    mean = xt.mean().item()
    std = max(math.sqrt(max((xt * xt).mean().item() - mean * mean, 0.0)), 1e-3)
    mean32, inv32 = torch.tensor(mean, dtype=torch.float32), 1.0 / torch.tensor(std, dtype=torch.float32)
    xs = (x[test].float() - mean32) * inv32
    return xs, y[test]


def train_digits(args, tmp):
    w = os.path.join(tmp, "w.safetensors")
    r = nasc(args, "train", "specs/digits_tiny.nas", "--candidate", args.digits_candidate, "--dataset", "digits", "--backend", "cpu", "--epochs", "3", "--format", "json", "--save", w)
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip().startswith("{")]
    rep = lines[-1]
    doc, err = export_json(args, "specs/digits_tiny.nas", args.digits_candidate, tmp)
    if doc is None:
        raise RuntimeError(err)
    return w, rep, doc


def find_test_accuracy(rep):
    for k in ("test_accuracy", "test_acc"):
        if k in rep:
            return rep[k]
    if isinstance(rep.get("test"), dict):
        return rep["test"].get("accuracy")
    raise KeyError(f"no test accuracy in nasc train's JSON: {sorted(rep)}")


def check_weights(args, tmp, trained):
    w, rep, doc = trained
    model = nasc_torch.build(doc)
    meta = nasc_torch.load_nasc_safetensors(model, w)
    model.eval()
    xs, ys = digits_test_split()
    with torch.no_grad():
        logits = model(xs)
    right = int((logits.argmax(1) == ys).sum())
    acc = right / len(ys)
    loss = F.cross_entropy(logits.double(), ys).item()
    want = find_test_accuracy(rep)
    check(abs(acc - want) < 1e-9, f"weights: nasc train --save -> load_nasc_safetensors: test accuracy {acc:.6f} ({right}/{len(ys)}) in torch, {want:.6f} reported by nasc (metadata {sorted(meta)})")
    if "test_loss" in rep:
        check(abs(loss - rep["test_loss"]) < 1e-5, f"weights: test loss {loss:.7f} in torch, {rep['test_loss']:.7f} reported by nasc")


def check_onnx(args, tmp, trained):
    import onnxruntime as ort

    w, rep, doc = trained
    out = os.path.join(tmp, "m.onnx")
    nasc(args, "export", "specs/digits_tiny.nas", "--candidate", args.digits_candidate, "--format", "onnx", "--weights", w, "--out", out)
    model = nasc_torch.build(doc)
    nasc_torch.load_nasc_safetensors(model, w)
    model.eval()
    sess = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    xs, ys = digits_test_split()
    x = torch.cat([xs, torch.randn(64, *doc["input_shape"])])
    with torch.no_grad():
        a = model(x).numpy()
    b = sess.run(None, {name: x.numpy()})[0].reshape(a.shape)
    diff = float(abs(a - b).max())
    right = int((torch.from_numpy(b[: len(ys)]).argmax(1) == ys).sum())
    want = find_test_accuracy(rep)
    check(diff <= 1e-4, f"onnx: trained digits_tiny, onnxruntime vs torch on the 360 test images and 64 random inputs: max |diff| {diff:.2e}")
    check(abs(right / len(ys) - want) < 1e-9, f"onnx: onnxruntime's test accuracy {right}/{len(ys)} = {right / len(ys):.6f}, nasc train reported {want:.6f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checks", nargs="*", help="ops, params, forward, weights, onnx (default: all)")
    p.add_argument("-n", type=int, default=2, help="sampled candidates per spec in `forward` (default 2)")
    p.add_argument("--nasc", default=os.path.join(ROOT, "target", "release", "nasc"))
    p.add_argument("--digits-candidate", default="kernel[0]=3,kernel[1]=5,width[0]=16,width[1]=32,tail=res")
    args = p.parse_args()
    unknown = set(args.checks) - {"ops", "params", "forward", "weights", "onnx"}
    if unknown:
        p.error(f"unknown checks {sorted(unknown)}")
    want = set(args.checks) or {"ops", "params", "forward", "weights", "onnx"}
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    if "ops" in want:
        check_ops()
    if "params" in want:
        check_params(args)
    if "forward" in want:
        check_forward(args)
    if want & {"weights", "onnx"}:
        with tempfile.TemporaryDirectory() as tmp:
            trained = train_digits(args, tmp)
            if "weights" in want:
                check_weights(args, tmp, trained)
            if "onnx" in want:
                check_onnx(args, tmp, trained)
    print(f"{len(FAILS)} failed" if FAILS else "all passed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()

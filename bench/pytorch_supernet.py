#!/usr/bin/env python3
"""PyTorch CPU speed of NSE's supernet training step, the baseline of bench/supernet_speed.sh.

The supernet is nasc's scaled NSE supernet (kernels/examples/nse_repro.rs `spec()` and `pool()`;
the op structure of kernels/src/supernet.rs `emit`), written out here so nothing but torch is
needed: input 3x32x32; stem 3x3 stride-2 conv, BN, ReLU (16 channels); multi-branch layers
(c_out, stride) (16,1) (24,2) (24,1) (32,2) (32,1), each holding all 16 pool ops; head 1x1 conv
to 64, BN, ReLU, global average pooling, linear with bias to 10 classes. Every conv has no bias
and is followed by BN; padding is symmetric d*(k-1)/2. Every selected op of a layer reads the
layer input; the layer outputs the mean of its selected branches and, where the layer keeps its
shape (stride 1, c_in == c_out), of the identity, all averaged together (nasc's `Op::Mean` over
identity and branches).

A step is NSE's supernet step (`Supernet::sample_uniform` + `train_step`): per layer each of the
first K pool ops is on with probability 1/2 (a layer without identity draws again until one is
on); only the selected branches run, so the others get no gradient (`grad is None`) and no SGD
update; cross-entropy; SGD lr 0.1, momentum 0.9, Nesterov, weight decay 4e-5; training-mode BN.
Init is PyTorch's default. Data: synthetic N(0,1) images and uniform labels, one batch generated
once. Timed: sampling + forward + backward + optimizer step, over --steps steps after --warmup.

  python3 bench/pytorch_supernet.py --k 4 --batch 128 --steps 20 --threads 2 [--json]
"""
import argparse
import json
import random
import time

import torch
import torch.nn as nn

# kernels/examples/nse_repro.rs `pool()`: ("dw", k, t, d), ("ssc", k, t), ("neck", k, max, t)
POOL = [
    ("dw", 3, 1, 1),
    ("dw", 3, 3, 1),
    ("dw", 5, 1, 1),
    ("dw", 5, 3, 1),
    ("dw", 7, 1, 1),
    ("dw", 7, 3, 1),
    ("dw", 3, 1, 2),
    ("dw", 3, 3, 2),
    ("dw", 3, 1, 3),
    ("dw", 3, 3, 3),
    ("ssc", 3, 1),
    ("ssc", 5, 1),
    ("ssc", 3, 2),
    ("ssc", 5, 2),
    ("neck", 3, False, 6),
    ("neck", 5, True, 6),
]
INPUT, STEM, LAYERS, HEAD, CLASSES = (3, 32, 32), 16, [(16, 1), (24, 2), (24, 1), (32, 2), (32, 1)], 64, 10


def conv_bn(c_in, c_out, k, stride=1, groups=1, d=1, relu=True):
    k = k if isinstance(k, tuple) else (k, k)
    pad = (d * (k[0] - 1) // 2, d * (k[1] - 1) // 2)
    mods = [nn.Conv2d(c_in, c_out, k, stride, pad, dilation=d, groups=groups, bias=False), nn.BatchNorm2d(c_out)]
    return mods + [nn.ReLU()] if relu else mods


def make_op(op, c, out, stride):
    """One candidate op mapping c -> out with the layer's stride (supernet.rs `emit`)."""
    kind = op[0]
    if kind == "dw":
        _, k, t, d = op
        ct = c * t
        mods = conv_bn(c, ct, 1) if t > 1 else []
        mods += conv_bn(ct, ct, k, stride, groups=ct, d=d)
        mods += conv_bn(ct, out, 1, relu=False)
    elif kind == "ssc":
        _, k, t = op
        ct = c * t
        mods = conv_bn(c, ct, 1) if t > 1 else []
        mods += conv_bn(ct, ct, (1, k), stride)
        mods += conv_bn(ct, ct, (k, 1))
        mods += conv_bn(ct, out, 1, relu=False)
    else:
        _, k, is_max, t = op
        p = k // 2
        mods = [nn.MaxPool2d(k, stride, p) if is_max else nn.AvgPool2d(k, stride, p, count_include_pad=False)]
        ct = c
        if t > 1:
            ct = c * t
            mods += conv_bn(c, ct, 1)
        mods += conv_bn(ct, 1, 1)
        mods += conv_bn(1, out, 1, relu=False)
    return nn.Sequential(*mods)


class Supernet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(INPUT[0], STEM, 3, 2))
        self.layers = nn.ModuleList()
        self.identity = []
        c = STEM
        for out, stride in LAYERS:
            self.layers.append(nn.ModuleList(make_op(op, c, out, stride) for op in POOL))
            self.identity.append(stride == 1 and c == out)
            c = out
        self.head = nn.Sequential(*conv_bn(c, HEAD, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(HEAD, CLASSES))

    def forward(self, x, arch):
        x = self.stem(x)
        for ops, ident, sel in zip(self.layers, self.identity, arch):
            ins = ([x] if ident else []) + [ops[o](x) for o in sel]
            x = ins[0] if len(ins) == 1 else torch.stack(ins).mean(0)
        return self.head(x)

    def sample_uniform(self, rng, k):
        """Supernet::sample_uniform over the first k pool ops."""
        arch = []
        for ident in self.identity:
            while True:
                sel = [o for o in range(k) if rng.random() < 0.5]
                if sel or ident or k == 0:
                    break
            arch.append(sel)
        return arch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", type=int, default=4, help="active ops per layer: the first K of the pool")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20, help="timed steps")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    assert 1 <= a.k <= len(POOL)
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    net = Supernet().train()
    count = lambda mods: sum(p.numel() for m in mods for p in m.parameters())
    params = count([net])
    first_k = count([net.stem, net.head] + [ops[o] for ops in net.layers for o in range(a.k)])
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=4e-5)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(a.batch, *INPUT)
    y = torch.randint(0, CLASSES, (a.batch,))

    def step():
        arch = net.sample_uniform(rng, a.k)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x, arch), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = time.perf_counter() - t0
    r = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "k": a.k,
        "batch": a.batch,
        "params": params,
        "params_first_k": first_k,
        "steps": a.steps,
        "seconds": dt,
        "images_per_s": a.steps * a.batch / dt,
    }
    if a.json:
        print(json.dumps(r))
    else:
        print(f"params\tsupernet={params}\tfirst_K_ops={first_k}\tK={a.k}")
        print(f"pytorch {r['torch']}: K={a.k} batch {a.batch}, {r['threads']} threads: {r['images_per_s']:.1f} images/s ({a.steps} steps in {dt:.2f} s)")


if __name__ == "__main__":
    main()

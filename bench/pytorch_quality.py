#!/usr/bin/env python3
"""PyTorch reference run of bench/train_quality.sh's recipe (issue 6): the same NAS-Bench-201
network (bench/pytorch_nb201.py's TinyNetwork, best CIFAR-10 cell, C=16, N=5) trained on MNIST or
Fashion-MNIST exactly as `nasc train` does it:

- the IDX files from ../shared/data/images/<dataset>/ (or --data DIR);
- 10% of the training set held out for validation (a seeded random subset; it is not the same
  subset as nasc's, whose RNG differs), the rest trained on;
- normalization by the mean and standard deviation of the remaining training pixels; the grey
  channel is repeated 3 times because the spec's input has 3 channels (nasc does the same);
- no augmentation; batch 256, reshuffled every epoch, the last partial batch kept;
- SGD lr 0.1, momentum 0.9, Nesterov, weight decay 5e-4 on every parameter, cosine annealing
  per step to 0 over the whole run (step t uses 0.05 (1 + cos(pi t / T)));
- evaluation in eval mode (BN running statistics) on the validation and the test set.

Prints one JSON line: dataset, epochs, test_accuracy, val_accuracy, train_images, images_per_s,
train_seconds, torch version, threads.

  python3 bench/pytorch_quality.py --dataset fashion-mnist --epochs 3 [--threads 2] [--limit N]
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_nb201 import BEST, TinyNetwork  # noqa: E402


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"error: `{path}` is not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    t = torch.frombuffer(bytearray(data[4 + 4 * ndim :]), dtype=torch.uint8)
    return t.reshape(dims)


def find(d, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise SystemExit(f"error: no `{stem}[.gz]` in `{d}`")


def load(d):
    tr_x = read_idx(find(d, "train-images-idx3-ubyte")).float()
    tr_y = read_idx(find(d, "train-labels-idx1-ubyte")).long()
    te_x = read_idx(find(d, "t10k-images-idx3-ubyte")).float()
    te_y = read_idx(find(d, "t10k-labels-idx1-ubyte")).long()
    return tr_x, tr_y, te_x, te_y


@torch.no_grad()
def evaluate(net, x, y, batch):
    net.eval()
    hits = 0
    for i in range(0, len(x), batch):
        hits += (net(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum().item()
    net.train()
    return hits / max(1, len(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="fashion-mnist", choices=["mnist", "fashion-mnist"])
    ap.add_argument("--data", default=None, help="folder of the IDX files")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images only")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(a.seed)
    here = os.path.dirname(os.path.abspath(__file__))
    d = a.data or os.path.join(here, "..", "..", "shared", "data", "images", a.dataset)
    tr_x, tr_y, te_x, te_y = load(d)
    if a.limit:
        tr_x, tr_y = tr_x[: a.limit], tr_y[: a.limit]
    g = torch.Generator().manual_seed(a.seed)
    perm = torch.randperm(len(tr_x), generator=g)
    nv = round(0.1 * len(tr_x))
    va_idx, tr_idx = perm[:nv], perm[nv:]
    va_x, va_y, tr_x, tr_y = tr_x[va_idx], tr_y[va_idx], tr_x[tr_idx], tr_y[tr_idx]
    mean, std = tr_x.mean().item(), tr_x.std(unbiased=False).item()

    def prep(x):
        return ((x - mean) / std).unsqueeze(1).expand(-1, 3, -1, -1).contiguous()

    tr_x, va_x, te_x = prep(tr_x), prep(va_x), prep(te_x)
    net = TinyNetwork(BEST, 16, 5, classes=10, in_c=3).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    steps = math.ceil(len(tr_x) / a.batch)
    total = steps * a.epochs
    t = 0
    train_s = 0.0
    for ep in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        order = torch.randperm(len(tr_x), generator=g)
        loss_sum = 0.0
        for s in range(steps):
            idx = order[s * a.batch : (s + 1) * a.batch]
            for pg in opt.param_groups:
                pg["lr"] = 0.05 * (1 + math.cos(math.pi * t / total))
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(tr_x[idx]), tr_y[idx])
            loss.backward()
            opt.step()
            t += 1
            loss_sum += loss.item() * len(idx)
        dt = time.perf_counter() - t0
        train_s += dt
        print(f"# epoch {ep}: loss {loss_sum / len(tr_x):.4f}, {len(tr_x) / dt:.1f} img/s", file=sys.stderr, flush=True)
    r = {
        "dataset": a.dataset,
        "epochs": a.epochs,
        "batch": a.batch,
        "train_images": len(tr_x),
        "val_accuracy": evaluate(net, va_x, va_y, 512),
        "test_accuracy": evaluate(net, te_x, te_y, 512),
        "images_per_s": len(tr_x) * a.epochs / train_s,
        "train_seconds": train_s,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(r))


if __name__ == "__main__":
    main()

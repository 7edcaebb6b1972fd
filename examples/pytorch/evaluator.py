"""A nasc command evaluator that trains each candidate in PyTorch.

    nasc search SPEC --evaluator 'command:python examples/pytorch/evaluator.py --data DIR ...'

nasc runs this script once per trial. It reads the trial document (JSON) from stdin, builds the
candidate's network from its `graph` (nasc_torch.py, beside this file), trains it on an
MNIST-style dataset (Fashion-MNIST or MNIST IDX files), prints one `{"step": epoch, "value":
val_acc}` line per epoch and at the end `{"reward": val_acc, "reported": test_acc, "metrics":
{...}}`. The reward is the accuracy on a validation split held out from the training file (the
same images for every trial); the test accuracy is reported, never searched on.

Environment (set by nasc): NASC_SEED seeds torch (init, shuffling); NASC_TRIAL_DIR receives
`log.jsonl` (one line per epoch) and `model.pt` (the graph document and the trained state_dict).

The data folder may hold the four IDX files (`train-images-idx3-ubyte[.gz]`, ...) directly, in
`DIR/<dataset>/` or in torchvision's layout `DIR/FashionMNIST/raw/` (`DIR/MNIST/raw/`).

Exit status: 0 with a result line; 2 for a usage, data or shape problem (message on stderr).
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
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nasc_torch  # noqa: E402

TORCHVISION_DIR = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}


def fail(msg):
    print(f"evaluator.py: {msg}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder with the dataset's IDX files (see above)")
    p.add_argument("--dataset", default="fashion-mnist", choices=sorted(TORCHVISION_DIR))
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "adamw"], help="sgd: momentum 0.9, Nesterov, weight decay 5e-4; adamw: weight decay 0.01")
    p.add_argument("--lr", type=float, default=None, help="base learning rate, cosine-annealed to 0 per step (default: sgd 0.05, adamw 0.002)")
    p.add_argument("--limit", type=int, default=None, help="train on at most this many images (the first ones after the validation split)")
    p.add_argument("--val-size", type=int, default=5000, help="validation images, held out from the end of the training file (default 5000)")
    p.add_argument("--test-limit", type=int, default=None, help="evaluate on at most this many test images (default: all)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--seed", type=int, default=None, help="overrides NASC_SEED")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    a = p.parse_args(argv)
    for name in ("epochs", "batch", "val_size"):
        if getattr(a, name) <= 0:
            fail(f"--{name.replace('_', '-')} must be positive")
    if a.limit is not None and a.limit <= 0 or a.test_limit is not None and a.test_limit <= 0:
        fail("--limit and --test-limit must be positive")
    if a.lr is not None and not (math.isfinite(a.lr) and a.lr > 0):
        fail("--lr must be a positive number")
    return a


def _find(data, dataset, stem):
    dirs = [data, os.path.join(data, dataset), os.path.join(data, TORCHVISION_DIR[dataset], "raw")]
    for d in dirs:
        for name in (stem, stem + ".gz"):
            path = os.path.join(d, name)
            if os.path.isfile(path):
                return path
    fail(f"no {stem}[.gz] in {' or '.join(dirs)}")


def read_idx(path):
    """An IDX file (optionally gzipped) as a uint8 tensor of its dimensions."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        fail(f"{path}: not an unsigned-byte IDX file")
    nd = data[3]
    dims = struct.unpack(">" + "I" * nd, data[4 : 4 + 4 * nd])
    body = data[4 + 4 * nd :]
    if len(body) != math.prod(dims):
        fail(f"{path}: {len(body)} bytes of data for dimensions {dims}")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def load_split(data, dataset, prefix):
    x = read_idx(_find(data, dataset, f"{prefix}-images-idx3-ubyte"))
    y = read_idx(_find(data, dataset, f"{prefix}-labels-idx1-ubyte"))
    if x.shape[0] != y.shape[0]:
        fail(f"{prefix}: {x.shape[0]} images but {y.shape[0]} labels")
    return x, y.long()


def accuracy(model, x, y, batch, device):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            logits = model(x[i : i + batch].to(device))
            correct += (logits.argmax(1).cpu() == y[i : i + batch]).sum().item()
    return correct / max(1, x.shape[0])


def main(argv):
    args = parse_args(argv)
    t_start = time.time()
    try:
        doc = json.load(sys.stdin)
    except json.JSONDecodeError as e:
        fail(f"stdin is not a trial document: {e}")
    graph = doc.get("graph") if isinstance(doc, dict) else None
    if not isinstance(graph, dict):
        fail("the trial document has no `graph`")
    seed = args.seed if args.seed is not None else int(os.environ.get("NASC_SEED", doc.get("seed", 0)))
    trial_dir = os.environ.get("NASC_TRIAL_DIR")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(seed)

    xtr, ytr = load_split(args.data, args.dataset, "train")
    xte, yte = load_split(args.data, args.dataset, "t10k")
    if args.val_size >= xtr.shape[0]:
        fail(f"--val-size {args.val_size} leaves no training images ({xtr.shape[0]} in all)")
    xva, yva = xtr[-args.val_size :], ytr[-args.val_size :]
    xtr, ytr = xtr[: -args.val_size], ytr[: -args.val_size]
    if args.limit:
        xtr, ytr = xtr[: args.limit], ytr[: args.limit]
    if args.test_limit:
        xte, yte = xte[: args.test_limit], yte[: args.test_limit]

    # [n, 1, 28, 28] floats, normalized with the training images' mean and std.
    xtr, xva, xte = (t.float().div_(255).unsqueeze(1) for t in (xtr, xva, xte))
    mean, std = xtr.mean().item(), xtr.std().item()
    xtr, xva, xte = ((t - mean) / std for t in (xtr, xva, xte))

    classes = int(max(ytr.max(), yte.max())) + 1
    in_shape = list(graph.get("input_shape", graph["nodes"][0]["shape"]))
    if in_shape != list(xtr.shape[1:]):
        fail(f"the candidate's input is {in_shape}, the images are {list(xtr.shape[1:])} (set the spec's input size, e.g. --set side=28)")
    out_shape = graph["nodes"][graph.get("output", len(graph["nodes"]) - 1)]["shape"]
    if math.prod(out_shape) != classes:
        fail(f"the candidate has {math.prod(out_shape)} outputs, the dataset {classes} classes (e.g. --set classes={classes})")

    device = torch.device(args.device)
    model = nasc_torch.build(graph).to(device)
    params = sum(p.numel() for p in model.parameters())
    if "params" in graph and graph["params"] != params:
        fail(f"the module has {params} parameters, the graph document {graph['params']}")

    if args.optimizer == "sgd":
        lr = args.lr or 0.05
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    else:
        lr = args.lr or 0.002
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps_per_epoch = math.ceil(xtr.shape[0] / args.batch)
    total = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))

    log = open(os.path.join(trial_dir, "log.jsonl"), "w") if trial_dir else None
    gen = torch.Generator().manual_seed(seed)
    t_train = time.time()
    train_seconds = 0.0
    val_acc = 0.0
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        model.train()
        order = torch.randperm(xtr.shape[0], generator=gen)
        loss_sum, seen, correct = 0.0, 0, 0
        for i in range(0, xtr.shape[0], args.batch):
            idx = order[i : i + args.batch]
            x, y = xtr[idx].to(device), ytr[idx].to(device)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(idx)
        train_seconds += time.time() - t0
        if not math.isfinite(loss_sum):
            print(f"evaluator.py: the loss diverged in epoch {epoch}", file=sys.stderr)
            sys.exit(1)
        val_acc = accuracy(model, xva, yva, 512, device)
        print(json.dumps({"step": epoch, "value": val_acc}), flush=True)
        if log:
            rec = {"epoch": epoch, "loss": loss_sum / seen, "train_accuracy": correct / seen, "val_accuracy": val_acc, "seconds": round(time.time() - t0, 3)}
            log.write(json.dumps(rec) + "\n")
            log.flush()
    test_acc = accuracy(model, xte, yte, 512, device)
    if trial_dir:
        torch.save({"graph": graph, "state_dict": model.state_dict(), "candidate": doc.get("candidate"), "seed": seed}, os.path.join(trial_dir, "model.pt"))
    if log:
        log.close()
    metrics = {
        "val_accuracy": val_acc,
        "test_accuracy": test_acc,
        "train_seconds": round(train_seconds, 3),
        "eval_seconds": round(time.time() - t_train - train_seconds, 3),
        "total_seconds": round(time.time() - t_start, 3),
        "train_images": int(xtr.shape[0]),
        "epochs": args.epochs,
        "torch_params": params,
    }
    print(json.dumps({"reward": val_acc, "reported": test_acc, "metrics": metrics}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

#!/usr/bin/env python3
"""Retrain the best cells of bench/popnas_repro.sh's runs with new training seeds, so that
POPNASv2 and PNAS mode are compared on what they found rather than on one lucky training.

A search's best validation accuracy is the maximum over the networks it trained, and a cell's
accuracy after 3 epochs moves by 1 to 1.5 points with the training seed alone: a run that
trains more networks has a higher maximum even among equally good cells. This script takes the
TOP best distinct cells of each run (OUT_DIR/{popnas,pnas}-sSEED.json, `top`), trains each again
with SEEDS new training seeds through `nasc train` (the search's recipe: the report's
`reproduce` command with `--seed` replaced), and writes OUT_DIR/retrain.tsv (one line per
training; resumable: trainings already in the file are skipped), then per run the mean
validation and test accuracy of its best cell and of its top TOP, and per seed POPNAS - PNAS.

Usage: popnas_retrain.py OUT_DIR [TOP [SEEDS]]   (defaults 2 and 3; NASC=path/to/nasc,
default target/release/nasc). Stdlib only. Run it on an idle machine after the searches
(it trains TOP x SEEDS networks per run, about 30 s each at the reproduction's size)."""
import glob
import json
import os
import re
import shlex
import statistics
import subprocess
import sys

RETRAIN_SEED0 = 1000


def trainings(out, top, seeds):
    """(run, rank, cell, seed, argv) of every training to do, in a fixed order."""
    nasc = os.environ.get("NASC", "target/release/nasc")
    todo = []
    for path in sorted(glob.glob(os.path.join(out, "*-s*.json"))):
        run = os.path.basename(path)[: -len(".json")]
        if not re.fullmatch(r"(popnas|pnas)-s\d+", run):
            continue
        with open(path) as f:
            report = json.load(f)
        for rank, entry in enumerate(report.get("top", [])[:top], start=1):
            argv = shlex.split(entry["reproduce"])
            if argv[:2] != ["nasc", "train"] or "--seed" not in argv:
                sys.exit(f"popnas_retrain: {path}: unexpected reproduce command `{entry['reproduce']}`")
            argv[0] = nasc
            i = argv.index("--seed")
            for s in range(seeds):
                seed = RETRAIN_SEED0 + s
                cmd = argv[: i + 1] + [str(seed)] + argv[i + 2 :] + ["--format", "json"]
                todo.append((run, rank, entry["candidate"], seed, cmd))
    return todo


def accuracy(result, split):
    """Validation or test accuracy in percent from `nasc train --format json` (a fraction)."""
    v = result.get(split)
    if v is None:
        sys.exit(f"popnas_retrain: `nasc train` gave no {split}")
    return 100 * v


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    seeds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    tsv = os.path.join(out, "retrain.tsv")
    done = {}
    if os.path.exists(tsv):
        with open(tsv) as f:
            for line in f:
                run, rank, seed, val, test, secs, cell = line.rstrip("\n").split("\t")
                done[(run, int(rank), int(seed))] = (float(val), float(test))
    todo = trainings(out, top, seeds)
    if not todo:
        sys.exit(f"popnas_retrain: no popnas-sN.json / pnas-sN.json reports with a `top` in {out}")
    for run, rank, cell, seed, cmd in todo:
        if (run, rank, seed) in done:
            continue
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"popnas_retrain: {run} rank {rank} seed {seed} failed:\n{p.stderr[-2000:]}")
        result = json.loads(p.stdout)
        val, test = accuracy(result, "val_accuracy"), accuracy(result, "test_accuracy")
        done[(run, rank, seed)] = (val, test)
        with open(tsv, "a") as f:
            f.write(f"{run}\t{rank}\t{seed}\t{val:.4f}\t{test:.4f}\t{result['train_seconds']:.2f}\t{cell}\n")
        print(f"{run} rank {rank} seed {seed}: val {val:.2f} test {test:.2f}", flush=True)
    summarize(done, top, seeds)


def summarize(done, top, seeds):
    runs = sorted({r for r, _, _ in done})
    best, topn = {}, {}
    print(f"\nretrained with {seeds} new seeds (mean ± sample sd over the seeds):")
    for run in runs:
        b = [done[(run, 1, RETRAIN_SEED0 + s)] for s in range(seeds) if (run, 1, RETRAIN_SEED0 + s) in done]
        # only this call's TOP and SEEDS, whatever an earlier call added to the file
        t = [v for (r, k, sd), v in done.items() if r == run and k <= top and sd < RETRAIN_SEED0 + seeds]
        best[run] = statistics.mean(x[1] for x in b)
        topn[run] = statistics.mean(x[1] for x in t)
        sd = statistics.stdev(x[1] for x in b) if len(b) > 1 else 0.0
        print(
            f"  {run}: best cell val {statistics.mean(x[0] for x in b):.2f} test {best[run]:.2f} ± {sd:.2f};"
            f" top {top} cells val {statistics.mean(x[0] for x in t):.2f} test {topn[run]:.2f}"
        )
    diffs = []
    for run in runs:
        m = re.fullmatch(r"popnas-s(\d+)", run)
        if m and f"pnas-s{m.group(1)}" in best:
            other = f"pnas-s{m.group(1)}"
            d1, dn = best[run] - best[other], topn[run] - topn[other]
            diffs.append((d1, dn))
            print(f"  seed {m.group(1)}: popnas - pnas, test accuracy: best cell {d1:+.2f}, top {top} {dn:+.2f} points")
    if len(diffs) > 1:
        print(
            f"  over {len(diffs)} seeds: best cell {statistics.mean(d for d, _ in diffs):+.2f},"
            f" top {top} {statistics.mean(d for _, d in diffs):+.2f} points"
        )


if __name__ == "__main__":
    main()

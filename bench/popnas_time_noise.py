#!/usr/bin/env python3
"""Pairwise test-retest of the time metrics of identical trainings (bench/popnas_time_noise.sh):
for each pair of stores and each metric, the Spearman rank correlation of the candidates' values
and their mean relative difference; then the means over the pairs. Stdlib only (reads the
SQLite stores read-only). Usage: popnas_time_noise.py STORE.db STORE.db [...]"""
import itertools
import json
import sqlite3
import statistics
import sys

METRICS = ("train_seconds", "train_probes")


def load(path):
    """candidate -> metrics of a store's successful trials."""
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = c.execute("select candidate, metrics, reward from trials").fetchall()
    return {cand: json.loads(m) for cand, m, reward in rows if reward is not None}


def ranks(xs):
    """Ranks (average ranks for ties)."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.mean(ra), statistics.mean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    return cov / (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5


def main(paths):
    runs = {p: load(p) for p in paths}
    sums = {m: [] for m in METRICS}
    for a, b in itertools.combinations(paths, 2):
        common = sorted(set(runs[a]) & set(runs[b]))
        for m in METRICS:
            if not all(m in runs[p][c] for p in (a, b) for c in common):
                continue
            xa = [runs[a][c][m] for c in common]
            xb = [runs[b][c][m] for c in common]
            rho = spearman(xa, xb)
            rel = statistics.mean(abs(x - y) / ((x + y) / 2) for x, y in zip(xa, xb))
            sums[m].append((rho, rel))
            print(f"{a} vs {b}: {m}: {len(common)} cells, Spearman {rho:.3f}, mean relative difference {100 * rel:.1f}%")
    for m, xs in sums.items():
        if xs:
            print(f"{m}: mean over {len(xs)} pairs: Spearman {statistics.mean(x[0] for x in xs):.3f}, "
                  f"mean relative difference {100 * statistics.mean(x[1] for x in xs):.1f}%")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1:])

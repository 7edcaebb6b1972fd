#!/usr/bin/env python3
"""Summary of bench/nse_repro.sh's output folder (stdlib only): per variant, the retrained test
accuracy of the best front architectures of round 1 and of the last round (mean and sample
standard deviation over seeds of each seed's best), MACs, search time, what happened to the
two poor ops, and the supernet step speed."""
import statistics
import sys
from pathlib import Path


def fields(line):
    parts = line.rstrip("\n").split("\t")
    kv = {}
    for p in parts[1:]:
        if "=" in p:
            k, v = p.split("=", 1)
            kv[k] = v
    return parts[0], parts[1], kv


def ms(xs):
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return f"{xs[0]:.4f}"
    return f"{statistics.mean(xs):.4f} ± {statistics.stdev(xs):.4f}"


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "target/nse_repro")
    runs = {}
    for f in sorted(out.glob("*-s*.tsv")):
        for line in f.read_text().splitlines():
            kind, variant, kv = fields(line)
            seed = kv.get("seed")
            r = runs.setdefault(variant, {}).setdefault(seed, {"results": [], "rounds": []})
            if kind == "result":
                r["results"].append(kv)
            elif kind == "round":
                r["rounds"].append(kv)
    print("| variant | seeds | round-1 best retrained test acc | last-round best retrained test acc | last-round MACs (M) | poor (layer, op) pairs active / dropped / kept by aggregation (summed over rounds and seeds) | search s per seed |")
    print("|---|---|---|---|---|---|---|")
    for variant in ["nse", "nolr", "oneshot"]:
        seeds = runs.get(variant, {})
        first, last, macs, search = [], [], [], []
        pa = pd = pf = 0
        for seed, r in sorted(seeds.items()):
            res = r["results"]
            if not res:
                continue
            rounds = sorted({int(x["round"]) for x in res})
            f = [x for x in res if int(x["round"]) == rounds[0]]
            l = [x for x in res if int(x["round"]) == rounds[-1]]
            first.append(max(float(x["test_acc"]) for x in f))
            best = max(l, key=lambda x: float(x["test_acc"]))
            last.append(float(best["test_acc"]))
            macs.append(float(best["macs"]))
            search.append(float(res[0]["search_s"]))
            for rd in r["rounds"]:
                pa += int(rd["poor_active"])
                pd += int(rd["poor_dropped"])
                pf += int(rd["poor_in_front_ops"])
        print(f"| {variant} | {len(first)} | {ms(first)} | {ms(last)} | {ms(macs)} | {pa} / {pd} / {pf} | {ms(search)} |")
    print()
    print("| variant | seed | round | active ops | dropped | poor active / dropped / aggregated | front | best supernet acc | mean theta poor / other, min |")
    print("|---|---|---|---|---|---|---|---|---|")
    for variant in ["nse", "nolr", "oneshot"]:
        for seed, r in sorted(runs.get(variant, {}).items()):
            for rd in r["rounds"]:
                th = f"{rd.get('theta_poor', 'n/a')} / {rd.get('theta_other', 'n/a')}, {rd.get('theta_min', 'n/a')}"
                print(f"| {variant} | {seed} | {rd['round']} | {rd['active_ops']} | {rd['dropped']} | {rd['poor_active']} / {rd['poor_dropped']} / {rd['poor_in_front_ops']} | {rd['front']} | {rd['best_supernet_acc']} | {th} |")
    sp = out / "speed.tsv"
    if sp.exists():
        print()
        for line in sp.read_text().splitlines():
            print("    " + line)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Summarize bench/popnas_repro.sh's reports (OUT_DIR/{popnas,pnas}-sSEED.json): per run the
networks trained (all, at b >= 2), search time (the sum of trial costs: wall seconds of training
and evaluation; and the sum of the `train_seconds` objective), best validation / test accuracy,
and per step the predictors' Spearman and MAPE. Stdlib only. Usage: popnas_summary.py OUT_DIR"""
import glob
import json
import os
import sys


def main(out):
    rows = {}
    for path in sorted(glob.glob(os.path.join(out, "*-s*.json"))):
        mode, seed = os.path.basename(path)[:-5].rsplit("-s", 1)
        d = json.load(open(path))
        steps = d["popnas"]["steps"]
        b2 = [s for s in steps if s["b"] >= 2]
        rows[(mode, int(seed))] = r = {
            "trials": d["trials"],
            "trials_b2": sum(s["trained"] for s in b2),
            "search_s": d["sim_time"],
            "train_s": sum(s["time_sum"] for s in steps),
            "train_s_b2": sum(s["time_sum"] for s in b2),
            "best_val": d["best"]["reward"],
            "best_test": d["best"]["reported"],
            "pruned": d["popnas"]["pruned"],
            "steps": steps,
        }
        print(f"{mode} seed {seed}: {r['trials']} networks ({r['trials_b2']} at b>=2), search {r['search_s']:.0f} s "
              f"(train_seconds {r['train_s']:.0f} s, at b>=2 {r['train_s_b2']:.0f} s), best val {100 * r['best_val']:.2f} "
              f"test {100 * r['best_test']:.2f}, pruned {r['pruned']}")
        for s in b2:
            f = lambda x: "-" if x is None else f"{x:.3f}"
            print(f"  b={s['b']}: front {s['front']} + exploration {s['exploration']} of {s['candidates']} scored, pruned {s['pruned']}; "
                  f"acc spearman {f(s['acc_spearman'])} mape {f(s['acc_mape'])}; time spearman {f(s['time_spearman'])} mape {f(s['time_mape'])}")
    for seed in sorted({s for (_, s) in rows}):
        p, q = rows.get(("popnas", seed)), rows.get(("pnas", seed))
        if p and q:
            print(f"seed {seed}: popnas/pnas networks at b>=2 {p['trials_b2']}/{q['trials_b2']} = {p['trials_b2'] / max(q['trials_b2'], 1):.2f}; "
                  f"search time speed-up {q['search_s'] / p['search_s']:.2f}x (train_seconds {q['train_s'] / p['train_s']:.2f}x, "
                  f"at b>=2 {q['train_s_b2'] / max(p['train_s_b2'], 1e-9):.2f}x); best val popnas - pnas {100 * (p['best_val'] - q['best_val']):+.2f} points")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")

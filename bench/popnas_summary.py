#!/usr/bin/env python3
"""Summarize bench/popnas_repro.sh's reports (OUT_DIR/{popnas,pnas}-sSEED.json): per run the
networks trained (all, at b >= 2), search time (the sum of trial costs: wall seconds of training
and evaluation; and the sum of the time objective: `train_seconds` or `train_probes`), best validation / test accuracy,
per step the predictors' Spearman and MAPE, then the issue's criteria per seed and their mean
and sample standard deviation over the seeds. Stdlib only. Usage: popnas_summary.py OUT_DIR"""
import glob
import json
import os
import statistics
import sys


def pct(x, unit):
    """Accuracy in percent: the report's `reward_is` / `reported_is` text ends in `%` when it
    gives percent; reports without it (older ones) gave fractions."""
    return x if unit and unit.rstrip().endswith("%") else 100 * x


def fmt(x, spec=".3f"):
    return "-" if x is None else format(x, spec)


def mean_sd(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    if len(xs) == 1:
        return f"{xs[0]:.3f} (n = 1)"
    return f"{statistics.mean(xs):.3f} ± {statistics.stdev(xs):.3f} (n = {len(xs)})"


def predictor_stats(steps):
    """(last step's accuracy Spearman, time Spearmans at b >= 3, time MAPEs from b = 2, whether
    the time MAPE fell from b = 2 to the last step) of one run's steps."""
    rho = [s["time_spearman"] for s in steps if s["b"] >= 3]
    mapes = [s["time_mape"] for s in steps if s["b"] >= 2]
    falls = len(mapes) >= 2 and all(m is not None for m in mapes) and mapes[-1] < mapes[0]
    return steps[-1]["acc_spearman"], rho, mapes, falls


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
            "best_val": pct(d["best"]["reward"], d.get("reward_is")),
            "best_test": pct(d["best"]["reported"], d.get("reported_is")),
            "pruned": d["popnas"]["pruned"],
            "steps": steps,
        }
        print(f"{mode} seed {seed}: {r['trials']} networks ({r['trials_b2']} at b>=2), search {r['search_s']:.0f} s "
              f"(time objective {r['train_s']:.0f}, at b>=2 {r['train_s_b2']:.0f}), best val {r['best_val']:.2f} "
              f"test {r['best_test']:.2f}, pruned {r['pruned']}")
        for s in b2:
            print(f"  b={s['b']}: front {s['front']} + exploration {s['exploration']} of {s['candidates']} scored, "
                  f"pruned {s['pruned']}, trained {s['trained']}; acc spearman {fmt(s['acc_spearman'])} "
                  f"mape {fmt(s['acc_mape'])}; time spearman {fmt(s['time_spearman'])} mape {fmt(s['time_mape'])}")
    crit = {k: [] for k in ("ratio", "speedup", "train_speedup", "acc_diff", "acc_rho", "time_rho", "mape_falls", "pnas_acc_rho", "pnas_time_rho", "pnas_mape_falls")}
    for seed in sorted({s for (_, s) in rows}):
        p, q = rows.get(("popnas", seed)), rows.get(("pnas", seed))
        if not (p and q):
            continue
        ratio = p["trials_b2"] / max(q["trials_b2"], 1)
        speedup = q["search_s"] / max(p["search_s"], 1e-9)
        train_speedup = q["train_s"] / max(p["train_s"], 1e-9)
        acc_diff = p["best_val"] - q["best_val"]
        acc_rho, time_rho, mapes, falls = predictor_stats(p["steps"])
        print(f"seed {seed}: networks at b>=2 popnas/pnas {p['trials_b2']}/{q['trials_b2']} = {ratio:.2f} (target <= 0.60); "
              f"search time speed-up {speedup:.2f}x (target >= 1.5x; time objective {train_speedup:.2f}x); "
              f"best val popnas - pnas {acc_diff:+.2f} points (target within 1); "
              f"last-step acc spearman {fmt(acc_rho)} (target > 0.5); "
              f"time spearman at b>=3 {', '.join(fmt(x) for x in time_rho)} (target >= 0.9); "
              f"time mape from b=2 {' -> '.join(fmt(x, '.1f') for x in mapes)} % ({'falls' if falls else 'does not fall'}); "
              f"pruned {p['pruned']} + {q['pruned']}")
        # The same predictors scored on PNAS mode's steps: K cells a step instead of POPNAS's
        # front (often 1 to 4 cells, on which a Spearman is +-1 or 0 by construction).
        q_acc_rho, q_rho, q_mapes, q_falls = predictor_stats(q["steps"])
        print(f"  predictors on pnas mode's steps ({', '.join(str(s['trained']) for s in q['steps'] if s['b'] >= 2)} cells): "
              f"last-step acc spearman {fmt(q_acc_rho)}; time spearman at b>=3 {', '.join(fmt(x) for x in q_rho)}; "
              f"time mape from b=2 {' -> '.join(fmt(x, '.1f') for x in q_mapes)} % ({'falls' if q_falls else 'does not fall'})")
        crit["pnas_acc_rho"].append(q_acc_rho)
        crit["pnas_time_rho"].extend(x for x in q_rho if x is not None)
        crit["pnas_mape_falls"].append(1.0 if q_falls else 0.0)
        crit["ratio"].append(ratio)
        crit["speedup"].append(speedup)
        crit["train_speedup"].append(train_speedup)
        crit["acc_diff"].append(acc_diff)
        crit["acc_rho"].append(acc_rho)
        crit["time_rho"].extend(x for x in time_rho if x is not None)
        crit["mape_falls"].append(1.0 if falls else 0.0)
    if crit["ratio"]:
        print("over seeds (mean ± sample sd; n: seeds; steps for time_rho and pnas_time_rho):")
        for k, v in crit.items():
            print(f"  {k}: {mean_sd(v)}")
        for mode in ("popnas", "pnas"):
            vals = [r["best_val"] for (m, _), r in rows.items() if m == mode]
            tests = [r["best_test"] for (m, _), r in rows.items() if m == mode]
            print(f"  {mode} best val {mean_sd(vals)}, its test {mean_sd(tests)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")

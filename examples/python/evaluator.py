#!/usr/bin/env python3
"""A stdlib-only evaluator for `nasc search --evaluator 'command:python3 examples/python/evaluator.py'`.

It reads the trial document on stdin, checks it against its environment (NASC_TRIAL_ID,
NASC_SEED, NASC_TRIAL_DIR and the trial.json saved there), walks the `graph` (summing the nodes'
parameters, which must equal the space's `params` metric), prints three intermediate
`{"step": k, "value": v}` lines and the result line. The reward is a deterministic function of
the network (no training): more parameters and more nodes score higher, with diminishing returns.
It stands in for your training code in nasc's tests; see examples/pytorch/ for a real one.

The first argument picks a behaviour, for the tests of every failure path:
  ok        (default) the protocol as intended
  fail      a message on stderr, exit status 1
  crash     killed by a signal (SIGSEGV)
  hang      one step line, then sleeps for an hour with a grandchild holding stdout open
  garbage   lines that are not the protocol (text, a JSON array, a line with "reward" as text)
  nothing   exits 0 without printing anything
  nan       a result line whose reward is NaN (not JSON)
  huge      30 MB on stdout (one 8 MB line among them) and 30 MB on stderr, then the result
  odd-fails trials with an odd id exit with status 1, the others as `ok`
--sleep S   sleep S seconds before the result (for interruption tests)
"""
import json
import math
import os
import signal
import subprocess
import sys
import time


def reward_of(graph):
    """A made-up score in (0, 1) from the network's size: deterministic, no training."""
    params = sum(n["params"] for n in graph["nodes"])
    return round(1.0 - 1.0 / (1.0 + math.log1p(params) / 4.0 + 0.02 * len(graph["nodes"])), 6)


def main():
    args = sys.argv[1:]
    mode = args[0] if args and not args[0].startswith("--") else "ok"
    sleep = float(args[args.index("--sleep") + 1]) if "--sleep" in args else 0.0
    raw = sys.stdin.read()
    doc = json.loads(raw)
    out = sys.stdout

    # the environment agrees with the document, and the trial folder holds it
    trial_dir = os.environ["NASC_TRIAL_DIR"]
    problems = []
    if os.environ.get("NASC_TRIAL_ID") != str(doc["trial"]):
        problems.append("NASC_TRIAL_ID %r != trial %r" % (os.environ.get("NASC_TRIAL_ID"), doc["trial"]))
    if os.environ.get("NASC_SEED") != str(doc["seed"]):
        problems.append("NASC_SEED %r != seed %r" % (os.environ.get("NASC_SEED"), doc["seed"]))
    with open(os.path.join(trial_dir, "trial.json")) as f:
        if json.load(f) != doc:
            problems.append("trial.json differs from stdin")
    graph = doc["graph"]
    params = sum(n["params"] for n in graph["nodes"])
    if params != graph["params"] or params != doc["metrics"]["params"]:
        problems.append("params: nodes %d, graph %r, metrics %r" % (params, graph["params"], doc["metrics"]["params"]))
    if problems:
        sys.stderr.write("evaluator.py: " + "; ".join(problems) + "\n")
        sys.exit(3)
    with open(os.path.join(trial_dir, "log.txt"), "w") as f:
        f.write("candidate %s\n" % doc["candidate"])

    if mode == "fail" or (mode == "odd-fails" and doc["trial"] % 2 == 1):
        sys.stderr.write("Traceback (most recent call last):\n  ...\nRuntimeError: CUDA out of memory (pretend)\n")
        sys.exit(1)
    if mode == "crash":
        sys.stderr.write("about to crash\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGSEGV)
    if mode == "hang":
        out.write(json.dumps({"step": 1, "value": 0.1}) + "\n")
        out.flush()
        subprocess.Popen(["sleep", "3600"])  # inherits stdout and stderr: killed with the group
        time.sleep(3600)
    if mode == "garbage":
        out.write("epoch 1 loss 0.3\n[1, 2, 3]\n{\"rewardz\": 1}\nreward: 0.9\n")
        return
    if mode == "nothing":
        return
    if mode == "nan":
        out.write('{"reward": NaN}\n')
        return
    if mode == "huge":
        junk = ("x" * 999 + "\n") * 1000  # 1 MB of 1,000-byte lines
        for i in range(22):
            out.write(junk)
            sys.stderr.write(junk)
        out.write("y" * (8 << 20) + "\n")
        sys.stderr.write("z" * (8 << 20) + "\nthe end of stderr\n")

    r = reward_of(graph)
    for k in (1, 2, 3):
        out.write(json.dumps({"step": k, "value": round(r * k / 3, 6)}) + "\n")
    out.flush()
    if sleep:
        time.sleep(sleep)
    result = {"reward": r, "reported": round(r - 0.01, 6), "metrics": {"graph_params": params, "nodes": len(graph["nodes"])}}
    out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

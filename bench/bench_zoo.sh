#!/usr/bin/env bash
# Runs `nasc bench` on every spec in specs/ several times (7 for the three slowest to compile,
# 3 for the others), each a cold process, and prints the README's Performance table: medians of
# every column, and the slowest compile. Usage: bench/bench_zoo.sh [OUT.jsonl]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/bench_zoo.jsonl}"
cargo build --release -q -p nasc
: > "$out"
for f in specs/*.nas; do
  n=3
  case "$f" in *darts*|*popnas*|*mobilenet_v2*) n=7 ;; esac
  for _ in $(seq "$n"); do ./target/release/nasc bench "$f" --format json >> "$out"; done
done
python3 - "$out" <<'PY'
import collections, json, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    j = json.loads(line)
    runs[j["spec"]].append(j)
for spec, v in runs.items():
    m = lambda k: statistics.median(x[k] for x in v)
    if v[0]["decisions"] == 0:
        # a fixed network: one candidate, only the compile time is measured
        print(f"| {spec.split('/')[-1]} | 0 | - | - | - | - | - | - | "
              f"{m('compile_ms'):.1f} ({m('front_end_ms'):.1f} + {m('jit_ms'):.1f}) | {max(x['compile_ms'] for x in v):.1f} |")
        continue
    print(f"| {spec.split('/')[-1]} | {v[0]['decisions']} | {m('interp_per_s')/1e6:.1f} | {m('jit_per_s')/1e6:.1f} | "
          f"{m('jit_per_s')/m('interp_per_s'):.1f}x | {m('jit_chunk_per_s')/1e6:.1f} | "
          f"{m('interp_sample_per_s')/1e6:.1f} / {m('jit_sample_per_s')/1e6:.1f} | "
          f"{m('interp_neighbor_per_s')/1e6:.1f} / {m('jit_neighbor_per_s')/1e6:.1f} | "
          f"{m('compile_ms'):.1f} ({m('front_end_ms'):.1f} + {m('jit_ms'):.1f}) | {max(x['compile_ms'] for x in v):.1f} |")
PY

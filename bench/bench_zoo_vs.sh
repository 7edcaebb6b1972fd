#!/usr/bin/env bash
# Side by side: `nasc bench` of two builds on the same specs, alternating base / new cold
# processes per spec (REPEATS times, default 5), and the ratio new / base of each column's
# median. For checking that a refactor left the compiler's speed alone on a machine whose
# timings drift (bench_zoo.sh's table is one build at one time).
#   bench/bench_zoo_vs.sh BASE_NASC NEW_NASC [SPECS...]    (default: every specs/*.nas)
# Each binary reads the specs of the working tree it is run from (run it from the new tree;
# specs that the base build cannot compile are reported and skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bench/bench_zoo_vs.sh BASE_NASC NEW_NASC [SPECS...]}
new=${2:?usage: bench/bench_zoo_vs.sh BASE_NASC NEW_NASC [SPECS...]}
shift 2
specs=${*:-specs/*.nas}
repeats=${REPEATS:-5}
out=$(mktemp -d "${TMPDIR:-/tmp}/bench_zoo_vs.XXXXXX")
trap 'rm -rf "$out"' EXIT
: > "$out/base.jsonl"; : > "$out/new.jsonl"
for f in $specs; do
  for _ in $(seq "$repeats"); do
    if ! "$base" bench "$f" --format json >> "$out/base.jsonl" 2> "$out/err"; then
      echo "skipped $f: the base build does not bench it ($(head -c 200 "$out/err"))" >&2
      continue 2
    fi
    "$new" bench "$f" --format json >> "$out/new.jsonl"
  done
done
python3 - "$out" "$repeats" <<'PY'
import collections, json, os, statistics, sys
runs = collections.defaultdict(list)
for side in ("base", "new"):
    for line in open(os.path.join(sys.argv[1], side + ".jsonl")):
        j = json.loads(line)
        runs[(j["spec"], side)].append(j)
cols = [("interp_per_s", "eval interp M/s", 1e6), ("jit_per_s", "eval JIT M/s", 1e6), ("jit_chunk_per_s", "JIT in cache M/s", 1e6),
        ("jit_sample_per_s", "sampling JIT M/s", 1e6), ("jit_neighbor_per_s", "neighbors JIT M/s", 1e6), ("compile_ms", "compile ms", 1)]
print(f"medians of {sys.argv[2]} alternating cold processes per side; cells: base -> new (new / base)")
print("| spec | " + " | ".join(c[1] for c in cols) + " |")
print("|---|" + "---|" * len(cols))
for spec in sorted({s for (s, _) in runs}):
    b, n = runs[(spec, "base")], runs[(spec, "new")]
    cells = []
    for key, _, scale in cols:
        vb = [x[key] for x in b if key in x]
        vn = [x[key] for x in n if key in x]
        if not vb or not vn or (b[0]["decisions"] == 0 and key != "compile_ms"):
            cells.append("-")
            continue
        mb, mn = statistics.median(vb) / scale, statistics.median(vn) / scale
        cells.append(f"{mb:.1f} -> {mn:.1f} ({mn / mb:.2f})")
    print(f"| {spec.split('/')[-1]} | " + " | ".join(cells) + " |")
PY

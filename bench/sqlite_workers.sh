#!/usr/bin/env bash
# Real parallel workers on a SQLite store (issue 17): the wall time of a search whose command
# evaluator sleeps 50 ms per trial, with --workers 1 and --workers 4, REPEATS alternating runs
# (default 3). The same evaluator as bench/pg_throughput.sh.
#
#   bench/sqlite_workers.sh [TRIALS]     # default 200
# Needs: target/release/nasc (cargo build --release -p nasc).
set -euo pipefail
cd "$(dirname "$0")/.."
NASC=${NASC:-target/release/nasc}
n=${1:-200}
REPEATS=${REPEATS:-3}
[ -x "$NASC" ] || { echo "error: $NASC not found; run cargo build --release -p nasc" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/nasc-sqlite-workers.XXXXXX")
trap 'rm -rf "$dir"' EXIT
ev='command:sh -c '"'"'sleep 0.05; echo "{\"reward\": 0.5}"'"'"
run() { # workers -> seconds
  local s e
  s=$(date +%s.%N)
  "$NASC" search specs/digits_tiny.nas --strategy rs --budget "$n" --quiet --evaluator "$ev" --workers "$1" --store "$dir/w$1-$RANDOM.db" >/dev/null
  e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
echo "# $(date -u +%FT%TZ) $(nproc) cores; uptime:$(uptime)"
W1=(); W4=()
for r in $(seq 1 "$REPEATS"); do
  a=$(run 1); b=$(run 4)
  W1+=("$a"); W4+=("$b")
  printf 'run %d: 1 worker %.2f s, 4 workers %.2f s (%.2fx)\n' "$r" "$a" "$b" "$(echo "$a / $b" | bc -l)"
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
m1=$(med "${W1[@]}"); m4=$(med "${W4[@]}")
printf '50 ms command, %d trials, medians: 1 worker %.2f s, 4 workers %.2f s: %.2fx\n' "$n" "$m1" "$m4" "$(echo "$m1 / $m4" | bc -l)"

#!/usr/bin/env bash
# Throughput of a PostgreSQL run (issue 17): trials/s of 4 worker processes (1 `nasc search` + 3
# `nasc worker`) with the `instant` evaluator, and the wall time of a 50 ms sleeping command
# evaluator with 1 and with 4 worker processes.
#   bench/pg_throughput.sh URL [INSTANT_TRIALS] [SLEEP_TRIALS]
# URL: a PostgreSQL database (`.ci/pg_cluster.sh start DIR PORT` prints one). Uses the release
# binary target/release/nasc (override with NASC=...).
set -euo pipefail
cd "$(dirname "$0")/.."
url=${1:?usage: bench/pg_throughput.sh URL [INSTANT_TRIALS] [SLEEP_TRIALS]}
n_instant=${2:-50000}
n_sleep=${3:-200}
nasc=${NASC:-target/release/nasc}
tag="bench-$$-$(date +%s)"
now() { date +%s.%N; }

# run NAME PROCS EVALUATOR BUDGET STRATEGY [THREADS]: wall seconds from the search's start to the
# last exit; THREADS worker loops in the search process (--workers)
run() {
  local name=$1 procs=$2 ev=$3 budget=$4 strategy=$5 threads=${6:-1}
  local t0 t1
  t0=$(now)
  "$nasc" search specs/nb201.nas --strategy "$strategy" --evaluator "$ev" --budget "$budget" --store "$url" --run "$name" --workers "$threads" --quiet >/dev/null &
  local pids=($!)
  for _ in $(seq 2 "$procs"); do
    # a worker started before the run exists fails: wait for it
    until "$nasc" report "$url" --run "$name" >/dev/null 2>&1; do sleep 0.01; done
    "$nasc" worker --store "$url" --run "$name" --quiet &
    pids+=($!)
  done
  wait "${pids[@]}"
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}

for strategy in rs re; do
  w=$(run "$tag-instant-$strategy" 4 instant "$n_instant" "$strategy")
  printf 'instant, %s, 4 processes: %d trials in %.2f s = %.0f trials/s\n' "$strategy" "$n_instant" "$w" "$(echo "$n_instant / $w" | bc -l)"
done
ev='command:sh -c '"'"'sleep 0.05; echo "{\"reward\": 0.5}"'"'"
w1=$(run "$tag-sleep-1" 1 "$ev" "$n_sleep" rs)
w4=$(run "$tag-sleep-4" 4 "$ev" "$n_sleep" rs)
w4t=$(run "$tag-sleep-4t" 1 "$ev" "$n_sleep" rs 4)
printf '50 ms command, %d trials: 1 worker %.2f s; 4 worker processes %.2f s (%.2fx); 1 process with --workers 4 %.2f s (%.2fx)\n' \
  "$n_sleep" "$w1" "$w4" "$(echo "$w1 / $w4" | bc -l)" "$w4t" "$(echo "$w1 / $w4t" | bc -l)"

#!/usr/bin/env bash
# The command evaluator's overhead per trial, beyond the child's own start-up.
#
# Three timings of N trials (default 300) on specs/digits_tiny.nas, random search, one worker:
#   cmd:   nasc search --evaluator 'command:/bin/echo {"reward":1}'  (a child that prints a constant)
#   inst:  nasc search --evaluator instant                          (the same search, no child)
#   spawn: N runs of the same /bin/echo from a shell loop, stdin from a trial document
# overhead per trial = (cmd - inst - spawn) / N: what nasc adds per trial to starting the child
# (trial document with the graph, trial folder and trial.json, two reader threads, waiting).
# Each timing is the best of R runs (default 3).
#
# usage: bench/command_overhead.sh [N] [R]     (builds nothing: run `cargo build --release -p nasc` first)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300}
R=${2:-3}
NASC=${NASC:-target/release/nasc}
ECHO=$(command -v echo | grep / || true)
ECHO=${ECHO:-/bin/echo}
[ -x "$NASC" ] || { echo "no $NASC: cargo build --release -p nasc" >&2; exit 2; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
now() { date +%s%N; }

best() { # best of R runs of "$@", in ms
  local b=""
  for _ in $(seq "$R"); do
    rm -rf "$T/run.db" "$T/run.trials"
    local s e
    s=$(now)
    "$@" >/dev/null
    e=$(now)
    local ms=$(( (e - s) / 1000000 ))
    if [ -z "$b" ] || [ "$ms" -lt "$b" ]; then b=$ms; fi
  done
  echo "$b"
}

search() {
  "$NASC" search specs/digits_tiny.nas --strategy rs --budget "$N" --seed 1 --quiet --store "$T/run.db" --evaluator "$1"
}

spawn_loop() {
  for _ in $(seq "$N"); do
    "$ECHO" '{"reward":1}' < "$T/doc.json" > /dev/null
  done
}

# a trial document of the spec's size for the shell loop's stdin
"$NASC" search specs/digits_tiny.nas --strategy rs --budget 1 --quiet --store "$T/one.db" --evaluator "command:$ECHO {\"reward\":1}" >/dev/null
cp "$T/one.trials/0/trial.json" "$T/doc.json"

cmd=$(best search "command:$ECHO {\"reward\":1}")
inst=$(best search instant)
spawn=$(best spawn_loop)
per() { awk -v a="$1" -v n="$N" 'BEGIN { printf "%.3f", a / n }'; }
echo "trials: $N (best of $R runs each)"
echo "command evaluator: $cmd ms ($(per "$cmd") ms/trial)"
echo "instant evaluator: $inst ms ($(per "$inst") ms/trial)"
echo "shell spawn loop:  $spawn ms ($(per "$spawn") ms/trial)"
echo "overhead beyond the child's start-up: $(per $((cmd - inst - spawn))) ms/trial"

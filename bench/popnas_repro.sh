#!/usr/bin/env bash
# The scaled-down POPNASv2 vs PNAS-mode reproduction of docs/popnas.md: Fashion-MNIST through
# the `train:` evaluator, cells of up to B = 4 blocks over 4 ops, K = 16, J = 2, 3 epochs on 5,000
# images, one run per mode and seed, run one after the other (never two trainings at once:
# training time is an objective; run it on an otherwise idle machine).
# Usage: bench/popnas_repro.sh OUT_DIR [SEEDS...]   (NASC=path/to/nasc, default target/release/nasc)
# Scale: BLOCKS, K, J, LIMIT (training images), EPOCHS (the 2026-12-05 runs: 3, 8, 4, 3000, 2).
# Time objective: TIME_METRIC (train_seconds, wall; or train_probes, in units of the trainer's
# speed probe) and TIME_TARGET (time, the paper's; or per_block); MODES (default "popnas pnas").
set -euo pipefail
out=${1:?usage: bench/popnas_repro.sh OUT_DIR [SEEDS...]}
shift
seeds=${*:-0}
nasc=${NASC:-target/release/nasc}
mkdir -p "$out"
ops='["conv_3x3","dconv_3x3","maxpool_2x2","identity_op"]'
blocks=${BLOCKS:-4}
k=${K:-16}
j=${J:-2}
time_metric=${TIME_METRIC:-train_seconds}
time_target=${TIME_TARGET:-time}
modes=${MODES:-popnas pnas}
eval_spec="train:dataset=fashion-mnist,epochs=${EPOCHS:-3},batch=32,backend=cpu,optimizer=adamw,lr=0.01,limit=${LIMIT:-5000}"
echo "popnas_repro: B=$blocks K=$k J=$j time $time_metric ($time_target) $eval_spec on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/setup.txt"
for seed in $seeds; do
  for mode in $modes; do
    store="$out/$mode-s$seed.db"
    [ -e "$out/$mode-s$seed.json" ] && continue   # done
    # an empty file is no store (e.g. `sqlite3 PATH` run on it before the search): start over;
    # a store without its report was stopped mid-run: left as it is, to resume or delete by hand
    [ -e "$store" ] && [ ! -s "$store" ] && rm -f "$store"
    [ -e "$store" ] && { echo "popnas_repro: $store exists without its report (a stopped run?): skipped" >&2; continue; }
    /usr/bin/time -f "$mode seed $seed: %e s wall" "$nasc" search specs/popnas_cell.nas --set F=8 --set M=2 --set N=1 --set side=28 \
      --strategy popnas --strategy-config "{\"mode\":\"$mode\",\"blocks\":$blocks,\"k\":$k,\"j\":$j,\"ops\":$ops,\"time_target\":\"$time_target\"}" \
      --evaluator "$eval_spec" --objective "max:accuracy,min:$time_metric" --budget 10000 --seed "$seed" --store "$store" --quiet
    "$nasc" report "$store" --format json > "$out/$mode-s$seed.json"
  done
done

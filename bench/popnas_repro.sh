#!/usr/bin/env bash
# The scaled-down POPNASv2 vs PNAS-mode reproduction of docs/popnas.md: Fashion-MNIST through
# the `train:` evaluator, cells of up to 3 blocks over 4 ops, K = 8, J = 4, one run per mode and
# seed, run one after the other (never two trainings at once: training time is an objective).
# Usage: bench/popnas_repro.sh OUT_DIR [SEEDS...]   (NASC=path/to/nasc, default target/release/nasc)
set -euo pipefail
out=${1:?usage: bench/popnas_repro.sh OUT_DIR [SEEDS...]}
shift
seeds=${*:-0}
nasc=${NASC:-target/release/nasc}
mkdir -p "$out"
ops='["conv_3x3","dconv_3x3","maxpool_2x2","identity_op"]'
eval_spec='train:dataset=fashion-mnist,epochs=2,batch=32,backend=cpu,optimizer=adamw,lr=0.01,limit=3000'
for seed in $seeds; do
  for mode in popnas pnas; do
    store="$out/$mode-s$seed.db"
    [ -e "$store" ] && continue
    /usr/bin/time -f "$mode seed $seed: %e s wall" "$nasc" search specs/popnas_cell.nas --set F=8 --set M=2 --set N=1 --set side=28 \
      --strategy popnas --strategy-config "{\"mode\":\"$mode\",\"blocks\":3,\"k\":8,\"j\":4,\"ops\":$ops}" \
      --evaluator "$eval_spec" --objective max:accuracy,min:train_seconds --budget 10000 --seed "$seed" --store "$store" --quiet
    "$nasc" report "$store" --format json > "$out/$mode-s$seed.json"
  done
done

#!/usr/bin/env bash
# How noisy is POPNAS's time objective on this machine? Runs the b = 1 step of the docs/popnas.md
# reproduction (the 36 one-block cells, 3 epochs on 5,000 Fashion-MNIST images) REPEATS times
# with the same seed: the trainings are identical (training is deterministic within a seed), so
# any difference between the runs' times is the machine's. Then compares the runs pairwise for
# each time metric (`train_seconds`: wall; `train_probes`: in units of the trainer's speed probe):
# Spearman rank correlation and mean relative difference (bench/popnas_time_noise.py).
# Run it on an otherwise idle machine. Usage: bench/popnas_time_noise.sh OUT_DIR [REPEATS, default 3]
set -euo pipefail
out=${1:?usage: bench/popnas_time_noise.sh OUT_DIR [REPEATS]}
repeats=${2:-3}
nasc=${NASC:-target/release/nasc}
mkdir -p "$out"
ops='["conv_3x3","dconv_3x3","maxpool_2x2","identity_op"]'
eval_spec="train:dataset=fashion-mnist,epochs=3,batch=32,backend=cpu,optimizer=adamw,lr=0.01,limit=5000"
echo "popnas_time_noise: $repeats runs of the b = 1 step, $eval_spec on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/setup.txt"
for r in $(seq 1 "$repeats"); do
  store="$out/run$r.db"
  [ -e "$out/run$r.done" ] && continue
  rm -f "$store" "$store-wal" "$store-shm" "$store.lock"
  "$nasc" search specs/popnas_cell.nas --set F=8 --set M=2 --set N=1 --set side=28 \
    --strategy popnas --strategy-config "{\"blocks\":1,\"ops\":$ops}" \
    --evaluator "$eval_spec" --objective max:accuracy,min:train_seconds --budget 100 --seed 0 --store "$store" --quiet > /dev/null
  touch "$out/run$r.done"
done
python3 "$(dirname "$0")/popnas_time_noise.py" "$out"/run*.db

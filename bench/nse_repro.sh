#!/usr/bin/env bash
# The scaled-down NSE reproduction of docs/nse.md: NSE with and without Lock & Rehearse and
# one-shot over all 16 ops at the same supernet budget, seeds 0-2, on a CIFAR-10 subset
# (4,000 training, 1,000 validation, 2,000 test images of the CIFAR-10 copy the data script
# fetches), then the summary. Interrupted, it resumes: finished runs are kept and a run in
# progress goes on from its checkpoint. Usage: bench/nse_repro.sh [OUT_DIR] (default target/nse_repro).
# Scale from the environment: TRAIN, VAL, TEST (images), EPOCHS (a round), ROUNDS, RETRAIN
# (epochs), TOP (archs retrained per round), K (ops active per layer, default 4), THRESHOLD (the
# indicators' drop threshold, the paper's -2), SEEDS, VARIANTS (defaults: the table of
# docs/nse.md; issue 19's full size is TRAIN=16000 VAL=4000 EPOCHS=8).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/nse_repro}
mkdir -p "$out"
cargo build --release -p nasc-kernels --example nse_repro
# a copy, so a rebuild while this runs cannot change the binary between runs
cp target/release/examples/nse_repro "$out/nse_repro"
bin="$out/nse_repro"
common=(train="${TRAIN:-4000}" val="${VAL:-1000}" test="${TEST:-2000}" epochs="${EPOCHS:-3}" rounds="${ROUNDS:-3}" k="${K:-4}" samples=24 extra=6 retrain="${RETRAIN:-5}" top="${TOP:-2}" threshold="${THRESHOLD:--2}")
echo "nse_repro: ${common[*]} on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)" | tee -a "$out/setup.txt"
for seed in ${SEEDS:-0 1 2}; do
  for variant in ${VARIANTS:-nse nolr oneshot}; do
    f="$out/$variant-s$seed.tsv"
    [ -s "$f" ] && grep -q '^result' "$f" && continue
    /usr/bin/time -f "time\t$variant\tseed=$seed\t%e s wall\t%U s user" "$bin" "$variant" "$seed" "${common[@]}" ckpt="$out/$variant-s$seed.ckpt" > "$f" 2> "$out/$variant-s$seed.log" || { tail -5 "$out/$variant-s$seed.log"; exit 1; }
    tail -1 "$out/$variant-s$seed.log"
  done
done
"$bin" speed 0 k=4 | tee "$out/speed.tsv"
"$bin" speed 0 k=16 | tee -a "$out/speed.tsv"
python3 bench/nse_summary.py "$out"

#!/usr/bin/env bash
# The scaled-down NSE reproduction of docs/nse.md: NSE with and without Lock & Rehearse and
# one-shot over all 16 ops at the same supernet budget, seeds 0-2, on a CIFAR-10 subset
# (5,000 training, 1,000 validation, 2,000 test images of the CIFAR-10 copy the data script
# fetches), then the summary. Usage: bench/nse_repro.sh [OUT_DIR] (default target/nse_repro).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/nse_repro}
mkdir -p "$out"
cargo build --release -p nasc-kernels --example nse_repro
bin=target/release/examples/nse_repro
common=(train=5000 val=1000 test=2000 epochs=4 rounds=3 k=4 samples=30 extra=6 retrain=6 top=2)
for seed in 0 1 2; do
  for variant in nse nolr oneshot; do
    f="$out/$variant-s$seed.tsv"
    [ -s "$f" ] && grep -q '^result' "$f" && continue
    /usr/bin/time -f "time\t$variant\tseed=$seed\t%e s wall\t%U s user" "$bin" "$variant" "$seed" "${common[@]}" > "$f" 2> "$out/$variant-s$seed.log" || { tail -5 "$out/$variant-s$seed.log"; exit 1; }
    tail -1 "$out/$variant-s$seed.log"
  done
done
"$bin" speed 0 k=4 | tee "$out/speed.tsv"
"$bin" speed 0 k=16 | tee -a "$out/speed.tsv"
python3 bench/nse_summary.py "$out"

#!/usr/bin/env bash
# CPU training speed of nasc's trainer against PyTorch on the same network (issue 6):
# NAS-Bench-201, best CIFAR-10 cell (arch 6111), C=16, N=5, 32x32x3 inputs, 10 classes,
# SGD (lr 0.1, momentum 0.9, Nesterov, weight decay 5e-4), batch 64 and 256, 2 threads.
#
# nasc: `nasc train --format json` on a synthetic CIFAR-10-format folder (random pixels and
# labels, written here once), no augmentation, no validation split; images/s of the timed epoch,
# i.e. the second one (the first is the warm-up: buffer allocation, first-touch).
# PyTorch: bench/pytorch_nb201.py (the same network written in torch, synthetic N(0,1) data),
# images/s over timed steps after 2 warm-up steps. Runs alternate nasc / PyTorch per batch size,
# REPEATS times (default 3); the table gives each side's median and the ratio of the medians,
# with every run's figures and the CPU model.
#
#   bench/train_speed.sh               # batch 64 and 256, 2 threads (about 2-4 minutes idle)
#   BATCHES="64" THREADS=2 IMAGES=1024 bench/train_speed.sh
# Needs: target/release/nasc (cargo build --release -p nasc), python3 with torch (CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
NASC=${NASC:-target/release/nasc}
THREADS=${THREADS:-2}
BATCHES=${BATCHES:-"64 256"}
IMAGES=${IMAGES:-1024}   # images per timed epoch / timed PyTorch steps
REPEATS=${REPEATS:-3}
PY=${PYTHON:-python3}
CELL='|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|'
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
[ -x "$NASC" ] || { echo "error: $NASC not found; run cargo build --release -p nasc" >&2; exit 2; }
"$PY" -c 'import torch' 2>/dev/null || { echo "error: python3 cannot import torch; pip install torch --index-url https://download.pytorch.org/whl/cpu (or from PyPI)" >&2; exit 2; }

DATA=$(mktemp -d "${TMPDIR:-/tmp}/nasc-speed.XXXXXX")
trap 'rm -rf "$DATA"' EXIT
"$PY" - "$DATA" "$IMAGES" <<'PY'
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(0)
def write(path, count):
    with open(path, "wb") as f:
        for _ in range(count):
            f.write(bytes([rng.randrange(10)]) + rng.randbytes(3072))
write(os.path.join(d, "data_batch_1.bin"), n)
write(os.path.join(d, "test_batch.bin"), 16)
PY

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
FLAGS=$(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|fma|avx512f' | sort -u | tr '\n' ' ')
echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) cores, CPU: $CPU (${FLAGS% }), threads $THREADS; uptime:$(uptime)"
echo "# nasc: $("$NASC" --version); torch: $("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null)"
median() { "$PY" -c 'import statistics,sys; print("%.1f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
ROWS=()
for b in $BATCHES; do
  NASC_RUNS=(); TORCH_RUNS=(); LOADS=()
  for r in $(seq 1 "$REPEATS"); do
    j=$("$NASC" train specs/nb201.nas --candidate "$CELL" --dataset "$DATA" --epochs 2 --batch "$b" --backend cpu \
          --threads "$THREADS" --val-fraction 0 --no-augment --format json 2>/dev/null | tail -n 1)
    nasc_ips=$(printf '%s' "$j" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); assert r["status"]=="ok", r; print("%.1f" % r["history"][-1]["images_per_s"])')
    up1=$(cut -d' ' -f1 /proc/loadavg)
    steps=$(( (IMAGES + b - 1) / b ))
    pj=$("$PY" bench/pytorch_nb201.py --batch "$b" --threads "$THREADS" --steps "$steps" --json 2>/dev/null | tail -n 1)
    torch_ips=$(printf '%s' "$pj" | "$PY" -c 'import json,sys; print("%.1f" % json.load(sys.stdin)["images_per_s"])')
    up2=$(cut -d' ' -f1 /proc/loadavg)
    NASC_RUNS+=("$nasc_ips"); TORCH_RUNS+=("$torch_ips"); LOADS+=("$up1/$up2")
    echo "batch $b run $r: nasc $nasc_ips img/s, pytorch $torch_ips img/s (load $up1 / $up2)" >&2
  done
  mn=$(median "${NASC_RUNS[@]}"); mt=$(median "${TORCH_RUNS[@]}")
  ratio=$("$PY" -c "print('%.2f' % ($mn / $mt))")
  ROWS+=("| $b | $THREADS | $mn (${NASC_RUNS[*]}) | $mt (${TORCH_RUNS[*]}) | **${ratio}x** | ${LOADS[*]} |")
done
echo "| batch | threads | nasc CPU img/s, median (runs) | PyTorch CPU img/s, median (runs) | nasc / PyTorch (medians) | 1-min load avg after nasc / after PyTorch, per run |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"

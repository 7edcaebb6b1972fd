#!/usr/bin/env bash
# CPU speed of NSE's supernet training step on nasc against PyTorch on the same supernet (issue 19).
#
# The supernet is nse_repro's scaled one (kernels/examples/nse_repro.rs `spec()`: 3x32x32 input,
# stem 16, layers (16,1) (24,2) (24,1) (32,2) (32,1), head 64, 10 classes, 16-op pool per layer),
# with the first K pool ops of every layer active. A step: uniform sampling (each active op on with
# probability 1/2; a reduction layer draws again until one is on), forward of the sampled
# sub-network, cross-entropy, backward, SGD (lr 0.1, momentum 0.9, Nesterov, weight decay 4e-5) of
# the used pieces only; batch 128, 2 threads.
#
# nasc: `nse_repro speed SEED k=K synthetic=1` (Supernet::sample_uniform + train_step on one
# random N(0,1) batch; RAYON_NUM_THREADS). PyTorch: bench/pytorch_supernet.py (the same supernet
# written in torch, unselected branches not run; torch.set_num_threads). Both: WARMUP steps, then
# images/s over STEPS timed steps. Runs alternate nasc / PyTorch per K, REPEATS times (default 3);
# the table gives each side's median and the ratio of the medians, with every run's figures, the
# 1-minute load average after each run and the CPU model. Both sides print the parameter count
# of the whole supernet (all 16 ops of every layer) and of the part with the first K ops; the
# script checks that they are equal.
#
# Under load (another process busy on the same cores) PyTorch's OpenMP threads spin-wait at every
# parallel region and lose most of their time: on a 2-core machine with a build beside it, K=4
# ran at ~60-80 img/s with the default wait policy and ~350 with OMP_WAIT_POLICY=PASSIVE (and
# ~400 on 1 thread). Measure on an idle machine; where that cannot be had, run with
# OMP_WAIT_POLICY=PASSIVE (passed through to both sides; printed in the header) and say so.
#
#   bench/supernet_speed.sh                        # K 4 and 16 (about 10 minutes idle)
#   KS="4" STEPS=20 REPEATS=5 bench/supernet_speed.sh
# Needs: target/release/examples/nse_repro (cargo build --release -p nasc-kernels --example
# nse_repro; NSE_REPRO=path for another target dir), python3 with torch (CPU; PYTHON=path).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NSE_REPRO:-target/release/examples/nse_repro}
THREADS=${THREADS:-2}
KS=${KS:-"4 16"}
BATCH=${BATCH:-128}
STEPS=${STEPS:-20}
WARMUP=${WARMUP:-3}
REPEATS=${REPEATS:-3}
PY=${PYTHON:-python3}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
[ -x "$BIN" ] || { echo "error: $BIN not found; run cargo build --release -p nasc-kernels --example nse_repro" >&2; exit 2; }
"$PY" -c 'import torch' 2>/dev/null || { echo "error: $PY cannot import torch; pip install torch --index-url https://download.pytorch.org/whl/cpu (or from PyPI)" >&2; exit 2; }

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
FLAGS=$(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|fma|avx512f' | sort -u | tr '\n' ' ')
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) cores, CPU: $CPU (${FLAGS% }), threads $THREADS; uptime:$(uptime)"
echo "# nasc: nse_repro at $REV; torch: $("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null); batch $BATCH, $WARMUP warm-up + $STEPS timed steps per run; OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(unset)}"
median() { "$PY" -c 'import statistics,sys; print("%.1f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
field() { printf '%s\n' "$1" | tr '\t' '\n' | sed -n "s/^$2=//p" | head -n 1; }
ROWS=(); PARAMS=(); MISMATCH=0
for k in $KS; do
  NASC_RUNS=(); TORCH_RUNS=(); LOADS=()
  for r in $(seq 1 "$REPEATS"); do
    out=$(RAYON_NUM_THREADS=$THREADS "$BIN" speed 0 "k=$k" "batch=$BATCH" "steps=$STEPS" "warmup=$WARMUP" synthetic=1 2>/dev/null)
    nasc_ips=$(printf '%s\n' "$out" | grep '^speed' | tr '\t' '\n' | sed -n 's/ images\/s$//p')
    plines=$(printf '%s\n' "$out" | grep '^params')
    nasc_p=$(field "$plines" supernet); nasc_pk=$(field "$plines" first_K_ops)
    up1=$(cut -d' ' -f1 /proc/loadavg)
    pj=$("$PY" bench/pytorch_supernet.py --k "$k" --batch "$BATCH" --threads "$THREADS" --steps "$STEPS" --warmup "$WARMUP" --json 2>/dev/null | tail -n 1)
    read -r torch_ips torch_p torch_pk < <(printf '%s' "$pj" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print("%.1f" % r["images_per_s"], r["params"], r["params_first_k"])')
    up2=$(cut -d' ' -f1 /proc/loadavg)
    NASC_RUNS+=("$nasc_ips"); TORCH_RUNS+=("$torch_ips"); LOADS+=("$up1/$up2")
    echo "K $k run $r: nasc $nasc_ips img/s, pytorch $torch_ips img/s (load $up1 / $up2)" >&2
  done
  if [ "$nasc_p" = "$torch_p" ] && [ "$nasc_pk" = "$torch_pk" ]; then same=yes; else same=NO; MISMATCH=1; fi
  PARAMS+=("K=$k: parameters of the whole supernet nasc $nasc_p / PyTorch $torch_p, with the first K ops nasc $nasc_pk / PyTorch $torch_pk: equal: $same")
  mn=$(median "${NASC_RUNS[@]}"); mt=$(median "${TORCH_RUNS[@]}")
  ratio=$("$PY" -c "print('%.2f' % ($mn / $mt))")
  ROWS+=("| $k | $BATCH | $THREADS | $mn (${NASC_RUNS[*]}) | $mt (${TORCH_RUNS[*]}) | **${ratio}x** | ${LOADS[*]} |")
done
printf '# %s\n' "${PARAMS[@]}"
echo "| K | batch | threads | nasc CPU img/s, median (runs) | PyTorch CPU img/s, median (runs) | nasc / PyTorch (medians) | 1-min load avg after nasc / after PyTorch, per run |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
exit "$MISMATCH"

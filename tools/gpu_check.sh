#!/usr/bin/env bash
# The GPU check of issue 18 (point 3), for a session that has a CUDA machine. About 6-10 minutes.
#
#   tools/gpu_check.sh [OUT_DIR]          (default: $OUT, else benchmarks/results/gpu)
#
# 1. the card(s): nvidia-smi and torch's view             -> gpus.csv, torch.txt
# 2. the test suite's CUDA-marked tests (pytest -m cuda)  -> tests_cuda.txt
# 3. benchmarks/bench_cuda.py: inference, GANPaint's path against eager CUDA on the same weights
#    (fp32, and "fast" against autocast bf16/fp16), and steps/s of every recipe (fp32, bf16)
#                                                         -> bench_cuda.md, bench_cuda.json
# 4. with 2+ GPUs: the same pix2pix run (global batch 16, 128 px) on 1 GPU and with
#    torchrun --nproc_per_node=2 (nccl); wall time of each  -> two_gpus.txt
# summary.txt collects one line per part; bench_cuda.md is the table for docs/performance.md
# (name the card from gpus.csv there). Needs GANPaint installed with its test extra
# (pip install -e '.[test]' and plugins/sketch for the sketch recipe); uses .venv when present.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
OUT_DIR="${1:-${OUT:-benchmarks/results/gpu}}"
mkdir -p "$OUT_DIR"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
export QT_QPA_PLATFORM=offscreen PYTHONUNBUFFERED=1
SUMMARY="$OUT_DIR/summary.txt"
: > "$SUMMARY"
say() { echo "[gpu_check $(date -u +%H:%M:%S)] $*" | tee -a "$SUMMARY"; }

# 1. the card
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv > "$OUT_DIR/gpus.csv" 2>&1 \
  || echo "nvidia-smi failed" >> "$OUT_DIR/gpus.csv"
"$PY" -c "import torch; n = torch.cuda.device_count(); print('torch', torch.__version__, 'cuda', torch.version.cuda, \
'devices', n, [torch.cuda.get_device_name(i) for i in range(n)], 'bf16', n > 0 and torch.cuda.is_bf16_supported())" \
  > "$OUT_DIR/torch.txt" 2>&1
say "card: $(tail -n +2 "$OUT_DIR/gpus.csv" | head -1); $(cat "$OUT_DIR/torch.txt")"
NGPU=$("$PY" -c "import torch; print(torch.cuda.device_count())" 2>/dev/null || echo 0)
if [ "${NGPU:-0}" -lt 1 ]; then
  say "no CUDA device: nothing to check"
  exit 1
fi

# 2. CUDA-marked tests
timeout 300 "$PY" -m pytest -q -p no:xdist -m cuda tests > "$OUT_DIR/tests_cuda.txt" 2>&1
say "pytest -m cuda: rc=$? $(tail -1 "$OUT_DIR/tests_cuda.txt")"

# 3. inference and training benchmarks
timeout 420 "$PY" benchmarks/bench_cuda.py "$OUT_DIR" > "$OUT_DIR/bench_cuda.log" 2>&1
say "bench_cuda: rc=$? (table in $OUT_DIR/bench_cuda.md)"

# 4. 2-process training against 1 process, same global batch
if [ "$NGPU" -ge 2 ]; then
  DATA="$(mktemp -d)"
  "$PY" - "$DATA" <<'EOF'
import sys
from pathlib import Path

import numpy as np
from PIL import Image

root = Path(sys.argv[1])
rng = np.random.default_rng(0)
for sub in ("A", "B"):
    (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(64):
        Image.fromarray(rng.integers(0, 255, (160, 160, 3), dtype=np.uint8)).save(root / sub / f"{i:03d}.png")
EOF
  export GANPAINT_DATA_DIR="$DATA/home"
  ARGS=(train pix2pix --data "$DATA/A" --data-b "$DATA/B" --steps 60 --batch 16 --size 128
        --set num_downs=7 --checkpoint-every 0 --no-progress)
  t0=$(date +%s.%N)
  timeout 300 "$PY" -m ganpaint --device cuda "${ARGS[@]}" --as one-gpu --run-dir "$DATA/run1" \
    > "$OUT_DIR/two_gpus.txt" 2>&1
  rc1=$?
  t1=$(date +%s.%N)
  timeout 300 "$PY" -m torch.distributed.run --standalone --nproc_per_node=2 -m ganpaint --device cuda \
    "${ARGS[@]}" --as two-gpus --run-dir "$DATA/run2" >> "$OUT_DIR/two_gpus.txt" 2>&1
  rc2=$?
  t2=$(date +%s.%N)
  say "pix2pix 60 steps, batch 16, 128 px: 1 GPU rc=$rc1 $(awk "BEGIN {print $t1 - $t0}") s;" \
      "torchrun 2 GPUs rc=$rc2 $(awk "BEGIN {print $t2 - $t1}") s (wall, start-up included)"
  grep -h "stored as" "$OUT_DIR/two_gpus.txt" | tee -a "$SUMMARY"
  rm -rf "$DATA"
else
  say "one GPU: 2-process training not run"
fi
say "done"

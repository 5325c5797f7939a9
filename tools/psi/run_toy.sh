#!/usr/bin/env bash
# PSI's Table 3 on the toy benchmark (issue 11, Sec. 8): baseline, P (+ L_p), +CPP, +SLD and +CPP+SLD (all but the
# baseline with L_p; T = 3, r_0 = 4), one stock tools/train.py run per configuration and seed, then the table, the
# paired differences over the seeds and the CPP iteration-time ratio (tools/psi/benchmark.py).
# Usage: bash tools/psi/run_toy.sh [SEED ...]   (default 0 1 2; PYTHON defaults to .venv/bin/python, WORK to
# work_dirs/psi_toy; ~3-4 minutes a run on a 2-core machine, 15 runs). Finished runs (a `done` file in their work dir)
# are skipped, so the script resumes; each SLD run keeps its labels in its own work dir (WORK/<run>/sld).
# LAMBDA1=10 sets lambda_1 of L_p in every run but the baseline (the issue's fallback when P < baseline at 100; the
# configs' 100 otherwise); use another WORK for it.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
WORK=${WORK:-work_dirs/psi_toy}
SEEDS=${*:-0 1 2}
LAMBDA1=${LAMBDA1:-}
CONFIGS=configs/psi/toy
declare -A CONFIG=(
  [baseline]=$CONFIGS/deeplabv3plus_r18-quarter-os16_1k_toy-scribble.py
  [lp]=$CONFIGS/deeplabv3plus_r18-quarter-os16-lp_1k_toy-scribble.py
  [cpp]=$CONFIGS/deeplabv3plus_r18-quarter-os16-cpp_1k_toy-scribble.py
  [sld]=$CONFIGS/deeplabv3plus_r18-quarter-os16-sld_1k_toy-scribble.py
  [cpp-sld]=$CONFIGS/deeplabv3plus_r18-quarter-os16-cpp-sld_1k_toy-scribble.py
)
[ -d data/toy/VOCdevkit/VOC2012 ] || $PYTHON tools/make_toy_data.py --out data/toy
for seed in $SEEDS; do
  for run in baseline lp cpp sld cpp-sld; do
    dir=$WORK/$run/seed_$seed
    [ -f "$dir/done" ] && continue
    options=("randomness.seed=$seed")
    # the training pipeline's LoadSLDLabels holds sld_dir; SLDHook takes it from there
    [[ $run == *sld ]] && options+=("train_dataloader.dataset.pipeline.1.sld_dir=$dir/sld")
    [[ -n $LAMBDA1 && $run != baseline ]] && options+=("model.decode_head.loss_decode.1.loss_weight=$LAMBDA1")
    $PYTHON tools/train.py "${CONFIG[$run]}" --work-dir "$dir" --cfg-options "${options[@]}"
    touch "$dir/done"
  done
done
# shellcheck disable=SC2086
$PYTHON tools/psi/benchmark.py --work-dir "$WORK" --seeds $SEEDS --out "$WORK/benchmark.json"

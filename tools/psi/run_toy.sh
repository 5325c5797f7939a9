#!/usr/bin/env bash
# PSI's Table 3 on the toy benchmark (issue 11, Sec. 8): baseline, P (+ L_p), +CPP, +SLD and +CPP+SLD (all but the
# baseline with L_p; T = 3, r_0 = 4), one stock tools/train.py run per configuration and seed, then the table, the
# paired differences over the seeds, +CPP+SLD with TTA and the CPP iteration-time ratio (tools/psi/benchmark.py).
# Usage: bash tools/psi/run_toy.sh [SEED ...]   (default 0 1 2; PYTHON defaults to .venv/bin/python, WORK to
# work_dirs/psi_toy; ~3-4 minutes a run on a 2-core machine, 15 runs). Finished runs (a `done` file in their work dir)
# are skipped, so the script resumes; each SLD run keeps its labels in its own work dir (WORK/<run>/sld).
# LAMBDA1 overrides lambda_1 of L_p in every run but the baseline (the toy configs' 10: the paper's 100 made P worse
# than the baseline on the toy, issue 11 Sec. 8's fallback); use another WORK for it. RUNS picks a subset (default
# "baseline lp cpp sld cpp-sld"), e.g. to spread the runs over several processes; the table is printed from whatever
# has finished. Each finished +CPP+SLD run is also tested with --tta (WORK/cpp-sld/seed_<s>/tta).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
WORK=${WORK:-work_dirs/psi_toy}
SEEDS=${*:-0 1 2}
LAMBDA1=${LAMBDA1:-}
RUNS=${RUNS:-baseline lp cpp sld cpp-sld}
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
  for run in $RUNS; do
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
# +CPP+SLD with test-time augmentation (the toy base's tta_pipeline: scales 0.75-1.5, flip), from its last checkpoint
if [[ " $RUNS " == *" cpp-sld "* ]]; then
  for seed in $SEEDS; do
    dir=$WORK/cpp-sld/seed_$seed
    [ -f "$dir/done" ] && [ ! -f "$dir/tta/done" ] || continue
    $PYTHON tools/test.py "${CONFIG[cpp-sld]}" "$(cat "$dir/last_checkpoint")" --tta --work-dir "$dir/tta"
    touch "$dir/tta/done"
  done
fi
# shellcheck disable=SC2086
$PYTHON tools/psi/benchmark.py --work-dir "$WORK" --seeds $SEEDS --out "$WORK/benchmark.json"

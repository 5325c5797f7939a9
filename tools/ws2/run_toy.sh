#!/usr/bin/env bash
# WS^2's tables on the toy benchmark (issue 12): the toy videos, the two Stage-1 classifiers (stock tools/train.py,
# tested on the single-label test clips; the actor's backbone starts from the toy objects' pretraining, the toy's
# stand-in for ImageNet), PA.v0 (tools/ws2/make_pa.py), then the Stage-2 chains (tools/ws2/evolve.py,
# v0-v3 at most) and the tables (tools/ws2/benchmark.py):
#   baseline: every PA frame, best checkpoint and versions by mIoU_PA (Table 1's Baseline; Table 2's mIoU_PA-full)
#   model-s:  the selected frames, by mIoU_PA (Table 1's Model-S)
#   ws2:      the selected frames, by RIC (WS^2; Table 2's RIC-select, Table 3's model.v0-v3)
#   ric-full: every PA frame, by RIC (Table 2's RIC-full)
# Usage: bash tools/ws2/run_toy.sh   (PYTHON defaults to .venv/bin/python, WORK to work_dirs/ws2_toy; RUNS picks the
# chains, default "baseline model-s ws2 ric-full"; RUNS= runs Stage 1 only). Everything resumes: finished classifiers (a `done` file) and PA.v0 are kept,
# and evolve.py continues each chain from its state file. SEED sets the segmenter runs' seed (default 0).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
WORK=${WORK:-work_dirs/ws2_toy}
RUNS=${RUNS-baseline model-s ws2 ric-full}
SEED=${SEED:-0}
ACTOR=configs/ws2/toy/tsn_r18-quarter-os8_60e_toy-actor.py
ACTION=configs/ws2/toy/i3d_r18-w16_30e_toy-action.py
SEGMENTER=configs/ws2/toy/deeplabv2_r18-quarter-os8_700it_toy-pa.py
ROOT=data/toy_ws2/A2D/Release
[ -f data/toy_ws2/A2D/Release/videoset.csv ] || \
  $PYTHON tools/make_toy_data.py --out data/toy_ws2 --no-images --num-train-videos 240 --num-test-videos 60
# the toy's stand-in for ImageNet, which the actor classifier starts from (as the IRNet toy's CAM classifier): the
# IRNet toy's pretraining on object-centred images of the seven actor shapes
[ -f data/toy_ws2/ToyObjects/ImageSets/Main/train.txt ] || $PYTHON tools/make_toy_data.py --out data/toy_ws2 \
  --no-images --no-video --num-objects 3000 --object-classes videos
if [ ! -f "$WORK/pretrain/done" ]; then
  $PYTHON tools/train.py configs/ws2/toy/pretrain_r18-quarter-os8_30e_toy-actor-objects.py --work-dir "$WORK/pretrain"
  touch "$WORK/pretrain/done"
fi
for role in actor action; do
  config=$ACTOR; options=(model.backbone.backbone.init_cfg.checkpoint="last://$WORK/pretrain" randomness.seed=0)
  [ $role = action ] && config=$ACTION && options=(randomness.seed=0)
  dir=$WORK/$role
  if [ ! -f "$dir/done" ]; then
    $PYTHON tools/train.py $config --work-dir "$dir" --cfg-options "${options[@]}"
    touch "$dir/done"
  fi
  # accuracy on the single-label test clips, from the last checkpoint (the one make_pa.py uses)
  [ -f "$dir/test/done" ] || {
    $PYTHON tools/test.py $config "$(cat "$dir/last_checkpoint")" --work-dir "$dir/test" 2>&1 | tee "$dir/test.log"
    touch "$dir/test/done"; }
done
$PYTHON tools/ws2/make_pa.py $ACTOR "$(cat $WORK/actor/last_checkpoint)" $ACTION "$(cat $WORK/action/last_checkpoint)" \
  --out-dir $ROOT/ws2/pa_v0
declare -A OPTIONS=(
  [baseline]="--no-select --criterion mIoU_PA"
  [model-s]="--criterion mIoU_PA"
  [ws2]="--criterion RIC"
  [ric-full]="--no-select --criterion RIC"
)
for run in $RUNS; do
  # shellcheck disable=SC2086
  $PYTHON tools/ws2/evolve.py $SEGMENTER --pa-v0 ws2/pa_v0 --work-dir "$WORK/$run" ${OPTIONS[$run]} \
    --actor-config $ACTOR --actor-checkpoint "$(cat $WORK/actor/last_checkpoint)" --cfg-options randomness.seed=$SEED
done
$PYTHON tools/ws2/benchmark.py --work-dir "$WORK" --out "$WORK/benchmark.json"

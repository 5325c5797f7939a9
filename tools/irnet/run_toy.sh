#!/usr/bin/env bash
# IRNet end to end on the toy benchmark (make toy-data first), each stage a standard tool call:
#   0 object-centred pretraining images and the pretrained backbone (the toy's stand-in for ImageNet)
#   1 train the CAM classifier and score its CAMs   3 train IRNet on the mined relations
#   2 CAMs + inter-pixel relation mining (CRF)      4 label synthesis, then the stage-by-stage benchmark
# Usage: bash tools/irnet/run_toy.sh   (PYTHON defaults to .venv/bin/python; ~30 minutes on 2 CPU cores)
# Each stage takes the previous stage's checkpoint from the `last_checkpoint` file mmengine writes in its work dir,
# so no schedule's epoch count is repeated here.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
PRE_CFG=configs/irnet/toy/pretrain_r18-quarter-os8_8e_toy-objects.py
CAM_CFG=configs/irnet/toy/cam_r18-quarter-os8_80e_toy.py
IRN_CFG=configs/irnet/toy/irnet_r18-quarter-os8_20e_toy.py
OUT=data/toy/VOCdevkit/VOC2012/irnet
WORK=work_dirs/irnet_toy
IRN2X_CFG=configs/irnet/toy/irnet_r18-quarter-os8_12e_toy-2x.py
last_checkpoint() {  # last_checkpoint WORK_DIR: the checkpoint the run in WORK_DIR saved last
  cat "$1/last_checkpoint"
}

$PYTHON tools/make_toy_data.py --no-images --no-video --num-objects 3000
$PYTHON tools/train.py $PRE_CFG --work-dir $WORK/pretrain
PRETRAINED="model.backbone.init_cfg.checkpoint=$(last_checkpoint $WORK/pretrain)"
$PYTHON tools/train.py $CAM_CFG --work-dir $WORK/cam --cfg-options "$PRETRAINED"
CAM_CKPT=$(last_checkpoint $WORK/cam)
$PYTHON tools/test.py $CAM_CFG $CAM_CKPT --work-dir $WORK/cam
$PYTHON tools/irnet/make_cams.py $CAM_CFG $CAM_CKPT --out-dir $OUT/cams
# confident foreground / background at the config's relation_mining thresholds (toy: 0.6 / 0.3)
$PYTHON tools/irnet/mine_relations.py $CAM_CFG --cam-dir $OUT/cams --out-dir $OUT/relations
$PYTHON tools/train.py $IRN_CFG --work-dir $WORK/irnet --cfg-options "$PRETRAINED"
IRN_CKPT=$(last_checkpoint $WORK/irnet)
$PYTHON tools/irnet/make_pseudo_labels.py $IRN_CFG $IRN_CKPT --cam-dir $OUT/cams --out-dir $OUT/pseudo
# the stage-by-stage table at the config's thresholds, then at the paper's (CAM 0.15, random walk 0.25)
$PYTHON tools/irnet/benchmark.py $IRN_CFG $IRN_CKPT --cam-dir $OUT/cams --out $WORK/benchmark.json
$PYTHON tools/irnet/benchmark.py $IRN_CFG $IRN_CKPT --cam-dir $OUT/cams --cam-bg 0.15 --bg 0.25 \
    --scan --out $WORK/benchmark_paper_thresholds.json
$PYTHON tools/irnet/visualize.py $IRN_CFG $IRN_CKPT --cam-dir $OUT/cams --relation-dir $OUT/relations \
    --out-dir $WORK/vis --max 12
# IRNet at twice the toy's resolution, scored at the paper's thresholds (the displacement field's gain)
$PYTHON tools/train.py $IRN2X_CFG --work-dir $WORK/irnet_2x --cfg-options "$PRETRAINED"
$PYTHON tools/irnet/benchmark.py $IRN2X_CFG "$(last_checkpoint $WORK/irnet_2x)" --cam-dir $OUT/cams --cam-bg 0.15 --bg 0.25 \
    --scan --out $WORK/benchmark_2x_paper_thresholds.json

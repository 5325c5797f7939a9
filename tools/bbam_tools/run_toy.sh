#!/usr/bin/env bash
# BBAM end to end on the toy benchmark (make toy-data first), each stage a standard tool call:
#   1 train the stock toy Faster R-CNN on the boxes; BBAMHook then writes the pseudo masks of the training set
#     (all 400 training images: about an hour with 2 processes on 2 cores)
#   2 the benchmark (box-fill, GrabCut, BBAM box / cls / both heads, +-CRF, +-proposals) and pictures
#   3 stock Mask R-CNN (ignore regions + seed growing) and FCN on the pseudo masks
# Usage: bash tools/bbam_tools/run_toy.sh   (PYTHON defaults to .venv/bin/python; NPROC processes for BBAM)
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
NPROC=${NPROC:-2}
BENCH_IMAGES=${BENCH_IMAGES:-60}
CFG=configs/bbam/toy/faster-rcnn_r18-tiny_fpn_20e_toy-bbam.py
WORK=work_dirs/bbam_toy
OUT=data/toy/VOCdevkit/VOC2012/bbam

# 1: on a GPU the hook would explain the training set inside the training process; on 2 CPU cores it is faster
#    split over NPROC processes, so the hook is told to explain nothing (limit=0) and tools/bbam.py does it.
#    --resume continues an interrupted run (and returns at once after a finished one); the detector is then the
#    checkpoint mmengine recorded last in the work dir (the config's work_dir), whatever the schedule's length.
$PYTHON tools/train.py $CFG --resume --cfg-options custom_hooks.0.limit=0
CKPT=$(cat $WORK/detector/last_checkpoint)
OMP_NUM_THREADS=1 PYTHON=$PYTHON bash tools/dist_bbam.sh $CFG $CKPT $NPROC --out-dir $OUT
# 2: the attribution maps of each head setting (split over processes), then the scoring
bench() {  # bench HEADS [--cfg-options ...]
  OMP_NUM_THREADS=1 PYTHON=$PYTHON bash tools/dist_bbam.sh $CFG $CKPT $NPROC --out-dir $WORK/benchmark/$1 \
      --limit $BENCH_IMAGES "${@:2}"
}
bench both
bench box --cfg-options custom_hooks.0.explainer.use_cls_head=False
bench cls --cfg-options custom_hooks.0.explainer.use_box_head=False
$PYTHON tools/bbam_tools/benchmark.py $CFG $CKPT --out-dir $WORK/benchmark --limit $BENCH_IMAGES \
    --out $WORK/benchmark.json
$PYTHON tools/bbam_tools/visualize.py $OUT --out-dir $WORK/vis --max 12
# 3
$PYTHON tools/train.py configs/bbam/toy/mask-rcnn_r18-tiny_fpn_20e_toy-bbam.py
$PYTHON tools/train.py configs/bbam/toy/fcn_r18-tiny_1k_toy-bbam.py

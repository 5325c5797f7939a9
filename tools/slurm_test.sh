#!/usr/bin/env bash
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [GRES=gpu:8] [SRUN_ARGS="..."] \
#        tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]
# Test a checkpoint with GPUS slurm tasks (tools/test.py --launcher slurm), as mmdet's / mmseg's slurm_test.sh;
# see tools/slurm_tool.sh for the variables (GRES= on CPU-only nodes, whose tasks use gloo).
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]" >&2
    exit 2
fi
exec bash "$(dirname "$0")/slurm_tool.sh" "$1" "$2" "$(dirname "$0")/test.py" "${@:3}"

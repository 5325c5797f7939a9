#!/usr/bin/env bash
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [GRES=gpu:8] [SRUN_ARGS="..."] \
#        tools/slurm_bbam.sh PARTITION JOB_NAME CONFIG CHECKPOINT [bbam.py args...]
# BBAM pseudo masks with GPUS slurm tasks (tools/bbam.py --launcher slurm, images split by rank), as
# tools/dist_bbam.sh does with torchrun; see tools/slurm_tool.sh for the variables (GRES= on CPU-only nodes).
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [bbam.py args...]" >&2
    exit 2
fi
exec bash "$(dirname "$0")/slurm_tool.sh" "$1" "$2" "$(dirname "$0")/bbam.py" "${@:3}"

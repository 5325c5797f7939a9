#!/usr/bin/env bash
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [GRES=gpu:8] [SRUN_ARGS="..."] \
#        tools/slurm_tool.sh PARTITION JOB_NAME TOOL [tool args...]
# Run a per-image tool that takes --launcher (tools/bbam.py, tools/irnet/make_cams.py, mine_relations.py,
# make_pseudo_labels.py, tools/psi/expand_labels.py ...) as GPUS slurm tasks: the images are split by rank, each
# task computes on its node-local GPU (SLURM_LOCALID). GPUS is the number of tasks (processes); on CPU-only nodes
# set GRES= (empty: no --gres) and the tasks use gloo. TOOL is a path from the current folder or from tools/.
#   tools/slurm_tool.sh gpu irn-cams tools/irnet/make_cams.py CONFIG CHECKPOINT --out-dir DIR
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 PARTITION JOB_NAME TOOL [tool args...]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
TOOL=$3
if [ ! -f "$TOOL" ] && [ -f "$(dirname "$0")/$TOOL" ]; then
    TOOL="$(dirname "$0")/$TOOL"
fi
if [ ! -f "$TOOL" ]; then
    echo "$0: no tool $3 (give a path such as tools/bbam.py or irnet/make_cams.py)" >&2
    exit 2
fi
if ! grep -q -- "'--launcher'" "$TOOL"; then
    echo "$0: $TOOL has no --launcher option: it runs in one process (python $TOOL ...)" >&2
    exit 2
fi
set -x
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
GRES=${GRES-gpu:${GPUS_PER_NODE}}
read -r -a EXTRA <<< "${SRUN_ARGS:-}"
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    ${GRES:+--gres="$GRES"} \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${EXTRA[@]+"${EXTRA[@]}"} \
    "$PYTHON" -u "$TOOL" "${@:4}" --launcher=slurm

#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv and install the pinned OpenMMLab stack.
#
#   bash tools/install.sh            # or: make install
#
# * Idempotent: when the requirement files have not changed since the last successful run and the stack imports,
#   it returns in seconds.
# * Honours PIP_FIND_LINKS: point it at a folder holding a prebuilt mmcv-2.1.0 wheel to skip the ~25 min build.
# * mmcv is built from source with its CPU ops when no wheel is found (MMCV_WITH_OPS=1 FORCE_CUDA=0,
#   --no-build-isolation, because mmcv's setup.py must import the installed torch).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${WSSEG_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.wsseg_install_stamp"

log() { printf '[install] %s\n' "$*"; }

stamp_of() {
    cat requirements/*.txt pyproject.toml | sha256sum | cut -d' ' -f1
}

if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"

want="$(stamp_of)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
        && "$PY" -c "import mmcv.ops, mmdet, mmseg, wsseg_mm" >/dev/null 2>&1; then
    log "environment up to date ($VENV)"
    exit 0
fi

PIP=("$PY" -m pip install --disable-pip-version-check)
log "installing build requirements (torch, setuptools<82, ninja)"
"${PIP[@]}" -r requirements/build.txt

if "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'" >/dev/null 2>&1; then
    log "mmcv 2.1.0 with ops already installed"
else
    log "installing mmcv 2.1.0 (prebuilt wheel from PIP_FIND_LINKS if present, otherwise a ~25 min build)"
    MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-2}" \
        "${PIP[@]}" --no-build-isolation -r requirements/mmcv.txt
    "$PY" -c "import mmcv.ops" || { echo "mmcv was installed without its compiled ops (mmcv._ext)" >&2; exit 1; }
fi

log "installing the OpenMMLab stack and test requirements"
"${PIP[@]}" --no-build-isolation -r requirements/runtime.txt -r requirements/tests.txt
log "installing wsseg_mm (editable)"
"${PIP[@]}" --no-build-isolation --no-deps -e .

"$PY" -c "import wsseg_mm, mmcv.ops, mmdet, mmseg, mmaction; print('wsseg_mm', wsseg_mm.__version__, 'ready')"
echo "$want" > "$STAMP"
log "done. Activate with: source $VENV/bin/activate"

"""What every method's API shares: configs, models and datasets of the tools, the resumable, rank-split per-image
loop, the manifest that keeps reruns from trusting stale outputs, the tools' log files, image reading, and the COCO
fragments a per-image job writes and rank 0 merges.

The per-image loop (:func:`run_per_image`) is

* resumable: an image whose outputs all exist and load is skipped (outputs are written atomically and durably, see
  :mod:`wsseg_mm.fileio.labels`, so an existing file is a finished one; one that does not load, e.g. truncated by a
  copy, is deleted and redone, with a warning naming it);
* distributed: rank r of w takes images r, r + w, r + 2w, ...; the union is what one process would write;
* observable: a progress bar on rank 0 and a summary line with the counts (written, skipped, redone) and the time.

Before the loop, :func:`prepare_outputs` compares the output folder's ``manifest.json`` (what made the outputs: the
model's weights, the settings of each stage, the wsseg_mm version) with this run: it resumes only when they match,
redoes only a stage whose settings may change on their own (post-processing, from what the earlier stage saved),
and otherwise refuses with the differences and how to start over (``--overwrite``).
"""
import argparse
import glob
import hashlib
import json
import logging
import os
import os.path as osp
import re
import time
import weakref
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from mmengine.dist import all_reduce, barrier, get_dist_info, init_dist, is_distributed
from mmengine.logging import MMLogger, print_log
from tqdm import tqdm

from wsseg_mm.fileio.labels import (
    CocoInstanceWriter,
    atomic_write_bytes,
    check_readable,
    load_json,
    merge_coco,
)

__all__ = [
    'local_rank', 'select_device', 'set_cpu_threads', 'setup_launcher', 'positive_int', 'run_per_image', 'Stage',
    'MANIFEST', 'layered_settings', 'prepare_outputs', 'manifest_id', 'model_fingerprint', 'pipeline_description',
    'tool_log',
    'build_split_dataset', 'read_rgb', 'image_name', 'load_cfg', 'init_model', 'checkpoint_info', 'preprocess_one',
    'write_coco_fragment', 'merge_coco_fragments', 'load_weights_strictly', 'package_version'
]


def setup_launcher(launcher: str) -> None:
    """Initialise torch.distributed for ``--launcher pytorch|slurm|mpi`` (gloo on CPU, via wsseg_mm.compat), and
    give this process its share of the CPU cores (:func:`set_cpu_threads`).

    On CPU, with more busy threads than cores every multi-threaded op waits for a time slice (the random walk's
    sparse products: 10x slower; BBAM at 2 threads per process on a loaded 2-core machine: about 25x).
    """
    if launcher != 'none' and not is_distributed():
        if launcher == 'pytorch':
            os.environ.setdefault('LOCAL_RANK', '0')
        init_dist(launcher, backend='gloo' if not _cuda() else 'nccl')
    set_cpu_threads()


def _leading_int(value: Optional[str]) -> Optional[int]:
    """``'4'`` -> 4, ``'4(x2)'`` (slurm's form) -> 4, anything else -> None."""
    match = re.match(r'\s*(\d+)', value or '')
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def set_cpu_threads(num_processes: Optional[int] = None) -> int:
    """Give this process its share of the CPU cores for torch, when CUDA is not in use; returns the thread count.

    The share is ``max(1, cores // processes)``: the cores this process may run on (``os.sched_getaffinity``, which
    honours taskset / cgroup cpusets, where available, else ``os.cpu_count()``) over the processes on this node
    (``num_processes``, else ``LOCAL_WORLD_SIZE`` (torchrun), else ``SLURM_NTASKS_PER_NODE`` (srun), else the world
    size, else 1). An ``OMP_NUM_THREADS`` in the environment is the user's choice and wins (torchrun sets it to 1
    when it starts several processes and it is not set). With CUDA available nothing changes.
    """
    import torch
    if _cuda():
        return torch.get_num_threads()
    explicit = _leading_int(os.environ.get('OMP_NUM_THREADS'))
    if explicit is not None:
        threads = explicit
    else:
        if num_processes is None:
            num_processes = (_leading_int(os.environ.get('LOCAL_WORLD_SIZE'))
                             or _leading_int(os.environ.get('SLURM_NTASKS_PER_NODE')) or get_dist_info()[1] or 1)
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # not on Linux
            cores = os.cpu_count() or 1
        threads = max(1, cores // max(1, int(num_processes)))
    torch.set_num_threads(threads)
    return torch.get_num_threads()


def positive_int(text: str) -> int:
    """``argparse`` type of a count such as ``--limit``: an integer of at least 1, else a clear usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a whole number') from None
    if value < 1:
        raise argparse.ArgumentTypeError(f'{value} is not a positive number (give 1 or more, or leave the option '
                                         'out for all)')
    return value


def _cuda() -> bool:
    import torch
    return torch.cuda.is_available()


def local_rank() -> int:
    """This process's rank on its node: ``LOCAL_RANK`` (torchrun, ``--launcher pytorch``), else ``SLURM_LOCALID``
    (srun, ``--launcher slurm``), else 0."""
    for var in ('LOCAL_RANK', 'SLURM_LOCALID'):
        value = os.environ.get(var)
        if value not in (None, ''):
            return int(value)
    return 0


def select_device(device: Optional[str] = None) -> str:
    """The device a per-image tool computes on, as ``--device`` says.

    ``None`` / ``'auto'``: CUDA when available (as mmdet's ``init_detector`` / mmseg's ``init_model``), else the
    CPU. A bare ``'cuda'`` (also the automatic choice) is this process's local GPU, ``cuda:{local_rank % GPUs}``,
    so that each rank of ``--launcher pytorch`` / ``slurm`` works on its own; ``'cuda:N'`` and ``'cpu'`` are kept.
    Asking for CUDA where there is none raises a ``RuntimeError``.
    """
    import torch
    device = 'auto' if device is None else str(device)
    if device == 'auto':
        device = 'cuda' if _cuda() else 'cpu'
    if device.startswith('cuda'):
        if not _cuda():
            raise RuntimeError(f'--device {device}: CUDA is not available here (use --device cpu)')
        if device == 'cuda':
            device = f'cuda:{local_rank() % max(torch.cuda.device_count(), 1)}'
        torch.cuda.set_device(torch.device(device))
    return device


def run_per_image(names: Sequence[str], process: Callable[[str], None], outputs: Callable[[str], List[str]],
                  desc: str) -> Dict[str, int]:
    """Run ``process(name)`` for this rank's share of ``names`` whose ``outputs(name)`` do not all exist and load.

    An existing output that does not load (:func:`wsseg_mm.fileio.labels.check_readable`: empty, truncated) is
    deleted and its image redone, with a warning naming the file. The counts and the time are logged (to the
    current logger: a tool's log file, see :func:`tool_log`), per rank and, on rank 0, for all ranks together.

    Returns:
        ``dict(total, skipped, done, redone, seconds)`` for this rank (``redone``: images done again because an
        output did not load; they are among ``done``); the ranks are synchronised before returning.
    """
    start = time.perf_counter()
    rank, world_size = get_dist_info()
    mine = list(names)[rank::world_size]
    todo, redone = [], 0
    for name in mine:
        paths = outputs(name)
        unreadable = []
        for path in paths:
            if osp.exists(path):
                try:
                    check_readable(path)
                except OSError as error:
                    unreadable.append(path)
                    print_log(f'{desc}: redoing {name}: {error}', logger='current', level=logging.WARNING)
        for path in unreadable:
            os.remove(path)
        if unreadable or not all(osp.exists(p) for p in paths):
            todo.append(name)
            redone += bool(unreadable)
    for name in tqdm(todo, desc=desc, disable=rank != 0):
        process(name)
    if world_size > 1:
        barrier()
    counts = dict(total=len(mine), skipped=len(mine) - len(todo), done=len(todo), redone=redone)
    seconds = time.perf_counter() - start
    print_log(f'{desc}: rank {rank}/{world_size}: {_counts_line(counts, seconds)}', logger='current')
    if world_size > 1:
        import torch
        summed = torch.tensor([counts[k] for k in ('total', 'skipped', 'done', 'redone')], dtype=torch.int64)
        all_reduce(summed)
        print_log(f'{desc}: all {world_size} ranks: '
                  f'{_counts_line(dict(zip(("total", "skipped", "done", "redone"), summed.tolist())), seconds)}',
                  logger='current')
    return dict(counts, seconds=seconds)


def _counts_line(counts: Dict[str, int], seconds: float) -> str:
    return (f'{counts["done"]} written, {counts["skipped"]} already done (of {counts["total"]}); '
            f'{counts["redone"]} redone because an output did not load; {seconds:.1f} s')


# ------------------------------------------------------------------------------------------------------ manifest
MANIFEST = 'manifest.json'


class Stage(NamedTuple):
    """One stage of a per-image tool's outputs, as the output folder's manifest records it.

    Attributes:
        name: the stage's name in the manifest and in messages (``'explain'``, ``'postprocess'``).
        settings: everything that shapes the stage's outputs (JSON-able after :func:`_jsonable`: tuples become
            lists, classes their dotted names): model fingerprints, settings, the loading pipeline.
        outputs: glob patterns, relative to the output folder, of the files the stage writes
            (``'attributions/*.npz'``); deleted when the stage is redone or the run starts over.
        redo: whether a change of ``settings`` redoes this stage (and the later ones) from what the earlier stages
            saved, instead of refusing: post-processing.
    """
    name: str
    settings: dict
    outputs: Tuple[str, ...] = ()
    redo: bool = False


def package_version() -> str:
    """The installed wsseg_mm version (recorded in manifests)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version('wsseg_mm')
    except PackageNotFoundError:
        return 'unknown'


def _json_default(value):
    if hasattr(value, 'tolist'):  # numpy / torch scalars and arrays
        return value.tolist()
    if isinstance(value, type) or callable(value):
        return f'{getattr(value, "__module__", "")}.{getattr(value, "__qualname__", repr(value))}'
    return _strip_addresses(str(value))


def _strip_addresses(text: str) -> str:
    """Reprs without object addresses, which differ from run to run."""
    return re.sub(r' at 0x[0-9a-fA-F]+', '', text)


def _jsonable(value):
    """``value`` as it reads back from JSON (tuples -> lists, dict keys sorted, the rest by :func:`_json_default`)."""
    return json.loads(json.dumps(value, sort_keys=True, default=_json_default))


def model_fingerprint(model) -> str:
    """``sha256:<hex>`` of a model's weights (every entry of its ``state_dict``: name, dtype, shape, bytes): the
    same for the same weights wherever they were loaded from, on any device."""
    import torch
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        if not isinstance(value, torch.Tensor):
            continue
        tensor = value.detach().to('cpu').contiguous().reshape(-1)
        digest.update(f'{key}|{tensor.dtype}|{tuple(value.shape)}|'.encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes())
    return f'sha256:{digest.hexdigest()}'


def pipeline_description(dataset) -> List[str]:
    """The loading pipeline of a dataset (of each part of a ``ConcatDataset``) as its transforms print themselves:
    resize scales, packed keys, ...: what a manifest records of the dataset side."""
    parts = getattr(dataset, 'datasets', None)
    if parts is not None:
        return [text for part in parts for text in pipeline_description(part)]
    return [_strip_addresses(repr(getattr(dataset, 'pipeline', None)))]


def manifest_id(out_dir: str) -> Optional[str]:
    """A short hash of what made the outputs in ``out_dir`` (its manifest, less the run's timestamps), for the
    manifest of a stage that reads them (e.g. relations from CAMs); None when there is no manifest."""
    path = osp.join(out_dir, MANIFEST)
    if not osp.exists(path):
        return None
    manifest = load_json(path)
    content = {k: manifest.get(k) for k in ('tool', 'wsseg_mm', 'stages')}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def _flatten(value, prefix: str) -> Dict[str, object]:
    if isinstance(value, dict) and value:
        flat = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f'{prefix}.{key}' if prefix else str(key)))
        return flat
    return {prefix: value}


def _short(value, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    text = ' '.join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _differences(old: dict, new: dict) -> List[Tuple[Optional[str], str]]:
    """``(stage name or None for the tool / version, 'key: old -> new')`` for each setting that differs, in stage
    order."""
    found = []
    for key in ('tool', 'wsseg_mm'):
        if old.get(key) != new[key]:
            found.append((None, f'{key}: {_short(old.get(key))} -> {_short(new[key])}'))
    old_stages = old.get('stages') or {}
    for name, settings in new['stages'].items():
        before = _flatten(old_stages.get(name, {}), name)
        after = _flatten(settings, name)
        for key in sorted(set(before) | set(after)):
            if before.get(key, '<absent>') != after.get(key, '<absent>'):
                found.append((name, f'{key}: {_short(before.get(key, "<absent>"))} -> '
                                    f'{_short(after.get(key, "<absent>"))}'))
    for name in sorted(set(old_stages) - set(new['stages'])):
        found.append((None, f'{name}: a stage of the old run, not of this one'))
    return found


def _stage_files(out_dir: str, stage: Stage) -> List[str]:
    return sorted(path for pattern in stage.outputs for path in glob.glob(osp.join(glob.escape(out_dir), pattern))
                  if osp.isfile(path))


def prepare_outputs(out_dir: str, tool: str, stages: Sequence[Stage], overwrite: bool = False,
                    info: Optional[dict] = None) -> List[str]:
    """Check ``out_dir``'s manifest against this run before a per-image tool (re)starts writing there.

    * no manifest and no outputs: a fresh start; the manifest is written;
    * the manifest matches (tool, wsseg_mm version, every stage's settings): resume;
    * the first stage that differs is a ``redo`` stage (post-processing): its outputs and those of the later stages
      are deleted, to be redone from what the earlier stages saved, and the manifest is updated;
    * anything else (another model or checkpoint, other settings of a stage that cannot be redone alone, another
      version, outputs without a manifest): a ``ValueError`` listing each difference as ``key: old -> new`` and how
      to start over;
    * ``overwrite``: every stage's outputs are deleted and the run starts over.

    The manifest is written (atomically) before any output and only after the outputs it no longer describes are
    deleted, so a kill at any point leaves a folder whose manifest describes every output in it. All ranks decide
    alike from the same files; rank 0 deletes and writes between two barriers.

    Args:
        out_dir: the output folder (``manifest.json`` goes there).
        tool: the tool's name (another tool's outputs in the folder are refused).
        stages: the stages in the order they run (:class:`Stage`).
        overwrite: start over (``--overwrite``).
        info: recorded, never compared (e.g. ``checkpoint``: path, size, mtime).

    Returns:
        the names of the stages whose outputs were deleted to be redone (all with ``overwrite``).
    """
    path = osp.join(out_dir, MANIFEST)
    new = dict(tool=tool, wsseg_mm=package_version(), stages={s.name: _jsonable(s.settings) for s in stages})
    old = None
    if osp.exists(path) and not overwrite:
        try:
            old = load_json(path)
        except OSError as error:
            raise ValueError(f'{tool}: {error}; rerun with --overwrite (overwrite=True) to start over in {out_dir}') \
                from None
    hint = ('To start over, rerun with --overwrite (overwrite=True in the API), which deletes these outputs, or '
            'write to another folder')
    redo: List[Stage] = []
    if overwrite:
        redo = list(stages)
        message = f'{tool}: --overwrite: starting over in {out_dir}'
    elif old is None:
        existing = [f for stage in stages for f in _stage_files(out_dir, stage)]
        if existing:
            raise ValueError(f'{tool}: {out_dir} holds {len(existing)} outputs (e.g. {existing[0]}) but no '
                             f'{MANIFEST}: they were written by an older wsseg_mm or another program, so nothing '
                             f'tells what made them. {hint}.')
        message = f'{tool}: new outputs in {out_dir}'
    else:
        differences = _differences(old, new)
        if not differences:
            message = f'{tool}: resuming in {out_dir}: {MANIFEST} matches this run'
        else:
            changed = {stage for stage, _ in differences}
            first = next((i for i, s in enumerate(stages) if s.name in changed), None)
            if None in changed or first is None or not stages[first].redo:
                listing = '\n  '.join(text for _, text in differences)
                raise ValueError(f'{tool}: the outputs in {out_dir} were made by another run ({path}); resuming '
                                 f'would mix them with this one\'s. What differs (old -> new):\n  {listing}\n{hint}.')
            redo = list(stages[first:])
            kept = ', '.join(s.name for s in stages[:first]) or 'nothing'
            message = (f'{tool}: only the settings of {", ".join(s.name for s in redo)} changed ('
                       + '; '.join(text for _, text in differences) + f'): redoing it for every image from the '
                       f'saved outputs of {kept}')
    rank, world_size = get_dist_info()
    if world_size > 1:
        barrier()  # every rank has read the old manifest before rank 0 replaces it
    if rank == 0:
        removed = _remove_files([f for stage in redo for f in _stage_files(out_dir, stage)])
        _remove_files(_leftover_temporaries(out_dir, stages))
        if old is None or redo:
            manifest = dict(new, info=_jsonable(dict(info or {}, written=time.strftime('%Y-%m-%d %H:%M:%S'))))
            atomic_write_bytes(path, json.dumps(manifest, indent=1, sort_keys=True).encode())
        if removed:
            message += f' ({removed} files deleted)'
    if world_size > 1:
        barrier()
    print_log(message, logger='current')
    return [stage.name for stage in redo]


def _remove_files(paths: Sequence[str]) -> int:
    for path in paths:
        if osp.exists(path):
            os.remove(path)
    return len(paths)


def _leftover_temporaries(out_dir: str, stages: Sequence[Stage]) -> List[str]:
    """Temporary files of atomic writes that a killed run left in the stages' folders."""
    folders = {out_dir} | {osp.dirname(osp.join(out_dir, p)) for stage in stages for p in stage.outputs}
    return sorted(f for folder in folders for f in glob.glob(osp.join(glob.escape(folder), '.tmp_*')))


# ----------------------------------------------------------------------------------------------------- tool logs
@contextmanager
def tool_log(out_dir: str, tool: str, args=None) -> Iterator[MMLogger]:
    """Log a per-image tool's run into ``out_dir/<tool>_<YYYYmmdd_HHMMSS>.log`` (and the console), as training
    logs into its work_dir: the arguments, the threads, what :func:`prepare_outputs` decided, the counts of
    :func:`run_per_image` (written, already done, redone) with their times, the total time, and the error that
    ended the run, if one did. Rank 0 writes the file; the counts of all ranks are summed into it.

    Yields:
        the ``MMLogger`` (the current one while the tool runs: ``print_log(..., logger='current')`` reaches it).
    """
    import torch
    os.makedirs(out_dir, exist_ok=True)
    log_file = osp.abspath(osp.join(out_dir, f'{tool}_{time.strftime("%Y%m%d_%H%M%S")}.log'))
    # a new instance per run (two runs in the same second append to the same file)
    logger = MMLogger.get_instance(f'wsseg_mm.{tool}:{log_file}:{time.time_ns()}', log_file=log_file,
                                   log_level='INFO', file_mode='a')
    arguments = vars(args) if isinstance(args, argparse.Namespace) else args
    logger.info(f'{tool}: wsseg_mm {package_version()}, arguments {arguments}, {torch.get_num_threads()} torch '
                f'threads, log {log_file}')
    start = time.perf_counter()
    try:
        yield logger
    except BaseException as error:
        logger.error(f'{tool}: stopped after {time.perf_counter() - start:.1f} s: {type(error).__name__}: {error}')
        raise
    else:
        logger.info(f'{tool}: finished in {time.perf_counter() - start:.1f} s')
    finally:
        for handler in [h for h in logger.handlers if isinstance(h, logging.FileHandler)]:
            logger.removeHandler(handler)
            handler.close()


def build_split_dataset(cfg, split: str = 'test'):
    """The dataset of ``{split}_dataloader`` of a config, built in the config's default scope."""
    from mmengine.registry import DATASETS, DefaultScope
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        return DATASETS.build(cfg[f'{split}_dataloader']['dataset'])


def read_rgb(path: str):
    """(H, W, 3) uint8 RGB image; a missing or undecodable file raises an error naming it."""
    import mmcv
    import numpy as np
    if not osp.exists(path):
        raise FileNotFoundError(f'image not found: {path}')
    try:
        image = mmcv.imread(path, channel_order='rgb')
    except Exception:  # cv2 fails on an empty buffer (a zero-byte file) instead of returning None
        image = None
    if image is None:
        size = osp.getsize(path)
        raise OSError(f'cannot read image {path} ({size} bytes): ' +
                      ('the file is empty' if size == 0 else 'it cannot be decoded') + '; replace or remove it')
    return np.ascontiguousarray(image)


def image_name(data_info: dict) -> str:
    """File stem of a data info's image (``.../JPEGImages/2007_000032.jpg`` -> ``2007_000032``)."""
    return osp.splitext(osp.basename(data_info['img_path']))[0]


def load_cfg(path: str, options=None, launcher: str = 'none', work_dir: str = None):
    """A config with ``--cfg-options`` merged in, the launcher recorded, and ``work_dir`` set as OpenMMLab's
    tools set it (the argument, else the config's, else ``./work_dirs/<config name>``)."""
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if options:
        cfg.merge_from_dict(options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg


_CHECKPOINTS: 'weakref.WeakKeyDictionary' = weakref.WeakKeyDictionary()


def init_model(cfg, checkpoint: str, device: Optional[str] = None):
    """Build ``cfg.model`` in the config's default scope, load ``checkpoint`` strictly and switch to eval mode, on
    ``device`` (:func:`select_device`: by default this rank's GPU when CUDA is available, else the CPU).

    Strictly: a checkpoint whose weights do not fit the model (missing or unexpected keys, other shapes: e.g. a
    detector checkpoint given to ``make_cams.py``) raises a ``ValueError`` naming them, on every rank, instead of
    leaving random weights in the model. (mmseg's ``init_model`` also injects ``pretrained=None``, which models
    without that argument refuse.)
    """
    from mmengine.registry import MODELS, DefaultScope
    model_cfg = cfg.model.copy()
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        backbone = model_cfg.get('backbone')
        if backbone is not None and backbone.get('init_cfg'):
            backbone['init_cfg'] = None  # the checkpoint holds every weight: nothing to fetch
        model = MODELS.build(model_cfg)
    load_weights_strictly(model, checkpoint)
    return model.to(select_device(device)).eval()


def load_weights_strictly(model, checkpoint: str) -> None:
    """Load ``checkpoint`` (a file or URI mmengine reads; its ``state_dict``, ``module.`` prefixes stripped) into
    ``model``; any missing key (BatchNorm's ``num_batches_tracked`` aside, as mmengine does), unexpected key or
    shape mismatch raises a ``ValueError`` naming them. The checkpoint's path, size and mtime are remembered for
    the manifests (:func:`checkpoint_info`)."""
    from collections import OrderedDict

    from mmengine.runner.checkpoint import CheckpointLoader, load_state_dict
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu', logger='current')
    if not isinstance(loaded, dict):
        raise ValueError(f'{checkpoint}: no state_dict in this checkpoint')
    state = loaded.get('state_dict', loaded)
    metadata = getattr(state, '_metadata', OrderedDict())
    state = OrderedDict((re.sub(r'^module\.', '', k), v) for k, v in state.items())
    state._metadata = metadata
    own = model.state_dict()
    missing = [k for k in own if k not in state and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in state if k not in own]
    shapes = [f'{k} {tuple(state[k].shape)} (model {tuple(own[k].shape)})' for k in own
              if k in state and hasattr(state[k], 'shape') and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        problems = '; '.join(f'{len(keys)} {what}: {", ".join(keys[:8])}{", ..." if len(keys) > 8 else ""}'
                             for what, keys in (('missing keys', missing), ('unexpected keys', unexpected),
                                                ('shape mismatches', shapes)) if keys)
        raise ValueError(f'checkpoint {checkpoint} does not fit the model ({type(model).__name__}): {problems}. '
                         'Is it the checkpoint of another model (a detector given to make_cams.py, a CAM classifier '
                         'to tools/bbam.py)? Give a checkpoint trained with this config.')
    load_state_dict(model, state, strict=True, logger='current')
    if osp.isfile(checkpoint):
        _CHECKPOINTS[model] = dict(path=osp.abspath(checkpoint), size=osp.getsize(checkpoint),
                                   mtime=time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(osp.getmtime(checkpoint))))
    else:
        _CHECKPOINTS[model] = dict(path=checkpoint)


def checkpoint_info(model) -> Optional[dict]:
    """``dict(path, size, mtime)`` of the checkpoint :func:`init_model` loaded into ``model``, else None."""
    return _CHECKPOINTS.get(model)


def preprocess_one(model, sample: dict) -> dict:
    """Run the model's data preprocessor on one packed dataset sample (a batch of one)."""
    return model.data_preprocessor(dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']]))


def write_coco_fragment(path: str, classes: Sequence[str], file_name: str, shape, instances: Sequence[dict]) -> None:
    """Write one image's instances as a one-image COCO file (atomically): ``instances`` are dicts with ``mask``
    (H, W) bool, ``label`` (1-based category), ``score`` and optionally ``ignore`` (H, W) bool; ``shape`` is the
    image's (H, W); ``classes`` the foreground class names (category ``k + 1`` is ``classes[k]``)."""
    writer = CocoInstanceWriter(classes)
    image_id = writer.add_image(file_name, *shape)
    for inst in instances:
        writer.add_instance(image_id, inst['mask'], inst['label'], score=inst['score'], ignore=inst.get('ignore'))
    writer.dump(path)


def merge_coco_fragments(paths: Sequence[str], out_path: str, classes: Optional[Sequence[str]] = None) -> dict:
    """Merge the one-image COCO files ``paths`` (in that order, ids renumbered) into ``out_path`` (atomically).

    With no fragment the result is an empty COCO file of ``classes``. Returns the merged dict.
    """
    parts = [load_json(path) for path in paths]
    if parts:
        merged = merge_coco(parts)
    elif classes is not None:
        merged = CocoInstanceWriter(classes).to_dict()
    else:
        raise ValueError(f'no COCO fragment to merge into {out_path}, and no classes for an empty file')
    atomic_write_bytes(out_path, json.dumps(merged).encode())
    return merged


def layered_settings(key: str, defaults: dict, cfg, overrides: dict) -> dict:
    """Settings of one stage: ``defaults`` (written once, in the API), then the config's ``key`` dict, then the
    ``overrides`` that are not None (command-line options); unknown keys raise a ``KeyError`` naming them."""
    settings = dict(defaults)
    given = dict((cfg.get(key, None) if cfg is not None else None) or {})
    given.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(given) - set(settings))
    if unknown:
        raise KeyError(f'{key}: unknown keys {unknown} (known: {sorted(settings)})')
    settings.update(given)
    return settings

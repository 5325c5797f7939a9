"""What every method's API shares: configs, models and datasets of the tools, the resumable, rank-split per-image
loop, image reading, and the COCO fragments a per-image job writes and rank 0 merges.

The per-image loop (:func:`run_per_image`) is

* resumable: an image whose outputs all exist is skipped (outputs are written atomically, see
  :mod:`wsseg_mm.fileio.labels`, so an existing file is a finished one);
* distributed: rank r of w takes images r, r + w, r + 2w, ...; the union is what one process would write;
* observable: a progress bar on rank 0 and a summary line with the counts.
"""
import json
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence

from mmengine.dist import barrier, get_dist_info, init_dist, is_distributed
from mmengine.logging import print_log
from tqdm import tqdm

from wsseg_mm.fileio.labels import CocoInstanceWriter, atomic_write_bytes, merge_coco

__all__ = [
    'local_rank', 'select_device', 'setup_launcher', 'run_per_image', 'build_split_dataset', 'read_rgb', 'image_name',
    'load_cfg', 'init_model', 'preprocess_one', 'write_coco_fragment', 'merge_coco_fragments'
]


def setup_launcher(launcher: str) -> None:
    """Initialise torch.distributed for ``--launcher pytorch|slurm|mpi`` (gloo on CPU, via wsseg_mm.compat).

    On CPU each process gets its share of the cores: with more busy threads than cores every multi-threaded
    sparse product of the random walk waits for a time slice (measured 10x slower).
    """
    if launcher != 'none' and not is_distributed():
        if launcher == 'pytorch':
            os.environ.setdefault('LOCAL_RANK', '0')
        init_dist(launcher, backend='gloo' if not _cuda() else 'nccl')
        if not _cuda():
            import torch
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // get_dist_info()[1]))


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
    """Run ``process(name)`` for this rank's share of ``names`` whose ``outputs(name)`` do not all exist yet.

    Returns:
        ``dict(total, skipped, done)`` for this rank; the ranks are synchronised before returning.
    """
    rank, world_size = get_dist_info()
    mine = list(names)[rank::world_size]
    todo = [n for n in mine if not all(osp.exists(p) for p in outputs(n))]
    for name in tqdm(todo, desc=desc, disable=rank != 0):
        process(name)
    if world_size > 1:
        barrier()
    counts = dict(total=len(mine), skipped=len(mine) - len(todo), done=len(todo))
    print_log(f'{desc}: rank {rank}/{world_size}: {counts["done"]} written, {counts["skipped"]} already done '
              f'(of {counts["total"]})', logger='current')
    return counts


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
    image = mmcv.imread(path, channel_order='rgb')
    if image is None:
        raise OSError(f'cannot read image {path}')
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


def init_model(cfg, checkpoint: str, device: Optional[str] = None):
    """Build ``cfg.model`` in the config's default scope, load ``checkpoint`` and switch to eval mode, on
    ``device`` (:func:`select_device`: by default this rank's GPU when CUDA is available, else the CPU).

    (mmseg's ``init_model`` also injects ``pretrained=None``, which models without that argument refuse.)
    """
    from mmengine.registry import MODELS, DefaultScope
    from mmengine.runner import load_checkpoint
    model_cfg = cfg.model.copy()
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        backbone = model_cfg.get('backbone')
        if backbone is not None and backbone.get('init_cfg'):
            backbone['init_cfg'] = None  # the checkpoint holds every weight: nothing to fetch
        model = MODELS.build(model_cfg)
    load_checkpoint(model, checkpoint, map_location='cpu')
    return model.to(select_device(device)).eval()


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
    parts = []
    for path in paths:
        with open(path) as f:
            parts.append(json.load(f))
    if parts:
        merged = merge_coco(parts)
    elif classes is not None:
        merged = CocoInstanceWriter(classes).to_dict()
    else:
        raise ValueError(f'no COCO fragment to merge into {out_path}, and no classes for an empty file')
    atomic_write_bytes(out_path, json.dumps(merged).encode())
    return merged

"""Resumable, distributable per-image jobs: the loop every pseudo-label tool runs.

* resumable: an image whose outputs all exist is skipped (outputs are written atomically, see
  :mod:`wsseg_mm.fileio.labels`, so an existing file is a finished one);
* distributed: rank r of w takes images r, r + w, r + 2w, ...; the union is what one process would write;
* observable: a progress bar on rank 0 and a summary line with the counts.
"""
import os
import os.path as osp
from typing import Callable, Dict, List, Sequence

from mmengine.dist import barrier, get_dist_info, init_dist, is_distributed
from mmengine.logging import print_log
from tqdm import tqdm


def setup_launcher(launcher: str) -> None:
    """Initialise torch.distributed for ``--launcher pytorch|slurm|mpi`` (gloo on CPU, via wsseg_mm.compat).

    On CPU each process gets its share of the cores: with more busy threads than cores every multi-threaded
    sparse product of the random walk waits for a time slice (measured 10x slower).
    """
    if launcher != 'none' and not is_distributed():
        os.environ.setdefault('LOCAL_RANK', '0')
        init_dist(launcher, backend='gloo' if not _cuda() else 'nccl')
        if not _cuda():
            import torch
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // get_dist_info()[1]))


def _cuda() -> bool:
    import torch
    return torch.cuda.is_available()


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


def init_model(cfg, checkpoint: str, device: str = 'cpu'):
    """Build ``cfg.model`` in the config's default scope, load ``checkpoint`` and switch to eval mode.

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
    return model.to(device).eval()


def preprocess_one(model, sample: dict) -> dict:
    """Run the model's data preprocessor on one packed dataset sample (a batch of one)."""
    return model.data_preprocessor(dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']]))


def load_cams(cam_dir: str, name: str) -> dict:
    """The CAMs ``tools/irnet/make_cams.py`` wrote for an image: ``labels`` (1-based class list),
    ``high_res`` (K, H, W) and ``strided`` (K, h, w) float32 tensors."""
    import numpy as np
    import torch
    path = osp.join(cam_dir, name + '.npz')
    if not osp.exists(path):
        raise FileNotFoundError(f'no CAMs for {name}: {path} (run tools/irnet/make_cams.py first)')
    cams = np.load(path)
    return dict(labels=[int(c) for c in cams['keys']],
                high_res=torch.from_numpy(cams['high_res'].astype(np.float32)),
                strided=torch.from_numpy(cams['strided'].astype(np.float32)))

"""``last://WORK_DIR``: the checkpoint a run in ``WORK_DIR`` saved last, as a checkpoint path any mmengine loader takes.

mmengine's ``CheckpointHook`` writes the path of the newest checkpoint to ``WORK_DIR/last_checkpoint``. A stage that
starts from the previous stage's weights names that run instead of one of its epochs, so no epoch number is written
into a config or script::

    init_cfg=dict(type='Pretrained', checkpoint='last://work_dirs/irnet_toy/pretrain', prefix='backbone.')
    load_from = 'last://work_dirs/my_detector'

Registered when ``wsseg_mm`` is imported (``custom_imports``), so stock ``tools/train.py`` resolves it too.
"""
import os.path as osp

from mmengine.runner import CheckpointLoader

PREFIX = 'last://'


def resolve_last_checkpoint(filename: str) -> str:
    """The checkpoint path behind ``last://WORK_DIR`` (a clear error when the run has saved none yet)."""
    work_dir = filename[len(PREFIX):] if filename.startswith(PREFIX) else filename
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        raise FileNotFoundError(f'{filename}: no {pointer}: the run in {work_dir} has not saved a checkpoint yet '
                                '(train that stage first, or give a checkpoint path instead)')
    with open(pointer) as f:
        path = f.read().strip()
    if not osp.isfile(path):
        raise FileNotFoundError(f'{filename}: {pointer} names {path}, which does not exist')
    return path


@CheckpointLoader.register_scheme(prefixes=PREFIX)
def load_from_last_checkpoint(filename: str, map_location=None):
    return CheckpointLoader.load_checkpoint(resolve_last_checkpoint(filename), map_location)

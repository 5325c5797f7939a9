"""``BBAMHook``: when training of an mmdet two-stage detector ends, explain its boxes (BBAM, Lee et al.,
CVPR 2021) and write pseudo masks for the training set.

Mix it into any two-stage detector config::

    custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
    custom_hooks = [dict(type='BBAMHook', pipeline=bbam_pipeline, out_dir='data/VOCdevkit/VOC2012/bbam')]

``tools/bbam.py CONFIG CHECKPOINT`` runs the same generation from a checkpoint with these settings.
"""
import copy
import os.path as osp
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmdet.registry import HOOKS

from ..bbam import generate_bbam_pseudo_labels

# dataset wrappers whose inner dataset is the one to explain (repeating it would explain images twice)
_WRAPPERS = ('RepeatDataset', 'ClassBalancedDataset')


def bbam_dataset_cfg(train_dataset: dict, pipeline: Optional[Sequence[dict]] = None) -> dict:
    """The training dataset config without repetition wrappers, with the BBAM pipeline (no augmentation)."""
    cfg = copy.deepcopy(dict(train_dataset))
    while cfg.get('type') in _WRAPPERS:
        cfg = copy.deepcopy(dict(cfg['dataset']))
    if cfg.get('type') == 'ConcatDataset':
        raise ValueError('BBAM: the training set is a ConcatDataset; give BBAMHook(dataset=...) the one to explain')
    if pipeline is not None:
        cfg['pipeline'] = list(pipeline)
    return cfg


@HOOKS.register_module()
class BBAMHook(Hook):
    """Generate BBAM pseudo masks with the trained detector after training.

    Args:
        out_dir: output folder (default ``{work_dir}/bbam``): ``instances.json`` (COCO, ignore region per
            instance), ``semantic/*.png``, ``attributions/*.npz``, ``summary.json``.
        pipeline: the loading pipeline: image, boxes, resize, pack; no random augmentation. Default: the
            training dataset's own pipeline, which is rarely what you want (random flips).
        dataset: the dataset to explain (default: the training set of the config, unwrapped).
        explainer: keyword arguments of :class:`wsseg_mm.models.bbam_explainer.BBAMExplainer` (paper defaults).
        crf, fg_thr, bg_thr, proposals: post-processing, see :func:`generate_bbam_pseudo_labels`.
        seed: proposal-jitter seed.
        limit: explain only the first images (quick looks).
    """
    priority = 'LOW'

    def __init__(self,
                 out_dir: Optional[str] = None,
                 pipeline: Optional[Sequence[dict]] = None,
                 dataset: Optional[dict] = None,
                 explainer: dict = dict(),
                 crf: Optional[dict] = dict(),
                 fg_thr: float = 0.8,
                 bg_thr: float = 0.2,
                 proposals: Optional[dict] = None,
                 seed: int = 0,
                 limit: Optional[int] = None) -> None:
        self.out_dir = out_dir
        self.pipeline = pipeline
        self.dataset = dataset
        self.explainer = dict(explainer)
        self.post = dict(crf=crf, fg_thr=fg_thr, bg_thr=bg_thr, proposals=proposals)
        self.seed = seed
        self.limit = limit

    @classmethod
    def from_config(cls, cfg) -> 'BBAMHook':
        """The ``BBAMHook`` of a config's ``custom_hooks`` (its settings), or a default one."""
        for hook in cfg.get('custom_hooks', None) or []:
            if hook.get('type') in ('BBAMHook', cls):
                return cls(**{k: v for k, v in dict(hook).items() if k not in ('type', 'priority')})
        return cls()

    def before_train(self, runner) -> None:
        """Fail now, not after hours of training, when the configured MCG proposals are missing."""
        proposals = self.post['proposals']
        if proposals and proposals.get('type') == 'mcg' and not osp.isdir(proposals['dir']):
            raise FileNotFoundError(f'BBAMHook: MCG proposal folder not found: {proposals["dir"]} (download MCG\'s '
                                    "per-image proposals, or set proposals=dict(type='skimage') or None)")

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        dataset = self.build_dataset(runner.cfg)
        out_dir = self.out_dir or osp.join(runner.work_dir, 'bbam')
        runner.logger.info(f'BBAM: explaining {len(dataset)} training images into {out_dir}')
        self.generate(model, dataset, out_dir)

    def build_dataset(self, cfg):
        from mmengine.registry import DATASETS, DefaultScope
        dataset_cfg = self.dataset or bbam_dataset_cfg(cfg.train_dataloader.dataset, self.pipeline)
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmdet')):
            return DATASETS.build(dataset_cfg)

    def generate(self, model, dataset, out_dir: str, batched: bool = True):
        classes = dataset.metainfo['classes']
        return generate_bbam_pseudo_labels(model, dataset, out_dir, classes, self.explainer, seed=self.seed,
                                           batched=batched, limit=self.limit, **self.post)

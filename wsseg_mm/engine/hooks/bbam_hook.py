"""``BBAMHook``: when training of an mmdet two-stage detector ends, explain its boxes (BBAM, Lee et al.,
CVPR 2021) and write pseudo masks for the training set.

Mix it into any two-stage detector config::

    custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
    custom_hooks = [dict(type='BBAMHook', pipeline=bbam_pipeline, out_dir='data/VOCdevkit/VOC2012/bbam')]

``tools/bbam.py CONFIG CHECKPOINT`` runs the same generation from a checkpoint with these settings (read by
:func:`wsseg_mm.apis.bbam_settings`, without building the hook).
"""
import os.path as osp

import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ...apis.bbam import build_bbam_dataset, check_bbam_setup, generate_bbam_pseudo_labels, merge_bbam_settings
from ...apis.common import set_cpu_threads


@HOOKS.register_module()
class BBAMHook(Hook):
    """Generate BBAM pseudo masks with the trained detector after training.

    Its keyword arguments are the BBAM settings, with their defaults in :data:`wsseg_mm.apis.bbam.BBAM_DEFAULTS`:
    ``out_dir`` (default ``{work_dir}/bbam``: ``instances.json`` (COCO, ignore region per instance),
    ``semantic/*.png``, ``attributions/*.npz``, ``summary.json``), ``pipeline`` (the loading pipeline: image, boxes,
    resize, pack. Default: the training dataset's own pipeline without its random transforms, with a warning naming
    what was dropped; random transforms in a given pipeline are dropped too), ``dataset`` (default: the training set
    of the config without RepeatDataset / ClassBalancedDataset, each part of a ConcatDataset), ``explainer``
    (keyword arguments of :class:`wsseg_mm.models.bbam_explainer.BBAMExplainer`), ``crf``, ``fg_thr``, ``bg_thr``,
    ``proposals`` (post-processing, see :func:`wsseg_mm.apis.generate_bbam_pseudo_labels`), ``seed``
    (proposal-jitter seed) and ``limit`` (explain only the first images: a positive integer, or None for all; any
    other value is a ``ValueError`` when the hook is built, and checked again in ``before_train``).

    On CPU the generation runs with this process's share of the cores (:func:`wsseg_mm.apis.common.set_cpu_threads`;
    the training's thread count is restored afterwards): more busy threads than cores made BBAM about 25x slower.
    """
    priority = 'LOW'

    def __init__(self, **settings) -> None:
        self.settings = merge_bbam_settings(settings)

    def before_train(self, runner) -> None:
        """Fail now, not after hours of training: the settings, the proposal source, the dataset to explain (built,
        deterministic pipeline, unique names, first image loaded), the explainer's arguments, the detector and the
        output folder are checked (:func:`wsseg_mm.apis.bbam.check_bbam_setup`)."""
        self.settings = merge_bbam_settings(self.settings)  # settings changed since __init__ are checked too
        self._dataset = check_bbam_setup(runner.cfg, self.settings, self._detector(runner), self._out_dir(runner))
        runner.logger.info(f'BBAM: checked; after training it explains {self._describe(self._dataset)} into '
                           f'{self._out_dir(runner)}')

    def after_train(self, runner) -> None:
        dataset = getattr(self, '_dataset', None) or build_bbam_dataset(runner.cfg, self.settings)
        out_dir = self._out_dir(runner)
        training_threads = torch.get_num_threads()
        threads = set_cpu_threads()
        runner.logger.info(f'BBAM: explaining {self._describe(dataset)} into {out_dir}'
                           + ('' if torch.cuda.is_available() else f' ({threads} CPU threads)'))
        try:
            generate_bbam_pseudo_labels(self._detector(runner), dataset, out_dir, self.settings)
        finally:
            torch.set_num_threads(training_threads)

    def _describe(self, dataset) -> str:
        """``'N training images'`` with N the number explained: the dataset's size, or ``limit`` when smaller."""
        limit = self.settings['limit']
        count = len(dataset) if limit is None else min(limit, len(dataset))
        return f'{count} training images' + (f' (the first {count} of {len(dataset)}: limit={limit})'
                                              if count < len(dataset) else '')

    @staticmethod
    def _detector(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def _out_dir(self, runner) -> str:
        return self.settings['out_dir'] or osp.join(runner.work_dir, 'bbam')

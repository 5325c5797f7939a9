"""``BBAMHook``: when training of an mmdet two-stage detector ends, explain its boxes (BBAM, Lee et al.,
CVPR 2021) and write pseudo masks for the training set.

Mix it into any two-stage detector config::

    custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
    custom_hooks = [dict(type='BBAMHook', pipeline=bbam_pipeline, out_dir='data/VOCdevkit/VOC2012/bbam')]

``tools/bbam.py CONFIG CHECKPOINT`` runs the same generation from a checkpoint with these settings (read by
:func:`wsseg_mm.apis.bbam_settings`, without building the hook).
"""
import os.path as osp

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ...apis.bbam import build_bbam_dataset, check_bbam_proposals, generate_bbam_pseudo_labels, merge_bbam_settings


@HOOKS.register_module()
class BBAMHook(Hook):
    """Generate BBAM pseudo masks with the trained detector after training.

    Its keyword arguments are the BBAM settings, with their defaults in :data:`wsseg_mm.apis.bbam.BBAM_DEFAULTS`:
    ``out_dir`` (default ``{work_dir}/bbam``: ``instances.json`` (COCO, ignore region per instance),
    ``semantic/*.png``, ``attributions/*.npz``, ``summary.json``), ``pipeline`` (the loading pipeline: image, boxes,
    resize, pack; no random augmentation. Default: the training dataset's own pipeline, which is rarely what you
    want (random flips)), ``dataset`` (default: the training set of the config, unwrapped), ``explainer``
    (keyword arguments of :class:`wsseg_mm.models.bbam_explainer.BBAMExplainer`), ``crf``, ``fg_thr``, ``bg_thr``,
    ``proposals`` (post-processing, see :func:`wsseg_mm.apis.generate_bbam_pseudo_labels`), ``seed``
    (proposal-jitter seed) and ``limit`` (explain only the first images).
    """
    priority = 'LOW'

    def __init__(self, **settings) -> None:
        self.settings = merge_bbam_settings(settings)

    def before_train(self, runner) -> None:
        """Fail now, not after hours of training, when the configured MCG proposals are missing."""
        check_bbam_proposals(self.settings)

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        dataset = build_bbam_dataset(runner.cfg, self.settings)
        out_dir = self.settings['out_dir'] or osp.join(runner.work_dir, 'bbam')
        runner.logger.info(f'BBAM: explaining {len(dataset)} training images into {out_dir}')
        generate_bbam_pseudo_labels(model, dataset, out_dir, self.settings)

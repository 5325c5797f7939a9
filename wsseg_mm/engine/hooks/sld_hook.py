"""``SLDHook``: PSI's progressive label diffusion (Xu et al., ICCV 2021, Sec. 3.3) inside an mmseg training run.

The schedule is ``T + 1`` equal stages; stage ``t`` trains on the labels ``y_t`` (``LoadSLDLabels`` reads the step
from ``{sld_dir}/state.json`` at every sample, so persistent workers see the switch), and after each of the first
``T`` stages every training image is expanded to ``y_{t+1}`` (original size, no augmentation) through
:func:`wsseg_mm.apis.expand_training_labels`::

    custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
    custom_hooks = [dict(type='SLDHook', num_steps=3)]

``tools/psi/expand_labels.py CONFIG CHECKPOINT --step t`` runs the same expansion from a checkpoint, with the
settings this hook entry holds (:func:`wsseg_mm.apis.sld_settings`).
"""
import os.path as osp

from mmengine.dist import barrier, get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from ...apis.psi import (
    build_expansion_dataset,
    expand_training_labels,
    read_sld_state,
    sld_settings,
    stage_boundaries,
    step_at,
    step_dir,
    write_sld_state,
)


@HOOKS.register_module()
class SLDHook(Hook):
    """Expand the training labels after each of the first ``num_steps`` of ``num_steps + 1`` equal stages.

    Its keyword arguments are the SLD settings, defaults in :data:`wsseg_mm.apis.psi.SLD_DEFAULTS`:
    ``num_steps`` (``T``), ``sld_dir`` (default: that of the training pipeline's ``LoadSLDLabels``, which must
    agree) and ``gt_dir`` (full masks to score the labels with; default the dataset's ``seg_map_path``).

    Resuming at iteration ``i`` resumes at the step of ``i`` (the number of stage ends at or before it); the
    folder of that step must exist (an error otherwise: the labels the run trained on are gone). The hook runs
    before the checkpoint hook, so a checkpoint saved at a stage end follows the expansion.
    """
    priority = 'NORMAL'

    def __init__(self, **settings) -> None:
        self.given = settings
        self.settings = None
        self.boundaries = []
        self.dataset = None

    def _model(self, runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def before_train(self, runner) -> None:
        self.settings = sld_settings(runner.cfg, **self.given)
        self.boundaries = stage_boundaries(runner.max_iters, int(self.settings['num_steps']))
        sld_dir = self.settings['sld_dir']
        step = step_at(runner.iter, self.boundaries)
        if step > 0 and not osp.isdir(step_dir(sld_dir, step)):
            raise FileNotFoundError(f'SLDHook: resuming at iteration {runner.iter} (SLD step {step}), but the labels '
                                    f'of that step are missing: {step_dir(sld_dir, step)}')
        rank, world_size = get_dist_info()
        previous = read_sld_state(sld_dir)['step']
        if previous != step and runner.iter < 2 * max(1, runner.train_dataloader.num_workers):
            runner.logger.warning(f'SLDHook: {sld_dir}/state.json was at step {previous}; the batches the dataloader '
                                  f'workers prefetched before this hook ran may carry that step')
        if rank == 0:
            write_sld_state(sld_dir, step)
        if world_size > 1:
            barrier()
        self._model(runner).sld_step = step
        runner.logger.info(f'SLDHook: step {step} at iteration {runner.iter}; expansions after iterations '
                           f'{self.boundaries}; labels under {sld_dir}')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        done = runner.iter + 1
        if done not in self.boundaries:
            return
        step = self.boundaries.index(done)
        if self.dataset is None:
            self.dataset = build_expansion_dataset(runner.cfg, self.settings)
        model = self._model(runner)
        runner.logger.info(f'SLDHook: expanding {len(self.dataset)} training images to step {step + 1}')
        summary = expand_training_labels(model, self.dataset, self.settings['sld_dir'], step,
                                         gt_dir=self.settings['gt_dir'], overwrite=True)
        model.sld_step = step + 1
        runner.message_hub.update_info('sld_step', step + 1)
        if summary is not None:
            runner.message_hub.update_scalar('train/sld_labelled_fraction', summary['labelled_fraction'])
            if summary['accuracy'] is not None:
                runner.message_hub.update_scalar('train/sld_accuracy', summary['accuracy'])

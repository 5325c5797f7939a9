"""``WeakLabelChecksHook``: checks of a training config that would otherwise fail silently, run before training.

``import wsseg_mm`` adds it to every ``Runner`` (the ``default_checks`` patch of :mod:`wsseg_mm.compat`), so it
also serves the stock ``tools/train.py`` of mmseg / mmdet with ``custom_imports=['wsseg_mm']``. It only warns
(once per process and setting), and never changes the run:

* **partial labels with a loss averaged over all pixels**: a training set whose labels leave many pixels ignored
  (ScribbleSup scribbles, pseudo labels with 255 regions) trained with mmseg's ``CrossEntropyLoss`` and
  ``avg_non_ignore=False`` (mmseg's default) divides the loss by every pixel, ignored ones included: on the toy
  scribbles the demo's FCN drops from 46.45 to 19.25 mIoU. The warning names the config keys to set.
* **a data root that does not reach the datasets**: ``data_root`` / ``toy_root`` set in the config file itself
  while its ``_base_`` files already used theirs (their datasets were filled in when the base was parsed), so the
  override changes nothing. The warning names the keys that do work.
"""
import os.path as osp
import warnings
from typing import Iterator, List, Tuple

import numpy as np
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

# labels with at least this share of ignored pixels are partial (full VOC masks: ~5-8%, the 255 boundary band)
PARTIAL_LABEL_SHARE = 0.15
# label maps read to estimate a dataset's ignored share
LABELS_SAMPLED = 8
_WARNED = set()

__all__ = ['WeakLabelChecksHook', 'partial_label_datasets', 'losses_averaged_over_all_pixels', 'check_partial_loss',
           'check_data_roots']


def _warn_once(message: str, logger=None) -> None:
    if message in _WARNED:
        return
    _WARNED.add(message)
    warnings.warn(message, UserWarning, stacklevel=3)
    if logger is not None:
        logger.warning(message)


def dataset_parts(dataset) -> Iterator:
    """The innermost datasets of a built dataset: through ``dataset`` (Repeat / ClassBalanced) and ``datasets``
    (Concat) wrappers."""
    inner = getattr(dataset, 'datasets', None)
    if inner is not None:
        for part in inner:
            yield from dataset_parts(part)
    elif getattr(dataset, 'dataset', None) is not None and not hasattr(dataset, 'load_data_list'):
        yield from dataset_parts(dataset.dataset)
    else:
        yield dataset


def _ignored_share(dataset, ignore_index: int = 255) -> float:
    """Mean share of ignored pixels over the first label maps (``seg_map_path``) of an mmseg dataset; 0 without
    label maps."""
    from PIL import Image
    shares = []
    for i in range(min(LABELS_SAMPLED, len(dataset))):
        path = dataset.get_data_info(i).get('seg_map_path')
        if not path or not osp.exists(path):
            return 0.0
        label = np.asarray(Image.open(path))
        shares.append(float((label == ignore_index).mean()))
    return float(np.mean(shares)) if shares else 0.0


def partial_label_datasets(dataset) -> List[Tuple[str, str]]:
    """``(dataset type, why)`` for each part of a training set whose labels leave many pixels ignored: a dataset
    class that says so (``PARTIAL_LABELS = True``: scribbles) or label maps with at least
    :data:`PARTIAL_LABEL_SHARE` of 255 (pseudo labels)."""
    found = []
    for part in dataset_parts(dataset):
        name = type(part).__name__
        if getattr(part, 'PARTIAL_LABELS', False):
            found.append((name, 'sparse labels'))
            continue
        try:
            share = _ignored_share(part)
        except Exception:  # an unreadable label is the pipeline's error to report, not this check's
            continue
        if share >= PARTIAL_LABEL_SHARE:
            found.append((name, f'{share:.0%} of the pixels of its first label maps are ignored (255)'))
    return found


def losses_averaged_over_all_pixels(model) -> List[str]:
    """Config keys (``model.decode_head.loss_decode.avg_non_ignore``) of the mmseg cross-entropy losses of a model
    that average over all pixels, ignored ones included."""
    model = model.module if is_model_wrapper(model) else model
    keys = []
    for name, module in model.named_modules():
        losses = getattr(module, 'loss_decode', None)
        if losses is None:
            continue
        many = isinstance(losses, (list, tuple)) or type(losses).__name__ == 'ModuleList'
        for i, loss in enumerate(losses if many else [losses]):
            if hasattr(loss, 'avg_non_ignore') and not loss.avg_non_ignore:
                keys.append('.'.join(['model', name, 'loss_decode'] + [str(i)] * many + ['avg_non_ignore']))
    return keys


def check_partial_loss(model, dataset, logger=None) -> List[str]:
    """Warn (once) when partial labels are trained with losses averaged over all pixels; returns the keys."""
    keys = losses_averaged_over_all_pixels(model)
    if not keys:
        return []
    partial = partial_label_datasets(dataset)
    if not partial:
        return []
    what = '; '.join(f'{name}: {why}' for name, why in partial)
    _warn_once(f'the training labels leave most pixels ignored ({what}), but the loss is averaged over all pixels, '
               f'ignored ones included, which weakens it (the toy scribbles: 46.45 -> 19.25 mIoU). Set '
               f'{", ".join(k + "=True" for k in keys)} (partial cross-entropy)', logger)
    return keys


def _dataset_roots(cfg) -> List[Tuple[str, str]]:
    """``(config key, data_root)`` of every dataset of the config's dataloaders, wrappers and parts included."""
    roots = []

    def walk(node, key):
        if not isinstance(node, dict):
            return
        if isinstance(node.get('data_root'), str):
            roots.append((key + '.data_root', node['data_root']))
        if isinstance(node.get('dataset'), dict):
            walk(node['dataset'], key + '.dataset')
        for i, part in enumerate(node.get('datasets') or []):
            walk(part, f'{key}.datasets.{i}')

    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if isinstance(loader, dict):
            walk(loader.get('dataset'), f'{split}_dataloader.dataset')
    return roots


def _assigned_here(filename) -> set:
    """Names assigned at the top level of a config file itself (not by its bases)."""
    import ast
    if not filename or not str(filename).endswith('.py') or not osp.isfile(filename):
        return set()
    try:
        tree = ast.parse(open(filename).read())
    except SyntaxError:
        return set()
    return {target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets
            if isinstance(target, ast.Name)}


def check_data_roots(cfg, logger=None) -> List[str]:
    """Warn (once) when the config file itself sets ``data_root`` / ``toy_root`` and the value reaches none of its
    datasets (its bases substituted their own when parsed); returns the keys that do set the datasets' roots."""
    roots = _dataset_roots(cfg)
    own = _assigned_here(getattr(cfg, 'filename', None))
    if not roots or not own:
        return []
    for var in ('data_root', 'toy_root'):
        value = cfg.get(var)
        if var not in own or not isinstance(value, str):
            continue
        value = value.rstrip('/')
        if any(root.rstrip('/').startswith(value) for _, root in roots):
            continue
        keys = [key for key, _ in roots]
        _warn_once(f'{var} = {value!r} in {osp.basename(cfg.filename)} reaches none of its datasets (they read '
                   f'{sorted(set(r for _, r in roots))}): the _base_ files substituted their own {var} when they '
                   f'were parsed, so setting it in a child config changes nothing. Set the datasets\' keys instead, '
                   f'in the config or with --cfg-options: {", ".join(keys)}', logger)
        return keys
    return []


@HOOKS.register_module()
class WeakLabelChecksHook(Hook):
    """Warn before training about settings that would silently spoil it (see the module's docstring). Added to
    every runner by ``import wsseg_mm``; only warns."""
    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        check_data_roots(runner.cfg, runner.logger)
        check_partial_loss(runner.model, runner.train_dataloader.dataset, runner.logger)

"""PSI (Xu et al., ICCV 2021) label diffusion: the library API that the hook (``SLDHook``), the tools
(``tools/psi/*``), the benchmark and the pictures call to grow the scribbles, step by step (Sec. 3.3).

* per image, :func:`sld_expand_image`: a trained :class:`~wsseg_mm.models.PSISegmentor`, one packed sample (the
  image at its original size) and its current labels ``y_t`` -> ``y_{t+1}`` (Eq. 5-9), its labelled fraction and
  the per-class statistics;
* per dataset, :func:`expand_training_labels`: ``{sld_dir}/step_{t+1}/<name>.png`` for this rank's share of the
  images (resumable: :func:`~wsseg_mm.apis.common.run_per_image`; atomic writes), then, after a barrier, rank 0
  scores the new labels (labelled fraction, and accuracy where ground truth exists) and writes
  ``{sld_dir}/state.json`` (``{"step": t + 1, "history": [...]}``), which ``LoadSLDLabels`` reads.

Settings have one home each. The SLD constants of the model (``r_0`` of the growing dilation, ``k`` of Eq. 9)
are :class:`~wsseg_mm.models.PSISegmentor` arguments, defaulting to the functional constants
(:data:`~wsseg_mm.functional.psi.SLD_BASE_RADIUS`, :data:`~wsseg_mm.functional.psi.SLD_STEEPNESS`): the training
loss and the expansion read them from the same model. The schedule and the files are :data:`SLD_DEFAULTS`,
overridden by the ``SLDHook`` entry of the config's ``custom_hooks`` and then by command-line options
(:func:`sld_settings`); ``sld_dir`` defaults to that of the training pipeline's ``LoadSLDLabels`` (where the
training reads the labels), so it is written once too.
"""
import json
import os
import os.path as osp
import shutil
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.logging import print_log

from wsseg_mm.fileio.labels import atomic_write_bytes, load_label_png, save_label_png

from ..functional.metrics import confusion_matrix, pixel_accuracy
from ..functional.psi import decode_sld_labels, sld_expand
from .common import image_name, preprocess_one, run_per_image

__all__ = [
    'SLD_DEFAULTS', 'sld_settings', 'find_sld_loader', 'stage_boundaries', 'step_at', 'step_dir', 'sld_label_path',
    'read_sld_state', 'write_sld_state', 'build_expansion_dataset', 'current_labels', 'load_ground_truth',
    'sld_label_stats', 'sld_expand_image', 'expand_training_labels'
]

# The SLD schedule (ours; the paper uses T = 3 steps, its Table 6): T + 1 equal stages of training, the labels
# expanded after each of the first T. ``sld_dir``: None = that of the training pipeline's LoadSLDLabels;
# ``gt_dir``: a folder of full masks ``<name>.png`` to score the labels (None = the dataset's ``seg_map_path``
# where it has one; the labels are scored where the file exists).
SLD_DEFAULTS = dict(num_steps=3, sld_dir=None, gt_dir=None)
STATE_FILE = 'state.json'


# ---------------------------------------------------------------------------------------------------- settings
def find_sld_loader(pipeline: Sequence[dict]) -> Optional[dict]:
    """The ``LoadSLDLabels`` entry of a pipeline config, or None."""
    for transform in pipeline or ():
        if transform.get('type') in ('LoadSLDLabels', 'mmseg.LoadSLDLabels'):
            return transform
    return None


def _train_dataset_cfg(cfg) -> dict:
    """The training dataset config, unwrapped from dataset wrappers (``RepeatDataset``, ...)."""
    dataset = cfg.train_dataloader.dataset
    while 'dataset' in dataset and 'pipeline' not in dataset:
        dataset = dataset['dataset']
    return dataset


def sld_settings(cfg=None, **overrides) -> dict:
    """:data:`SLD_DEFAULTS`, then the ``SLDHook`` entry of ``cfg.custom_hooks`` (if any), then the ``overrides``
    that are not None; ``sld_dir`` left None becomes that of the training pipeline's ``LoadSLDLabels``.

    Raises:
        KeyError: unknown keys (naming them); ValueError: no ``sld_dir`` anywhere, ``num_steps < 0``, or an
        ``sld_dir`` other than the one the training pipeline reads.
    """
    settings = dict(SLD_DEFAULTS)
    given = {}
    if cfg is not None:
        for hook in cfg.get('custom_hooks', None) or ():
            if hook.get('type') in ('SLDHook', 'mmseg.SLDHook'):
                given.update({k: v for k, v in hook.items() if k not in ('type', 'priority')})
    given.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(given) - set(settings))
    if unknown:
        raise KeyError(f'SLD settings: unknown keys {unknown} (known: {sorted(settings)})')
    settings.update(given)
    loader = find_sld_loader(_train_dataset_cfg(cfg).get('pipeline')) if cfg is not None else None
    pipeline_dir = loader.get('sld_dir') if loader else None
    if settings['sld_dir'] is None:
        settings['sld_dir'] = pipeline_dir
    if settings['sld_dir'] is None:
        raise ValueError('SLD settings: no sld_dir (give it, or a LoadSLDLabels(sld_dir=...) in the training '
                         'pipeline)')
    if pipeline_dir is not None and osp.normpath(pipeline_dir) != osp.normpath(settings['sld_dir']):
        raise ValueError(f'SLD settings: sld_dir {settings["sld_dir"]!r} is not the {pipeline_dir!r} the training '
                         'pipeline (LoadSLDLabels) reads')
    if int(settings['num_steps']) < 0:
        raise ValueError(f'num_steps must be >= 0, got {settings["num_steps"]}')
    return settings


def stage_boundaries(max_iters: int, num_steps: int) -> List[int]:
    """The iterations after which the labels are expanded: ``T + 1`` equal stages of ``max_iters``, an
    expansion after each of the first ``T`` (``[250, 500, 750]`` for 1000 iterations and ``T = 3``)."""
    if num_steps < 0 or max_iters < num_steps + 1:
        raise ValueError(f'{max_iters} iterations cannot hold {num_steps + 1} stages')
    return [round(max_iters * (t + 1) / (num_steps + 1)) for t in range(num_steps)]


def step_at(iteration: int, boundaries: Sequence[int]) -> int:
    """The SLD step a run trains on after ``iteration`` finished iterations (the number of expansions done)."""
    return sum(1 for b in boundaries if b <= iteration)


# ------------------------------------------------------------------------------------------------------ files
def step_dir(sld_dir: str, step: int) -> str:
    return osp.join(sld_dir, f'step_{step}')


def sld_label_path(sld_dir: str, step: int, name: str) -> str:
    """``{sld_dir}/step_{step}/<name>.png``, where ``LoadSLDLabels`` reads ``y_step``."""
    return osp.join(step_dir(sld_dir, step), name + '.png')


def read_sld_state(sld_dir: str) -> dict:
    """``{sld_dir}/state.json`` (``{"step": 0, "history": []}`` when there is none)."""
    path = osp.join(sld_dir, STATE_FILE)
    if not osp.exists(path):
        return dict(step=0, history=[])
    with open(path) as f:
        state = json.load(f)
    state.setdefault('history', [])
    return state


def write_sld_state(sld_dir: str, step: int, summary: Optional[dict] = None) -> dict:
    """Set the step of ``{sld_dir}/state.json`` (atomically), keeping the history of the steps below it and
    appending ``summary``; returns the state."""
    state = read_sld_state(sld_dir)
    history = [h for h in state['history'] if h.get('step', 0) < step or (summary is None and h.get('step') == step)]
    if summary is not None:
        history.append(dict(summary, step=step))
    state = dict(step=int(step), history=history)
    atomic_write_bytes(osp.join(sld_dir, STATE_FILE), json.dumps(state, indent=1).encode())
    return state


# ---------------------------------------------------------------------------------------------------- dataset
def build_expansion_dataset(cfg, settings: Optional[dict] = None):
    """The training set (unwrapped) with the pipeline of an expansion: image and scribbles at their original
    size, no augmentation (``LoadImageFromFile``, ``LoadSLDLabels`` without ``sld_dir``, ``PackWeakSegInputs``)."""
    from mmengine.registry import DATASETS, DefaultScope
    dataset = _train_dataset_cfg(cfg).copy()
    loader = find_sld_loader(dataset.get('pipeline')) or {}
    load = dict(type='LoadSLDLabels', sld_dir=None)
    for key in ('stroke_width', 'classes', 'ignore_index'):
        if key in loader:
            load[key] = loader[key]
    dataset['pipeline'] = [
        dict(type='LoadImageFromFile'), load,
        dict(type='PackWeakSegInputs', meta_keys=('img_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor',
                                                  'flip', 'flip_direction', 'reduce_zero_label'))
    ]
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        return DATASETS.build(dataset)


def current_labels(sample: dict, sld_dir: str, step: int, name: str, ignore_index: int = 255) -> np.ndarray:
    """``y_t`` of one image: its scribbles (from the packed sample's label codes) at step 0, else
    ``{sld_dir}/step_{t}/<name>.png``, which must exist. (H, W) uint8."""
    if step == 0:
        codes = sample['data_samples'].gt_sem_seg.data[0]
        return decode_sld_labels(codes, ignore_index)[1].numpy().astype(np.uint8)
    path = sld_label_path(sld_dir, step, name)
    if not osp.exists(path):
        raise FileNotFoundError(f'no SLD labels of step {step} for {name}: {path}')
    return load_label_png(path)


def load_ground_truth(data_info: dict, gt_dir: Optional[str] = None) -> Optional[np.ndarray]:
    """The full mask of an image (``gt_dir/<name>.png``, else its ``seg_map_path``), None where there is none."""
    path = osp.join(gt_dir, image_name(data_info) + '.png') if gt_dir else data_info.get('seg_map_path')
    if not path or not osp.exists(path):
        return None
    return load_label_png(path)


# ------------------------------------------------------------------------------------------------- per image
@contextmanager
def _inference_mode(model):
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(training)


def sld_label_stats(labels: np.ndarray, gt: Optional[np.ndarray], num_classes: int,
                    ignore_index: int = 255) -> dict:
    """``labelled`` and ``pixels`` counts of a label map and, with its full mask ``gt``, the confusion matrix
    ``cm`` (C, C) of the labelled pixels (:func:`~wsseg_mm.functional.metrics.confusion_matrix`), else None."""
    stats = dict(labelled=int((labels != ignore_index).sum()), pixels=int(labels.size), cm=None)
    if gt is not None:
        if gt.shape != labels.shape:
            raise ValueError(f'ground truth of shape {gt.shape} for labels of shape {labels.shape}')
        stats['cm'] = confusion_matrix(labels, gt, num_classes, ignore_index)
    return stats


def sld_expand_image(model, sample: dict, labels: np.ndarray, step: int) -> dict:
    """One SLD step (Eq. 5-9) of one image with a trained :class:`~wsseg_mm.models.PSISegmentor`.

    Args:
        model: the segmentor (its ``g``, ``r_0``, ``k`` and test mode); switched to eval for the call.
        sample: a packed sample of the image at its original size (:func:`build_expansion_dataset`).
        labels: (H, W) current labels ``y_t`` (255 = unlabelled; :func:`current_labels`).
        step: ``t`` (sets the radius of ``Omega_c``).

    Returns:
        dict with ``labels`` (H, W) uint8 ``y_{t+1}``, ``prediction`` (H, W) uint8 arg-max of ``M``,
        ``labelled_fraction`` (of ``y_{t+1}``), ``added`` (pixels added), and per class of ``y_t``: ``classes``,
        ``mean``, ``variance``, ``gamma`` (lists).
    """
    ignore_index = model.ignore_index
    height, width = labels.shape
    with _inference_mode(model):
        data = preprocess_one(model, sample)
        metas = [s.metainfo for s in data['data_samples']]
        logits = model.inference(data['inputs'], metas)[0, :, :height, :width].float()
        if logits.shape[-2:] != labels.shape:
            raise ValueError(f'prediction of size {tuple(logits.shape[-2:])} for labels of size {labels.shape}')
        probs = logits.softmax(0)
        current = torch.from_numpy(labels.astype(np.int64))
        decided = model.sld_decide(probs, current, step)
        expanded = sld_expand(probs, current, decided.classes, decided.regions, decided.gamma, ignore_index)
    new = expanded.numpy().astype(np.uint8)
    return dict(labels=new, prediction=probs.argmax(0).numpy().astype(np.uint8),
                labelled_fraction=float((new != ignore_index).mean()),
                added=int(((new != ignore_index) & (labels == ignore_index)).sum()),
                classes=decided.classes.tolist(), mean=decided.mean.tolist(),
                variance=decided.variance.tolist(), gamma=decided.gamma.tolist())


# ----------------------------------------------------------------------------------------------- per dataset
def _summarise(dataset, names: Sequence[str], index: Dict[str, int], sld_dir: str, step: int,
               gt_dir: Optional[str], ignore_index: int) -> dict:
    """Labelled fraction and (where masks exist) accuracy of the labels of ``step`` over all images."""
    num_classes = len(dataset.metainfo['classes'])
    labelled = pixels = scored = 0
    cm = np.zeros((num_classes, num_classes), np.int64)
    for name in names:
        labels = load_label_png(sld_label_path(sld_dir, step, name))
        stats = sld_label_stats(labels, load_ground_truth(dataset.get_data_info(index[name]), gt_dir), num_classes,
                                ignore_index)
        labelled, pixels = labelled + stats['labelled'], pixels + stats['pixels']
        if stats['cm'] is not None:
            cm += stats['cm']
            scored += 1
    return dict(images=len(names), labelled_fraction=labelled / max(pixels, 1),
                accuracy=pixel_accuracy(cm) if scored else None, scored_images=scored)


def expand_training_labels(model, dataset, sld_dir: str, step: int, gt_dir: Optional[str] = None,
                           overwrite: bool = False, write_state: bool = True) -> dict:
    """Expand the labels of every image of ``dataset`` from step ``t = step`` to ``t + 1``.

    Writes ``{sld_dir}/step_{t+1}/<name>.png`` (:func:`sld_expand_image` of ``y_t`` from :func:`current_labels`)
    for this rank's share of the images, skipping those already written (resumable) unless ``overwrite`` (rank 0
    then first empties the folder: a hook expanding with a newly trained model). After a barrier, rank 0 scores
    the new labels and, with ``write_state``, writes ``{sld_dir}/state.json`` at step ``t + 1``; every rank waits
    for it.

    Args:
        model: a trained :class:`~wsseg_mm.models.PSISegmentor` (unwrapped).
        dataset: :func:`build_expansion_dataset` (original sizes, no augmentation).
        gt_dir: full masks to score the labels (see :func:`load_ground_truth`).

    Returns:
        the summary of step ``t + 1`` (``images``, ``labelled_fraction``, ``accuracy`` (None without masks),
        ``scored_images``, ``step``) on rank 0, and on every rank when ``write_state`` (read back from the state).
    """
    rank, world_size = get_dist_info()
    ignore_index = model.ignore_index
    index = {image_name(dataset.get_data_info(i)): i for i in range(len(dataset))}
    names = sorted(index)
    if overwrite and rank == 0 and osp.isdir(step_dir(sld_dir, step + 1)):
        shutil.rmtree(step_dir(sld_dir, step + 1))
    if world_size > 1:
        barrier()
    os.makedirs(step_dir(sld_dir, step + 1), exist_ok=True)

    def process(name: str) -> None:
        sample = dataset[index[name]]
        result = sld_expand_image(model, sample, current_labels(sample, sld_dir, step, name, ignore_index), step)
        save_label_png(sld_label_path(sld_dir, step + 1, name), result['labels'])

    run_per_image(names, process, lambda n: [sld_label_path(sld_dir, step + 1, n)], desc=f'SLD step {step + 1}')
    summary = None
    if rank == 0:
        summary = dict(_summarise(dataset, names, index, sld_dir, step + 1, gt_dir, ignore_index), step=step + 1)
        if write_state:
            write_sld_state(sld_dir, step + 1, summary)
        accuracy = 'n/a' if summary['accuracy'] is None else f'{summary["accuracy"]:.4f}'
        print_log(f'SLD step {step + 1}: {summary["images"]} images, labelled fraction '
                  f'{summary["labelled_fraction"]:.4f}, accuracy {accuracy} ({summary["scored_images"]} with masks)',
                  logger='current')
    if world_size > 1:
        barrier()
        if rank != 0:
            summary = read_sld_state(sld_dir)['history'][-1] if write_state else None
    return summary

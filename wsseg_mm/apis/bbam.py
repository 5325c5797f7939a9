"""BBAM (Lee et al., CVPR 2021) pseudo masks from boxes: the library API that ``BBAMHook`` runs after training,
``tools/bbam.py`` runs from a checkpoint, and the benchmark and the pictures reuse.

Two stages per image, each resumable on its own:

1. :func:`explain_sample`, saved as ``attributions/<name>.npz``: the attribution map of every box at the image's
   original resolution (float16), the boxes (original pixels), labels, positives and timing. The expensive part.
2. :func:`bbam_image_labels`, saved as ``instances/<name>.json`` (a one-image COCO fragment) and
   ``semantic/<name>.png``: post-processing (box, CRF, thresholds, optional mask proposals), always from what stage
   1 saved (the float16 maps), so a run interrupted between the two stages writes the same bytes as one that was
   not. Cheap, and redone from the saved maps when only the post-processing settings change.

``manifest.json`` in the output folder records what made the outputs (:func:`~wsseg_mm.apis.common.prepare_outputs`):
stage 1 (the detector's weights, its test settings, the explainer's settings, the seed, batched or not, the loading
pipeline) and stage 2 (``crf``, ``fg_thr``, ``bg_thr``, ``proposals``). A rerun resumes when both match, redoes stage 2
for every image when only its settings changed, and refuses anything else (another detector, other explainer
settings) with the differences, unless ``overwrite`` starts over.

:func:`generate_bbam_pseudo_labels` runs both over a dataset; at the end rank 0 merges the fragments, in dataset
order, into ``instances.json`` and writes ``summary.json``.

The settings have one home, :data:`BBAM_DEFAULTS`; a config sets them in its ``BBAMHook`` entry of
``custom_hooks``, which :func:`bbam_settings` reads as plain settings (no hook is built).
"""
import copy
import json
import os
import os.path as osp
import warnings
import zlib
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dist import get_dist_info
from mmengine.logging import print_log

from wsseg_mm.fileio.labels import atomic_save_npz, atomic_write_bytes, load_npz, save_label_png
from wsseg_mm.fileio.proposals import load_mcg_proposals, load_rle_proposals

from ..functional.bbam import attribution_to_mask
from ..functional.box_masks import (
    SegmentProposals,
    box_to_mask,
    instances_to_semantic,
    refine_with_proposals,
    skimage_segment_proposals,
)
from ..models.bbam_explainer import BBAMExplainer
from .common import (
    MANIFEST,
    Stage,
    checkpoint_info,
    image_name,
    merge_coco_fragments,
    model_fingerprint,
    pipeline_description,
    prepare_outputs,
    preprocess_one,
    read_rgb,
    run_per_image,
    write_coco_fragment,
)

__all__ = [
    'BBAM_DEFAULTS', 'RANDOM_TRANSFORMS', 'merge_bbam_settings', 'bbam_settings', 'is_random_transform',
    'deterministic_pipeline', 'bbam_dataset_parts', 'bbam_dataset_cfg', 'build_bbam_dataset', 'bbam_image_names',
    'check_bbam_proposals', 'check_bbam_out_dir', 'check_bbam_detector', 'check_bbam_setup', 'load_sample',
    'image_seed', 'explain_sample', 'load_proposals', 'load_attributions', 'postprocess_image',
    'semantic_from_instances', 'bbam_image_labels', 'bbam_stages', 'generate_bbam_pseudo_labels',
    'merge_bbam_outputs'
]

# Every BBAM setting and its default (the paper's thresholds: foreground above 0.8, undecided from 0.2):
#   out_dir: output folder (None: {work_dir}/bbam); pipeline: the loading pipeline (image, boxes, resize, pack; no
#   random augmentation; None: the training dataset's own without its random transforms, see
#   deterministic_pipeline); dataset: the dataset config to explain (None: the config's training set, unwrapped, each
#   part of a ConcatDataset explained); explainer: keyword arguments of BBAMExplainer (its paper defaults); crf:
#   keyword arguments of the dense CRF ({}: its defaults; None: no CRF); fg_thr / bg_thr: thresholds on the
#   refined attribution; proposals: mask-proposal source (dict(type='skimage', ...), dict(type='mcg', dir=...),
#   dict(type='rle', file=...) or None); seed: proposal-jitter seed; limit: only the first images (quick looks; None:
#   all, else 1 or more); overwrite: delete the outputs out_dir holds and start over (else a rerun resumes, redoes
#   the post-processing when only its settings changed, and refuses outputs made otherwise, see prepare_outputs).
BBAM_DEFAULTS = dict(out_dir=None, pipeline=None, dataset=None, explainer=dict(), crf=dict(), fg_thr=0.8, bg_thr=0.2,
                     proposals=None, seed=0, limit=None, overwrite=False)

# dataset wrappers whose inner dataset is the one to explain (repeating it would explain images twice)
_WRAPPERS = ('RepeatDataset', 'ClassBalancedDataset')

# transforms that draw random numbers: explained with them, a box or mask would be mirrored / shifted / cropped
# with respect to the annotation it is saved against. RandomResize becomes a Resize at its nominal scale; the rest
# are dropped (any transform whose type starts with "Random" or "Cached" is treated as random too).
RANDOM_TRANSFORMS = frozenset({
    'RandomFlip', 'RandomResize', 'RandomChoiceResize', 'RandomCrop', 'RandomChoice', 'RandomApply',
    'RandomShift', 'RandomAffine', 'RandomCenterCropPad', 'RandomErasing', 'RandomOrder', 'RandomRotate',
    'RandomGrayscale', 'RandomCutOut', 'RandomMosaic', 'RandomRotFlip', 'PhotoMetricDistortion', 'Expand',
    'MinIoURandomCrop', 'Corrupt', 'Albu', 'AutoAugment', 'RandAugment', 'Mosaic', 'MixUp', 'CachedMosaic',
    'CachedMixUp', 'CopyPaste', 'CutOut', 'YOLOXHSVRandomAug', 'BioMedicalRandomGamma', 'RandomSizedCrop'
})
# transforms that change the image geometry: LoadAnnotations must come before them so the boxes follow the image
_GEOMETRIC = ('Resize', 'FixShapeResize', 'RandomResize', 'RandomChoiceResize', 'RandomCrop', 'RandomFlip')


def _type_name(transform: dict) -> str:
    kind = transform.get('type')
    return kind if isinstance(kind, str) else getattr(kind, '__name__', str(kind))


def is_random_transform(transform: dict) -> bool:
    """Whether a transform config draws random numbers (see :data:`RANDOM_TRANSFORMS`)."""
    name = _type_name(transform).split('.')[-1]
    return name in RANDOM_TRANSFORMS or name.startswith(('Random', 'Cached'))


def deterministic_pipeline(pipeline: Sequence[dict], where: str = 'pipeline') -> List[dict]:
    """``pipeline`` without its random transforms, checked for what BBAM needs, with a warning naming what changed.

    BBAM saves each box and mask against the annotation in original pixels, undoing only the resize
    (``scale_factor``): a flip, crop or colour jitter would silently corrupt the pseudo masks. ``RandomResize``
    with one ``scale`` becomes ``Resize`` at that scale (keeping ``keep_ratio``); the other random transforms are
    dropped. Raises ``ValueError`` when the result cannot give BBAM boxes in step with the image: no
    ``LoadAnnotations`` with boxes, one after a resize (the boxes would stay in original pixels while
    ``scale_factor`` says otherwise), or no ``PackDetInputs``.
    """
    kept, dropped, replaced = [], [], []
    for transform in pipeline:
        transform = dict(transform)
        name = _type_name(transform).split('.')[-1]
        if name == 'RandomResize' and _single_scale(transform.get('scale')):
            kept.append(dict(type='Resize', scale=tuple(transform['scale']),
                             keep_ratio=transform.get('keep_ratio', False)))
            replaced.append(f'RandomResize -> Resize(scale={tuple(transform["scale"])})')
        elif is_random_transform(transform):
            dropped.append(name)
        else:
            kept.append(transform)
    names = [_type_name(t).split('.')[-1] for t in kept]
    fix = ('give BBAMHook(pipeline=[LoadImageFromFile, LoadAnnotations(with_bbox=True), Resize(...), '
           'PackDetInputs]) (see configs/bbam/faster_rcnn_voc.py)')
    loads = [i for i, t in enumerate(kept) if names[i] == 'LoadAnnotations' and t.get('with_bbox', True)]
    if not loads:
        raise ValueError(f'BBAM: the {where} loads no boxes (no LoadAnnotations with with_bbox=True): {fix}')
    first_geometric = next((i for i, n in enumerate(names) if n in _GEOMETRIC), len(names))
    if loads[0] > first_geometric:
        raise ValueError(f'BBAM: in the {where}, LoadAnnotations comes after {names[first_geometric]}: the boxes '
                         'would stay in original pixels while the image is resized (a test pipeline\'s order); '
                         f'{fix}')
    if 'PackDetInputs' not in names:
        raise ValueError(f'BBAM: the {where} has no PackDetInputs: {fix}')
    if dropped or replaced:
        changes = ', '.join([f'dropped {", ".join(dropped)}'] * bool(dropped) + replaced)
        message = (f'BBAM: the {where} holds random transforms; BBAM explains every image as annotated, so: '
                   f'{changes}. Give BBAMHook(pipeline=...) to choose it yourself')
        warnings.warn(message)
        print_log(message, logger='current', level=30)
    return kept


def _single_scale(scale) -> bool:
    return isinstance(scale, (tuple, list)) and len(scale) == 2 and all(isinstance(v, (int, float)) for v in scale)


def merge_bbam_settings(given: Optional[dict] = None) -> dict:
    """``given`` over :data:`BBAM_DEFAULTS` (deep copies); unknown keys raise a ``TypeError`` naming them, a
    ``limit`` that is not None or a positive integer a ``ValueError``."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(BBAM_DEFAULTS))
    if unknown:
        raise TypeError(f'BBAM: unknown settings {unknown} (known: {sorted(BBAM_DEFAULTS)})')
    settings = copy.deepcopy(BBAM_DEFAULTS)
    settings.update(copy.deepcopy(given))
    settings['explainer'] = dict(settings['explainer'] or {})
    limit = settings['limit']
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
        raise ValueError(f'BBAM: limit={limit!r}: give a positive number of images (1 or more), or None for all')
    return settings


def bbam_settings(cfg) -> dict:
    """The settings of a config's ``BBAMHook`` entry in ``custom_hooks`` (over :data:`BBAM_DEFAULTS`), read as a
    plain dict: no hook is built. A config without one gets the defaults."""
    for entry in cfg.get('custom_hooks', None) or []:
        kind = entry.get('type')
        if kind == 'BBAMHook' or getattr(kind, '__name__', None) == 'BBAMHook':
            return merge_bbam_settings({k: v for k, v in dict(entry).items() if k not in ('type', 'priority')})
    return merge_bbam_settings()


def bbam_dataset_parts(train_dataset: dict) -> List[dict]:
    """The dataset configs BBAM explains for a training set config: repetition wrappers (``RepeatDataset``,
    ``ClassBalancedDataset``) removed, each part of a ``ConcatDataset`` on its own (nested ones too), so every
    training image is explained exactly once."""
    cfg = copy.deepcopy(dict(train_dataset))
    while cfg.get('type') in _WRAPPERS:
        cfg = copy.deepcopy(dict(cfg['dataset']))
    if cfg.get('type') == 'ConcatDataset':
        return [part for inner in cfg['datasets'] for part in bbam_dataset_parts(inner)]
    return [cfg]


def bbam_dataset_cfg(train_dataset: dict, pipeline: Optional[Sequence[dict]] = None) -> dict:
    """The training dataset config without repetition wrappers, with the BBAM pipeline: ``pipeline`` when given,
    else the dataset's own, made deterministic (:func:`deterministic_pipeline`). A ``ConcatDataset`` gives a
    ``ConcatDataset`` of its parts, each treated so."""
    parts = bbam_dataset_parts(train_dataset)
    for i, part in enumerate(parts):
        where = 'BBAMHook pipeline' if pipeline is not None else \
            f'training pipeline{f" of dataset part {i}" if len(parts) > 1 else ""} (BBAMHook pipeline=None)'
        part['pipeline'] = deterministic_pipeline(part.get('pipeline') if pipeline is None else pipeline, where)
    if len(parts) == 1:
        return parts[0]
    return dict(type='ConcatDataset', datasets=parts, ignore_keys=_ignore_keys(train_dataset))


def _ignore_keys(cfg: dict) -> List[str]:
    """Union of the ``ignore_keys`` of the ConcatDatasets in a dataset config (VOC parts differ in dataset_type)."""
    keys = set(cfg.get('ignore_keys') or []) if cfg.get('type') == 'ConcatDataset' else set()
    for inner in ([cfg['dataset']] if 'dataset' in cfg else []) + list(cfg.get('datasets') or []):
        keys |= set(_ignore_keys(dict(inner)))
    return sorted(keys | {'dataset_type'})


def build_bbam_dataset(cfg, settings: dict):
    """The dataset to explain: ``settings['dataset']`` (its pipeline made deterministic), else the config's
    training set, unwrapped and with ``settings['pipeline']`` (:func:`bbam_dataset_cfg`), built in the config's
    default scope. Image names must be unique (the outputs are named after them)."""
    from mmengine.registry import DATASETS, DefaultScope
    if settings['dataset'] is not None:
        dataset_cfg = bbam_dataset_cfg(settings['dataset'], settings['pipeline'])
    else:
        dataset_cfg = bbam_dataset_cfg(cfg.train_dataloader.dataset, settings['pipeline'])
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmdet')):
        dataset = DATASETS.build(dataset_cfg)
    bbam_image_names(dataset)  # fail now on duplicate names
    return dataset


def bbam_image_names(dataset, limit: Optional[int] = None) -> List[str]:
    """The output names of the first ``limit`` images of ``dataset`` (all by default); a ``ValueError`` names the
    first duplicate (e.g. the same image in two parts of a ConcatDataset)."""
    names, seen = [], {}
    for i in range(len(dataset) if limit is None else min(limit, len(dataset))):
        info = dataset.get_data_info(i)
        name = image_name(info)
        if name in seen:
            raise ValueError(f'BBAM: two images share the name {name!r} ({seen[name]} and {info["img_path"]}): the '
                             'outputs are named after the image; explain the datasets one at a time '
                             '(BBAMHook(dataset=...), out_dir=...)')
        seen[name] = info['img_path']
        names.append(name)
    return names


def check_bbam_proposals(settings: dict) -> None:
    """Fail early when the configured MCG proposal folder is missing."""
    proposals = settings['proposals']
    if proposals and proposals.get('type') == 'mcg' and not osp.isdir(proposals['dir']):
        raise FileNotFoundError(f'BBAMHook: MCG proposal folder not found: {proposals["dir"]} (download MCG\'s '
                                "per-image proposals, or set proposals=dict(type='skimage') or None)")
    if proposals and proposals.get('type') == 'rle' and not osp.isfile(proposals['file']):
        raise FileNotFoundError(f'BBAMHook: RLE proposal file not found: {proposals["file"]}')
    if proposals and proposals.get('type') not in ('mcg', 'rle', 'skimage'):
        raise ValueError(f'BBAMHook: unknown proposal source {proposals.get("type")!r}: use skimage, mcg or rle')


def check_bbam_out_dir(out_dir: str, overwrite: bool = False) -> None:
    """Fail early when ``out_dir`` cannot be created or written; warn when it holds the outputs of an earlier run
    (its manifest): weights trained anew will not match them, and the rerun would be refused after training."""
    if not overwrite and osp.exists(osp.join(out_dir, MANIFEST)):
        warnings.warn(f'BBAMHook: {out_dir} holds BBAM outputs of an earlier run ({MANIFEST}); unless this run '
                      'resumes that one with the same weights, they will be refused after training: set the hook\'s '
                      'overwrite=True or another out_dir now')
    try:
        os.makedirs(out_dir, exist_ok=True)
        probe = osp.join(out_dir, f'.write_test_{os.getpid()}')
        with open(probe, 'w') as f:
            f.write('ok')
        os.remove(probe)
    except OSError as error:
        raise PermissionError(f'BBAMHook: cannot write to out_dir {out_dir}: {error}') from error


def check_bbam_detector(detector: torch.nn.Module, classes: Sequence[str]) -> None:
    """Fail early when the detector is no two-stage detector with one box class per dataset class."""
    for part in ('rpn_head', 'roi_head'):
        if not hasattr(detector, part):
            raise TypeError(f'BBAM explains two-stage detectors (RPN + RoI head); {type(detector).__name__} has no '
                            f'{part}')
    bbox_head = getattr(detector.roi_head, 'bbox_head', None)
    num_classes = getattr(bbox_head, 'num_classes', None)
    if num_classes is not None and num_classes != len(classes):
        raise ValueError(f'BBAM: the detector has {num_classes} classes, the dataset to explain {len(classes)} '
                         f'({", ".join(classes)}): set model.roi_head.bbox_head.num_classes')


def check_bbam_setup(cfg, settings: dict, detector: Optional[torch.nn.Module] = None, out_dir: Optional[str] = None):
    """Everything BBAM needs, checked before the expensive part (``BBAMHook.before_train``, ``tools/bbam.py``):
    the settings, the proposal source, the dataset (built, deterministic pipeline, unique names, its first image
    loading into boxes), the explainer's arguments, the detector and the output folder.

    Returns:
        the dataset to explain (:func:`build_bbam_dataset`).
    """
    settings = merge_bbam_settings(settings)
    check_bbam_proposals(settings)
    dataset = build_bbam_dataset(cfg, settings)
    if len(dataset) == 0:
        raise ValueError('BBAM: the dataset to explain is empty')
    sample, _ = load_sample(dataset, 0)
    if 'gt_instances' not in sample['data_samples']:
        raise ValueError('BBAM: the pipeline packs no gt_instances (boxes)')
    if detector is not None:
        check_bbam_detector(detector, dataset.metainfo['classes'])
        BBAMExplainer(detector, **settings['explainer'])  # unknown explainer arguments fail here
    if out_dir is not None:
        check_bbam_out_dir(out_dir, settings.get('overwrite', False))
    return dataset


def load_sample(dataset, index: int):
    """``(packed sample, (H, W, 3) uint8 RGB original)`` with the image file read once: when the pipeline starts
    with ``LoadImageFromFile`` the decoded image is handed to the rest of the pipeline and kept for the CRF."""
    info = dataset.get_data_info(index)
    if hasattr(dataset, 'datasets'):  # a ConcatDataset of parts: the part's pipeline
        part, local = dataset._get_ori_dataset_idx(index)
        return load_sample(dataset.datasets[part], local)
    transforms = list(dataset.pipeline.transforms)
    if not transforms or type(transforms[0]).__name__ != 'LoadImageFromFile':
        sample = dataset[index]
        return sample, read_rgb(info['img_path'])
    rgb = read_rgb(info['img_path'])
    bgr = np.ascontiguousarray(rgb[..., ::-1])  # what LoadImageFromFile decodes (cv2, colour)
    if getattr(transforms[0], 'to_float32', False):
        bgr = bgr.astype(np.float32)
    results = dict(info, img=bgr, img_shape=rgb.shape[:2], ori_shape=rgb.shape[:2])
    for transform in transforms[1:]:
        results = transform(results)
        if results is None:
            raise RuntimeError(f'{info["img_path"]}: the pipeline dropped the image at {type(transform).__name__}')
    return results, rgb


def image_seed(seed: int, name: str) -> int:
    """Per-image seed: the same on every process, whatever the split."""
    return (int(seed) * 1000003 + zlib.crc32(name.encode())) % (2**31)


def explain_sample(explainer: BBAMExplainer, sample: dict, seed: int = 0, batched: bool = True) -> dict:
    """Stage 1 for one image: the attribution maps of one packed mmdet sample (``inputs`` + ``data_samples`` with
    ``gt_instances``), mapped back to the original image.

    Returns:
        dict with ``attributions`` (B, H0, W0) float32, ``boxes`` (B, 4) in original pixels, ``labels`` (B, )
        0-based, ``num_positives``, ``scores``, ``strides``, ``ignored_boxes`` (K, 4) in original pixels (the
        sample's ``ignored_instances``), ``seconds``.
    """
    detector = explainer.detector
    meta = sample['data_samples'].metainfo
    if meta.get('flip', False):
        raise ValueError(f'BBAM: {meta.get("img_path")} was flipped by the pipeline: its pseudo masks would be '
                         'mirrored; use a pipeline without RandomFlip (deterministic_pipeline)')
    with torch.no_grad():
        batch = preprocess_one(detector, sample)
    data_sample = batch['data_samples'][0]
    boxes = data_sample.gt_instances.bboxes
    boxes = boxes.tensor if hasattr(boxes, 'tensor') else boxes
    boxes = boxes.float()  # on the detector's device (the data preprocessor moved them)
    labels = data_sample.gt_instances.labels.long()
    img_shape = tuple(int(v) for v in meta['img_shape'][:2])
    ori_shape = tuple(int(v) for v in meta['ori_shape'][:2])
    out = explainer.explain(batch['inputs'][0].float(), boxes, labels, img_shape,
                            seed=image_seed(seed, image_name(meta)), batched=batched)
    attributions = torch.from_numpy(out['attributions'])
    if attributions.shape[0] and img_shape != ori_shape:
        attributions = F.interpolate(attributions[None], size=ori_shape, mode='bilinear', align_corners=False)[0]
    scale = np.asarray(meta.get('scale_factor', (1.0, 1.0)), np.float32)

    def to_original(bboxes) -> np.ndarray:
        bboxes = bboxes.tensor if hasattr(bboxes, 'tensor') else bboxes
        bboxes = bboxes.detach().float().cpu().numpy().reshape(-1, 4) / np.tile(scale, 2)
        bboxes[:, 0::2] = bboxes[:, 0::2].clip(0, ori_shape[1])
        bboxes[:, 1::2] = bboxes[:, 1::2].clip(0, ori_shape[0])
        return bboxes

    # ignore regions (VOC difficult, boxes under bbox_min_size, objects the dataset cannot train on): not explained,
    # written as 255 by semantic_from_instances
    ignored = data_sample.get('ignored_instances')
    ignored_boxes = to_original(ignored.bboxes) if ignored is not None and 'bboxes' in ignored else \
        np.zeros((0, 4), np.float32)
    return dict(attributions=attributions.clamp(0, 1).numpy(), boxes=to_original(boxes), labels=labels.cpu().numpy(),
                num_positives=out['num_positives'], scores=out['scores'], strides=out['strides'],
                ignored_boxes=ignored_boxes, seconds=np.float64(out['seconds']))


def load_proposals(cfg: Optional[dict], image: np.ndarray, name: str,
                   file_name: str) -> Optional[Union[np.ndarray, SegmentProposals]]:
    """Mask proposals of an image from the configured source, or None: (N, H, W) masks (MCG, RLE) or, for
    scikit-image, a :class:`SegmentProposals` (segment maps + ids: memory independent of N)."""
    if not cfg:
        return None
    cfg = dict(cfg)
    kind = cfg.pop('type')
    if kind == 'skimage':
        return skimage_segment_proposals(image, **cfg)
    if kind == 'mcg':
        path = osp.join(cfg.pop('dir'), name + cfg.pop('suffix', '.mat'))
        if not osp.exists(path):
            raise FileNotFoundError(f'no MCG proposals for {name}: {path}')
        return load_mcg_proposals(path, **cfg)
    if kind == 'rle':
        return load_rle_proposals(cfg.pop('file'), file_name)
    raise ValueError(f'unknown proposal source {kind!r}: use skimage, mcg or rle')


def postprocess_image(result: Dict[str, np.ndarray], image: np.ndarray, crf: Optional[dict], fg_thr: float,
                      bg_thr: float, proposals: Optional[Union[np.ndarray, SegmentProposals]] = None) -> List[dict]:
    """Instance pseudo masks of one image from its attribution maps.

    Returns:
        one dict per box with an attribution: ``mask`` / ``ignore`` (H, W) bool, ``label`` (1-based),
        ``score``. Boxes without positives give no instance (their box is left undecided in the semantic map).
    """
    instances = []
    for b, (attr, box, label) in enumerate(zip(result['attributions'], result['boxes'], result['labels'])):
        if result['num_positives'][b] == 0:
            continue
        fg, ignore, _ = attribution_to_mask(attr.astype(np.float32), box, image, crf, fg_thr=fg_thr, bg_thr=bg_thr)
        if proposals is not None and len(proposals) and fg.any():
            refined = refine_with_proposals(fg, proposals, box)
            ignore = ignore & ~refined
            fg = refined
        instances.append(dict(mask=fg, ignore=ignore, label=int(label) + 1, score=float(result['scores'][b]),
                              box=box))
    return instances


def semantic_from_instances(instances: List[dict], result: Dict[str, np.ndarray], shape) -> np.ndarray:
    """Semantic pseudo label: one class per claimed pixel, 255 where classes conflict, where only an ignore
    region reaches, inside boxes whose attribution is empty and inside the sample's ignored boxes (never
    background: a pixel no one knows is not known to be background)."""
    masks = [inst['mask'] for inst in instances]
    labels = [inst['label'] for inst in instances]
    ignores = [inst['ignore'] for inst in instances]
    for b, box in enumerate(result['boxes']):
        if result['num_positives'][b] == 0:
            masks.append(np.zeros(shape, bool))
            labels.append(int(result['labels'][b]) + 1)
            ignores.append(box_to_mask(box, shape))
    for box in result.get('ignored_boxes', ()):  # no class of its own: any valid label, the mask is empty
        masks.append(np.zeros(shape, bool))
        labels.append(1)
        ignores.append(box_to_mask(box, shape))
    return instances_to_semantic(masks, labels, ignores, shape)


def bbam_image_labels(result: Dict[str, np.ndarray], image: np.ndarray, settings: dict,
                      proposals: Optional[Union[np.ndarray, SegmentProposals]] = None) -> dict:
    """Stage 2 for one image: its pseudo labels from its attribution maps (:func:`explain_sample` or
    :func:`load_attributions`) and the (H, W, 3) uint8 RGB original, post-processed with ``settings``' ``crf``,
    ``fg_thr`` and ``bg_thr``, refined by ``proposals`` ((N, H, W) masks, :func:`load_proposals`) when given.

    Returns:
        ``dict(instances, semantic)``: :func:`postprocess_image`'s instances and the (H, W) uint8 semantic label.
    """
    instances = postprocess_image(result, image, settings['crf'], settings['fg_thr'], settings['bg_thr'], proposals)
    return dict(instances=instances, semantic=semantic_from_instances(instances, result, image.shape[:2]))


def load_attributions(path: str, keys: Optional[Sequence[str]] = None) -> Dict[str, np.ndarray]:
    """What :func:`generate_bbam_pseudo_labels` saved for an image (only ``keys`` when given); a truncated or
    empty file raises an ``OSError`` naming it."""
    return load_npz(path, keys)


def bbam_stages(detector: torch.nn.Module, dataset, settings: dict, batched: bool = True) -> List[Stage]:
    """The two stages of BBAM's outputs as the manifest records them: ``explain`` (what shapes the attribution
    maps: the detector's weights and test settings, the explainer's settings, the seed, batched, the loading
    pipeline) and ``postprocess`` (``crf``, ``fg_thr``, ``bg_thr``, ``proposals``: redone alone when they change)."""
    explain = dict(model=model_fingerprint(detector), model_type=type(detector).__name__,
                   test_cfg=getattr(detector, 'test_cfg', None), explainer=settings['explainer'], seed=settings['seed'],
                   batched=bool(batched), pipeline=pipeline_description(dataset))
    postprocess = {key: settings[key] for key in ('crf', 'fg_thr', 'bg_thr', 'proposals')}
    return [Stage('explain', explain, ('attributions/*.npz', )),
            Stage('postprocess', postprocess, ('instances/*.json', 'semantic/*.png', 'instances.json', 'summary.json'),
                  redo=True)]


def generate_bbam_pseudo_labels(detector: torch.nn.Module, dataset, out_dir: str, settings: Optional[dict] = None,
                                batched: bool = True) -> Optional[dict]:
    """Run BBAM over this rank's share of ``dataset`` and, on rank 0, merge the outputs.

    Resumable: images whose outputs exist (and load) are skipped, when ``out_dir``'s manifest says they were made
    as this run would make them (:func:`bbam_stages`, :func:`~wsseg_mm.apis.common.prepare_outputs`). When only the
    post-processing settings changed, post-processing is redone for every image from the saved attribution maps;
    other changes (another detector or checkpoint, other explainer settings) raise a ``ValueError`` that lists
    them, unless ``settings['overwrite']`` starts over.

    Args:
        detector: the trained detector (its weights are not changed).
        dataset: an mmdet dataset whose pipeline loads the image and boxes, resizes, and packs (the boxes must be
            resized with the image: ``LoadAnnotations`` before ``Resize``); its classes are the COCO categories.
        out_dir: where ``attributions/``, ``instances/``, ``semantic/``, ``instances.json``, ``manifest.json`` go.
        settings: over :data:`BBAM_DEFAULTS` (``explainer``, ``crf``, ``fg_thr``, ``bg_thr``, ``proposals``,
            ``seed``, ``limit``, ``overwrite`` are used here), e.g. :func:`bbam_settings` of a config.
        batched: optimise the boxes of an image together (False: one at a time, the reference of the speed-up).

    Returns:
        the summary on rank 0 (None elsewhere).
    """
    settings = merge_bbam_settings(settings)
    classes = dataset.metainfo['classes']
    limit = settings['limit']
    bbam = BBAMExplainer(detector, **settings['explainer'])
    names = bbam_image_names(dataset, limit)
    index = {name: i for i, name in enumerate(names)}
    print_log(f'BBAM: {len(names)} of the {len(dataset)} images of the dataset'
              f'{f" (limit {limit})" if limit is not None else ""} into {out_dir}', logger='current')
    prepare_outputs(out_dir, 'bbam', bbam_stages(detector, dataset, settings, batched), settings['overwrite'],
                    info=dict(checkpoint=checkpoint_info(detector)))
    for sub in ('attributions', 'instances', 'semantic'):
        os.makedirs(osp.join(out_dir, sub), exist_ok=True)

    def paths(name):
        return [osp.join(out_dir, 'attributions', name + '.npz'), osp.join(out_dir, 'instances', name + '.json'),
                osp.join(out_dir, 'semantic', name + '.png')]

    def process(name):
        npz, part, png = paths(name)
        info = dataset.get_data_info(index[name])
        if osp.exists(npz):
            result, image = load_attributions(npz), read_rgb(info['img_path'])
        else:
            try:
                sample, image = load_sample(dataset, index[name])
            except Exception as error:  # name the file whatever the pipeline raised
                raise RuntimeError(f'{info["img_path"]}: {error}') from error
            result = explain_sample(bbam, sample, settings['seed'], batched)
            # post-processed from what is saved (float16 maps), as a resumed run does: the same bytes either way
            result = dict(result, attributions=result['attributions'].astype(np.float16))
            atomic_save_npz(npz, compressed=True, **result)
        file_name = osp.basename(info['img_path'])
        proposals = load_proposals(settings['proposals'], image, name, file_name)
        labels = bbam_image_labels(result, image, settings, proposals)
        save_label_png(png, labels['semantic'])
        write_coco_fragment(part, classes, file_name, image.shape[:2], labels['instances'])

    run_per_image(names, process, paths, desc='BBAM')
    if get_dist_info()[0] != 0:
        return None
    return merge_bbam_outputs(out_dir, names, classes)


def merge_bbam_outputs(out_dir: str, names: Sequence[str], classes: Sequence[str]) -> dict:
    """Merge the per-image fragments into ``instances.json`` and count what happened in ``summary.json``."""
    merged = merge_coco_fragments([osp.join(out_dir, 'instances', name + '.json') for name in names],
                                  osp.join(out_dir, 'instances.json'), classes)
    boxes = empty = positives = 0
    seconds = 0.0
    for name in names:
        data = load_attributions(osp.join(out_dir, 'attributions', name + '.npz'),
                                 keys=('labels', 'num_positives', 'seconds'))  # not the maps
        boxes += len(data['labels'])
        empty += int((data['num_positives'] == 0).sum())
        positives += int(data['num_positives'].sum())
        seconds += float(data['seconds'])
    summary = dict(images=len(names), boxes=boxes, instances=len(merged['annotations']),
                   boxes_without_positives=empty, mean_positives=positives / max(boxes, 1),
                   seconds_per_object=seconds / max(boxes, 1))
    atomic_write_bytes(osp.join(out_dir, 'summary.json'), json.dumps(summary, indent=1).encode())
    if empty:
        warnings.warn(f'BBAM: {empty} of {boxes} boxes had no positive proposal (the detector does not find them): '
                      'their attribution is empty and their box is left undecided (255) in the semantic labels')
    print_log(f'BBAM: {summary}', logger='current')
    return summary

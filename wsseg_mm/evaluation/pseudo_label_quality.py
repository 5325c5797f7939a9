"""Scoring pseudo labels against VOC-layout ground truth, as the papers do: semantic mIoU (255 in the ground
truth ignored; 255 in a pseudo label counts neither way, see :func:`confusion_matrix`) and instance mask AP^r at
IoU 0.5 / 0.7 with the average best overlap (ABO).

Labels are 1-based class ids (0 = background) throughout, as in the semantic PNGs.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from wsseg_mm.fileio.labels import load_label_png
from wsseg_mm.functional.instance import same_class_masks_touch
from wsseg_mm.functional.metrics import (
    average_best_overlap,
    confusion_matrix,
    image_mask_ious,
    instance_ap,
    mask_iou,
    miou,
)

__all__ = ['voc_ground_truth', 'gt_instances', 'touching_same_class', 'as_prediction', 'instance_figures',
           'PseudoLabelScorer']


def gt_instances(objects: np.ndarray, semantic: np.ndarray) -> dict:
    """Instances of a SegmentationObject map: ``masks`` (G, H, W), ``labels`` (G, ) from the class map,
    ``ignore`` (H, W) the 255 band."""
    ids = [i for i in np.unique(objects) if i not in (0, 255)]
    masks = np.stack([objects == i for i in ids]) if ids else np.zeros((0, *objects.shape), bool)
    labels = [int(np.bincount(semantic[m][semantic[m] < 255]).argmax()) for m in masks]
    return dict(masks=masks, labels=np.array(labels, np.int64), ignore=objects == 255)


def touching_same_class(instances: dict, gap: int = 3) -> bool:
    """Whether two ground-truth instances of one class touch: one comes within ``gap`` pixels (chessboard distance)
    of the other. Across a void band 2 px wide (the toy's), touching instances are 3 px apart. These are the
    instances only a per-instance cue (IRNet's displacement field) can separate; connected components of a
    semantic map cannot.

    Args:
        instances: :func:`gt_instances` output.
    """
    return same_class_masks_touch(instances['masks'], instances['labels'], gap)


def voc_ground_truth(root: str, name: str) -> Tuple[np.ndarray, dict]:
    """``(SegmentationClass map, instances)`` of an image of a VOC-layout ``root`` (``.../VOC2012``)."""
    semantic = load_label_png(osp.join(root, 'SegmentationClass', name + '.png'))
    return semantic, gt_instances(load_label_png(osp.join(root, 'SegmentationObject', name + '.png')), semantic)


def as_prediction(instances: Sequence[dict], shape) -> dict:
    """Instance dicts (``mask``, ``label``, ``score``) -> the ``preds`` entry of :func:`instance_ap`."""
    masks = np.stack([i['mask'] for i in instances]) if instances else np.zeros((0, *shape), bool)
    return dict(masks=masks, labels=np.array([i['label'] for i in instances], np.int64),
                scores=np.array([i['score'] for i in instances], np.float64))


def instance_figures(preds: Sequence[dict], gts: Sequence[dict], num_classes: int,
                     iou_thrs: Sequence[float] = (0.5, 0.7),
                     ious: Optional[Sequence[np.ndarray]] = None) -> Dict[str, float]:
    """``AP50`` / ``AP70`` (one per ``iou_thrs``) and ``ABO``, in %, of the :func:`as_prediction` entries of some
    images against their ground truth; NaN without images.

    ``ious``: per-image (K, G) IoU matrices (:func:`image_mask_ious`) when already known; the masks are then not
    read, and ``preds`` / ``gts`` need only ``labels`` (+ ``scores``)."""
    names = [f'AP{int(round(thr * 100))}' for thr in iou_thrs]
    if not gts:
        return dict.fromkeys([*names, 'ABO'], float('nan'))
    if ious is None:
        ious = image_mask_ious(preds, gts)
    row = {name: 100 * instance_ap(preds, gts, num_classes, thr, ious=ious)['ap'] for name, thr in zip(names, iou_thrs)}
    row['ABO'] = 100 * average_best_overlap(preds, gts, ious=ious)
    return row


class PseudoLabelScorer:
    """Accumulates several pseudo-label methods over the same images.

    Call :meth:`add_image` once per image with its ground truth, then :meth:`add` once per method; then
    :meth:`results`.

    Only per-image statistics are kept, so memory does not grow with the image size: per method the summed
    (C, C) confusion matrix and labelled-pixel counts, and per image and method the (K, G) mask IoU matrix
    (void pixels of the ground truth excluded) with the K predicted labels and scores; per image the G
    ground-truth labels (``gts``, dicts with ``labels`` only). That is all AP^r and ABO read, so the figures are
    those of the dense masks. The dense ground truth of the current image alone is held, until the next
    :meth:`add_image`.
    """

    def __init__(self, num_classes: int, iou_thrs: Sequence[float] = (0.5, 0.7)) -> None:
        self.num_classes = num_classes
        self.iou_thrs = tuple(iou_thrs)
        self.gts: List[dict] = []  # per image: dict(labels=(G, ) int64)
        self.cms: Dict[str, np.ndarray] = {}
        self.preds: Dict[str, List[dict]] = {}  # per method, per image: dict(labels=(K, ), scores=(K, ))
        self.ious: Dict[str, List[np.ndarray]] = {}  # per method, per image: (K, G) float64
        self.labelled: Dict[str, List[int]] = {}
        self._image: Optional[dict] = None  # dense ground truth of the current image only

    def add_image(self, gt_semantic: np.ndarray, gt_inst: dict) -> None:
        labels = np.asarray(gt_inst['labels'], np.int64).reshape(-1)
        self._image = dict(semantic=np.asarray(gt_semantic), masks=np.asarray(gt_inst['masks'], bool),
                           ignore=gt_inst.get('ignore'))
        self.gts.append(dict(labels=labels))

    def add(self, method: str, semantic: np.ndarray, instances: Sequence[dict]) -> None:
        if self._image is None or len(self.preds.get(method, ())) != len(self.gts) - 1:
            raise ValueError(f'{method}: add_image must come before every add')
        gt = self._image
        cm = self.cms.setdefault(method, np.zeros((self.num_classes, self.num_classes), np.int64))
        cm += confusion_matrix(semantic, gt['semantic'], self.num_classes)
        pred = as_prediction(instances, semantic.shape)
        self.ious.setdefault(method, []).append(mask_iou(pred['masks'], gt['masks'], gt['ignore']))
        self.preds.setdefault(method, []).append(dict(labels=pred['labels'], scores=pred['scores']))
        counts = self.labelled.setdefault(method, [0, 0])
        counts[0] += int((semantic != 255).sum())
        counts[1] += semantic.size

    def results(self) -> Dict[str, dict]:
        """Per method: ``mIoU``, ``AP50`` / ``AP70`` (per ``iou_thrs``), ``ABO`` (all in %), ``labelled`` (% of
        pixels not 255), ``instances``."""
        out = {}
        for method, preds in self.preds.items():
            if len(preds) != len(self.gts):
                raise ValueError(f'{method}: scored on {len(preds)} of the {len(self.gts)} images')
            row = dict(mIoU=100 * miou(self.cms[method]),
                       **instance_figures(preds, self.gts, self.num_classes, self.iou_thrs, ious=self.ious[method]))
            labelled, total = self.labelled[method]
            row['labelled'] = 100 * labelled / max(total, 1)
            row['instances'] = int(sum(len(p['labels']) for p in preds))
            out[method] = row
        return out

    def subset_results(self, images: Sequence[int]) -> Dict[str, dict]:
        """Per method: ``AP50`` / ``AP70`` (per ``iou_thrs``), ``ABO`` (in %) and ``instances`` over the images of
        indices ``images`` (in :meth:`add_image` order) only, e.g. those with touching same-class instances."""
        images = [int(i) for i in images]
        gts = [self.gts[i] for i in images]
        out = {}
        for method, preds in self.preds.items():
            if len(preds) != len(self.gts):
                raise ValueError(f'{method}: scored on {len(preds)} of the {len(self.gts)} images')
            subset = [preds[i] for i in images]
            out[method] = dict(instance_figures(subset, gts, self.num_classes, self.iou_thrs,
                                                ious=[self.ious[method][i] for i in images]),
                               instances=int(sum(len(p['labels']) for p in subset)))
        return out

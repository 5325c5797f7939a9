"""Segmentation metrics as plain numpy functions (no registry); the VOC AP of a precision / recall curve is
mmdet's :func:`~mmdet.evaluation.functional.average_precision`.

Shape legend used in the docstrings:

* ``C`` -- number of classes; ``H, W`` -- image height and width;
* ``N, M`` -- numbers of masks in the two sets compared by :func:`mask_iou`;
* ``K`` -- predicted instances of one image; ``G`` -- ground-truth instances of one image.

Semantic segmentation goes through a confusion matrix (rows = ground truth, columns = prediction) so that
per-image results can be summed over a dataset and every score derived once at the end. Instance
segmentation follows the SDS / VOC protocol (AP^r, Hariharan et al. 2014): mask IoU instead of box IoU.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmdet.evaluation.functional import average_precision

from wsseg_mm.metainfo import A2D_ACTIONS, A2D_ACTORS, A2D_PAIR_IDS, A2D_SEG_CLASSES

__all__ = [
    'confusion_matrix', 'iou_from_confusion', 'miou', 'pixel_accuracy', 'mean_class_accuracy', 'mask_iou',
    'image_mask_ious', 'instance_ap', 'average_best_overlap', 'a2d_scores', 'flat_a2d_scores', 'A2D_LABEL_TO_ACTOR',
    'A2D_LABEL_TO_ACTION'
]


# ----------------------------------------------------------------------------------------------------------
# Semantic segmentation
# ----------------------------------------------------------------------------------------------------------
def confusion_matrix(pred: np.ndarray, gt: np.ndarray, num_classes: int, ignore_index: int = 255) -> np.ndarray:
    """Pixel confusion matrix of one label map (or a batch of them).

    Args:
        pred: (H, W) (any shape equal to ``gt``) integer predicted labels.
        gt: (H, W) integer ground-truth labels.
        num_classes: C.
        ignore_index: ground-truth value of void pixels.

    Returns:
        (C, C) int64 matrix, ``cm[g, p]`` = number of pixels of ground-truth class ``g`` predicted as ``p``.

    Pixels whose ground truth is ``ignore_index`` or outside ``[0, C)`` are skipped. Pixels whose prediction
    is ``ignore_index`` or outside ``[0, C)`` ("no class") are skipped as well: a (C, C) matrix has no cell
    for a false negative that is not at the same time a false positive of some other class, so such a pixel
    can only be dropped (it then counts neither as FN nor as FP). Map them to a class first (e.g. IRNet maps
    unconfident pseudo-label pixels to background) when they must be penalised.

    Kept by hand on purpose: mmseg's IoUMetric sums per-class areas, and A2D's actor / action scores need the
    full matrix to merge classes (:func:`a2d_scores`); its scores agree with IoUMetric's (tests/test_metrics.py).
    """
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f'pred {pred.shape} and gt {gt.shape} must have the same shape')
    gt = gt.ravel().astype(np.int64)
    pred = pred.ravel().astype(np.int64)
    valid = (gt != ignore_index) & (gt >= 0) & (gt < num_classes) & (pred >= 0) & (pred < num_classes)
    # One bincount over the flattened (gt, pred) cell index is much faster than np.add.at.
    counts = np.bincount(gt[valid] * num_classes + pred[valid], minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def iou_from_confusion(cm: np.ndarray) -> np.ndarray:
    """Per-class IoU = TP / (TP + FP + FN).

    Args:
        cm: (C, C) confusion matrix (rows gt, columns prediction).

    Returns:
        (C,) float64 IoU in [0, 1]; nan for classes absent from both ground truth and prediction.
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    union = cm.sum(axis=0) + cm.sum(axis=1) - tp
    iou = np.full(tp.shape, np.nan)
    np.divide(tp, union, out=iou, where=union > 0)
    return iou


def miou(cm: np.ndarray) -> float:
    """Mean IoU over the classes that occur in ground truth or prediction of ``cm`` (C, C); nan if none."""
    iou = iou_from_confusion(cm)
    return float(np.nanmean(iou)) if np.any(~np.isnan(iou)) else float('nan')


def pixel_accuracy(cm: np.ndarray) -> float:
    """Global pixel accuracy (correct pixels / counted pixels) of ``cm`` (C, C); nan for an empty matrix."""
    cm = np.asarray(cm)
    total = cm.sum()
    return float(np.trace(cm) / total) if total > 0 else float('nan')


def mean_class_accuracy(cm: np.ndarray) -> float:
    """Mean per-class recall TP / (TP + FN) over the classes present in the ground truth of ``cm`` (C, C)."""
    cm = np.asarray(cm, dtype=np.float64)
    gt_area = cm.sum(axis=1)
    present = gt_area > 0
    if not present.any():
        return float('nan')
    return float(np.mean(np.diag(cm)[present] / gt_area[present]))


# ----------------------------------------------------------------------------------------------------------
# Instance segmentation
# ----------------------------------------------------------------------------------------------------------
def mask_iou(masks_a: np.ndarray, masks_b: np.ndarray, ignore: Optional[np.ndarray] = None) -> np.ndarray:
    """Pairwise IoU of two sets of binary masks.

    Args:
        masks_a: (N, H, W) bool.
        masks_b: (M, H, W) bool.
        ignore: (H, W) bool void pixels, removed from both intersection and union (VOC's 255 border).

    Returns:
        (N, M) float64 IoU; 0 for a pair whose union is empty.

    Kept by hand on purpose: pycocotools' ``maskUtils.iou`` has no void pixels, only whole crowd regions.
    """
    masks_a = np.asarray(masks_a, dtype=bool)
    masks_b = np.asarray(masks_b, dtype=bool)
    if masks_a.shape[1:] != masks_b.shape[1:]:
        raise ValueError(f'mask sizes differ: {masks_a.shape[1:]} vs {masks_b.shape[1:]}')
    num_pixels = int(np.prod(masks_a.shape[1:]))
    # An explicit pixel count because reshape(0, -1) is ambiguous for an image without masks.
    flat_a = masks_a.reshape(len(masks_a), num_pixels)
    flat_b = masks_b.reshape(len(masks_b), num_pixels)
    if ignore is not None:
        keep = ~np.asarray(ignore, dtype=bool).ravel()
        flat_a, flat_b = flat_a[:, keep], flat_b[:, keep]
    # float32 BLAS sums of 0/1 values are exact while every count fits in the 24-bit mantissa.
    dtype = np.float32 if flat_a.shape[1] <= 2**24 else np.float64
    flat_a = flat_a.astype(dtype)
    flat_b = flat_b.astype(dtype)
    inter = (flat_a @ flat_b.T).astype(np.float64)
    union = flat_a.sum(axis=1, dtype=np.float64)[:, None] + flat_b.sum(axis=1, dtype=np.float64)[None] - inter
    iou = np.zeros_like(inter)
    np.divide(inter, union, out=iou, where=union > 0)
    return iou


def image_mask_ious(preds: Sequence[dict], gts: Sequence[dict]) -> List[np.ndarray]:
    """Class-agnostic (K, G) IoU matrix of every image, ignoring ``gts[i]['ignore']`` pixels when present.

    ``preds`` / ``gts`` are as in :func:`instance_ap`. The result can be passed as ``ious`` to
    :func:`instance_ap` and :func:`average_best_overlap` so the masks are compared only once.
    """
    if len(preds) != len(gts):
        raise ValueError(f'{len(preds)} predictions for {len(gts)} ground truths')
    return [mask_iou(p['masks'], g['masks'], g.get('ignore')) for p, g in zip(preds, gts)]


def instance_ap(preds: Sequence[dict],
                gts: Sequence[dict],
                num_classes: int,
                iou_thr: float = 0.5,
                use_07_metric: bool = False,
                ious: Optional[Sequence[np.ndarray]] = None) -> Dict[str, object]:
    """Instance mask average precision (SDS AP^r) at one IoU threshold.

    Args:
        preds: one dict per image: ``masks`` (K, H, W) bool, ``labels`` (K,) int, ``scores`` (K,) float.
        gts: one dict per image: ``masks`` (G, H, W) bool, ``labels`` (G,) int and optionally ``ignore``
            (H, W) bool void pixels, excluded from every IoU.
        num_classes: C; labels are in ``[0, C)``.
        iou_thr: minimum mask IoU of a true positive.
        use_07_metric: 11-point interpolated AP (VOC2007) instead of the all-point area (VOC2010+).
        ious: optional per-image (K, G) IoU matrices from :func:`image_mask_ious`; the masks are then not
            read and may be left out of ``preds`` / ``gts``.

    Returns:
        ``dict(ap=float, per_class=(C,) float64)``: AP in [0, 1] per class, nan for classes without ground
        truth; ``ap`` is the mean over the classes that have ground truth (nan if there are none).

    Per class, all predictions of the dataset are visited by decreasing score (a stable sort: ties keep
    image / index order); each is a true positive if some still unmatched ground truth of that class in its
    image has IoU >= ``iou_thr`` (the highest such one is then consumed), otherwise a false positive.
    This matching is kept by hand on purpose: mmdet's ``eval_map`` takes boxes (no masks, no void) and counts a
    detection whose best ground truth is already taken as a false positive. The area under the curve is mmdet's
    ``average_precision``.
    """
    if ious is None:
        ious = image_mask_ious(preds, gts)
    per_class = np.full(num_classes, np.nan)
    pred_labels = [np.asarray(p['labels'], dtype=np.int64).reshape(-1) for p in preds]
    pred_scores = [np.asarray(p['scores'], dtype=np.float64).reshape(-1) for p in preds]
    gt_labels = [np.asarray(g['labels'], dtype=np.int64).reshape(-1) for g in gts]
    for cls in range(num_classes):
        num_gt = sum(int((labels == cls).sum()) for labels in gt_labels)
        if num_gt == 0:
            continue
        # (image, prediction index, score) of every prediction of this class in the dataset.
        image_ids = np.concatenate([np.full(int((lab == cls).sum()), i) for i, lab in enumerate(pred_labels)])
        pred_ids = np.concatenate([np.flatnonzero(lab == cls) for lab in pred_labels])
        scores = np.concatenate([s[lab == cls] for s, lab in zip(pred_scores, pred_labels)])
        order = np.argsort(-scores, kind='stable')
        # Per image: the ground truths of this class (indices into the IoU columns) and which are taken.
        gt_ids = [np.flatnonzero(lab == cls) for lab in gt_labels]
        matched = [np.zeros(len(ids), dtype=bool) for ids in gt_ids]
        tp = np.zeros(len(order), dtype=bool)
        for rank, k in enumerate(order):
            img = image_ids[k]
            if len(gt_ids[img]) == 0:
                continue
            overlap = np.where(matched[img], -1.0, ious[img][pred_ids[k], gt_ids[img]])
            best = int(np.argmax(overlap))
            if overlap[best] >= iou_thr:
                tp[rank] = True
                matched[img][best] = True
        tp_cum = np.cumsum(tp)
        recall = tp_cum / num_gt
        precision = tp_cum / np.arange(1, len(tp) + 1)
        # mmdet's VOC AP: 'area' is the VOC2010+ area under the monotone curve, '11points' the VOC2007 mean of
        # the max precision at recall >= 0, 0.1, ..., 1 (thresholds np.arange(0, 1.001, 0.1), bitwise equal to
        # np.linspace(0, 1, 11)); it returns float32, i.e. within 1e-7 of a float64 sum.
        per_class[cls] = float(average_precision(recall, precision, '11points' if use_07_metric else 'area'))
    has_gt = ~np.isnan(per_class)
    ap = float(per_class[has_gt].mean()) if has_gt.any() else float('nan')
    return dict(ap=ap, per_class=per_class)


def average_best_overlap(preds: Sequence[dict],
                         gts: Sequence[dict],
                         ious: Optional[Sequence[np.ndarray]] = None) -> float:
    """Average best overlap (ABO): mean over all ground-truth instances of the dataset of the highest IoU
    with any predicted mask of the same image, whatever the classes and scores.

    Args:
        preds, gts: as in :func:`instance_ap` (only the masks and ``ignore`` are used).
        ious: optional per-image (K, G) IoU matrices from :func:`image_mask_ious`.

    Returns:
        ABO in [0, 1]; a ground truth in an image without prediction scores 0; nan if there is no ground truth.
    """
    if ious is None:
        ious = image_mask_ious(preds, gts)
    best = [iou.max(axis=0) if iou.shape[0] > 0 else np.zeros(iou.shape[1]) for iou in ious]
    best = np.concatenate(best) if best else np.zeros(0)
    return float(best.mean()) if best.size else float('nan')


# ----------------------------------------------------------------------------------------------------------
# A2D actor / action / actor-action segmentation
# ----------------------------------------------------------------------------------------------------------
# Label in A2D_SEG_CLASSES -> actor label (0 = background, k = A2D_ACTORS[k - 1]) / action label (same scheme).
A2D_LABEL_TO_ACTOR: np.ndarray = np.array([0] + [pair // 10 for pair in A2D_PAIR_IDS], dtype=np.int64)
A2D_LABEL_TO_ACTION: np.ndarray = np.array([0] + [pair % 10 for pair in A2D_PAIR_IDS], dtype=np.int64)


def _merge_classes(cm: np.ndarray, label_map: np.ndarray, num_merged: int) -> np.ndarray:
    """Sum the rows and columns of ``cm`` (C, C) into groups: class c goes to ``label_map[c]``."""
    onehot = np.zeros((len(label_map), num_merged), dtype=np.int64)
    onehot[np.arange(len(label_map)), label_map] = 1
    return onehot.T @ np.asarray(cm, dtype=np.int64) @ onehot


def _scores(cm: np.ndarray) -> Dict[str, object]:
    """mIoU, mean class accuracy, global accuracy and per-class IoU of ``cm`` (C, C), in percent."""
    return dict(
        mIoU=100 * miou(cm),
        class_acc=100 * mean_class_accuracy(cm),
        global_acc=100 * pixel_accuracy(cm),
        per_class_iou=100 * iou_from_confusion(cm))


def a2d_scores(cm_pair: np.ndarray) -> Dict[str, Dict[str, object]]:
    """A2D scores (Xu et al. 2015) at the three levels, background included as a class at each level.

    Args:
        cm_pair: (44, 44) confusion matrix over :data:`A2D_SEG_CLASSES` (rows gt, columns prediction).

    Returns:
        ``{'actor': s, 'action': s, 'actor_action': s}`` where each ``s`` holds ``mIoU``, ``class_acc``
        (mean per-class accuracy), ``global_acc`` (pixel accuracy), ``per_class_iou`` ((8,), (10,) or (44,)
        array, nan = class absent), all in percent. Actor (action) scores come from merging the pairs that
        share an actor (action), so a pixel with the right actor and a wrong action is correct for the actor.
    """
    cm_pair = np.asarray(cm_pair, dtype=np.int64)
    if cm_pair.shape != (len(A2D_SEG_CLASSES), ) * 2:
        raise ValueError(f'expected a {len(A2D_SEG_CLASSES)}x{len(A2D_SEG_CLASSES)} matrix, got {cm_pair.shape}')
    return dict(
        actor=_scores(_merge_classes(cm_pair, A2D_LABEL_TO_ACTOR, len(A2D_ACTORS) + 1)),
        action=_scores(_merge_classes(cm_pair, A2D_LABEL_TO_ACTION, len(A2D_ACTIONS) + 1)),
        actor_action=_scores(cm_pair))


def flat_a2d_scores(scores: Dict[str, Dict[str, object]]) -> Dict[str, float]:
    """:func:`a2d_scores` as ``{level}_{mIoU|class_acc|global_acc}`` floats (A2DMetric's keys)."""
    return {f'{level}_{name}': float(scores[level][name]) for level in ('actor', 'action', 'actor_action')
            for name in ('mIoU', 'class_acc', 'global_acc')}

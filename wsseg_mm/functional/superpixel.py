"""Otsu masks, SLIC superpixels, WS^2's superpixel refinement (Alg. 2) and region integrity (RII / RIC) as plain
numpy functions (Chen, Li, Luo, Xu, "Actor-Action Video Segmentation from Video Tags", CVPR 2020, Sec. 3.1, 3.3).

Shape legend used in the docstrings:

* ``H, W`` -- frame height and width;
* ``P`` -- number of superpixels of a frame (labels ``0 .. P-1``);
* ``C`` -- number of classes, background (0) included.

A label map holds 0 for background and ``1 .. C-1`` for the foreground classes; ``ignore_index`` (255) marks void
pixels. Every score here is computed from summed confusion matrices (:mod:`wsseg_mm.functional.metrics`), with
background counted as a class, and is a fraction in [0, 1] (the registered metric reports percent).
"""
from typing import Dict, Sequence, Tuple, Union

import numpy as np

from .metrics import confusion_matrix, iou_from_confusion, miou

__all__ = [
    'OTSU_BINS', 'REFINE_ALPHA', 'REFINE_BETA', 'REFINE_MODES', 'RIC_WEIGHT', 'SLIC_COMPACTNESS', 'SLIC_SEGMENTS',
    'otsu_mask', 'slic_superpixels', 'superpixel_overlap', 'keep_superpixels', 'refine_with_superpixels',
    'region_integrity', 'ric', 'ric_confusions', 'ric_scores', 'RII_CLASSES'
]

# Alg. 2: keep a superpixel whose overlap with M_init exceeds alpha and whose share of the frame is below beta.
REFINE_ALPHA = 0.5
REFINE_BETA = 0.4
# 'coverage' = |p & M| / |p| (ours, default); 'iou' = the paper's literal IoU(p, M), which rejects a small p lying
# inside a large mask (30 toy frames, ideal OS16 blobs, 100 superpixels: IoU with GT 13 literal, 65 coverage).
REFINE_MODES = ('coverage', 'iou')
# skimage's default histogram size for Otsu's threshold.
OTSU_BINS = 256
# Eq. 3: RIC = mIoU_PA + 0.5 RII (not Alg. 2's alpha).
RIC_WEIGHT = 0.5
# The classes RII averages over. 'present' (Eq. 2, default): those in M_init or M_refine, so a segmenter that predicts
# only background scores RII 100. 'pa' (P): also every class of the PAs, one the prediction never shows counting 0.
RII_CLASSES = ('present', 'pa')
# The paper does not give SLIC's settings (proposal: 100 superpixels, compactness 10, skimage's defaults).
SLIC_SEGMENTS = 100
SLIC_COMPACTNESS = 10.0

LabelMaps = Union[np.ndarray, Sequence[np.ndarray]]


def otsu_mask(score_map: np.ndarray) -> Tuple[np.ndarray, bool]:
    """Foreground of one score map by Otsu's threshold (:func:`skimage.filters.threshold_otsu`).

    Args:
        score_map: (H, W) float map (e.g. a Grad-CAM map upsampled to the frame).

    Returns:
        ``(mask, constant)``: (H, W) bool mask of the pixels above the threshold, and whether the map was constant.
        A constant map (all-zero Grad-CAM included) has no threshold: its mask is empty and ``constant`` is True, so
        the caller can count such maps.
    """
    score_map = np.asarray(score_map, dtype=np.float64)
    if score_map.ndim != 2:
        raise ValueError(f'otsu_mask expects one (H, W) map, got shape {score_map.shape}')
    if not np.isfinite(score_map).all():
        raise ValueError('otsu_mask: the score map has nan or inf values; check the Grad-CAM that produced it')
    if score_map.size == 0 or score_map.min() == score_map.max():
        return np.zeros(score_map.shape, dtype=bool), True
    from skimage.filters import threshold_otsu
    threshold = threshold_otsu(score_map, nbins=OTSU_BINS)
    # skimage returns the centre of the last background bin of its histogram (OTSU_BINS bins over [min, max]);
    # `map > threshold` would move the upper half of that bin to the foreground (for the map [0, .1, .8, 1] it
    # gives .1 to the foreground), so the split is made at that bin's upper edge, as Otsu's criterion defines it.
    edges = np.histogram_bin_edges(score_map, bins=OTSU_BINS, range=(score_map.min(), score_map.max()))
    last_background = np.searchsorted(edges, threshold, side='right') - 1
    return np.clip(np.searchsorted(edges, score_map, side='right') - 1, 0, OTSU_BINS - 1) > last_background, False


def slic_superpixels(frame: np.ndarray,
                     n_segments: int = SLIC_SEGMENTS,
                     compactness: float = SLIC_COMPACTNESS,
                     channel_order: str = 'rgb') -> np.ndarray:
    """SLIC superpixels of one frame (:func:`skimage.segmentation.slic`, deterministic, labels from 0).

    Args:
        frame: (H, W, 3) uint8 (or float) colour frame.
        n_segments: approximate number of superpixels.
        compactness: SLIC's colour / space trade-off (higher = more square superpixels).
        channel_order: ``'rgb'`` or ``'bgr'`` (mmcv / OpenCV loads BGR); SLIC works in Lab, so the order matters.

    Returns:
        (H, W) int32 superpixel labels ``0 .. P-1`` (consecutive: skimage relabels after enforcing connectivity).
    """
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f'slic_superpixels expects an (H, W, 3) colour frame, got shape {frame.shape}')
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    if channel_order == 'bgr':
        frame = frame[..., ::-1]
    from skimage.segmentation import slic
    labels = slic(frame, n_segments=n_segments, compactness=compactness, start_label=0, channel_axis=-1)
    return labels.astype(np.int32)


def _check_pair(superpixels: np.ndarray, labels: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    superpixels = np.asarray(superpixels)
    labels = np.asarray(labels)
    if superpixels.shape != labels.shape or superpixels.ndim != 2:
        raise ValueError(f'superpixels {superpixels.shape} and label map {labels.shape} must be (H, W) of one size')
    if not np.issubdtype(superpixels.dtype, np.integer) or (superpixels.size and superpixels.min() < 0):
        raise ValueError('superpixels must be non-negative integer labels (slic_superpixels gives 0 .. P-1)')
    return superpixels.astype(np.int64), labels


def superpixel_overlap(superpixels: np.ndarray,
                       init_labels: np.ndarray,
                       mode: str = REFINE_MODES[0],
                       ignore_index: int = 255) -> Tuple[np.ndarray, np.ndarray]:
    """Overlap of every superpixel with every foreground class of M_init (one bincount, no loop over superpixels).

    Args:
        superpixels: (H, W) int superpixel labels ``0 .. P-1``.
        init_labels: (H, W) M_init: bool mask (one foreground class) or int labels, 0 = background; pixels equal
            to ``ignore_index`` belong to no class (they still count in ``|p|``).
        mode: ``'coverage'`` = |p & M_c| / |p|, or ``'iou'`` = |p & M_c| / |p | M_c| (the paper's literal IoU).
        ignore_index: void value of ``init_labels``.

    Returns:
        ``(overlap, sizes)``: (P, C) float64 overlap of superpixel p with class c (column 0, background, is 0)
        and (P,) int64 pixel counts ``|p|``; ``C = max label + 1`` (2 for a bool mask).
    """
    if mode not in REFINE_MODES:
        raise ValueError(f'mode must be one of {REFINE_MODES}, got {mode!r}')
    superpixels, init_labels = _check_pair(superpixels, init_labels)
    labels = init_labels.astype(np.int64)
    labels = np.where(labels == ignore_index, 0, labels)  # void pixels join no class
    if labels.size and labels.min() < 0:
        raise ValueError('init_labels must be >= 0 (0 = background)')
    num_sp = int(superpixels.max()) + 1 if superpixels.size else 0
    num_classes = max(int(labels.max()) + 1 if labels.size else 1, 2)
    sp, lab = superpixels.ravel(), labels.ravel()
    sizes = np.bincount(sp, minlength=num_sp)
    inter = np.bincount(sp * num_classes + lab, minlength=num_sp * num_classes).reshape(num_sp, num_classes)
    inter = inter.astype(np.float64)
    inter[:, 0] = 0  # background is not a mask to overlap with
    if mode == 'coverage':
        denom = np.broadcast_to(sizes[:, None], inter.shape).astype(np.float64)
    else:
        class_sizes = np.bincount(lab, minlength=num_classes)
        denom = sizes[:, None] + class_sizes[None, :] - inter
    overlap = np.zeros_like(inter)
    np.divide(inter, denom, out=overlap, where=denom > 0)
    return overlap, sizes


def keep_superpixels(superpixels: np.ndarray,
                     init_labels: np.ndarray,
                     alpha: float = REFINE_ALPHA,
                     beta: float = REFINE_BETA,
                     mode: str = REFINE_MODES[0],
                     ignore_index: int = 255) -> Tuple[np.ndarray, np.ndarray]:
    """Alg. 2's choice: keep superpixel p with class c if overlap(p, M_c) > alpha and |p| / |frame| < beta.

    Args:
        superpixels, init_labels, mode, ignore_index: as :func:`superpixel_overlap`.
        alpha: overlap threshold (Alg. 2's alpha).
        beta: largest share of the frame a kept superpixel may cover (Alg. 2's beta).

    Returns:
        ``(keep, classes)``: (P,) bool kept superpixels and (P,) int64 class of each (0 where not kept).

    A superpixel overlaps every class of M_init separately. With ``alpha >= 0.5`` at most one class can pass:
    the class masks are disjoint, so sum_c |p & M_c| <= |p| and two coverages cannot both exceed 1/2; and
    IoU(p, M_c) > 1/2 implies |p & M_c| > |p | M_c| / 2 >= |p| / 2, so the IoU case reduces to coverage. For
    ``alpha < 0.5`` the class of largest overlap wins (ties: the lower class index).
    """
    overlap, sizes = superpixel_overlap(superpixels, init_labels, mode, ignore_index)
    if overlap.shape[0] == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
    classes = np.argmax(overlap, axis=1)
    best = overlap[np.arange(len(classes)), classes]
    keep = (best > alpha) & (sizes / np.asarray(superpixels).size < beta)
    return keep, np.where(keep, classes, 0).astype(np.int64)


def refine_with_superpixels(superpixels: np.ndarray,
                            init_labels: np.ndarray,
                            alpha: float = REFINE_ALPHA,
                            beta: float = REFINE_BETA,
                            mode: str = REFINE_MODES[0],
                            ignore_index: int = 255) -> np.ndarray:
    """Alg. 2: M_refine = union of the kept superpixels (each with its class), the rest background.

    Args:
        superpixels, init_labels, alpha, beta, mode, ignore_index: as :func:`keep_superpixels`.

    Returns:
        (H, W) M_refine: bool if ``init_labels`` is bool, else labels of ``init_labels``' dtype (0 = background).
    """
    keep, classes = keep_superpixels(superpixels, init_labels, alpha, beta, mode, ignore_index)
    init_labels = np.asarray(init_labels)
    refined = classes[np.asarray(superpixels, dtype=np.int64)]
    return refined.astype(init_labels.dtype if init_labels.dtype != bool else bool)


def _as_list(maps: LabelMaps) -> list:
    maps = [maps] if isinstance(maps, np.ndarray) and maps.ndim == 2 else list(maps)
    return [np.asarray(m) for m in maps]


def _summed_confusion(preds: LabelMaps, gts: LabelMaps, num_classes: int, ignore_index: int) -> np.ndarray:
    preds, gts = _as_list(preds), _as_list(gts)
    if len(preds) != len(gts):
        raise ValueError(f'{len(preds)} predicted maps for {len(gts)} reference maps')
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    for pred, gt in zip(preds, gts):
        cm += confusion_matrix(pred.astype(np.int64), gt.astype(np.int64), num_classes, ignore_index)
    return cm


def region_integrity(init_labels: LabelMaps, refined: LabelMaps, num_classes: int, ignore_index: int = 255) -> float:
    """RII (Eq. 2) = mIoU(M_init, M_refine) over frames (summed confusion, background included).

    Args:
        init_labels: (H, W) M_init, or a sequence of frames' maps (sizes may differ), or an (N, H, W) array.
        refined: M_refine of the same frames (:func:`refine_with_superpixels`).
        num_classes: C, background included.
        ignore_index: void value (skipped, as in :func:`~wsseg_mm.functional.metrics.confusion_matrix`).

    Returns:
        RII in [0, 1] (IoU is symmetric, so which map is the reference does not matter); nan without pixels.
    """
    return miou(_summed_confusion(refined, init_labels, num_classes, ignore_index))


def ric(miou_pa: float, rii: float, weight: float = RIC_WEIGHT) -> float:
    """RIC (Eq. 3) = mIoU_PA + weight * RII (in the units of its inputs)."""
    return float(miou_pa) + weight * float(rii)


def ric_confusions(init_labels: np.ndarray,
                   superpixels: np.ndarray,
                   pa_labels: np.ndarray,
                   num_classes: int,
                   alpha: float = REFINE_ALPHA,
                   beta: float = REFINE_BETA,
                   mode: str = REFINE_MODES[0],
                   ignore_index: int = 255) -> Tuple[np.ndarray, np.ndarray]:
    """The two confusion matrices of one frame that RIC sums over a set of frames.

    Args:
        init_labels: (H, W) int M_init (a segmenter's prediction).
        superpixels: (H, W) int superpixels of the frame.
        pa_labels: (H, W) int PA (pseudo annotation) of the frame, ``ignore_index`` = void.
        num_classes: C, background included.
        alpha, beta, mode: Alg. 2's settings (:func:`keep_superpixels`).
        ignore_index: void value.

    Returns:
        ``(cm_pa, cm_ii)``: (C, C) int64 confusion of M_refine against the PA (rows PA) and of M_refine against
        M_init (rows M_init).
    """
    init_labels = np.asarray(init_labels).astype(np.int64)
    pa_labels = np.asarray(pa_labels)
    if pa_labels.shape != init_labels.shape:
        raise ValueError(f'the prediction {init_labels.shape} and the PA {pa_labels.shape} must have one size')
    refined = refine_with_superpixels(superpixels, init_labels, alpha, beta, mode, ignore_index)
    return (confusion_matrix(refined, pa_labels, num_classes, ignore_index),
            confusion_matrix(refined, init_labels, num_classes, ignore_index))


def ric_scores(cm_pa: np.ndarray, cm_ii: np.ndarray, weight: float = RIC_WEIGHT,
               rii_classes: str = RII_CLASSES[0]) -> Dict[str, float]:
    """``dict(mIoU_PA=, RII=, RIC=)`` (fractions) of summed :func:`ric_confusions` matrices (Eq. 1-3).

    ``rii_classes`` (see :data:`RII_CLASSES`): ``'present'`` averages RII over the classes of M_init or M_refine
    (Eq. 2); ``'pa'`` also over the classes of the PAs (rows of ``cm_pa``), a PA class that neither map shows
    counting IoU 0.
    """
    if rii_classes not in RII_CLASSES:
        raise ValueError(f'rii_classes must be one of {RII_CLASSES}, got {rii_classes!r}')
    miou_pa = miou(cm_pa)
    if rii_classes == 'present':
        rii = miou(cm_ii)
    else:
        iou = iou_from_confusion(cm_ii)
        iou[np.isnan(iou) & (np.asarray(cm_pa).sum(axis=1) > 0)] = 0.0
        rii = float(np.nanmean(iou)) if np.any(~np.isnan(iou)) else float('nan')
    return dict(mIoU_PA=miou_pa, RII=rii, RIC=ric(miou_pa, rii, weight))

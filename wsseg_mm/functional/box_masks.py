"""Boxes to pseudo masks (BBAM, Lee et al., CVPR 2021, and its baselines) as plain numpy functions.

Shape legend used in the docstrings:

* ``H, W`` -- image height and width; ``N`` -- number of mask proposals.

Boxes are ``(x1, y1, x2, y2)`` floats in pixels. A pixel (row ``y``, column ``x``) belongs to a box when its
centre does: ``x1 <= x + 0.5 < x2`` and ``y1 <= y + 0.5 < y2`` (:func:`box_to_mask`; every function here
rasterises boxes through it). So ``(0, 0, 3, 2)`` covers columns 0..2 of rows 0..1, and parts of a box outside
the image are simply cut off.

The pieces of the BBAM pseudo-label pipeline:

* baselines: :func:`box_fill` (the whole box is the object) and :func:`grabcut_in_box` (OpenCV GrabCut
  initialised with the box);
* mask proposals: a built-in Felzenszwalb alternative for users without MCG (:func:`skimage_mask_proposals`);
  MCG's published ``.mat`` files and COCO-style RLE JSON are read by :mod:`wsseg_mm.fileio.proposals`;
* BBAM Eq. 4 (:func:`refine_with_proposals`): the attribution mask is replaced by the union of the proposal
  that overlaps it best and the proposals lying (almost) entirely inside it;
* :func:`threshold_attribution` splits a BBAM attribution map into foreground / undecided pixels, and
  :func:`instances_to_semantic` merges instance masks into a semantic label map with ``ignore_index`` where
  the instances disagree or are undecided.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'box_to_mask', 'box_fill', 'grabcut_in_box', 'skimage_mask_proposals', 'refine_with_proposals',
    'instances_to_semantic', 'threshold_attribution'
]


def _hw(shape: Sequence[int]) -> Tuple[int, int]:
    """(H, W) from a shape tuple; trailing entries (e.g. the channels of ``image.shape``) are ignored."""
    if len(shape) < 2:
        raise ValueError(f'shape must start with (H, W), got {tuple(shape)}')
    height, width = int(shape[0]), int(shape[1])
    if height < 0 or width < 0:
        raise ValueError(f'shape must be non-negative, got {tuple(shape)}')
    return height, width


def _box_bounds(box: Sequence[float], shape: Sequence[int]) -> Tuple[int, int, int, int]:
    """Integer pixel bounds ``(c0, r0, c1, r1)`` (end-exclusive, clipped to the image) of the pixels whose
    centres lie in ``box``; ``c1 <= c0`` or ``r1 <= r0`` when no pixel does."""
    box = np.asarray(box, dtype=np.float64).reshape(-1)
    if box.size != 4:
        raise ValueError(f'box must be (x1, y1, x2, y2), got {box.size} values')
    if not np.isfinite(box).all():
        raise ValueError(f'box must be finite, got {box.tolist()}')
    height, width = _hw(shape)
    x1, y1, x2, y2 = box
    # x1 <= x + 0.5  <=>  x >= x1 - 0.5;   x + 0.5 < x2  <=>  x < x2 - 0.5 (x integer).
    c0 = int(np.clip(np.ceil(x1 - 0.5), 0, width))
    c1 = int(np.clip(np.ceil(x2 - 0.5), 0, width))
    r0 = int(np.clip(np.ceil(y1 - 0.5), 0, height))
    r1 = int(np.clip(np.ceil(y2 - 0.5), 0, height))
    return c0, r0, c1, r1


def box_to_mask(box: Sequence[float], shape: Sequence[int]) -> np.ndarray:
    """Rasterise a box by the pixel-centre rule.

    Args:
        box: ``(x1, y1, x2, y2)`` floats in pixels; may be fractional and may extend past the image.
        shape: ``(H, W)`` of the mask (``image.shape`` also works: extra trailing entries are ignored).

    Returns:
        (H, W) bool, True at pixel (y, x) iff ``x1 <= x + 0.5 < x2`` and ``y1 <= y + 0.5 < y2``. A box with
        ``x2 <= x1`` or ``y2 <= y1``, or one outside the image, gives an all-False mask.
    """
    height, width = _hw(shape)
    c0, r0, c1, r1 = _box_bounds(box, shape)
    mask = np.zeros((height, width), dtype=bool)
    if c1 > c0 and r1 > r0:
        mask[r0:r1, c0:c1] = True
    return mask


def box_fill(boxes: Sequence[Sequence[float]], labels: Sequence[int], shape: Sequence[int]) -> List[np.ndarray]:
    """Box-fill baseline: every box is taken as its object's mask.

    Args:
        boxes: B boxes ``(x1, y1, x2, y2)`` (a (B, 4) array or a list of 4-sequences).
        labels: B class ids, one per box (only checked for length; the masks do not depend on them).
        shape: ``(H, W)`` of the image.

    Returns:
        list of B (H, W) bool instance masks, ``box_to_mask(boxes[i], shape)``.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) if len(boxes) else np.zeros((0, 4))
    if len(labels) != len(boxes):
        raise ValueError(f'got {len(boxes)} boxes but {len(labels)} labels')
    return [box_to_mask(box, shape) for box in boxes]


def grabcut_in_box(image: np.ndarray, box: Sequence[float], iterations: int = 5) -> np.ndarray:
    """GrabCut baseline: OpenCV GrabCut initialised with the box as its rectangle.

    Pixels outside the box start as definite background, pixels inside as probable foreground
    (``cv2.GC_INIT_WITH_RECT``). The OpenCV RNG is seeded with 0 before the call (``cv2.setRNGSeed``, a side
    effect on the calling thread's OpenCV RNG) so the result is deterministic.

    Args:
        image: (H, W, 3) uint8 RGB image (converted to BGR for OpenCV; not modified).
        box: ``(x1, y1, x2, y2)``, rasterised by :func:`box_to_mask`.
        iterations: GrabCut iterations (>= 1).

    Returns:
        (H, W) bool foreground (``GC_FGD`` or ``GC_PR_FGD``) restricted to the box. Falls back to the
        box-fill mask ``box_to_mask(box, image.shape)`` when the box covers fewer than 2 pixels in a side,
        when GrabCut raises (e.g. the box covers the whole image, leaving no background samples) or when it
        returns no foreground.
    """
    import cv2

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'image must have shape (H, W, 3), got {image.shape}')
    if image.dtype != np.uint8:
        raise TypeError(f'image must be uint8 RGB, got dtype {image.dtype}')
    if iterations < 1:
        raise ValueError(f'iterations must be >= 1, got {iterations}')
    box_mask = box_to_mask(box, image.shape)
    c0, r0, c1, r1 = _box_bounds(box, image.shape)
    if c1 - c0 < 2 or r1 - r0 < 2:
        return box_mask
    bgr = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    gc_mask = np.zeros(image.shape[:2], dtype=np.uint8)
    bgd_model = np.zeros((1, 65), dtype=np.float64)
    fgd_model = np.zeros((1, 65), dtype=np.float64)
    cv2.setRNGSeed(0)
    try:
        gc_mask, _, _ = cv2.grabCut(bgr, gc_mask, (c0, r0, c1 - c0, r1 - r0), bgd_model, fgd_model,
                                    int(iterations), cv2.GC_INIT_WITH_RECT)
    except cv2.error:
        return box_mask
    fg = ((gc_mask == cv2.GC_FGD) | (gc_mask == cv2.GC_PR_FGD)) & box_mask
    return fg if fg.any() else box_mask


def _unique_masks(masks: Sequence[np.ndarray], shape: Tuple[int, int]) -> np.ndarray:
    """Stack (H, W) bool masks into (N, H, W) bool, keeping the first of identical masks, in order."""
    seen = set()
    kept = []
    for mask in masks:
        key = np.packbits(mask).tobytes()
        if key not in seen:
            seen.add(key)
            kept.append(mask)
    if not kept:
        return np.zeros((0, ) + shape, dtype=bool)
    return np.stack(kept).astype(bool, copy=False)


def _adjacent_pairs(segments: np.ndarray) -> np.ndarray:
    """(P, 2) sorted unique pairs ``(a, b)``, ``a < b``, of segment ids sharing a 4-neighbour border."""
    pairs = [np.stack([segments[:, :-1].ravel(), segments[:, 1:].ravel()], axis=1),
             np.stack([segments[:-1, :].ravel(), segments[1:, :].ravel()], axis=1)]
    pairs = np.concatenate(pairs)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    if not len(pairs):
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.sort(pairs, axis=1), axis=0)


def skimage_mask_proposals(image: np.ndarray,
                           scales: Sequence[float] = (50, 150, 400),
                           sigma: float = 0.8,
                           min_size: int = 20) -> np.ndarray:
    """Mask proposals from Felzenszwalb segmentations (a built-in stand-in for MCG).

    At each scale the image is segmented with ``skimage.segmentation.felzenszwalb(image, scale, sigma,
    min_size)`` (whose ``min_size`` merges smaller segments into a neighbour); every segment is a proposal and
    so is every union of two segments of that scale that share a 4-neighbour border. Proposals of fewer than
    ``min_size`` pixels are dropped, and identical proposals (within or across scales) are kept once.

    Memory is ``N * H * W`` bytes; N grows with the number of segments at the finest scale (roughly three times
    the number of segments, since each segment has a few neighbours).

    Args:
        image: (H, W, 3) RGB image (uint8 or float), or (H, W) grey image.
        scales: Felzenszwalb ``scale`` values (larger = bigger segments).
        sigma: Gaussian pre-smoothing std of Felzenszwalb.
        min_size: smallest segment / proposal size in pixels.

    Returns:
        (N, H, W) bool proposals, ordered by scale, then segments (by segment id) before the unions of
        adjacent pairs (by pair), keeping the first occurrence of duplicates.
    """
    from skimage.segmentation import felzenszwalb

    image = np.asarray(image)
    if image.ndim == 2:
        channel_axis = None
    elif image.ndim == 3:
        channel_axis = -1
    else:
        raise ValueError(f'image must be (H, W, 3) or (H, W), got {image.shape}')
    shape = image.shape[:2]
    proposals = []
    for scale in scales:
        segments = felzenszwalb(image, scale=scale, sigma=sigma, min_size=min_size, channel_axis=channel_axis)
        ids = np.unique(segments)
        singles = {int(i): segments == i for i in ids}
        proposals.extend(mask for mask in singles.values() if mask.sum() >= min_size)
        for a, b in _adjacent_pairs(segments):
            union = singles[int(a)] | singles[int(b)]
            if union.sum() >= min_size:
                proposals.append(union)
    return _unique_masks(proposals, shape)


def refine_with_proposals(mask: np.ndarray,
                          proposals: np.ndarray,
                          box: Optional[Sequence[float]] = None,
                          inside_thr: float = 0.9) -> np.ndarray:
    """Refine an instance mask with mask proposals (BBAM Eq. 4).

    The selected proposals are the one with the highest IoU with ``mask`` (the first on ties) and every
    proposal ``p`` lying mostly inside the mask, ``|p & mask| / |p| >= inside_thr`` (empty proposals are never
    selected). The result is their union, restricted to ``box`` when one is given.

    Args:
        mask: (H, W) bool foreground of one instance (e.g. a thresholded BBAM attribution map).
        proposals: (N, H, W) bool mask proposals.
        box: optional ``(x1, y1, x2, y2)`` of the instance (:func:`box_to_mask`).
        inside_thr: smallest fraction of a proposal inside the mask for it to be added.

    Returns:
        (H, W) bool refined mask (a new array). A copy of ``mask`` unchanged when there is no proposal, when
        the mask is empty, or when no proposal overlaps the mask at all.
    """
    mask = np.asarray(mask).astype(bool)
    if mask.ndim != 2:
        raise ValueError(f'mask must be (H, W), got {mask.shape}')
    proposals = np.asarray(proposals)
    if len(proposals) == 0 or not mask.any():
        return mask.copy()
    if proposals.ndim != 3 or proposals.shape[1:] != mask.shape:
        raise ValueError(f'proposals {proposals.shape} must be (N, H, W) with (H, W) = {mask.shape}')
    proposals = proposals.astype(bool, copy=False)
    flat = proposals.reshape(len(proposals), -1)
    inter = np.count_nonzero(flat & mask.reshape(1, -1), axis=1)
    if not inter.any():
        return mask.copy()
    area = np.count_nonzero(flat, axis=1)
    union = area + int(mask.sum()) - inter
    iou = inter / np.maximum(union, 1)
    selected = np.zeros(len(proposals), dtype=bool)
    selected[int(np.argmax(iou))] = True
    selected |= (area > 0) & (inter / np.maximum(area, 1) >= inside_thr)
    result = proposals[selected].any(axis=0)
    if box is not None:
        result &= box_to_mask(box, mask.shape)
    return result


def instances_to_semantic(masks: Sequence[np.ndarray],
                          labels: Sequence[int],
                          ignores: Optional[Sequence[Optional[np.ndarray]]],
                          shape: Sequence[int],
                          ignore_index: int = 255) -> np.ndarray:
    """Merge instance pseudo masks into a semantic label map.

    Per pixel: claimed as foreground by exactly one class (one or several instances of it) -> that class; by
    two or more different classes -> ``ignore_index``; by no class but inside some instance's ignore region
    -> ``ignore_index``; else 0 (background). Foreground of one instance thus beats the ignore region of another.

    Args:
        masks: list of B (H, W) bool instance foregrounds.
        labels: B class ids, 1-based (0 is background), in ``[1, 255]`` and different from ``ignore_index``.
        ignores: B (H, W) bool undecided regions or None each (or None for all).
        shape: ``(H, W)`` of the label map (trailing entries are ignored).
        ignore_index: value of undecided pixels, in ``[0, 255]``.

    Returns:
        (H, W) uint8 label map.
    """
    height, width = _hw(shape)
    if len(labels) != len(masks):
        raise ValueError(f'got {len(masks)} masks but {len(labels)} labels')
    if ignores is None:
        ignores = [None] * len(masks)
    if len(ignores) != len(masks):
        raise ValueError(f'got {len(masks)} masks but {len(ignores)} ignore masks')
    if not 0 <= ignore_index <= 255:
        raise ValueError(f'ignore_index must lie in [0, 255], got {ignore_index}')
    by_class = {}
    any_ignore = np.zeros((height, width), dtype=bool)
    for mask, label, ignore in zip(masks, labels, ignores):
        label = int(label)
        if not 1 <= label <= 255 or label == ignore_index:
            raise ValueError(f'labels must lie in [1, 255] and differ from ignore_index {ignore_index}, got {label}')
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (height, width):
            raise ValueError(f'mask {mask.shape} does not match shape {(height, width)}')
        if label in by_class:
            by_class[label] = by_class[label] | mask
        else:
            by_class[label] = mask.copy()
        if ignore is not None:
            ignore = np.asarray(ignore, dtype=bool)
            if ignore.shape != (height, width):
                raise ValueError(f'ignore {ignore.shape} does not match shape {(height, width)}')
            any_ignore |= ignore
    out = np.zeros((height, width), dtype=np.uint8)
    n_classes = np.zeros((height, width), dtype=np.int32)
    for label, fg in by_class.items():
        n_classes += fg
        out[fg] = label
    out[n_classes >= 2] = ignore_index
    out[(n_classes == 0) & any_ignore] = ignore_index
    return out


def threshold_attribution(attr: np.ndarray, fg_thr: float, bg_thr: float) -> Tuple[np.ndarray, np.ndarray]:
    """Split an attribution map (e.g. BBAM's) into foreground and undecided pixels.

    Args:
        attr: (H, W) float attribution in [0, 1].
        fg_thr: foreground is ``attr > fg_thr`` (strictly).
        bg_thr: undecided is ``bg_thr <= attr <= fg_thr`` (both inclusive); the rest is background.

    Returns:
        ``(fg, ignore)``, two (H, W) bool arrays, disjoint.
    """
    if bg_thr > fg_thr:
        raise ValueError(f'bg_thr ({bg_thr}) must not exceed fg_thr ({fg_thr})')
    attr = np.asarray(attr)
    fg = attr > fg_thr
    ignore = (attr >= bg_thr) & (attr <= fg_thr) & ~fg
    return fg, ignore

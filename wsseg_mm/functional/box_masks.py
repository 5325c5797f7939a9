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
* mask proposals: MCG's published ``.mat`` files (:func:`load_mcg_proposals`), COCO-style RLE JSON
  (:func:`load_rle_proposals`), or a built-in Felzenszwalb alternative for users without MCG
  (:func:`skimage_mask_proposals`);
* BBAM Eq. 4 (:func:`refine_with_proposals`): the attribution mask is replaced by the union of the proposal
  that overlaps it best and the proposals lying (almost) entirely inside it;
* :func:`threshold_attribution` splits a BBAM attribution map into foreground / undecided pixels, and
  :func:`instances_to_semantic` merges instance masks into a semantic label map with ``ignore_index`` where
  the instances disagree or are undecided.
"""
import json
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'box_to_mask', 'box_fill', 'grabcut_in_box', 'skimage_mask_proposals', 'load_mcg_proposals',
    'load_rle_proposals', 'refine_with_proposals', 'instances_to_semantic', 'threshold_attribution'
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


def _masks_from_superpixels(superpixels: np.ndarray, labels: Sequence[np.ndarray], scores: np.ndarray,
                            max_proposals: Optional[int]) -> np.ndarray:
    """(N, H, W) bool unions of 1-based superpixel ids, sorted by score descending (stable), at most
    ``max_proposals``."""
    superpixels = np.asarray(superpixels).astype(np.int64)
    if superpixels.ndim != 2:
        raise ValueError(f'superpixels must be (H, W), got {superpixels.shape}')
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(scores) != len(labels):
        raise ValueError(f'got {len(labels)} proposals but {len(scores)} scores')
    order = np.argsort(-scores, kind='stable')
    if max_proposals is not None:
        order = order[:max(int(max_proposals), 0)]
    n_sp = int(superpixels.max()) if superpixels.size else 0
    masks = np.zeros((len(order), ) + superpixels.shape, dtype=bool)
    for out, index in enumerate(order):
        ids = np.asarray(labels[index]).reshape(-1).astype(np.int64)
        ids = ids[(ids >= 1) & (ids <= n_sp)]
        lut = np.zeros(n_sp + 1, dtype=bool)
        lut[ids] = True
        masks[out] = lut[superpixels]
    return masks


def _read_mcg_hdf5(path: str) -> Tuple[np.ndarray, List[np.ndarray], np.ndarray]:
    """superpixels (H, W), labels (list of id vectors) and scores (N,) of a MATLAB v7.3 (HDF5) MCG file.

    MATLAB writes arrays column-major, so HDF5 holds them transposed; a cell array is a dataset of object
    references, each pointing at the dataset of one cell."""
    import h5py

    with h5py.File(path, 'r') as f:
        superpixels = np.asarray(f['superpixels']).T
        refs = np.asarray(f['labels']).T.reshape(-1, order='F')
        labels = [np.asarray(f[ref]).reshape(-1) for ref in refs]
        scores = np.asarray(f['scores']).reshape(-1)
    return superpixels, labels, scores


def load_mcg_proposals(path: str, max_proposals: Optional[int] = 1000) -> np.ndarray:
    """Masks of one image from MCG's published per-image ``.mat`` file.

    The file holds ``superpixels`` (H, W) int superpixel map with 1-based ids, ``labels`` (a cell array: each
    proposal a vector of superpixel ids) and ``scores`` (one per proposal). MATLAB v7.3 files (HDF5) are read
    with h5py, older ones with ``scipy.io.loadmat``.

    Args:
        path: the ``.mat`` file.
        max_proposals: keep at most this many highest-scoring proposals (None = all).

    Returns:
        (N, H, W) bool masks ordered by score descending (ties keep file order), N <= ``max_proposals``.
    """
    import h5py
    import scipy.io

    if h5py.is_hdf5(path):
        superpixels, labels, scores = _read_mcg_hdf5(path)
    else:
        mat = scipy.io.loadmat(path)
        for key in ('superpixels', 'labels', 'scores'):
            if key not in mat:
                raise KeyError(f'{path} has no {key!r} (keys: {sorted(k for k in mat if not k.startswith("__"))})')
        superpixels = mat['superpixels']
        cells = np.asarray(mat['labels'])
        if cells.dtype == object:
            # A MATLAB cell array (N, 1) or (1, N); column-major order is MATLAB's linear index order.
            labels = [np.asarray(c) for c in cells.reshape(-1, order='F')]
        else:
            # A single proposal saved as a plain vector instead of a cell array.
            labels = [cells]
        scores = mat['scores']
    return _masks_from_superpixels(superpixels, labels, scores, max_proposals)


def _entry_matches(entry: dict, file_name: str, id_to_name: dict) -> bool:
    """Whether a proposal entry belongs to ``file_name`` (by ``file_name``, or by ``image_id`` mapped through
    the JSON's ``images`` table or equal to the file name / its stem)."""
    if 'file_name' in entry:
        return entry['file_name'] == file_name
    if 'image_id' in entry:
        image_id = entry['image_id']
        if image_id in id_to_name:
            return id_to_name[image_id] == file_name
        return str(image_id) in (file_name, osp.splitext(osp.basename(file_name))[0])
    return False


def load_rle_proposals(path: str, file_name: str, max_proposals: Optional[int] = None) -> np.ndarray:
    """Mask proposals of one image from a COCO-style RLE JSON.

    The JSON is a list of dicts (or ``{"annotations": [...], "images": [...]}``), each with ``segmentation``
    (COCO RLE, compressed or not), optional ``score`` (default 1.0) and either ``file_name`` or ``image_id``.
    An ``image_id`` selects the entry when the ``images`` table maps it to ``file_name``, or (without a
    table entry) when it equals ``file_name`` or its stem as a string.

    Args:
        path: the JSON file.
        file_name: the image whose proposals are returned.
        max_proposals: keep at most this many highest-scoring proposals (None = all).

    Returns:
        (N, H, W) bool masks ordered by score descending (ties keep file order); (0, 0, 0) when the image has
        no proposal in the file.
    """
    from wsseg_mm.datasets.pseudo_labels import decode_mask

    with open(path) as f:
        data = json.load(f)
    id_to_name = {}
    if isinstance(data, dict):
        id_to_name = {img['id']: img['file_name'] for img in data.get('images', []) if 'file_name' in img}
        entries = data.get('annotations', [])
    else:
        entries = data
    selected = [e for e in entries if _entry_matches(e, file_name, id_to_name)]
    if not selected:
        return np.zeros((0, 0, 0), dtype=bool)
    scores = np.array([float(e.get('score', 1.0)) for e in selected], dtype=np.float64)
    order = np.argsort(-scores, kind='stable')
    if max_proposals is not None:
        order = order[:max(int(max_proposals), 0)]
    masks = [decode_mask(selected[i]['segmentation']) for i in order]
    if not masks:
        return np.zeros((0, 0, 0), dtype=bool)
    if len({m.shape for m in masks}) != 1:
        raise ValueError(f'proposals of {file_name} in {path} have different sizes: {sorted({m.shape for m in masks})}')
    return np.stack(masks).astype(bool, copy=False)


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


def threshold_attribution(attr: np.ndarray, fg_thr: float = 0.8,
                          bg_thr: float = 0.2) -> Tuple[np.ndarray, np.ndarray]:
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

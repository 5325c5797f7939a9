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
* mask proposals: a built-in Felzenszwalb alternative for users without MCG (:func:`skimage_segment_proposals`,
  kept as segment maps + segment ids in a :class:`SegmentProposals`, memory independent of their number; or
  :func:`skimage_mask_proposals`, the (N, H, W) stack);
  MCG's published ``.mat`` files and COCO-style RLE JSON are read by :mod:`wsseg_mm.fileio.proposals`;
* BBAM Eq. 4 (:func:`refine_with_proposals`): the attribution mask is replaced by the union of the proposal
  that overlaps it best and the proposals lying (almost) entirely inside it;
* :func:`threshold_attribution` splits a BBAM attribution map into foreground / undecided pixels, and
  :func:`instances_to_semantic` merges instance masks into a semantic label map with ``ignore_index`` where
  the instances disagree or are undecided.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = [
    'box_to_mask', 'box_fill', 'grabcut_in_box', 'SegmentProposals', 'skimage_segment_proposals',
    'skimage_mask_proposals', 'refine_with_proposals', 'instances_to_semantic', 'threshold_attribution'
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


class SegmentProposals:
    """N mask proposals, each a union of segments of one of K segmentations of the image, kept as the K segment maps
    and each proposal's segment ids instead of N (H, W) masks: 4 K H W bytes whatever N (a (N, H, W) bool stack is
    N H W bytes: 112 GB for the 37,364 Felzenszwalb proposals of a textured 2000 x 1500 image).

    It has ``len``, ``shape`` ``(N, H, W)``, ``dtype`` bool and ``proposal[i]`` / ``np.asarray(proposals)`` (the
    (H, W) mask of one, the (N, H, W) stack of all); :func:`refine_with_proposals` takes it as it takes a mask stack
    and gives the same result, computing overlaps from per-segment pixel counts.

    Args:
        segments: (K, H, W) int segment maps whose ids are unique over all K maps (every id in ``[0, S)`` names the
            pixels of one map), e.g. Felzenszwalb segmentations at K scales, map k's ids offset by the ids before it.
        members: (M,) int segment ids; proposal i is the union of ``members[offsets[i]:offsets[i + 1]]``.
        offsets: (N + 1,) int, increasing from 0 to M (every proposal has at least one segment).
    """

    def __init__(self, segments: np.ndarray, members: np.ndarray, offsets: np.ndarray) -> None:
        segments = np.asarray(segments)
        if segments.ndim != 3:
            raise ValueError(f'segments must be (K, H, W), got {segments.shape}')
        self.segments = segments.astype(np.int32, copy=False)
        self.num_segments = int(self.segments.max()) + 1 if self.segments.size else 0
        self.members = np.asarray(members, dtype=np.int64).reshape(-1)
        self.offsets = np.asarray(offsets, dtype=np.int64).reshape(-1)
        if (len(self.offsets) == 0 or self.offsets[0] != 0 or self.offsets[-1] != len(self.members)
                or (np.diff(self.offsets) < 1).any()):
            raise ValueError('offsets must increase by at least 1 from 0 to len(members)')
        if len(self.members) and not (0 <= self.members.min() and self.members.max() < self.num_segments):
            raise ValueError(f'members must be segment ids in [0, {self.num_segments})')
        # (S,) pixels of each segment and the map holding it
        self._segment_area = np.zeros(self.num_segments, dtype=np.int64)
        self._segment_map = np.zeros(self.num_segments, dtype=np.int64)
        for k, seg in enumerate(self.segments):
            counts = np.bincount(seg.ravel(), minlength=self.num_segments)
            self._segment_area += counts
            self._segment_map[counts > 0] = k

    dtype = np.dtype(bool)
    ndim = 3

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def shape(self) -> Tuple[int, int, int]:
        return (len(self), ) + tuple(self.segments.shape[1:])

    def _per_proposal(self, per_segment: np.ndarray) -> np.ndarray:
        """(N,) sums over each proposal's segments of (S,) values (the segments of a proposal are disjoint)."""
        if not len(self):
            return np.zeros(0, dtype=per_segment.dtype)
        return np.add.reduceat(per_segment[self.members], self.offsets[:-1])

    def areas(self) -> np.ndarray:
        """(N,) int64 pixels of each proposal."""
        return self._per_proposal(self._segment_area)

    def overlaps(self, mask: np.ndarray) -> np.ndarray:
        """(N,) int64 pixels of each proposal inside the (H, W) bool ``mask``."""
        counts = sum(np.bincount(seg[mask], minlength=self.num_segments) for seg in self.segments)
        return self._per_proposal(np.asarray(counts, dtype=np.int64))

    def union(self, selected: np.ndarray) -> np.ndarray:
        """(H, W) bool union of the proposals where the (N,) bool ``selected`` is True."""
        lut = np.zeros(self.num_segments, dtype=bool)
        lut[self.members[np.repeat(np.asarray(selected, dtype=bool), np.diff(self.offsets))]] = True
        out = np.zeros(self.segments.shape[1:], dtype=bool)
        for seg in self.segments:
            out |= lut[seg]
        return out

    def __getitem__(self, index: int) -> np.ndarray:
        """(H, W) bool mask of proposal ``index``."""
        index = range(len(self))[index]
        out = np.zeros(self.segments.shape[1:], dtype=bool)
        for i in self.members[self.offsets[index]:self.offsets[index + 1]]:
            out |= self.segments[self._segment_map[i]] == i
        return out

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def to_masks(self) -> np.ndarray:
        """(N, H, W) bool stack of the proposals (N H W bytes)."""
        out = np.zeros(self.shape, dtype=bool)
        for i in range(len(self)):
            out[i] = self[i]
        return out

    def __array__(self, dtype=None, copy=None):
        masks = self.to_masks()
        return masks if dtype is None else masks.astype(dtype)


def _adjacent_pairs(segments: np.ndarray) -> np.ndarray:
    """(P, 2) sorted unique pairs ``(a, b)``, ``a < b``, of segment ids sharing a 4-neighbour border (ids >= 0)."""
    size = np.int64(segments.max()) + 1 if segments.size else 1
    codes = []
    for a, b in ((segments[:, :-1], segments[:, 1:]), (segments[:-1, :], segments[1:, :])):
        a, b = a.ravel().astype(np.int64), b.ravel().astype(np.int64)
        differ = a != b
        a, b = a[differ], b[differ]
        codes.append(np.minimum(a, b) * size + np.maximum(a, b))  # one int per pair: sorting it sorts (a, b)
    codes = np.unique(np.concatenate(codes))
    return np.stack([codes // size, codes % size], axis=1)


def skimage_segment_proposals(image: np.ndarray,
                              scales: Sequence[float] = (50, 150, 400),
                              sigma: float = 0.8,
                              min_size: int = 20) -> SegmentProposals:
    """The proposals of :func:`skimage_mask_proposals`, in the same order, as a :class:`SegmentProposals`.

    Identical proposals are found by a 64-bit hash of their pixel set (the sum of fixed random per-pixel values)
    and their area, and checked pixel for pixel before one is dropped, so the result equals the mask stack exactly.

    Memory does not grow with N: the K (H, W) segment maps (4 K H W bytes) next to what Felzenszwalb itself needs,
    which sets the peak. Measured (growth of ``ru_maxrss`` over the call, default settings, a textured synthetic
    image, 1 thread): 500 x 375, 2,407 proposals: 67 MB (Felzenszwalb alone 60 MB); 2000 x 1500, 37,364 proposals:
    903 MB (Felzenszwalb alone 902 MB). Their (N, H, W) stacks would take 0.45 GB and 112 GB; building them as
    :func:`skimage_mask_proposals` did before (a mask per segment, a list of masks, then a stack) peaked at 918 MB
    at 500 x 375 and was killed at 23.5 GB on a 2000 x 1500 photograph.

    Args:
        image: (H, W, 3) RGB image (uint8 or float), or (H, W) grey image.
        scales, sigma, min_size: as :func:`skimage_mask_proposals`.

    Returns:
        N proposals over K = ``len(scales)`` segment maps.
    """
    from skimage.segmentation import felzenszwalb

    image = np.asarray(image)
    if image.ndim == 2:
        channel_axis = None
    elif image.ndim == 3:
        channel_axis = -1
    else:
        raise ValueError(f'image must be (H, W, 3) or (H, W), got {image.shape}')
    height, width = image.shape[:2]
    # fixed per-pixel values (independent of the image): a pixel set's hash is the sum of its values, modulo 2**64
    weights = np.random.default_rng(0).integers(0, 2**64 - 1, size=height * width, dtype=np.uint64, endpoint=True)
    maps, members, sizes, seen = [], [], [], {}
    base = 0
    for scale in scales:
        segments = felzenszwalb(image, scale=scale, sigma=sigma, min_size=min_size, channel_axis=channel_axis)
        ids, flat = np.unique(segments, return_inverse=True)
        flat = flat.reshape(-1)
        area = np.bincount(flat, minlength=len(ids))
        hashes = np.zeros(len(ids), dtype=np.uint64)
        np.add.at(hashes, flat, weights)
        segments = (flat + base).astype(np.int32).reshape(height, width)
        maps.append(segments)
        candidates = [(i, ) for i in range(len(ids)) if area[i] >= min_size]
        candidates += [(int(a), int(b)) for a, b in _adjacent_pairs(flat.reshape(height, width))
                       if area[a] + area[b] >= min_size]
        del flat
        for group in candidates:
            key = (int(area[list(group)].sum()), int(np.add.reduce(hashes[list(group)], dtype=np.uint64)))
            ids_global = [base + i for i in group]
            if key in seen and any(_same_pixels(maps, ids_global, other) for other in seen[key]):
                continue
            seen.setdefault(key, []).append(ids_global)
            members.extend(ids_global)
            sizes.append(len(group))
        base += len(ids)
    del weights
    segments = np.stack(maps) if maps else np.zeros((0, height, width), dtype=np.int32)
    return SegmentProposals(segments, np.asarray(members, dtype=np.int64), np.concatenate([[0], np.cumsum(sizes)]))


def _same_pixels(maps: List[np.ndarray], ids_a: List[int], ids_b: List[int]) -> bool:
    """Whether two unions of segments (global ids over ``maps``) cover the same pixels."""
    def mask(ids):
        out = np.zeros(maps[0].shape, dtype=bool)
        for seg in maps:
            for i in ids:
                out |= seg == i
        return out
    return ids_a == ids_b or np.array_equal(mask(ids_a), mask(ids_b))


def skimage_mask_proposals(image: np.ndarray,
                           scales: Sequence[float] = (50, 150, 400),
                           sigma: float = 0.8,
                           min_size: int = 20) -> np.ndarray:
    """Mask proposals from Felzenszwalb segmentations (a built-in stand-in for MCG).

    At each scale the image is segmented with ``skimage.segmentation.felzenszwalb(image, scale, sigma,
    min_size)`` (whose ``min_size`` merges smaller segments into a neighbour); every segment is a proposal and
    so is every union of two segments of that scale that share a 4-neighbour border. Proposals of fewer than
    ``min_size`` pixels are dropped, and identical proposals (within or across scales) are kept once.

    The result takes ``N * H * W`` bytes; N grows with the number of segments at the finest scale (roughly three
    times the number of segments, since each segment has a few neighbours). Measured peak (``ru_maxrss``, as in
    :func:`skimage_segment_proposals`): 442 MB at 500 x 375 (2,407 proposals; 918 MB before it built on
    :func:`skimage_segment_proposals`); the stack of a 2000 x 1500 image would take 112 GB. For large images use
    :func:`skimage_segment_proposals`: the same proposals in 4 K H W bytes, which :func:`refine_with_proposals`
    takes as it is.

    Args:
        image: (H, W, 3) RGB image (uint8 or float), or (H, W) grey image.
        scales: Felzenszwalb ``scale`` values (larger = bigger segments).
        sigma: Gaussian pre-smoothing std of Felzenszwalb.
        min_size: smallest segment / proposal size in pixels.

    Returns:
        (N, H, W) bool proposals, ordered by scale, then segments (by segment id) before the unions of
        adjacent pairs (by pair), keeping the first occurrence of duplicates.
    """
    return skimage_segment_proposals(image, scales, sigma, min_size).to_masks()


def refine_with_proposals(mask: np.ndarray,
                          proposals: Union[np.ndarray, SegmentProposals],
                          box: Optional[Sequence[float]] = None,
                          inside_thr: float = 0.9) -> np.ndarray:
    """Refine an instance mask with mask proposals (BBAM Eq. 4).

    The selected proposals are the one with the highest IoU with ``mask`` (the first on ties) and every
    proposal ``p`` lying mostly inside the mask, ``|p & mask| / |p| >= inside_thr`` (empty proposals are never
    selected). The result is their union, restricted to ``box`` when one is given.

    Args:
        mask: (H, W) bool foreground of one instance (e.g. a thresholded BBAM attribution map).
        proposals: (N, H, W) bool mask proposals, or a :class:`SegmentProposals` (same result, without the N masks).
        box: optional ``(x1, y1, x2, y2)`` of the instance (:func:`box_to_mask`).
        inside_thr: smallest fraction of a proposal inside the mask for it to be added.

    Returns:
        (H, W) bool refined mask (a new array). A copy of ``mask`` unchanged when there is no proposal, when
        the mask is empty, or when no proposal overlaps the mask at all.
    """
    mask = np.asarray(mask).astype(bool)
    if mask.ndim != 2:
        raise ValueError(f'mask must be (H, W), got {mask.shape}')
    segmented = isinstance(proposals, SegmentProposals)
    if not segmented:
        proposals = np.asarray(proposals)
    if len(proposals) == 0 or not mask.any():
        return mask.copy()
    if len(proposals.shape) != 3 or tuple(proposals.shape[1:]) != mask.shape:
        raise ValueError(f'proposals {proposals.shape} must be (N, H, W) with (H, W) = {mask.shape}')
    if segmented:
        inter, area = proposals.overlaps(mask), proposals.areas()
    else:
        proposals = proposals.astype(bool, copy=False)
        flat = proposals.reshape(len(proposals), -1)
        inter = np.count_nonzero(flat & mask.reshape(1, -1), axis=1)
        area = np.count_nonzero(flat, axis=1)
    if not inter.any():
        return mask.copy()
    union = area + int(mask.sum()) - inter
    iou = inter / np.maximum(union, 1)
    selected = np.zeros(len(proposals), dtype=bool)
    selected[int(np.argmax(iou))] = True
    selected |= (area > 0) & (inter / np.maximum(area, 1) >= inside_thr)
    result = proposals.union(selected) if segmented else proposals[selected].any(axis=0)
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

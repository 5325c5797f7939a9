"""WS^2's per-frame steps besides Alg. 2 (Chen, Li, Luo, Xu, CVPR 2020) as plain numpy functions: the pair of
each kept superpixel when a video has several tagged actor-action pairs, the square patch of a PA region, the
cut-and-paste patch and its background, the selection vote (Sec. 3.2) and the action alignment of Sec. 5.2.

Shape legend used in the docstrings:

* ``H, W`` -- frame height and width; ``T`` -- frames of a clip;
* ``P`` -- superpixels of a frame; ``A`` / ``B`` -- tagged actors / actions of a video; ``K`` -- tagged pairs;
* ``R`` -- PA regions (one per class per frame); ``F`` -- PA frames; ``C`` -- classes, background (0) included.

A box is ``(x0, y0, x1, y1)`` in pixels, ends exclusive, so ``frame[y0:y1, x0:x1]`` is its patch.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .metrics import A2D_LABEL_TO_ACTOR

__all__ = [
    'D_PATCH_SIZE', 'D_REAL_THRESHOLD', 'assign_pairs', 'region_boxes', 'square_box', 'crop_box',
    'find_background_box', 'cut_and_paste', 'resize_patch', 'region_passes', 'select_frames', 'align_actions'
]

Box = Tuple[int, int, int, int]

# Sec. 3.2 (proposal): D calls a cut-and-paste patch real when its probability is at least 0.5.
D_REAL_THRESHOLD = 0.5
# Sec. 3.2 (proposal): patches are resized to 64x64 for D and the actor classifier.
D_PATCH_SIZE = 64


# ----------------------------------------------------------------------------------------------------------
# Several tagged pairs
# ----------------------------------------------------------------------------------------------------------
def _max_normalised(maps: np.ndarray) -> np.ndarray:
    """(N, H, W) maps each divided by its own maximum (an all-zero or negative map stays / becomes 0)."""
    maps = np.asarray(maps, dtype=np.float64)
    peak = maps.reshape(len(maps), -1).max(axis=1) if maps.size else np.zeros(len(maps))
    out = np.zeros_like(maps)
    np.divide(maps, peak[:, None, None], out=out, where=peak[:, None, None] > 0)
    return out


def assign_pairs(superpixels: np.ndarray,
                 keep: np.ndarray,
                 actor_maps: np.ndarray,
                 action_maps: np.ndarray,
                 pairs: Sequence[Tuple[int, int]],
                 pair_labels: Sequence[int]) -> np.ndarray:
    """Label map of the kept superpixels when a video is tagged with several actor-action pairs.

    Each kept superpixel p takes the tagged pair (a, b) that maximises mean over p of ``S^a_actor / max S^a_actor
    + S^b_action / max S^b_action`` (each Grad-CAM map divided by its own maximum over the frame); ties go to the
    first pair. The sums over superpixels are one weighted bincount per map (no loop over superpixels).

    Args:
        superpixels: (H, W) int superpixel labels ``0 .. P-1``.
        keep: (P,) bool kept superpixels (:func:`~wsseg_mm.functional.superpixel.keep_superpixels` on the binary
            M_init = M_actor | M_action); a superpixel label >= len(keep) counts as not kept.
        actor_maps: (A, H, W) Grad-CAM maps of the tagged actors, at the frame's size.
        action_maps: (B, H, W) Grad-CAM maps of the tagged actions, at the frame's size.
        pairs: K tagged pairs ``(i, j)``: actor map index i, action map index j.
        pair_labels: K class labels (e.g. indices of :data:`~wsseg_mm.metainfo.A2D_SEG_CLASSES`), all > 0.

    Returns:
        (H, W) int64 labels: ``pair_labels[k]`` of the chosen pair on kept superpixels, 0 elsewhere.
    """
    superpixels = np.asarray(superpixels, dtype=np.int64)
    keep = np.asarray(keep, dtype=bool)
    actor_maps, action_maps = np.asarray(actor_maps), np.asarray(action_maps)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    pair_labels = np.asarray(pair_labels, dtype=np.int64).reshape(-1)
    if len(pairs) == 0 or len(pairs) != len(pair_labels):
        raise ValueError(f'assign_pairs needs at least one tagged pair and one label per pair, got {len(pairs)} '
                         f'pairs and {len(pair_labels)} labels')
    if (pair_labels <= 0).any():
        raise ValueError(f'pair labels must be > 0 (0 is background), got {pair_labels.tolist()}')
    for name, maps, column in (('actor', actor_maps, 0), ('action', action_maps, 1)):
        if maps.ndim != 3 or maps.shape[1:] != superpixels.shape:
            raise ValueError(f'{name}_maps must be (N, H, W) with (H, W) = superpixels {superpixels.shape}, got '
                             f'{maps.shape}')
        if pairs[:, column].min() < 0 or pairs[:, column].max() >= len(maps):
            raise ValueError(f'a pair refers to {name} map {pairs[:, column].max()} of {len(maps)}')
    num_sp = max(int(superpixels.max()) + 1 if superpixels.size else 0, len(keep))
    flat = superpixels.ravel()
    sizes = np.maximum(np.bincount(flat, minlength=num_sp), 1)

    def sums(maps: np.ndarray) -> np.ndarray:  # (N, P) sum of each normalised map over each superpixel
        normed = _max_normalised(maps)
        return np.stack([np.bincount(flat, weights=m.ravel(), minlength=num_sp) for m in normed]) \
            if len(normed) else np.zeros((0, num_sp))

    score = (sums(actor_maps)[pairs[:, 0]] + sums(action_maps)[pairs[:, 1]]) / sizes  # (K, P) mean over p
    best = np.argmax(score, axis=0)
    kept = np.zeros(num_sp, dtype=bool)
    kept[:len(keep)] = keep
    per_superpixel = np.where(kept, pair_labels[best], 0)
    return per_superpixel[superpixels]


# ----------------------------------------------------------------------------------------------------------
# Patches and cut-and-paste
# ----------------------------------------------------------------------------------------------------------
def square_box(mask: np.ndarray, scale: float = 1.0) -> Box:
    """Square box around the pixels of a region, kept inside the frame.

    The side is ``ceil(scale * max(h, w))`` of the region's bounding box (at least 1) and the square is centred
    on the bounding box; where it would cross a border it is shifted back inside (so it still contains the
    bounding box); only a side larger than the frame is clipped to it (then the box is not square).

    Args:
        mask: (H, W) bool region (non-empty).
        scale: side relative to the longer side of the bounding box (>= 1 keeps the whole region).

    Returns:
        ``(x0, y0, x1, y1)`` ints, ends exclusive.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2 or not mask.any():
        raise ValueError(f'square_box needs a non-empty (H, W) mask, got shape {mask.shape} with '
                         f'{int(mask.sum())} pixels')
    height, width = mask.shape
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    side = max(int(np.ceil(scale * max(y1 - y0, x1 - x0))), 1)

    def place(lo: int, hi: int, size: int) -> Tuple[int, int]:
        if side >= size:
            return 0, size
        start = int(np.floor((lo + hi - side) / 2))
        start = min(max(start, 0), size - side)
        return start, start + side

    bx0, bx1 = place(x0, x1, width)
    by0, by1 = place(y0, y1, height)
    return bx0, by0, bx1, by1


def region_boxes(labels: np.ndarray, scale: float = 1.0, ignore_index: int = 255) -> List[Tuple[int, Box]]:
    """The regions of a PA frame (one per foreground class, connected or not) and their square boxes.

    Args:
        labels: (H, W) int PA labels, 0 = background, ``ignore_index`` = void.
        scale: as :func:`square_box`.
        ignore_index: void value (not a region).

    Returns:
        ``[(class, (x0, y0, x1, y1)), ...]`` by increasing class.
    """
    labels = np.asarray(labels)
    classes = [int(c) for c in np.unique(labels) if c != 0 and c != ignore_index]
    return [(c, square_box(labels == c, scale)) for c in classes]


def crop_box(image: np.ndarray, box: Box) -> np.ndarray:
    """``image[y0:y1, x0:x1]`` of an (H, W, ...) array (a view)."""
    x0, y0, x1, y1 = box
    return np.asarray(image)[y0:y1, x0:x1]


def find_background_box(frames_labels: Sequence[np.ndarray],
                        size: Tuple[int, int],
                        seed: int = 0,
                        ignore_index: int = 255) -> Optional[Tuple[int, Box]]:
    """A patch position with no PA pixel in any frame of a video, drawn uniformly and reproducibly.

    Every (frame, top-left) whose (h, w) window holds only background (0) is a candidate (void pixels count as
    not background, since they may hide a region); summed-area tables find them all at once, and
    ``numpy.random.default_rng(seed)`` picks one, so the same seed gives the same patch.

    Args:
        frames_labels: F (H_f, W_f) int PA label maps of the video's frames (sizes may differ).
        size: ``(h, w)`` of the patch.
        seed: random seed of the choice.
        ignore_index: void value.

    Returns:
        ``(frame index, (x0, y0, x1, y1))``, or None when no frame has such a window.
    """
    h, w = int(size[0]), int(size[1])
    if h < 1 or w < 1:
        raise ValueError(f'patch size must be positive, got {size}')
    candidates = []  # (frame, flat indices of valid top-left corners, width of the corner grid)
    for index, labels in enumerate(frames_labels):
        labels = np.asarray(labels)
        rows, cols = labels.shape[0] - h + 1, labels.shape[1] - w + 1
        if rows < 1 or cols < 1:
            continue
        busy = np.pad((labels != 0).astype(np.int64), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        window = busy[h:, w:] - busy[:-h, w:] - busy[h:, :-w] + busy[:-h, :-w]  # (rows, cols)
        free = np.flatnonzero(window == 0)
        if free.size:
            candidates.append((index, free, cols))
    total = sum(len(free) for _, free, _ in candidates)
    if total == 0:
        return None
    pick = int(np.random.default_rng(seed).integers(total))
    for index, free, cols in candidates:
        if pick < len(free):
            y0, x0 = divmod(int(free[pick]), cols)
            return index, (x0, y0, x0 + w, y0 + h)
        pick -= len(free)
    raise AssertionError('unreachable: pick < total')


def cut_and_paste(frame: np.ndarray, region: np.ndarray, box: Box, background: np.ndarray,
                  background_box: Box) -> np.ndarray:
    """The cut-and-paste patch of a region: its pixels in ``box`` pasted onto a same-size background patch.

    Args:
        frame: (H, W, 3) frame of the region.
        region: (H, W) bool region (the PA pixels of one class).
        box: ``(x0, y0, x1, y1)`` patch of the region (:func:`square_box`).
        background: (H', W', 3) frame of the same video that holds the background patch.
        background_box: a box of the same size in ``background`` (:func:`find_background_box`).

    Returns:
        (h, w, 3) new array: the background patch with the region's pixels copied in.
    """
    patch = crop_box(frame, box)
    inside = crop_box(np.asarray(region, dtype=bool), box)
    out = crop_box(background, background_box).copy()
    if out.shape != patch.shape:
        raise ValueError(f'the background patch {out.shape} and the region patch {patch.shape} differ in size')
    out[inside] = patch[inside]
    return out


def resize_patch(patch: np.ndarray, size: int = D_PATCH_SIZE) -> np.ndarray:
    """(h, w, C) patch -> (size, size, C) patch of the same dtype (bilinear, OpenCV's pixel-centre convention).

    A box clipped at the frame (:func:`square_box`) is not square; it is stretched to the square.
    """
    import cv2
    patch = np.asarray(patch)
    if patch.ndim != 3 or min(patch.shape[:2]) < 1:
        raise ValueError(f'resize_patch expects a non-empty (h, w, C) patch, got shape {patch.shape}')
    resized = cv2.resize(patch, (size, size), interpolation=cv2.INTER_LINEAR)
    return resized.reshape(size, size, patch.shape[2])


# ----------------------------------------------------------------------------------------------------------
# Selection (Alg. 1 / Sec. 3.2)
# ----------------------------------------------------------------------------------------------------------
def region_passes(real_probs: np.ndarray, actor_hits: np.ndarray, threshold: float = D_REAL_THRESHOLD) -> np.ndarray:
    """A region passes if D calls its cut-and-paste patch real (prob >= threshold) or the actor classifier
    predicts its actor from it.

    Args:
        real_probs: (R,) D's probability that each region's cut-and-paste patch is real.
        actor_hits: (R,) bool: the actor classifier's prediction on the patch is the region's actor.
        threshold: D's decision threshold.

    Returns:
        (R,) bool.
    """
    real_probs, actor_hits = np.asarray(real_probs, dtype=np.float64), np.asarray(actor_hits, dtype=bool)
    if real_probs.shape != actor_hits.shape:
        raise ValueError(f'{real_probs.shape} probabilities for {actor_hits.shape} classifier decisions')
    return (real_probs >= threshold) | actor_hits


def select_frames(region_frames: np.ndarray, passes: np.ndarray, num_frames: int) -> np.ndarray:
    """Frames whose PA regions all pass; a frame without any region (empty PA) is never selected.

    Args:
        region_frames: (R,) int frame index of each region.
        passes: (R,) bool vote of each region (:func:`region_passes`).
        num_frames: F.

    Returns:
        (F,) bool selected frames.
    """
    region_frames = np.asarray(region_frames, dtype=np.int64).reshape(-1)
    passes = np.asarray(passes, dtype=bool).reshape(-1)
    if region_frames.shape != passes.shape:
        raise ValueError(f'{len(region_frames)} region frame indices for {len(passes)} votes')
    if region_frames.size and (region_frames.min() < 0 or region_frames.max() >= num_frames):
        raise ValueError(f'region frame indices must be in [0, {num_frames})')
    regions = np.bincount(region_frames, minlength=num_frames)
    failed = np.bincount(region_frames[~passes], minlength=num_frames)
    return (regions > 0) & (failed == 0)


# ----------------------------------------------------------------------------------------------------------
# Action alignment (Sec. 5.2)
# ----------------------------------------------------------------------------------------------------------
def align_actions(frames_labels: Sequence[np.ndarray],
                  label_to_actor: Optional[np.ndarray] = None,
                  ignore_index: int = 255) -> List[np.ndarray]:
    """Give every predicted actor of a clip one action: the pixel-majority action of that actor over the clip.

    The paper gives each predicted actor the most frequent action of its neighbouring frames; the proposal here
    takes the whole clip and treats all pixels of one actor class as one actor (two adults doing different
    things in one clip end up with one action). Counting over the clip's frames, each actor a keeps the label
    (a, b) with most pixels among the labels of actor a (ties: the lower label), and every pixel of actor a is
    relabelled to it. Background, void and actor-less labels stay as they are.

    Args:
        frames_labels: T (H_t, W_t) int actor-action label maps of one clip.
        label_to_actor: (C,) actor of each label (0 = no actor); A2D's
            :data:`~wsseg_mm.functional.metrics.A2D_LABEL_TO_ACTOR` by default.
        ignore_index: void value.

    Returns:
        T new (H_t, W_t) int64 label maps.
    """
    label_to_actor = A2D_LABEL_TO_ACTOR if label_to_actor is None else np.asarray(label_to_actor, dtype=np.int64)
    num_labels = len(label_to_actor)
    frames = [np.asarray(f, dtype=np.int64) for f in frames_labels]
    values = np.concatenate([f.ravel() for f in frames]) if frames else np.zeros(0, dtype=np.int64)
    values = values[values != ignore_index]
    if values.size and (values.min() < 0 or values.max() >= num_labels):
        raise ValueError(f'labels must be in [0, {num_labels}) or {ignore_index}; label_to_actor has '
                         f'{num_labels} entries')
    counts = np.bincount(values, minlength=num_labels)
    # For each actor the label with most pixels: sort labels by (actor, -count, label), take each actor's first.
    order = np.lexsort((np.arange(num_labels), -counts, label_to_actor))
    first = np.r_[True, label_to_actor[order][1:] != label_to_actor[order][:-1]]
    winner = np.zeros(int(label_to_actor.max()) + 1, dtype=np.int64)
    winner[label_to_actor[order][first]] = order[first]
    mapping = np.where((label_to_actor > 0) & (counts[winner[label_to_actor]] > 0), winner[label_to_actor],
                       np.arange(num_labels))
    out = []
    for f in frames:
        valid = (f >= 0) & (f < num_labels)
        out.append(np.where(valid, mapping[np.clip(f, 0, num_labels - 1)], f))
    return out

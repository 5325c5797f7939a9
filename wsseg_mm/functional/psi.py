"""PSI's cross-layer pixel aggregation (CPP) and its label diffusion (SLD), Xu et al., ICCV 2021.

Scribble-Supervised Semantic Segmentation Inference (PSI) trains a DeepLabV3+ on scribbles whose labels grow
step by step:

* CPP (Sec. 3.2, Eq. 2-4): every node ``i`` of the destination feature map ``X_k`` attends to a square window
  of nodes in every pyramid level ``X_l``, centred on the node of ``X_l`` that ``i`` maps to; one softmax runs
  over the union of all windows, and each level's attention-weighted sum goes through its own linear map.
* SLD (Sec. 3.3, Eq. 5-9): for every class ``c`` of the current labels, the prediction ``M(c, .)`` is
  thresholded inside a dilation ``Omega_c`` of the class's labelled pixels; the threshold ``gamma_c`` is the
  mean of ``M(c, .)`` over ``Omega_c`` plus a learnt multiple ``g(mu, sigma^2)`` of its standard deviation,
  and a soft binarisation ``B`` above it decides which unlabelled pixels join the class.
* Losses (Sec. 4, Eq. 11-12): an 8-neighbour L1 smoothness of the prediction, and the SLD loss that trains
  ``g`` from the scribbles and the network's own arg-max.

Shape legend used in the docstrings:

* ``N`` -- batch size; ``C`` -- feature channels (CPP) or classes (SLD, background included);
* ``H_k, W_k`` -- size of the destination map of CPP, ``P = H_k * W_k`` nodes indexed row-major
  (``i = y * W_k + x``); ``H_l, W_l`` -- size of pyramid level ``l``;
* ``Q`` -- nodes in one level's window of one destination node: ``(2 r + 1) ** 2`` with ``r = rho`` (ours,
  "<=") or ``r = rho - 1`` (the paper's literal "<"); ``Q_all`` -- the sum of ``Q`` over the levels;
* ``H, W`` -- label map size (SLD); ``K`` -- number of classes present in the current labels.

Label maps are int64 with ``ignore_index`` (255) on unlabelled pixels.
"""
import math
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .affinity import path_offsets

__all__ = [
    'SLD_STEEPNESS', 'SLD_BASE_RADIUS', 'cpp_stride', 'cpp_neighbours', 'cpp_aggregate', 'cpp_aggregate_dense',
    'sld_radius', 'sld_regions', 'sld_statistics', 'sld_threshold', 'soft_binarize', 'sld_decide', 'sld_expand',
    'sld_loss', 'smoothness_l1', 'SLDDecisions', 'SLD_LABEL_OFFSET', 'encode_sld_labels', 'decode_sld_labels'
]

# k of Eq. 9: the slope of the soft binarisation above the threshold.
SLD_STEEPNESS = 20.0
# r_0 of our growing dilation r_t = r_0 (t + 1), in label pixels (the paper gives no value): 16 for VOC's
# ~500 x 375 images; the toy benchmark's 128 x 128 scenes use 4.
SLD_BASE_RADIUS = 16
# Scribbles and diffused labels travel as one map through the data pipeline (mmcv's geometric transforms move
# ``gt_seg_map`` only): class c on a scribble, c + SLD_LABEL_OFFSET on a pixel SLD added, 255 elsewhere.
SLD_LABEL_OFFSET = 128


# ----------------------------------------------------------------------------------------------------------
# CPP: neighbourhoods across pyramid levels (Eq. 2-3) and the aggregation (Eq. 4, before W_l)
# ----------------------------------------------------------------------------------------------------------
def _axis_stride(dest: int, src: int) -> Tuple[int, bool]:
    """Size ratio ``s = 2 ** |S_k - S_l|`` along one axis and whether the source level is the finer one.

    Levels of a stride-2 pyramid have ``coarse = ceil(fine / s)`` (a stride-2 conv or pool of an odd map
    rounds up): the smallest power of two that reproduces the coarser size is taken. Sizes from another
    convention fall back to the power of two nearest to the ratio.
    """
    if dest < 1 or src < 1:
        raise ValueError(f'map sizes must be positive, got {dest} and {src}')
    finer = src >= dest
    fine, coarse = (src, dest) if finer else (dest, src)
    stride = 1
    while stride <= fine:
        if -(-fine // stride) == coarse:
            return stride, finer
        stride *= 2
    return 2**max(round(math.log2(fine / coarse)), 0), finer


def cpp_stride(dest_size: Sequence[int], src_size: Sequence[int]) -> Tuple[Tuple[int, int], Tuple[bool, bool]]:
    """Per-axis size ratio of a level to the destination (Eq. 2), read from the map sizes.

    Args:
        dest_size: ``(H_k, W_k)``; src_size: ``(H_l, W_l)``.

    Returns:
        ``((s_y, s_x), (finer_y, finer_x))``: the powers of two, and whether the level is finer than (or as
        fine as) the destination along each axis. E.g. a 129 px image at strides 4 / 8 / 16 / 16 gives maps
        of 33 / 17 / 9 / 9: ``s = 4, 2, 1, 1`` from levels 1-4 to level 4.
    """
    (sy, fy), (sx, fx) = _axis_stride(dest_size[0], src_size[0]), _axis_stride(dest_size[1], src_size[1])
    return (sy, sx), (fy, fx)


def _check_radius(radius: int, strict: bool) -> int:
    """Half-width of the window: ``rho`` ("<=", ours) or ``rho - 1`` (the paper's literal "<")."""
    if radius < 1:
        raise ValueError(f'CPP radii (rho) must be >= 1, got {radius}')
    return radius - 1 if strict else radius


def _axis_window(dest: int, src: int, stride: int, finer: bool, half: int, device) -> Tuple[Tensor, Tensor]:
    """Centres ``p_l(i)`` (dest,) of Eq. 2 and the window positions (2 half + 1, dest) of Eq. 3 on one axis."""
    i = torch.arange(dest, device=device)
    centre = i * stride if finer else torch.div(i, stride, rounding_mode='floor')
    positions = centre[None] + torch.arange(-half, half + 1, device=device)[:, None]
    return centre, positions


def cpp_neighbours(dest_size: Sequence[int], src_size: Sequence[int], radius: int, strict: bool = False,
                   device=None) -> Tuple[Tensor, Tensor]:
    """Neighbours of every destination node in one pyramid level, Eq. 2-3.

    Node ``i = (y, x)`` of the destination maps to ``p_l(i) = (y s_y, x s_x)`` in a finer level and to
    ``(floor(y / s_y), floor(x / s_x))`` in a coarser one (:func:`cpp_stride`); its neighbours are the nodes
    ``j`` with ``|p_l(i) - j| <= rho`` per axis (``< rho`` with ``strict``), those outside the level masked.

    Args:
        dest_size: ``(H_k, W_k)``; src_size: ``(H_l, W_l)``.
        radius: ``rho`` of the level (1, 1, 1, 4 for X1-X4 in the paper).
        strict: the paper's literal ``<``: ``(2 rho - 1) ** 2`` nodes (the mapped node alone for ``rho = 1``)
            instead of ``(2 rho + 1) ** 2``.

    Returns:
        index: (P, Q) int64 row-major indices into the level (``j = y * W_l + x``); 0 where masked.
        valid: (P, Q) bool, False for window positions outside the level.
        The window positions run in raster order (by ``dy``, then ``dx``), as in ``F.unfold``.
    """
    half = _check_radius(radius, strict)
    (sy, sx), (fy, fx) = cpp_stride(dest_size, src_size)
    _, rows = _axis_window(dest_size[0], src_size[0], sy, fy, half, device)  # (2h+1, H_k)
    _, cols = _axis_window(dest_size[1], src_size[1], sx, fx, half, device)  # (2h+1, W_k)
    valid = (((rows >= 0) & (rows < src_size[0]))[:, None, :, None] &
             ((cols >= 0) & (cols < src_size[1]))[None, :, None, :])  # (2h+1, 2h+1, H_k, W_k)
    index = rows[:, None, :, None] * src_size[1] + cols[None, :, None, :]
    q = (2 * half + 1)**2
    valid = valid.reshape(q, -1).T.contiguous()
    index = index.reshape(q, -1).T.masked_fill(~valid, 0).contiguous()
    return index, valid


def _level_windows(source: Tensor, dest_size: Sequence[int], half: int) -> Tuple[Tensor, Tensor]:
    """Windows of one level at every destination node, by ``F.unfold``.

    A finer axis is unfolded with stride ``s``, so output position ``i`` holds the window centred at
    ``i * s``; a coarser axis with stride 1, and position ``floor(i / s)`` is picked. The level is
    zero-padded so that every window exists; the padding is masked by ``valid``.

    Returns:
        windows: (N, C, Q, H_k, W_k); valid: (Q, H_k, W_k) bool.
    """
    n, c, h, w = source.shape
    (sy, sx), (fy, fx) = cpp_stride(dest_size, (h, w))
    centre_y, rows = _axis_window(dest_size[0], h, sy, fy, half, source.device)
    centre_x, cols = _axis_window(dest_size[1], w, sx, fx, half, source.device)
    bottom = max(0, int(centre_y.max()) + half - (h - 1))
    right = max(0, int(centre_x.max()) + half - (w - 1))
    step_y, step_x = (sy if fy else 1), (sx if fx else 1)
    size = 2 * half + 1
    padded = F.pad(source, (half, right, half, bottom))
    grid_h = (padded.shape[2] - size) // step_y + 1
    grid_w = (padded.shape[3] - size) // step_x + 1
    windows = F.unfold(padded, size, stride=(step_y, step_x)).view(n, c, size * size, grid_h, grid_w)
    pick_y = torch.div(centre_y, step_y, rounding_mode='floor')  # i (finer) or floor(i / s) (coarser)
    pick_x = torch.div(centre_x, step_x, rounding_mode='floor')
    if fy:
        windows = windows[:, :, :, :dest_size[0]]
    else:
        windows = windows.index_select(3, pick_y)
    if fx:
        windows = windows[:, :, :, :, :dest_size[1]]
    else:
        windows = windows.index_select(4, pick_x)
    valid = (((rows >= 0) & (rows < h))[:, None, :, None] & ((cols >= 0) & (cols < w))[None, :, None, :])
    return windows, valid.reshape(size * size, dest_size[0], dest_size[1])


def _check_levels(query: Tensor, levels: Sequence[Tensor], radii: Sequence[int]) -> None:
    if query.dim() != 4 or any(x.dim() != 4 for x in levels):
        raise ValueError('query and levels must be (N, C, H, W) maps')
    if len(levels) != len(radii) or not levels:
        raise ValueError(f'one radius per level is needed, got {len(levels)} levels and {len(radii)} radii')
    for x in levels:
        if x.shape[:2] != query.shape[:2]:
            raise ValueError(f'levels must share the query\'s (N, C) = {tuple(query.shape[:2])}, '
                             f'got {tuple(x.shape[:2])}')


def cpp_aggregate(query: Tensor, levels: Sequence[Tensor], radii: Sequence[int],
                  strict: bool = False) -> Tuple[List[Tensor], Tensor]:
    """Cross-level attention of CPP: ``A_ij = <x_i^(k), x_j^(l)>`` and ``sum_j A_ij x_j^(l)`` per level (Eq. 4).

    The softmax runs over the union of the neighbours of ``i`` in all levels (:func:`cpp_neighbours`); window
    positions outside a level are masked out, not zero-padded. The level's linear map ``W_l``, the bias and
    the non-linearity of Eq. 4 are left to the caller (applied after the sum over ``j``, they cost one 1x1
    conv per level on the destination grid instead of one per neighbour).

    Args:
        query: (N, C, H_k, W_k) destination features ``x^(k)`` (the projected level ``k``).
        levels: the L projected levels, each (N, C, H_l, W_l), the destination among them.
        radii: ``rho`` of each level.
        strict: the paper's literal "<" in Eq. 3 (see :func:`cpp_neighbours`).

    Returns:
        aggregated: L tensors (N, C, H_k, W_k), ``sum_j A_ij x_j^(l)``.
        attention: (N, Q_all, H_k, W_k) ``A_ij``, levels in order and each level's window in raster order;
        0 on masked positions; sums to 1 over ``Q_all``.

    :func:`cpp_aggregate_dense` computes the same node by node. Memory: the windows of level ``l``,
    ``N C Q_l P`` values (at 512 x 512, stride 16, C = 256, rho = 4: 21 M per image for X4).
    """
    _check_levels(query, levels, radii)
    n, c, hk, wk = query.shape
    q = query.flatten(2)  # (N, C, P)
    windows, logits, reached = [], [], torch.zeros(hk * wk, dtype=torch.bool, device=query.device)
    for source, radius in zip(levels, radii):
        half = _check_radius(radius, strict)
        window, valid = _level_windows(source, (hk, wk), half)
        window = window.flatten(3)  # (N, C, Q, P)
        valid = valid.flatten(1)  # (Q, P)
        logit = torch.einsum('ncqp,ncp->nqp', window, q)
        windows.append(window)
        logits.append(logit.masked_fill(~valid, float('-inf')))
        reached |= valid.any(0)
    if not reached.all():
        raise ValueError('a destination node has no neighbour inside any level')
    logits = torch.cat(logits, 1)
    attention = logits.softmax(1)
    aggregated = []
    for window, weight in zip(windows, attention.split([w.shape[2] for w in windows], 1)):
        aggregated.append(torch.einsum('nqp,ncqp->ncp', weight, window).view(n, c, hk, wk))
    return aggregated, attention.view(n, -1, hk, wk)


def cpp_aggregate_dense(query: Tensor, levels: Sequence[Tensor], radii: Sequence[int],
                        strict: bool = False) -> Tuple[List[Tensor], Tensor]:
    """Node-by-node reference of :func:`cpp_aggregate` (a Python loop over the P nodes): for tests.

    Args and returns as :func:`cpp_aggregate`.
    """
    _check_levels(query, levels, radii)
    n, c, hk, wk = query.shape
    neighbours = [cpp_neighbours((hk, wk), x.shape[-2:], r, strict, device=query.device)
                  for x, r in zip(levels, radii)]
    sizes = [index.shape[1] for index, _ in neighbours]
    aggregated = [query.new_zeros(n, c, hk * wk) for _ in levels]
    attention = query.new_zeros(n, sum(sizes), hk * wk)
    for b in range(n):
        for i in range(hk * wk):
            keys = [x[b].flatten(1)[:, index[i][valid[i]]] for x, (index, valid) in zip(levels, neighbours)]
            weights = (query[b].flatten(1)[:, i] @ torch.cat(keys, 1)).softmax(0)
            start, slot = 0, 0
            for level, (key, (_, valid)) in enumerate(zip(keys, neighbours)):
                w = weights[start:start + key.shape[1]]
                aggregated[level][b, :, i] = key @ w
                attention[b, slot:slot + sizes[level], i][valid[i]] = w
                start, slot = start + key.shape[1], slot + sizes[level]
    return [a.view(n, c, hk, wk) for a in aggregated], attention.view(n, -1, hk, wk)


# ----------------------------------------------------------------------------------------------------------
# SLD: thresholds and soft binarisation (Eq. 5-9), one image at a time
# ----------------------------------------------------------------------------------------------------------
def sld_radius(step: int, base_radius: int = SLD_BASE_RADIUS) -> int:
    """Dilation radius of ``Omega_c`` at SLD step ``t`` (ours: ``r_t = r_0 (t + 1)``; the paper only says it
    grows)."""
    if step < 0 or base_radius < 0:
        raise ValueError(f'step and base_radius must be >= 0, got {step} and {base_radius}')
    return base_radius * (step + 1)


def sld_regions(labels: Tensor, radius: int, ignore_index: int = 255) -> Tuple[Tensor, Tensor]:
    """Classes of the current labels ``y_t`` and their regions ``Omega_c``.

    Args:
        labels: (H, W) int64 labels ``y_t``.
        radius: ``Omega_c`` is the class's pixels dilated by a ``(2 r + 1) ** 2`` square.

    Returns:
        classes: (K,) int64, sorted; regions: (K, H, W) bool.
    """
    if labels.dim() != 2:
        raise ValueError(f'labels must be (H, W), got {tuple(labels.shape)}')
    classes = labels[labels != ignore_index].unique()
    masks = (labels[None] == classes[:, None, None]).float()[None]  # (1, K, H, W)
    if radius > 0 and len(classes):
        # a square dilation is separable: a row max, then a column max (O(r) per pixel instead of O(r^2))
        size = 2 * radius + 1
        masks = F.max_pool2d(masks, (1, size), stride=1, padding=(0, radius))
        masks = F.max_pool2d(masks, (size, 1), stride=1, padding=(radius, 0))
    return classes, masks[0] > 0


def sld_statistics(probs: Tensor, classes: Tensor, regions: Tensor) -> Tuple[Tensor, Tensor]:
    """Mean and population variance of ``M(c, .)`` over ``Omega_c``, Eq. 6-7.

    Args:
        probs: (C, H, W) softmax prediction ``M``.
        classes: (K,) int64; regions: (K, H, W) bool (non-empty).

    Returns:
        mean: (K,); variance: (K,), dtype of ``probs``.
    """
    scores = probs[classes]
    weight = regions.to(scores.dtype)
    count = weight.sum((1, 2)).clamp_min(1)
    mean = (scores * weight).sum((1, 2)) / count
    variance = ((scores - mean[:, None, None])**2 * weight).sum((1, 2)) / count
    return mean, variance


def sld_threshold(mean: Tensor, variance: Tensor, offset: Tensor) -> Tensor:
    """``gamma_c = mu_c + g(mu_c, sigma^2_c) sigma_c``, Eq. 8, from the output ``offset`` (K,) of ``g``."""
    return mean + offset * variance.clamp_min(0).sqrt()


def soft_binarize(scores: Tensor, gamma: Tensor, regions: Tensor, steepness: float = SLD_STEEPNESS) -> Tensor:
    """``B_c(i) = 1 / (1 + exp(-k max(M(c, i) - gamma_c, 0)))`` inside ``Omega_c``, 0.5 outside, Eq. 9.

    ``B`` lies in [0.5, 1): every score at or below the threshold gives 0.5 and no gradient; above it the
    gradient reaches ``gamma`` (and ``scores``, which callers detach).

    Args:
        scores: (K, H, W) ``M(c, .)`` of the K classes; gamma: (K,); regions: (K, H, W) bool.
        steepness: ``k`` (20 in the paper).

    Returns:
        (K, H, W).
    """
    soft = torch.sigmoid(steepness * F.relu(scores - gamma[:, None, None]))
    return torch.where(regions, soft, torch.full_like(soft, 0.5))


class SLDDecisions(NamedTuple):
    """What one SLD step decides for one image (:func:`sld_decide`)."""
    classes: Tensor  # (K,) int64, the classes of y_t
    regions: Tensor  # (K, H, W) bool, Omega_c
    mean: Tensor  # (K,) mu_c
    variance: Tensor  # (K,) sigma^2_c
    gamma: Tensor  # (K,) thresholds
    binarized: Tensor  # (K, H, W) B


def sld_decide(probs: Tensor, labels: Tensor, radius: int, decision: Callable[[Tensor, Tensor], Tensor],
               steepness: float = SLD_STEEPNESS, ignore_index: int = 255) -> SLDDecisions:
    """Eq. 6-9 for one image: regions, statistics, thresholds and the soft binarisation.

    Args:
        probs: (C, H, W) softmax prediction ``M``; detach it to train ``g`` alone.
        labels: (H, W) int64 current labels ``y_t``.
        radius: dilation of ``Omega_c`` (:func:`sld_radius`).
        decision: ``g``, called as ``decision(mean, variance)`` on (K,) tensors, returns the (K,) offsets.

    Returns:
        :class:`SLDDecisions`; K may be 0 (nothing labelled), then ``decision`` is not called.
    """
    classes, regions = sld_regions(labels, radius, ignore_index)
    mean, variance = sld_statistics(probs, classes, regions)
    gamma = sld_threshold(mean, variance, decision(mean, variance)) if len(classes) else mean
    binarized = soft_binarize(probs[classes], gamma, regions, steepness)
    return SLDDecisions(classes, regions, mean, variance, gamma, binarized)


def sld_expand(probs: Tensor, labels: Tensor, classes: Tensor, regions: Tensor, gamma: Tensor,
               ignore_index: int = 255) -> Tensor:
    """Hard labels of the next step, ``y_{t+1} = y_t u B`` (Eq. 5).

    An unlabelled pixel of ``Omega_c`` with ``M(c, i) > gamma_c`` (i.e. ``B_c(i) > 0.5``) becomes ``c``; where
    several classes qualify, the one with the largest ``M``. Labelled pixels never change, and no pixel
    outside every ``Omega_c`` is labelled.

    Args:
        probs: (C, H, W) ``M``; labels: (H, W) int64 ``y_t``; classes, regions, gamma: as from
            :func:`sld_decide`.

    Returns:
        (H, W) int64 ``y_{t+1}`` (a new tensor).
    """
    if not len(classes):
        return labels.clone()
    scores = probs[classes]
    above = regions & (scores > gamma[:, None, None])
    best = scores.masked_fill(~above, float('-inf')).argmax(0)
    grow = (labels == ignore_index) & above.any(0)
    expanded = labels.clone()
    expanded[grow] = classes[best[grow]]
    return expanded


def sld_loss(binarized: Tensor, classes: Tensor, regions: Tensor, scribbles: Tensor, prediction: Tensor,
             seg_weight: float = 1.0, eps: float = 1e-12) -> Tensor:
    """``L_sld = L_ce(y_B, y_0) + lambda_2 L_ce(y_seg, y_B)``, Eq. 12, for one image.

    ``B_c`` is a soft binary map ("is pixel i diffused as class c?"), so we read ``L_ce`` as the binary
    cross-entropy of each class's map with the one-hot target: a pixel ``i`` of ``Omega_c`` whose target is
    ``c`` costs ``-log B_c(i)``, one whose target is another class ``-log(1 - B_c(i))``. The first term's target
    is the scribbles ``y_0`` on the scribbled pixels, the second's the network's arg-max ``y_seg`` on every
    pixel; each is a mean over its (class, pixel) pairs inside the ``Omega_c`` (0 if none).

    What this does to ``gamma_c``: only pixels above it have a gradient (``B`` = 0.5 below). One of class ``c``
    lowers it by at most ``k / 2`` (less the further above it lies), one of another class raises it by ``k / 2``
    to ``k``: ``gamma_c`` settles near the top of the other classes' ``M(c, .)`` in ``Omega_c``, and the
    expansion labels what the network gives to ``c`` more confidently than anything it gives elsewhere. Readings
    we tried on the toy and dropped: ``B`` normalised over the classes of ``y_t`` (the issue's first proposal)
    only ever lowers ``gamma`` (``g`` reached -23 to -35); ``q = 2 B - 1`` as the probability puts a log barrier
    on ``q`` = 0 that lets a pixel of ``c`` just above ``gamma`` outweigh any number of others (``g`` -2.4).
    Either way every unlabelled pixel of ``Omega_c`` was labelled, the expansion degenerating to a dilation.

    Args:
        binarized: (K, H, W) ``B`` (from :func:`soft_binarize`, built on a detached ``M``).
        classes: (K,) int64; regions: (K, H, W) bool ``Omega_c``.
        scribbles: (H, W) int64 ``y_0``, any value outside ``classes`` (e.g. 255) is unlabelled.
        prediction: (H, W) int64 ``y_seg = argmax_c M``.
        seg_weight: ``lambda_2`` (1 in the paper).
        eps: floor of ``1 - B`` (``B`` rounds to 1 in float32 when ``k (M - gamma)`` exceeds ~17).

    Returns:
        scalar, connected to ``binarized`` even when a term has no pixel.
    """
    own_cost, other_cost = -binarized.log(), -(1 - binarized).clamp_min(eps).log()

    def cross_entropy(target: Tensor, labelled: Tensor) -> Tensor:
        mask = (regions & labelled[None]).to(binarized.dtype)
        is_class = target[None] == classes[:, None, None]
        cost = torch.where(is_class, own_cost, other_cost)
        return (cost * mask).sum() / mask.sum().clamp_min(1)

    scribbled = torch.isin(scribbles, classes)
    everywhere = torch.ones_like(prediction, dtype=torch.bool)
    return cross_entropy(scribbles, scribbled) + seg_weight * cross_entropy(prediction, everywhere)


def encode_sld_labels(scribbles: np.ndarray, labels: Optional[np.ndarray] = None,
                      ignore_index: int = 255) -> np.ndarray:
    """One uint8 map of ``y_0`` and ``y_t``: ``c`` on scribbles, ``c + 128`` where only ``y_t`` labels a pixel.

    Args:
        scribbles: (H, W) ``y_0``; labels: (H, W) ``y_t`` or None (scribbles only). Where both label a pixel
            the scribble wins (SLD never relabels it). Classes must be below 127.

    Returns:
        (H, W) uint8 codes, ``ignore_index`` where neither labels the pixel.
    """
    codes = np.asarray(scribbles).astype(np.uint8)
    if labels is None:
        return codes.copy()
    labels = np.asarray(labels)
    if labels.shape != codes.shape:
        raise ValueError(f'scribbles {codes.shape} and SLD labels {labels.shape} differ in shape')
    labelled = labels != ignore_index
    if (labels[labelled] >= min(SLD_LABEL_OFFSET, ignore_index - SLD_LABEL_OFFSET)).any():
        raise ValueError(f'SLD labels must be below {ignore_index - SLD_LABEL_OFFSET} to be encoded')
    added = (codes == ignore_index) & labelled
    codes = codes.copy()
    codes[added] = labels[added] + SLD_LABEL_OFFSET
    return codes


def decode_sld_labels(codes: Tensor, ignore_index: int = 255) -> Tuple[Tensor, Tensor]:
    """Inverse of :func:`encode_sld_labels`: ``y_0 = codes`` where ``codes < 128``, ``y_t = codes % 128`` where
    ``codes != ignore_index``; a map without codes of 128 and above (plain labels) gives ``y_0 = y_t``.

    Args:
        codes: integer tensor of any shape.

    Returns:
        scribbles ``y_0``, labels ``y_t``: int64 of the same shape, ``ignore_index`` elsewhere.
    """
    codes = codes.long()
    ignored = codes == ignore_index
    scribbles = codes.masked_fill((codes >= SLD_LABEL_OFFSET) | ignored, ignore_index)
    labels = torch.remainder(codes, SLD_LABEL_OFFSET).masked_fill(ignored, ignore_index)
    return scribbles, labels


# ----------------------------------------------------------------------------------------------------------
# Smoothness (Eq. 11)
# ----------------------------------------------------------------------------------------------------------
def smoothness_l1(probs: Tensor) -> Tensor:
    """``L_p``: mean L1 difference between each pixel's prediction and its 8 neighbours, Eq. 11.

    Every pair of 8-neighbours inside the map counts once (the 4 half-plane offsets of
    ``path_offsets(2, half=True)``), each element (pair, channel) equally: the mean over ordered pairs is
    the same, as each unordered pair appears twice there. Border pixels simply have fewer pairs.

    Args:
        probs: (N, C, H, W) predictions (ours: the softmax ``M`` at label size).

    Returns:
        scalar; 0 for a constant map or a map with a single pixel.
    """
    height, width = probs.shape[-2:]
    total, count = probs.new_zeros(()), 0
    for dy, dx in path_offsets(2, half=True).tolist():  # dy >= 0
        x0, x1 = max(0, -dx), width - max(0, dx)
        if height - dy <= 0 or x1 - x0 <= 0:
            continue
        first = probs[..., :height - dy, x0:x1]
        second = probs[..., dy:, x0 + dx:x1 + dx]
        total = total + (first - second).abs().sum()
        count += first.numel()
    return total / max(count, 1)

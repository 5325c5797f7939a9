"""IRNet's label synthesis (Ahn et al., CVPR 2019, Sec. 5) and the naive baselines it is compared with.

Dimension letters: K classes present in the image, M instances, h, w the stride-4 grid of CAMs / boundary /
displacement, H, W the image. ``labels`` are 1-based class indices (0 = background).
"""
from typing import Dict, List, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from skimage.measure import label as connected_components
from torch import Tensor

from .affinity import propagate_by_random_walk
from .instance import instance_map


def _upsample(maps: Tensor, size) -> Tensor:
    """(C, h, w) stride-4 maps -> (C, H, W): x4 bilinear, cropped to the image (the grid is ceil(H / 4))."""
    up = F.interpolate(maps[None], scale_factor=4, mode='bilinear', align_corners=False)[0]
    return up[:, :size[0], :size[1]]


def _argmax_with_background(scores: Tensor, bg_threshold: float) -> Tensor:
    """(C, H, W) scores -> (H, W) index into [background, *channels]: the argmax of [bg_threshold, scores]."""
    return F.pad(scores, (0, 0, 0, 0, 1, 0), value=bg_threshold).argmax(0)


def propagate_cams(cams: Tensor, boundary: Tensor, size, *, radius: int, beta: float, exp_times: int) -> Tensor:
    """CAMs propagated by the boundary-driven random walk (Eq. 12-13), upsampled and divided by their maximum.

    Args:
        cams: (C, h, w) maps on the stride-4 grid.
        boundary: (h, w) class-boundary map.
        size: (H, W) image size.
        radius, beta, exp_times: the walk (:func:`propagate_by_random_walk`; the paper's 5, 10, 8 are the defaults
            of :data:`wsseg_mm.apis.irnet.DEFAULT_LABEL_SYNTHESIS`).

    Returns:
        (C, H, W) scores with maximum 1 over all channels (as the authors' code normalises).
    """
    walked = propagate_by_random_walk(cams, boundary, radius=radius, beta=beta, exp_times=exp_times)
    up = _upsample(walked, size)
    return up / up.max().clamp(min=1e-5)


def semantic_from_scores(scores: Tensor, labels: Sequence[int], bg_threshold: float) -> np.ndarray:
    """(K, H, W) class scores of ``labels`` -> (H, W) uint8 class indices, argmax against ``bg_threshold``."""
    keys = np.array([0, *labels], np.uint8)
    return keys[_argmax_with_background(scores, bg_threshold).numpy()]


def semantic_from_random_walk(cams: Tensor, labels: Sequence[int], boundary: Tensor, size,
                              bg_threshold: float, **walk) -> np.ndarray:
    """Semantic pseudo label "CAM + class boundary": propagated CAMs (``walk``: the keyword arguments of
    :func:`propagate_cams`), argmax against ``bg_threshold``.

    Returns:
        (H, W) uint8 class indices.
    """
    if len(labels) == 0:
        return np.zeros(size, np.uint8)
    return semantic_from_scores(propagate_cams(cams, boundary, size, **walk), labels, bg_threshold)


def split_fragments(mask: np.ndarray, min_area: int) -> List[np.ndarray]:
    """Connected components (8-connectivity) of a mask, dropping those smaller than ``min_area`` pixels."""
    comps = connected_components(mask, connectivity=2)
    return [comps == k for k in range(1, comps.max() + 1) if (comps == k).sum() >= min_area]


def instances_from_semantic(semantic: np.ndarray, scores: np.ndarray, labels: Sequence[int],
                            min_fragment_ratio: float = 0.01) -> List[Dict]:
    """Instances as the connected components of each class region of a semantic map (the naive baselines).

    Args:
        semantic: (H, W) class indices.
        scores: (K, H, W) class score maps of ``labels`` (for the instance scores).
        min_fragment_ratio: components smaller than this fraction of the image are dropped.

    Returns:
        list of ``dict(mask (H, W) bool, label, score)`` with score = max of the class score in the mask.
    """
    min_area = max(1, int(min_fragment_ratio * semantic.size))
    instances = []
    for k, cls in enumerate(labels):
        for mask in split_fragments(semantic == cls, min_area):
            instances.append(dict(mask=mask, label=int(cls), score=float(scores[k][mask].max())))
    return instances


def renumber_ids(ids: np.ndarray) -> np.ndarray:
    """Renumber instance ids to 1..M keeping their order (0 stays 0), dropping ids that no longer occur."""
    present = np.unique(ids[ids > 0])
    lookup = np.zeros(int(ids.max()) + 1, np.int64)
    lookup[present] = np.arange(1, len(present) + 1)
    return lookup[ids]


def with_catch_all(ids: np.ndarray) -> np.ndarray:
    """(h, w) instance ids 0..M with 0 = landed on no centroid -> ids 1..M' where those pixels form one more
    instance, M + 1 (as the authors' code clusters them), so that their CAMs still compete; all 1 when M = 0."""
    unassigned = ids == 0
    return np.where(unassigned, ids.max() + 1, ids) if unassigned.any() else ids


def instance_wise_cams(cams: Tensor, instances: np.ndarray) -> Tensor:
    """Eq. 11: the CAM of class c restricted to instance m, for every (c, m).

    Args:
        cams: (K, h, w).
        instances: (h, w) instance ids 0..M (0 = no instance).

    Returns:
        (K * M, h, w), channel c * M + (m - 1) = cams[c] * [instances == m].
    """
    num = int(instances.max())
    onehot = torch.stack([torch.from_numpy(instances == m) for m in range(1, num + 1)]) if num else \
        torch.zeros(0, *instances.shape, dtype=torch.bool)
    return (cams[:, None] * onehot.to(cams)[None]).reshape(-1, *cams.shape[-2:])


def synthesize_irnet_labels(cams: Tensor, labels: Sequence[int], boundary: Tensor, displacement: Tensor, size,
                            *, bg_threshold: float, iterations: int, centroid_threshold: float,
                            min_fragment_ratio: float = 0.01, **walk) -> Dict:
    """Full IRNet pseudo labels: instance map from the displacement field (Eq. 10, 14-15), instance-wise CAMs
    (Eq. 11) propagated by the random walk (Eq. 12-13), argmax over (class, instance) against ``bg_threshold``.

    Args:
        cams: (K, h, w) strided CAMs of the present classes ``labels``.
        boundary: (h, w); displacement: (2, h', w') (dy, dx) on the stride-4 grid, or on a finer grid (an image
            resized before IRNet), whose instance map is then brought to (h, w) by nearest-neighbour resizing.
        size: (H, W) image size.
        bg_threshold, iterations, centroid_threshold: background score, displacement refinement steps and
            centroid radius (:func:`instance_map`); ``walk``: the keyword arguments of :func:`propagate_cams`.
            The paper's values are the defaults of :data:`wsseg_mm.apis.irnet.DEFAULT_LABEL_SYNTHESIS`.

    Returns:
        ``semantic`` (H, W) uint8 and ``instances``: list of ``dict(mask, label, score)``; each instance is a
        connected piece (>= ``min_fragment_ratio`` of the image) of an (class, instance) region, scored by
        the maximum of its propagated score in the mask. Also ``instance_map`` (h, w) ids 1..M, where the pixels
        whose displacement leads to no centroid are one more instance (:func:`with_catch_all`), ``scores``
        (K * M, H, W) and ``num_instances`` M (for :func:`semantic_from_instance_scores` at other thresholds).
    """
    if len(labels) == 0:
        return dict(semantic=np.zeros(size, np.uint8), instances=[], instance_map=np.zeros(cams.shape[-2:], int),
                    scores=torch.zeros(0, *size), num_instances=0)
    ids = instance_map(displacement, iterations=iterations, threshold=centroid_threshold)
    if ids.shape != tuple(cams.shape[-2:]):
        ids = cv2.resize(ids.astype(np.int32), (cams.shape[-1], cams.shape[-2]), interpolation=cv2.INTER_NEAREST)
        ids = renumber_ids(ids)
    ids = with_catch_all(ids)
    num = int(ids.max())
    scores = propagate_cams(instance_wise_cams(cams, ids), boundary, size, **walk)  # (K * M, H, W)
    winner = _argmax_with_background(scores, bg_threshold).numpy()  # 0 = background, 1 + c * M + m
    semantic = _class_of_channel(winner, labels, num)
    min_area = max(1, int(min_fragment_ratio * winner.size))
    instances = []
    for channel in np.unique(winner[winner > 0]):
        cls = int(labels[(channel - 1) // num])
        for mask in split_fragments(winner == channel, min_area):
            instances.append(dict(mask=mask, label=cls, score=float(scores[channel - 1].numpy()[mask].max())))
    return dict(semantic=semantic, instances=instances, instance_map=ids, scores=scores, num_instances=num)


def semantic_from_instance_scores(scores: Tensor, labels: Sequence[int], num_instances: int,
                                  bg_threshold: float) -> np.ndarray:
    """Semantic map of the full IRNet synthesis: the class of the best (class, instance) channel of ``scores``
    ((K * M, H, W), channel c * M + m) against ``bg_threshold``; (H, W) uint8."""
    return _class_of_channel(_argmax_with_background(scores, bg_threshold).numpy(), labels, num_instances)


def _class_of_channel(winner: np.ndarray, labels: Sequence[int], num_instances: int) -> np.ndarray:
    """(H, W) uint8 class of each winning index of ``[background, *(class, instance) channels]``."""
    return np.array([0, *labels], np.uint8)[(winner + num_instances - 1) // num_instances]

"""BBAM: bounding-box attribution maps (Lee, Yi, Shin, Yoon, CVPR 2021) as plain torch functions.

BBAM asks a trained two-stage detector which pixels it needs to keep predicting a ground-truth box: a mask ``M``
over the image is made as small as possible (L1) while the detector's box offsets and class probability for
proposals around that box stay what they are on the clean image. The parts that touch mmdet live in
:mod:`wsseg_mm.models.bbam_explainer`; here are the pieces of the method itself.

Shape legend:

* ``B`` -- boxes of one image; ``P`` -- jittered proposals per box; ``N`` -- positive proposals of all boxes;
* ``C`` -- image channels; ``H, W`` -- image (network input) size; ``h, w`` -- mask size, ``ceil(H / s)``.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

from .box_masks import box_to_mask, threshold_attribution
from .crf import dense_crf_probs

__all__ = [
    'jitter_boxes', 'box_iou', 'select_positives', 'adaptive_stride', 'upsample_mask', 'perturb_image',
    'bbam_objective', 'attribution_to_mask'
]


def jitter_boxes(boxes: Tensor, num_proposals: int, ratio: float = 0.3, generator: Optional[torch.Generator] = None,
                 img_shape: Optional[Tuple[int, int]] = None, keep_original: bool = True) -> Tensor:
    """Proposals around each box: every coordinate moved by ``U(-ratio, ratio)`` times the box's width (x) or
    height (y) (Sec. 3.2, +-30% in the paper).

    With ``ratio <= 0.5`` a proposal always keeps ``x2 - x1 >= (1 - 2 ratio) w > 0``, so no reordering is needed.

    Args:
        boxes: (B, 4) boxes ``(x1, y1, x2, y2)``.
        num_proposals: P, proposals per box.
        ratio: largest move of a coordinate, as a fraction of the box size.
        generator: random source (the caller seeds it per image so that any split over processes is reproducible).
        img_shape: ``(H, W)``; when given, proposals are clipped to the image.
        keep_original: proposal 0 of each box is the box itself.

    Returns:
        (B, P, 4) proposals, same dtype as ``boxes``.
    """
    if not 0 <= ratio <= 0.5:
        raise ValueError(f'ratio must lie in [0, 0.5] so that jittered boxes stay valid, got {ratio}')
    boxes = torch.as_tensor(boxes)
    size = (boxes[:, 2:] - boxes[:, :2]).repeat(1, 2)  # (B, 4): w, h, w, h
    # drawn on the CPU (the generator's device), so a seed gives the same proposals on every device
    noise = torch.rand((boxes.shape[0], num_proposals, 4), generator=generator, dtype=torch.float64)
    noise = ((noise * 2 - 1) * ratio).to(device=boxes.device, dtype=boxes.dtype)
    if keep_original and num_proposals > 0:
        noise[:, 0] = 0
    proposals = boxes[:, None] + noise * size[:, None]
    if img_shape is not None:
        height, width = img_shape
        proposals[..., 0::2] = proposals[..., 0::2].clamp(0, width)
        proposals[..., 1::2] = proposals[..., 1::2].clamp(0, height)
    return proposals


def box_iou(boxes_a: Tensor, boxes_b: Tensor) -> Tensor:
    """Element-wise IoU of (..., 4) boxes ``(x1, y1, x2, y2)`` with (..., 4) boxes (broadcast).

    mmdet's aligned :func:`~mmdet.structures.bbox.bbox_overlaps` (no +1 pixel: width ``x2 - x1``), the boxes
    first broadcast to one shape and flattened; (..., ) result.
    """
    boxes_a, boxes_b = torch.broadcast_tensors(torch.as_tensor(boxes_a), torch.as_tensor(boxes_b))
    shape = boxes_a.shape[:-1]
    return bbox_overlaps(boxes_a.reshape(-1, 4), boxes_b.reshape(-1, 4), is_aligned=True).reshape(shape)


def select_positives(pred_boxes: Tensor, pred_labels: Tensor, gt_boxes: Tensor, gt_labels: Tensor,
                     iou_thrs: Sequence[float] = (0.9, 0.85, 0.8), min_positives: int = 5,
                     max_positives: int = 20) -> List[Tensor]:
    """Positive proposals of each box: the detector predicts the box's class and regresses a box with IoU above
    a threshold with it.

    The authors' code relaxes the threshold 0.9 -> 0.85 -> 0.8 and caps the positives. What makes the set
    stable here: the thresholds are tried in order and the first one that yields ``min_positives`` wins (else the
    last, 0.8 by default, with whatever it yields); then the ``max_positives`` best by IoU are kept (ties broken
    by proposal index). The set therefore depends only on the proposals and the detector, not on their order.

    Args:
        pred_boxes: (B, P, 4) regressed boxes (the box's own class) of the jittered proposals.
        pred_labels: (B, P) predicted labels (argmax of the class probabilities, background included).
        gt_boxes: (B, 4) the ground-truth boxes; gt_labels: (B, ) their labels.

    Returns:
        B index tensors into the P proposals, each sorted by decreasing IoU; empty when there is no positive.
    """
    ious = bbox_overlaps(pred_boxes, gt_boxes[:, None])[..., 0]  # (B, P, 1) -> (B, P)
    match = pred_labels == gt_labels[:, None]
    positives = []
    for b in range(gt_boxes.shape[0]):
        keep = torch.zeros(0, dtype=torch.long)
        for thr in iou_thrs:
            keep = torch.nonzero(match[b] & (ious[b] > thr)).flatten()
            if keep.numel() >= min_positives:
                break
        order = torch.sort(-ious[b, keep], stable=True).indices
        positives.append(keep[order][:max_positives])
    return positives


def adaptive_stride(box_area: float, image_area: float, base: float = 16.0, scale: float = 48.0) -> int:
    """Mask stride of a box (Sec. 3.2): ``s(a) = base + scale * sqrt(a)`` with ``a = box area / image area``,
    rounded to the nearest integer (16 + 48 sqrt(a) in the paper: fine masks for small objects)."""
    if image_area <= 0:
        raise ValueError(f'image_area must be positive, got {image_area}')
    a = min(max(float(box_area) / float(image_area), 0.0), 1.0)
    return max(1, int(round(base + scale * math.sqrt(a))))


def upsample_mask(mask: Tensor, stride: int, size: Tuple[int, int]) -> Tensor:
    """(h, w) mask of cells of ``stride`` pixels -> (H, W) by bilinear upsampling to ``(h s, w s)`` and cropping,
    so that every cell keeps covering its own pixels whatever the image size."""
    height, width = size
    up = F.interpolate(mask[None, None], size=(mask.shape[0] * stride, mask.shape[1] * stride), mode='bilinear',
                       align_corners=False)
    return up[0, 0, :height, :width]


def perturb_image(image: Tensor, masks: Tensor, mean: Tensor) -> Tensor:
    """``Phi(I, M) = I * M + mu * (1 - M)`` (Eq. 2) for a batch of upsampled masks.

    Args:
        image: (C, H, W) image; masks: (B, H, W) in [0, 1]; mean: (C, ) per-channel value of removed pixels.

    Returns:
        (B, C, H, W) perturbed images.
    """
    masks = masks[:, None]
    return image[None] * masks + mean.view(1, -1, 1, 1).to(image) * (1 - masks)


def bbam_objective(masks: Sequence[Tensor], deltas: Tensor, ref_deltas: Tensor, probs: Tensor, ref_probs: Tensor,
                   owners: Tensor, l1_weight: float = 0.007, use_box_head: bool = True,
                   use_cls_head: bool = True) -> Tuple[Tensor, Dict[str, Tensor]]:
    """The BBAM objective (Eq. 1 / 3), summed over the boxes of an image.

    For box ``b``: ``lambda * ||M_b||_1 + mean over its positives of (||t - t_Phi||_1 + |p - p_Phi|)``, with
    ``t`` the four box offsets and ``p`` the probability of the box's class. Boxes are independent, so summing
    their objectives gives each mask exactly its own gradient: one backward serves all boxes.

    Args:
        masks: B masks, (h_b, w_b) each.
        deltas, ref_deltas: (N, 4) box offsets of the box's class, on the perturbed / clean image.
        probs, ref_probs: (N, ) probabilities of the box's class, on the perturbed / clean image.
        owners: (N, ) index in [0, B) of the box each positive belongs to.
        l1_weight: lambda (0.007 in the paper).
        use_box_head, use_cls_head: keep the box-offset / classification term (the paper's ablation).

    Returns:
        ``(loss, terms)`` with ``terms`` the summed ``l1``, ``box`` and ``cls`` parts (detached).
    """
    if not (use_box_head or use_cls_head):
        raise ValueError('at least one of use_box_head / use_cls_head must be on')
    num_boxes = len(masks)
    counts = torch.bincount(owners, minlength=num_boxes).clamp(min=1).to(deltas.dtype)
    weights = 1.0 / counts[owners]  # each positive weighs 1 / (positives of its box): a mean per box
    l1 = l1_weight * sum(m.abs().sum() for m in masks)
    zero = deltas.new_zeros(())
    box = ((deltas - ref_deltas).abs().sum(-1) * weights).sum() if use_box_head else zero
    cls = ((probs - ref_probs).abs() * weights).sum() if use_cls_head else zero
    loss = l1 + box + cls
    return loss, dict(l1=l1.detach(), box=box.detach(), cls=cls.detach())


def attribution_to_mask(attribution: np.ndarray, box: Sequence[float], image: Optional[np.ndarray] = None,
                        crf: Optional[dict] = None, *, fg_thr: float, bg_thr: float,
                        normalize: bool = True) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Post-processing of a box's attribution map (Sec. 3.3): zero outside the box, scale to a maximum of 1,
    optional dense CRF, then foreground above ``fg_thr``, ignore between ``bg_thr`` and ``fg_thr`` (the paper's
    values, 0.8 and 0.2, are the defaults of :data:`wsseg_mm.apis.bbam.BBAM_DEFAULTS`).

    Args:
        attribution: (H, W) attribution at the image's resolution, values in [0, 1].
        box: ``(x1, y1, x2, y2)`` in the same pixels.
        image: (H, W, 3) uint8 RGB image, needed when ``crf`` is not None.
        crf: keyword arguments of :func:`dense_crf_probs` (``{}`` for its defaults), or None for no CRF. The CRF
            runs on the two-label map ``(1 - A, A)`` and its foreground marginal replaces ``A``.
        normalize: divide by the maximum inside the box (masks are optimised in [0, 1] but rarely reach 1).

    Returns:
        ``(foreground, ignore, refined)``: two (H, W) bool maps and the (H, W) float32 map they were cut from.
    """
    inside = box_to_mask(box, attribution.shape)
    attr = np.where(inside, np.asarray(attribution, dtype=np.float32), 0).astype(np.float32)
    peak = float(attr.max()) if attr.size else 0.0
    if peak <= 0:
        empty = np.zeros(attr.shape, bool)
        return empty, empty.copy(), attr
    if normalize:
        attr = attr / peak
    if crf is not None:
        if image is None:
            raise ValueError('the CRF needs the image')
        probs = np.stack([1 - attr, attr]).clip(0, 1)
        attr = np.where(inside, dense_crf_probs(image, probs, **crf)[1], 0).astype(np.float32)
    fg, ignore = threshold_attribution(attr, fg_thr, bg_thr)
    return fg & inside, ignore & inside, attr

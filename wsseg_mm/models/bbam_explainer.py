"""BBAM explainer: bounding-box attribution maps of a trained mmdet two-stage detector (Lee et al., CVPR 2021).

The detector is used as it is: its data preprocessor, ``extract_feat`` and the RoI head's ``_bbox_forward``
(RPN skipped: the proposals are jittered ground-truth boxes). Its weights are frozen while the masks are
optimised, and restored to their previous ``requires_grad`` afterwards.

One optimisation step serves every box of the image: each box has its own perturbed copy of the image in the
batch (its own mask, stride and positives), so the backbone runs once per step for all of them.
"""
import contextlib
import math
import time
from typing import Dict, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..functional.bbam import (
    adaptive_stride,
    bbam_objective,
    jitter_boxes,
    perturb_image,
    select_positives,
    upsample_mask,
)

__all__ = ['BBAMExplainer']


@contextlib.contextmanager
def frozen(module: torch.nn.Module):
    """Eval mode and no parameter gradients inside the block; the previous state is restored after it."""
    flags = [(p, p.requires_grad) for p in module.parameters()]
    was_training = module.training
    module.eval()
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield module
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
        module.train(was_training)


class BBAMExplainer:
    """Optimises one attribution mask per ground-truth box of an image (Sec. 3.2 of the paper).

    Args:
        detector: an mmdet two-stage detector (``extract_feat``, ``roi_head.bbox_head`` with a box coder).
        num_proposals: jittered proposals per box (the box itself included).
        jitter_ratio: largest move of a proposal coordinate, as a fraction of the box size (0.3).
        iou_thrs, min_positives, max_positives: positive selection, see :func:`select_positives`.
        l1_weight: lambda of the mask L1 term (0.007).
        use_box_head, use_cls_head: keep the box-offset / class-probability term of the objective.
        lr, num_iters: Adam learning rate and iterations (0.02, 300).
        stride_base, stride_scale: mask stride ``base + scale * sqrt(box area / image area)`` (16, 48) in input
            pixels; images much smaller than VOC's need proportionally smaller values.
        mask_init: initial value of every mask cell (1: start from the whole image kept).
        seed: base of the per-image random seed of the proposal jitter.
    """

    def __init__(self,
                 detector: torch.nn.Module,
                 num_proposals: int = 100,
                 jitter_ratio: float = 0.3,
                 iou_thrs: Sequence[float] = (0.9, 0.85, 0.8),
                 min_positives: int = 5,
                 max_positives: int = 20,
                 l1_weight: float = 0.007,
                 use_box_head: bool = True,
                 use_cls_head: bool = True,
                 lr: float = 0.02,
                 num_iters: int = 300,
                 stride_base: float = 16.0,
                 stride_scale: float = 48.0,
                 mask_init: float = 1.0,
                 seed: int = 0) -> None:
        if not (use_box_head or use_cls_head):
            raise ValueError('at least one of use_box_head / use_cls_head must be on')
        self.detector = detector
        self.num_proposals = num_proposals
        self.jitter_ratio = jitter_ratio
        self.iou_thrs = tuple(iou_thrs)
        self.min_positives = min_positives
        self.max_positives = max_positives
        self.l1_weight = l1_weight
        self.use_box_head = use_box_head
        self.use_cls_head = use_cls_head
        self.lr = lr
        self.num_iters = num_iters
        self.stride_base = stride_base
        self.stride_scale = stride_scale
        self.mask_init = mask_init
        self.seed = seed

    # ---------------------------------------------------------------------------------------------- detector
    def _heads(self, feats, rois: torch.Tensor, labels: torch.Tensor):
        """RoI head on ``rois`` (M, 5) -> own-class probabilities (M, ) and box offsets (M, 4) of ``labels``."""
        roi_head = self.detector.roi_head
        out = roi_head._bbox_forward(feats, rois)
        probs = F.softmax(out['cls_score'], dim=-1)
        deltas = out['bbox_pred']
        if not roi_head.bbox_head.reg_class_agnostic:
            deltas = deltas.view(deltas.shape[0], -1, 4)[torch.arange(deltas.shape[0], device=deltas.device), labels]
        return probs, deltas

    def find_positives(self, feats, boxes: torch.Tensor, labels: torch.Tensor, img_shape, generator):
        """Jittered proposals of every box through the RoI head of the clean image.

        Returns:
            ``(proposals (B, P, 4), positives: B index tensors, ref_probs (B, P), ref_deltas (B, P, 4))``.
        """
        num_boxes = boxes.shape[0]
        proposals = jitter_boxes(boxes, self.num_proposals, self.jitter_ratio, generator, img_shape)
        flat = proposals.reshape(-1, 4)
        rois = torch.cat([flat.new_zeros(flat.shape[0], 1), flat], dim=1)
        flat_labels = labels.repeat_interleave(self.num_proposals)
        probs, deltas = self._heads(feats, rois, flat_labels)
        bbox_head = self.detector.roi_head.bbox_head
        regressed = bbox_head.bbox_coder.decode(flat, deltas, max_shape=img_shape)
        pred_labels = probs.argmax(-1)
        positives = select_positives(regressed.view(num_boxes, -1, 4), pred_labels.view(num_boxes, -1), boxes,
                                     labels, self.iou_thrs, self.min_positives, self.max_positives)
        own = probs[torch.arange(probs.shape[0], device=probs.device), flat_labels]
        return proposals, positives, own.view(num_boxes, -1), deltas.view(num_boxes, -1, 4)

    # ---------------------------------------------------------------------------------------------- explain
    def explain(self, inputs: torch.Tensor, boxes: torch.Tensor, labels: torch.Tensor, img_shape, seed: int = 0,
                batched: bool = True) -> Dict[str, object]:
        """Attribution maps of the boxes of one image.

        Args:
            inputs: (C, Hp, Wp) the image as the detector's data preprocessor returns it (normalised, padded).
            boxes: (B, 4) boxes in input pixels; labels: (B, ) their classes.
            img_shape: ``(H, W)`` of the image inside the padding.
            seed: random seed of this image's proposal jitter.
            batched: optimise all boxes together (one backbone pass per step); False optimises them one after
                another (the reference the speed-up is measured against).

        Returns:
            dict with ``attributions`` (B, H, W) float32 numpy in [0, 1] (zeros for a box without positives),
            ``num_positives`` (B, ) int, ``strides`` (B, ) int, ``scores`` (B, ) the
            detector's mean probability of the box's class over the positives, ``seconds``.
        """
        start = time.perf_counter()
        generator = torch.Generator().manual_seed(int(seed))
        height, width = int(img_shape[0]), int(img_shape[1])
        num_boxes = boxes.shape[0]
        attributions = np.zeros((num_boxes, height, width), np.float32)
        strides = np.zeros(num_boxes, np.int64)
        with frozen(self.detector):
            with torch.no_grad():
                feats = self.detector.extract_feat(inputs[None])
                proposals, positives, ref_probs, ref_deltas = self.find_positives(feats, boxes, labels,
                                                                                  (height, width), generator)
            num_positives = np.array([len(p) for p in positives], np.int64)
            # instance score: the detector's mean probability of the box's class over its positives
            scores = np.array([float(ref_probs[b, p].mean()) if len(p) else 0.0 for b, p in enumerate(positives)],
                              np.float32)
            todo = [b for b in range(num_boxes) if num_positives[b] > 0]
            groups = [todo] if batched else [[b] for b in todo]
            for group in groups:
                if not group:
                    continue
                for b in group:
                    strides[b] = adaptive_stride(float((boxes[b, 2] - boxes[b, 0]) * (boxes[b, 3] - boxes[b, 1])),
                                                 height * width, self.stride_base, self.stride_scale)
                masks = self._optimise(inputs, group, strides, proposals, positives, labels, ref_probs,
                                               ref_deltas)
                for b, mask in zip(group, masks):
                    attributions[b] = upsample_mask(mask, int(strides[b]),
                                                    inputs.shape[-2:])[:height, :width].cpu().numpy()
        return dict(attributions=attributions.clip(0, 1), num_positives=num_positives, strides=strides,
                    scores=scores, seconds=time.perf_counter() - start)

    def _optimise(self, inputs, group, strides, proposals, positives, labels, ref_probs, ref_deltas):
        """Adam on the masks of the boxes in ``group`` (one perturbed image each), clamped to [0, 1]."""
        size = inputs.shape[-2:]
        masks = [inputs.new_full((math.ceil(size[0] / int(strides[b])), math.ceil(size[1] / int(strides[b]))),
                                 self.mask_init).requires_grad_(True) for b in group]
        rois, owners, roi_labels, probs0, deltas0 = [], [], [], [], []
        for i, b in enumerate(group):
            idx = positives[b]
            rois.append(torch.cat([proposals.new_full((len(idx), 1), float(i)), proposals[b, idx]], dim=1))
            owners.append(torch.full((len(idx), ), i, dtype=torch.long, device=proposals.device))
            roi_labels.append(labels[b].repeat(len(idx)))
            probs0.append(ref_probs[b, idx])
            deltas0.append(ref_deltas[b, idx])
        rois, owners, roi_labels = torch.cat(rois), torch.cat(owners), torch.cat(roi_labels)
        probs0, deltas0 = torch.cat(probs0), torch.cat(deltas0)
        mean = inputs.new_zeros(inputs.shape[0])  # the preprocessor's mean, i.e. the training mean, normalised
        optimizer = torch.optim.Adam(masks, lr=self.lr)
        for _ in range(self.num_iters):
            up = torch.stack([upsample_mask(m, int(strides[b]), size) for m, b in zip(masks, group)])
            feats = self.detector.extract_feat(perturb_image(inputs, up, mean))
            probs, deltas = self._heads(feats, rois, roi_labels)
            own = probs[torch.arange(probs.shape[0], device=probs.device), roi_labels]
            loss, _ = bbam_objective(masks, deltas, deltas0, own, probs0, owners, self.l1_weight, self.use_box_head,
                                     self.use_cls_head)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                for m in masks:
                    m.clamp_(0, 1)
        return [m.detach() for m in masks]

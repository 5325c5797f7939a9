"""Mask R-CNN mask head trained on pseudo masks with an ignore region per instance (BBAM, Lee et al., CVPR 2021,
Sec. 3.4), mmdet scope."""
from typing import List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmdet.models.losses import CrossEntropyLoss
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.structures.mask import BitmapMasks, mask_target
from mmdet.utils import InstanceList
from mmengine.config import ConfigDict
from torch import Tensor

from ..datasets.transforms.pseudo_instance import MASK_FOREGROUND, MASK_IGNORE


def _binary(mask: np.ndarray) -> np.ndarray:
    """bool -> uint8, the dtype mmdet's masks have everywhere else."""
    return mask.astype(np.uint8)


@MODELS.register_module()
class IgnoreFCNMaskHead(FCNMaskHead):
    """``FCNMaskHead`` whose binary cross-entropy skips each instance's ignored pixels, with BBAM's seed growing.

    The ground-truth masks are the 0/1/2 maps of :class:`~wsseg_mm.datasets.transforms.LoadPseudoInstanceMasks`
    (0 = background, 1 = foreground, 2 = ignore; plain 0/1 masks work too and give the stock loss). Per positive
    RoI the foreground (value 1) and the ignore region (value 2) are cropped and resized to ``mask_size`` separately
    and binarised at 0.5; a cell that comes out as both is foreground.

    Loss: binary cross-entropy between each positive RoI's own-class logit and its foreground target, averaged over
    the cells that take part (all RoIs together, as the stock mean over all cells), times
    ``loss_mask.loss_weight``. A cell takes part when it is not ignored, or, with ``seed_growing``, when it is
    ignored but the current prediction is confident: its foreground probability (sigmoid of the detached logit)
    is ``>= grow_fg_thr`` (target 1) or ``<= grow_bg_thr`` (target 0). The paper only says that ignored pixels
    join the training as the network's prediction for them becomes confident; the two thresholds and the hard
    0/1 targets are our reading of it. With no cell left the loss is 0, still attached to the graph so that
    distributed training sees every parameter used.

    Prediction is ``FCNMaskHead``'s.

    Args:
        seed_growing: let confident ignored cells join the loss (BBAM Sec. 3.4).
        grow_fg_thr: foreground probability from which an ignored cell joins as foreground.
        grow_bg_thr: foreground probability up to which an ignored cell joins as background.
        *args, **kwargs: ``FCNMaskHead``'s. ``loss_mask`` must be a ``CrossEntropyLoss`` with ``use_mask=True``
            and no ``class_weight``: only its ``loss_weight`` is used, because mmdet's ``mask_cross_entropy`` has
            no per-cell weights and the masked BCE is computed here.
    """

    def __init__(self, *args, seed_growing: bool = True, grow_fg_thr: float = 0.8, grow_bg_thr: float = 0.2,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not 0.0 <= grow_bg_thr < grow_fg_thr <= 1.0:
            raise ValueError(f'need 0 <= grow_bg_thr < grow_fg_thr <= 1, got {grow_bg_thr}, {grow_fg_thr}')
        if not (isinstance(self.loss_mask, CrossEntropyLoss) and self.loss_mask.use_mask
                and self.loss_mask.class_weight is None):
            raise ValueError('IgnoreFCNMaskHead computes the mask BCE itself; loss_mask must be '
                             "dict(type='CrossEntropyLoss', use_mask=True[, loss_weight=...])")
        self.seed_growing = seed_growing
        self.grow_fg_thr = grow_fg_thr
        self.grow_bg_thr = grow_bg_thr

    def get_targets(self, sampling_results: List[SamplingResult], batch_gt_instances: InstanceList,
                    rcnn_train_cfg: ConfigDict) -> Tuple[Tensor, Tensor]:
        """Foreground targets and ignore maps of the positive RoIs of the batch.

        Args:
            sampling_results: per image, with ``pos_priors`` (P_i, 4) and ``pos_assigned_gt_inds`` (P_i,).
            batch_gt_instances: per image, ``masks`` of N_i (H, W) maps in 0/1/2 (``BitmapMasks``); other mask
                types (polygons) are read as foreground only.
            rcnn_train_cfg: needs ``mask_size``; ``soft_mask_target`` is not supported.

        Returns:
            ``(targets, ignore)``, both (P, h, w) with P = sum P_i and (h, w) = ``mask_size``: float 0/1
            foreground targets and a bool map of ignored cells (never set where the target is 1).
        """
        if rcnn_train_cfg.get('soft_mask_target', False):
            raise ValueError('IgnoreFCNMaskHead binarises its targets; soft_mask_target is not supported')
        pos_proposals = [res.pos_priors for res in sampling_results]
        pos_assigned_gt_inds = [res.pos_assigned_gt_inds for res in sampling_results]
        fg_masks, ignore_masks = [], []
        for gt in batch_gt_instances:
            masks = gt.masks
            if isinstance(masks, BitmapMasks):
                # Cropping/resizing the 0/1/2 maps directly would average the labels (an ignore pixel weighs
                # like two foreground ones), so each value gets its own binary map.
                fg_masks.append(BitmapMasks(_binary(masks.masks == MASK_FOREGROUND), masks.height, masks.width))
                ignore_masks.append(BitmapMasks(_binary(masks.masks == MASK_IGNORE), masks.height, masks.width))
            else:
                fg_masks.append(masks)
                ignore_masks.append(None)
        targets = mask_target(pos_proposals, pos_assigned_gt_inds, fg_masks, rcnn_train_cfg)
        ignore = []
        for proposals, inds, masks in zip(pos_proposals, pos_assigned_gt_inds, ignore_masks):
            if masks is None:
                ignore.append(proposals.new_zeros((len(proposals), *targets.shape[1:]), dtype=torch.bool))
            else:
                ignore.append(mask_target([proposals], [inds], [masks], rcnn_train_cfg).bool())
        ignore = torch.cat(ignore) & (targets < 0.5)
        return targets, ignore

    def loss_and_target(self, mask_preds: Tensor, sampling_results: List[SamplingResult],
                        batch_gt_instances: InstanceList, rcnn_train_cfg: ConfigDict) -> dict:
        """Masked BCE of the positive RoIs.

        Args:
            mask_preds: (P, C, h, w) logits (C = 1 when class-agnostic).
            sampling_results, batch_gt_instances, rcnn_train_cfg: as :meth:`get_targets`.

        Returns:
            ``dict(loss_mask=dict(loss_mask=scalar), mask_targets=(P, h, w), mask_ignores=(P, h, w) bool)``;
            ``mask_ignores`` are the cells left out of the loss (after seed growing).
        """
        targets, ignore = self.get_targets(sampling_results, batch_gt_instances, rcnn_train_cfg)
        if mask_preds.size(0) == 0:
            return dict(loss_mask=dict(loss_mask=mask_preds.sum()), mask_targets=targets, mask_ignores=ignore)
        labels = torch.cat([res.pos_gt_labels for res in sampling_results])
        if self.class_agnostic:
            labels = torch.zeros_like(labels)
        logits = mask_preds[torch.arange(len(labels), device=labels.device), labels]
        loss, ignore = self.masked_bce(logits, targets, ignore)
        return dict(loss_mask=dict(loss_mask=loss), mask_targets=targets, mask_ignores=ignore)

    def masked_bce(self, logits: Tensor, targets: Tensor, ignore: Tensor) -> Tuple[Tensor, Tensor]:
        """BCE over the cells not ignored, after seed growing.

        Args:
            logits: (P, h, w) own-class logits.
            targets: (P, h, w) float 0/1 targets.
            ignore: (P, h, w) bool ignored cells.

        Returns:
            The weighted mean loss (scalar) and the (P, h, w) bool cells still ignored.
        """
        targets = targets.to(logits.dtype)
        if self.seed_growing:
            prob = logits.detach().sigmoid()
            grow_fg = ignore & (prob >= self.grow_fg_thr)
            grow_bg = ignore & (prob <= self.grow_bg_thr)
            targets = torch.where(grow_fg, torch.ones_like(targets), targets)
            targets = torch.where(grow_bg, torch.zeros_like(targets), targets)
            ignore = ignore & ~(grow_fg | grow_bg)
        weight = (~ignore).to(logits.dtype)
        num_valid = weight.sum()
        if num_valid == 0:
            # Nothing to learn from: keep the logits in the graph with a zero loss.
            return logits.sum() * 0, ignore
        bce = F.binary_cross_entropy_with_logits(logits, targets, weight=weight, reduction='sum')
        return self.loss_mask.loss_weight * bce / num_valid, ignore

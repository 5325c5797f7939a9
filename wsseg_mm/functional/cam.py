"""Class activation maps (Zhou et al., CVPR 2016) as IRNet uses them (Ahn et al., CVPR 2019, Eq. 1).

Dimension letters: N batch, C feature channels, K classes, H, W spatial size.
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def class_activation_maps(features: Tensor, weight: Tensor) -> Tensor:
    """Unnormalised CAMs: ReLU of the class-weighted feature maps.

    Args:
        features: (N, C, H, W) last backbone features.
        weight: (K, C) or (K, C, 1, 1) weights of the 1x1 classification layer (no bias: GAP commutes with it).

    Returns:
        (N, K, H, W) non-negative maps.
    """
    return F.relu(F.conv2d(features, weight.reshape(weight.shape[0], -1, 1, 1)))


def normalize_cams(cams: Tensor, eps: float = 1e-5) -> Tensor:
    """Divide each map by its spatial maximum (Eq. 1), so that maps lie in [0, 1].

    Args:
        cams: (..., H, W) non-negative maps.
    """
    return cams / (cams.flatten(-2).amax(-1)[..., None, None] + eps)


def cams_to_semantic(cams: Tensor, labels: Sequence[int], bg_threshold: float) -> Tensor:
    """Semantic labels from normalised CAMs of the classes present in an image.

    Args:
        cams: (K, H, W) normalised CAMs of the K present classes.
        labels: their K class indices (1-based; 0 is background).
        bg_threshold: constant background score (IRNet evaluates CAMs with 0.15 for VOC).

    Returns:
        (H, W) int64 class indices: the argmax of [bg_threshold, cams].
    """
    keys = torch.tensor([0, *labels], dtype=torch.long, device=cams.device)
    padded = F.pad(cams, (0, 0, 0, 0, 1, 0), value=bg_threshold)
    return keys[padded.argmax(0)]

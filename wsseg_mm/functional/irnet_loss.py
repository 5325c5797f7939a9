"""IRNet's training losses over pixel pairs (Ahn et al., CVPR 2019, Sec. 4.3, Eq. 5, 6, 8).

Dimension letters: N batch, K pair offsets, H, W feature-map size (stride 4 in IRNet).
A pair is (x_i, x_j = x_i + o) for an offset o = (dy, dx) of ``path_offsets(radius, half=True)``.
"""
from typing import Dict

import torch
import torch.nn.functional as F
from torch import Tensor

from .affinity import pairwise_affinity


def gather_by_offsets(x: Tensor, offsets: Tensor, fill: float = 0) -> Tensor:
    """Values at x + o for every pixel x and offset o.

    Args:
        x: (N, C, H, W).
        offsets: (K, 2) integer (dy, dx).
        fill: value where x + o leaves the map.

    Returns:
        (N, C, K, H, W).
    """
    h, w = x.shape[-2:]
    pad = int(offsets.abs().max()) if len(offsets) else 0
    padded = F.pad(x, (pad, pad, pad, pad), value=fill)
    return torch.stack([padded[..., pad + dy:pad + dy + h, pad + dx:pad + dx + w] for dy, dx in offsets.tolist()],
                       dim=2)


def relation_pairs(labels: Tensor, offsets: Tensor, ignore_index: int = 255) -> Dict[str, Tensor]:
    """Split pixel pairs by the mined relation labels into P+fg, P+bg and P- (Sec. 4.2).

    Args:
        labels: (N, H, W) integer labels, 0 = background, ``ignore_index`` = unknown.
        offsets: (K, 2).

    Returns:
        ``pos_fg``, ``pos_bg``, ``neg``: (N, K, H, W) bool masks. Pairs with an unknown end or leaving the map
        belong to none of them.
    """
    lab_i = labels[:, None]
    lab_j = gather_by_offsets(labels[:, None].float(), offsets, fill=ignore_index)[:, 0].long()
    known = (lab_i != ignore_index) & (lab_j != ignore_index)
    same = known & (lab_i == lab_j)
    return dict(pos_fg=same & (lab_i != 0), pos_bg=same & (lab_i == 0), neg=known & (lab_i != lab_j))


def _masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    # an empty pair set contributes nothing (and keeps the graph for a zero gradient)
    return (values * mask).sum() / mask.sum().clamp(min=1)


def irnet_losses(boundary: Tensor, displacement: Tensor, labels: Tensor, offsets: Tensor,
                 eps: float = 1e-5) -> Dict[str, Tensor]:
    """The three IRNet loss terms, each normalised by its own pair count.

    Args:
        boundary: (N, H, W) class-boundary map B in [0, 1].
        displacement: (N, 2, H, W) displacement field D (dy, dx) in feature pixels.
        labels: (N, H, W) mined relation labels (0 = background, 255 = unknown).
        offsets: (K, 2) pair offsets (radius 10 in the paper).

    Returns:
        ``loss_boundary`` (Eq. 8: -log a_ij over P+ with P+fg and P+bg weighted 1/2 each, plus -log(1 - a_ij)
        over P-, where a_ij = 1 - max B on the line between i and j), ``loss_disp_fg`` (Eq. 5: mean over P+fg of
        |(D(x_i) - D(x_j)) - (x_j - x_i)|_1) and ``loss_disp_bg`` (Eq. 6: mean over P+bg of |D(x_i) - D(x_j)|_1).
    """
    pairs = relation_pairs(labels, offsets)
    affinity, valid = pairwise_affinity(boundary, offsets)
    pos_fg, pos_bg, neg = (pairs[k] & valid for k in ('pos_fg', 'pos_bg', 'neg'))
    pos_term = -torch.log(affinity + eps)
    loss_boundary = (0.5 * _masked_mean(pos_term, pos_fg) + 0.5 * _masked_mean(pos_term, pos_bg) +
                     _masked_mean(-torch.log(1 + eps - affinity), neg))
    diff = displacement[:, :, None] - gather_by_offsets(displacement, offsets)  # (N, 2, K, H, W)
    target = offsets.to(diff)[:, :, None, None].transpose(0, 1)[None]  # (1, 2, K, 1, 1): x_j - x_i
    loss_fg = _masked_mean((diff - target).abs().sum(1), pos_fg)
    loss_bg = _masked_mean(diff.abs().sum(1), pos_bg)
    return dict(loss_boundary=loss_boundary, loss_disp_fg=loss_fg, loss_disp_bg=loss_bg)

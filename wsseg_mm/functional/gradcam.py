"""Grad-CAM (Selvaraju et al., ICCV 2017) for 2D and 3D feature maps, as WS^2 uses it (Chen et al., CVPR 2020,
Sec. 3.1, Eq. 4-5).

For a target class ``c`` with pre-softmax score ``y^c`` and feature maps ``A`` (M channels, t' x h' x w'):

* Eq. 5: ``w_m = 1/Z sum_{k,i,j} dy^c / dA_m[k, i, j]`` with ``Z = t' h' w'`` (one weight per channel, the
  gradient averaged over time *and* space);
* Eq. 4: ``S = ReLU(sum_m w_m A_m)``, a (t', h', w') map; a 2D network has ``t' = 1``.

Slice ``k`` of a 3D map stands for the input frame ``k s + offset`` with ``s = t / t'`` ("t' frames uniformly
sampled"); :func:`slice_frames` gives those frames, :func:`resize_maps` the bilinear (per slice) or trilinear (to all
t frames, as ``mmaction.utils.GradCAM``) upsampling. The recognizer glue (hooks, target classes) lives in
:mod:`wsseg_mm.models.recognizer_gradcam`.

Shape legend:

* ``N`` -- maps (clips, or clip views); ``M`` -- feature channels; ``K`` -- target classes;
* ``T', H', W'`` -- feature size (``t', h', w'`` in the paper); ``T, H, W`` -- input frames and frame size.
"""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['gradcam_weights', 'gradcam_map', 'slice_frames', 'resize_maps', 'normalize_maps']


def _as_5d(tensor: Tensor, name: str) -> Tensor:
    """(N, M, H', W') -> (N, M, 1, H', W'); (N, M, T', H', W') unchanged."""
    if tensor.dim() == 4:
        return tensor.unsqueeze(2)
    if tensor.dim() == 5:
        return tensor
    raise ValueError(f'{name} must be (N, M, H\', W\') or (N, M, T\', H\', W\'), got shape {tuple(tensor.shape)}')


def gradcam_weights(grads: Tensor, per_slice: bool = False) -> Tensor:
    """Channel weights of Eq. 5: the gradient averaged over all t' h' w' positions.

    Args:
        grads: (N, M, H', W') or (N, M, T', H', W') gradients ``dy^c / dA``.
        per_slice: average over (h', w') only, one weight vector per time slice (``Z = h'w'``), as
            ``mmaction.utils.GradCAM`` does; for a 2D network whose segments form the time axis, this is Grad-CAM of
            each frame on its own (the paper's ``t' = 1``).

    Returns:
        (N, M) weights ``w_m``, or (N, M, T') with ``per_slice``; same dtype and device.
    """
    grads = _as_5d(grads, 'grads')
    return grads.mean(dim=(3, 4)) if per_slice else grads.mean(dim=(2, 3, 4))


def gradcam_map(activations: Tensor, grads: Tensor, per_slice: bool = False) -> Tensor:
    """Grad-CAM map of Eq. 4: ``ReLU(sum_m w_m A_m)`` with the weights of Eq. 5.

    Args:
        activations: (N, M, H', W') or (N, M, T', H', W') feature maps ``A``.
        grads: gradients ``dy^c / dA``, same shape.
        per_slice: weights per time slice, see :func:`gradcam_weights`.

    Returns:
        (N, T', H', W') non-negative maps (``T' = 1`` for 4-D inputs), dtype and device of ``activations``.
    """
    if activations.shape != grads.shape:
        raise ValueError(f'activations {tuple(activations.shape)} and grads {tuple(grads.shape)} must have the same '
                         'shape')
    weights = gradcam_weights(grads, per_slice=per_slice).to(activations.dtype)
    if not per_slice:
        weights = weights.unsqueeze(-1)
    weights = weights.expand(*weights.shape[:2], _as_5d(grads, 'grads').shape[2])
    return F.relu(torch.einsum('nmt,nmthw->nthw', weights, _as_5d(activations, 'activations')))


def slice_frames(num_frames: int, num_slices: int, offset: int = 0) -> List[int]:
    """The input frame that each temporal slice of a feature map stands for: slice ``k`` -> frame ``k s + offset``,
    ``s = t / t'`` (WS^2 Sec. 3.1, "t' frames uniformly sampled").

    Args:
        num_frames: t, frames of the network input.
        num_slices: t', temporal size of the feature map; must divide t.
        offset: frame of slice 0 within its stride, in ``[0, s)`` (0 on the toy: 8 input frames at interval 2 from
            video frame 1 give t' = 4 slices on input frames 0 / 2 / 4 / 6 = video frames 1 / 5 / 9 / 13, the
            annotated ones).

    Returns:
        t' frame indices in ``[0, t)``.
    """
    for name, value in (('num_frames', num_frames), ('num_slices', num_slices), ('offset', offset)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f'{name} must be an int, got {value!r}')
    if num_slices < 1 or num_frames < num_slices:
        raise ValueError(f'need 1 <= num_slices <= num_frames, got num_slices={num_slices}, num_frames={num_frames}')
    if num_frames % num_slices:
        raise ValueError(f'num_frames={num_frames} is not a multiple of num_slices={num_slices}: the slices do not '
                         'stand for uniformly sampled frames; use resize_maps(..., size=(T, H, W)) (trilinear) instead')
    stride = num_frames // num_slices
    if not 0 <= offset < stride:
        raise ValueError(f'offset must lie in [0, {stride}) (the temporal stride t / t\' = {num_frames} / '
                         f'{num_slices}), got {offset}')
    return [k * stride + offset for k in range(num_slices)]


def resize_maps(maps: Tensor, size: Sequence[int]) -> Tensor:
    """Upsample maps to frame size.

    ``size = (H, W)``: bilinear per temporal slice (each slice then lies on the frame :func:`slice_frames` gives);
    ``size = (T, H, W)``: trilinear over time and space, as ``mmaction.utils.GradCAM``. Both use
    ``align_corners=False``.

    Args:
        maps: (..., T', H', W') maps, at least 3-D.
        size: (H, W) or (T, H, W).

    Returns:
        (..., T', H, W) or (..., T, H, W) maps, same dtype and device; ``maps`` is not modified.
    """
    size = tuple(int(s) for s in size)
    if len(size) not in (2, 3):
        raise ValueError(f'size must be (H, W) or (T, H, W), got {size}')
    if maps.dim() < 3:
        raise ValueError(f'maps must be (..., T\', H\', W\'), got shape {tuple(maps.shape)}')
    lead = maps.shape[:-3]
    flat = maps.reshape(-1, *maps.shape[-3:])
    if len(size) == 2:
        out = F.interpolate(flat.flatten(0, 1)[:, None], size=size, mode='bilinear', align_corners=False)
        out = out.view(*lead, maps.shape[-3], *size)
    else:
        out = F.interpolate(flat[:, None], size=size, mode='trilinear', align_corners=False)
        out = out.view(*lead, *size)
    return out


def normalize_maps(maps: Tensor, num_dims: int = 2, mode: str = 'max') -> Tensor:
    """Normalise each map to [0, 1].

    ``mode='max'`` divides by the map's maximum (``S / max S``, as WS^2's pair assignment); ``mode='minmax'`` maps
    ``[min, max]`` to ``[0, 1]`` (``mmaction.utils.GradCAM``'s visualisation, per clip with ``num_dims=3``). A
    constant map (``max = 0``, resp. ``max = min``) becomes all zeros: no NaN.

    Args:
        maps: (..., D_1, ..., D_num_dims) maps; each map is the block of the last ``num_dims`` dimensions, e.g. 2
            for per-frame (H, W) maps, 3 for per-clip (T, H, W) volumes.
        num_dims: how many trailing dimensions form one map.
        mode: ``'max'`` or ``'minmax'``.

    Returns:
        Maps of the same shape, dtype and device; ``maps`` is not modified.
    """
    if not 1 <= num_dims <= maps.dim():
        raise ValueError(f'num_dims must lie in [1, {maps.dim()}] for maps of shape {tuple(maps.shape)}, got '
                         f'{num_dims}')
    if mode not in ('max', 'minmax'):
        raise ValueError(f"mode must be 'max' or 'minmax', got {mode!r}")
    dims = tuple(range(maps.dim() - num_dims, maps.dim()))
    top = maps.amax(dim=dims, keepdim=True)
    low = maps.amin(dim=dims, keepdim=True) if mode == 'minmax' else torch.zeros_like(top)
    span = top - low
    # a constant map would give 0/0: divide by 1 there (the numerator is 0)
    safe = torch.where(span > 0, span, torch.ones_like(span))
    return torch.where(span > 0, (maps - low) / safe, torch.zeros_like(maps))

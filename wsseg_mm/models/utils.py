"""Small pieces shared by the wsseg_mm models."""
from typing import List

import torch
from torch import Tensor, nn


class _ScaleGrad(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: Tensor, scale: float) -> Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad * ctx.scale, None


def scale_grad(x: Tensor, scale: float) -> Tensor:
    """Identity in the forward pass; multiplies the gradient by ``scale`` in the backward pass."""
    return _ScaleGrad.apply(x, scale) if scale != 1 else x


def resnet_levels(backbone: nn.Module, x: Tensor) -> List[Tensor]:
    """The five feature levels IRNet reads from an mmseg / mmdet ResNet: the stem after max pooling (stride 4)
    and the outputs of the four residual stages.

    Args:
        backbone: a ResNet with ``conv1/norm1/relu`` or ``stem``, ``maxpool`` and ``res_layers``.
        x: (N, 3, H, W) images.
    """
    if getattr(backbone, 'deep_stem', False):
        x = backbone.stem(x)
    else:
        x = backbone.relu(backbone.norm1(backbone.conv1(x)))
    x = backbone.maxpool(x)
    levels = [x]
    for name in backbone.res_layers:
        x = getattr(backbone, name)(x)
        levels.append(x)
    return levels

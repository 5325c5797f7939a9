"""PSI's cross-layer pixel aggregation as a neck (Xu et al., ICCV 2021, Sec. 3.2, Eq. 2-4)."""
from typing import Optional, Sequence, Tuple

import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn

from ..functional.psi import cpp_aggregate


@MODELS.register_module()
class CPPNeck(BaseModule):
    """Every node of the destination level attends to windows of all backbone levels (CPP).

    Each level ``X_l`` is projected to ``channels`` by a 1x1 conv; node ``i`` of the projected destination
    ``x^(k)`` attends to the projected nodes ``x_j^(l)`` within ``rho_l`` of its image in every level, with one
    softmax over all of them (:func:`~wsseg_mm.functional.psi.cpp_aggregate`), and
    ``x~_i = ReLU(sum_l (sum_j A_ij x_j^(l)) W_l + b_l)`` (Eq. 4; ``W_l, b_l``: a 1x1 conv per level).

    Beyond the paper: the size ratios of the levels are read from their shapes (any stride-2 pyramid, odd
    sizes included), and ``out`` chooses where ``x~`` goes.

    Args:
        in_channels: channels of the backbone levels (ResNet-101 ``out_indices=(0, 1, 2, 3)``: 256, 512,
            1024, 2048 = X1-X4).
        channels: width ``C`` of the projections and of ``x~`` (ours: 256).
        radii: ``rho`` of each level (1, 1, 1, 4 in the paper).
        destination: index of the destination level ``k`` (the last one, X4, in the paper).
        strict: the paper's literal "<" in Eq. 3 (``(2 rho - 1)^2`` neighbours per level) instead of our "<="
            (``(2 rho + 1)^2``).
        out: ``'append'`` returns the backbone levels followed by ``x~`` (a head reads the ASPP input and
            ``x~`` separately); ``'replace'`` puts ``x~`` in the destination's place.
        init_cfg: the new convs are Kaiming-initialised.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: int = 256,
                 radii: Sequence[int] = (1, 1, 1, 4),
                 destination: int = -1,
                 strict: bool = False,
                 out: str = 'append',
                 init_cfg: Optional[dict] = dict(type='Kaiming', layer='Conv2d')) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != len(radii):
            raise ValueError(f'one radius per level is needed, got {len(in_channels)} levels and {len(radii)} '
                             'radii')
        if out not in ('append', 'replace'):
            raise ValueError(f"out must be 'append' or 'replace', got {out!r}")
        if not -len(in_channels) <= destination < len(in_channels):
            raise ValueError(f'destination {destination} is not one of the {len(in_channels)} levels')
        self.in_channels = tuple(in_channels)
        self.channels = channels
        self.radii = tuple(radii)
        self.destination = destination % len(in_channels)
        self.strict = strict
        self.out = out
        self.projections = nn.ModuleList([nn.Conv2d(c, channels, 1) for c in in_channels])
        self.transforms = nn.ModuleList([nn.Conv2d(channels, channels, 1) for _ in in_channels])  # W_l, b_l

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """L levels (N, C_l, H_l, W_l) -> the levels plus (or with the destination replaced by) ``x~``
        (N, channels, H_k, W_k)."""
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'CPPNeck expects {len(self.in_channels)} levels, got {len(inputs)}')
        levels = [proj(x) for proj, x in zip(self.projections, inputs)]
        aggregated, _ = cpp_aggregate(levels[self.destination], levels, self.radii, self.strict)
        fused = F.relu(sum(transform(x) for transform, x in zip(self.transforms, aggregated)))
        outs = list(inputs)
        if self.out == 'append':
            outs.append(fused)
        else:
            outs[self.destination] = fused
        return tuple(outs)

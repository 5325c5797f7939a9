"""The cut-and-paste discriminator D of WS^2's PA selection (Chen et al., CVPR 2020, Sec. 3.2)."""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class CutPasteDiscriminator(BaseModule):
    """D: real foreground patches (label 1) against cut-and-paste patches (label 0).

    Five Conv-LeakyReLU layers (the paper's count; the kernel, stride and widths are a proposal: 4x4 convs of
    stride 2 and padding 1, widths ``base_channels`` x (1, 2, 4, 8, 8), LeakyReLU 0.2, as DCGAN-style
    discriminators), then global average pooling and one linear logit, so any patch size works (64x64 by
    default: 64 -> 2 after the five halvings). Registered in mmengine's root ``MODELS``, so every scope builds it.

    Args:
        in_channels: patch channels (3).
        base_channels: width of the first conv.
        channel_multipliers: width of each conv relative to ``base_channels`` (one per layer).
        negative_slope: of the LeakyReLUs.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 channel_multipliers: Sequence[int] = (1, 2, 4, 8, 8),
                 negative_slope: float = 0.2,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        layers, width = [], in_channels
        for multiplier in channel_multipliers:
            layers += [nn.Conv2d(width, base_channels * multiplier, 4, stride=2, padding=1),
                       nn.LeakyReLU(negative_slope, inplace=True)]
            width = base_channels * multiplier
        self.features = nn.Sequential(*layers)
        self.logit = nn.Linear(width, 1)

    def forward(self, patches: Tensor) -> Tensor:
        """(N, in_channels, h, w) patches (h, w >= 2 ** layers for a non-empty map) -> (N,) logits of "real"."""
        if patches.dim() != 4:
            raise ValueError(f'CutPasteDiscriminator expects (N, C, h, w) patches, got {tuple(patches.shape)}')
        return self.logit(self.features(patches).mean(dim=(2, 3)))[:, 0]

    def loss(self, real: Tensor, fake: Tensor) -> Dict[str, Tensor]:
        """Binary cross-entropy of real (N, C, h, w) patches as 1 and cut-and-paste (M, C, h, w) patches as 0.

        Returns:
            ``dict(loss_real=, loss_fake=)``: the mean BCE of each set (their sum is D's loss).
        """
        real_logits, fake_logits = self(real), self(fake)
        return dict(
            loss_real=F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)),
            loss_fake=F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))

    @torch.no_grad()
    def predict(self, patches: Tensor) -> Tensor:
        """(N, C, h, w) patches -> (N,) probability that each is a real patch."""
        return torch.sigmoid(self(patches))

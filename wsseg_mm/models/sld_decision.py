"""The learnt decision function g of PSI's label diffusion (Xu et al., ICCV 2021, Eq. 8)."""
from typing import Sequence

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class SLDDecision(BaseModule):
    """``g(mu_c, sigma^2_c; theta)``: one small MLP shared by all classes; ``gamma_c = mu_c + g sigma_c``.

    ``(mu, sigma^2) -> hidden -> ... -> 1`` with ReLUs between (ours: 2 -> 32 -> 32 -> 1). The output layer
    starts at zero, so ``gamma = mu`` before any training, whatever the initialisation of the rest.

    Args:
        hidden_channels: widths of the hidden layers.
    """

    def __init__(self, hidden_channels: Sequence[int] = (32, 32), init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        layers, width = [], 2
        for hidden in hidden_channels:
            layers += [nn.Linear(width, hidden), nn.ReLU(inplace=True)]
            width = hidden
        self.layers = nn.Sequential(*layers, nn.Linear(width, 1))
        self._zero_output()

    def _zero_output(self) -> None:
        nn.init.zeros_(self.layers[-1].weight)
        nn.init.zeros_(self.layers[-1].bias)

    def init_weights(self) -> None:
        super().init_weights()
        self._zero_output()

    def forward(self, mean: Tensor, variance: Tensor) -> Tensor:
        """(K,) means and (K,) variances -> (K,) offsets ``g``."""
        return self.layers(torch.stack([mean, variance], dim=-1))[..., 0]

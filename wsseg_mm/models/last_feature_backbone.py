"""Any image backbone of the OpenMMLab registries as an mmaction2 2D recognizer's backbone."""
from typing import Optional

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule


@MODELS.register_module()
class LastFeatureBackbone(BaseModule):
    """Wrap a backbone that returns a tuple of stage features (mmseg's / mmdet's ResNets) so that an mmaction2
    ``Recognizer2D`` (whose heads take one (N, C, h, w) tensor) can use it: the forward returns the last element.

    mmaction2's ``Recognizer2D`` unpacks tuples only for mmcls / mmpretrain backbones; this lets a recognizer use,
    e.g., ``dict(type='mmseg.ResNetV1c', depth=18, base_channels=16, ...)`` with its ``init_cfg`` (a pretrained
    checkpoint with ``prefix='backbone.'`` loads into the wrapped backbone, as in an mmseg model).

    Args:
        backbone: the wrapped backbone's config (any registry scope, e.g. ``'mmseg.ResNetV1c'``).
        init_cfg: of the wrapper itself (the wrapped backbone keeps its own).
    """

    def __init__(self, backbone: dict, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.backbone(x)
        return out[-1] if isinstance(out, (tuple, list)) else out

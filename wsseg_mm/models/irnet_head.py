"""IRNet's two branches: class boundaries and instance displacements (Ahn et al., CVPR 2019, Sec. 4.1)."""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor, nn

from ..functional.affinity import path_offsets
from ..functional.irnet_loss import irnet_losses
from .utils import scale_grad


@MODELS.register_module()
class IRNetHead(BaseModule):
    """Boundary and displacement branches over the five backbone levels (strides 4, 4, 8, 16, 16).

    Every 1x1 conv but the last of each branch is followed by GroupNorm + ReLU.

    * Boundary branch: a 1x1 conv per level (``boundary_channels`` each), all resized to the stride-4 grid,
      concatenated, a last 1x1 conv to 1 channel, sigmoid.
    * Displacement branch: a 1x1 conv per level (``displacement_channels``, at most 256), a top-down path (levels
      3-5 merged at stride 8, a 1x1 conv, upsampled x2 and concatenated with levels 1-2), then three 1x1 convs down
      to 2 channels (dy, dx) in pixels of the stride-4 grid.

    Args:
        in_channels: channels of the five levels (ResNet-50: 64, 256, 512, 1024, 2048).
        boundary_channels: width of each level's boundary conv (32 in the paper).
        displacement_channels: width of each level's displacement conv.
        num_groups: GroupNorm groups.
        radius: pairs within this radius feed the losses (10 in the paper).
        displacement_grad_scale: gradients entering the displacement branch are multiplied by it (x10 in the
            paper), leaving the logged loss values unscaled.
        ignore_index: label of unknown pixels in the mined relation labels.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 256, 512, 1024, 2048),
                 boundary_channels: int = 32,
                 displacement_channels: Sequence[int] = (64, 128, 256, 256, 256),
                 num_groups: int = 4,
                 radius: int = 10,
                 displacement_grad_scale: float = 10.0,
                 ignore_index: int = 255,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != 5 or len(displacement_channels) != 5:
            raise ValueError('IRNetHead reads exactly five backbone levels')
        norm = dict(type='GN', num_groups=num_groups)

        def conv(cin: int, cout: int) -> ConvModule:
            return ConvModule(cin, cout, 1, bias=False, norm_cfg=norm, act_cfg=dict(type='ReLU'))

        self.boundary_convs = nn.ModuleList([conv(c, boundary_channels) for c in in_channels])
        self.boundary_out = nn.Conv2d(5 * boundary_channels, 1, 1, bias=True)
        d = displacement_channels
        self.displacement_convs = nn.ModuleList([conv(c, o) for c, o in zip(in_channels, d)])
        self.displacement_merge = conv(d[2] + d[3] + d[4], d[4])
        self.displacement_out = nn.Sequential(
            conv(d[0] + d[1] + d[4], 256), conv(256, 256), nn.Conv2d(256, 2, 1, bias=False))
        self.radius = radius
        self.displacement_grad_scale = displacement_grad_scale
        self.ignore_index = ignore_index
        self.register_buffer('offsets', path_offsets(radius, half=True), persistent=False)

    def forward(self, levels: List[Tensor]) -> Tuple[Tensor, Tensor]:
        """Five (N, C_l, H_l, W_l) levels -> boundary (N, 1, H1, W1) in [0, 1], displacement (N, 2, H1, W1)."""
        size = levels[0].shape[-2:]
        boundary = torch.cat([F.interpolate(conv(x), size, mode='bilinear', align_corners=False)
                              for conv, x in zip(self.boundary_convs, levels)], 1)
        boundary = torch.sigmoid(self.boundary_out(boundary))

        d = [conv(x) for conv, x in zip(self.displacement_convs, levels)]
        mid = d[2].shape[-2:]
        top = self.displacement_merge(torch.cat(
            [d[2]] + [F.interpolate(x, mid, mode='bilinear', align_corners=False) for x in d[3:]], 1))
        top = F.interpolate(top, size, mode='bilinear', align_corners=False)
        displacement = self.displacement_out(torch.cat([d[0], F.interpolate(d[1], size, mode='nearest'), top], 1))
        # scaling the gradient at the branch output multiplies every displacement parameter's gradient (the
        # authors give these layers 10x the learning rate); the value and the boundary branch are untouched
        return boundary, scale_grad(displacement, self.displacement_grad_scale)

    def relation_labels(self, data_samples: SampleList, size: Tuple[int, int]) -> Tensor:
        """The mined relation labels of the batch (``gt_sem_seg``), nearest-resized to the feature grid."""
        labels = torch.stack([s.gt_sem_seg.data for s in data_samples]).float()
        return F.interpolate(labels, size, mode='nearest')[:, 0].long()

    def loss(self, levels: List[Tensor], data_samples: SampleList) -> Dict[str, Tensor]:
        boundary, displacement = self(levels)
        labels = self.relation_labels(data_samples, boundary.shape[-2:]).to(boundary.device)
        return irnet_losses(boundary[:, 0], displacement, labels, self.offsets)

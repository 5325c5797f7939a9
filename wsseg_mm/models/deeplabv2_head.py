"""DeepLab-v2's ASPP classifier (Chen et al., TPAMI 2018), the segmenter of WS^2 (Chen et al., CVPR 2020)."""
from typing import Optional, Sequence

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class DeepLabV2Head(BaseDecodeHead):
    """DeepLab-v2 ASPP: the sum of parallel 3x3 classifiers with dilations 6 / 12 / 18 / 24 on the backbone feature.

    Unlike mmseg's ``ASPPHead`` (DeepLab-v3: branches of ``channels`` features, concatenated, then a bottleneck and
    ``conv_seg``), each branch here is a classifier (``in_channels -> num_classes``, with bias) and the logits are
    summed; there is no ``conv_seg``. ``cls_seg`` is that sum, so ``BaseDecodeHead.loss_by_feat`` /
    ``predict_by_feat`` work unchanged.

    Args:
        dilations: dilation (= padding, so the size is kept) of each 3x3 branch.
        channels: unused by DeepLab-v2 (the classifiers read the backbone feature directly); None or
            ``in_channels``.
        dropout_ratio: dropout on the feature before the classifiers (DeepLab-v2 on ResNet has none).
        init_cfg: the branches start from N(0, 0.01), as DeepLab-v2's classifiers.
        **kwargs: ``BaseDecodeHead`` arguments (``in_channels``, ``num_classes``, ``in_index``, ``loss_decode``, ...).
    """

    def __init__(self,
                 dilations: Sequence[int] = (6, 12, 18, 24),
                 channels: Optional[int] = None,
                 dropout_ratio: float = 0.0,
                 init_cfg=dict(type='Normal', std=0.01, override=dict(name='aspp')),
                 **kwargs) -> None:
        if 'in_channels' not in kwargs:
            raise TypeError('DeepLabV2Head: in_channels (the backbone feature channels) is required')
        in_channels = kwargs.pop('in_channels')
        feature_channels = sum(in_channels) if isinstance(in_channels, (list, tuple)) and \
            kwargs.get('input_transform') == 'resize_concat' else in_channels
        if not isinstance(feature_channels, int):
            raise ValueError("DeepLabV2Head classifies one feature map: use an int in_channels or input_transform="
                             "'resize_concat'")
        if channels is not None and channels != feature_channels:
            raise ValueError(f'DeepLabV2Head has no intermediate features: channels must be None or in_channels '
                             f'({feature_channels}), got {channels}; drop `channels` from the decode_head config')
        if not dilations:
            raise ValueError('DeepLabV2Head needs at least one dilation')
        super().__init__(in_channels, feature_channels, dropout_ratio=dropout_ratio, init_cfg=init_cfg, **kwargs)
        del self.conv_seg  # the branches are the classifier
        self.dilations = tuple(dilations)
        self.aspp = nn.ModuleList(
            nn.Conv2d(feature_channels, self.out_channels, 3, padding=d, dilation=d) for d in self.dilations)

    def cls_seg(self, feat: Tensor) -> Tensor:
        """(N, in_channels, h, w) feature -> (N, out_channels, h, w) logits, the sum of the branches."""
        if self.dropout is not None:
            feat = self.dropout(feat)
        logits = self.aspp[0](feat)
        for branch in self.aspp[1:]:
            logits = logits + branch(feat)
        return logits

    def forward(self, inputs) -> Tensor:
        """Backbone levels -> (N, out_channels, h, w) logits of level ``in_index``."""
        return self.cls_seg(self._transform_inputs(inputs))

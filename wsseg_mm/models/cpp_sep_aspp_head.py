"""DeepLabV3+ head that also decodes the CPP features (PSI, Xu et al., ICCV 2021, Sec. 3.2)."""
import torch
from mmcv.cnn import DepthwiseSeparableConvModule
from mmseg.models.decode_heads import DepthwiseSeparableASPPHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS


@MODELS.register_module()
class CPPSepASPPHead(DepthwiseSeparableASPPHead):
    """:class:`DepthwiseSeparableASPPHead` whose decoder concatenates the CPP output ``x~`` too.

    Stock DeepLabV3+ concatenates ``ASPP(inputs[in_index])`` with the low-level projection of ``inputs[0]``;
    here ``inputs[cpp_index]`` (``x~`` from :class:`CPPNeck` with ``out='append'``) joins them, all brought to
    the low-level map's size: the decoder's first separable conv takes ``channels + cpp_channels +
    c1_channels`` channels. Without a low-level branch (``c1_in_channels=0``) ``x~`` is brought to the ASPP
    output's size.

    Args:
        c1_in_channels, c1_channels: as :class:`DepthwiseSeparableASPPHead` (48 low-level channels in
            DeepLabV3+).
        cpp_channels: channels of ``x~`` (the neck's ``channels``).
        cpp_index: where ``x~`` is in the inputs (the last one by default).
        **kwargs: :class:`DepthwiseSeparableASPPHead` / ``BaseDecodeHead`` arguments.
    """

    def __init__(self, c1_in_channels: int, c1_channels: int, cpp_channels: int, cpp_index: int = -1,
                 **kwargs) -> None:
        super().__init__(c1_in_channels=c1_in_channels, c1_channels=c1_channels, **kwargs)
        if cpp_channels <= 0:
            raise ValueError(f'cpp_channels must be > 0, got {cpp_channels}')
        self.cpp_channels = cpp_channels
        self.cpp_index = cpp_index
        low_level = c1_channels if self.c1_bottleneck is not None else 0
        self.sep_bottleneck[0] = DepthwiseSeparableConvModule(
            self.channels + cpp_channels + low_level,
            self.channels,
            3,
            padding=1,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)

    def forward(self, inputs):
        """Backbone levels and ``x~`` -> (N, num_classes, H_1, W_1) logits."""
        output = self._forward_feature(inputs)  # the ASPP output, as stock
        parts = [output, inputs[self.cpp_index]]
        if self.c1_bottleneck is not None:
            parts.append(self.c1_bottleneck(inputs[0]))
        size = parts[-1].shape[2:] if self.c1_bottleneck is not None else output.shape[2:]
        parts = [p if p.shape[2:] == size else
                 resize(p, size=size, mode='bilinear', align_corners=self.align_corners) for p in parts]
        return self.cls_seg(self.sep_bottleneck(torch.cat(parts, dim=1)))
